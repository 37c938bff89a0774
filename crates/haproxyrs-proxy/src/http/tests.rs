//! Session tests on real loopback sockets: an in-process HTTP session (fake [`Engine`] with
//! round-robin picking and no conditions) in front of small recording backends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use haproxyrs_config::ir::sample::{LogFormatExpr, LogFormatPart};
use haproxyrs_config::ir::{self, BackendId};
use haproxyrs_config::span::Span;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::engine::Engine;
use super::session::{serve, HttpProxy};

struct FakeEngine {
    config: Arc<ir::Config>,
    rr: AtomicUsize,
    connects: AtomicUsize,
    logs: Mutex<Vec<String>>,
}

impl Engine for FakeEngine {
    type Conn = TcpStream;
    type Assigned = ();
    fn assign(&self, _be: BackendId) {}
    fn pick(&self, be: BackendId, _k: Option<&[u8]>, persist: Option<usize>) -> Option<usize> {
        let n = self.config.backend(be).servers.len();
        if n == 0 {
            return None;
        }
        Some(persist.unwrap_or_else(|| self.rr.fetch_add(1, Ordering::Relaxed) % n))
    }
    async fn connect(
        &self,
        be: BackendId,
        server: Option<usize>,
        key: Option<&[u8]>,
        persist: Option<usize>,
    ) -> Result<super::Connected<TcpStream>, super::NotConnected> {
        let server = match server {
            Some(s) => s,
            None => self
                .pick(be, key, persist)
                .ok_or_else(|| std::io::Error::other("no server"))?,
        };
        self.connects.fetch_add(1, Ordering::Relaxed);
        let ir::ServerAddr::Inet { ip, port, .. } = self.config.backend(be).servers[server].addr
        else {
            return Err(std::io::Error::other("not inet").into());
        };
        TcpStream::connect(SocketAddr::new(ip, port.unwrap_or(80)))
            .await
            .map(|conn| super::Connected {
                server,
                conn,
                retries: 0,
                redispatched: false,
                queued: std::time::Duration::ZERO,
                queue: [0; 2],
            })
            .map_err(Into::into)
    }
    fn log_enabled(&self, _fe: &ir::Frontend) -> bool {
        true
    }
    fn log(&self, r: &super::log::HttpLogRecord<'_>) {
        let mut s = String::new();
        super::log::render_httplog(r, &mut s);
        self.logs.lock().unwrap().push(s);
    }
}

fn span() -> Span {
    Span::new(Arc::from("test.cfg"), 1, 1)
}

fn server(name: &str, addr: SocketAddr) -> ir::Server {
    ir::Server {
        name: name.into(),
        span: span(),
        addr: ir::ServerAddr::Inet {
            ip: addr.ip(),
            port: Some(addr.port()),
            port_offset: 0,
        },
        weight: 1,
        backup: false,
        disabled: false,
        maxconn: 0,
        maxqueue: 0,
        send_proxy: None,
        check: None,
        cookie: None,
        ssl: false,
        id: 1,
    }
}

fn timeouts() -> ir::Timeouts {
    ir::Timeouts {
        client: Some(Duration::from_secs(5)),
        server: Some(Duration::from_secs(2)),
        connect: Some(Duration::from_secs(2)),
        http_request: Some(Duration::from_millis(500)),
        ..Default::default()
    }
}

fn config(
    servers: Vec<ir::Server>,
    tweak: impl FnOnce(&mut ir::Frontend, &mut ir::Backend),
) -> ir::Config {
    let mut be = ir::Backend {
        name: "be".into(),
        span: span(),
        mode: ir::Mode::Http,
        balance: ir::Balance::RoundRobin,
        hash_type: Default::default(),
        servers,
        timeouts: timeouts(),
        retries: 3,
        http_reuse: ir::HttpReuse::Safe,
        acls: Vec::new(),
        tcp_request_content: Vec::new(),
        http: Default::default(),
        cookie: None,
        health_check: None,
        fullconn: None,
        logs: Vec::new(),
        log_format: Default::default(),
        options: Default::default(),
        stats: None,
        disabled: false,
    };
    let mut fe = ir::Frontend {
        name: "fe".into(),
        span: span(),
        mode: ir::Mode::Http,
        binds: Vec::new(),
        maxconn: 100,
        timeouts: timeouts(),
        acls: Vec::new(),
        tcp_request_connection: Vec::new(),
        tcp_request_content: Vec::new(),
        inspect_delay: None,
        http: Default::default(),
        switching: Vec::new(),
        default_backend: Some(BackendId(0)),
        logs: Vec::new(),
        log_format: Default::default(),
        unique_id_format: None,
        unique_id_header: None,
        options: Default::default(),
        stats: None,
        disabled: false,
    };
    tweak(&mut fe, &mut be);
    ir::Config {
        frontends: vec![fe],
        backends: vec![be],
        ..Default::default()
    }
}

