//! Hash keys for HTTP-aware balancing (`balance uri|url_param|hdr`), taken from the request
//! without copying, and cookie persistence (`cookie NAME insert|rewrite|prefix`).

use haproxyrs_config::ir::{Balance, CookieMode, CookiePersistence, Server};

use super::message::{path_start, Message};

/// The bytes `balance` hashes for this request; `None` means "fall back to round-robin".
pub fn hash_key<'m>(balance: &Balance, req: &'m Message) -> Option<&'m [u8]> {
    match balance {
        Balance::Uri {
            len,
            depth,
            path_only,
            whole,
        } => {
            let uri = req.uri();
            let mut key = if *path_only {
                &uri[path_start(uri)..]
            } else {
                uri
            };
            if !*whole {
                if let Some(q) = memchr::memchr(b'?', key) {
                    key = &key[..q];
                }
            }
            if let Some(d) = depth {
                // Keep up to `d` slashes (the path's directories).
                let mut seen = 0;
                for (i, &b) in key.iter().enumerate() {
                    if b == b'/' {
                        seen += 1;
                        if seen > *d {
                            key = &key[..i];
                            break;
                        }
                    }
                }
            }
            if let Some(l) = len {
                key = &key[..key.len().min(*l as usize)];
            }
            Some(key)
        }
        Balance::UrlParam { name, .. } => {
            let q = req.query()?;
            q.split(|&b| b == b'&').find_map(|kv| {
                let (k, v) = kv.split_at(memchr::memchr(b'=', kv)?);
                (k == name.as_bytes()).then_some(&v[1..])
            })
        }
        Balance::Hdr {
            name,
            use_domain_only,
        } => {
            let v = req.first(name.as_bytes())?;
            if *use_domain_only {
                Some(main_domain(v))
            } else {
                Some(v)
            }
        }
        _ => None,
    }
}

/// `use_domain_only`: the label before the TLD (`www.example.com` → `example`).
fn main_domain(host: &[u8]) -> &[u8] {
    let host = host.split(|&b| b == b':').next().unwrap_or(host);
    let labels: Vec<&[u8]> = host.split(|&b| b == b'.').collect();
    if labels.len() >= 2 {
        labels[labels.len() - 2]
    } else {
        host
    }
}

/// The value of cookie `name` in the request's `Cookie` fields.
pub fn request_cookie<'m>(req: &'m Message, name: &str) -> Option<&'m [u8]> {
    req.find(b"cookie").find_map(|i| {
        req.value(i).split(|&b| b == b';').find_map(|kv| {
            let kv = kv.trim_ascii();
            let eq = memchr::memchr(b'=', kv)?;
            (&kv[..eq] == name.as_bytes()).then_some(&kv[eq + 1..])
        })
    })
}

/// The server a persistence cookie designates (`insert`/`rewrite`: the whole value;
/// `prefix`: the part before `~`).
pub fn persisted_server(
    cfg: &CookiePersistence,
    servers: &[Server],
    req: &Message,
) -> Option<usize> {
    let v = request_cookie(req, &cfg.name)?;
    let v = match cfg.mode {
        CookieMode::Prefix => v.split(|&b| b == b'~').next().unwrap_or(v),
        _ => v,
    };
    servers
        .iter()
        .position(|s| s.cookie.as_deref().map(str::as_bytes) == Some(v))
}

/// Remove the persistence cookie from the request (`indirect` insert mode), or its `VAL~`
/// prefix (prefix mode), before it goes to the server.
pub fn strip_request_cookie(cfg: &CookiePersistence, req: &mut Message) {
    let strip = match cfg.mode {
        CookieMode::Insert => cfg.indirect,
        CookieMode::Prefix => true,
        CookieMode::Rewrite => false,
    };
    if !strip {
        return;
    }
    let idx: Vec<usize> = req.find(b"cookie").collect();
    let mut empty = Vec::new();
    for i in idx {
        let mut parts: Vec<Vec<u8>> = Vec::new();
        for kv in req.value(i).split(|&b| b == b';') {
            let kv = kv.trim_ascii();
            let name_end = memchr::memchr(b'=', kv).unwrap_or(kv.len());
            if &kv[..name_end] == cfg.name.as_bytes() {
                if cfg.mode == CookieMode::Prefix {
                    let val = &kv[(name_end + 1).min(kv.len())..];
                    if let Some(t) = memchr::memchr(b'~', val) {
                        let mut p = kv[..=name_end].to_vec();
                        p.extend_from_slice(&val[t + 1..]);
                        parts.push(p);
                    }
                }
                continue;
            }
            parts.push(kv.to_vec());
        }
        let joined = parts.join(&b"; "[..]);
        if joined.is_empty() {
            empty.push(i);
        } else {
            req.set_value(i, &joined);
        }
    }
    for i in empty.into_iter().rev() {
        req.fields.remove(i);
    }
}

