//! Message semantics after syntax: how long the body is, which connection options apply,
//! and the ambiguous-framing rules of RFC 9112 §6.3 as HAProxy 2.6 applies them (observed on
//! 2.6.12; see `docs/http.md`). This is where request smuggling is stopped: a head leaves here
//! either with exactly one framing or refused.

use super::body::BodyKind;
use super::head::Version;
use super::message::Message;

/// What a refused head is answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// 400 (request) / 502 (response).
    #[error("invalid message framing")]
    Invalid,
    /// 422: 2.6 answers this for a Transfer-Encoding with another coding before `chunked`.
    #[error("unprocessable transfer-encoding")]
    Unprocessable,
}

/// Connection-level facts of one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestFraming {
    pub body: Option<BodyKind>,
    /// `Connection: close` (or HTTP/1.0 without `keep-alive`).
    pub client_close: bool,
    /// HTTP/1.0 with `Connection: keep-alive`.
    pub client_keep_alive: bool,
    /// Content-Length and chunked together: CL dropped, connection closed after the response.
    pub insecure_te: bool,
    /// `Connection: upgrade` with an `Upgrade` field.
    pub upgrade: bool,
    pub expect_continue: bool,
    pub connect: bool,
    pub head_method: bool,
}

/// Connection-level facts of one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseFraming {
    pub body: BodyKind,
    pub server_close: bool,
    pub insecure_te: bool,
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', r @ ..] = v {
        v = r;
    }
    while let [r @ .., b' ' | b'\t'] = v {
        v = r;
    }
    v
}

