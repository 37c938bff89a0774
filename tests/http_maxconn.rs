//! Server `maxconn` in HTTP mode counts requests in progress, not open connections (as
//! 2.6 does): a keep-alive connection idling between requests, or waiting in the idle
//! pool, leaves the slot to other clients instead of making them queue until `timeout
//! queue` and get a 503.

use std::time::Duration;

use crate::support::backends::Backend;
use crate::support::client;
use crate::support::proxy::{Flavor, ProxyBuilder};

const CFG: &str = "\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout queue 1s

frontend fe
    bind {{fe0}}
    default_backend be

backend be
    server s1 {{app}} maxconn 1
";

/// Status of each request: A's first, B's while A idles on its keep-alive connection,
/// A's second, then C's on a new connection after A closed.
fn statuses(flavor: Flavor) -> Vec<u16> {
    let app = Backend::http("app");
    let p = ProxyBuilder::new(flavor, CFG)
        .var("app", app.addr_str())
        .label(&format!("http_maxconn-{}", flavor.name()))
        .start();
    let wait = Duration::from_secs(5);
    let mut got = Vec::new();
    let mut ask = |c: &mut client::Client, path: &str, close: bool| {
        let conn = if close { "connection: close\r\n" } else { "" };
        c.send(format!("GET {path} HTTP/1.1\r\nhost: test\r\n{conn}\r\n"));
        let r = c.read_responses(1, wait);
        assert_eq!(r.len(), 1, "no response to {path}\n{}", p.context());
        got.push(r[0].status());
    };
    let mut a = client::Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&format!("{e}")));
    ask(&mut a, "/a1", false);
    let mut b = client::Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&format!("{e}")));
    ask(&mut b, "/b", true);
    ask(&mut a, "/a2", true);
    drop(a);
    let mut c = client::Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&format!("{e}")));
    ask(&mut c, "/c", true);
    got
}

#[test]
fn idle_connections_leave_maxconn_slots_free() {
    let ours = statuses(Flavor::Haproxyrs);
    assert_eq!(ours, [200, 200, 200, 200]);
    if !crate::support::haproxy::haproxy_available("idle_connections_leave_maxconn_slots_free") {
        return;
    }
    assert_eq!(ours, statuses(Flavor::Haproxy));
}
