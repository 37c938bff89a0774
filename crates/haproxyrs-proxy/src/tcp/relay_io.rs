//! [`RelayIo`]: what the relay ([`super::relay`]) needs from the two connections it moves
//! bytes between. TCP sessions relay runtime [`Stream`]s; the HTTP engine, generic over its
//! connection types so its unit tests can use plain tokio sockets, relays its tunnels
//! (after `101`/`CONNECT`) through the same code with whatever types it was given.
//!
//! Every byte stream can be relayed with copies through a pooled buffer; a stream that is a
//! runtime socket also exposes it, and a direction between two such sockets splices.

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::runtime::conn::Stream;

/// A connection the relay can read from, write to and half-close.
pub trait RelayIo: AsyncRead + AsyncWrite + Unpin {
    /// The runtime socket underneath, for `splice(2)` and readiness; `None`: the bytes of
    /// this connection are copied.
    fn socket(&self) -> Option<&Stream> {
        None
    }

    /// Stops watching for reads while the relay cannot take them (its destination is
    /// full); see [`crate::runtime::conn::TcpConn::pause_reads`].
    fn pause_reads(&mut self) {}

    /// Sends a FIN after what was written (the other direction keeps flowing).
    fn shutdown_write(&mut self) -> io::Result<()>;
}

impl RelayIo for Stream {
    fn socket(&self) -> Option<&Stream> {
        Some(self)
    }

    fn pause_reads(&mut self) {
        Stream::pause_reads(self);
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        Stream::shutdown_write(self)
    }
}

/// Plain tokio sockets (the HTTP engine's unit tests): copied, never spliced.
impl RelayIo for tokio::net::TcpStream {
    fn shutdown_write(&mut self) -> io::Result<()> {
        match socket2::SockRef::from(&*self).shutdown(std::net::Shutdown::Write) {
            Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => Ok(()),
            r => r,
        }
    }
}
