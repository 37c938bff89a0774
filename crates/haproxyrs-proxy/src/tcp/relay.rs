//! The bidirectional byte relay of a TCP session: bytes flow both ways unchanged. A
//! direction starts on `recv`/`send` through a pooled buffer (cheapest for small
//! exchanges); once a read fills the whole buffer it switches to `splice(2)` through a
//! pooled pipe (no copy to user space), unless splicing is not possible. Neither a pipe
//! nor a buffer is held while a direction is idle. EOF on one side becomes
//! `shutdown(SHUT_WR)` on the other while the opposite direction keeps flowing.
//! Inactivity is bounded by `timeout client`/`server` (or `client-fin`/`server-fin` once
//! that side sent its FIN), or by `timeout tunnel` when set.
//!
//! [`Relay`] is plain state polled with the two streams it moves bytes between (the
//! session owns the streams, the relay only borrows them per poll), for TCP sessions and
//! HTTP tunnels alike (any [`RelayIo`]; only two runtime sockets splice): an idle relay is
//! ~140 bytes plus one boxed timer, which keeps idle connections cheap. Reads are tried
//! before waiting for readiness, so a socket that always has data ready never has to
//! wait on the reactor; while a bulk direction waits for its destination to drain, its
//! source is taken off the reactor (see `poll_dir`).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use haproxyrs_config::ir;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Sleep;

use super::pipe_pool::{splice, Pipe};
pub use super::relay_io::RelayIo;
use crate::runtime::conn::Stream;

/// Largest chunk moved per splice call (the pipe's capacity bounds it further).
const CHUNK: usize = 1 << 20;
const BUF_SIZE: usize = 16384;
/// Bytes moved per direction before yielding to other tasks.
const FAIRNESS: usize = 4 << 20;

thread_local! {
    static BUFS: RefCell<Vec<Box<[u8; BUF_SIZE]>>> = const { RefCell::new(Vec::new()) };
}

/// Inactivity limits of a relay, as configured.
#[derive(Clone, Copy, Debug, Default)]
pub struct RelayTimeouts {
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
    /// Replaces client and server timeouts when set: inactivity in both directions.
    pub tunnel: Option<Duration>,
}

impl RelayTimeouts {
    /// The limits of a frontend/backend pair (`timeout tunnel` is a backend setting).
    pub fn of(fe: &ir::Frontend, be: &ir::Backend) -> RelayTimeouts {
        RelayTimeouts {
            client: fe.timeouts.client,
            server: be.timeouts.server,
            client_fin: fe.timeouts.client_fin,
            server_fin: be.timeouts.server_fin,
            tunnel: be.timeouts.tunnel,
        }
    }
}

/// "No limit" in [`Limits`].
const NO_LIMIT: u32 = u32::MAX;

/// [`RelayTimeouts`] as stored per connection: milliseconds, [`NO_LIMIT`] for none
/// (20 bytes instead of 80; longer limits are capped at ~49 days).
#[derive(Clone, Copy, Debug)]
struct Limits {
    client: u32,
    server: u32,
    client_fin: u32,
    server_fin: u32,
    tunnel: u32,
}

impl Limits {
    fn new(t: &RelayTimeouts) -> Limits {
        let ms = |d: Option<Duration>| {
            d.map_or(NO_LIMIT, |d| {
                d.as_millis().min(u128::from(NO_LIMIT - 1)) as u32
            })
        };
        Limits {
            client: ms(t.client),
            server: ms(t.server),
            client_fin: ms(t.client_fin),
            server_fin: ms(t.server_fin),
            tunnel: ms(t.tunnel),
        }
    }
}

/// `a` unless it is [`NO_LIMIT`], else `b`.
fn or_limit(a: u32, b: u32) -> u32 {
    if a == NO_LIMIT {
        b
    } else {
        a
    }
}

/// How a relay ended (mapped to termination flags by the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayEnd {
    /// Both directions closed normally.
    Done,
    ClientTimeout,
    ServerTimeout,
    /// Error reading from or writing to a side (reset, broken pipe).
    ClientError,
    ServerError,
}

impl RelayEnd {
    /// HAProxy's termination flags (first two characters) for this end.
    pub fn term(self) -> [u8; 2] {
        match self {
            RelayEnd::Done => *b"--",
            RelayEnd::ClientTimeout => *b"cD",
            RelayEnd::ServerTimeout => *b"sD",
            RelayEnd::ClientError => *b"CD",
            RelayEnd::ServerError => *b"SD",
        }
    }
}

