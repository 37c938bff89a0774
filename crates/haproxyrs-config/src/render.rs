//! Diagnostic rendering: HAProxy's message line, then (beyond HAProxy) the offending source
//! line with a caret under the word and the "did you mean" help.
//!
//! The first line is exactly HAProxy's shape, so scripts that grep it keep working:
//! `[ALERT]    (PID) : config : <text>` (tag left-justified on 10 columns). The excerpt
//! lines that follow start with `   | `, like HAProxy's own continuation lines.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::diag::{Diagnostic, Level};
use crate::env::Environment;
use crate::parse::source;

/// `[ALERT]    (PID) : <context> : <text>`; without a context: `[NOTICE]   (PID) : <text>`.
pub fn header(level: Level, pid: u32, context: Option<&str>, text: &str) -> String {
    match context {
        Some(ctx) => format!("{:<10} ({pid}) : {ctx} : {text}", level.tag()),
        None => format!("{:<10} ({pid}) : {text}", level.tag()),
    }
}

/// Source lines of the config files, read on demand through the [`Environment`].
pub struct Sources<'a> {
    env: &'a dyn Environment,
    files: HashMap<Arc<str>, Option<Vec<Vec<u8>>>>,
}

impl<'a> Sources<'a> {
    pub fn new(env: &'a dyn Environment) -> Self {
        Sources {
            env,
            files: HashMap::new(),
        }
    }

    /// The bytes of line `line` (1-based) of `file`, as the parser saw them.
    pub fn line(&mut self, file: &Arc<str>, line: u32) -> Option<&[u8]> {
        let env = self.env;
        let lines = self.files.entry(file.clone()).or_insert_with(|| {
            env.read_file(Path::new(&**file)).ok().map(|bytes| {
                source::lines(&bytes)
                    .into_iter()
                    .map(|l| l.content.to_vec())
                    .collect()
            })
        });
        let idx = usize::try_from(line).ok()?.checked_sub(1)?;
        lines.as_ref()?.get(idx).map(Vec::as_slice)
    }
}

/// Width in bytes of the word starting at `line[start]` (a quoted word up to its quote).
fn word_len(line: &[u8], start: usize) -> usize {
    let rest = &line[start.min(line.len())..];
    let len = match rest.first() {
        Some(&q @ (b'"' | b'\'')) => rest[1..]
            .iter()
            .position(|&c| c == q)
            .map_or(rest.len(), |p| p + 2),
        _ => rest
            .iter()
            .position(|&c| matches!(c, b' ' | b'\t' | b'\r'))
            .unwrap_or(rest.len()),
    };
    len.max(1)
}

/// Bytes of context kept on each side of the caret when a line is long.
const CONTEXT: usize = 60;

/// The excerpt under a message: the source line, a caret line, the help. Long lines are
/// cut around the caret and marked with `...`, as HAProxy does.
pub fn excerpt(d: &Diagnostic, sources: &mut Sources<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(span) = &d.span {
        if let Some(line) = sources.line(&span.file, span.line) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let start = (span.col as usize).saturating_sub(1).min(line.len());
            let width = if start >= line.len() {
                1
            } else {
                word_len(line, start).min(CONTEXT)
            };
            let from = start.saturating_sub(CONTEXT);
            let to = (start + width + CONTEXT).min(line.len());
            let lead = if from > 0 { "..." } else { "" };
            let tail = if to < line.len() { "..." } else { "" };
            let text = String::from_utf8_lossy(&line[from..to]);
            let pad: String = lead
                .chars()
                .chain(String::from_utf8_lossy(&line[from..start]).chars())
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let marks = String::from_utf8_lossy(&line[start..(start + width).min(line.len())])
                .chars()
                .count()
                .max(1);
            out.push(format!("   | {lead}{text}{tail}"));
            out.push(format!("   | {pad}{}", "^".repeat(marks)));
        }
    }
    if let Some(help) = &d.help {
        out.push(format!("   = help: {help}"));
    }
    out
}

