//! Balancing in TCP mode through the real binary: the server sequence of each
//! deterministic algorithm (`roundrobin`, `static-rr`, `first`, `source`, consistent
//! hashing) over many connections, compared with HAProxy 2.6 on the same config when it
//! is installed; `random` against the weights (chi-square); `leastconn` under held
//! connections; backups only when every active server is unusable.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};

use crate::support::backends::Backend;
use crate::support::haproxy::haproxy_available;
use crate::support::proxy::{Flavor, ProxyBuilder};
use crate::support::WAIT;

const BANNERS: [&[u8]; 6] = [b"s1\n", b"s2\n", b"s3\n", b"s4\n", b"s5\n", b"s6\n"];

/// Banner backends `s1..sN`: each says its name first.
fn backends(n: usize) -> Vec<Backend> {
    (0..n)
        .map(|i| Backend::banner(&format!("s{}", i + 1), BANNERS[i]))
        .collect()
}

fn start(flavor: Flavor, cfg: &str, bes: &[Backend]) -> crate::support::proxy::Proxy {
    let mut b = ProxyBuilder::new(flavor, cfg).label(&format!("bal-{}", flavor.name()));
    for (i, be) in bes.iter().enumerate() {
        b = b.var(&format!("s{}", i + 1), be.addr_str());
    }
    b.start()
}

/// Opens a connection (from `src` when given) and returns the server index that
/// answered, keeping the stream open when asked.
fn pick(fe: SocketAddr, src: Option<&str>) -> (usize, TcpStream) {
    let s = match src {
        Some(ip) => {
            let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                .expect("socket");
            let a: SocketAddr = format!("{ip}:0").parse().unwrap();
            sock.bind(&a.into()).expect("bind source address");
            sock.connect_timeout(&fe.into(), WAIT).expect("connect");
            TcpStream::from(sock)
        }
        None => TcpStream::connect_timeout(&fe, WAIT).expect("connect"),
    };
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 3];
    let mut s2 = s.try_clone().unwrap();
    s2.read_exact(&mut buf)
        .unwrap_or_else(|e| panic!("no banner through the proxy: {e}"));
    let idx = BANNERS
        .iter()
        .position(|b| **b == buf)
        .expect("known banner");
    (idx, s)
}

/// The server indices of `n` sequential connections (each closed before the next).
fn sequence(
    flavor: Flavor,
    cfg: &str,
    servers: usize,
    n: usize,
    srcs: Option<&[String]>,
) -> Vec<usize> {
    let bes = backends(servers);
    let p = start(flavor, cfg, &bes);
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let src = srcs.map(|s| s[k % s.len()].as_str());
        let (i, s) = pick(p.fe(0), src);
        drop(s);
        out.push(i);
        // The next choice must not race the previous connection's slot release
        // (leastconn/first): wait until the backend saw the close.
        let be = &bes[i];
        assert!(
            be.wait_until(WAIT, |c| c.iter().all(|r| r.closed)),
            "backend did not see the close\n{}",
            p.context()
        );
    }
    out
}

fn cfg(balance: &str, servers: &str, extra: &str) -> String {
    format!(
        "global\n  nbthread 1\ndefaults\n  mode tcp\n  timeout client 10s\n  timeout server 10s\n  timeout connect 5s\nlisten l\n  bind {{{{fe0}}}}\n  balance {balance}\n{extra}{servers}"
    )
}

fn weighted(ws: &[u32]) -> String {
    ws.iter()
        .enumerate()
        .map(|(i, w)| format!("  server s{n} {{{{s{n}}}}} weight {w}\n", n = i + 1))
        .collect()
}

fn counts(seq: &[usize], n: usize) -> Vec<usize> {
    (0..n)
        .map(|i| seq.iter().filter(|&&s| s == i).count())
        .collect()
}

/// The haproxyrs sequence; compared with HAProxy's when installed.
fn check_same(
    name: &str,
    cfg: &str,
    servers: usize,
    n: usize,
    srcs: Option<&[String]>,
) -> Vec<usize> {
    let ours = sequence(Flavor::Haproxyrs, cfg, servers, n, srcs);
    if haproxy_available(name) {
        let theirs = sequence(Flavor::Haproxy, cfg, servers, n, srcs);
        let first_diff = ours.iter().zip(&theirs).position(|(a, b)| a != b);
        assert_eq!(
            first_diff,
            None,
            "{name}: sequences differ at {first_diff:?}\nhaproxyrs: {:?}\nhaproxy:   {:?}",
            &ours[..ours.len().min(40)],
            &theirs[..theirs.len().min(40)]
        );
    }
    ours
}

#[test]
fn balance_roundrobin_sequence_matches_haproxy() {
    let c = cfg("roundrobin", &weighted(&[1, 2, 3]), "");
    let seq = check_same(
        "balance_roundrobin_sequence_matches_haproxy",
        &c,
        3,
        600,
        None,
    );
    assert_eq!(counts(&seq, 3), vec![100, 200, 300]);
}

