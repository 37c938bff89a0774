//! The HTTP engine on the runtime: [`serve_conn`] is what the accept path calls for a
//! `mode http` frontend. It implements [`Engine`] over the runtime's backends (server
//! choice, connection with queueing and retries) and log sinks, and keeps one
//! [`HttpProxy`] per frontend for the whole process, so idle server connections are shared
//! by every worker thread.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use haproxyrs_config::ir::{self, BackendId};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::engine::Engine;
use super::log::HttpLogRecord;
use super::session::{serve, HttpProxy};
use crate::backend::{ConnectRequest, ServerConn};
use crate::runtime::conn::{ClientConn, ConnAddr};
use crate::runtime::frontend::FrontendRt;

/// A server connection with the slot it holds on its server.
pub struct RtConn(ServerConn);

impl AsyncRead for RtConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for RtConn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0.stream).poll_write(cx, b)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0.stream).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0.stream).poll_shutdown(cx)
    }
}

/// The runtime services for one client connection.
struct RtEngine {
    fe: Arc<FrontendRt>,
    src: ConnAddr,
    dst: ConnAddr,
}

impl Engine for RtEngine {
    type Conn = RtConn;

    fn pick(
        &self,
        backend: BackendId,
        key: Option<&[u8]>,
        persist: Option<usize>,
    ) -> Option<usize> {
        self.fe.backend(backend).pick(&self.src, key, persist)
    }

    async fn connect(
        &self,
        backend: BackendId,
        server: Option<usize>,
        key: Option<&[u8]>,
        persist: Option<usize>,
    ) -> io::Result<(usize, RtConn)> {
        let be = self.fe.backend(backend);
        let req = ConnectRequest {
            src: &self.src,
            dst: &self.dst,
            hash_key: key,
            persist: server.or(persist),
        };
        let c = be
            .connect(&req)
            .await
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok((c.server.idx, RtConn(c)))
    }

    fn log_enabled(&self, _fe: &ir::Frontend) -> bool {
        self.fe.logger.is_enabled()
    }

    fn log(&self, r: &HttpLogRecord<'_>) {
        let cfg = self.fe.cfg();
        let mut r = r.clone();
        r.conns[0] = self.fe.actconn();
        r.conns[1] = self.fe.feconn();
        let r = &r;
        let mut line = String::with_capacity(200);
        match &cfg.log_format {
            ir::LogFormat::Custom(expr) => {
                let rec = to_record(r, &self.src, &self.dst);
                crate::log::render(expr, &rec, &crate::log::NoSamples, &mut line);
            }
            _ => super::log::render_httplog(r, &mut line),
        }
        self.fe.logger.send(crate::log::sink::LEVEL_INFO, line);
    }
}

fn to_record(r: &HttpLogRecord<'_>, src: &ConnAddr, dst: &ConnAddr) -> crate::log::LogRecord {
    let mut rec = crate::log::LogRecord::new(src.clone(), dst.clone(), r.request_date, r.frontend);
    rec.request_date = Some(r.request_date);
    rec.backend = Some(r.backend.to_owned());
    rec.server = (r.server != "<NOSRV>").then(|| r.server.to_owned());
    rec.treq = r.t_request;
    rec.tw = r.t_queue;
    rec.tc = r.t_connect;
    rec.tr = r.t_response;
    rec.ta = r.t_active;
    rec.tt = r.t_active;
    rec.status = i32::from(r.status);
    rec.bytes_out = r.bytes_out;
    rec.bytes_in = r.bytes_in;
    rec.term = crate::log::TermFlags::new(r.term[0], r.term[1]);
    rec.request_line = r
        .request_line
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .or_else(|| Some("<BADREQ>".into()));
    rec
}

/// One [`HttpProxy`] per (config, frontend), shared by all workers.
type Registry = Vec<(usize, usize, Arc<HttpProxy<RtConn>>)>;
static PROXIES: Mutex<Registry> = Mutex::new(Vec::new());
thread_local! {
    static LOCAL: RefCell<Registry> = const { RefCell::new(Vec::new()) };
}

fn http_proxy(fe: &FrontendRt) -> Arc<HttpProxy<RtConn>> {
    let key = (Arc::as_ptr(fe.config()) as usize, fe.idx);
    let hit = LOCAL.with(|l| {
        l.borrow()
            .iter()
            .find(|(c, f, _)| (*c, *f) == key)
            .map(|(_, _, p)| Arc::clone(p))
    });
    if let Some(p) = hit {
        return p;
    }
    let p = {
        let mut g = PROXIES.lock().unwrap_or_else(|e| e.into_inner());
        match g.iter().find(|(c, f, _)| (*c, *f) == key) {
            Some((_, _, p)) => Arc::clone(p),
            None => {
                let p = Arc::new(HttpProxy::new(Arc::clone(fe.config()), fe.idx));
                g.push((key.0, key.1, Arc::clone(&p)));
                p
            }
        }
    };
    LOCAL.with(|l| l.borrow_mut().push((key.0, key.1, Arc::clone(&p))));
    p
}

/// Serve one accepted `mode http` client connection.
pub async fn serve_conn(fe: Arc<FrontendRt>, conn: ClientConn) {
    let proxy = http_proxy(&fe);
    let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
    let src = conn.peer.socket_addr().unwrap_or(unspecified);
    let dst = conn.local.socket_addr().unwrap_or(unspecified);
    let eng = RtEngine {
        fe,
        src: conn.peer.clone(),
        dst: conn.local.clone(),
    };
    let ClientConn {
        stream, permits, ..
    } = conn;
    serve(stream, src, dst, &proxy, &eng).await;
    drop(permits);
}
