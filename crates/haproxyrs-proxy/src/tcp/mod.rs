//! TCP mode (`mode tcp`): a session runs `tcp-request content` rules (with
//! `inspect-delay`), picks its backend (`use_backend` rules, `default_backend`), connects
//! through the backend's balancer, then relays bytes both ways ([`relay`]) and logs one
//! line (`option tcplog`, `log-format`, or HAProxy's default connect line).
//!
//! # Layout
//! - [`session`]: [`Session`], the hand-written future of one TCP-mode connection.
//! - [`relay`]: the splice/buffered bidirectional relay (also HTTP tunnels').
//! - [`relay_io`]: what the relay needs from a connection ([`relay_io::RelayIo`]).
//! - [`pipe_pool`]: per-worker pipe pool for splice.
//! - [`rules`]: `tcp-request connection|content` evaluation.
//! - [`source`]: the session's [`crate::sample::SampleSource`] (fetches, conditions).

pub mod pipe_pool;
pub mod relay;
pub mod relay_io;
pub mod rules;
mod session;
pub mod source;

pub use session::Session;

use std::sync::Arc;

use haproxyrs_config::ir::{self, BackendTarget};

use crate::backend::{BackendRt, ConnectError, QueuePos};
use crate::log::{self, LogRecord, TermFlags};
use crate::runtime::conn::{ClientConn, ConnAddr};
use crate::runtime::frontend::FrontendRt;
use crate::server::ServerRt;
use rules::RuleVerdict;
use source::TcpSource;

/// Chooses the backend: first matching `use_backend`, else `default_backend`.
pub fn select_backend(fe: &FrontendRt, s: &TcpSource<'_>) -> Option<Arc<BackendRt>> {
    let cfg = fe.cfg();
    for rule in &cfg.switching {
        let hit = match &rule.cond {
            None => true,
            Some(c) => s.eval(c, &cfg.acls) == Some(true),
        };
        if !hit {
            continue;
        }
        match &rule.backend {
            BackendTarget::Fixed(id) => return Some(Arc::clone(fe.backend(*id))),
            // As HAProxy: the first matching rule decides; a name that is no backend
            // leaves the choice to `default_backend`.
            BackendTarget::Dynamic(fmt) => {
                let mut name = Vec::new();
                crate::sample::render::render_format(fmt, s, &mut name);
                return std::str::from_utf8(&name)
                    .ok()
                    .and_then(|n| fe.backend_by_name(n))
                    .map(Arc::clone)
                    .or_else(|| cfg.default_backend.map(|id| Arc::clone(fe.backend(id))));
            }
        }
    }
    cfg.default_backend.map(|id| Arc::clone(fe.backend(id)))
}

