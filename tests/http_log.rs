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
        let line = p.log_line_of(
            &format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n"),
            &format!("\"GET {path} HTTP/1.1\""),
        );
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

/// `%tr`, `%TR` and `%Ta` of a keep-alive request start with its first byte, not with the
/// idle time before it (2.6 logs `0/0/0/0/0` for a quick request after a long pause).
#[test]
fn keep_alive_requests_are_timed_from_their_first_byte() {
    let app = Backend::http("app");
    let p = ProxyBuilder::new(Flavor::Haproxyrs, CFG)
        .var("app", app.addr_str())
        .label("http_log-keepalive")
        .start();
    let mut c = client::Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&format!("{e}")));
    let pause = Duration::from_millis(1500);
    for path in ["/ok1", "/ok2"] {
        c.send(format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n"));
        assert!(
            !c.read_responses(1, crate::support::WAIT).is_empty(),
            "no response for {path}\n{}",
            p.context()
        );
        if path == "/ok1" {
            // The idle time being measured, not a synchronisation.
            std::thread::sleep(pause);
        }
    }
    assert!(
        p.wait_output("\"GET /ok2 HTTP/1.1\"", Duration::from_secs(5)),
        "no log line\n{}",
        p.context()
    );
    let out = p.stdout();
    let field = |path: &str, i: usize| -> String {
        let line = out.lines().find(|l| l.contains(path)).unwrap_or_default();
        line.split(' ').nth(i).unwrap_or_default().to_string()
    };
    // [25/Nov/2026:16:22:16.283] -> milliseconds of the day.
    let ms = |date: &str| -> i64 {
        let t = date.trim_matches(|c| c == '[' || c == ']');
        let hms: Vec<&str> = t.split_once(':').map_or("", |x| x.1).split(':').collect();
        let (h, m) = (
            hms[0].parse::<i64>().unwrap(),
            hms[1].parse::<i64>().unwrap(),
        );
        let s: f64 = hms[2].parse().unwrap();
        (h * 3600 + m * 60) * 1000 + (s * 1000.0).round() as i64
    };
    let gap = ms(&field("/ok2", 1)) - ms(&field("/ok1", 1));
    assert!(
        gap >= pause.as_millis() as i64,
        "second request dated {gap} ms after the first\n{out}"
    );
    let timers = field("/ok2", 4);
    let t: Vec<i64> = timers.split('/').map(|x| x.parse().unwrap()).collect();
    let idle = pause.as_millis() as i64;
    assert!(
        t[0] < idle && t[4] < idle,
        "idle time counted in TR/Ta: {timers}\n{out}"
    );
}

/// `%U` and `%B` in a `log-format`, against 2.6: both count the message in HAProxy's
/// internal form (the request as received, before `forwardfor` adds to it; chunked bodies
/// by their payload plus one; `connection: close`/`keep-alive` not at all).
/// The log line of each of `requests` (each on a new connection, found by its request
/// line) through `flavor` running `cfg`, whose one server `{{app}}` answers them all.
fn log_lines(flavor: Flavor, cfg: &str, label: &str, requests: &[String]) -> Vec<String> {
    let app = Backend::http("app");
    let p = ProxyBuilder::new(flavor, cfg)
        .var("app", app.addr_str())
        .label(&format!("http_log-{label}-{}", flavor.name()))
        .start();
    requests
        .iter()
        .map(|req| p.log_line_of(req, req.split("\r\n").next().unwrap_or_default()))
        .collect()
}

#[test]
fn byte_counts_match_haproxy() {
    const FMT: &str = "\
global
    log stdout format raw local0

defaults
    mode http
    log global
    log-format \"%U %B %ST %r\"
    option forwardfor
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend fe
    bind {{fe0}}
    default_backend be

backend be
    server s1 {{app}}
";
    let requests = [
        "GET /a HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n".to_string(),
        "GET /b HTTP/1.1\r\nhost: test\r\nx-long: aaaaaaaaaa\r\nconnection: keep-alive\r\n\r\n"
            .to_string(),
        "POST /c HTTP/1.1\r\nhost: test\r\ncontent-length: 11\r\n\r\nhello=world".to_string(),
        "POST /d HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            .to_string(),
    ];
    let run = |flavor: Flavor| log_lines(flavor, FMT, "bytes", &requests);
    let ours = run(Flavor::Haproxyrs);
    assert!(
        ours.iter().all(|l| !l.starts_with("0 ")),
        "%U missing: {ours:?}"
    );
    if !crate::support::haproxy::haproxy_available("byte_counts_match_haproxy") {
        return;
    }
    assert_eq!(ours, run(Flavor::Haproxy));
}

