//! Conditions: the words after a rule's `if` / `unless` → [`Condition`].
//!
//! HAProxy's grammar: terms separated by blanks are AND'ed; `||` or `or` starts a new AND
//! group (so AND binds tighter and there are no parentheses); `!` before a term negates it
//! (twice cancels); `{ criterion [flags] patterns }` is an anonymous ACL; a name is a
//! declared ACL (declared above the rule) or a predefined one (`TRUE`, `METH_GET`…).

use crate::ast::Word;
use crate::diag::{Diagnostic, Diagnostics};
use crate::env::Environment;
use crate::ir::sample::{AclRef, CondTerm, Condition, PredefinedAcl};
use crate::span::Span;

use super::acl::{parse_acl_term, AclScope};

/// A condition that did not parse: HAProxy's inner message and the word it is about.
/// The caller frames it for its rule ([`CondError::diagnostic`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondError {
    /// E.g. `no such ACL : 'x'`, `missing closing '}' in condition`.
    pub msg: String,
    pub span: Span,
}

impl CondError {
    /// `parsing [file:line] : {context} : {msg}.` — e.g. context `error detected while
    /// parsing switching rule` or `error detected while parsing an 'http-request deny'
    /// condition` (HAProxy's wordings for `use_backend` and `http-request` rules).
    pub fn diagnostic(&self, context: &str) -> Diagnostic {
        let msg = self.msg.trim_end_matches('.');
        Diagnostic::alert(&self.span, format!("{context} : {msg}."))
    }

    /// The framing HAProxy uses for `tcp-request` rules (no final period):
    /// `'tcp-request content reject' : error detected in frontend 'fe' while parsing 'if'
    /// condition : no such ACL : 'x'`.
    pub fn diagnostic_tcp(
        &self,
        rule: &str,
        proxy_kind: &str,
        proxy: &str,
        kw: &str,
    ) -> Diagnostic {
        let msg = self.msg.trim_end_matches('.');
        Diagnostic::alert(
            &self.span,
            format!(
                "'{rule}' : error detected in {proxy_kind} '{proxy}' while parsing '{kw}' condition : {msg}"
            ),
        )
    }
}

/// Parse `if|unless term…`. `words[0]` must be `if` or `unless`; `None` when it is
/// neither (the rule has no condition there).
pub fn parse_condition(
    words: &[Word],
    acls: &AclScope,
    env: &dyn Environment,
    diags: &mut Diagnostics,
) -> Option<Result<Condition, CondError>> {
    let first = words.first()?;
    let unless = match first.text.as_str() {
        "if" => false,
        "unless" => true,
        _ => return None,
    };
    Some(parse_terms(
        &words[1..],
        unless,
        &first.span,
        acls,
        env,
        diags,
    ))
}

fn parse_terms(
    words: &[Word],
    unless: bool,
    span: &Span,
    acls: &AclScope,
    env: &dyn Environment,
    diags: &mut Diagnostics,
) -> Result<Condition, CondError> {
    let mut alternatives: Vec<Vec<CondTerm>> = Vec::new();
    let mut current: Vec<CondTerm> = Vec::new();
    let mut negated = false;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        // `!{` opens a negated anonymous ACL (HAProxy accepts it).
        let text = match w.text.strip_prefix('!') {
            Some(rest) if rest.trim_start_matches('!') == "{" => {
                if (w.text.len() - 1) % 2 == 1 {
                    negated = !negated;
                }
                "{"
            }
            _ => w.text.as_str(),
        };
        match text {
            "!" => {
                negated = !negated;
                i += 1;
                continue;
            }
            "||" | "or" => {
                if !current.is_empty() {
                    alternatives.push(std::mem::take(&mut current));
                }
                negated = false;
                i += 1;
                continue;
            }
            "{" => {
                let Some(close) = words[i + 1..].iter().position(|w| w.text == "}") else {
                    return Err(CondError {
                        msg: "missing closing '}' in condition".into(),
                        span: w.span.clone(),
                    });
                };
                let inner = &words[i + 1..i + 1 + close];
                if inner.is_empty() {
                    return Err(CondError {
                        msg: "missing fetch method in ACL expression ''.".into(),
                        span: w.span.clone(),
                    });
                }
                let term = parse_acl_term(inner, env, diags)
                    .map_err(|(msg, span)| CondError { msg, span })?;
                current.push(CondTerm {
                    negated,
                    acl: AclRef::Anonymous(Box::new(term)),
                });
                i += close + 2;
            }
            word => {
                // `!name` is `! name`; each `!` toggles (`!!a` is `a`, as HAProxy).
                let name = word.trim_start_matches('!');
                if (word.len() - name.len()) % 2 == 1 {
                    negated = !negated;
                }
                if name.is_empty() {
                    i += 1;
                    continue;
                }
                let acl = if let Some(id) = acls.lookup(name) {
                    AclRef::Named(id)
                } else if let Some(p) = PredefinedAcl::from_name(name) {
                    AclRef::Predefined(p)
                } else {
                    return Err(CondError {
                        msg: format!("no such ACL : '{name}'"),
                        span: w.span.clone(),
                    });
                };
                current.push(CondTerm { negated, acl });
                i += 1;
            }
        }
        negated = false;
    }
    if !current.is_empty() {
        alternatives.push(current);
    }
    Ok(Condition {
        unless,
        alternatives,
        span: span.clone(),
    })
}

