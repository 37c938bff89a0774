//! What the HTTP session needs from the rest of the proxy, as one trait: condition and
//! log-format evaluation (the sample engine), server selection and connection (the backend
//! runtime), and log emission. The runtime implements it once; tests implement it with
//! small fakes. Static dispatch: the session is generic over it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use haproxyrs_config::ir::sample::{Condition, LogFormatExpr, SampleExpr};
use haproxyrs_config::ir::BackendId;
use tokio::io::{AsyncRead, AsyncWrite};

use super::message::Message;

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
}

/// Services the HTTP session calls.
pub trait Engine: Send + Sync + 'static {
    /// A server connection.
    type Conn: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Evaluate an `if`/`unless` condition.
    fn cond(&self, cond: &Condition, txn: &Txn<'_>) -> bool;

    /// Append the rendering of a log-format expression to `out`.
    fn format(&self, fmt: &LogFormatExpr, txn: &Txn<'_>, out: &mut Vec<u8>);

    /// Evaluate a sample expression as bytes (for `set-var`); false when it has no value.
    fn sample(&self, expr: &SampleExpr, txn: &Txn<'_>, out: &mut Vec<u8>) -> bool;

    /// Store a variable (`set-var(txn.x)`).
    fn set_var(&self, _name: &str, _value: &[u8]) {}

    /// Choose a server of `backend` (balancing with `key`, or `persist` when usable).
    fn pick(&self, backend: BackendId, key: Option<&[u8]>, persist: Option<usize>)
        -> Option<usize>;

    /// Open a new connection to `server` of `backend`.
    fn connect(
        &self,
        backend: BackendId,
        server: usize,
    ) -> impl Future<Output = io::Result<Self::Conn>> + Send;

    /// Emit a finished transaction's log line.
    fn log(&self, _record: &super::log::HttpLogRecord<'_>) {}
}
