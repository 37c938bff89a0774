//! TLS ClientHello inspection for `req.ssl_sni` and `req.ssl_hello_type`: parses the
//! first TLS record of a connection's buffered bytes (peeked, not consumed) and returns
//! the server name. "Need more bytes" is an outcome, not an error.

/// Result of looking at the start of a client's byte stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hello<'a> {
    /// Not enough bytes yet to decide.
    Incomplete,
    /// Not a TLS handshake record.
    NotTls,
    /// A handshake record: its handshake type (1 = ClientHello) and the SNI if any.
    Handshake {
        hello_type: u8,
        sni: Option<&'a str>,
    },
}

fn u16_at(b: &[u8], i: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(i)?,
        *b.get(i + 1)?,
    ])))
}

/// Parses the first TLS record in `buf`.
pub fn parse(buf: &[u8]) -> Hello<'_> {
    if buf.is_empty() {
        return Hello::Incomplete;
    }
    // Record: type 22 (handshake), version 3.x, length.
    if buf[0] != 22 {
        return Hello::NotTls;
    }
    if buf.len() < 5 {
        return Hello::Incomplete;
    }
    if buf[1] != 3 {
        return Hello::NotTls;
    }
    let rec_len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    if buf.len() < 5 + rec_len.min(4) {
        return Hello::Incomplete;
    }
    let hello_type = buf[5];
    if hello_type != 1 {
        return Hello::Handshake {
            hello_type,
            sni: None,
        };
    }
    if buf.len() < 5 + rec_len {
        return Hello::Incomplete;
    }
    let rec = &buf[5..5 + rec_len];
    Hello::Handshake {
        hello_type,
        sni: client_hello_sni(rec),
    }
}

/// SNI from a ClientHello handshake message (starting at the handshake header).
fn client_hello_sni(h: &[u8]) -> Option<&str> {
    // type(1) len(3) version(2) random(32)
    let mut i = 4 + 2 + 32;
    let sid = usize::from(*h.get(i)?);
    i += 1 + sid;
    let cs = u16_at(h, i)?;
    i += 2 + cs;
    let cm = usize::from(*h.get(i)?);
    i += 1 + cm;
    let ext_len = u16_at(h, i)?;
    i += 2;
    let end = (i + ext_len).min(h.len());
    while i + 4 <= end {
        let ty = u16_at(h, i)?;
        let len = u16_at(h, i + 2)?;
        let body = h.get(i + 4..i + 4 + len)?;
        if ty == 0 {
            // server_name_list: len(2), then entries type(1) len(2) name.
            let mut j = 2;
            while j + 3 <= body.len() {
                let nt = body[j];
                let nl = u16_at(body, j + 1)?;
                let name = body.get(j + 3..j + 3 + nl)?;
                if nt == 0 {
                    return std::str::from_utf8(name).ok();
                }
                j += 3 + nl;
            }
            return None;
        }
        i += 4 + len;
    }
    None
}

/// Builds a minimal but valid TLS 1.2 ClientHello with `sni` (tests and tools).
pub fn build_client_hello(sni: &str) -> Vec<u8> {
    let mut ext = Vec::new();
    let name = sni.as_bytes();
    let list_len = 3 + name.len();
    ext.extend_from_slice(&0u16.to_be_bytes());
    ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
    ext.extend_from_slice(&(list_len as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    let mut body = Vec::new();
    body.extend_from_slice(&[3, 3]);
    body.extend_from_slice(&[7u8; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 2, 0xc0, 0x2f]);
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22u8, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sni_from_client_hello_and_partial_input() {
        let ch = build_client_hello("www.example.com");
        assert_eq!(
            parse(&ch),
            Hello::Handshake {
                hello_type: 1,
                sni: Some("www.example.com")
            }
        );
        for cut in [0, 3, 10, ch.len() - 1] {
            assert_eq!(parse(&ch[..cut]), Hello::Incomplete, "cut {cut}");
        }
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Hello::NotTls);
        // Garbage after a valid header never panics.
        let mut bad = ch.clone();
        for b in bad.iter_mut().skip(45) {
            *b = 0xff;
        }
        let _ = parse(&bad);
        for n in 0..ch.len() {
            let _ = parse(&ch[..n]);
        }
    }
}
