//! TCP mode through the real binary: data integrity of large transfers both ways,
//! half-close propagation, connect failure → retry → redispatch to the next server,
//! per-server `maxconn` with queueing and `timeout queue`, SNI routing with a real TLS
//! ClientHello, PROXY protocol headers byte-exact (compared with HAProxy when installed),
//! `accept-proxy`, `tcp-request connection reject`, and the `option tcplog` line.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::support::backends::{pattern, Backend};
use crate::support::haproxy::haproxy_available;
use crate::support::proxy::{reserve_port, Flavor, Proxy, ProxyBuilder};
use crate::support::WAIT;

const DEFAULTS: &str = "global\n  nbthread 1\ndefaults\n  mode tcp\n  timeout client 10s\n  timeout server 10s\n  timeout connect 3s\n";

fn start(flavor: Flavor, body: &str, vars: &[(&str, String)]) -> Proxy {
    let mut b = ProxyBuilder::new(flavor, &format!("{DEFAULTS}{body}"))
        .label(&format!("tcp-{}", flavor.name()));
    for (k, v) in vars {
        b = b.var(k, v);
    }
    b.start()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, WAIT).expect("connect to proxy");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_write_timeout(Some(WAIT)).unwrap();
    s
}

/// FNV-1a, enough to compare two byte streams.
fn fnv(h: &mut u64, data: &[u8]) {
    for &b in data {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

#[test]
fn tcp_large_transfer_both_ways_is_intact() {
    let echo = Backend::echo("echo");
    let p = start(
        Flavor::Haproxyrs,
        "listen l\n  bind {{fe0}}\n  server s1 {{echo}}\n",
        &[("echo", echo.addr_str())],
    );
    const N: u64 = 32 << 20;
    let s = connect(p.fe(0));
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        let mut buf = vec![0u8; 65536];
        let mut sent = 0u64;
        while sent < N {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = pattern(sent + i as u64).wrapping_add((sent >> 16) as u8);
            }
            fnv(&mut h, &buf);
            w.write_all(&buf).expect("write");
            sent += buf.len() as u64;
        }
        w.shutdown(Shutdown::Write).unwrap();
        h
    });
    let mut r = s;
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut got = 0u64;
    let mut buf = vec![0u8; 65536];
    loop {
        let n = r
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("read after {got}: {e}\n{}", p.context()));
        if n == 0 {
            break;
        }
        fnv(&mut h, &buf[..n]);
        got += n as u64;
    }
    let sent_hash = writer.join().unwrap();
    assert_eq!(got, N, "byte count\n{}", p.context());
    assert_eq!(h, sent_hash, "content hash");
}

#[test]
fn tcp_download_from_server_is_intact() {
    const N: u64 = 24 << 20;
    let src = Backend::source("src", N);
    let p = start(
        Flavor::Haproxyrs,
        "listen l\n  bind {{fe0}}\n  server s1 {{src}}\n",
        &[("src", src.addr_str())],
    );
    let mut s = connect(p.fe(0));
    let mut buf = vec![0u8; 65536];
    let mut off = 0u64;
    loop {
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        for (i, &b) in buf[..n].iter().enumerate() {
            assert_eq!(
                b,
                pattern(off + i as u64),
                "byte {} differs",
                off + i as u64
            );
        }
        off += n as u64;
    }
    assert_eq!(off, N, "{}", p.context());
}

#[test]
fn tcp_half_close_propagates_and_other_direction_keeps_flowing() {
    let echo = Backend::echo("echo");
    let p = start(
        Flavor::Haproxyrs,
        "listen l\n  bind {{fe0}}\n  server s1 {{echo}}\n",
        &[("echo", echo.addr_str())],
    );
    let mut s = connect(p.fe(0));
    s.write_all(b"first part,").unwrap();
    s.write_all(b" second part").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    // The server sees our FIN while its replies still reach us, then closes.
    assert!(
        echo.wait_until(WAIT, |c| c.len() == 1 && c[0].closed),
        "server never saw the half-close\n{}",
        p.context()
    );
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"first part, second part");
}

#[test]
fn tcp_connect_failure_retries_then_redispatches() {
    let dead = reserve_port();
    let echo = Backend::echo("echo");
    let p = start(
        Flavor::Haproxyrs,
        "listen l\n  bind {{fe0}}\n  retries 2\n  option redispatch\n  timeout connect 200ms\n  server dead 127.0.0.1:{{dead}}\n  server s2 {{echo}}\n  log stdout format raw local0\n  option tcplog\n",
        &[("dead", dead.to_string()), ("echo", echo.addr_str())],
    );
    // Round-robin picks `dead` first; as in 2.6 (checked: `+1` in its tcplog line), a
    // non-hashing algorithm with another active server redispatches at the first retry.
    let mut s = connect(p.fe(0));
    s.write_all(b"ping").unwrap();
    let mut b = [0u8; 4];
    s.read_exact(&mut b)
        .unwrap_or_else(|e| panic!("no answer after redispatch: {e}\n{}", p.context()));
    assert_eq!(&b, b"ping");
    drop(s);
    assert!(p.wait_output(" l/s2 ", WAIT), "{}", p.context());
    let out = p.stdout();
    assert!(
        out.contains("/+1 "),
        "retries logged with the redispatch mark:\n{out}"
    );
}

