//! Issue 5 points 2–3 on the real binary against haproxy 2.6: connection modes
//! (`option httpclose`, `option http-server-close`), `option forwardfor [except] [header]`,
//! `option http-buffer-request` with `Expect: 100-continue`, HTTP/1.0 clients, and a WebSocket
//! upgrade relayed as a tunnel.

use crate::support::backends::Reply;
use crate::support::diff::{Conn, Diff, Step};

fn cfg(fe_opts: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n    timeout http-keep-alive 5s\n\nfrontend fe\n    bind {{{{fe0}}}}\n{fe_opts}    default_backend be\n\nbackend be\n    server a1 {{{{be:a1}}}}\n"
    )
}

fn sequence(d: Diff) -> Diff {
    d.conn(
        Conn::send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
            .then(Step::Responses(1))
            .then_send("GET /2 HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n")
            .then(Step::Responses(2)),
    )
    .send("GET /10 HTTP/1.0\r\n\r\n")
    .send("GET /10ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
}

#[test]
fn connection_modes_match_haproxy() {
    for (name, opts) in [
        ("http_mode_keepalive", ""),
        ("http_mode_httpclose", "    option httpclose\n"),
        ("http_mode_server_close", "    option http-server-close\n"),
        ("http_mode_forwardfor", "    option forwardfor\n"),
        (
            "http_mode_forwardfor_hdr",
            "    option forwardfor except 10.0.0.0/8 header X-Client\n",
        ),
        (
            "http_mode_forwardfor_except",
            "    option forwardfor except 127.0.0.0/8\n",
        ),
    ] {
        sequence(Diff::new(name, &cfg(opts)).http_backend("a1")).check_against_haproxy();
    }
}

#[test]
fn buffer_request_and_continue_match_haproxy() {
    let name = "http_mode_buffer_request";
    let d = Diff::new(name, &cfg("    option http-buffer-request\n"))
        .http_backend("a1")
        .conn(
            Conn::send(
                "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
            )
            .then(Step::Bytes(25))
            .then_send("hello")
            .then(Step::Responses(2)),
        );
    d.check_against_haproxy();
}

#[test]
fn websocket_upgrade_matches_haproxy() {
    let name = "http_mode_websocket";
    let d = Diff::new(name, &cfg(""))
        .http_backend_reply(
            "a1",
            Reply::raw(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nserver-frame",
            ),
        )
        .conn(
            Conn::send(
                "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            )
            .then(Step::Bytes(90))
            .then_send("client-frame"),
        )
        .close_grace(std::time::Duration::from_millis(300));
    d.check_against_haproxy();
}

/// Beyond HAProxy: SIGHUP reports, per HTTP frontend, how many server requests reused an
/// idle connection. Two clients one after the other with `http-reuse always`: the second
/// client's request takes the connection the first one left idle.
#[test]
fn sighup_reports_the_reuse_share() {
    use crate::support::backends::Backend;
    use crate::support::client::Client;
    use crate::support::proxy::{Flavor, ProxyBuilder};
    use crate::support::WAIT;

    let be = Backend::http("a1");
    let cfg = cfg("").replace(
        "    server a1 {{be:a1}}\n",
        &format!("    http-reuse always\n    server a1 {}\n", be.addr_str()),
    );
    let p = ProxyBuilder::new(Flavor::Haproxyrs, &cfg).start();
    for _ in 0..2 {
        let mut c = Client::try_connect(p.fe(0)).expect("connect");
        c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert_eq!(c.read_responses(1, WAIT).len(), 1, "{}", p.context());
        // The proxy offers the server connection to the idle pool before it closes the
        // client's: once closed, the next client can reuse it.
        assert!(c.read_until_close(WAIT), "{}", p.context());
    }
    p.signal(libc::SIGHUP);
    assert!(
        p.wait_output(
            "SIGHUP: Frontend fe: 1 of 2 server requests reused a connection (50.0%).",
            WAIT
        ),
        "{}",
        p.context()
    );
}
