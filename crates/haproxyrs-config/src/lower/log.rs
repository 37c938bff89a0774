//! `log` targets, shared by `global` and the proxies:
//! `log <target> [len N] [format F] [sample R:S] <facility> [<level> [<minlevel>]]`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::ast::{Line, Word};
use crate::ir::{LogTarget, LogTransport};

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
    let mut format = LogTransport::Rfc3164;
    let mut i = 1;
    while i < words.len() {
        match words[i] {
            "len" | "sample" => i += 2,
            "format" => {
                format = match words.get(i + 1).copied() {
                    Some("raw") => LogTransport::Raw,
                    Some("rfc5424") => LogTransport::Rfc5424,
                    Some("short") => LogTransport::Short,
                    Some("rfc3164") | Some("local") | Some("iso") | Some("priority")
                    | Some("timed") => LogTransport::Rfc3164,
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
            _ => break,
        }
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
    let mut max_level = 7u8;
    if let Some(level) = words.get(i + 1) {
        match LEVELS.iter().position(|l| l == level) {
            Some(l) => max_level = l as u8,
            None => {
                cx.alert(
                    &line.span,
                    format!("log : unknown optional log level '{level}'"),
                );
                return None;
            }
        }
    }
    if let Some(min) = words.get(i + 2) {
        if !LEVELS.contains(min) {
            cx.alert(
                &line.span,
                format!("log : unknown optional minimum log level '{min}'"),
            );
            return None;
        }
    }
    if let Some(extra) = words.get(i + 3) {
        cx.alert(
            &line.span,
            format!("log : cannot handle unexpected argument '{extra}'"),
        );
        return None;
    }
    let facility = fac as u8;
    match target {
        "stdout" => return Some(LogTarget::Stdout { format }),
        "stderr" => return Some(LogTarget::Stderr { format }),
        _ => {}
    }
    let (family, rest) = split_prefix(target);
    if family == Some("unix") || (family.is_none() && rest.starts_with('/')) {
        return Some(LogTarget::Unix {
            path: PathBuf::from(rest),
            facility,
            max_level,
            format,
        });
    }
    if target.starts_with("ring@") || family == Some("fd") {
        cx.unimplemented(&line.span, &format!("log {target}"));
        return Some(LogTarget::Stderr { format });
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
    Some(LogTarget::Udp {
        addr: SocketAddr::new(ip, port),
        facility,
        max_level,
        format,
    })
}
