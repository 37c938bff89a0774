//! The log line's connection counters (`%ac/%fc/%bc/%sc/%rc %sq/%bq`) and the HTTP
//! transaction dates (`%t`, `%tr`, `%Th`, `%Ti`), compared with haproxy 2.6's for the same
//! traffic: requests held open on a backend that answers only when told to, requests
//! waiting in a server's or a backend's queue (`maxconn`, `timeout queue`), keep-alive
//! connections idle between requests.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::backends::Backend;
use crate::support::client::Client;
use crate::support::proxy::{Flavor, Proxy, ProxyBuilder};
use crate::support::WAIT;

/// Waits (bounded) until stdout holds `n` lines containing `needle`; returns them.
fn wait_lines(p: &Proxy, needle: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let lines: Vec<String> = p
            .stdout()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect();
        if lines.len() >= n {
            return lines;
        }
        if Instant::now() >= deadline {
            p.fail(&format!("expected {n} log lines with {needle:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Masks what differs between two runs: the client address (field 0), the date (1) and
/// the timers (4), which measure this machine; with `paths`, also the request's path
/// (which of two queued requests a proxy serves first is a race neither one reports).
fn mask(line: &str, paths: bool) -> String {
    line.split(' ')
        .enumerate()
        .map(|(i, w)| match i {
            0 => "CLIENT".to_string(),
            1 => "[DATE]".to_string(),
            4 => "TIMERS".to_string(),
            _ if paths && w.starts_with("/q") => "/PATH".to_string(),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const HTTP: &str = "\
global
    log stdout format raw local0
    # One thread: a request waiting in a queue takes the freed slot only after the
    # finished one is logged (with two, 2.6 itself sometimes counts it in %sc already).
    nbthread 1

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 20s
    timeout server 20s
    timeout queue {{tq}}

frontend fe
    bind {{fe0}}
    default_backend be

backend be
    {{balance}}
    server s1 {{app}} {{maxconn}}
";

fn http_proxy(flavor: Flavor, app: &Backend, vars: &[(&str, &str)], label: &str) -> Proxy {
    let mut b = ProxyBuilder::new(flavor, HTTP)
        .var("app", app.addr_str())
        .label(&format!("log_counters-{label}-{}", flavor.name()));
    for (k, v) in [("tq", "10s"), ("balance", ""), ("maxconn", "")] {
        let v = vars.iter().find(|(n, _)| *n == k).map_or(v, |(_, v)| *v);
        b = b.var(k, v);
    }
    b.start()
}

/// Neither proxy reports a request joining a queue: this is the margin given to the ones
/// just sent to get there before the test goes on.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

fn get(c: &mut Client, path: &str) {
    c.send(format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n"));
}

/// Three requests held on the server at once, on three keep-alive connections, finished
/// one by one: each line counts the other two, then one, then none in `%bc`/`%sc` (a
/// transaction leaves its backend and server before it is logged); a fourth connection
/// and a second request on the first, with the others idle, count 0 there: idle
/// keep-alive connections are on the frontend (`%ac`/`%fc`) only.
fn concurrent_http(flavor: Flavor) -> Vec<String> {
    let (app, gate) = Backend::http_gated("app");
    let p = http_proxy(flavor, &app, &[], "concurrent");
    let mut clients = Vec::new();
    for i in 0..3 {
        let mut c = Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&e.to_string()));
        get(&mut c, &format!("/q{i}"));
        assert!(
            gate.wait_arrived(i as u64 + 1, WAIT),
            "/q{i} held\n{}",
            p.context()
        );
        clients.push(c);
    }
    let mut got = Vec::new();
    for (i, c) in clients.iter_mut().enumerate() {
        gate.open(1);
        assert_eq!(c.read_responses(1, WAIT).len(), 1, "{}", p.context());
        got.push(wait_lines(&p, &format!("/q{i} "), 1).remove(0));
    }
    let mut fresh = Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&e.to_string()));
    gate.open(2);
    get(&mut fresh, "/fresh");
    assert_eq!(fresh.read_responses(1, WAIT).len(), 1, "{}", p.context());
    got.push(wait_lines(&p, "/fresh ", 1).remove(0));
    get(&mut clients[0], "/again");
    assert_eq!(
        clients[0].read_responses(2, WAIT).len(),
        2,
        "{}",
        p.context()
    );
    got.push(wait_lines(&p, "/again ", 1).remove(0));
    got.iter().map(|l| mask(l, false)).collect()
}

#[test]
fn http_connection_counters_match_haproxy() {
    let ours = concurrent_http(Flavor::Haproxyrs);
    if !crate::support::haproxy::haproxy_available("http_connection_counters_match_haproxy") {
        return;
    }
    assert_eq!(ours, concurrent_http(Flavor::Haproxy));
}

/// `maxconn 1`: one request on the server, two waiting, let through one at a time, then
/// one more waiting until `timeout queue` strikes (`sQ`, 503). With round robin the
/// waiting requests are in the backend's queue (`%bq`); with `balance uri` their server
/// is chosen already and they wait in its queue (`%sq`). Each line has its place in the
/// queue (1, 2), and `%bc` counts the waiting requests.
fn queued_http(flavor: Flavor, balance: &str) -> Vec<String> {
    let (app, gate) = Backend::http_gated("app");
    let vars = [("maxconn", "maxconn 1"), ("balance", balance), ("tq", "2s")];
    let label = if balance.is_empty() { "bq" } else { "sq" };
    let p = http_proxy(flavor, &app, &vars, label);
    let mut clients = Vec::new();
    for i in 0..3 {
        let mut c = Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&e.to_string()));
        get(&mut c, &format!("/q{i}"));
        if i == 0 {
            assert!(gate.wait_arrived(1, WAIT), "/q0 held\n{}", p.context());
        }
        clients.push(c);
    }
    settle();
    for n in 1..=3 {
        // The request on the server answers; the next one waiting takes its slot.
        gate.open(1);
        wait_lines(&p, "\"GET /q", n);
        if n < 3 {
            assert!(
                gate.wait_arrived(n as u64 + 1, WAIT),
                "next dequeued\n{}",
                p.context()
            );
        }
    }
    for c in &mut clients {
        assert_eq!(c.read_responses(1, WAIT).len(), 1, "{}", p.context());
    }
    // One held on the server, one that waits in vain.
    let mut held = Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&e.to_string()));
    get(&mut held, "/held");
    assert!(gate.wait_arrived(4, WAIT), "/held held\n{}", p.context());
    let mut late = Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&e.to_string()));
    get(&mut late, "/late");
    let r = late.read_responses(1, WAIT);
    assert_eq!(r.first().map(|m| m.status()), Some(503), "{}", p.context());
    let late_line = wait_lines(&p, "/late ", 1).remove(0);
    gate.open(1);
    assert_eq!(held.read_responses(1, WAIT).len(), 1, "{}", p.context());
    let held_line = wait_lines(&p, "/held ", 1).remove(0);
    let mut got: Vec<String> = wait_lines(&p, "\"GET /q", 3)
        .iter()
        .map(|l| mask(l, true))
        .collect();
    got.push(mask(&late_line, false));
    got.push(mask(&held_line, false));
    got
}

