//! The stats page (`stats enable`, `stats uri`, `stats auth`, `stats realm`, `stats refresh`)
//! on the real binary, compared with HAProxy 2.6: the 401 without credentials byte for
//! byte, the CSV header line, and the rows (proxy, server, status and the other columns
//! haproxyrs fills) with a server that a health check has taken DOWN. The page is answered
//! by the proxy itself: the backend never sees the request, the log says `<STATS>`.

use std::net::SocketAddr;

use crate::support::backends::Backend;
use crate::support::client::request;
use crate::support::http1::Message;
use crate::support::proxy::{reserve_port, Flavor, Proxy, ProxyBuilder};
use crate::support::WAIT;

/// `fe` → `be` (stats with auth, a checked server that refuses, a backup), and a `listen`
/// with `stats enable` alone.
const CFG: &str = "global\n  log stdout format raw local0\ndefaults\n  mode http\n  log global\n  option httplog\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nfrontend fe\n  bind {{fe0}}\n  default_backend be\nbackend be\n  stats enable\n  stats auth admin:s3cret\n  stats realm Our\\ Stats\n  stats refresh 7s\n  server s1 {{down}} check inter 100 fall 1\n  server s2 {{up}} backup\nlisten li\n  bind {{fe1}}\n  stats enable\n  stats hide-version\n  stats scope .\n  server s3 {{up}}\n";

fn start(flavor: Flavor, up: &Backend, down: SocketAddr) -> Proxy {
    let p = ProxyBuilder::new(flavor, CFG)
        .var("up", up.addr_str())
        .var("down", down)
        .start();
    if !p.wait_output("Server be/s1 is DOWN", WAIT) {
        p.fail("s1 never went DOWN");
    }
    p
}

fn get(addr: SocketAddr, target: &str, auth: Option<&str>) -> Message {
    let auth = auth.map_or(String::new(), |a| format!("authorization: Basic {a}\r\n"));
    request(
        addr,
        format!("GET {target} HTTP/1.1\r\nhost: test\r\n{auth}connection: close\r\n\r\n"),
    )
}

/// `admin:s3cret` in base64.
const CRED: &str = "YWRtaW46czNjcmV0";

/// The columns of a CSV row by name, for the columns haproxyrs fills.
fn rows(csv: &str) -> (String, Vec<Vec<(String, String)>>) {
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let cols: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let keep = [
        "pxname",
        "svname",
        "status",
        "weight",
        "act",
        "bck",
        "iid",
        "sid",
        "type",
        "mode",
        "check_rise",
        "check_fall",
        "qcur",
        "stot",
        "check_status",
        "check_code",
        "check_desc",
        "check_health",
        "last_chk",
    ];
    // `stot` of a frontend or backend is not counted yet (docs/compatibility.md).
    let rows = lines
        .map(|l| {
            let proxy_row = l.contains(",FRONTEND,") || l.contains(",BACKEND,");
            l.split(',')
                .zip(&cols)
                .filter(|(_, c)| keep.contains(c) && !(proxy_row && **c == "stot"))
                // 2.6 marks a check in progress with `* `.
                .map(|(v, c)| (c.to_string(), v.trim_start_matches("* ").to_string()))
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn stats_401_matches_haproxy() {
    crate::require_haproxy!("stats_401_matches_haproxy");
    let up = Backend::http("up");
    let down = SocketAddr::from(([127, 0, 0, 1], reserve_port()));
    let mut got = Vec::new();
    for flavor in [Flavor::Haproxy, Flavor::Haproxyrs] {
        let p = start(flavor, &up, down);
        let m = get(p.fe(0), "/haproxy?stats", None);
        let wrong = get(p.fe(0), "/haproxy?stats;csv", Some("YWRtaW46d3Jvbmc="));
        assert_eq!(wrong.status(), 401, "{}", p.context());
        got.push((m.start.clone(), m.headers.clone(), m.body.clone()));
    }
    assert_eq!(got[0].0, "HTTP/1.1 401 Unauthorized");
    assert_eq!(got[1], got[0], "haproxyrs's 401 differs from 2.6's");
    assert!(up.requests().is_empty(), "{:?}", up.requests());
}

#[test]
fn stats_csv_matches_haproxy_with_a_down_server() {
    crate::require_haproxy!("stats_csv_matches_haproxy_with_a_down_server");
    let up = Backend::http("up");
    let down = SocketAddr::from(([127, 0, 0, 1], reserve_port()));
    let mut got = Vec::new();
    for flavor in [Flavor::Haproxy, Flavor::Haproxyrs] {
        let p = start(flavor, &up, down);
        let m = get(p.fe(0), "/haproxy?stats;csv", Some(CRED));
        assert_eq!(m.status(), 200, "{}", p.context());
        let (header, rows) = rows(&m.body_str());
        let listen = get(p.fe(1), "/haproxy?stats;csv;norefresh", None);
        assert_eq!(listen.status(), 200, "{}", p.context());
        // Logged as answered by the stats applet.
        let line = p.log_line_of(
            "GET /haproxy?stats;csv HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
            "li/<STATS>",
        );
        assert!(line.contains(" 200 "), "{line}");
        got.push((
            header,
            rows,
            m.header("content-type").map(str::to_string),
            m.header("refresh").map(str::to_string),
            listen.header("refresh").is_none(),
        ));
    }
    assert!(got[0].0.starts_with("# pxname,svname,qcur"), "{}", got[0].0);
    assert_eq!(got[1].0, got[0].0, "CSV header line");
    let status = |rows: &Vec<Vec<(String, String)>>, sv: &str| {
        rows.iter()
            .find(|r| r.iter().any(|(c, v)| c == "svname" && v == sv))
            .and_then(|r| r.iter().find(|(c, _)| c == "status"))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(status(&got[1].1, "s1").as_deref(), Some("DOWN"));
    assert_eq!(got[1].1, got[0].1, "CSV rows (filled columns)");
    assert_eq!(got[1].2, got[0].2);
    assert_eq!(got[1].3.as_deref(), Some("7"));
    assert_eq!(got[1].3, got[0].3);
    assert!(got[1].4 && got[0].4, ";norefresh");
    assert!(up.requests().is_empty(), "{:?}", up.requests());
}

#[test]
fn stats_html_page_and_other_paths_forwarded() {
    let up = Backend::http("up");
    let down = SocketAddr::from(([127, 0, 0, 1], reserve_port()));
    let p = start(Flavor::Haproxyrs, &up, down);
    let m = get(p.fe(0), "/haproxy?stats", Some(CRED));
    assert_eq!(m.status(), 200, "{}", p.context());
    assert_eq!(m.header("content-type"), Some("text/html"));
    let body = m.body_str();
    assert!(body.contains("<td>s1</td><td>DOWN</td>"), "{body}");
    assert!(body.contains("haproxyrs "), "version shown: {body}");
    let hidden = get(p.fe(1), "/haproxy?stats", None).body_str();
    assert!(
        hidden.contains("<td>s3</td>") && !hidden.contains("haproxyrs "),
        "{hidden}"
    );
    // `stats scope .`: only `li` is listed there.
    assert!(!hidden.contains("<td>s1</td>"), "{hidden}");
    assert!(up.requests().is_empty(), "{:?}", up.requests());
    // Not the stats URI: forwarded.
    let other = get(p.fe(1), "/haproxy?stat", None);
    assert_eq!(other.body_str(), "up\n", "{}", p.context());
}
