//! Proof that evaluating conditions with the common fetches and matchers, and rendering
//! `%[...]` parts, allocates nothing once the per-thread buffers are warm.

use haproxyrs_config::ast::Word;
use haproxyrs_config::diag::Diagnostics;
use haproxyrs_config::env::SystemEnv;
use haproxyrs_config::ir::sample::{Condition, LogFormatPart};
use haproxyrs_config::lower::sample::{
    parse_acl_term, parse_condition, parse_log_format, AclScope,
};
use haproxyrs_config::span::Span;

use super::testsrc::{alloc_count::allocations, TestSource};
use super::{eval_condition, render_sample, Match};

fn words(text: &str) -> Vec<Word> {
    text.split_whitespace()
        .map(|w| Word {
            text: w.into(),
            span: Span::new("t".into(), 1, 1),
        })
        .collect()
}

/// The tutorial's routing behind 20 other ACLs, plus the common fetch/matcher kinds.
fn setup() -> (AclScope, Vec<Condition>) {
    let mut scope = AclScope::default();
    let mut d = Diagnostics::default();
    let mut decl = |name: &str, crit: &str| {
        let t = parse_acl_term(&words(crit), &SystemEnv, &mut d).unwrap();
        scope.declare(name, t);
    };
    for i in 0..20 {
        decl(&format!("other{i}"), &format!("path_beg -i /other{i}"));
    }
    decl("app1", "path_end -i /app1");
    decl("app2", "path_end -i /app2");
    decl("host", "hdr(host) -i www.example.com api.example.com");
    decl("dom", "hdr_dom(host) -i example.com");
    decl("net", "src 10.0.0.0/8 192.168.0.0/16 127.0.0.0/8 ::1");
    decl("port", "dst_port 80 443 8000:9000");
    decl("ck", "req.cook(session) -m found");
    decl("q", "url_param(k) -i VALUE");
    decl("re", "path_reg ^/app[0-9]+$");
    decl("cnt", "hdr_cnt(x-tag) gt 1");
    let many: Vec<String> = (0..100).map(|i| format!("h{i}.example")).collect();
    decl("set", &format!("hdr(host) -i {}", many.join(" ")));
    let conds = [
        "if other0 || other1 || other2 || other3 || other4 || other5 || other6 || other7 || other8 || other9 || other10 || other11 || other12 || other13 || other14 || other15 || other16 || other17 || other18 || other19",
        "if app1",
        "if app2 host dom net port",
        "if ck q || re cnt",
        "if set METH_GET HTTP_1.1 { path_sub -i APP } !{ hdr(x-none) -m found }",
    ]
    .iter()
    .map(|c| {
        parse_condition(&words(c), &scope, &SystemEnv, &mut Diagnostics::default())
            .unwrap()
            .unwrap()
    })
    .collect();
    (scope, conds)
}

#[test]
fn conditions_and_rendering_do_not_allocate() {
    let (scope, conds) = setup();
    let mut src = TestSource::http(
        "GET",
        "/x/APP1?k=value",
        &[
            ("Host", "www.Example.com"),
            ("Cookie", "a=1; session=xyz"),
            ("x-tag", "a, b"),
        ],
    );
    src.src = Some("10.1.2.3:5000".parse().unwrap());
    src.dst = Some("127.0.0.1:8080".parse().unwrap());
    let lf = parse_log_format(
        "%[src] %[req.hdr(host),lower] %[path] %{+Q}[url_param(k)] %[req.cook(session)]",
        None,
        &SystemEnv,
    )
    .unwrap();
    let mut out = Vec::with_capacity(256);
    let run = |out: &mut Vec<u8>| {
        let r: [Match; 5] = std::array::from_fn(|i| eval_condition(&conds[i], &scope.acls, &src));
        out.clear();
        for p in &lf.parts {
            if let LogFormatPart::Sample { expr, flags } = p {
                render_sample(expr, *flags, &src, out);
            }
        }
        r
    };
    // Warm the per-thread scratch buffers (converter buffers take turns: two rounds).
    let first = run(&mut out);
    run(&mut out);
    assert_eq!(
        first,
        [Match::No, Match::Yes, Match::No, Match::Yes, Match::No]
    );
    let before = allocations();
    for _ in 0..1000 {
        run(&mut out);
    }
    assert_eq!(allocations() - before, 0, "evaluation allocated");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "10.1.2.3www.example.com/x/APP1\"value\"xyz"
    );
    src.uri = Some("/app2".into());
    let r: Vec<Match> = conds
        .iter()
        .map(|c| eval_condition(c, &scope.acls, &src))
        .collect();
    assert_eq!(r[2], Match::Yes);
}

/// `cargo test -p haproxyrs-proxy --release -- --ignored --nocapture acl_eval_cost`:
/// prints the cost of the tutorial routing behind 20 ACLs.
#[test]
#[ignore]
fn acl_eval_cost() {
    let (scope, conds) = setup();
    let src = TestSource::http("GET", "/x/app1", &[("Host", "www.example.com")]);
    let n = 1_000_000u32;
    let t = std::time::Instant::now();
    let mut hits = 0u32;
    for _ in 0..n {
        if eval_condition(&conds[0], &scope.acls, &src).is_yes() {
            hits += 1;
        }
        if eval_condition(&conds[1], &scope.acls, &src).is_yes() {
            hits += 1;
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / f64::from(n);
    println!("20 ACLs (no match) + tutorial ACL (match): {ns:.0} ns per request, hits {hits}");
}