/// Log dates away from UTC (`TZ=JST-9`): `%t`, `%tr` and the httplog date in local time with
/// milliseconds, `%T`/`%trg` in UTC and `%Tl`/`%trl` in local time, with their offsets.
#[test]
fn dates_match_haproxy_in_another_time_zone() {
    const DATES: &str = "\
global
    log stdout format raw local0
defaults
    mode http
    log global
    log-format \"%t|%T|%Tl|%tr|%trg|%trl\"
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind {{fe0}}
    http-request return status 200
";
    let httplog = DATES.replace("log-format \"%t|%T|%Tl|%tr|%trg|%trl\"", "option httplog");
    let run = |flavor: Flavor| -> Vec<String> {
        [(DATES, "|"), (httplog.as_str(), "GET /tz")]
            .iter()
            .map(|(cfg, needle)| {
                let p = ProxyBuilder::new(flavor, cfg)
                    .env("TZ", "JST-9")
                    .label(&format!("http_log-tz-{}", flavor.name()))
                    .start();
                let req = "GET /tz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n";
                mask_clock(&p.log_line_of(req, needle))
            })
            .collect()
    };
    let ours = run(Flavor::Haproxyrs);
    let fields: Vec<&str> = ours[0].split('|').collect();
    assert!(
        fields.len() == 6 && fields[1].ends_with(" +0000") && fields[2].ends_with(" +0900"),
        "{ours:?}"
    );
    if !crate::support::haproxy::haproxy_available("dates_match_haproxy_in_another_time_zone") {
        return;
    }
    let theirs = run(Flavor::Haproxy);
    if ours != theirs {
        // The minute may have turned between the two runs: compare one more pair.
        assert_eq!(run(Flavor::Haproxyrs), run(Flavor::Haproxy));
    }
}

/// Masks what differs between two runs a moment apart: the seconds and milliseconds of
/// every `HH:MM:SS[.mmm]`, and the client port before ` [`.
fn mask_clock(line: &str) -> String {
    let mut b = line.as_bytes().to_vec();
    let digits = |b: &[u8], at: usize, n: usize| {
        b.get(at..at + n)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    for i in 0..b.len() {
        let clock = b[i] == b':'
            && digits(&b, i + 1, 2)
            && b.get(i + 3) == Some(&b':')
            && digits(&b, i + 4, 2)
            && b.get(i + 6) == Some(&b':')
            && digits(&b, i + 7, 2);
        if clock {
            b[i + 7..i + 9].copy_from_slice(b"SS");
            if b.get(i + 9) == Some(&b'.') && digits(&b, i + 10, 3) {
                b[i + 10..i + 13].copy_from_slice(b"mmm");
            }
        }
    }
    let s = String::from_utf8_lossy(&b).into_owned();
    match (s.find(':'), s.find(" [")) {
        (Some(c), Some(d)) if c < d && s[c + 1..d].bytes().all(|x| x.is_ascii_digit()) => {
            format!("{}:PORT{}", &s[..c], &s[d..])
        }
        _ => s,
    }
}

/// `%B` counts the response head as received: what `http-response` rules and a persistence
/// cookie add afterwards is not counted, as in 2.6 (and `Connection` is cleaned first).
#[test]
fn byte_counts_leave_out_what_response_rules_add() {
    const PLAIN: &str = "\
global
    log stdout format raw local0
defaults
    mode http
    log global
    log-format \"%B %ST %r\"
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind {{fe0}}
    default_backend be
backend be
    server s1 {{app}}
";
    let rules = PLAIN
        .replace(
            "    default_backend be\n",
            "    http-response set-header x-added aaaaaaaaaaaaaaaa\n    default_backend be\n",
        )
        .replace(
            "    server s1 {{app}}\n",
            "    cookie SRV insert indirect nocache\n    server s1 {{app}} cookie s1\n",
        );
    let requests = ["/a", "/b"]
        .map(|path| format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"));
    let run = |flavor: Flavor, cfg: &str| log_lines(flavor, cfg, "added", &requests);
    let ours = run(Flavor::Haproxyrs, &rules);
    assert_eq!(ours, run(Flavor::Haproxyrs, PLAIN));
    if crate::support::haproxy::haproxy_available("byte_counts_leave_out_what_response_rules_add") {
        assert_eq!(ours, run(Flavor::Haproxy, &rules));
    }
}