#[test]
fn tcp_maxconn_queue_and_timeout_queue() {
    let echo = Backend::banner("b", b"hi");
    let p = start(
        Flavor::Haproxyrs,
        "listen l\n  bind {{fe0}}\n  timeout queue 300ms\n  server s1 {{b}} maxconn 1\n  log stdout format raw local0\n  option tcplog\n",
        &[("b", echo.addr_str())],
    );
    let mut first = connect(p.fe(0));
    let mut b = [0u8; 2];
    first.read_exact(&mut b).unwrap();
    // The second waits in the queue and gives up after `timeout queue`.
    let t0 = Instant::now();
    let mut second = connect(p.fe(0));
    let mut buf = [0u8; 2];
    let n = second.read(&mut buf).unwrap_or(0);
    assert_eq!(
        n, 0,
        "queued connection must be closed without reaching the server"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(250),
        "closed before timeout queue"
    );
    assert_eq!(echo.connection_count(), 1, "{}", p.context());
    assert!(p.wait_output(" sQ ", WAIT), "{}", p.context());
    // A queued connection is served as soon as the slot frees.
    let mut third = connect(p.fe(0));
    std::thread::sleep(Duration::from_millis(50));
    drop(first);
    third
        .read_exact(&mut b)
        .expect("dequeued connection served");
    assert_eq!(&b, b"hi");
}

