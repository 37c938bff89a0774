//! `bind` lines: listening addresses (`*:80`, `:80`, `[::]:443`, `:::443`, `ipv4@`, `ipv6@`,
//! `unix@`, `abns@`, `fd@N`, `sockpair@N`, port ranges, comma lists) and bind options.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use crate::ast::{Line, Word};
use crate::ir::{Bind, BindAddr};

use super::keywords::{self, Status};
use super::{units, Cx};

/// Why an address could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrError {
    MissingPort,
    InvalidPort(String),
    InvalidAddress(String),
    InvalidFd(String),
}

/// One address of a `bind` list, before options.
pub fn parse_bind_addr(
    text: &str,
    resolve: &dyn Fn(&str) -> Option<IpAddr>,
) -> Result<BindAddr, AddrError> {
    let (family, rest) = split_prefix(text);
    match family {
        Some("unix") => return Ok(BindAddr::Unix(PathBuf::from(rest))),
        Some("abns") => return Ok(BindAddr::Abns(rest.to_string())),
        Some("fd") => {
            return units::strict_u32(rest)
                .and_then(|n| i32::try_from(n).ok())
                .map(BindAddr::Fd)
                .ok_or_else(|| AddrError::InvalidFd(rest.to_string()))
        }
        Some("sockpair") => {
            return units::strict_u32(rest)
                .and_then(|n| i32::try_from(n).ok())
                .map(BindAddr::SockPair)
                .ok_or_else(|| AddrError::InvalidFd(rest.to_string()))
        }
        _ => {}
    }
    if family.is_none() && rest.starts_with('/') {
        return Ok(BindAddr::Unix(PathBuf::from(rest)));
    }
    let v6 = family == Some("ipv6");
    let (host, port) = split_host_port(rest).ok_or(AddrError::MissingPort)?;
    let (port_lo, port_hi) = parse_port_range(port)?;
    let addr = if host.is_empty() || host == "*" {
        if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        }
    } else if let Ok(ip) = host.parse::<IpAddr>() {
        ip
    } else {
        resolve(host).ok_or_else(|| AddrError::InvalidAddress(host.to_string()))?
    };
    Ok(BindAddr::Inet {
        addr,
        port_lo,
        port_hi,
    })
}

/// `ipv4@x` → (`ipv4`, `x`) for the prefixes HAProxy knows.
pub fn split_prefix(text: &str) -> (Option<&str>, &str) {
    for p in [
        "ipv4", "ipv6", "unix", "abns", "fd", "sockpair", "udp", "udp4", "udp6", "tcp", "tcp4",
        "tcp6", "quic4", "quic6", "uxst", "uxdg",
    ] {
        if let Some(rest) = text.strip_prefix(p).and_then(|r| r.strip_prefix('@')) {
            let family = match p {
                "tcp4" | "udp4" | "quic4" => "ipv4",
                "tcp6" | "udp6" | "quic6" => "ipv6",
                "uxst" | "uxdg" => "unix",
                other => other,
            };
            return (Some(family), rest);
        }
    }
    (None, text)
}

/// `host:port`, `[v6]:port`, `:::port` → (host, port). `None`: no `:` at all.
pub fn split_host_port(text: &str) -> Option<(&str, &str)> {
    if let Some(rest) = text.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let port = rest[end + 1..].strip_prefix(':')?;
        return Some((host, port));
    }
    let colon = text.rfind(':')?;
    Some((&text[..colon], &text[colon + 1..]))
}

fn parse_port_range(text: &str) -> Result<(u16, u16), AddrError> {
    let (lo, hi) = match text.split_once('-') {
        Some((a, b)) => (a, b),
        None => (text, text),
    };
    if lo.is_empty()
        || !lo.bytes().all(|b| b.is_ascii_digit())
        || !hi.bytes().all(|b| b.is_ascii_digit())
        || hi.is_empty()
    {
        return Err(AddrError::MissingPort);
    }
    let p = |s: &str| -> Result<u16, AddrError> {
        match s.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
            _ => Err(AddrError::InvalidPort(s.to_string())),
        }
    };
    let (a, b) = (p(lo)?, p(hi)?);
    if b < a {
        return Err(AddrError::InvalidPort(text.to_string()));
    }
    Ok((a, b))
}

