//! PROXY protocol v1 (text) and v2 (binary): building the header sent to a server
//! (`send-proxy`, `send-proxy-v2`) and parsing the header a client sends on a bind with
//! `accept-proxy`. Byte-exact with HAProxy: mixed address families are sent as IPv6 with
//! the IPv4 address mapped, and addresses that are not IP (unix sockets) become
//! `PROXY UNKNOWN` (v1) or a `LOCAL` command with no address (v2).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::runtime::conn::{ConnAddr, Stream};

/// The v2 signature.
pub const V2_SIG: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

#[derive(Debug, thiserror::Error)]
pub enum ProxyProtoError {
    #[error("invalid PROXY protocol header")]
    Invalid,
    #[error("connection closed before the PROXY protocol header")]
    Closed,
    #[error("timeout waiting for the PROXY protocol header")]
    Timeout,
    #[error("I/O error reading the PROXY protocol header: {0}")]
    Io(#[from] io::Error),
}

/// Both addresses as IP, converting a lone IPv4 to IPv4-mapped IPv6 when families differ.
fn ip_pair(src: &ConnAddr, dst: &ConnAddr) -> Option<(SocketAddr, SocketAddr)> {
    let (s, d) = (src.socket_addr()?, dst.socket_addr()?);
    let map = |a: SocketAddr| match a.ip() {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), a.port()),
        IpAddr::V6(_) => a,
    };
    Some(if s.is_ipv4() == d.is_ipv4() {
        (s, d)
    } else {
        (map(s), map(d))
    })
}

/// `PROXY TCP4 1.2.3.4 5.6.7.8 111 222\r\n`.
pub fn encode_v1(src: &ConnAddr, dst: &ConnAddr, out: &mut Vec<u8>) {
    use std::io::Write;
    match ip_pair(src, dst) {
        Some((s, d)) => {
            let fam = if s.is_ipv4() { "TCP4" } else { "TCP6" };
            let _ = write!(
                out,
                "PROXY {} {} {} {} {}\r\n",
                fam,
                s.ip(),
                d.ip(),
                s.port(),
                d.port()
            );
        }
        None => out.extend_from_slice(b"PROXY UNKNOWN\r\n"),
    }
}

/// The binary v2 header with the `PROXY` command (or `LOCAL` without addresses).
pub fn encode_v2(src: &ConnAddr, dst: &ConnAddr, out: &mut Vec<u8>) {
    out.extend_from_slice(&V2_SIG);
    match ip_pair(src, dst) {
        Some((s, d)) => {
            out.push(0x21);
            match (s.ip(), d.ip()) {
                (IpAddr::V4(a), IpAddr::V4(b)) => {
                    out.push(0x11);
                    out.extend_from_slice(&12u16.to_be_bytes());
                    out.extend_from_slice(&a.octets());
                    out.extend_from_slice(&b.octets());
                }
                (a, b) => {
                    let v6 = |ip: IpAddr| match ip {
                        IpAddr::V6(x) => x,
                        IpAddr::V4(x) => x.to_ipv6_mapped(),
                    };
                    out.push(0x21);
                    out.extend_from_slice(&36u16.to_be_bytes());
                    out.extend_from_slice(&v6(a).octets());
                    out.extend_from_slice(&v6(b).octets());
                }
            }
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
        None => {
            out.push(0x20);
            out.push(0x00);
            out.extend_from_slice(&0u16.to_be_bytes());
        }
    }
}

/// What a received header announced. `None` addresses: `UNKNOWN`/`LOCAL` (keep the
/// connection's real addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub len: usize,
    pub src: Option<SocketAddr>,
    pub dst: Option<SocketAddr>,
}

/// Parses a header at the start of `buf`. `Ok(None)`: need more bytes.
pub fn parse(buf: &[u8]) -> Result<Option<Received>, ProxyProtoError> {
    if buf.len() >= 12 && buf[..12] == V2_SIG {
        return parse_v2(buf);
    }
    let probe = buf.len().min(V2_SIG.len());
    if buf[..probe] == V2_SIG[..probe] && buf.len() < 12 {
        return Ok(None);
    }
    parse_v1(buf)
}

