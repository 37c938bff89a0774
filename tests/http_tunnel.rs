//! HTTP tunnels (after a WebSocket `101` or a `CONNECT` `200`) through the real binary: both
//! peers sending 8 MiB at once without reading (a half-duplex copy deadlocks there), a
//! client half-close carried across, a server close ending an upgraded connection but not a
//! `CONNECT` tunnel, `timeout tunnel` ending an idle tunnel, and the log line of each
//! (`%U %B %ts %ST %r`), compared with haproxy 2.6's.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;

use crate::support::backends::pattern;
use crate::support::proxy::{Flavor, Proxy, ProxyBuilder};
use crate::support::WAIT;

const CFG: &str = "\
global
    log stdout format raw local0

defaults
    mode http
    log global
    log-format \"%U %B %ts %ST %r\"
    timeout connect 2s
    timeout client {{tclient}}
    timeout server {{tserver}}
{{tunnel}}
frontend fe
    bind {{fe0}}
    default_backend be

backend be
    server s1 {{app}}
";

const UPGRADE_REQ: &str = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const UPGRADE_RESP: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
const CONNECT_REQ: &str = "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n";
const CONNECT_RESP: &str = "HTTP/1.1 200 Connection established\r\n\r\n";

/// A one-connection server: reads a request head, answers `head`, then runs `then` on the
/// socket; what `then` returns comes back through the channel.
fn upstream(
    head: &'static str,
    then: impl FnOnce(&mut TcpStream) -> Vec<u8> + Send + 'static,
) -> (SocketAddr, mpsc::Receiver<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.set_write_timeout(Some(WAIT)).unwrap();
        let mut req = Vec::new();
        let mut b = [0u8; 1];
        // Byte by byte: nothing past the head is taken from the tunnel.
        while !req.ends_with(b"\r\n\r\n") {
            match s.read(&mut b) {
                Ok(1) => req.push(b[0]),
                _ => return,
            }
        }
        if s.write_all(head.as_bytes()).is_err() {
            return;
        }
        let _ = tx.send(then(&mut s));
    });
    (addr, rx)
}

fn start(flavor: Flavor, app: SocketAddr, t: &[(&str, &str)]) -> Proxy {
    let get = |k: &str, d: &str| {
        t.iter()
            .find(|(n, _)| *n == k)
            .map_or(d.to_string(), |(_, v)| v.to_string())
    };
    ProxyBuilder::new(flavor, CFG)
        .var("app", app)
        .var("tclient", get("client", "10s"))
        .var("tserver", get("server", "10s"))
        .var("tunnel", get("tunnel", ""))
        .label(&format!("http_tunnel-{}", flavor.name()))
        .start()
}

/// Connects, sends `req` and reads the response head; returns the socket and the bytes that
/// came after the head.
fn open(p: &Proxy, req: &str) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect_timeout(&p.fe(0), WAIT).expect("connect to proxy");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_write_timeout(Some(WAIT)).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            return (s, got.split_off(end + 4));
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => p.fail(&format!(
                "no response head: {:?}",
                String::from_utf8_lossy(&got)
            )),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads until EOF (a reset counts as the end too); `None` if neither came within WAIT.
fn read_to_end(s: &mut TcpStream, got: &mut Vec<u8>) -> Option<()> {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None
            }
            Err(_) => return Some(()),
        }
    }
}

/// 8 MiB of the shared test pattern, shifted by `salt` so the two directions differ.
fn payload(salt: u8) -> Vec<u8> {
    (0..8u64 << 20)
        .map(|i| pattern(i).wrapping_add(salt))
        .collect()
}

