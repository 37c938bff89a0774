//! The typed IR: what the engines execute. Plain, immutable data (shared behind an `Arc`):
//! enums rather than strings, `Duration`s, parsed addresses, compiled patterns. `defaults`
//! inheritance is already resolved here, so engines never look at defaults, and a `listen`
//! section appears as one [`Frontend`] plus one [`Backend`] of the same name.
//!
//! # Layout
//! - this file: the whole config, proxies, binds, servers, timeouts, balancing.
//! - [`sample`]: sample fetches, converters, ACLs, conditions, log-format expressions.
//! - [`http`]: HTTP rules (`http-request`, `http-response`, `redirect`), error files.
//! - [`tcp`]: layer-4 rules (`tcp-request connection|content`).

pub mod http;
pub mod sample;
pub mod tcp;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::span::Span;

/// Index of a backend in [`Config::backends`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BackendId(pub usize);

/// A whole, validated config.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub global: Global,
    pub frontends: Vec<Frontend>,
    pub backends: Vec<Backend>,
    pub userlists: Vec<Userlist>,
    /// Names of the other sections (peers, resolvers, mailers, rings, caches, programs,
    /// log-forwards, http-errors), so references to them can be checked.
    pub named_sections: Vec<NamedSection>,
    /// Keywords that parse but whose behaviour the engines do not implement, where running
    /// without them would change routing, access control or security: the binary refuses
    /// to start (outside `-c`) while this list is not empty, naming each one.
    pub refused: Vec<Refusal>,
}

/// A keyword the proxy must refuse to start with (see [`Config::refused`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The keyword as the table names it, e.g. `bind ssl` or `http-request deny`.
    pub keyword: String,
    pub span: Span,
}

/// A section other than global/defaults/proxies/userlist, by kind and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedSection {
    pub kind: crate::ast::SectionKind,
    pub name: String,
    pub span: Span,
}

impl Config {
    pub fn backend(&self, id: BackendId) -> &Backend {
        &self.backends[id.0]
    }
    /// Whether at least one frontend has a `bind` (HAProxy exits 2 with `-c` otherwise).
    pub fn has_listeners(&self) -> bool {
        self.frontends
            .iter()
            .any(|f| !f.disabled && !f.binds.is_empty())
    }
    pub fn backend_by_name(&self, name: &str) -> Option<BackendId> {
        self.backends
            .iter()
            .position(|b| b.name == name)
            .map(BackendId)
    }
    /// A frontend by name.
    pub fn frontend_by_name(&self, name: &str) -> Option<&Frontend> {
        self.frontends.iter().find(|f| f.name == name)
    }
}

