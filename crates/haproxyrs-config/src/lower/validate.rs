//! Phases 2 and 3 of lowering: HAProxy's post-parse validity checks (backend references,
//! duplicate servers, mode mismatches, warnings for missing timeouts and options that do
//! not apply to the mode), building the IR, then server address resolution.

use std::collections::HashMap;

use crate::ir::sample::LogFormatPart;
use crate::ir::{
    self, Backend, BackendId, BackendTarget, Config, Frontend, LogTarget, Mode, ServerAddr,
    SwitchingRule,
};

use super::defaults::State;
use super::proxy::{self, LogEntry, LogFormatDraft, ProxyDraft};
use super::server::InitAddr;
use super::Cx;

const MISSING_TIMEOUTS: &str = "\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.";

/// `init-addr` methods of every server, per backend, in IR order (for phase 3).
pub type InitAddrs = Vec<Vec<Vec<InitAddr>>>;

/// Phase 2: cross-checks and IR construction. `None` after an ALERT.
pub fn check(cx: &mut Cx, state: State) -> Option<(Config, InitAddrs)> {
    let State {
        proxies,
        userlists,
        named_sections,
        ..
    } = state;
    // Backend ids in declaration order, by name (a map: configs may have thousands).
    let mut be_ids: HashMap<&str, BackendId> = HashMap::new();
    let mut be_index: Vec<usize> = Vec::new();
    for (i, p) in proxies.iter().enumerate() {
        if p.has_be() && !be_ids.contains_key(p.name.as_str()) {
            be_ids.insert(p.name.as_str(), BackendId(be_index.len()));
            be_index.push(i);
        }
    }
    for d in std::mem::take(&mut cx.deferred) {
        cx.diags.push(d);
    }
    let global_logs = cx.global.logs.clone();
    let mut frontends = Vec::new();
    for p in proxies.iter().filter(|p| p.has_fe()) {
        let mut default_backend = None;
        if let Some((name, _span)) = &p.default_backend {
            match be_ids.get(name.as_str()) {
                Some(id) => {
                    check_mode(cx, p, &proxies[be_index[id.0]], "as its default backend");
                    default_backend = Some(*id);
                }
                None => cx.alert_plain(format!(
                    "Proxy '{}': unable to find required default_backend: '{name}'.",
                    p.name
                )),
            }
        } else if p.has_be() {
            default_backend = be_ids.get(p.name.as_str()).copied();
        }
        let mut switching = Vec::new();
        for rule in &p.switching {
            let target = if let Some(expr) = &rule.dynamic {
                BackendTarget::Dynamic(expr.clone())
            } else {
                match be_ids.get(rule.backend.as_str()) {
                    Some(id) => {
                        check_mode(cx, p, &proxies[be_index[id.0]], "in a 'use_backend' rule");
                        BackendTarget::Fixed(*id)
                    }
                    None => {
                        cx.alert_plain(format!(
                            "Proxy '{}': unable to find required use_backend: '{}'.",
                            p.name, rule.backend
                        ));
                        continue;
                    }
                }
            };
            switching.push(SwitchingRule {
                backend: target,
                cond: rule.cond.clone(),
                span: rule.span.clone(),
            });
        }
        let logs = resolve_logs(&p.logs, &global_logs);
        frontends.push(Frontend {
            name: p.name.clone(),
            span: p.span.clone(),
            mode: p.mode,
            binds: p.binds.clone(),
            maxconn: p.maxconn.unwrap_or(0),
            timeouts: p.timeouts.clone(),
            acls: p.acls.acls.clone(),
            tcp_request_connection: p.tcp_request_connection.clone(),
            tcp_request_content: p.tcp_request_content.clone(),
            inspect_delay: p.inspect_delay,
            http: p.http.clone(),
            switching,
            default_backend,
            logs,
            log_format: proxy::log_format_of(p),
            unique_id_format: p.unique_id_format.clone(),
            unique_id_header: p.unique_id_header.clone(),
            options: p.options.clone(),
            stats: p.stats.clone(),
            disabled: p.disabled,
        });
    }
    let resolvers: Vec<&str> = named_sections
        .iter()
        .filter(|s| s.kind == crate::ast::SectionKind::Resolvers)
        .map(|s| s.name.as_str())
        .collect();
    for (name, _) in std::mem::take(&mut cx.deferred_resolvers) {
        if !resolvers.contains(&name.as_str()) {
            cx.alert_plain(format!("Proxy '<HTTPCLIENT>': Can't find resolvers section '{name}' for do-resolve action."));
        }
    }
    let mut backends = Vec::new();
    let mut init_addrs = Vec::new();
    for &i in &be_index {
        let p = &proxies[i];
        init_addrs.push(p.servers.iter().map(|s| s.init_addr.clone()).collect());
        let tracked = |be: &str, srv: &str| {
            be_ids.get(be).is_some_and(|id| {
                proxies[be_index[id.0]]
                    .servers
                    .iter()
                    .any(|s| s.server.name == srv)
            })
        };
        check_servers(cx, p, &resolvers, &tracked);
        backends.push(Backend {
            name: p.name.clone(),
            span: p.span.clone(),
            mode: p.mode,
            balance: p.balance.clone(),
            hash_type: p.hash_type,
            servers: p.servers.iter().map(|s| s.server.clone()).collect(),
            timeouts: p.timeouts.clone(),
            retries: p.retries,
            http_reuse: p.http_reuse,
            acls: p.acls.acls.clone(),
            tcp_request_content: p.tcp_request_content.clone(),
            http: p.http.clone(),
            cookie: p.cookie.as_ref().map(|(c, _)| c.clone()),
            health_check: super::http_check::build(p),
            fullconn: p.fullconn,
            logs: resolve_logs(&p.logs, &global_logs),
            log_format: proxy::log_format_of(p),
            options: p.options.clone(),
            stats: p.stats.clone(),
            disabled: p.disabled,
        });
    }
    for p in &proxies {
        warnings(cx, p, &global_logs);
    }
    let names = Names {
        be_ids: &be_ids,
        be_index: &be_index,
        proxies: &proxies,
        userlists: &userlists,
    };
    for p in proxies
        .iter()
        .filter(|p| p.kind != crate::ast::SectionKind::Defaults)
    {
        fetch_refs(cx, p, &names);
    }
    let mut default_rules_used = false;
    for p in &proxies {
        check_ports(cx, p, &mut default_rules_used);
    }
    for p in &proxies {
        let Some(app) = &p.fcgi_app else { continue };
        if !named_sections
            .iter()
            .any(|s| s.kind == crate::ast::SectionKind::FcgiApp && s.name == *app)
        {
            cx.alert_plain(format!("proxy '{}' : fcgi-app '{app}' not found.", p.name));
        }
        if !p.servers.iter().any(|s| s.proto_fcgi) {
            cx.alert_plain(format!(
                "proxy '{}': FCGI app configured but no FCGI server found.",
                p.name
            ));
        }
    }
    for s in named_sections
        .iter()
        .filter(|s| s.kind == crate::ast::SectionKind::Mailers)
    {
        if !proxies
            .iter()
            .any(|p| p.email_mailers.as_deref() == Some(s.name.as_str()))
        {
            cx.warn_plain(format!("Removing incomplete section 'mailers {}'.", s.name));
        }
    }
    if !cx.global.master_worker
        && named_sections
            .iter()
            .any(|s| s.kind == crate::ast::SectionKind::Program)
    {
        cx.alert_plain("Can't use a 'program' section without master worker mode.");
    }
    if let Some(file) = cx.server_state_file.clone() {
        let path = super::bind::with_base(cx.server_state_base.as_deref(), &file);
        if let Err(e) = cx.env.read_file(std::path::Path::new(&path)) {
            cx.warn_plain(format!(
                "config: Can't open global server state file '{path}': {}",
                super::bind::os_error_text(&e)
            ));
        }
    }
    if cx.diags.has_alerts() {
        return None;
    }
    let config = Config {
        global: cx.global.clone(),
        frontends,
        backends,
        userlists,
        named_sections,
        refused: Vec::new(),
    };
    Some((config, init_addrs))
}

