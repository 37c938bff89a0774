//! HTTP fetches on a TCP session's request buffer: a `mode tcp` frontend may route with
//! `hdr(host)`, `path`, `HTTP`… in `tcp-request content` rules, as HAProxy does by parsing
//! the buffered bytes. [`BufferedRequest`] parses the head once (httparse into a stack
//! array, offsets kept, no allocation) and answers the HTTP accessors of
//! [`super::SampleSource`]; while the head is incomplete the answers may still change,
//! which the fetches report so the rule waits (`req_http_incomplete`).

use std::ops::Range;

/// Most headers looked at in a buffered request (HAProxy's default `tune.http.maxhdr`).
pub const MAX_HEADERS: usize = 101;

/// Where a buffered request head stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeadState {
    /// Not enough bytes yet for a complete head.
    #[default]
    Incomplete,
    Complete,
    /// Not HTTP (or a malformed head).
    Invalid,
}

/// The parsed head of a request sitting in a buffer, as offsets into that buffer.
#[derive(Clone, Debug)]
pub struct BufferedRequest {
    pub state: HeadState,
    method: Range<usize>,
    uri: Range<usize>,
    /// `b"1.0"` / `b"1.1"`.
    version: &'static [u8],
    headers: [(Range<usize>, Range<usize>); MAX_HEADERS],
    count: usize,
}

impl Default for BufferedRequest {
    fn default() -> Self {
        BufferedRequest {
            state: HeadState::Incomplete,
            method: 0..0,
            uri: 0..0,
            version: b"1.1",
            headers: std::array::from_fn(|_| (0..0, 0..0)),
            count: 0,
        }
    }
}

/// Offset of `part` inside `buf` (httparse returns sub-slices of the input).
fn range_in(buf: &[u8], part: &[u8]) -> Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize);
    let start = start.min(buf.len());
    start..(start + part.len()).min(buf.len())
}

impl BufferedRequest {
    /// Parse (again) the head at the start of `buf`. Cheap to call as bytes arrive.
    pub fn parse(&mut self, buf: &[u8]) {
        let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut hdrs);
        self.count = 0;
        self.state = match req.parse(buf) {
            Ok(httparse::Status::Complete(_)) => HeadState::Complete,
            Ok(httparse::Status::Partial) => HeadState::Incomplete,
            Err(_) => HeadState::Invalid,
        };
        if self.state != HeadState::Complete {
            return;
        }
        self.method = range_in(buf, req.method.unwrap_or("").as_bytes());
        self.uri = range_in(buf, req.path.unwrap_or("").as_bytes());
        self.version = if req.version == Some(0) {
            b"1.0"
        } else {
            b"1.1"
        };
        for h in req.headers.iter() {
            if self.count == MAX_HEADERS {
                break;
            }
            self.headers[self.count] = (range_in(buf, h.name.as_bytes()), range_in(buf, h.value));
            self.count += 1;
        }
    }

    /// True while more bytes could complete the head.
    pub fn incomplete(&self) -> bool {
        self.state == HeadState::Incomplete
    }

    pub fn method<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        (self.state == HeadState::Complete).then(|| &buf[self.method.clone()])
    }

    pub fn uri<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        (self.state == HeadState::Complete).then(|| &buf[self.uri.clone()])
    }

    pub fn http_version(&self) -> Option<&'static [u8]> {
        (self.state == HeadState::Complete).then_some(self.version)
    }

    pub fn header_count(&self) -> usize {
        self.count
    }

    pub fn header<'b>(&self, buf: &'b [u8], i: usize) -> Option<(&'b [u8], &'b [u8])> {
        if i >= self.count {
            return None;
        }
        let (n, v) = &self.headers[i];
        Some((buf.get(n.clone())?, buf.get(v.clone())?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::source::SampleSource;
    use super::super::{eval_condition, Match};
    use super::*;
    use haproxyrs_config::ast::Word;
    use haproxyrs_config::diag::Diagnostics;
    use haproxyrs_config::env::SystemEnv;
    use haproxyrs_config::lower::sample::{parse_acl_term, parse_condition, AclScope};
    use haproxyrs_config::span::Span;

    /// What a TCP session's source looks like: a buffer plus its parsed head.
    struct Tcp {
        buf: Vec<u8>,
        head: BufferedRequest,
        final_: bool,
    }

    impl SampleSource for Tcp {
        fn req_buffer(&self) -> &[u8] {
            &self.buf
        }
        fn req_final(&self) -> bool {
            self.final_
        }
        fn req_http_incomplete(&self) -> bool {
            self.head.incomplete()
        }
        fn method(&self) -> Option<&[u8]> {
            self.head.method(&self.buf)
        }
        fn uri(&self) -> Option<&[u8]> {
            self.head.uri(&self.buf)
        }
        fn http_version(&self) -> Option<&[u8]> {
            self.head.http_version()
        }
        fn req_header_count(&self) -> usize {
            self.head.header_count()
        }
        fn req_header(&self, i: usize) -> Option<(&[u8], &[u8])> {
            self.head.header(&self.buf, i)
        }
    }

    fn words(t: &str) -> Vec<Word> {
        t.split_whitespace()
            .map(|w| Word {
                text: w.into(),
                span: Span::new("t".into(), 1, 1),
            })
            .collect()
    }

    fn eval(crit: &str, cond: &str, s: &Tcp) -> Match {
        let mut scope = AclScope::default();
        let mut d = Diagnostics::default();
        scope.declare(
            "a",
            parse_acl_term(&words(crit), &SystemEnv, &mut d).unwrap(),
        );
        let c = parse_condition(&words(cond), &scope, &SystemEnv, &mut d)
            .unwrap()
            .unwrap();
        eval_condition(&c, &scope.acls, s)
    }

    #[test]
    fn http_fetches_on_a_tcp_buffer() {
        let mut s = Tcp {
            buf: b"GET /api/x?k=1 HTTP/1.1\r\nHost: www.example.com\r\n".to_vec(),
            head: BufferedRequest::default(),
            final_: false,
        };
        s.head.parse(&s.buf);
        // Head not complete yet: wait rather than answer.
        assert_eq!(
            eval("hdr(host) -i www.example.com", "if a", &s),
            Match::NeedMoreData
        );
        assert_eq!(eval("path_beg /api", "if a", &s), Match::NeedMoreData);
        assert_eq!(
            eval("path_beg /api", "if a || HTTP", &s),
            Match::NeedMoreData
        );
        s.buf.extend_from_slice(b"\r\n");
        s.head.parse(&s.buf);
        assert_eq!(
            eval("hdr(host) -i WWW.example.com", "if a HTTP", &s),
            Match::Yes
        );
        assert_eq!(
            eval("path_beg /api", "if a METH_GET HTTP_1.1", &s),
            Match::Yes
        );
        assert_eq!(eval("url_param(k) 1", "if a", &s), Match::Yes);
        assert_eq!(eval("path_beg /other", "if a", &s), Match::No);
        // Not HTTP: a definite no, at once.
        let mut t = Tcp {
            buf: b"\x16\x03\x01\x00\x05hello".to_vec(),
            head: BufferedRequest::default(),
            final_: false,
        };
        t.head.parse(&t.buf);
        assert_eq!(eval("path_beg /", "if a", &t), Match::No);
        // Incomplete but final (inspect-delay over): no.
        let mut u = Tcp {
            buf: b"GET / HT".to_vec(),
            head: BufferedRequest::default(),
            final_: true,
        };
        u.head.parse(&u.buf);
        assert_eq!(eval("path_beg /", "if a", &u), Match::No);
    }
}