/// The `global` section.
#[derive(Clone, Debug)]
pub struct Global {
    /// `maxconn` (or `-n`): process-wide limit on concurrent client connections.
    pub maxconn: u32,
    /// `nbthread`; `None` = one per CPU.
    pub nbthread: Option<usize>,
    /// `daemon`: start in the background (unless `-d`/`-db`).
    pub daemon: bool,
    pub logs: Vec<LogTarget>,
    /// `tune.bufsize`, default 16384.
    pub bufsize: usize,
    /// `tune.maxrewrite`, default 1024.
    pub maxrewrite: usize,
    /// `tune.http.maxhdr`, default 101.
    pub max_http_headers: usize,
    /// `h1-case-adjust <from> <to>`: (lower-case name, spelling to send).
    pub h1_case_adjust: Vec<(String, String)>,
    /// `pidfile` (`-p` wins): written with the background pid in daemon mode only.
    pub pidfile: Option<PathBuf>,
    /// `stats socket` lines (runtime API), kept for the stats work.
    pub stats_sockets: Vec<Bind>,
    /// `stats timeout`, default 10s.
    pub stats_timeout: Duration,
    /// `user`/`uid` and `group`/`gid` to drop privileges to.
    pub user: Option<String>,
    pub group: Option<String>,
    pub chroot: Option<PathBuf>,
    /// `master-worker` (or `-W`).
    pub master_worker: bool,
    /// `zero-warning`: any warning makes the config fatal.
    pub zero_warning: bool,
    /// `hard-stop-after`.
    pub hard_stop_after: Option<Duration>,
    /// `spread-checks` percentage.
    pub spread_checks: u32,
    /// `ulimit-n`.
    pub ulimit_n: Option<u32>,
    /// `maxconnrate`, `maxsessrate`.
    pub maxconnrate: Option<u32>,
    pub maxsessrate: Option<u32>,
    /// `tune.maxaccept`.
    pub maxaccept: Option<i32>,
    /// `log-tag`, `log-send-hostname`.
    pub log_tag: Option<String>,
    pub log_send_hostname: Option<String>,
    /// `node`, `description`.
    pub node: Option<String>,
    pub description: Option<String>,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            maxconn: 4096,
            nbthread: None,
            daemon: false,
            logs: Vec::new(),
            bufsize: 16384,
            maxrewrite: 1024,
            max_http_headers: 101,
            h1_case_adjust: Vec::new(),
            pidfile: None,
            stats_sockets: Vec::new(),
            stats_timeout: Duration::from_secs(10),
            user: None,
            group: None,
            chroot: None,
            master_worker: false,
            zero_warning: false,
            hard_stop_after: None,
            spread_checks: 0,
            ulimit_n: None,
            maxconnrate: None,
            maxsessrate: None,
            maxaccept: None,
            log_tag: None,
            log_send_hostname: None,
            node: None,
            description: None,
        }
    }
}

/// `mode tcp|http`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Tcp,
    Http,
}

/// A `log` target: where lines go, and how they are filtered and framed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTarget {
    pub dest: LogDest,
    /// syslog facility (0 `kern` … 23 `local7`).
    pub facility: u8,
    /// Lines less severe than this level are not sent (0 `emerg` … 7 `debug`).
    pub max_level: u8,
    /// Lines more severe than this level are sent at this level (`minlevel`; 0: no cap).
    pub min_level: u8,
    pub format: LogTransport,
    /// Longest message sent, framing included (`len`, 80 to 65535, default 1024).
    pub len: u32,
    /// `sample RANGES:SIZE`: of each SIZE lines, only those at the positions RANGES cover.
    pub sample: Option<LogSample>,
}

/// Where a `log` target writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogDest {
    Stdout,
    Stderr,
    /// UDP syslog.
    Udp(SocketAddr),
    /// A unix datagram socket (`/dev/log`).
    Unix(PathBuf),
}

/// `sample RANGES:SIZE` on a `log` line: 1-based inclusive position ranges in a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSample {
    pub ranges: Vec<(u32, u32)>,
    pub size: u32,
}

impl LogSample {
    /// Whether the line numbered `n` (0-based, per target) is sent.
    pub fn keeps(&self, n: u64) -> bool {
        let pos = (n % u64::from(self.size.max(1))) as u32 + 1;
        self.ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&pos))
    }
}

/// How a log line is framed on its way out (`log ... format F`), as 2.6 frames each:
/// the header before the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogTransport {
    /// No `format`: `<PRI>Mmm dd hh:mm:ss [HOST ]TAG[PID]: ` (a host only with
    /// `log-send-hostname`).
    #[default]
    Unspecified,
    /// `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: ` (`localhost` without `log-send-hostname`).
    Rfc3164,
    /// `<PRI>1 ISO-TIME HOST TAG PID - - ` (`-` without `log-send-hostname`).
    Rfc5424,
    /// `<PRI>Mmm dd hh:mm:ss TAG[PID]: `.
    Local,
    /// `<LEVEL>`.
    Short,
    /// `<PRI>`.
    Priority,
    /// `<LEVEL>ISO-TIME `.
    Timed,
    /// `ISO-TIME `.
    Iso,
    Raw,
}

