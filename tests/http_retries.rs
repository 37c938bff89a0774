//! Issue 4 point 2 in HTTP mode: `retries` and `option redispatch` when a server refuses
//! connections, compared with haproxy 2.6 through the log line (`%rc %Tw %ST %b/%s`): an
//! immediate redispatch for a non-hashing algorithm with another active server (`+1`),
//! retries with the 1 s turnaround and then 503 without `redispatch`, a cookie-persistent
//! server retried before the last retry redispatches (`+2`), and a redispatch with nowhere
//! else to go that retries the same server. `%Tw` includes the turnaround before a
//! redispatch, as 2.6 counts it.

use crate::support::backends::Backend;
use crate::support::proxy::{Flavor, ProxyBuilder};

const CFG: &str = "\
global
    log stdout format raw local0

defaults
    mode http
    log global
    log-format \"%rc %Tw %ST %b/%s %r\"
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend fe
    bind {{fe0}}
    use_backend %[path,field(2,/)]

backend spread
    retries 3
    option redispatch
    server dead {{dead}}
    server app {{app}}

backend plain
    retries 1
    server dead {{dead}}
    server app {{app}}

backend sticky
    retries 2
    option redispatch
    cookie SRV insert
    server dead {{dead}} cookie d
    server app {{app}} cookie a

backend alone
    retries 1
    option redispatch
    server dead {{dead}}
    server app {{app}} backup
";

/// (path, extra request header)
const REQUESTS: [(&str, &str); 4] = [
    ("/spread", ""),
    ("/plain", ""),
    ("/sticky", "cookie: SRV=d\r\n"),
    ("/alone", ""),
];

fn lines(flavor: Flavor) -> Vec<String> {
    let app = Backend::http("app");
    // A port nothing listens on: every connection to it is refused at once.
    let dead = format!("127.0.0.1:{}", crate::support::proxy::reserve_port());
    let p = ProxyBuilder::new(flavor, CFG)
        .var("app", app.addr_str())
        .var("dead", &dead)
        .label(&format!("http_retries-{}", flavor.name()))
        .start();
    let mut got = Vec::new();
    for (path, extra) in REQUESTS {
        let line = p.log_line_of(
            &format!("GET {path} HTTP/1.1\r\nhost: test\r\n{extra}connection: close\r\n\r\n"),
            &format!("GET {path} HTTP/1.1"),
        );
        got.push(bucket_tw(&line));
    }
    got
}

/// `%Tw` (the second field) includes the 1 s turnaround before a redispatch, as in 2.6:
/// compared as "0" (under half a second) or "1s+", not to the millisecond; -1 stays.
fn bucket_tw(line: &str) -> String {
    let mut fields: Vec<String> = line.split(' ').map(str::to_string).collect();
    if let Some(tw) = fields.get(1).and_then(|w| w.parse::<i64>().ok()) {
        fields[1] = match tw {
            500.. => "1s+".into(),
            0.. => "0".into(),
            _ => tw.to_string(), // -1: no server was assigned
        };
    }
    fields.join(" ")
}

#[test]
fn retries_and_redispatch_match_haproxy() {
    let ours = lines(Flavor::Haproxyrs);
    // What 2.6 does, also checked against it below when it is installed.
    assert_eq!(
        ours,
        [
            "+1 0 200 spread/app GET /spread HTTP/1.1",
            "1 0 503 plain/dead GET /plain HTTP/1.1",
            "+2 1s+ 200 sticky/app GET /sticky HTTP/1.1",
            "1 1s+ 503 alone/dead GET /alone HTTP/1.1",
        ]
    );
    if !crate::support::haproxy::haproxy_available("retries_and_redispatch_match_haproxy") {
        return;
    }
    assert_eq!(ours, lines(Flavor::Haproxy));
}
