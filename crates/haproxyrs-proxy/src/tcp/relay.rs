//! The bidirectional relay shared by TCP mode and the HTTP engine's tunnels (WebSocket,
//! CONNECT): bytes flow both ways unchanged. A direction starts on `recv`/`send` through a
//! pooled buffer (cheapest for small exchanges); once a read fills the whole buffer it
//! switches to `splice(2)` through a pooled pipe (no copy to user space), unless splicing
//! is not possible. Neither a pipe nor a buffer is held while a direction is idle. EOF on
//! one side becomes `shutdown(SHUT_WR)` on the other while the opposite direction keeps
//! flowing. Inactivity is bounded by `timeout client`/`server` (or `client-fin`/
//! `server-fin` once that side sent its FIN), or by `timeout tunnel` when set.
//!
//! The relay is a hand-written future polling socket readiness directly: an idle relay is
//! a few dozen bytes of state plus its timer, which keeps idle connections cheap.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use tokio::time::Sleep;

use super::pipe_pool::{splice, Pipe};
use crate::runtime::conn::Stream;

/// Largest chunk moved per splice call.
const CHUNK: usize = 1 << 20;
const BUF_SIZE: usize = 16384;
/// Bytes moved per direction before yielding to other tasks.
const FAIRNESS: usize = 4 << 20;

