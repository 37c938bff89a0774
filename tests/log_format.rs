//! Custom `log-format` lines against haproxy 2.6's for the same traffic: every `%` variable
//! HTTP mode knows, with `+Q`/`+X`/`+E`, `%o`, `%[sample]` fetches valid at log time and
//! captures, over a keep-alive connection (`%rt`/`%lc` count on), a request without a
//! server (503), a malformed one (400) and a server timeout (504); and the variables TCP
//! mode accepts; `unique-id-format` (`%ID`, made as the request goes to the server for
//! `unique-id-header`, else at log time). Each field is `key=value`; what must differ between two runs is masked
//! by key: client, frontend and server connection ports (ephemeral), dates, timers (they
//! measure this machine) and the pid.

use std::time::Duration;

use crate::support::backends::{Backend, Reply};
use crate::support::client::Client;
use crate::support::proxy::{Flavor, Proxy, ProxyBuilder};
use crate::support::WAIT;

/// The HTTP-mode variables (`%o` last: it makes `+Q` the default for what follows). The
/// line stays under 1024 bytes: 2.6 truncates longer ones (see docs/http.md).
const HTTP_FORMAT: &str = "ci=%ci cp=%cp Xci=%{+X}ci Xcp=%{+X}cp fi=%fi fp=%fp f=%f ft=%ft \
b=%b s=%s si=%si sp=%sp Xsi=%{+X}si bi=%bi bp=%bp H=%H ST=%ST XST=%{+X}ST B=%B U=%U r=%r \
HM=%HM HU=%HU HP=%HP HPO=%HPO HQ=%HQ HV=%HV ts=%ts tsc=%tsc CC=%CC CS=%CS Th=%Th Ti=%Ti \
TR=%TR Tq=%Tq Tw=%Tw Tc=%Tc Tr=%Tr Ta=%Ta Tt=%Tt Td=%Td Tu=%Tu t=%t T=%T Ts=%Ts tr=%tr \
trl=%trl pid=%pid ac=%ac fc=%fc bc=%bc sc=%sc rc=%rc sq=%sq bq=%bq hr=%hr hs=%hs hrl=%hrl \
hsl=%hsl ID=%ID rt=%rt Xrt=%{+X}rt lc=%lc Xlc=%{+X}lc sslv=%sslv Qr=%{+Q}r QHQ=%{+Q}HQ \
Qhr=%{+Q}hr Qhrl=%{+Q}hrl QID=%{+Q}ID QCC=%{+Q}CC QB=%{+Q}B Ehr=%{+E}hr src=%[src] \
st=%[status] m=%[method] cap=%[capture.req.hdr(0)] capr=%[capture.res.hdr(0)] \
x=%[var(txn.x)] be=%[be_name] Qx=%{+Q}[var(txn.x)] none=%[var(txn.none)] %{+Q}o oHM=%HM \
ob=%b oB=%B";

const HTTP: &str = "\
global
    log stdout format raw local0

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 1s

frontend fe
    bind {{fe0}}
    capture request header Host len 10
    capture request header X-A len 20
    capture response header Content-Length len 5
    log-format \"{{format}}\"
    unique-id-format %{+X}o\\ %ci_%fi_%rt_%b_%s_%[src]_%ST
    unique-id-header X-Unique-ID
    http-request set-var(txn.x) str(hello)
    use_backend none if { path /none }
    use_backend slow if { path /slow }
    default_backend be

backend be
    server s1 {{app}}

backend slow
    server s2 {{slow}}

backend none
";

/// Keys whose values differ between runs (see the module's doc). `%Td` is masked too: it
/// is `%Tt` less the time to the response, both machine-dependent; and `%ac`/`%fc`:
/// whether the previous connection is gone yet is a race (`tests/log_counters.rs` covers
/// them).
const MASKED: &[&str] = &[
    "cp", "Xcp", "fp", "sp", "bp", "dport", "Th", "Ti", "TR", "Tq", "Tw", "Tc", "Tr", "Ta", "Tt",
    "Td", "Tu", "t", "T", "Ts", "tr", "trl", "ms", "pid", "ac", "fc",
];