/// Which log line a proxy emits per session.
#[derive(Clone, Debug, Default)]
pub enum LogFormat {
    /// No `option tcplog/httplog/log-format`: HAProxy's short default format.
    #[default]
    Default,
    TcpLog,
    HttpLog,
    /// `log-format` with its compiled expression.
    Custom(sample::LogFormatExpr),
}

/// Timeouts, resolved from `defaults` and the proxy itself. `None` = not set (infinite).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub connect: Option<Duration>,
    pub queue: Option<Duration>,
    pub tunnel: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
    pub http_request: Option<Duration>,
    pub http_keep_alive: Option<Duration>,
    pub check: Option<Duration>,
    pub tarpit: Option<Duration>,
}

/// Where a bind listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindAddr {
    /// An IP address and an inclusive port range (one port: `lo == hi`).
    Inet {
        addr: std::net::IpAddr,
        port_lo: u16,
        port_hi: u16,
    },
    Unix(PathBuf),
    /// Linux abstract namespace socket (`abns@name`).
    Abns(String),
    /// `fd@N`: an already listening socket inherited from the parent.
    Fd(i32),
    /// `sockpair@N`: a socketpair over which the parent passes connections.
    SockPair(i32),
}

/// One `bind` address (a `bind` line with a comma list yields several).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    pub addr: BindAddr,
    pub span: Span,
    pub backlog: Option<u32>,
    pub accept_proxy: bool,
    pub v4v6: bool,
    pub v6only: bool,
    pub maxconn: Option<u32>,
    pub name: Option<String>,
    /// `ssl`: TLS termination (not implemented yet; refused at start).
    pub ssl: bool,
}

/// A frontend (or the frontend half of a `listen`).
#[derive(Clone, Debug)]
pub struct Frontend {
    pub name: String,
    pub span: Span,
    pub mode: Mode,
    pub binds: Vec<Bind>,
    pub maxconn: u32,
    pub timeouts: Timeouts,
    pub acls: Vec<sample::Acl>,
    pub tcp_request_connection: Vec<tcp::TcpRule>,
    pub tcp_request_content: Vec<tcp::TcpRule>,
    pub inspect_delay: Option<Duration>,
    pub http: http::HttpProxyRules,
    /// `use_backend` rules, in order.
    pub switching: Vec<SwitchingRule>,
    pub default_backend: Option<BackendId>,
    pub logs: Vec<LogTarget>,
    pub log_format: LogFormat,
    /// `unique-id-format` (`%ID`, `%[unique-id]`) and the request header that carries it
    /// to the server (`unique-id-header`).
    pub unique_id_format: Option<sample::LogFormatExpr>,
    pub unique_id_header: Option<String>,
    pub options: ProxyOptions,
    /// `stats enable` and friends on this proxy (a frontend serves the page too).
    pub stats: Option<StatsPage>,
    pub disabled: bool,
}

impl Frontend {
    /// Whether accepted connections start with delayed ACKs (`TCP_QUICKACK` off), so the
    /// ACK of a request rides on its response: `option tcp-smart-accept`, which 2.6 turns
    /// on by default in HTTP mode.
    pub fn smart_accept(&self) -> bool {
        self.options
            .tcp_smart_accept
            .unwrap_or(self.mode == Mode::Http)
    }
}

/// `use_backend NAME [if|unless COND]`.
#[derive(Clone, Debug)]
pub struct SwitchingRule {
    pub backend: BackendTarget,
    pub cond: Option<sample::Condition>,
    pub span: Span,
}

/// A `use_backend` target: a fixed name, or a log-format expression resolved per request.
#[derive(Clone, Debug)]
pub enum BackendTarget {
    Fixed(BackendId),
    Dynamic(sample::LogFormatExpr),
}

