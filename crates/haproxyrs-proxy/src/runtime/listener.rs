//! Listening sockets from the IR's binds: IPv4/IPv6 (`v4v6`, `v6only`), port ranges, unix
//! and abstract sockets, inherited `fd@N` and `sockpair@N`, `backlog`. Inet binds get one
//! `SO_REUSEPORT` socket per worker so the kernel spreads connections; the others are
//! created once and duplicated per worker (all workers then accept from one queue).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

use haproxyrs_config::ir;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// A listening socket ready for one worker.
#[derive(Debug)]
pub enum RawListener {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
    /// A unix socketpair end over which connections arrive as `SCM_RIGHTS` fds.
    SockPair(OwnedFd),
}

impl RawListener {
    fn try_clone(&self) -> io::Result<RawListener> {
        Ok(match self {
            RawListener::Tcp(l) => RawListener::Tcp(l.try_clone()?),
            RawListener::Unix(l) => RawListener::Unix(l.try_clone()?),
            RawListener::SockPair(fd) => RawListener::SockPair(fd.try_clone()?),
        })
    }
}

/// The listeners of one bind, per worker: `per_worker[w]` is worker `w`'s sockets.
#[derive(Debug)]
pub struct BindListeners {
    pub per_worker: Vec<Vec<RawListener>>,
}

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("cannot bind socket ({err}) for [{addr}]")]
    Bind { addr: String, err: io::Error },
    #[error("fd@{fd} is not a usable socket ({err})")]
    BadFd { fd: RawFd, err: io::Error },
}

/// Opens every socket of `bind` for `workers` workers.
pub fn open(
    bind: &ir::Bind,
    workers: usize,
    default_backlog: u32,
) -> Result<BindListeners, BindError> {
    let backlog = bind
        .backlog
        .unwrap_or(default_backlog)
        .clamp(1, i32::MAX as u32) as i32;
    let workers = workers.max(1);
    let mut per_worker: Vec<Vec<RawListener>> = (0..workers).map(|_| Vec::new()).collect();
    match &bind.addr {
        ir::BindAddr::Inet {
            addr,
            port_lo,
            port_hi,
        } => {
            for port in *port_lo..=*port_hi {
                let sa = SocketAddr::new(*addr, port);
                for w in per_worker.iter_mut() {
                    let l = inet_listener(sa, bind, backlog).map_err(|err| BindError::Bind {
                        addr: sa.to_string(),
                        err,
                    })?;
                    w.push(RawListener::Tcp(l));
                }
            }
        }
        ir::BindAddr::Unix(path) => {
            // A stale socket file from a previous run would make bind() fail.
            if let Ok(md) = std::fs::symlink_metadata(path) {
                use std::os::unix::fs::FileTypeExt;
                if md.file_type().is_socket() {
                    let _ = std::fs::remove_file(path);
                }
            }
            let err = |err| BindError::Bind {
                addr: path.display().to_string(),
                err,
            };
            let l = unix_listener(SockAddr::unix(path).map_err(err)?, backlog).map_err(err)?;
            share(RawListener::Unix(l), &mut per_worker)?;
        }
        ir::BindAddr::Abns(name) => {
            let mut p = vec![0u8];
            p.extend_from_slice(name.as_bytes());
            let sa = abstract_addr(&p).map_err(|err| BindError::Bind {
                addr: format!("abns@{name}"),
                err,
            })?;
            let l = unix_listener(sa, backlog).map_err(|err| BindError::Bind {
                addr: format!("abns@{name}"),
                err,
            })?;
            share(RawListener::Unix(l), &mut per_worker)?;
        }
        ir::BindAddr::Fd(fd) => {
            let l = inherited(*fd)?;
            share(l, &mut per_worker)?;
        }
        ir::BindAddr::SockPair(fd) => {
            let owned = dup_fd(*fd).map_err(|err| BindError::BadFd { fd: *fd, err })?;
            set_nonblocking(&owned).map_err(|err| BindError::BadFd { fd: *fd, err })?;
            // Connections arrive one by one on a single socket: one worker reads it.
            per_worker[0].push(RawListener::SockPair(owned));
        }
    }
    Ok(BindListeners { per_worker })
}

fn share(l: RawListener, per_worker: &mut [Vec<RawListener>]) -> Result<(), BindError> {
    for w in per_worker.iter_mut().skip(1) {
        let c = l.try_clone().map_err(|err| BindError::Bind {
            addr: "dup".into(),
            err,
        })?;
        w.push(c);
    }
    per_worker[0].push(l);
    Ok(())
}

