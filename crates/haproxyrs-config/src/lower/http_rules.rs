//! Lowering of the HTTP rule keywords: `http-request`, `http-response`, `redirect`,
//! `capture request|response header`, `errorfile`. Conditions, log-format strings and sample
//! expressions are compiled through [`RuleCtx`], which the proxy lowering implements with the
//! sample compiler, so this file only knows the rules' own grammar.
//!
//! Entry points return `Err(diagnostic)` for a refused line: an ALERT, or a NOTICE
//! (`Diagnostic::unimplemented`) for an action HAProxy knows that haproxyrs does not run;
//! the caller pushes it and keeps going.

use crate::ast::{Line, Word};
use crate::diag::{Diagnostic, Level};
use crate::ir::http::{
    HeaderCapture, HeaderOp, HttpRequestAction, HttpRequestRule, HttpResponseAction,
    HttpResponseRule, Redirect, RedirectKind, RedirectRule, ReturnBody, ReturnSpec,
};
use crate::ir::sample::{Condition, LogFormatExpr, SampleExpr};

/// What the rule lowering needs from the proxy being lowered.
pub trait RuleCtx {
    /// Compile `if|unless ...` (the words start at `if`/`unless`).
    fn condition(&mut self, words: &[Word]) -> Result<Condition, Diagnostic>;
    /// Compile a log-format string argument.
    fn log_format(&mut self, word: &Word) -> Result<LogFormatExpr, Diagnostic>;
    /// Compile a sample expression (`req.hdr(host),lower`).
    fn sample(&mut self, word: &Word) -> Result<SampleExpr, Diagnostic>;
    /// Read a file named by the config (`errorfile`, `return file`).
    fn read_file(&mut self, word: &Word) -> Result<Vec<u8>, Diagnostic>;
}

/// Status codes `errorfile` accepts in 2.6.
pub const ERRORFILE_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

fn alert(w: &Word, msg: impl AsRef<str>) -> Diagnostic {
    Diagnostic::parsing(Level::Alert, &w.span, msg)
}

/// Split a rule's words into the action part and the optional condition.
fn split_cond<'a>(
    words: &'a [Word],
    ctx: &mut dyn RuleCtx,
) -> Result<(&'a [Word], Option<Condition>), Diagnostic> {
    match words
        .iter()
        .position(|w| w.text == "if" || w.text == "unless")
    {
        Some(i) => Ok((&words[..i], Some(ctx.condition(&words[i..])?))),
        None => Ok((words, None)),
    }
}

fn status_arg(w: Option<&Word>, kw: &Word, what: &str) -> Result<u16, Diagnostic> {
    let w = w.ok_or_else(|| alert(kw, format!("'{}' expects {}.", kw.text, what)))?;
    w.text
        .parse::<u16>()
        .ok()
        .filter(|c| (100..=599).contains(c))
        .ok_or_else(|| {
            alert(
                w,
                format!("'{}' : invalid status code '{}'.", kw.text, w.text),
            )
        })
}

fn need<'a>(args: &'a [Word], i: usize, kw: &Word, what: &str) -> Result<&'a Word, Diagnostic> {
    args.get(i)
        .ok_or_else(|| alert(kw, format!("'{}' expects {} as argument.", kw.text, what)))
}

fn regex(w: &Word) -> Result<regex::Regex, Diagnostic> {
    regex::Regex::new(&w.text).map_err(|e| alert(w, format!("invalid regex '{}' : {}", w.text, e)))
}

