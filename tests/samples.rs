//! Every config in `haproxy-samples/` is run as a user would run it and checked for what it
//! shows (routing, balancing), not only `-c`. Each sample is copied with its fixed ports
//! swapped for handed-over sockets (`fd@N`), so the tests never race for 8080.
//!
//! Each scenario runs against haproxyrs and, as a reference that proves the test itself,
//! against Debian's haproxy.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support::backends::Backend;
use crate::support::client;
use crate::support::http1::Message;
use crate::support::proxy::{self, Flavor, Proxy, ProxyBuilder};

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../haproxy-samples")
}

fn read_sample(name: &str) -> String {
    let p = samples_dir().join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// A sample rewritten for a test run.
struct Rewritten {
    template: String,
    /// Original bind port → frontend index (`{{feN}}`).
    binds: BTreeMap<u16, usize>,
    /// Server ports not served by the config itself: the test provides `{{ext:PORT}}`.
    external: Vec<u16>,
}

/// `bind <addr>:<port> ...` → `bind {{feN}} ...`; `server <name> <host>:<port> ...` →
/// `{{feN.addr}}` when the port is one of the config's own binds, else `{{ext:PORT}}`.
fn rewrite(text: &str) -> Rewritten {
    fn port_of(addr: &str) -> Option<u16> {
        addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
    }
    let mut binds = BTreeMap::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() >= 2 && w[0] == "bind" {
            if let Some(p) = port_of(w[1]) {
                let n = binds.len();
                binds.entry(p).or_insert(n);
            }
        }
    }
    let mut external = Vec::new();
    let mut out = String::new();
    for line in text.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let w: Vec<&str> = line.split_whitespace().collect();
        let replace_at = match w.first() {
            Some(&"bind") if w.len() >= 2 => Some(1),
            Some(&"server") if w.len() >= 3 => Some(2),
            _ => None,
        };
        let Some(i) = replace_at else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let Some(port) = port_of(w[i]) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let mut words: Vec<String> = w.iter().map(|s| s.to_string()).collect();
        words[i] = match (w[0], binds.get(&port)) {
            ("bind", Some(n)) => format!("{{{{fe{n}}}}}"),
            (_, Some(n)) => format!("{{{{fe{n}.addr}}}}"),
            (_, None) => {
                if !external.contains(&port) {
                    external.push(port);
                }
                format!("{{{{ext:{port}}}}}")
            }
        };
        out.push_str(indent);
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    Rewritten {
        template: out,
        binds,
        external,
    }
}

/// Start `sample` on `flavor`, with `ext` backends for its external server ports.
fn start(flavor: Flavor, sample: &str, ext: &[(u16, &Backend)]) -> (Proxy, Rewritten) {
    let rw = rewrite(&read_sample(sample));
    let mut b = ProxyBuilder::new(flavor, &rw.template).label(sample);
    for port in &rw.external {
        let be = ext
            .iter()
            .find(|(p, _)| p == port)
            .unwrap_or_else(|| panic!("{sample}: no test backend for external port {port}"));
        b = b.var(&format!("ext:{port}"), be.1.addr_str());
    }
    (b.start(), rw)
}

/// GET `path` on the sample's frontend that originally bound `port`; fails with the full
/// context (config, output) when nothing complete comes back.
fn get(p: &Proxy, rw: &Rewritten, port: u16, path: &str, test: &str) -> Message {
    let addr = p.fe(rw.binds[&port]);
    let mut c = match client::Client::try_connect(addr) {
        Ok(c) => c,
        Err(e) => p.fail(&format!("{test}: connect for GET {path}: {e}")),
    };
    c.send(format!(
        "GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
    ));
    match c.read_responses(1, crate::support::WAIT).into_iter().next() {
        Some(m) => m,
        None => p.fail(&format!(
            "{test}: no response to GET {path} (received {:?}, closed={})",
            c.received.text(),
            c.received.closed
        )),
    }
}

/// Bodies of `n` GETs of `path`, asserting each is a 200.
fn bodies(p: &Proxy, rw: &Rewritten, port: u16, path: &str, n: usize, test: &str) -> Vec<String> {
    (0..n)
        .map(|_| {
            let m = get(p, rw, port, path, test);
            if m.status() != 200 {
                p.fail(&format!("{test}: GET {path}: {}", m.start));
            }
            m.body_str()
        })
        .collect()
}

fn assert_alternates(p: &Proxy, bodies: &[String], expected: &[&str], what: &str) {
    let mut seen: Vec<&str> = bodies.iter().map(|s| s.trim_end()).collect();
    for w in bodies.windows(2) {
        if w[0] == w[1] {
            p.fail(&format!(
                "{what}: round-robin repeated a server: {bodies:?}"
            ));
        }
    }
    seen.sort();
    seen.dedup();
    let mut exp = expected.to_vec();
    exp.sort();
    if seen != exp {
        p.fail(&format!(
            "{what}: expected answers from {expected:?}, got {bodies:?}"
        ));
    }
}

fn demo(flavor: Flavor, test: &str) {
    let (p, rw) = start(flavor, "demo.cfg", &[]);
    let rr = bodies(&p, &rw, 8080, "/", 4, test);
    assert_alternates(&p, &rr, &["hello from web1", "hello from web2"], "demo /");
    let api = get(&p, &rw, 8080, "/api/users", test);
    if api.status() != 200 || api.body_str() != "{\"server\":\"api1\"}\n" {
        p.fail(&format!(
            "demo /api/users should be routed to api1: {api:?}"
        ));
    }
    if api.header("content-type") != Some("application/json") {
        p.fail(&format!("demo /api/users content-type: {api:?}"));
    }
    let admin = get(&p, &rw, 8080, "/admin", test);
    if admin.status() != 403 {
        p.fail(&format!("demo /admin should be denied: {}", admin.start));
    }
}

