//! The `global` section and its keyword handlers.

use std::path::PathBuf;

use crate::ast::{Line, Section, SectionKind, Word};

use super::keywords::{self, Handler, Status};
use super::proxy::WordOpt;
use super::{units, Cx};

/// A `global` section (it may appear several times; settings accumulate).
pub fn section(cx: &mut Cx, section: &Section) {
    if let Some(extra) = section.header.words.get(1) {
        cx.alert(
            &section.header.span,
            format!(
                "'global' cannot handle unexpected argument '{}'.",
                extra.text
            ),
        );
    }
    for line in &section.lines {
        if cx.abort {
            return;
        }
        self::line(cx, line);
    }
}

fn line(cx: &mut Cx, line: &Line) {
    let mut kw = line.keyword();
    // `no KEYWORD` turns a flag off (`no strict-limits`, `no numa-cpu-mapping`…).
    if kw == "no" {
        match line.args().first() {
            Some(w) if keywords::lookup(&w.text, SectionKind::Global).is_some() => kw = &w.text,
            _ => {
                cx.alert(&line.span, "'no' only supports a boolean global keyword.");
                return;
            }
        }
        if matches!(kw, "zero-warning") {
            cx.global.zero_warning = false;
        }
        return;
    }
    let Some(entry) = keywords::lookup(kw, SectionKind::Global) else {
        cx.unknown_keyword(line, "global", keywords::names_in(SectionKind::Global));
        return;
    };
    let span = &line.words[0].span;
    match entry.status {
        Status::Removed(msg) => {
            cx.alert(span, msg);
            return;
        }
        Status::Deprecated(msg) => {
            if entry.handler_needs_arg() && line.args().first().is_none_or_empty() {
                cx.alert(span, format!("'{kw}' expects an argument."));
                return;
            }
            cx.diags.push(crate::diag::Diagnostic {
                level: crate::diag::Level::Warning,
                text: format!("parsing [{span}]: {msg}"),
                span: Some(span.clone()),
                help: None,
                unimplemented: false,
            });
            return;
        }
        _ => {}
    }
    let before = cx.diags.items.len();
    match entry.handler {
        Handler::Global(f) => f(cx, line, line.args()),
        other => {
            if super::checks::global_value(cx, line, kw, line.args()).is_none() {
                super::proxy::generic_args(cx, line, other, line.args(), kw)
            }
        }
    }
    if cx.diags.items[before..]
        .iter()
        .any(|d| d.level == crate::diag::Level::Alert)
    {
        return;
    }
    match entry.status {
        Status::ParsedOnly => cx.unimplemented(span, kw),
        Status::Refused => cx.refuse(span, kw),
        _ => {}
    }
}

/// The single argument of a global keyword, or HAProxy's ALERT (`msg` when it is missing,
/// "cannot handle unexpected argument" when there are more).
fn one<'w>(cx: &mut Cx, line: &Line, args: &'w [Word], msg: &str) -> Option<&'w str> {
    if args.first().is_none_or_empty() {
        cx.alert(&line.span, msg);
        return None;
    }
    if let Some(extra) = args.get(1) {
        cx.alert(
            &line.span,
            format!(
                "'{}' cannot handle unexpected argument '{}'.",
                line.keyword(),
                extra.text
            ),
        );
        return None;
    }
    Some(&args[0].text)
}

pub fn maxconn(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(cx, line, args, "'maxconn' expects an integer argument.") {
        cx.global.maxconn = units::atou32(v);
    }
}

pub fn maxconnrate(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(cx, line, args, "'maxconnrate' expects an integer argument.") {
        cx.global.maxconnrate = Some(units::atou32(v));
    }
}

pub fn maxsessrate(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(cx, line, args, "'maxsessrate' expects an integer argument.") {
        cx.global.maxsessrate = Some(units::atou32(v));
    }
}