/// The header-rewriting actions shared by `http-request` and `http-response`.
fn header_op(
    action: &Word,
    args: &[Word],
    ctx: &mut dyn RuleCtx,
) -> Result<Option<HeaderOp>, Diagnostic> {
    Ok(Some(match action.text.as_str() {
        "set-header" | "add-header" => {
            let name = need(args, 0, action, "<name> and <fmt>")?;
            let fmt = need(args, 1, action, "<name> and <fmt>")?;
            let value = ctx.log_format(fmt)?;
            let name = name.text.clone();
            if action.text == "set-header" {
                HeaderOp::Set { name, value }
            } else {
                HeaderOp::Add { name, value }
            }
        }
        "del-header" => HeaderOp::Del {
            name: need(args, 0, action, "<name>")?.text.clone(),
        },
        "replace-header" | "replace-value" => {
            let name = need(args, 0, action, "<name>, <regex> and <replace>")?;
            let regex = regex(need(args, 1, action, "<name>, <regex> and <replace>")?)?;
            let replace =
                ctx.log_format(need(args, 2, action, "<name>, <regex> and <replace>")?)?;
            let name = name.text.clone();
            if action.text == "replace-header" {
                HeaderOp::Replace {
                    name,
                    regex,
                    replace,
                }
            } else {
                HeaderOp::ReplaceValue {
                    name,
                    regex,
                    replace,
                }
            }
        }
        _ => return Ok(None),
    }))
}

/// Actions HAProxy 2.6 knows that haproxyrs parses but does not run (answered with a NOTICE).
const KNOWN_UNIMPLEMENTED: &[&str] = &[
    "tarpit",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "set-log-level",
    "set-nice",
    "set-tos",
    "set-mark",
    "use-service",
    "cache-use",
    "cache-store",
    "capture",
    "add-acl",
    "del-acl",
    "set-map",
    "del-map",
    "set-src",
    "set-src-port",
    "set-dst",
    "set-dst-port",
    "silent-drop",
    "reject",
    "wait-for-body",
    "wait-for-handshake",
    "early-hint",
    "normalize-uri",
    "set-timeout",
    "strict-mode",
    "unset-var",
    "sc-inc-gpc0",
    "sc-inc-gpc1",
    "sc-set-gpt0",
    "do-resolve",
    "send-spoe-group",
    "set-priority-class",
    "set-priority-offset",
    "disable-l7-retry",
    "replace-uri",
    "set-pathq",
    "del-acl",
    "set-var-fmt",
];

/// Lower one `http-request ACTION ARGS [if|unless COND]` line.
pub fn lower_http_request(
    line: &Line,
    ctx: &mut dyn RuleCtx,
) -> Result<HttpRequestRule, Diagnostic> {
    let kw = &line.words[0];
    let action = line
        .words
        .get(1)
        .ok_or_else(|| alert(kw, "'http-request' expects an action."))?;
    let (words, cond) = split_cond(&line.words[2..], ctx)?;
    let act = match action.text.as_str() {
        "allow" => HttpRequestAction::Allow,
        "deny" => HttpRequestAction::Deny {
            status: deny_status(words, action, 403)?,
        },
        "auth" => {
            let realm = match words {
                [] => None,
                [r, v, ..] if r.text == "realm" => Some(v.text.clone()),
                [w, ..] => {
                    return Err(alert(
                        w,
                        format!("'http-request auth' : unexpected '{}'.", w.text),
                    ))
                }
            };
            HttpRequestAction::Auth { realm }
        }
        "redirect" => HttpRequestAction::Redirect(redirect(action, words, ctx)?),
        "return" => HttpRequestAction::Return(return_spec(action, words, ctx)?),
        "set-path" => HttpRequestAction::SetPath(ctx.log_format(need(words, 0, action, "<fmt>")?)?),
        "set-uri" => HttpRequestAction::SetUri(ctx.log_format(need(words, 0, action, "<fmt>")?)?),
        "set-query" => {
            HttpRequestAction::SetQuery(ctx.log_format(need(words, 0, action, "<fmt>")?)?)
        }
        "set-method" => {
            HttpRequestAction::SetMethod(ctx.log_format(need(words, 0, action, "<fmt>")?)?)
        }
        "replace-path" => HttpRequestAction::ReplacePath {
            regex: regex(need(words, 0, action, "<match-regex> and <replace-fmt>")?)?,
            replace: ctx.log_format(need(words, 1, action, "<match-regex> and <replace-fmt>")?)?,
        },
        t if t.starts_with("set-var(") && t.ends_with(')') => HttpRequestAction::SetVar {
            name: t["set-var(".len()..t.len() - 1].to_string(),
            expr: ctx.sample(need(words, 0, action, "<expr>")?)?,
        },
        t => match header_op(action, words, ctx)? {
            Some(op) => HttpRequestAction::Header(op),
            None => return Err(unknown("http-request", action, t)),
        },
    };
    Ok(HttpRequestRule {
        action: act,
        cond,
        span: line.span.clone(),
    })
}