/// The names a config defines, for the sample fetches that name them.
struct Names<'a> {
    be_ids: &'a HashMap<&'a str, BackendId>,
    be_index: &'a [usize],
    proxies: &'a [ProxyDraft],
    userlists: &'a [ir::Userlist],
}

impl super::sample::NameLookup for Names<'_> {
    fn backend_exists(&self, name: &str) -> bool {
        self.be_ids.contains_key(name)
    }
    fn server_exists(&self, backend: &str, server: &str) -> bool {
        self.be_ids.get(backend).is_some_and(|id| {
            self.proxies[self.be_index[id.0]]
                .servers
                .iter()
                .any(|s| s.server.name == server)
        })
    }
    fn userlist_exists(&self, name: &str) -> bool {
        self.userlists.iter().any(|u| u.name == name)
    }
}

/// `nbsrv(be)`, `srv_is_up(be/s)`, `http_auth(list)`…: the names must exist (HAProxy's
/// post-parse check), in named ACLs and in the anonymous ACLs of conditions.
fn fetch_refs(cx: &mut Cx, p: &ProxyDraft, names: &Names<'_>) {
    use super::sample::{anonymous_terms, check_term_refs};
    let mut found = Vec::new();
    for acl in &p.acls.acls {
        for term in &acl.terms {
            found.extend(check_term_refs(term, &p.name, names));
        }
    }
    let conds = p
        .switching
        .iter()
        .filter_map(|r| r.cond.as_ref())
        .chain(p.http.request.iter().filter_map(|r| r.cond.as_ref()))
        .chain(p.http.response.iter().filter_map(|r| r.cond.as_ref()))
        .chain(p.http.redirects.iter().filter_map(|r| r.cond.as_ref()));
    for cond in conds {
        for term in anonymous_terms(cond) {
            found.extend(check_term_refs(term, &p.name, names));
        }
    }
    for d in found {
        cx.diags.push(d);
    }
}

