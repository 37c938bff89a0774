//! The syntax tree: a config as HAProxy reads it, before any keyword is interpreted.
//!
//! A config is a list of sections; a section is a header line (`frontend www`) and the
//! lines under it; a line is a list of words after quoting, escapes, environment expansion
//! and `.if` blocks were applied. Each word keeps its [`Span`]. The meaning of each
//! keyword is decided later, by lowering (`crate::lower`).

use crate::span::Span;

/// Every section kind HAProxy 2.6 recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SectionKind {
    Global,
    Defaults,
    Frontend,
    Backend,
    Listen,
    Userlist,
    Peers,
    Resolvers,
    Mailers,
    HttpErrors,
    Ring,
    Cache,
    Program,
    LogForward,
    FcgiApp,
}

impl SectionKind {
    /// The keyword that opens the section, as written in a config.
    pub fn keyword(self) -> &'static str {
        match self {
            SectionKind::Global => "global",
            SectionKind::Defaults => "defaults",
            SectionKind::Frontend => "frontend",
            SectionKind::Backend => "backend",
            SectionKind::Listen => "listen",
            SectionKind::Userlist => "userlist",
            SectionKind::Peers => "peers",
            SectionKind::Resolvers => "resolvers",
            SectionKind::Mailers => "mailers",
            SectionKind::HttpErrors => "http-errors",
            SectionKind::Ring => "ring",
            SectionKind::Cache => "cache",
            SectionKind::Program => "program",
            SectionKind::LogForward => "log-forward",
            SectionKind::FcgiApp => "fcgi-app",
        }
    }

    pub const ALL: [SectionKind; 15] = [
        SectionKind::Global,
        SectionKind::Defaults,
        SectionKind::Frontend,
        SectionKind::Backend,
        SectionKind::Listen,
        SectionKind::Userlist,
        SectionKind::Peers,
        SectionKind::Resolvers,
        SectionKind::Mailers,
        SectionKind::HttpErrors,
        SectionKind::Ring,
        SectionKind::Cache,
        SectionKind::Program,
        SectionKind::LogForward,
        SectionKind::FcgiApp,
    ];

    pub fn from_keyword(word: &str) -> Option<SectionKind> {
        SectionKind::ALL.into_iter().find(|k| k.keyword() == word)
    }
}

/// One word of a line, after unquoting, unescaping and `${VAR}` expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

/// One logical line: its words (never empty) and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub words: Vec<Word>,
    pub span: Span,
}

impl Line {
    pub fn keyword(&self) -> &str {
        &self.words[0].text
    }
    pub fn args(&self) -> &[Word] {
        &self.words[1..]
    }
}

/// A section: its kind, its header line (`listen stats`, `defaults web from base`) and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    pub header: Line,
    pub lines: Vec<Line>,
}

impl Section {
    /// The section's name (`frontend NAME`), if it has one.
    pub fn name(&self) -> Option<&Word> {
        self.header.words.get(1)
    }
}

/// A whole config, all `-f` files read in order as one text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigAst {
    pub sections: Vec<Section>,
}