fn ms(d: std::time::Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

/// What a session did, for its log line (built only when the session ends, so an idle
/// session holds none of it).
struct Outcome {
    backend: Option<Arc<BackendRt>>,
    server: Option<Arc<ServerRt>>,
    server_addr: ConnAddr,
    /// The server connection's local address, when the log format shows it.
    backend_src: Option<std::net::SocketAddr>,
    tw: i64,
    tc: i64,
    retries: u32,
    redispatched: bool,
    /// Places in the queues waited in (`%sq`/`%bq`).
    queue: QueuePos,
    /// `%sc` counted while the session still held its server slot (without it), or
    /// `None`: read when logging.
    srv_conns: Option<u32>,
    term: TermFlags,
    bytes_in: u64,
    bytes_out: u64,
}

impl Outcome {
    fn new() -> Outcome {
        Outcome {
            backend: None,
            server: None,
            server_addr: ConnAddr::Unknown,
            backend_src: None,
            tw: -1,
            tc: -1,
            retries: 0,
            redispatched: false,
            queue: QueuePos::default(),
            srv_conns: None,
            term: TermFlags::default(),
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// Records a failed connection attempt.
    fn connect_failed(&mut self, e: ConnectError) {
        self.term = match e {
            ConnectError::NoServer => TermFlags::new(b'S', b'C'),
            ConnectError::QueueTimeout {
                waited,
                server,
                queue,
            } => {
                self.tw = ms(waited);
                self.server = server;
                self.queue = queue;
                TermFlags::new(b's', b'Q')
            }
            ConnectError::Failed {
                server,
                retries,
                redispatched,
                timed_out,
                queue_time,
                queue,
                ..
            } => {
                self.server = Some(server);
                self.queue = queue;
                self.retries = retries;
                self.redispatched = redispatched;
                self.tw = ms(queue_time);
                TermFlags::new(if timed_out { b's' } else { b'S' }, b'C')
            }
        };
    }
}

/// Logs the end of a session (`option tcplog`, `log-format`), with the client connection
/// still open, as HAProxy counts it in `%ac`/`%fc`.
fn log_end(fe: &FrontendRt, conn: &ClientConn, out: &Outcome) {
    // The session's stream number (`%rt`), taken whether it is logged or not.
    let stream_id = log::record::next_stream_id();
    if !fe.logger.is_enabled() {
        return;
    }
    let cfg = fe.cfg();
    let mut rec = LogRecord::new(&conn.peer, &conn.local, conn.accept_date, &cfg.name);
    rec.stream_id = stream_id;
    rec.backend = out.backend.as_ref().map(|b| b.name());
    rec.server = out.server.as_ref().map(|s| s.name());
    rec.server_addr = out.server_addr.socket_addr();
    rec.backend_src = out.backend_src;
    (rec.tw, rec.tc) = (out.tw, out.tc);
    // `%Td` runs from the connection's establishment.
    if out.tc >= 0 {
        rec.t_data = out.tw.max(0) + out.tc;
    }
    rec.retries = out.retries;
    rec.redispatched = out.redispatched;
    rec.term = out.term;
    rec.tt = ms(conn.accept_instant.elapsed());
    rec.bytes_in = out.bytes_in;
    rec.bytes_out = out.bytes_out;
    // The session's own backend count and server slot are gone by now (2.6 releases
    // them before logging): `%bc`/`%sc` count the others. A queued session that took the
    // freed slot meanwhile is not in `%sc` (2.6 counts it once connected): see `finish`.
    if let Some(be) = &out.backend {
        rec.beconn = be.conns();
    }
    if let Some(s) = &out.server {
        rec.srvconn = out.srv_conns.unwrap_or_else(|| s.cur_conns());
    }
    rec.srv_queue = out.queue.server;
    rec.backend_queue = out.queue.backend;
    rec.actconn = fe.actconn();
    rec.feconn = fe.feconn();
    let src = TcpSource {
        backend: out.backend.as_ref().map(|b| b.name()),
        ..TcpSource::of_conn(fe, conn)
    };
    emit_end_log(fe, &mut rec, &src);
}

/// Content rules and backend choice.
async fn choose_backend(
    fe: &Arc<FrontendRt>,
    conn: &ClientConn,
    out: &mut Outcome,
) -> Option<Arc<BackendRt>> {
    let cfg = fe.cfg();
    let base = TcpSource {
        final_: false,
        ..TcpSource::of_conn(fe, conn)
    };
    let (verdict, inspected) = rules::content_rules(
        &conn.stream,
        &cfg.tcp_request_content,
        &cfg.acls,
        &base,
        cfg.inspect_delay,
        fe.config().global.bufsize,
    )
    .await;
    if verdict == RuleVerdict::Reject {
        out.term = TermFlags::new(b'P', b'R');
        return None;
    }
    let sample = TcpSource {
        payload: &inspected.payload,
        final_: true,
        ..base
    };
    let Some(be) = select_backend(fe, &sample) else {
        out.term = TermFlags::new(b'S', b'C');
        return None;
    };
    out.backend = Some(Arc::clone(&be));
    let becfg = be.cfg();
    let be_sample = TcpSource {
        backend: Some(&becfg.name),
        ..sample
    };
    if rules::eval_rules(&becfg.tcp_request_content, &becfg.acls, &be_sample)
        == Some(RuleVerdict::Reject)
    {
        out.term = TermFlags::new(b'P', b'R');
        return None;
    }
    Some(be)
}

/// Logs the end-of-session line in the frontend's format (the default format logs at
/// accept time instead, see [`emit_connect_log`]).
fn emit_end_log(fe: &FrontendRt, rec: &mut LogRecord<'_>, samples: &TcpSource<'_>) {
    if !fe.logger.is_enabled() {
        return;
    }
    let cfg = fe.cfg();
    if cfg.options.dontlognull && rec.bytes_in == 0 {
        return;
    }
    if matches!(cfg.log_format, ir::LogFormat::Default) {
        return;
    }
    rec.log_count = fe.next_log_count();
    let rec = &*rec;
    let mut line = fe.logger.line();
    match &cfg.log_format {
        ir::LogFormat::Default => {}
        // HAProxy falls back to tcplog for httplog on a TCP frontend.
        ir::LogFormat::TcpLog | ir::LogFormat::HttpLog => {
            TCPLOG.with(|f| log::render(f, rec, Some(samples), &mut line))
        }
        ir::LogFormat::Custom(expr) => {
            let uid_format = cfg.unique_id_format.as_ref();
            log::render::with_unique_id(uid_format, rec, Some(samples), |rec| {
                log::render(expr, rec, Some(samples), &mut line)
            })
        }
    }
    fe.logger.send(log::sink::LEVEL_INFO, line);
}

thread_local! {
    static TCPLOG: ir::sample::LogFormatExpr = log::render::tcplog();
}

/// HAProxy's default log (no `option tcplog/httplog/log-format`): one line at accept,
/// `Connect from IP:PORT to IP:PORT (FRONTEND/MODE)`.
pub fn emit_connect_log(fe: &FrontendRt, conn: &ClientConn) {
    let cfg = fe.cfg();
    if !fe.logger.is_enabled() || !matches!(cfg.log_format, ir::LogFormat::Default) {
        return;
    }
    let mode = match cfg.mode {
        ir::Mode::Tcp => "TCP",
        ir::Mode::Http => "HTTP",
    };
    fe.logger.send(
        log::sink::LEVEL_INFO,
        format!(
            "Connect from {} to {} ({}/{})",
            conn.peer, conn.local, cfg.name, mode
        ),
    );
}
