//! Proxy sections (`frontend`, `backend`, `listen`, and `defaults` through
//! [`super::defaults`]): the draft a proxy is built in, keyword dispatch through the table,
//! and the handlers of the proxy keywords that are not big enough for their own module.

use std::time::Duration;

use crate::ast::{Line, Section, SectionKind, Word};
use crate::ir::{
    self, Balance, CookieMode, CookiePersistence, HashFunction, HashType, HealthCheck,
    HttpConnMode, HttpReuse, LogFormat, Mode, ProxyOptions, StatsPage, Timeouts,
};
use crate::span::Span;

use super::defaults::State;
use super::keywords::{self, sec, Handler, Status};
use super::server::ServerDraft;
use super::{units, Cx};

/// A `log` line of a proxy: `log global` is resolved against the global section at the end.
#[derive(Clone, Debug)]
pub enum LogEntry {
    Global,
    Target(ir::LogTarget),
}

/// How the proxy's log line was chosen, with where (for the mode warnings).
#[derive(Clone, Debug, Default)]
pub enum LogFormatDraft {
    #[default]
    Default,
    TcpLog(Span),
    HttpLog(Span),
    Custom(ir::sample::LogFormatExpr, Span),
}

/// A `use_backend` line before backend names are resolved.
#[derive(Clone, Debug)]
pub struct SwitchDraft {
    pub backend: String,
    /// `use_backend %[expr]`: the name is a log-format string evaluated per request.
    pub dynamic: Option<ir::sample::LogFormatExpr>,
    pub cond: Option<ir::sample::Condition>,
    pub span: Span,
}

/// A proxy while its section is read. `defaults` sections are drafts too.
#[derive(Clone, Debug)]
pub struct ProxyDraft {
    pub kind: SectionKind,
    pub name: String,
    pub span: Span,
    pub mode: Mode,
    pub binds: Vec<ir::Bind>,
    pub maxconn: Option<u32>,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub balance: Balance,
    pub hash_type: HashType,
    pub servers: Vec<ServerDraft>,
    pub default_server: ServerDraft,
    pub acls: super::sample::AclScope,
    pub switching: Vec<SwitchDraft>,
    pub default_backend: Option<(String, Span)>,
    pub logs: Vec<LogEntry>,
    pub log_format: LogFormatDraft,
    pub options: ProxyOptions,
    /// Where `option forwardfor` / `originalto` / other HTTP-only options were set, for the
    /// "requires HTTP mode" warnings.
    pub http_only_options: Vec<&'static str>,
    pub http_reuse: HttpReuse,
    pub cookie: Option<(CookiePersistence, Span)>,
    pub health_check: Option<HealthCheck>,
    pub http_check_rules: bool,
    pub fullconn: Option<u32>,
    pub stats: Option<StatsPage>,
    pub disabled: bool,
    pub description: Option<String>,
    pub id: Option<(u32, Span)>,
    pub http: ir::http::HttpProxyRules,
    pub tcp_request_connection: Vec<ir::tcp::TcpRule>,
    pub tcp_request_content: Vec<ir::tcp::TcpRule>,
    pub inspect_delay: Option<Duration>,
}

impl ProxyDraft {
    /// A proxy with HAProxy's built-in settings (what an empty `defaults` gives).
    pub fn builtin(kind: SectionKind, name: &str, span: &Span) -> Self {
        ProxyDraft {
            kind,
            name: name.to_string(),
            span: span.clone(),
            mode: Mode::Tcp,
            binds: Vec::new(),
            maxconn: None,
            timeouts: Timeouts::default(),
            retries: 3,
            balance: Balance::RoundRobin,
            hash_type: HashType::default(),
            servers: Vec::new(),
            default_server: ServerDraft::template(span),
            acls: super::sample::AclScope::default(),
            switching: Vec::new(),
            default_backend: None,
            logs: Vec::new(),
            log_format: LogFormatDraft::Default,
            options: ProxyOptions::default(),
            http_only_options: Vec::new(),
            http_reuse: HttpReuse::Safe,
            cookie: None,
            health_check: None,
            http_check_rules: false,
            fullconn: None,
            stats: None,
            disabled: false,
            description: None,
            id: None,
            http: ir::http::HttpProxyRules::default(),
            tcp_request_connection: Vec::new(),
            tcp_request_content: Vec::new(),
            inspect_delay: None,
        }
    }

    pub fn has_fe(&self) -> bool {
        matches!(self.kind, SectionKind::Frontend | SectionKind::Listen)
    }

    pub fn has_be(&self) -> bool {
        matches!(self.kind, SectionKind::Backend | SectionKind::Listen)
    }

    /// `frontend`, `backend`, or `proxy` for a `listen`, as HAProxy names them in messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            SectionKind::Frontend => "frontend",
            SectionKind::Backend => "backend",
            SectionKind::Defaults => "defaults",
            _ => "proxy",
        }
    }

    fn section_bit(&self) -> u16 {
        keywords::section_bit(self.kind)
    }
}