pub fn nbthread(cx: &mut Cx, line: &Line, args: &[Word]) {
    let v = args.first().map(|w| w.text.as_str()).unwrap_or("");
    match units::strict_u32(v) {
        Some(n) if (1..=64).contains(&n) => cx.global.nbthread = Some(n as usize),
        // 64: the thread limit of Debian's 2.6 build.
        Some(n) => cx.alert(
            &line.span,
            format!("'nbthread' value must be between 1 and 64 (was {n})"),
        ),
        None => cx.alert(
            &line.span,
            format!("'nbthread' passed a missing or unparsable integer value in '{v}'"),
        ),
    }
}

pub fn ulimit_n(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(cx, line, args, "'ulimit-n' expects an integer argument.") {
        cx.global.ulimit_n = Some(units::atou32(v));
    }
}

pub fn spread_checks(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'spread-checks' expects an integer argument.",
    ) {
        let n = units::atol(v);
        if !(0..=50).contains(&n) {
            cx.alert_tight(
                &line.span,
                "'spread-checks' needs a positive value in range 0..50.",
            );
            return;
        }
        cx.global.spread_checks = n as u32;
    }
}

pub fn tune_bufsize(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'tune.bufsize' expects an integer argument.",
    ) {
        let n = units::atol(v);
        if n <= 0 {
            cx.alert(
                &line.span,
                "'tune.bufsize' expects a positive integer argument.",
            );
            return;
        }
        cx.global.bufsize = n as usize;
    }
}

pub fn tune_maxrewrite(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'tune.maxrewrite' expects an integer argument.",
    ) {
        cx.global.maxrewrite = units::atol(v).max(0) as usize;
    }
}

pub fn tune_maxhdr(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'tune.http.maxhdr' expects an integer argument.",
    ) {
        let n = units::atol(v);
        if !(1..=32767).contains(&n) {
            cx.alert(
                &line.span,
                "'tune.http.maxhdr' expects a numeric value between 1 and 32767",
            );
            return;
        }
        cx.global.max_http_headers = n as usize;
    }
}

pub fn tune_maxaccept(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'tune.maxaccept' expects an integer argument.",
    ) {
        cx.global.maxaccept = Some(units::atol(v).clamp(-1, i64::from(i32::MAX)) as i32);
    }
}

pub fn hard_stop_after(cx: &mut Cx, line: &Line, args: &[Word]) {
    let v = args.first().map(|w| w.text.as_str()).unwrap_or("");
    match units::parse_time_ms(v) {
        Ok(t) => cx.global.hard_stop_after = Some(t),
        Err(units::TimeError::Empty) => {
            cx.alert(&line.span, "'hard-stop-after' expects <time> as argument.")
        }
        Err(units::TimeError::BadChar(c)) => cx.alert(
            &line.span,
            format!("unexpected character '{c}' in argument to <hard-stop-after>."),
        ),
        Err(e) => cx.alert(&line.span, e.message("hard-stop-after", v)),
    }
}

pub fn pidfile(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'pidfile' expects a file name as an argument.",
    ) {
        // As 2.6, the first one stays (2.6 also prints a non-fatal ALERT for the others).
        if cx.global.pidfile.is_none() {
            cx.global.pidfile = Some(PathBuf::from(v));
        }
    }
}

pub fn chroot(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'chroot' expects a directory as an argument.",
    ) {
        cx.global.chroot = Some(PathBuf::from(v));
    }
}

pub fn description(cx: &mut Cx, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        cx.alert_tight(&line.span, "'description' expects a string argument.");
        return;
    }
    let words: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
    cx.global.description = Some(words.join(" "));
}

pub fn node(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(cx, line, args, "'node' expects an argument.") {
        cx.global.node = Some(v.to_string());
    }
}

pub fn log_tag(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(cx, line, args, "'log-tag' expects a tag for use in syslog.") {
        cx.global.log_tag = Some(v.to_string());
    }
}

