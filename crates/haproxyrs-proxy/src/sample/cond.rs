//! ACL terms and `if`/`unless` conditions, evaluated in HAProxy's three-valued logic:
//! a term that does not match on request data that may still grow is "need more data"
//! (HAProxy's MISS), which `tcp-request content` rules wait on until the inspect-delay.
//! `!` leaves MISS alone; AND is the minimum (No < NeedMoreData < Yes), OR the maximum;
//! an empty condition never matches.

use haproxyrs_config::ir::sample::{
    Acl, AclRef, AclTerm, Condition, Fetch, MatchMethod, PredefinedAcl,
};

use super::fetch::{fetch_each, first_header};
use super::http_parts::find;
use super::source::{Sample, SampleSource};
use super::{convert, matcher, with_scratch, Scratch};

/// The outcome of a condition or ACL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Match {
    No,
    /// Not decided yet: wait for more request data (only while
    /// [`SampleSource::req_final`] is false).
    NeedMoreData,
    Yes,
}

impl Match {
    fn from_bool(b: bool) -> Match {
        if b {
            Match::Yes
        } else {
            Match::No
        }
    }

    fn negate(self) -> Match {
        match self {
            Match::Yes => Match::No,
            Match::No => Match::Yes,
            Match::NeedMoreData => Match::NeedMoreData,
        }
    }

    /// True only for a definite yes.
    pub fn is_yes(self) -> bool {
        self == Match::Yes
    }
}

/// Evaluate a rule's condition against the proxy's ACLs.
pub fn eval_condition(cond: &Condition, acls: &[Acl], src: &dyn SampleSource) -> Match {
    if cond.alternatives.is_empty() {
        return if cond.unless { Match::Yes } else { Match::No };
    }
    with_scratch(|scratch| eval_condition_in(cond, acls, src, scratch))
}

fn eval_condition_in(
    cond: &Condition,
    acls: &[Acl],
    src: &dyn SampleSource,
    scratch: &mut Scratch,
) -> Match {
    let mut result = Match::No;
    for group in &cond.alternatives {
        let mut g = Match::Yes;
        for term in group {
            let mut r = match &term.acl {
                AclRef::Named(id) => match acls.get(id.0) {
                    Some(acl) => eval_acl_in(acl, src, scratch),
                    None => Match::No,
                },
                AclRef::Anonymous(t) => eval_term_in(t, src, scratch),
                AclRef::Predefined(p) => eval_predefined(*p, src),
            };
            if term.negated {
                r = r.negate();
            }
            g = g.min(r);
            if g == Match::No {
                break;
            }
        }
        result = result.max(g);
        if result == Match::Yes {
            break;
        }
    }
    if cond.unless {
        result.negate()
    } else {
        result
    }
}

/// A named ACL: its declaration lines OR'ed.
pub fn eval_acl(acl: &Acl, src: &dyn SampleSource) -> Match {
    with_scratch(|scratch| eval_acl_in(acl, src, scratch))
}

fn eval_acl_in(acl: &Acl, src: &dyn SampleSource, scratch: &mut Scratch) -> Match {
    let mut r = Match::No;
    for t in &acl.terms {
        r = r.max(eval_term_in(t, src, scratch));
        if r == Match::Yes {
            break;
        }
    }
    r
}

/// One ACL term: every value the fetch yields (after converters) against the patterns.
pub fn eval_acl_term(term: &AclTerm, src: &dyn SampleSource) -> Match {
    with_scratch(|scratch| eval_term_in(term, src, scratch))
}

fn eval_term_in(term: &AclTerm, src: &dyn SampleSource, scratch: &mut Scratch) -> Match {
    {
        let Scratch { cur, tmp, fetch } = scratch;
        let mut found = false;
        // `method` compares known methods case-sensitively whatever `-i` says (HAProxy).
        let meth = matches!(term.sample.fetch, Fetch::Method)
            && term.method == MatchMethod::Str
            && term.sample.converters.is_empty();
        let st = fetch_each(&term.sample.fetch, src, true, fetch, &mut |raw| {
            if meth {
                found = matcher::matches_method(&term.patterns, &raw);
                return !found;
            }
            if term.sample.converters.is_empty() {
                found = matcher::matches(&term.patterns, term.method, &raw);
                return !found;
            }
            if let Some(v) = convert::apply(raw, &term.sample.converters, src, cur, tmp) {
                if matcher::matches(&term.patterns, term.method, &v) {
                    found = true;
                    return false;
                }
            }
            true
        });
        if found {
            Match::Yes
        } else if st.may_change {
            Match::NeedMoreData
        } else {
            Match::No
        }
    }
}