fn resolve_logs(entries: &[LogEntry], global: &[LogTarget]) -> Vec<LogTarget> {
    let mut out = Vec::new();
    for e in entries {
        match e {
            LogEntry::Global => out.extend(global.iter().cloned()),
            LogEntry::Target(t) => out.push(t.clone()),
        }
    }
    out
}

/// An HTTP frontend cannot hand its traffic to a TCP backend.
fn check_mode(cx: &mut Cx, fe: &ProxyDraft, be: &ProxyDraft, how: &str) {
    if fe.mode == Mode::Http && be.mode == Mode::Tcp && !fe.disabled {
        cx.alert_plain(format!(
            "http frontend '{}' ({}:{}) tries to use incompatible tcp backend '{}' ({}:{}) {how} (see 'mode').",
            fe.name, fe.span.file, fe.span.line, be.name, be.span.file, be.span.line
        ));
    }
}

/// Two servers of one backend may not share a name.
fn check_servers(
    cx: &mut Cx,
    p: &ProxyDraft,
    resolvers: &[&str],
    tracked: &dyn Fn(&str, &str) -> bool,
) {
    if p.mode != Mode::Http && p.servers.iter().any(|s| s.redir) {
        cx.alert_plain(format!(
            "backend '{}' : server cannot have cookie or redirect prefix in non-HTTP mode.",
            p.name
        ));
    }
    for s in &p.servers {
        if let Some(t) = &s.track {
            let (be, srv) = t.split_once('/').unwrap_or((p.name.as_str(), t.as_str()));
            let found = if be == p.name {
                p.servers.iter().any(|o| o.server.name == srv)
            } else {
                tracked(be, srv)
            };
            if !found {
                cx.alert_at(
                    &s.server.span,
                    format!(
                        "'server {}/{}' : unable to find required server '{srv}' for tracking.",
                        p.name, s.server.name
                    ),
                );
            }
        }
        if let Some(r) = &s.resolvers {
            if !resolvers.contains(&r.as_str()) {
                cx.alert_plain(format!(
                    "backend '{}', server '{}': unable to find required resolvers '{r}'",
                    p.name, s.server.name
                ));
            }
        }
    }
    let mut seen: HashMap<&str, u32> = HashMap::with_capacity(p.servers.len());
    for s in &p.servers {
        if let Some(line) = seen.get(s.server.name.as_str()) {
            // A post-parse check: no span, so no "Error(s) found in configuration file".
            cx.alert_plain(format!(
                "parsing [{}] : backend '{}', another server named '{}' was already defined at line {line}, please use distinct names.",
                s.server.span, p.name, s.server.name
            ));
        } else {
            seen.insert(&s.server.name, s.server.span.line);
        }
    }
}

