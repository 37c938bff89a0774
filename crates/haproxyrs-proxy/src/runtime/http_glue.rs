//! Wires the HTTP engine ([`crate::http`]) onto the runtime: [`RtEngine`] implements the
//! engine's [`Engine`] trait with the backends' balancers and connection setup (queue,
//! retries, redispatch, PROXY header) and the frontend's log sinks; conditions and
//! log-format use the trait's defaults (the sample engine). [`RtConn`] is a server
//! connection holding its server slot, so `maxconn` and leastconn see HTTP traffic too.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use haproxyrs_config::ir::{self, BackendId};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::conn::{ClientConn, ConnAddr, Stream};
use super::frontend::FrontendRt;
use crate::backend::ConnectRequest;
use crate::balance::Pick;
use crate::http::{self, Engine, HttpProxy};
use crate::log;
use crate::server::SlotGuard;

/// A server connection of the HTTP engine.
pub struct RtConn {
    stream: Stream,
    _slot: Option<SlotGuard>,
}

impl AsyncRead for RtConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for RtConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The per-frontend HTTP state (idle server connections, error pages).
pub type HttpFrontend = HttpProxy<RtConn>;

/// The runtime behind one HTTP session.
pub struct RtEngine {
    pub fe: Arc<FrontendRt>,
    pub src: ConnAddr,
    pub dst: ConnAddr,
}

impl Engine for RtEngine {
    type Conn = RtConn;

    fn pick(
        &self,
        backend: BackendId,
        key: Option<&[u8]>,
        persist: Option<usize>,
    ) -> Option<usize> {
        let be = self.fe.backend(backend);
        if let Some(p) = persist.filter(|&p| be.servers.get(p).is_some_and(|s| s.is_usable())) {
            return Some(p);
        }
        match be.pick(&self.src, key) {
            Pick::Server(i) if !be.servers[i].is_full() => Some(i),
            // Saturated: let `connect` queue for a slot (nothing is reused then).
            _ => None,
        }
    }

    async fn connect(
        &self,
        backend: BackendId,
        server: Option<usize>,
        key: Option<&[u8]>,
        persist: Option<usize>,
    ) -> io::Result<(usize, RtConn)> {
        let be = Arc::clone(self.fe.backend(backend));
        if let Some(idx) = server {
            let (stream, slot) = be.connect_server(idx, &self.src, &self.dst).await?;
            return Ok((
                idx,
                RtConn {
                    stream,
                    _slot: slot,
                },
            ));
        }
        // Full connection setup: balancing, queue, retries, redispatch, PROXY header.
        let req = ConnectRequest {
            src: &self.src,
            dst: &self.dst,
            hash_key: key,
            persist,
        };
        match be.connect(&req).await {
            Ok(sc) => Ok((
                sc.server.idx,
                RtConn {
                    stream: sc.stream,
                    _slot: Some(sc.slot),
                },
            )),
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }

    fn log_enabled(&self, fe: &ir::Frontend) -> bool {
        self.fe.logger.is_enabled() && !matches!(fe.log_format, ir::LogFormat::Default)
    }

    fn log(&self, record: &http::log::HttpLogRecord<'_>) {
        if !self.fe.logger.is_enabled() {
            return;
        }
        let cfg = self.fe.cfg();
        if matches!(cfg.log_format, ir::LogFormat::Default) {
            // HAProxy's default format logs the connection at accept time only.
            return;
        }
        let mut line = String::with_capacity(200);
        http::log::render_httplog(record, &mut line);
        self.fe.logger.send(log::sink::LEVEL_INFO, line);
    }
}

fn sock(a: &ConnAddr) -> SocketAddr {
    a.socket_addr()
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Serves an HTTP-mode client connection with the HTTP engine.
pub async fn serve(fe: Arc<FrontendRt>, conn: ClientConn) {
    let Some(proxy) = fe.http.clone() else {
        return;
    };
    let ClientConn {
        stream,
        peer,
        local,
        permits,
        ..
    } = conn;
    let (src, dst) = (sock(&peer), sock(&local));
    let eng = RtEngine {
        fe: Arc::clone(&fe),
        src: peer,
        dst: local,
    };
    http::serve(stream, src, dst, &proxy, &eng).await;
    drop(permits);
}
