//! [`TcpConn`]: a connected TCP socket that joins the reactor (epoll) only once an
//! operation on it would block.
//!
//! HAProxy's "speculative I/O": a freshly accepted connection usually has its request
//! waiting already, and a small response fits in the socket buffer, so a short
//! request/response exchange on a new client connection completes without the socket
//! ever being registered. Registering costs an `epoll_ctl(ADD)` and, with tokio, an
//! `epoll_ctl(DEL)` before the close; a registered socket also wakes the worker for each
//! segment it receives. A connection whose peer is slower (or idle, or a bulk transfer)
//! is registered at its first `EAGAIN` and from then on behaves as a tokio socket.
//!
//! A socket is registered for what it waits for: a read that would block registers it
//! for `EPOLLIN` only (registering for `EPOLLOUT` too would report "writable" at once: a
//! wasted event and often a wasted `epoll_wait` per connection). If a write then blocks
//! as well, a duplicate of the descriptor is registered for `EPOLLOUT` (epoll keeps one
//! item per descriptor); a connection being set up registers for both at once.

use std::io::{self, IoSlice, Write};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::task::{ready, Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::{Interest, ReadBuf, Ready};

/// A connected, non-blocking TCP socket, registered with the reactor on demand.
#[derive(Debug)]
pub struct TcpConn {
    // Declared before `sock` so that it is dropped first: registrations must be removed
    // while the descriptor is still open.
    reactor: Reactor,
    sock: std::net::TcpStream,
    /// The writes that follow end the connection: a short last segment may wait in the
    /// socket (`MSG_MORE`) for the `shutdown`, so data and FIN leave in one packet.
    closing: bool,
    /// An unregistered socket was found empty by a read: the next read registers it
    /// rather than trying a `recv` that would fail.
    read_drained: bool,
}

impl TcpConn {
    /// Wraps a connected socket; it must already be in non-blocking mode.
    pub fn new(sock: std::net::TcpStream) -> TcpConn {
        TcpConn {
            reactor: Reactor::default(),
            sock,
            closing: false,
            read_drained: false,
        }
    }

    /// Connects to `addr` (`TCP_NODELAY` set). On loopback and other short paths the
    /// handshake usually completes within `connect()` itself: a `getpeername` tells, and
    /// then the connection is used at once without registering (its first read will);
    /// otherwise it waits for the socket to become writable, as usual.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpConn> {
        let domain = socket2::Domain::for_address(addr);
        let sock = socket2::Socket::new(
            domain,
            socket2::Type::STREAM.nonblocking().cloexec(),
            Some(socket2::Protocol::TCP),
        )?;
        let _ = sock.set_nodelay(true);
        let in_progress = match sock.connect(&addr.into()) {
            Ok(()) => false,
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
            Err(e) => return Err(e),
        };
        let conn = TcpConn::new(sock.into());
        if !in_progress || conn.sock.peer_addr().is_ok() {
            return Ok(conn);
        }
        conn.reactor.both(conn.sock.as_raw_fd())?;
        std::future::poll_fn(|cx| conn.poll_write_ready(cx)).await?;
        match conn.sock.take_error()? {
            Some(e) => Err(e),
            None => Ok(conn),
        }
    }

    /// The socket itself (addresses, options).
    pub fn socket(&self) -> &std::net::TcpStream {
        &self.sock
    }

    /// Marks the connection as closing after the writes to come (see `closing`).
    pub fn set_closing(&mut self) {
        self.closing = true;
    }

    /// Polls read readiness, registering the socket first if needed.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let reg = self.reactor.for_reads(self.sock.as_raw_fd())?;
        drop(ready!(reg.poll_read_ready(cx))?); // the caller's next operation consumes it
        Poll::Ready(Ok(()))
    }

    /// Polls write readiness, registering the socket first if needed.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let reg = self.reactor.for_writes(self.sock.as_raw_fd())?;
        drop(ready!(reg.poll_write_ready(cx))?);
        Poll::Ready(Ok(()))
    }

    /// Runs one non-blocking operation. Without a registration for `interest` it is simply
    /// tried; with one, a `WouldBlock` clears the readiness tokio recorded.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        match self.reactor.registered(interest) {
            Some(r) => r.try_io(interest, |_| f()),
            None => f(),
        }
    }

    /// Reads into `buf`'s unfilled part. Before registration the read is simply tried;
    /// after it, it waits for tokio's readiness. A read that returned less than it asked
    /// for emptied the socket: the readiness is dropped then (tick-safe: bytes that came
    /// in since raise it again) and the next read waits for epoll instead of paying for
    /// a `recv` that would fail with `EAGAIN` (HAProxy does the same). Before
    /// registration, that next read registers the socket straight away.
    pub fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let fd = self.sock.as_raw_fd();
        let want = buf.remaining();
        loop {
            let registered = match self.reactor.registered(Interest::READABLE) {
                Some(r) => Some(r),
                None if self.read_drained => Some(self.reactor.for_reads(fd)?),
                None => None,
            };
            let mut guard = match registered {
                Some(r) => Some(ready!(r.poll_read_ready(cx))?),
                None => None,
            };
            // SAFETY: recv writes at most `unfilled.len()` bytes into memory it may treat
            // as uninitialised; exactly the `n` bytes it reports are marked initialised.
            let r = unsafe {
                let unfilled = buf.unfilled_mut();
                let n = raw_recv(fd, unfilled.as_mut_ptr().cast(), unfilled.len());
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    buf.assume_init(n as usize);
                    buf.advance(n as usize);
                    Ok(n as usize)
                }
            };
            let drained = match &r {
                Ok(n) => *n > 0 && *n < want,
                Err(e) => e.kind() == io::ErrorKind::WouldBlock,
            };
            if drained {
                match guard.as_mut() {
                    Some(g) => g.clear_ready_matching(Ready::READABLE),
                    None => self.read_drained = true,
                }
            }
            match r {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Writes from `buf`: tried at once, then on readiness. When closing, a partial last
    /// segment is held (`MSG_MORE`) until the `shutdown` that follows sends it with the FIN.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let flags = libc::MSG_NOSIGNAL | if self.closing { libc::MSG_MORE } else { 0 };
        let fd = self.sock.as_raw_fd();
        loop {
            let r = self.try_io(Interest::WRITABLE, || {
                // SAFETY: valid socket; buf is a readable slice of buf.len() bytes.
                let n = unsafe { raw_send(fd, buf.as_ptr().cast(), buf.len(), flags) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match r {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.poll_write_ready(cx))?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r),
            }
        }
    }

    /// Vectored write (`writev`), tried at once, then on readiness.
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.try_io(Interest::WRITABLE, || (&self.sock).write_vectored(bufs)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.poll_write_ready(cx))?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r),
            }
        }
    }

    /// Removes the socket's registration (`EPOLL_CTL_DEL`) while a relay cannot take
    /// what arrives (its destination is full): each segment would otherwise wake the
    /// worker for nothing. Operations are then tried directly again, and the next one
    /// that would block registers the socket anew. The caller must not be waiting on
    /// this socket's readiness. Returns whether it was removed.
    pub fn pause_reads(&mut self) -> bool {
        if self.reactor.writes.get().is_none() && self.reactor.primary.take().is_some() {
            return true;
        }
        false
    }
}