/// HAProxy's built-in ACLs.
fn eval_predefined(p: PredefinedAcl, src: &dyn SampleSource) -> Match {
    let meth = |names: &[&[u8]]| Match::from_bool(src.method().is_some_and(|m| names.contains(&m)));
    let ver = |v: &[u8]| Match::from_bool(src.http_version() == Some(v));
    let needs_head = !matches!(
        p,
        PredefinedAcl::True
            | PredefinedAcl::False
            | PredefinedAcl::Http
            | PredefinedAcl::LocalHost
            | PredefinedAcl::RdpCookie
            | PredefinedAcl::ReqContent
            | PredefinedAcl::WaitEnd
    );
    if needs_head && src.req_http_incomplete() {
        // A TCP session still receiving its HTTP head.
        return if src.req_final() {
            Match::No
        } else {
            Match::NeedMoreData
        };
    }
    match p {
        PredefinedAcl::True => Match::Yes,
        PredefinedAcl::False => Match::No,
        PredefinedAcl::Http => proto_http(src),
        PredefinedAcl::Http10 => ver(b"1.0"),
        PredefinedAcl::Http11 => ver(b"1.1"),
        PredefinedAcl::Http20 => ver(b"2.0"),
        PredefinedAcl::HttpContent => Match::from_bool(
            first_header(src, false, b"content-length")
                .and_then(super::source::parse_int_prefix)
                .is_some_and(|n| n > 0),
        ),
        PredefinedAcl::HttpUrlAbs => Match::from_bool(src.uri().is_some_and(|u| {
            // `^[^/:]*://`
            match find(u, b"://") {
                Some(p) => !u[..p].iter().any(|&c| c == b'/' || c == b':'),
                None => false,
            }
        })),
        PredefinedAcl::HttpUrlSlash => {
            Match::from_bool(src.uri().is_some_and(|u| u.first() == Some(&b'/')))
        }
        PredefinedAcl::HttpUrlStar => Match::from_bool(src.uri() == Some(b"*")),
        PredefinedAcl::LocalHost => Match::from_bool(src.src().is_some_and(|a| match a.ip() {
            std::net::IpAddr::V4(v4) => v4.octets()[0] == 127,
            std::net::IpAddr::V6(v6) => v6.is_loopback(),
        })),
        PredefinedAcl::MethConnect => meth(&[b"CONNECT"]),
        PredefinedAcl::MethDelete => meth(&[b"DELETE"]),
        PredefinedAcl::MethGet => meth(&[b"GET", b"HEAD"]),
        PredefinedAcl::MethHead => meth(&[b"HEAD"]),
        PredefinedAcl::MethOptions => meth(&[b"OPTIONS"]),
        PredefinedAcl::MethPost => meth(&[b"POST"]),
        PredefinedAcl::MethPut => meth(&[b"PUT"]),
        PredefinedAcl::MethTrace => meth(&[b"TRACE"]),
        PredefinedAcl::RdpCookie => rdp_cookie(src),
        PredefinedAcl::ReqContent => {
            if !src.req_buffer().is_empty() {
                Match::Yes
            } else if src.req_final() {
                Match::No
            } else {
                Match::NeedMoreData
            }
        }
        PredefinedAcl::WaitEnd => {
            if src.req_final() {
                Match::Yes
            } else {
                Match::NeedMoreData
            }
        }
    }
}

/// `HTTP`: the request is HTTP (an HTTP transaction, or a parseable head in the buffer).
fn proto_http(src: &dyn SampleSource) -> Match {
    let mut fbuf = Vec::new();
    let mut yes = false;
    let st = fetch_each(
        &haproxyrs_config::ir::sample::Fetch::ReqProtoHttp,
        src,
        false,
        &mut fbuf,
        &mut |v| {
            yes = matches!(v, Sample::Bool(true));
            false
        },
    );
    if yes {
        Match::Yes
    } else if st.may_change {
        Match::NeedMoreData
    } else {
        Match::No
    }
}

