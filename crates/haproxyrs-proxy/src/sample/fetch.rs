//! Fetch evaluation: the values a [`Fetch`] yields from a [`SampleSource`]. As a sample a
//! fetch yields one value (the last header occurrence, the first query parameter, as
//! HAProxy); for an ACL it yields every occurrence (`all`), until the visitor stops it.

use haproxyrs_config::ir::sample::{Fetch, FetchNeeds};

use super::http_parts::{self, cookies, query_params, set_cookie, split_commas};
use super::source::{parse_int_prefix, Phase, Sample, SampleSource};
use super::{auth, tls_hello};

/// What a fetch said besides its values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fetched {
    /// The answer may differ once more request data arrives (payload fetches while
    /// [`SampleSource::req_final`] is false).
    pub may_change: bool,
}

/// Call `visit` with each value of `fetch` (one unless `all`) until it returns false.
/// `fbuf` holds values the fetch composes (`base`).
pub fn fetch_each(
    fetch: &Fetch,
    src: &dyn SampleSource,
    all: bool,
    fbuf: &mut Vec<u8>,
    visit: &mut dyn FnMut(Sample<'_>) -> bool,
) -> Fetched {
    let mut st = Fetched::default();
    // Asked only by the payload fetches (a dynamic call saved on the others).
    let pending = || !src.req_final();
    if matches!(
        fetch.needs(),
        FetchNeeds::HttpRequest | FetchNeeds::HttpHeaders
    ) && src.req_http_incomplete()
    {
        // A TCP session whose buffered head is not complete: nothing to say yet.
        st.may_change = pending();
        return st;
    }
    match fetch {
        Fetch::Bool(b) => {
            visit(Sample::Bool(*b));
        }
        Fetch::Int(i) => {
            visit(Sample::Int(*i));
        }
        Fetch::Str(s) => {
            visit(Sample::Str(s.as_bytes()));
        }
        Fetch::Ip(ip) => {
            visit(Sample::Ip(*ip));
        }
        Fetch::Src => {
            if let Some(a) = src.src() {
                visit(Sample::Ip(a.ip()));
            }
        }
        Fetch::SrcPort => {
            if let Some(a) = src.src() {
                visit(Sample::Int(i64::from(a.port())));
            }
        }
        Fetch::Dst => {
            if let Some(a) = src.dst() {
                visit(Sample::Ip(a.ip()));
            }
        }
        Fetch::DstPort => {
            if let Some(a) = src.dst() {
                visit(Sample::Int(i64::from(a.port())));
            }
        }
        Fetch::ReqLen => {
            st.may_change = pending();
            visit(Sample::Int(src.req_buffer().len() as i64));
        }
        Fetch::ReqPayload { offset, len } => {
            let buf = src.req_buffer();
            let end = if *len == 0 {
                Some(buf.len())
            } else {
                offset.checked_add(*len)
            };
            match end {
                Some(end) if end <= buf.len() && *offset <= end => {
                    visit(Sample::Bin(&buf[*offset..end]));
                }
                _ => st.may_change = pending(),
            }
        }
        Fetch::ReqSslSni | Fetch::ReqSslAlpn | Fetch::ReqSslHelloType | Fetch::ReqSslVer => {
            match tls_hello::parse(src.req_buffer()) {
                tls_hello::Parsed::Hello(h) => match fetch {
                    Fetch::ReqSslSni => {
                        if let Some(sni) = h.sni {
                            visit(Sample::Str(sni));
                        }
                    }
                    Fetch::ReqSslAlpn => {
                        if let Some(alpn) = h.alpn {
                            visit(Sample::Str(alpn));
                        }
                    }
                    Fetch::ReqSslHelloType => {
                        visit(Sample::Int(i64::from(h.hello_type)));
                    }
                    _ => {
                        visit(Sample::Int(i64::from(h.version)));
                    }
                },
                tls_hello::Parsed::Incomplete => st.may_change = pending(),
                tls_hello::Parsed::NotTls => {}
            }
        }
        Fetch::ReqProtoHttp => {
            if src.method().is_some() {
                visit(Sample::Bool(true));
            } else {
                let mut headers = [httparse::EMPTY_HEADER; super::buffered::MAX_HEADERS];
                let mut req = httparse::Request::new(&mut headers);
                match req.parse(src.req_buffer()) {
                    // More headers than we index is still an HTTP request.
                    Ok(httparse::Status::Complete(_)) | Err(httparse::Error::TooManyHeaders) => {
                        visit(Sample::Bool(true));
                    }
                    Ok(httparse::Status::Partial) => {
                        st.may_change = pending();
                        visit(Sample::Bool(false));
                    }
                    Err(_) => {
                        visit(Sample::Bool(false));
                    }
                }
            }
        }
        Fetch::SslFc => {
            visit(Sample::Bool(false));
        }
        Fetch::SslFcSni => {}
        Fetch::Method => {
            if let Some(m) = src.method() {
                visit(Sample::Str(m));
            }
        }
        Fetch::Path => {
            if let Some(p) = src.path() {
                visit(Sample::Str(p));
            }
        }
        Fetch::PathQ => {
            if let Some(p) = src.uri().and_then(http_parts::uri_pathq) {
                visit(Sample::Str(p));
            }
        }
        Fetch::Url => {
            if let Some(u) = src.uri() {
                visit(Sample::Str(u));
            }
        }
        Fetch::Query => {
            if let Some(q) = src.uri().and_then(http_parts::uri_query) {
                visit(Sample::Str(q));
            }
        }
        Fetch::Base => {
            if let Some(path) = src.path() {
                fbuf.clear();
                if let Some(host) = first_header(src, false, b"host") {
                    fbuf.extend_from_slice(host);
                }
                fbuf.extend_from_slice(path);
                visit(Sample::Str(fbuf));
            }
        }
        Fetch::ReqVer => {
            if let Some(v) = src.http_version() {
                visit(Sample::Str(v));
            }
        }
        Fetch::UrlParam { name, delim } => {
            if let Some(q) = src.uri().and_then(http_parts::uri_query) {
                query_params(q, name.as_bytes(), delim.unwrap_or(b'&'), &mut |v| {
                    visit(Sample::Str(v)) && all
                });
            }
        }
        Fetch::Hdr { name, occ } => {
            let res = src.phase() == Phase::Response;
            header_values(src, res, name.as_bytes(), true, *occ, all, visit);
        }
        Fetch::ReqHdr { name, occ, full } => {
            header_values(src, false, name.as_bytes(), !full, *occ, all, visit);
        }
        Fetch::ResHdr { name, occ, full } => {
            header_values(src, true, name.as_bytes(), !full, *occ, all, visit);
        }
        Fetch::HdrCnt { name } => {
            let res = src.phase() == Phase::Response;
            visit(Sample::Int(header_count(src, res, name.as_bytes(), true)));
        }
        Fetch::ReqHdrCnt { name, full } => {
            visit(Sample::Int(header_count(
                src,
                false,
                name.as_bytes(),
                !full,
            )));
        }
        Fetch::ResHdrCnt { name, full } => {
            visit(Sample::Int(header_count(src, true, name.as_bytes(), !full)));
        }
        Fetch::HdrVal { name, occ }
        | Fetch::ReqHdrVal { name, occ }
        | Fetch::ResHdrVal { name, occ } => {
            let res = match fetch {
                Fetch::HdrVal { .. } => src.phase() == Phase::Response,
                Fetch::ResHdrVal { .. } => true,
                _ => false,
            };
            header_values(src, res, name.as_bytes(), true, *occ, all, &mut |v| match v
                .bytes()
                .and_then(parse_int_prefix)
            {
                Some(i) => visit(Sample::Int(i)),
                None => true,
            });
        }
        Fetch::ReqHdrIp { name, occ } => {
            header_values(
                src,
                false,
                name.as_bytes(),
                true,
                *occ,
                all,
                &mut |v| match v.as_ip().or_else(|| v.bytes().and_then(ipv4_with_port)) {
                    Some(ip) => visit(Sample::Ip(ip)),
                    None => true,
                },
            );
        }
        Fetch::ReqCook { name } | Fetch::ReqCookVal { name } => {
            let as_int = matches!(fetch, Fetch::ReqCookVal { .. });
            let emit = |v: &[u8], visit: &mut dyn FnMut(Sample<'_>) -> bool| -> bool {
                if as_int {
                    match parse_int_prefix(v) {
                        Some(i) => visit(Sample::Int(i)),
                        None => true,
                    }
                } else {
                    visit(Sample::Str(v))
                }
            };
            if all || name.is_empty() {
                // ACL: every matching cookie; sample without a name: the first cookie.
                let first_only = !all;
                for_each_cookie(src, name.as_bytes(), &mut |v| {
                    emit(v, &mut *visit) && !first_only
                });
            } else {
                let mut last: Option<&[u8]> = None;
                for_each_cookie(src, name.as_bytes(), &mut |v| {
                    last = Some(v);
                    true
                });
                if let Some(v) = last {
                    emit(v, visit);
                }
            }
        }
        Fetch::ReqCookCnt { name } => {
            let mut n = 0;
            for_each_cookie(src, name.as_bytes(), &mut |_| {
                n += 1;
                true
            });
            visit(Sample::Int(n));
        }
        Fetch::ResCook { name } => {
            let mut last: Option<&[u8]> = None;
            for i in 0..src.res_header_count() {
                let Some((n, v)) = src.res_header(i) else {
                    continue;
                };
                if !n.eq_ignore_ascii_case(b"set-cookie") {
                    continue;
                }
                if let Some((cn, cv)) = set_cookie(v) {
                    if name.is_empty() || cn == name.as_bytes() {
                        if all {
                            if !visit(Sample::Str(cv)) {
                                return st;
                            }
                        } else {
                            last = Some(cv);
                        }
                    }
                }
            }
            if let Some(v) = last {
                visit(Sample::Str(v));
            }
        }
        Fetch::HttpAuth { userlist } => {
            visit(Sample::Bool(auth::authenticate(src, userlist).is_some()));
        }
        Fetch::HttpAuthGroup { userlist } => {
            if let Some((ul, user)) = auth::authenticate(src, userlist) {
                auth::groups_of(ul, user, &mut |g| visit(Sample::Str(g.as_bytes())));
            }
        }
        Fetch::Status => {
            if let Some(s) = src.status() {
                visit(Sample::Int(i64::from(s)));
            }
        }
        Fetch::NbSrv { backend } => {
            if let Some(n) = src.nbsrv(backend.as_deref()) {
                visit(Sample::Int(n));
            }
        }
        Fetch::SrvIsUp { backend, server } => {
            if let Some(up) = src.srv_is_up(backend.as_deref(), server) {
                visit(Sample::Bool(up));
            }
        }
        Fetch::CaptureReqMethod => {
            if let Some(m) = src.method() {
                visit(Sample::Str(m));
            }
        }
        Fetch::CaptureReqUri => {
            if let Some(u) = src.uri() {
                visit(Sample::Str(u));
            }
        }
        Fetch::CaptureReqVer | Fetch::CaptureResVer => {
            let v = if matches!(fetch, Fetch::CaptureReqVer) {
                src.http_version()
            } else {
                src.res_http_version()
            };
            // HAProxy gives the protocol too: `HTTP/1.1`.
            match v {
                Some(b"1.0") => {
                    visit(Sample::Str(b"HTTP/1.0"));
                }
                Some(b"1.1") => {
                    visit(Sample::Str(b"HTTP/1.1"));
                }
                Some(b"2.0") => {
                    visit(Sample::Str(b"HTTP/2.0"));
                }
                _ => {}
            }
        }
        Fetch::CaptureHdr { response, index } => {
            if let Some(v) = src.captured_header(*response, *index) {
                visit(Sample::Str(v));
            }
        }
        Fetch::BeName => {
            if let Some(n) = src.backend_name() {
                visit(Sample::Str(n.as_bytes()));
            }
        }
        Fetch::FeName => {
            if let Some(n) = src.frontend_name() {
                visit(Sample::Str(n.as_bytes()));
            }
        }
        Fetch::Var {
            scope,
            name,
            default,
        } => match src.var(*scope, name) {
            Some(v) => {
                visit(v);
            }
            None => {
                if let Some(d) = default {
                    visit(Sample::Str(d.as_bytes()));
                }
            }
        },
        Fetch::Unimplemented { .. } => {}
    }
    st
}

/// `1.2.3.4:80` → 1.2.3.4 (`hdr_ip` accepts an IPv4 address followed by a port).
fn ipv4_with_port(v: &[u8]) -> Option<std::net::IpAddr> {
    let v = super::source::trim_ows(v);
    let colon = v.iter().position(|&c| c == b':')?;
    let (a, p) = (&v[..colon], &v[colon + 1..]);
    if p.is_empty() || !p.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let ip: std::net::Ipv4Addr = std::str::from_utf8(a).ok()?.parse().ok()?;
    Some(ip.into())
}

fn header_at(src: &dyn SampleSource, res: bool, i: usize) -> Option<(&[u8], &[u8])> {
    if res {
        src.res_header(i)
    } else {
        src.req_header(i)
    }
}

fn header_total(src: &dyn SampleSource, res: bool) -> usize {
    if res {
        src.res_header_count()
    } else {
        src.req_header_count()
    }
}

/// The first value of a header (not split), e.g. `Host`.
pub fn first_header<'s>(src: &'s dyn SampleSource, res: bool, name: &[u8]) -> Option<&'s [u8]> {
    (0..header_total(src, res))
        .filter_map(|i| header_at(src, res, i))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Every value of header `name` (every header when `name` is empty), split at commas