/// Split a rule's words at its condition: everything before the first `if`/`unless`
/// word, and the condition words from there (empty when the rule has none).
pub fn split_condition(words: &[Word]) -> (&[Word], &[Word]) {
    match words
        .iter()
        .position(|w| w.text == "if" || w.text == "unless")
    {
        Some(p) => (&words[..p], &words[p..]),
        None => (words, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::sample::AclId;
    use crate::lower::sample::test_env::{words, FakeEnv};

    fn scope() -> AclScope {
        let env = FakeEnv::default();
        let mut diags = Diagnostics::default();
        let mut s = AclScope::default();
        for (name, line) in [("a", "path /a"), ("b", "path /b"), ("a", "path /a2")] {
            let t = parse_acl_term(&words(line), &env, &mut diags).unwrap();
            s.declare(name, t);
        }
        s
    }

    fn cond(text: &str) -> Result<Condition, CondError> {
        let env = FakeEnv::default();
        let mut diags = Diagnostics::default();
        parse_condition(&words(text), &scope(), &env, &mut diags).unwrap()
    }

    fn shape(c: &Condition) -> String {
        c.alternatives
            .iter()
            .map(|alt| {
                alt.iter()
                    .map(|t| {
                        let name = match &t.acl {
                            AclRef::Named(AclId(i)) => format!("n{i}"),
                            AclRef::Anonymous(term) => format!("{{{}}}", term.keyword),
                            AclRef::Predefined(p) => p.name().to_string(),
                        };
                        if t.negated {
                            format!("!{name}")
                        } else {
                            name
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("&")
            })
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn and_or_not_and_anonymous() {
        assert_eq!(
            shape(&cond("if a b || !a or { path_beg /x } b").unwrap()),
            "n0&n1|!n0|{path_beg}&n1"
        );
        assert_eq!(shape(&cond("if ! ! a").unwrap()), "n0");
        assert_eq!(shape(&cond("if !!a ! !b").unwrap()), "n0&n1");
        assert_eq!(shape(&cond("if !a").unwrap()), "!n0");
        assert_eq!(shape(&cond("if !{ path /x } a").unwrap()), "!{path}&n0");
        assert_eq!(shape(&cond("if a ||").unwrap()), "n0");
        assert_eq!(shape(&cond("if || a").unwrap()), "n0");
        assert_eq!(shape(&cond("if a !").unwrap()), "n0");
        assert_eq!(shape(&cond("if METH_GET !TRUE").unwrap()), "METH_GET&!TRUE");
        let c = cond("unless a").unwrap();
        assert!(c.unless);
        assert!(cond("if").unwrap().alternatives.is_empty());
        // Same name twice: one ACL whose lines are OR'ed.
        assert_eq!(scope().acls[0].terms.len(), 2);
    }

    #[test]
    fn errors_match_haproxy() {
        let e = cond("if nope").unwrap_err();
        assert_eq!(e.msg, "no such ACL : 'nope'");
        assert!(e
            .diagnostic("error detected while parsing switching rule")
            .text
            .ends_with(" : error detected while parsing switching rule : no such ACL : 'nope'."));
        assert_eq!(
            cond("if { path foo").unwrap_err().msg,
            "missing closing '}' in condition"
        );
        assert_eq!(cond("if }").unwrap_err().msg, "no such ACL : '}'");
        assert_eq!(
            cond("if { path /x } { }")
                .unwrap_err()
                .diagnostic("ctx")
                .text,
            "parsing [t.cfg:1] : ctx : missing fetch method in ACL expression ''."
        );
        assert_eq!(
            cond("if { foo }").unwrap_err().msg,
            "unknown fetch method 'foo' in ACL expression 'foo'."
        );
        let tcp = cond("if nope").unwrap_err().diagnostic_tcp(
            "tcp-request content reject",
            "frontend",
            "fe",
            "if",
        );
        assert!(tcp.text.ends_with(
            "'tcp-request content reject' : error detected in frontend 'fe' while parsing 'if' condition : no such ACL : 'nope'"
        ));
    }

    #[test]
    fn split_at_if() {
        let w = words("use_backend be if a b");
        let (rule, c) = split_condition(&w);
        assert_eq!(rule.len(), 2);
        assert_eq!(c.len(), 3);
    }
}
