//! The client connection loop of `mode http`: read a request head, apply the rules, pick a
//! backend and a server connection (reused per `http-reuse`), forward the request and its
//! body, read the response, apply the response rules, forward it, then decide whether both
//! connections stay open. One [`Session`] owns the buffers of one client connection and reuses
//! them for every request on it.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use haproxyrs_config::ir::{self, BackendId, BackendTarget, HttpConnMode, HttpReuse};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Sleep;

use super::body::{BodyDecoder, BodyKind};
use super::encode::{self, CaseAdjust};
use super::engine::{ClientIo, Engine, Txn};
use super::errors::{ErrorPages, Shape};
use super::framing::{self, FramingError, RequestFraming};
use super::head::{self, Field, HeadError, Limits};
use super::log::{htx_head_size, htx_request_size, htx_size_of_wire, Capture, HttpLogRecord};
use super::message::Message;
use super::reuse::{IdlePool, ReuseStats};
use super::rules::{self, RuleCtx, Verdict};
use super::{balance_key, tunnel};
use crate::tcp::relay::RelayTimeouts;

/// Everything about one HTTP frontend that does not change per request, built once.
pub struct HttpProxy<C> {
    pub config: Arc<ir::Config>,
    pub frontend: usize,
    pub limits: Limits,
    pub fe_pages: ErrorPages,
    /// Per backend (indexed like `config.backends`).
    pub be_pages: Vec<ErrorPages>,
    pub pools: Vec<IdlePool<C>>,
    pub case_adjust: CaseAdjust,
    pub stats: ReuseStats,
}

impl<C> HttpProxy<C> {
    pub fn new(config: Arc<ir::Config>, frontend: usize) -> HttpProxy<C> {
        let g = &config.global;
        let pages = |rules: &ir::http::HttpProxyRules| {
            let o: Vec<(u16, Vec<u8>)> = rules
                .error_files
                .iter()
                .map(|(c, r)| (*c, r.0.clone()))
                .collect();
            ErrorPages::new(&o)
        };
        let fe = &config.frontends[frontend];
        HttpProxy {
            limits: Limits::new(g.bufsize, g.maxrewrite, g.max_http_headers),
            fe_pages: pages(&fe.http),
            be_pages: config.backends.iter().map(|b| pages(&b.http)).collect(),
            pools: config
                .backends
                .iter()
                .map(|b| IdlePool::new(b.servers.len()))
                .collect(),
            case_adjust: CaseAdjust {
                map: g
                    .h1_case_adjust
                    .iter()
                    .map(|(l, c)| (l.as_bytes().to_vec(), c.as_bytes().to_vec()))
                    .collect(),
            },
            stats: ReuseStats::default(),
            frontend,
            config,
        }
    }

    fn fe(&self) -> &ir::Frontend {
        &self.config.frontends[self.frontend]
    }
}

/// A server connection attached to a session between its requests.
struct Attached<C> {
    backend: BackendId,
    server: usize,
    conn: C,
    /// Has carried at least one request already.
    used: bool,
}

/// How a transaction ended, for the log and the connection decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Both sides may continue.
    KeepAlive,
    /// Close the client connection after what was sent.
    Close,
}

/// The session's two timers, one per side, re-armed for each wait. Pushing a deadline
/// later only updates the armed entry in place (tokio moves it in its timer wheel when the
/// old deadline comes), where a `tokio::time::timeout` per wait inserted and removed a
/// wheel entry every time: two of each per keep-alive request.
struct Timers {
    client: Pin<Box<Sleep>>,
    server: Pin<Box<Sleep>>,
    runtime: tokio::runtime::Id,
}

impl Timers {
    fn new() -> Timers {
        let idle = || Box::pin(tokio::time::sleep(Duration::from_secs(86_400)));
        Timers {
            client: idle(),
            server: idle(),
            runtime: tokio::runtime::Handle::current().id(),
        }
    }
}

/// Runs `fut` under an optional timeout measured by `timer` (`None` once it expired). The
/// timer is armed only if the future does not complete on its first poll: most writes and
/// the reads whose bytes are already there cost no clock read and no timer work.
async fn with_timeout<F: Future>(
    fut: F,
    mut timer: Pin<&mut Sleep>,
    timeout: Option<Duration>,
) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let first = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
    if let Poll::Ready(v) = first {
        return Some(v);
    }
    let Some(t) = timeout else {
        return Some(fut.await);
    };
    timer.as_mut().reset(tokio::time::Instant::now() + t);
    tokio::select! {
        biased;
        v = &mut fut => Some(v),
        () = &mut timer => None,
    }
}

/// Reads into `buf`'s spare capacity; `Ok(0)` is end of stream; `Err(None)` a timeout.
async fn read_some<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut Vec<u8>,
    timer: Pin<&mut Sleep>,
    timeout: Option<Duration>,
) -> Result<usize, Option<std::io::Error>> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(16384);
    }
    match with_timeout(s.read_buf(buf), timer, timeout).await {
        Some(r) => r.map_err(Some),
        None => Err(None),
    }
}

async fn write_all<S: AsyncWrite + Unpin>(
    s: &mut S,
    data: &[u8],
    timer: Pin<&mut Sleep>,
    timeout: Option<Duration>,
) -> std::io::Result<()> {
    with_timeout(s.write_all(data), timer, timeout)
        .await
        .unwrap_or_else(|| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "write timeout",
            ))
        })
}

