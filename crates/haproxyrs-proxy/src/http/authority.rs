//! The authority of a request target against the `Host` field, as HAProxy 2.6 checks and
//! normalises them (observed on 2.6.12 byte for byte; the cases are in `tests/http_diff.rs`
//! and `docs/http.md`). Origin-form targets (nearly every request) are left untouched and
//! cost nothing; a rewrite copies within the message buffer, never through a new allocation.
//!
//! What 2.6 does:
//! - The authority is what follows `scheme://` (a scheme being a letter then letters, digits,
//!   `+`, `-`, `.`), or else the target itself when it starts with neither `/` nor `*`; it
//!   ends at the first `/` (not at `?`), and userinfo (up to the last `@`) is dropped.
//! - `CONNECT` needs `host:port`, split at the last `:`, with a non-empty all-digit port. A
//!   `Host` must name the same host with the same port, or the host alone (an empty port
//!   counting as none) when the port is 80 or 443; a `Host` whose port is 80 or 443 loses it.
//!   The target is kept as sent.
//! - Other methods with a non-empty authority: without a scheme, `Host` must equal it. With
//!   one, host parts (up to the first `:`, or `[…]`) must match and ports must be equal, an
//!   absent or empty port counting as the scheme's default (`http` 80, `https` 443, none for
//!   others). Then a target port (after the last `:`) that is empty or the scheme's default is
//!   removed, and `Host` (if any) is set to what is left of the authority.
//!
//! All comparisons ignore ASCII case.

use std::ops::Range;

use super::framing::FramingError;
use super::message::Message;

/// Where the parts of a request target lie.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    /// `http` in `http://…`; `None` for other forms.
    scheme: Option<Range<usize>>,
    /// `host[:port]`, userinfo excluded; empty when the target has no authority.
    authority: Range<usize>,
}

fn parse_target(uri: &[u8]) -> Target {
    let none = Target {
        scheme: None,
        authority: 0..0,
    };
    if matches!(uri.first(), None | Some(b'/' | b'*')) {
        return none;
    }
    let scheme_len = match uri.iter().position(|&b| b == b':') {
        Some(c)
            if uri[0].is_ascii_alphabetic()
                && uri[..c]
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                && uri[c..].starts_with(b"://") =>
        {
            Some(c)
        }
        _ => None,
    };
    let start = scheme_len.map_or(0, |c| c + 3);
    let end = memchr::memchr(b'/', &uri[start..]).map_or(uri.len(), |p| start + p);
    let start = memchr::memrchr(b'@', &uri[start..end]).map_or(start, |a| start + a + 1);
    Target {
        scheme: scheme_len.map(|c| 0..c),
        authority: start..end,
    }
}

fn is_digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

fn is_default_port(port: &[u8]) -> bool {
    port == b"80" || port == b"443"
}

/// `host:port` split at the last `:` when what follows is all digits (possibly none).
fn split_last_digits(v: &[u8]) -> (&[u8], Option<&[u8]>) {
    match memchr::memrchr(b':', v) {
        Some(c) if is_digits(&v[c + 1..]) => (&v[..c], Some(&v[c + 1..])),
        _ => (v, None),
    }
}

/// `host[:port]` split after the host: a bracketed literal, or up to the first `:`.
fn split_first(v: &[u8]) -> (&[u8], Option<&[u8]>) {
    let host_end = if v.first() == Some(&b'[') {
        match memchr::memchr(b']', v) {
            Some(e) => e + 1,
            None => return (v, None),
        }
    } else {
        match memchr::memchr(b':', v) {
            Some(c) => c,
            None => return (v, None),
        }
    };
    match &v[host_end..] {
        [] => (v, None),
        [b':', port @ ..] => (&v[..host_end], Some(port)),
        _ => (v, None),
    }
}

/// The port after the last `:` outside brackets, if any.
fn last_port(v: &[u8]) -> Option<usize> {
    memchr::memrchr(b':', v).filter(|&c| !v[c + 1..].contains(&b']'))
}

fn default_port(scheme: &[u8]) -> Option<&'static [u8]> {
    if scheme.eq_ignore_ascii_case(b"http") {
        Some(b"80")
    } else if scheme.eq_ignore_ascii_case(b"https") {
        Some(b"443")
    } else {
        None
    }
}

/// Same host, same port once absent and empty ports read as the scheme's default.
fn hosts_match(a: &[u8], h: &[u8], default: Option<&[u8]>) -> bool {
    let (ha, pa) = split_first(a);
    let (hh, ph) = split_first(h);
    ha.eq_ignore_ascii_case(hh) && effective(pa, default) == effective(ph, default)
}

fn effective<'a>(port: Option<&'a [u8]>, default: Option<&'a [u8]>) -> Option<&'a [u8]> {
    match port {
        None | Some([]) => default,
        p => p,
    }
}

/// Is the port after `c` in `v` one to drop (empty, or the scheme's default)?
fn droppable(v: &[u8], c: usize, default: Option<&[u8]>) -> bool {
    let p = &v[c + 1..];
    p.is_empty() || Some(p) == default
}

