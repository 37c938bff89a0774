//! Health checks on the real binary: a server that refuses connections is taken out
//! after its checks fail and comes back once it listens again, `option httpchk` with its
//! default and explicit expectations, backup servers taking over, and the transition log
//! lines compared with HAProxy 2.6's. Every wait is on an observable event (a log line)
//! with a deadline; intervals are short (100 ms) only to keep the tests quick.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::backends::{Backend, BodyFraming, Reply};
use crate::support::client::get;
use crate::support::proxy::{reserve_port, Flavor, Proxy, ProxyBuilder};
use crate::support::WAIT;

const HEAD: &str = "global\n  log stdout format raw local0\ndefaults\n  mode http\n  log global\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nfrontend fe\n  bind {{fe0}}\n  default_backend be\n";

fn refused_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], reserve_port()))
}

/// A listener whose accept queue is full and never drained: connects to it hang (their
/// SYNs are dropped), the way to a layer-4 timeout on loopback. Keep the returned
/// connections alive as long as the listener.
fn full_listener() -> (std::net::TcpListener, Vec<std::net::TcpStream>) {
    use std::os::fd::AsRawFd;
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    // SAFETY: listen(2) on a socket we own, to shrink its backlog.
    assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
    let addr = l.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..8 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(c) => held.push(c),
            Err(_) => return (l, held),
        }
    }
    panic!("the accept queue of {addr} never filled");
}