/// Masks the values of [`MASKED`] keys. Dates hold a space (`+0000`): a word without `=`
/// belongs to the field before it.
fn mask(line: &str) -> String {
    let mut out = Vec::new();
    let mut masking = false;
    for w in line.split(' ') {
        match w.split_once('=') {
            Some((k, _)) if !k.is_empty() && k.bytes().all(|c| c.is_ascii_alphanumeric()) => {
                masking = MASKED.contains(&k);
                out.push(if masking {
                    format!("{k}=*")
                } else {
                    w.to_string()
                });
            }
            _ if masking => {}
            _ => out.push(w.to_string()),
        }
    }
    out.join(" ")
}

/// Waits (bounded) until stdout holds `n` lines; returns them.
fn wait_lines(p: &Proxy, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let out = p.stdout();
        let lines: Vec<String> = out
            .lines()
            .filter(|l| l.starts_with("ci=") || l.starts_with("TCP "))
            .map(str::to_string)
            .collect();
        if lines.len() >= n {
            return lines;
        }
        if std::time::Instant::now() >= deadline {
            p.fail(&format!("expected {n} log lines"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn http_lines(flavor: Flavor) -> Vec<String> {
    let app = Backend::http_with("app", |_| Reply::new(200, "hello"));
    let slow = Backend::http_with("slow", |_| {
        Reply::new(200, "late").delay(Duration::from_secs(3))
    });
    let p = ProxyBuilder::new(flavor, HTTP)
        .var("format", HTTP_FORMAT)
        .var("app", app.addr_str())
        .var("slow", slow.addr_str())
        .label(&format!("log_format-{}", flavor.name()))
        .start();
    let mut c = Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&format!("{e}")));
    // Two requests on one connection (the second with a query string and characters 2.6
    // encodes), then one per connection.
    for req in [
        "GET /a HTTP/1.1\r\nhost: h|x{y}z#\r\nx-a: v \"q\" \\ ] #\r\n\r\n",
        "GET /b/c?x=1&y HTTP/1.1\r\nhost: test\r\n\r\n",
    ] {
        c.send(req);
        if c.read_responses(1, WAIT).is_empty() {
            p.fail("no response");
        }
    }
    drop(c);
    wait_lines(&p, 2);
    let mut n = 2;
    for req in [
        "GET /none HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
        "GET /bad path HTTP/1.1\r\nhost: test\r\n\r\n",
        "GET /slow HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    ] {
        let mut c = Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&format!("{e}")));
        c.send(req);
        c.read_until_close(WAIT);
        n += 1;
        // One at a time: the lines' order and the counters are the requests'.
        wait_lines(&p, n);
    }
    // `unique-id-header`: the server received the ID the log shows.
    let sent = app
        .requests()
        .first()
        .and_then(|m| m.header("x-unique-id").map(str::to_string));
    let lines = wait_lines(&p, n);
    assert!(
        sent.is_some_and(|id| lines[0].contains(&format!(" ID={id} "))),
        "{lines:#?}"
    );
    lines.iter().map(|l| mask(l)).collect()
}

#[test]
fn http_log_format_matches_haproxy() {
    let ours = http_lines(Flavor::Haproxyrs);
    assert_eq!(ours.len(), 5, "{ours:#?}");
    if !crate::support::haproxy::haproxy_available("http_log_format_matches_haproxy") {
        return;
    }
    let theirs = http_lines(Flavor::Haproxy);
    for (o, t) in ours.iter().zip(&theirs) {
        if o != t {
            let diff: Vec<String> = o
                .split(' ')
                .zip(t.split(' '))
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("ours {a} / 2.6 {b}"))
                .collect();
            panic!("lines differ: {diff:#?}\nours: {o}\n2.6:  {t}");
        }
    }
    assert_eq!(ours, theirs);
}

