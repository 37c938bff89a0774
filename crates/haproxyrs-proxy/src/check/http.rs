//! The HTTP side of `option httpchk`: the request bytes 2.6 sends, and the verdict on a
//! response (default: a 2xx or 3xx status passes; otherwise every `http-check expect` must).

use haproxyrs_config::ir::{HttpCheck, HttpExpectKind};

use super::status::{Outcome, Status};

/// The largest response part a check looks at (HAProxy's check buffer, `tune.bufsize`).
pub const MAX_RESPONSE: usize = 16384;

/// The request: line, `http-check send` headers, `content-length` with a body, and
/// `connection: close` on HTTP/1.1 (HTTP/1.0 closes by default).
pub fn request(hc: &HttpCheck) -> Vec<u8> {
    let mut r = format!("{} {} {}\r\n", hc.method, hc.uri, hc.version);
    for (n, v) in &hc.headers {
        r.push_str(n);
        r.push_str(": ");
        r.push_str(v);
        r.push_str("\r\n");
    }
    if !hc.body.is_empty() {
        r.push_str(&format!("content-length: {}\r\n", hc.body.len()));
    }
    if hc.version.eq_ignore_ascii_case("HTTP/1.1") {
        r.push_str("connection: close\r\n");
    }
    r.push_str("\r\n");
    r.push_str(&hc.body);
    r.into_bytes()
}

/// Whether the expectations need the body (else the head is enough).
pub fn needs_body(hc: &HttpCheck) -> bool {
    hc.expects.iter().any(|e| {
        matches!(
            e.kind,
            HttpExpectKind::String(_) | HttpExpectKind::Rstring(_)
        )
    })
}

/// A parsed response head.
pub struct Head {
    pub code: u16,
    pub reason: String,
    /// Where the body starts in the buffer.
    pub body_at: usize,
    pub content_length: Option<usize>,
    pub chunked: bool,
}

/// The response is not HTTP/1.
#[derive(Debug, thiserror::Error)]
#[error("not an HTTP response")]
pub struct NotHttp;

/// Parses the head; `Ok(None)` when more bytes are needed.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, NotHttp> {
    let mut hdrs = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut hdrs);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            let field = |name: &str| {
                resp.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
            };
            let content_length = field("content-length").and_then(|v| v.trim().parse().ok());
            let chunked = field("transfer-encoding")
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
            Ok(Some(Head {
                code: resp.code.ok_or(NotHttp)?,
                reason: resp.reason.unwrap_or("").to_string(),
                body_at: n,
                content_length,
                chunked,
            }))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err(NotHttp),
    }
}

/// The body read so far (chunked framing removed), and whether it is complete.
pub fn body<'a>(head: &Head, raw: &'a [u8]) -> (std::borrow::Cow<'a, [u8]>, bool) {
    use std::borrow::Cow;
    if matches!(head.code, 100..=199 | 204 | 304) {
        return (Cow::Borrowed(&[]), true);
    }
    if head.chunked {
        let (data, done) = dechunk(raw);
        return (Cow::Owned(data), done);
    }
    match head.content_length {
        Some(n) => (Cow::Borrowed(&raw[..n.min(raw.len())]), raw.len() >= n),
        None => (Cow::Borrowed(raw), false),
    }
}

/// Decodes the complete chunks of `raw`; true once the last chunk is seen (or the framing
/// is broken: what was decoded is all there will be).
fn dechunk(mut raw: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(raw.len());
    loop {
        let Some(eol) = memchr::memmem::find(raw, b"\r\n") else {
            return (out, false);
        };
        let size_text = std::str::from_utf8(&raw[..eol]).unwrap_or("");
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return (out, true);
        };
        if size == 0 {
            return (out, true);
        }
        let data = &raw[eol + 2..];
        if data.len() < size {
            out.extend_from_slice(data);
            return (out, false);
        }
        out.extend_from_slice(&data[..size]);
        raw = data.get(size + 2..).unwrap_or(&[]);
    }
}

