//! Invalid configs (issue 3, point 10): each case gives `haproxyrs -c` a broken config and
//! checks the exit code and the lines its ALERTs cite, against expectations written here
//! and, where Debian's haproxy is installed, against live `haproxy -c` on the same text.

use std::collections::BTreeSet;

use crate::support::haproxy::haproxy_path;
use crate::support::proxy::{check, CheckOutput, Flavor};

const T: &str = "defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n";

/// One case: a config (after the 4-line timeouts `defaults` unless `raw`), the exit code
/// and the lines its ALERTs must cite.
struct Case {
    name: &'static str,
    body: &'static str,
    raw: bool,
    exit: i32,
    lines: &'static [u32],
}

const fn case(name: &'static str, body: &'static str, exit: i32, lines: &'static [u32]) -> Case {
    Case {
        name,
        body,
        raw: false,
        exit,
        lines,
    }
}

const CASES: &[Case] = &[
    case("valid", "frontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s 127.0.0.1:80\n", 0, &[]),
    case("no listener", "backend be\n    server s 127.0.0.1:80\n", 2, &[]),
    case("unknown keyword", "frontend fe\n    bind :80\n    frobnicate 1\n", 1, &[7]),
    case("misspelt keyword", "frontend fe\n    bind :80\n    tiemout client 5s\n", 1, &[7]),
    case("unknown option", "backend be\n    option forwardfo\n", 1, &[6]),
    case("bad time", "backend be\n    timeout server 5x\n", 1, &[6]),
    case("bad mode", "backend be\n    mode foo\n", 1, &[6]),
    case("bad balance", "backend be\n    balance leaseconn\n", 1, &[6]),
    case("removed keyword", "frontend fe\n    bind :80\n    reqadd X-Foo:\\ bar\n", 1, &[7]),
    case("removed timeout", "backend be\n    srvtimeout 5s\n", 1, &[6]),
    case("missing default_backend", "frontend fe\n    bind :80\n    default_backend nope\n", 1, &[]),
    case("missing use_backend", "frontend fe\n    bind :80\n    use_backend nope if TRUE\n", 1, &[]),
    case("undeclared ACL", "frontend fe\n    bind :80\n    use_backend be if is_api\nbackend be\n    server s 127.0.0.1:80\n", 1, &[7]),
    case("duplicate proxy", "backend be\n    server s 127.0.0.1:80\nbackend be\n    server s 127.0.0.1:80\n", 1, &[7]),
    case("duplicate server", "backend be\n    server s 127.0.0.1:80\n    server s 127.0.0.1:81\n", 1, &[7]),
    case("http frontend to tcp backend", "frontend fe\n    mode http\n    bind :80\n    default_backend be\nbackend be\n    mode tcp\n    server s 127.0.0.1:80\n", 1, &[]),
    case("bind bad port", "frontend fe\n    bind :92000\n", 1, &[6]),
    case("bind no port", "frontend fe\n    bind 0.0.0.0\n", 1, &[6]),
    case("bind unresolvable", "frontend fe\n    bind nosuchhost.invalid:80\n", 1, &[6]),
    case("server bad port", "backend be\n    server s 127.0.0.1:99999\n", 1, &[6]),
    case("server bad weight", "backend be\n    server s 127.0.0.1:80 weight 300\n", 1, &[6]),
    case("server unknown option", "backend be\n    server s 127.0.0.1:80 chek\n", 1, &[6]),
    case("server unresolvable", "backend be\n    server s1 nosuchhost.invalid:80\n    server s2 127.0.0.1:80\n", 1, &[6]),
    case("server init-addr none", "frontend fe\n    bind :80\n    default_backend be\nbackend be\n    server s1 nosuchhost.invalid:80 init-addr none\n", 0, &[]),
    case("missing certificate", "frontend fe\n    bind :443 ssl crt /nonexistent/cert.pem\n", 1, &[6]),
    case("server duplicate id", "backend b\n    server s 1.2.3.4:80 id 3\n    server t 1.2.3.4:81 id 3\n", 1, &[7]),
    case("proxy duplicate id", "frontend f\n    bind :80\n    id 5\n    default_backend b\nbackend b\n    id 5\n    server s 1.2.3.4:80\n", 1, &[10]),
    case("timeout extra argument", "backend b\n    timeout server 5s 6s\n", 1, &[6]),
    case("server rise 0", "backend b\n    server s 1.2.3.4:80 rise 0\n", 1, &[6]),
    case("bind port range", "frontend f\n    bind :80-79\n", 1, &[6]),
    case("bad log facility", "frontend fe\n    bind :80\n    log 127.0.0.1 local9\n", 1, &[7]),
    case("not allowed in defaults", "frontend fe\n    bind :80\ndefaults\n    bind :81\n", 1, &[8]),
    case("server in frontend", "frontend fe\n    bind :80\n    server s 127.0.0.1:80\n", 1, &[7]),
    Case { name: "unknown user", body: "global\n    user nosuchuser-haproxyrs\n", raw: true, exit: 1, lines: &[2] },
    Case { name: "nbproc", body: "global\n    nbproc 2\n", raw: true, exit: 1, lines: &[2] },
    Case { name: "rules in anonymous defaults", body: "defaults\n    mode http\n    http-request deny\n    acl x src 1.2.3.4\n    tcp-request content reject\nfrontend f\n    bind :80\n", raw: true, exit: 1, lines: &[3, 4, 5] },
    Case { name: "named defaults ACLs stay there", body: "defaults d\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n    acl bad src 1.2.3.4\n    http-request deny if bad\nfrontend f from d\n    bind :80\n    http-request deny if bad\n", raw: true, exit: 1, lines: &[10] },
    Case { name: "missing LF", body: "frontend fe\n    bind :80", raw: true, exit: 1, lines: &[2] },
];

