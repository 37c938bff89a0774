//! Invalid configs (issue 3, point 10): each case gives `haproxyrs -c` a broken config and
//! checks the exit code and the lines its ALERTs cite, against expectations written here
//! and, where Debian's haproxy is installed, against live `haproxy -c` on the same text.

use std::collections::BTreeSet;

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
    Case { name: ".if unknown predicate", body: ".if enabled(FOO)\n.endif\nfrontend fe\n    bind :80\n", raw: true, exit: 1, lines: &[1] },
    Case { name: ".if without .endif", body: ".if defined(HOME)\nfrontend fe\n    bind :80\n", raw: true, exit: 1, lines: &[3] },
    Case { name: "unmatched quote", body: "frontend fe\n    bind :80\n    http-request set-header X-Foo \"abc\n", raw: true, exit: 1, lines: &[3] },
    Case { name: "listen from defaults with rules", body: "defaults d\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n    http-request deny if { path /x }\nlisten l from d\n    bind :80\n    server s 1.2.3.4:80\n", raw: true, exit: 1, lines: &[7] },
    Case { name: "frontend and backend from defaults with rules", body: "defaults d\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n    http-request deny if { path /x }\nfrontend f from d\n    bind :81\n    default_backend b\nbackend b from d\n    server s 1.2.3.4:80\n", raw: true, exit: 1, lines: &[10] },
    Case { name: "unknown defaults", body: "frontend f from nope\n    bind :81\n", raw: true, exit: 1, lines: &[1] },
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
    crate::require_haproxy!("invalid_configs_match_live_haproxy");
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

