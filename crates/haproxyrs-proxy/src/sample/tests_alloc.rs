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
        "10.1.2.3www.example.com/x/APP1valuexyz"
    );
    src.uri = Some("/app2".into());
    let r: Vec<Match> = conds
        .iter()
        .map(|c| eval_condition(c, &scope.acls, &src))
        .collect();
    assert_eq!(r[2], Match::Yes);
}

/// `cargo test -p haproxyrs-proxy --release -- --ignored --nocapture acl_eval_cost`:
/// prints the cost of the tutorial routing behind 20 ACLs (best of 20 batches, as the
/// machine is shared).
#[test]
#[ignore]
fn acl_eval_cost() {
    let (scope, conds) = setup();
    let src = TestSource::http("GET", "/x/app1", &[("Host", "www.example.com")]);
    // ACL_COST_BATCH: smaller batches for instruction counting under callgrind.
    let batch: u32 = std::env::var("ACL_COST_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut best = f64::MAX;
    let mut hits = 0u32;
    for _ in 0..20 {
        let t = std::time::Instant::now();
        for _ in 0..batch {
            if eval_condition(&conds[0], &scope.acls, &src).is_yes() {
                hits += 1;
            }
            if eval_condition(&conds[1], &scope.acls, &src).is_yes() {
                hits += 1;
            }
        }
        best = best.min(t.elapsed().as_nanos() as f64 / f64::from(batch));
    }
    println!("20 ACLs (no match) + tutorial ACL (match): {best:.0} ns per request (best batch), hits {hits}");
}

/// No request bytes make evaluation panic: random targets, header values, cookies,
/// credentials and payloads through every kind of fetch, converter and matcher.
#[test]
fn evaluation_never_panics_on_hostile_input() {
    let (scope, conds) = setup();
    let mut d = Diagnostics::default();
    let mut extra = AclScope::default();
    for crit in [
        "req.cook(a),b64dec,lower -m sub x",
        "url_param(k),url_dec,field(2,=),word(-1,/) -m reg a+",
        "hdr(x),base64,bytes(3,2),hex,length gt 2",
        "req.ssl_sni -m end .com",
        "req.payload(2,4) -m bin 0102",
        "http_auth(ul)",
        "hdr_ip(x) 10.0.0.0/8",
        "hdr_val(x),add(5),div(0),mod(0) 3",
        "query,json -m found",
        "base,regsub(a|b,[\\0],g) -m beg [",
    ] {
        let t = parse_acl_term(&words(crit), &SystemEnv, &mut d).unwrap();
        extra.declare("x", t);
    }
    let any = parse_condition(&words("if x"), &extra, &SystemEnv, &mut d)
        .unwrap()
        .unwrap();
    let pieces: &[&[u8]] = &[
        b"/",
        b"?",
        b"&",
        b"=",
        b"%",
        b"%2",
        b"%zz",
        b",",
        b";",
        b"\"",
        b"\\",
        b" ",
        b"a",
        b"\xff",
        b"\xc3",
        b"://",
        b"*",
        b"Basic ",
        b"YWxhZGRpbjpvcGVu",
        b"==",
        b"10.0.0.1",
        b"::",
        b"\x16\x03\x01\x00",
        b"\x01",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut gen = |n: usize| -> Vec<u8> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
        }
        v
    };
    for _ in 0..3000 {
        let uri = String::from_utf8_lossy(&gen(6)).into_owned();
        let hv = String::from_utf8_lossy(&gen(5)).into_owned();
        let ck = String::from_utf8_lossy(&gen(5)).into_owned();
        let au = String::from_utf8_lossy(&gen(3)).into_owned();
        let mut src = TestSource::http(
            "GET",
            &uri,
            &[
                ("x", &hv),
                ("Cookie", &ck),
                ("Authorization", &au),
                ("Host", &hv),
            ],
        );
        src.buffer = gen(8);
        src.final_ = false;
        for c in &conds {
            let _ = eval_condition(c, &scope.acls, &src);
        }
        let _ = eval_condition(&any, &extra.acls, &src);
    }
}