/// Writes all of `data`, then reads exactly as much back; `Err` says which step failed.
fn write_then_read(s: &mut TcpStream, data: &[u8], mut got: Vec<u8>) -> Result<Vec<u8>, String> {
    s.write_all(data)
        .map_err(|e| format!("write stalled or failed: {e}"))?;
    let mut buf = vec![0u8; 65536];
    while got.len() < data.len() {
        match s.read(&mut buf) {
            Ok(0) => return Err(format!("EOF after {} bytes", got.len())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read after {} bytes: {e}", got.len())),
        }
    }
    Ok(got)
}

/// Both ends of an upgraded connection write 8 MiB before reading anything: every byte
/// must arrive both ways. A relay that blocks writing one way while reading neither
/// leaves both peers stuck with full buffers (the writes then time out after WAIT).
#[test]
fn websocket_peers_sending_8_mib_at_once_do_not_deadlock() {
    let (app, from_app) = upstream(UPGRADE_RESP, |s| {
        let r = write_then_read(s, &payload(1), Vec::new());
        let _ = s.shutdown(Shutdown::Write);
        match r {
            Ok(got) if got == payload(2) => b"ok".to_vec(),
            Ok(got) => format!("server got {} bytes, not the client's", got.len()).into_bytes(),
            Err(e) => format!("server: {e}").into_bytes(),
        }
    });
    let p = start(Flavor::Haproxyrs, app, &[]);
    let (mut c, early) = open(&p, UPGRADE_REQ);
    let got = write_then_read(&mut c, &payload(2), early)
        .unwrap_or_else(|e| p.fail(&format!("client: {e}")));
    assert!(
        got == payload(1),
        "client got other bytes than the server's"
    );
    let server = from_app
        .recv_timeout(WAIT)
        .unwrap_or_else(|_| p.fail("the server never finished"));
    assert_eq!(String::from_utf8_lossy(&server), "ok", "{}", p.context());
}

/// What one scenario showed: what the client and the server received, and the log line.
#[derive(Debug, PartialEq)]
struct Seen {
    client: String,
    server: String,
    log: String,
}

/// Runs one tunnel scenario against `flavor`: `client` acts after the response head (with
/// the bytes that came with it) and returns what it received.
fn scenario(
    flavor: Flavor,
    req: &str,
    resp: &'static str,
    timeouts: &[(&str, &str)],
    server: impl FnOnce(&mut TcpStream) -> Vec<u8> + Send + 'static,
    client: impl FnOnce(&mut TcpStream, Vec<u8>) -> Vec<u8>,
) -> Seen {
    let (app, from_app) = upstream(resp, server);
    let p = start(flavor, app, timeouts);
    let (mut c, early) = open(&p, req);
    let client = client(&mut c, early);
    let server = from_app
        .recv_timeout(WAIT)
        .unwrap_or_else(|_| p.fail("the server side never finished"));
    let line = req.split("\r\n").next().unwrap_or_default();
    if !p.wait_output(line, WAIT) {
        p.fail("no log line");
    }
    let log = p
        .stdout()
        .lines()
        .find(|l| l.contains(line))
        .unwrap_or_default()
        .to_string();
    Seen {
        client: String::from_utf8_lossy(&client).into_owned(),
        server: String::from_utf8_lossy(&server).into_owned(),
        log,
    }
}

/// Runs `run` against haproxyrs, checks `expect` on it, then (when installed) requires the
/// same from haproxy 2.6.
fn against_haproxy(name: &str, run: impl Fn(Flavor) -> Seen, expect: impl Fn(&Seen)) {
    let ours = run(Flavor::Haproxyrs);
    expect(&ours);
    if !crate::support::haproxy::haproxy_available(name) {
        return;
    }
    assert_eq!(
        ours,
        run(Flavor::Haproxy),
        "haproxyrs (left) vs haproxy 2.6"
    );
}

/// The server reads until EOF, then answers and closes; the client sends, half-closes and
/// reads to the end.
fn client_fin(req: &str, resp: &'static str, flavor: Flavor) -> Seen {
    scenario(
        flavor,
        req,
        resp,
        &[],
        |s| {
            let mut got = Vec::new();
            let done = read_to_end(s, &mut got);
            if done.is_some() {
                let _ = s.write_all(b"after-fin");
            }
            got
        },
        |c, mut got| {
            c.write_all(b"client-data").unwrap();
            c.shutdown(Shutdown::Write).unwrap();
            read_to_end(c, &mut got).expect("no EOF for the client");
            got
        },
    )
}

/// A client's FIN reaches the server as a FIN while the server → client direction keeps
/// flowing (WebSocket and CONNECT alike); the log counts the tunnel's bytes both ways.
#[test]
fn a_client_half_close_is_carried_across() {
    for (name, req, resp) in [
        ("tunnel_client_fin_ws", UPGRADE_REQ, UPGRADE_RESP),
        ("tunnel_client_fin_connect", CONNECT_REQ, CONNECT_RESP),
    ] {
        against_haproxy(
            name,
            |f| client_fin(req, resp, f),
            |s| {
                assert_eq!(s.server, "client-data", "{name}");
                assert_eq!(s.client, "after-fin", "{name}");
                assert!(s.log.contains(" -- "), "{name}: {}", s.log);
            },
        );
    }
}

/// The server sends, closes its side, then reads what still comes; the client reads to
/// EOF, then sends more.
fn server_fin(req: &str, resp: &'static str, flavor: Flavor) -> Seen {
    scenario(
        flavor,
        req,
        resp,
        &[],
        |s| {
            s.write_all(b"server-data").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            let _ = read_to_end(s, &mut got);
            got
        },
        |c, mut got| {
            read_to_end(c, &mut got).expect("no EOF for the client");
            let _ = c.write_all(b"late");
            let _ = c.shutdown(Shutdown::Write);
            got
        },
    )
}

/// A server's FIN ends an upgraded connection (2.6 closes both sides: the client's later
/// bytes are not forwarded), but only half-closes a CONNECT tunnel.
#[test]
fn a_server_close_ends_an_upgrade_but_half_closes_a_connect() {
    against_haproxy(
        "tunnel_server_fin_ws",
        |f| server_fin(UPGRADE_REQ, UPGRADE_RESP, f),
        |s| {
            assert_eq!(s.client, "server-data");
            assert_eq!(s.server, "", "bytes forwarded after the server closed");
        },
    );
    against_haproxy(
        "tunnel_server_fin_connect",
        |f| server_fin(CONNECT_REQ, CONNECT_RESP, f),
        |s| {
            assert_eq!(s.client, "server-data");
            assert_eq!(s.server, "late");
        },
    );
}

/// Neither side sends: `timeout tunnel` (shorter than the client and server timeouts, and
/// than the test's wait) closes the tunnel, logged `cD`.
#[test]
fn timeout_tunnel_ends_an_idle_tunnel() {
    let run = |f: Flavor| {
        scenario(
            f,
            UPGRADE_REQ,
            UPGRADE_RESP,
            &[
                ("client", "60s"),
                ("server", "60s"),
                ("tunnel", "    timeout tunnel 300ms\n"),
            ],
            |s| {
                let mut got = Vec::new();
                match read_to_end(s, &mut got) {
                    Some(()) => got,
                    None => b"still open".to_vec(),
                }
            },
            |c, mut got| match read_to_end(c, &mut got) {
                Some(()) => got,
                None => b"still open".to_vec(),
            },
        )
    };
    against_haproxy("tunnel_timeout", run, |s| {
        assert_eq!(s.client, "", "the idle tunnel was not closed");
        assert!(s.log.contains(" cD "), "{}", s.log);
    });
}