/// A `frontend`, `backend` or `listen` section.
pub fn section(cx: &mut Cx, state: &mut State, section: &Section) {
    let Some(name_word) = section.name().filter(|w| w.text != "from") else {
        cx.alert(
            &section.header.span,
            format!(
                "'{}' expects <name> as an argument.",
                section.kind.keyword()
            ),
        );
        return;
    };
    let name = name_word.text.clone();
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')))
    {
        cx.alert(
            &section.header.span,
            format!(
                "character '{bad}' is not permitted in '{}' name '{name}'.",
                section.kind.keyword()
            ),
        );
    }
    if let Some(extra) = section.header.words.get(2).filter(|w| w.text != "from") {
        // An address on the header line (HAProxy 1.x syntax): the proxy is not created,
        // so each of its lines is out of any proxy.
        let _ = extra;
        cx.alert(
            &section.header.span,
            "please use the 'bind' keyword for listening addresses.",
        );
        for line in &section.lines {
            cx.alert(&line.span, "'listen' or 'defaults' expected.");
        }
        return;
    }
    let mut draft = state.base(cx, section, false);
    // The proxy keeps the defaults' settings, but none of its identity.
    draft.kind = section.kind;
    draft.name = name.clone();
    draft.span = section.header.span.clone();
    draft.description = None;
    draft.id = None;
    // The ACLs of a named `defaults` serve its own rules only: the proxy cannot name them.
    // They stay in the list (the inherited rules refer to them by index) under a name no
    // ACL can have.
    for acl in &mut draft.acls.acls {
        if !acl.name.starts_with(' ') {
            acl.name.insert(0, ' ');
        }
    }
    register_name(cx, state, &draft);
    for line in &section.lines {
        if cx.abort {
            return;
        }
        self::line(cx, &mut draft, line);
    }
    let idx = state.proxies.len();
    if let Some((id, span)) = &draft.id {
        if let Some(&other) = state.proxy_ids.get(id) {
            let o = &state.proxies[other];
            cx.alert_tight(
                span,
                format!(
                    "{} {} reuses same custom id as {} {} (declared at {}:{}).",
                    draft.kind.keyword(),
                    draft.name,
                    o.kind.keyword(),
                    o.name,
                    o.span.file,
                    o.span.line
                ),
            );
        } else {
            state.proxy_ids.insert(*id, idx);
        }
    }
    if draft.has_fe() {
        state.fe_names.entry(name.clone()).or_insert(idx);
    }
    if draft.has_be() {
        state.be_names.entry(name).or_insert(idx);
    }
    state.proxies.push(draft);
}

/// Duplicate names among proxies of overlapping capabilities are an error.
fn register_name(cx: &mut Cx, state: &State, draft: &ProxyDraft) {
    let mut clash = None;
    if draft.has_fe() {
        clash = state.fe_names.get(&draft.name).copied();
    }
    if clash.is_none() && draft.has_be() {
        clash = state.be_names.get(&draft.name).copied();
    }
    if let Some(i) = clash {
        let other = &state.proxies[i];
        let msg = format!(
            "Parsing [{}]: {} '{}' has the same name as {} '{}' declared at {}:{}.",
            draft.span,
            draft.kind.keyword(),
            draft.name,
            other.kind.keyword(),
            other.name,
            other.span.file,
            other.span.line
        );
        cx.diags.push(crate::diag::Diagnostic {
            level: crate::diag::Level::Alert,
            text: msg,
            span: Some(draft.span.clone()),
            help: None,
            unimplemented: false,
        });
    }
}

/// One line of a proxy or `defaults` section: find its table entry and run it.
pub fn line(cx: &mut Cx, draft: &mut ProxyDraft, line: &Line) {
    let kw = line.keyword();
    let args = line.args();
    let span = line.words[0].span.clone();
    if kw == "no" || kw == "default" {
        match args.first().map(|w| w.text.as_str()) {
            Some("option") => option(cx, draft, line, &args[1..], Some(kw == "no")),
            Some("log") if kw == "no" => draft.logs.clear(),
            _ => cx.alert(
                &span,
                format!(
                    "'{kw}' only supports 'option'{}.",
                    if kw == "no" { " and 'log'" } else { "" }
                ),
            ),
        }
        return;
    }
    if kw == "option" {
        option(cx, draft, line, args, None);
        return;
    }
    if draft.kind == SectionKind::Defaults && draft.name.is_empty() {
        // Rules and ACLs need a named `defaults` (2.6): an anonymous one cannot hold them.
        match kw {
            "http-request" | "http-response" | "http-after-response" | "acl" => {
                cx.alert(
                    &span,
                    format!("'{kw}' not allowed in anonymous 'defaults' section."),
                );
                return;
            }
            "tcp-request" | "tcp-response"
                if args.first().map(|w| w.text.as_str()) != Some("inspect-delay") =>
            {
                let sub = args.first().map(|w| w.text.as_str()).unwrap_or("");
                cx.alert(
                    &span,
                    format!("{kw} {sub} is not allowed in anonymous 'defaults' sections"),
                );
                return;
            }
            _ => {}
        }
    }
    let (entry, rest, name) = if keywords::FAMILIES.contains(&kw) && !args.is_empty() {
        let two = format!("{kw} {}", args[0].text);
        match keywords::lookup(&two, draft.kind) {
            Some(e) => (e, &args[1..], two),
            None => {
                family_error(cx, draft, line);
                return;
            }
        }
    } else {
        match keywords::lookup(kw, draft.kind) {
            Some(e) => (e, args, kw.to_string()),
            None if keywords::FAMILIES.contains(&kw) => {
                family_error(cx, draft, line);
                return;
            }
            None => {
                let section = draft.kind.keyword();
                cx.unknown_keyword(line, section, keywords::names_in(draft.kind));
                return;
            }
        }
    };
    if entry.sections & draft.section_bit() == 0
        && !(name == "log-format" && draft.kind == SectionKind::Backend)
    {
        missing_capability(cx, draft, &span, &name, entry.sections);
        return;
    }
    run(cx, draft, line, entry, rest, &name);
}