/// One client connection.
pub struct Session<'p, C, E: Engine> {
    proxy: &'p HttpProxy<E::Conn>,
    eng: &'p E,
    client: C,
    src: SocketAddr,
    dst: SocketAddr,
    cin: Vec<u8>,
    sin: Vec<u8>,
    out: Vec<u8>,
    scratch: Vec<u8>,
    /// Copy of a request sent on a reused connection, for one retry.
    resend: Vec<u8>,
    fields: Vec<Field>,
    req: Message,
    resp: Message,
    attached: Option<Attached<E::Conn>>,
    requests: u64,
    cap_req: Vec<Capture>,
    cap_resp: Vec<Capture>,
    /// The request carried a valid persistence cookie for the server it went to.
    cookie_ok: bool,
    /// The request line for the log, in a reused buffer.
    logline: Vec<u8>,
    /// The reply in `out` is a raw parser-level error: sent exactly as built.
    raw_reply: bool,
    timers: Timers,
    /// When the connection was accepted (the first transaction's `%t`; `%Th` runs from
    /// it to `opened`: the PROXY header's wait).
    accepted: Instant,
    /// When the session started (a placeholder for a request's start until its first byte).
    opened: Instant,
    /// The current transaction's backend count (`%bc`), released before its log line.
    assigned: Option<E::Assigned>,
    /// The transaction's unique ID, when `unique-id-header` made it (reused buffer).
    uid: String,
}

/// Serve one accepted client connection until it closes.
pub async fn serve<C, E>(
    client: C,
    src: SocketAddr,
    dst: SocketAddr,
    accepted: Instant,
    proxy: &HttpProxy<E::Conn>,
    eng: &E,
) where
    C: ClientIo,
    E: Engine,
{
    let b = Buffers::take();
    let mut s = Session {
        proxy,
        eng,
        client,
        src,
        dst,
        cin: b.cin,
        sin: b.sin,
        out: b.out,
        scratch: b.scratch,
        resend: b.resend,
        fields: b.fields,
        req: b.req,
        resp: b.resp,
        attached: None,
        requests: 0,
        cap_req: vec![Capture::default(); proxy.fe().http.capture_request.len()],
        cap_resp: vec![Capture::default(); proxy.fe().http.capture_response.len()],
        cookie_ok: false,
        logline: b.logline,
        raw_reply: false,
        timers: b.timers,
        accepted,
        opened: Instant::now(),
        assigned: None,
        uid: String::new(),
    };
    while s.one_request().await == End::KeepAlive {}
    // The session's server connection outlives it in the shared idle list, offered there
    // before the client sees its connection close.
    if let Some(a) = s.attached.take() {
        let mode = proxy.config.backend(a.backend).http_reuse;
        proxy.pools[a.backend.0].put(a.server, a.conn, a.used, mode);
    }
    let _ = s.client.shutdown().await;
    Buffers {
        cin: s.cin,
        sin: s.sin,
        out: s.out,
        scratch: s.scratch,
        resend: s.resend,
        fields: s.fields,
        req: s.req,
        resp: s.resp,
        logline: s.logline,
        timers: s.timers,
    }
    .give_back();
}

/// The buffers of a session, recycled through a per-thread free list so that a new client
/// connection costs no allocation once the worker has warmed up.
struct Buffers {
    cin: Vec<u8>,
    sin: Vec<u8>,
    out: Vec<u8>,
    scratch: Vec<u8>,
    resend: Vec<u8>,
    fields: Vec<Field>,
    req: Message,
    resp: Message,
    logline: Vec<u8>,
    timers: Timers,
}

/// Buffers kept per worker thread; beyond this, returned buffers are freed.
const MAX_FREE_BUFFERS: usize = 64;
/// A buffer grown past this (a huge head or body chunk) is not kept.
const MAX_KEPT_CAPACITY: usize = 64 * 1024;

