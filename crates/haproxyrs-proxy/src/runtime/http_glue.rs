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
use crate::backend::{BackendConnGuard, ConnectError, ConnectRequest};
use crate::balance::Pick;
use crate::http::{self, Connected, Engine, HttpProxy, NotConnected};
use crate::log;
use crate::server::SlotGuard;
use crate::tcp::relay_io::RelayIo;

/// A server connection of the HTTP engine.
pub struct RtConn {
    stream: Stream,
    /// The local address, learnt only for a log format that shows it (`%bi`, `%bp`).
    local: Option<SocketAddr>,
    /// The server slot: parked while the connection idles (see [`Engine::park`]).
    slot: Option<SlotGuard>,
    /// We sent a FIN (end of a tunnel): close gracefully so nothing queued is lost.
    shut: bool,
}

impl RtConn {
    fn new(stream: Stream, slot: Option<SlotGuard>, local: bool) -> RtConn {
        RtConn {
            local: if local {
                stream.local_addr().socket_addr()
            } else {
                None
            },
            stream,
            slot,
            shut: false,
        }
    }
}

impl Drop for RtConn {
    /// As HAProxy does for server connections it will not reuse: close with a reset
    /// (`SO_LINGER` 0), so the proxy, the side that closes, keeps no TIME_WAIT socket per
    /// request. Every exchange on it is complete by then (or abandoned, which HAProxy aborts
    /// too); after a tunnel, where our last bytes may still be queued, the close stays
    /// graceful.
    fn drop(&mut self) {
        if let (false, Stream::Tcp(s)) = (self.shut, &self.stream) {
            let _ = socket2::SockRef::from(s.socket()).set_linger(Some(std::time::Duration::ZERO));
        }
    }
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
        let this = self.get_mut();
        this.shut = true;
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}

impl RelayIo for RtConn {
    fn socket(&self) -> Option<&Stream> {
        Some(&self.stream)
    }

    fn pause_reads(&mut self) {
        self.stream.pause_reads();
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shut = true;
        self.stream.shutdown_write()
    }
}