/// A TLS 1.2 ClientHello record carrying `sni`.
fn client_hello(sni: &str) -> Vec<u8> {
    let name = sni.as_bytes();
    let mut ext = Vec::new();
    ext.extend_from_slice(&[0, 0]);
    ext.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 2, 0xc0, 0x2f, 1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[test]
fn tcp_sni_routing_with_real_client_hello() {
    let a = Backend::record("a");
    let b = Backend::record("b");
    let p = start(
        Flavor::Haproxyrs,
        "frontend f\n  bind {{fe0}}\n  tcp-request inspect-delay 5s\n  tcp-request content accept if { req.ssl_hello_type 1 }\n  use_backend ba if { req.ssl_sni -i a.example.com }\n  default_backend bb\nbackend ba\n  server a {{a}}\nbackend bb\n  server b {{b}}\n",
        &[("a", a.addr_str()), ("b", b.addr_str())],
    );
    for (sni, be) in [("A.example.com", &a), ("other.example.org", &b)] {
        let hello = client_hello(sni);
        let mut s = connect(p.fe(0));
        // Sent in two pieces: the rule must wait for the whole record.
        s.write_all(&hello[..20]).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        s.write_all(&hello[20..]).unwrap();
        assert!(
            be.wait_until(WAIT, |c| c.iter().any(|r| r.received == hello)),
            "{sni}: ClientHello did not reach backend {}\n{}",
            be.name,
            p.context()
        );
    }
    assert_eq!(a.connection_count(), 1);
    assert_eq!(b.connection_count(), 1);
}

/// What a `send-proxy`/`send-proxy-v2` server receives for one connection from `client`.
fn proxy_header_seen(flavor: Flavor, v2: bool) -> (Vec<u8>, SocketAddr, SocketAddr) {
    let rec = Backend::record("r");
    let opt = if v2 { "send-proxy-v2" } else { "send-proxy" };
    let p = start(
        flavor,
        &format!("listen l\n  bind {{{{fe0}}}}\n  server s1 {{{{r}}}} {opt}\n"),
        &[("r", rec.addr_str())],
    );
    let mut s = connect(p.fe(0));
    s.write_all(b"DATA").unwrap();
    let (src, dst) = (s.local_addr().unwrap(), s.peer_addr().unwrap());
    assert!(
        rec.wait_until(WAIT, |c| c.iter().any(|r| r.received.ends_with(b"DATA"))),
        "{}",
        p.context()
    );
    let got = rec.received()[0].clone();
    (got[..got.len() - 4].to_vec(), src, dst)
}

#[test]
fn tcp_send_proxy_v1_and_v2_byte_exact() {
    let (v1, src, dst) = proxy_header_seen(Flavor::Haproxyrs, false);
    let want = format!(
        "PROXY TCP4 {} {} {} {}\r\n",
        src.ip(),
        dst.ip(),
        src.port(),
        dst.port()
    );
    assert_eq!(String::from_utf8_lossy(&v1), want);
    let (v2, src, dst) = proxy_header_seen(Flavor::Haproxyrs, true);
    let mut want = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    for a in [src, dst] {
        if let SocketAddr::V4(a) = a {
            want.extend_from_slice(&a.ip().octets());
        }
    }
    want.extend_from_slice(&src.port().to_be_bytes());
    want.extend_from_slice(&dst.port().to_be_bytes());
    assert_eq!(v2, want);
    if haproxy_available("tcp_send_proxy_v1_and_v2_byte_exact") {
        // Same shape from HAProxy (addresses differ per connection, lengths do not).
        let (h1, s, d) = proxy_header_seen(Flavor::Haproxy, false);
        let w = format!(
            "PROXY TCP4 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        );
        assert_eq!(String::from_utf8_lossy(&h1), w);
        let (h2, _, _) = proxy_header_seen(Flavor::Haproxy, true);
        assert_eq!(
            h2[..16],
            v2[..16],
            "v2 header prefix differs from HAProxy's"
        );
        assert_eq!(
            h2.len(),
            v2.len(),
            "v2 header length differs from HAProxy's"
        );
    }
}

#[test]
fn tcp_accept_proxy_rewrites_the_client_address() {
    let rec = Backend::record("r");
    let p = start(
        Flavor::Haproxyrs,
        "listen l\n  bind {{fe0}} accept-proxy\n  server s1 {{r}} send-proxy\n",
        &[("r", rec.addr_str())],
    );
    let mut s = connect(p.fe(0));
    s.write_all(b"PROXY TCP4 192.0.2.7 198.51.100.1 4242 443\r\nhello")
        .unwrap();
    assert!(
        rec.wait_until(WAIT, |c| c.iter().any(|r| r.received.ends_with(b"hello"))),
        "{}",
        p.context()
    );
    assert_eq!(
        rec.received()[0],
        b"PROXY TCP4 192.0.2.7 198.51.100.1 4242 443\r\nhello".to_vec()
    );
}

#[test]
fn tcp_request_connection_reject_by_source() {
    let echo = Backend::echo("e");
    let p = start(
        Flavor::Haproxyrs,
        "frontend f\n  bind {{fe0}}\n  tcp-request connection reject if { src 127.0.0.1 }\n  default_backend b\nbackend b\n  server s {{e}}\n",
        &[("e", echo.addr_str())],
    );
    let mut s = connect(p.fe(0));
    let _ = s.write_all(b"x");
    let mut b = [0u8; 1];
    assert_eq!(s.read(&mut b).unwrap_or(0), 0, "rejected connection closes");
    assert_eq!(echo.connection_count(), 0);
}

#[test]
fn tcp_tcplog_line_has_haproxy_shape() {
    let echo = Backend::echo("e");
    let p = start(
        Flavor::Haproxyrs,
        "listen lg\n  bind {{fe0}}\n  log stdout format raw local0\n  option tcplog\n  server s1 {{e}}\n",
        &[("e", echo.addr_str())],
    );
    let mut s = connect(p.fe(0));
    s.write_all(b"hello").unwrap();
    let mut b = [0u8; 5];
    s.read_exact(&mut b).unwrap();
    let port = s.local_addr().unwrap().port();
    drop(s);
    assert!(p.wait_output(" lg lg/s1 ", WAIT), "{}", p.context());
    let out = p.stdout();
    let line = out.lines().find(|l| l.contains(" lg lg/s1 ")).unwrap();
    // 127.0.0.1:PORT [25/Nov/2026:12:45:38.099] lg lg/s1 0/0/5 5 -- 1/1/0/0/0 0/0
    let prefix = format!("127.0.0.1:{port} [");
    assert!(line.starts_with(&prefix), "{line}");
    let rest = line.split("] ").nth(1).unwrap();
    let f: Vec<&str> = rest.split(' ').collect();
    assert_eq!(f.len(), 7, "{line}");
    assert_eq!((f[0], f[1]), ("lg", "lg/s1"));
    assert_eq!(f[2].split('/').count(), 3, "{line}");
    assert_eq!(f[3], "5", "bytes to the client: {line}");
    assert_eq!(f[4], "--", "{line}");
    assert_eq!(f[6], "0/0", "{line}");
}

#[test]
fn tcp_custom_log_format_renders_samples_and_vars() {
    let echo = Backend::echo("e");
    let p = start(
        Flavor::Haproxyrs,
        "listen lf\n  bind {{fe0}}\n  log stdout format raw local0\n  log-format \"CUSTOM %[src] %ci %b/%s %[dst_port] %ts\"\n  server s1 {{e}}\n",
        &[("e", echo.addr_str())],
    );
    let mut s = connect(p.fe(0));
    s.write_all(b"x").unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).unwrap();
    let port = p.fe(0).port();
    drop(s);
    let want = format!("CUSTOM 127.0.0.1 127.0.0.1 lf/s1 {port} --");
    assert!(p.wait_output(&want, WAIT), "want {want}\n{}", p.context());
}
