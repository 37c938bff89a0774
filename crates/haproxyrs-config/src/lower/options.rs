//! `option X`, `no option X` and `default option X` on proxies: the table of options is
//! in [`super::keywords::OPTIONS`]; this module applies them to the proxy draft.

use crate::ast::{Line, SectionKind, Word};
use crate::ir::{self, HealthCheck, HttpConnMode};

use super::keywords::{self, Status};
use super::proxy::{LogFormatDraft, ProxyDraft};
use super::{units, Cx};

/// `option X`, `no option X` (`negate = Some(true)`), `default option X` (`Some(false)`).
pub fn option(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word], prefix: Option<bool>) {
    let span = line.span.clone();
    let Some(name_w) = args.first() else {
        cx.alert(&span, "'option' expects an option name.");
        return;
    };
    let name = name_w.text.as_str();
    let rest = &args[1..];
    let Some(op) = keywords::option(name) else {
        let mut diag = crate::diag::Diagnostic::alert(&span, format!("unknown option '{name}'."));
        if let Some(s) = crate::suggest::best_match(name, keywords::OPTIONS.iter().map(|o| o.name))
        {
            diag = crate::diag::Diagnostic::alert(
                &span,
                format!("unknown option '{name}'; did you mean '{s}' maybe ?"),
            )
            .with_help(format!("did you mean 'option {s}'?"));
        }
        cx.diags.push(diag);
        return;
    };
    if let Status::Removed(msg) = op.status {
        cx.diags.push(crate::diag::Diagnostic {
            level: crate::diag::Level::Alert,
            text: format!("parsing [{span}]: {msg}"),
            span: Some(span.clone()),
            help: None,
            unimplemented: false,
        });
        return;
    }
    if prefix.is_some() && !op.invertible {
        cx.alert_tight(
            &span,
            format!("negation/default is not supported for option '{name}'."),
        );
        return;
    }
    if d.kind == SectionKind::Backend && matches!(name, "httplog" | "tcplog" | "httpslog") {
        cx.warn(
            &span,
            format!(
                "backend '{}' : 'option {name}' directive is ignored in backends.",
                d.name
            ),
        );
        return;
    }
    if op.sections & d.section_bit() == 0 {
        let cap = if d.has_fe() { "backend" } else { "frontend" };
        cx.warn(
            &span,
            format!(
                "'{name}' ignored because {} '{}' has no {cap} capability.",
                d.type_name(),
                d.name
            ),
        );
        return;
    }
    let on = prefix != Some(true);
    let before = cx.diags.items.len();
    apply_option(cx, d, line, name, rest, on, prefix == Some(false));
    if cx.diags.items[before..]
        .iter()
        .any(|x| x.level == crate::diag::Level::Alert)
    {
        return;
    }
    if on && prefix.is_none() {
        let what = format!("option {name}");
        match op.status {
            Status::ParsedOnly => cx.unimplemented(&span, &what),
            Status::Refused => cx.refuse(&span, &what),
            _ => {}
        }
    }
}

fn no_extra(cx: &mut Cx, line: &Line, name: &str, rest: &[Word]) -> bool {
    if let Some(x) = rest.first() {
        cx.alert(
            &line.span,
            format!(
                "'option {name}' cannot handle unexpected argument '{}'.",
                x.text
            ),
        );
        return false;
    }
    true
}