/// HAProxy's post-parse WARNINGs for one proxy.
fn warnings(cx: &mut Cx, p: &ProxyDraft, global_logs: &[LogTarget]) {
    if p.disabled {
        return;
    }
    let who = format!("{} '{}'", p.type_name(), p.name);
    if p.has_be()
        && matches!(&p.health_check, Some(ir::HealthCheck::Protocol(n)) if n == "external-check")
        && !cx.insecure_fork
    {
        cx.warn_plain(format!("Proxy '{}' : 'insecure-fork-wanted' not enabled in the global section, 'option external-check' will likely fail.", p.name));
    }
    if let Some(cmd) = &p.external_check_command {
        if !cmd.starts_with('/') && !p.external_check_path {
            cx.alert_plain(format!("Proxy '{}': 'external-check command' does not have a leading '/' and 'external-check path' is not set.", p.name));
        }
    }
    if p.has_fe() && p.binds.is_empty() {
        cx.warn_plain(format!(
            "{who} has no 'bind' directive. Please declare it as a backend if this was intended."
        ));
    }
    let t = &p.timeouts;
    let fe_missing = p.has_fe() && t.client.is_none();
    let be_missing =
        p.has_be() && !p.servers.is_empty() && (t.connect.is_none() || t.server.is_none());
    if fe_missing || be_missing {
        cx.warn_plain(format!("missing timeouts for {who}.{MISSING_TIMEOUTS}"));
    }
    if p.mode != Mode::Http {
        if p.stats.is_some() {
            cx.warn_plain(format!(
                "'stats' statement ignored for {who} as it requires HTTP mode."
            ));
        }
        for (kw, present) in [
            ("http-request", !p.http.request.is_empty()),
            ("http-response", !p.http.response.is_empty()),
            ("redirect", !p.http.redirects.is_empty()),
        ] {
            if present {
                cx.warn_plain(format!(
                    "'{kw}' rules ignored for {who} as they require HTTP mode."
                ));
            }
        }
        if p.has_be()
            && matches!(
                p.balance,
                ir::Balance::Uri { .. } | ir::Balance::UrlParam { .. } | ir::Balance::Hdr { .. }
            )
        {
            cx.warn_plain(format!("Layer 7 hash not possible for {who} (needs 'mode http'). Falling back to round robin."));
        }
        for name in &p.http_only_options {
            cx.warn_plain(format!(
                "'option {name}' ignored for {who} as it requires HTTP mode."
            ));
        }
        if let Some((_, span)) = &p.cookie {
            let _ = span;
            cx.warn_plain(format!(
                "cookie will be ignored for {who} (needs 'mode http')."
            ));
        }
        if let LogFormatDraft::HttpLog(span, _) = &p.log_format {
            if p.has_fe() {
                cx.warn(span, format!("'option httplog' not usable with {who} (needs 'mode http'). Falling back to 'option tcplog'."));
            }
        }
    }
    // HTTP-only variables in a TCP proxy's format: checked once the proxy's mode is final
    // (a later `mode` line counts), so it is a post-parse error that still names the
    // `log-format` line. The format keeps what preceded the variable: with nothing before
    // it there is no format left for the "no log address" warning below.
    let mut format_left = !matches!(p.log_format, LogFormatDraft::Default);
    if let (true, Mode::Tcp, LogFormatDraft::Custom(expr, span)) =
        (p.has_fe(), p.mode, &p.log_format)
    {
        let http_var = expr
            .parts
            .iter()
            .enumerate()
            .find_map(|(i, part)| match part {
                LogFormatPart::Var { var, .. } if var.http_only() => Some((i, var.alias())),
                _ => None,
            });
        if let Some((i, alias)) = http_var {
            cx.alert_plain(format!(
                "Parsing [{span}]: failed to parse log-format : format variable '{alias}' is reserved for HTTP mode."
            ));
            format_left = i > 0;
        }
    }
    if p.has_fe() && format_left && resolve_logs(&p.logs, global_logs).is_empty() {
        cx.warn_plain(format!(
            "log format ignored for {who} since it has no log address."
        ));
    }
    if p.has_be() && p.http_check_rules && !matches!(p.health_check, Some(ir::HealthCheck::Http(_)))
    {
        cx.warn_plain(format!(
            "{who} uses http-check rules without 'option httpchk', so the rules are ignored."
        ));
    }
}