/// A backend answering `200` with its name, recording every byte it receives.
struct Recorder {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<u8>>>,
    conns: Arc<AtomicUsize>,
}

async fn backend(name: &'static str) -> Recorder {
    backend_with(name, false).await
}

/// `close_idle`: the backend closes each connection right after its first response, while
/// advertising keep-alive (a server whose idle timeout is shorter than the proxy's).
async fn backend_with(name: &'static str, close_idle: bool) -> Recorder {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let conns = Arc::new(AtomicUsize::new(0));
    let (r2, c2) = (received.clone(), conns.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            c2.fetch_add(1, Ordering::Relaxed);
            let r = r2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                loop {
                    let n = match s.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&tmp[..n]);
                    r.lock().unwrap().extend_from_slice(&tmp[..n]);
                    // One answer per complete head (bodies in these tests are small and
                    // arrive with their head).
                    while let Some(p) = memchr::memmem::find(&buf, b"\r\n\r\n") {
                        buf.drain(..p + 4);
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Srv: {name}\r\n\r\n{name}",
                            name.len()
                        );
                        if s.write_all(resp.as_bytes()).await.is_err() || close_idle {
                            return;
                        }
                    }
                }
            });
        }
    });
    Recorder {
        addr,
        received,
        conns,
    }
}

/// Start the session server; returns its address and the engine.
async fn proxy(cfg: ir::Config) -> (SocketAddr, Arc<FakeEngine>) {
    let cfg = Arc::new(cfg);
    let eng = Arc::new(FakeEngine {
        config: cfg.clone(),
        rr: AtomicUsize::new(0),
        connects: AtomicUsize::new(0),
        logs: Mutex::new(Vec::new()),
    });
    let hp: Arc<HttpProxy<TcpStream>> = Arc::new(HttpProxy::new(cfg, 0));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let e2 = eng.clone();
    tokio::spawn(async move {
        while let Ok((s, peer)) = l.accept().await {
            let (hp, e) = (hp.clone(), e2.clone());
            tokio::spawn(async move {
                serve(s, peer, addr, std::time::Instant::now(), &hp, &*e).await;
            });
        }
    });
    (addr, eng)
}

/// Send `req`, read until `n_responses` complete responses or close/timeout.
async fn exchange(addr: SocketAddr, req: &[u8], wait: Duration) -> (Vec<u8>, bool) {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(req).await.unwrap();
    let mut out = Vec::new();
    let mut tmp = [0u8; 8192];
    loop {
        match tokio::time::timeout(wait, c.read(&mut tmp)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&tmp[..n]),
            Err(_) => return (out, false),
        }
    }
}

const E400: &[u8] = b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";

#[tokio::test]
async fn keep_alive_alternates_round_robin() {
    let (a, b) = (backend("A").await, backend("B").await);
    let (addr, eng) = proxy(config(
        vec![server("a", a.addr), server("b", b.addr)],
        |_, _| {},
    ))
    .await;
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(4);
    let (out, closed) = exchange(addr, &req, Duration::from_millis(300)).await;
    let text = String::from_utf8_lossy(&out);
    let bodies: Vec<&str> = text.split("\r\n\r\n").skip(1).map(|s| &s[..1]).collect();
    assert_eq!(bodies, ["A", "B", "A", "B"], "{text}");
    assert!(!closed, "keep-alive connection closed");
    assert!(text.contains("x-srv: A"), "names lower-cased: {text}");
    // Server connections reused: one each.
    assert_eq!(eng.connects.load(Ordering::Relaxed), 2);
    assert_eq!(
        String::from_utf8_lossy(&a.received.lock().unwrap()),
        "GET / HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\nhost: x\r\n\r\n"
    );
    let logs = eng.logs.lock().unwrap();
    assert_eq!(logs.len(), 4);
    assert!(
        logs[0].contains(" fe be/a ") && logs[0].ends_with("\"GET / HTTP/1.1\""),
        "{}",
        logs[0]
    );
}