pub fn log_send_hostname(cx: &mut Cx, _line: &Line, args: &[Word]) {
    cx.global.log_send_hostname = Some(args.first().map(|w| w.text.clone()).unwrap_or_default());
}

pub fn daemon(cx: &mut Cx, line: &Line, args: &[Word]) {
    super::proxy::generic_args(cx, line, Handler::NoArg, args, "daemon");
    cx.global.daemon = true;
}

pub fn zero_warning(cx: &mut Cx, line: &Line, args: &[Word]) {
    super::proxy::generic_args(cx, line, Handler::NoArg, args, "zero-warning");
    cx.global.zero_warning = true;
}

pub fn user(cx: &mut Cx, line: &Line, args: &[Word]) {
    let name = args.first().map(|w| w.text.as_str()).unwrap_or("");
    if cx.global.user.is_some() {
        cx.warn(&line.span, "user/uid already specified. Continuing.");
    }
    if !cx.env.user_exists(name) || name.is_empty() {
        cx.alert(
            &line.span,
            format!("cannot find user id for '{name}' (0:Success)"),
        );
        return;
    }
    cx.global.user = Some(name.to_string());
}

pub fn group(cx: &mut Cx, line: &Line, args: &[Word]) {
    let name = args.first().map(|w| w.text.as_str()).unwrap_or("");
    if cx.global.group.is_some() {
        cx.warn(&line.span, "group/gid already specified. Continuing.");
    }
    if !cx.env.group_exists(name) || name.is_empty() {
        cx.alert(
            &line.span,
            format!("cannot find group id for '{name}' (0:Success)"),
        );
        return;
    }
    cx.global.group = Some(name.to_string());
}

pub fn uid(cx: &mut Cx, line: &Line, args: &[Word]) {
    numeric_id(cx, line, args, "uid");
}

pub fn gid(cx: &mut Cx, line: &Line, args: &[Word]) {
    numeric_id(cx, line, args, "gid");
}

/// `uid N` / `gid N`: 2.6 only warns about a value that is not a number (and uses 0).
fn numeric_id(cx: &mut Cx, line: &Line, args: &[Word], kw: &str) {
    let v = args.first().map(|w| w.text.as_str()).unwrap_or("");
    if v.is_empty() {
        cx.alert(&line.span, format!("'{kw}' expects an integer argument."));
        return;
    }
    let id = match units::strict_u32(v) {
        Some(n) => n,
        None => {
            cx.warn(&line.span, format!(" {kw}: string '{v}' is not a number."));
            0
        }
    };
    if kw == "uid" {
        cx.global.user = Some(id.to_string());
    } else {
        cx.global.group = Some(id.to_string());
    }
}

pub fn ssl_server_verify(cx: &mut Cx, line: &Line, args: &[Word]) {
    match args.first().map(|w| w.text.as_str()) {
        Some("none") => cx.ssl_server_verify_none = true,
        Some("required") => cx.ssl_server_verify_none = false,
        _ => cx.alert(
            &line.span,
            "'ssl-server-verify' expects 'none' or 'required' as argument.",
        ),
    }
}

pub fn master_worker(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(w) = args.first().filter(|w| w.text != "no-exit-on-failure") {
        let _ = w;
        cx.alert(
            &line.span,
            "'master-worker' only supports 'no-exit-on-failure' option.",
        );
        return;
    }
    cx.global.master_worker = true;
}

pub fn lua_load(cx: &mut Cx, line: &Line, args: &[Word]) {
    let Some(file) = one(
        cx,
        line,
        args,
        "'lua-load' expects a file name as parameter.",
    ) else {
        return;
    };
    if let Err(e) = cx.env.read_file(std::path::Path::new(file)) {
        cx.alert(
            &line.span,
            format!(
                "error in Lua file '{file}': cannot open {file}: {}",
                super::bind::os_error_text(&e)
            ),
        );
    }
}