fn unknown(kw: &str, action: &Word, t: &str) -> Diagnostic {
    let base = t.split('(').next().unwrap_or(t);
    if KNOWN_UNIMPLEMENTED.contains(&base)
        || base.starts_with("sc-")
        || base.starts_with("track-sc")
    {
        Diagnostic::unimplemented(&action.span, format!("{kw} {base}"))
    } else {
        alert(
            action,
            format!("'{kw}' expects 'allow', 'deny', 'auth', 'redirect', 'return', 'set-header', 'add-header', 'del-header', 'replace-header', 'replace-value', 'set-path', 'replace-path', 'set-uri', 'set-query', 'set-method', 'set-var(*)', 'set-status' but got '{t}'."),
        )
    }
}

fn deny_status(words: &[Word], action: &Word, default: u16) -> Result<u16, Diagnostic> {
    match words {
        [] => Ok(default),
        [k, rest @ ..] if k.text == "deny_status" => {
            let code = status_arg(rest.first(), k, "a status code")?;
            if !ERRORFILE_CODES.contains(&code) {
                return Err(alert(
                    k,
                    format!("status code '{code}' not handled, using default code '{default}'."),
                )
                .with_level(Level::Warning));
            }
            Ok(code)
        }
        [w, ..] => Err(alert(
            w,
            format!(
                "'{} {}' : unexpected '{}'.",
                "http-request", action.text, w.text
            ),
        )),
    }
}

trait WithLevel {
    fn with_level(self, level: Level) -> Self;
}
impl WithLevel for Diagnostic {
    fn with_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }
}

/// `redirect location|prefix|scheme <v> [code N] [drop-query] [append-slash]
/// [set-cookie N[=V]] [clear-cookie N[=]]`.
fn redirect(kw: &Word, words: &[Word], ctx: &mut dyn RuleCtx) -> Result<Redirect, Diagnostic> {
    let kind_w = need(words, 0, kw, "'location', 'prefix' or 'scheme'")?;
    let kind = match kind_w.text.as_str() {
        "location" => RedirectKind::Location,
        "prefix" => RedirectKind::Prefix,
        "scheme" => RedirectKind::Scheme,
        t => {
            return Err(alert(
                kind_w,
                format!("'{}' expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query' or 'append-slash' (was '{t}').", kw.text),
            ))
        }
    };
    let value = ctx.log_format(need(words, 1, kind_w, "a value")?)?;
    let mut r = Redirect {
        kind,
        value,
        code: 302,
        drop_query: false,
        append_slash: false,
        set_cookie: None,
        clear_cookie: None,
    };
    let mut i = 2;
    while i < words.len() {
        let w = &words[i];
        match w.text.as_str() {
            "code" => {
                let c = status_arg(words.get(i + 1), w, "a status code")?;
                if ![301, 302, 303, 307, 308].contains(&c) {
                    return Err(alert(
                        w,
                        format!("'{}': unsupported HTTP code '{c}' (must be one of 301, 302, 303, 307 or 308).", kw.text),
                    ));
                }
                r.code = c;
                i += 1;
            }
            "drop-query" => r.drop_query = true,
            "append-slash" => r.append_slash = true,
            "set-cookie" => {
                r.set_cookie = Some(need(words, i + 1, w, "a cookie")?.text.clone());
                i += 1;
            }
            "clear-cookie" => {
                r.clear_cookie = Some(need(words, i + 1, w, "a cookie")?.text.clone());
                i += 1;
            }
            t => {
                return Err(alert(
                    w,
                    format!("'{}' expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query' or 'append-slash' (was '{t}').", kw.text),
                ))
            }
        }
        i += 1;
    }
    Ok(r)
}

