//! One config line → its words, as HAProxy 2.6 splits a line.
//!
//! Rules (checked against `haproxy -c`):
//! - words are separated by blanks (space, tab, vertical tab, form feed);
//! - an unquoted `#`, CR or LF ends the line;
//! - `'…'` keeps everything literally; `"…"` allows escapes and `$VAR` expansion;
//! - `\ ` `\\` `\#` `\'` `\"` (and `\$` between double quotes) give the character,
//!   `\r` `\n` `\t` the control character, `\xHH` the byte (`\x00` ends the word, as a C
//!   string would); any other backslash is kept as it is;
//! - quotes may sit inside a word (`a"b c"d` is one word `ab cd`);
//! - at most 64 words per line.
//!
//! Positions in errors are 1-based byte offsets in the line, as HAProxy prints them.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::character::complete::one_of;
use nom::combinator::{map, map_res, value};
use nom::sequence::preceded;
use nom::IResult;

use super::expand::{env_ref, EnvRefError};
use crate::env::Environment;

/// HAProxy's `MAX_LINE_ARGS`.
pub const MAX_LINE_ARGS: usize = 64;

/// One word of a line and the 1-based column where it starts (its opening quote, if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexWord {
    pub text: String,
    pub col: u32,
}

/// Why a line could not be split; the texts are HAProxy's (after `parsing [f:l]: `).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    #[error("unmatched quote at position {0}:")]
    UnmatchedQuote(usize),
    #[error("truncated or invalid hexadecimal sequence at position {0}:")]
    BadHex(usize),
    #[error("forbidden first char in environment variable name at position {0}:")]
    EnvFirstChar(usize),
    #[error("unmatched brace in environment variable name at position {0}:")]
    EnvBrace(usize),
    #[error("truncated or invalid word expansion sequence at position {0}:")]
    WordExpansion(usize),
    #[error(
        "too many words, truncating after word {}, position {pos}: <{word}>.",
        MAX_LINE_ARGS
    )]
    TooManyWords { pos: usize, word: String },
}

impl LexError {
    /// The 1-based column the error points at.
    pub fn position(&self) -> usize {
        match self {
            LexError::UnmatchedQuote(p)
            | LexError::BadHex(p)
            | LexError::EnvFirstChar(p)
            | LexError::EnvBrace(p)
            | LexError::WordExpansion(p) => *p,
            LexError::TooManyWords { pos, .. } => *pos,
        }
    }
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x0b | 0x0c)
}

fn ends_line(c: u8) -> bool {
    matches!(c, b'#' | b'\r' | b'\n')
}

fn hex_byte(digits: &[u8]) -> Result<u8, std::num::ParseIntError> {
    // `digits` are two ASCII hex digits, so this is valid UTF-8.
    u8::from_str_radix(std::str::from_utf8(digits).unwrap_or("zz"), 16)
}

// escape := '\' ( [ \\#'"] | '$' (between double quotes) | 'r' | 'n' | 't' | 'x' HEX HEX )
fn escape(input: &[u8], quoted: bool) -> IResult<&[u8], u8> {
    let chars = if quoted { " \\#'\"$" } else { " \\#'\"" };
    preceded(
        tag(&b"\\"[..]),
        alt((
            map(one_of(chars), |c| c as u8),
            value(b'\r', tag(&b"r"[..])),
            value(b'\n', tag(&b"n"[..])),
            value(b'\t', tag(&b"t"[..])),
            preceded(
                tag(&b"x"[..]),
                map_res(
                    take_while_m_n(2, 2, |c: u8| c.is_ascii_hexdigit()),
                    hex_byte,
                ),
            ),
        )),
    )(input)
}

/// Splits one line; see the module documentation for the rules.
struct Lexer<'a> {
    line: &'a [u8],
    pos: usize,
    env: &'a dyn Environment,
    words: Vec<LexWord>,
    cur: Vec<u8>,
    cur_col: usize,
    default_brace: Option<usize>,
}