/// Whether splice is used (off with `-dS`, or when the kernel refuses it).
static SPLICE_OFF: AtomicBool = AtomicBool::new(false);

/// Disables splicing for the process (`-dS`).
pub fn disable_splice() {
    SPLICE_OFF.store(true, Ordering::Relaxed);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Client = 0,
    Server = 1,
}

/// A buffer from the per-worker pool, given back on drop (a thin pointer: it sizes every
/// connection's relay state).
struct PooledBuf(std::mem::ManuallyDrop<Box<[u8; BUF_SIZE]>>);

impl PooledBuf {
    fn get() -> PooledBuf {
        let buf = BUFS.with(|b| b.borrow_mut().pop()).unwrap_or_else(|| {
            // Allocated on the heap directly (no BUF_SIZE array on the stack).
            let v = vec![0u8; BUF_SIZE].into_boxed_slice();
            v.try_into().expect("BUF_SIZE bytes")
        });
        PooledBuf(std::mem::ManuallyDrop::new(buf))
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        // SAFETY: taken once, here, and `self.0` is not used again.
        let buf = unsafe { std::mem::ManuallyDrop::take(&mut self.0) };
        BUFS.with(|b| {
            let mut b = b.borrow_mut();
            if b.len() < 256 {
                b.push(buf);
            }
        });
    }
}

/// Bytes in flight in one direction (only while they move).
enum Carry {
    None,
    Pipe(Pipe),
    /// `buf[off..len]` is still to be sent.
    Buf {
        buf: PooledBuf,
        off: u32,
        len: u32,
    },
}

struct Dir {
    carry: Carry,
    eof: bool,
    /// Set once a read filled a whole buffer: from then on this direction splices.
    /// Small exchanges stay on `recv`/`send`, cheaper than two splices through a pipe.
    bulk: bool,
}

enum Step {
    /// Source reached EOF and everything was forwarded.
    Eof,
    /// Moved a lot: yield so other sessions run.
    Yield,
}

/// The state of a relay between a client and a server stream; see the module doc.
pub struct Relay {
    /// Client → server, server → client.
    dirs: [Dir; 2],
    /// Bytes forwarded client → server and server → client.
    bytes: [u64; 2],
    /// Last activity per side (client, server), ms since `base`.
    last: [u64; 2],
    /// Sides that moved bytes during the current poll (bit 0: client, bit 1: server):
    /// the clock is read once per poll, not once per chunk.
    active: u8,
    /// The server's FIN ends the whole relay (see [`Relay::end_on_server_eof`]).
    end_on_server_eof: bool,
    base: Instant,
    limits: Limits,
    /// Wakes the session at (or before) the earliest inactivity deadline. Activity does
    /// not re-arm it: when it fires early, the deadline is recomputed and it is re-armed
    /// once, so a busy relay touches the timer wheel about once per timeout period.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Relay {
    /// A relay starting now.
    pub fn new(t: &RelayTimeouts) -> Relay {
        let dir = || Dir {
            carry: Carry::None,
            eof: false,
            bulk: false,
        };
        Relay {
            dirs: [dir(), dir()],
            bytes: [0, 0],
            last: [0, 0],
            active: 0,
            end_on_server_eof: false,
            base: Instant::now(),
            limits: Limits::new(t),
            timer: None,
        }
    }

    /// Ends the relay once the server's FIN was forwarded to the client, closing the
    /// server side too, instead of keeping the client → server direction open: what 2.6
    /// does with an upgraded (`101`) HTTP connection, unlike TCP mode and `CONNECT`.
    pub fn end_on_server_eof(&mut self) {
        self.end_on_server_eof = true;
    }

    /// Counts bytes forwarded before the relay started (client → server, server → client).
    pub fn add_bytes(&mut self, c2s: u64, s2c: u64) {
        self.bytes[0] += c2s;
        self.bytes[1] += s2c;
    }

    /// Bytes forwarded so far: (client → server, server → client).
    pub fn bytes(&self) -> (u64, u64) {
        (self.bytes[0], self.bytes[1])
    }

