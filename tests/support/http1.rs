//! Minimal HTTP/1.1 framing for the harness (independent of the code under test): split a byte
//! stream into messages (head + body by Content-Length, chunked, or until close) and give
//! their parts. Lenient on purpose: it must describe whatever a proxy sends, not judge it.

/// One parsed HTTP/1.x message (request or response), with its exact bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Request line or status line, without CRLF.
    pub start: String,
    /// Header fields in order, as sent (name case kept).
    pub headers: Vec<(String, String)>,
    /// The decoded body (chunked framing removed; trailers dropped).
    pub body: Vec<u8>,
    /// The body framing used.
    pub framing: Framing,
    /// The message's exact bytes on the wire.
    pub raw: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(usize),
    Chunked,
    /// Response body delimited by the connection close.
    Close,
}

impl Message {
    /// First header value named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Status code of a response (0 if the status line is unreadable).
    pub fn status(&self) -> u16 {
        self.start
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// Method of a request.
    pub fn method(&self) -> &str {
        self.start.split_whitespace().next().unwrap_or("")
    }

    /// Target (path) of a request.
    pub fn target(&self) -> &str {
        self.start.split_whitespace().nth(1).unwrap_or("")
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What parsing a buffer gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A complete message using `used` bytes.
    Complete(Message, usize),
    /// Needs more bytes.
    Partial,
    /// Not HTTP (the head is malformed).
    Invalid(String),
}

/// Parse a request at the start of `buf`.
pub fn parse_request(buf: &[u8]) -> Parsed {
    parse(buf, Role::Request, false, false)
}

/// Parse a response at the start of `buf`. `head_request`: the request was HEAD (no body);
/// `eof`: the connection is closed, so a close-delimited body ends at `buf`'s end.
pub fn parse_response(buf: &[u8], head_request: bool, eof: bool) -> Parsed {
    parse(buf, Role::Response, head_request, eof)
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Request,
    Response,
}

fn parse(buf: &[u8], role: Role, head_request: bool, eof: bool) -> Parsed {
    let Some(head_end) = find(buf, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(buf, b"\n\n").map(|i| i + 2))
    else {
        return Parsed::Partial;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start = lines.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((n, v)) => headers.push((n.to_string(), v.trim().to_string())),
            None => return Parsed::Invalid(format!("header line without colon: {line:?}")),
        }
    }
    let status: u16 = if role == Role::Response {
        if !start.starts_with("HTTP/") {
            return Parsed::Invalid(format!("not a status line: {start:?}"));
        }
        start
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    let get = |name: &str| {
        headers
            .iter()
            .filter(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let chunked = get("transfer-encoding")
        .iter()
        .any(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = get("content-length")
        .first()
        .and_then(|v| v.trim().parse::<usize>().ok());
    let no_body = role == Role::Response
        && (head_request || (100..200).contains(&status) || status == 204 || status == 304);
    let framing = if no_body {
        Framing::None
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = length {
        Framing::Length(n)
    } else if role == Role::Response {
        Framing::Close
    } else {
        Framing::None
    };
    let rest = &buf[head_end..];
    let (body, used) = match framing {
        Framing::None => (Vec::new(), 0),
        Framing::Length(n) => {
            if rest.len() < n {
                return Parsed::Partial;
            }
            (rest[..n].to_vec(), n)
        }
        Framing::Close => {
            if !eof {
                return Parsed::Partial;
            }
            (rest.to_vec(), rest.len())
        }
        Framing::Chunked => match dechunk(rest) {
            Some(r) => r,
            None => return Parsed::Partial,
        },
    };
    let total = head_end + used;
    Parsed::Complete(
        Message {
            start,
            headers,
            body,
            framing,
            raw: buf[..total].to_vec(),
        },
        total,
    )
}

/// Decode a chunked body; `None` when incomplete. Returns (body, bytes used incl. trailers).
pub fn dechunk(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let line_end = find(&buf[pos..], b"\n")? + pos;
        let line = String::from_utf8_lossy(&buf[pos..line_end]);
        let size_txt = line.trim_end_matches('\r');
        let size_txt = size_txt.split(';').next().unwrap_or("").trim();
        // An unreadable size: treat the rest as opaque, never loop.
        let size = usize::from_str_radix(size_txt, 16).unwrap_or(0);
        pos = line_end + 1;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let e = find(&buf[pos..], b"\n")? + pos;
                let empty = buf[pos..e].iter().all(|&b| b == b'\r');
                pos = e + 1;
                if empty {
                    return Some((body, pos));
                }
            }
        }
        if buf.len() < pos + size {
            return None;
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size;
        // CRLF after the chunk data.
        if buf.len() < pos + 1 {
            return None;
        }
        if buf[pos] == b'\r' {
            if buf.len() < pos + 2 {
                return None;
            }
            pos += 2;
        } else if buf[pos] == b'\n' {
            pos += 1;
        }
    }
}

/// Encode `body` as chunks of at most `chunk` bytes.
pub fn chunk(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in body.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Split a whole response stream. `head_flags[i]`: response i answers a HEAD. Returns the
/// messages and any trailing bytes that did not form a complete message.
pub fn split_responses(buf: &[u8], head_flags: &[bool], eof: bool) -> (Vec<Message>, Vec<u8>) {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut req = 0;
    while pos < buf.len() {
        let head = head_flags.get(req).copied().unwrap_or(false);
        match parse_response(&buf[pos..], head, eof) {
            Parsed::Complete(m, used) => {
                // Interim 1xx responses do not consume a request.
                if !(100..200).contains(&m.status()) || m.status() == 101 {
                    req += 1;
                }
                pos += used;
                out.push(m);
            }
            _ => break,
        }
    }
    (out, buf[pos..].to_vec())
}

/// Split a request stream (what a client sent, or what a backend received).
pub fn split_requests(buf: &[u8]) -> (Vec<Message>, Vec<u8>) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        match parse_request(&buf[pos..]) {
            Parsed::Complete(m, used) => {
                pos += used;
                out.push(m);
            }
            _ => break,
        }
    }
    (out, buf[pos..].to_vec())
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Bytes shown readably: text as is, CR/LF visible, other bytes escaped.
pub fn show(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pipelined_responses_by_framing() {
        let stream = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\ntail";
        let (msgs, rest) = split_responses(stream, &[], true);
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[0].body, b"hi");
        assert_eq!(msgs[1].body, b"abc");
        assert_eq!(msgs[1].framing, Framing::Chunked);
        assert_eq!(msgs[2].body, b"tail");
        assert!(rest.is_empty());
        let (msgs, rest) = split_responses(&stream[..50], &[], false);
        assert_eq!(msgs.len(), 1);
        assert!(!rest.is_empty());
    }

    #[test]
    fn head_and_204_have_no_body() {
        let s = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        let (msgs, _) = split_responses(s, &[true], false);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[1].status(), 204);
    }
}