fn run(
    cx: &mut Cx,
    draft: &mut ProxyDraft,
    line: &Line,
    entry: &'static keywords::Keyword,
    rest: &[Word],
    name: &str,
) {
    let span = &line.words[0].span;
    match entry.status {
        Status::Removed(msg) => {
            cx.alert(span, msg);
            return;
        }
        Status::Deprecated(msg) => {
            cx.warn(span, msg);
            return;
        }
        _ => {}
    }
    let before = cx.diags.items.len();
    match entry.handler {
        Handler::Proxy(f) => f(cx, draft, line, rest),
        other => generic_args(cx, line, other, rest, name),
    }
    let failed = cx.diags.items[before..]
        .iter()
        .any(|d| d.level == crate::diag::Level::Alert);
    if failed {
        return;
    }
    match entry.status {
        Status::ParsedOnly => cx.unimplemented(span, name),
        Status::Refused => cx.refuse(span, name),
        _ => {}
    }
}

/// Argument checks for keywords without a dedicated handler.
pub fn generic_args(cx: &mut Cx, line: &Line, handler: Handler, rest: &[Word], name: &str) {
    let span = &line.words[0].span;
    match handler {
        Handler::NoArg => {
            if let Some(extra) = rest.first() {
                cx.alert(
                    span,
                    format!(
                        "'{name}' cannot handle unexpected argument '{}'.",
                        extra.text
                    ),
                );
            }
        }
        Handler::OneArg if rest.first().is_none_or_empty() => {
            cx.alert(span, format!("'{name}' expects an argument."));
        }
        _ => {}
    }
}

/// `Option<&Word>` helper: absent or an empty word (an unset `"${VAR}"`).
pub trait WordOpt {
    fn is_none_or_empty(&self) -> bool;
}

impl WordOpt for Option<&Word> {
    fn is_none_or_empty(&self) -> bool {
        match self {
            None => true,
            Some(w) => w.text.is_empty(),
        }
    }
}

/// A keyword used in a proxy that lacks the capability it needs.
fn missing_capability(cx: &mut Cx, draft: &ProxyDraft, span: &Span, name: &str, sections: u16) {
    let first = name.split(' ').next().unwrap_or(name);
    if draft.kind == SectionKind::Defaults {
        cx.alert(
            span,
            format!("'{first}' not allowed in 'defaults' section."),
        );
        return;
    }
    let _ = sections;
    let cap = if draft.has_fe() {
        "backend"
    } else {
        "frontend"
    };
    let who = format!("{} '{}'", draft.type_name(), draft.name);
    if matches!(first, "server" | "default-server" | "server-template") {
        cx.alert_at(
            span,
            format!(
                "parsing [{span}] : '{first}' not allowed because {who} has no {cap} capability."
            ),
        );
    } else if first == "timeout" {
        cx.warn(
            span,
            format!("'{name}' will be ignored because {who} has no {cap} capability"),
        );
    } else if first == "maxconn" {
        cx.warn(
            span,
            format!("'{first}' ignored because {who} has no {cap} capability. Maybe you want 'fullconn' instead ?"),
        );
    } else {
        cx.warn(
            span,
            format!("'{first}' ignored because {who} has no {cap} capability."),
        );
    }
}

/// An unknown second word after a family keyword (`timeout clinet`, `stats foo`).
fn family_error(cx: &mut Cx, draft: &ProxyDraft, line: &Line) {
    let kw = line.keyword();
    let span = &line.words[0].span;
    let got = line.args().first().map(|w| w.text.as_str()).unwrap_or("");
    let subs: Vec<&'static str> = keywords::KEYWORDS
        .iter()
        .filter(|k| k.sections & sec::DFLB != 0)
        .filter_map(|k| k.name.strip_prefix(kw).and_then(|r| r.strip_prefix(' ')))
        .collect();
    if kw == "stats" {
        cx.alert_tight(span, format!("unknown stats parameter '{got}', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'."));
        return;
    }
    let msg = match kw {
        "timeout" => format!("'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{got}')"),
        "stats" => format!("unknown stats parameter '{got}', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'."),
        _ if got.is_empty() => format!("'{kw}' expects {}.", quoted_list(&subs)),
        _ => format!("'{kw}' : unknown keyword '{got}', expects {}.", quoted_list(&subs)),
    };
    let _ = draft;
    let mut d = crate::diag::Diagnostic::parsing(crate::diag::Level::Alert, span, msg);
    if let Some(s) = crate::suggest::best_match(got, subs.iter().copied()) {
        d = d.with_help(format!("did you mean '{kw} {s}'?"));
    }
    cx.diags.push(d);
}

