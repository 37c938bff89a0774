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

pub async fn start(fe: Arc<FrontendRt>, mut conn: ClientConn) {
    conn.permits._count = Some(ConnCount::new(&fe));
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
        return;
    }
    let accept_proxy = cfg.binds.get(conn.bind_idx).is_some_and(|b| b.accept_proxy);
    if accept_proxy {
        match Box::pin(proxy_protocol::read_header(
            &conn.stream,
            cfg.timeouts.client,
        ))
        .await
        {
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
                return;
            }
        }
    }
    tcp::emit_connect_log(&fe, &conn);
    match cfg.mode {
        ir::Mode::Tcp => tcp::serve(fe, conn).await,
        // Boxed: the HTTP session's state is large and must not size every TCP task.
        ir::Mode::Http => Box::pin(super::http_glue::serve(fe, conn)).await,
    }
}
