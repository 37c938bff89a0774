//! HAProxy 2.6's built-in error responses, byte for byte (captured from 2.6.12), and the
//! `errorfile` overrides of a proxy.
//!
//! 2.6 sends them in two shapes: errors raised while parsing a request (400, 408, 422, and
//! the too-large head) go out "raw", with capitalised names and `Connection: close` for 400 and
//! 408; errors raised by the analysers (deny, 503, 502, 504, auth) go through its internal
//! message format and leave with lower-cased names, `connection: close` only for 400/408.

use std::io::Write;

/// (status, reason, sentence) of every built-in page.
const PAGES: &[(u16, &str, &str)] = &[
    (200, "OK", "Service ready."),
    (400, "Bad request", "Your browser sent an invalid request."),
    (
        401,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    (
        403,
        "Forbidden",
        "Request forbidden by administrative rules.",
    ),
    (404, "Not Found", "The resource could not be found."),
    (
        405,
        "Method Not Allowed",
        "A request was made of a resource using a request method not supported by that resource",
    ),
    (
        407,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    (
        408,
        "Request Time-out",
        "Your browser didn't send a complete request in time.",
    ),
    (
        410,
        "Gone",
        "The resource is no longer available and will not be available again.",
    ),
    (
        413,
        "Payload Too Large",
        "The request entity exceeds the maximum allowed.",
    ),
    (
        422,
        "Unprocessable Content",
        "The server cannot process the contained instructions.",
    ),
    (425, "Too Early", "Your browser sent early data."),
    (
        429,
        "Too Many Requests",
        "You have sent too many requests in a given amount of time.",
    ),
    (
        500,
        "Internal Server Error",
        "An internal server error occurred.",
    ),
    (
        501,
        "Not Implemented",
        ".The server does not support the functionality required to fulfill the request.",
    ),
    (
        502,
        "Bad Gateway",
        "The server returned an invalid or incomplete response.",
    ),
    (
        503,
        "Service Unavailable",
        "No server is available to handle this request.",
    ),
    (
        504,
        "Gateway Time-out",
        "The server didn't respond in time.",
    ),
];

/// The reason phrase HAProxy uses for `status` (its own table, e.g. "Found" for 302).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        _ => PAGES
            .iter()
            .find(|p| p.0 == status)
            .map_or("Other", |p| p.1),
    }
}

/// Which of the two shapes to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Sent by the H1 layer while parsing: capitalised names.
    Raw,
    /// Sent by the analysers: lower-cased names.
    Analyser,
}

fn body(status: u16) -> Option<String> {
    PAGES
        .iter()
        .find(|p| p.0 == status)
        .map(|(c, r, s)| format!("<html><body><h1>{c} {r}</h1>\n{s}\n</body></html>\n"))
}