/// Boolean and small-valued `option`s shared by frontends and backends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyOptions {
    pub http_conn_mode: HttpConnMode,
    pub forwardfor: Option<ForwardFor>,
    pub http_buffer_request: bool,
    pub redispatch: bool,
    /// `option allbackups`: balance over every backup, not only the first.
    pub allbackups: bool,
    pub dontlognull: bool,
    /// `option log-health-checks`: log every change of a check's result or health.
    pub log_health_checks: bool,
    pub splice_auto: bool,
    pub splice_request: bool,
    pub splice_response: bool,
    /// `option tcp-smart-accept`; `None`: not set, on in HTTP mode (see [`Frontend::smart_accept`]).
    pub tcp_smart_accept: Option<bool>,
    pub h1_case_adjust_bogus_client: bool,
    pub h1_case_adjust_bogus_server: bool,
}

/// HTTP connection mode, from `option http-keep-alive|http-server-close|httpclose`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpConnMode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardFor {
    pub header: String,
    pub except: Option<sample::IpNet>,
    pub if_none: bool,
}

/// `http-reuse`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpReuse {
    Never,
    #[default]
    Safe,
    Aggressive,
    Always,
}

/// `balance` algorithms.
#[derive(Clone, Debug, Default)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    /// `random(N)`: best of N draws (default 2).
    Random {
        draws: u32,
    },
    Uri {
        len: Option<u32>,
        depth: Option<u32>,
        path_only: bool,
        whole: bool,
    },
    UrlParam {
        name: String,
        check_post: Option<u32>,
    },
    Hdr {
        name: String,
        use_domain_only: bool,
    },
    RdpCookie {
        name: String,
    },
    /// `balance hash <expr>`.
    Hash(sample::SampleExpr),
}

/// `hash-type map-based|consistent [function] [modifier]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashType {
    pub consistent: bool,
    pub function: HashFunction,
    pub avalanche: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HashFunction {
    #[default]
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
    None,
}

/// A backend (or the backend half of a `listen`).
#[derive(Clone, Debug)]
pub struct Backend {
    pub name: String,
    pub span: Span,
    pub mode: Mode,
    pub balance: Balance,
    pub hash_type: HashType,
    pub servers: Vec<Server>,
    pub timeouts: Timeouts,
    /// `retries`, default 3.
    pub retries: u32,
    pub http_reuse: HttpReuse,
    pub acls: Vec<sample::Acl>,
    pub tcp_request_content: Vec<tcp::TcpRule>,
    pub http: http::HttpProxyRules,
    pub cookie: Option<CookiePersistence>,
    pub health_check: Option<HealthCheck>,
    pub fullconn: Option<u32>,
    pub logs: Vec<LogTarget>,
    pub log_format: LogFormat,
    pub options: ProxyOptions,
    /// `stats enable` and friends on this proxy.
    pub stats: Option<StatsPage>,
    pub disabled: bool,
}

/// `cookie NAME insert|rewrite|prefix [indirect] [nocache] [httponly] [secure] ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookiePersistence {
    pub name: String,
    pub mode: CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub httponly: bool,
    pub secure: bool,
    pub preserve: bool,
    pub domain: Vec<String>,
    pub maxidle: Option<Duration>,
    pub maxlife: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieMode {
    Insert,
    Rewrite,
    Prefix,
}

/// `option httpchk` / `option tcp-check` / `http-check ...`, plus defaults for `check`.
#[derive(Clone, Debug)]
pub enum HealthCheck {
    /// A TCP connect (no option, or `option tcp-check` without rules), or the
    /// `tcp-check` rules `option tcp-check` runs.
    Tcp(Vec<TcpCheckRule>),
    /// A protocol-specific check (`option mysql-check`, `pgsql-check`, `redis-check`,
    /// `ldap-check`, `smtpchk`, `ssl-hello-chk`, `spop-check`, `external-check`), by name.
    Protocol(String),
    Http(HttpCheck),
}

