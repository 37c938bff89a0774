//! Canonical re-emission of heads, as HAProxy 2.6 sends them: `METHOD SP target SP
//! HTTP/1.x`, every field name lower-cased (unless `h1-case-adjust` maps it), `name: value`,
//! CRLF line ends, hop-by-hop `Connection` tokens rewritten by the session.

use super::head::Version;
use super::message::Message;

/// `h1-case-adjust <from> <to>` pairs (lower-case name → spelling to send), applied when
/// `option h1-case-adjust-bogus-client|server` asks for it on that side.
#[derive(Clone, Debug, Default)]
pub struct CaseAdjust {
    pub map: Vec<(Vec<u8>, Vec<u8>)>,
}

impl CaseAdjust {
    fn spell<'a>(&'a self, lower: &[u8]) -> Option<&'a [u8]> {
        self.map
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(lower))
            .map(|(_, c)| c.as_slice())
    }
}

fn write_fields(msg: &Message, case: Option<&CaseAdjust>, out: &mut Vec<u8>) {
    for i in 0..msg.fields.len() {
        let name = msg.name(i);
        match case.and_then(|c| c.spell(name)) {
            Some(spelled) => out.extend_from_slice(spelled),
            None => out.extend(name.iter().map(u8::to_ascii_lowercase)),
        }
        out.extend_from_slice(b": ");
        out.extend_from_slice(msg.value(i));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Append the request head to `out`.
pub fn request(msg: &Message, case: Option<&CaseAdjust>, out: &mut Vec<u8>) {
    out.extend_from_slice(msg.method());
    out.push(b' ');
    out.extend_from_slice(msg.uri());
    out.push(b' ');
    out.extend_from_slice(msg.version.unwrap_or(Version::Http11).as_str().as_bytes());
    out.extend_from_slice(b"\r\n");
    write_fields(msg, case, out);
}

/// Append the response head to `out`.
pub fn response(msg: &Message, case: Option<&CaseAdjust>, out: &mut Vec<u8>) {
    out.extend_from_slice(msg.version.unwrap_or(Version::Http11).as_str().as_bytes());
    // Three digits (the parser only accepts 3-digit codes), without the formatting machinery.
    let st = msg.status.min(999);
    out.extend_from_slice(&[
        b' ',
        b'0' + (st / 100) as u8,
        b'0' + (st / 10 % 10) as u8,
        b'0' + (st % 10) as u8,
        b' ',
    ]);
    out.extend_from_slice(msg.uri());
    out.extend_from_slice(b"\r\n");
    write_fields(msg, case, out);
}

/// Remove the `close` and `keep-alive` tokens from `Connection` (the proxy decides those per
/// side); other tokens (`upgrade`, custom ones) stay, as 2.6 keeps them.
pub fn strip_connection_tokens(msg: &mut Message) {
    let mut i = 0;
    while i < msg.fields.len() {
        if !msg.name(i).eq_ignore_ascii_case(b"connection") {
            i += 1;
            continue;
        }
        let has = msg.value(i).split(|&b| b == b',').any(|t| {
            let t = t.trim_ascii();
            t.eq_ignore_ascii_case(b"close") || t.eq_ignore_ascii_case(b"keep-alive")
        });
        if !has {
            i += 1;
            continue;
        }
        let start = msg.data.len();
        let range = msg.fields[i].value.clone();
        let mut first = true;
        let mut pos = range.start;
        while pos <= range.end {
            let end = msg.data[pos..range.end]
                .iter()
                .position(|&b| b == b',')
                .map_or(range.end, |p| pos + p);
            let tok = msg.data[pos..end].trim_ascii();
            if !tok.is_empty()
                && !tok.eq_ignore_ascii_case(b"close")
                && !tok.eq_ignore_ascii_case(b"keep-alive")
            {
                let (a, b) = (
                    tok.as_ptr() as usize - msg.data.as_ptr() as usize,
                    tok.len(),
                );
                if !first {
                    msg.data.extend_from_slice(b", ");
                }
                msg.data.extend_from_within(a..a + b);
                first = false;
            }
            pos = end + 1;
        }
        if first {
            msg.fields.remove(i);
        } else {
            msg.fields[i].value = start..msg.data.len();
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(bytes: &[u8]) -> Message {
        crate::http::message::test_request(bytes)
    }

    #[test]
    fn lower_cases_names() {
        let m = load(b"GET\t/ HTTP/1.2\r\nHost: a\r\nUser-Agent: X\r\n\r\n");
        let mut out = Vec::new();
        request(&m, None, &mut out);
        assert_eq!(out, b"GET / HTTP/1.1\r\nhost: a\r\nuser-agent: X\r\n\r\n");
        let case = CaseAdjust {
            map: vec![(b"user-agent".to_vec(), b"User-Agent".to_vec())],
        };
        out.clear();
        request(&m, Some(&case), &mut out);
        assert_eq!(out, b"GET / HTTP/1.1\r\nhost: a\r\nUser-Agent: X\r\n\r\n");
    }

    #[test]
    fn connection_tokens() {
        let mut m =
            load(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Keep-Alive\r\nFoo: b\r\n\r\n");
        strip_connection_tokens(&mut m);
        let mut out = Vec::new();
        request(&m, None, &mut out);
        assert_eq!(
            out,
            b"GET / HTTP/1.1\r\nhost: a\r\nconnection: foo\r\nfoo: b\r\n\r\n"
        );
        let mut m = load(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        strip_connection_tokens(&mut m);
        out.clear();
        request(&m, None, &mut out);
        assert_eq!(out, b"GET / HTTP/1.1\r\nhost: a\r\n\r\n");
    }
}
