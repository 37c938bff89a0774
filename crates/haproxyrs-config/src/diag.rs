//! Diagnostics: ALERT / WARNING / NOTICE / DIAG messages in HAProxy's shape.
//!
//! The first line of every message is what HAProxy prints, so scripts that grep HAProxy's
//! output keep working; beyond HAProxy, a diagnostic may carry the offending source line
//! with a caret under the word, and a "did you mean" hint. Rendering lives in
//! `crate::render`; this module only holds the data.

use crate::span::Span;

/// Severity, in HAProxy's vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Diag,
    Notice,
    Warning,
    Alert,
}

impl Level {
    /// `[ALERT]` etc., as HAProxy prints the tag.
    pub fn tag(self) -> &'static str {
        match self {
            Level::Diag => "[DIAG]",
            Level::Notice => "[NOTICE]",
            Level::Warning => "[WARNING]",
            Level::Alert => "[ALERT]",
        }
    }
}

/// One message about the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    /// The text after `config : `, exactly as HAProxy words it, e.g.
    /// `parsing [a.cfg:3] : unknown keyword 'foo' in 'frontend' section`.
    pub text: String,
    /// Where the offending word is, for the source excerpt with a caret.
    pub span: Option<Span>,
    /// A suggestion shown under the excerpt ("did you mean 'bind'?").
    pub help: Option<String>,
    /// True for the "parsed but not implemented" notices of haproxyrs: they never count
    /// as warnings (neither for `Warnings were found.` nor for `zero-warning`).
    pub unimplemented: bool,
}

impl Diagnostic {
    /// A message with no location: `Proxy 'x': unable to find ...`.
    pub fn new(level: Level, text: impl Into<String>) -> Self {
        Diagnostic {
            level,
            text: text.into(),
            span: None,
            help: None,
            unimplemented: false,
        }
    }

    /// `parsing [file:line] : msg`, the usual form for errors found on one line.
    pub fn parsing(level: Level, span: &Span, msg: impl AsRef<str>) -> Self {
        Diagnostic {
            level,
            text: format!("parsing [{}] : {}", span, msg.as_ref()),
            span: Some(span.clone()),
            help: None,
            unimplemented: false,
        }
    }

    /// `[file:line] : msg`, the form HAProxy uses for checks done after parsing
    /// (e.g. `[a.cfg:12] : 'server be/s1' : could not resolve address 'x'.`).
    pub fn at(level: Level, span: &Span, msg: impl AsRef<str>) -> Self {
        Diagnostic {
            level,
            text: format!("[{}] : {}", span, msg.as_ref()),
            span: Some(span.clone()),
            help: None,
            unimplemented: false,
        }
    }

    pub fn alert(span: &Span, msg: impl AsRef<str>) -> Self {
        Self::parsing(Level::Alert, span, msg)
    }

    pub fn warning(span: &Span, msg: impl AsRef<str>) -> Self {
        Self::parsing(Level::Warning, span, msg)
    }

    /// haproxyrs's own notice: the keyword parses but the engines do not implement it.
    pub fn unimplemented(span: &Span, what: impl AsRef<str>) -> Self {
        Diagnostic {
            level: Level::Notice,
            text: format!(
                "parsing [{}] : '{}' is parsed but not implemented",
                span,
                what.as_ref()
            ),
            span: Some(span.clone()),
            help: None,
            unimplemented: true,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// All the messages of one load, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
    /// Reading stopped early, as HAProxy stops on ERR_ABORT (a missing file, a `.if`
    /// error…): HAProxy then exits without its "Fatal errors found" trailer.
    pub aborted: bool,
    /// Index of the first message of the checks made once every file is read (HAProxy
    /// prints those after all the files' own messages, whatever line they cite).
    pub checks_from: Option<usize>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
    pub fn has_alerts(&self) -> bool {
        self.items.iter().any(|d| d.level == Level::Alert)
    }
    /// Real warnings only: "not implemented" notices do not count.
    pub fn has_warnings(&self) -> bool {
        self.items
            .iter()
            .any(|d| d.level == Level::Warning && !d.unimplemented)
    }
}