    /// Moves bytes between `client` and `server` (always the same two streams) until
    /// both directions are closed, a side fails, or a timeout expires.
    pub fn poll_relay<C: RelayIo, S: RelayIo>(
        &mut self,
        cx: &mut Context<'_>,
        client: &mut C,
        server: &mut S,
    ) -> Poll<RelayEnd> {
        self.active = 0;
        let mut yielded = false;
        let can_splice = client.socket().is_some() && server.socket().is_some();
        for d in 0..2 {
            if self.dirs[d].eof && matches!(self.dirs[d].carry, Carry::None) {
                continue;
            }
            let r = if d == 0 {
                self.poll_dir(cx, d, client, server, can_splice)
            } else {
                self.poll_dir(cx, d, server, client, can_splice)
            };
            match r {
                Poll::Ready(Err(Side::Client)) => return Poll::Ready(RelayEnd::ClientError),
                Poll::Ready(Err(Side::Server)) => return Poll::Ready(RelayEnd::ServerError),
                Poll::Ready(Ok(Step::Yield)) => yielded = true,
                Poll::Ready(Ok(Step::Eof)) | Poll::Pending => {}
            }
        }
        if self.dirs[0].eof && self.dirs[1].eof {
            return Poll::Ready(RelayEnd::Done);
        }
        if self.end_on_server_eof && self.dirs[1].eof && matches!(self.dirs[1].carry, Carry::None) {
            // Close the server side gracefully: what the client sent is abandoned.
            let _ = server.shutdown_write();
            return Poll::Ready(RelayEnd::Done);
        }
        if self.active != 0 {
            let now = self.base.elapsed().as_millis() as u64;
            for side in [Side::Client, Side::Server] {
                if self.active & (1 << side as u8) != 0 {
                    self.last[side as usize] = now;
                }
            }
        }
        if yielded {
            // Polled again at once: the timer is looked at then.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.poll_timer(cx)
    }

    /// Earliest inactivity deadline and the side it is reported on.
    fn deadline(&self) -> Option<(Instant, Side)> {
        let l = &self.limits;
        let at = |last: u64, ms: u32| self.base + Duration::from_millis(last + u64::from(ms));
        if l.tunnel != NO_LIMIT {
            let last = self.last[0].max(self.last[1]);
            // A tunnel timeout is reported on the client side, as HAProxy's `cD`.
            return Some((at(last, l.tunnel), Side::Client));
        }
        let ct = if self.dirs[0].eof {
            or_limit(l.client_fin, l.client)
        } else {
            l.client
        };
        let st = if self.dirs[1].eof {
            or_limit(l.server_fin, l.server)
        } else {
            l.server
        };
        let c = (ct != NO_LIMIT).then(|| (at(self.last[0], ct), Side::Client));
        let s = (st != NO_LIMIT).then(|| (at(self.last[1], st), Side::Server));
        match (c, s) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// Keeps the timer armed at or before the deadline; reports an expired deadline.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<RelayEnd> {
        let Some((at, side)) = self.deadline() else {
            self.timer = None;
            return Poll::Pending;
        };
        let at = tokio::time::Instant::from_std(at);
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        // A deadline that moved earlier (a FIN switched to a shorter limit) re-arms now;
        // one that moved later waits for the timer to fire first.
        if timer.deadline() > at {
            timer.as_mut().reset(at);
        }
        while timer.as_mut().poll(cx).is_ready() {
            if at <= tokio::time::Instant::now() {
                return Poll::Ready(match side {
                    Side::Client => RelayEnd::ClientTimeout,
                    Side::Server => RelayEnd::ServerTimeout,
                });
            }
            // Fired for an older, earlier deadline: activity moved it later.
            timer.as_mut().reset(at);
        }
        Poll::Pending
    }

    /// Moves what can be moved in direction `d` (0: client→server, 1: server→client);
    /// `can_splice`: both ends are sockets that can splice.
    fn poll_dir<R: RelayIo, W: RelayIo>(
        &mut self,
        cx: &mut Context<'_>,
        d: usize,
        src: &mut R,
        dst: &mut W,
        can_splice: bool,
    ) -> Poll<Result<Step, Side>> {
        let (src_side, dst_side) = if d == 0 {
            (Side::Client, Side::Server)
        } else {
            (Side::Server, Side::Client)
        };
        let mut moved = 0usize;
        loop {
            // 1. Flush what is in flight (a pipe exists only between two sockets).
            let w = match &mut self.dirs[d].carry {
                Carry::Pipe(p) if p.pending > 0 => match dst.socket() {
                    Some(sock) => {
                        let (rfd, want) = (p.read_fd(), p.pending);
                        match sock.try_io_write(|| splice(rfd, sock.as_raw_fd(), want)) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                match sock.poll_write_ready(cx) {
                                    Poll::Ready(Ok(())) => continue,
                                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                                    Poll::Pending => Poll::Pending,
                                }
                            }
                            r => Poll::Ready(r.inspect(|&n| p.pending -= n)),
                        }
                    }
                    None => return Poll::Ready(Err(dst_side)),
                },
                Carry::Buf { buf, off, len } if *off < *len => {
                    let slice = &buf.0[*off as usize..*len as usize];
                    match Pin::new(&mut *dst).poll_write(cx, slice) {
                        // Bytes that cannot leave must not be overwritten by a read.
                        Poll::Ready(Ok(0)) => Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                        r => r.map_ok(|n| {
                            *off += n as u32;
                            n
                        }),
                    }
                }
                // Drained: an idle direction holds nothing.
                _ => {
                    self.dirs[d].carry = Carry::None;
                    Poll::Ready(Ok(0))
                }
            };
            match w {
                Poll::Ready(Ok(0)) => {}
                Poll::Ready(Ok(n)) => {
                    self.bytes[d] += n as u64;
                    moved += n;
                    self.active |= 1 << dst_side as u8;
                    continue;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Err(_)) => return Poll::Ready(Err(dst_side)),
                Poll::Pending => {
                    // The destination is full. Each segment reaching the source would
                    // now wake the worker for nothing (~30 wake-ups per wait in a bulk
                    // transfer): drop the source's registration until it is read again,
                    // as HAProxy stops polling a full buffer's source. Only the opposite
                    // direction could be waiting on it (to write to the source), so only
                    // when that one holds nothing.
                    if self.dirs[d].bulk && matches!(self.dirs[1 - d].carry, Carry::None) {
                        src.pause_reads();
                    }
                    return Poll::Pending;
                }
            }
            if self.dirs[d].eof {
                return Poll::Ready(Ok(Step::Eof));
            }
            if moved >= FAIRNESS {
                return Poll::Ready(Ok(Step::Yield));
            }
            // 2. Read more. Buffered reads go through the stream's own `poll_read`: it
            // tries first and waits for readiness only when needed, and after a short
            // read (the socket is most likely empty) it waits without paying for a
            // `read` that would fail with EAGAIN. Splice reads are tried first too.
            let n = if !self.dirs[d].bulk || !can_splice || SPLICE_OFF.load(Ordering::Relaxed) {
                match self.poll_read_buf(cx, src, d) {
                    Poll::Ready(r) => r,
                    Poll::Pending => {
                        // Nothing in flight: give the buffer back while waiting.
                        self.dirs[d].carry = Carry::None;
                        return Poll::Pending;
                    }
                }
            } else {
                match self.read_splice(src.socket(), d) {
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                        SPLICE_OFF.store(true, Ordering::Relaxed);
                        continue;
                    }
                    r => r,
                }
            };
            match n {
                Ok(0) => {
                    self.dirs[d].eof = true;
                    self.dirs[d].carry = Carry::None;
                    let _ = dst.shutdown_write();
                    return Poll::Ready(Ok(Step::Eof));
                }
                Ok(n) => {
                    if n >= BUF_SIZE {
                        self.dirs[d].bulk = true;
                    }
                    self.active |= 1 << src_side as u8;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Nothing in flight: give the buffer or pipe back while waiting.
                    self.dirs[d].carry = Carry::None;
                    // Only a splice read (from a socket) reports `WouldBlock`.
                    let Some(sock) = src.socket() else {
                        return Poll::Ready(Err(src_side));
                    };
                    if ready!(sock.poll_read_ready(cx)).is_err() {
                        return Poll::Ready(Err(src_side));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Poll::Ready(Err(src_side)),
            }
        }
    }

