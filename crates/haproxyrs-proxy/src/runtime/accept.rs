//! The accept loop of one listening socket in one worker: take the `maxconn` permits
//! first (global, frontend, bind), then accept, then hand the connection to a session
//! task. Running out of file descriptors pauses the loop briefly instead of spinning.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::unix::AsyncFd;
use tokio::net::UnixListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use super::conn::{ClientConn, ConnAddr, ConnPermits, Stream, TcpConn};
use super::frontend::FrontendRt;
use super::listener::RawListener;
use super::sockpair::SockPairListener;
use super::{session, Limits, Phase};

/// A listener registered with this worker's runtime.
pub enum Listener {
    /// With the bound address when it is a specific one: every connection accepted on
    /// it has that local address, so no `getsockname` per connection is needed.
    /// Accepted sockets are not registered with the reactor ([`TcpConn`]).
    Tcp(AsyncFd<std::net::TcpListener>, Option<SocketAddr>),
    Unix(UnixListener),
    SockPair(SockPairListener),
}

impl Listener {
    /// `smart_accept`: accepted connections start with delayed ACKs (see
    /// [`haproxyrs_config::ir::Frontend::smart_accept`]).
    pub fn from_raw(l: RawListener, smart_accept: bool) -> io::Result<Listener> {
        Ok(match l {
            RawListener::Tcp(l) => {
                // Accepted sockets inherit TCP_NODELAY and the quick-ACK mode from the
                // listener (Linux): one setsockopt here instead of one per connection.
                let _ = socket2::SockRef::from(&l).set_nodelay(true);
                set_quickack(&l, !smart_accept);
                let local = l.local_addr().ok().filter(|a| !a.ip().is_unspecified());
                // SAFETY: the listener is moved into the registration and owned by it, so
                // its descriptor stays open and the same for the registration's life.
                let l =
                    unsafe { AsyncFd::register_with_interest(l, tokio::io::Interest::READABLE) }?;
                Listener::Tcp(l, local)
            }
            RawListener::Unix(l) => Listener::Unix(UnixListener::from_std(l)?),
            RawListener::SockPair(fd) => Listener::SockPair(SockPairListener::new(fd)?),
        })
    }

    /// Accepts one connection with its peer and local addresses, taking them from
    /// `accept4` and the listener where possible instead of asking the kernel again.
    async fn accept(&self) -> io::Result<(Stream, ConnAddr, ConnAddr)> {
        match self {
            Listener::Tcp(l, local) => {
                let (s, peer) = loop {
                    let mut ready = l.readable().await?;
                    if let Ok(r) = ready.try_io(|l| accept_tcp(l.get_ref())) {
                        break r?;
                    }
                };
                let local = match local {
                    Some(a) => ConnAddr::Inet(*a),
                    None => s.local_addr().map_or(ConnAddr::Unknown, ConnAddr::Inet),
                };
                let peer = peer.map_or(ConnAddr::Unknown, ConnAddr::Inet);
                Ok((Stream::Tcp(TcpConn::new(s)), peer, local))
            }
            Listener::Unix(l) => {
                let s = Stream::Unix(l.accept().await?.0);
                let (peer, local) = (s.peer_addr(), s.local_addr());
                Ok((s, peer, local))
            }
            Listener::SockPair(l) => {
                let s = l.accept().await?;
                let (peer, local) = (s.peer_addr(), s.local_addr());
                Ok((s, peer, local))
            }
        }
    }
}

fn set_quickack(l: &std::net::TcpListener, on: bool) {
    use std::os::fd::AsRawFd;
    let v = libc::c_int::from(on);
    // SAFETY: a valid socket and a c_int option value of the size given.
    unsafe {
        libc::setsockopt(
            l.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// `accept4` straight into a non-blocking socket (no `fcntl`, no reactor registration),
/// with the peer address from the call itself.
fn accept_tcp(l: &std::net::TcpListener) -> io::Result<(std::net::TcpStream, Option<SocketAddr>)> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let lfd = l.as_raw_fd();
    // SAFETY: accept4 fills at most `*len` bytes of the storage socket2 provides and
    // returns a new descriptor we take ownership of right away.
    let (fd, addr) = unsafe {
        socket2::SockAddr::try_init(|storage, len| {
            let fd = libc::accept4(
                lfd,
                storage.cast(),
                len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            );
            if fd < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(std::net::TcpStream::from_raw_fd(fd))
            }
        })?
    };
    Ok((fd, addr.as_socket()))
}

async fn permit(sem: &Option<Arc<Semaphore>>) -> Option<OwnedSemaphorePermit> {
    match sem {
        Some(s) => Arc::clone(s).acquire_owned().await.ok(),
        None => None,
    }
}

/// True for errors that mean "out of resources": back off rather than retry at once.
fn is_resource_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

pub async fn accept_loop(
    fe: Arc<FrontendRt>,
    bind_idx: usize,
    listener: Listener,
    limits: Limits,
    mut phase: watch::Receiver<Phase>,
) {
    let mut last_warn: Option<Instant> = None;
    loop {
        // `biased`: the permits and the accept are tried first, so a busy listener does not
        // register a waiter on the phase channel (and draw a random number) per connection.
        let permits = tokio::select! {
            biased;
            p = async {
                let bind = permit(&limits.bind).await;
                let frontend = permit(&limits.frontend).await;
                let global = Arc::clone(&limits.global).acquire_owned().await.ok();
                ConnPermits { _global: global, _frontend: frontend, _bind: bind, _count: None }
            } => p,
            _ = phase.changed() => break,
        };
        let accepted = tokio::select! {
            biased;
            r = listener.accept() => r,
            _ = phase.changed() => break,
        };
        match accepted {
            Ok((stream, peer, local)) => {
                let conn = ClientConn {
                    peer,
                    local,
                    stream,
                    bind_idx,
                    accept_date: SystemTime::now(),
                    accept_instant: Instant::now(),
                    permits,
                };
                session::spawn(Arc::clone(&fe), conn);
            }
            Err(e) if is_resource_error(&e) => {
                if last_warn.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                    log::warn!(
                        "frontend '{}': accept() failed ({e}); pausing the listener",
                        fe.cfg().name
                    );
                    last_warn = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => log::debug!("frontend '{}': accept() failed: {e}", fe.cfg().name),
        }
        if *phase.borrow() != Phase::Running {
            break;
        }
    }
}