fn quoted_list(items: &[&str]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} or {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

// ---------------------------------------------------------------- handlers

pub fn mode(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let v = args.first().map(|w| w.text.as_str()).unwrap_or("");
    match v {
        "http" => d.mode = Mode::Http,
        "tcp" => d.mode = Mode::Tcp,
        "health" => cx.alert(
            &line.span,
            "'mode health' doesn't exist anymore. Please use 'http-request return' or 'tcp-request connection reject' instead.",
        ),
        _ => cx.alert(&line.span, format!("unknown proxy mode '{v}'.")),
    }
}

/// An integer keyword read with HAProxy's `atol` (only an absent argument is an error).
fn int_arg(cx: &mut Cx, line: &Line, args: &[Word], kw: &str) -> Option<u32> {
    match args.first() {
        Some(w) if !w.text.is_empty() => Some(units::atou32(&w.text)),
        _ => {
            cx.alert(&line.span, format!("'{kw}' expects an integer argument."));
            None
        }
    }
}

pub fn maxconn(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if let Some(v) = int_arg(cx, line, args, "maxconn") {
        d.maxconn = Some(v);
    }
}

pub fn fullconn(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if let Some(v) = int_arg(cx, line, args, "fullconn") {
        d.fullconn = Some(v);
    }
}

pub fn retries(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        cx.alert(
            &line.span,
            "'retries' expects an integer argument (dispatch counts for one).",
        );
        return;
    }
    if let Some(v) = int_arg(cx, line, args, "retries") {
        d.retries = v;
    }
}

pub fn id(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    match args.first().and_then(|w| units::strict_u32(&w.text)) {
        Some(v) if v > 0 => d.id = Some((v, line.span.clone())),
        _ => cx.alert(
            &line.span,
            format!("{}: custom id has to be > 0.", line.keyword()),
        ),
    }
}

pub fn description(_cx: &mut Cx, d: &mut ProxyDraft, _line: &Line, args: &[Word]) {
    let text: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
    d.description = Some(text.join(" "));
}

pub fn disabled(_cx: &mut Cx, d: &mut ProxyDraft, _line: &Line, _args: &[Word]) {
    d.disabled = true;
}

pub fn enabled(_cx: &mut Cx, d: &mut ProxyDraft, _line: &Line, _args: &[Word]) {
    d.disabled = false;
}

pub fn timeout(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let which = line.args().first().map(|w| w.text.as_str()).unwrap_or("");
    let kw = format!("timeout {which}");
    let text = args.first().map(|w| w.text.as_str()).unwrap_or("");
    let value = match units::parse_time_ms(text) {
        Ok(v) => v,
        Err(e) => {
            cx.alert(&line.span, e.message(&kw, text));
            return;
        }
    };
    if args.len() > 1 {
        cx.alert(
            &line.span,
            format!(
                "'{kw}' : unexpected extra argument '{}' after value '{text}'.",
                args[1].text
            ),
        );
        return;
    }
    if let Some(c) = units::trailing_garbage(text) {
        cx.warn_plain(units::trailing_garbage_warning(c, text));
    }
    let v = (!value.is_zero()).then_some(value);
    let t = &mut d.timeouts;
    match which {
        "client" => t.client = v,
        "server" => t.server = v,
        "connect" => t.connect = v,
        "queue" => t.queue = v,
        "tunnel" => t.tunnel = v,
        "client-fin" => t.client_fin = v,
        "server-fin" => t.server_fin = v,
        "http-request" => t.http_request = v,
        "http-keep-alive" => t.http_keep_alive = v,
        "check" => t.check = v,
        "tarpit" => t.tarpit = v,
        _ => {}
    }
}

const BALANCE_ERR: &str = "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.";

pub fn balance(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let Some(first) = args.first() else {
        // HAProxy 2.6 accepts a bare `balance` and keeps the current algorithm.
        return;
    };
    let algo = first.text.as_str();
    let opts = &args[1..];
    let b = match algo {
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        "source" => Balance::Source,
        "random" => Balance::Random { draws: 2 },
        "uri" => {
            let mut len = None;
            let mut depth = None;
            let mut path_only = false;
            let mut whole = false;
            let mut i = 0;
            while i < opts.len() {
                match opts[i].text.as_str() {
                    "len" | "depth" => {
                        let Some(v) = opts.get(i + 1).and_then(|w| units::strict_u32(&w.text))
                        else {
                            cx.alert(
                                &line.span,
                                format!(
                                    "'balance uri {}' expects a positive integer (got '{}').",
                                    opts[i].text,
                                    opts.get(i + 1).map(|w| w.text.as_str()).unwrap_or("")
                                ),
                            );
                            return;
                        };
                        if opts[i].text == "len" {
                            len = Some(v);
                        } else {
                            depth = Some(v);
                        }
                        i += 2;
                    }
                    "whole" => {
                        whole = true;
                        i += 1;
                    }
                    "path-only" => {
                        path_only = true;
                        i += 1;
                    }
                    other => {
                        cx.alert(&line.span, format!("balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{other}')."));
                        return;
                    }
                }
            }
            Balance::Uri {
                len,
                depth,
                path_only,
                whole,
            }
        }
        "url_param" => {
            let Some(name) = opts.first() else {
                cx.alert(
                    &line.span,
                    "'balance url_param' requires an URL parameter name.",
                );
                return;
            };
            let mut check_post = None;
            if opts.get(1).map(|w| w.text.as_str()) == Some("check_post") {
                check_post = Some(opts.get(2).map(|w| units::atou32(&w.text)).unwrap_or(48));
            }
            Balance::UrlParam {
                name: name.text.clone(),
                check_post,
            }
        }
        "hash" => {
            if opts.is_empty() {
                cx.alert(&line.span, "'balance hash' requires a sample expression.");
                return;
            }
            let text: Vec<&str> = opts.iter().map(|w| w.text.as_str()).collect();
            match super::sample::parse_sample_expr(&text.join(" "), cx.env) {
                Ok(expr) => Balance::Hash(expr),
                Err(msg) => {
                    cx.alert(&line.span, format!("'balance hash' : {msg}"));
                    return;
                }
            }
        }
        _ if algo.starts_with("random") => {
            let draws = paren_arg(algo, "random").map(units::atou32).unwrap_or(2);
            Balance::Random {
                draws: draws.max(1),
            }
        }
        _ if algo.starts_with("hdr(") => match paren_arg(algo, "hdr") {
            Some(name) if !name.is_empty() => Balance::Hdr {
                name: name.to_string(),
                use_domain_only: opts.first().map(|w| w.text.as_str()) == Some("use_domain_only"),
            },
            _ => {
                cx.alert(&line.span, "hdr requires an http header field name.");
                return;
            }
        },
        _ if algo.starts_with("rdp-cookie") => Balance::RdpCookie {
            name: paren_arg(algo, "rdp-cookie")
                .filter(|n| !n.is_empty())
                .unwrap_or("mstshash")
                .to_string(),
        },
        _ => {
            let mut diag = crate::diag::Diagnostic::alert(&line.span, BALANCE_ERR);
            if let Some(s) = crate::suggest::best_match(
                algo,
                [
                    "roundrobin",
                    "static-rr",
                    "leastconn",
                    "first",
                    "source",
                    "uri",
                    "url_param",
                    "random",
                    "hash",
                ],
            ) {
                diag = diag.with_help(format!("did you mean '{s}'?"));
            }
            cx.diags.push(diag);
            return;
        }
    };
    d.balance = b;
}