#[test]
fn balance_static_rr_sequence_matches_haproxy() {
    let c = cfg("static-rr", &weighted(&[3, 1, 2]), "");
    let seq = check_same(
        "balance_static_rr_sequence_matches_haproxy",
        &c,
        3,
        60,
        None,
    );
    // HAProxy's table for 3:1:2 is "a a c a b c".
    assert_eq!(&seq[..6], &[0, 0, 2, 0, 1, 2]);
}

#[test]
fn balance_first_fills_lowest_id() {
    let c = cfg("first", &weighted(&[1, 5, 1]), "");
    let seq = check_same("balance_first_fills_lowest_id", &c, 3, 20, None);
    assert!(seq.iter().all(|&s| s == 0), "{seq:?}");
}

fn sources() -> Vec<String> {
    (1..=40)
        .map(|i| format!("127.0.{}.{}", i * 3 % 200, i * 7 % 250 + 1))
        .collect()
}

#[test]
fn balance_source_map_based_matches_haproxy() {
    let c = cfg("source", &weighted(&[1, 2, 3]), "");
    let srcs = sources();
    let seq = check_same(
        "balance_source_map_based_matches_haproxy",
        &c,
        3,
        80,
        Some(&srcs),
    );
    // Same address, same server.
    for k in 0..40 {
        assert_eq!(seq[k], seq[k + 40]);
    }
}

/// Consistent hashing: HAProxy's exact server for each address, and stable per address.
#[test]
fn balance_source_consistent_matches_haproxy() {
    let c = cfg("source", &weighted(&[1, 2, 3]), "  hash-type consistent\n");
    let srcs = sources();
    let seq = check_same(
        "balance_source_consistent_matches_haproxy",
        &c,
        3,
        80,
        Some(&srcs),
    );
    for k in 0..40 {
        assert_eq!(seq[k], seq[k + 40], "same address, same server: {seq:?}");
    }
    assert!(counts(&seq, 3).iter().all(|&n| n > 0), "{seq:?}");
}

#[test]
fn balance_random_follows_weights_chi_square() {
    let c = cfg("random", &weighted(&[1, 2, 3]), "");
    let n = 3000;
    let seq = sequence(Flavor::Haproxyrs, &c, 3, n, None);
    let got = counts(&seq, 3);
    let chi2: f64 = got
        .iter()
        .zip([1.0, 2.0, 3.0])
        .map(|(&o, w)| {
            let e = n as f64 * w / 6.0;
            (o as f64 - e).powi(2) / e
        })
        .sum();
    // Two degrees of freedom: p >= 0.001 <=> chi2 <= 13.816.
    assert!(chi2 <= 13.816, "chi2 {chi2:.2} for counts {got:?}");
}

#[test]
fn balance_leastconn_spreads_held_connections_by_weight() {
    let c = cfg("leastconn", &weighted(&[1, 2, 3]), "");
    let bes = backends(3);
    let p = start(Flavor::Haproxyrs, &c, &bes);
    let mut held = Vec::new();
    let mut per = [0usize; 3];
    for _ in 0..24 {
        let (i, s) = pick(p.fe(0), None);
        per[i] += 1;
        held.push(s);
        let load: Vec<f64> = per
            .iter()
            .zip([1.0, 2.0, 3.0])
            .map(|(&n, w)| n as f64 / w)
            .collect();
        let (lo, hi) = load
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &l| (lo.min(l), hi.max(l)));
        assert!(hi - lo <= 1.0, "uneven load {per:?}\n{}", p.context());
    }
    assert_eq!(per, [4, 8, 12]);
    // Closing two of s1's connections makes s1 the least loaded again.
    let s1: Vec<usize> = (0..held.len()).collect();
    let _ = s1;
    drop(held);
    assert!(bes
        .iter()
        .all(|b| b.wait_until(WAIT, |c| c.iter().all(|r| r.closed))));
    let (i, _s) = pick(p.fe(0), None);
    assert_eq!(i, 0, "all idle again: leastconn starts over with s1");
}

#[test]
fn balance_backups_only_when_actives_unusable() {
    let servers =
        "  server s1 {{s1}} disabled\n  server s2 {{s2}} backup\n  server s3 {{s3}} backup\n";
    let c = cfg("roundrobin", servers, "");
    let seq = check_same("balance_backups_only_when_actives_unusable", &c, 3, 6, None);
    assert_eq!(seq, vec![1; 6], "only the first backup without allbackups");
    let c = cfg("roundrobin", servers, "  option allbackups\n");
    let seq = check_same("balance_backups_allbackups", &c, 3, 6, None);
    assert_eq!(seq, vec![1, 2, 1, 2, 1, 2]);
    let servers = "  server s1 {{s1}}\n  server s2 {{s2}} backup\n  server s3 {{s3}} backup\n";
    let seq = sequence(
        Flavor::Haproxyrs,
        &cfg("roundrobin", servers, ""),
        3,
        4,
        None,
    );
    assert_eq!(seq, vec![0; 4], "an active server takes everything");
}