impl http::ClientIo for Stream {
    fn closing(&mut self) {
        self.set_closing();
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

impl http::ServerStates for super::frontend::Shared {
    fn usable(&self, backend: BackendId) -> usize {
        self.backends[backend.0].usable_servers()
    }
    fn is_usable(&self, backend: BackendId, server: usize) -> bool {
        let servers = &self.backends[backend.0].servers;
        servers.get(server).is_some_and(|s| s.is_usable())
    }
}

impl Engine for RtEngine {
    type Conn = RtConn;
    type Assigned = BackendConnGuard;

    fn servers(&self) -> Option<&dyn http::ServerStates> {
        Some(&*self.fe.shared)
    }

    fn assign(&self, backend: BackendId) -> BackendConnGuard {
        self.fe.backend(backend).enter()
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
    ) -> Result<Connected<RtConn>, NotConnected> {
        let be = Arc::clone(self.fe.backend(backend));
        // The full connection setup: the chosen server first, then queue, retries,
        // redispatch and PROXY header as in TCP mode.
        let req = ConnectRequest {
            src: &self.src,
            dst: &self.dst,
            hash_key: key,
            persist,
            first: server,
        };
        match be.connect(&req).await {
            Ok(sc) => Ok(Connected {
                server: sc.server.idx,
                conn: RtConn::new(
                    sc.stream,
                    Some(sc.slot),
                    log::render::shows_backend_src(&self.fe.cfg().log_format),
                ),
                retries: sc.retries,
                redispatched: sc.redispatched,
                queued: sc.queue_time,
                queue: [sc.queue.server, sc.queue.backend],
            }),
            Err(e) => {
                let mut nc = NotConnected::from(io::Error::other(e.to_string()));
                match e {
                    ConnectError::NoServer => {}
                    ConnectError::QueueTimeout {
                        server,
                        waited,
                        queue,
                    } => {
                        nc.server = server.map(|s| s.idx);
                        nc.queued = Some(waited);
                        nc.queue_timeout = true;
                        nc.queue = [queue.server, queue.backend];
                    }
                    ConnectError::Failed {
                        server,
                        retries,
                        redispatched,
                        queue_time,
                        queue,
                        ..
                    } => {
                        nc.server = Some(server.idx);
                        nc.queued = Some(queue_time);
                        nc.queue = [queue.server, queue.backend];
                        nc.retries = retries;
                        nc.redispatched = redispatched;
                    }
                }
                Err(nc)
            }
        }
    }

    fn park(&self, conn: &mut RtConn) {
        if let Some(s) = &mut conn.slot {
            s.park();
        }
    }

    fn unpark(&self, backend: BackendId, conn: &mut RtConn) -> bool {
        match &mut conn.slot {
            Some(s) => s.unpark(self.fe.backend(backend).next_seq()),
            None => true,
        }
    }

    fn server_conns(&self, backend: BackendId, server: usize) -> u32 {
        let be = self.fe.backend(backend);
        be.servers.get(server).map_or(0, |s| s.cur_conns())
    }

    fn log_enabled(&self, fe: &ir::Frontend) -> bool {
        self.fe.logger.is_enabled() && !matches!(fe.log_format, ir::LogFormat::Default)
    }

    fn backend_src(&self, conn: &RtConn) -> Option<SocketAddr> {
        conn.local
    }

    fn unique_id(&self, record: &http::log::HttpLogRecord<'_>, out: &mut String) -> bool {
        let Some(format) = &self.fe.cfg().unique_id_format else {
            return false;
        };
        log::render(format, &self.to_record(record), Some(record), out);
        true
    }

    fn stats_snapshot(&self) -> crate::stats::Snapshot {
        self.snapshot()
    }

    fn log(&self, record: &http::log::HttpLogRecord<'_>) {
        let cfg = self.fe.cfg();
        if !self.fe.logger.is_enabled() || matches!(cfg.log_format, ir::LogFormat::Default) {
            // HAProxy's default format logs the connection at accept time only.
            return;
        }
        let mut r = record.clone();
        r.conns[0] = self.fe.actconn();
        r.conns[1] = self.fe.feconn();
        // The transaction no longer counts in its backend.
        if let Some(b) = r.backend_id {
            r.conns[2] = self.fe.backend(b).conns();
        }
        let log_count = self.fe.next_log_count();
        let mut line = self.fe.logger.line();
        match &cfg.log_format {
            ir::LogFormat::Custom(expr) => {
                let mut rec = self.to_record(&r);
                rec.log_count = log_count;
                // A request the parser refused is logged without a stream, so without ID.
                let uid_format = cfg
                    .unique_id_format
                    .as_ref()
                    .filter(|_| r.request_line.is_some());
                log::render::with_unique_id(uid_format, &rec, Some(&r), |rec| {
                    log::render(expr, rec, Some(&r), &mut line)
                });
            }
            _ => http::log::render_httplog(&r, &mut line),
        }
        self.fe.logger.send(log::sink::LEVEL_INFO, line);
    }
}

impl RtEngine {
    /// The stats page's numbers: every proxy in config order (a `listen` once), its
    /// frontend's and servers' current counts.
    fn snapshot(&self) -> crate::stats::Snapshot {
        use crate::server::ServerState;
        use crate::stats::{BackendStats, FrontendStats, ProxyStats, ServerStats};
        let shared = &self.fe.shared;
        let mut proxies: Vec<(&haproxyrs_config::span::Span, ProxyStats)> = Vec::new();
        let fronts = shared.frontends.get().map(Vec::as_slice).unwrap_or(&[]);
        for fe in fronts.iter().filter_map(std::sync::Weak::upgrade) {
            let c = &shared.config.frontends[fe.idx];
            let px = ProxyStats {
                name: c.name.clone(),
                http: c.mode == ir::Mode::Http,
                frontend: Some(FrontendStats {
                    scur: fe.feconn(),
                    slim: c.maxconn,
                }),
                ..ProxyStats::default()
            };
            proxies.push((&c.span, px));
        }
        for be in &shared.backends {
            let c = be.cfg();
            let servers = be
                .servers
                .iter()
                .map(|s| ServerStats {
                    name: s.name().to_string(),
                    sid: s.cfg.id,
                    status: match s.state() {
                        ServerState::Up if s.cfg.check.is_none() => "no check",
                        ServerState::Up => "UP",
                        ServerState::Down => "DOWN",
                        ServerState::Maint => "MAINT",
                        ServerState::Drain => "DRAIN",
                    },
                    weight: s.weight(),
                    backup: s.is_backup(),
                    usable: s.is_usable(),
                    scur: s.cur_conns(),
                    qcur: s.queued(),
                    stot: s.total.load(std::sync::atomic::Ordering::Relaxed),
                    check: s.cfg.check.as_ref().map(|k| (k.rise, k.fall)),
                    last_check: s.last_check.lock().ok().and_then(|c| c.clone()),
                })
                .collect();
            let b = BackendStats {
                scur: be.conns(),
                qcur: be.queued(),
                servers,
            };
            match proxies.iter_mut().find(|(_, p)| p.name == c.name) {
                Some((_, p)) => p.backend = Some(b),
                None => proxies.push((
                    &c.span,
                    ProxyStats {
                        name: c.name.clone(),
                        http: c.mode == ir::Mode::Http,
                        backend: Some(b),
                        ..ProxyStats::default()
                    },
                )),
            }
        }
        // 2.6 numbers proxies in the order of their sections.
        proxies.sort_by(|a, b| (&*a.0.file, a.0.line).cmp(&(&*b.0.file, b.0.line)));
        crate::stats::Snapshot {
            pid: std::process::id(),
            proxies: proxies
                .into_iter()
                .enumerate()
                .map(|(i, (_, mut p))| {
                    p.iid = i as u32 + 1;
                    p
                })
                .collect(),
        }
    }

    /// The log record of an HTTP transaction for a custom `log-format` line: borrowed
    /// from the transaction's, nothing copied.
    fn to_record<'a>(&'a self, r: &http::log::HttpLogRecord<'a>) -> log::LogRecord<'a> {
        let mut rec = log::LogRecord::new(&self.src, &self.dst, r.accept_date, r.frontend);
        rec.request_date = Some(r.request_date);
        rec.backend = Some(r.backend);
        rec.server = (r.server != "<NOSRV>").then_some(r.server);
        if let (Some(b), Some(s)) = (r.backend_id, r.server_id) {
            let dst_port = self.dst.port();
            rec.server_addr = self
                .fe
                .backend(b)
                .servers
                .get(s)
                .and_then(|s| s.inet_addr(dst_port));
        }
        rec.backend_src = r.backend_src;
        rec.th = r.t_handshake;
        rec.ti = r.t_idle;
        rec.treq = r.t_request;
        // `%Tq`: accept to the whole request head (handshake, idle and request time).
        rec.tq = if r.t_request < 0 {
            -1
        } else {
            r.t_handshake + r.t_idle + r.t_request
        };
        rec.tw = r.t_queue;
        rec.tc = r.t_connect;
        rec.tr = r.t_response;
        rec.ta = r.t_active;
        rec.tt = r.t_total;
        rec.t_data = r.t_data;
        // 0: no status yet (a unique ID made before the response).
        rec.status = if r.status == 0 {
            -1
        } else {
            i32::from(r.status)
        };
        rec.bytes_out = r.bytes_out;
        rec.bytes_in = r.bytes_in;
        [
            rec.actconn,
            rec.feconn,
            rec.beconn,
            rec.srvconn,
            rec.retries,
        ] = r.conns;
        [rec.srv_queue, rec.backend_queue] = r.queues;
        rec.redispatched = r.redispatched;
        rec.term = log::TermFlags::new(r.term[0], r.term[1]);
        rec.request_line = r.request_line;
        rec.captured_request = r.captured_req;
        rec.captured_response = r.captured_resp;
        rec.stream_id = r.stream_id;
        rec.unique_id = r.unique_id;
        rec
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
        accept_instant,
        ..
    } = conn;
    let (src, dst) = (sock(&peer), sock(&local));
    let eng = RtEngine {
        fe: Arc::clone(&fe),
        src: peer,
        dst: local,
    };
    http::serve(stream, src, dst, accept_instant, &proxy, &eng).await;
    drop(permits);
}