pub fn ca_base(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'ca-base' expects a directory path as an argument.",
    ) {
        cx.ca_base = Some(v.to_string());
    }
}

pub fn crt_base(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'crt-base' expects a directory path as an argument.",
    ) {
        cx.crt_base = Some(v.to_string());
    }
}

pub fn insecure_fork_wanted(cx: &mut Cx, line: &Line, args: &[Word]) {
    super::proxy::generic_args(cx, line, Handler::NoArg, args, "insecure-fork-wanted");
    cx.insecure_fork = true;
}

pub fn localpeer(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(cx, line, args, "'localpeer' expects a name as an argument.") {
        cx.localpeer = Some(v.to_string());
    }
}

pub fn server_state_file(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'server-state-file' expects a file path as an argument.",
    ) {
        cx.server_state_file = Some(v.to_string());
    }
}

pub fn server_state_base(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(v) = one(
        cx,
        line,
        args,
        "'server-state-base' expects a directory path as an argument.",
    ) {
        cx.server_state_base = Some(v.to_string());
    }
}

pub fn log(cx: &mut Cx, line: &Line, args: &[Word]) {
    if let Some(t) = super::log::parse_target(cx, line, args, false) {
        cx.global.logs.push(t);
    }
}

/// `stats socket|timeout|maxconn|bind-process` in `global`.
pub fn stats(cx: &mut Cx, line: &Line, args: &[Word]) {
    let sub = args.first().map(|w| w.text.as_str()).unwrap_or("");
    let rest = if args.is_empty() { args } else { &args[1..] };
    match sub {
        "socket" => {
            if rest.first().is_none_or_empty() {
                cx.alert(&line.span, "'stats socket' in global section expects an address or a path to a UNIX socket");
                return;
            }
            let addr = &rest[0].text;
            let env = cx.env;
            let resolve = |h: &str| env.resolve(h).and_then(|v| v.first().copied());
            match super::bind::parse_bind_addr(addr, &resolve) {
                Ok(a) => {
                    cx.global.stats_sockets.push(crate::ir::Bind {
                        addr: a,
                        span: line.span.clone(),
                        backlog: None,
                        accept_proxy: false,
                        v4v6: false,
                        v6only: false,
                        maxconn: None,
                        name: None,
                        ssl: false,
                    });
                    let mut i = 1;
                    while i < rest.len() {
                        if rest[i].text == "process" {
                            let v = rest.get(i + 1).map(|w| w.text.as_str()).unwrap_or("");
                            if v == "1" || v == "all" || v == "odd" {
                                cx.warn(&line.span, format!("'stats socket' : 'process {v}' on 'bind' lines is deprecated and will be removed in 2.7."));
                            } else {
                                cx.alert(&line.span, format!("'stats socket' : ''process' : '{v}' is not a valid number/range. It supports numbers from 1 to 1."));
                                return;
                            }
                            i += 1;
                        }
                        i += 1;
                    }
                    cx.unimplemented(&line.span, "stats socket");
                }
                Err(_) => cx.alert(&line.span, format!("'stats socket' : invalid address '{addr}'")),
            }
        }
        "timeout" => match rest.first().map(|w| units::parse_time_ms(&w.text)) {
            Some(Ok(t)) if !t.is_zero() => cx.global.stats_timeout = t,
            Some(Err(units::TimeError::BadChar(c))) => cx.alert(&line.span, format!("'stats timeout' unexpected character '{c}'")),
            _ => cx.alert(&line.span, "'stats timeout' expects a positive value"),
        },
        "maxconn" => {
            if units::atol(rest.first().map(|w| w.text.as_str()).unwrap_or("")) <= 0 {
                cx.alert(&line.span, "'stats maxconn' expects a positive value");
            }
        }
        "bind-process" => cx.warn(&line.span, "'stats bind-process' has no effect, is deprecated, and will be removed in version 2.7."),
        other => cx.alert(&line.span, format!("'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{other}')")),
    }
}
