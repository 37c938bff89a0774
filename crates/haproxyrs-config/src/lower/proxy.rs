//! Proxy sections (`frontend`, `backend`, `listen`, and `defaults` through
//! [`super::defaults`]): the draft a proxy is built in, keyword dispatch through the table,
//! and the handlers of the proxy keywords that are not big enough for their own module.

use std::time::Duration;

use crate::ast::{Line, Section, SectionKind, Word};
use crate::ir::{
    self, Balance, CookieMode, CookiePersistence, HashType, HealthCheck, HttpReuse, LogFormat,
    Mode, ProxyOptions, StatsPage, Timeouts,
};
use crate::span::Span;

use super::defaults::State;
use super::keywords::{self, sec, Handler, Status};
use super::server::ServerDraft;
use super::{units, Cx};

pub use super::options::option;
pub use super::rules::{condition, delegated_condition_pub};

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
    /// `option httplog`; with `clf`, the Common Log Format as a log-format expression.
    HttpLog(Span, Option<ir::sample::LogFormatExpr>),
    Custom(ir::sample::LogFormatExpr, Span),
}

/// `option httplog clf`: the Common Log Format line 2.6 writes (client, request date in
/// UTC, request, status, size), then its own fields, every one quoted but the numbers.
pub const CLF_LOG_FORMAT: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";

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
    /// `unique-id-format` and `unique-id-header`.
    pub unique_id_format: Option<ir::sample::LogFormatExpr>,
    pub unique_id_header: Option<String>,
    pub options: ProxyOptions,
    /// Where `option forwardfor` / `originalto` / other HTTP-only options were set, for the
    /// "requires HTTP mode" warnings.
    pub http_only_options: Vec<&'static str>,
    pub http_reuse: HttpReuse,
    pub cookie: Option<(CookiePersistence, Span)>,
    pub health_check: Option<HealthCheck>,
    pub http_check_rules: bool,
    pub http_check_send: Option<super::http_check::SendDraft>,
    pub http_check_expects: Vec<ir::HttpCheckExpect>,
    /// `tcp-check` rules in order; `None` for one haproxyrs cannot run.
    pub tcp_check_rules: Vec<Option<ir::TcpCheckRule>>,
    pub fullconn: Option<u32>,
    pub stats: Option<StatsPage>,
    pub disabled: bool,
    pub description: Option<String>,
    pub id: Option<(u32, Span)>,
    /// `email-alert mailers NAME`.
    pub email_mailers: Option<String>,
    /// `external-check command` / `external-check path` (checked together after parsing).
    pub external_check_command: Option<String>,
    pub external_check_path: bool,
    /// `use-fcgi-app NAME` (checked against the `fcgi-app` sections after parsing).
    pub fcgi_app: Option<String>,
    /// The kinds of request rules written so far (bits of [`super::rules::RuleOrder`]).
    pub rules_seen: u8,
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
            unique_id_format: None,
            unique_id_header: None,
            options: ProxyOptions::default(),
            http_only_options: Vec::new(),
            http_reuse: HttpReuse::Safe,
            cookie: None,
            health_check: None,
            http_check_rules: false,
            http_check_send: None,
            http_check_expects: Vec::new(),
            tcp_check_rules: Vec::new(),
            fullconn: None,
            stats: None,
            disabled: false,
            description: None,
            id: None,
            email_mailers: None,
            external_check_command: None,
            external_check_path: false,
            fcgi_app: None,
            rules_seen: 0,
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

    pub fn section_bit(&self) -> u16 {
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
    if cx.abort {
        return;
    }
    super::defaults::check_inheritance(cx, state, section, &draft);
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

/// Duplicate names are an error. As in 2.6, a proxy with a frontend (`frontend`, `listen`)
/// is compared with earlier frontends only, a `backend` with earlier backends only (so
/// `backend x` then `listen x` is accepted); a `listen` is named `proxy` in the message.
fn register_name(cx: &mut Cx, state: &State, draft: &ProxyDraft) {
    let clash = if draft.has_fe() {
        state.fe_names.get(&draft.name).copied()
    } else if draft.has_be() {
        state.be_names.get(&draft.name).copied()
    } else {
        None
    };
    if let Some(i) = clash {
        let other = &state.proxies[i];
        let msg = format!(
            "Parsing [{}]: {} '{}' has the same name as {} '{}' declared at {}:{}.",
            draft.span,
            draft.type_name(),
            draft.name,
            other.type_name(),
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
        // HAProxy only warns about a missing capability and parses the line anyway, so its
        // arguments are still checked (a `server` line, or any line in `defaults`, stops).
        if !missing_capability(cx, draft, &span, &name, entry.sections) {
            return;
        }
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
            if name == "bind-process" && !super::checks::bind_process(cx, line, rest) {
                return;
            }
            cx.warn(span, msg);
            return;
        }
        _ => {}
    }
    let before = cx.diags.items.len();
    match entry.handler {
        Handler::Proxy(f) => f(cx, draft, line, rest),
        Handler::Cond => super::rules::required_condition(cx, draft, line, rest, name),
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
        Handler::Atol if rest.first().is_none_or_empty() => {
            cx.alert(span, format!("'{name}' expects an integer argument."));
        }
        Handler::Int => match rest.first().filter(|w| !w.text.is_empty()) {
            None => cx.alert(span, format!("'{name}' expects an integer argument.")),
            Some(w) => {
                let t = w.text.strip_prefix('-').unwrap_or(&w.text);
                if let Some(c) = t.chars().find(|c| !c.is_ascii_digit()) {
                    cx.alert(
                        span,
                        format!(
                            "'{name}' : unexpected character '{c}' in integer value '{}'",
                            w.text
                        ),
                    );
                }
            }
        },
        Handler::Time => {
            let v = rest.first().map(|w| w.text.as_str()).unwrap_or("");
            match units::parse_time_ms(v) {
                Ok(_) => {}
                Err(units::TimeError::BadChar(c)) => cx.alert(
                    span,
                    format!("unexpected character '{c}' in argument to <{name}>."),
                ),
                Err(units::TimeError::Empty) => cx.alert(
                    span,
                    format!("'{name}' expects a positive delay in milliseconds."),
                ),
                Err(e) => cx.alert(span, e.message(name, v)),
            }
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
fn missing_capability(
    cx: &mut Cx,
    draft: &ProxyDraft,
    span: &Span,
    name: &str,
    sections: u16,
) -> bool {
    let first = name.split(' ').next().unwrap_or(name);
    if draft.kind == SectionKind::Defaults {
        cx.alert(
            span,
            format!("'{first}' not allowed in 'defaults' section."),
        );
        return false;
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
    // These stop at the warning; the other keywords are still parsed (and checked).
    !matches!(
        first,
        "server" | "default-server" | "server-template" | "stick"
    )
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

pub fn description(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if args.first().is_none_or_empty() {
        cx.alert_tight(&line.span, "'description' expects a string argument.");
        return;
    }
    let text: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
    d.description = Some(text.join(" "));
}

pub fn disabled(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    generic_args(cx, line, Handler::NoArg, args, "disabled");
    d.disabled = true;
}

pub fn enabled(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    generic_args(cx, line, Handler::NoArg, args, "enabled");
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
    super::rules::misplaced(cx, d, super::rules::RuleOrder::UseBackend, &line.span);
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
    if let Some(c) = &cond {
        super::rules::check_usage(cx, d, &["use_backend"], c, &line.span);
    }
    super::rules::mark_rule(d, super::rules::RuleOrder::UseBackend);
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

pub fn email_alert_mailers(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    match args.first().filter(|w| !w.text.is_empty()) {
        Some(w) => d.email_mailers = Some(w.text.clone()),
        None => cx.alert(
            &line.span,
            "'email-alert mailers' expects a mailers section name.",
        ),
    }
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

/// The one argument of a format directive (`log-format`, `unique-id-format`), or 2.6's
/// ALERT about it.
fn format_arg<'w>(cx: &mut Cx, line: &Line, args: &'w [Word], what: &str) -> Option<&'w Word> {
    let Some(fmt) = args.first().filter(|w| !w.text.is_empty()) else {
        cx.alert(&line.span, format!("{what} expects an argument."));
        return None;
    };
    if args.len() > 1 {
        cx.alert(
            &line.span,
            format!("{what} expects only one argument, don't forget to escape spaces!"),
        );
        return None;
    }
    Some(fmt)
}

pub fn log_format(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let Some(fmt) = format_arg(cx, line, args, "log-format") else {
        return;
    };
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

pub fn unique_id_format(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let Some(fmt) = format_arg(cx, line, args, "unique-id-format") else {
        return;
    };
    match super::sample::parse_log_format(&fmt.text, None, cx.env) {
        Ok(expr) => d.unique_id_format = Some(expr),
        Err(msg) => cx.diags.push(super::sample::format_directive_error(
            &line.span,
            "unique-id",
            &msg,
        )),
    }
}

pub fn unique_id_header(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    match args.first().filter(|w| !w.text.is_empty()) {
        Some(name) => d.unique_id_header = Some(name.text.clone()),
        None => cx.alert(&line.span, "unique-id-header expects an argument."),
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
        "scope" => match args.first() {
            Some(w) if w.text == "." => page.scope.push(d.name.clone()),
            Some(w) => page.scope.push(w.text.clone()),
            None => cx.alert(&line.span, "'scope' needs a proxy name."),
        },
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
                match condition(cx, d, cond) {
                    Err(e) => cx.diags.push(e.diagnostic(&format!(
                        "error detected while parsing a 'stats {sub}' rule"
                    ))),
                    Ok(Some(c)) => super::rules::check_usage(cx, d, &["stats"], &c, &line.span),
                    Ok(None) => {}
                }
            }
        }
        _ => {}
    }
}

pub fn bind(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if let Some(binds) = super::bind::parse_bind_line(cx, line, args, d.kind.keyword(), &d.name) {
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

pub(crate) fn log_format_of(d: &ProxyDraft) -> LogFormat {
    match &d.log_format {
        LogFormatDraft::Default => LogFormat::Default,
        LogFormatDraft::TcpLog(_) => LogFormat::TcpLog,
        LogFormatDraft::HttpLog(_, clf) => match (d.mode, clf) {
            (Mode::Http, Some(expr)) => LogFormat::Custom(expr.clone()),
            (Mode::Http, None) => LogFormat::HttpLog,
            _ => LogFormat::TcpLog,
        },
        LogFormatDraft::Custom(expr, _) => LogFormat::Custom(expr.clone()),
    }
}