#[tokio::test]
async fn bad_requests_get_2_6_answer_and_nothing_forwarded() {
    let a = backend("A").await;
    let (addr, _) = proxy(config(vec![server("a", a.addr)], |_, _| {})).await;
    for bad in [
        &b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhelloX"[..],
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        b"GET /admin#.png HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\x00.evil\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
    ] {
        let (out, closed) = exchange(addr, bad, Duration::from_secs(2)).await;
        assert_eq!(out, E400, "{:?}", String::from_utf8_lossy(bad));
        assert!(closed);
    }
    let (out, closed) = exchange(
        addr,
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(out.starts_with(b"HTTP/1.1 422 Unprocessable Content\r\n"));
    assert!(closed);
    assert!(a.received.lock().unwrap().is_empty());
    assert_eq!(a.conns.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn cl_with_chunked_is_reframed_and_closed() {
    let a = backend("A").await;
    let (addr, _) = proxy(config(vec![server("a", a.addr)], |_, _| {})).await;
    let (out, closed) = exchange(
        addr,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n005;x=y\r\nhello\r\n0\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out),
        "HTTP/1.1 200 OK\r\ncontent-length: 1\r\nx-srv: A\r\nconnection: close\r\n\r\nA"
    );
    assert!(closed);
    assert_eq!(
        String::from_utf8_lossy(&a.received.lock().unwrap()),
        "POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
}

#[tokio::test]
async fn http10_client_and_pipelining() {
    let a = backend("A").await;
    let (addr, _) = proxy(config(vec![server("a", a.addr)], |_, _| {})).await;
    let (out, closed) = exchange(addr, b"GET / HTTP/1.0\r\n\r\n", Duration::from_secs(2)).await;
    assert_eq!(
        String::from_utf8_lossy(&out),
        "HTTP/1.1 200 OK\r\ncontent-length: 1\r\nx-srv: A\r\nconnection: close\r\n\r\nA"
    );
    assert!(closed);
    assert_eq!(
        String::from_utf8_lossy(&a.received.lock().unwrap()),
        "GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n"
    );
    // A pipeline whose second request is garbage: first answered, then 400 and close.
    let (out, closed) = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nInvalid\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    let mut want = b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\nx-srv: A\r\n\r\nA".to_vec();
    want.extend_from_slice(E400);
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&want)
    );
    assert!(closed);
}

#[tokio::test]
async fn slow_head_gets_408_and_no_server_gets_503() {
    let (addr, _) = proxy(config(Vec::new(), |_, _| {})).await;
    let (out, closed) = exchange(addr, b"GET / HTTP/1.1\r\nHost", Duration::from_secs(3)).await;
    assert!(
        out.starts_with(b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(closed);
    let (out, _) = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert!(
        out.starts_with(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[tokio::test]
async fn request_rules_and_forwardfor() {
    use haproxyrs_config::ir::http::*;
    let a = backend("A").await;
    let lit = |s: &str| LogFormatExpr {
        parts: vec![LogFormatPart::Literal(s.into())],
    };
    let (addr, _) = proxy(config(vec![server("a", a.addr)], |fe, _| {
        fe.options.forwardfor = Some(ir::ForwardFor {
            header: "X-Forwarded-For".into(),
            except: None,
            if_none: false,
        });
        fe.http.request = vec![
            HttpRequestRule {
                action: HttpRequestAction::Header(HeaderOp::Set {
                    name: "X-Set".into(),
                    value: lit("v"),
                }),
                cond: None,
                span: span(),
            },
            HttpRequestRule {
                action: HttpRequestAction::Header(HeaderOp::Del {
                    name: "X-Del".into(),
                }),
                cond: None,
                span: span(),
            },
            HttpRequestRule {
                action: HttpRequestAction::SetPath(lit("/new")),
                cond: None,
                span: span(),
            },
        ];
    }))
    .await;
    let (out, _) = exchange(
        addr,
        b"GET /old?q=1 HTTP/1.1\r\nHost: a\r\nX-Del: 1\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert!(out.starts_with(b"HTTP/1.1 200 OK"));
    assert_eq!(
        String::from_utf8_lossy(&a.received.lock().unwrap()),
        "GET /new?q=1 HTTP/1.1\r\nhost: a\r\nx-set: v\r\nx-forwarded-for: 127.0.0.1\r\n\r\n"
    );
}

#[tokio::test]
async fn deny_and_redirect_replies() {
    use haproxyrs_config::ir::http::*;
    let (addr, _) = proxy(config(Vec::new(), |fe, _| {
        fe.http.request = vec![HttpRequestRule {
            action: HttpRequestAction::Redirect(Redirect {
                kind: RedirectKind::Prefix,
                value: LogFormatExpr {
                    parts: vec![LogFormatPart::Literal("/p".into())],
                },
                code: 302,
                drop_query: false,
                append_slash: false,
                set_cookie: None,
                clear_cookie: None,
            }),
            cond: None,
            span: span(),
        }];
    }))
    .await;
    let (out, closed) = exchange(
        addr,
        b"GET /rp HTTP/1.1\r\nHost: a\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /p/rp\r\ncache-control: no-cache\r\n\r\n"
    );
    assert!(!closed);
}

#[tokio::test]
async fn reused_connection_closed_by_server_is_retried() {
    let a = backend_with("A", true).await;
    let (addr, eng) = proxy(config(vec![server("a", a.addr)], |_, _| {})).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    let mut tmp = [0u8; 4096];
    for _ in 0..3 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .unwrap();
        let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut tmp))
            .await
            .unwrap()
            .unwrap();
        assert!(
            tmp[..n].starts_with(b"HTTP/1.1 200 OK"),
            "{:?}",
            String::from_utf8_lossy(&tmp[..n])
        );
        // Let the server's close reach the proxy's idle connection.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(eng.connects.load(Ordering::Relaxed), 3);
}

/// Lower a config text through the real config crate.
fn load_cfg(text: &str) -> ir::Config {
    use haproxyrs_config::env::MemoryEnv;
    let env = MemoryEnv::new().with_file("/t/haproxy.cfg", text.as_bytes().to_vec());
    let loaded = haproxyrs_config::load(&["/t/haproxy.cfg".to_string()], &env);
    loaded
        .config
        .unwrap_or_else(|| panic!("config refused: {:?}", loaded.diagnostics.items))
}

/// The tutorial (`/work/shared/tutorial/haproxy.cfg` with test ports): `/` alternates, also on
/// one keep-alive connection; `/app1` always 8081's app, `/APP2` always 8082's.
#[tokio::test]
async fn tutorial_routing_with_acls() {
    let (a1, a2) = (backend("app1").await, backend("app2").await);
    let text = include_str!("../../../../haproxy-samples/tutorial.cfg")
        .replace("*:80", "fd@3")
        .replace("127.0.0.1:8081", &a1.addr.to_string())
        .replace("127.0.0.1:8082", &a2.addr.to_string());
    let cfg = load_cfg(&text);
    let fe = cfg.frontends.iter().position(|f| f.name == "http").unwrap();
    assert_eq!(fe, 0);
    let (addr, _) = proxy(cfg).await;
    let body = |out: &[u8]| {
        let t = String::from_utf8_lossy(out).into_owned();
        t.split("\r\n\r\n")
            .skip(1)
            .map(|s| s.chars().take(4).collect::<String>())
            .collect::<Vec<_>>()
    };
    let (out, _) = exchange(
        addr,
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(4),
        Duration::from_millis(300),
    )
    .await;
    let b = body(&out);
    assert_eq!(b.len(), 4, "{b:?}");
    assert!(
        b[0] != b[1] && b[0] == b[2] && b[1] == b[3],
        "no alternation: {b:?}"
    );
    let (out, _) = exchange(
        addr,
        &b"GET /app1 HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(body(&out), ["app1", "app1", "app1"]);
    let (out, _) = exchange(
        addr,
        &b"GET /x/APP2 HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(body(&out), ["app2", "app2", "app2"]);
}

/// A backend that answers the first head with `reply`, then echoes every byte (a WebSocket
/// or CONNECT peer after the switch), and records what it got.
async fn raw_backend(reply: &'static [u8], echo: bool) -> Recorder {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let conns = Arc::new(AtomicUsize::new(0));
    let (r2, c2) = (received.clone(), conns.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            c2.fetch_add(1, Ordering::Relaxed);
            let r = r2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let mut answered = false;
                loop {
                    let n = match s.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    r.lock().unwrap().extend_from_slice(&tmp[..n]);
                    if answered {
                        if echo && s.write_all(&tmp[..n]).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(p) = memchr::memmem::find(&buf, b"\r\n\r\n") {
                        answered = true;
                        if s.write_all(reply).await.is_err() {
                            return;
                        }
                        let rest = buf[p + 4..].to_vec();
                        if echo && !rest.is_empty() && s.write_all(&rest).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    Recorder {
        addr,
        received,
        conns,
    }
}

fn cfg_with(be_addr: SocketAddr, extra_fe: &str, extra_be: &str) -> ir::Config {
    load_cfg(&format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 1s\n  timeout connect 1s\n  timeout http-request 1s\n  timeout tunnel 2s\nfrontend fe\n  bind fd@3\n{extra_fe}  default_backend be\nbackend be\n{extra_be}  server s1 {be_addr}\n"
    ))
}

#[tokio::test]
async fn websocket_upgrade_becomes_a_tunnel() {
    let b = raw_backend(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        true,
    )
    .await;
    let (addr, _) = proxy(cfg_with(b.addr, "", "")).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    let mut tmp = [0u8; 1024];
    while memchr::memmem::find(&got, b"\r\n\r\n").is_none() {
        let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut tmp))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        got.extend_from_slice(&tmp[..n]);
    }
    assert_eq!(
        String::from_utf8_lossy(&got),
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n"
    );
    c.write_all(b"\x81\x05hello").await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut tmp))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&tmp[..n], b"\x81\x05hello");
    assert!(
        String::from_utf8_lossy(&b.received.lock().unwrap()).starts_with(
            "GET /ws HTTP/1.1\r\nhost: a\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: k\r\n\r\n"
        )
    );
}

#[tokio::test]
async fn connect_becomes_a_tunnel() {
    let b = raw_backend(b"HTTP/1.1 200 Connection established\r\n\r\n", true).await;
    let (addr, _) = proxy(cfg_with(b.addr, "", "")).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\nearly")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut tmp = [0u8; 1024];
    while got.len() < "HTTP/1.1 200 Connection established\r\n\r\nearly".len() {
        let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut tmp))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&tmp[..n]);
    }
    assert_eq!(
        String::from_utf8_lossy(&got),
        "HTTP/1.1 200 Connection established\r\n\r\nearly"
    );
}

#[tokio::test]
async fn expect_continue_relayed_and_buffer_request_answers_itself() {
    let b = raw_backend(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        false,
    )
    .await;
    let (addr, _) = proxy(cfg_with(b.addr, "", "")).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    let mut tmp = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut tmp))
        .await
        .unwrap()
        .unwrap();
    assert!(
        tmp[..n].starts_with(b"HTTP/1.1 100 Continue\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&tmp[..n])
    );
    c.write_all(b"hello").await.unwrap();
    // With http-buffer-request the proxy answers 100 itself and waits for the body.
    let b2 = backend("B").await;
    let (addr2, _) = proxy(cfg_with(b2.addr, "  option http-buffer-request\n", "")).await;
    let mut c = TcpStream::connect(addr2).await.unwrap();
    c.write_all(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut tmp))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&tmp[..n], b"HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(
        b2.conns.load(Ordering::Relaxed),
        0,
        "connected before the body"
    );
    c.write_all(b"hello").await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut tmp))
        .await
        .unwrap()
        .unwrap();
    assert!(tmp[..n].starts_with(b"HTTP/1.1 200 OK"));
    assert_eq!(
        String::from_utf8_lossy(&b2.received.lock().unwrap()),
        "POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello"
    );
}

