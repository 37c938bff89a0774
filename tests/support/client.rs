//! A raw client: send exact bytes, read with deadlines until close or until enough responses,
//! split what came back into HTTP responses, and say whether the server closed.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::http1::{self, Message};
use super::WAIT;

/// What a connection received.
#[derive(Clone, Debug, Default)]
pub struct Received {
    pub bytes: Vec<u8>,
    /// The server closed (EOF or reset) before we stopped reading.
    pub closed: bool,
    /// The server reset the connection (ECONNRESET).
    pub reset: bool,
    /// The connection was refused (nothing listening any more).
    pub refused: bool,
    /// Requests we sent on this connection that were HEAD, in order (for body framing).
    pub head_flags: Vec<bool>,
}

impl Received {
    /// Complete HTTP responses, and any leftover bytes that do not form one.
    pub fn responses(&self) -> (Vec<Message>, Vec<u8>) {
        http1::split_responses(&self.bytes, &self.head_flags, self.closed)
    }

    /// Exactly one complete response or a panic showing the raw bytes.
    pub fn one_response(&self) -> Message {
        let (mut r, rest) = self.responses();
        if r.len() != 1 || !rest.is_empty() {
            panic!(
                "expected one complete response, got {} (+{} stray bytes), closed={}:\n{}",
                r.len(),
                rest.len(),
                self.closed,
                http1::show(&self.bytes)
            );
        }
        r.remove(0)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// One client connection.
pub struct Client {
    pub stream: TcpStream,
    pub received: Received,
    sent: Vec<u8>,
}

impl Client {
    /// Connect with a bounded timeout; panics when refused.
    pub fn connect(addr: SocketAddr) -> Client {
        Client::try_connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
    }

    /// Connect with a bounded timeout.
    pub fn try_connect(addr: SocketAddr) -> std::io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, WAIT)?;
        let _ = stream.set_nodelay(true);
        Ok(Client {
            stream,
            received: Received::default(),
            sent: Vec::new(),
        })
    }

    /// Send exact bytes (all of them).
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        let bytes = bytes.as_ref();
        let _ = self.stream.set_write_timeout(Some(WAIT));
        // A write error is an outcome (the server may have closed), not a harness failure.
        if self.stream.write_all(bytes).is_err() {
            self.received.closed = true;
        }
        self.sent.extend_from_slice(bytes);
        self.received.head_flags = http1::split_requests(&self.sent)
            .0
            .iter()
            .map(|m| m.method().eq_ignore_ascii_case("HEAD"))
            .collect();
        self
    }

    /// Half-close our side (the server sees EOF).
    pub fn shutdown_write(&mut self) -> &mut Self {
        let _ = self.stream.shutdown(Shutdown::Write);
        self
    }

    /// Read until the server closes or `timeout` passes. Returns whether it closed.
    pub fn read_until_close(&mut self, timeout: Duration) -> bool {
        self.read_while(timeout, |_| true)
    }

    /// Read until `n` complete responses have arrived (or close, or `timeout`).
    pub fn read_responses(&mut self, n: usize, timeout: Duration) -> Vec<Message> {
        self.read_while(timeout, |r| r.responses().0.len() < n);
        self.received.responses().0
    }

    /// Read until at least `n` bytes have arrived in total (or close, or `timeout`).
    pub fn read_bytes(&mut self, n: usize, timeout: Duration) -> &[u8] {
        self.read_while(timeout, |r| r.bytes.len() < n);
        &self.received.bytes
    }

    /// Read while `more(received)` says so, the peer is open and the deadline is ahead.
    /// Returns whether the peer closed.
    pub fn read_while(&mut self, timeout: Duration, more: impl Fn(&Received) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut chunk = vec![0u8; 65536];
        while !self.received.closed && more(&self.received) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let _ = self
                .stream
                .set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))));
            match self.stream.read(&mut chunk) {
                Ok(0) => self.received.closed = true,
                Ok(n) => self.received.bytes.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                    break
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.received.closed = true;
                    self.received.reset = e.kind() == ErrorKind::ConnectionReset;
                }
            }
        }
        self.received.closed
    }
}

/// Connect, send `bytes`, read until close or `timeout`.
pub fn exchange(addr: SocketAddr, bytes: impl AsRef<[u8]>, timeout: Duration) -> Received {
    let mut c = Client::connect(addr);
    c.send(bytes);
    c.read_until_close(timeout);
    c.received
}

/// Send one request and return its response, not waiting for a close.
pub fn request(addr: SocketAddr, bytes: impl AsRef<[u8]>) -> Message {
    let mut c = Client::connect(addr);
    c.send(bytes);
    let r = c.read_responses(1, WAIT);
    match r.into_iter().next() {
        Some(m) => m,
        None => panic!(
            "no complete response from {addr} within {WAIT:?} (closed={}):\n{}",
            c.received.closed,
            http1::show(&c.received.bytes)
        ),
    }
}

/// `GET <path>` with a Host header, answer parsed.
pub fn get(addr: SocketAddr, path: &str) -> Message {
    request(
        addr,
        format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n"),
    )
}
