//! Small backends on ephemeral 127.0.0.1 ports, one thread per connection, that RECORD the raw
//! bytes each connection received: an HTTP/1.1 server with configurable responses, a TCP
//! echo/record server, and a sink/source for large transfers. Dropping one stops it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::http1::{self, Message, Parsed};

/// How an HTTP backend frames its response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    ContentLength,
    /// Chunks of this many bytes.
    Chunked(usize),
    /// No length: the body ends when the backend closes the connection.
    Close,
}

/// One HTTP response as the backend will send it.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: BodyFraming,
    /// Wait this long before sending the head (a slow server).
    pub delay: Duration,
    /// Exact bytes to send instead of a built response (a misbehaving server).
    pub raw: Option<Vec<u8>>,
    /// Close the connection after this response.
    pub close: bool,
    /// Send the bytes after the head in pieces of this size, pausing `delay` between them
    /// (a server that trickles its body). `None`: all at once.
    pub trickle: Option<usize>,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            reason: reason(status).to_string(),
            headers: Vec::new(),
            body: body.into(),
            framing: BodyFraming::ContentLength,
            delay: Duration::ZERO,
            raw: None,
            close: false,
            trickle: None,
        }
    }

    /// Send the body in pieces of `piece` bytes with `pause` between them.
    pub fn trickle(mut self, piece: usize, pause: Duration) -> Reply {
        self.trickle = Some(piece.max(1));
        self.delay = pause;
        self
    }

    pub fn header(mut self, n: &str, v: &str) -> Reply {
        self.headers.push((n.to_string(), v.to_string()));
        self
    }

    pub fn framing(mut self, f: BodyFraming) -> Reply {
        self.framing = f;
        if f == BodyFraming::Close {
            self.close = true;
        }
        self
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    pub fn close(mut self) -> Reply {
        self.close = true;
        self
    }

    /// Send exactly these bytes (then close when `close` is set).
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Reply {
        let mut r = Reply::new(200, Vec::new());
        r.raw = Some(bytes.into());
        r
    }

    fn encode(&self, head_request: bool) -> Vec<u8> {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason).into_bytes();
        for (n, v) in &self.headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        let bodyless = head_request || self.status == 204 || self.status == 304;
        match self.framing {
            BodyFraming::ContentLength => {
                out.extend_from_slice(format!("content-length: {}\r\n", self.body.len()).as_bytes())
            }
            BodyFraming::Chunked(_) => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
            BodyFraming::Close => {}
        }
        if self.close {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !bodyless {
            match self.framing {
                BodyFraming::Chunked(n) => out.extend_from_slice(&http1::chunk(&self.body, n)),
                _ => out.extend_from_slice(&self.body),
            }
        }
        out
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

/// Holds the requests of a gated backend ([`Backend::http_gated`]) in their order of
/// arrival until the test opens it for them.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<GateState>, Condvar)>);

#[derive(Default)]
struct GateState {
    /// Requests that reached the gate (each one's ticket is its arrival rank).
    arrived: u64,
    /// Requests let through so far.
    opened: u64,
}

impl Gate {
    /// Lets the `n` oldest held (or next arriving) requests through.
    pub fn open(&self, n: u64) {
        let (m, cv) = &*self.0;
        m.lock().unwrap().opened += n;
        cv.notify_all();
    }

    /// Waits (bounded) until `n` requests have reached the gate in all; false on timeout.
    pub fn wait_arrived(&self, n: u64, timeout: Duration) -> bool {
        let (m, cv) = &*self.0;
        let deadline = Instant::now() + timeout;
        let mut st = m.lock().unwrap();
        while st.arrived < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = cv.wait_timeout(st, left).unwrap().0;
        }
        true
    }

    /// Waits for this request's turn (bounded: a forgotten request must not hang a run).
    fn pass(&self) {
        let (m, cv) = &*self.0;
        let mut st = m.lock().unwrap();
        let ticket = st.arrived;
        st.arrived += 1;
        cv.notify_all();
        let deadline = Instant::now() + Duration::from_secs(30);
        while st.opened <= ticket {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            st = cv.wait_timeout(st, left).unwrap().0;
        }
    }
}

/// What one accepted connection received (and whether it has ended).
#[derive(Clone, Debug, Default)]
pub struct ConnRecord {
    pub received: Vec<u8>,
    pub closed: bool,
}

/// State shared between a backend's threads and the test.
#[derive(Default)]
struct Shared {
    conns: Mutex<Vec<ConnRecord>>,
    changed: Condvar,
    stop: AtomicBool,
    active: AtomicU64,
}

impl Shared {
    fn new_conn(&self) -> usize {
        let mut c = self.conns.lock().unwrap();
        c.push(ConnRecord::default());
        self.changed.notify_all();
        c.len() - 1
    }
    fn append(&self, i: usize, bytes: &[u8]) {
        self.conns.lock().unwrap()[i]
            .received
            .extend_from_slice(bytes);
        self.changed.notify_all();
    }
    fn close(&self, i: usize) {
        self.conns.lock().unwrap()[i].closed = true;
        self.changed.notify_all();
    }
}

type Responder = Arc<dyn Fn(&Message) -> Reply + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Http,
    Echo,
    Record,
    Sink,
    Source(u64),
    /// Close right after accepting (a server that hangs up).
    Close,
    /// Reset right after accepting (SO_LINGER 0).
    Reset,
    /// Send a banner first, then echo (a server that speaks first).
    Banner(&'static [u8]),
}

/// A running backend. Dropping it stops accepting and unblocks its threads.
pub struct Backend {
    pub name: String,
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Backend {
    /// An HTTP/1.1 backend answering `200` with body `<name>\n` and header
    /// `x-backend: <name>` (same for every request, so the port never appears in responses).
    pub fn http(name: &str) -> Backend {
        let n = name.to_string();
        Backend::http_with(name, move |_req| {
            Reply::new(200, format!("{n}\n")).header("x-backend", &n)
        })
    }

    /// An HTTP backend whose reply is computed per request.
    pub fn http_with(name: &str, f: impl Fn(&Message) -> Reply + Send + Sync + 'static) -> Backend {
        Backend::start(name, Kind::Http, Some(Arc::new(f)))
    }

    /// An HTTP backend that holds each request until the test lets it through with
    /// [`Gate::open`] (oldest first), then answers `200` with body `<name>\n`.
    pub fn http_gated(name: &str) -> (Backend, Gate) {
        let gate = Gate::default();
        let (g, n) = (gate.clone(), name.to_string());
        let b = Backend::http_with(name, move |_req| {
            g.pass();
            Reply::new(200, format!("{n}\n"))
        });
        (b, gate)
    }

    /// An HTTP backend that answers every request with `reply`.
    pub fn http_reply(name: &str, reply: Reply) -> Backend {
        Backend::http_with(name, move |_| reply.clone())
    }

    /// A TCP backend that echoes every byte back and records it.
    pub fn echo(name: &str) -> Backend {
        Backend::start(name, Kind::Echo, None)
    }

    /// A TCP backend that only records (never writes; closes when the peer closes).
    pub fn record(name: &str) -> Backend {
        Backend::start(name, Kind::Record, None)
    }

    /// A TCP sink: counts bytes (see [`Backend::bytes_received`]) without storing them.
    pub fn sink(name: &str) -> Backend {
        Backend::start(name, Kind::Sink, None)
    }

    /// A TCP source: sends `n` bytes of [`pattern`] on each connection, then closes.
    pub fn source(name: &str, n: u64) -> Backend {
        Backend::start(name, Kind::Source(n), None)
    }

    /// A backend that accepts and immediately closes every connection.
    pub fn closer(name: &str) -> Backend {
        Backend::start(name, Kind::Close, None)
    }

    /// A backend that accepts and immediately resets every connection.
    pub fn resetter(name: &str) -> Backend {
        Backend::start(name, Kind::Reset, None)
    }

    /// A TCP backend that sends `banner` on accept, then echoes and records.
    pub fn banner(name: &str, banner: &'static [u8]) -> Backend {
        Backend::start(name, Kind::Banner(banner), None)
    }

    /// Like [`Backend::http_with`], listening on `addr` (a server that comes back on the
    /// port it had).
    pub fn http_with_at(
        name: &str,
        addr: SocketAddr,
        f: impl Fn(&Message) -> Reply + Send + Sync + 'static,
    ) -> Backend {
        let listener = TcpListener::bind(addr).expect("bind backend");
        Backend::start_on(listener, name, Kind::Http, Some(Arc::new(f)))
    }

    fn start(name: &str, kind: Kind, responder: Option<Responder>) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind backend");
        Backend::start_on(listener, name, kind, responder)
    }

    fn start_on(
        listener: TcpListener,
        name: &str,
        kind: Kind,
        responder: Option<Responder>,
    ) -> Backend {
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let sh = shared.clone();
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if sh.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let idx = sh.new_conn();
                let sh2 = sh.clone();
                let resp = responder.clone();
                sh.active.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    // Bound every connection: a forgotten one must not hang a test run.
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
                    serve(kind, stream, &sh2, idx, resp);
                    sh2.close(idx);
                    sh2.active.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Backend {
            name: name.to_string(),
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `127.0.0.1:PORT`, ready for a `server` line.
    pub fn addr_str(&self) -> String {
        self.addr.to_string()
    }

    /// Snapshot of every connection so far.
    pub fn conns(&self) -> Vec<ConnRecord> {
        self.shared.conns.lock().unwrap().clone()
    }

    /// Raw bytes received, one entry per connection.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.conns().into_iter().map(|c| c.received).collect()
    }

    /// Every complete request received, across connections in accept order.
    pub fn requests(&self) -> Vec<Message> {
        self.received()
            .iter()
            .flat_map(|b| http1::split_requests(b).0)
            .collect()
    }

    pub fn connection_count(&self) -> usize {
        self.shared.conns.lock().unwrap().len()
    }

    /// Total bytes received over all connections (sinks count without storing).
    pub fn bytes_received(&self) -> u64 {
        self.conns()
            .iter()
            .map(|c| sink_len(&c.received).unwrap_or(c.received.len() as u64))
            .sum()
    }

    /// Wait (bounded) until `pred` holds over the connection records.
    pub fn wait_until(&self, timeout: Duration, pred: impl Fn(&[ConnRecord]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = self.shared.conns.lock().unwrap();
        loop {
            if pred(&guard) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = self
                .shared
                .changed
                .wait_timeout(guard, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Wait (bounded) until `n` complete requests have arrived.
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |cs| {
            cs.iter()
                .map(|c| http1::split_requests(&c.received).0.len())
                .sum::<usize>()
                >= n
        })
    }

    /// Wait (bounded) until every connection accepted so far has been closed by its peer
    /// (true at once when none has been accepted yet: use [`Backend::wait_until`] to wait
    /// for an accept).
    pub fn wait_all_closed(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |cs| cs.iter().all(|c| c.closed))
    }
}

/// Sinks store an 8-byte little-endian length prefixed by this tag instead of the data.
const SINK_TAG: &[u8] = b"\0SINK\0";

fn sink_len(rec: &[u8]) -> Option<u64> {
    if rec.len() == SINK_TAG.len() + 8 && rec.starts_with(SINK_TAG) {
        Some(u64::from_le_bytes(rec[SINK_TAG.len()..].try_into().ok()?))
    } else {
        None
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop with one connection.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// The byte at offset `i` of a source's stream (so a receiver can verify content).
pub fn pattern(i: u64) -> u8 {
    (i % 251) as u8
}

fn serve(kind: Kind, stream: TcpStream, sh: &Shared, idx: usize, responder: Option<Responder>) {
    match kind {
        Kind::Http => serve_http(stream, sh, idx, responder.expect("responder")),
        Kind::Echo | Kind::Record => serve_echo(stream, sh, idx, kind == Kind::Echo),
        Kind::Sink => serve_sink(stream, sh, idx),
        Kind::Source(n) => serve_source(stream, n),
        Kind::Close => drop(stream),
        Kind::Reset => {
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            drop(stream)
        }
        Kind::Banner(b) => {
            let mut stream = stream;
            if stream.write_all(b).is_ok() {
                serve_echo(stream, sh, idx, true)
            }
        }
    }
}

fn serve_http(mut stream: TcpStream, sh: &Shared, idx: usize, responder: Responder) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16384];
    loop {
        // Answer every complete request already buffered (pipelining).
        loop {
            match http1::parse_request(&buf) {
                Parsed::Complete(req, used) => {
                    buf.drain(..used);
                    let reply = responder(&req);
                    let head_req = req.method().eq_ignore_ascii_case("HEAD");
                    if send_reply(&mut stream, &reply, head_req).is_err() {
                        return;
                    }
                    let client_close = req
                        .header("connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
                        || req.start.ends_with("HTTP/1.0")
                            && !req
                                .header("connection")
                                .is_some_and(|v| v.eq_ignore_ascii_case("keep-alive"));
                    if reply.close || client_close {
                        let _ = stream.shutdown(Shutdown::Write);
                        drain_until_eof(&mut stream, sh, idx);
                        return;
                    }
                }
                Parsed::Partial => break,
                Parsed::Invalid(_) => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                    let _ = stream.shutdown(Shutdown::Write);
                    drain_until_eof(&mut stream, sh, idx);
                    return;
                }
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                sh.append(idx, &chunk[..n]);
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

/// Write a reply: after `delay`, at once, or head first then trickled pieces.
fn send_reply(stream: &mut TcpStream, reply: &Reply, head_req: bool) -> std::io::Result<()> {
    let bytes = reply.encode(head_req);
    match reply.trickle {
        None => {
            if !reply.delay.is_zero() {
                std::thread::sleep(reply.delay);
            }
            stream.write_all(&bytes)
        }
        Some(piece) => {
            let head_end = http1::find(&bytes, b"\r\n\r\n").map_or(bytes.len(), |i| i + 4);
            stream.write_all(&bytes[..head_end])?;
            for part in bytes[head_end..].chunks(piece) {
                std::thread::sleep(reply.delay);
                stream.write_all(part)?;
            }
            Ok(())
        }
    }
}

/// After we closed our side, record whatever still arrives until the peer closes (bounded).
fn drain_until_eof(stream: &mut TcpStream, sh: &Shared, idx: usize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        sh.append(idx, &chunk[..n]);
    }
}

fn serve_echo(mut stream: TcpStream, sh: &Shared, idx: usize, echo: bool) {
    let mut chunk = vec![0u8; 65536];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                sh.append(idx, &chunk[..n]);
                if echo && stream.write_all(&chunk[..n]).is_err() {
                    break;
                }
            }
        }
    }
    // Peer half-closed: mirror it so the client sees the end of the echo.
    let _ = stream.shutdown(Shutdown::Write);
}

fn serve_sink(mut stream: TcpStream, sh: &Shared, idx: usize) {
    let mut chunk = vec![0u8; 1 << 16];
    let mut total: u64 = 0;
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    let mut rec = SINK_TAG.to_vec();
    rec.extend_from_slice(&total.to_le_bytes());
    sh.append(idx, &rec);
}

fn serve_source(mut stream: TcpStream, n: u64) {
    let mut buf = vec![0u8; 1 << 16];
    let mut sent: u64 = 0;
    while sent < n {
        let len = ((n - sent) as usize).min(buf.len());
        for (i, b) in buf[..len].iter_mut().enumerate() {
            *b = pattern(sent + i as u64);
        }
        if stream.write_all(&buf[..len]).is_err() {
            return;
        }
        sent += len as u64;
    }
    let _ = stream.shutdown(Shutdown::Write);
}