/// A socket's reactor registrations, each made on first need (see the module doc).
#[derive(Debug, Default)]
struct Reactor {
    /// The descriptor itself, with whether it was registered for writes too. `None`
    /// inside: the registration failed, and the connection cannot wait.
    primary: OnceLock<Option<(AsyncFd<RawFd>, bool)>>,
    /// A duplicate registered for writes, when `primary` has reads only.
    writes: OnceLock<Option<Box<WriteReg>>>,
}

/// A duplicate of the socket's descriptor registered for writes. The registration is
/// declared first so that it is removed before the duplicate closes.
#[derive(Debug)]
struct WriteReg {
    reg: AsyncFd<RawFd>,
    _dup: OwnedFd,
}

impl Reactor {
    /// Registers `fd` for reads and writes at once (a connection being set up).
    fn both(&self, fd: RawFd) -> io::Result<()> {
        self.primary(fd, true).map(|_| ())
    }

    fn primary(&self, fd: RawFd, writes: bool) -> io::Result<&(AsyncFd<RawFd>, bool)> {
        self.primary
            .get_or_init(|| {
                let interest = if writes {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                // SAFETY: `fd` belongs to the connection's socket, which stays open for as
                // long as this registration lives (it is dropped first, see the fields).
                unsafe { AsyncFd::register_with_interest(fd, interest) }
                    .map_err(|e| log::warn!("cannot register a socket with the reactor: {e}"))
                    .ok()
                    .map(|r| (r, writes))
            })
            .as_ref()
            .ok_or_else(not_registered)
    }

    /// The registration that reports read readiness, made now if needed.
    fn for_reads(&self, fd: RawFd) -> io::Result<&AsyncFd<RawFd>> {
        self.primary(fd, false).map(|(r, _)| r)
    }

    /// The registration that reports write readiness, made now if needed.
    fn for_writes(&self, fd: RawFd) -> io::Result<&AsyncFd<RawFd>> {
        let (primary, writes) = self.primary(fd, true)?;
        if *writes {
            return Ok(primary);
        }
        self.writes
            .get_or_init(|| {
                // SAFETY: `fd` is the connection's open socket for the whole call.
                let dup = unsafe { BorrowedFd::borrow_raw(fd) }
                    .try_clone_to_owned()
                    .ok()?;
                // SAFETY: the duplicate is owned next to its registration in `WriteReg`,
                // which drops the registration first.
                let r =
                    unsafe { AsyncFd::register_with_interest(dup.as_raw_fd(), Interest::WRITABLE) }
                        .map_err(|e| log::warn!("cannot register a socket with the reactor: {e}"))
                        .ok()?;
                Some(Box::new(WriteReg { reg: r, _dup: dup }))
            })
            .as_ref()
            .map(|w| &w.reg)
            .ok_or_else(not_registered)
    }

    /// The existing registration that reports `interest`, if any.
    fn registered(&self, interest: Interest) -> Option<&AsyncFd<RawFd>> {
        let (primary, writes) = self.primary.get()?.as_ref()?;
        if interest.is_readable() || *writes {
            return Some(primary);
        }
        self.writes.get()?.as_ref().map(|w| &w.reg)
    }
}

// `recv`/`send` as direct system calls: glibc's wrappers are thread-cancellation points
// and pay for switching cancellation on and off around each call (1-1.5 % of the CPU of a
// keep-alive request here); the proxy never cancels threads.

/// SAFETY: `buf` must be valid for writes of `len` bytes.
unsafe fn raw_recv(fd: RawFd, buf: *mut libc::c_void, len: usize) -> isize {
    let null = std::ptr::null_mut::<libc::sockaddr>();
    libc::syscall(libc::SYS_recvfrom, fd, buf, len, 0, null, null) as isize
}

/// SAFETY: `buf` must be valid for reads of `len` bytes.
unsafe fn raw_send(fd: RawFd, buf: *const libc::c_void, len: usize, flags: libc::c_int) -> isize {
    let null = std::ptr::null::<libc::sockaddr>();
    libc::syscall(libc::SYS_sendto, fd, buf, len, flags, null, 0) as isize
}

fn not_registered() -> io::Error {
    io::Error::other("socket not registered with the reactor")
}

impl AsRawFd for TcpConn {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for TcpConn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::io::Read;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn pair() -> (std::net::TcpListener, SocketAddr) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        (l, a)
    }