/// `RDP_COOKIE`: an RDP connection request carrying `Cookie: mstshash=…` after its TPKT
/// and X.224 headers (11 bytes).
fn rdp_cookie(src: &dyn SampleSource) -> Match {
    let buf = src.req_buffer();
    if buf.len() < 11 + 8 {
        return if src.req_final() {
            Match::No
        } else {
            Match::NeedMoreData
        };
    }
    let rest = &buf[11..];
    if !rest.starts_with(b"Cookie:") {
        return Match::No;
    }
    match find(rest, b"\r\n") {
        Some(end) => Match::from_bool(find(&rest[..end], b"=").is_some()),
        None if src.req_final() => Match::No,
        None => Match::NeedMoreData,
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::super::testsrc::TestSource;
    use super::*;
    use haproxyrs_config::ast::Word;
    use haproxyrs_config::diag::Diagnostics;
    use haproxyrs_config::env::SystemEnv;
    use haproxyrs_config::lower::sample::{parse_acl_term, parse_condition, AclScope};
    use haproxyrs_config::span::Span;

    fn words(text: &str) -> Vec<Word> {
        text.split_whitespace()
            .map(|w| Word {
                text: w.into(),
                span: Span::new("t".into(), 1, 1),
            })
            .collect()
    }

    /// Declare `acls` (name, criterion) and evaluate `cond` (`if …`/`unless …`).
    fn eval(acls: &[(&str, &str)], cond: &str, src: &TestSource) -> Match {
        let mut scope = AclScope::default();
        let mut d = Diagnostics::default();
        for (name, crit) in acls {
            let t = parse_acl_term(&words(crit), &SystemEnv, &mut d).unwrap();
            scope.declare(name, t);
        }
        let c = parse_condition(&words(cond), &scope, &SystemEnv, &mut d)
            .unwrap()
            .unwrap();
        eval_condition(&c, &scope.acls, src)
    }

    fn get(path: &str) -> TestSource {
        TestSource::http("GET", path, &[("Host", "www.example.com")])
    }

    #[test]
    fn tutorial_acls() {
        let acls = [("app1", "path_end -i /app1"), ("app2", "path_end -i /app2")];
        assert_eq!(eval(&acls, "if app1", &get("/app1")), Match::Yes);
        assert_eq!(eval(&acls, "if app2", &get("/APP2")), Match::Yes);
        assert_eq!(eval(&acls, "if app1", &get("/")), Match::No);
        assert_eq!(eval(&acls, "if app2", &get("/x/app1")), Match::No);
    }

    #[test]
    fn precedence_and_negation() {
        let acls = [
            ("a", "path_beg /a"),
            ("b", "hdr(host) -i WWW.EXAMPLE.COM"),
            ("c", "path_end .png"),
        ];
        let s = get("/a/x.png");
        assert_eq!(eval(&acls, "if a b", &s), Match::Yes);
        assert_eq!(eval(&acls, "if a !b", &s), Match::No);
        // AND binds tighter than OR: (!a && b) || c.
        assert_eq!(eval(&acls, "if !a b || c", &s), Match::Yes);
        assert_eq!(eval(&acls, "if !a b or !c", &s), Match::No);
        assert_eq!(eval(&acls, "unless a b", &s), Match::No);
        assert_eq!(eval(&acls, "unless !a", &s), Match::Yes);
        assert_eq!(eval(&acls, "if { path_sub x.p } a", &s), Match::Yes);
        assert_eq!(eval(&acls, "if !{ path_sub zz }", &s), Match::Yes);
        // An empty condition never matches (HAProxy).
        assert_eq!(eval(&acls, "if", &s), Match::No);
        assert_eq!(eval(&acls, "unless", &s), Match::Yes);
    }

    #[test]
    fn named_acl_lines_are_ored() {
        let acls = [("st", "path_beg /static"), ("st", "path_end .css")];
        assert_eq!(eval(&acls, "if st", &get("/x/a.css")), Match::Yes);
        assert_eq!(eval(&acls, "if st", &get("/static/a")), Match::Yes);
        assert_eq!(eval(&acls, "if st", &get("/x")), Match::No);
    }

    #[test]
    fn predefined() {
        let mut s = get("/x");
        s.src = Some("127.0.0.1:5555".parse().unwrap());
        assert_eq!(
            eval(
                &[],
                "if METH_GET HTTP HTTP_1.1 HTTP_URL_SLASH LOCALHOST TRUE",
                &s
            ),
            Match::Yes
        );
        assert_eq!(eval(&[], "if FALSE", &s), Match::No);
        assert_eq!(eval(&[], "if METH_POST", &s), Match::No);
        let head = TestSource::http("HEAD", "/", &[]);
        assert_eq!(eval(&[], "if METH_GET", &head), Match::Yes);
        assert_eq!(eval(&[], "if METH_HEAD", &head), Match::Yes);
        let abs = TestSource::http("GET", "http://h/x", &[]);
        assert_eq!(
            eval(&[], "if HTTP_URL_ABS !HTTP_URL_SLASH", &abs),
            Match::Yes
        );
        let star = TestSource::http("OPTIONS", "*", &[]);
        assert_eq!(
            eval(&[], "if HTTP_URL_STAR METH_OPTIONS", &star),
            Match::Yes
        );
        let post = TestSource::http("POST", "/", &[("Content-Length", "5")]);
        assert_eq!(eval(&[], "if HTTP_CONTENT", &post), Match::Yes);
        assert_eq!(eval(&[], "if HTTP_CONTENT", &get("/")), Match::No);
        let mut v6 = get("/");
        v6.src = Some("[::1]:1".parse().unwrap());
        assert_eq!(eval(&[], "if LOCALHOST", &v6), Match::Yes);
        v6.src = Some("[2001:db8::1]:1".parse().unwrap());
        assert_eq!(eval(&[], "if LOCALHOST", &v6), Match::No);
    }

    #[test]
    fn tri_state_for_content_inspection() {
        let mut s = TestSource::default();
        s.final_ = false;
        s.buffer = b"\x16\x03\x01".to_vec();
        // Not enough bytes for the ClientHello yet: wait.
        assert_eq!(
            eval(&[], "if { req.ssl_sni -i a.example }", &s),
            Match::NeedMoreData
        );
        assert_eq!(
            eval(&[], "if !{ req.ssl_sni -i a.example }", &s),
            Match::NeedMoreData
        );
        assert_eq!(eval(&[], "if REQ_CONTENT", &s), Match::Yes);
        assert_eq!(eval(&[], "if WAIT_END", &s), Match::NeedMoreData);
        // A definite No in an AND group wins over a pending term.
        assert_eq!(eval(&[], "if FALSE { req.ssl_sni x }", &s), Match::No);
        // A definite Yes in an OR wins too.
        assert_eq!(eval(&[], "if { req.ssl_sni x } || TRUE", &s), Match::Yes);
        assert_eq!(eval(&[], "if { req.len ge 100 }", &s), Match::NeedMoreData);
        s.buffer = super::super::tls_hello::tests::client_hello("a.example");
        assert_eq!(eval(&[], "if { req.ssl_sni -i A.EXAMPLE }", &s), Match::Yes);
        assert_eq!(
            eval(&[], "if { req_ssl_sni -m end .example }", &s),
            Match::Yes
        );
        assert_eq!(
            eval(&[], "if { req.ssl_alpn h2 } { req.ssl_hello_type 1 }", &s),
            Match::Yes
        );
        assert_eq!(eval(&[], "if { req.ssl_sni b.example }", &s), Match::No);
        s.buffer = b"\x16\x03\x01".to_vec();
        s.final_ = true;
        assert_eq!(eval(&[], "if { req.ssl_sni -i a.example }", &s), Match::No);
        assert_eq!(eval(&[], "if { req.len ge 100 }", &s), Match::No);
        assert_eq!(eval(&[], "if WAIT_END", &s), Match::Yes);
        let mut http = TestSource::default();
        http.final_ = false;
        http.buffer = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
        assert_eq!(eval(&[], "if HTTP", &http), Match::NeedMoreData);
        http.buffer.extend_from_slice(b"\r\n");
        assert_eq!(eval(&[], "if HTTP", &http), Match::Yes);
        let mut rdp = TestSource::default();
        rdp.final_ = true;
        rdp.buffer =
            b"\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00Cookie: mstshash=bob\r\n".to_vec();
        assert_eq!(eval(&[], "if RDP_COOKIE", &rdp), Match::Yes);
    }

    #[test]
    fn header_quirks_like_haproxy() {
        // Requests and verdicts observed with HAProxy 2.6.
        let acls = [
            ("q1", "hdr(q) b"),
            ("q2", "hdr(q) \"a,b\""),
            ("qc", "hdr_cnt(q) 2"),
            ("e1", "hdr(e) -m found"),
            ("e2", "hdr(e) -m len 0"),
            ("ec", "hdr_cnt(e) 1"),
            ("ub", "url_param(k,;) 2"),
            ("sub", "hdr_sub(x) -i MID"),
            ("hv", "hdr_val(n) gt 5"),
            ("pe", "path_end .php"),
            ("ck", "cook(c) 2"),
        ];
        let r = TestSource::http(
            "GET",
            "/a.php?x=1;k=2",
            &[
                ("Host", "h"),
                ("q", "\"a,b\", c"),
                ("e", ""),
                ("x", "aaMidbb"),
                ("n", "12abc"),
                ("Cookie", "c=1; c="),
                ("Cookie", "c=2"),
            ],
        );
        for name in ["q2", "qc", "e1", "e2", "ec", "ub", "sub", "hv", "pe", "ck"] {
            assert_eq!(eval(&acls, &format!("if {name}"), &r), Match::Yes, "{name}");
        }
        assert_eq!(eval(&acls, "if q1", &r), Match::No);
        let r2 = TestSource::http("GET", "/a.php?x=1&k=2", &[("Host", "h"), ("n", "4")]);
        for name in ["e1", "ub", "hv", "ck"] {
            assert_eq!(eval(&acls, &format!("if {name}"), &r2), Match::No, "{name}");
        }
        assert_eq!(eval(&acls, "if pe", &r2), Match::Yes);
    }

    #[test]
    fn method_matching_like_haproxy() {
        // Observed with HAProxy 2.6: known methods match case-sensitively even with -i.
        let get = TestSource::http("GET", "/", &[]);
        let lower = TestSource::http("get", "/", &[]);
        let acls = [
            ("m", "method get"),
            ("u", "method GET"),
            ("i", "method -i get"),
            ("I", "method -i GET"),
        ];
        assert_eq!(eval(&acls, "if I", &get), Match::Yes);
        assert_eq!(eval(&acls, "if I", &lower), Match::No);
        assert_eq!(eval(&acls, "if m", &get), Match::No);
        assert_eq!(eval(&acls, "if u", &get), Match::Yes);
        assert_eq!(eval(&acls, "if i", &get), Match::No);
        assert_eq!(eval(&acls, "if m", &lower), Match::Yes);
        assert_eq!(eval(&acls, "if u", &lower), Match::No);
        assert_eq!(eval(&acls, "if i", &lower), Match::Yes);
        let purge = TestSource::http("PURGE", "/", &[]);
        assert_eq!(
            eval(&[("p", "method -i purge")], "if p", &purge),
            Match::Yes
        );
        assert_eq!(eval(&[("p", "method purge")], "if p", &purge), Match::No);
    }

    #[test]
    fn acl_iterates_every_occurrence() {
        let s = TestSource::http(
            "GET",
            "/",
            &[("X-Tag", "a, b"), ("x-tag", "c"), ("Cookie", "u=1; u=2")],
        );
        assert_eq!(eval(&[("t", "hdr(x-tag) b")], "if t", &s), Match::Yes);
        assert_eq!(eval(&[("t", "hdr(x-tag,1) b")], "if t", &s), Match::No);
        assert_eq!(eval(&[("t", "req.fhdr(x-tag) b")], "if t", &s), Match::No);
        assert_eq!(
            eval(&[("t", "req.fhdr(x-tag) -m beg a,")], "if t", &s),
            Match::Yes
        );
        assert_eq!(eval(&[("t", "hdr_cnt(x-tag) 3")], "if t", &s), Match::Yes);
        assert_eq!(eval(&[("t", "cook(u) 1")], "if t", &s), Match::Yes);
        assert_eq!(
            eval(&[("t", "hdr(missing) -m found")], "if t", &s),
            Match::No
        );
        assert_eq!(
            eval(&[("t", "hdr(x-tag) -m found")], "if t", &s),
            Match::Yes
        );
        assert_eq!(eval(&[("t", "hdr(x-tag),upper A")], "if t", &s), Match::Yes);
    }
}