/// Content-Length = 1*DIGIT, possibly repeated as a list of equal values (RFC 9110 §8.6).
/// Every element of every occurrence must be the same number; empty elements (CVE-2023-40225),
/// signs, other bases and overflow are refused.
fn content_length(msg: &Message) -> Result<Option<u64>, FramingError> {
    let mut found: Option<u64> = None;
    for i in msg.find(b"content-length") {
        for elem in msg.value(i).split(|&b| b == b',') {
            let e = trim(elem);
            if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
                return Err(FramingError::Invalid);
            }
            let mut n: u64 = 0;
            for &d in e {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(d - b'0')))
                    .ok_or(FramingError::Invalid)?;
            }
            match found {
                Some(f) if f != n => return Err(FramingError::Invalid),
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// Transfer-Encoding of a request: `chunked` must be the last coding, appear once, and (as
/// 2.6 decides) have no coding before it (422). Returns whether TE is present.
fn request_transfer_encoding(msg: &Message) -> Result<bool, FramingError> {
    let mut present = false;
    let mut chunked = false;
    let mut others_before = false;
    for i in msg.find(b"transfer-encoding") {
        present = true;
        let v = msg.value(i);
        let n = v.iter().filter(|&&b| b == b',').count() + 1;
        for (k, elem) in v.split(|&b| b == b',').enumerate() {
            let e = trim(elem);
            if e.is_empty() && k + 1 == n && n > 1 {
                // STRICT: `chunked,` (2.6 ignores the empty trailing element).
                return Err(FramingError::Invalid);
            }
            if chunked {
                return Err(FramingError::Invalid); // anything after chunked, or chunked twice
            }
            if e.eq_ignore_ascii_case(b"chunked") {
                chunked = true;
            } else if !e.is_empty() || n > 1 {
                others_before = true;
            }
        }
    }
    if !present {
        return Ok(false);
    }
    if !chunked {
        return Err(FramingError::Invalid);
    }
    if others_before {
        return Err(FramingError::Unprocessable);
    }
    Ok(true)
}

/// Decimal digits of `n` in `buf`, without allocating.
pub fn fmt_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Does a comma list field contain `token` (case-insensitive)?
pub fn list_has(msg: &Message, name: &[u8], token: &[u8]) -> bool {
    msg.find(name).any(|i| {
        msg.value(i)
            .split(|&b| b == b',')
            .any(|e| trim(e).eq_ignore_ascii_case(token))
    })
}

/// Analyse a request head; also normalises it: duplicate identical Content-Length fields
/// are merged into one, CL is dropped under chunked; the target's authority is checked
/// against Host and normalised (see [`super::authority`]).
pub fn analyze_request(msg: &mut Message) -> Result<RequestFraming, FramingError> {
    let version = msg.version.unwrap_or(Version::Http11);
    let mut f = RequestFraming::default();
    // Host (RFC 9112 §3.2). STRICT: HTTP/1.1 without Host, or two Host fields, is refused.
    let hosts = msg.find(b"host").count();
    if hosts > 1 || (hosts == 0 && version == Version::Http11) {
        return Err(FramingError::Invalid);
    }
    super::authority::check(msg)?;
    let te = request_transfer_encoding(msg)?;
    let cl = content_length(msg)?;
    if te {
        if cl.is_some() {
            msg.remove_all(b"content-length");
            f.insecure_te = true;
        }
        f.body = Some(BodyKind::Chunked);
        if version == Version::Http10 {
            f.insecure_te = true;
        }
    } else if cl.is_some_and(|n| n > 0) && msg.method() == b"CONNECT" {
        // 2.6 drops a CONNECT's non-zero Content-Length: what follows the head is tunnel
        // data, not a body (`Content-Length: 0` is forwarded as is).
        msg.remove_all(b"content-length");
        f.body = Some(BodyKind::Empty);
    } else if let Some(n) = cl {
        let canonical = msg.find(b"content-length").count() == 1
            && !msg
                .first(b"content-length")
                .is_some_and(|v| v.contains(&b','));
        if !canonical {
            let mut digits = [0u8; 20];
            let s = fmt_u64(n, &mut digits);
            let s = s.to_vec();
            msg.set(b"content-length", &s);
        }
        f.body = Some(BodyKind::Length(n));
    } else {
        f.body = Some(BodyKind::Empty);
    }
    let close = list_has(msg, b"connection", b"close");
    let ka = list_has(msg, b"connection", b"keep-alive");
    f.client_close = close || (version == Version::Http10 && !ka);
    f.client_keep_alive = ka && !close;
    f.upgrade = list_has(msg, b"connection", b"upgrade") && msg.first(b"upgrade").is_some();
    // 2.6 refuses a WebSocket upgrade without its key (RFC 6455 §4.1).
    if f.upgrade
        && list_has(msg, b"upgrade", b"websocket")
        && msg.first(b"sec-websocket-key").is_none()
    {
        return Err(FramingError::Invalid);
    }
    f.expect_continue = msg
        .first(b"expect")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
    f.connect = msg.method() == b"CONNECT";
    f.head_method = msg.method() == b"HEAD";
    Ok(f)
}

/// Analyse a response head (RFC 9112 §6.3). `head_request` is whether it answers a HEAD.
pub fn analyze_response(
    msg: &mut Message,
    head_request: bool,
    connect_request: bool,
) -> Result<ResponseFraming, FramingError> {
    let status = msg.status;
    let version = msg.version.unwrap_or(Version::Http11);
    let server_close = list_has(msg, b"connection", b"close")
        || (version == Version::Http10 && !list_has(msg, b"connection", b"keep-alive"));
    let no_body = head_request
        || (100..200).contains(&status)
        || status == 204
        || status == 304
        || (connect_request && (200..300).contains(&status));
    let mut te_chunked = false;
    let mut te_present = false;
    for i in msg.find(b"transfer-encoding") {
        te_present = true;
        for e in msg.value(i).split(|&b| b == b',') {
            let e = trim(e);
            if te_chunked && !e.is_empty() {
                return Err(FramingError::Invalid);
            }
            if e.eq_ignore_ascii_case(b"chunked") {
                te_chunked = true;
            }
        }
    }
    let cl = content_length(msg)?;
    let mut insecure_te = false;
    let body = if no_body {
        BodyKind::Empty
    } else if te_present {
        if cl.is_some() {
            msg.remove_all(b"content-length");
            insecure_te = true;
        }
        if te_chunked {
            BodyKind::Chunked
        } else {
            BodyKind::UntilClose
        }
    } else if let Some(n) = cl {
        BodyKind::Length(n)
    } else {
        BodyKind::UntilClose
    };
    Ok(ResponseFraming {
        body,
        server_close: server_close || body == BodyKind::UntilClose,
        insecure_te,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::{parse_response, Limits};

    fn req(bytes: &[u8]) -> Result<(RequestFraming, Message), FramingError> {
        let mut m = crate::http::message::test_request(bytes);
        let r = analyze_request(&mut m)?;
        Ok((r, m))
    }

    fn with(hdrs: &str) -> Result<(RequestFraming, Message), FramingError> {
        req(format!("POST / HTTP/1.1\r\nHost: a\r\n{hdrs}\r\n").as_bytes())
    }

    #[test]
    fn cl_rules() {
        assert_eq!(
            with("Content-Length: 5\r\n").unwrap().0.body,
            Some(BodyKind::Length(5))
        );
        let (f, m) = with("Content-Length: 5\r\nContent-Length: 5\r\n").unwrap();
        assert_eq!(f.body, Some(BodyKind::Length(5)));
        assert_eq!(m.find(b"content-length").count(), 1);
        let (_, m) = with("Content-Length: 5, 5\r\n").unwrap();
        assert_eq!(m.first(b"content-length"), Some(&b"5"[..]));
        for bad in [
            "Content-Length: 5\r\nContent-Length: 6\r\n",
            "Content-Length: \r\n",
            "Content-Length: 5,\r\n",
            "Content-Length: ,5\r\n",
            "Content-Length: +5\r\n",
            "Content-Length: -1\r\n",
            "Content-Length: 0x5\r\n",
            "Content-Length: 5_0\r\n",
            "Content-Length: 99999999999999999999\r\n",
        ] {
            assert_eq!(with(bad).unwrap_err(), FramingError::Invalid, "{bad}");
        }
    }

    #[test]
    fn te_rules() {
        let (f, m) = with("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n").unwrap();
        assert_eq!(f.body, Some(BodyKind::Chunked));
        assert!(f.insecure_te);
        assert_eq!(m.find(b"content-length").count(), 0);
        assert_eq!(
            with("Transfer-Encoding: \tCHUNKED\r\n").unwrap().0.body,
            Some(BodyKind::Chunked)
        );
        for (bad, want) in [
            ("Transfer-Encoding: xchunked\r\n", FramingError::Invalid),
            (
                "Transfer-Encoding: chunked, identity\r\n",
                FramingError::Invalid,
            ),
            ("Transfer-Encoding: chunked,\r\n", FramingError::Invalid),
            ("Transfer-Encoding: \r\n", FramingError::Invalid),
            ("Transfer-Encoding: \x0bchunked\r\n", FramingError::Invalid),
            ("Transfer-Encoding: gzip\r\n", FramingError::Invalid),
            (
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                FramingError::Invalid,
            ),
            (",chunked", FramingError::Unprocessable),
            (
                "Transfer-Encoding: gzip, chunked\r\n",
                FramingError::Unprocessable,
            ),
        ] {
            let hdr = if bad.starts_with(',') {
                "Transfer-Encoding: ,chunked\r\n"
            } else {
                bad
            };
            assert_eq!(with(hdr).unwrap_err(), want, "{bad}");
        }
    }

    #[test]
    fn host_rules() {
        assert!(req(b"GET / HTTP/1.1\r\n\r\n").is_err());
        assert!(req(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n").is_err());
        assert!(req(b"GET / HTTP/1.0\r\n\r\n").is_ok());
        assert!(req(b"GET http://a.example/p HTTP/1.1\r\nHost: b.example\r\n\r\n").is_err());
        assert!(req(b"GET http://a.example/p HTTP/1.1\r\nHost: A.example\r\n\r\n").is_ok());
        let (_, m) = req(b"GET http://a:80/p HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(
            (m.uri(), m.first(b"host")),
            (&b"http://a/p"[..], Some(&b"a"[..]))
        );
        let (_, m) = req(b"GET https://a:443/p HTTP/1.1\r\nHost: a:443\r\n\r\n").unwrap();
        assert_eq!(
            (m.uri(), m.first(b"host")),
            (&b"https://a/p"[..], Some(&b"a"[..]))
        );
        let (_, m) = req(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n").unwrap();
        assert_eq!(
            (m.uri(), m.first(b"host")),
            (&b"a:443"[..], Some(&b"a"[..]))
        );
        let (f, m) = req(b"CONNECT a:80 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n").unwrap();
        assert_eq!(
            (f.body, m.first(b"content-length")),
            (Some(BodyKind::Empty), None)
        );
        let (f, m) = req(b"CONNECT a:80 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(
            (f.body, m.first(b"content-length")),
            (Some(BodyKind::Length(0)), Some(&b"0"[..]))
        );
        let (_, m) = req(b"GET / HTTP/1.1\r\nHost: a:80\r\n\r\n").unwrap();
        assert_eq!(m.first(b"host"), Some(&b"a:80"[..]));
    }

    #[test]
    fn connection_options() {
        let (f, _) = req(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(f.client_close);
        let (f, _) = req(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        assert!(!f.client_close && f.client_keep_alive);
        let (f, _) = req(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n").unwrap();
        assert!(f.client_close);
        let (f, _) =
            req(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n")
                .unwrap();
        assert!(f.upgrade);
        assert!(req(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        )
        .is_err());
    }

    fn resp(bytes: &[u8], head: bool) -> Result<ResponseFraming, FramingError> {
        let mut buf = bytes.to_vec();
        let mut f = Vec::new();
        let h = parse_response(&mut buf, &Limits::default(), &mut f)
            .unwrap()
            .unwrap();
        let mut m = Message::default();
        m.load_response(&buf, &h, &f);
        analyze_response(&mut m, head, false)
    }

    #[test]
    fn response_bodies() {
        let r = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false).unwrap();
        assert_eq!(r.body, BodyKind::Length(5));
        let r = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true).unwrap();
        assert_eq!(r.body, BodyKind::Empty);
        for s in [
            b"HTTP/1.1 204 No\r\n\r\n".as_slice(),
            b"HTTP/1.1 304 NM\r\n\r\n",
            b"HTTP/1.1 100 C\r\n\r\n",
        ] {
            assert_eq!(resp(s, false).unwrap().body, BodyKind::Empty);
        }
        let r = resp(b"HTTP/1.1 200 OK\r\n\r\n", false).unwrap();
        assert_eq!(r.body, BodyKind::UntilClose);
        assert!(r.server_close);
        let r = resp(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!(r.body, BodyKind::Chunked);
        assert!(r.insecure_te);
        assert!(resp(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false).is_err());
    }
}
