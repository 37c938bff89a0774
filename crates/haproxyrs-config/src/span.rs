//! Source positions: every word of a config keeps the file, line and column it came from,
//! so that diagnostics can cite `[file:line]` as HAProxy does and show a caret under the word.

use std::fmt;
use std::sync::Arc;

/// A position in a config file: 1-based line and column (column counted in bytes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file name exactly as given on the command line (HAProxy cites it that way).
    pub file: Arc<str>,
    pub line: u32,
    pub col: u32,
}

impl Span {
    pub fn new(file: Arc<str>, line: u32, col: u32) -> Self {
        Span { file, line, col }
    }
}

impl fmt::Display for Span {
    /// `file:line`, the form HAProxy prints inside `parsing [...]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}
