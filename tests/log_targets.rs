//! What reaches a syslog server: each `format`'s header (with `log-tag` and
//! `log-send-hostname`), `len` truncation and `sample`, compared with haproxy 2.6's
//! datagrams for the same request (digits masked: dates, pids and ports differ per run).

use std::net::UdpSocket;
use std::time::Duration;

use crate::support::client;
use crate::support::proxy::{Flavor, ProxyBuilder};

const CFG: &str = "\
global
    log 127.0.0.1:{{udp}} {{target}}
    log-send-hostname h1
    log-tag tg
defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind {{fe0}}
    http-request return status 200
";

/// The datagrams `flavor` sends for `requests` GETs of a long path, digits masked: the
/// `expect` ones (each waited for), then any extra one already there.
fn datagrams(flavor: Flavor, target: &str, requests: usize, expect: usize) -> Vec<String> {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let p = ProxyBuilder::new(flavor, CFG)
        .var("udp", sink.local_addr().unwrap().port())
        .var("target", target)
        .label(&format!("log_targets-{}", flavor.name()))
        .start();
    let path = format!("/{}", "a".repeat(400));
    for _ in 0..requests {
        client::get(p.fe(0), &path);
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(n) = sink.recv(&mut buf) {
        let text = String::from_utf8_lossy(&buf[..n]);
        got.push(
            text.chars()
                .map(|c| if c.is_ascii_digit() { '9' } else { c })
                .collect(),
        );
        if got.len() >= expect {
            sink.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
        }
    }
    got
}

/// Requests sent and lines expected for a target: `sample 2,4:4` keeps two of four.
fn runs(target: &str) -> (usize, usize) {
    if target.contains("sample") {
        (4, 2)
    } else {
        (1, 1)
    }
}

#[test]
fn syslog_datagrams_match_haproxy() {
    let targets = [
        "len 200 local0",
        "len 200 format rfc3164 local0",
        "len 200 format rfc5424 local0",
        "len 200 format local local0",
        "len 200 format short local0",
        "len 200 format priority local0",
        "len 200 format timed local0",
        "len 200 format iso local0",
        "len 200 format raw local0",
        "format raw sample 2,4:4 local0",
    ];
    let ours: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            let (requests, expect) = runs(t);
            datagrams(Flavor::Haproxyrs, t, requests, expect)
        })
        .collect();
    assert!(
        ours[0].len() == 1 && ours[0][0].len() == 201 && ours[0][0].contains(" h9 tg["),
        "{ours:?}"
    );
    assert_eq!(
        ours[9].len(),
        2,
        "sample 2,4:4 keeps two lines of four: {ours:?}"
    );
    if !crate::support::haproxy::haproxy_available("syslog_datagrams_match_haproxy") {
        return;
    }
    let theirs: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            let (requests, expect) = runs(t);
            datagrams(Flavor::Haproxy, t, requests, expect)
        })
        .collect();
    for ((t, o), h) in targets.iter().zip(&ours).zip(&theirs) {
        assert_eq!(o, h, "log 127.0.0.1 {t}");
    }
}