fn abstract_addr(path: &[u8]) -> io::Result<SockAddr> {
    // SAFETY: zeroed sockaddr_un is valid; we fill family and path within bounds.
    unsafe {
        SockAddr::try_init(|storage, len| {
            let un = storage.cast::<libc::sockaddr_un>();
            (*un).sun_family = libc::AF_UNIX as libc::sa_family_t;
            if path.len() > (*un).sun_path.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "abns name too long",
                ));
            }
            for (i, b) in path.iter().enumerate() {
                (*un).sun_path[i] = *b as libc::c_char;
            }
            *len = (std::mem::size_of::<libc::sa_family_t>() + path.len()) as libc::socklen_t;
            Ok(())
        })
    }
    .map(|(_, a)| a)
}

fn inet_listener(
    sa: SocketAddr,
    bind: &ir::Bind,
    backlog: i32,
) -> io::Result<std::net::TcpListener> {
    let s = Socket::new(Domain::for_address(sa), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    if sa.is_ipv6() {
        if bind.v6only {
            s.set_only_v6(true)?;
        } else if bind.v4v6 {
            s.set_only_v6(false)?;
        }
    }
    s.set_nonblocking(true)?;
    s.bind(&sa.into())?;
    s.listen(backlog)?;
    Ok(s.into())
}

fn unix_listener(sa: SockAddr, backlog: i32) -> io::Result<std::os::unix::net::UnixListener> {
    let s = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    s.set_nonblocking(true)?;
    s.bind(&sa)?;
    s.listen(backlog)?;
    Ok(std::os::unix::net::UnixListener::from(OwnedFd::from(s)))
}

fn dup_fd(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a caller-named fd; failure is reported, success gives a
    // fresh fd we own.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: n is a new fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let s = Socket::from(fd.try_clone()?);
    s.set_nonblocking(true)?;
    let _ = s.into_raw_fd();
    Ok(())
}

/// `fd@N`: a socket the parent left open. It must be a listening stream socket. The
/// process takes ownership of the number (so closing the listeners on a soft stop really
/// closes the socket); workers get duplicates.
fn inherited(fd: RawFd) -> Result<RawListener, BindError> {
    // Validate the number first: fcntl fails with EBADF on a closed descriptor.
    // SAFETY: F_GETFD has no side effect.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(BindError::BadFd {
            fd,
            err: std::io::Error::last_os_error(),
        });
    }
    // SAFETY: the parent handed this descriptor to us; nothing else in the process owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // Close-on-exec from now on, like every other socket of the process.
    // SAFETY: plain fcntl on an fd we own.
    unsafe { libc::fcntl(owned.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let s = Socket::from(owned);
    let bad = |err| BindError::BadFd { fd, err };
    s.set_nonblocking(true).map_err(bad)?;
    if !s.is_listener().map_err(bad)? {
        // HAProxy accepts a bound but not yet listening socket: listen on it.
        s.listen(1024).map_err(bad)?;
    }
    let domain = s.domain().map_err(bad)?;
    Ok(if domain == Domain::UNIX {
        RawListener::Unix(std::os::unix::net::UnixListener::from(OwnedFd::from(s)))
    } else {
        RawListener::Tcp(s.into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use haproxyrs_config::span::Span;

    fn bind(addr: ir::BindAddr) -> ir::Bind {
        ir::Bind {
            addr,
            span: Span::new("t".into(), 1, 1),
            backlog: None,
            accept_proxy: false,
            v4v6: false,
            v6only: false,
            maxconn: None,
            name: None,
            ssl: false,
        }
    }

    #[test]
    fn reuseport_socket_per_worker_and_port_range() {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let b = bind(ir::BindAddr::Inet {
            addr: "127.0.0.1".parse().unwrap(),
            port_lo: port,
            port_hi: port,
        });
        let l = open(&b, 2, 128).unwrap();
        assert_eq!(l.per_worker.len(), 2);
        assert_eq!(l.per_worker[1].len(), 1);
    }

    #[test]
    fn inherited_fd_and_unix_and_abns() {
        use std::os::fd::IntoRawFd;
        let parent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let l = open(&bind(ir::BindAddr::Fd(parent.into_raw_fd())), 2, 16).unwrap();
        assert!(matches!(l.per_worker[1][0], RawListener::Tcp(_)));
        assert!(open(&bind(ir::BindAddr::Fd(9999)), 1, 16).is_err());
        let dir = std::env::temp_dir().join(format!("hrs-l-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.sock");
        open(&bind(ir::BindAddr::Unix(p.clone())), 1, 16).unwrap();
        // Stale socket file is replaced.
        open(&bind(ir::BindAddr::Unix(p)), 1, 16).unwrap();
        let name = format!("hrs-test-{}", std::process::id());
        open(&bind(ir::BindAddr::Abns(name)), 1, 16).unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}