/// Check a request's target authority against its `Host` and normalise both as 2.6 does.
pub fn check(msg: &mut Message) -> Result<(), FramingError> {
    let t = parse_target(msg.uri());
    let host = msg.find(b"host").next();
    if msg.method() == b"CONNECT" {
        return check_connect(msg, t.authority, host);
    }
    if t.authority.is_empty() {
        return Ok(());
    }
    let uri = msg.uri();
    let a = &uri[t.authority.clone()];
    let Some(scheme) = t.scheme else {
        return match host {
            Some(i) if !msg.value(i).eq_ignore_ascii_case(a) => Err(FramingError::Invalid),
            _ => Ok(()),
        };
    };
    let default = default_port(&uri[scheme]);
    if let Some(i) = host {
        if !hosts_match(a, msg.value(i), default) {
            return Err(FramingError::Invalid);
        }
    }
    let Some(c) = last_port(a).filter(|&c| droppable(a, c, default)) else {
        return Ok(());
    };
    let kept = msg.uri.start + t.authority.start..msg.uri.start + t.authority.start + c;
    msg.cut_uri(t.authority.start + c..t.authority.end);
    if let Some(i) = host {
        // Host becomes the target's host, in the target's case.
        msg.fields[i].value = kept;
    }
    Ok(())
}