/// `name(arg)` → `arg`.
fn paren_arg<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    text.strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')
}

pub fn hash_type(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let mut ht = HashType::default();
    match args.first().map(|w| w.text.as_str()) {
        Some("consistent") => ht.consistent = true,
        Some("map-based") => ht.consistent = false,
        Some("avalanche") => {
            ht.avalanche = true;
        }
        _ => {
            cx.alert(
                &line.span,
                "'hash-type' only supports 'consistent' and 'map-based'.",
            );
            return;
        }
    }
    if let Some(f) = args.get(1) {
        ht.function = match f.text.as_str() {
            "sdbm" => HashFunction::Sdbm,
            "djb2" => HashFunction::Djb2,
            "wt6" => HashFunction::Wt6,
            "crc32" => HashFunction::Crc32,
            "none" => HashFunction::None,
            _ => {
                cx.alert(
                    &line.span,
                    "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.",
                );
                return;
            }
        };
    }
    if let Some(m) = args.get(2) {
        if m.text == "avalanche" {
            ht.avalanche = true;
        } else {
            cx.alert(
                &line.span,
                format!(
                    "'hash-type {} {}' : unknown hash modifier '{}', expects 'avalanche'.",
                    args[0].text, args[1].text, m.text
                ),
            );
            return;
        }
    }
    d.hash_type = ht;
}

pub fn http_reuse(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    d.http_reuse = match args.first().map(|w| w.text.as_str()) {
        Some("never") => HttpReuse::Never,
        Some("safe") => HttpReuse::Safe,
        Some("aggressive") => HttpReuse::Aggressive,
        Some("always") => HttpReuse::Always,
        _ => {
            cx.alert(
                &line.span,
                "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.",
            );
            return;
        }
    };
}

pub fn cookie(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let Some(name) = args.first().filter(|w| !w.text.is_empty()) else {
        cx.alert(&line.span, "'cookie' expects <cookie_name> as argument.");
        return;
    };
    let mut c = CookiePersistence {
        name: name.text.clone(),
        mode: CookieMode::Rewrite,
        indirect: false,
        nocache: false,
        httponly: false,
        secure: false,
        preserve: false,
        domain: Vec::new(),
        maxidle: None,
        maxlife: None,
    };
    let mut i = 1;
    while i < args.len() {
        let a = args[i].text.as_str();
        match a {
            "rewrite" => c.mode = CookieMode::Rewrite,
            "insert" => c.mode = CookieMode::Insert,
            "prefix" => c.mode = CookieMode::Prefix,
            "indirect" => c.indirect = true,
            "nocache" => c.nocache = true,
            "postonly" | "dynamic" => {}
            "httponly" => c.httponly = true,
            "secure" => c.secure = true,
            "preserve" => c.preserve = true,
            "domain" | "maxidle" | "maxlife" | "attr" => {
                let Some(v) = args.get(i + 1) else {
                    cx.alert(&line.span, format!("'{a}' expects a value as argument."));
                    return;
                };
                match a {
                    "domain" => c.domain.push(v.text.clone()),
                    "maxidle" | "maxlife" => match units::parse_time(&v.text, 1_000_000) {
                        Ok(t) => {
                            if a == "maxidle" {
                                c.maxidle = Some(t);
                            } else {
                                c.maxlife = Some(t);
                            }
                        }
                        Err(e) => {
                            cx.alert(&line.span, e.message(&format!("cookie {a}"), &v.text));
                            return;
                        }
                    },
                    _ => {}
                }
                i += 1;
            }
            _ => {
                cx.alert(&line.span, "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.");
                return;
            }
        }
        i += 1;
    }
    d.cookie = Some((c, line.span.clone()));
}

pub fn default_backend(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    match args.first() {
        Some(w) if !w.text.is_empty() => {
            d.default_backend = Some((w.text.clone(), line.span.clone()))
        }
        _ => cx.alert(&line.span, "'default_backend' expects a backend name."),
    }
}