/// A whole `bind` line: every address of its comma list, each with the line's options.
pub fn parse_bind_line(
    cx: &mut Cx,
    line: &Line,
    args: &[Word],
    section: &str,
    proxy: &str,
) -> Option<Vec<Bind>> {
    let Some(list) = args.first().filter(|w| !w.text.is_empty()) else {
        cx.alert(
            &line.span,
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
        );
        return None;
    };
    let env = cx.env;
    let resolve = |h: &str| env.resolve(h).and_then(|v| v.first().copied());
    let mut binds = Vec::new();
    let mut failed = false;
    for item in list.text.split(',') {
        match parse_bind_addr(item, &resolve) {
            Ok(addr) => binds.push(Bind {
                addr,
                span: line.span.clone(),
                backlog: None,
                accept_proxy: false,
                v4v6: false,
                v6only: false,
                maxconn: None,
                name: None,
                ssl: false,
            }),
            Err(e) => {
                failed = true;
                let msg = match e {
                    AddrError::MissingPort => {
                        format!("'bind' : missing port specification in '{item}'")
                    }
                    AddrError::InvalidPort(p) if p.contains('-') => {
                        format!("'bind' : invalid port range '{p}'")
                    }
                    AddrError::InvalidPort(p) => format!("'bind' : invalid port '{p}'"),
                    AddrError::InvalidAddress(h) => {
                        format!("'bind' : invalid address: '{h}' in '{item}'")
                    }
                    AddrError::InvalidFd(f) => {
                        format!("'bind' : invalid file descriptor '{f}' in '{item}'")
                    }
                };
                cx.alert(&line.span, msg);
            }
        }
    }
    if failed {
        return None;
    }
    for b in &binds {
        if let BindAddr::Fd(fd) = b.addr {
            if let Some(why) = cx.env.fd_error(fd) {
                cx.alert(
                    &line.span,
                    format!("'bind' : cannot use file descriptor '{fd}' : {why}."),
                );
                return None;
            }
        }
    }
    let prefix = format!("'bind {}' in section '{section}'", list.text);
    let mut i = 1;
    let mut refused_line = false;
    let mut not_implemented: Vec<&str> = Vec::new();
    while i < args.len() {
        let name = args[i].text.as_str();
        let Some(opt) = keywords::bind_option(name) else {
            let mut d = crate::diag::Diagnostic::alert(
                &line.span,
                format!("{prefix}: unknown keyword '{name}'."),
            );
            if let Some(s) =
                crate::suggest::best_match(name, keywords::BIND_OPTIONS.iter().map(|o| o.name))
            {
                d = crate::diag::Diagnostic::alert(
                    &line.span,
                    format!("{prefix}: unknown keyword '{name}'; did you mean '{s}' maybe ?"),
                )
                .with_help(format!("did you mean '{s}'?"));
            }
            cx.diags.push(d);
            return None;
        };
        let value = if opt.args > 0 {
            match args.get(i + 1) {
                Some(v) => Some(v.text.as_str()),
                None => {
                    cx.alert(&line.span, format!("{prefix} : '{name}' : missing value"));
                    return None;
                }
            }
        } else {
            None
        };
        let v = value.unwrap_or("");
        match name {
            "backlog" | "maxconn" => {
                // atol(), as 2.6 reads them; 0 keeps the default.
                let n = units::atou32(v);
                for b in binds.iter_mut().filter(|_| n > 0) {
                    if name == "backlog" {
                        b.backlog = Some(n);
                    } else {
                        b.maxconn = Some(n);
                    }
                }
            }
            "name" => binds.iter_mut().for_each(|b| b.name = Some(v.to_string())),
            _ if opt.args > 0
                && !matches!(
                    name,
                    "crt" | "ca-file" | "crl-file" | "ca-verify-file" | "crt-list" | "process"
                ) =>
            {
                if let Err(msg) = super::checks::sub_option_value(cx, false, name, v) {
                    cx.alert(&line.span, format!("{prefix} : {msg}"));
                    return None;
                }
            }
            "accept-proxy" => binds.iter_mut().for_each(|b| b.accept_proxy = true),
            "v4v6" => binds.iter_mut().for_each(|b| b.v4v6 = true),
            "v6only" => binds.iter_mut().for_each(|b| b.v6only = true),
            "ssl" => binds.iter_mut().for_each(|b| b.ssl = true),
            "crt" | "ca-file" | "crl-file" | "ca-verify-file" | "crt-list" => {
                let path = with_base(
                    if name == "crt" || name == "crt-list" {
                        cx.crt_base.as_deref()
                    } else {
                        cx.ca_base.as_deref()
                    },
                    v,
                );
                if let Err(e) = cx.env.stat(std::path::Path::new(&path)) {
                    let what = match name {
                        "crt" => format!(
                            "unable to stat SSL certificate from file '{path}' : {}.",
                            os_error_text(&e)
                        ),
                        "crt-list" => {
                            format!(
                                "'crt-list' : cannot open file '{path}' : {}",
                                os_error_text(&e)
                            )
                        }
                        _ => {
                            cx.alert_plain(format!(
                                "Couldn't open the {name} '{path}' ({}).",
                                os_error_text(&e)
                            ));
                            format!("'{name}' : unable to load {path}")
                        }
                    };
                    cx.alert(&line.span, format!("{prefix} : {what}"));
                    return None;
                }
            }
            "process" => {
                // One process only since 2.5: `1`, `all`, `odd`, `1-1`… are accepted (with a
                // deprecation warning), other numbers and words are not.
                let one = |p: &str| p == "1";
                let ok = matches!(v, "all" | "odd")
                    || v.split('/').next().is_some_and(|t| t.split('-').all(one));
                if !ok {
                    let valid = v
                        .split(['-', '/'])
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                        || v == "even";
                    let extra = if valid {
                        " It supports numbers from 1 to 1."
                    } else {
                        ""
                    };
                    cx.alert(
                        &line.span,
                        format!("{prefix} : 'process' : '{v}' is not a valid number/range.{extra}"),
                    );
                    return None;
                }
                cx.warn(
                    &line.span,
                    format!("{prefix} : 'process {v}' on 'bind' lines is deprecated and will be removed in 2.7."),
                );
            }
            _ => {}
        }
        match opt.status {
            Status::ParsedOnly => not_implemented.push(name),
            Status::Refused if !refused_line => {
                refused_line = true;
                cx.refuse(&line.span, &format!("bind {name}"));
            }
            _ => {}
        }
        i += 1 + usize::from(opt.args);
    }
    if binds.iter().any(|b| b.ssl) && !args.iter().any(|w| w.text == "crt" || w.text == "crt-list")
    {
        cx.deferred.push(crate::diag::Diagnostic::new(
            crate::diag::Level::Alert,
            format!(
                "Proxy '{proxy}': no SSL certificate specified for bind '{}' at [{}] (use 'crt').",
                list.text, line.span
            ),
        ));
    }
    // One NOTICE per line for the options that are parsed only.
    if !not_implemented.is_empty() {
        cx.unimplemented(&line.span, &format!("bind {}", not_implemented.join(" ")));
    }
    Some(binds)
}

