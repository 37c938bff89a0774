//! The keyword table: every keyword HAProxy 2.6 knows, per section kind, with its status in
//! haproxyrs and its handler. It drives dispatch during lowering, the "unknown keyword"
//! ALERTs and their "did you mean" hints, and the generated `docs/compatibility.md`, so the
//! three cannot disagree. Adding a keyword is one entry here.

use crate::ast::{Line, SectionKind, Word};
use crate::ir::Userlist;

use super::proxy::ProxyDraft;
use super::{balance, checks, global, http_check, proxy, rules, sections, tcp_check, Cx};

/// Section kinds as bits, so an entry can name all the sections it is valid in.
pub mod sec {
    pub const GLOBAL: u16 = 1 << 0;
    pub const DEFAULTS: u16 = 1 << 1;
    pub const FRONTEND: u16 = 1 << 2;
    pub const LISTEN: u16 = 1 << 3;
    pub const BACKEND: u16 = 1 << 4;
    pub const USERLIST: u16 = 1 << 5;
    pub const PEERS: u16 = 1 << 6;
    pub const RESOLVERS: u16 = 1 << 7;
    pub const MAILERS: u16 = 1 << 8;
    pub const HTTP_ERRORS: u16 = 1 << 9;
    pub const RING: u16 = 1 << 10;
    pub const CACHE: u16 = 1 << 11;
    pub const PROGRAM: u16 = 1 << 12;
    pub const LOG_FORWARD: u16 = 1 << 13;
    pub const FCGI_APP: u16 = 1 << 14;
    /// The proxy keyword matrix's columns, as the manual's section 4.1 writes them.
    pub const DFLB: u16 = DEFAULTS | FRONTEND | LISTEN | BACKEND;
    pub const DFL: u16 = DEFAULTS | FRONTEND | LISTEN;
    pub const DLB: u16 = DEFAULTS | LISTEN | BACKEND;
    pub const FLB: u16 = FRONTEND | LISTEN | BACKEND;
    pub const FL: u16 = FRONTEND | LISTEN;
    pub const LB: u16 = LISTEN | BACKEND;
}

/// The bit of a section kind.
pub fn section_bit(kind: SectionKind) -> u16 {
    match kind {
        SectionKind::Global => sec::GLOBAL,
        SectionKind::Defaults => sec::DEFAULTS,
        SectionKind::Frontend => sec::FRONTEND,
        SectionKind::Listen => sec::LISTEN,
        SectionKind::Backend => sec::BACKEND,
        SectionKind::Userlist => sec::USERLIST,
        SectionKind::Peers => sec::PEERS,
        SectionKind::Resolvers => sec::RESOLVERS,
        SectionKind::Mailers => sec::MAILERS,
        SectionKind::HttpErrors => sec::HTTP_ERRORS,
        SectionKind::Ring => sec::RING,
        SectionKind::Cache => sec::CACHE,
        SectionKind::Program => sec::PROGRAM,
        SectionKind::LogForward => sec::LOG_FORWARD,
        SectionKind::FcgiApp => sec::FCGI_APP,
    }
}

/// What haproxyrs does with a keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Lowered into the IR and carried out by the engines.
    Supported,
    /// Checked as HAProxy checks it, then reported with a NOTICE "parsed but not
    /// implemented"; the proxy runs without it (as HAProxy runs a server without `check`).
    ParsedOnly,
    /// Like `ParsedOnly` under `-c`, but the proxy refuses to start with it: running
    /// without it would change routing, access control or security.
    Refused,
    /// Removed before 2.6: an ALERT with HAProxy 2.6's own message.
    Removed(&'static str),
    /// Deprecated in 2.6: accepted with HAProxy 2.6's WARNING.
    Deprecated(&'static str),
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Supported => "supported",
            Status::ParsedOnly => "parsed only",
            Status::Refused => "refused at start",
            Status::Removed(_) => "removed (ALERT)",
            Status::Deprecated(_) => "deprecated (WARNING), ignored",
        }
    }
}

pub type ProxyFn = fn(&mut Cx, &mut ProxyDraft, &Line, &[Word]);
pub type GlobalFn = fn(&mut Cx, &Line, &[Word]);
pub type UserlistFn = fn(&mut Cx, &mut Userlist, &Line, &[Word]);

/// How a keyword's arguments are interpreted.
#[derive(Clone, Copy)]
pub enum Handler {
    Global(GlobalFn),
    Proxy(ProxyFn),
    Userlist(UserlistFn),
    /// Takes no argument (HAProxy: "'kw' cannot handle unexpected argument").
    NoArg,
    /// Needs at least one argument.
    OneArg,
    /// Arguments not checked further.
    AnyArgs,
    /// One integer read with `atol` (only a missing value is an error).
    Atol,
    /// One strict integer (`'kw' : unexpected character 'x' in integer value 'x'`).
    Int,
    /// One time value, bare number in milliseconds.
    Time,
    /// Needs `if|unless COND` (the condition is compiled against the proxy's ACLs).
    Cond,
    /// Applied by the preprocessor while reading the text (`setenv` …): nothing left to do.
    Preprocessor,
}

/// One keyword: its name as written (two words for families such as `timeout client`),
/// where it is valid, its status and its handler.
#[derive(Clone, Copy)]
pub struct Keyword {
    pub name: &'static str,
    pub sections: u16,
    pub status: Status,
    pub handler: Handler,
    /// A short note for the compatibility matrix.
    pub note: &'static str,
}

impl Keyword {
    /// Whether the generic argument check requires a value.
    pub fn handler_needs_arg(&self) -> bool {
        matches!(
            self.handler,
            Handler::OneArg | Handler::Int | Handler::Time | Handler::Atol
        )
    }
}

const fn k(
    name: &'static str,
    sections: u16,
    status: Status,
    handler: Handler,
    note: &'static str,
) -> Keyword {
    Keyword {
        name,
        sections,
        status,
        handler,
        note,
    }
}

use sec::*;
use Handler::{AnyArgs, NoArg, OneArg, Preprocessor};
use Status::{ParsedOnly as P, Refused as R, Supported as S};

const G: u16 = GLOBAL;

/// Keywords whose first word is a family: the second word selects the entry.
pub const FAMILIES: &[&str] = &[
    "timeout",
    "option",
    "stats",
    "http-check",
    "tcp-check",
    "email-alert",
    "stick",
    "monitor",
    "persist",
    "rate-limit",
    "external-check",
    "declare",
];

