//! Environment variable references inside double quotes: `$NAME`, `${NAME}` and
//! `${NAME[*]}` (the value split into several words), as HAProxy 2.6 reads them.
//!
//! HAProxy 2.6 expands variables only between double quotes. `${NAME-default}` gives the
//! default (taken literally, up to the first `}`) when NAME is unset;
//! `${NAME:-default}` is not accepted. An unset variable expands to the empty string.

use nom::bytes::complete::{tag, take_while};
use nom::IResult;

/// A parsed `$…` reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvRef<'a> {
    /// The variable name.
    pub name: &'a str,
    /// `${NAME[*]}`: the value is split on blanks into several words.
    pub split: bool,
    /// `${NAME-default}`: the literal default text.
    pub default: Option<&'a [u8]>,
    /// How many bytes of input the reference covers, `$` included.
    pub len: usize,
}

/// Why a `$…` reference was refused; offsets count from the `$` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvRefError {
    /// The name does not start with a letter or `_` (offset of that character).
    FirstChar(usize),
    /// `${` without its `}` (offset of the `{`).
    Brace(usize),
    /// `${NAME[` not followed by `*]` (offset of the `[`).
    Expansion(usize),
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

// name := [A-Za-z_] [A-Za-z0-9_]*
fn name(input: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(is_name_char)(input)
}

/// Parse a reference starting at `input[0] == b'$'`.
///
/// ```text
/// ref := '$' name | '$' '{' name ( '[*]' )? ( '-' [^}]* )? '}'
/// ```
pub fn env_ref(input: &[u8]) -> Result<EnvRef<'_>, EnvRefError> {
    debug_assert_eq!(input.first(), Some(&b'$'));
    let rest = &input[1..];
    let braced = rest.first() == Some(&b'{');
    let start = if braced { 2 } else { 1 };
    let body = &input[start.min(input.len())..];
    if !body.first().copied().is_some_and(is_name_start) {
        return Err(EnvRefError::FirstChar(start));
    }
    // `name` cannot fail: it accepts an empty match and we checked the first byte.
    let (after, ident) = name(body).map_err(|_| EnvRefError::FirstChar(start))?;
    let ident = std::str::from_utf8(ident).map_err(|_| EnvRefError::FirstChar(start))?;
    let mut pos = start + ident.len();
    if !braced {
        return Ok(EnvRef {
            name: ident,
            split: false,
            default: None,
            len: pos,
        });
    }
    let mut split = false;
    let mut after = after;
    if after.first() == Some(&b'[') {
        let r: IResult<&[u8], &[u8]> = tag(&b"[*]"[..])(after);
        match r {
            Ok((a, _)) => {
                split = true;
                after = a;
                pos += 3;
            }
            Err(_) => return Err(EnvRefError::Expansion(pos)),
        }
    }
    let mut default = None;
    if after.first() == Some(&b'-') {
        let text = &after[1..];
        let end = text
            .iter()
            .position(|&c| c == b'}')
            .ok_or(EnvRefError::Brace(1))?;
        default = Some(&text[..end]);
        after = &text[end..];
        pos += 1 + end;
    }
    if after.first() != Some(&b'}') {
        return Err(EnvRefError::Brace(1));
    }
    Ok(EnvRef {
        name: ident,
        split,
        default,
        len: pos + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_braced() {
        assert_eq!(
            env_ref(b"$FOO.x"),
            Ok(EnvRef {
                name: "FOO",
                split: false,
                default: None,
                len: 4
            })
        );
        assert_eq!(
            env_ref(b"${FOO}x"),
            Ok(EnvRef {
                name: "FOO",
                split: false,
                default: None,
                len: 6
            })
        );
        assert_eq!(
            env_ref(b"${_A1[*]}"),
            Ok(EnvRef {
                name: "_A1",
                split: true,
                default: None,
                len: 9
            })
        );
        let r = env_ref(b"${A-a b}}").unwrap();
        assert_eq!((r.default, r.len), (Some(&b"a b"[..]), 8));
        let r = env_ref(b"${A[*]-}").unwrap();
        assert_eq!((r.default, r.split, r.len), (Some(&b""[..]), true, 8));
    }

    #[test]
    fn refusals_match_haproxy_positions() {
        // `"$"`: the character after `$` is refused.
        assert_eq!(env_ref(b"$\""), Err(EnvRefError::FirstChar(1)));
        assert_eq!(env_ref(b"$"), Err(EnvRefError::FirstChar(1)));
        assert_eq!(env_ref(b"$1"), Err(EnvRefError::FirstChar(1)));
        assert_eq!(env_ref(b"${}"), Err(EnvRefError::FirstChar(2)));
        assert_eq!(env_ref(b"${"), Err(EnvRefError::FirstChar(2)));
        assert_eq!(env_ref(b"${ FOO}"), Err(EnvRefError::FirstChar(2)));
        // The brace is blamed for `${NAME`, an unclosed default, and `:-`.
        assert_eq!(env_ref(b"${FOO"), Err(EnvRefError::Brace(1)));
        assert_eq!(env_ref(b"${FOO-def"), Err(EnvRefError::Brace(1)));
        assert_eq!(env_ref(b"${FOO:-def}"), Err(EnvRefError::Brace(1)));
        assert_eq!(env_ref(b"${FOO[x]}"), Err(EnvRefError::Expansion(5)));
    }
}