pub fn use_backend(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let Some(name) = args.first().filter(|w| !w.text.is_empty()) else {
        cx.alert(&line.span, "'use_backend' expects a backend name.");
        return;
    };
    if let Some(kw) = args.get(1) {
        if kw.text != "if" && kw.text != "unless" {
            cx.alert(&line.span, format!("unexpected keyword '{}' after switching rule, only 'if' and 'unless' are allowed.", kw.text));
            return;
        }
    }
    let cond = match condition(cx, d, &args[1..]) {
        Ok(c) => c,
        Err(e) => {
            cx.diags
                .push(e.diagnostic("error detected while parsing switching rule"));
            return;
        }
    };
    let dynamic = if name.text.contains("%[") {
        match super::sample::parse_log_format(
            &name.text,
            Some(super::sample::UsePoint::UseBackend),
            cx.env,
        ) {
            Ok(expr) => Some(expr),
            Err(msg) => {
                cx.alert(
                    &line.span,
                    format!("error detected while parsing switching rule : {msg}"),
                );
                return;
            }
        }
    } else {
        None
    };
    d.switching.push(SwitchDraft {
        backend: name.text.clone(),
        dynamic,
        cond,
        span: line.span.clone(),
    });
}

/// Compile `if|unless …` (the words start there) against this proxy's ACLs so far.
pub fn condition(
    cx: &mut Cx,
    d: &ProxyDraft,
    words: &[Word],
) -> Result<Option<ir::sample::Condition>, super::sample::CondError> {
    match super::sample::parse_condition(words, &d.acls, cx.env, cx.diags) {
        None => Ok(None),
        Some(r) => r.map(Some),
    }
}

pub fn acl(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    match super::sample::parse_acl_line(args, &line.span, cx.env, cx.diags) {
        Ok((name, term)) => {
            d.acls.declare(&name, term);
        }
        Err(diag) => cx.diags.push(diag),
    }
}

/// `http-request`, `http-response`, `redirect`, `errorfile`, `capture`…: lowered by the
/// HTTP rules module ([`super::http_rules`]) with this proxy's ACLs and the sample compiler.
pub fn delegated_http(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    use super::http_rules as hr;
    let kw = line.keyword();
    if matches!(kw, "http-request" | "redirect") && !d.switching.is_empty() {
        cx.warn(
            &line.span,
            format!(
                "a '{kw}' rule placed after a 'use_backend' rule will still be processed before."
            ),
        );
    } else if kw == "http-request" && !d.http.redirects.is_empty() {
        cx.warn(
            &line.span,
            "a 'http-request' rule placed after a 'redirect' rule will still be processed before.",
        );
    }
    if kw == "http-error" {
        http_error(cx, line, args);
        return;
    }
    if matches!(
        kw,
        "errorfiles" | "errorloc" | "errorloc302" | "errorloc303"
    ) {
        if args.is_empty() {
            cx.alert(&line.span, format!("{kw} : <code> and <url> expected."));
        } else {
            cx.unimplemented(&line.span, kw);
        }
        return;
    }
    let scope = std::mem::take(&mut d.acls);
    let result = {
        let mut rc = RuleCx {
            cx: &mut *cx,
            scope: &scope,
            kind: d.type_name(),
            name: &d.name,
            rule: format!(
                "{kw} {}",
                args.first().map(|w| w.text.as_str()).unwrap_or("")
            ),
            point: if kw == "http-response" || kw == "http-after-response" {
                super::sample::UsePoint::HttpResponse
            } else {
                super::sample::UsePoint::HttpRequest
            },
        };
        match kw {
            "http-request" => hr::lower_http_request(line, &mut rc).map(|r| d.http.request.push(r)),
            "http-response" => {
                hr::lower_http_response(line, &mut rc).map(|r| d.http.response.push(r))
            }
            "redirect" => hr::lower_redirect(line, &mut rc).map(|r| d.http.redirects.push(r)),
            "errorfile" => hr::lower_errorfile(line, &mut rc).map(|(code, raw)| {
                d.http
                    .error_files
                    .push((code, ir::http::bytes_like::RawResponse(raw)))
            }),
            "capture" => hr::lower_capture(line).map(|(side, cap)| match side {
                hr::CaptureSide::Request => d.http.capture_request.push(cap),
                hr::CaptureSide::Response => d.http.capture_response.push(cap),
            }),
            "http-after-response" => Err(crate::diag::Diagnostic::unimplemented(
                &line.span,
                "http-after-response",
            )),
            _ => Err(crate::diag::Diagnostic::unimplemented(&line.span, kw)),
        }
    };
    d.acls = scope;
    if let Err(diag) = result {
        let unimplemented = diag.unimplemented;
        let is_alert = diag.level == crate::diag::Level::Alert;
        cx.diags.push(diag);
        if unimplemented && kw != "capture" && kw != "errorloc" {
            // Running without this rule would not be what the config says.
            cx.refused.push(ir::Refusal {
                keyword: format!(
                    "{kw} {}",
                    args.first().map(|w| w.text.as_str()).unwrap_or("")
                )
                .trim()
                .to_string(),
                span: line.span.clone(),
            });
        }
        if is_alert && matches!(kw, "http-request" | "http-response" | "http-after-response") {
            // HAProxy stops reading the file after a bad HTTP rule (ERR_ABORT).
            cx.abort = true;
            cx.diags.aborted = true;
        }
    }
}

/// `http-error status N [content-type T] [errorfile F | file F | lf-file F | string S …]`:
/// the files must exist; the responses themselves are not implemented yet.
fn http_error(cx: &mut Cx, line: &Line, args: &[Word]) {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].text.as_str();
        if matches!(a, "errorfile" | "file" | "lf-file") {
            if let Some(f) = args.get(i + 1) {
                if cx.env.read_file(std::path::Path::new(&f.text)).is_err() {
                    cx.alert(
                        &line.span,
                        format!("http-error : error opening file '{}'", f.text),
                    );
                    return;
                }
            }
        }
        i += 1;
    }
    cx.unimplemented(&line.span, "http-error");
}

