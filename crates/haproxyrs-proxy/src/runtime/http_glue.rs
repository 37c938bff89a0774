//! Wires the HTTP engine ([`crate::http`]) onto the runtime: [`RtEngine`] implements the
//! engine's [`Engine`] trait with the sample engine (conditions, `%[...]`), the backends'
//! balancers and connection setup, and the frontend's log sinks; [`HttpSource`] shows a
//! transaction to the sample engine; [`RtConn`] is a server connection holding its
//! server slot (so `maxconn`/leastconn see HTTP traffic too).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use haproxyrs_config::ir::sample::{Condition, LogFlags, LogFormatExpr, LogFormatPart, SampleExpr};
use haproxyrs_config::ir::{self, BackendId, Userlist};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::conn::{ClientConn, ConnAddr, Stream};
use super::frontend::FrontendRt;
use crate::balance::Pick;
use crate::http::{self, Engine, HttpProxy, Txn};
use crate::log::{self, LogRecord};
use crate::sample::{self, Phase, SampleSource};
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

/// A transaction seen by the sample engine.
pub struct HttpSource<'a> {
    pub txn: &'a Txn<'a>,
    pub fe: &'a FrontendRt,
}

fn header(m: &http::message::Message, i: usize) -> Option<(&[u8], &[u8])> {
    (i < m.fields.len()).then(|| (m.name(i), m.value(i)))
}

impl SampleSource for HttpSource<'_> {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.txn.src)
    }
    fn dst(&self) -> Option<SocketAddr> {
        Some(self.txn.dst)
    }
    fn method(&self) -> Option<&[u8]> {
        Some(self.txn.req.method())
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.txn.req.uri())
    }
    fn http_version(&self) -> Option<&[u8]> {
        self.txn
            .req
            .version
            .map(|v| v.as_str().trim_start_matches("HTTP/").as_bytes())
    }
    fn req_header_count(&self) -> usize {
        self.txn.req.fields.len()
    }
    fn req_header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        header(self.txn.req, i)
    }
    fn phase(&self) -> Phase {
        if self.txn.resp.is_some() {
            Phase::Response
        } else {
            Phase::Request
        }
    }
    fn status(&self) -> Option<u16> {
        self.txn.resp.map(|r| r.status)
    }
    fn res_header_count(&self) -> usize {
        self.txn.resp.map_or(0, |r| r.fields.len())
    }
    fn res_header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        header(self.txn.resp?, i)
    }
    fn frontend_name(&self) -> Option<&str> {
        Some(&self.fe.cfg().name)
    }
    fn backend_name(&self) -> Option<&str> {
        self.txn
            .backend
            .map(|b| self.fe.config().backend(b).name.as_str())
    }
    fn nbsrv(&self, backend: Option<&str>) -> Option<i64> {
        let be = match backend {
            Some(n) => self.fe.backend_by_name(n)?,
            None => self.fe.backend(self.txn.backend?),
        };
        Some(be.usable_servers() as i64)
    }
    fn srv_is_up(&self, backend: Option<&str>, server: &str) -> Option<bool> {
        let be = match backend {
            Some(n) => self.fe.backend_by_name(n)?,
            None => self.fe.backend(self.txn.backend?),
        };
        Some(be.server_by_name(server)?.is_usable())
    }
    fn userlist(&self, name: &str) -> Option<&Userlist> {
        self.fe.config().userlists.iter().find(|u| u.name == name)
    }
}

/// The runtime behind one HTTP session.
pub struct RtEngine {
    pub fe: Arc<FrontendRt>,
    pub src: ConnAddr,
    pub dst: ConnAddr,
}

impl RtEngine {
    /// The ACL list a condition's named ACLs index into: the backend's once one is
    /// chosen (its rules run then), unless the condition names an ACL the backend does
    /// not have (a frontend rule evaluated after the backend choice).
    fn acls_for(&self, cond: &Condition, txn: &Txn<'_>) -> &[ir::sample::Acl] {
        let fe = &self.fe.cfg().acls;
        let Some(b) = txn.backend else { return fe };
        let be = &self.fe.config().backend(b).acls;
        let fits = cond.alternatives.iter().flatten().all(|t| match &t.acl {
            ir::sample::AclRef::Named(id) => id.0 < be.len(),
            _ => true,
        });
        if fits {
            be
        } else {
            fe
        }
    }
}

impl Engine for RtEngine {
    type Conn = RtConn;

    fn cond(&self, cond: &Condition, txn: &Txn<'_>) -> bool {
        let src = HttpSource { txn, fe: &self.fe };
        sample::eval_condition(cond, self.acls_for(cond, txn), &src).is_yes()
    }

    fn format(&self, fmt: &LogFormatExpr, txn: &Txn<'_>, out: &mut Vec<u8>) {
        let src = HttpSource { txn, fe: &self.fe };
        let mut rec: Option<LogRecord> = None;
        for part in &fmt.parts {
            match part {
                LogFormatPart::Literal(s) => out.extend_from_slice(s.as_bytes()),
                LogFormatPart::Sample { expr, flags } => {
                    sample::render_sample(expr, *flags, &src, out);
                }
                LogFormatPart::Var { .. } => {
                    let r = rec.get_or_insert_with(|| {
                        LogRecord::new(
                            ConnAddr::Inet(txn.src),
                            ConnAddr::Inet(txn.dst),
                            std::time::SystemTime::now(),
                            &self.fe.cfg().name,
                        )
                    });
                    let one = LogFormatExpr {
                        parts: vec![part.clone()],
                    };
                    let mut s = String::new();
                    log::render(&one, r, &log::NoSamples, &mut s);
                    out.extend_from_slice(s.as_bytes());
                }
            }
        }
    }

    fn sample(&self, expr: &SampleExpr, txn: &Txn<'_>, out: &mut Vec<u8>) -> bool {
        let src = HttpSource { txn, fe: &self.fe };
        sample::render_sample(expr, LogFlags::default(), &src, out)
    }

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
            Pick::Server(i) => Some(i),
            // Every server saturated: the HTTP engine has no queue yet, take the
            // balancer's choice ignoring maxconn rather than failing.
            Pick::Saturated => be.pick_ignoring_limits(&self.src, key),
            Pick::NoServer => None,
        }
    }

    async fn connect(&self, backend: BackendId, server: usize) -> io::Result<RtConn> {
        let be = Arc::clone(self.fe.backend(backend));
        let (stream, slot) = be.connect_server(server, &self.src, &self.dst).await?;
        Ok(RtConn {
            stream,
            _slot: slot,
        })
    }

    fn log(&self, record: &http::log::HttpLogRecord<'_>) {
        if !self.fe.logger.is_enabled() {
            return;
        }
        let cfg = self.fe.cfg();
        if cfg.options.dontlognull && record.bytes_in == 0 && record.request_line.is_none() {
            return;
        }
        let mut line = String::with_capacity(200);
        match cfg.log_format {
            ir::LogFormat::Default => return,
            _ => http::log::render_httplog(record, &mut line),
        }
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