/// Configs exercising keywords, options and sections, valid or not: the messages of
/// `haproxyrs -c` (every WARNING and ALERT, trailers aside) must be HAProxy 2.6's.
const MESSAGE_CASES: &[&str] = &[
    // Duplicate proxy names: a `listen` is a `proxy` in 2.6's wording, and a proxy with a
    // frontend is only compared with frontends (`backend x` then `listen x` is valid).
    "defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nlisten l\n    bind :80\n    server s 1.2.3.4:80\nlisten l\n    bind :81\n    server s 1.2.3.4:80\n",
    "defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend x\n    bind :80\nlisten x\n    bind :81\n    server s 1.2.3.4:80\n",
    "defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nlisten x\n    bind :80\n    server s 1.2.3.4:80\nbackend x\n    server s 1.2.3.4:80\n",
    "defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend x\n    server s 1.2.3.4:80\nlisten x\n    bind :81\n    server s 1.2.3.4:80\n",
    // `fcgi-app` sections (parsed only) and `use-fcgi-app`, checked as 2.6 checks them.
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfcgi-app php\n    docroot /var/www\n    index index.php\n    log-stderr global\n    option keep-conn\n    no option get-values\n    option max-reqs 5\n    option mpxs-conns\n    path-info ^(/.+\\.php)(/.*)?$\n    pass-header x-foo\n    set-param A b if TRUE\nfrontend f\n    bind :80\n    default_backend b\nbackend b\n    server s 1.2.3.4:9000 proto fcgi\n    use-fcgi-app php\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfcgi-app php\n    index i\n    docrot /x\n    option max-reqs 0\n    no option max-reqs\n    set-param A\nfcgi-app php\n    docroot /x\nfrontend f\n    bind :80\n    default_backend b\nbackend b\n    server s 1.2.3.4:9000\n    use-fcgi-app nope\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfcgi-app php\n    docroot /x\nfrontend f\n    bind :80\n    default_backend b\nbackend b\n    server s 1.2.3.4:9000\n    use-fcgi-app php\n",
    // Request rules written out of evaluation order: 2.6 warns about the nearest later kind.
    "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nbackend b\n use-server s if TRUE\n use_backend b if TRUE\n redirect location /x if FALSE\n http-request deny if FALSE\n monitor fail if FALSE\n tcp-request content accept\n tcp-request session accept\n tcp-request connection accept\n server s 127.0.0.1:80\nlisten l\n bind 127.0.0.1:8081\n use-server s if TRUE\n use_backend b if TRUE\n redirect location /x if FALSE\n http-request deny if FALSE\n monitor fail if FALSE\n tcp-request content accept\n tcp-request session accept\n tcp-request connection accept\n server s 127.0.0.1:80\n",
    // A checked server needs a port (its own or `port`), disabled or not; `addr` is not one.
    // The wording depends on the check kind and on earlier proxies (2.6's shared rule set).
    "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nlisten l\n    bind :80\n    server s 127.0.0.1 check disabled\n    server t 127.0.0.1 check port 0\n    server u 127.0.0.1 check addr 127.0.0.2\n    server v 127.0.0.1 check port 81\n    server w 127.0.0.1\n    server x localhost check\n    server-template y 2 localhost check\nbackend b\n    server s 127.0.0.1 check\nbackend c\n    option tcp-check\n    server s 127.0.0.1 check\nbackend d\n    option httpchk\n    server s 127.0.0.1 check\n",
    "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind :80\n    default_backend b\nbackend b\n    server s 127.0.0.1 check\nbackend c\n    option mysql-check\n    server s 127.0.0.1 check\n",
    // `http-check send` / `expect` arguments.
    "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nbackend b\n    option httpchk\n    http-check send meth GET uri /h ver HTTP/1.1 hdr Host x body y\n    http-check send foo\n    http-check send meth\n    http-check expect ! status 200-299,304\n    http-check expect min-recv 5 string x\n    http-check expect rstatus ^2\n    http-check expect foo bar\n    http-check expect status\n    server s 127.0.0.1:80 check\n",
    // `tcp-check` rules: arguments, and the port check with a `connect port` rule.
    "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nbackend b\n    option tcp-check\n    tcp-check connect port 6379\n    tcp-check send PING\\r\\n\n    tcp-check send-binary 2B4f\n    tcp-check send-binary 2b4\n    tcp-check send-binary zz\n    tcp-check expect ! string +PONG\n    tcp-check expect binary 2b4\n    tcp-check expect foo bar\n    tcp-check expect rstring ^\\+\n    server s 127.0.0.1 check\nbackend c\n    option tcp-check\n    tcp-check send PING\\r\\n\n    server s 127.0.0.1 check\n",
    "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nbackend b\n    option tcp-check\n    tcp-check connect port 6379\n    server s 127.0.0.1 check\nbackend c\n    option tcp-check\n    tcp-check send PING\\r\\n\n    server s 127.0.0.1 check\nbackend d\n    option tcp-check\n    tcp-check connect\n    server s 127.0.0.1 check\n",
    // `setenv` with extra words is accepted by 2.6.
    "global\n    setenv A b c\ndefaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nlisten l\n    bind :80\n    server s 1.2.3.4:80\n",
    // Missing timeouts and side-specific timeouts, per section kind.
    "defaults\n    mode http\nlisten l\n    bind :80\n    timeout client 1s\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\nfrontend f\n    bind :80\n    timeout server 1s\n    timeout check 1s\nbackend b\n    timeout client 1s\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80 name x backlog 10 maxconn 5 accept-proxy v4v6\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80 backlog\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80-79\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80,:81,[::1]:82\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    server s 1.2.3.4:80 inter 2s fastinter 1s downinter 5s rise 3 fall 2 check port 81 addr 127.0.0.1\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    server s 1.2.3.4:80 rise 0\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    server s 1.2.3.4:80 maxconn\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    server s 1.2.3.4:80 id 0\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    server s 1.2.3.4:80 id 3\n    server t 1.2.3.4:81 id 3\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    default-server inter 3s fall 2\n    server s 1.2.3.4:80 check\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    server s 1.2.3.4:+1\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    server s unix@/tmp/x.sock\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    server s 1.2.3.4:80 send-proxy-v2 cookie abc weight 0\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    balance url_param userid check_post 64\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    balance random(3)\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    balance rdp-cookie\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    balance uri depth 3 len 10 whole\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    balance uri foo\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    balance hdr\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    hash-type consistent djb2 avalanche\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    hash-type consistent foo\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    cookie SRV insert indirect nocache httponly secure domain .x.com maxidle 30m maxlife 8h\n    server s 1.2.3.4:80 cookie s1\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    cookie SRV foo\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    retries\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    fullconn 100\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    http-reuse always\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    timeout server 5s 6s\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    timeout queue\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    option redispatch\n    option abortonclose\n    option allbackups\n    no option redispatch\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    no option httpchk\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n    option httplog clf\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    option httplog foo\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    option forwardfor except 10.0.0.0/8 header X-Real-IP if-none\n    option forwardfor foo\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nlisten l\n    bind :80\n    stats enable\n    stats uri /s\n    stats realm Foo\n    stats auth a:b\n    stats auth ab\n    stats refresh 10s\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nlisten l\n    bind :80\n    stats admin\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nlisten l\n    bind :80\n    stats admin if TRUE\n    stats foo\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    log 127.0.0.1:514 len 1024 format rfc5424 local0 info notice\n    log /dev/log local1\n    log stdout format raw daemon\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    log 127.0.0.1 local0 info notice debug\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    maxconn 100\n    description my front\n    id 5\n    default_backend b\nbackend b\n    id 5\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    disabled\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    use_backend b unless TRUE\n    use_backend c\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\nbackend c\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    use_backend b foo\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    default_backend\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nuserlist u\n    group admins users bob\n    user bob insecure-password x\n    user alice password $6$abc groups admins\nfrontend f\n    bind :80\n    http-request auth if !{ http_auth(u) }\n    default_backend b\nbackend b\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    timeout client 1d\n    timeout http-request 10s\n    timeout http-keep-alive 1s\n    timeout tarpit 2s\n    timeout client-fin 1s\n    default_backend b\nbackend b\n    timeout tunnel 1h\n    timeout server-fin 1s\n    timeout check 2s\n    server s 1.2.3.4:80\n",
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :80\n    timeout client 100d\nbackend b\n    server s 1.2.3.4:80\n",
    "global\n    maxconn 1000\n    nbthread 2\n    daemon\n    user haproxy\n    group haproxy\n    chroot /var/lib/haproxy\n    pidfile /run/haproxy.pid\n    stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners\n    stats timeout 30s\n    log /dev/log local0\n    log /dev/log local1 notice\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    nbthread 0\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    nbthread abc\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    maxconn\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    tune.bufsize 32768\n    tune.maxrewrite 1024\n    tune.http.maxhdr 200\n    tune.ssl.default-dh-param 2048\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    tune.bufsize 0\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    tune.http.maxhdr 40000\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    hard-stop-after 30s\n    spread-checks 5\n    ulimit-n 10000\n    maxconnrate 100\n    maxsessrate 100\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    spread-checks 60\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    hard-stop-after 3x\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    stats timeout 0\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    stats foo\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    stats socket\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    stats socket ipv4@127.0.0.1:9999 level admin\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    uid 99\n    gid 99\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    uid abc\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    log-send-hostname\n    log-tag foo\n    node n1\n    description my lb\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    lua-load /nonexistent.lua\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    ssl-default-bind-ciphers ECDHE\n    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\n    ca-base /etc/ssl/certs\n    crt-base /etc/ssl/private\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    master-worker\n    zero-warning\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    daemon foo\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    quiet\n    nosplice\n    noepoll\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    setenv FOO bar\n    presetenv BAR baz\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    foo\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "global\n    maxconn 10 20\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "peers p\n    peer vm 127.0.0.1:10000\n    peer other 127.0.0.2:10000\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "resolvers dns\n    nameserver ns1 127.0.0.1:53\n    resolve_retries 3\n    timeout retry 1s\n    hold valid 10s\n    accepted_payload_size 8192\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "resolvers dns\n    foo bar\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "mailers m\n    mailer smtp1 127.0.0.1:25\n    timeout mail 10s\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "cache c\n    total-max-size 4\n    max-age 60\n    max-object-size 10000\n    process-vary on\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "ring r\n    description foo\n    format rfc3164\n    maxlen 1200\n    size 32764\n    timeout connect 5s\n    timeout server 10s\n    server s 127.0.0.1:6514\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "http-errors e\n    errorfile 503 /etc/haproxy/errors/503.http\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "http-errors e\n    errorfile 503 /nonexistent.http\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "program p\n    command /bin/true\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "log-forward lf\n    dgram-bind 127.0.0.1:1514\n    log 127.0.0.1:514 local0\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "userlist u\n    user a password x\n    user a password y\nfrontend f\n    bind :80\n    timeout client 5s\n",
    "userlist u\n    group g users nobody\nfrontend f\n    bind :80\n    timeout client 5s\n",
    // HTTP-only log variables in TCP mode: checked against the proxy's final mode, once
    // per proxy that inherits the format, after every file's messages.
    "defaults\n    mode tcp\n    log-format \"x=%Tr\"\n    timeout client 5s\nfrontend f\n    bind :80\nfrontend g\n    bind :81\n",
    "defaults\n    timeout client 5s\nfrontend f\n    bind :80\n    log-format \"%ci %HM %r\"\n    mode http\n",
    "defaults\n    timeout client 5s\nfrontend f\n    bind :80\n    log-format \"%ci %trg %HM %r\"\n",
    "defaults\n    mode http\n    log-format \"%CC\"\n    timeout client 5s\nlisten f\n    bind :80\n    mode tcp\n",];