/// A path relative to `crt-base`/`ca-base` when it is not absolute.
pub fn with_base(base: Option<&str>, path: &str) -> String {
    match base {
        Some(b) if !path.starts_with('/') => format!("{}/{path}", b.trim_end_matches('/')),
        _ => path.to_string(),
    }
}

/// `No such file or directory`, as strerror words it.
pub fn os_error_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<BindAddr, AddrError> {
        parse_bind_addr(text, &|h| {
            (h == "localhost").then_some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        })
    }

    fn inet(a: &str, lo: u16, hi: u16) -> BindAddr {
        BindAddr::Inet {
            addr: a.parse().unwrap(),
            port_lo: lo,
            port_hi: hi,
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(p("*:80"), Ok(inet("0.0.0.0", 80, 80)));
        assert_eq!(p(":80"), Ok(inet("0.0.0.0", 80, 80)));
        assert_eq!(p("0.0.0.0:80"), Ok(inet("0.0.0.0", 80, 80)));
        assert_eq!(p("[::]:443"), Ok(inet("::", 443, 443)));
        assert_eq!(p(":::443"), Ok(inet("::", 443, 443)));
        assert_eq!(p("ipv6@:443"), Ok(inet("::", 443, 443)));
        assert_eq!(p("ipv4@127.0.0.1:8080"), Ok(inet("127.0.0.1", 8080, 8080)));
        assert_eq!(p("127.0.0.1:8000-8010"), Ok(inet("127.0.0.1", 8000, 8010)));
        assert_eq!(p("localhost:80"), Ok(inet("127.0.0.1", 80, 80)));
        assert_eq!(
            p("unix@/run/x.sock"),
            Ok(BindAddr::Unix("/run/x.sock".into()))
        );
        assert_eq!(p("/run/x.sock"), Ok(BindAddr::Unix("/run/x.sock".into())));
        assert_eq!(p("abns@name"), Ok(BindAddr::Abns("name".into())));
        assert_eq!(p("fd@3"), Ok(BindAddr::Fd(3)));
        assert_eq!(p("sockpair@4"), Ok(BindAddr::SockPair(4)));
    }

    #[test]
    fn address_errors() {
        assert_eq!(p("0.0.0.0:$PORT"), Err(AddrError::MissingPort));
        assert_eq!(p("0.0.0.0"), Err(AddrError::MissingPort));
        assert_eq!(p("*:92000"), Err(AddrError::InvalidPort("92000".into())));
        assert_eq!(p("*:0"), Err(AddrError::InvalidPort("0".into())));
        assert_eq!(
            p("haproxy:80"),
            Err(AddrError::InvalidAddress("haproxy".into()))
        );
        assert_eq!(p("fd@x"), Err(AddrError::InvalidFd("x".into())));
        assert_eq!(p("[::1:80"), Err(AddrError::MissingPort));
    }
}
