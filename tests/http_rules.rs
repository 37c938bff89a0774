//! Issue 5 points 6–8 on the real binary, differentially against haproxy 2.6: `http-request`
//! actions (allow, deny, return, redirect, auth, header and URI rewrites), the `redirect`
//! keyword, `http-response` actions, HTTP-aware balancing keys, cookie persistence, and
//! HAProxy's error responses (503 without a server, 502 on an invalid response, 504 on
//! `timeout server`, `errorfile`).

use crate::support::backends::Reply;
use crate::support::diff::{Conn, Diff, Step};

const RULES: &str = "\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-keep-alive 5s

userlist users
    user admin insecure-password secret

frontend fe
    bind {{fe0}}
    acl is_deny path_beg /deny
    http-request deny if is_deny
    http-request deny deny_status 429 if { path /limited }
    http-request return status 200 content-type text/plain string hello if { path /ret }
    http-request return status 404 content-type text/plain lf-string \"no %[path] here\" hdr X-Why gone if { path_beg /gone }
    http-request redirect location /new code 301 if { path /old }
    http-request redirect prefix /p drop-query if { path_beg /rp }
    http-request redirect scheme https if { path /sec }
    http-request auth realm Private if { path_beg /admin } !{ http_auth(users) }
    http-request set-header X-Set %[req.hdr(host),lower] if { path_beg /hdr }
    http-request add-header X-Added v1 if { path_beg /hdr }
    http-request del-header X-Remove if { path_beg /hdr }
    http-request replace-header X-Rep (.*)-old \\1-new if { path_beg /hdr }
    http-request replace-value X-Val ^a$ z if { path_beg /hdr }
    http-request set-path /rewritten%[path] if { path_beg /sp }
    http-request replace-path /rp2/(.*) /moved/\\1 if { path_beg /rp2 }
    http-request set-query q=1 if { path_beg /sq }
    http-request set-method POST if { path_beg /sm }
    http-request set-uri /uri-set if { path_beg /su }
    http-request set-var(txn.h) req.hdr(host),upper if { path_beg /var }
    http-request set-header X-Var %[var(txn.h)] if { path_beg /var }
    http-request allow if { path_beg /allowed }
    redirect prefix /legacy if { path_beg /leg }
    http-response set-header X-Resp yes
    http-response del-header X-Srv-Secret
    http-response set-status 299 reason Fine if { path_beg /st }
    default_backend be

backend be
    http-response add-header X-Be be
    server a1 {{be:a1}}
";

#[test]
fn request_and_response_rules_match_haproxy() {
    let reqs = [
        "GET /deny HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /limited HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /ret HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /gone/x HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /old HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /rp/x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /sec?z HTTP/1.1\r\nHost: www.a\r\n\r\n",
        "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /admin HTTP/1.1\r\nHost: a\r\nAuthorization: Basic YWRtaW46c2VjcmV0\r\n\r\n",
        "GET /hdr HTTP/1.1\r\nHost: MiXed\r\nX-Remove: 1\r\nX-Rep: abc-old\r\nX-Val: a, b, a\r\n\r\n",
        "GET /sp/a?k=v HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /rp2/deep/x HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /sq/a?old HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /sm HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /su/x HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /allowed/deny HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /leg/x HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /st HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /var HTTP/1.1\r\nHost: vh\r\n\r\n",
    ];
    let mut d = Diff::new("http_rules", RULES)
        .http_backend_reply("a1", Reply::new(200, "ok\n").header("X-Srv-Secret", "s"));
    for r in reqs {
        d = d.send(r);
    }
    d.check_against_haproxy();
}

const ERRORS: &str = "\
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 1s
    timeout http-keep-alive 5s

frontend fe
    bind {{fe0}}
    use_backend none if { path /none }
    use_backend bad if { path /bad }
    use_backend slow if { path /slow }
    default_backend be

backend be
    server a1 {{be:a1}}

backend none

backend bad
    server b1 {{be:bad}}

backend slow
    server s1 {{be:slow}}
";

/// 503 with no server, 502 on a response that is not HTTP, 504 on `timeout server`.
#[test]
fn server_side_errors_match_haproxy() {
    let d = Diff::new("http_errors", ERRORS)
        .http_backend("a1")
        .http_backend_reply("bad", Reply::raw("garbage\r\n\r\n").close())
        .http_backend_reply(
            "slow",
            Reply::new(200, "late").delay(std::time::Duration::from_millis(2500)),
        )
        .send("GET /none HTTP/1.1\r\nHost: a\r\n\r\n")
        .send("GET /bad HTTP/1.1\r\nHost: a\r\n\r\n")
        .conn(Conn::send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n").then(Step::Responses(1)));
    d.check_against_haproxy();
}

const BALANCE: &str = "\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-keep-alive 5s

frontend fe
    bind {{fe0}}
    use_backend by_uri if { path_beg /u }
    use_backend by_param if { path_beg /p }
    use_backend by_hdr if { path_beg /h }
    default_backend by_cookie

backend by_uri
    balance uri depth 2
    server s1 {{be:s1}}
    server s2 {{be:s2}}
    server s3 {{be:s3}}

backend by_param
    balance url_param id
    server s1 {{be:s1}}
    server s2 {{be:s2}}
    server s3 {{be:s3}}

backend by_hdr
    balance hdr(X-Key)
    server s1 {{be:s1}}
    server s2 {{be:s2}}
    server s3 {{be:s3}}

backend by_cookie
    cookie SRV insert indirect nocache
    server s1 {{be:s1}} cookie one
    server s2 {{be:s2}} cookie two
    server s3 {{be:s3}} cookie three
";

/// `balance uri|url_param|hdr` send the same keys to the same servers as haproxy, and
/// `cookie insert` sets and honours the same cookies.
#[test]
fn http_balancing_and_cookies_match_haproxy() {
    let mut d = Diff::new("http_balance", BALANCE)
        .http_backend_with("s1", |_, _| Reply::new(200, "s1\n"))
        .http_backend_with("s2", |_, _| Reply::new(200, "s2\n"))
        .http_backend_with("s3", |_, _| Reply::new(200, "s3\n"));
    for i in 0..6 {
        d = d
            .send(format!("GET /u/{i}/x/y HTTP/1.1\r\nHost: a\r\n\r\n"))
            .send(format!("GET /p?x=1&id={i} HTTP/1.1\r\nHost: a\r\n\r\n"))
            .send(format!("GET /h HTTP/1.1\r\nHost: a\r\nX-Key: k{i}\r\n\r\n"));
    }
    d = d
        .send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .send("GET / HTTP/1.1\r\nHost: a\r\nCookie: SRV=three; o=1\r\n\r\n")
        .send("GET / HTTP/1.1\r\nHost: a\r\nCookie: SRV=two\r\n\r\n");
    d.check_against_haproxy();
}