/// The `return` action's options.
fn return_spec(kw: &Word, words: &[Word], ctx: &mut dyn RuleCtx) -> Result<ReturnSpec, Diagnostic> {
    let mut r = ReturnSpec {
        status: 200,
        content_type: None,
        body: ReturnBody::Default,
        headers: Vec::new(),
    };
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let arg = || need(words, i + 1, w, "an argument");
        match w.text.as_str() {
            "status" => r.status = status_arg(words.get(i + 1), w, "a status code")?,
            "content-type" => r.content_type = Some(arg()?.text.clone()),
            "string" => r.body = ReturnBody::Fixed(arg()?.text.clone().into_bytes()),
            "lf-string" => r.body = ReturnBody::Format(ctx.log_format(arg()?)?),
            "file" => r.body = ReturnBody::Fixed(ctx.read_file(arg()?)?),
            "lf-file" => {
                let bytes = ctx.read_file(arg()?)?;
                let as_word = Word {
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                    span: arg()?.span.clone(),
                };
                r.body = ReturnBody::Format(ctx.log_format(&as_word)?);
            }
            "hdr" => {
                let name = arg()?;
                let v = need(words, i + 2, w, "<name> and <fmt>")?;
                r.headers.push((name.text.clone(), ctx.log_format(v)?));
                i += 1;
            }
            "default-errorfiles" => {
                i += 1;
                continue;
            }
            t => {
                return Err(alert(
                    w,
                    format!("'{}' : unknown keyword '{t}'. expects 'status', 'content-type', 'errorfile', 'string', 'lf-string', 'file', 'lf-file' or 'hdr'.", kw.text),
                ))
            }
        }
        i += 2;
    }
    if !matches!(r.body, ReturnBody::Default) && r.content_type.is_none() {
        return Err(alert(
            kw,
            "'http-request return' : a content type must be defined when non-empty payload is configured.",
        ));
    }
    Ok(r)
}

/// Lower one `http-response ACTION ARGS [if|unless COND]` line.
pub fn lower_http_response(
    line: &Line,
    ctx: &mut dyn RuleCtx,
) -> Result<HttpResponseRule, Diagnostic> {
    let kw = &line.words[0];
    let action = line
        .words
        .get(1)
        .ok_or_else(|| alert(kw, "'http-response' expects an action."))?;
    let (words, cond) = split_cond(&line.words[2..], ctx)?;
    let act = match action.text.as_str() {
        "allow" => HttpResponseAction::Allow,
        "deny" => HttpResponseAction::Deny {
            status: deny_status(words, action, 502)?,
        },
        "set-status" => {
            let status = status_arg(words.first(), action, "a status code")?;
            let reason = match words.get(1..) {
                Some([r, v, ..]) if r.text == "reason" => Some(v.text.clone()),
                _ => None,
            };
            HttpResponseAction::SetStatus { status, reason }
        }
        t => match header_op(action, words, ctx)? {
            Some(op) => HttpResponseAction::Header(op),
            None => return Err(unknown("http-response", action, t)),
        },
    };
    Ok(HttpResponseRule {
        action: act,
        cond,
        span: line.span.clone(),
    })
}

/// Lower a `redirect ...` line (the legacy keyword).
pub fn lower_redirect(line: &Line, ctx: &mut dyn RuleCtx) -> Result<RedirectRule, Diagnostic> {
    let (words, cond) = split_cond(&line.words[1..], ctx)?;
    Ok(RedirectRule {
        redirect: redirect(&line.words[0], words, ctx)?,
        cond,
        span: line.span.clone(),
    })
}

