//! `sockpair@N`: the parent process passes already-accepted connections over a unix
//! socketpair, one file descriptor per message (`SCM_RIGHTS`), as HAProxy's sockpair
//! protocol does. Each received descriptor becomes a client [`Stream`].

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use socket2::{Domain, Socket};
use tokio::io::unix::AsyncFd;

use super::conn::Stream;

pub struct SockPairListener {
    fd: AsyncFd<OwnedFd>,
}

impl SockPairListener {
    pub fn new(fd: OwnedFd) -> io::Result<SockPairListener> {
        // SAFETY: OwnedFd keeps its descriptor open and unchanged for the AsyncFd's life.
        let fd = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        Ok(SockPairListener { fd })
    }

    pub async fn accept(&self) -> io::Result<Stream> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| recv_fd(fd.as_raw_fd())) {
                Ok(Ok(Some(fd))) => return into_stream(fd),
                Ok(Ok(None)) => {
                    // The parent closed its end: no more connections will come.
                    std::future::pending::<()>().await;
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

fn into_stream(fd: OwnedFd) -> io::Result<Stream> {
    let s = Socket::from(fd);
    s.set_nonblocking(true)?;
    if s.domain()? == Domain::UNIX {
        let std_s = std::os::unix::net::UnixStream::from(OwnedFd::from(s));
        Ok(Stream::Unix(tokio::net::UnixStream::from_std(std_s)?))
    } else {
        let _ = s.set_nodelay(true);
        let std_s: std::net::TcpStream = s.into();
        Ok(Stream::Tcp(super::conn::TcpConn::new(std_s)))
    }
}

/// Receives one message; returns the first passed descriptor (others are closed).
/// `Ok(None)` on EOF.
fn recv_fd(sock: RawFd) -> io::Result<Option<OwnedFd>> {
    let mut data = [0u8; 64];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // Room for a few descriptors.
    let mut cmsg = [0u64; 16];
    // SAFETY: msghdr zero-initialised then pointed at live local buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg) as _;
    // SAFETY: valid socket and msghdr.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut first: Option<OwnedFd> = None;
    // SAFETY: walking the control messages the kernel just filled in.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let payload = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let count = payload / std::mem::size_of::<RawFd>();
                let p = libc::CMSG_DATA(c).cast::<RawFd>();
                for k in 0..count {
                    let fd = OwnedFd::from_raw_fd(std::ptr::read_unaligned(p.add(k)));
                    if first.is_none() {
                        first = Some(fd);
                    }
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if first.is_none() && n == 0 {
        return Ok(None);
    }
    match first {
        Some(fd) => Ok(Some(fd)),
        // A message without a descriptor: ignore it.
        None => Err(io::Error::from(io::ErrorKind::WouldBlock)),
    }
}