/// A checked server needs a port to check: its own or `port`. 2.6 words the alert by the
/// proxy's check rule set: HTTP and protocol checks have rules ("nor tcp_check rule..."),
/// and so does the rule set proxies without any check option share, once an earlier proxy
/// has used it (`default_rules_used`); `option tcp-check` alone has none.
fn check_ports(cx: &mut Cx, p: &ProxyDraft, default_rules_used: &mut bool) {
    let kind = match p.kind {
        crate::ast::SectionKind::Backend => "backend",
        crate::ast::SectionKind::Listen => "proxy",
        _ => return,
    };
    let has_rules = match &p.health_check {
        None => std::mem::replace(default_rules_used, true),
        Some(ir::HealthCheck::Tcp(_)) => {
            let connect_port = p
                .tcp_check_rules
                .iter()
                .any(|r| matches!(r, Some(ir::TcpCheckRule::Connect { port: Some(_) })));
            if connect_port {
                return;
            }
            !p.tcp_check_rules.is_empty()
        }
        Some(_) => true,
    };
    let rule_part = if has_rules {
        " nor tcp_check rule 'connect' with port information"
    } else {
        ""
    };
    for s in &p.servers {
        let Some(c) = &s.server.check else { continue };
        // Only a literal address is checked: 2.6 lets a host name through (an SRV record
        // or a resolver may bring the port).
        let port_less =
            s.host.is_none() && matches!(s.server.addr, ServerAddr::Inet { port: None, .. });
        if port_less && c.port.is_none() {
            cx.alert_plain(format!(
                "config: {kind} '{}': server '{}' has neither service port nor check port{rule_part}.",
                p.name, s.server.name
            ));
        }
    }
}

/// Phase 3: resolve server host names as `init-addr` says (default `last,libc`). Returns
/// false after HAProxy's "Failed to initialize server(s) addr." ALERT.
pub fn resolve_servers(cx: &mut Cx, config: &mut Config, init_addrs: &InitAddrs) -> bool {
    let mut failed = false;
    let default = vec![InitAddr::Last, InitAddr::Libc];
    for (bi, be) in config.backends.iter_mut().enumerate() {
        for (si, s) in be.servers.iter_mut().enumerate() {
            let ServerAddr::Unresolved { host, port } = &s.addr else {
                continue;
            };
            let (host, port) = (host.clone(), *port);
            let methods = init_addrs
                .get(bi)
                .and_then(|v| v.get(si))
                .unwrap_or(&default);
            let mut resolved = None;
            let mut allow_none = cx.opts.ignore_resolve_errors;
            for m in methods {
                match m {
                    InitAddr::Last => {}
                    InitAddr::Libc => {
                        if let Some(ip) = cx.env.resolve(&host).and_then(|v| v.first().copied()) {
                            resolved = Some(ip);
                            break;
                        }
                    }
                    InitAddr::Ip(ip) => {
                        resolved = Some(*ip);
                        break;
                    }
                    InitAddr::None => {
                        allow_none = true;
                        break;
                    }
                }
            }
            match resolved {
                Some(ip) => {
                    s.addr = ServerAddr::Inet {
                        ip,
                        port,
                        port_offset: 0,
                    }
                }
                // An SRV record name (`_service._proto.name`) is only resolved by `resolvers`.
                None if allow_none && host.starts_with('_') => {}
                None if allow_none => {
                    cx.diags.push(crate::diag::Diagnostic::at(
                        crate::diag::Level::Warning,
                        &s.span,
                        format!("'server {}/{}' : could not resolve address '{host}', disabling server.", be.name, s.name),
                    ));
                }
                None => {
                    failed = true;
                    cx.alert_at(
                        &s.span,
                        format!(
                            "'server {}/{}' : could not resolve address '{host}'.",
                            be.name, s.name
                        ),
                    );
                }
            }
        }
    }
    if failed {
        cx.alert_plain("Failed to initialize server(s) addr.");
        // HAProxy exits right there, without its "Fatal errors found" trailer.
        cx.diags.aborted = true;
    }
    !failed
}
