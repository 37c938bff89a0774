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

/// Runs one accepted connection to its end.
pub async fn start(fe: Arc<FrontendRt>, conn: ClientConn) {
    // The prelude takes the connection by value and gives it back: nothing of it stays
    // borrowed here, so this task stores the connection once, inside the engine's state.
    let Some(conn) = Box::pin(prelude(&fe, conn)).await else {
        return;
    };
    match fe.cfg().mode {
        ir::Mode::Tcp => tcp::serve(fe, conn).await,
        // Boxed: the HTTP session's state is large and must not size every TCP task.
        ir::Mode::Http => Box::pin(super::http_glue::serve(fe, conn)).await,
    }
}

/// Counting, `tcp-request connection` rules, PROXY header, connect log. `None`: closed.
async fn prelude(fe: &Arc<FrontendRt>, mut conn: ClientConn) -> Option<ClientConn> {
    conn.permits._count = Some(ConnCount::new(fe));
    let cfg = fe.cfg();
    let src = TcpSource {
        src: &conn.peer,
        dst: &conn.local,
        payload: &[],
        final_: true,
        frontend: &cfg.name,
        backend: None,
        shared: Some(&fe.shared),
    };
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