fn parse_v1(buf: &[u8]) -> Result<Option<Received>, ProxyProtoError> {
    let probe = buf.len().min(6);
    if buf[..probe] != b"PROXY "[..probe] {
        return Err(ProxyProtoError::Invalid);
    }
    // The v1 line is at most 107 bytes including CRLF.
    let Some(end) = buf.iter().take(107).position(|&b| b == b'\n') else {
        return if buf.len() >= 107 {
            Err(ProxyProtoError::Invalid)
        } else {
            Ok(None)
        };
    };
    if end == 0 || buf[end - 1] != b'\r' {
        return Err(ProxyProtoError::Invalid);
    }
    let line = std::str::from_utf8(&buf[6..end - 1]).map_err(|_| ProxyProtoError::Invalid)?;
    let words: Vec<&str> = line.split(' ').collect();
    let len = end + 1;
    if words.first() == Some(&"UNKNOWN") {
        return Ok(Some(Received {
            len,
            src: None,
            dst: None,
        }));
    }
    if words.len() != 5 {
        return Err(ProxyProtoError::Invalid);
    }
    let ip = |w: &str| -> Result<IpAddr, ProxyProtoError> {
        match words[0] {
            "TCP4" => w.parse::<Ipv4Addr>().map(IpAddr::V4),
            "TCP6" => w.parse::<Ipv6Addr>().map(IpAddr::V6),
            _ => return Err(ProxyProtoError::Invalid),
        }
        .map_err(|_| ProxyProtoError::Invalid)
    };
    let port = |w: &str| -> Result<u16, ProxyProtoError> {
        if w.is_empty() || w.len() > 5 || !w.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProxyProtoError::Invalid);
        }
        w.parse().map_err(|_| ProxyProtoError::Invalid)
    };
    Ok(Some(Received {
        len,
        src: Some(SocketAddr::new(ip(words[1])?, port(words[3])?)),
        dst: Some(SocketAddr::new(ip(words[2])?, port(words[4])?)),
    }))
}

fn parse_v2(buf: &[u8]) -> Result<Option<Received>, ProxyProtoError> {
    if buf.len() < 16 {
        return Ok(None);
    }
    let (ver_cmd, fam) = (buf[12], buf[13]);
    let body = u16::from_be_bytes([buf[14], buf[15]]) as usize;
    if ver_cmd >> 4 != 2 {
        return Err(ProxyProtoError::Invalid);
    }
    let len = 16 + body;
    if buf.len() < len {
        return Ok(None);
    }
    let b = &buf[16..len];
    let none = Received {
        len,
        src: None,
        dst: None,
    };
    match ver_cmd & 0x0f {
        0 => return Ok(Some(none)),
        1 => {}
        _ => return Err(ProxyProtoError::Invalid),
    }
    match fam >> 4 {
        1 if b.len() >= 12 => {
            let s = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            let d = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
            Ok(Some(Received {
                len,
                src: Some(SocketAddr::new(s.into(), u16::from_be_bytes([b[8], b[9]]))),
                dst: Some(SocketAddr::new(
                    d.into(),
                    u16::from_be_bytes([b[10], b[11]]),
                )),
            }))
        }
        2 if b.len() >= 36 => {
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s.copy_from_slice(&b[..16]);
            d.copy_from_slice(&b[16..32]);
            Ok(Some(Received {
                len,
                src: Some(SocketAddr::new(
                    Ipv6Addr::from(s).into(),
                    u16::from_be_bytes([b[32], b[33]]),
                )),
                dst: Some(SocketAddr::new(
                    Ipv6Addr::from(d).into(),
                    u16::from_be_bytes([b[34], b[35]]),
                )),
            }))
        }
        0 | 3 => Ok(Some(none)),
        _ => Err(ProxyProtoError::Invalid),
    }
}