/// The line numbers cited by `[ALERT]` lines as `haproxy.cfg:N]`.
fn alert_lines(out: &CheckOutput) -> BTreeSet<u32> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with("[ALERT]"))
        .filter_map(|l| {
            let at = l.find("haproxy.cfg:")? + "haproxy.cfg:".len();
            let digits: String = l[at..].chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        })
        .collect()
}

fn text(c: &Case) -> String {
    if c.raw {
        c.body.to_string()
    } else {
        format!("{T}{}", c.body)
    }
}

#[test]
fn invalid_configs_match_expectations() {
    let mut failures = Vec::new();
    for c in CASES {
        let ours = check(Flavor::Haproxyrs, &text(c), &[], &[]);
        let want: BTreeSet<u32> = c.lines.iter().copied().collect();
        let got = alert_lines(&ours);
        if ours.status != Some(c.exit) || !want.is_subset(&got) {
            failures.push(format!(
                "{}: want exit {} lines {want:?}, got {:?} {got:?}\n{}",
                c.name,
                c.exit,
                ours.status,
                ours.context()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn invalid_configs_match_live_haproxy() {
    if haproxy_path().is_none() {
        crate::support::haproxy::skip(
            "invalid_configs_match_live_haproxy",
            "haproxy not installed (apt-get install haproxy)",
        );
        return;
    }
    let mut failures = Vec::new();
    for c in CASES {
        let cfg = text(c);
        let theirs = check(Flavor::Haproxy, &cfg, &[], &[]);
        let ours = check(Flavor::Haproxyrs, &cfg, &[], &[]);
        if theirs.status != Some(c.exit) {
            failures.push(format!(
                "{}: the expectation is stale: haproxy says {:?}\n{}",
                c.name,
                theirs.status,
                theirs.context()
            ));
        }
        let (t, o) = (alert_lines(&theirs), alert_lines(&ours));
        if theirs.status != ours.status || t != o {
            failures.push(format!(
                "{}: haproxy {:?} lines {t:?}, haproxyrs {:?} lines {o:?}\n{}\n{}",
                c.name,
                theirs.status,
                ours.status,
                theirs.context(),
                ours.context()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