thread_local! {
    static BUFS: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// Inactivity limits of a relay.
#[derive(Clone, Copy, Debug, Default)]
pub struct RelayTimeouts {
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
    /// Replaces client and server timeouts when set: inactivity in both directions.
    pub tunnel: Option<Duration>,
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

/// Byte counts of a relay.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Client → server.
    pub c2s: AtomicU64,
    /// Server → client.
    pub s2c: AtomicU64,
}

/// Whether splice is used (off with `-dS`, or when the kernel refuses it).
static SPLICE_OFF: AtomicBool = AtomicBool::new(false);

/// Disables splicing for the process (`-dS`).
pub fn disable_splice() {
    SPLICE_OFF.store(true, Ordering::Relaxed);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// A buffer from the per-worker pool, given back on drop.
struct PooledBuf(Box<[u8]>);

impl PooledBuf {
    fn get() -> PooledBuf {
        PooledBuf(
            BUFS.with(|b| b.borrow_mut().pop())
                .unwrap_or_else(|| vec![0u8; BUF_SIZE].into_boxed_slice()),
        )
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        BUFS.with(|b| {
            let mut b = b.borrow_mut();
            // Only standard-size buffers go back (a caller's prefix may be any size).
            if b.len() < 256 && buf.len() == BUF_SIZE {
                b.push(buf);
            }
        });
    }
}

/// Bytes in flight in one direction (only while they move).
enum Carry {
    None,
    Pipe(Pipe),
    Buf {
        buf: PooledBuf,
        off: usize,
        len: usize,
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

/// Relays between `client` and `server` until both directions are closed, a side fails,
/// or a timeout expires. `c2s_prefix`/`s2c_prefix`: bytes already read by the caller that
/// must be forwarded first (copied into the directions' in-flight buffers).
pub fn relay<'a>(
    client: &'a mut Stream,
    server: &'a mut Stream,
    c2s_prefix: &[u8],
    s2c_prefix: &[u8],
    t: RelayTimeouts,
    stats: &'a RelayStats,
) -> impl Future<Output = RelayEnd> + 'a {
    let carry = |prefix: &[u8]| {
        if prefix.is_empty() {
            Carry::None
        } else {
            Carry::Buf {
                buf: PooledBuf(prefix.to_vec().into_boxed_slice()),
                off: 0,
                len: prefix.len(),
            }
        }
    };
    Relay {
        client: &*client,
        server: &*server,
        t,
        stats,
        base: Instant::now(),
        last: [0, 0],
        dirs: [
            Dir {
                carry: carry(c2s_prefix),
                eof: false,
                bulk: false,
            },
            Dir {
                carry: carry(s2c_prefix),
                eof: false,
                bulk: false,
            },
        ],
        timer: None,
    }
}

struct Relay<'a> {
    client: &'a Stream,
    server: &'a Stream,
    t: RelayTimeouts,
    stats: &'a RelayStats,
    base: Instant,
    /// Last activity per side (client, server), ms since `base`.
    last: [u64; 2],
    /// c2s, s2c.
    dirs: [Dir; 2],
    timer: Option<Pin<Box<Sleep>>>,
}

impl Relay<'_> {
    fn touch(&mut self, side: Side) {
        let ms = self.base.elapsed().as_millis() as u64;
        self.last[side as usize] = ms;
    }

    /// Earliest inactivity deadline and the side it belongs to.
    fn deadline(&self) -> Option<(Instant, Side)> {
        let at = |side: Side, d: Duration| {
            self.base + Duration::from_millis(self.last[side as usize]) + d
        };
        if let Some(tun) = self.t.tunnel {
            let last = self.last[0].max(self.last[1]);
            // A tunnel timeout is reported on the client side, as HAProxy's `cD`.
            return Some((self.base + Duration::from_millis(last) + tun, Side::Client));
        }
        let (c_eof, s_eof) = (self.dirs[0].eof, self.dirs[1].eof);
        let ct = if c_eof {
            self.t.client_fin.or(self.t.client)
        } else {
            self.t.client
        };
        let st = if s_eof {
            self.t.server_fin.or(self.t.server)
        } else {
            self.t.server
        };
        let c = ct.map(|d| (at(Side::Client, d), Side::Client));
        let s = st.map(|d| (at(Side::Server, d), Side::Server));
        match (c, s) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// Moves what can be moved in direction `d` (0: client→server, 1: server→client).
    fn poll_dir(&mut self, cx: &mut Context<'_>, d: usize) -> Poll<Result<Step, Side>> {
        let (src, dst, src_side, dst_side) = if d == 0 {
            (self.client, self.server, Side::Client, Side::Server)
        } else {
            (self.server, self.client, Side::Server, Side::Client)
        };
        let count = if d == 0 {
            &self.stats.c2s
        } else {
            &self.stats.s2c
        };
        let mut moved = 0usize;
        loop {
            // 1. Flush what is in flight.
            match &mut self.dirs[d].carry {
                Carry::None => {}
                Carry::Pipe(p) if p.pending > 0 => {
                    let rfd = p.read_fd();
                    let want = p.pending;
                    match dst.try_io_write(|| splice(rfd, dst.as_raw_fd(), want)) {
                        Ok(n) => {
                            p.pending -= n;
                            count.fetch_add(n as u64, Ordering::Relaxed);
                            moved += n;
                            self.touch(dst_side);
                            continue;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            if ready!(dst.poll_write_ready(cx)).is_err() {
                                return Poll::Ready(Err(dst_side));
                            }
                            continue;
                        }
                        Err(_) => return Poll::Ready(Err(dst_side)),
                    }
                }
                Carry::Buf { buf, off, len } if *off < *len => {
                    let slice = &buf.0[*off..*len];
                    let w = dst.try_io_write(|| {
                        // SAFETY: valid fd; slice within buf.
                        let k = unsafe {
                            libc::send(
                                dst.as_raw_fd(),
                                slice.as_ptr().cast(),
                                slice.len(),
                                libc::MSG_NOSIGNAL,
                            )
                        };
                        if k < 0 {
                            Err(io::Error::last_os_error())
                        } else {
                            Ok(k as usize)
                        }
                    });
                    match w {
                        Ok(k) => {
                            *off += k;
                            count.fetch_add(k as u64, Ordering::Relaxed);
                            moved += k;
                            self.touch(dst_side);
                            continue;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            if ready!(dst.poll_write_ready(cx)).is_err() {
                                return Poll::Ready(Err(dst_side));
                            }
                            continue;
                        }
                        Err(_) => return Poll::Ready(Err(dst_side)),
                    }
                }
                // Drained: an idle direction holds nothing.
                _ => self.dirs[d].carry = Carry::None,
            }
            if self.dirs[d].eof {
                return Poll::Ready(Ok(Step::Eof));
            }
            if moved >= FAIRNESS {
                return Poll::Ready(Ok(Step::Yield));
            }
            // 2. Read more.
            if ready!(src.poll_read_ready(cx)).is_err() {
                return Poll::Ready(Err(src_side));
            }
            let n = if !self.dirs[d].bulk || SPLICE_OFF.load(Ordering::Relaxed) {
                self.read_buf(src, d)
            } else {
                match self.read_splice(src, d) {
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
                    self.touch(src_side);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Readiness was cleared: the next poll registers the waker.
                    self.dirs[d].carry = Carry::None;
                    continue;
                }
                Err(_) => return Poll::Ready(Err(src_side)),
            }
        }
    }

    fn read_splice(&mut self, src: &Stream, d: usize) -> io::Result<usize> {
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

    fn read_buf(&mut self, src: &Stream, d: usize) -> io::Result<usize> {
        // A caller's prefix buffer may be any size: reads go to a standard one.
        if !matches!(&self.dirs[d].carry, Carry::Buf { buf, .. } if buf.0.len() == BUF_SIZE) {
            self.dirs[d].carry = Carry::Buf {
                buf: PooledBuf::get(),
                off: 0,
                len: 0,
            };
        }
        let Carry::Buf { buf, off, len } = &mut self.dirs[d].carry else {
            return Err(io::ErrorKind::Other.into());
        };
        let n = src.try_io_read(|| {
            // SAFETY: valid fd and buffer.
            let n = unsafe { libc::read(src.as_raw_fd(), buf.0.as_mut_ptr().cast(), buf.0.len()) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        })?;
        *off = 0;
        *len = n;
        Ok(n)
    }
}

impl Future for Relay<'_> {
    type Output = RelayEnd;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RelayEnd> {
        let this = self.get_mut();
        let mut yielded = false;
        for d in 0..2 {
            if this.dirs[d].eof && matches!(this.dirs[d].carry, Carry::None) {
                continue;
            }
            match this.poll_dir(cx, d) {
                Poll::Ready(Err(Side::Client)) => return Poll::Ready(RelayEnd::ClientError),
                Poll::Ready(Err(Side::Server)) => return Poll::Ready(RelayEnd::ServerError),
                Poll::Ready(Ok(Step::Yield)) => yielded = true,
                Poll::Ready(Ok(Step::Eof)) | Poll::Pending => {}
            }
        }
        if this.dirs[0].eof && this.dirs[1].eof {
            return Poll::Ready(RelayEnd::Done);
        }
        if yielded {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match this.deadline() {
            None => this.timer = None,
            Some((at, side)) => {
                if at <= Instant::now() {
                    return Poll::Ready(match side {
                        Side::Client => RelayEnd::ClientTimeout,
                        Side::Server => RelayEnd::ServerTimeout,
                    });
                }
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at.into())));
                if timer.deadline() != at.into() {
                    timer.as_mut().reset(at.into());
                }
                if timer.as_mut().poll(cx).is_ready() {
                    // Expired exactly now: wake again to report it.
                    cx.waker().wake_by_ref();
                }
            }
        }
        Poll::Pending
    }
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
            let stats = RelayStats::default();
            let t = RelayTimeouts::default();
            let task = async { relay(&mut c_in, &mut s_in, b"pre", &[], t, &stats).await };
            let peers = async {
                c_out.write_all(b"hello").await.unwrap();
                c_out.shutdown_write().unwrap();
                let mut got = vec![0u8; 8];
                use tokio::io::AsyncWriteExt;
                s_out.read_exact(&mut got).await.unwrap();
                assert_eq!(&got, b"prehello");
                // EOF was propagated to the server side.
                assert_eq!(s_out.read(&mut got).await.unwrap(), 0);
                s_out.write_all(b"reply").await.unwrap();
                s_out.shutdown_write().unwrap();
                let mut back = Vec::new();
                c_out.read_to_end(&mut back).await.unwrap();
                assert_eq!(back, b"reply");
            };
            let (end, ()) = tokio::join!(task, peers);
            assert_eq!(end, RelayEnd::Done);
            assert_eq!(stats.c2s.load(Ordering::Relaxed), 8);
            assert_eq!(stats.s2c.load(Ordering::Relaxed), 5);
        }
        SPLICE_OFF.store(false, Ordering::Relaxed);
        assert!(std::mem::size_of::<Relay<'_>>() <= 256);
    }

    #[tokio::test]
    async fn bulk_switches_from_buffer_to_splice_without_losing_bytes() {
        use tokio::io::AsyncWriteExt;
        let (mut c_out, mut c_in) = pair().await;
        let (mut s_in, mut s_out) = pair().await;
        let stats = RelayStats::default();
        let t = RelayTimeouts::default();
        let data: Vec<u8> = (0..(BUF_SIZE * 24)).map(|i| (i % 251) as u8).collect();
        let task = async { relay(&mut c_in, &mut s_in, &[], &[], t, &stats).await };
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
        let (end, ()) = tokio::join!(task, peers);
        assert_eq!(end, RelayEnd::Done);
        assert_eq!(stats.c2s.load(Ordering::Relaxed), data.len() as u64 + 1);
    }

    #[tokio::test]
    async fn client_inactivity_times_out() {
        let (_c_out, mut c_in) = pair().await;
        let (mut s_in, _s_out) = pair().await;
        let stats = RelayStats::default();
        let t = RelayTimeouts {
            client: Some(Duration::from_millis(50)),
            server: Some(Duration::from_secs(10)),
            ..Default::default()
        };
        let end = relay(&mut c_in, &mut s_in, &[], &[], t, &stats).await;
        assert_eq!(end, RelayEnd::ClientTimeout);
    }
}