/// The proxy side of [`super::http_rules::RuleCtx`]: conditions, log-format strings and
/// sample expressions compiled with the sample lowering, files read through the environment.
struct RuleCx<'c, 'e> {
    cx: &'c mut Cx<'e>,
    scope: &'c super::sample::AclScope,
    kind: &'static str,
    name: &'c str,
    rule: String,
    point: super::sample::UsePoint,
}

impl super::http_rules::RuleCtx for RuleCx<'_, '_> {
    fn condition(
        &mut self,
        words: &[Word],
    ) -> Result<ir::sample::Condition, crate::diag::Diagnostic> {
        match super::sample::parse_condition(words, self.scope, self.cx.env, self.cx.diags) {
            Some(Ok(c)) => Ok(c),
            Some(Err(e)) => Err(e.diagnostic(&format!(
                "error detected while parsing an '{}' condition",
                self.rule
            ))),
            None => Err(crate::diag::Diagnostic::alert(
                &words
                    .first()
                    .map(|w| w.span.clone())
                    .unwrap_or_else(|| Span::new("".into(), 0, 0)),
                "expects 'if' or 'unless' before a condition.",
            )),
        }
    }
    fn log_format(
        &mut self,
        word: &Word,
    ) -> Result<ir::sample::LogFormatExpr, crate::diag::Diagnostic> {
        super::sample::parse_log_format(&word.text, Some(self.point), self.cx.env).map_err(|m| {
            super::sample::rule_error(&word.span, self.kind, self.name, &self.rule, &m)
        })
    }
    fn sample(&mut self, word: &Word) -> Result<ir::sample::SampleExpr, crate::diag::Diagnostic> {
        super::sample::parse_sample_expr(&word.text, self.cx.env).map_err(|m| {
            super::sample::rule_error(&word.span, self.kind, self.name, &self.rule, &m)
        })
    }
    fn read_file(&mut self, word: &Word) -> Result<Vec<u8>, crate::diag::Diagnostic> {
        let path = std::path::Path::new(&word.text);
        self.cx.env.read_file(path).map_err(|_| {
            if self.rule.starts_with("errorfile") {
                crate::diag::Diagnostic::alert(
                    &word.span,
                    format!("errorfile : error opening file '{}'.", word.text),
                )
            } else {
                super::sample::rule_error(
                    &word.span,
                    self.kind,
                    self.name,
                    self.rule.trim(),
                    &format!("error opening file '{}'.", word.text),
                )
            }
        })
    }
}

/// `tcp-request`, `tcp-response`: lowered by the TCP rules module (see [`delegated_http`]).
pub fn delegated_tcp(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if line.keyword() == "tcp-request"
        && args.first().map(|w| w.text.as_str()) != Some("inspect-delay")
        && !d.http.request.is_empty()
    {
        cx.warn(&line.span, "a 'tcp-request' rule placed after an 'http-request' rule will still be processed before.");
    }
    if args.first().map(|w| w.text.as_str()) == Some("inspect-delay") {
        match args.get(1).map(|w| units::parse_time_ms(&w.text)) {
            Some(Ok(t)) => d.inspect_delay = Some(t),
            _ => cx.alert(
                &line.span,
                format!(
                    "'{} inspect-delay' expects a positive delay in milliseconds, in proxy '{}'",
                    line.keyword(),
                    d.name
                ),
            ),
        }
        return;
    }
    if line.keyword() == "tcp-request" {
        super::tcp_rules::tcp_request(cx, d, line, args);
        return;
    }
    delegated_condition(cx, d, line, args);
}

/// For the TCP rules module: actions it does not run (`tcp-request session`).
pub fn delegated_condition_pub(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    delegated_condition(cx, d, line, args);
}