fn check_connect(
    msg: &mut Message,
    authority: Range<usize>,
    host: Option<usize>,
) -> Result<(), FramingError> {
    let (ha, pa) = split_last_digits(&msg.uri()[authority]);
    let pa = pa.filter(|p| !p.is_empty()).ok_or(FramingError::Invalid)?;
    let Some(i) = host else {
        return Ok(());
    };
    let (hh, ph) = split_last_digits(msg.value(i));
    let port_ok = match ph {
        Some(p) if !p.is_empty() => p == pa,
        _ => is_default_port(pa),
    };
    if !hh.eq_ignore_ascii_case(ha) || !port_ok {
        return Err(FramingError::Invalid);
    }
    if ph.is_some_and(is_default_port) {
        let n = hh.len();
        msg.truncate_value(i, n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::message::test_request;

    /// (request line + headers) → Ok((target, host)) as forwarded, or Err.
    fn run(head: &str) -> Result<(String, Option<String>), FramingError> {
        let mut m = test_request(format!("{head}\r\n\r\n").as_bytes());
        check(&mut m)?;
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Ok((s(m.uri()), m.first(b"host").map(s)))
    }

    fn ok(head: &str, target: &str, host: Option<&str>) {
        let got = run(head).unwrap_or_else(|e| panic!("{head}: {e}"));
        assert_eq!((got.0.as_str(), got.1.as_deref()), (target, host), "{head}");
    }

    fn bad(head: &str) {
        assert_eq!(run(head), Err(FramingError::Invalid), "{head}");
    }

    #[test]
    fn target_forms() {
        fn p(u: &str) -> (Option<&str>, &str) {
            let t = parse_target(u.as_bytes());
            (t.scheme.map(|s| &u[s]), &u[t.authority])
        }
        assert_eq!(p("/p"), (None, ""));
        assert_eq!(p("*:80"), (None, ""));
        assert_eq!(p("http://u:p@x:80/p?q"), (Some("http"), "x:80"));
        assert_eq!(p("a+b.c-d://x/p"), (Some("a+b.c-d"), "x"));
        assert_eq!(p("a_b://x/p"), (None, "a_b:"));
        assert_eq!(p("1a://x/p"), (None, "1a:"));
        assert_eq!(p("http://x?q"), (Some("http"), "x?q"));
        assert_eq!(p("http://a@b@x/"), (Some("http"), "x"));
        assert_eq!(p("x:80/p"), (None, "x:80"));
        assert_eq!(p("http:///p"), (Some("http"), ""));
    }

    #[test]
    fn connect_as_2_6() {
        ok("CONNECT x:80 HTTP/1.1\r\nHost: x:80", "x:80", Some("x"));
        ok("CONNECT x:443 HTTP/1.1\r\nHost: X:443", "x:443", Some("X"));
        ok(
            "CONNECT x:8080 HTTP/1.1\r\nHost: x:8080",
            "x:8080",
            Some("x:8080"),
        );
        ok("CONNECT x:443 HTTP/1.1\r\nHost: x", "x:443", Some("x"));
        ok("CONNECT x:443 HTTP/1.1\r\nHost: x:", "x:443", Some("x:"));
        ok(
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443",
            "[::1]:443",
            Some("[::1]"),
        );
        ok(
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]",
            "[::1]:443",
            Some("[::1]"),
        );
        ok(
            "CONNECT a:b:80 HTTP/1.1\r\nHost: a:b",
            "a:b:80",
            Some("a:b"),
        );
        ok("CONNECT u@x:80 HTTP/1.1\r\nHost: x:80", "u@x:80", Some("x"));
        ok(
            "CONNECT http://x:80/ HTTP/1.1\r\nHost: x:80",
            "http://x:80/",
            Some("x"),
        );
        ok("CONNECT :80 HTTP/1.1\r\nHost: :80", ":80", Some(""));
        ok(
            "CONNECT x:0080 HTTP/1.1\r\nHost: x:0080",
            "x:0080",
            Some("x:0080"),
        );
        ok("CONNECT x:80 HTTP/1.0", "x:80", None);
        for b in [
            "CONNECT x:8080 HTTP/1.1\r\nHost: x",
            "CONNECT x:8080 HTTP/1.1\r\nHost: x:",
            "CONNECT x:80 HTTP/1.1\r\nHost: x:443",
            "CONNECT x:80 HTTP/1.1\r\nHost: y:80",
            "CONNECT x:80 HTTP/1.1\r\nHost: x.:80",
            "CONNECT x:80 HTTP/1.1\r\nHost: x:0080",
            "CONNECT x:80:80 HTTP/1.1\r\nHost: x:80",
            "CONNECT ::1:443 HTTP/1.1\r\nHost: ::1",
            "CONNECT x:443 HTTP/1.1\r\nHost: x:abc",
            "CONNECT x HTTP/1.0",
            "CONNECT x: HTTP/1.0",
            "CONNECT x:80a HTTP/1.0",
            "CONNECT x:80?q HTTP/1.0",
            "CONNECT [::1] HTTP/1.0",
            "CONNECT *:80 HTTP/1.0",
            "CONNECT / HTTP/1.0",
            "CONNECT https://x/ HTTP/1.0",
        ] {
            bad(b);
        }
    }

    #[test]
    fn absolute_form_as_2_6() {
        ok(
            "GET http://x:80/p HTTP/1.1\r\nHost: x:80",
            "http://x/p",
            Some("x"),
        );
        ok(
            "GET HTTPS://X:443 HTTP/1.1\r\nHost: x:443",
            "HTTPS://X",
            Some("X"),
        );
        ok(
            "GET http://x:80/p HTTP/1.1\r\nHost: X:80",
            "http://x/p",
            Some("x"),
        );
        ok(
            "GET http://x/p HTTP/1.1\r\nHost: x:80",
            "http://x/p",
            Some("x:80"),
        );
        ok(
            "GET http://x:80/p HTTP/1.1\r\nHost: x",
            "http://x/p",
            Some("x"),
        );
        ok(
            "GET http://x:/p HTTP/1.1\r\nHost: x:80",
            "http://x/p",
            Some("x"),
        );
        ok(
            "GET http://x/p HTTP/1.1\r\nHost: x:",
            "http://x/p",
            Some("x:"),
        );
        ok(
            "GET http://x:443/p HTTP/1.1\r\nHost: x:443",
            "http://x:443/p",
            Some("x:443"),
        );
        ok(
            "GET http://x:80:80/p HTTP/1.1\r\nHost: x:80:80",
            "http://x:80/p",
            Some("x:80"),
        );
        ok(
            "GET http://[::1]:80/p HTTP/1.1\r\nHost: [::1]",
            "http://[::1]/p",
            Some("[::1]"),
        );
        ok(
            "GET http://[::1]/p HTTP/1.1\r\nHost: [::1]:80",
            "http://[::1]/p",
            Some("[::1]:80"),
        );
        ok(
            "GET http://u:p@x:80/p HTTP/1.1\r\nHost: x",
            "http://u:p@x/p",
            Some("x"),
        );
        ok(
            "GET http://:80/p HTTP/1.1\r\nHost: :80",
            "http:///p",
            Some(""),
        );
        ok("GET ftp://x:/p HTTP/1.1\r\nHost: x", "ftp://x/p", Some("x"));
        ok(
            "GET ftp://x:80/p HTTP/1.1\r\nHost: x:80",
            "ftp://x:80/p",
            Some("x:80"),
        );
        ok("GET http:///p HTTP/1.1\r\nHost: y", "http:///p", Some("y"));
        ok(
            "GET http://x?q HTTP/1.1\r\nHost: x?q",
            "http://x?q",
            Some("x?q"),
        );
        ok("GET x:80/p HTTP/1.1\r\nHost: x:80", "x:80/p", Some("x:80"));
        ok("GET *x HTTP/1.1\r\nHost: y", "*x", Some("y"));
        ok("GET http://x:80/p HTTP/1.0", "http://x/p", None);
        for b in [
            "GET http://x/p HTTP/1.1\r\nHost: x:8080",
            "GET http://x/p HTTP/1.1\r\nHost: x:443",
            "GET https://x/p HTTP/1.1\r\nHost: x:80",
            "GET ftp://x/p HTTP/1.1\r\nHost: x:80",
            "GET http://x:8080:80/p HTTP/1.1\r\nHost: x:8080",
            "GET http://x:80/p HTTP/1.1\r\nHost: x:0080",
            "GET http://x./p HTTP/1.1\r\nHost: x",
            "GET http://u@x/p HTTP/1.1\r\nHost: u@x",
            "GET http://x:80?q HTTP/1.1\r\nHost: x:80",
            "GET http://x/p HTTP/1.1\r\nHost: ",
            "GET x:/p HTTP/1.1\r\nHost: x",
            "GET http:/x/p HTTP/1.1\r\nHost: x",
        ] {
            bad(b);
        }
    }
}