/// Every keyword of every section.
pub static KEYWORDS: &[Keyword] = &[
    // ---- global: process management and security
    k("ca-base", G, P, Handler::Global(global::ca_base), "TLS is not implemented"),
    k("chroot", G, S, Handler::Global(global::chroot), "applied once the listeners are bound"),
    k("close-spread-time", G, P, OneArg, ""),
    k("cluster-secret", G, P, OneArg, ""),
    k("cpu-map", G, P, OneArg, ""),
    k("crt-base", G, P, Handler::Global(global::crt_base), "TLS is not implemented"),
    k("daemon", G, S, Handler::Global(global::daemon), "-d and -db keep the foreground; -D forks even without it"),
    k("default-path", G, P, OneArg, ""),
    k("description", G, S, Handler::Global(global::description), ""),
    k("expose-experimental-directives", G, S, NoArg, ""),
    k("external-check", G, P, AnyArgs, ""),
    k("fd-hard-limit", G, P, OneArg, ""),
    k("gid", G, S, Handler::Global(global::gid), "applied once the listeners are bound"),
    k("group", G, S, Handler::Global(global::group), "checked against the system's groups; applied once the listeners are bound"),
    k("grace", G, Status::Removed("the 'grace' keyword is not supported any more since HAProxy version 2.5."), AnyArgs, ""),
    k("h1-accept-payload-with-any-method", G, P, NoArg, ""),
    k("h1-case-adjust", G, S, Handler::Global(super::http_rules::h1_case_adjust), ""),
    k("h1-case-adjust-file", G, P, OneArg, ""),
    k("h2-workaround-bogus-websocket-clients", G, P, NoArg, ""),
    k("hard-stop-after", G, S, Handler::Global(global::hard_stop_after), ""),
    k("httpclient.resolvers.id", G, P, OneArg, ""),
    k("httpclient.resolvers.prefer", G, P, OneArg, ""),
    k("httpclient.ssl.ca-file", G, P, OneArg, ""),
    k("httpclient.ssl.verify", G, P, OneArg, ""),
    k("insecure-fork-wanted", G, P, Handler::Global(global::insecure_fork_wanted), ""),
    k("insecure-setuid-wanted", G, P, NoArg, ""),
    k("issuers-chain-path", G, P, OneArg, ""),
    k("localpeer", G, P, Handler::Global(global::localpeer), ""),
    k("log", G, S, Handler::Global(global::log), ""),
    k("log-send-hostname", G, S, Handler::Global(global::log_send_hostname), ""),
    k("log-tag", G, S, Handler::Global(global::log_tag), ""),
    k("lua-load", G, R, Handler::Global(global::lua_load), "Lua is not implemented; the file must exist"),
    k("lua-load-per-thread", G, R, Handler::Global(global::lua_load), "Lua is not implemented; the file must exist"),
    k("lua-prepend-path", G, P, OneArg, ""),
    k("master-worker", G, P, Handler::Global(global::master_worker), ""),
    k("mworker-max-reloads", G, P, OneArg, ""),
    k("nbproc", G, Status::Removed("nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available."), AnyArgs, ""),
    k("nbthread", G, S, Handler::Global(global::nbthread), ""),
    k("node", G, S, Handler::Global(global::node), ""),
    k("numa-cpu-mapping", G, P, NoArg, ""),
    k("pidfile", G, S, Handler::Global(global::pidfile), "written in daemon mode only, as 2.6; -p wins"),
    k("pp2-never-send-local", G, P, NoArg, ""),
    k("presetenv", G, S, Preprocessor, "applied while reading the file"),
    k("resetenv", G, S, Preprocessor, "applied while reading the file"),
    k("set-dumpable", G, P, NoArg, ""),
    k("set-var", G, P, AnyArgs, ""),
    k("set-var-fmt", G, P, AnyArgs, ""),
    k("setenv", G, S, Preprocessor, "applied while reading the file"),
    k("ssl-default-bind-ciphers", G, P, OneArg, "TLS is not implemented"),
    k("ssl-default-bind-ciphersuites", G, P, OneArg, "TLS is not implemented"),
    k("ssl-default-bind-curves", G, P, OneArg, "TLS is not implemented"),
    k("ssl-default-bind-options", G, P, AnyArgs, "TLS is not implemented"),
    k("ssl-default-server-ciphers", G, P, OneArg, "TLS is not implemented"),
    k("ssl-default-server-ciphersuites", G, P, OneArg, "TLS is not implemented"),
    k("ssl-default-server-options", G, P, AnyArgs, "TLS is not implemented"),
    k("ssl-dh-param-file", G, P, OneArg, "TLS is not implemented"),
    k("ssl-load-extra-del-ext", G, P, NoArg, ""),
    k("ssl-load-extra-files", G, P, AnyArgs, ""),
    k("ssl-mode-async", G, P, NoArg, ""),
    k("ssl-propquery", G, P, OneArg, ""),
    k("ssl-provider", G, P, OneArg, ""),
    k("ssl-provider-path", G, P, OneArg, ""),
    k("ssl-server-verify", G, P, Handler::Global(global::ssl_server_verify), ""),
    k("ssl-skip-self-issued-ca", G, P, NoArg, ""),
    k("stats", G, S, Handler::Global(global::stats), "'stats socket' is parsed only"),
    k("strict-limits", G, P, NoArg, ""),
    k("thread-group", G, P, AnyArgs, ""),
    k("thread-groups", G, P, OneArg, ""),
    k("uid", G, S, Handler::Global(global::uid), "applied once the listeners are bound"),
    k("ulimit-n", G, S, Handler::Global(global::ulimit_n), ""),
    k("unix-bind", G, P, AnyArgs, ""),
    k("unsetenv", G, S, Preprocessor, "applied while reading the file"),
    k("user", G, S, Handler::Global(global::user), "checked against the system's users; applied once the listeners are bound"),
    // ---- global: performance tuning
    k("busy-polling", G, P, NoArg, ""),
    k("max-spread-checks", G, P, OneArg, ""),
    k("maxcompcpuusage", G, P, OneArg, ""),
    k("maxcomprate", G, P, OneArg, ""),
    k("maxconn", G, S, Handler::Global(global::maxconn), ""),
    k("maxconnrate", G, S, Handler::Global(global::maxconnrate), ""),
    k("maxpipes", G, P, OneArg, ""),
    k("maxsessrate", G, S, Handler::Global(global::maxsessrate), ""),
    k("maxsslconn", G, P, OneArg, ""),
    k("maxsslrate", G, P, OneArg, ""),
    k("maxzlibmem", G, P, OneArg, ""),
    k("no-memory-trimming", G, P, NoArg, ""),
    k("noepoll", G, P, NoArg, ""),
    k("noevports", G, P, NoArg, ""),
    k("nogetaddrinfo", G, P, NoArg, ""),
    k("nokqueue", G, P, NoArg, ""),
    k("nopoll", G, P, NoArg, ""),
    k("noreuseport", G, P, NoArg, ""),
    k("nosplice", G, P, NoArg, ""),
    k("profiling.tasks", G, P, OneArg, ""),
    k("server-state-base", G, P, Handler::Global(global::server_state_base), ""),
    k("server-state-file", G, P, Handler::Global(global::server_state_file), ""),
    k("spread-checks", G, S, Handler::Global(global::spread_checks), ""),
    k("tune.buffers.limit", G, P, OneArg, ""),
    k("tune.buffers.reserve", G, P, OneArg, ""),
    k("tune.bufsize", G, S, Handler::Global(global::tune_bufsize), ""),
    k("tune.chksize", G, Status::Removed("option 'tune.chksize' is not supported any more (tune.bufsize is used instead)."), AnyArgs, ""),
    k("tune.comp.maxlevel", G, P, OneArg, ""),
    k("tune.fail-alloc", G, P, OneArg, ""),
    k("tune.fd.edge-triggered", G, P, OneArg, ""),
    k("tune.h2.header-table-size", G, P, OneArg, ""),
    k("tune.h2.initial-window-size", G, P, OneArg, ""),
    k("tune.h2.max-concurrent-streams", G, P, OneArg, ""),
    k("tune.h2.max-frame-size", G, P, OneArg, ""),
    k("tune.http.cookielen", G, P, OneArg, ""),
    k("tune.http.logurilen", G, P, OneArg, ""),
    k("tune.http.maxhdr", G, S, Handler::Global(global::tune_maxhdr), ""),
    k("tune.idle-pool.shared", G, P, OneArg, ""),
    k("tune.idletimer", G, P, OneArg, ""),
    k("tune.listener.multi-queue", G, P, OneArg, ""),
    k("tune.lua.forced-yield", G, P, OneArg, ""),
    k("tune.lua.maxmem", G, P, OneArg, ""),
    k("tune.lua.service-timeout", G, P, OneArg, ""),
    k("tune.lua.session-timeout", G, P, OneArg, ""),
    k("tune.lua.task-timeout", G, P, OneArg, ""),
    k("tune.maxaccept", G, S, Handler::Global(global::tune_maxaccept), ""),
    k("tune.maxpollevents", G, P, OneArg, ""),
    k("tune.maxrewrite", G, S, Handler::Global(global::tune_maxrewrite), ""),
    k("tune.pattern.cache-size", G, P, OneArg, ""),
    k("tune.peers.max-updates-at-once", G, P, OneArg, ""),
    k("tune.pipesize", G, P, OneArg, ""),
    k("tune.pool-high-fd-ratio", G, P, OneArg, ""),
    k("tune.pool-low-fd-ratio", G, P, OneArg, ""),
    k("tune.rcvbuf.client", G, P, OneArg, ""),
    k("tune.rcvbuf.server", G, P, OneArg, ""),
    k("tune.recv_enough", G, P, OneArg, ""),
    k("tune.runqueue-depth", G, P, OneArg, ""),
    k("tune.sched.low-latency", G, P, OneArg, ""),
    k("tune.sndbuf.client", G, P, OneArg, ""),
    k("tune.sndbuf.server", G, P, OneArg, ""),
    k("tune.ssl.cachesize", G, P, OneArg, ""),
    k("tune.ssl.capture-buffer-size", G, P, OneArg, ""),
    k("tune.ssl.capture-cipherlist-size", G, Status::Deprecated("'tune.ssl.capture-cipherlist-size' is deprecated and will be removed in version 2.7. Please use 'tune.ssl.capture-buffer-size' instead."), OneArg, ""),
    k("tune.ssl.default-dh-param", G, P, OneArg, ""),
    k("tune.ssl.force-private-cache", G, P, NoArg, ""),
    k("tune.ssl.hard-maxrecord", G, P, OneArg, ""),
    k("tune.ssl.keylog", G, P, OneArg, ""),
    k("tune.ssl.lifetime", G, P, OneArg, ""),
    k("tune.ssl.maxrecord", G, P, OneArg, ""),
    k("tune.ssl.ssl-ctx-cache-size", G, P, OneArg, ""),
    k("tune.vars.check-max-size", G, P, OneArg, ""),
    k("tune.vars.global-max-size", G, P, OneArg, ""),
    k("tune.vars.proc-max-size", G, P, OneArg, ""),
    k("tune.vars.reqres-max-size", G, P, OneArg, ""),
    k("tune.vars.sess-max-size", G, P, OneArg, ""),
    k("tune.vars.txn-max-size", G, P, OneArg, ""),
    // ---- global: debugging
    k("quiet", G, S, NoArg, ""),
    k("zero-warning", G, S, Handler::Global(global::zero_warning), ""),
    // ---- proxies (the manual's section 4.1 matrix: defaults, frontend, listen, backend)
    k("acl", DFLB, S, Handler::Proxy(rules::acl), "ACL parsing: see sample expressions"),
    k("backlog", DFL, P, Handler::Atol, ""),
    k("balance", DLB, S, Handler::Proxy(balance::balance), "all 2.6 algorithms"),
    k("bind", FL, S, Handler::Proxy(proxy::bind), "see bind options below"),
    k("bind-process", DFLB, Status::Deprecated("'bind-process' has no effect, is deprecated, and will be removed in version 2.7."), AnyArgs, ""),
    k("capture", FL, S, Handler::Proxy(rules::delegated_http), "HTTP rules"),
    k("clitcpka-cnt", DFL, P, Handler::Int, ""),
    k("clitcpka-idle", DFL, P, Handler::Time, ""),
    k("clitcpka-intvl", DFL, P, Handler::Time, ""),
    k("compression", DFLB, P, Handler::Proxy(proxy::compression), ""),
    k("cookie", DLB, S, Handler::Proxy(proxy::cookie), ""),
    k("declare capture", FL, P, Handler::Proxy(checks::declare_capture), ""),
    k("default-server", DLB, S, Handler::Proxy(proxy::default_server), "see server options below"),
    k("default_backend", DFL, S, Handler::Proxy(proxy::default_backend), ""),
    k("description", FLB, S, Handler::Proxy(proxy::description), ""),
    k("disabled", DFLB, S, Handler::Proxy(proxy::disabled), ""),
    k("dispatch", LB, R, Handler::Proxy(checks::dispatch), ""),
    k("dynamic-cookie-key", DLB, P, OneArg, ""),
    k("email-alert from", DFLB, P, AnyArgs, ""),
    k("email-alert level", DFLB, P, Handler::Proxy(checks::email_alert_level), ""),
    k("email-alert mailers", DFLB, P, Handler::Proxy(proxy::email_alert_mailers), ""),
    k("email-alert myhostname", DFLB, P, AnyArgs, ""),
    k("email-alert to", DFLB, P, AnyArgs, ""),
    k("enabled", DFLB, S, Handler::Proxy(proxy::enabled), ""),
    k("errorfile", DFLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules"),
    k("errorfiles", DFLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules"),
    k("errorloc", DFLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules"),
    k("errorloc302", DFLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules"),
    k("errorloc303", DFLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules"),
    k("error-log-format", DFL, P, OneArg, ""),
    k("force-persist", LB, R, Handler::Cond, ""),
    k("filter", FLB, R, Handler::Proxy(proxy::filter), ""),
    k("fullconn", DLB, S, Handler::Proxy(proxy::fullconn), ""),
    k("hash-balance-factor", DLB, P, Handler::Proxy(checks::hash_balance_factor), ""),
    k("hash-type", DLB, S, Handler::Proxy(balance::hash_type), ""),
    k("http-after-response", DFLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules"),
    k("http-check comment", DLB, P, Handler::Proxy(checks::check_comment), "health checks"),
    k("http-check connect", DLB, P, Handler::Proxy(checks::check_connect), "health checks"),
    k("http-check disable-on-404", DLB, P, Handler::Proxy(checks::check_flag), "health checks"),
    k("http-check expect", DLB, S, Handler::Proxy(http_check::expect), "status, rstatus, string, rstring (with `!`); hdr, fhdr, string-lf get a NOTICE and are not run"),
    k("http-check send", DLB, S, Handler::Proxy(http_check::send), "meth, uri, ver, hdr, body; uri-lf, body-lf get a NOTICE and are not run"),
    k("http-check send-state", DLB, P, Handler::Proxy(checks::check_flag), "health checks"),
    k("http-check set-var", DLB, P, AnyArgs, "health checks"),
    k("http-check unset-var", DLB, P, AnyArgs, "health checks"),
    k("http-error", DFLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules"),
    k("http-request", DFLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules: per-action status"),
    k("http-response", DFLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules: per-action status"),
    k("http-reuse", DLB, S, Handler::Proxy(proxy::http_reuse), ""),
    k("http-send-name-header", DLB, P, Handler::Proxy(checks::http_send_name_header), ""),
    k("id", FLB, S, Handler::Proxy(proxy::id), ""),
    k("ignore-persist", LB, R, Handler::Cond, ""),
    k("load-server-state-from-file", DLB, P, Handler::Proxy(proxy::load_server_state), ""),
    k("log", DFLB, S, Handler::Proxy(proxy::log), ""),
    k("log-format", DFL, S, Handler::Proxy(proxy::log_format), ""),
    k("log-format-sd", DFL, P, OneArg, ""),
    k("log-tag", DFLB, P, OneArg, ""),
    k("max-keep-alive-queue", DLB, P, Handler::Int, ""),
    k("maxconn", DFL, S, Handler::Proxy(proxy::maxconn), ""),
    k("mode", DFLB, S, Handler::Proxy(proxy::mode), "tcp, http"),
    k("monitor fail", FL, P, Handler::Cond, ""),
    k("monitor-net", DFL, Status::Removed("'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src x }' instead."), AnyArgs, ""),
    k("monitor-uri", DFL, P, OneArg, ""),
    k("persist rdp-cookie", DLB, R, AnyArgs, ""),
    k("rate-limit sessions", DFL, R, Handler::Int, ""),
    k("redirect", FLB, S, Handler::Proxy(rules::delegated_http), "HTTP rules"),
    k("retries", DLB, S, Handler::Proxy(proxy::retries), ""),
    k("retry-on", DLB, P, Handler::Proxy(checks::retry_on), ""),
    k("server", LB, S, Handler::Proxy(proxy::server), "see server options below"),
    k("server-state-file-name", DLB, P, AnyArgs, ""),
    k("server-template", LB, R, Handler::Proxy(proxy::server_template), "servers from DNS records are not implemented"),
    k("source", DLB, P, Handler::Proxy(checks::source), ""),
    k("srvtcpka-cnt", DLB, P, Handler::Int, ""),
    k("srvtcpka-idle", DLB, P, Handler::Time, ""),
    k("srvtcpka-intvl", DLB, P, Handler::Time, ""),
    k("stats admin", FLB, P, Handler::Proxy(proxy::stats), "the page is read-only"),
    k("stats auth", DFLB, S, Handler::Proxy(proxy::stats), "401 with `WWW-Authenticate: Basic` as 2.6"),
    k("stats enable", DFLB, S, Handler::Proxy(proxy::stats), "the page at `/haproxy?stats`: CSV (`;csv`) and a plain HTML table"),
    k("stats hide-version", DFLB, S, Handler::Proxy(proxy::stats), "the HTML page omits the version"),
    k("stats http-request", FLB, R, Handler::Proxy(proxy::stats), "not run: the page would be served without its access rules"),
    k("stats realm", DFLB, S, Handler::Proxy(proxy::stats), "the 401's realm"),
    k("stats refresh", DFLB, S, Handler::Proxy(proxy::stats), "`Refresh:` header, not with `;norefresh`"),
    k("stats scope", DFLB, S, Handler::Proxy(proxy::stats), "only the named proxies are listed"),
    k("stats show-desc", DFLB, P, Handler::Proxy(proxy::stats), "not shown on the page"),
    k("stats show-legends", DFLB, P, Handler::Proxy(proxy::stats), "not shown on the page"),
    k("stats show-modules", DFLB, P, Handler::Proxy(proxy::stats), "not shown on the page"),
    k("stats show-node", DFLB, P, Handler::Proxy(proxy::stats), "not shown on the page"),
    k("stats uri", DFLB, S, Handler::Proxy(proxy::stats), "a prefix of the path (query included) as 2.6"),
    k("stick match", LB, R, Handler::Proxy(checks::stick), ""),
    k("stick on", LB, R, Handler::Proxy(checks::stick), ""),
    k("stick store-request", LB, R, Handler::Proxy(checks::stick), ""),
    k("stick store-response", LB, R, Handler::Proxy(checks::stick), ""),
    k("stick-table", FLB, R, Handler::Proxy(checks::stick_table), "stick tables and their limits are not implemented"),
    k("tcp-check comment", DLB, S, Handler::Proxy(tcp_check::comment), ""),
    k("tcp-check connect", DLB, S, Handler::Proxy(tcp_check::connect), "port; other options get a NOTICE and the rules are not run"),
    k("tcp-check expect", DLB, S, Handler::Proxy(tcp_check::expect), "[!] string, rstring, binary; others get a NOTICE and the rules are not run"),
    k("tcp-check send", DLB, S, Handler::Proxy(tcp_check::send), ""),
    k("tcp-check send-lf", DLB, P, Handler::Proxy(tcp_check::send_lf), "health checks: the rules are not run"),
    k("tcp-check send-binary", DLB, S, Handler::Proxy(tcp_check::send), ""),
    k("tcp-check send-binary-lf", DLB, P, Handler::Proxy(tcp_check::send_lf), "health checks: the rules are not run"),
    k("tcp-check set-var", DLB, P, Handler::Proxy(tcp_check::not_run), "health checks: the rules are not run"),
    k("tcp-check unset-var", DLB, P, Handler::Proxy(tcp_check::not_run), "health checks: the rules are not run"),
    k("tcp-request", DFLB, S, Handler::Proxy(rules::delegated_tcp), "TCP rules: per-action status"),
    k("tcp-response", DLB, S, Handler::Proxy(rules::delegated_tcp), "TCP rules: per-action status"),
    k("timeout check", DLB, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout client", DFL, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout client-fin", DFL, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout connect", DLB, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout http-keep-alive", DFLB, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout http-request", DFLB, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout queue", DLB, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout server", DLB, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout server-fin", DLB, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout tarpit", DFLB, S, Handler::Proxy(proxy::timeout), ""),
    k("timeout tunnel", DLB, S, Handler::Proxy(proxy::timeout), ""),
    k("transparent", DLB, R, NoArg, ""),
    k("unique-id-format", DFL, S, Handler::Proxy(proxy::unique_id_format), ""),
    k("unique-id-header", DFL, S, Handler::Proxy(proxy::unique_id_header), ""),
    k("use_backend", FL, S, Handler::Proxy(proxy::use_backend), ""),
    k("use-fcgi-app", LB, R, Handler::Proxy(checks::use_fcgi_app), "FastCGI is not implemented"),
    k("use-server", LB, R, Handler::Proxy(checks::use_server), ""),
    k("external-check command", DLB, P, Handler::Proxy(checks::external_check_command), "health checks"),
    k("external-check path", DLB, P, Handler::Proxy(checks::external_check_path), "health checks"),
    // removed proxy keywords, with 2.6's own messages
    k("contimeout", DFLB, Status::Removed("the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'."), AnyArgs, ""),
    k("clitimeout", DFLB, Status::Removed("the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'."), AnyArgs, ""),
    k("srvtimeout", DFLB, Status::Removed("the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'."), AnyArgs, ""),
    k("redispatch", DFLB, Status::Removed("keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'."), AnyArgs, ""),
    k("redisp", DFLB, Status::Removed("keyword 'redisp' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'."), AnyArgs, ""),
    k("appsession", DFLB, Status::Removed("'appsession' is not supported anymore since HAProxy 1.6."), AnyArgs, ""),
    k("block", DFLB, Status::Removed("The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax."), AnyArgs, ""),
    k("reqadd", DFLB, Status::Removed("The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead."), AnyArgs, ""),
    k("reqrep", DFLB, Status::Removed("The 'reqrep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead."), AnyArgs, ""),
    k("reqirep", DFLB, Status::Removed("The 'reqirep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-header' instead."), AnyArgs, ""),
    k("reqdel", DFLB, Status::Removed("The 'reqdel' directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead."), AnyArgs, ""),
    k("reqidel", DFLB, Status::Removed("The 'reqidel' directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead."), AnyArgs, ""),
    k("reqdeny", DFLB, Status::Removed("The 'reqdeny' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead."), AnyArgs, ""),
    k("reqideny", DFLB, Status::Removed("The 'reqideny' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' instead."), AnyArgs, ""),
    k("reqpass", DFLB, Status::Removed("The 'reqpass' not supported anymore since HAProxy 2.1."), AnyArgs, ""),
    k("reqipass", DFLB, Status::Removed("The 'reqipass' directive is not supported anymore since HAProxy 2.1."), AnyArgs, ""),
    k("reqallow", DFLB, Status::Removed("The 'reqallow' directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead."), AnyArgs, ""),
    k("reqiallow", DFLB, Status::Removed("The 'reqiallow' directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead."), AnyArgs, ""),
    k("reqtarpit", DFLB, Status::Removed("The 'reqtarpit' directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' instead."), AnyArgs, ""),
    k("reqitarpit", DFLB, Status::Removed("The 'reqitarpit' directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' instead."), AnyArgs, ""),
    k("rspadd", DFLB, Status::Removed("The 'rspadd' directive is not supported anymore since HAProxy 2.1. Use 'http-response add-header' instead."), AnyArgs, ""),
    k("rsprep", DFLB, Status::Removed("The 'rsprep' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead."), AnyArgs, ""),
    k("rspirep", DFLB, Status::Removed("The 'rspirep' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead."), AnyArgs, ""),
    k("rspdel", DFLB, Status::Removed("The 'rspdel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' ."), AnyArgs, ""),
    k("rspidel", DFLB, Status::Removed("The 'rspidel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' instead."), AnyArgs, ""),
    k("rspdeny", DFLB, Status::Removed("The 'rspdeny' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead."), AnyArgs, ""),
    k("rspideny", DFLB, Status::Removed("The 'rspideny' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead."), AnyArgs, ""),
    // ---- userlist
    k("user", USERLIST, S, Handler::Userlist(sections::userlist_user), ""),
    k("group", USERLIST, S, Handler::Userlist(sections::userlist_group), ""),
    // ---- peers
    k("peer", PEERS, P, AnyArgs, "stick tables are not implemented"),
    k("bind", PEERS, P, AnyArgs, ""),
    k("default-bind", PEERS, P, AnyArgs, ""),
    k("default-server", PEERS, P, AnyArgs, ""),
    k("disabled", PEERS, P, AnyArgs, ""),
    k("enabled", PEERS, P, AnyArgs, ""),
    k("log", PEERS, P, AnyArgs, ""),
    k("server", PEERS, P, AnyArgs, ""),
    k("shards", PEERS, P, OneArg, ""),
    k("table", PEERS, P, AnyArgs, ""),
    // ---- resolvers
    k("accepted_payload_size", RESOLVERS, P, OneArg, "runtime DNS is not implemented"),
    k("hold", RESOLVERS, P, AnyArgs, ""),
    k("nameserver", RESOLVERS, P, OneArg, ""),
    k("parse-resolv-conf", RESOLVERS, P, AnyArgs, ""),
    k("resolve_retries", RESOLVERS, P, Handler::Atol, ""),
    k("timeout", RESOLVERS, P, AnyArgs, ""),
    // ---- mailers
    k("mailer", MAILERS, P, OneArg, "email alerts are not implemented"),
    k("timeout", MAILERS, P, AnyArgs, ""),
    // ---- http-errors
    k("errorfile", HTTP_ERRORS, S, AnyArgs, "HTTP rules"),
    // ---- ring
    k("backing-file", RING, P, OneArg, ""),
    k("description", RING, P, AnyArgs, ""),
    k("format", RING, P, OneArg, ""),
    k("maxlen", RING, P, OneArg, ""),
    k("server", RING, P, OneArg, ""),
    k("size", RING, P, OneArg, ""),
    k("timeout", RING, P, AnyArgs, ""),
    // ---- cache
    k("max-age", CACHE, P, OneArg, "the cache is not implemented"),
    k("max-object-size", CACHE, P, OneArg, ""),
    k("max-secondary-entries", CACHE, P, OneArg, ""),
    k("process-vary", CACHE, P, OneArg, ""),
    k("total-max-size", CACHE, P, OneArg, ""),
    // ---- fcgi-app (arguments checked by `fcgi.rs`)
    k("docroot", FCGI_APP, P, AnyArgs, "FastCGI is not implemented"),
    k("index", FCGI_APP, P, AnyArgs, ""),
    k("log-stderr", FCGI_APP, P, AnyArgs, ""),
    k("option", FCGI_APP, P, AnyArgs, "keep-conn, get-values, mpxs-conns, max-reqs"),
    k("path-info", FCGI_APP, P, AnyArgs, ""),
    k("pass-header", FCGI_APP, P, AnyArgs, ""),
    k("set-param", FCGI_APP, P, AnyArgs, ""),
    // ---- program
    k("command", PROGRAM, P, OneArg, "master-worker programs are not implemented"),
    k("group", PROGRAM, P, OneArg, ""),
    k("option", PROGRAM, P, AnyArgs, ""),
    k("user", PROGRAM, P, OneArg, ""),
    // ---- log-forward
    k("backlog", LOG_FORWARD, P, OneArg, "log forwarding is not implemented"),
    k("bind", LOG_FORWARD, P, AnyArgs, ""),
    k("dgram-bind", LOG_FORWARD, P, AnyArgs, ""),
    k("log", LOG_FORWARD, P, AnyArgs, ""),
    k("maxconn", LOG_FORWARD, P, OneArg, ""),
    k("timeout", LOG_FORWARD, P, AnyArgs, ""),
];

/// `option` keywords: name (without `option`), where valid (the matrix), whether `no` may
/// prefix it, status and handler.
pub struct OptionKw {
    pub name: &'static str,
    pub sections: u16,
    pub invertible: bool,
    pub status: Status,
    pub http_only: bool,
}

const fn o(
    name: &'static str,
    sections: u16,
    invertible: bool,
    status: Status,
    http_only: bool,
) -> OptionKw {
    OptionKw {
        name,
        sections,
        invertible,
        status,
        http_only,
    }
}

pub static OPTIONS: &[OptionKw] = &[
    o("abortonclose", DLB, true, P, false),
    o("accept-invalid-http-request", DFL, true, P, true),
    o("accept-invalid-http-response", DLB, true, P, true),
    o("allbackups", DLB, true, S, false),
    o("checkcache", DLB, true, P, true),
    o("clitcpka", DFL, true, P, false),
    o("contstats", DFL, true, P, false),
    o("disable-h2-upgrade", DFL, true, P, true),
    o("dontlog-normal", DFL, true, P, false),
    o("dontlognull", DFL, true, S, false),
    o("external-check", DLB, false, P, false),
    o("forwardfor", DFLB, false, S, true),
    o("h1-case-adjust-bogus-client", DFL, true, S, false),
    o("h1-case-adjust-bogus-server", DLB, true, S, false),
    o("http-buffer-request", DFLB, true, S, true),
    o("http-ignore-probes", DFL, true, P, true),
    o("http-keep-alive", DFLB, true, S, false),
    o("http-no-delay", DFLB, true, P, true),
    o("http-pretend-keepalive", DLB, true, P, true),
    o("http-restrict-req-hdr-names", DFLB, false, R, false),
    o("http-server-close", DFLB, true, S, false),
    o("http-use-proxy-header", DFL, true, P, true),
    o("httpchk", DLB, false, S, false),
    o("httpclose", DFLB, true, S, false),
    o("httplog", DFL, false, S, false),
    o("httpslog", DFL, false, P, false),
    o("idle-close-on-response", DFL, true, P, true),
    o("independent-streams", DFLB, true, P, false),
    o("ldap-check", DLB, false, P, false),
    o("log-health-checks", DLB, true, S, false),
    o("log-separate-errors", DFL, true, P, false),
    o("logasap", DFL, true, P, false),
    o("mysql-check", DLB, false, P, false),
    o("nolinger", DFLB, true, P, false),
    o("originalto", DFLB, false, P, true),
    o("persist", DLB, true, R, false),
    o("pgsql-check", DLB, false, P, false),
    o("prefer-last-server", DLB, true, P, false),
    o("redispatch", DLB, true, S, false),
    o("redis-check", DLB, false, P, false),
    o("smtpchk", DLB, false, P, false),
    o("socket-stats", DFL, true, P, false),
    o("splice-auto", DFLB, true, S, false),
    o("splice-request", DFLB, true, S, false),
    o("splice-response", DFLB, true, S, false),
    o("spop-check", DLB, false, P, false),
    o("srvtcpka", DLB, true, P, false),
    o("ssl-hello-chk", DLB, false, P, false),
    o("tcp-check", DLB, false, S, false),
    o("tcp-smart-accept", DFL, true, S, false),
    o("tcp-smart-connect", DLB, true, P, false),
    o("tcpka", DFLB, false, P, false),
    o("tcplog", DFLB, false, S, false),
    o("transparent", DLB, true, R, false),
    o("forceclose", DFLB, false, Status::Removed("option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed."), false),
    o("http-tunnel", DFLB, false, Status::Removed("option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed."), false),
    o("http_proxy", DFLB, false, Status::Removed("option 'http_proxy' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired."), false),
];

/// Sub-keyword of a `bind` or `server` line: name, number of arguments, status.
pub struct SubKw {
    pub name: &'static str,
    pub args: u8,
    pub status: Status,
}

const fn b(name: &'static str, args: u8, status: Status) -> SubKw {
    SubKw { name, args, status }
}

/// `bind` options HAProxy 2.6 knows (generic, then those that need TLS).
pub static BIND_OPTIONS: &[SubKw] = &[
    b("accept-netscaler-cip", 1, R),
    b("accept-proxy", 0, S),
    b("backlog", 1, S),
    b("defer-accept", 0, P),
    b("expose-fd", 1, P),
    b("gid", 1, P),
    b("group", 1, P),
    b("id", 1, P),
    b("interface", 1, P),
    b("level", 1, P),
    b("maxconn", 1, S),
    b("mode", 1, P),
    b("mss", 1, P),
    b("name", 1, S),
    b("namespace", 1, P),
    b("nice", 1, P),
    b(
        "process",
        1,
        Status::Deprecated("'process 1' on 'bind' lines is deprecated and will be removed in 2.7."),
    ),
    b("proto", 1, P),
    b("severity-output", 1, P),
    b("shards", 1, P),
    b("tcp-ut", 1, P),
    b("tfo", 0, P),
    b("thread", 1, P),
    b("transparent", 0, R),
    b("uid", 1, P),
    b("user", 1, P),
    b("v4v6", 0, S),
    b("v6only", 0, S),
    b("ssl", 0, R),
    b("allow-0rtt", 0, R),
    b("alpn", 1, R),
    b("ca-file", 1, R),
    b("ca-ignore-err", 1, R),
    b("ca-sign-file", 1, R),
    b("ca-sign-pass", 1, R),
    b("ca-verify-file", 1, R),
    b("ciphers", 1, R),
    b("ciphersuites", 1, R),
    b("crl-file", 1, R),
    b("crt", 1, R),
    b("crt-ignore-err", 1, R),
    b("crt-list", 1, R),
    b("curves", 1, R),
    b("ecdhe", 1, R),
    b("force-sslv3", 0, R),
    b("force-tlsv10", 0, R),
    b("force-tlsv11", 0, R),
    b("force-tlsv12", 0, R),
    b("force-tlsv13", 0, R),
    b("generate-certificates", 0, R),
    b("no-ca-names", 0, R),
    b("no-sslv3", 0, R),
    b("no-tls-tickets", 0, R),
    b("no-tlsv10", 0, R),
    b("no-tlsv11", 0, R),
    b("no-tlsv12", 0, R),
    b("no-tlsv13", 0, R),
    b("npn", 1, R),
    b("prefer-client-ciphers", 0, R),
    b("ssl-max-ver", 1, R),
    b("ssl-min-ver", 1, R),
    b("strict-sni", 0, R),
    b("tls-ticket-keys", 1, R),
    b("verify", 1, R),
];

/// `server` / `default-server` options HAProxy 2.6 knows.
pub static SERVER_OPTIONS: &[SubKw] = &[
    b("addr", 1, S),
    b("agent-addr", 1, P),
    b("agent-check", 0, P),
    b("agent-inter", 1, P),
    b("agent-port", 1, P),
    b("agent-send", 1, P),
    b("allow-0rtt", 0, R),
    b("alpn", 1, R),
    b("backup", 0, S),
    b("ca-file", 1, R),
    b("check", 0, S),
    b("check-alpn", 1, P),
    b("check-proto", 1, P),
    b("check-send-proxy", 0, P),
    b("check-sni", 1, P),
    b("check-ssl", 0, P),
    b("check-via-socks4", 0, P),
    b("ciphers", 1, R),
    b("ciphersuites", 1, R),
    b("cookie", 1, S),
    b("crl-file", 1, R),
    b("crt", 1, R),
    b("disabled", 0, S),
    b("downinter", 1, S),
    b("enabled", 0, S),
    b("error-limit", 1, P),
    b("fall", 1, S),
    b("fastinter", 1, S),
    b("force-sslv3", 0, R),
    b("force-tlsv10", 0, R),
    b("force-tlsv11", 0, R),
    b("force-tlsv12", 0, R),
    b("force-tlsv13", 0, R),
    b("id", 1, S),
    b("init-addr", 1, S),
    b("inter", 1, S),
    b("log-proto", 1, P),
    b("max-reuse", 1, P),
    b("maxconn", 1, S),
    b("maxqueue", 1, S),
    b("minconn", 1, P),
    b("namespace", 1, P),
    b("no-agent-check", 0, S),
    b("no-backup", 0, S),
    b("no-check", 0, S),
    b("no-check-send-proxy", 0, S),
    b("no-check-ssl", 0, S),
    b("no-send-proxy", 0, S),
    b("no-send-proxy-v2", 0, S),
    b("no-send-proxy-v2-ssl", 0, S),
    b("no-send-proxy-v2-ssl-cn", 0, S),
    b("no-ssl", 0, S),
    b("no-ssl-reuse", 0, P),
    b("no-sslv3", 0, R),
    b("no-tfo", 0, S),
    b("no-tls-tickets", 0, R),
    b("no-tlsv10", 0, R),
    b("no-tlsv11", 0, R),
    b("no-tlsv12", 0, R),
    b("no-tlsv13", 0, R),
    b("non-stick", 0, P),
    b("npn", 1, R),
    b("observe", 1, P),
    b("on-error", 1, P),
    b("on-marked-down", 1, P),
    b("on-marked-up", 1, P),
    b("pool-low-conn", 1, P),
    b("pool-max-conn", 1, P),
    b("pool-purge-delay", 1, P),
    b("port", 1, S),
    b("proto", 1, P),
    b("proxy-v2-options", 1, P),
    b("redir", 1, R),
    b("resolve-net", 1, P),
    b("resolve-opts", 1, P),
    b("resolve-prefer", 1, P),
    b("resolvers", 1, P),
    b("rise", 1, S),
    b("send-proxy", 0, S),
    b("send-proxy-v2", 0, S),
    b("send-proxy-v2-ssl", 0, R),
    b("send-proxy-v2-ssl-cn", 0, R),
    b("slowstart", 1, P),
    b("sni", 1, R),
    b("socks4", 1, R),
    b("source", 1, R),
    b("ssl", 0, R),
    b("ssl-max-ver", 1, R),
    b("ssl-min-ver", 1, R),
    b("ssl-reuse", 0, P),
    b("stick", 0, P),
    b("tcp-ut", 1, P),
    b("tfo", 0, P),
    b("tls-tickets", 0, R),
    b("track", 1, P),
    b("usesrc", 1, R),
    b("verify", 1, R),
    b("verifyhost", 1, R),
    b("weight", 1, S),
    b("ws", 1, P),
];

/// Name → entries index, built once: the table is searched on every config line.
struct Index {
    by_name: std::collections::HashMap<&'static str, Vec<&'static Keyword>>,
    options: std::collections::HashMap<&'static str, &'static OptionKw>,
    bind: std::collections::HashMap<&'static str, &'static SubKw>,
    server: std::collections::HashMap<&'static str, &'static SubKw>,
}

fn index() -> &'static Index {
    static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut by_name: std::collections::HashMap<&'static str, Vec<&'static Keyword>> =
            std::collections::HashMap::new();
        for kw in KEYWORDS {
            by_name.entry(kw.name).or_default().push(kw);
        }
        Index {
            by_name,
            options: OPTIONS.iter().map(|o| (o.name, o)).collect(),
            bind: BIND_OPTIONS.iter().map(|o| (o.name, o)).collect(),
            server: SERVER_OPTIONS.iter().map(|o| (o.name, o)).collect(),
        }
    })
}

/// The entry named `name` that is valid in `kind`, or any entry of that name for a proxy
/// section (so the caller can report "not allowed in this section").
pub fn lookup(name: &str, kind: SectionKind) -> Option<&'static Keyword> {
    let entries = index().by_name.get(name)?;
    let bit = section_bit(kind);
    if let Some(kw) = entries.iter().find(|k| k.sections & bit != 0) {
        return Some(kw);
    }
    if bit & sec::DFLB != 0 {
        return entries
            .iter()
            .find(|k| k.sections & sec::DFLB != 0)
            .copied();
    }
    None
}

pub fn option(name: &str) -> Option<&'static OptionKw> {
    index().options.get(name).copied()
}

pub fn bind_option(name: &str) -> Option<&'static SubKw> {
    index().bind.get(name).copied()
}

pub fn server_option(name: &str) -> Option<&'static SubKw> {
    index().server.get(name).copied()
}

/// The keywords valid in a section kind (for "did you mean"): first words only.
pub fn names_in(kind: SectionKind) -> impl Iterator<Item = &'static str> {
    let bit = section_bit(kind);
    KEYWORDS
        .iter()
        .filter(move |k| k.sections & bit != 0 && !matches!(k.status, Status::Removed(_)))
        .map(|k| k.name.split(' ').next().unwrap_or(k.name))
}

/// What the stats page serves and which of 2.6's CSV columns it leaves empty.
const STATS_PAGE: &str = "\n## Stats page\n\n\
    A request whose path (query included) starts with `stats uri` (default `/haproxy?stats`) on a\n\
    proxy with `stats enable`/`uri` is answered by the proxy, logged with server `<STATS>`:\n\
    `stats auth` without valid credentials gets 2.6's 401 byte for byte (`stats realm`, default\n\
    `HAProxy Statistics`); `;csv` gives 2.6's CSV (same header line, one row per frontend,\n\
    server and backend, proxy by proxy in config order), otherwise a plain HTML table of\n\
    haproxyrs's own; `stats refresh` sends `refresh: N` unless `;norefresh`; `stats scope`\n\
    limits the proxies listed; `stats hide-version` hides the version on the HTML page.\n\
    `stats admin` actions are not served (read-only page); `stats http-request` is refused at\n\
    start. 2.6 answers a page declared in a `frontend` section only intermittently (some\n\
    requests go to the backend); haproxyrs always answers it.\n\n\
    CSV columns filled: `pxname`, `svname`, `qcur` (servers, backends), `scur`, `slim`\n\
    (frontends with `maxconn`), `stot` (servers), `status` (`OPEN`; `UP`/`DOWN`/`MAINT`/`DRAIN`/\n\
    `no check` for servers; `UP`/`DOWN` for backends), `weight`, `act`, `bck`, `pid`, `iid`,\n\
    `sid`, `type`, `check_rise`, `check_fall`, `mode`, and after a server's first check\n\
    `check_status`, `check_code`, `check_duration`, `check_desc`, `check_health`, `last_chk`\n\
    (2.6's transitional `UP 1/3`-style statuses and its `* ` in-progress mark are not shown).\n\
    **Not filled yet** (empty, where 2.6\n\
    prints counters): `stot` of frontends and backends, `qmax`, `smax`, `bin`, `bout`, `dreq`,\n\
    `dresp`, `ereq`, `econ`, `eresp`, `wretr`, `wredis`, `chkfail`, `chkdown`, `lastchg`,\n\
    `downtime`, `qlimit`, `lbtot`, `rate*`, `hrsp_*`, `req_*`, `cli_abrt`, `srv_abrt`,\n\
    `comp_*`, `lastsess`, `qtime`/`ctime`/`rtime`/`ttime` and their `_max`, `conn_*`,\n\
    `intercepted`, `dcon`, `dses`, `wrew`, `connect`, `reuse`, `eint`, `*_conn_cur`,\n\
    `need_conn_est`, `uweight`, `agg_*`, `addr`, `algo`, and the `ssl_*`, `h2_*`, `h1_*`\n\
    module columns.\n";

/// The compatibility matrix, as `docs/compatibility.md` holds it. `known_differences` is
/// the corpus test's known-differences TSV (file, reason), mirrored at the end.
pub fn compatibility_markdown(known_differences: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    out.push_str("# haproxyrs compatibility matrix\n\n");
    out.push_str(
        "Generated from the keyword table (`crates/haproxyrs-config/src/lower/keywords.rs`) by\n\
         `cargo test -p haproxyrs-config compatibility_doc` (set `UPDATE_COMPAT=1` to rewrite it);\n\
         the test fails when this file and the table disagree.\n\n\
         Status: **supported** = carried out by the engines; **parsed only** = checked as HAProxy 2.6\n\
         checks it, then reported by `-c` with a NOTICE `'kw' is parsed but not implemented`, and\n\
         the proxy runs without it; **refused at start** = same NOTICE under `-c`, but the proxy\n\
         refuses to start (skipping it would change routing, access control or security);\n\
         **removed** = HAProxy 2.6's own ALERT; **deprecated** = HAProxy 2.6's WARNING.\n\n\
         Every keyword below, parsed-only ones included, has its arguments checked as 2.6 checks\n\
         them: `tests/config_invalid.rs` runs every global, bind, server and section keyword and the\n\
         parsed-only proxy keywords (without a value and with a bad one) through `haproxyrs -c`\n\
         and Debian's `haproxy -c`, requiring the same exit code; `tests/corpus.rs` does the\n\
         same for 150 real configs.\n\n",
    );
    let groups: [(&str, u16); 12] = [
        ("global", sec::GLOBAL),
        ("proxies (defaults, frontend, listen, backend)", sec::DFLB),
        ("userlist", sec::USERLIST),
        ("peers", sec::PEERS),
        ("resolvers", sec::RESOLVERS),
        ("mailers", sec::MAILERS),
        ("http-errors", sec::HTTP_ERRORS),
        ("ring", sec::RING),
        ("cache", sec::CACHE),
        ("program", sec::PROGRAM),
        ("log-forward", sec::LOG_FORWARD),
        ("fcgi-app", sec::FCGI_APP),
    ];
    for (title, mask) in groups {
        let _ = writeln!(out, "## {title}\n");
        if mask == sec::DFLB {
            out.push_str("| keyword | defaults | frontend | listen | backend | status | note |\n|---|---|---|---|---|---|---|\n");
        } else {
            out.push_str("| keyword | status | note |\n|---|---|---|\n");
        }
        let mut rows: Vec<&Keyword> = KEYWORDS.iter().filter(|k| k.sections & mask != 0).collect();
        rows.sort_by_key(|k| k.name);
        for kw in rows {
            let note = match kw.status {
                Status::Removed(m) | Status::Deprecated(m) => m,
                _ => kw.note,
            };
            if mask == sec::DFLB {
                let x = |b: u16| if kw.sections & b != 0 { "X" } else { "-" };
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} | {} | {} |",
                    kw.name,
                    x(sec::DEFAULTS),
                    x(sec::FRONTEND),
                    x(sec::LISTEN),
                    x(sec::BACKEND),
                    kw.status.label(),
                    note.replace('|', "\\|")
                );
            } else {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    kw.name,
                    kw.status.label(),
                    note.replace('|', "\\|")
                );
            }
        }
        out.push('\n');
    }
    out.push_str("## option\n\n| option | defaults | frontend | listen | backend | `no` | status | note |\n|---|---|---|---|---|---|---|---|\n");
    for op in OPTIONS {
        let x = |b: u16| if op.sections & b != 0 { "X" } else { "-" };
        let note = match op.status {
            Status::Removed(m) | Status::Deprecated(m) => m,
            _ if op.http_only => "needs mode http",
            _ => "",
        };
        let _ = writeln!(
            out,
            "| `option {}` | {} | {} | {} | {} | {} | {} | {} |",
            op.name,
            x(sec::DEFAULTS),
            x(sec::FRONTEND),
            x(sec::LISTEN),
            x(sec::BACKEND),
            if op.invertible { "yes" } else { "no" },
            op.status.label(),
            note
        );
    }
    for (title, table) in [
        ("bind options", BIND_OPTIONS),
        ("server and default-server options", SERVER_OPTIONS),
    ] {
        let _ = writeln!(
            out,
            "\n## {title}\n\n| option | arguments | status | note |\n|---|---|---|---|"
        );
        for o in table {
            let note = match o.status {
                Status::Removed(m) | Status::Deprecated(m) => m,
                _ => "",
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                o.name,
                o.args,
                o.status.label(),
                note
            );
        }
    }
    out.push_str(STATS_PAGE);
    out.push_str("\n## Known differences on the real-world corpus\n\n");
    out.push_str("From `tests/corpus-known-differences.tsv` (the corpus parity test fails when this list is stale).\n\n");
    let rows: Vec<&str> = known_differences
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    if rows.is_empty() {
        out.push_str("None: every corpus file gets HAProxy 2.6's verdict.\n");
    } else {
        out.push_str("| file | reason |\n|---|---|\n");
        for row in rows {
            let mut parts = row.splitn(2, '\t');
            let file = parts.next().unwrap_or("");
            let reason = parts.next().unwrap_or("");
            let _ = writeln!(out, "| `{file}` | {} |", reason.replace('|', "\\|"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_unique_per_section() {
        let mut seen = std::collections::HashSet::new();
        for kw in KEYWORDS {
            for bit in 0..14 {
                if kw.sections & (1 << bit) != 0 {
                    assert!(
                        seen.insert((kw.name, bit)),
                        "duplicate entry {} in section bit {bit}",
                        kw.name
                    );
                }
            }
        }
    }

    #[test]
    fn lookup_finds_by_section() {
        assert!(lookup("bind", SectionKind::Frontend).is_some());
        assert_eq!(
            lookup("bind", SectionKind::Peers).map(|k| k.sections),
            Some(sec::PEERS)
        );
        // A proxy keyword in the wrong proxy section is still found, to say "not allowed".
        assert_eq!(
            lookup("bind", SectionKind::Backend).map(|k| k.sections),
            Some(sec::FL)
        );
        assert!(lookup("frobnicate", SectionKind::Frontend).is_none());
        assert!(lookup("bind", SectionKind::Global).is_none());
    }

    /// docs/compatibility.md is generated from this table: regenerate and compare.
    #[test]
    fn compatibility_doc() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let known = std::fs::read_to_string(root.join("tests/corpus-known-differences.tsv"))
            .unwrap_or_default();
        let generated = compatibility_markdown(&known);
        let path = root.join("docs/compatibility.md");
        if std::env::var_os("UPDATE_COMPAT").is_some() {
            std::fs::create_dir_all(root.join("docs")).expect("create docs/");
            std::fs::write(&path, &generated).expect("write docs/compatibility.md");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/compatibility.md is out of date: run `UPDATE_COMPAT=1 cargo test -p haproxyrs-config compatibility_doc`"
        );
    }
}
