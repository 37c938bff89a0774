//! `http-check send` and `http-check expect`: lowered into the backend's
//! [`ir::HttpCheck`] (merged with `option httpchk`'s request when the backend is built), with
//! HAProxy 2.6's refusals. Expectations haproxyrs does not run (`hdr`, `fhdr`,
//! `string-lf`) are reported with a NOTICE and left out.

use crate::ast::{Line, Word};
use crate::ir::{self, HttpCheckExpect, HttpExpectKind};

use super::proxy::ProxyDraft;
use super::Cx;

/// What `http-check send` lines set, applied over `option httpchk`'s request.
#[derive(Clone, Debug, Default)]
pub struct SendDraft {
    pub method: Option<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

pub fn send(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    d.http_check_rules = true;
    let mut draft = SendDraft::default();
    let mut i = 0;
    while i < args.len() {
        let kw = args[i].text.as_str();
        let need = match kw {
            "hdr" => 2,
            "comment" | "meth" | "uri" | "uri-lf" | "ver" | "body" | "body-lf" => 1,
            _ => {
                cx.alert(&line.span, format!("'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '{kw}' as argument.."));
                return;
            }
        };
        let vals: Vec<&str> = args[i + 1..]
            .iter()
            .take(need)
            .map(|w| w.text.as_str())
            .collect();
        if vals.len() < need || vals.iter().any(|v| v.is_empty()) {
            let what = if kw == "hdr" {
                "name/value pair"
            } else {
                "string"
            };
            cx.alert(
                &line.span,
                format!("'http-check send' : '{kw}' expects a {what} as argument.."),
            );
            return;
        }
        match kw {
            "meth" => draft.method = Some(vals[0].to_string()),
            "uri" => draft.uri = Some(vals[0].to_string()),
            "ver" => draft.version = Some(vals[0].to_string()),
            "hdr" => draft
                .headers
                .push((vals[0].to_ascii_lowercase(), vals[1].to_string())),
            "body" => draft.body = Some(vals[0].to_string()),
            "uri-lf" | "body-lf" => cx.unimplemented(&line.span, &format!("http-check send {kw}")),
            _ => {}
        }
        i += 1 + need;
    }
    d.http_check_send = Some(draft);
}

pub fn expect(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    d.http_check_rules = true;
    let (negate, i, option) = expect_prefix(args);
    if let Some(o) = option {
        // The expectation still runs; the option (statuses, messages) does not.
        cx.unimplemented(&line.span, &format!("http-check expect {o}"));
    }
    let kind = args.get(i).map(|w| w.text.as_str()).unwrap_or("");
    let known = [
        "string",
        "rstring",
        "string-lf",
        "status",
        "rstatus",
        "hdr",
        "fhdr",
    ];
    if !known.contains(&kind) {
        cx.alert(&line.span, format!("'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '{kind}' as argument.."));
        return;
    }
    if matches!(kind, "hdr" | "fhdr" | "string-lf") {
        cx.unimplemented(&line.span, &format!("http-check expect {kind}"));
        return;
    }
    let Some(pat) = args.get(i + 1).map(|w| w.text.as_str()) else {
        cx.alert(
            &line.span,
            format!("'http-check expect' : '{kind}' expects a <pattern> as argument."),
        );
        return;
    };
    let bad_regex = |cx: &mut Cx, e: &dyn std::fmt::Display| {
        cx.alert(
            &line.span,
            format!("'http-check expect' : regex '{pat}' is invalid ({e})."),
        )
    };
    let kind = match kind {
        "string" => HttpExpectKind::String(pat.to_string()),
        "rstring" => match regex::bytes::Regex::new(pat) {
            Ok(re) => HttpExpectKind::Rstring(re),
            Err(e) => return bad_regex(cx, &e),
        },
        "rstatus" => match regex::Regex::new(pat) {
            Ok(re) => HttpExpectKind::Rstatus(re),
            Err(e) => return bad_regex(cx, &e),
        },
        _ => match parse_codes(pat) {
            Some(codes) => HttpExpectKind::Status(codes),
            None => {
                cx.alert(
                    &line.span,
                    format!("'http-check expect' : invalid status list '{pat}'."),
                );
                return;
            }
        },
    };
    d.http_check_expects.push(HttpCheckExpect { negate, kind });
}

/// The words of an `http-check`/`tcp-check` `expect` before its pattern kind: whether a `!`
/// negates it, where the kind is, and the first option haproxyrs does not run
/// (`min-recv`, `ok-status`, `on-error`...; `comment` is harmless).
pub fn expect_prefix(args: &[Word]) -> (bool, usize, Option<&str>) {
    let (mut negate, mut i, mut option) = (false, 0, None);
    while let Some(w) = args.get(i) {
        match w.text.as_str() {
            "!" => {
                negate = true;
                i += 1;
            }
            "comment" => i += 2,
            "min-recv" | "ok-status" | "error-status" | "tout-status" | "on-success"
            | "on-error" | "status-code" => {
                option = option.or(Some(w.text.as_str()));
                i += 2;
            }
            _ => break,
        }
    }
    (negate, i, option)
}

/// `200,300-399`: codes and inclusive ranges.
fn parse_codes(text: &str) -> Option<Vec<(u16, u16)>> {
    text.split(',')
        .map(|part| {
            let (lo, hi) = part.split_once('-').unwrap_or((part, part));
            Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?))
        })
        .collect()
}

/// The backend's health check: `option httpchk`'s request amended by `http-check send`,
/// with the expectations; or `option tcp-check` with its rules.
pub fn build(d: &ProxyDraft) -> Option<ir::HealthCheck> {
    let base = match &d.health_check {
        Some(ir::HealthCheck::Http(base)) => base,
        Some(ir::HealthCheck::Tcp(_)) => {
            let rules = super::tcp_check::build(&d.tcp_check_rules).unwrap_or_default();
            return Some(ir::HealthCheck::Tcp(rules));
        }
        other => return other.clone(),
    };
    let mut hc = base.clone();
    if let Some(s) = &d.http_check_send {
        if let Some(m) = &s.method {
            hc.method.clone_from(m);
        }
        if let Some(u) = &s.uri {
            hc.uri.clone_from(u);
        }
        if let Some(v) = &s.version {
            hc.version.clone_from(v);
        }
        hc.headers.extend(s.headers.iter().cloned());
        if let Some(b) = &s.body {
            hc.body.clone_from(b);
        }
    }
    hc.expects.extend(d.http_check_expects.iter().cloned());
    Some(ir::HealthCheck::Http(hc))
}

#[cfg(test)]
mod tests {
    use super::parse_codes;

    #[test]
    fn status_lists() {
        assert_eq!(parse_codes("200"), Some(vec![(200, 200)]));
        assert_eq!(
            parse_codes("200,300-399"),
            Some(vec![(200, 200), (300, 399)])
        );
        assert_eq!(parse_codes("2xx"), None);
    }
}