    #[tokio::test]
    async fn exchange_without_registration_when_data_is_waiting() {
        let (l, a) = pair();
        let mut peer = std::net::TcpStream::connect(a).unwrap();
        let (s, _) = l.accept().unwrap();
        s.set_nonblocking(true).unwrap();
        peer.write_all(b"ping").unwrap();
        // Wait (bounded) until the bytes are queued on the accepted socket.
        let mut probe = [0u8; 4];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while s.peek(&mut probe).map_or(true, |n| n < 4) {
            assert!(std::time::Instant::now() < deadline, "data never arrived");
            std::thread::yield_now();
        }
        let mut c = crate::runtime::conn::Stream::Tcp(TcpConn::new(s));
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        c.write_all(b"pong").await.unwrap();
        let crate::runtime::conn::Stream::Tcp(t) = &c else {
            unreachable!()
        };
        assert!(
            t.reactor.primary.get().is_none(),
            "a ready exchange must not register"
        );
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"pong");
    }

    #[tokio::test]
    async fn waits_for_data_through_the_reactor() {
        let (l, a) = pair();
        let mut peer = std::net::TcpStream::connect(a).unwrap();
        let (s, _) = l.accept().unwrap();
        s.set_nonblocking(true).unwrap();
        let mut c = crate::runtime::conn::Stream::Tcp(TcpConn::new(s));
        let mut buf = [0u8; 4];
        let mut read = std::pin::pin!(c.read_exact(&mut buf));
        // Nothing sent yet: the read registers the socket and waits.
        let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
        assert!(first.is_pending());
        peer.write_all(b"late").unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), read)
            .await
            .expect("read timed out")
            .unwrap();
        assert_eq!(&buf, b"late");
        let crate::runtime::conn::Stream::Tcp(t) = &c else {
            unreachable!()
        };
        assert!(t.reactor.registered(Interest::READABLE).is_some());
        assert!(
            t.reactor.registered(Interest::WRITABLE).is_none(),
            "a read registers for reads only"
        );
    }

    #[tokio::test]
    async fn a_blocked_write_after_a_read_registration_completes() {
        let (l, a) = pair();
        let peer = std::net::TcpStream::connect(a).unwrap();
        let (s, _) = l.accept().unwrap();
        s.set_nonblocking(true).unwrap();
        let mut c = crate::runtime::conn::Stream::Tcp(TcpConn::new(s));
        // A read with nothing to read registers the socket for reads only.
        let mut b = [0u8; 1];
        {
            let mut read = std::pin::pin!(c.read(&mut b));
            let polled = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
            assert!(polled.is_pending());
        }
        // More than the socket buffers hold: the write blocks until the peer reads.
        let data = vec![7u8; 32 << 20];
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            wait.recv().unwrap();
            let mut p = peer;
            let mut got = vec![0u8; 32 << 20];
            p.read_exact(&mut got).unwrap();
            got.iter().all(|&x| x == 7)
        });
        let mut write = std::pin::pin!(c.write_all(&data));
        let polled = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
        assert!(
            polled.is_pending(),
            "the write should have filled the buffers"
        );
        go.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(20), write)
            .await
            .expect("a blocked write never resumed")
            .unwrap();
        assert!(reader.join().unwrap());
        let crate::runtime::conn::Stream::Tcp(t) = &c else {
            unreachable!()
        };
        assert!(t.reactor.writes.get().is_some_and(|w| w.is_some()));
    }

    /// Bytes queued on a socket that were not sent yet (`SIOCOUTQNSD`).
    fn not_sent(fd: RawFd) -> libc::c_int {
        const SIOCOUTQNSD: libc::c_ulong = 0x894B;
        let mut n: libc::c_int = -1;
        // SAFETY: a valid socket and an int out-parameter, as the ioctl expects.
        assert_eq!(unsafe { libc::ioctl(fd, SIOCOUTQNSD, &mut n) }, 0);
        n
    }

    #[tokio::test]
    async fn closing_write_waits_for_the_fin() {
        let (l, a) = pair();
        let mut peer = std::net::TcpStream::connect(a).unwrap();
        let (s, _) = l.accept().unwrap();
        s.set_nonblocking(true).unwrap();
        s.set_nodelay(true).unwrap();
        let mut stream = crate::runtime::conn::Stream::Tcp(TcpConn::new(s));
        stream.write_all(b"hello").await.unwrap();
        let fd = stream.as_raw_fd();
        assert_eq!(not_sent(fd), 0, "an ordinary write leaves at once");
        stream.set_closing();
        stream.write_all(b"bye").await.unwrap();
        assert_eq!(not_sent(fd), 3, "the last write waits for the FIN");
        stream.shutdown().await.unwrap();
        let mut all = Vec::new();
        peer.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        peer.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"hellobye");
    }

    #[tokio::test]
    async fn a_completed_connect_is_not_registered() {
        let (l, a) = pair();
        let c = TcpConn::connect(a).await.unwrap();
        let (mut peer, _) = l.accept().unwrap();
        assert!(c.reactor.primary.get().is_none());
        let mut stream = crate::runtime::conn::Stream::Tcp(c);
        stream.write_all(b"hi").await.unwrap();
        let mut got = [0u8; 2];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hi");
    }

    #[tokio::test]
    async fn connect_reports_refusal() {
        let (l, a) = pair();
        drop(l);
        assert!(TcpConn::connect(a).await.is_err());
    }
}