#[test]
fn http_queue_places_match_haproxy() {
    let ours: Vec<_> = ["", "balance uri"]
        .iter()
        .map(|b| queued_http(Flavor::Haproxyrs, b))
        .collect();
    if !crate::support::haproxy::haproxy_available("http_queue_places_match_haproxy") {
        return;
    }
    let theirs: Vec<_> = ["", "balance uri"]
        .iter()
        .map(|b| queued_http(Flavor::Haproxy, b))
        .collect();
    assert_eq!(ours, theirs);
}

const TCP: &str = "\
global
    log stdout format raw local0
    # One thread: a request waiting in a queue takes the freed slot only after the
    # finished one is logged (with two, 2.6 itself sometimes counts it in %sc already).
    nbthread 1

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client 20s
    timeout server 20s
    timeout queue 10s

frontend fe
    bind {{fe0}}
    default_backend be

backend be
    server s1 {{echo}} maxconn 1
";

/// The one of `conns` whose byte came back through the echo server (its session got the
/// server's slot), waiting for it (bounded).
fn echoed(conns: &mut Vec<TcpStream>, p: &Proxy) -> TcpStream {
    let deadline = Instant::now() + WAIT;
    loop {
        for i in 0..conns.len() {
            let mut b = [0u8; 1];
            if matches!(conns[i].read(&mut b), Ok(1)) {
                return conns.remove(i);
            }
        }
        if Instant::now() >= deadline {
            p.fail("no queued connection got its echo");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// TCP mode, `maxconn 1`: three connections, two of them waiting in the backend's queue,
/// each closed (half-close, then the echo server closes) once it has the server. The
/// lines carry `%ac/%fc` with the logged connection, `%bc` with the waiting ones, and
/// each one's place in the queue in `%bq` (not the queue's length at the end).
fn queued_tcp(flavor: Flavor) -> Vec<String> {
    let echo = Backend::echo("echo");
    let p = ProxyBuilder::new(flavor, TCP)
        .var("echo", echo.addr_str())
        .label(&format!("log_counters-tcp-{}", flavor.name()))
        .start();
    let open = || {
        let mut c = TcpStream::connect(p.fe(0)).unwrap_or_else(|e| p.fail(&e.to_string()));
        std::io::Write::write_all(&mut c, b"x").unwrap();
        c.set_nonblocking(true).unwrap();
        c
    };
    let mut connected = echoed(&mut vec![open()], &p);
    let mut waiting = vec![open(), open()];
    settle();
    for n in 1..=3 {
        connected.set_nonblocking(false).unwrap();
        connected.shutdown(std::net::Shutdown::Write).unwrap();
        connected.set_read_timeout(Some(WAIT)).unwrap();
        let mut rest = Vec::new();
        let _ = connected.read_to_end(&mut rest);
        wait_lines(&p, " be/s1 ", n);
        if n < 3 {
            connected = echoed(&mut waiting, &p);
        }
    }
    wait_lines(&p, " be/s1 ", 3)
        .iter()
        .map(|l| mask(l, false))
        .collect()
}

#[test]
fn tcp_queue_places_match_haproxy() {
    let ours = queued_tcp(Flavor::Haproxyrs);
    if !crate::support::haproxy::haproxy_available("tcp_queue_places_match_haproxy") {
        return;
    }
    assert_eq!(ours, queued_tcp(Flavor::Haproxy));
}

const DATES: &str = "\
global
    log stdout format raw local0

defaults
    mode http
    log global
    log-format \"%t %tr %Th %Ti %TR %Tq %Ta %Tt %ac/%fc/%bc/%sc/%rc %sq/%bq %r\"
    timeout connect 2s
    timeout client 20s
    timeout server 20s

frontend fe
    bind {{fe0}}
    default_backend be

backend be
    server s1 {{app}}
";

/// `[dd/Mon/yyyy:HH:MM:SS.mmm]` or without brackets: milliseconds of the day.
fn day_ms(date: &str) -> i64 {
    let t = date.trim_matches(|c| c == '[' || c == ']');
    let hms: Vec<&str> = t.split_once(':').map_or("", |x| x.1).split(':').collect();
    let n = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    ((n(hms[0]) * 3600.0 + n(hms[1]) * 60.0 + n(hms[2])) * 1000.0).round() as i64
}

/// One keep-alive connection: idle before its first request, a request head sent in two
/// parts, idle again, a second request. Returns, per request, what must hold whatever
/// the machine's speed: `%t` is the stream's creation (the accept, then the end of the
/// previous transaction) and `%tr` = `%t` + `%Th` + `%Ti`; `%Th` is 0 (no PROXY header,
/// no TLS); `%Ti` covers the idle pause; `%Tq` = `%Th` + `%Ti` + `%TR` and `%Tt` =
/// `%Th` + `%Ti` + `%Ta`; the second `%t` is not before the first request's end. Dates are
/// compared to the millisecond allowing 1 ms of rounding; the rest of the line exactly.
fn dates(flavor: Flavor) -> Vec<String> {
    let app = Backend::http("app");
    let p = ProxyBuilder::new(flavor, DATES)
        .var("app", app.addr_str())
        .label(&format!("log_counters-dates-{}", flavor.name()))
        .start();
    let pause = Duration::from_millis(300);
    let mut c = Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&e.to_string()));
    let mut got = Vec::new();
    let mut prev_end = None;
    for (n, path) in ["/first", "/second"].iter().enumerate() {
        // The idle time being measured, not a synchronisation.
        std::thread::sleep(pause);
        c.send(format!("GET {path} HTTP/1.1\r\n"));
        c.send("host: test\r\n\r\n");
        assert_eq!(
            c.read_responses(n + 1, WAIT).len(),
            n + 1,
            "{}",
            p.context()
        );
        let line = wait_lines(&p, &format!("{path} "), 1).remove(0);
        let f: Vec<&str> = line.split(' ').collect();
        let num = |i: usize| f[i].parse::<i64>().unwrap_or(i64::MIN);
        let (t, tr) = (day_ms(f[0]), day_ms(f[1]));
        let (th, ti, treq, tq, ta, tt) = (num(2), num(3), num(4), num(5), num(6), num(7));
        let near = |a: i64, b: i64| (a - b).abs() <= 1;
        let checks = [
            ("%tr = %t + %Th + %Ti", near(tr, t + th + ti)),
            ("%Th = 0", th == 0),
            // The first pause starts at our connect, a little before the proxy accepts.
            ("%Ti covers the pause", ti >= pause.as_millis() as i64 / 2),
            ("%Tq = %Th + %Ti + %TR", near(tq, th + ti + treq)),
            ("%Tt = %Th + %Ti + %Ta", near(tt, th + ti + ta)),
            (
                "%t after the previous transaction",
                prev_end.is_none_or(|e: i64| t + 1 >= e),
            ),
        ];
        for (what, ok) in checks {
            assert!(
                ok,
                "{}: {what} fails in {line}\n{}",
                flavor.name(),
                p.context()
            );
        }
        prev_end = Some(tr + ta);
        got.push(f[8..].join(" "));
    }
    got
}

#[test]
fn http_dates_match_haproxy() {
    let ours = dates(Flavor::Haproxyrs);
    if !crate::support::haproxy::haproxy_available("http_dates_match_haproxy") {
        return;
    }
    assert_eq!(ours, dates(Flavor::Haproxy));
}
