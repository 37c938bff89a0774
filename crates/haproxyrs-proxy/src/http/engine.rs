//! What the HTTP session needs from the rest of the proxy, as one trait: condition and
//! log-format evaluation (the sample engine), server selection and connection (the backend
//! runtime), and log emission. The runtime implements it once; tests implement it with
//! small fakes. Static dispatch: the session is generic over it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use haproxyrs_config::ir::sample::{Acl, Condition, LogFormatExpr, SampleExpr};
use haproxyrs_config::ir::{BackendId, Config};

use super::message::Message;
use crate::tcp::relay_io::RelayIo;

/// The transaction as rules and samples see it.
#[derive(Clone, Copy, Debug)]
pub struct Txn<'a> {
    pub req: &'a Message,
    /// The response, once its head is parsed.
    pub resp: Option<&'a Message>,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// The backend chosen so far (`be_name`, `nbsrv`).
    pub backend: Option<BackendId>,
    pub config: &'a Config,
    /// Index of the frontend in `config.frontends`.
    pub frontend: usize,
    /// The ACLs of the proxy whose rule is being evaluated.
    pub acls: &'a [Acl],
    /// The servers' live state (health checks, maintenance) for `nbsrv()` and `srv_is_up()`;
    /// `None`: the configured state (an engine without a runtime, in tests).
    pub servers: Option<&'a dyn ServerStates>,
}

/// The live usability of servers, as balancing sees it.
pub trait ServerStates: std::fmt::Debug + Sync {
    /// Usable servers of `backend` (`nbsrv`).
    fn usable(&self, backend: BackendId) -> usize;
    /// Whether server `server` (index) of `backend` is usable (`srv_is_up`).
    fn is_usable(&self, backend: BackendId, server: usize) -> bool;
}

/// A new server connection, from [`Engine::connect`].
pub struct Connected<C> {
    /// Index of the server in its backend.
    pub server: usize,
    pub conn: C,
    /// Connection attempts retried before this one succeeded (`%rc`), and whether the
    /// last went to another server (`+` before it).
    pub retries: u32,
    pub redispatched: bool,
    /// Time spent waiting for a free slot of the server (`%Tw`).
    pub queued: std::time::Duration,
    /// Places in the server and backend queues it waited in (`%sq`/`%bq`).
    pub queue: [u32; 2],
}

/// Why [`Engine::connect`] gave no connection, with the retries it made (`%rc`).
#[derive(Debug)]
pub struct NotConnected {
    pub error: io::Error,
    /// The server of the last attempt or of the queue waited in, if any (logged in place
    /// of `<NOSRV>`).
    pub server: Option<usize>,
    /// The time waited for a slot (`%Tw`), if a slot was waited for.
    pub queued: Option<std::time::Duration>,
    /// `timeout queue` struck (`sQ`) rather than the connection failing (`SC`).
    pub queue_timeout: bool,
    /// Places in the server and backend queues it waited in (`%sq`/`%bq`).
    pub queue: [u32; 2],
    pub retries: u32,
    pub redispatched: bool,
}

impl From<io::Error> for NotConnected {
    fn from(error: io::Error) -> Self {
        NotConnected {
            error,
            server: None,
            queued: None,
            queue_timeout: false,
            queue: [0; 2],
            retries: 0,
            redispatched: false,
        }
    }
}

/// The client side of a session: a byte stream that can be told that what is written
/// next is the connection's last, so a short final segment can leave with the FIN in one
/// packet (the runtime's TCP connections do; other streams ignore it). A tunnel relays it
/// ([`RelayIo`]).
pub trait ClientIo: RelayIo {
    fn closing(&mut self) {}
}

impl ClientIo for tokio::net::TcpStream {}

/// Services the HTTP session calls.
pub trait Engine: Send + Sync + 'static {
    /// A server connection (relayed by a tunnel, [`RelayIo`]).
    type Conn: RelayIo + Send + 'static;

    /// Held while a transaction is assigned to a backend: 2.6 counts it in the backend's
    /// current connections (`%bc`) from the backend choice until just before its log line.
    type Assigned: Send;

    /// The transaction is assigned to `backend` until the returned value is dropped.
    fn assign(&self, backend: BackendId) -> Self::Assigned;

    /// Evaluate an `if`/`unless` condition (the sample engine by default).
    fn cond(&self, cond: &Condition, txn: &Txn<'_>) -> bool {
        super::samples::eval_cond(cond, txn)
    }

    /// Append the rendering of a log-format expression to `out`.
    fn format(&self, fmt: &LogFormatExpr, txn: &Txn<'_>, out: &mut Vec<u8>) {
        super::samples::render(fmt, txn, out)
    }

    /// Evaluate a sample expression as bytes (for `set-var`); false when it has no value.
    fn sample(&self, expr: &SampleExpr, txn: &Txn<'_>, out: &mut Vec<u8>) -> bool {
        super::samples::eval_sample(expr, txn, out)
    }

    /// Choose a server of `backend` before connecting (balancing with `key`, or `persist`
    /// when usable), so that an idle connection to it can be reused. `None`: no choice can be
    /// made ahead (no usable server, or a runtime that balances only while connecting);
    /// then [`Engine::connect`] chooses and nothing is reused.
    fn pick(
        &self,
        _backend: BackendId,
        _key: Option<&[u8]>,
        _persist: Option<usize>,
    ) -> Option<usize> {
        None
    }

    /// Open a new connection to `server` of `backend` (or to the server the backend's
    /// balancing chooses with `key` / `persist` when `server` is `None`).
    fn connect(
        &self,
        backend: BackendId,
        server: Option<usize>,
        key: Option<&[u8]>,
        persist: Option<usize>,
    ) -> impl Future<Output = Result<Connected<Self::Conn>, NotConnected>> + Send;

    /// The connection goes idle (kept for the session's next request, or pooled): it no
    /// longer counts toward its server's `maxconn`, which 2.6 applies to requests in
    /// progress, not to open connections.
    fn park(&self, _conn: &mut Self::Conn) {}

    /// An idle connection is to carry a request of `backend` and counts toward `maxconn`
    /// again. `false` when the server is full: the connection must not be used now.
    fn unpark(&self, _backend: BackendId, _conn: &mut Self::Conn) -> bool {
        true
    }

    /// The local address of a server connection, when the log shows it (`%bi`, `%bp`).
    fn backend_src(&self, _conn: &Self::Conn) -> Option<std::net::SocketAddr> {
        None
    }

    /// Transactions currently holding a slot of `server` of `backend` (`%sc`).
    fn server_conns(&self, _backend: BackendId, _server: usize) -> u32 {
        0
    }

    /// The servers' live state for the sample fetches that read it; `None`: as configured.
    fn servers(&self) -> Option<&dyn ServerStates> {
        None
    }

    /// Whether transactions of this frontend are logged at all (saves building the record).
    fn log_enabled(&self, fe: &haproxyrs_config::ir::Frontend) -> bool {
        !fe.logs.is_empty()
    }

    /// Render the frontend's `unique-id-format` for the transaction so far into `out`;
    /// false without one.
    fn unique_id(&self, _record: &super::log::HttpLogRecord<'_>, _out: &mut String) -> bool {
        false
    }

    /// Emit a finished transaction's log line.
    fn log(&self, _record: &super::log::HttpLogRecord<'_>) {}

    /// The numbers of the stats page, taken when it is asked for.
    fn stats_snapshot(&self) -> crate::stats::Snapshot {
        crate::stats::Snapshot::default()
    }
}