thread_local! {
    static FREE: std::cell::RefCell<Vec<Buffers>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Buffers {
    fn take() -> Buffers {
        let mut b = FREE
            .with(|f| f.borrow_mut().pop())
            .unwrap_or_else(|| Buffers {
                cin: Vec::with_capacity(16384),
                sin: Vec::with_capacity(16384),
                out: Vec::with_capacity(16384),
                scratch: Vec::new(),
                resend: Vec::new(),
                fields: Vec::with_capacity(32),
                req: Message::default(),
                resp: Message::default(),
                logline: Vec::new(),
                timers: Timers::new(),
            });
        // Timers belong to the runtime that made them; a thread may outlive one (tests).
        if b.timers.runtime != tokio::runtime::Handle::current().id() {
            b.timers = Timers::new();
        }
        b
    }

    fn give_back(mut self) {
        let too_big = [&self.cin, &self.sin, &self.out, &self.scratch, &self.resend]
            .iter()
            .any(|v| v.capacity() > MAX_KEPT_CAPACITY);
        if too_big {
            return;
        }
        self.cin.clear();
        self.sin.clear();
        self.out.clear();
        self.scratch.clear();
        self.resend.clear();
        self.fields.clear();
        self.logline.clear();
        FREE.with(|f| {
            let mut f = f.borrow_mut();
            if f.len() < MAX_FREE_BUFFERS {
                f.push(self);
            }
        });
    }
}

/// Facts gathered along one transaction, for the log line.
struct TxnLog {
    /// The transaction's start as 2.6 dates its stream (`%t`, `%Tt`): the connection's
    /// accept for the first one, the end of the previous transaction for the others.
    created: Instant,
    /// Where the idle wait for the request (`%Ti`) starts; `%Th` runs from `created` to it.
    idle_from: Instant,
    /// The request's first byte (`%tr`; `%TR` and `%Ta` run from it).
    date: SystemTime,
    start: Instant,
    t_request: i64,
    t_queue: i64,
    t_connect: i64,
    t_response: i64,
    status: u16,
    bytes_out: u64,
    /// The request's size as 2.6 counts it (`%U`, see `log::htx_head_size`).
    bytes_in: u64,
    /// Connection attempts retried, and whether the last was redispatched (`%rc`).
    retries: (u32, bool),
    /// Places in the server and backend queues (`%sq`/`%bq`).
    queues: [u32; 2],
    /// `%sc`: the server's other transactions, counted while this one still held its
    /// slot (2.6 counts a queued request that takes the freed slot only once connected).
    srv_conns: Option<u32>,
    term: [u8; 2],
    backend: Option<BackendId>,
    server: Option<usize>,
    /// The server connection's local address, if the engine tells it (`%bi`, `%bp`).
    backend_src: Option<std::net::SocketAddr>,
    /// From `created` to the response head (`%Td`), -1 without one.
    t_data: i64,
    /// The stream's number (`%rt`).
    stream_id: u64,
    /// `uid` holds this transaction's unique ID.
    uid: bool,
    bad: bool,
    /// Answered by the stats page (server `<STATS>` in the log).
    stats: bool,
}

impl TxnLog {
    /// The request begins (its first byte, or the timeout waiting for it): dated, and
    /// numbered as 2.6 numbers the stream its H1 layer creates then.
    fn begin(&mut self) {
        self.date = SystemTime::now();
        self.start = Instant::now();
        self.stream_id = crate::log::record::next_stream_id();
    }
}

impl<C, E> Session<'_, C, E>
where
    C: ClientIo,
    E: Engine,
{
    fn fe(&self) -> &ir::Frontend {
        self.proxy.fe()
    }

    /// Send a complete local response and decide what happens to the connection.
    async fn reply(&mut self, bytes_from_out: bool, close: bool, log: &mut TxnLog) -> End {
        let t = self.fe().timeouts.client;
        // `%B` counts the reply as 2.6 does: in its internal form, without the
        // `connection` header; a parser-level error (sent by 2.6's H1 layer) counts 0.
        let counted = if self.raw_reply {
            0
        } else {
            htx_size_of_wire(&self.out)
        };
        // Raw (parser-level) errors go out exactly as 2.6's H1 layer sends them.
        if close && !self.raw_reply {
            mark_close(&mut self.out);
        }
        self.raw_reply = false;
        if close {
            self.client.closing();
        }
        let r = if bytes_from_out {
            write_all(&mut self.client, &self.out, self.timers.client.as_mut(), t).await
        } else {
            Ok(())
        };
        log.bytes_out += counted;
        self.out.clear();
        if r.is_err() || close {
            End::Close
        } else {
            End::KeepAlive
        }
    }

    async fn error(&mut self, status: u16, shape: Shape, log: &mut TxnLog, close: bool) -> End {
        self.out.clear();
        self.raw_reply = shape == Shape::Raw;
        let pages = match log.backend {
            Some(b) => &self.proxy.be_pages[b.0],
            None => &self.proxy.fe_pages,
        };
        self.out.extend_from_slice(pages.get(status, shape));
        log.status = status;
        self.reply(true, close || status == 400 || status == 408, log)
            .await
    }

    /// Answer a request for the stats page (2.6 logs it with server `<STATS>`).
    async fn stats_page(
        &mut self,
        page: &ir::StatsPage,
        r: crate::stats::Request,
        log: &mut TxnLog,
        close: bool,
    ) -> End {
        self.out.clear();
        log.stats = true;
        log.term = *b"LR";
        if crate::stats::authorized(page, &self.req) {
            let snap = self.eng.stats_snapshot();
            let head_only = self.req.method() == b"HEAD";
            crate::stats::page(page, r, snap, head_only, &mut self.out);
            log.status = 200;
        } else {
            crate::stats::unauthorized(page, &mut self.out);
            log.status = 401;
        }
        self.reply(true, close, log).await
    }

    /// Wait for and parse the next request head. `None`: the connection ends (logged or not).
    async fn read_head(&mut self, log: &mut TxnLog) -> Option<Result<head::RequestHead, u16>> {
        let timeouts = &self.fe().timeouts;
        let http_req = timeouts.http_request.or(timeouts.client);
        let keep_alive = timeouts
            .http_keep_alive
            .or(timeouts.http_request)
            .or(timeouts.client);
        let mut deadline: Option<Instant> = None;
        if !self.cin.is_empty() {
            log.begin();
        }
        loop {
            if !self.cin.is_empty() {
                match head::parse_request(&mut self.cin, &self.proxy.limits, &mut self.fields) {
                    Ok(Some(h)) => return Some(Ok(h)),
                    Ok(None) => {}
                    Err(e) => {
                        log::debug!("bad request head: {e}");
                        return Some(Err(400));
                    }
                }
                if deadline.is_none() {
                    deadline = http_req.map(|t| log.start + t);
                }
            }
            // Idle between requests: `timeout http-keep-alive`; within a head: `http-request`.
            let wait = if self.cin.is_empty() && self.requests > 0 {
                keep_alive
            } else if self.cin.is_empty() {
                http_req
            } else {
                deadline.map(|d| d.saturating_duration_since(Instant::now()))
            };
            let idle = self.cin.is_empty();
            match self.read_client(wait).await {
                Ok(0) | Err(Some(_)) => return None,
                Ok(_) => {
                    // The request starts with its first byte (`%tr`, `%TR`, `%Ta`), not
                    // with the idle time before it, as 2.6 logs keep-alive requests.
                    if idle {
                        log.begin();
                    }
                }
                Err(None) => {
                    // 2.6 answers 408 on a first request even when nothing arrived; an idle
                    // keep-alive connection is closed silently.
                    if self.cin.is_empty() && self.requests > 0 {
                        return None;
                    }
                    if idle {
                        log.begin();
                    }
                    return Some(Err(408));
                }
            }
        }
    }

    /// Handle one request; returns whether the client connection continues.
    async fn one_request(&mut self) -> End {
        let (created, idle_from) = if self.requests == 0 {
            (self.accepted, self.opened)
        } else {
            let now = Instant::now();
            (now, now)
        };
        let mut log = TxnLog {
            created,
            idle_from,
            // Set when the request's first byte is there (see `read_head`).
            date: SystemTime::UNIX_EPOCH,
            start: self.opened,
            t_request: -1,
            t_queue: -1,
            t_connect: -1,
            t_response: -1,
            status: 0,
            bytes_out: 0,
            bytes_in: 0,
            retries: (0, false),
            queues: [0; 2],
            srv_conns: None,
            term: *b"--",
            backend: None,
            server: None,
            backend_src: None,
            t_data: -1,
            stream_id: 0,
            uid: false,
            bad: false,
            stats: false,
        };
        let head = match self.read_head(&mut log).await {
            None => return End::Close,
            Some(Ok(h)) => h,
            Some(Err(status)) => {
                log.bad = true;
                log.term = if status == 408 { *b"cR" } else { *b"PR" };
                let end = self.error(status, Shape::Raw, &mut log, true).await;
                self.emit_log(&log);
                return end;
            }
        };
        log.t_request = log.start.elapsed().as_millis() as i64;
        self.requests += 1;
        self.req.load_request(&self.cin, &head, &self.fields);
        self.cin.drain(..head.len);
        for c in &mut self.cap_resp {
            c.present = false;
            c.value.clear();
        }
        let caps = &self.proxy.fe().http.capture_request;
        for (c, spec) in self.cap_req.iter_mut().zip(caps) {
            c.take(&self.req, &spec.name, spec.len);
        }
        let framing = match framing::analyze_request(&mut self.req) {
            Ok(f) => f,
            Err(e) => {
                log.bad = true;
                log.term = *b"PR";
                let status = if e == FramingError::Unprocessable {
                    422
                } else {
                    400
                };
                let end = self.error(status, Shape::Raw, &mut log, true).await;
                self.emit_log(&log);
                return end;
            }
        };
        // `%U`: the request as 2.6's parser stores it (default ports dropped from the
        // authority and Host, as `analyze_request` just did), before any rule or
        // `forwardfor` changes it; 0 for a request refused here.
        log.bytes_in = htx_request_size(&self.req);
        let end = self.process(framing, &mut log).await;
        self.emit_log(&log);
        end
    }

    /// Rules, routing, forwarding.
    async fn process(&mut self, framing: RequestFraming, log: &mut TxnLog) -> End {
        let cfg = Arc::clone(&self.proxy.config);
        let fe = &cfg.frontends[self.proxy.frontend];
        let body_pending = !matches!(framing.body, Some(BodyKind::Empty) | None);
        // `option http-buffer-request`: wait for the whole body (or a full buffer) before the
        // rules run, answering `Expect: 100-continue` ourselves as 2.6 does.
        if body_pending && fe.options.http_buffer_request {
            if let Err(status) = self.buffer_body(&framing, log).await {
                if status == 0 {
                    return End::Close;
                }
                log.term = if status == 408 { *b"cD" } else { *b"PR" };
                return self.error(status, Shape::Raw, log, true).await;
            }
        }
        // 1. Frontend http-request rules, then `redirect` lines.
        let mut ctx = RuleCtx {
            eng: self.eng,
            src: self.src,
            dst: self.dst,
            backend: None,
            pages: &self.proxy.fe_pages,
            proxy_name: &fe.name,
            config: &cfg,
            frontend: self.proxy.frontend,
            acls: &fe.acls,
        };
        let mut verdict = rules::apply_request(
            &fe.http.request,
            &mut self.req,
            &ctx,
            &mut self.scratch,
            &mut self.out,
        );
        if verdict != Verdict::Allow && !matches!(verdict, Verdict::Replied(_)) {
            verdict = rules::apply_redirects(
                &fe.http.redirects,
                &self.req,
                &ctx,
                &mut self.scratch,
                &mut self.out,
            );
        }
        if let Verdict::Replied(status) = verdict {
            log.status = status;
            log.term = *b"PR";
            if status < 400 || status == 401 {
                log.term = *b"LR";
            }
            let close = framing.client_close || body_pending;
            return self.reply(true, close, log).await;
        }
        // The stats page, when this frontend serves it (a `listen` too) and it is asked for.
        if let Some((page, r)) = stats_request(fe.stats.as_ref(), &self.req) {
            return self
                .stats_page(page, r, log, framing.client_close || body_pending)
                .await;
        }
        // 2. Backend selection: `use_backend` rules in order, then `default_backend`.
        let mut chosen = None;
        for rule in &fe.switching {
            let txn = Txn {
                req: &self.req,
                resp: None,
                src: self.src,
                dst: self.dst,
                backend: None,
                config: &cfg,
                frontend: self.proxy.frontend,
                acls: &fe.acls,
                servers: self.eng.servers(),
            };
            if rule.cond.as_ref().is_none_or(|c| self.eng.cond(c, &txn)) {
                chosen = match &rule.backend {
                    BackendTarget::Fixed(id) => Some(*id),
                    BackendTarget::Dynamic(f) => {
                        self.scratch.clear();
                        self.eng.format(f, &txn, &mut self.scratch);
                        std::str::from_utf8(&self.scratch)
                            .ok()
                            .and_then(|n| cfg.backend_by_name(n))
                            .or(fe.default_backend)
                    }
                };
                break;
            }
        }
        let Some(be_id) = chosen.or(fe.default_backend) else {
            log.term = *b"SC";
            return self
                .error(
                    503,
                    Shape::Analyser,
                    log,
                    framing.client_close || body_pending,
                )
                .await;
        };
        log.backend = Some(be_id);
        self.assigned = Some(self.eng.assign(be_id));
        let be = cfg.backend(be_id);
        // 3. The backend's stats page, http-request rules and redirects (a `listen` has
        // them once, as frontend).
        if be.name != fe.name {
            if let Some((page, r)) = stats_request(be.stats.as_ref(), &self.req) {
                return self
                    .stats_page(page, r, log, framing.client_close || body_pending)
                    .await;
            }
            ctx.backend = Some(be_id);
            ctx.pages = &self.proxy.be_pages[be_id.0];
            ctx.acls = &be.acls;
            ctx.proxy_name = &be.name;
            let mut v = rules::apply_request(
                &be.http.request,
                &mut self.req,
                &ctx,
                &mut self.scratch,
                &mut self.out,
            );
            if v == Verdict::Continue {
                v = rules::apply_redirects(
                    &be.http.redirects,
                    &self.req,
                    &ctx,
                    &mut self.scratch,
                    &mut self.out,
                );
            }
            if let Verdict::Replied(status) = v {
                log.status = status;
                log.term = if status < 400 { *b"LR" } else { *b"PR" };
                return self
                    .reply(true, framing.client_close || body_pending, log)
                    .await;
            }
        }
        // 4. Connection headers toward the server, forwardfor, persistence.
        let mode = effective_mode(fe, be);
        encode::strip_connection_tokens(&mut self.req);
        let req_version = self.req.version;
        if mode != HttpConnMode::KeepAlive {
            // HTTP/1.0 implies close: 2.6 adds nothing then.
            if req_version != Some(head::Version::Http10) {
                self.req.add(b"connection", b"close");
            }
        } else if req_version == Some(head::Version::Http10) && !framing.insecure_te {
            self.req.add(b"connection", b"keep-alive");
        }
        if let Some(ff) = be
            .options
            .forwardfor
            .as_ref()
            .or(fe.options.forwardfor.as_ref())
        {
            let ip = self.src.ip();
            let excepted = ff.except.is_some_and(|n| net_contains(&n, ip));
            let present = ff.if_none && self.req.find(ff.header.as_bytes()).next().is_some();
            if !excepted && !present {
                let mut buf = [0u8; 48];
                let n = {
                    let mut w = &mut buf[..];
                    let _ = std::io::Write::write_fmt(&mut w, format_args!("{ip}"));
                    48 - w.len()
                };
                self.req.add(ff.header.as_bytes(), &buf[..n]);
            }
        }
        if let Some(name) = &fe.unique_id_header {
            // 2.6 makes the ID as the request goes to the backend; the log shows that one.
            let mut uid = std::mem::take(&mut self.uid);
            uid.clear();
            self.logline.clear();
            request_line(&self.req, &mut self.logline);
            log.uid = self.eng.unique_id(&self.log_record(log), &mut uid);
            if log.uid {
                self.req.add(name.as_bytes(), uid.as_bytes());
            }
            self.uid = uid;
        }
        let persist = be
            .cookie
            .as_ref()
            .and_then(|c| balance_key::persisted_server(c, &be.servers, &self.req));
        if let Some(c) = &be.cookie {
            balance_key::strip_request_cookie(c, &mut self.req);
        }
        // 5. The request as it will be sent: canonical head and the body bytes already here.
        // A body error found now is answered before any server is contacted, as 2.6 does.
        let case = be
            .options
            .h1_case_adjust_bogus_server
            .then_some(&self.proxy.case_adjust);
        self.out.clear();
        encode::request(&self.req, case, &mut self.out);
        let mut req_body = BodyDecoder::new(framing.body.unwrap_or(BodyKind::Empty));
        match req_body.decode(&self.cin, &mut self.out) {
            Ok(n) => {
                self.cin.drain(..n);
            }
            Err(_) => {
                log.term = *b"PR";
                return self.error(400, Shape::Raw, log, true).await;
            }
        }
        // 6. Server choice and connection: an attached or idle connection to the chosen
        // server when `http-reuse` allows, else a new one.
        let mut key_buf = std::mem::take(&mut self.scratch);
        key_buf.clear();
        let has_key = match balance_key::hash_key(&be.balance, &self.req) {
            Some(k) => {
                key_buf.extend_from_slice(k);
                true
            }
            None => false,
        };
        let key = has_key.then_some(key_buf.as_slice());
        let picked = self.eng.pick(be_id, key, persist);
        let first_request = self.requests == 1;
        let pooled = picked.and_then(|s| {
            self.take_conn(be_id, s, be.http_reuse, first_request)
                .map(|(c, r)| (c, s, r))
        });
        // `%Tw`/`%Tc`: 0 for a connection taken from the pool (no clock read), -1 if none
        // came.
        let got = match pooled {
            Some(p) => {
                log.t_queue = 0;
                log.t_connect = 0;
                Ok(p)
            }
            None => {
                let t_conn = Instant::now();
                match self.eng.connect(be_id, picked, key, persist).await {
                    Ok(c) => {
                        let total = t_conn.elapsed();
                        log.t_queue = c.queued.as_millis() as i64;
                        log.t_connect = total.saturating_sub(c.queued).as_millis() as i64;
                        log.retries = (c.retries, c.redispatched);
                        log.queues = c.queue;
                        Ok((c.conn, c.server, false))
                    }
                    Err(e) => {
                        log.retries = (e.retries, e.redispatched);
                        log.queues = e.queue;
                        log.server = e.server;
                        if let Some(queued) = e.queued {
                            log.t_queue = queued.as_millis() as i64;
                        }
                        Err(e)
                    }
                }
            }
        };
        self.scratch = key_buf;
        let (mut conn, server, reused) = match got {
            Ok(g) => g,
            Err(e) => {
                log::debug!("backend {}: no connection: {}", be.name, e.error);
                log.term = if e.queue_timeout { *b"sQ" } else { *b"SC" };
                return self
                    .error(
                        503,
                        Shape::Analyser,
                        log,
                        framing.client_close || body_pending,
                    )
                    .await;
            }
        };
        log.server = Some(server);
        log.backend_src = self.eng.backend_src(&conn);
        self.cookie_ok = persist == Some(server);
        self.proxy.stats.record(reused);
        // 7. Exchange. A reused connection may have been closed by the server while idle:
        // when it fails before any response byte and the request went out whole, the request
        // is sent again once on a new connection.
        let retryable = reused && req_body.is_done();
        if retryable {
            self.resend.clear();
            self.resend.extend_from_slice(&self.out);
        }
        let mut outcome = self
            .exchange(&mut conn, framing, req_body, be_id, server, log)
            .await;
        if retryable
            && matches!(outcome, Exchange::Failed(502 | 503, t) if t == *b"SH" || t == *b"SC")
            && log.bytes_out == 0
        {
            if let Ok(c) = self.eng.connect(be_id, Some(server), None, None).await {
                conn = c.conn;
                std::mem::swap(&mut self.out, &mut self.resend);
                let done = BodyDecoder::new(BodyKind::Empty);
                outcome = self
                    .exchange(&mut conn, framing, done, be_id, server, log)
                    .await;
            }
        }
        log.srv_conns = Some(self.eng.server_conns(be_id, server).saturating_sub(1));
        match outcome {
            Exchange::Done {
                server_reusable,
                client_close,
            } => {
                if server_reusable && mode == HttpConnMode::KeepAlive {
                    self.release(be_id, server, conn, be.http_reuse);
                }
                if client_close || mode == HttpConnMode::Close {
                    End::Close
                } else {
                    End::KeepAlive
                }
            }
            Exchange::Tunnel(kind) => {
                let t = RelayTimeouts::of(fe, be);
                let (client, cin, sin) = (&mut self.client, &self.cin, &self.sin);
                let (end, (up, down)) = tunnel::run(client, &mut conn, cin, sin, &t, kind).await;
                self.cin.clear();
                self.sin.clear();
                // The transaction's counters and flags cover the tunnel, as 2.6 logs it.
                log.bytes_in += up;
                log.bytes_out += down;
                log.term = end.term();
                log.srv_conns = Some(self.eng.server_conns(be_id, server).saturating_sub(1));
                End::Close
            }
            Exchange::Failed(status, term) => {
                log.term = term;
                if status == 0 {
                    return End::Close;
                }
                // A client-side error closes; a server-side one (502, 504, a response
                // denied) keeps the client connection as 2.6 does, unless a request body
                // may be left half-read.
                let client_side = term == *b"CD";
                let shape = if client_side {
                    Shape::Raw
                } else {
                    Shape::Analyser
                };
                let close = client_side || framing.client_close || body_pending;
                self.error(status, shape, log, close).await
            }
        }
    }

    /// Read until the request body is complete or fills the buffer. `Err(status)`: answer
    /// with it (0: the client went away).
    async fn buffer_body(&mut self, framing: &RequestFraming, log: &mut TxnLog) -> Result<(), u16> {
        if framing.expect_continue {
            self.req.remove_all(b"expect");
            let t = self.fe().timeouts.client;
            if write_all(
                &mut self.client,
                b"HTTP/1.1 100 Continue\r\n\r\n",
                self.timers.client.as_mut(),
                t,
            )
            .await
            .is_err()
            {
                return Err(0);
            }
            log.bytes_out += 25;
        }
        let timeouts = &self.fe().timeouts;
        let limit = timeouts.http_request.or(timeouts.client);
        let deadline = limit.map(|t| Instant::now() + t);
        let kind = framing.body.unwrap_or(BodyKind::Empty);
        loop {
            let mut probe = BodyDecoder::new(kind);
            self.scratch.clear();
            if probe.decode(&self.cin, &mut self.scratch).is_err() {
                return Err(400);
            }
            if probe.is_done() || self.cin.len() >= self.proxy.limits.max_cost {
                return Ok(());
            }
            let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match self.read_client(wait).await {
                Ok(0) | Err(Some(_)) => return Err(0),
                Ok(_) => {}
                Err(None) => return Err(408),
            }
        }
    }

    fn take_conn(
        &mut self,
        be: BackendId,
        server: usize,
        mode: HttpReuse,
        first_request: bool,
    ) -> Option<(E::Conn, bool)> {
        let conn = match self.attached.take() {
            Some(a) if a.backend == be && a.server == server => Some((a.conn, a.used)),
            other => {
                if let Some(a) = other {
                    // Another server this time: the attached connection joins the pool.
                    self.proxy.pools[a.backend.0].put(a.server, a.conn, a.used, mode);
                }
                self.proxy.pools[be.0].take(server, mode, first_request)
            }
        };
        let (mut conn, used) = conn?;
        if self.eng.unpark(be, &mut conn) {
            return Some((conn, true));
        }
        // The server is full now: the request waits in its queue (a new connection).
        self.proxy.pools[be.0].put(server, conn, used, mode);
        None
    }

    fn release(&mut self, be: BackendId, server: usize, mut conn: E::Conn, mode: HttpReuse) {
        self.eng.park(&mut conn);
        if let Some(a) = self.attached.take() {
            self.proxy.pools[a.backend.0].put(a.server, a.conn, a.used, mode);
        }
        self.attached = Some(Attached {
            backend: be,
            server,
            conn,
            used: true,
        });
    }

    /// Forward the request and its body, read the response and forward it.
    async fn exchange(
        &mut self,
        conn: &mut E::Conn,
        framing: RequestFraming,
        mut req_body: BodyDecoder,
        be_id: BackendId,
        server: usize,
        log: &mut TxnLog,
    ) -> Exchange {
        let cfg = Arc::clone(&self.proxy.config);
        let fe = &cfg.frontends[self.proxy.frontend];
        let be = cfg.backend(be_id);
        let t_client = fe.timeouts.client;
        let t_server = be.timeouts.server;
        if write_all(conn, &self.out, self.timers.server.as_mut(), t_server)
            .await
            .is_err()
        {
            return Exchange::Failed(503, *b"SC");
        }
        self.out.clear();
        let sent_at = Instant::now();
        // Response head, while the rest of the request body flows.
        self.sin.clear();
        let resp_head = loop {
            match head::parse_response(&mut self.sin, &self.proxy.limits, &mut self.fields) {
                Ok(Some(h)) => {
                    if (100..200).contains(&h.status) && h.status != 101 {
                        // Interim response (100-continue): forward it as is, canonically.
                        self.resp.load_response(&self.sin, &h, &self.fields);
                        self.sin.drain(..h.len);
                        self.out.clear();
                        encode::response(&self.resp, None, &mut self.out);
                        if let Err(e) = self.flush_out(t_client).await {
                            return e;
                        }
                        continue;
                    }
                    break h;
                }
                Ok(None) => {}
                Err(_) => return Exchange::Failed(502, *b"PH"),
            }
            let wait = t_server.map(|t| t.saturating_sub(sent_at.elapsed()));
            tokio::select! {
                r = read_some(&mut self.client, &mut self.cin, self.timers.client.as_mut(), t_client), if !req_body.is_done() => {
                    match r {
                        Ok(0) | Err(_) => return Exchange::Failed(0, *b"CD"),
                        Ok(_) => {
                            if let Err(e) = self.forward_req_body(&mut req_body, conn, t_server).await {
                                return e;
                            }
                        }
                    }
                }
                r = read_some(conn, &mut self.sin, self.timers.server.as_mut(), wait) => {
                    match r {
                        Ok(0) | Err(Some(_)) => return Exchange::Failed(502, *b"SH"),
                        Err(None) => return Exchange::Failed(504, *b"sH"),
                        Ok(_) => {}
                    }
                }
            }
        };
        let now = Instant::now();
        log.t_response = now.saturating_duration_since(sent_at).as_millis() as i64;
        log.t_data = now.saturating_duration_since(log.created).as_millis() as i64;
        self.resp.load_response(&self.sin, &resp_head, &self.fields);
        self.sin.drain(..resp_head.len);
        let caps = &fe.http.capture_response;
        for (c, spec) in self.cap_resp.iter_mut().zip(caps) {
            c.take(&self.resp, &spec.name, spec.len);
        }
        let rf =
            match framing::analyze_response(&mut self.resp, framing.head_method, framing.connect) {
                Ok(r) => r,
                Err(_) => return Exchange::Failed(502, *b"PH"),
            };
        // 2.6 cleans `Connection` as it parses, and `%B` counts the head as it was received:
        // what the response rules and the persistence cookie add afterwards is not counted.
        encode::strip_connection_tokens(&mut self.resp);
        let head_size = htx_head_size(&self.resp);
        // Response rules: backend first, then frontend.
        let mut ctx = RuleCtx {
            eng: self.eng,
            src: self.src,
            dst: self.dst,
            backend: Some(be_id),
            pages: &self.proxy.be_pages[be_id.0],
            proxy_name: &be.name,
            config: &cfg,
            frontend: self.proxy.frontend,
            acls: &be.acls,
        };
        let mut v = rules::apply_response(
            &be.http.response,
            &self.req,
            &mut self.resp,
            &ctx,
            &mut self.scratch,
        );
        if v == Verdict::Continue && be.name != fe.name {
            ctx.acls = &fe.acls;
            ctx.proxy_name = &fe.name;
            v = rules::apply_response(
                &fe.http.response,
                &self.req,
                &mut self.resp,
                &ctx,
                &mut self.scratch,
            );
        }
        if let Verdict::Replied(status) = v {
            return Exchange::Failed(status, *b"PH");
        }
        if let Some(c) = &be.cookie {
            let had = self.cookie_ok;
            balance_key::apply_response_cookie(c, &be.servers[server], had, &mut self.resp);
        }
        log.status = self.resp.status;
        let tunnel = (self.resp.status == 101 && framing.upgrade)
            || (framing.connect && (200..300).contains(&self.resp.status));
        let client_close = framing.client_close
            || framing.insecure_te
            || rf.insecure_te
            || effective_mode(fe, be) == HttpConnMode::Close
            || (rf.body == BodyKind::UntilClose && !tunnel);
        if tunnel {
            // keep `connection: upgrade` as the server sent it
        } else if client_close {
            self.resp.add(b"connection", b"close");
        } else if (self.req.version == Some(head::Version::Http10) && framing.client_keep_alive)
            || self.resp.version == Some(head::Version::Http10)
        {
            // An HTTP/1.0 message keeps the connection only when it says so.

            self.resp.add(b"connection", b"keep-alive");
        }
        let case = fe
            .options
            .h1_case_adjust_bogus_client
            .then_some(&self.proxy.case_adjust);
        self.out.clear();
        encode::response(&self.resp, case, &mut self.out);
        if tunnel {
            if let Err(e) = self.flush_out(t_client).await {
                return e;
            }
            log.bytes_out += head_size;
            return Exchange::Tunnel(if self.resp.status == 101 {
                tunnel::Kind::Upgrade
            } else {
                tunnel::Kind::Connect
            });
        }
        let mut resp_body = BodyDecoder::new(rf.body);
        let mut counted = 0;
        loop {
            match resp_body.decode(&self.sin, &mut self.out) {
                Ok(n) => {
                    self.sin.drain(..n);
                }
                Err(_) => return Exchange::Failed(0, *b"SD"),
            }
            if !self.out.is_empty() {
                if client_close && resp_body.is_done() && req_body.is_done() {
                    // The last write of a closing connection: let the FIN go with it.
                    self.client.closing();
                }
                if let Err(e) = self.flush_out(t_client).await {
                    return e;
                }
                let sent = head_size + resp_body.htx_size();
                log.bytes_out += sent - counted;
                counted = sent;
            }
            if resp_body.is_done() && req_body.is_done() {
                break;
            }
            tokio::select! {
                r = read_some(&mut self.client, &mut self.cin, self.timers.client.as_mut(), t_client), if !req_body.is_done() => {
                    match r {
                        Ok(0) | Err(_) => return Exchange::Failed(0, *b"CD"),
                        Ok(_) => {
                            if let Err(e) = self.forward_req_body(&mut req_body, conn, t_server).await {
                                return e;
                            }
                        }
                    }
                }
                r = read_some(conn, &mut self.sin, self.timers.server.as_mut(), t_server), if !resp_body.is_done() => {
                    match r {
                        Ok(0) if resp_body.until_close() => resp_body.finish_on_close(),
                        Ok(0) | Err(Some(_)) => return Exchange::Failed(0, *b"SD"),
                        Err(None) => return Exchange::Failed(0, *b"sD"),
                        Ok(_) => {}
                    }
                }
            }
        }
        log.bytes_in += req_body.htx_size();
        Exchange::Done {
            server_reusable: !rf.server_close && self.sin.is_empty(),
            client_close,
        }
    }

    /// Reads more of the client's bytes into `cin` (see [`read_some`]).
    async fn read_client(
        &mut self,
        wait: Option<Duration>,
    ) -> Result<usize, Option<std::io::Error>> {
        read_some(
            &mut self.client,
            &mut self.cin,
            self.timers.client.as_mut(),
            wait,
        )
        .await
    }

    /// Writes `out` to the client and empties it; `Err`: the client is gone.
    async fn flush_out(&mut self, t: Option<Duration>) -> Result<(), Exchange> {
        let r = write_all(&mut self.client, &self.out, self.timers.client.as_mut(), t).await;
        self.out.clear();
        r.map_err(|_| Exchange::Failed(0, *b"CD"))
    }

    async fn forward_req_body(
        &mut self,
        dec: &mut BodyDecoder,
        conn: &mut E::Conn,
        t: Option<Duration>,
    ) -> Result<(), Exchange> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        let r = dec.decode(&self.cin, &mut out);
        let res = match r {
            Ok(n) => {
                self.cin.drain(..n);
                if write_all(conn, &out, self.timers.server.as_mut(), t)
                    .await
                    .is_err()
                {
                    Err(Exchange::Failed(0, *b"SD"))
                } else {
                    Ok(())
                }
            }
            Err(_) => Err(Exchange::Failed(400, *b"CD")),
        };
        self.scratch = out;
        res
    }

    fn emit_log(&mut self, log: &TxnLog) {
        // 2.6 takes the transaction off its backend before logging: `%bc` counts the others.
        self.assigned = None;
        if !self.eng.log_enabled(self.fe()) {
            return;
        }
        self.logline.clear();
        if !log.bad {
            request_line(&self.req, &mut self.logline);
        }
        let rec = self.log_record(log);
        self.eng.log(&rec);
    }

    /// The transaction's log record as it stands (`logline` holds the request line).
    fn log_record(&self, log: &TxnLog) -> HttpLogRecord<'_> {
        let cfg = &self.proxy.config;
        let fe = self.fe();
        let backend = log
            .backend
            .map_or(fe.name.as_str(), |b| cfg.backend(b).name.as_str());
        let server = match (log.backend, log.server) {
            _ if log.stats => "<STATS>",
            (Some(b), Some(s)) => cfg.backend(b).servers[s].name.as_str(),
            _ => "<NOSRV>",
        };
        // Without a slot held (a queue timeout, a failed connect), the server's count now.
        let srv_conns = match (log.srv_conns, log.backend, log.server) {
            (Some(n), _, _) => n,
            (None, Some(b), Some(s)) => self.eng.server_conns(b, s),
            _ => 0,
        };
        let ms = |d: Duration| d.as_millis().min(i64::MAX as u128) as i64;
        let now = Instant::now();
        let since_created = log.start.saturating_duration_since(log.created);
        HttpLogRecord {
            client: self.src,
            dst: self.dst,
            accept_date: log.date.checked_sub(since_created).unwrap_or(log.date),
            request_date: log.date,
            backend_id: log.backend,
            frontend: &fe.name,
            backend,
            server,
            server_id: log.server.filter(|_| log.backend.is_some()),
            backend_src: log.backend_src,
            stream_id: log.stream_id,
            t_handshake: ms(log.idle_from.saturating_duration_since(log.created)),
            t_idle: ms(log.start.saturating_duration_since(log.idle_from)),
            t_request: log.t_request,
            t_queue: log.t_queue,
            t_connect: log.t_connect,
            t_response: log.t_response,
            t_active: ms(now.saturating_duration_since(log.start)),
            t_total: ms(now.saturating_duration_since(log.created)),
            t_data: log.t_data,
            status: log.status,
            bytes_out: log.bytes_out,
            bytes_in: log.bytes_in,
            term: log.term,
            conns: [0, 0, 0, srv_conns, log.retries.0],
            redispatched: log.retries.1,
            queues: log.queues,
            captured_req: if log.bad { &[] } else { &self.cap_req },
            captured_resp: if log.bad { &[] } else { &self.cap_resp },
            request_line: (!log.bad).then_some(self.logline.as_slice()),
            vars: if log.bad { &[] } else { &self.req.vars },
            unique_id: log.uid.then_some(self.uid.as_str()),
        }
    }
}