/// WARNING/ALERT texts without pid and temp dir, trailers (printed by the binary) aside.
fn messages(out: &CheckOutput) -> Vec<String> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with("[WARNING]") || l.starts_with("[ALERT]"))
        .filter(|l| {
            !l.contains("Error(s) found in configuration file") && !l.contains("Fatal errors found")
        })
        .map(|l| {
            let level = if l.starts_with("[ALERT]") {
                "ALERT"
            } else {
                "WARNING"
            };
            let text = l.split_once(") : ").map_or(l, |(_, t)| t);
            // The config's absolute path (a temp dir per run) differs between the two runs.
            let mut text = text.to_string();
            while let Some(a) = text.find("/tmp/haproxyrs-test-") {
                match text[a..].find("/haproxy.cfg") {
                    Some(b) => text.replace_range(a..a + b + 1, ""),
                    None => break,
                }
            }
            format!("{level} {text}")
        })
        .collect()
}

#[test]
fn messages_match_live_haproxy() {
    crate::require_haproxy!("messages_match_live_haproxy");
    let mut failures = Vec::new();
    for cfg in MESSAGE_CASES {
        let theirs = check(Flavor::Haproxy, cfg, &[], &[]);
        let ours = check(Flavor::Haproxyrs, cfg, &[], &[]);
        let (t, o) = (messages(&theirs), messages(&ours));
        if theirs.status != ours.status || t != o {
            failures.push(format!(
                "haproxy {:?} {t:#?}\nhaproxyrs {:?} {o:#?}\nconfig:\n{cfg}",
                theirs.status, ours.status
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        MESSAGE_CASES.len(),
        failures.join("\n\n")
    );
}

/// `haproxy -c -q` and `haproxyrs -c -q` give the same exit code for every config of a
/// sweep; the failure lists each config that differs.
fn assert_exit_codes_match(configs: &[String]) {
    let mut failures = Vec::new();
    for cfg in configs {
        let theirs = check(Flavor::Haproxy, cfg, &[], &["-q"]);
        let ours = check(Flavor::Haproxyrs, cfg, &[], &["-q"]);
        if theirs.status != ours.status {
            failures.push(format!(
                "haproxy {:?}, haproxyrs {:?}:\n{cfg}",
                theirs.status, ours.status
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        configs.len(),
        failures.join("\n")
    );
}

/// Parsed-only proxy keywords must be refused exactly where HAProxy refuses them: every one
/// in every proxy section kind, with no argument and with a word, gets haproxy's exit
/// code.
#[test]
fn keyword_arguments_match_live_haproxy() {
    crate::require_haproxy!("keyword_arguments_match_live_haproxy");
    const KEYWORDS: &[&str] = &[
        "backlog",
        "bind-process",
        "clitcpka-cnt",
        "clitcpka-idle",
        "clitcpka-intvl",
        "compression",
        "declare capture",
        "dispatch",
        "dynamic-cookie-key",
        "email-alert from",
        "email-alert level",
        "email-alert to",
        "force-persist",
        "hash-balance-factor",
        "http-check comment",
        "http-check connect",
        "http-check disable-on-404",
        "http-send-name-header",
        "ignore-persist",
        "log-tag",
        "max-keep-alive-queue",
        "monitor fail",
        "monitor-uri",
        "rate-limit sessions",
        "retry-on",
        "source",
        "srvtcpka-cnt",
        "stick-table",
        "stick on",
        "tcp-check connect",
        "tcp-check expect",
        "tcp-check send",
        "transparent",
        "unique-id-format",
        "use-fcgi-app",
        "use-server",
        "external-check command",
        "description",
        "id",
        "disabled",
        "fullconn",
        "timeout check",
    ];
    let sections = [
        "listen l\n    bind :80",
        "backend b",
        "frontend f\n    bind :80",
        "defaults d",
    ];
    let mut configs = Vec::new();
    for section in sections {
        for kw in KEYWORDS {
            for arg in ["", " x"] {
                configs.push(format!("{T}{section}\n    {kw}{arg}\n"));
            }
        }
    }
    assert_exit_codes_match(&configs);
}

/// Every `bind` and `server` option of the keyword table, with no value and with a word,
/// gets haproxy's exit code (the options haproxyrs does not run are still checked).
#[test]
fn bind_and_server_options_match_live_haproxy() {
    use haproxyrs_config::lower::keywords::{BIND_OPTIONS, SERVER_OPTIONS};
    crate::require_haproxy!("bind_and_server_options_match_live_haproxy");
    let mut configs = Vec::new();
    for o in BIND_OPTIONS {
        for arg in ["", " x"] {
            configs.push(format!("{T}frontend f\n    bind :80 {}{arg}\n", o.name));
        }
    }
    for o in SERVER_OPTIONS {
        for arg in ["", " x"] {
            configs.push(format!("{T}frontend f\n    bind :80\n    default_backend b\nbackend b\n    server s 127.0.0.1:80 {}{arg}\n", o.name));
        }
    }
    assert_exit_codes_match(&configs);
}

/// Every `global` keyword of the table, with no value and with a word, gets haproxy's exit
/// code.
#[test]
fn global_keywords_match_live_haproxy() {
    use haproxyrs_config::lower::keywords::{sec, KEYWORDS};
    crate::require_haproxy!("global_keywords_match_live_haproxy");
    let mut configs = Vec::new();
    for kw in KEYWORDS.iter().filter(|k| k.sections & sec::GLOBAL != 0) {
        for arg in ["", " x"] {
            configs.push(format!(
                "global\n    {}{arg}\nfrontend f\n    bind :80\n    timeout client 5s\n",
                kw.name
            ));
        }
    }
    assert_exit_codes_match(&configs);
}

/// The keywords of the other sections (peers, resolvers, mailers, http-errors, ring, cache,
/// program, log-forward, userlist), with no value, a word and a number, get haproxy's exit
/// code.
#[test]
fn section_keywords_match_live_haproxy() {
    use haproxyrs_config::lower::keywords::{sec, KEYWORDS};
    crate::require_haproxy!("section_keywords_match_live_haproxy");
    let sections = [
        (sec::USERLIST, "userlist u"),
        (sec::PEERS, "peers p"),
        (sec::RESOLVERS, "resolvers r"),
        (sec::MAILERS, "mailers m"),
        (sec::HTTP_ERRORS, "http-errors e"),
        (sec::RING, "ring rg"),
        (sec::CACHE, "cache c"),
        (sec::PROGRAM, "program pg"),
        (sec::LOG_FORWARD, "log-forward lf"),
    ];
    let mut configs = Vec::new();
    for (bit, header) in sections {
        let pre = if bit == sec::PROGRAM {
            "global\n    master-worker\n"
        } else {
            ""
        };
        for kw in KEYWORDS.iter().filter(|k| k.sections & bit != 0) {
            for arg in ["", " x", " 1"] {
                configs.push(format!(
                    "{pre}{header}\n    {}{arg}\nfrontend f\n    bind :80\n    timeout client 5s\n",
                    kw.name
                ));
            }
        }
    }
    assert_exit_codes_match(&configs);
}