/// Waits for a log line on stdout (where both programs log; the stderr copy of a line
/// can come first).
fn wait_line(p: &Proxy, needle: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    while !p.stdout().contains(needle) {
        if std::time::Instant::now() >= deadline {
            p.fail(&format!("no log line with {needle:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Bodies of `n` requests, each on a new connection.
fn bodies(p: &Proxy, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let m = get(p.fe(0), "/");
            format!("{} {}", m.status(), m.body_str().trim_end())
        })
        .collect()
}

#[test]
fn refused_server_goes_down_then_up_when_it_listens_again() {
    let b = Backend::http("b");
    let down = refused_addr();
    let cfg = format!("{HEAD}backend be\n  balance roundrobin\n  server s1 {{{{a}}}} check inter 100 rise 2 fall 2\n  server s2 {{{{b}}}} check inter 100\n");
    let p = ProxyBuilder::new(Flavor::Haproxyrs, &cfg)
        .var("a", down)
        .var("b", b.addr_str())
        .start();
    wait_line(
        &p,
        "Server be/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\"",
    );
    // Every request goes to the server left, none fails on the dead one.
    assert_eq!(bodies(&p, 6), vec!["200 b"; 6], "{}", p.context());

    let a = Backend::http_with_at("a", down, |_| Reply::new(200, "a\n"));
    wait_line(&p, "Server be/s1 is UP, reason: Layer4 check passed");
    let got = bodies(&p, 4);
    assert!(
        got.contains(&"200 a".to_string()) && got.contains(&"200 b".to_string()),
        "{got:?}\n{}",
        p.context()
    );
    drop(a);
}

#[test]
fn httpchk_follows_the_status_and_503_without_servers() {
    let status = Arc::new(AtomicU16::new(500));
    let st = Arc::clone(&status);
    let srv = Backend::http_with("s", move |_| Reply::new(st.load(Ordering::SeqCst), "s\n"));
    let cfg = format!("{HEAD}backend be\n  option httpchk GET /health\n  server s1 {{{{s}}}} check inter 100 rise 2 fall 2\n");
    let p = ProxyBuilder::new(Flavor::Haproxyrs, &cfg)
        .var("s", srv.addr_str())
        .start();
    wait_line(&p, "Server be/s1 is DOWN, reason: Layer7 wrong status, code: 500, info: \"Internal Server Error\"");
    wait_line(&p, "backend be has no server available!");
    assert_eq!(get(p.fe(0), "/").status(), 503, "{}", p.context());
    // The check's request is 2.6's: method and URI from `option httpchk`, HTTP/1.0.
    let checks = srv.requests();
    assert!(
        checks.iter().any(|m| m.start == "GET /health HTTP/1.0"),
        "{:?}",
        checks.iter().map(|m| &m.start).collect::<Vec<_>>()
    );

    status.store(200, Ordering::SeqCst);
    wait_line(
        &p,
        "Server be/s1 is UP, reason: Layer7 check passed, code: 200",
    );
    assert_eq!(bodies(&p, 2), vec!["200 s"; 2], "{}", p.context());
}

#[test]
fn http_check_expect_status_and_string() {
    let ok = Backend::http_reply("ok", Reply::new(200, "I am alive\n"));
    let nc = Backend::http_reply("nc", Reply::new(204, ""));
    let cfg = format!(
        "{HEAD}backend be\n  option httpchk\n  http-check expect status 204\n  server s204 {{{{ok}}}} check inter 100\n  server s204b {{{{nc}}}} check inter 100\n\
         backend be2\n  option httpchk\n  http-check expect string alive\n  server alive {{{{ok}}}} check inter 100\n  server dead {{{{nc}}}} check inter 100\n\
         backend be3\n  option httpchk\n  http-check expect ! rstring ^I\n  server neg {{{{ok}}}} check inter 100\n"
    );
    let p = ProxyBuilder::new(Flavor::Haproxyrs, &cfg)
        .var("ok", ok.addr_str())
        .var("nc", nc.addr_str())
        .start();
    wait_line(
        &p,
        "Server be/s204 is DOWN, reason: Layer7 wrong status, code: 200, info: \"OK\"",
    );
    wait_line(&p, "Server be2/dead is DOWN, reason: Layer7 invalid response, info: \"HTTP content check did not match\"");
    wait_line(
        &p,
        "Server be3/neg is DOWN, reason: Layer7 invalid response",
    );
    // The frontend's backend keeps the server answering 204: the one left.
    for _ in 0..3 {
        assert_eq!(get(p.fe(0), "/").status(), 204, "{}", p.context());
    }
    let out = p.stdout();
    for up in ["be/s204b is DOWN", "be2/alive is DOWN"] {
        assert!(!out.contains(up), "{up}\n{}", p.context());
    }
}

#[test]
fn backup_takes_over_when_the_active_server_is_down() {
    let bk = Backend::http("bk");
    let cfg = format!("{HEAD}backend be\n  server s1 {{{{a}}}} check inter 100 fall 1\n  server b1 {{{{bk}}}} check inter 100 backup\n");
    let p = ProxyBuilder::new(Flavor::Haproxyrs, &cfg)
        .var("a", refused_addr())
        .var("bk", bk.addr_str())
        .start();
    wait_line(&p, "0 active and 1 backup servers left. Running on backup.");
    assert_eq!(bodies(&p, 3), vec!["200 bk"; 3], "{}", p.context());
}

/// `text` with the digits right after the first `marker` replaced by `N`.
fn mask_number_after(text: &str, marker: &str) -> String {
    let Some(at) = text.find(marker).map(|i| i + marker.len()) else {
        return text.to_string();
    };
    let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return text.to_string();
    }
    format!("{}N{}", &text[..at], &text[at + digits..])
}

/// The transition lines of both programs, durations masked, in a stable order.
fn transitions(p: &Proxy, stream: &str) -> Vec<String> {
    let text = if stream == "stdout" {
        p.stdout()
    } else {
        p.stderr()
    };
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| {
            ["Server ", "has no server available", "Health check for"]
                .iter()
                .any(|k| l.contains(k))
        })
        .map(|l| mask_number_after(&mask_number_after(l, "check duration: "), "("))
        .collect();
    lines.sort();
    lines
}

#[test]
fn transition_logs_match_haproxy() {
    crate::require_haproxy!("transition_logs_match_haproxy");
    let s500 = Backend::http_reply("e", Reply::new(500, "x"));
    let s200 = Backend::http_reply("o", Reply::new(200, "fine"));
    let late = refused_addr();
    let mute = Backend::sink("mute");
    let reset = Backend::resetter("reset");
    let (full, _held) = full_listener();
    // "I am alive" in chunks of 3 bytes: the string spans chunk boundaries.
    let chunked = Backend::http_reply(
        "chunked",
        Reply::new(200, "I am alive").framing(BodyFraming::Chunked(3)),
    );
    // One transitioning server per backend: the counts in each line do not depend on
    // which check runs first.
    let cfg = format!(
        "{HEAD}backend be\n  server dead {{{{dead}}}} check inter 100 fall 1\n  server ok {{{{o}}}} check inter 100\n\
         backend be2\n  option httpchk GET /\n  server err {{{{e}}}} check inter 100 fall 1\n  server ok {{{{o}}}} check inter 100\n\
         backend be3\n  option httpchk\n  http-check expect string nope\n  server s {{{{o}}}} check inter 100\n\
         backend be4\n  server t {{{{dead}}}} check inter 100\n  server u {{{{o}}}} check inter 100 backup\n\
         backend be5\n  server a {{{{o}}}} check inter 100\n  server bk {{{{dead}}}} check inter 100 backup\n\
         backend be6\n  option httpchk\n  server late {{{{late}}}} check inter 100 rise 2\n\
         backend be7\n  option log-health-checks\n  server d {{{{dead}}}} check inter 100\n  server a {{{{o}}}} check inter 100\n\
         backend be8\n  server u {{{{dir}}}}/no.sock check inter 100\n  server v {{{{o}}}} check inter 100\n\
         backend be9\n  option httpchk\n  server z {{{{mute}}}} check inter 100\n  server v {{{{o}}}} check inter 100\n\
         backend be10\n  option httpchk\n  server c {{{{reset}}}} check inter 100\n  server v {{{{o}}}} check inter 100\n\
         backend be12\n  option httpchk\n  option log-health-checks\n  http-check expect string alive\n  server ch {{{{chunked}}}} check inter 100\n\
         backend be11\n  timeout connect 150ms\n  timeout check 1s\n  server f {{{{full}}}} check inter 300\n  server v {{{{o}}}} check inter 100\n"
    );
    let run = |flavor| {
        let p = ProxyBuilder::new(flavor, &cfg)
            .var("dead", refused_addr())
            .var("late", late)
            .var("e", s500.addr_str())
            .var("mute", mute.addr_str())
            .var("reset", reset.addr_str())
            .var("full", full.local_addr().unwrap())
            .var("chunked", chunked.addr_str())
            .var("o", s200.addr_str())
            .start();
        for needle in [
            "be/dead is DOWN",
            "be2/err is DOWN",
            "backend be3 has no server available!",
            "be4/t is DOWN",
            "be5/bk is DOWN",
            "backend be6 has no server available!",
            "Server be7/d is DOWN.",
            "Health check for server be7/a succeeded",
            "be8/u is DOWN",
            "be9/z is DOWN",
            "be10/c is DOWN",
            "be11/f is DOWN",
            "Health check for server be12/ch ",
        ] {
            wait_line(&p, needle);
        }
        let up = Backend::http_with_at("late", late, |_| Reply::new(200, ""));
        wait_line(&p, "be6/late is UP");
        drop(up);
        // The stderr copy of the last line, too.
        if !p.wait_output("Server be6/late is UP", WAIT) {
            p.fail("no stderr line");
        }
        (transitions(&p, "stdout"), transitions(&p, "stderr"))
    };
    let theirs = run(Flavor::Haproxy);
    let ours = run(Flavor::Haproxyrs);
    assert_eq!(theirs.0.len(), 17, "{:?}", theirs.0);
    assert_eq!(ours.0, theirs.0, "log lines differ");
    assert_eq!(ours.1, theirs.1, "stderr lines differ");
}

#[test]
fn check_port_and_addr_redirect_the_check() {
    // Traffic goes to `b`; the check goes to `port`, which refuses: the server goes down.
    let b = Backend::http("b");
    let refused = refused_addr();
    let cfg = format!(
        "{HEAD}backend be\n  server s1 {{{{b}}}} check inter 100 fall 1 addr 127.0.0.1 port {}\n",
        refused.port()
    );
    let p = ProxyBuilder::new(Flavor::Haproxyrs, &cfg)
        .var("b", b.addr_str())
        .start();
    wait_line(
        &p,
        "Server be/s1 is DOWN, reason: Layer4 connection problem",
    );
    assert_eq!(get(p.fe(0), "/").status(), 503, "{}", p.context());
}

#[test]
fn tcp_check_rules_match_haproxy() {
    crate::require_haproxy!("tcp_check_rules_match_haproxy");
    let echo = Backend::echo("echo");
    let banner = Backend::banner("banner", b"+OK ready\r\n");
    let mute = Backend::sink("mute");
    let refused = refused_addr();
    let be = |name: &str, server: &str, rules: &str| {
        format!("backend {name}\n  mode tcp\n  option tcp-check\n  option log-health-checks\n  timeout check 200ms\n{rules}  server s {{{{{server}}}}} check inter 100\n")
    };
    let cfg = [
        HEAD.to_string(),
        be("timeout", "echo", "  tcp-check send PING\\r\\n\n  tcp-check expect string +PONG\n"),
        be("echoed", "echo", "  tcp-check comment ping\n  tcp-check send PING\\r\\n\n  tcp-check expect string PING\n"),
        be("banner", "banner", "  tcp-check expect string +OK\n  tcp-check send QUIT\\r\\n\n  tcp-check expect string QUIT\n  tcp-check expect binary 51554954\n"),
        be("connect", "echo", &format!("  tcp-check connect port {}\n  tcp-check send x\n", refused.port())),
        be("unwanted", "echo", "  tcp-check send-binary 2b4f4b0d0a\n  tcp-check expect ! rstring ^\\+OK\n"),
        be("connectonly", "echo", "  tcp-check connect\n"),
        be("mute", "mute", "  tcp-check send PING\\r\\n\n  tcp-check expect binary 2b504f4e47\n"),
        be("initial", "refused", "  tcp-check send PING\\r\\n\n"),
        // A send starts a new response: PING is not seen again.
        be("resend", "echo", "  tcp-check send PING\\r\\n\n  tcp-check expect string PING\n  tcp-check send X\\r\\n\n  tcp-check expect ! string PING\n"),
        "backend be\n  server s {{echo}}\n".to_string(),
    ]
    .concat();
    let run = |flavor| {
        let p = ProxyBuilder::new(flavor, &cfg)
            .var("echo", echo.addr_str())
            .var("banner", banner.addr_str())
            .var("mute", mute.addr_str())
            .var("refused", refused)
            .start();
        for be in [
            "timeout",
            "echoed",
            "banner",
            "connect",
            "unwanted",
            "connectonly",
            "mute",
            "initial",
            "resend",
        ] {
            wait_line(&p, &format!("Health check for server {be}/s "));
        }
        transitions(&p, "stdout")
    };
    let theirs = run(Flavor::Haproxy);
    let ours = run(Flavor::Haproxyrs);
    assert_eq!(ours, theirs, "log lines differ");
}

#[test]
fn quiet_mode_shows_nothing_once_serving() {
    crate::require_haproxy!("quiet_mode_shows_nothing_once_serving");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    udp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let cfg = format!(
        "global\n  log {}:{} local0\n{}backend be\n  server s1 {{{{a}}}} check inter 100 fall 1\n",
        "127.0.0.1",
        udp.local_addr().unwrap().port(),
        &HEAD["global\n".len()..]
    );
    // (on stdout, on stderr) once the DOWN line reached the UDP target.
    let shown = |flavor, args: &[&str]| {
        let quiet = args == ["-q"];
        let mut b = ProxyBuilder::new(flavor, &cfg).var("a", refused_addr());
        for a in args {
            b = b.arg(a);
        }
        let mut p = b.start();
        let deadline = std::time::Instant::now() + WAIT;
        let mut buf = [0u8; 2048];
        loop {
            if let Ok(n) = udp.recv(&mut buf) {
                if String::from_utf8_lossy(&buf[..n]).contains("Server be/s1 is DOWN") {
                    break;
                }
            }
            if std::time::Instant::now() >= deadline {
                p.fail("no DOWN line on the UDP log target");
            }
        }
        let needle = "Server be/s1 is DOWN";
        if !quiet {
            // haproxyrs writes stdout from a logger thread: the line may come after the
            // datagram. In quiet mode there is nothing to wait for.
            wait_line(&p, needle);
        }
        // Once the process is gone, its output is all there.
        p.kill();
        (p.stdout().contains(needle), p.stderr().contains(needle))
    };
    for args in [&["-q"][..], &[], &["-q", "-V"]] {
        let theirs = shown(Flavor::Haproxy, args);
        let ours = shown(Flavor::Haproxyrs, args);
        assert_eq!(ours, theirs, "{args:?}");
        assert_eq!(ours, (args != ["-q"], args != ["-q"]), "{args:?}");
    }
}

/// HTTP rules see the servers' live state: the usual failover `use_backend spare if {
/// nbsrv(main) lt 1 }`, and `srv_is_up()` in a header, once the check took `s1` down.
#[test]
fn http_rules_see_live_server_state() {
    const CFG: &str = "global\n  log stdout format raw local0\ndefaults\n  mode http\n  log global\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nfrontend fe\n  bind {{fe0}}\n  http-request set-header x-up %[srv_is_up(main/s1)]\n  use_backend spare if { nbsrv(main) lt 1 }\n  default_backend main\nbackend main\n  server s1 {{a}} check inter 100 fall 1\nbackend spare\n  server s2 {{b}}\n";
    let run = |flavor: Flavor| {
        let spare = Backend::http("spare");
        let p = ProxyBuilder::new(flavor, CFG)
            .var("a", refused_addr())
            .var("b", spare.addr_str())
            .start();
        wait_line(&p, "Server main/s1 is DOWN");
        let got = bodies(&p, 2);
        let up: Vec<String> = spare
            .requests()
            .iter()
            .map(|m| m.header("x-up").unwrap_or_default().to_string())
            .collect();
        (got, up)
    };
    let ours = run(Flavor::Haproxyrs);
    assert_eq!(
        ours,
        (vec!["200 spare".to_string(); 2], vec!["0".to_string(); 2])
    );
    if crate::support::haproxy::haproxy_available("http_rules_see_live_server_state") {
        assert_eq!(ours, run(Flavor::Haproxy));
    }
}