/// Reads and consumes the PROXY header of a freshly accepted connection, waiting at most
/// `timeout`. Peeks first so that no byte after the header is consumed.
pub async fn read_header(
    stream: &Stream,
    timeout: Option<Duration>,
) -> Result<Received, ProxyProtoError> {
    let fut = async {
        let mut buf = [0u8; 536];
        loop {
            stream.readable().await?;
            let n = match stream.try_peek(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return Err(ProxyProtoError::Closed);
            }
            if let Some(r) = parse(&buf[..n])? {
                consume(stream, r.len)?;
                return Ok(r);
            }
            if n == buf.len() {
                return Err(ProxyProtoError::Invalid);
            }
            // Partial header: wait for more bytes (peek leaves them queued, so back off
            // briefly instead of spinning on readiness).
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    match timeout {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| ProxyProtoError::Timeout)?,
        None => fut.await,
    }
}

/// Discards exactly `len` already-received bytes.
fn consume(stream: &Stream, len: usize) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut buf = [0u8; 536];
    let fd = stream.as_raw_fd();
    // SAFETY: valid fd, buffer large enough for `len` (<= 536 checked by the caller).
    let n = unsafe {
        libc::recv(
            fd,
            buf.as_mut_ptr().cast(),
            len.min(buf.len()),
            libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n as usize != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "short PROXY header read",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> ConnAddr {
        ConnAddr::Inet(s.parse().unwrap())
    }

    #[test]
    fn v1_bytes() {
        let mut o = Vec::new();
        encode_v1(&a("192.168.0.1:56324"), &a("10.0.0.2:443"), &mut o);
        assert_eq!(o, b"PROXY TCP4 192.168.0.1 10.0.0.2 56324 443\r\n");
        o.clear();
        encode_v1(&a("[::1]:1000"), &a("[2001:db8::1]:80"), &mut o);
        assert_eq!(o, b"PROXY TCP6 ::1 2001:db8::1 1000 80\r\n");
        o.clear();
        encode_v1(&a("1.2.3.4:5"), &a("[::1]:80"), &mut o);
        assert_eq!(o, b"PROXY TCP6 ::ffff:1.2.3.4 ::1 5 80\r\n");
        o.clear();
        encode_v1(&ConnAddr::Unix(None), &a("1.2.3.4:5"), &mut o);
        assert_eq!(o, b"PROXY UNKNOWN\r\n");
    }

    #[test]
    fn v2_bytes() {
        let mut o = Vec::new();
        encode_v2(&a("127.0.0.1:1234"), &a("127.0.0.2:80"), &mut o);
        let mut want = V2_SIG.to_vec();
        want.extend_from_slice(&[
            0x21, 0x11, 0, 12, 127, 0, 0, 1, 127, 0, 0, 2, 0x04, 0xd2, 0, 80,
        ]);
        assert_eq!(o, want);
        o.clear();
        encode_v2(&ConnAddr::Unix(None), &ConnAddr::Unix(None), &mut o);
        let mut want = V2_SIG.to_vec();
        want.extend_from_slice(&[0x20, 0x00, 0, 0]);
        assert_eq!(o, want);
    }

    #[test]
    fn parse_round_trips_and_partial() {
        for enc in [
            encode_v1 as fn(&ConnAddr, &ConnAddr, &mut Vec<u8>),
            encode_v2,
        ] {
            let mut o = Vec::new();
            enc(&a("10.1.2.3:4000"), &a("[::1]:8443"), &mut o);
            let total = o.len();
            o.extend_from_slice(b"payload");
            let r = parse(&o).unwrap().unwrap();
            assert_eq!(r.len, total);
            assert_eq!(r.src.unwrap().port(), 4000);
            assert_eq!(r.dst.unwrap(), "[::1]:8443".parse().unwrap());
            assert!(parse(&o[..total - 1]).unwrap().is_none());
        }
        assert!(parse(b"GET / HTTP/1.1\r\n").is_err());
        assert!(parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n").is_err());
        assert!(parse(b"PROXY TCP4 1.2.3.4\r\n").is_err());
        assert!(parse(&[b'P'; 200]).is_err());
        assert_eq!(parse(b"PROXY UNKNOWN\r\n").unwrap().unwrap().src, None);
    }
}
