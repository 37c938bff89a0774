//! The rule keywords of proxies whose grammar lives in other modules: ACL declarations and
//! `if`/`unless` conditions (the sample lowering), `http-request`/`http-response`/
//! `redirect`/`errorfile`/`capture` (the HTTP rules lowering, through [`RuleCx`]) and
//! `tcp-request`/`tcp-response` (the TCP rules lowering). This module feeds them the
//! proxy's ACLs and environment and files their results into the draft.

use crate::ast::{Line, Word};
use crate::ir;
use crate::span::Span;

use super::proxy::ProxyDraft;
use super::{units, Cx};

/// Compile `if|unless …` (the words start there) against this proxy's ACLs so far.
pub fn condition(
    cx: &mut Cx,
    d: &ProxyDraft,
    words: &[Word],
) -> Result<Option<ir::sample::Condition>, super::sample::CondError> {
    match super::sample::parse_condition(words, &d.acls, cx.env, cx.diags) {
        None => Ok(None),
        Some(r) => r.map(Some),
    }
}

/// HAProxy's parse-time warnings for a rule whose condition uses fetches that cannot work
/// where the rule is evaluated (`acl 'a' will never match because …`). `rule_words` are
/// the rule's first words (`["use_backend"]`, `["tcp-request", "content"]`).
pub fn check_usage(
    cx: &mut Cx,
    d: &ProxyDraft,
    rule_words: &[&str],
    cond: &ir::sample::Condition,
    span: &Span,
) {
    let backend_side = d.kind == crate::ast::SectionKind::Backend;
    for diag in
        super::sample::check_rule_condition(rule_words, cond, &d.acls.acls, backend_side, span)
    {
        cx.diags.push(diag);
    }
}

pub fn acl(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    match super::sample::parse_acl_line(args, &line.span, cx.env, cx.diags) {
        Ok((name, term)) => {
            d.acls.declare(&name, term);
        }
        Err(diag) => cx.diags.push(diag),
    }
}

/// `http-request`, `http-response`, `redirect`, `errorfile`, `capture`…: lowered by the
/// HTTP rules module ([`super::http_rules`]) with this proxy's ACLs and the sample compiler.
pub fn delegated_http(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    use super::http_rules as hr;
    let kw = line.keyword();
    if matches!(kw, "http-request" | "redirect") && !d.switching.is_empty() {
        cx.warn(
            &line.span,
            format!(
                "a '{kw}' rule placed after a 'use_backend' rule will still be processed before."
            ),
        );
    } else if kw == "http-request" && !d.http.redirects.is_empty() {
        cx.warn(
            &line.span,
            "a 'http-request' rule placed after a 'redirect' rule will still be processed before.",
        );
    }
    if kw == "http-error" {
        http_error(cx, line, args);
        return;
    }
    if matches!(
        kw,
        "errorfiles" | "errorloc" | "errorloc302" | "errorloc303"
    ) {
        if args.is_empty() {
            cx.alert(&line.span, format!("{kw} : <code> and <url> expected."));
        } else {
            cx.unimplemented(&line.span, kw);
        }
        return;
    }
    let scope = std::mem::take(&mut d.acls);
    let result = {
        let mut rc = RuleCx {
            cx: &mut *cx,
            scope: &scope,
            kind: d.type_name(),
            backend_side: d.kind == crate::ast::SectionKind::Backend,
            name: &d.name,
            rule: format!(
                "{kw} {}",
                args.first().map(|w| w.text.as_str()).unwrap_or("")
            ),
            point: if kw == "http-response" || kw == "http-after-response" {
                super::sample::UsePoint::HttpResponse
            } else {
                super::sample::UsePoint::HttpRequest
            },
        };
        match kw {
            "http-request" => hr::lower_http_request(line, &mut rc).map(|r| d.http.request.push(r)),
            "http-response" => {
                hr::lower_http_response(line, &mut rc).map(|r| d.http.response.push(r))
            }
            "redirect" => hr::lower_redirect(line, &mut rc).map(|r| d.http.redirects.push(r)),
            "errorfile" => hr::lower_errorfile(line, &mut rc).map(|(code, raw)| {
                d.http
                    .error_files
                    .push((code, ir::http::bytes_like::RawResponse(raw)))
            }),
            "capture" => hr::lower_capture(line).map(|(side, cap)| match side {
                hr::CaptureSide::Request => d.http.capture_request.push(cap),
                hr::CaptureSide::Response => d.http.capture_response.push(cap),
            }),
            "http-after-response" => Err(crate::diag::Diagnostic::unimplemented(
                &line.span,
                "http-after-response",
            )),
            _ => Err(crate::diag::Diagnostic::unimplemented(&line.span, kw)),
        }
    };
    d.acls = scope;
    if let Err(diag) = result {
        let unimplemented = diag.unimplemented;
        let is_alert = diag.level == crate::diag::Level::Alert;
        cx.diags.push(diag);
        if unimplemented && kw != "capture" && kw != "errorloc" {
            // Running without this rule would not be what the config says.
            cx.refused.push(ir::Refusal {
                keyword: format!(
                    "{kw} {}",
                    args.first().map(|w| w.text.as_str()).unwrap_or("")
                )
                .trim()
                .to_string(),
                span: line.span.clone(),
            });
        }
        if is_alert && matches!(kw, "http-request" | "http-response" | "http-after-response") {
            // HAProxy stops reading the file after a bad HTTP rule (ERR_ABORT).
            cx.abort = true;
            cx.diags.aborted = true;
        }
    }
}

