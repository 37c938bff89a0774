//! Argument checks for the proxy keywords haproxyrs parses but does not run yet: they must
//! still be refused exactly where HAProxy 2.6 refuses them, so `-c` keeps its verdict.

use crate::ast::{Line, Word};

use super::proxy::{ProxyDraft, WordOpt};
use super::{bind, units, Cx};

fn arg(args: &[Word], i: usize) -> &str {
    args.get(i).map(|w| w.text.as_str()).unwrap_or("")
}

pub fn declare_capture(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    // `args` starts after `declare capture`.
    if !matches!(arg(args, 0), "request" | "response") {
        cx.alert(
            &line.span,
            "'declare capture' requires a direction ('request' or 'response')",
        );
        return;
    }
    if arg(args, 1) != "len" || units::strict_u32(arg(args, 2)).is_none() {
        cx.alert(
            &line.span,
            "'declare capture' requires a 'len' argument followed by a positive integer.",
        );
    }
}

pub fn dispatch(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let v = arg(args, 0);
    match bind::split_host_port(v) {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            if h.parse::<std::net::IpAddr>().is_err() && cx.env.resolve(h).is_none() {
                cx.alert(
                    &line.span,
                    format!("'dispatch' : invalid address: '{h}' in '{v}'"),
                );
            }
        }
        _ => cx.alert(
            &line.span,
            format!("'dispatch' : missing port specification in '{v}'"),
        ),
    }
}

pub fn email_alert_level(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let v = arg(args, 0);
    if !super::log::LEVELS.contains(&v) {
        cx.alert(&line.span, format!("unknown log level 'level' after '{v}'"));
    }
}

pub fn hash_balance_factor(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        cx.alert(
            &line.span,
            "'hash-balance-factor' expects an integer argument.",
        );
        return;
    }
    let n = units::atol(arg(args, 0));
    if n != 0 && n <= 100 {
        cx.alert(
            &line.span,
            "'hash-balance-factor' must be 0 or greater than 100.",
        );
    }
}

pub fn check_comment(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        cx.alert(
            &line.span,
            format!(
                "'{} comment' : expects a string as argument.",
                line.keyword()
            ),
        );
    }
}

/// `http-check connect` / `tcp-check connect` options.
pub fn check_connect(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let mut i = 0;
    while i < args.len() {
        let n = match args[i].text.as_str() {
            "default" | "send-proxy" | "via-socks4" | "ssl" | "linger" => 1,
            "comment" | "port" | "addr" | "sni" | "alpn" | "proto" => 2,
            other => {
                cx.alert(&line.span, format!("'{} connect' : expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '{other}' as argument..", line.keyword()));
                return;
            }
        };
        if n == 2 && args.get(i + 1).is_none() {
            cx.alert(
                &line.span,
                format!(
                    "'{} connect' : '{}' expects an argument.",
                    line.keyword(),
                    args[i].text
                ),
            );
            return;
        }
        i += n;
    }
}

/// `http-check disable-on-404`, `http-check send-state`: no argument.
pub fn check_flag(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if let Some(x) = args.first() {
        cx.alert(
            &line.span,
            format!(
                "'{}' cannot handle unexpected argument '{}'.",
                line.keyword(),
                x.text
            ),
        );
    }
}

pub fn tcp_check_expect(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let rest: Vec<&str> = args
        .iter()
        .map(|w| w.text.as_str())
        .filter(|t| *t != "!")
        .collect();
    if rest.len() < 2 {
        cx.alert(
            &line.span,
            "'tcp-check expect' : expects at least a matching pattern as arguments.",
        );
    }
}

pub fn tcp_check_send(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        let sub = line
            .args()
            .first()
            .map(|w| w.text.as_str())
            .unwrap_or("send");
        cx.alert(
            &line.span,
            format!("'tcp-check {sub}' : 'string' expects a send as argument."),
        );
    }
}

pub fn http_send_name_header(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        cx.alert(
            &line.span,
            "'http-send-name-header' requires a header string.",
        );
    }
}

const RETRY_ON: &[&str] = &[
    "none",
    "conn-failure",
    "empty-response",
    "junk-response",
    "response-timeout",
    "0rtt-rejected",
    "all-retryable-errors",
    "401",
    "403",
    "404",
    "408",
    "425",
    "500",
    "501",
    "502",
    "503",
    "504",
];

pub fn retry_on(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.is_empty() {
        cx.alert(&line.span, "'retry-on' expects at least one argument.");
        return;
    }
    if let Some(bad) = args.iter().find(|w| !RETRY_ON.contains(&w.text.as_str())) {
        cx.alert(
            &line.span,
            format!("'retry-on': unknown keyword '{}'", bad.text),
        );
    }
}

pub fn source(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let v = arg(args, 0);
    let host = match bind::split_host_port(v) {
        Some((h, _)) if v.parse::<std::net::IpAddr>().is_err() => h,
        _ => v,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if v.is_empty() {
        cx.alert(&line.span, "'source' expects <addr>[:<port>] as argument.");
    } else if host.parse::<std::net::IpAddr>().is_err() && cx.env.resolve(host).is_none() {
        cx.alert(
            &line.span,
            format!("'source {v}' : invalid address: '{host}' in '{v}'"),
        );
    }
}

pub fn stick_table(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let mut i = 0;
    let mut typed = false;
    while i < args.len() {
        let n = match args[i].text.as_str() {
            "type" => {
                typed = true;
                if args.get(i + 2).map(|w| w.text.as_str()) == Some("len") {
                    4
                } else {
                    2
                }
            }
            "size" | "expire" | "peers" | "store" | "srvkey" => 2,
            "nopurge" => 1,
            other => {
                cx.alert(
                    &line.span,
                    format!("stick-table: unknown argument '{other}'."),
                );
                return;
            }
        };
        i += n;
    }
    if !typed {
        cx.alert(&line.span, "stick-table: missing type.");
    }
}

pub fn stick(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let Some(expr) = args.first().filter(|w| !w.text.is_empty()) else {
        cx.alert(&line.span, "'stick' expects a fetch method.");
        return;
    };
    if let Err(msg) = super::sample::parse_sample_expr(&expr.text, cx.env) {
        cx.alert(&line.span, format!("'stick' : {msg}"));
    }
}

pub fn external_check_command(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    match args.first().filter(|w| !w.text.is_empty()) {
        Some(w) => d.external_check_command = Some(w.text.clone()),
        None => cx.alert(
            &line.span,
            "'external-check command' expects a command name.",
        ),
    }
}

pub fn external_check_path(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        cx.alert(&line.span, "'external-check path' expects a path.");
        return;
    }
    d.external_check_path = true;
}

pub fn use_fcgi_app(cx: &mut Cx, d: &mut ProxyDraft, _line: &Line, args: &[Word]) {
    // haproxyrs has no `fcgi-app` section, so none can be found (a post-parse ALERT).
    cx.alert_plain(format!(
        "proxy '{}' : fcgi-app '{}' not found.",
        d.name,
        arg(args, 0)
    ));
}

pub fn use_server(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        cx.alert(&line.span, "'use-server' expects a server name.");
        return;
    }
    super::rules::required_condition(cx, d, line, &args[1..], "use-server");
}

pub fn bind_process(cx: &mut Cx, line: &Line, args: &[Word]) -> bool {
    let v = arg(args, 0);
    let ok = matches!(v, "" | "all" | "odd" | "even")
        || v.split('-')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        cx.alert(
            &line.span,
            format!("bind-process : '{v}' is not a valid number/range."),
        );
    }
    ok
}
