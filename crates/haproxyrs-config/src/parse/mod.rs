//! Lexer and preprocessor: config text → [`crate::ast::ConfigAst`].
//!
//! Owns HAProxy's line grammar: `#` comments, quotes, backslash escapes, `"$VAR"`
//! expansion, `.if/.elif/.else/.endif` and the `.diag/.notice/.warning/.alert` directives,
//! several files read as one config, and section headers. Keywords are not interpreted
//! here: lowering does that.
//!
//! # Layout
//! - [`source`]: file bytes → numbered raw lines (NUL bytes, missing LF).
//! - [`lexer`]: one line → words with columns.
//! - [`expand`]: `$VAR`, `${VAR}`, `${VAR[*]}` references.
//! - [`cond`]: the `.if` predicate language (also `-cc`).
//! - this file: files and directories, directives, `.if` blocks, sections.

pub mod cond;
pub mod expand;
pub mod lexer;
pub mod source;

use std::fmt::Display;
use std::io;
use std::path::Path;
use std::sync::Arc;

use crate::ast::{ConfigAst, Line, Section, SectionKind, Word};
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::env::Environment;
use crate::span::Span;

/// HAProxy refuses the 100th nested `.if`.
const MAX_NESTED_CONDS: usize = 100;

/// The text of an I/O error as `strerror()` words it.
pub fn strerror(e: &io::Error) -> String {
    if e.raw_os_error().is_some() {
        let s = e.to_string();
        return match s.find(" (os error") {
            Some(i) => s[..i].to_string(),
            None => s,
        };
    }
    match e.kind() {
        io::ErrorKind::NotFound => "No such file or directory".into(),
        io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

/// The config files the `-f` paths stand for, in order: a file as given, a directory's
/// non-hidden `*.cfg` files sorted bytewise (named `DIR/NAME`, as HAProxy names them).
pub fn config_files(paths: &[String], env: &dyn Environment) -> Result<Vec<String>, Diagnostic> {
    let mut files = Vec::new();
    for p in paths {
        match env.config_dir(Path::new(p)) {
            None => files.push(p.clone()),
            Some(Ok(names)) => files.extend(names.into_iter().map(|n| format!("{p}/{n}"))),
            Some(Err(e)) => {
                return Err(Diagnostic::new(
                    Level::Alert,
                    format!(
                        "Cannot open configuration file/directory {p} : {}",
                        strerror(&e)
                    ),
                ))
            }
        }
    }
    Ok(files)
}

/// Read every path (a file, or a directory's `*.cfg` files in lexical order) as one config.
pub fn parse_paths(paths: &[String], env: &dyn Environment) -> (ConfigAst, Diagnostics) {
    let mut ast = ConfigAst::default();
    let mut diags = Diagnostics::default();
    let files = match config_files(paths, env) {
        Ok(f) => f,
        Err(d) => {
            diags.push(d);
            diags.aborted = true;
            return (ast, diags);
        }
    };
    for file in files {
        let bytes = match env.read_file(Path::new(&file)) {
            Ok(b) => b,
            Err(e) => {
                let text = if e.kind() == io::ErrorKind::NotFound {
                    format!(
                        "Cannot open configuration file/directory {file} : {}",
                        strerror(&e)
                    )
                } else {
                    format!(
                        "Could not open configuration file {file} : {}",
                        strerror(&e)
                    )
                };
                diags.push(Diagnostic::new(Level::Alert, text));
                diags.aborted = true;
                return (ast, diags);
            }
        };
        let flow = parse_text(&file, &bytes, env, &mut ast, &mut diags);
        if flow == Flow::Abort {
            diags.aborted = true;
            break;
        }
    }
    (ast, diags)
}

/// Parse one file's text into `ast` (sections appended); messages go to `diags`.
/// Returns [`Flow::Abort`] when HAProxy would stop reading the configuration.
pub fn parse_text(
    file: &str,
    bytes: &[u8],
    env: &dyn Environment,
    ast: &mut ConfigAst,
    diags: &mut Diagnostics,
) -> Flow {
    let mut p = FileParser {
        file: Arc::from(file),
        env,
        diags,
        current: None,
        conds: Vec::new(),
        sections: Vec::new(),
        out_cap: 0,
    };
    let flow = p.run(bytes);
    ast.sections.append(&mut p.sections);
    flow
}

/// Whether reading goes on after a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop reading this file only (stray NUL byte).
    StopFile,
    /// Stop reading the whole configuration (HAProxy's ERR_ABORT).
    Abort,
}

/// Evaluate a `.if`-style condition, for `-cc`. `Err` carries HAProxy's message.
pub fn eval_condition(expr: &str, env: &dyn Environment) -> Result<bool, String> {
    cond::eval(expr, env).map_err(|e| e.msg)
}

/// One open `.if` block.
#[derive(Clone, Copy, Debug)]
struct CondFrame {
    /// Lines of the current branch are kept.
    active: bool,
    /// A branch was already taken (or the whole block sits in a skipped region).
    taken: bool,
    seen_else: bool,
}

struct FileParser<'a> {
    file: Arc<str>,
    env: &'a dyn Environment,
    diags: &'a mut Diagnostics,
    current: Option<Section>,
    conds: Vec<CondFrame>,
    sections: Vec<Section>,
    /// The size HAProxy's per-file output line buffer has grown to.
    out_cap: usize,
}