/// `http-error status N [content-type T] [errorfile F | file F | lf-file F | string S …]`:
/// the files must exist; the responses themselves are not implemented yet.
fn http_error(cx: &mut Cx, line: &Line, args: &[Word]) {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].text.as_str();
        if matches!(a, "errorfile" | "file" | "lf-file") {
            if let Some(f) = args.get(i + 1) {
                if cx.env.read_file(std::path::Path::new(&f.text)).is_err() {
                    cx.alert(
                        &line.span,
                        format!("http-error : error opening file '{}'", f.text),
                    );
                    return;
                }
            }
        }
        i += 1;
    }
    cx.unimplemented(&line.span, "http-error");
}

/// Keywords that only make sense with `if|unless COND` (`force-persist`, `monitor fail`…):
/// the condition is compiled; the keyword itself is reported by the table's status.
pub fn required_condition(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word], name: &str) {
    let (_, cond) = super::sample::split_condition(args);
    if name == "monitor fail" && !d.http.request.is_empty() {
        cx.warn(
            &line.span,
            "a 'monitor fail' rule placed after an 'http-request' rule will still be processed before.",
        );
    }
    if cond.is_empty() {
        cx.alert(
            &line.span,
            format!("'{name}' requires either 'if' or 'unless' followed by a condition."),
        );
        return;
    }
    match condition(cx, d, cond) {
        Err(e) => cx
            .diags
            .push(e.diagnostic(&format!("error detected while parsing a '{name}' rule"))),
        Ok(Some(c)) => {
            let words: Vec<&str> = name.split_whitespace().collect();
            check_usage(cx, d, &words, &c, &line.span);
        }
        Ok(None) => {}
    }
}

/// The proxy side of [`super::http_rules::RuleCtx`]: conditions, log-format strings and
/// sample expressions compiled with the sample lowering, files read through the environment.
struct RuleCx<'c, 'e> {
    cx: &'c mut Cx<'e>,
    scope: &'c super::sample::AclScope,
    kind: &'static str,
    backend_side: bool,
    name: &'c str,
    rule: String,
    point: super::sample::UsePoint,
}