/// The verdict on a response whose head is `head` and body (as much as was read) `body`.
pub fn evaluate(hc: &HttpCheck, head: &Head, body: &[u8]) -> Outcome {
    let code = head.code;
    let wrong_status = || {
        let mut o = Outcome::new(Status::L7Sts).info(head.reason.clone());
        o.code = Some(code);
        o
    };
    if hc.expects.is_empty() && !(200..400).contains(&code) {
        return wrong_status();
    }
    for e in &hc.expects {
        let matched = match &e.kind {
            HttpExpectKind::Status(ranges) => {
                ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&code))
            }
            HttpExpectKind::Rstatus(re) => re.is_match(&code.to_string()),
            HttpExpectKind::String(s) => memchr::memmem::find(body, s.as_bytes()).is_some(),
            HttpExpectKind::Rstring(re) => re.is_match(body),
        };
        if matched == e.negate {
            return match e.kind {
                HttpExpectKind::Status(_) | HttpExpectKind::Rstatus(_) => wrong_status(),
                _ => Outcome::new(Status::L7Rsp).info("HTTP content check did not match"),
            };
        }
    }
    let mut o = Outcome::new(Status::L7Ok);
    o.code = Some(code);
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use haproxyrs_config::ir::{HttpCheckExpect, HttpExpectKind};

    fn hc(version: &str, expects: Vec<HttpCheckExpect>) -> HttpCheck {
        HttpCheck {
            method: "GET".into(),
            uri: "/h".into(),
            version: version.into(),
            headers: vec![],
            body: String::new(),
            expects,
        }
    }

    fn verdict(hc: &HttpCheck, resp: &[u8]) -> Outcome {
        let head = parse_head(resp).unwrap().unwrap();
        evaluate(hc, &head, &body(&head, &resp[head.body_at..]).0)
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        assert_eq!(
            dechunk(b"4\r\nal\r\n\r\n3\r\nive\r\n0\r\n\r\n"),
            (b"al\r\nive".to_vec(), true)
        );
        assert_eq!(dechunk(b"5\r\nal"), (b"al".to_vec(), false));
        let h = hc(
            "HTTP/1.0",
            vec![HttpCheckExpect {
                negate: false,
                kind: HttpExpectKind::String("alive".into()),
            }],
        );
        let resp = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nali\r\n2\r\nve\r\n0\r\n\r\n";
        assert_eq!(verdict(&h, resp).status, Status::L7Ok);
    }

    #[test]
    fn request_bytes() {
        assert_eq!(request(&hc("HTTP/1.0", vec![])), b"GET /h HTTP/1.0\r\n\r\n");
        assert_eq!(
            request(&hc("HTTP/1.1", vec![])),
            b"GET /h HTTP/1.1\r\nconnection: close\r\n\r\n"
        );
    }

    #[test]
    fn default_expectation_is_2xx_or_3xx() {
        let h = hc("HTTP/1.0", vec![]);
        assert_eq!(
            verdict(&h, b"HTTP/1.1 302 Found\r\n\r\n").status,
            Status::L7Ok
        );
        let o = verdict(&h, b"HTTP/1.1 500 Internal Server Error\r\n\r\n");
        assert_eq!((o.status, o.code), (Status::L7Sts, Some(500)));
        assert_eq!(o.info, "Internal Server Error");
    }

    #[test]
    fn explicit_expectations() {
        let st = |lo, hi, negate| HttpCheckExpect {
            negate,
            kind: HttpExpectKind::Status(vec![(lo, hi)]),
        };
        let h = hc("HTTP/1.0", vec![st(204, 204, false)]);
        assert_eq!(
            verdict(&h, b"HTTP/1.1 200 OK\r\n\r\n").status,
            Status::L7Sts
        );
        assert_eq!(
            verdict(&h, b"HTTP/1.1 204 No Content\r\n\r\n").status,
            Status::L7Ok
        );
        let h = hc("HTTP/1.0", vec![st(500, 599, true)]);
        assert_eq!(
            verdict(&h, b"HTTP/1.1 404 Nope\r\n\r\n").status,
            Status::L7Ok
        );
        let h = hc(
            "HTTP/1.0",
            vec![HttpCheckExpect {
                negate: false,
                kind: HttpExpectKind::String("alive".into()),
            }],
        );
        assert_eq!(
            verdict(&h, b"HTTP/1.1 200 OK\r\n\r\nI am alive").status,
            Status::L7Ok
        );
        let o = verdict(&h, b"HTTP/1.1 200 OK\r\n\r\ndead");
        assert_eq!((o.status, o.code), (Status::L7Rsp, None));
    }

    #[test]
    fn garbage_is_not_http() {
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 O").unwrap().is_none());
    }
}
