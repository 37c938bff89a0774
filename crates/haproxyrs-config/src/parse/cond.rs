//! `.if` / `.elif` conditions and `-cc EXPR`: HAProxy 2.6's predicate language.
//!
//! ```text
//! expr      := and ( '||' and )*
//! and       := term ( '&&' term )*
//! term      := '!' term | '(' expr ')' | predicate | integer      (blanks around)
//! predicate := name ( '(' arg ( ',' arg )* ')' )?
//! ```
//! Predicates: `defined(VAR)`, `feature(NAME)`, `streq(a,b)`, `strneq(a,b)`,
//! `version_atleast(V)`, `version_before(V)`; an integer is true when non-zero. Arguments
//! may be quoted (`"…"` expands `$VAR`). Versions compare with
//! [`crate::HAPROXY_COMPAT_VERSION`]; `feature()` looks in [`FEATURES`].

use nom::bytes::complete::take_while1;
use nom::character::complete::{digit1, one_of};
use nom::combinator::{opt, recognize};
use nom::sequence::pair;
use nom::IResult;

use super::expand::env_ref;
use crate::env::Environment;

/// The build features haproxyrs reports (`-vv` and `feature()`), in HAProxy's notation:
/// `+NAME` is available, `-NAME` is not. Only what haproxyrs really does is marked `+`.
pub const FEATURES: &str = "-51DEGREES +ACCEPT4 -BACKTRACE -CLOSEFROM -CPU_AFFINITY \
-CRYPT_H -DEVICEATLAS -DL -ENGINE +EPOLL -EVPORTS +GETADDRINFO -KQUEUE -LIBCRYPT \
+LINUX_SPLICE -LINUX_TPROXY -LUA -MEMORY_PROFILING -NETFILTER -NS -OBSOLETE_LINKER \
-OPENSSL -OT -PCRE -PCRE2 -PCRE2_JIT -PCRE_JIT -POLL -PRCTL -PROCCTL -PROMEX -QUIC -RT \
-SLZ -STATIC_PCRE -STATIC_PCRE2 -SYSTEMD -TFO +THREAD -THREAD_DUMP -TPROXY -WURFL -ZLIB";

/// A condition error: HAProxy's message and the 0-based offset in the expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondError {
    pub msg: String,
    pub pos: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pred {
    Defined,
    Feature,
    Streq,
    Strneq,
    VersionAtleast,
    VersionBefore,
}

impl Pred {
    fn from_name(name: &str) -> Option<Pred> {
        Some(match name {
            "defined" => Pred::Defined,
            "feature" => Pred::Feature,
            "streq" => Pred::Streq,
            "strneq" => Pred::Strneq,
            "version_atleast" => Pred::VersionAtleast,
            "version_before" => Pred::VersionBefore,
            _ => return None,
        })
    }

    fn arity(self) -> usize {
        match self {
            Pred::Streq | Pred::Strneq => 2,
            _ => 1,
        }
    }
}

/// An error before anything was read in a term: callers that consumed an operator
/// re-report it at their own position, as HAProxy does.
enum TermError {
    Empty(usize),
    Other(CondError),
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    env: &'a dyn Environment,
}

// name := [A-Za-z0-9_]+
fn name(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_')(i)
}