/// The variables a TCP-mode `log-format` accepts.
const TCP_FORMAT: &str = "TCP ci=%ci cp=%cp Xci=%{+X}ci fi=%fi fp=%fp f=%f ft=%ft b=%b \
s=%s si=%si sp=%sp bi=%bi bp=%bp Xbi=%{+X}bi H=%H B=%B U=%U ts=%ts tsc=%tsc Th=%Th Tw=%Tw \
Tc=%Tc Tt=%Tt Td=%Td t=%t T=%T Ts=%Ts ms=%ms pid=%pid ac=%ac fc=%fc bc=%bc sc=%sc rc=%rc \
sq=%sq bq=%bq rt=%rt Xrt=%{+X}rt lc=%lc ID=%ID QID=%{+Q}ID Qb=%{+Q}b Qci=%{+Q}ci \
src=%[src] Qsrc=%{+Q}[src] dport=%[dst_port] fe=%[fe_name]";

const TCP: &str = "\
global
    log stdout format raw local0

defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend fe
    bind {{fe0}}
    log-format \"{{format}}\"
    unique-id-format %{+X}o\\ %ci_%fi_%rt_%b_%s_%[src]
    default_backend be

backend be
    server s1 {{echo}}
";

fn tcp_lines(flavor: Flavor) -> Vec<String> {
    let echo = Backend::echo("echo");
    let p = ProxyBuilder::new(flavor, TCP)
        .var("format", TCP_FORMAT)
        .var("echo", echo.addr_str())
        .label(&format!("log_format-tcp-{}", flavor.name()))
        .start();
    for (i, msg) in ["ping\n", "second message\n"].iter().enumerate() {
        let mut c = Client::try_connect(p.fe(0)).unwrap_or_else(|e| p.fail(&format!("{e}")));
        c.send(msg);
        c.read_bytes(msg.len(), WAIT);
        c.shutdown_write();
        c.read_until_close(WAIT);
        wait_lines(&p, i + 1);
    }
    wait_lines(&p, 2).iter().map(|l| mask(l)).collect()
}

#[test]
fn tcp_log_format_matches_haproxy() {
    let ours = tcp_lines(Flavor::Haproxyrs);
    assert_eq!(ours.len(), 2, "{ours:#?}");
    if !crate::support::haproxy::haproxy_available("tcp_log_format_matches_haproxy") {
        return;
    }
    assert_eq!(ours, tcp_lines(Flavor::Haproxy));
}

/// `option httplog clf`: the Common Log Format line of 2.6, request date in UTC. Masked by
/// position: the date, the client port, its milliseconds, the timers and `%ac %fc` (whether
/// the previous connection is gone yet is a race).
#[test]
fn httplog_clf_matches_haproxy() {
    let cfg = HTTP.replace("log-format \"{{format}}\"", "option httplog clf");
    let run = |flavor: Flavor| -> Vec<String> {
        let app = Backend::http_with("app", |_| Reply::new(200, "hello"));
        let p = ProxyBuilder::new(flavor, &cfg)
            .var("app", app.addr_str())
            .var("slow", app.addr_str())
            .label(&format!("log_format-clf-{}", flavor.name()))
            .start();
        ["/a?q=1", "/none"]
            .iter()
            .map(|path| {
                let req = format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n");
                let line = p.log_line_of(&req, &format!("\"GET {path} HTTP/1.1\""));
                line.split(' ')
                    .enumerate()
                    .map(|(i, w)| match i {
                        3 | 4 | 12 | 13 | 17..=21 | 23 | 24 => "*",
                        _ => w,
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let ours = run(Flavor::Haproxyrs);
    assert!(
        ours[0].starts_with("127.0.0.1 - - * * \"GET /a?q=1 HTTP/1.1\" 200 "),
        "{ours:?}"
    );
    if !crate::support::haproxy::haproxy_available("httplog_clf_matches_haproxy") {
        return;
    }
    assert_eq!(ours, run(Flavor::Haproxy));
}