/// Render the built-in page for `status` (None for a status without one).
pub fn builtin(status: u16, shape: Shape) -> Option<Vec<u8>> {
    let body = body(status)?;
    let closes = status == 400 || status == 408;
    let mut out = Vec::with_capacity(200 + body.len());
    let _ = write!(out, "HTTP/1.1 {} {}\r\n", status, reason(status));
    match shape {
        Shape::Raw => {
            let _ = write!(
                out,
                "Content-length: {}\r\nCache-Control: no-cache\r\n",
                body.len()
            );
            if closes {
                out.extend_from_slice(b"Connection: close\r\n");
            }
            out.extend_from_slice(b"Content-Type: text/html\r\n\r\n");
        }
        Shape::Analyser => {
            let _ = write!(
                out,
                "content-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n",
                body.len()
            );
            if closes {
                out.extend_from_slice(b"connection: close\r\n");
            }
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

/// 2.6 loads an `errorfile` as an HTTP message and sends it re-encoded like any response
/// (lower-case names); a file that does not parse is sent as it is.
fn canonical_errorfile(raw: &[u8]) -> Vec<u8> {
    let mut buf = raw.to_vec();
    let mut fields = Vec::new();
    let limits = super::head::Limits::new(usize::MAX / 2, 0, usize::MAX / 2);
    match super::head::parse_response(&mut buf, &limits, &mut fields) {
        Ok(Some(h)) => {
            let mut m = super::message::Message::default();
            m.load_response(&buf, &h, &fields);
            let mut out = Vec::with_capacity(raw.len());
            super::encode::response(&m, None, &mut out);
            out.extend_from_slice(&raw[h.len..]);
            out
        }
        _ => raw.to_vec(),
    }
}

/// Pre-rendered error responses of one proxy: built-ins overridden by `errorfile`s.
#[derive(Clone, Debug, Default)]
pub struct ErrorPages {
    overrides: Vec<(u16, Vec<u8>)>,
    raw: Vec<(u16, Vec<u8>)>,
    analyser: Vec<(u16, Vec<u8>)>,
}

impl ErrorPages {
    /// Built-in pages plus `overrides` (full responses from `errorfile`, sent as they are).
    pub fn new(overrides: &[(u16, Vec<u8>)]) -> ErrorPages {
        let codes = PAGES.iter().map(|p| p.0);
        ErrorPages {
            overrides: overrides
                .iter()
                .map(|(c, b)| (*c, canonical_errorfile(b)))
                .collect(),
            raw: codes
                .clone()
                .filter_map(|c| builtin(c, Shape::Raw).map(|b| (c, b)))
                .collect(),
            analyser: codes
                .filter_map(|c| builtin(c, Shape::Analyser).map(|b| (c, b)))
                .collect(),
        }
    }

    /// The response for `status`; falls back to the 500 page for a status without one.
    pub fn get(&self, status: u16, shape: Shape) -> &[u8] {
        if let Some((_, b)) = self.overrides.iter().find(|(c, _)| *c == status) {
            return b;
        }
        let table = match shape {
            Shape::Raw => &self.raw,
            Shape::Analyser => &self.analyser,
        };
        table
            .iter()
            .find(|(c, _)| *c == status)
            .or_else(|| table.iter().find(|(c, _)| *c == 500))
            .map(|(_, b)| b.as_slice())
            .unwrap_or(b"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes captured from HAProxy 2.6.12 on the wire.
    #[test]
    fn byte_identical_to_2_6() {
        assert_eq!(
            builtin(400, Shape::Raw).unwrap(),
            b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"
        );
        assert_eq!(
            builtin(422, Shape::Raw).unwrap(),
            b"HTTP/1.1 422 Unprocessable Content\r\nContent-length: 116\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n"
        );
        assert_eq!(
            builtin(503, Shape::Analyser).unwrap(),
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
        );
        assert_eq!(
            builtin(408, Shape::Analyser).unwrap(),
            b"HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n"
        );
        // Content lengths 2.6 sends for each page.
        for (code, len) in [
            (200, 58),
            (401, 112),
            (403, 93),
            (404, 83),
            (405, 146),
            (410, 114),
            (413, 106),
            (425, 80),
            (429, 117),
            (500, 97),
            (501, 136),
            (502, 107),
            (504, 92),
        ] {
            assert_eq!(body(code).unwrap().len(), len, "{code}");
        }
    }

    #[test]
    fn overrides_win() {
        let p = ErrorPages::new(&[(
            503,
            b"HTTP/1.0 503 Busy\r\nCache-Control: no-cache\r\n\r\nbusy".to_vec(),
        )]);
        assert_eq!(
            p.get(503, Shape::Analyser),
            b"HTTP/1.0 503 Busy\r\ncache-control: no-cache\r\n\r\nbusy"
        );
        assert!(p
            .get(403, Shape::Analyser)
            .starts_with(b"HTTP/1.1 403 Forbidden"));
        assert!(p.get(499, Shape::Analyser).starts_with(b"HTTP/1.1 500"));
    }
}
