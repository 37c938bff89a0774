//! A TLS ClientHello reader for `req.ssl_sni`, `req.ssl_alpn`, `req.ssl_hello_type` and
//! `req.ssl_ver`:
//! checked offsets over the bytes buffered so far, "incomplete" while the first handshake
//! record has not fully arrived (the rule then waits), never a panic on hostile input.

/// What the request buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    Hello(Hello<'a>),
    /// Looks like TLS so far, but the record is not complete.
    Incomplete,
    /// Not a TLS handshake record (or a malformed one).
    NotTls,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello<'a> {
    /// Handshake type: 1 ClientHello, 2 ServerHello.
    pub hello_type: u8,
    /// Record version as HAProxy reports it: major << 16 | minor (3.1 → 0x30001).
    pub version: u32,
    /// The `server_name` extension's host name, for a ClientHello that has one.
    pub sni: Option<&'a [u8]>,
    /// The first protocol of the ALPN extension (`h2`, `http/1.1`).
    pub alpn: Option<&'a [u8]>,
}

/// Parse the start of `buf` as a TLS handshake record.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    // Record header: type(1)=22, version(2), length(2).
    if buf.is_empty() {
        return Parsed::Incomplete;
    }
    if buf[0] != 0x16 {
        return Parsed::NotTls;
    }
    if buf.len() < 6 {
        if buf.len() >= 2 && buf[1] != 3 {
            return Parsed::NotTls;
        }
        return Parsed::Incomplete;
    }
    if buf[1] != 3 {
        return Parsed::NotTls;
    }
    let version = (u32::from(buf[1]) << 16) | u32::from(buf[2]);
    let rec_len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    let hello_type = buf[5];
    if hello_type != 1 && hello_type != 2 {
        return Parsed::NotTls;
    }
    if buf.len() < 5 + rec_len {
        return Parsed::Incomplete;
    }
    let body = &buf[5..5 + rec_len];
    let (sni, alpn) = if hello_type == 1 {
        client_hello_exts(body).unwrap_or((None, None))
    } else {
        (None, None)
    };
    Parsed::Hello(Hello {
        hello_type,
        version,
        sni,
        alpn,
    })
}

/// A tiny bounds-checked reader.
struct Rd<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.p.checked_add(n)?;
        let s = self.b.get(self.p..end)?;
        self.p = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|s| usize::from(s[0]))
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
    }
}

/// The SNI and first ALPN protocol of a ClientHello handshake message (`body` starts at
/// the handshake type). `None` when the message is malformed.
type Exts<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

fn client_hello_exts(body: &[u8]) -> Option<Exts<'_>> {
    let mut r = Rd { b: body, p: 0 };
    r.take(4)?; // type(1) + length(3)
    r.take(2 + 32)?; // client_version + random
    let sid = r.u8()?;
    r.take(sid)?;
    let suites = r.u16()?;
    r.take(suites)?;
    let comp = r.u8()?;
    r.take(comp)?;
    let ext_len = r.u16()?;
    let exts = r.take(ext_len)?;
    let mut e = Rd { b: exts, p: 0 };
    let (mut sni, mut alpn) = (None, None);
    while e.p < exts.len() {
        let typ = e.u16()?;
        let len = e.u16()?;
        let data = e.take(len)?;
        let mut s = Rd { b: data, p: 0 };
        match typ {
            0 if sni.is_none() => {
                let list = s.u16()?;
                let list = s.take(list)?;
                let mut l = Rd { b: list, p: 0 };
                while l.p < list.len() {
                    let name_type = l.u8()?;
                    let n = l.u16()?;
                    let name = l.take(n)?;
                    if name_type == 0 {
                        sni = Some(name);
                        break;
                    }
                }
            }
            16 if alpn.is_none() => {
                let list = s.u16()?;
                let list = s.take(list)?;
                let mut l = Rd { b: list, p: 0 };
                let n = l.u8()?;
                alpn = Some(l.take(n)?);
            }
            _ => {}
        }
    }
    Some((sni, alpn))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal ClientHello record with an SNI extension and an ALPN list (`h2`,
    /// `http/1.1`).
    pub fn client_hello(sni: &str) -> Vec<u8> {
        let mut ext = Vec::new();
        let protos: &[&[u8]] = &[b"h2", b"http/1.1"];
        let mut list = Vec::new();
        for p in protos {
            list.push(p.len() as u8);
            list.extend_from_slice(p);
        }
        ext.extend_from_slice(&16u16.to_be_bytes());
        ext.extend_from_slice(&((list.len() + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(list.len() as u16).to_be_bytes());
        ext.extend_from_slice(&list);
        let name = sni.as_bytes();
        let mut sn = Vec::new();
        sn.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        sn.push(0);
        sn.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sn.extend_from_slice(name);
        ext.extend_from_slice(&0u16.to_be_bytes());
        ext.extend_from_slice(&(sn.len() as u16).to_be_bytes());
        ext.extend_from_slice(&sn);
        let mut hello = Vec::new();
        hello.extend_from_slice(&[3, 3]);
        hello.extend_from_slice(&[0u8; 32]);
        hello.push(0); // session id
        hello.extend_from_slice(&2u16.to_be_bytes());
        hello.extend_from_slice(&[0x13, 0x01]);
        hello.extend_from_slice(&[1, 0]); // compression: null
        hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        hello.extend_from_slice(&ext);
        let mut hs = vec![1u8];
        hs.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&hello);
        let mut rec = vec![0x16, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn sni_and_incomplete() {
        let rec = client_hello("a.example");
        match parse(&rec) {
            Parsed::Hello(h) => {
                assert_eq!(h.sni, Some(&b"a.example"[..]));
                assert_eq!(h.alpn, Some(&b"h2"[..]));
                assert_eq!(h.hello_type, 1);
                assert_eq!(h.version, 0x30001);
            }
            other => panic!("{other:?}"),
        }
        for cut in 0..rec.len() {
            assert_eq!(parse(&rec[..cut]), Parsed::Incomplete, "cut at {cut}");
        }
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Parsed::NotTls);
    }

    #[test]
    fn hostile_input_never_panics() {
        let rec = client_hello("host");
        for i in 5..rec.len() {
            for v in [0u8, 1, 0x7f, 0xff] {
                let mut m = rec.clone();
                m[i] = v;
                let _ = parse(&m);
            }
        }
    }
}
