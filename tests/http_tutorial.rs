//! Issue 5 point 1: the tutorial's own config (`haproxy-samples/tutorial.cfg`, unmodified
//! except for its ports) runs on the real binary: `/` alternates between the two apps
//! request after request, also on one keep-alive connection; `/app1` always reaches app1,
//! `/APP2` always app2 (`path_end -i`).

use crate::support::backends::Backend;
use crate::support::client::Client;
use crate::support::proxy::{Flavor, ProxyBuilder};
use crate::support::WAIT;

const TUTORIAL: &str = include_str!("../haproxy-samples/tutorial.cfg");

#[test]
fn tutorial_routes_and_alternates() {
    let (app1, app2) = (Backend::http("app1"), Backend::http("app2"));
    // The published file, with the test's ports: frontend on a handed-over socket.
    let template = TUTORIAL
        .replace("*:80", "{{fe0}}")
        .replace("127.0.0.1:8081", "{{app1}}")
        .replace("127.0.0.1:8082", "{{app2}}");
    assert_ne!(template, TUTORIAL, "the tutorial file changed shape");
    let p = ProxyBuilder::new(Flavor::Haproxyrs, &template)
        .var("app1", app1.addr_str())
        .var("app2", app2.addr_str())
        .label("http_tutorial")
        .start();
    let mut c = match Client::try_connect(p.fe(0)) {
        Ok(c) => c,
        Err(e) => p.fail(&format!("connect: {e}")),
    };
    // Four requests on one keep-alive connection.
    c.send("GET / HTTP/1.1\r\nhost: t\r\n\r\n".repeat(4));
    let r = c.read_responses(4, WAIT);
    let bodies: Vec<String> = r.iter().map(|m| m.body_str()).collect();
    if bodies.len() != 4
        || bodies[0] == bodies[1]
        || bodies[0] != bodies[2]
        || bodies[1] != bodies[3]
    {
        p.fail(&format!("no alternation on one connection: {bodies:?}"));
    }
    // New connections alternate too.
    let a = crate::support::client::get(p.fe(0), "/").body_str();
    let b = crate::support::client::get(p.fe(0), "/").body_str();
    assert_ne!(a, b, "{}", p.context());
    for _ in 0..3 {
        assert_eq!(
            crate::support::client::get(p.fe(0), "/app1").body_str(),
            app1_body(&app1)
        );
        assert_eq!(
            crate::support::client::get(p.fe(0), "/APP2").body_str(),
            app1_body(&app2)
        );
    }
}

/// What `Backend::http(name)` answers.
fn app1_body(b: &Backend) -> String {
    format!("{}\n", b.name)
}