/// Rules lowered elsewhere (TCP rules until merged): their condition is compiled here.
fn delegated_condition(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let kw = line.keyword();
    let (_, cond) = super::sample::split_condition(args);
    if let Err(e) = condition(cx, d, cond) {
        let rule = format!(
            "{kw} {}",
            args.iter()
                .take(2)
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
        cx.diags.push(e.diagnostic_tcp(
            &rule,
            d.type_name(),
            &d.name,
            cond.first().map(|w| w.text.as_str()).unwrap_or("if"),
        ));
        return;
    }
    // The TCP rule module lowers the action; until it is merged the rule is not run.
    cx.refuse(
        &line.span,
        &format!(
            "{kw} {}",
            args.iter()
                .take(2)
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );
}

pub fn compression(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    match args.first().map(|w| w.text.as_str()) {
        Some("algo") | Some("type") | Some("offload") => {}
        _ => cx.alert(
            &line.span,
            "'compression' expects 'algo', 'type' or 'offload'",
        ),
    }
}

pub fn filter(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let Some(name) = args.first() else {
        cx.alert(&line.span, "'filter' expects a filter name.");
        return;
    };
    if name.text == "spoe" {
        if let Some(pos) = args.iter().position(|w| w.text == "config") {
            if let Some(file) = args.get(pos + 1) {
                if cx.env.read_file(std::path::Path::new(&file.text)).is_err() {
                    cx.alert(&line.span, format!("'filter' : 'Could not open configuration file {} : No such file or directory'", file.text));
                }
            }
        }
    }
}

pub fn http_check(_cx: &mut Cx, d: &mut ProxyDraft, _line: &Line, _args: &[Word]) {
    d.http_check_rules = true;
}

pub fn load_server_state(cx: &mut Cx, _d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    match args.first().map(|w| w.text.as_str()) {
        Some("global") | Some("local") | Some("none") => {}
        other => cx.alert(
            &line.span,
            format!(
                "'load-server-state-from-file' expects 'global', 'local' or 'none'. Got '{}'",
                other.unwrap_or("")
            ),
        ),
    }
}

pub fn log(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().map(|w| w.text.as_str()) == Some("global") {
        d.logs.push(LogEntry::Global);
        return;
    }
    if let Some(t) = super::log::parse_target(cx, line, args, true) {
        d.logs.push(LogEntry::Target(t));
    }
}

pub fn log_format(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let Some(fmt) = args.first().filter(|w| !w.text.is_empty()) else {
        cx.alert(&line.span, "log-format expects an argument.");
        return;
    };
    if args.len() > 1 {
        cx.alert(
            &line.span,
            "log-format expects only one argument, don't forget to escape spaces!",
        );
        return;
    }
    if d.kind == SectionKind::Backend {
        cx.warn(
            &line.span,
            format!(
                "backend '{}' : 'log-format' directive is ignored in backends.",
                d.name
            ),
        );
        return;
    }
    match super::sample::parse_log_format(&fmt.text, Some(super::sample::UsePoint::Log), cx.env) {
        Ok(expr) => d.log_format = LogFormatDraft::Custom(expr, line.span.clone()),
        Err(msg) => cx
            .diags
            .push(super::sample::log_format_directive_error(&line.span, &msg)),
    }
}

pub fn stats(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let sub = line.args().first().map(|w| w.text.as_str()).unwrap_or("");
    let page = d.stats.get_or_insert_with(|| StatsPage {
        uri: "/haproxy?stats".to_string(),
        ..StatsPage::default()
    });
    match sub {
        "uri" => match args.first() {
            Some(w) => page.uri = w.text.clone(),
            None => cx.alert(&line.span, "'uri' needs an URI prefix."),
        },
        "realm" => match args.first() {
            Some(w) => page.realm = Some(w.text.clone()),
            None => cx.alert(&line.span, "'realm' needs an realm name."),
        },
        "auth" => match args.first().and_then(|w| w.text.split_once(':')) {
            Some((u, p)) => page.auth.push((u.to_string(), p.to_string())),
            // 2.6 takes a word without ':' as a user with an empty password.
            None => page.auth.push((
                args.first().map(|w| w.text.clone()).unwrap_or_default(),
                String::new(),
            )),
        },
        "refresh" => match args.first().map(|w| units::parse_time(&w.text, 1_000_000)) {
            Some(Ok(t)) => page.refresh = Some(t),
            Some(Err(e)) => cx.alert(&line.span, e.message("stats refresh", &args[0].text)),
            None => cx.alert(
                &line.span,
                "'refresh' needs a positive interval in seconds.",
            ),
        },
        "hide-version" => page.hide_version = true,
        "show-desc" if args.is_empty() && cx.global.description.is_none() => {
            cx.diags.push(crate::diag::Diagnostic {
                level: crate::diag::Level::Warning,
                text: format!("parsing [{}]: 'show-desc' requires a parameter or 'desc' to be set in the global section.", line.span),
                span: Some(line.span.clone()),
                help: None,
                unimplemented: false,
            });
        }
        "show-legends" => page.show_legends = true,
        "admin" | "http-request" => {
            if args.is_empty() {
                cx.alert(
                    &line.span,
                    format!(
                        "'stats {sub}' requires either 'if' or 'unless' followed by a condition."
                    ),
                );
            } else {
                let (_, cond) = super::sample::split_condition(args);
                if let Err(e) = condition(cx, d, cond) {
                    cx.diags.push(e.diagnostic(&format!(
                        "error detected while parsing a 'stats {sub}' rule"
                    )));
                }
            }
        }
        _ => {}
    }
}

pub fn bind(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if let Some(binds) = super::bind::parse_bind_line(cx, line, args, d.kind.keyword()) {
        d.binds.extend(binds);
    }
}

pub fn server(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    super::server::server_line(cx, d, line, args);
}

pub fn server_template(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    super::server::server_template_line(cx, d, line, args);
}

pub fn default_server(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    super::server::default_server_line(cx, d, line, args);
}

// ---------------------------------------------------------------- option

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
        "tcp-smart-accept" => o.tcp_smart_accept = on,
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
            if let Some(x) = rest.first() {
                if x.text != "clf" {
                    cx.alert(
                        &line.span,
                        format!("keyword '{name}' only supports option 'clf'."),
                    );
                    return;
                }
            }
            d.log_format = LogFormatDraft::HttpLog(line.span.clone());
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

pub(crate) fn log_format_of(d: &ProxyDraft) -> LogFormat {
    match &d.log_format {
        LogFormatDraft::Default => LogFormat::Default,
        LogFormatDraft::TcpLog(_) => LogFormat::TcpLog,
        LogFormatDraft::HttpLog(_) => {
            if d.mode == Mode::Http {
                LogFormat::HttpLog
            } else {
                LogFormat::TcpLog
            }
        }
        LogFormatDraft::Custom(expr, _) => LogFormat::Custom(expr.clone()),
    }
}
