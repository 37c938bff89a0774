//! Connection types shared by every engine: the byte [`Stream`] (TCP or unix), the
//! address of either end ([`ConnAddr`]) and an accepted client connection ([`ClientConn`])
//! with the `maxconn` permits it holds for its whole life.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

pub use super::tcp_conn::TcpConn;
use tokio::net::UnixStream;
use tokio::sync::OwnedSemaphorePermit;

/// A connected byte stream to a client or a server.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpConn),
    Unix(UnixStream),
}

impl Stream {
    /// Waits until the socket is readable (used by the splice relay, which reads with
    /// `splice(2)` itself rather than through tokio).
    pub async fn readable(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => std::future::poll_fn(|cx| s.poll_read_ready(cx)).await,
            Stream::Unix(s) => s.readable().await,
        }
    }

    /// Waits until the socket is writable.
    pub async fn writable(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => std::future::poll_fn(|cx| s.poll_write_ready(cx)).await,
            Stream::Unix(s) => s.writable().await,
        }
    }

    /// Polls read readiness (registers the task's waker when not ready).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Stream::Tcp(s) => s.poll_read_ready(cx),
            Stream::Unix(s) => s.poll_read_ready(cx),
        }
    }

    /// Polls write readiness (registers the task's waker when not ready).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Stream::Tcp(s) => s.poll_write_ready(cx),
            Stream::Unix(s) => s.poll_write_ready(cx),
        }
    }

    /// Runs a non-blocking syscall closure for reading, clearing readiness on `WouldBlock`.
    pub fn try_io_read<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        match self {
            Stream::Tcp(s) => s.try_io(Interest::READABLE, f),
            Stream::Unix(s) => s.try_io(Interest::READABLE, f),
        }
    }

    /// Runs a non-blocking syscall closure for writing, clearing readiness on `WouldBlock`.
    pub fn try_io_write<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        match self {
            Stream::Tcp(s) => s.try_io(Interest::WRITABLE, f),
            Stream::Unix(s) => s.try_io(Interest::WRITABLE, f),
        }
    }

    /// Reads available bytes without blocking and without consuming them (`MSG_PEEK`).
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let fd = self.as_raw_fd();
        self.try_io_read(|| {
            // SAFETY: fd is a valid socket owned by self; buf is a valid writable slice.
            let n = unsafe {
                libc::recv(
                    fd,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_PEEK | libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        })
    }

    /// See [`TcpConn::pause_reads`] (unix sockets: nothing to do).
    pub fn pause_reads(&mut self) -> bool {
        match self {
            Stream::Tcp(s) => s.pause_reads(),
            Stream::Unix(_) => false,
        }
    }

    /// `shutdown(SHUT_WR)`: propagate a half-close (on TCP it also sends a last segment
    /// held by `MSG_MORE`, with the FIN).
    pub fn shutdown_write(&self) -> io::Result<()> {
        // SAFETY: valid fd owned by self.
        let r = unsafe { libc::shutdown(self.as_raw_fd(), libc::SHUT_WR) };
        if r < 0 {
            let e = io::Error::last_os_error();
            // Already disconnected: nothing left to propagate.
            if e.raw_os_error() == Some(libc::ENOTCONN) {
                return Ok(());
            }
            return Err(e);
        }
        Ok(())
    }

    pub fn set_nodelay(&self) {
        if let Stream::Tcp(s) = self {
            let _ = s.socket().set_nodelay(true);
        }
    }

    /// The writes that follow are the connection's last (see [`TcpConn::set_closing`]).
    pub fn set_closing(&mut self) {
        if let Stream::Tcp(s) = self {
            s.set_closing();
        }
    }

    /// Address of the remote end.
    pub fn peer_addr(&self) -> ConnAddr {
        match self {
            Stream::Tcp(s) => s
                .socket()
                .peer_addr()
                .map(ConnAddr::Inet)
                .unwrap_or(ConnAddr::Unknown),
            Stream::Unix(s) => s
                .peer_addr()
                .ok()
                .map(|a| ConnAddr::Unix(a.as_pathname().map(PathBuf::from)))
                .unwrap_or(ConnAddr::Unknown),
        }
    }

    /// Address of the local end.
    pub fn local_addr(&self) -> ConnAddr {
        match self {
            Stream::Tcp(s) => s
                .socket()
                .local_addr()
                .map(ConnAddr::Inet)
                .unwrap_or(ConnAddr::Unknown),
            Stream::Unix(s) => s
                .local_addr()
                .ok()
                .map(|a| ConnAddr::Unix(a.as_pathname().map(PathBuf::from)))
                .unwrap_or(ConnAddr::Unknown),
        }
    }
}

/// Connects to an abstract unix socket (`abns@name`); the connect itself does not block.
pub fn connect_abns(name: &str) -> io::Result<UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let a = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    let s = std::os::unix::net::UnixStream::connect_addr(&a)?;
    s.set_nonblocking(true)?;
    UnixStream::from_std(s)
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => s.poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => s.poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(_) => Poll::Ready(Ok(())),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            this @ Stream::Tcp(_) => Poll::Ready(this.shutdown_write()),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => s.poll_write_vectored(cx, bufs),
            Stream::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}

/// The address of one end of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnAddr {
    Inet(SocketAddr),
    /// A unix socket (unnamed peers have no path).
    Unix(Option<PathBuf>),
    Unknown,
}

impl ConnAddr {
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        match self {
            ConnAddr::Inet(a) => Some(a.ip()),
            _ => None,
        }
    }
    pub fn port(&self) -> Option<u16> {
        match self {
            ConnAddr::Inet(a) => Some(a.port()),
            _ => None,
        }
    }
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match self {
            ConnAddr::Inet(a) => Some(*a),
            _ => None,
        }
    }
}

impl fmt::Display for ConnAddr {
    /// HAProxy's log rendering: `ip:port`, `unix` for unix sockets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnAddr::Inet(a) => write!(f, "{}:{}", a.ip(), a.port()),
            ConnAddr::Unix(_) => f.write_str("unix"),
            ConnAddr::Unknown => f.write_str("-"),
        }
    }
}

/// The `maxconn` permits (global, frontend, bind) an accepted connection holds until dropped.
#[derive(Debug, Default)]
pub struct ConnPermits {
    pub(crate) _global: Option<OwnedSemaphorePermit>,
    pub(crate) _frontend: Option<OwnedSemaphorePermit>,
    pub(crate) _bind: Option<OwnedSemaphorePermit>,
    pub(crate) _count: Option<super::frontend::ConnCount>,
}

/// An accepted client connection, handed to `tcp::serve` or `http::serve`.
#[derive(Debug)]
pub struct ClientConn {
    pub stream: Stream,
    /// The client (after `accept-proxy`, the address the PROXY header announced).
    pub peer: ConnAddr,
    /// The address the client connected to (after `accept-proxy`, the announced one).
    pub local: ConnAddr,
    /// Index of the bind in the frontend's `binds` it was accepted on.
    pub bind_idx: usize,
    /// Wall-clock accept date (`%t` in logs) and monotonic accept instant (timers).
    pub accept_date: SystemTime,
    pub accept_instant: Instant,
    /// Released when the connection is dropped.
    pub permits: ConnPermits,
}
