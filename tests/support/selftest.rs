//! Tests of the harness itself, without any proxy: the client against the backends.

use std::time::Duration;

use super::backends::{pattern, Backend, BodyFraming, Reply};
use super::client::{self, Client};
use super::http1::Framing;
use super::WAIT;

#[test]
fn http_backend_answers_and_records_per_connection() {
    let b = Backend::http("app1");
    let m = client::get(b.addr, "/hello");
    assert_eq!(m.status(), 200);
    assert_eq!(m.body_str(), "app1\n");
    assert_eq!(m.header("x-backend"), Some("app1"));
    // Keep-alive + pipelining on a second connection.
    let mut c = Client::connect(b.addr);
    c.send("GET /1 HTTP/1.1\r\nhost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nhost: a\r\n\r\n");
    let r = c.read_responses(2, WAIT);
    assert_eq!(r.len(), 2, "{}", c.received.text());
    assert!(r[1].body.is_empty(), "HEAD has no body");
    drop(c);
    assert!(b.wait_all_closed(WAIT));
    let rec = b.received();
    assert_eq!(rec.len(), 2);
    assert!(rec[0].starts_with(b"GET /hello HTTP/1.1\r\n"));
    let targets: Vec<String> = b.requests().iter().map(|m| m.target().into()).collect();
    assert_eq!(targets, ["/hello", "/1", "/2"]);
}

#[test]
fn reply_framings_are_parsed_back() {
    for (framing, expect) in [
        (BodyFraming::ContentLength, Framing::Length(11)),
        (BodyFraming::Chunked(4), Framing::Chunked),
        (BodyFraming::Close, Framing::Close),
    ] {
        let b = Backend::http_reply("x", Reply::new(201, "hello world").framing(framing));
        let r = client::exchange(
            b.addr,
            "GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
            WAIT,
        );
        assert!(r.closed);
        let m = r.one_response();
        assert_eq!((m.status(), m.framing), (201, expect));
        assert_eq!(m.body_str(), "hello world");
    }
}

#[test]
fn trickled_body_arrives_whole() {
    let b = Backend::http_reply(
        "slow",
        Reply::new(200, "abcdef").trickle(2, Duration::from_millis(5)),
    );
    let m = client::get(b.addr, "/");
    assert_eq!(m.body_str(), "abcdef");
}

#[test]
fn tcp_backends_echo_sink_source_close() {
    let e = Backend::echo("e");
    let mut c = Client::connect(e.addr);
    c.send("ping").shutdown_write();
    assert!(c.read_until_close(WAIT));
    assert_eq!(c.received.bytes, b"ping");
    assert_eq!(e.received(), vec![b"ping".to_vec()]);

    let s = Backend::sink("s");
    let mut c = Client::connect(s.addr);
    c.send(vec![7u8; 100_000]).shutdown_write();
    drop(c);
    // The accept itself may still be pending: wait for that one connection to end.
    assert!(s.wait_until(WAIT, |cs| cs.len() == 1 && cs[0].closed));
    assert_eq!(s.bytes_received(), 100_000);

    let src = Backend::source("src", 70_000);
    let mut c = Client::connect(src.addr);
    assert!(c.read_until_close(WAIT));
    assert_eq!(c.received.bytes.len(), 70_000);
    assert!(c
        .received
        .bytes
        .iter()
        .enumerate()
        .all(|(i, &x)| x == pattern(i as u64)));

    let cl = Backend::closer("c");
    let mut c = Client::connect(cl.addr);
    assert!(c.read_until_close(WAIT));
    assert!(c.received.bytes.is_empty());

    let bn = Backend::banner("b", b"220 hi\r\n");
    let mut c = Client::connect(bn.addr);
    assert_eq!(c.read_bytes(8, WAIT), b"220 hi\r\n");
}