/// Which list a `capture` line feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureSide {
    Request,
    Response,
}

/// Lower `capture request|response header NAME len N`.
pub fn lower_capture(line: &Line) -> Result<(CaptureSide, HeaderCapture), Diagnostic> {
    let kw = &line.words[0];
    let w: Vec<&str> = line.words.iter().map(|w| w.text.as_str()).collect();
    match w.as_slice() {
        [_, side @ ("request" | "response"), "header", name, "len", n] => {
            let len = n.parse::<usize>().map_err(|_| {
                alert(
                    kw,
                    format!("'capture {side} header' : invalid length '{n}'."),
                )
            })?;
            let side = if *side == "request" {
                CaptureSide::Request
            } else {
                CaptureSide::Response
            };
            Ok((
                side,
                HeaderCapture {
                    name: (*name).to_string(),
                    len,
                },
            ))
        }
        [_, "cookie", ..] => Err(Diagnostic::unimplemented(&kw.span, "capture cookie")),
        [_, side @ ("request" | "response"), "header", ..] => Err(alert(
            kw,
            format!("'capture {side} header' expects <header name> 'len' <length>."),
        )),
        _ => Err(alert(
            kw,
            "'capture' expects 'cookie', 'request header' or 'response header'.",
        )),
    }
}

/// `h1-case-adjust <from> <to>` (global): the spelling of one header name for
/// `option h1-case-adjust-bogus-client|server`.
pub fn h1_case_adjust(cx: &mut super::Cx, line: &Line, args: &[Word]) {
    match args {
        [from, to] => {
            if !from.text.eq_ignore_ascii_case(&to.text) {
                cx.diags.push(alert(
                    &line.words[0],
                    "<from> and <to> must not differ execpt the case",
                ));
                return;
            }
            cx.global
                .h1_case_adjust
                .push((from.text.to_ascii_lowercase(), to.text.clone()));
        }
        _ => cx.diags.push(alert(
            &line.words[0],
            "'h1-case-adjust' expects <from> and <to> as argument.",
        )),
    }
}

