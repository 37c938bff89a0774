//! `log` targets, shared by `global` and the proxies:
//! `log <target> [len N] [format F] [sample R:S] <facility> [<level> [<minlevel>]]`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::ast::{Line, Word};
use crate::ir::{LogDest, LogSample, LogTarget, LogTransport};

use super::bind::{split_host_port, split_prefix};
use super::Cx;

pub const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

pub const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Parse a `log` line's arguments (after `log`), or report HAProxy's error.
pub fn parse_target(cx: &mut Cx, line: &Line, args: &[Word], in_proxy: bool) -> Option<LogTarget> {
    let usage = if in_proxy {
        "log : expects <address> and <facility> or global as arguments"
    } else {
        "log : expects <address> and <facility>  as arguments"
    };
    let words: Vec<&str> = args
        .iter()
        .map(|w| w.text.as_str())
        .take_while(|t| !t.is_empty())
        .collect();
    if words.len() < 2 {
        cx.alert(&line.span, usage);
        return None;
    }
    let target = words[0];
    let mut format = LogTransport::Unspecified;
    let mut len = 1024u32;
    let mut sample = None;
    // 2.6 takes these options once each and in this order; anything else where the
    // facility is expected is reported as an unknown facility.
    let mut i = 1;
    if words.get(i) == Some(&"len") {
        let v = words.get(i + 1).copied().unwrap_or("");
        match v.parse::<u32>() {
            Ok(n) if (80..=65535).contains(&n) => len = n,
            _ => {
                cx.alert(
                    &line.span,
                    format!("log : invalid log length '{v}', must be between 80 and 65535"),
                );
                return None;
            }
        }
        i += 2;
    }
    if words.get(i) == Some(&"format") {
        format = match words.get(i + 1).copied() {
            Some("raw") => LogTransport::Raw,
            Some("rfc3164") => LogTransport::Rfc3164,
            Some("rfc5424") => LogTransport::Rfc5424,
            Some("local") => LogTransport::Local,
            Some("short") => LogTransport::Short,
            Some("priority") => LogTransport::Priority,
            Some("timed") => LogTransport::Timed,
            Some("iso") => LogTransport::Iso,
            other => {
                cx.alert(
                    &line.span,
                    format!("log : unknown log format '{}'", other.unwrap_or("")),
                );
                return None;
            }
        };
        i += 2;
    }
    if words.get(i) == Some(&"sample") {
        match parse_sample(words.get(i + 1).copied().unwrap_or("")) {
            Ok(s) => sample = Some(s),
            Err(msg) => {
                cx.alert(&line.span, format!("log : {msg}"));
                return None;
            }
        }
        i += 2;
    }
    let Some(facility) = words.get(i).copied() else {
        cx.alert(&line.span, usage);
        return None;
    };
    let Some(fac) = FACILITIES.iter().position(|f| *f == facility) else {
        cx.alert(
            &line.span,
            format!("log : unknown log facility '{facility}'"),
        );
        return None;
    };
    // `<level>` filters, `<minlevel>` caps; 2.6 names each in its error.
    let mut levels = [(7u8, "log level"), (0u8, "minimum log level")];
    for (k, (level, what)) in levels.iter_mut().enumerate() {
        let Some(name) = words.get(i + 1 + k) else {
            break;
        };
        match LEVELS.iter().position(|l| l == name) {
            Some(l) => *level = l as u8,
            None => {
                cx.alert(
                    &line.span,
                    format!("log : unknown optional {what} '{name}'"),
                );
                return None;
            }
        }
    }
    let [(max_level, _), (min_level, _)] = levels;
    if let Some(extra) = words.get(i + 3) {
        cx.alert(
            &line.span,
            format!("log : cannot handle unexpected argument '{extra}'"),
        );
        return None;
    }
    let to = |dest| LogTarget {
        dest,
        facility: fac as u8,
        max_level,
        min_level,
        format,
        len,
        sample: sample.clone(),
    };
    match target {
        "stdout" => return Some(to(LogDest::Stdout)),
        "stderr" => return Some(to(LogDest::Stderr)),
        _ => {}
    }
    let (family, rest) = split_prefix(target);
    if family == Some("unix") || (family.is_none() && rest.starts_with('/')) {
        return Some(to(LogDest::Unix(PathBuf::from(rest))));
    }
    if target.starts_with("ring@") || family == Some("fd") {
        cx.unimplemented(&line.span, &format!("log {target}"));
        return Some(to(LogDest::Stderr));
    }
    let (host, port) = match split_host_port(rest) {
        Some((h, p)) if rest.parse::<IpAddr>().is_err() || rest.starts_with('[') => (h, p),
        _ => (rest, ""),
    };
    let port: u16 = if port.is_empty() {
        514
    } else {
        match port.parse() {
            Ok(p) => p,
            Err(_) => {
                cx.alert(
                    &line.span,
                    format!("log : invalid port '{port}' in '{target}'"),
                );
                return None;
            }
        }
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let ip = match bare.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => match cx.env.resolve(bare).and_then(|v| v.first().copied()) {
            Some(ip) => ip,
            None => {
                cx.alert(&line.span, format!("log : unknown host in '{target}'"));
                return None;
            }
        },
    };
    Some(to(LogDest::Udp(SocketAddr::new(ip, port))))
}

/// `sample RANGES:SIZE`, as 2.6 checks it: ranges `N` or `N-M` (1-based, N <= M) separated
/// by commas, and a size that covers the highest range end.
fn parse_sample(arg: &str) -> Result<LogSample, String> {
    let Some((ranges, size)) = arg.split_once(':') else {
        return Err("Missing sample size".into());
    };
    let mut out = Vec::new();
    for r in ranges.split(',') {
        let (lo, hi) = r.split_once('-').unwrap_or((r, r));
        match (lo.parse::<u32>(), hi.parse::<u32>()) {
            (Ok(lo), Ok(hi)) if lo >= 1 && lo <= hi => out.push((lo, hi)),
            _ => return Err(format!("wrong sample range '{r}'")),
        }
    }
    let top = out.iter().map(|&(_, hi)| hi).max().unwrap_or(0);
    match size.parse::<u32>() {
        Ok(n) if n >= top => Ok(LogSample { ranges: out, size: n }),
        _ => Err(format!(
            "sample size {size} should be greater or equal to {top} the maximum of the high ranges limits"
        )),
    }
}