/// The HTTP/1 request of `option httpchk` as amended by `http-check send`, and the
/// `http-check expect` rules its response must pass (none: a 2xx or 3xx status passes).
#[derive(Clone, Debug)]
pub struct HttpCheck {
    pub method: String,
    pub uri: String,
    pub version: String,
    /// `http-check send hdr NAME VALUE`, in order.
    pub headers: Vec<(String, String)>,
    /// `http-check send body STRING`.
    pub body: String,
    pub expects: Vec<HttpCheckExpect>,
}

/// One `tcp-check` rule.
#[derive(Clone, Debug)]
pub enum TcpCheckRule {
    /// `connect [port N]`: a new connection (the server's port without `port`).
    Connect {
        port: Option<u16>,
    },
    /// `send` / `send-binary`: bytes to write.
    Send(Vec<u8>),
    Expect(TcpCheckExpect),
    /// `comment`: counts as a step in the logs, does nothing.
    Comment,
}

#[derive(Clone, Debug)]
pub struct TcpCheckExpect {
    pub negate: bool,
    pub kind: TcpExpectKind,
}

#[derive(Clone, Debug)]
pub enum TcpExpectKind {
    String(String),
    Rstring(regex::bytes::Regex),
    Binary(Vec<u8>),
}

/// One `http-check expect [!] KIND PATTERN`.
#[derive(Clone, Debug)]
pub struct HttpCheckExpect {
    pub negate: bool,
    pub kind: HttpExpectKind,
}

#[derive(Clone, Debug)]
pub enum HttpExpectKind {
    /// `status 200,3xx-like ranges`: code ranges, inclusive.
    Status(Vec<(u16, u16)>),
    Rstatus(regex::Regex),
    /// `string`: the body contains it.
    String(String),
    Rstring(regex::bytes::Regex),
}

/// `stats enable|uri|realm|auth|refresh|admin|hide-version|show-legends`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsPage {
    pub uri: String,
    pub realm: Option<String>,
    pub auth: Vec<(String, String)>,
    pub refresh: Option<Duration>,
    pub hide_version: bool,
    pub show_legends: bool,
    /// `stats scope NAME` (`.`: this proxy): the proxies listed; empty: all.
    pub scope: Vec<String>,
}

/// Where a server is: a resolved address, a port or "the client's destination port".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerAddr {
    /// IP and port. A port-less server (`server s1 10.0.0.1`) takes the client's
    /// destination port: `port: None`. `+N`/`-N` offsets are kept as `port_offset`.
    Inet {
        ip: std::net::IpAddr,
        port: Option<u16>,
        port_offset: i32,
    },
    Unix(PathBuf),
    Abns(String),
    /// A host name that did not resolve at start, kept because `init-addr none` allows it:
    /// the server starts in maintenance until its address is known.
    Unresolved {
        host: String,
        port: Option<u16>,
    },
}

/// One `server` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub span: Span,
    pub addr: ServerAddr,
    /// `weight`, 0..=256, default 1.
    pub weight: u32,
    pub backup: bool,
    pub disabled: bool,
    /// `maxconn`, 0 = unlimited.
    pub maxconn: u32,
    pub maxqueue: u32,
    pub send_proxy: Option<ProxyProtocol>,
    pub check: Option<ServerCheck>,
    pub cookie: Option<String>,
    /// `ssl` to the server (not implemented yet; refused at start).
    pub ssl: bool,
    /// Numeric id (`id N`), else its position from 1, as HAProxy assigns.
    pub id: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyProtocol {
    V1,
    V2,
}

/// `check` and its timing options on a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerCheck {
    pub inter: Duration,
    pub fastinter: Option<Duration>,
    pub downinter: Option<Duration>,
    pub rise: u32,
    pub fall: u32,
    pub port: Option<u16>,
    pub addr: Option<std::net::IpAddr>,
}

/// A `userlist` section: users with crypt(3) or insecure passwords, and groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Userlist {
    pub name: String,
    pub users: Vec<User>,
    pub groups: Vec<(String, Vec<String>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub password: Password,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    /// `insecure-password`.
    Plain(String),
    /// `password` with a crypt(3) hash.
    Crypt(String),
}
