//! The accept loop of one listening socket in one worker: take the `maxconn` permits
//! first (global, frontend, bind), then accept, then hand the connection to a session
//! task. Running out of file descriptors pauses the loop briefly instead of spinning.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use super::conn::{ClientConn, ConnAddr, ConnPermits, Stream};
use super::frontend::FrontendRt;
use super::listener::RawListener;
use super::sockpair::SockPairListener;
use super::{session, Limits, Phase};

/// A listener registered with this worker's runtime.
pub enum Listener {
    /// With the bound address when it is a specific one: every connection accepted on
    /// it has that local address, so no `getsockname` per connection is needed.
    Tcp(TcpListener, Option<SocketAddr>),
    Unix(UnixListener),
    SockPair(SockPairListener),
}

impl Listener {
    pub fn from_raw(l: RawListener) -> io::Result<Listener> {
        Ok(match l {
            RawListener::Tcp(l) => {
                // Accepted sockets inherit TCP_NODELAY from the listener (Linux): one
                // setsockopt here instead of one per connection.
                let _ = socket2::SockRef::from(&l).set_nodelay(true);
                let local = l.local_addr().ok().filter(|a| !a.ip().is_unspecified());
                Listener::Tcp(TcpListener::from_std(l)?, local)
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
                let (s, peer) = l.accept().await?;
                let local = match local {
                    Some(a) => ConnAddr::Inet(*a),
                    None => s.local_addr().map_or(ConnAddr::Unknown, ConnAddr::Inet),
                };
                Ok((Stream::Tcp(s), ConnAddr::Inet(peer), local))
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
        let permits = tokio::select! {
            p = async {
                let bind = permit(&limits.bind).await;
                let frontend = permit(&limits.frontend).await;
                let global = Arc::clone(&limits.global).acquire_owned().await.ok();
                ConnPermits { _global: global, _frontend: frontend, _bind: bind, _count: None }
            } => p,
            _ = phase.changed() => break,
        };
        let accepted = tokio::select! {
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
                tokio::spawn(session::start(Arc::clone(&fe), conn));
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
