//! The session as samples see it: [`SampleSource`] (borrowed accessors implemented by the
//! TCP and HTTP engines) and [`Sample`], one typed value.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};

use haproxyrs_config::ir::sample::VarScope;
use haproxyrs_config::ir::Userlist;

/// Which message `hdr()` and friends read: the request's headers, or the response's in
/// response rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    #[default]
    Request,
    Response,
}

/// What the engines expose to fetches. Every accessor is cheap and returns borrowed data;
/// the defaults say "not available here", so a TCP session implements only what it has.
pub trait SampleSource {
    // --- layer 4
    fn src(&self) -> Option<SocketAddr> {
        None
    }
    fn dst(&self) -> Option<SocketAddr> {
        None
    }

    // --- request buffer (tcp-request content inspection)
    /// The request bytes received so far (for `req.len`, `req.payload`, `req.ssl_sni`,
    /// `req.proto_http`, `RDP_COOKIE`).
    fn req_buffer(&self) -> &[u8] {
        &[]
    }
    /// True when no more request data can change the answer: the inspect-delay expired,
    /// the buffer is full, the client closed, or the rule is not a content-inspection rule.
    /// While false, a term that does not match on data that may still grow evaluates to
    /// [`super::Match::NeedMoreData`].
    fn req_final(&self) -> bool {
        true
    }

    /// True while the HTTP request head is not complete (a TCP session parsing its buffer,
    /// see [`super::buffered::BufferedRequest`]): HTTP fetches then answer "may change"
    /// until [`SampleSource::req_final`]. An HTTP transaction always has its head.
    fn req_http_incomplete(&self) -> bool {
        false
    }

    // --- HTTP request
    fn method(&self) -> Option<&[u8]> {
        None
    }
    /// The request target as received (origin form `/p?q`, absolute form, `*`, authority).
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    /// The path of the request target (what `path` returns). The default derives it from
    /// [`SampleSource::uri`]; an engine that already knows it may answer directly.
    fn path(&self) -> Option<&[u8]> {
        self.uri().and_then(super::http_parts::uri_path)
    }
    /// The HTTP version as `1.0`, `1.1`, `2.0`.
    fn http_version(&self) -> Option<&[u8]> {
        None
    }
    fn req_header_count(&self) -> usize {
        0
    }
    /// Header `i` (0-based, in order of arrival): (name, value).
    fn req_header(&self, _i: usize) -> Option<(&[u8], &[u8])> {
        None
    }

    // --- HTTP response
    fn phase(&self) -> Phase {
        Phase::Request
    }
    fn status(&self) -> Option<u16> {
        None
    }
    fn res_header_count(&self) -> usize {
        0
    }
    fn res_header(&self, _i: usize) -> Option<(&[u8], &[u8])> {
        None
    }

    // --- captures
    /// The `index`th `capture request|response header` slot (0-based), when captured.
    fn captured_header(&self, _response: bool, _index: usize) -> Option<&[u8]> {
        None
    }
    /// The response's HTTP version as `1.1`.
    fn res_http_version(&self) -> Option<&[u8]> {
        None
    }

    // --- internal state
    fn frontend_name(&self) -> Option<&str> {
        None
    }
    fn backend_name(&self) -> Option<&str> {
        None
    }
    /// Usable servers of a backend (`None`: the current backend).
    fn nbsrv(&self, _backend: Option<&str>) -> Option<i64> {
        None
    }
    /// Whether a server is up (`backend None`: the current backend).
    fn srv_is_up(&self, _backend: Option<&str>, _server: &str) -> Option<bool> {
        None
    }
    /// A `userlist` section by name (for `http_auth`).
    fn userlist(&self, _name: &str) -> Option<&Userlist> {
        None
    }
    /// A variable set by `set-var`.
    fn var(&self, _scope: VarScope, _name: &str) -> Option<Sample<'_>> {
        None
    }
}

/// One sample value. Byte strings borrow the source or the converter scratch buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sample<'a> {
    Bool(bool),
    Int(i64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Ip(IpAddr),
}

impl<'a> Sample<'a> {
    /// The bytes of a string or binary sample.
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self {
            Sample::Str(b) | Sample::Bin(b) => Some(b),
            _ => None,
        }
    }

    /// The sample as an integer, as HAProxy casts: strings by their leading decimal
    /// digits (`12abc` → 12), booleans as 0/1.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Sample::Int(i) => Some(*i),
            Sample::Bool(b) => Some(i64::from(*b)),
            Sample::Str(s) | Sample::Bin(s) => parse_int_prefix(s),
            Sample::Ip(IpAddr::V4(a)) => Some(i64::from(u32::from(*a))),
            Sample::Ip(_) => None,
        }
    }

    /// The sample as a boolean (non-zero integer, non-empty string).
    pub fn as_bool(&self) -> bool {
        match self {
            Sample::Bool(b) => *b,
            Sample::Int(i) => *i != 0,
            Sample::Str(s) | Sample::Bin(s) => parse_int_prefix(s).is_some_and(|i| i != 0),
            Sample::Ip(_) => true,
        }
    }

    /// The sample as an address (strings are parsed).
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Sample::Ip(ip) => Some(*ip),
            Sample::Str(s) | Sample::Bin(s) => std::str::from_utf8(trim_ows(s)).ok()?.parse().ok(),
            _ => None,
        }
    }

    /// Write the sample as text (integers in decimal, addresses in their usual form).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Sample::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
            Sample::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Sample::Str(s) | Sample::Bin(s) => out.extend_from_slice(s),
            Sample::Ip(ip) => {
                let _ = write!(out, "{ip}");
            }
        }
    }
}

/// Optional blanks, an optional sign and at least one digit; what follows is ignored.
pub fn parse_int_prefix(s: &[u8]) -> Option<i64> {
    let s = trim_ows(s);
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    let mut any = false;
    for &c in digits {
        if !c.is_ascii_digit() {
            break;
        }
        any = true;
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    any.then_some(if neg { -v } else { v })
}

/// Trim spaces and tabs on both sides.
pub fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Format an integer into a stack buffer (for string matching of integer samples).
pub fn int_to_buf(v: i64, buf: &mut [u8; 24]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts() {
        assert_eq!(Sample::Str(b" 12abc").as_int(), Some(12));
        assert_eq!(Sample::Str(b"-7").as_int(), Some(-7));
        assert_eq!(Sample::Str(b"abc").as_int(), None);
        assert!(Sample::Str(b"1").as_bool());
        assert!(!Sample::Str(b"0").as_bool());
        assert_eq!(
            Sample::Str(b"10.0.0.1").as_ip(),
            Some("10.0.0.1".parse().unwrap())
        );
        let mut b = [0u8; 24];
        assert_eq!(int_to_buf(-1234, &mut b), b"-1234");
        assert_eq!(int_to_buf(0, &mut b), b"0");
        assert_eq!(int_to_buf(i64::MIN, &mut b), b"-9223372036854775808");
    }
}