#[test]
fn sample_demo() {
    demo(Flavor::Haproxyrs, "sample_demo");
}

#[test]
fn sample_demo_reference_haproxy() {
    crate::require_haproxy!("sample_demo_reference_haproxy");
    demo(Flavor::Haproxy, "sample_demo_reference_haproxy");
}

fn tutorial(flavor: Flavor, test: &str) {
    let app1 = Backend::http("app1");
    let app2 = Backend::http("app2");
    let (p, rw) = start(flavor, "tutorial.cfg", &[(8081, &app1), (8082, &app2)]);
    // ACL routing by path suffix.
    let m = get(&p, &rw, 80, "/shop/app1", test);
    if m.body_str() != "app1\n" {
        p.fail(&format!("tutorial: /shop/app1 should go to app1: {m:?}"));
    }
    let m = get(&p, &rw, 80, "/x/APP2", test);
    if m.body_str() != "app2\n" {
        p.fail(&format!(
            "tutorial: /x/APP2 (path_end -i) should go to app2: {m:?}"
        ));
    }
    // Everything else: round-robin over both.
    let rr = bodies(&p, &rw, 80, "/", 4, test);
    assert_alternates(&p, &rr, &["app1", "app2"], "tutorial /");
    let paths: Vec<String> = app1
        .requests()
        .iter()
        .map(|r| r.target().to_string())
        .collect();
    if !paths.contains(&"/shop/app1".to_string()) {
        p.fail(&format!(
            "tutorial: app1 never received /shop/app1: {paths:?}"
        ));
    }
}

#[test]
fn sample_tutorial() {
    tutorial(Flavor::Haproxyrs, "sample_tutorial");
}

#[test]
fn sample_tutorial_reference_haproxy() {
    crate::require_haproxy!("sample_tutorial_reference_haproxy");
    tutorial(Flavor::Haproxy, "sample_tutorial_reference_haproxy");
}

fn tcp_passthrough(flavor: Flavor, test: &str) {
    let (p, rw) = start(flavor, "tcp-passthrough.cfg", &[]);
    let rr = bodies(&p, &rw, 9000, "/", 4, test);
    assert_alternates(
        &p,
        &rr,
        &["tcp server s1", "tcp server s2"],
        "tcp-passthrough",
    );
}

#[test]
fn sample_tcp_passthrough() {
    tcp_passthrough(Flavor::Haproxyrs, "sample_tcp_passthrough");
}

#[test]
fn sample_tcp_passthrough_reference_haproxy() {
    crate::require_haproxy!("sample_tcp_passthrough_reference_haproxy");
    tcp_passthrough(Flavor::Haproxy, "sample_tcp_passthrough_reference_haproxy");
}

/// `-c` accepts every sample, as HAProxy does.
#[test]
fn samples_pass_check() {
    let mut names: Vec<String> = std::fs::read_dir(samples_dir())
        .expect("haproxy-samples/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cfg"))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "samples missing: {names:?}");
    for n in names {
        let path = samples_dir().join(&n);
        let out = proxy::run_args(Flavor::Haproxyrs, &["-c", "-f", path.to_str().unwrap()]);
        assert!(
            out.success(),
            "haproxyrs -c rejects {n}:\n{}",
            out.context()
        );
        if crate::support::haproxy::haproxy_path().is_some() {
            let out = proxy::run_args(Flavor::Haproxy, &["-c", "-f", path.to_str().unwrap()]);
            assert!(out.success(), "haproxy -c rejects {n}:\n{}", out.context());
        }
    }
}

/// `-c` rejects a sample with a typo, like HAProxy (exit status 1).
#[test]
fn check_rejects_broken_sample() {
    let broken = read_sample("demo.cfg").replace("default_backend web", "default_backnd web");
    let out = proxy::check(Flavor::Haproxyrs, &broken, &[], &[]);
    assert_eq!(out.status, Some(1), "{}", out.context());
}

#[test]
fn rewrite_swaps_ports_for_handed_over_sockets() {
    let rw = rewrite("listen a\n  bind :8080\n  server s 127.0.0.1:8081 check\n  server t 10.0.0.1:9\nlisten b\n    bind 127.0.0.1:8081\n");
    assert_eq!(
        rw.template,
        "listen a\n  bind {{fe0}}\n  server s {{fe1.addr}} check\n  server t {{ext:9}}\nlisten b\n    bind {{fe1}}\n"
    );
    assert_eq!(rw.external, vec![9]);
}

/// The demo, byte for byte against HAProxy: round-robin answers, the routed API answer and
/// the 403 page of `http-request deny`, on fresh and keep-alive connections.
#[test]
fn sample_demo_matches_haproxy() {
    let rw = rewrite(&read_sample("demo.cfg"));
    let fe = rw.binds[&8080];
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n");
    let mut d = crate::support::diff::Diff::new("sample_demo_matches_haproxy", &rw.template);
    for path in ["/", "/", "/api/users", "/admin", "/"] {
        d = d.conn(crate::support::diff::Conn::send(get(path)).frontend(fe));
    }
    d.conn(
        crate::support::diff::Conn::send(get("/"))
            .frontend(fe)
            .then(crate::support::diff::Step::Responses(1))
            .then_send(get("/api/x")),
    )
    .assert_same();
}