/// A split line, with what HAProxy's output buffer handling needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lexed {
    pub words: Vec<LexWord>,
    /// Bytes HAProxy's output buffer needs for these words (each NUL-terminated).
    pub out_len: usize,
    /// 1-based position of the `{` of the first `${NAME-default}` reference, if any.
    pub default_brace: Option<usize>,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.line.get(self.pos).copied()
    }

    /// Start a word at byte offset `at` (0-based), refusing a 65th word.
    fn start_word(&mut self, at: usize) -> Result<(), LexError> {
        if self.words.len() >= MAX_LINE_ARGS {
            let last = &self.words[MAX_LINE_ARGS - 1];
            return Err(LexError::TooManyWords {
                pos: last.col as usize,
                word: last.text.clone(),
            });
        }
        self.cur.clear();
        self.cur_col = at;
        Ok(())
    }

    fn finish_word(&mut self) {
        let mut bytes = std::mem::take(&mut self.cur);
        // HAProxy's words are C strings: a `\x00` ends the word there.
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            bytes.truncate(nul);
        }
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        self.words.push(LexWord {
            text,
            col: u32::try_from(self.cur_col + 1).unwrap_or(u32::MAX),
        });
    }

    fn run(mut self) -> Result<Lexed, LexError> {
        loop {
            while self.peek().is_some_and(is_blank) {
                self.pos += 1;
            }
            match self.peek() {
                None => break,
                Some(c) if ends_line(c) => break,
                Some(_) => {}
            }
            self.start_word(self.pos)?;
            self.word()?;
            self.finish_word();
            if self.peek().is_some_and(ends_line) {
                break;
            }
        }
        Ok(Lexed {
            out_len: self.words.iter().map(|w| w.text.len() + 1).sum(),
            words: self.words,
            default_brace: self.default_brace,
        })
    }

    // word := ( plain | escape | single-quoted | double-quoted )+
    fn word(&mut self) -> Result<(), LexError> {
        while let Some(c) = self.peek() {
            match c {
                c if is_blank(c) || ends_line(c) => break,
                b'\'' => self.single_quoted()?,
                b'"' => self.double_quoted()?,
                b'\\' => self.escape(false)?,
                _ => {
                    self.cur.push(c);
                    self.pos += 1;
                }
            }
        }
        Ok(())
    }

    // single-quoted := "'" [^']* "'"
    fn single_quoted(&mut self) -> Result<(), LexError> {
        let open = self.pos;
        let rest = &self.line[open + 1..];
        match rest.iter().position(|&c| c == b'\'') {
            Some(end) => {
                self.cur.extend_from_slice(&rest[..end]);
                self.pos = open + 1 + end + 1;
                Ok(())
            }
            None => Err(LexError::UnmatchedQuote(open + 1)),
        }
    }

    // double-quoted := '"' ( escape | env-ref | [^"] )* '"'
    fn double_quoted(&mut self) -> Result<(), LexError> {
        let open = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(LexError::UnmatchedQuote(open + 1)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => self.escape(true)?,
                Some(b'$') => self.expand()?,
                Some(c) => {
                    self.cur.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn escape(&mut self, quoted: bool) -> Result<(), LexError> {
        let rest = &self.line[self.pos..];
        match escape(rest, quoted) {
            Ok((after, byte)) => {
                self.cur.push(byte);
                self.pos += rest.len() - after.len();
            }
            Err(_) if rest.get(1) == Some(&b'x') => return Err(LexError::BadHex(self.pos + 1)),
            Err(_) => {
                // Not an escape HAProxy knows: the backslash stays.
                self.cur.push(b'\\');
                self.pos += 1;
            }
        }
        Ok(())
    }

    fn expand(&mut self) -> Result<(), LexError> {
        let at = self.pos;
        let r = env_ref(&self.line[at..]).map_err(|e| match e {
            EnvRefError::FirstChar(o) => LexError::EnvFirstChar(at + o + 1),
            EnvRefError::Brace(o) => LexError::EnvBrace(at + o + 1),
            EnvRefError::Expansion(o) => LexError::WordExpansion(at + o + 1),
        })?;
        self.pos += r.len;
        if r.default.is_some() && self.default_brace.is_none() {
            self.default_brace = Some(at + 2);
        }
        let value = match (self.env.var(r.name), r.default) {
            (Some(v), _) => v.into_bytes(),
            (None, Some(d)) => d.to_vec(),
            (None, None) => Vec::new(),
        };
        if !r.split {
            self.cur.extend_from_slice(&value);
            return Ok(());
        }
        // `${NAME[*]}`: each run of blanks ends the current word and starts another.
        let mut in_blank = false;
        for &b in &value {
            if is_blank(b) {
                if !in_blank {
                    self.finish_word();
                    self.start_word(at)?;
                }
                in_blank = true;
            } else {
                in_blank = false;
                self.cur.push(b);
            }
        }
        Ok(())
    }
}

/// Split one line (without its LF) into words, expanding variables from `env`.
pub fn lex(line: &[u8], env: &dyn Environment) -> Result<Lexed, LexError> {
    Lexer {
        line,
        pos: 0,
        env,
        words: Vec::new(),
        cur: Vec::new(),
        cur_col: 0,
        default_brace: None,
    }
    .run()
}

/// [`lex`], keeping only the words.
pub fn lex_line(line: &[u8], env: &dyn Environment) -> Result<Vec<LexWord>, LexError> {
    lex(line, env).map(|l| l.words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MemoryEnv;

    fn env() -> MemoryEnv {
        MemoryEnv::new()
            .with_var("FOO", "bar")
            .with_var("EMPTY", "")
            .with_var("SP", "a  b")
            .with_var("LEAD", " a  ")
    }

    fn words(line: &str) -> Vec<String> {
        lex_line(line.as_bytes(), &env())
            .unwrap_or_else(|e| panic!("{line:?}: {e}"))
            .into_iter()
            .map(|w| w.text)
            .collect()
    }

    fn err(line: &str) -> String {
        lex_line(line.as_bytes(), &env()).unwrap_err().to_string()
    }

    #[test]
    fn blanks_and_comments() {
        assert_eq!(words("  bind   :80\t# comment"), ["bind", ":80"]);
        assert_eq!(words("a\x0bb\x0cc"), ["a", "b", "c"]);
        assert_eq!(words("a#b c"), ["a"]);
        assert_eq!(words("# all comment"), Vec::<String>::new());
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("ab\rcd"), ["ab"]);
        assert_eq!(words("a \\\n"), ["a", "\\"]);
    }

    #[test]
    fn quotes() {
        assert_eq!(words("a\"b c\"d"), ["ab cd"]);
        assert_eq!(words("'a\\tb' \"a\\tb\""), ["a\\tb", "a\tb"]);
        assert_eq!(words("\"a#b\" 'x#y'"), ["a#b", "x#y"]);
        assert_eq!(words("\"\" x"), ["", "x"]);
        assert_eq!(words("\"a'b\""), ["a'b"]);
    }

    #[test]
    fn escapes() {
        assert_eq!(words("a\\ b"), ["a b"]);
        assert_eq!(words("a\\#b"), ["a#b"]);
        assert_eq!(words("a\\'b a\\\"b"), ["a'b", "a\"b"]);
        assert_eq!(words("a\\\\b"), ["a\\b"]);
        assert_eq!(words("a\\qb"), ["a\\qb"]);
        assert_eq!(words("a\\x41b"), ["aAb"]);
        assert_eq!(words("a\\tb"), ["a\tb"]);
        assert_eq!(words("a\\"), ["a\\"]);
        assert_eq!(words("\"a\\$FOO\""), ["a$FOO"]);
        // `\$` is an escape only between double quotes.
        assert_eq!(words("a\\$b"), ["a\\$b"]);
        // A NUL from `\x00` ends the word, as in C.
        assert_eq!(words("a\\x00b \"c\\x00d\" e"), ["a", "c", "e"]);
    }

    #[test]
    fn expansion_only_in_double_quotes() {
        assert_eq!(words("${FOO}x $FOO '$FOO'"), ["${FOO}x", "$FOO", "$FOO"]);
        assert_eq!(words("\"$FOO\" \"${FOO}${FOO}\""), ["bar", "barbar"]);
        assert_eq!(words("\"$FOO.x\" \"$FOOx\""), ["bar.x", ""]);
        assert_eq!(words("\"${NOPE}\" x"), ["", "x"]);
        assert_eq!(words("\"${SP}\""), ["a  b"]);
    }

    #[test]
    fn default_values() {
        // Only an unset variable takes the default.
        assert_eq!(
            words("\"${NOPE-x}\" \"${EMPTY-x}\" \"${FOO-x}\""),
            ["x", "", "bar"]
        );
        assert_eq!(words("\"${NOPE-a b}\" \"${NOPE-}\""), ["a b", ""]);
        assert_eq!(
            words("\"${NOPE-a}b}\" \"${NOPE-${FOO}}\""),
            ["ab}", "${FOO}"]
        );
        assert_eq!(words("\"${NOPE-a\\x41}\""), ["a\\x41"]);
        assert_eq!(words("\"${NOPE[*]-x y}\""), ["x", "y"]);
        let l = lex(b".notice \"${NOPE-x}\"", &env()).unwrap();
        assert_eq!((l.default_brace, l.out_len), (Some(11), 10));
    }

    #[test]
    fn word_expansion_splits() {
        assert_eq!(words("\"x${SP[*]}y\""), ["xa", "by"]);
        assert_eq!(words("\"${LEAD[*]}\" x"), ["", "a", "", "x"]);
        assert_eq!(words("\"${NOPE[*]}\" x"), ["", "x"]);
    }

    #[test]
    fn errors_and_positions() {
        assert_eq!(
            err(".notice \"unterminated"),
            "unmatched quote at position 9:"
        );
        assert_eq!(err(".notice 'x"), "unmatched quote at position 9:");
        assert_eq!(
            err(".notice a\\x4"),
            "truncated or invalid hexadecimal sequence at position 10:"
        );
        assert_eq!(
            err(".notice a\\xZZ"),
            "truncated or invalid hexadecimal sequence at position 10:"
        );
        assert_eq!(
            err(".notice \"$\""),
            "forbidden first char in environment variable name at position 11:"
        );
        assert_eq!(
            err(".notice \"${\""),
            "forbidden first char in environment variable name at position 12:"
        );
        assert_eq!(
            err(".notice \"${NOPE-def\""),
            "unmatched brace in environment variable name at position 11:"
        );
        assert_eq!(
            err(".notice \"${NOPE:-def}\""),
            "unmatched brace in environment variable name at position 11:"
        );
        assert_eq!(
            err(".notice \"${FOO[x]}\""),
            "truncated or invalid word expansion sequence at position 15:"
        );
    }

    #[test]
    fn columns_are_one_based_bytes() {
        let w = lex_line(b"  bind \"a b\"\tx", &env()).unwrap();
        let cols: Vec<u32> = w.iter().map(|w| w.col).collect();
        assert_eq!(cols, [3, 8, 14]);
        let w = lex_line(b"x", &env()).unwrap();
        assert_eq!(w[0].col, 1);
    }

    #[test]
    fn word_limit() {
        let line: Vec<String> = std::iter::once(".notice".to_string())
            .chain((0..63).map(|i| format!("w{i}")))
            .collect();
        assert_eq!(words(&line.join(" ")).len(), 64);
        let line: Vec<String> = std::iter::once(".notice".to_string())
            .chain((0..64).map(|i| format!("w{i}")))
            .collect();
        assert_eq!(
            err(&line.join(" ")),
            "too many words, truncating after word 64, position 247: <w62>."
        );
    }

    #[test]
    fn invalid_utf8_never_panics() {
        let w = lex_line(b"a\xff \"\\xfe\"", &env()).unwrap();
        assert_eq!(w.len(), 2);
    }
}
