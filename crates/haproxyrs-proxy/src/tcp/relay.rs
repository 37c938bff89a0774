//! The bidirectional relay shared by TCP mode and the HTTP engine's tunnels (WebSocket,
//! CONNECT): bytes flow both ways unchanged, through `splice(2)` and a pooled pipe per
//! direction on Linux (no copy to user space), or through a pooled buffer when splicing
//! is not possible. Neither a pipe nor a buffer is held while a direction is idle. EOF on
//! one side becomes `shutdown(SHUT_WR)` on the other while the opposite direction keeps
//! flowing. Inactivity is bounded by `timeout client`/`server` (or `client-fin`/
//! `server-fin` once that side sent its FIN), or by `timeout tunnel` when set.

use std::cell::RefCell;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::pipe_pool::{splice, Pipe};
use crate::runtime::conn::Stream;

/// Largest chunk moved per splice call.
const CHUNK: usize = 1 << 20;
const BUF_SIZE: usize = 16384;

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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

struct Activity {
    base: Instant,
    client: AtomicU64,
    server: AtomicU64,
}

impl Activity {
    fn touch(&self, side: Side) {
        let ms = self.base.elapsed().as_millis() as u64;
        match side {
            Side::Client => self.client.store(ms, Ordering::Relaxed),
            Side::Server => self.server.store(ms, Ordering::Relaxed),
        }
    }
    fn last(&self, side: Side) -> Duration {
        Duration::from_millis(match side {
            Side::Client => self.client.load(Ordering::Relaxed),
            Side::Server => self.server.load(Ordering::Relaxed),
        })
    }
}