/// A whole diagnostic: HAProxy's line for `config` messages, then the excerpt.
pub fn render(d: &Diagnostic, pid: u32, sources: &mut Sources<'_>) -> String {
    let mut lines = vec![header(d.level, pid, Some("config"), &d.text)];
    lines.extend(excerpt(d, sources));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MemoryEnv;
    use crate::span::Span;

    #[test]
    fn header_pads_the_tag_to_ten_columns() {
        assert_eq!(
            header(Level::Alert, 7, Some("config"), "x"),
            "[ALERT]    (7) : config : x"
        );
        assert_eq!(
            header(Level::Warning, 7, Some("config"), "x"),
            "[WARNING]  (7) : config : x"
        );
        assert_eq!(header(Level::Notice, 7, None, "x"), "[NOTICE]   (7) : x");
        assert_eq!(header(Level::Diag, 7, None, "x"), "[DIAG]     (7) : x");
    }

    #[test]
    fn caret_under_the_word_and_help() {
        let env = MemoryEnv::new().with_file("a.cfg", "frontend fe\n\t bnd  :80\n");
        let mut src = Sources::new(&env);
        let span = Span::new("a.cfg".into(), 2, 3);
        let d = Diagnostic::alert(&span, "unknown keyword 'bnd' in 'frontend' section")
            .with_help("did you mean 'bind'?");
        let text = render(&d, 42, &mut src);
        assert_eq!(
            text,
            "[ALERT]    (42) : config : parsing [a.cfg:2] : unknown keyword 'bnd' in 'frontend' section\n\
             \x20  | \t bnd  :80\n\
             \x20  | \t ^^^\n\
             \x20  = help: did you mean 'bind'?"
        );
    }

    #[test]
    fn caret_counts_characters_not_bytes() {
        // "é" is two bytes: the word `bad` starts at byte column 7 but character column 6.
        let env = MemoryEnv::new().with_file("a.cfg", "  é x bad\n");
        let mut src = Sources::new(&env);
        let d = Diagnostic::alert(&Span::new("a.cfg".into(), 1, 8), "m");
        assert_eq!(excerpt(&d, &mut src), ["   |   é x bad", "   |       ^^^"]);
    }

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let line = format!("{}bad{}\n", "a ".repeat(500), " b".repeat(500));
        let env = MemoryEnv::new().with_file("a.cfg", line);
        let mut src = Sources::new(&env);
        let d = Diagnostic::alert(&Span::new("a.cfg".into(), 1, 1001), "m");
        let ex = excerpt(&d, &mut src);
        assert!(
            ex[0].starts_with("   | ...") && ex[0].ends_with("..."),
            "{}",
            ex[0]
        );
        assert!(ex[0].len() < 200);
        let caret = ex[1].find('^').unwrap();
        assert_eq!(&ex[0][caret..caret + 3], "bad");
    }

    #[test]
    fn quoted_word_and_positions_past_the_end() {
        let env = MemoryEnv::new().with_file("a.cfg", "x \"a b\" y\nlast");
        let mut src = Sources::new(&env);
        let d = Diagnostic::alert(&Span::new("a.cfg".into(), 1, 3), "m");
        assert_eq!(excerpt(&d, &mut src)[1], "   |   ^^^^^");
        let d = Diagnostic::alert(&Span::new("a.cfg".into(), 2, 5), "m");
        assert_eq!(excerpt(&d, &mut src)[1], "   |     ^");
        // Unknown file or line: no excerpt, never a panic.
        let d = Diagnostic::alert(&Span::new("a.cfg".into(), 9, 1), "m");
        assert!(excerpt(&d, &mut src).is_empty());
        let d = Diagnostic::alert(&Span::new("zz.cfg".into(), 0, 0), "m");
        assert!(excerpt(&d, &mut src).is_empty());
    }
}