/// when `split`, in order, until `visit` returns false.
fn for_each_value<'s>(
    src: &'s dyn SampleSource,
    res: bool,
    name: &[u8],
    split: bool,
    visit: &mut dyn FnMut(&'s [u8]) -> bool,
) {
    for i in 0..header_total(src, res) {
        let Some((n, v)) = header_at(src, res, i) else {
            continue;
        };
        if !name.is_empty() && !n.eq_ignore_ascii_case(name) {
            continue;
        }
        let go_on = if split {
            split_commas(v, visit)
        } else {
            visit(v)
        };
        if !go_on {
            return;
        }
    }
}

fn header_count(src: &dyn SampleSource, res: bool, name: &[u8], split: bool) -> i64 {
    let mut n = 0;
    for_each_value(src, res, name, split, &mut |_| {
        n += 1;
        true
    });
    n
}

/// The values selected by `occ` (1-based from the first, negative from the last; none:
/// all of them for an ACL, the last one as a sample).
fn header_values(
    src: &dyn SampleSource,
    res: bool,
    name: &[u8],
    split: bool,
    occ: Option<i32>,
    all: bool,
    visit: &mut dyn FnMut(Sample<'_>) -> bool,
) {
    match occ {
        Some(n) if n > 0 => {
            let mut k = 0;
            for_each_value(src, res, name, split, &mut |v| {
                k += 1;
                if k == n {
                    visit(Sample::Str(v));
                    return false;
                }
                true
            });
        }
        Some(n) if n < 0 => {
            let total = header_count(src, res, name, split);
            let want = total + i64::from(n);
            if want < 0 {
                return;
            }
            let mut k = 0;
            for_each_value(src, res, name, split, &mut |v| {
                if k == want {
                    visit(Sample::Str(v));
                    return false;
                }
                k += 1;
                true
            });
        }
        _ if all => {
            for_each_value(src, res, name, split, &mut |v| visit(Sample::Str(v)));
        }
        _ => {
            let mut last = None;
            for_each_value(src, res, name, split, &mut |v| {
                last = Some(v);
                true
            });
            if let Some(v) = last {
                visit(Sample::Str(v));
            }
        }
    }
}

/// Values of the request cookies named `name` (every cookie when empty), in order.
fn for_each_cookie<'s>(
    src: &'s dyn SampleSource,
    name: &[u8],
    visit: &mut dyn FnMut(&'s [u8]) -> bool,
) {
    for i in 0..src.req_header_count() {
        let Some((n, v)) = src.req_header(i) else {
            continue;
        };
        if !n.eq_ignore_ascii_case(b"cookie") {
            continue;
        }
        let go_on = cookies(v, &mut |cn, cv| {
            if name.is_empty() || cn == name {
                visit(cv)
            } else {
                true
            }
        });
        if !go_on {
            return;
        }
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::super::testsrc::TestSource;
    use super::*;
    use haproxyrs_config::ir::sample::VarScope;

    fn all_values(f: &Fetch, src: &TestSource, all: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut fbuf = Vec::new();
        fetch_each(f, src, all, &mut fbuf, &mut |s| {
            let mut b = Vec::new();
            s.write_to(&mut b);
            out.push(String::from_utf8(b).unwrap());
            true
        });
        out
    }

    fn one(f: &Fetch, src: &TestSource) -> Option<String> {
        all_values(f, src, false).pop()
    }

    fn req() -> TestSource {
        TestSource::http(
            "GET",
            "/p/q;x?k=1&k=2&z",
            &[
                ("Host", "h"),
                ("Cookie", "c=1; d=2; c=3"),
                ("Cookie", "c=4"),
                ("x", "a, b"),
                ("X", "c"),
                ("n", "12abc"),
            ],
        )
    }

    fn hdr(name: &str, occ: Option<i32>) -> Fetch {
        Fetch::Hdr {
            name: name.into(),
            occ,
        }
    }

    #[test]
    fn http_request_fetches_like_haproxy() {
        // Reference values observed with HAProxy 2.6 on the same request.
        let s = req();
        assert_eq!(one(&Fetch::Path, &s).unwrap(), "/p/q;x");
        assert_eq!(one(&Fetch::Query, &s).unwrap(), "k=1&k=2&z");
        assert_eq!(one(&Fetch::Url, &s).unwrap(), "/p/q;x?k=1&k=2&z");
        assert_eq!(one(&Fetch::Base, &s).unwrap(), "h/p/q;x");
        assert_eq!(one(&Fetch::Method, &s).unwrap(), "GET");
        assert_eq!(one(&Fetch::ReqVer, &s).unwrap(), "1.1");
        assert_eq!(one(&Fetch::CaptureReqVer, &s).unwrap(), "HTTP/1.1");
        assert_eq!(one(&Fetch::CaptureReqUri, &s).unwrap(), "/p/q;x?k=1&k=2&z");
        assert_eq!(one(&Fetch::CaptureReqMethod, &s).unwrap(), "GET");
        let up = Fetch::UrlParam {
            name: "k".into(),
            delim: None,
        };
        assert_eq!(one(&up, &s).unwrap(), "1");
        assert_eq!(all_values(&up, &s, true), vec!["1", "2"]);
        assert_eq!(one(&hdr("x", None), &s).unwrap(), "c");
        assert_eq!(one(&hdr("x", Some(1)), &s).unwrap(), "a");
        assert_eq!(one(&hdr("x", Some(-2)), &s).unwrap(), "b");
        assert_eq!(all_values(&hdr("x", None), &s, true), vec!["a", "b", "c"]);
        let fhdr = Fetch::ReqHdr {
            name: "x".into(),
            occ: None,
            full: true,
        };
        assert_eq!(all_values(&fhdr, &s, true), vec!["a, b", "c"]);
        assert_eq!(one(&Fetch::HdrCnt { name: "x".into() }, &s).unwrap(), "3");
        assert_eq!(
            one(
                &Fetch::ReqHdrCnt {
                    name: "x".into(),
                    full: true
                },
                &s
            )
            .unwrap(),
            "2"
        );
        assert_eq!(
            one(
                &Fetch::HdrVal {
                    name: "n".into(),
                    occ: None
                },
                &s
            )
            .unwrap(),
            "12"
        );
        let cook = Fetch::ReqCook { name: "c".into() };
        assert_eq!(one(&cook, &s).unwrap(), "4");
        assert_eq!(all_values(&cook, &s, true), vec!["1", "3", "4"]);
        assert_eq!(
            one(&Fetch::ReqCookCnt { name: "c".into() }, &s).unwrap(),
            "3"
        );
        assert_eq!(
            one(
                &Fetch::ReqCook {
                    name: String::new()
                },
                &s
            )
            .unwrap(),
            "1"
        );
        assert_eq!(one(&hdr("missing", None), &s), None);
        assert_eq!(
            one(
                &Fetch::HdrCnt {
                    name: "missing".into()
                },
                &s
            )
            .unwrap(),
            "0"
        );
    }

    #[test]
    fn hdr_ip_like_haproxy() {
        // Observed with HAProxy 2.6.
        let s = TestSource::http(
            "GET",
            "/",
            &[
                ("a", "1.2.3.4:80"),
                ("b", "[::1]:80"),
                ("c", "::1"),
                ("d", " 10.0.0.1 "),
                ("e", "1.2.3.4x"),
            ],
        );
        let ip = |n: &str| {
            one(
                &Fetch::ReqHdrIp {
                    name: n.into(),
                    occ: None,
                },
                &s,
            )
        };
        assert_eq!(ip("a").as_deref(), Some("1.2.3.4"));
        assert_eq!(ip("b"), None);
        assert_eq!(ip("c").as_deref(), Some("::1"));
        assert_eq!(ip("d").as_deref(), Some("10.0.0.1"));
        assert_eq!(ip("e"), None);
    }

    #[test]
    fn absolute_uri_and_no_query() {
        let s = TestSource::http("GET", "http://foo:80/abs?q", &[]);
        assert_eq!(one(&Fetch::Path, &s).unwrap(), "/abs");
        assert_eq!(one(&Fetch::Base, &s).unwrap(), "/abs");
        let s = TestSource::http("GET", "/", &[]);
        assert_eq!(one(&Fetch::Query, &s), None);
    }

    #[test]
    fn l4_state_and_vars() {
        let mut s = req();
        s.src = Some("192.0.2.1:4000".parse().unwrap());
        s.dst = Some("[::1]:80".parse().unwrap());
        assert_eq!(one(&Fetch::Src, &s).unwrap(), "192.0.2.1");
        assert_eq!(one(&Fetch::SrcPort, &s).unwrap(), "4000");
        assert_eq!(one(&Fetch::Dst, &s).unwrap(), "::1");
        assert_eq!(one(&Fetch::DstPort, &s).unwrap(), "80");
        s.vars.push((VarScope::Txn, "v".into(), "val".into()));
        assert_eq!(
            one(
                &Fetch::Var {
                    scope: VarScope::Txn,
                    name: "v".into(),
                    default: None,
                },
                &s
            )
            .unwrap(),
            "val"
        );
        let dflt = Fetch::Var {
            scope: VarScope::Txn,
            name: "unset".into(),
            default: Some("dflt".into()),
        };
        assert_eq!(one(&dflt, &s).unwrap(), "dflt");
        assert_eq!(one(&Fetch::NbSrv { backend: None }, &s).unwrap(), "2");
        assert_eq!(
            one(
                &Fetch::SrvIsUp {
                    backend: None,
                    server: "s2".into()
                },
                &s
            )
            .unwrap(),
            "0"
        );
        assert_eq!(one(&Fetch::SslFc, &s).unwrap(), "0");
    }

    #[test]
    fn response_headers_follow_phase() {
        let mut s = req();
        s.status = Some(404);
        s.res_headers = vec![
            ("x".into(), "resp".into()),
            ("Set-Cookie".into(), "SID=abc; Path=/".into()),
        ];
        assert_eq!(one(&hdr("x", None), &s).unwrap(), "c");
        s.phase = Phase::Response;
        assert_eq!(one(&hdr("x", None), &s).unwrap(), "resp");
        assert_eq!(one(&Fetch::Status, &s).unwrap(), "404");
        assert_eq!(
            one(&Fetch::ResCook { name: "SID".into() }, &s).unwrap(),
            "abc"
        );
    }

    #[test]
    fn payload_fetches_may_change_until_final() {
        let mut s = TestSource::default();
        s.buffer = b"GET / HT".to_vec();
        s.final_ = false;
        let mut fbuf = Vec::new();
        let st = fetch_each(&Fetch::ReqProtoHttp, &s, true, &mut fbuf, &mut |_| true);
        assert!(st.may_change);
        s.buffer = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec();
        assert_eq!(one(&Fetch::ReqProtoHttp, &s).unwrap(), "1");
        assert_eq!(one(&Fetch::ReqLen, &s).unwrap(), s.buffer.len().to_string());
        let p = Fetch::ReqPayload { offset: 0, len: 3 };
        assert_eq!(one(&p, &s).unwrap(), "GET");
        let far = Fetch::ReqPayload {
            offset: 100,
            len: 3,
        };
        assert!(fetch_each(&far, &s, true, &mut fbuf, &mut |_| true).may_change);
        s.final_ = true;
        assert!(!fetch_each(&far, &s, true, &mut fbuf, &mut |_| true).may_change);
    }
}