#[tokio::test]
async fn connection_modes() {
    // httpclose: both sides closed after the response.
    let a = backend("A").await;
    let (addr, eng) = proxy(cfg_with(a.addr, "  option httpclose\n", "")).await;
    let (out, closed) = exchange(
        addr,
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2),
        Duration::from_secs(2),
    )
    .await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.matches("HTTP/1.1 200").count(), 1, "{text}");
    assert!(closed && text.contains("connection: close"));
    assert!(String::from_utf8_lossy(&a.received.lock().unwrap()).contains("connection: close"));
    // http-server-close: client kept, a new server connection per request.
    let (addr, eng2) = proxy(cfg_with(a.addr, "  option http-server-close\n", "")).await;
    let (out, closed) = exchange(
        addr,
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out)
            .matches("HTTP/1.1 200")
            .count(),
        3
    );
    assert!(!closed);
    assert_eq!(eng2.connects.load(Ordering::Relaxed), 3);
    let _ = eng;
}

#[tokio::test]
async fn http_reuse_shares_idle_connections_between_clients() {
    for (mode, want) in [("never", 3), ("safe", 3), ("always", 1)] {
        let a = backend("A").await;
        let (addr, eng) = proxy(cfg_with(a.addr, "", &format!("  http-reuse {mode}\n"))).await;
        for _ in 0..3 {
            let (out, _) = exchange(
                addr,
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                Duration::from_secs(2),
            )
            .await;
            assert!(out.starts_with(b"HTTP/1.1 200"));
            // The proxy returns the server connection to the pool when the client leaves.
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        assert_eq!(
            eng.connects.load(Ordering::Relaxed),
            want,
            "http-reuse {mode}"
        );
    }
}

#[tokio::test]
async fn server_errors_502_504() {
    let bad = raw_backend(b"garbage\r\n\r\n", false).await;
    let (addr, _) = proxy(cfg_with(bad.addr, "", "")).await;
    let (out, _) = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_millis(500),
    )
    .await;
    assert!(
        out.starts_with(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let silent = raw_backend(b"", false).await;
    let (addr, _) = proxy(cfg_with(silent.addr, "", "")).await;
    let (out, _) = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(3),
    )
    .await;
    assert!(
        out.starts_with(b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[tokio::test]
async fn cookie_insert_persistence_and_captures() {
    let (a, b) = (backend("A").await, backend("B").await);
    let cfg = load_cfg(&format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 1s\n  timeout connect 1s\nfrontend fe\n  bind fd@3\n  capture request header Host len 5\n  capture response header X-Srv len 10\n  option httplog\n  default_backend be\nbackend be\n  cookie SRV insert indirect nocache httponly\n  server s1 {} cookie one\n  server s2 {} cookie two\n",
        a.addr, b.addr
    ));
    let (addr, eng) = proxy(cfg).await;
    let (out, _) = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    let text = String::from_utf8_lossy(&out);
    // Not cacheable (no validator): 2.6 adds no `cache-control: private` then.
    assert!(
        text.contains("set-cookie: SRV=one; path=/; HttpOnly\r\n\r\n"),
        "{text}"
    );
    // The cookie pins the client to s2 whatever round-robin says, and is stripped (indirect).
    for _ in 0..3 {
        let (out, _) = exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nCookie: SRV=two; k=v\r\n\r\n",
            Duration::from_millis(300),
        )
        .await;
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.ends_with("\r\n\r\nB") && !text.contains("set-cookie"),
            "{text}"
        );
    }
    assert!(String::from_utf8_lossy(&b.received.lock().unwrap()).contains("cookie: k=v\r\n"));
    let logs = eng.logs.lock().unwrap();
    assert!(
        logs[0].contains(" {examp} {A} \"GET / HTTP/1.1\""),
        "{}",
        logs[0]
    );
}

#[tokio::test]
async fn errorfile_overrides_builtin_page() {
    let dir = std::env::temp_dir().join(format!("hrs-ef-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("503.http");
    std::fs::write(
        &f,
        "HTTP/1.0 503 Busy\r\nCache-Control: no-cache\r\nContent-Type: text/plain\r\n\r\nbusy\n",
    )
    .unwrap();
    let text = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 1s\n  timeout connect 1s\nfrontend fe\n  bind fd@3\n  default_backend be\nbackend be\n  errorfile 503 {}\n",
        f.display()
    );
    let cfg = {
        use haproxyrs_config::env::MemoryEnv;
        let env = MemoryEnv::new()
            .with_file("/t/haproxy.cfg", text.as_bytes().to_vec())
            .with_file(&f, std::fs::read(&f).unwrap());
        haproxyrs_config::load(&["/t/haproxy.cfg".to_string()], &env)
            .config
            .expect("config")
    };
    let _ = std::fs::remove_dir_all(&dir);
    let (addr, _) = proxy(cfg).await;
    let (out, _) = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out),
        "HTTP/1.0 503 Busy\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\n\r\nbusy\n"
    );
}

#[tokio::test]
async fn h1_case_adjust_restores_spelling_toward_bogus_servers() {
    let a = backend("A").await;
    let cfg = load_cfg(&format!(
        "global\n  h1-case-adjust user-agent User-Agent\n  h1-case-adjust x-srv X-SRV\ndefaults\n  mode http\n  timeout client 5s\n  timeout server 1s\n  timeout connect 1s\nfrontend fe\n  bind fd@3\n  option h1-case-adjust-bogus-client\n  default_backend be\nbackend be\n  option h1-case-adjust-bogus-server\n  server s1 {}\n",
        a.addr
    ));
    let (addr, _) = proxy(cfg).await;
    let (out, _) = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nuser-agent: t\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert!(
        String::from_utf8_lossy(&out).contains("\r\nX-SRV: A\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&a.received.lock().unwrap()),
        "GET / HTTP/1.1\r\nhost: x\r\nUser-Agent: t\r\n\r\n"
    );
}