fn apply_option(
    cx: &mut Cx,
    d: &mut ProxyDraft,
    line: &Line,
    name: &str,
    rest: &[Word],
    on: bool,
    reset: bool,
) {
    let o = &mut d.options;
    let with_args = matches!(
        name,
        "forwardfor"
            | "redispatch"
            | "originalto"
            | "httpchk"
            | "httplog"
            | "mysql-check"
            | "pgsql-check"
            | "smtpchk"
            | "http-restrict-req-hdr-names"
            | "tcplog"
            | "redis-check"
            | "ldap-check"
            | "ssl-hello-chk"
            | "tcp-check"
            | "external-check"
            | "spop-check"
            | "httpslog"
    );
    if !with_args && !no_extra(cx, line, name, rest) {
        return;
    }
    let on = on && !reset;
    match name {
        "dontlognull" => o.dontlognull = on,
        "redispatch" => {
            if rest.len() > 1 {
                cx.alert(
                    &line.span,
                    format!(
                        "'option redispatch' cannot handle unexpected argument '{}'.",
                        rest[1].text
                    ),
                );
                return;
            }
            o.redispatch = on && !matches!(rest.first(), Some(w) if units::atol(&w.text) == 0);
        }
        "allbackups" => o.allbackups = on,
        "splice-auto" => o.splice_auto = on,
        "splice-request" => o.splice_request = on,
        "splice-response" => o.splice_response = on,
        "tcp-smart-accept" => o.tcp_smart_accept = Some(on),
        "h1-case-adjust-bogus-client" => o.h1_case_adjust_bogus_client = on,
        "h1-case-adjust-bogus-server" => o.h1_case_adjust_bogus_server = on,
        "http-buffer-request" => {
            o.http_buffer_request = on;
            mark_http(d, "http-buffer-request", on);
        }
        "http-keep-alive" | "http-server-close" | "httpclose" => {
            o.http_conn_mode = match (name, on) {
                (_, false) => HttpConnMode::KeepAlive,
                ("http-server-close", true) => HttpConnMode::ServerClose,
                ("httpclose", true) => HttpConnMode::Close,
                _ => HttpConnMode::KeepAlive,
            };
        }
        "forwardfor" => {
            let mut ff = ir::ForwardFor {
                header: "X-Forwarded-For".to_string(),
                except: None,
                if_none: false,
            };
            let mut i = 0;
            while i < rest.len() {
                match rest[i].text.as_str() {
                    "except" => {
                        let Some(net) = rest.get(i + 1).and_then(|w| parse_net(&w.text)) else {
                            cx.alert(
                                &line.span,
                                "'forwardfor except' requires a valid network address.",
                            );
                            return;
                        };
                        ff.except = Some(net);
                        i += 2;
                    }
                    "header" => {
                        let Some(h) = rest.get(i + 1).filter(|w| !w.text.is_empty()) else {
                            cx.alert(&line.span, "'forwardfor header' requires a header name.");
                            return;
                        };
                        ff.header = h.text.clone();
                        i += 2;
                    }
                    "if-none" => {
                        ff.if_none = true;
                        i += 1;
                    }
                    _ => {
                        cx.alert(&line.span, "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.");
                        return;
                    }
                }
            }
            d.options.forwardfor = Some(ff);
            mark_http(d, "forwardfor", true);
        }
        "originalto" => mark_http(d, "originalto", true),
        "httplog" | "httpslog" => {
            let mut clf = None;
            if let Some(x) = rest.first() {
                if x.text != "clf" {
                    cx.alert(
                        &line.span,
                        format!("keyword '{name}' only supports option 'clf'."),
                    );
                    return;
                }
                clf = super::sample::parse_log_format(super::proxy::CLF_LOG_FORMAT, None, cx.env)
                    .ok();
            }
            d.log_format = LogFormatDraft::HttpLog(line.span.clone(), clf);
        }
        "tcplog" => {
            if !no_extra(cx, line, name, rest) {
                return;
            }
            d.log_format = LogFormatDraft::TcpLog(line.span.clone());
        }
        "httpchk" => {
            let words: Vec<&str> = rest.iter().map(|w| w.text.as_str()).collect();
            let (method, uri, version) = match words.as_slice() {
                [] => ("OPTIONS", "/", "HTTP/1.0"),
                [uri] => ("OPTIONS", *uri, "HTTP/1.0"),
                [m, uri] => (*m, *uri, "HTTP/1.0"),
                [m, uri, v, ..] => (*m, *uri, *v),
            };
            if version.contains("\r\n") || version.contains('\n') {
                cx.diags.push(crate::diag::Diagnostic {
                    level: crate::diag::Level::Warning,
                    text: format!("parsing [{}]: 'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead.", line.span),
                    span: Some(line.span.clone()),
                    help: None,
                    unimplemented: false,
                });
            }
            d.health_check = Some(HealthCheck::Http {
                method: method.to_string(),
                uri: uri.to_string(),
                version: version.to_string(),
                host: None,
                expect: None,
            });
        }
        "tcp-check" => {
            if !no_extra(cx, line, name, rest) {
                return;
            }
            d.health_check = Some(HealthCheck::Tcp);
        }
        "ssl-hello-chk" | "redis-check" | "ldap-check" | "spop-check" | "external-check" => {
            if !no_extra(cx, line, name, rest) {
                return;
            }
            d.health_check = Some(HealthCheck::Protocol(name.to_string()));
        }
        "mysql-check" | "pgsql-check" | "smtpchk" => {
            d.health_check = Some(HealthCheck::Protocol(name.to_string()));
        }
        "http-restrict-req-hdr-names" => match rest.first().map(|w| w.text.as_str()) {
            Some("preserve") | Some("reject") | Some("delete") => {}
            other => {
                cx.alert(&line.span, format!("invalid parameter '{}'. option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option.", other.unwrap_or("")));
            }
        },
        _ => {
            if on {
                if let Some(op) = keywords::option(name) {
                    if op.http_only {
                        mark_http(d, op.name, true);
                    }
                }
            }
        }
    }
}

fn mark_http(d: &mut ProxyDraft, name: &'static str, on: bool) {
    d.http_only_options.retain(|n| *n != name);
    if on {
        d.http_only_options.push(name);
    }
}

/// `a.b.c.d[/n]` or an IPv6 network, as `option forwardfor except` takes it.
pub fn parse_net(text: &str) -> Option<ir::sample::IpNet> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let ip: std::net::IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => {
            if let Ok(n) = p.parse::<u8>() {
                if n > max {
                    return None;
                }
                n
            } else {
                // A dotted mask (255.255.255.0) for IPv4.
                let m: std::net::Ipv4Addr = p.parse().ok()?;
                let bits = u32::from(m);
                if bits.leading_ones() + bits.trailing_zeros() != 32 {
                    return None;
                }
                bits.leading_ones() as u8
            }
        }
    };
    Some(ir::sample::IpNet { addr: ip, prefix })
}
