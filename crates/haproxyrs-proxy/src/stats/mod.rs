//! The stats page (`stats enable` / `stats uri`): which requests it answers (the URI prefix
//! and its `;csv` / `;norefresh` options), `stats auth` Basic credentials with 2.6's 401,
//! and the response around the CSV ([`csv`]) or HTML ([`html`]) body. The numbers come
//! from a [`Snapshot`] the runtime takes only when the page is asked for.

pub mod csv;
pub mod html;

use haproxyrs_config::ir::StatsPage;

use crate::http::message::Message;

/// One proxy's rows: its frontend side, its servers and its backend side.
#[derive(Clone, Debug, Default)]
pub struct ProxyStats {
    pub name: String,
    /// 2.6's proxy id (`iid`): config order from 1.
    pub iid: u32,
    pub http: bool,
    pub frontend: Option<FrontendStats>,
    pub backend: Option<BackendStats>,
}

#[derive(Clone, Debug, Default)]
pub struct FrontendStats {
    pub scur: u32,
    pub slim: u32,
}

#[derive(Clone, Debug, Default)]
pub struct BackendStats {
    pub scur: u32,
    pub qcur: u32,
    pub servers: Vec<ServerStats>,
}

#[derive(Clone, Debug, Default)]
pub struct ServerStats {
    pub name: String,
    pub sid: u32,
    /// `UP`, `DOWN`, `MAINT`, `DRAIN` or `no check`.
    pub status: &'static str,
    pub weight: u32,
    pub backup: bool,
    /// Usable for traffic now (counts in the backend's `act`/`bck`).
    pub usable: bool,
    pub scur: u32,
    pub qcur: u32,
    pub stot: u64,
    /// `(rise, fall)` of a checked server.
    pub check: Option<(u32, u32)>,
    /// Its last check's result (none before the first).
    pub last_check: Option<crate::server::LastCheck>,
}

/// Everything the page shows, in 2.6's proxy order.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub pid: u32,
    pub proxies: Vec<ProxyStats>,
}

/// How a request for the page asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub csv: bool,
    pub norefresh: bool,
}

/// Whether `req` is for the page at `page.uri`: as 2.6, a URI prefix starting with `/`
/// is compared with the path (query included) of the request target, any other prefix
/// with the target as sent. The options follow the prefix, `;`-separated.
pub fn matches(page: &StatsPage, req: &Message) -> Option<Request> {
    let target = req.uri();
    let against = if page.uri.starts_with('/') {
        &target[crate::http::message::path_start(target)..]
    } else {
        target
    };
    let rest = against.strip_prefix(page.uri.as_bytes())?;
    let has = |opt: &[u8]| rest.windows(opt.len()).any(|w| w == opt);
    Some(Request {
        csv: has(b";csv"),
        norefresh: has(b";norefresh"),
    })
}

/// Whether the request carries Basic credentials `stats auth` lists (none listed: yes).
pub fn authorized(page: &StatsPage, req: &Message) -> bool {
    if page.auth.is_empty() {
        return true;
    }
    let Some(value) = req.first(b"authorization") else {
        return false;
    };
    let value = value.trim_ascii();
    let Some((scheme, b64)) = value.split_at_checked(6) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case(b"basic ") {
        return false;
    }
    let mut buf = [0u8; 1024];
    let Some(n) = crate::sample::auth::b64_decode_into(b64.trim_ascii(), &mut buf) else {
        return false;
    };
    let cred = &buf[..n];
    page.auth.iter().any(|(u, p)| {
        cred.len() == u.len() + 1 + p.len()
            && cred.starts_with(u.as_bytes())
            && cred[u.len()] == b':'
            && cred.ends_with(p.as_bytes())
    })
}

/// 2.6's 401 for the page: its body, its headers, the realm (default `HAProxy Statistics`).
pub fn unauthorized(page: &StatsPage, out: &mut Vec<u8>) {
    const BODY: &str = "<html><body><h1>401 Unauthorized</h1>\n\
        You need a valid user and password to access this content.\n</body></html>\n";
    let realm = page.realm.as_deref().unwrap_or("HAProxy Statistics");
    out.extend_from_slice(
        format!(
            "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\ncache-control: no-cache\r\n\
             content-type: text/html\r\nwww-authenticate: Basic realm=\"{realm}\"\r\n\r\n{BODY}",
            BODY.len()
        )
        .as_bytes(),
    );
}

/// The page itself, as one chunk of a chunked response as 2.6 sends it.
/// `stats scope` limits the proxies shown.
pub fn page(page: &StatsPage, r: Request, mut snap: Snapshot, head_only: bool, out: &mut Vec<u8>) {
    if !page.scope.is_empty() {
        snap.proxies.retain(|p| page.scope.contains(&p.name));
    }
    let snap = &snap;
    let mut body = String::new();
    if r.csv {
        csv::render(snap, &mut body);
    } else {
        html::render(page, snap, &mut body);
    }
    let ctype = if r.csv { "text/plain" } else { "text/html" };
    let mut head =
        format!("HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: {ctype}\r\n");
    if let Some(t) = page.refresh.filter(|_| !r.norefresh) {
        head.push_str(&format!("refresh: {}\r\n", t.as_secs()));
    }
    head.push_str("transfer-encoding: chunked\r\n\r\n");
    out.extend_from_slice(head.as_bytes());
    if !head_only && !body.is_empty() {
        out.extend_from_slice(format!("{:x}\r\n{body}\r\n", body.len()).as_bytes());
    }
    if !head_only {
        out.extend_from_slice(b"0\r\n\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_at(uri: &str) -> StatsPage {
        StatsPage {
            uri: uri.to_string(),
            ..StatsPage::default()
        }
    }

    fn req(target: &str) -> Message {
        let raw = format!("GET {target} HTTP/1.1\r\nhost: x\r\n\r\n");
        crate::http::message::test_request(raw.as_bytes())
    }

    #[test]
    fn prefix_and_options() {
        let p = page_at("/haproxy?stats");
        assert_eq!(matches(&p, &req("/haproxy?stat")), None);
        let r = matches(&p, &req("/haproxy?statsxx;csv;norefresh")).unwrap();
        assert!(r.csv && r.norefresh);
        assert!(!matches(&p, &req("http://h/haproxy?stats")).unwrap().csv);
    }

    #[test]
    fn basic_credentials() {
        let mut p = page_at("/s");
        p.auth.push(("admin".into(), "pw".into()));
        let mut m = req("/s");
        assert!(!authorized(&p, &m));
        m.add(b"authorization", b"Basic YWRtaW46cHc=");
        assert!(authorized(&p, &m));
        let mut bad = req("/s");
        bad.add(b"authorization", b"Basic YWRtaW46cHg=");
        assert!(!authorized(&p, &bad));
    }
}
