//! Runtime behaviour of the real binary in TCP mode: soft stop on SIGUSR1 (listeners
//! close, established sessions finish, then the process exits), hard stop on SIGTERM with
//! sessions still open, and the frontend `maxconn` (connections past the limit wait in
//! the kernel's queue instead of being accepted), `hard-stop-after` bounding a soft stop, and
//! SIGHUP reporting server states without stopping.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::backends::Backend;
use crate::support::proxy::{Flavor, ProxyBuilder};
use crate::support::WAIT;

const CFG: &str = "global\n  nbthread 2\ndefaults\n  mode tcp\n  timeout client 10s\n  timeout server 10s\n  timeout connect 3s\nlisten l\n  bind {{fe0}}\n  maxconn 2\n  server s1 {{echo}}\n";

fn echo_once(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).unwrap();
    let mut b = vec![0u8; msg.len()];
    s.read_exact(&mut b).unwrap();
    assert_eq!(b, msg);
}

fn connect(p: &crate::support::proxy::Proxy) -> TcpStream {
    let s = TcpStream::connect_timeout(&p.fe(0), WAIT).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s
}

#[test]
fn tcp_soft_stop_finishes_sessions_then_exits() {
    let echo = Backend::echo("e");
    let mut p = ProxyBuilder::new(Flavor::Haproxyrs, CFG)
        .var("echo", echo.addr_str())
        .start();
    let mut a = connect(&p);
    echo_once(&mut a, b"before");
    p.signal(libc::SIGUSR1);
    // The listener closes: new connections are refused (bounded wait for the worker).
    let deadline = Instant::now() + WAIT;
    loop {
        match TcpStream::connect_timeout(&p.fe(0), Duration::from_secs(1)) {
            Err(_) => break,
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(_) => panic!("listener still open after SIGUSR1\n{}", p.context()),
        }
    }
    // The established session still works and the process waits for it.
    echo_once(&mut a, b"after");
    assert!(p.try_status().is_none(), "exited with a session open");
    drop(a);
    let st = p
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("no exit after the last session\n{}", p.context()));
    assert!(st.success(), "{st}\n{}", p.context());
}

#[test]
fn tcp_hard_stop_with_open_sessions() {
    let echo = Backend::echo("e");
    let mut p = ProxyBuilder::new(Flavor::Haproxyrs, CFG)
        .var("echo", echo.addr_str())
        .start();
    let mut a = connect(&p);
    echo_once(&mut a, b"x");
    p.signal(libc::SIGTERM);
    let st = p
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("no exit on SIGTERM\n{}", p.context()));
    assert!(st.success(), "{st}");
    let mut b = [0u8; 1];
    assert_eq!(a.read(&mut b).unwrap_or(0), 0, "session closed by the stop");
}

#[test]
fn tcp_hard_stop_after_bounds_a_soft_stop() {
    let echo = Backend::echo("e");
    let cfg = CFG.replace("  nbthread 2\n", "  nbthread 2\n  hard-stop-after 300ms\n");
    let mut p = ProxyBuilder::new(Flavor::Haproxyrs, &cfg)
        .var("echo", echo.addr_str())
        .start();
    let mut a = connect(&p);
    echo_once(&mut a, b"x");
    p.signal(libc::SIGUSR1);
    // The session stays open, yet the process ends once `hard-stop-after` has passed.
    let st = p
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("no exit after hard-stop-after\n{}", p.context()));
    assert!(st.success(), "{st}\n{}", p.context());
    let mut b = [0u8; 1];
    assert_eq!(
        a.read(&mut b).unwrap_or(0),
        0,
        "session closed by the hard stop"
    );
}

