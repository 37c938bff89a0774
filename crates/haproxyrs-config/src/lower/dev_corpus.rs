//! Test-only: a tiny line splitter standing in for the real parser, so lowering can be run
//! over the shared corpus from unit tests. Temporary — the real parser lives in `parse/`,
//! and the corpus parity test proper (`tests/corpus.rs`) runs the built binary.

use std::sync::Arc;

use crate::ast::{ConfigAst, Line, Section, SectionKind, Word};
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::span::Span;

/// Split `text` into sections, lines and words (quotes and `#` comments handled roughly;
/// `"${VAR}"` expanded from the process environment).
pub fn split(file: &str, text: &str, diags: &mut Diagnostics) -> ConfigAst {
    let file: Arc<str> = Arc::from(file);
    let mut ast = ConfigAst::default();
    let mut current: Option<Section> = None;
    let n_lines = text.split('\n').count();
    for (i, raw) in text.split('\n').enumerate() {
        let lineno = (i + 1) as u32;
        if i + 1 == n_lines {
            if !raw.is_empty() {
                diags.push(Diagnostic::new(Level::Alert, format!("parsing [{file}:{lineno}]: Missing LF on last line, file might have been truncated at position {}.", raw.len() + 1)));
            } else {
                break;
            }
        }
        let words = words(raw, &file, lineno);
        if words.is_empty() {
            continue;
        }
        let line = Line {
            span: words[0].span.clone(),
            words,
        };
        if let Some(kind) = SectionKind::from_keyword(line.keyword()) {
            if let Some(s) = current.take() {
                ast.sections.push(s);
            }
            current = Some(Section {
                kind,
                header: line,
                lines: Vec::new(),
            });
        } else if let Some(s) = current.as_mut() {
            s.lines.push(line);
        } else {
            diags.push(Diagnostic::new(
                Level::Alert,
                format!(
                    "parsing [{file}:{lineno}]: unknown keyword '{}' out of section.",
                    line.keyword()
                ),
            ));
        }
    }
    if let Some(s) = current.take() {
        ast.sections.push(s);
    }
    ast
}

fn words(raw: &str, file: &Arc<str>, line: u32) -> Vec<Word> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = None;
    let mut quote: Option<char> = None;
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '$' => {
                let rest: String = chars[i + 1..].iter().collect();
                let (name, used) = if let Some(r) = rest.strip_prefix('{') {
                    let end = r.find('}').unwrap_or(r.len());
                    (r[..end].to_string(), end + 2)
                } else {
                    let end = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    (rest[..end].to_string(), end)
                };
                cur.push_str(&std::env::var(&name).unwrap_or_default());
                i += used;
            }
            Some(_) => cur.push(c),
            None => match c {
                '#' => break,
                ' ' | '\t' | '\r' => {
                    if let Some(s) = start.take() {
                        out.push(Word {
                            text: std::mem::take(&mut cur),
                            span: Span::new(file.clone(), line, s),
                        });
                    }
                    i += 1;
                    continue;
                }
                '"' | '\'' => quote = Some(c),
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    cur.push(chars[i]);
                }
                _ => cur.push(c),
            },
        }
        if start.is_none() {
            start = Some((i + 1) as u32);
        }
        i += 1;
    }
    if let Some(s) = start {
        out.push(Word {
            text: cur,
            span: Span::new(file.clone(), line, s),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::SystemEnv;

    /// Runs lowering over the shared corpus and prints the disagreements (dev aid).
    #[test]
    fn corpus_dev() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = ["../shared/haproxy-corpus", "../../shared/haproxy-corpus"]
            .iter()
            .map(|p| root.join(p))
            .find(|p| p.is_dir());
        let Some(dir) = dir else {
            eprintln!("corpus not found: skipped");
            return;
        };
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
        let cfg = dir.join("cfg");
        let (mut agree, mut total) = (0, 0);
        for row in manifest.lines().skip(1) {
            let f: Vec<&str> = row.split('\t').collect();
            let (file, exit, lines, cause) = (f[0], f[4], f[5], f[6]);
            if std::env::var("ONLY")
                .map(|o| !file.starts_with(&o))
                .unwrap_or(false)
            {
                continue;
            }
            total += 1;
            let text = std::fs::read_to_string(cfg.join(file)).unwrap_or_default();
            let mut diags = Diagnostics::default();
            let ast = split(file, &text, &mut diags);
            let cwd = std::env::current_dir().unwrap();
            std::env::set_current_dir(&cfg).unwrap();
            let config = super::super::lower(&ast, &SystemEnv, &mut diags);
            std::env::set_current_dir(cwd).unwrap();
            let rc = match &config {
                None => 1,
                Some(c) if !c.has_listeners() => 2,
                Some(_) => 0,
            };
            let want: Vec<u32> = lines.split(',').filter_map(|l| l.parse().ok()).collect();
            let ours: Vec<u32> = diags
                .items
                .iter()
                .filter(|d| d.level == Level::Alert)
                .filter_map(|d| {
                    d.text
                        .find(&format!("{file}:"))
                        .map(|p| &d.text[p + file.len() + 1..])
                        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
                })
                .collect();
            let ok = rc.to_string() == exit
                && (want.is_empty() || ours.iter().any(|l| want.contains(l)));
            if ok {
                agree += 1;
            } else {
                eprintln!("DIFF {file} [{cause}] want rc={exit} lines={lines}; got rc={rc} lines={ours:?}");
                for d in diags.items.iter().filter(|d| d.level >= Level::Warning) {
                    eprintln!("    {:?} {}", d.level, d.text.lines().next().unwrap_or(""));
                }
            }
        }
        eprintln!("{agree}/{total} agree");
        assert!(
            agree * 2 >= total,
            "lowering agrees with HAProxy on fewer than half the corpus"
        );
    }
}