impl FileParser<'_> {
    fn span(&self, line: u32, col: usize) -> Span {
        Span::new(
            self.file.clone(),
            line,
            u32::try_from(col.max(1)).unwrap_or(u32::MAX),
        )
    }

    /// A message in HAProxy's preprocessor shape: `parsing [file:line]: text`.
    fn message(&mut self, level: Level, line: u32, col: usize, text: impl Display) {
        let span = self.span(line, col);
        self.diags.push(Diagnostic {
            level,
            text: format!("parsing [{span}]: {text}"),
            span: Some(span),
            help: None,
            unimplemented: false,
        });
    }

    fn active(&self) -> bool {
        self.conds.last().is_none_or(|c| c.active)
    }

    fn run(&mut self, bytes: &[u8]) -> Flow {
        let mut last_line = 0;
        let mut flow = Flow::Continue;
        for raw in source::lines(bytes) {
            last_line = raw.number;
            flow = self.line(raw.number, raw.content);
            if flow == Flow::Abort {
                if let Some(s) = self.current.take() {
                    self.sections.push(s);
                }
                return Flow::Abort;
            }
            if let Some(pos) = raw.missing_lf {
                if raw.more_after {
                    self.message(
                        Level::Alert,
                        raw.number,
                        pos,
                        format_args!("Stray NUL character at position {pos}."),
                    );
                    flow = Flow::StopFile;
                    break;
                }
                self.message(
                    Level::Alert,
                    raw.number,
                    pos,
                    format_args!(
                        "Missing LF on last line, file might have been truncated at position {pos}."
                    ),
                );
            }
        }
        if let Some(s) = self.current.take() {
            self.sections.push(s);
        }
        if !self.conds.is_empty() {
            self.message(Level::Alert, last_line, 1, "non-terminated '.if' block.");
            return Flow::Abort;
        }
        flow
    }

    fn line(&mut self, number: u32, content: &[u8]) -> Flow {
        let lexed = match lexer::lex(content, self.env) {
            Ok(w) => w,
            Err(e) => {
                self.message(Level::Alert, number, e.position(), &e);
                return Flow::Continue;
            }
        };
        // HAProxy 2.6 parses a line twice when its output buffer must grow (always on a
        // file's first line), and its first pass has already cut the input at the `}` of
        // a `${NAME-default}`: the second pass then refuses the reference.
        if lexed.out_len > self.out_cap {
            self.out_cap = lexed.out_len.div_ceil(1024) * 1024;
            if let Some(pos) = lexed.default_brace {
                self.message(Level::Alert, number, pos, lexer::LexError::EnvBrace(pos));
                return Flow::Continue;
            }
        }
        let words = lexed.words;
        let Some(first) = words.first() else {
            return Flow::Continue;
        };
        if first.text.starts_with('.') {
            return self.directive(number, &words);
        }
        if !self.active() {
            return Flow::Continue;
        }
        let line = Line {
            span: self.span(number, first.col as usize),
            words: words
                .into_iter()
                .map(|w| Word {
                    span: self.span(number, w.col as usize),
                    text: w.text,
                })
                .collect(),
        };
        if let Some(kind) = SectionKind::from_keyword(line.keyword()) {
            if let Some(s) = self.current.take() {
                self.sections.push(s);
            }
            self.current = Some(Section {
                kind,
                header: line,
                lines: Vec::new(),
            });
        } else if let Some(section) = self.current.as_mut() {
            section.lines.push(line);
        } else {
            let kw = line.keyword().to_string();
            let span = line.span.clone();
            self.diags.push(Diagnostic {
                level: Level::Alert,
                text: format!("parsing [{span}]: unknown keyword '{kw}' out of section."),
                help: suggest_section(&kw),
                span: Some(span),
                unimplemented: false,
            });
        }
        Flow::Continue
    }

    fn directive(&mut self, number: u32, words: &[lexer::LexWord]) -> Flow {
        let name = words[0].text.as_str();
        match name {
            ".if" => self.cond_if(number, words),
            ".elif" => self.cond_elif(number, words),
            ".else" | ".endif" => {
                if let Some(extra) = words.get(1) {
                    self.message(
                        Level::Alert,
                        number,
                        extra.col as usize,
                        format_args!("Unexpected argument '{}' for '{name}'.", extra.text),
                    );
                    // This error, unlike the others, still reports the open block.
                    if !self.conds.is_empty() {
                        self.message(Level::Alert, number, 1, "non-terminated '.if' block.");
                    }
                    return Flow::Abort;
                }
                if self.conds.is_empty() {
                    self.message(
                        Level::Alert,
                        number,
                        words[0].col as usize,
                        format_args!("lone '{name}' with no matching '.if'."),
                    );
                    return Flow::Abort;
                }
                if name == ".endif" {
                    self.conds.pop();
                    return Flow::Continue;
                }
                let parent_active = self.parent_active();
                let top = self.conds.last_mut().expect("checked non-empty");
                if top.seen_else {
                    self.message(
                        Level::Alert,
                        number,
                        words[0].col as usize,
                        "'.else' after '.else' is not permitted.",
                    );
                    return Flow::Abort;
                }
                top.seen_else = true;
                top.active = parent_active && !top.taken;
                top.taken = true;
                Flow::Continue
            }
            _ if !self.active() => Flow::Continue,
            ".diag" | ".notice" | ".warning" | ".alert" => {
                if let Some(extra) = words.get(2) {
                    self.message(
                        Level::Alert,
                        number,
                        extra.col as usize,
                        format_args!(
                            "Unexpected argument '{}' for '{name}'. Use quotes if the message should contain spaces.",
                            extra.text
                        ),
                    );
                    return Flow::Continue;
                }
                let level = match name {
                    ".diag" => Level::Diag,
                    ".notice" => Level::Notice,
                    ".warning" => Level::Warning,
                    _ => Level::Alert,
                };
                let text = words.get(1).map_or("", |w| w.text.as_str());
                // The user's own message: no source excerpt under it.
                let span = self.span(number, words[0].col as usize);
                self.diags.push(Diagnostic::new(
                    level,
                    format!("parsing [{span}]: '{text}'."),
                ));
                // `.alert` stops reading the configuration, as in HAProxy.
                if level == Level::Alert {
                    Flow::Abort
                } else {
                    Flow::Continue
                }
            }
            _ => {
                self.message(
                    Level::Alert,
                    number,
                    words[0].col as usize,
                    format_args!("unknown directive '{name}'."),
                );
                if let (Some(d), Some(hint)) =
                    (self.diags.items.last_mut(), suggest(name, &DIRECTIVES))
                {
                    d.help = Some(hint);
                }
                Flow::Continue
            }
        }
    }

    /// Whether the enclosing block (around the innermost `.if`) keeps its lines.
    fn parent_active(&self) -> bool {
        let n = self.conds.len();
        n < 2 || self.conds[n - 2].active
    }

    fn cond_if(&mut self, number: u32, words: &[lexer::LexWord]) -> Flow {
        if self.conds.len() + 1 >= MAX_NESTED_CONDS {
            self.message(
                Level::Alert,
                number,
                words[0].col as usize,
                format_args!("too many nested '.if', max is {MAX_NESTED_CONDS}."),
            );
            return Flow::Abort;
        }
        if !self.active() {
            self.conds.push(CondFrame {
                active: false,
                taken: true,
                seen_else: false,
            });
            return Flow::Continue;
        }
        let Some(value) = self.condition(number, words) else {
            return Flow::Abort;
        };
        self.conds.push(CondFrame {
            active: value,
            taken: value,
            seen_else: false,
        });
        Flow::Continue
    }

    fn cond_elif(&mut self, number: u32, words: &[lexer::LexWord]) -> Flow {
        let Some(top) = self.conds.last().copied() else {
            self.message(
                Level::Alert,
                number,
                words[0].col as usize,
                "lone '.elif' with no matching '.if'.",
            );
            return Flow::Abort;
        };
        if top.seen_else {
            self.message(
                Level::Alert,
                number,
                words[0].col as usize,
                "'.elif' after '.else' is not permitted.",
            );
            return Flow::Abort;
        }
        if top.taken || !self.parent_active() {
            if let Some(t) = self.conds.last_mut() {
                t.active = false;
            }
            return Flow::Continue;
        }
        let Some(value) = self.condition(number, words) else {
            return Flow::Abort;
        };
        if let Some(t) = self.conds.last_mut() {
            t.active = value;
            t.taken = value;
        }
        Flow::Continue
    }

    /// Evaluate the words after `.if`/`.elif`, joined by single spaces as HAProxy does.
    fn condition(&mut self, number: u32, words: &[lexer::LexWord]) -> Option<bool> {
        let expr = words[1..]
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        match cond::eval(&expr, self.env) {
            Ok(v) => Some(v),
            Err(e) => {
                let col = column_in_words(&words[1..], e.pos).unwrap_or(words[0].col as usize);
                self.message(
                    Level::Alert,
                    number,
                    col,
                    format_args!(
                        "{} in '{}' at position {}:",
                        e.msg,
                        words[0].text,
                        e.pos + 1
                    ),
                );
                None
            }
        }
    }
}

/// Maps an offset in the space-joined words back to a column of the line.
fn column_in_words(words: &[lexer::LexWord], pos: usize) -> Option<usize> {
    let mut offset = 0;
    let mut last = None;
    for w in words {
        let len = w.text.len();
        if pos <= offset + len {
            return Some(w.col as usize + (pos - offset));
        }
        offset += len + 1;
        last = Some(w.col as usize + len);
    }
    last
}

/// The preprocessor's directives.
const DIRECTIVES: [&str; 8] = [
    ".if", ".elif", ".else", ".endif", ".diag", ".notice", ".warning", ".alert",
];

/// "did you mean" for a keyword found outside any section.
fn suggest_section(word: &str) -> Option<String> {
    let kinds: Vec<&str> = SectionKind::ALL.iter().map(|k| k.keyword()).collect();
    suggest(word, &kinds)
}

/// The closest candidate within two edits, as a help text.
fn suggest(word: &str, candidates: &[&str]) -> Option<String> {
    if word.len() <= 2 {
        return None;
    }
    candidates
        .iter()
        .map(|k| (edit_distance(word, k), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!("did you mean '{k}'?"))
}

/// Levenshtein distance between two short words.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests;
