//! `server` and `default-server` lines: the address (IP, host name resolved in phase 3,
//! `unix@`, `abns@`, port offsets) and the server options.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::ast::{Line, Word};
use crate::ir::{ProxyProtocol, Server, ServerAddr, ServerCheck};
use crate::span::Span;

use super::bind::{split_host_port, split_prefix};
use super::keywords::{self, Status};
use super::proxy::ProxyDraft;
use super::{units, Cx};

/// One way `init-addr` may find an address, tried in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitAddr {
    Last,
    Libc,
    None,
    Ip(IpAddr),
}

/// A server before its host name is resolved.
#[derive(Clone, Debug)]
pub struct ServerDraft {
    pub server: Server,
    /// The host name to resolve in phase 3 (None for IP literals and sockets).
    pub host: Option<String>,
    pub init_addr: Vec<InitAddr>,
    /// `check` was given (timing options are kept even without it).
    pub check: bool,
    /// `id N` was given (custom ids must be unique in the backend).
    pub explicit_id: bool,
    /// TLS details checked as 2.6 checks them (`ssl`/`check-ssl` need a CA or `verify none`).
    pub ca_file: bool,
    pub verify_none: bool,
    /// `proto fcgi` (a backend with `use-fcgi-app` needs one such server).
    pub proto_fcgi: bool,
    pub check_ssl: bool,
    pub agent_check: bool,
    pub agent_port: bool,
    /// `redir PREFIX` (HTTP only) and `resolvers NAME` (must name a `resolvers` section).
    pub redir: bool,
    pub resolvers: Option<String>,
    /// `track [BACKEND/]SERVER`.
    pub track: Option<String>,
}

impl ServerDraft {
    /// HAProxy's built-in `default-server` settings.
    pub fn template(span: &Span) -> Self {
        ServerDraft {
            server: Server {
                name: String::new(),
                span: span.clone(),
                addr: ServerAddr::Inet {
                    ip: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                    port: None,
                    port_offset: 0,
                },
                weight: 1,
                backup: false,
                disabled: false,
                maxconn: 0,
                maxqueue: 0,
                send_proxy: None,
                check: None,
                cookie: None,
                ssl: false,
                id: 0,
            },
            host: None,
            init_addr: vec![InitAddr::Last, InitAddr::Libc],
            check: false,
            explicit_id: false,
            ca_file: false,
            verify_none: false,
            proto_fcgi: false,
            check_ssl: false,
            agent_check: false,
            agent_port: false,
            redir: false,
            resolvers: None,
            track: None,
        }
    }

    fn check_mut(&mut self) -> &mut ServerCheck {
        self.server.check.get_or_insert(ServerCheck {
            inter: Duration::from_secs(2),
            fastinter: None,
            downinter: None,
            rise: 2,
            fall: 3,
            port: None,
            addr: None,
        })
    }
}

/// Why a server address could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAddrError {
    InvalidPort(String),
    BadPortChar(char, String),
}