/// The proxy's stats page and how the request asks for it, if it does.
fn stats_request<'p>(
    page: Option<&'p ir::StatsPage>,
    req: &Message,
) -> Option<(&'p ir::StatsPage, crate::stats::Request)> {
    let page = page?;
    crate::stats::matches(page, req).map(|r| (page, r))
}

fn request_line(m: &Message, v: &mut Vec<u8>) {
    v.extend_from_slice(m.method());
    v.push(b' ');
    v.extend_from_slice(m.uri());
    v.push(b' ');
    v.extend_from_slice(
        m.version
            .unwrap_or(head::Version::Http11)
            .as_str()
            .as_bytes(),
    );
}

/// A local response that ends the connection says so (`connection: close` before the end
/// of its head), as 2.6 does, unless it already does.
fn mark_close(out: &mut Vec<u8>) {
    let Some(end) = memchr::memmem::find(out, b"\r\n\r\n") else {
        return;
    };
    let head = &out[..end];
    let has = head
        .split(|&b| b == b'\n')
        .any(|l| l.len() > 11 && l[..11].eq_ignore_ascii_case(b"connection:"));
    if !has {
        out.splice(end + 2..end + 2, b"connection: close\r\n".iter().copied());
    }
}

/// Whether `ip` is inside `net` (`option forwardfor except NET`).
fn net_contains(net: &ir::sample::IpNet, ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr::*;
    match (net.addr, ip) {
        (V4(n), V4(a)) => {
            let p = u32::from(net.prefix.min(32));
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (V6(n), V6(a)) => {
            let p = u32::from(net.prefix.min(128));
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// The connection mode in force: the stricter of the frontend's and the backend's.
fn effective_mode(fe: &ir::Frontend, be: &ir::Backend) -> HttpConnMode {
    use HttpConnMode::*;
    match (fe.options.http_conn_mode, be.options.http_conn_mode) {
        (Close, _) | (_, Close) => Close,
        (ServerClose, _) | (_, ServerClose) => ServerClose,
        _ => KeepAlive,
    }
}

/// How forwarding one transaction ended.
enum Exchange {
    Done {
        server_reusable: bool,
        client_close: bool,
    },
    /// 101 / CONNECT 2xx: switch both sides to a byte tunnel.
    Tunnel(tunnel::Kind),
    /// An error: the status to answer (0: nothing more can be sent) and the termination state.
    Failed(u16, [u8; 2]),
}

impl From<HeadError> for FramingError {
    fn from(_: HeadError) -> Self {
        FramingError::Invalid
    }
}