// integer := [+-]? [0-9]+
fn integer(i: &str) -> IResult<&str, &str> {
    recognize(pair(opt(one_of("+-")), digit1))(i)
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn blanks(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start_matches([' ', '\t']).len();
    }

    fn unparsable(&self, at: usize) -> CondError {
        CondError {
            msg: format!("unparsable conditional expression '{}'", &self.text[at..]),
            pos: at,
        }
    }

    fn expr(&mut self) -> Result<bool, TermError> {
        let start = self.pos;
        let mut value = self.and()?;
        loop {
            self.blanks();
            if !self.rest().starts_with("||") {
                return Ok(value);
            }
            self.pos += 2;
            match self.and() {
                Ok(v) => value |= v,
                Err(TermError::Empty(_)) => return Err(TermError::Other(self.unparsable(start))),
                Err(e) => return Err(e),
            }
        }
    }

    fn and(&mut self) -> Result<bool, TermError> {
        let mut value = self.term()?;
        loop {
            self.blanks();
            if !self.rest().starts_with("&&") {
                return Ok(value);
            }
            let op = self.pos;
            self.pos += 2;
            match self.term() {
                Ok(v) => value &= v,
                Err(TermError::Empty(_)) => return Err(TermError::Other(self.unparsable(op))),
                Err(e) => return Err(e),
            }
        }
    }

    fn term(&mut self) -> Result<bool, TermError> {
        let before = self.pos;
        self.blanks();
        let start = self.pos;
        let rest = self.rest();
        if rest.is_empty() || rest.starts_with("&&") || rest.starts_with("||") {
            return Err(TermError::Empty(before));
        }
        if rest.starts_with('!') {
            self.pos += 1;
            return match self.term() {
                Ok(v) => Ok(!v),
                // HAProxy blames the whole negation for an unparsable operand.
                Err(TermError::Empty(_)) => Err(TermError::Other(self.unparsable(start))),
                Err(TermError::Other(e)) if e.msg.starts_with("unparsable") => {
                    Err(TermError::Other(self.unparsable(start)))
                }
                Err(e) => Err(e),
            };
        }
        if rest.starts_with('(') {
            self.pos += 1;
            let v = self.expr()?;
            self.blanks();
            if !self.rest().starts_with(')') {
                return Err(TermError::Other(CondError {
                    msg: format!(
                        "expected ')' after conditional expression '{}'",
                        &self.text[start..]
                    ),
                    pos: start,
                }));
            }
            self.pos += 1;
            return Ok(v);
        }
        if let Ok((after, digits)) = integer(rest) {
            if !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '(') {
                self.pos += digits.len();
                return Ok(digits.parse::<i64>().map(|n| n != 0).unwrap_or(true));
            }
        }
        if let Ok((after, ident)) = name(rest) {
            if let Some(pred) = Pred::from_name(ident) {
                self.pos += ident.len();
                let args = if after.starts_with('(') {
                    self.pos += 1;
                    self.args(pred, ident).map_err(TermError::Other)?
                } else {
                    Vec::new()
                };
                return Ok(eval_pred(pred, &args, self.env));
            }
        }
        Err(TermError::Other(self.unparsable(start)))
    }

    /// The arguments after `name(`, up to and including `)`.
    fn args(&mut self, pred: Pred, name: &str) -> Result<Vec<String>, CondError> {
        let mut args = Vec::new();
        // HAProxy points at where argument parsing stopped.
        let fail = |msg: String, pos: usize| CondError { msg, pos };
        loop {
            let arg = self.arg();
            let at_end = self.rest().is_empty() || arg.is_none();
            if let Some(a) = arg {
                args.push(a);
            }
            if at_end {
                if args.len() < pred.arity() {
                    return Err(fail(format!(
                        "missing arguments (got {}/{}), type 'string' expected in argument {} of predicate '{}' used in conditional expression",
                        args.len(), pred.arity(), args.len().max(1), name
                    ), self.pos));
                }
                return Err(fail(format!(
                    "expected ')' in argument 1 of predicate '{name}' used in conditional expression"
                ), self.pos));
            }
            if self.rest().starts_with(')') {
                self.pos += 1;
                break;
            }
            // A ',' follows.
            if args.len() >= pred.arity() {
                return Err(fail(format!(
                    "expected ')' before '{}' in argument 1 of predicate '{name}' used in conditional expression",
                    self.rest()
                ), self.pos));
            }
            self.pos += 1;
        }
        if args.len() < pred.arity() {
            return Err(fail(format!(
                "missing arguments (got {}/{}), type 'string' expected in argument {} of predicate '{}' used in conditional expression",
                args.len(), pred.arity(), args.len(), name
            ), self.pos - 1));
        }
        Ok(args)
    }

    /// One argument, stopping before `,` or `)`; `None` on an unterminated quote.
    fn arg(&mut self) -> Option<String> {
        let bytes = self.text.as_bytes();
        let mut out = Vec::new();
        while let Some(&c) = bytes.get(self.pos) {
            match c {
                b',' | b')' => break,
                b'\'' => {
                    let end = self.rest()[1..].find('\'')?;
                    out.extend_from_slice(&bytes[self.pos + 1..self.pos + 1 + end]);
                    self.pos += end + 2;
                }
                b'"' => {
                    self.pos += 1;
                    loop {
                        match bytes.get(self.pos) {
                            None => return None,
                            Some(b'"') => {
                                self.pos += 1;
                                break;
                            }
                            Some(b'$') => match env_ref(&bytes[self.pos..]) {
                                Ok(r) => {
                                    let v = self.env.var(r.name).unwrap_or_default();
                                    out.extend_from_slice(v.as_bytes());
                                    self.pos += r.len;
                                }
                                Err(_) => {
                                    out.push(b'$');
                                    self.pos += 1;
                                }
                            },
                            Some(&b) => {
                                out.push(b);
                                self.pos += 1;
                            }
                        }
                    }
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        Some(String::from_utf8_lossy(&out).into_owned())
    }
}

fn eval_pred(pred: Pred, args: &[String], env: &dyn Environment) -> bool {
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match pred {
        Pred::Defined => !arg(0).is_empty() && env.var(arg(0)).is_some(),
        Pred::Feature => has_feature(arg(0)),
        Pred::Streq => arg(0) == arg(1),
        Pred::Strneq => arg(0) != arg(1),
        Pred::VersionAtleast => {
            compare_versions(crate::HAPROXY_COMPAT_VERSION, arg(0)) != std::cmp::Ordering::Less
        }
        Pred::VersionBefore => {
            compare_versions(crate::HAPROXY_COMPAT_VERSION, arg(0)) == std::cmp::Ordering::Less
        }
    }
}

/// `feature(NAME)`: `+NAME` is in [`FEATURES`] (an empty name matches, as in HAProxy).
pub fn has_feature(name: &str) -> bool {
    name.is_empty()
        || FEATURES
            .split(' ')
            .any(|f| f.strip_prefix('+') == Some(name))
}

/// The leading numeric components of a version (`2.6-dev3` → `[2, 6]`).
fn version_parts(v: &str) -> Vec<u64> {
    let mut parts = Vec::new();
    for comp in v.split('.') {
        let digits: String = comp.chars().take_while(|c| c.is_ascii_digit()).collect();
        match digits.parse::<u64>() {
            Ok(n) => parts.push(n),
            Err(_) => break,
        }
        if digits.len() != comp.len() {
            break;
        }
    }
    parts
}

/// Compares two versions component by component, missing components being 0.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (version_parts(a), version_parts(b));
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            a.get(i)
                .copied()
                .unwrap_or(0)
                .cmp(&b.get(i).copied().unwrap_or(0))
        })
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// Evaluate a condition; `Err` carries HAProxy's message and the offending offset.
pub fn eval(expr: &str, env: &dyn Environment) -> Result<bool, CondError> {
    if expr.is_empty() {
        return Ok(false);
    }
    let mut p = Parser {
        text: expr,
        pos: 0,
        env,
    };
    let value = match p.expr() {
        Ok(v) => v,
        Err(TermError::Other(e)) => return Err(e),
        Err(TermError::Empty(at)) => {
            return Err(CondError {
                msg: format!("unparsable conditional sub-expression '{}'", &expr[at..]),
                pos: at,
            })
        }
    };
    p.blanks();
    if let Some(c) = p.rest().chars().next() {
        return Err(CondError {
            msg: format!(
                "unexpected character '{c}' at the end of conditional expression '{expr}'"
            ),
            pos: p.pos,
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MemoryEnv;

    fn env() -> MemoryEnv {
        MemoryEnv::new().with_var("HOME", "/root")
    }

    fn ok(e: &str) -> bool {
        eval(e, &env()).unwrap_or_else(|err| panic!("{e:?}: {}", err.msg))
    }

    fn err(e: &str) -> (String, usize) {
        let err = eval(e, &env()).unwrap_err();
        (err.msg, err.pos)
    }

    #[test]
    fn integers_and_operators() {
        assert!(ok("1") && ok("2") && ok("-1") && ok("  1  ") && ok("!!1"));
        assert!(!ok("0") && !ok(""));
        assert!(!ok("defined(HOME) && 0"));
        assert!(ok("defined(HOME) || 0"));
        assert!(ok("(0 || 1) && 1") && ok("( 1 )") && ok("3 &&1"));
        assert!(ok("1 && 0 || 1"));
        assert!(!ok("0 || 1 && 0"));
    }

    #[test]
    fn predicates() {
        assert!(ok("defined(HOME)") && !ok("defined(NOPE)") && !ok("defined()"));
        assert!(ok("!defined(NOPE)") && ok("! defined(NOPE)"));
        assert!(!ok("defined"));
        assert!(ok("feature(EPOLL)") && !ok("feature(OPENSSL)") && !ok("feature(QUIC)"));
        assert!(ok("feature()"));
        assert!(ok("streq(a,a)") && !ok("streq(a, a)") && !ok("streq(a,b)"));
        assert!(ok("strneq(a,b)") && ok("streq(,)"));
        assert!(ok("streq(\"a b\",\"a b\")") && ok("streq('x',x)"));
        assert!(ok("streq(\"$HOME\",/root)") && !ok("defined($HOME)"));
    }

    #[test]
    fn versions() {
        assert!(ok("version_atleast(2.6)") && ok("version_atleast(2.6.12)"));
        assert!(!ok("version_atleast(2.6.13)") && !ok("version_atleast(3)"));
        assert!(ok("version_atleast(2.5.99)") && ok("version_atleast(2)"));
        assert!(ok("version_before(2.7)") && !ok("version_before(2.6.12)"));
        assert!(ok("version_atleast(2.6-dev)") && ok("version_atleast(abc)"));
        assert!(ok("version_atleast()"));
    }

    #[test]
    fn errors_match_haproxy() {
        assert_eq!(
            err("x"),
            ("unparsable conditional expression 'x'".into(), 0)
        );
        assert_eq!(
            err("defined(HOME) && nope()"),
            ("unparsable conditional expression 'nope()'".into(), 17)
        );
        assert_eq!(
            err("1 junk"),
            (
                "unexpected character 'j' at the end of conditional expression '1 junk'".into(),
                2
            )
        );
        assert_eq!(err("1 && ").0, "unparsable conditional expression '&& '");
        assert_eq!(err("1 ||").0, "unparsable conditional expression '1 ||'");
        assert_eq!(err("!").0, "unparsable conditional expression '!'");
        assert_eq!(err("!x").0, "unparsable conditional expression '!x'");
        assert_eq!(err(" ").0, "unparsable conditional sub-expression ' '");
        assert_eq!(
            err("((1)").0,
            "expected ')' after conditional expression '((1)'"
        );
        assert_eq!(err("streq(a)").0, "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression");
        assert_eq!(err("streq(a").0, "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression");
        assert_eq!(
            err("streq(a,b").0,
            "expected ')' in argument 1 of predicate 'streq' used in conditional expression"
        );
        assert_eq!(
            err("defined(HOME").0,
            "expected ')' in argument 1 of predicate 'defined' used in conditional expression"
        );
        assert_eq!(err("streq(a,b,c)").0, "expected ')' before ',c)' in argument 1 of predicate 'streq' used in conditional expression");
        assert_eq!(err("defined(a,b)").0, "expected ')' before ',b)' in argument 1 of predicate 'defined' used in conditional expression");
        assert_eq!(
            err("defined (HOME)").0,
            "unexpected character '(' at the end of conditional expression 'defined (HOME)'"
        );
        assert_eq!(
            err("enabled(FOO)").0,
            "unparsable conditional expression 'enabled(FOO)'"
        );
    }

    #[test]
    fn version_ordering() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("2.6.12", "2.6"), Greater);
        assert_eq!(compare_versions("2.6", "2.6.0"), Equal);
        assert_eq!(compare_versions("2.6.9", "2.6.12"), Less);
    }
}