/// Lower `errorfile CODE FILE`: the file must be a full HTTP response; it is sent as is.
pub fn lower_errorfile(line: &Line, ctx: &mut dyn RuleCtx) -> Result<(u16, Vec<u8>), Diagnostic> {
    let kw = &line.words[0];
    let code_w = need(line.args(), 0, kw, "<status_code> and <file>")?;
    let file = need(line.args(), 1, kw, "<status_code> and <file>")?;
    let code = code_w.text.parse::<u16>().unwrap_or(0);
    if !ERRORFILE_CODES.contains(&code) {
        return Err(Diagnostic::parsing(
            Level::Warning,
            &kw.span,
            format!(
                "status code '{}' not handled by 'errorfile', error customization will be ignored.",
                code_w.text
            ),
        ));
    }
    Ok((code, ctx.read_file(file)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;
    use std::sync::Arc;

    struct Ctx;
    impl RuleCtx for Ctx {
        fn condition(&mut self, words: &[Word]) -> Result<Condition, Diagnostic> {
            Ok(Condition {
                unless: words[0].text == "unless",
                alternatives: Vec::new(),
                span: words[0].span.clone(),
            })
        }
        fn log_format(&mut self, _w: &Word) -> Result<LogFormatExpr, Diagnostic> {
            Ok(LogFormatExpr::default())
        }
        fn sample(&mut self, w: &Word) -> Result<SampleExpr, Diagnostic> {
            Err(alert(w, "no samples here"))
        }
        fn read_file(&mut self, w: &Word) -> Result<Vec<u8>, Diagnostic> {
            Ok(format!("FILE {}", w.text).into_bytes())
        }
    }

    fn line(text: &str) -> Line {
        let span = Span::new(Arc::from("t.cfg"), 1, 1);
        Line {
            words: text
                .split(' ')
                .map(|t| Word {
                    text: t.into(),
                    span: span.clone(),
                })
                .collect(),
            span,
        }
    }

    #[test]
    fn request_actions() {
        let r =
            lower_http_request(&line("http-request deny deny_status 429 if x"), &mut Ctx).unwrap();
        assert!(matches!(r.action, HttpRequestAction::Deny { status: 429 }));
        assert!(r.cond.is_some());
        let r = lower_http_request(&line("http-request deny"), &mut Ctx).unwrap();
        assert!(matches!(r.action, HttpRequestAction::Deny { status: 403 }));
        let r = lower_http_request(&line("http-request auth realm Secure"), &mut Ctx).unwrap();
        assert!(
            matches!(r.action, HttpRequestAction::Auth { realm: Some(ref s) } if s == "Secure")
        );
        let r = lower_http_request(
            &line("http-request redirect prefix /p code 301 drop-query unless y"),
            &mut Ctx,
        )
        .unwrap();
        match r.action {
            HttpRequestAction::Redirect(r) => {
                assert_eq!(
                    (r.kind, r.code, r.drop_query),
                    (RedirectKind::Prefix, 301, true)
                )
            }
            other => panic!("{other:?}"),
        }
        let r = lower_http_request(
            &line("http-request return status 404 content-type text/plain string gone hdr X-A b"),
            &mut Ctx,
        )
        .unwrap();
        match r.action {
            HttpRequestAction::Return(s) => {
                assert_eq!(s.status, 404);
                assert_eq!(s.headers.len(), 1);
                assert!(matches!(s.body, ReturnBody::Fixed(ref b) if b == b"gone"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            lower_http_request(&line("http-request replace-header X a(.*) \\1"), &mut Ctx)
                .unwrap()
                .action,
            HttpRequestAction::Header(HeaderOp::Replace { .. })
        ));
    }

    #[test]
    fn refusals_and_notices() {
        let e = lower_http_request(&line("http-request foo"), &mut Ctx).unwrap_err();
        assert_eq!(e.level, Level::Alert);
        let e = lower_http_request(&line("http-request tarpit"), &mut Ctx).unwrap_err();
        assert!(e.unimplemented);
        assert!(lower_http_request(&line("http-request set-header X"), &mut Ctx).is_err());
        assert!(lower_http_request(&line("http-request return string x"), &mut Ctx).is_err());
        assert!(lower_http_request(
            &line("http-request redirect location /x code 399"),
            &mut Ctx
        )
        .is_err());
        assert!(lower_http_response(&line("http-response set-status abc"), &mut Ctx).is_err());
    }

    #[test]
    fn response_and_misc() {
        let r = lower_http_response(&line("http-response set-status 299 reason Fine"), &mut Ctx)
            .unwrap();
        assert!(matches!(
            r.action,
            HttpResponseAction::SetStatus {
                status: 299,
                reason: Some(_)
            }
        ));
        let r = lower_http_response(&line("http-response deny"), &mut Ctx).unwrap();
        assert!(matches!(r.action, HttpResponseAction::Deny { status: 502 }));
        let (side, c) = lower_capture(&line("capture request header Host len 20")).unwrap();
        assert_eq!(
            (side, c.name.as_str(), c.len),
            (CaptureSide::Request, "Host", 20)
        );
        let (code, bytes) = lower_errorfile(&line("errorfile 503 /x"), &mut Ctx).unwrap();
        assert_eq!((code, bytes), (503, b"FILE /x".to_vec()));
        assert!(lower_errorfile(&line("errorfile 999 /x"), &mut Ctx).is_err());
        let r = lower_redirect(&line("redirect scheme https if x"), &mut Ctx).unwrap();
        assert_eq!(r.redirect.kind, RedirectKind::Scheme);
    }
}
