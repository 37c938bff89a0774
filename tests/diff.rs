//! Differential tests: the same config and bytes through Debian's haproxy and haproxyrs.
//! The first tests validate the harness itself (haproxy against haproxy must agree; an
//! injected difference must be reported); the others are the simplest real comparisons.

use crate::support::diff::{Conn, Diff, Step};
use crate::support::proxy::Flavor;

const HTTP_CFG: &str = "\
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend fe
    bind {{fe0}}
    acl is_b path_beg /b
    use_backend be_b if is_b
    default_backend be_a

backend be_a
    server a1 {{be:a1}}

backend be_b
    server b1 {{be:b1}}
";

const TCP_CFG: &str = "\
defaults
    mode tcp
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend fe
    bind {{fe0}}
    default_backend be

backend be
    server echo1 {{be:echo1}}
";

fn http_diff(name: &str) -> Diff {
    http_script(
        Diff::new(name, HTTP_CFG)
            .http_backend("a1")
            .http_backend("b1"),
    )
}

fn http_script(d: Diff) -> Diff {
    d.send("GET /a HTTP/1.1\r\nhost: x\r\n\r\n")
        .send("GET /b/1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .conn(
            Conn::send("GET /k1 HTTP/1.1\r\nhost: x\r\n\r\n")
                .then(Step::Responses(1))
                .then_send("POST /b/post HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello"),
        )
}

#[test]
fn harness_haproxy_agrees_with_itself_http() {
    crate::require_haproxy!("harness_haproxy_agrees_with_itself_http");
    http_diff("harness_self_http")
        .sides(Flavor::Haproxy, Flavor::Haproxy)
        .assert_same();
}

#[test]
fn harness_haproxy_agrees_with_itself_tcp() {
    crate::require_haproxy!("harness_haproxy_agrees_with_itself_tcp");
    Diff::new("harness_self_tcp", TCP_CFG)
        .tcp()
        .echo_backend("echo1")
        .conn(
            Conn::send("hello\n")
                .then(Step::Bytes(6))
                .then(Step::ShutdownWrite),
        )
        .sides(Flavor::Haproxy, Flavor::Haproxy)
        .assert_same();
}

#[test]
fn harness_reports_injected_differences() {
    crate::require_haproxy!("harness_reports_injected_differences");
    // Side B adds a response header, rewrites the path sent to the backend, and its backend
    // answers a different body: each must show up at its own path in the report.
    let injected = HTTP_CFG.replace(
        "    default_backend be_a\n",
        "    default_backend be_a\n    http-response set-header x-injected yes\n    http-request set-path /changed if !is_b\n",
    );
    let report = http_script(
        Diff::new("harness_injected", HTTP_CFG)
            .http_backend("a1")
            .http_backend_with("b1", |side, _| {
                crate::support::backends::Reply::new(200, format!("side{side}"))
            }),
    )
    .sides(Flavor::Haproxy, Flavor::Haproxy)
    .template_b(&injected)
    .run();
    let text = report.render();
    for expected in [
        "conn0.resp0.header.x-injected",
        "conn1.resp0.header.x-injected",
        "be.a1.req0.start",
        "conn1.resp0.body",
    ] {
        assert!(report.has(expected), "missing {expected} in:\n{text}");
    }
    assert!(
        !report.has("conn*.closure"),
        "spurious closure diff:\n{text}"
    );
    assert!(!report.has("be.b1.*"), "spurious be_b diff:\n{text}");
    // The intended-difference list silences exactly what it names.
    let report = http_diff("harness_intended")
        .sides(Flavor::Haproxy, Flavor::Haproxy)
        .template_b(&injected)
        .intended("conn*.resp*.header.x-injected", "injected on purpose")
        .intended("be.a1.req*.start", "injected on purpose")
        .run();
    assert!(report.differences.is_empty(), "{}", report.render());
    assert!(report.intended.len() >= 3, "{}", report.render());
}

#[test]
fn diff_simple_http() {
    http_diff("diff_simple_http").assert_same();
}

#[test]
fn diff_simple_tcp() {
    Diff::new("diff_simple_tcp", TCP_CFG)
        .tcp()
        .echo_backend("echo1")
        .conn(
            Conn::send("hello\n")
                .then(Step::Bytes(6))
                .then(Step::ShutdownWrite),
        )
        .conn(Conn::send(vec![0u8, 1, 2, 255]).then(Step::ShutdownWrite))
        .assert_same();
}