    fn read_splice(&mut self, src: Option<&Stream>, d: usize) -> io::Result<usize> {
        let Some(src) = src else {
            return Err(io::ErrorKind::Unsupported.into());
        };
        if !matches!(self.dirs[d].carry, Carry::Pipe(_)) {
            self.dirs[d].carry = Carry::Pipe(Pipe::get()?);
        }
        let Carry::Pipe(p) = &mut self.dirs[d].carry else {
            return Err(io::ErrorKind::Other.into());
        };
        let wfd = p.write_fd();
        let n = src.try_io_read(|| splice(src.as_raw_fd(), wfd, CHUNK))?;
        p.pending += n;
        Ok(n)
    }

    fn poll_read_buf<R: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut R,
        d: usize,
    ) -> Poll<io::Result<usize>> {
        if !matches!(&self.dirs[d].carry, Carry::Buf { .. }) {
            self.dirs[d].carry = Carry::Buf {
                buf: PooledBuf::get(),
                off: 0,
                len: 0,
            };
        }
        let Carry::Buf { buf, off, len } = &mut self.dirs[d].carry else {
            return Poll::Ready(Err(io::ErrorKind::Other.into()));
        };
        let mut rb = ReadBuf::new(&mut buf.0[..]);
        ready!(Pin::new(src).poll_read(cx, &mut rb))?;
        let n = rb.filled().len();
        *off = 0;
        *len = n as u32; // at most BUF_SIZE
        Poll::Ready(Ok(n))
    }
}

