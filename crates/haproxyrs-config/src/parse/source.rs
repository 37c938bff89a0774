//! File bytes → numbered raw lines, as HAProxy's line reader sees them.
//!
//! HAProxy reads a file line by line and works on each line up to its first NUL byte.
//! A line that does not end in LF (the last line of a truncated file, or a line cut short
//! by a NUL) is reported after it was processed: "Missing LF on last line" when nothing
//! follows it, "Stray NUL character" (and the file stops there) when more lines follow.

/// One line of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawLine<'a> {
    /// 1-based line number.
    pub number: u32,
    /// The bytes HAProxy parses: up to the LF or the first NUL, whichever comes first.
    pub content: &'a [u8],
    /// Set when the line had no LF where HAProxy expected one: the 1-based position of the
    /// missing LF (just after `content`).
    pub missing_lf: Option<usize>,
    /// Whether more bytes follow this line in the file.
    pub more_after: bool,
}

/// Split a whole file into lines.
pub fn lines(bytes: &[u8]) -> Vec<RawLine<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut number: u32 = 0;
    while start < bytes.len() {
        number = number.saturating_add(1);
        let (full, next, had_lf) = match memchr_lf(&bytes[start..]) {
            Some(i) => (&bytes[start..start + i], start + i + 1, true),
            None => (&bytes[start..], bytes.len(), false),
        };
        let nul = full.iter().position(|&b| b == 0);
        let content = &full[..nul.unwrap_or(full.len())];
        let missing_lf = (nul.is_some() || !had_lf).then_some(content.len() + 1);
        out.push(RawLine {
            number,
            content,
            missing_lf,
            more_after: next < bytes.len(),
        });
        start = next;
    }
    out
}

fn memchr_lf(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_files() {
        assert!(lines(b"").is_empty());
        let l = lines(b"\n");
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].content, b"");
        assert_eq!(l[0].missing_lf, None);
        assert!(!l[0].more_after);
    }

    #[test]
    fn numbering_and_last_line() {
        let l = lines(b"global\n  maxconn 10\n");
        assert_eq!(l.len(), 2);
        assert_eq!((l[1].number, l[1].content), (2, &b"  maxconn 10"[..]));
        assert_eq!(l[1].missing_lf, None);
    }

    #[test]
    fn missing_lf_position_is_length_plus_one() {
        let l = lines(b"global\n  maxconn 10");
        assert_eq!(l[1].missing_lf, Some(13));
        assert!(!l[1].more_after);
    }

    #[test]
    fn nul_cuts_the_line() {
        let l = lines(b"global\n  maxconn 10\x0020\n  maxconn x\n");
        assert_eq!(l[1].content, b"  maxconn 10");
        assert_eq!(l[1].missing_lf, Some(13));
        assert!(l[1].more_after);
        // NUL on the last line, LF present: HAProxy still says "Missing LF".
        let l = lines(b"a\x00b\n");
        assert_eq!((l[0].missing_lf, l[0].more_after), (Some(2), false));
        // NUL first: position 1.
        assert_eq!(lines(b"\x00\n")[0].missing_lf, Some(1));
    }

    #[test]
    fn crlf_keeps_cr_for_the_lexer() {
        let l = lines(b"a\r\nb\r\n");
        assert_eq!(l[0].content, b"a\r");
        assert_eq!(l[1].number, 2);
    }
}
