//! From an accepted connection to its mode's engine: count it, run `tcp-request
//! connection` rules, read the PROXY header on `accept-proxy` binds, log HAProxy's
//! default connect line, then hand it to TCP mode or the HTTP engine.

use std::sync::Arc;

use haproxyrs_config::ir;

use super::conn::{ClientConn, ConnAddr};
use super::frontend::{ConnCount, FrontendRt};
use crate::proxy_protocol;
use crate::tcp;
use crate::tcp::rules::{self, RuleVerdict};
use crate::tcp::source::TcpSource;

/// Spawns the task that runs one accepted connection to its end: each mode gets a task of
/// its own size, so an idle TCP connection stays small.
pub fn spawn(fe: Arc<FrontendRt>, conn: ClientConn) {
    match fe.cfg().mode {
        // One flat hand-written future: an idle TCP connection is mostly this task.
        ir::Mode::Tcp => drop(tokio::spawn(tcp::Session::new(fe, conn))),
        // The HTTP future (4.5 KB) lives in a box of its own: tokio moves a task's future
        // by value at spawn and overwrites it whole at completion, about five copies of its
        // full size per connection, where a small task holding a box copies a pointer
        // (4 % of the CPU of a one-request connection, measured).
        ir::Mode::Http => drop(tokio::spawn(async move { Box::pin(http(fe, conn)).await })),
    }
}

/// An HTTP-mode connection: the prelude, then the HTTP engine.
async fn http(fe: Arc<FrontendRt>, conn: ClientConn) {
    if let Some(conn) = prelude(&fe, conn).await {
        super::http_glue::serve(fe, conn).await;
    }
}

/// Counting, `tcp-request connection` rules, PROXY header, connect log. `None`: closed.
pub(crate) async fn prelude(fe: &Arc<FrontendRt>, mut conn: ClientConn) -> Option<ClientConn> {
    conn.permits._count = Some(ConnCount::new(fe));
    let cfg = fe.cfg();
    let src = TcpSource::of_conn(fe, &conn);
    if rules::connection_rules(&cfg.tcp_request_connection, &cfg.acls, &src) == RuleVerdict::Reject
    {
        return None;
    }
    let accept_proxy = cfg.binds.get(conn.bind_idx).is_some_and(|b| b.accept_proxy);
    if accept_proxy {
        match proxy_protocol::read_header(&conn.stream, cfg.timeouts.client).await {
            Ok(r) => {
                if let Some(src) = r.src {
                    conn.peer = ConnAddr::Inet(src);
                }
                if let Some(dst) = r.dst {
                    conn.local = ConnAddr::Inet(dst);
                }
            }
            Err(e) => {
                ::log::info!("frontend '{}': {} from {}", cfg.name, e, conn.peer);
                return None;
            }
        }
    }
    tcp::emit_connect_log(fe, &conn);
    Some(conn)
}