impl super::http_rules::RuleCtx for RuleCx<'_, '_> {
    fn condition(
        &mut self,
        words: &[Word],
    ) -> Result<ir::sample::Condition, crate::diag::Diagnostic> {
        match super::sample::parse_condition(words, self.scope, self.cx.env, self.cx.diags) {
            Some(Ok(c)) => {
                let rule_words: Vec<&str> = self.rule.split_whitespace().collect();
                if let Some(first) = words.first() {
                    for diag in super::sample::check_rule_condition(
                        &rule_words,
                        &c,
                        &self.scope.acls,
                        self.backend_side,
                        &first.span,
                    ) {
                        self.cx.diags.push(diag);
                    }
                }
                Ok(c)
            }
            Some(Err(e)) => Err(e.diagnostic(&format!(
                "error detected while parsing an '{}' condition",
                self.rule
            ))),
            None => Err(crate::diag::Diagnostic::alert(
                &words
                    .first()
                    .map(|w| w.span.clone())
                    .unwrap_or_else(|| Span::new("".into(), 0, 0)),
                "expects 'if' or 'unless' before a condition.",
            )),
        }
    }
    fn log_format(
        &mut self,
        word: &Word,
    ) -> Result<ir::sample::LogFormatExpr, crate::diag::Diagnostic> {
        super::sample::parse_log_format(&word.text, Some(self.point), self.cx.env).map_err(|m| {
            super::sample::rule_error(&word.span, self.kind, self.name, &self.rule, &m)
        })
    }
    fn sample(&mut self, word: &Word) -> Result<ir::sample::SampleExpr, crate::diag::Diagnostic> {
        super::sample::parse_sample_expr_bare(&word.text, self.cx.env).map_err(|m| {
            super::sample::rule_error(
                &word.span,
                self.kind,
                self.name,
                &self.rule,
                &format!("{m}."),
            )
        })
    }
    fn read_file(&mut self, word: &Word) -> Result<Vec<u8>, crate::diag::Diagnostic> {
        let path = std::path::Path::new(&word.text);
        self.cx.env.read_file(path).map_err(|_| {
            if self.rule.starts_with("errorfile") {
                crate::diag::Diagnostic::alert(
                    &word.span,
                    format!("errorfile : error opening file '{}'.", word.text),
                )
            } else {
                super::sample::rule_error(
                    &word.span,
                    self.kind,
                    self.name,
                    self.rule.trim(),
                    &format!("error opening file '{}'.", word.text),
                )
            }
        })
    }
}

/// `tcp-request`, `tcp-response`: lowered by the TCP rules module (see [`delegated_http`]).
pub fn delegated_tcp(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let sub = args.first().map(|w| w.text.as_str());
    if line.keyword() == "tcp-request"
        && matches!(sub, Some("connection" | "session"))
        && !d.tcp_request_content.is_empty()
    {
        cx.warn(&line.span, "a 'tcp-request' rule placed after a 'tcp-request content' rule will still be processed before.");
    } else if line.keyword() == "tcp-request"
        && sub != Some("inspect-delay")
        && !d.http.request.is_empty()
    {
        cx.warn(&line.span, "a 'tcp-request' rule placed after an 'http-request' rule will still be processed before.");
    }
    if args.first().map(|w| w.text.as_str()) == Some("inspect-delay") {
        match args.get(1).map(|w| units::parse_time_ms(&w.text)) {
            Some(Ok(t)) => d.inspect_delay = Some(t),
            _ => cx.alert(
                &line.span,
                format!(
                    "'{} inspect-delay' expects a positive delay in milliseconds, in proxy '{}'",
                    line.keyword(),
                    d.name
                ),
            ),
        }
        return;
    }
    if line.keyword() == "tcp-request" {
        super::tcp_rules::tcp_request(cx, d, line, args);
        return;
    }
    delegated_condition(cx, d, line, args);
}

/// For the TCP rules module: actions it does not run (`tcp-request session`).
pub fn delegated_condition_pub(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    delegated_condition(cx, d, line, args);
}

/// Rules lowered elsewhere (TCP rules until merged): their condition is compiled here.
fn delegated_condition(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let kw = line.keyword();
    let (_, cond) = super::sample::split_condition(args);
    let parsed = condition(cx, d, cond);
    if let Ok(Some(c)) = &parsed {
        let sub = args.first().map(|w| w.text.as_str()).unwrap_or("");
        check_usage(cx, d, &[kw, sub], c, &line.span);
    }
    if let Err(e) = parsed {
        let rule = format!(
            "{kw} {}",
            args.iter()
                .take(2)
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
        cx.diags.push(e.diagnostic_tcp(
            &rule,
            d.type_name(),
            &d.name,
            cond.first().map(|w| w.text.as_str()).unwrap_or("if"),
        ));
        return;
    }
    // The TCP rule module lowers the action; until it is merged the rule is not run.
    cx.refuse(
        &line.span,
        &format!(
            "{kw} {}",
            args.iter()
                .take(2)
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );
}