#[test]
fn tcp_sighup_reports_servers_and_keeps_running() {
    let echo = Backend::echo("e");
    let mut p = ProxyBuilder::new(Flavor::Haproxyrs, CFG)
        .var("echo", echo.addr_str())
        .start();
    // A served exchange shows the workers run, so the signal handlers are in place.
    let mut a = connect(&p);
    echo_once(&mut a, b"ready");
    p.signal(libc::SIGHUP);
    assert!(
        p.wait_output("SIGHUP: Server l/s1 is UP", WAIT),
        "no server state line after SIGHUP\n{}",
        p.context()
    );
    assert!(
        p.try_status().is_none(),
        "SIGHUP ended the process\n{}",
        p.context()
    );
    let mut a = connect(&p);
    echo_once(&mut a, b"still serving");
}

#[test]
fn tcp_frontend_maxconn_defers_accept() {
    let echo = Backend::echo("e");
    let p = ProxyBuilder::new(Flavor::Haproxyrs, CFG)
        .var("echo", echo.addr_str())
        .start();
    let mut a = connect(&p);
    let mut b = connect(&p);
    echo_once(&mut a, b"1");
    echo_once(&mut b, b"2");
    // The third connection is not accepted while two are open: its bytes stay unread.
    let mut c = connect(&p);
    c.write_all(b"3").unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert!(
        c.read(&mut buf).is_err(),
        "third connection served past maxconn 2"
    );
    assert_eq!(echo.connection_count(), 2, "{}", p.context());
    drop(a);
    c.set_read_timeout(Some(WAIT)).unwrap();
    c.read_exact(&mut buf).expect("served once a slot freed");
    assert_eq!(&buf, b"3");
}

/// `use_backend %[...]` in TCP mode: the rendered name picks the backend; a name that is
/// no backend leaves the choice to `default_backend`, as in HAProxy.
#[test]
fn tcp_dynamic_use_backend() {
    let first = Backend::banner("first", b"first\n");
    let second = Backend::banner("second", b"second\n");
    let cfg = |rule: &str| {
        format!(
            "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 3s\nfrontend f\n  bind {{{{fe0}}}}\n  use_backend {rule}\n  default_backend first\nbackend first\n  server s {}\nbackend second\n  server s {}\n",
            first.addr_str(),
            second.addr_str()
        )
    };
    for (rule, want) in [
        ("%[str(sec),concat(ond)]", "second\n"),
        ("%[str(nope)]", "first\n"),
    ] {
        let p = ProxyBuilder::new(Flavor::Haproxyrs, &cfg(rule)).start();
        let mut s = connect(&p);
        let mut got = vec![0u8; want.len()];
        s.read_exact(&mut got)
            .unwrap_or_else(|e| panic!("{rule}: {e}\n{}", p.context()));
        assert_eq!(
            String::from_utf8_lossy(&got),
            want,
            "{rule}\n{}",
            p.context()
        );
    }
}

/// `chroot`, `user` and `group` apply once the listeners are bound, before any session
/// (as root only: dropping privileges needs them).
#[test]
fn tcp_drops_privileges_after_binding() {
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root; privileges cannot be tested otherwise"
        );
        eprintln!("SKIPPED: tcp_drops_privileges_after_binding: not running as root");
        return;
    }
    let echo = Backend::echo("e");
    let cfg = CFG.replace(
        "  nbthread 2\n",
        "  nbthread 2\n  chroot {{dir}}\n  user nobody\n  group nogroup\n",
    );
    let p = ProxyBuilder::new(Flavor::Haproxyrs, &cfg)
        .var("echo", echo.addr_str())
        .start();
    let mut a = connect(&p);
    echo_once(&mut a, b"served after the drop");
    let pid = p.pid().expect("pid");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_owned)
    };
    assert_eq!(
        field("Uid:").as_deref(),
        Some("65534"),
        "{status}\n{}",
        p.context()
    );
    assert_eq!(
        field("Gid:").as_deref(),
        Some("65534"),
        "{status}\n{}",
        p.context()
    );
    let root = std::fs::read_link(format!("/proc/{pid}/root")).unwrap();
    assert_ne!(
        root,
        std::path::Path::new("/"),
        "not chrooted\n{}",
        p.context()
    );
}