/// A server address: `(addr, host name to resolve later)`.
pub fn parse_server_addr(text: &str) -> Result<(ServerAddr, Option<String>), ServerAddrError> {
    let (family, rest) = split_prefix(text);
    match family {
        Some("unix") => return Ok((ServerAddr::Unix(PathBuf::from(rest)), None)),
        Some("abns") => return Ok((ServerAddr::Abns(rest.to_string()), None)),
        _ => {}
    }
    if family.is_none() && rest.starts_with('/') {
        return Ok((ServerAddr::Unix(PathBuf::from(rest)), None));
    }
    let (host, port_text) = match split_host_port(rest) {
        // A bare IPv6 address (several colons, no brackets) has no port.
        Some((h, p))
            if !(h.contains(':')
                && !rest.starts_with('[')
                && h.parse::<IpAddr>().is_err()
                && rest.parse::<IpAddr>().is_ok()) =>
        {
            (h, Some(p))
        }
        _ => (rest, None),
    };
    let (port, port_offset) = match port_text {
        None | Some("") => (None, 0),
        Some(p) => {
            let (sign, digits) = match p.as_bytes()[0] {
                b'+' => (1i32, &p[1..]),
                b'-' => (-1i32, &p[1..]),
                _ => (0, p),
            };
            if let Some(c) = digits.chars().find(|c| !c.is_ascii_digit()) {
                return Err(ServerAddrError::BadPortChar(c, p.to_string()));
            }
            let n: u32 = digits
                .parse()
                .map_err(|_| ServerAddrError::InvalidPort(p.to_string()))?;
            if n > 65535 || (sign == 0 && n == 0) {
                return Err(ServerAddrError::InvalidPort(p.to_string()));
            }
            if sign == 0 {
                (Some(n as u16), 0)
            } else {
                (None, sign * n as i32)
            }
        }
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let host_is_any = bare.is_empty() || bare == "*";
    match bare.parse::<IpAddr>() {
        Ok(ip) => Ok((
            ServerAddr::Inet {
                ip,
                port,
                port_offset,
            },
            None,
        )),
        Err(_) if host_is_any => Ok((
            ServerAddr::Inet {
                ip: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                port,
                port_offset,
            },
            None,
        )),
        Err(_) => Ok((
            ServerAddr::Unresolved {
                host: bare.to_string(),
                port,
            },
            Some(bare.to_string()),
        )),
    }
}

/// `server NAME ADDR [options]`.
pub fn server_line(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.len() < 2 || args[0].text.is_empty() || args[1].text.is_empty() {
        cx.alert_at(
            &line.span,
            "'server' expects <name> and <addr>[:<port>] as arguments.",
        );
        return;
    }
    let name = &args[0].text;
    let who = format!("'server {}/{}'", d.name, name);
    let mut s = d.default_server.clone();
    s.server.name = name.clone();
    s.server.span = line.span.clone();
    s.server.id = (d.servers.len() + 1) as u32;
    let addr_text = &args[1].text;
    match parse_server_addr(addr_text) {
        Ok((addr, host)) => {
            s.server.addr = addr;
            s.host = host;
        }
        Err(ServerAddrError::InvalidPort(p)) => {
            cx.alert_at(&line.span, format!("{who} : invalid port '{p}'"));
            return;
        }
        Err(ServerAddrError::BadPortChar(c, p)) => {
            cx.alert_at(
                &line.span,
                format!("{who} : invalid character '{c}' in port number '{p}' in '{addr_text}'\n"),
            );
            return;
        }
    }
    if !apply_options(cx, &mut s, line, &args[2..], &who, name) {
        return;
    }
    if s.explicit_id {
        if let Some(o) = d
            .servers
            .iter()
            .find(|o| o.explicit_id && o.server.id == s.server.id)
        {
            cx.alert_at(
                &line.span,
                format!(
                    "{who} : 'id' : custom id {} already used at {}:{} ('server {}').",
                    s.server.id, o.server.span.file, o.server.span.line, o.server.name
                ),
            );
            return;
        }
    }
    d.servers.push(s);
}

/// `server-template PREFIX NUM|LOW-HIGH ADDR [options]`: servers PREFIX<LOW>..PREFIX<HIGH>
/// sharing one address (resolved in phase 3 like any server).
pub fn server_template_line(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.len() < 3 {
        cx.alert_at(
            &line.span,
            "'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.",
        );
        return;
    }
    let range = args[1].text.as_str();
    let (lo, hi) = match range.split_once('-') {
        Some((a, b)) => (units::strict_u32(a), units::strict_u32(b)),
        None => (Some(1), units::strict_u32(range)),
    };
    let (Some(lo), Some(hi)) = (lo, hi) else {
        cx.alert_at(
            &line.span,
            format!("'server-template' : invalid range '{range}'."),
        );
        return;
    };
    if lo == 0 || hi < lo || hi - lo >= 10_000 {
        cx.alert_at(
            &line.span,
            format!("'server-template' : invalid range '{range}'."),
        );
        return;
    }
    for n in lo..=hi {
        let mut words = vec![Word {
            text: format!("{}{n}", args[0].text),
            span: args[0].span.clone(),
        }];
        words.extend(args[2..].iter().cloned());
        let before = d.servers.len();
        server_line(cx, d, line, &words);
        if d.servers.len() == before {
            return;
        }
    }
}

/// `default-server [options]`.
pub fn default_server_line(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let who = "'default-server'".to_string();
    let mut t = d.default_server.clone();
    if apply_options(cx, &mut t, line, args, &who, "") {
        d.default_server = t;
    }
}

/// The server options of one line. Returns false after an ALERT.
fn apply_options(
    cx: &mut Cx,
    s: &mut ServerDraft,
    line: &Line,
    args: &[Word],
    who: &str,
    name: &str,
) -> bool {
    let mut i = 0;
    let mut refused_line = false;
    let mut not_implemented: Vec<&str> = Vec::new();
    while i < args.len() {
        let kw = args[i].text.as_str();
        let Some(opt) = keywords::server_option(kw) else {
            let mut d = crate::diag::Diagnostic::at(
                crate::diag::Level::Alert,
                &line.span,
                format!("{who} : unknown keyword '{kw}'."),
            );
            if let Some(sug) =
                crate::suggest::best_match(kw, keywords::SERVER_OPTIONS.iter().map(|o| o.name))
            {
                d = crate::diag::Diagnostic::at(
                    crate::diag::Level::Alert,
                    &line.span,
                    format!("{who} : unknown keyword '{kw}'; did you mean '{sug}' maybe ?"),
                )
                .with_help(format!("did you mean '{sug}'?"));
            }
            cx.diags.push(d);
            return false;
        };
        let v = if opt.args > 0 {
            match args.get(i + 1) {
                Some(w) => w.text.as_str(),
                // HAProxy reads these with atol(): a missing value is 0.
                None if matches!(
                    kw,
                    "maxconn" | "maxqueue" | "minconn" | "weight" | "init-addr" | "resolve-opts"
                ) =>
                {
                    ""
                }
                None => {
                    cx.alert_at(&line.span, format!("{who} : '{kw}' expects an argument."));
                    return false;
                }
            }
        } else {
            ""
        };
        let time = |cx: &mut Cx| -> Option<Duration> {
            if let Some(c) = units::trailing_garbage(v) {
                cx.diags.push(crate::diag::Diagnostic::at(
                    crate::diag::Level::Warning,
                    &line.span,
                    format!("{who} : {}", units::trailing_garbage_warning(c, v)),
                ));
            }
            match units::parse_time_ms(v) {
                Ok(t) if !t.is_zero() => Some(t),
                Ok(_) => {
                    cx.alert_at(
                        &line.span,
                        format!(
                            "{who} : invalid value {v} for argument '{kw}' of server {name}..."
                        ),
                    );
                    None
                }
                Err(units::TimeError::BadChar(c)) => {
                    cx.alert_at(&line.span, format!("{who} : unexpected character '{c}' in '{kw}' argument of server {name}.."));
                    None
                }
                Err(_) => {
                    cx.alert_at(&line.span, format!("{who} : timer overflow in argument <{v}> to <{kw}> of server {name}, maximum value is 2147483647 ms (~24.8 days).."));
                    None
                }
            }
        };
        match kw {
            "weight" => {
                let w = units::atol(v);
                if !(0..=256).contains(&w) {
                    cx.alert_at(
                        &line.span,
                        format!("{who} : weight of server {name} is not within 0 and 256 ({w}).."),
                    );
                    return false;
                }
                s.server.weight = w as u32;
            }
            "backup" => s.server.backup = true,
            "no-backup" => s.server.backup = false,
            "disabled" => s.server.disabled = true,
            "enabled" => s.server.disabled = false,
            "maxconn" => s.server.maxconn = units::atou32(v),
            "maxqueue" => s.server.maxqueue = units::atou32(v),
            "send-proxy" => s.server.send_proxy = Some(ProxyProtocol::V1),
            "send-proxy-v2" => s.server.send_proxy = Some(ProxyProtocol::V2),
            "no-send-proxy" | "no-send-proxy-v2" => s.server.send_proxy = None,
            "cookie" => s.server.cookie = Some(v.to_string()),
            "ssl" => s.server.ssl = true,
            "no-ssl" => s.server.ssl = false,
            "id" => match units::strict_u32(v) {
                Some(n) if n > 0 => {
                    s.server.id = n;
                    s.explicit_id = true;
                }
                _ => {
                    cx.alert_at(
                        &line.span,
                        format!("{who} : 'id' : custom id has to be > 0."),
                    );
                    return false;
                }
            },
            "check" => {
                s.check = true;
                s.check_mut();
            }
            "no-check" => {
                s.check = false;
                s.server.check = None;
            }
            "inter" | "fastinter" | "downinter" => {
                let Some(t) = time(cx) else { return false };
                let c = s.check_mut();
                match kw {
                    "inter" => c.inter = t,
                    "fastinter" => c.fastinter = Some(t),
                    _ => c.downinter = Some(t),
                }
            }
            "agent-inter" | "slowstart" | "pool-purge-delay" if time(cx).is_none() => {
                return false;
            }
            "rise" | "fall" => {
                let n = units::atol(v);
                if n <= 0 {
                    cx.alert_at(&line.span, format!("{who} : '{kw}' has to be > 0.."));
                    return false;
                }
                let c = s.check_mut();
                if kw == "rise" {
                    c.rise = n as u32;
                } else {
                    c.fall = n as u32;
                }
            }
            "port" => {
                // atol(), as 2.6 reads it.
                let p = units::atol(v);
                if !(0..=65535).contains(&p) {
                    cx.alert_at(&line.span, format!("{who} : invalid port '{v}'"));
                    return false;
                }
                s.check_mut().port = (p > 0).then_some(p as u16);
            }
            "addr" => match v.parse::<IpAddr>() {
                Ok(ip) => s.check_mut().addr = Some(ip),
                // inet_aton() also takes the short forms (`1` is 0.0.0.1).
                Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {}
                Err(_) => {
                    cx.alert_at(
                        &line.span,
                        format!("{who} : invalid address '{v}' in 'addr'."),
                    );
                    return false;
                }
            },
            "init-addr" if v.is_empty() => {}
            "init-addr" => {
                let mut methods = Vec::new();
                for m in v.split(',') {
                    match m {
                        "last" => methods.push(InitAddr::Last),
                        "libc" => methods.push(InitAddr::Libc),
                        "none" => methods.push(InitAddr::None),
                        other => match other.parse::<IpAddr>() {
                            Ok(ip) => methods.push(InitAddr::Ip(ip)),
                            Err(_) => {
                                cx.alert_at(&line.span, format!("{who} : '{other}' : unknown init-addr method, expects 'last', 'libc', 'none', or an IP address."));
                                return false;
                            }
                        },
                    }
                }
                s.init_addr = methods;
            }
            "ca-file" | "crl-file" if !v.is_empty() => {
                s.ca_file = kw == "ca-file" || s.ca_file;
                let base = cx.ca_base.clone();
                let path = super::bind::with_base(base.as_deref(), v);
                if let Err(e) = cx.env.stat(std::path::Path::new(&path)) {
                    cx.alert_plain(format!("'{kw}' : unable to load {path}."));
                    cx.alert_at(
                        &line.span,
                        format!(
                            "{who} : Couldn't open the {kw} '{path}' ({}).",
                            super::bind::os_error_text(&e)
                        ),
                    );
                    return false;
                }
            }
            "verify" => {
                if let Err(msg) = super::checks::sub_option_value(cx, true, kw, v) {
                    cx.alert_at(&line.span, format!("{who} : {msg}"));
                    return false;
                }
                s.verify_none = v == "none";
            }
            "proto" => {
                if let Err(msg) = super::checks::sub_option_value(cx, true, kw, v) {
                    cx.alert_at(&line.span, format!("{who} : {msg}"));
                    return false;
                }
                s.proto_fcgi = v == "fcgi";
            }
            "check-ssl" => s.check_ssl = true,
            "no-check-ssl" => s.check_ssl = false,
            "agent-check" => s.agent_check = true,
            "no-agent-check" => s.agent_check = false,
            "agent-port" => s.agent_port = units::atol(v) > 0,
            "redir" => s.redir = true,
            "track" => s.track = Some(v.to_string()),
            "source" => {
                if let Err(msg) = super::checks::sub_option_value(cx, true, kw, v) {
                    cx.alert_at(&line.span, format!("{who} : {msg}"));
                    return false;
                }
                // `usesrc` may follow `source`.
                if args.get(i + 2).map(|w| w.text.as_str()) == Some("usesrc") {
                    i += 2;
                }
            }
            "usesrc" => {
                cx.alert_at(
                    &line.span,
                    format!("{who} : 'usesrc' only allowed after a 'source' statement.."),
                );
                return false;
            }
            "resolvers" => s.resolvers = Some(v.to_string()),
            _ if opt.args > 0 => {
                if let Err(msg) = super::checks::sub_option_value(cx, true, kw, v) {
                    cx.alert_at(&line.span, format!("{who} : {msg}"));
                    return false;
                }
            }
            _ => {}
        }
        match opt.status {
            Status::ParsedOnly => not_implemented.push(kw),
            Status::Refused if !refused_line => {
                refused_line = true;
                cx.refuse(&line.span, &format!("server {kw}"));
            }
            _ => {}
        }
        i += 1 + usize::from(opt.args);
    }
    // One NOTICE per line for the options that are parsed only.
    if !not_implemented.is_empty() {
        cx.unimplemented(&line.span, &format!("server {}", not_implemented.join(" ")));
    }
    if !s.check {
        s.server.check = None;
    }
    if !name.is_empty() {
        if s.agent_check && !s.agent_port {
            cx.alert_at(&line.span, format!("{who} : server {name} does not have agent port. Agent check has been disabled."));
            return false;
        }
        if (s.server.ssl || s.check_ssl)
            && !s.ca_file
            && !s.verify_none
            && !cx.ssl_server_verify_none
        {
            cx.alert_at(&line.span, format!("{who} : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."));
            return false;
        }
    }
    // A server with `resolvers` gets its address at run time: failing at start only
    // disables it, as if `init-addr ...,none` had been given.
    if args.iter().any(|w| w.text == "resolvers") && !s.init_addr.contains(&InitAddr::None) {
        s.init_addr.push(InitAddr::None);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let (a, h) = parse_server_addr("10.0.0.1:80").unwrap();
        assert_eq!(
            a,
            ServerAddr::Inet {
                ip: "10.0.0.1".parse().unwrap(),
                port: Some(80),
                port_offset: 0
            }
        );
        assert_eq!(h, None);
        let (a, _) = parse_server_addr("10.0.0.1").unwrap();
        assert_eq!(
            a,
            ServerAddr::Inet {
                ip: "10.0.0.1".parse().unwrap(),
                port: None,
                port_offset: 0
            }
        );
        let (a, _) = parse_server_addr("10.0.0.1:+1000").unwrap();
        assert_eq!(
            a,
            ServerAddr::Inet {
                ip: "10.0.0.1".parse().unwrap(),
                port: None,
                port_offset: 1000
            }
        );
        let (a, _) = parse_server_addr("[::1]:8080").unwrap();
        assert_eq!(
            a,
            ServerAddr::Inet {
                ip: "::1".parse().unwrap(),
                port: Some(8080),
                port_offset: 0
            }
        );
        let (a, _) = parse_server_addr("::1").unwrap();
        assert_eq!(
            a,
            ServerAddr::Inet {
                ip: "::1".parse().unwrap(),
                port: None,
                port_offset: 0
            }
        );
        let (a, h) = parse_server_addr("web1:80").unwrap();
        assert_eq!(
            a,
            ServerAddr::Unresolved {
                host: "web1".into(),
                port: Some(80)
            }
        );
        assert_eq!(h.as_deref(), Some("web1"));
        let (a, _) = parse_server_addr("/run/app.sock").unwrap();
        assert_eq!(a, ServerAddr::Unix("/run/app.sock".into()));
    }

    #[test]
    fn address_errors() {
        assert_eq!(
            parse_server_addr("1.2.3.4:99999"),
            Err(ServerAddrError::InvalidPort("99999".into()))
        );
        assert_eq!(
            parse_server_addr("1.2.3.4:abc"),
            Err(ServerAddrError::BadPortChar('a', "abc".into()))
        );
    }
}