/// Relays between `client` and `server` to the end; returns how it ended and the bytes
/// forwarded (client → server, server → client).
pub async fn relay<C: RelayIo, S: RelayIo>(
    client: &mut C,
    server: &mut S,
    t: RelayTimeouts,
) -> (RelayEnd, (u64, u64)) {
    let mut r = Relay::new(&t);
    let end = std::future::poll_fn(|cx| r.poll_relay(cx, client, server)).await;
    (end, r.bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn pair() -> (Stream, Stream) {
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        (Stream::Unix(a), Stream::Unix(b))
    }

    #[tokio::test]
    async fn relays_both_ways_half_close_and_idle_state_is_small() {
        for splice_off in [false, true] {
            if splice_off {
                disable_splice();
            }
            let (mut c_out, mut c_in) = pair().await;
            let (mut s_in, mut s_out) = pair().await;
            let t = RelayTimeouts::default();
            let task = relay(&mut c_in, &mut s_in, t);
            let peers = async {
                c_out.write_all(b"hello").await.unwrap();
                c_out.shutdown_write().unwrap();
                let mut got = vec![0u8; 5];
                use tokio::io::AsyncWriteExt;
                s_out.read_exact(&mut got).await.unwrap();
                assert_eq!(&got, b"hello");
                // EOF was propagated to the server side.
                assert_eq!(s_out.read(&mut got).await.unwrap(), 0);
                s_out.write_all(b"reply").await.unwrap();
                s_out.shutdown_write().unwrap();
                let mut back = Vec::new();
                c_out.read_to_end(&mut back).await.unwrap();
                assert_eq!(back, b"reply");
            };
            let ((end, bytes), ()) = tokio::join!(task, peers);
            assert_eq!(end, RelayEnd::Done);
            assert_eq!(bytes, (5, 5));
        }
        SPLICE_OFF.store(false, Ordering::Relaxed);
        // An idle connection's relay state (the session's size test bounds the rest).
        assert!(
            std::mem::size_of::<Relay>() <= 144,
            "{}",
            std::mem::size_of::<Relay>()
        );
    }

    #[tokio::test]
    async fn bulk_switches_from_buffer_to_splice_without_losing_bytes() {
        use tokio::io::AsyncWriteExt;
        let (mut c_out, mut c_in) = pair().await;
        let (mut s_in, mut s_out) = pair().await;
        let t = RelayTimeouts::default();
        let data: Vec<u8> = (0..(BUF_SIZE * 24)).map(|i| (i % 251) as u8).collect();
        let task = relay(&mut c_in, &mut s_in, t);
        let peers = async {
            let send = async {
                c_out.write_all(b"x").await.unwrap();
                c_out.write_all(&data).await.unwrap();
                c_out.shutdown_write().unwrap();
            };
            let recv = async {
                let mut got = Vec::new();
                s_out.read_to_end(&mut got).await.unwrap();
                got
            };
            let ((), got) = tokio::join!(send, recv);
            assert_eq!(got.len(), data.len() + 1);
            assert!(
                got[1..] == data[..],
                "bytes reordered or lost at the switch"
            );
            s_out.shutdown_write().unwrap();
        };
        let ((end, (c2s, _)), ()) = tokio::join!(task, peers);
        assert_eq!(end, RelayEnd::Done);
        assert_eq!(c2s, data.len() as u64 + 1);
    }

    /// Over TCP with a destination slower than the source: the relay keeps waiting for
    /// the destination with the source taken off the reactor, and must neither stall
    /// nor lose or reorder bytes.
    #[tokio::test]
    async fn bulk_over_tcp_into_a_slow_destination_keeps_every_byte() {
        use crate::runtime::conn::TcpConn;
        use tokio::io::AsyncWriteExt;
        async fn tcp_pair() -> (Stream, Stream) {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let a = Stream::Tcp(TcpConn::connect(l.local_addr().unwrap()).await.unwrap());
            let (b, _) = l.accept().unwrap();
            b.set_nonblocking(true).unwrap();
            (a, Stream::Tcp(TcpConn::new(b)))
        }
        let (mut c_out, mut c_in) = tcp_pair().await;
        let (mut s_in, mut s_out) = tcp_pair().await;
        let data: Vec<u8> = (0..(24 << 20)).map(|i| (i % 253) as u8).collect();
        // Its own task: the relay must be woken by the reactor, not by its peers.
        let task =
            tokio::spawn(
                async move { relay(&mut c_in, &mut s_in, RelayTimeouts::default()).await },
            );
        let peers = async {
            let send = async {
                // In pieces with pauses: the relay also drains the source now and then
                // and must wait for it through the reactor again.
                for piece in data.chunks(256 << 10) {
                    c_out.write_all(piece).await.unwrap();
                    for _ in 0..8 {
                        tokio::task::yield_now().await;
                    }
                }
                c_out.shutdown_write().unwrap();
            };
            let recv = async {
                // Small reads with yields in between: slower than the splicing relay, so
                // the server side fills up and the relay waits for it.
                let mut got = Vec::with_capacity(data.len());
                let mut chunk = vec![0u8; 4096];
                loop {
                    let n = s_out.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&chunk[..n]);
                    tokio::task::yield_now().await;
                }
                got
            };
            let ((), got) = tokio::join!(send, recv);
            assert_eq!(got.len(), data.len());
            assert!(got == data, "bytes reordered or lost");
            s_out.shutdown_write().unwrap();
        };
        let deadline = Duration::from_secs(60);
        let (relayed, ()) = tokio::time::timeout(deadline, async { tokio::join!(task, peers) })
            .await
            .expect("relay stalled");
        let (end, (c2s, _)) = relayed.unwrap();
        assert_eq!(end, RelayEnd::Done);
        assert_eq!(c2s, data.len() as u64);
    }

    /// A plain tokio socket (no runtime `Stream`, as in the HTTP engine's tests) on one
    /// side: the relay copies, both ways at once, more than the sockets can buffer, and
    /// ends the upgrade-style way once the server closes.
    #[tokio::test]
    async fn copies_between_other_streams_both_ways_at_once() {
        use crate::runtime::conn::TcpConn;
        use tokio::io::AsyncWriteExt;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut c_out = tokio::net::TcpStream::connect(l.local_addr().unwrap())
            .await
            .unwrap();
        let (mut c_in, _) = l.accept().await.unwrap();
        let sl = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut s_in = Stream::Tcp(TcpConn::connect(sl.local_addr().unwrap()).await.unwrap());
        let (s_out, _) = sl.accept().unwrap();
        s_out.set_nonblocking(true).unwrap();
        let mut s_out = tokio::net::TcpStream::from_std(s_out).unwrap();
        let up: Vec<u8> = (0..(8 << 20)).map(|i| (i % 251) as u8).collect();
        let down: Vec<u8> = (0..(8 << 20)).map(|i| (i % 241) as u8).collect();
        let mut r = Relay::new(&RelayTimeouts::default());
        r.end_on_server_eof();
        let relay = std::future::poll_fn(|cx| r.poll_relay(cx, &mut c_in, &mut s_in));
        // Each peer writes everything before reading anything.
        let client = async {
            c_out.write_all(&up).await.unwrap();
            let mut got = vec![0u8; down.len()];
            c_out.read_exact(&mut got).await.unwrap();
            assert!(got == down, "server -> client bytes differ");
        };
        let server = async {
            s_out.write_all(&down).await.unwrap();
            let mut got = vec![0u8; up.len()];
            s_out.read_exact(&mut got).await.unwrap();
            assert!(got == up, "client -> server bytes differ");
            s_out.shutdown().await.unwrap();
        };
        let deadline = Duration::from_secs(20);
        let (end, (), ()) =
            tokio::time::timeout(deadline, async { tokio::join!(relay, client, server) })
                .await
                .expect("relay stalled");
        assert_eq!(end, RelayEnd::Done);
        assert_eq!(r.bytes(), (up.len() as u64, down.len() as u64));
    }

    #[tokio::test]
    async fn client_inactivity_times_out() {
        let (_c_out, mut c_in) = pair().await;
        let (mut s_in, _s_out) = pair().await;
        let t = RelayTimeouts {
            client: Some(Duration::from_millis(50)),
            server: Some(Duration::from_secs(10)),
            ..Default::default()
        };
        let (end, _) = relay(&mut c_in, &mut s_in, t).await;
        assert_eq!(end, RelayEnd::ClientTimeout);
    }
}