/// Response side: `insert` adds a Set-Cookie when the client did not already hold the
/// right one; `rewrite` replaces the server's cookie value; `prefix` prefixes it.
pub fn apply_response_cookie(
    cfg: &CookiePersistence,
    server: &Server,
    client_had_it: bool,
    resp: &mut Message,
) {
    let Some(val) = server.cookie.as_deref() else {
        return;
    };
    match cfg.mode {
        CookieMode::Insert => {
            if client_had_it {
                return;
            }
            let mut v = format!("{}={}; path=/", cfg.name, val);
            for d in &cfg.domain {
                v.push_str("; domain=");
                v.push_str(d);
            }
            if cfg.httponly {
                v.push_str("; HttpOnly");
            }
            if cfg.secure {
                v.push_str("; Secure");
            }
            resp.add(b"set-cookie", v.as_bytes());
            if cfg.nocache && cacheable(resp) {
                resp.add(b"cache-control", b"private");
            }
        }
        CookieMode::Rewrite | CookieMode::Prefix => {
            let idx: Vec<usize> = resp.find(b"set-cookie").collect();
            for i in idx {
                let v = resp.value(i);
                let prefix = format!("{}=", cfg.name);
                if !v.starts_with(prefix.as_bytes()) {
                    continue;
                }
                let rest_start = prefix.len();
                let semi = memchr::memchr(b';', v).unwrap_or(v.len());
                let mut new = prefix.into_bytes();
                new.extend_from_slice(val.as_bytes());
                if cfg.mode == CookieMode::Prefix {
                    new.push(b'~');
                    new.extend_from_slice(&v[rest_start..semi]);
                }
                new.extend_from_slice(&v[semi..]);
                resp.set_value(i, &new);
            }
        }
    }
}

/// Whether a shared cache may store `resp`, as 2.6 judges it for `nocache` (observed): a
/// validator or freshness information (`Last-Modified`, `Expires`, `max-age`, `s-maxage`)
/// makes it cacheable; `public` (cookies allowed) or `private` / `no-cache` / `no-store`
/// leave it alone.
fn cacheable(resp: &Message) -> bool {
    let mut fresh = resp.first(b"last-modified").is_some() || resp.first(b"expires").is_some();
    for i in resp.find(b"cache-control") {
        for d in resp.value(i).split(|&b| b == b',') {
            let d = d.trim_ascii();
            let name = d.split(|&b| b == b'=').next().unwrap_or(d);
            if name.eq_ignore_ascii_case(b"max-age") || name.eq_ignore_ascii_case(b"s-maxage") {
                fresh = true;
            }
            if [&b"public"[..], b"private", b"no-cache", b"no-store"]
                .iter()
                .any(|k| name.eq_ignore_ascii_case(k))
            {
                return false;
            }
        }
    }
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(bytes: &[u8]) -> Message {
        crate::http::message::test_request(bytes)
    }

    #[test]
    fn uri_keys() {
        let m = load(b"GET /a/b/c?x=1&id=42 HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
        let uri = |len, depth, whole| Balance::Uri {
            len,
            depth,
            path_only: false,
            whole,
        };
        assert_eq!(hash_key(&uri(None, None, false), &m), Some(&b"/a/b/c"[..]));
        assert_eq!(
            hash_key(&uri(None, None, true), &m),
            Some(&b"/a/b/c?x=1&id=42"[..])
        );
        assert_eq!(hash_key(&uri(Some(3), None, false), &m), Some(&b"/a/"[..]));
        assert_eq!(hash_key(&uri(None, Some(2), false), &m), Some(&b"/a/b"[..]));
        let up = Balance::UrlParam {
            name: "id".into(),
            check_post: None,
        };
        assert_eq!(hash_key(&up, &m), Some(&b"42"[..]));
        let h = Balance::Hdr {
            name: "host".into(),
            use_domain_only: true,
        };
        assert_eq!(hash_key(&h, &m), Some(&b"example"[..]));
    }

    #[test]
    fn cookies() {
        let cfg = CookiePersistence {
            name: "SRV".into(),
            mode: CookieMode::Insert,
            indirect: true,
            nocache: true,
            httponly: true,
            secure: false,
            preserve: false,
            domain: Vec::new(),
            maxidle: None,
            maxlife: None,
        };
        let mut m = load(b"GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1; SRV=s2; b=2\r\n\r\n");
        assert_eq!(request_cookie(&m, "SRV"), Some(&b"s2"[..]));
        strip_request_cookie(&cfg, &mut m);
        assert_eq!(m.first(b"cookie"), Some(&b"a=1; b=2"[..]));
    }
}
