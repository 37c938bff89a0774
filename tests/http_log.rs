//! Issue 5 point 9: `option httplog` lines in HAProxy's default format and a `log-format`,
//! compared with haproxy 2.6's own lines for the same traffic (ports, dates and timers
//! masked).

use std::time::Duration;

use crate::support::backends::Backend;
use crate::support::client;
use crate::support::proxy::{Flavor, ProxyBuilder};

const CFG: &str = "\
global
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend fe
    bind {{fe0}}
    capture request header Host len 10
    http-request deny if { path /deny }
    http-request return status 200 content-type text/plain string \"hi there\" if { path /ret }
    http-request redirect location /ok if { path /redir }
    use_backend none if { path /none }
    default_backend be

backend be
    server s1 {{app}}

backend none
";

/// Mask what differs between runs: the client port, the date and the timers (fields 1, 2
/// and 5 of the line). The byte count (field 7) is compared: 2.6 counts `%B` from its
/// internal message size, not the wire size, and so must we. The connection counters
/// (field 11) are checked for shape only.
fn mask(line: &str) -> String {
    line.split(' ')
        .enumerate()
        .map(|(i, w)| match i {
            0 => "CLIENT",
            1 => "[DATE]",
            4 => "TIMERS",
            // ac/fc/bc/sc/rc: whether the previous connection is gone yet is a race.
            10 if w.split('/').count() == 5 => "COUNTERS",
            _ => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn lines(flavor: Flavor) -> Option<Vec<String>> {
    let app = Backend::http("app");
    let p = ProxyBuilder::new(flavor, CFG)
        .var("app", app.addr_str())
        .label(&format!("http_log-{}", flavor.name()))
        .start();
    let mut got = Vec::new();
    for path in ["/ok", "/deny", "/none", "/ret", "/redir"] {
        let addr = p.fe(0);
        let mut c = match client::Client::try_connect(addr) {
            Ok(c) => c,
            Err(e) => p.fail(&format!("connect: {e}")),
        };
        c.send(format!(
            "GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n"
        ));
        assert!(
            !c.read_responses(1, crate::support::WAIT).is_empty(),
            "no response for {path}\n{}",
            p.context()
        );
        let needle = format!("\"GET {path} HTTP/1.1\"");
        assert!(
            p.wait_output(&needle, Duration::from_secs(5)),
            "no log line for {path}\n{}",
            p.context()
        );
        let out = p.stdout();
        let line = out
            .lines()
            .find(|l| l.contains(&needle))
            .unwrap_or_default()
            .to_string();
        got.push(mask(&line));
    }
    Some(got)
}

#[test]
fn httplog_lines_match_haproxy() {
    if !crate::support::haproxy::haproxy_available("httplog_lines_match_haproxy") {
        return;
    }
    let Some(theirs) = lines(Flavor::Haproxy) else {
        return;
    };
    let Some(ours) = lines(Flavor::Haproxyrs) else {
        return;
    };
    assert_eq!(ours, theirs);
}
