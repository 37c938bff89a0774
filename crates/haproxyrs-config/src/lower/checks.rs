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

/// `use-fcgi-app NAME`: the name is resolved after parsing (`validate.rs`); the keyword's
/// table status refuses the proxy at start, since haproxyrs speaks no FastCGI.
pub fn use_fcgi_app(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        cx.alert(&line.span, "'use-fcgi-app' expects <name> as argument");
        return;
    }
    d.fcgi_app = Some(arg(args, 0).to_string());
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

const TLS_VERSIONS: &[&str] = &["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const MUXES: &[&str] = &["h1", "h2", "fcgi", "none"];

fn strict_int(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
}

fn one_of(v: &str, allowed: &[&str], what: &str) -> Result<(), String> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(format!("'{what}' : unsupported value '{v}'"))
    }
}

/// The value of a `bind` or `server` option, checked as 2.6 checks it (the options that
/// haproxyrs keeps in the IR are read by their own parsers). `Err` is HAProxy's message.
pub fn sub_option_value(cx: &Cx, server: bool, name: &str, v: &str) -> Result<(), String> {
    match name {
        "accept-netscaler-cip" | "mss" | "error-limit" if !strict_int(v) => Err(format!(
            "'{name}' : unexpected character in integer value '{v}'"
        )),
        "id" if !server && units::strict_u32(v).filter(|n| *n > 0).is_none() => {
            Err(format!("'{name}' : custom id has to be > 0"))
        }
        "shards" if !(strict_int(v) || v == "by-thread" || v == "by-group") => {
            Err(format!("'{name}' : invalid value '{v}'"))
        }
        "ca-ignore-err" | "crt-ignore-err" if !(v == "all" || v.split(',').all(strict_int)) => {
            Err(format!("'{name}' : invalid error list '{v}'"))
        }
        "expose-fd" => one_of(v, &["listeners"], name),
        // Names only: unlike `global`'s, these do not take a numeric id.
        "group" if v.parse::<u32>().is_ok() || !cx.env.group_exists(v) => {
            Err(format!("'{name}' : unknown group name '{v}'"))
        }
        "user" if v.parse::<u32>().is_ok() || !cx.env.user_exists(v) => {
            Err(format!("'{name}' : unknown user name '{v}'"))
        }
        "ws" => one_of(v, &["auto", "h1", "h2"], name),
        "socks4" if !matches!(bind::split_host_port(v), Some((_, p)) if strict_int(p)) => {
            Err(format!("'{name}' : missing port specification in '{v}'"))
        }
        "level" => one_of(v, &["user", "operator", "admin"], name),
        "mode" if v.is_empty() || !v.bytes().all(|b| (b'0'..=b'7').contains(&b)) => {
            Err(format!("'{name}' : invalid mode '{v}'"))
        }
        "namespace" => Err(format!("error encountered while processing '{name}'")),
        "proto" | "check-proto" if !MUXES.contains(&v) => {
            Err(format!("'{name}' :  unknown MUX protocol '{v}'"))
        }
        "severity-output" => one_of(v, &["none", "number", "string"], name),
        "ssl-min-ver" | "ssl-max-ver" => one_of(v, TLS_VERSIONS, name),
        "tcp-ut" => units::parse_time_ms(v)
            .map(|_| ())
            .map_err(|e| e.message(name, v)),
        "thread"
            if !(matches!(v, "all" | "odd" | "even")
                || v.split(',').all(|r| {
                    r.split(['-', '/']).all(|p| p.is_empty() || strict_int(p)) && !r.is_empty()
                })) =>
        {
            Err(format!("'{name}' : invalid thread set '{v}'"))
        }
        "tls-ticket-keys" => cx
            .env
            .read_file(std::path::Path::new(v))
            .map(|_| ())
            .map_err(|_| format!("'{name}' : unable to load the file '{v}'")),
        "verify" => one_of(v, &["none", "optional", "required"], name),
        "agent-addr" | "socks4" | "source" => {
            let host = match bind::split_host_port(v) {
                Some((h, _)) if v.parse::<std::net::IpAddr>().is_err() => h,
                _ => v,
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.parse::<std::net::IpAddr>().is_ok()
                || (!host.is_empty() && cx.env.resolve(host).is_some())
            {
                Ok(())
            } else {
                Err(format!("'{name}' : invalid address '{v}'"))
            }
        }
        "log-proto" => one_of(v, &["legacy", "octet-count"], name),
        "observe" => one_of(v, &["none", "layer4", "layer7"], name),
        "on-error" => one_of(
            v,
            &["fastinter", "fail-check", "sudden-death", "mark-down"],
            name,
        ),
        "on-marked-down" => one_of(v, &["shutdown-sessions"], name),
        "on-marked-up" => one_of(v, &["shutdown-backup-sessions"], name),
        "proxy-v2-options"
            if !v.split(',').all(|o| {
                matches!(
                    o,
                    "ssl"
                        | "cert-cn"
                        | "ssl-cipher"
                        | "cert-sig"
                        | "cert-key"
                        | "authority"
                        | "crc32c"
                        | "unique-id"
                )
            }) =>
        {
            Err(format!("'{name}' : '{v}' : unknown option"))
        }
        "resolve-net" if !v.split(',').all(|n| super::options::parse_net(n).is_some()) => {
            Err(format!("'{name}' : invalid network '{v}'"))
        }
        "resolve-opts"
            if !v
                .split(',')
                .all(|o| matches!(o, "" | "allow-dup-ip" | "ignore-weight" | "prevent-dup-ip")) =>
        {
            Err(format!("'{name}' : unknown option '{v}'"))
        }
        "resolve-prefer" => one_of(v, &["ipv4", "ipv6"], name),
        "sni" => super::sample::parse_sample_expr_bare(v, cx.env)
            .map(|_| ())
            .map_err(|m| format!("error detected while parsing sni expression : {m}")),
        _ => Ok(()),
    }
}

fn on_off(v: &str, allowed: &[&str]) -> bool {
    allowed.contains(&v)
}

/// Value checks for `global` keywords that haproxyrs parses only. `None`: no specific
/// check (the table's generic one applies); `Some(())`: checked here (ALERT if refused).
pub fn global_value(cx: &mut Cx, line: &Line, name: &str, args: &[Word]) -> Option<()> {
    let v = arg(args, 0);
    let alert = |cx: &mut Cx, msg: String| cx.alert(&line.span, msg);
    let tight = |cx: &mut Cx, msg: String| cx.alert_tight(&line.span, msg);
    let time = |cx: &mut Cx| match units::parse_time_ms(v) {
        Err(units::TimeError::BadChar(c)) => cx.alert(
            &line.span,
            format!("unexpected character '{c}' in argument to <{name}>."),
        ),
        Err(units::TimeError::Empty) => {
            cx.alert(&line.span, format!("'{name}' expects an argument."))
        }
        _ => {}
    };
    match name {
        "close-spread-time" | "tune.lua.service-timeout" | "tune.lua.session-timeout"
        | "tune.lua.task-timeout" | "tune.idletimer" | "tune.ssl.lifetime" => time(cx),
        "max-spread-checks" => match units::parse_time_ms(v) {
            Err(units::TimeError::BadChar(c)) => {
                tight(cx, format!("unsupported character '{c}' in '{name}' (wants an integer delay)."))
            }
            Err(units::TimeError::Empty) => alert(cx, format!("'{name}' expects an integer argument.")),
            _ => {}
        },
        "cpu-map" => {
            let proc_ok = |p: &str| {
                let p = p.strip_prefix("auto:").unwrap_or(p);
                matches!(p, "all" | "odd" | "even")
                    || p.split(['-', '/']).all(|x| x.is_empty() || strict_int(x)) && !p.is_empty()
            };
            if args.len() < 2 || !proc_ok(v) {
                alert(cx, "cpu-map expects a process number  ('all', 'odd', 'even', a number from 1 to 64 or a range),  followed by a list of CPU ranges with numbers".into());
            }
        }
        "default-path" if !matches!(v, "current" | "config" | "parent" | "origin") => alert(
            cx,
            format!("unsupported default-path mode '{v}' for 'default-path', supported modes include 'current', 'config', 'parent', and 'origin'."),
        ),
        "external-check" if !v.is_empty() && v != "preserve-env" => {
            alert(cx, format!("'external-check' cannot handle unexpected argument '{v}'."))
        }
        "h1-case-adjust-file" if cx.env.read_file(std::path::Path::new(v)).is_err() => {
            cx.alert_plain(format!("h1-headers-case-adjust-file '{v}': failed to open file."))
        }
        "issuers-chain-path" if cx.env.stat(std::path::Path::new(v)).is_err() || v.is_empty() => {
            alert(cx, format!("global statement '{name}' expects a directory path as an argument."))
        }
        "master-worker" if !v.is_empty() && v != "no-exit-on-failure" => {
            alert(cx, "'master-worker' only supports 'no-exit-on-failure' option.".into())
        }
        "setenv" | "presetenv" if args.len() < 2 => {
            tight(cx, format!("'{name}' expects a name and a value."))
        }
        "unsetenv" if args.is_empty() => tight(cx, "'unsetenv' expects at least one variable name.".into()),
        "set-var" | "set-var-fmt" if !(v.starts_with("proc.") && args.len() >= 2) => alert(
            cx,
            format!("'{name}' requires a process-wide variable name ('proc.<name>') and a sample expression."),
        ),
        "ssl-default-bind-options" | "ssl-default-server-options" => {
            if args.is_empty() {
                alert(cx, format!("global statement '{name}' expects an option as an argument."));
            } else {
                let mut i = 0;
                while i < args.len() {
                    let o = args[i].text.as_str();
                    match o {
                        "ssl-min-ver" | "ssl-max-ver" => {
                            if !TLS_VERSIONS.contains(&arg(args, i + 1)) {
                                alert(cx, format!("global statement '{name}': '{o}' expects a valid TLS version."));
                                break;
                            }
                            i += 2;
                            continue;
                        }
                        "no-sslv3" | "no-tlsv10" | "no-tlsv11" | "no-tlsv12" | "no-tlsv13"
                        | "force-sslv3" | "force-tlsv10" | "force-tlsv11" | "force-tlsv12"
                        | "force-tlsv13" | "no-tls-tickets" | "prefer-client-ciphers" => {}
                        _ => {
                            alert(cx, format!("global statement '{name}': unknown option '{o}'."));
                            break;
                        }
                    }
                    i += 1;
                }
            }
        }
        "ssl-dh-param-file" if cx.env.read_file(std::path::Path::new(v)).is_err() => {
            alert(cx, format!("'ssl-dh-param-file': unable to load DH parameters from file <{v}>."))
        }
        "ssl-load-extra-files"
            if args.is_empty()
                || !args.iter().all(|w| matches!(w.text.as_str(), "none" | "all" | "bundle" | "sctl" | "ocsp" | "issuer" | "key")) =>
        {
            alert(cx, "'ssl-load-extra-files' expects one or multiple arguments (none, all, bundle, sctl, ocsp, issuer).".into())
        }
        "ssl-propquery" | "ssl-provider" => {
            cx.alert_plain("'server <HTTPCLIENT>/<HTTPSCLIENT>' : unable to allocate ssl context.")
        }
        "thread-group" | "thread-groups" if !strict_int(v) => alert(
            cx,
            format!("'{name}' passed a missing or unparsable integer value in '{v}'"),
        ),
        "unix-bind" => {
            let mut i = 0;
            while i < args.len() {
                if !matches!(args[i].text.as_str(), "prefix" | "mode" | "uid" | "gid" | "user" | "group") {
                    alert(cx, "'unix-bind' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.".into());
                    break;
                }
                i += 2;
            }
        }
        "profiling.tasks" if !on_off(v, &["on", "auto", "off"]) => {
            alert(cx, format!("'profiling.tasks' expects either 'on', 'auto', or 'off' but got '{v}'."))
        }
        "tune.comp.maxlevel" if !(1..=9).contains(&units::atol(v)) => {
            alert(cx, "'tune.comp.maxlevel' expects a numeric value between 1 and 9".into())
        }
        "tune.fd.edge-triggered" => alert(
            cx,
            "'tune.fd.edge-triggered' directive is experimental, must be allowed via a global 'expose-experimental-directives'".into(),
        ),
        "tune.h2.header-table-size" | "tune.h2.max-frame-size" | "tune.lua.maxmem"
        | "tune.peers.max-updates-at-once"
            if !strict_int(v) =>
        {
            alert(cx, format!("'{name}' expects a numeric value."))
        }
        "tune.idle-pool.shared" | "tune.listener.multi-queue" | "tune.sched.low-latency" | "tune.ssl.keylog"
            if !on_off(v, &["on", "off", "auto"]) =>
        {
            alert(cx, format!("'{name}' expects either 'on' or 'off' but got '{v}'."))
        }
        "tune.lua.forced-yield" => {
            if !v.is_empty() && !strict_int(v) {
                alert(cx, "tune.lua.forced-yield: invalid number".into())
            }
        }
        "tune.ssl.default-dh-param" if units::atol(v) < 1024 => {
            alert(cx, "'tune.ssl.default-dh-param' expects a value >= 1024.".into())
        }
        n if n.starts_with("tune.vars.") => {
            if !v.is_empty() && units::parse_size(v).is_err() {
                alert(cx, format!("{name}: '{v}' is an invalid size"));
            }
        }
        "httpclient.ssl.verify" if !matches!(v, "none" | "required") => {
            alert(cx, format!("'{name}' only supports 'none' and 'required'."))
        }
        "httpclient.resolvers.prefer" if !matches!(v, "ipv4" | "ipv6") => {
            alert(cx, format!("'{name}' expects 'ipv4' or 'ipv6'."))
        }
        "httpclient.ssl.ca-file" if cx.env.read_file(std::path::Path::new(v)).is_err() => {
            cx.alert_plain(format!("'{name}' : unable to load {v}."))
        }
        "httpclient.resolvers.id" => cx.deferred_resolvers.push((v.to_string(), line.span.clone())),
        // Missing values are read as 0 by these (atol), words are refused where noted above.
        "mworker-max-reloads" | "tune.fail-alloc" | "tune.h2.initial-window-size"
        | "tune.h2.max-concurrent-streams" => {}
        "expose-experimental-directives" | "numa-cpu-mapping" | "ssl-load-extra-del-ext"
        | "ssl-mode-async" | "ssl-skip-self-issued-ca" => {}
        _ => return None,
    }
    Some(())
}

/// An `ip:port` (or resolvable `host:port`) with a port, as `nameserver`, `mailer`, `peer`
/// and ring `server` lines take it.
fn addr_with_port(cx: &Cx, v: &str) -> bool {
    let (_, rest) = bind::split_prefix(v);
    match bind::split_host_port(rest) {
        Some((h, p)) if strict_int(p) => {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            h.is_empty()
                || h == "*"
                || h.parse::<std::net::IpAddr>().is_ok()
                || cx.env.resolve(h).is_some()
        }
        _ => false,
    }
}

/// Value checks for the keywords of `peers`, `resolvers`, `mailers`, `http-errors`, `ring`,
/// `cache` and `program` sections (all parsed only). `Err` is the message of an ALERT.
pub fn section_value(
    cx: &Cx,
    kind: crate::ast::SectionKind,
    kw: &str,
    args: &[Word],
) -> Result<(), String> {
    use crate::ast::SectionKind as K;
    let v = arg(args, 0);
    let bad = || Err(format!("'{kw}' : invalid argument '{v}'."));
    let time_ok = |t: &str| units::parse_time_ms(t).is_ok();
    match (kind, kw) {
        (K::Peers, "peer")
        | (K::Peers, "server")
        | (K::Mailers, "mailer")
        | (K::Ring, "server") => match args.get(1) {
            Some(a) if addr_with_port(cx, &a.text) => Ok(()),
            None if kind == K::Peers && !v.is_empty() => Ok(()),
            _ if v.is_empty() && kind == K::Peers => Ok(()),
            _ => Err(format!("'{kw}' : invalid address '{}'.", arg(args, 1))),
        },
        (K::Peers, "bind") => {
            if v.is_empty() || addr_with_port(cx, v) {
                Ok(())
            } else {
                Err(format!("'bind' : missing port specification in '{v}'"))
            }
        }
        (K::Peers, "default-bind")
        | (K::Peers, "default-server")
        | (K::Peers, "log")
        | (K::Peers, "table")
            if !v.is_empty() =>
        {
            // Options/arguments haproxyrs does not model: only a known shape is accepted.
            match kw {
                "table" if args.len() >= 3 && arg(args, 1) == "type" => Ok(()),
                "log" if v == "global" || args.len() >= 2 => Ok(()),
                _ => bad(),
            }
        }
        (K::Peers, "log") | (K::Peers, "table") => bad(),
        (K::Peers, "shards") => match units::strict_u32(v) {
            Some(n) if n >= 2 => Ok(()),
            _ => bad(),
        },
        (K::Resolvers, "resolve_retries") => Ok(()),
        (K::Ring, "maxlen")
        | (K::Cache, "max-secondary-entries")
        | (K::Cache, "max-age")
        | (K::Cache, "total-max-size")
        | (K::Cache, "max-object-size") => {
            if strict_int(v) {
                Ok(())
            } else {
                bad()
            }
        }
        (K::Peers, "disabled") | (K::Peers, "enabled") | (K::Resolvers, "parse-resolv-conf") => {
            Ok(())
        }
        (K::Resolvers, "accepted_payload_size") => match units::strict_u32(v) {
            Some(n) if (512..=65535).contains(&n) => Ok(()),
            _ => bad(),
        },
        (K::Resolvers, "nameserver") => {
            // The address is only resolved when the resolvers start: a port is enough here.
            let a = arg(args, 1);
            if matches!(bind::split_host_port(bind::split_prefix(a).1), Some((_, p)) if strict_int(p))
            {
                Ok(())
            } else {
                Err(format!(
                    "'nameserver' : invalid address '{}'.",
                    arg(args, 1)
                ))
            }
        }
        (K::Resolvers, "hold") => {
            if matches!(
                v,
                "nx" | "other" | "refused" | "timeout" | "valid" | "obsolete"
            ) && time_ok(arg(args, 1))
            {
                Ok(())
            } else {
                bad()
            }
        }
        (K::Ring, "timeout") => Ok(()),
        (K::Program, "option") if v != "start-on-reload" => Err(format!(
            "'option' : unknown option '{v}', expects 'start-on-reload'."
        )),
        (K::LogForward, "dgram-bind") if !v.is_empty() && !addr_with_port(cx, v) => Err(format!(
            "'dgram-bind' : missing port specification in '{v}'"
        )),
        (K::LogForward, "log") => match args.get(1) {
            Some(_)
                if v == "global"
                    || addr_with_port(cx, v)
                    || v.starts_with('/')
                    || v.starts_with("ring@") =>
            {
                Ok(())
            }
            _ => Err(format!(
                "'log' : expects <address> and <facility> (got '{v}')."
            )),
        },
        (K::LogForward, "timeout") => {
            if v == "client" && time_ok(arg(args, 1)) {
                Ok(())
            } else {
                bad()
            }
        }
        (K::Resolvers, "timeout") | (K::Mailers, "timeout") => {
            let ok = match kind {
                K::Resolvers => matches!(v, "resolve" | "retry"),
                K::Mailers => v == "mail",
                _ => matches!(v, "connect" | "server"),
            };
            if ok && time_ok(arg(args, 1)) {
                Ok(())
            } else {
                bad()
            }
        }
        (K::HttpErrors, "errorfile") => {
            let code = units::strict_u32(v).unwrap_or(0) as u16;
            if !super::http_rules::ERRORFILE_CODES.contains(&code) || args.len() < 2 {
                return Err(format!(
                    "errorfile : <code> and <file> expected (got '{v}')."
                ));
            }
            Ok(())
        }
        (K::Ring, "description") if v.is_empty() => bad(),
        (K::Ring, "format") => match v {
            "iso" | "local" | "raw" | "rfc3164" | "rfc5424" | "short" | "priority" | "timed" => {
                Ok(())
            }
            _ => bad(),
        },
        (K::Ring, "size") => match units::parse_size(v) {
            Ok(n) if n >= 2 => Ok(()),
            _ => bad(),
        },
        (K::Cache, "process-vary") => one_of(v, &["on", "off"], kw),
        (K::Program, "group") if !cx.env.group_exists(v) || v.parse::<u32>().is_ok() => {
            Err(format!("'group' : unknown group '{v}'."))
        }
        (K::Program, "user") if !cx.env.user_exists(v) || v.parse::<u32>().is_ok() => {
            Err(format!("'user' : unknown user '{v}'."))
        }
        _ => Ok(()),
    }
}