/// Relays between `client` and `server` until both directions are closed, a side fails,
/// or a timeout expires. `c2s_prefix`/`s2c_prefix`: bytes already read by the caller that
/// must be forwarded first.
pub async fn relay(
    client: &mut Stream,
    server: &mut Stream,
    c2s_prefix: &[u8],
    s2c_prefix: &[u8],
    t: RelayTimeouts,
    stats: &RelayStats,
) -> RelayEnd {
    if !c2s_prefix.is_empty() {
        if server.write_all(c2s_prefix).await.is_err() {
            return RelayEnd::ServerError;
        }
        stats
            .c2s
            .fetch_add(c2s_prefix.len() as u64, Ordering::Relaxed);
    }
    if !s2c_prefix.is_empty() {
        if client.write_all(s2c_prefix).await.is_err() {
            return RelayEnd::ClientError;
        }
        stats
            .s2c
            .fetch_add(s2c_prefix.len() as u64, Ordering::Relaxed);
    }
    let act = Activity {
        base: Instant::now(),
        client: AtomicU64::new(0),
        server: AtomicU64::new(0),
    };
    let (client, server) = (&*client, &*server);
    let c2s = pump(client, server, Side::Client, &act, &stats.c2s);
    let s2c = pump(server, client, Side::Server, &act, &stats.s2c);
    tokio::pin!(c2s, s2c);
    let (mut c_eof, mut s_eof) = (false, false);
    loop {
        let deadline = next_deadline(&t, &act, c_eof, s_eof);
        let sleep = async {
            match deadline {
                Some((d, _)) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = &mut c2s, if !c_eof => match r {
                Ok(()) => c_eof = true,
                Err(side) => return side_error(side),
            },
            r = &mut s2c, if !s_eof => match r {
                Ok(()) => s_eof = true,
                Err(side) => return side_error(side),
            },
            _ = sleep => {
                if let Some((d, side)) = deadline {
                    // Activity may have moved the deadline since it was computed.
                    let again = next_deadline(&t, &act, c_eof, s_eof);
                    if again.is_some_and(|(d2, _)| d2 <= d || d2 <= Instant::now()) {
                        return match side {
                            Side::Client => RelayEnd::ClientTimeout,
                            Side::Server => RelayEnd::ServerTimeout,
                        };
                    }
                }
            }
        }
        if c_eof && s_eof {
            return RelayEnd::Done;
        }
    }
}

fn side_error(side: Side) -> RelayEnd {
    match side {
        Side::Client => RelayEnd::ClientError,
        Side::Server => RelayEnd::ServerError,
    }
}

/// Earliest inactivity deadline and the side it belongs to.
fn next_deadline(
    t: &RelayTimeouts,
    act: &Activity,
    c_eof: bool,
    s_eof: bool,
) -> Option<(Instant, Side)> {
    if let Some(tun) = t.tunnel {
        let last = act.last(Side::Client).max(act.last(Side::Server));
        // Attribute a tunnel timeout to the client side, as HAProxy reports `cD`.
        return Some((act.base + last + tun, Side::Client));
    }
    let ct = if c_eof {
        t.client_fin.or(t.client)
    } else {
        t.client
    };
    let st = if s_eof {
        t.server_fin.or(t.server)
    } else {
        t.server
    };
    let c = ct.map(|d| (act.base + act.last(Side::Client) + d, Side::Client));
    let s = st.map(|d| (act.base + act.last(Side::Server) + d, Side::Server));
    match (c, s) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Moves bytes `src → dst` until EOF on `src` (then shuts `dst`'s write side). Err names
/// the side that failed.
async fn pump(
    src: &Stream,
    dst: &Stream,
    src_side: Side,
    act: &Activity,
    count: &AtomicU64,
) -> Result<(), Side> {
    let dst_side = if src_side == Side::Client {
        Side::Server
    } else {
        Side::Client
    };
    loop {
        if src.readable().await.is_err() {
            return Err(src_side);
        }
        let moved = if SPLICE_OFF.load(Ordering::Relaxed) {
            burst_copy(src, dst, src_side, dst_side, act, count).await?
        } else {
            match burst_splice(src, dst, src_side, dst_side, act, count).await {
                Ok(m) => m,
                Err(Fallback) => {
                    SPLICE_OFF.store(true, Ordering::Relaxed);
                    continue;
                }
            }?
        };
        if moved == Moved::Eof {
            let _ = dst.shutdown_write();
            return Ok(());
        }
    }
}

#[derive(PartialEq, Eq)]
enum Moved {
    Some,
    Eof,
}

struct Fallback;

/// One burst of splicing: take a pipe, move what is readable now, give the pipe back.
async fn burst_splice(
    src: &Stream,
    dst: &Stream,
    src_side: Side,
    dst_side: Side,
    act: &Activity,
    count: &AtomicU64,
) -> Result<Result<Moved, Side>, Fallback> {
    let mut pipe = match Pipe::get() {
        Ok(p) => p,
        Err(_) => return Err(Fallback),
    };
    let (sfd, dfd) = (src.as_raw_fd(), dst.as_raw_fd());
    loop {
        let r = src.try_io_read(|| splice(sfd, pipe.write_fd(), CHUNK));
        match r {
            Ok(0) => return Ok(Ok(Moved::Eof)),
            Ok(n) => {
                pipe.pending += n;
                act.touch(src_side);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Ok(Moved::Some)),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && pipe.pending == 0 => {
                return Err(Fallback)
            }
            Err(_) => return Ok(Err(src_side)),
        }
        // Drain the pipe completely before reading more.
        while pipe.pending > 0 {
            match dst.try_io_write(|| splice(pipe.read_fd(), dfd, pipe.pending)) {
                Ok(n) => {
                    pipe.pending -= n;
                    count.fetch_add(n as u64, Ordering::Relaxed);
                    act.touch(dst_side);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if dst.writable().await.is_err() {
                        return Ok(Err(dst_side));
                    }
                }
                Err(_) => return Ok(Err(dst_side)),
            }
        }
    }
}

/// One burst of buffered copying with a pooled buffer.
async fn burst_copy(
    src: &Stream,
    dst: &Stream,
    src_side: Side,
    dst_side: Side,
    act: &Activity,
    count: &AtomicU64,
) -> Result<Moved, Side> {
    let mut buf = BUFS
        .with(|b| b.borrow_mut().pop())
        .unwrap_or_else(|| vec![0u8; BUF_SIZE].into_boxed_slice());
    let r = copy_with(&mut buf, src, dst, src_side, dst_side, act, count).await;
    BUFS.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() < 256 {
            b.push(buf);
        }
    });
    r
}

async fn copy_with(
    buf: &mut [u8],
    src: &Stream,
    dst: &Stream,
    src_side: Side,
    dst_side: Side,
    act: &Activity,
    count: &AtomicU64,
) -> Result<Moved, Side> {
    let (sfd, dfd) = (src.as_raw_fd(), dst.as_raw_fd());
    loop {
        let r = src.try_io_read(|| {
            // SAFETY: valid fd and buffer.
            let n = unsafe { libc::read(sfd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        let n = match r {
            Ok(0) => return Ok(Moved::Eof),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Moved::Some),
            Err(_) => return Err(src_side),
        };
        act.touch(src_side);
        let mut off = 0;
        while off < n {
            let w = dst.try_io_write(|| {
                // SAFETY: valid fd; slice within buf.
                let k = unsafe {
                    libc::send(
                        dfd,
                        buf[off..n].as_ptr().cast(),
                        n - off,
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
                    off += k;
                    count.fetch_add(k as u64, Ordering::Relaxed);
                    act.touch(dst_side);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if dst.writable().await.is_err() {
                        return Err(dst_side);
                    }
                }
                Err(_) => return Err(dst_side),
            }
        }
    }
}
