//! `-c` on ACLs, conditions, sample expressions and log-format strings: haproxyrs and
//! Debian's HAProxy 2.6 must give the same verdict and the same `parsing [...]` ALERT and
//! WARNING lines for each config (valid ones included, so nothing valid is refused).

use crate::support::proxy::{check, CheckOutput, Flavor};

/// Everything every case shares: a backend, a userlist, and a frontend the case adds to.
const BASE: &str = "\
defaults
  mode http
  timeout client 1s
  timeout server 1s
  timeout connect 1s
backend be
  server s1 127.0.0.1:8081
userlist ul
  user bob insecure-password x
frontend fe
  bind 127.0.0.1:18080
  default_backend be
";

/// (name, lines added to the frontend).
const CASES: &[(&str, &str)] = &[
    (
        "valid_everything",
        "  acl a path_beg -i /a /b\n  acl a path_end .css\n  acl h hdr(host) -i -m dom example.com\n  \
         acl n src 10.0.0.0/8 ::1 127.1\n  acl p dst_port 80 8000:9000 gt 10000\n  \
         acl c req.cook(sid) -m found\n  acl q url_param(k),lower -m sub x\n  \
         acl au http_auth(ul)\n  acl up nbsrv(be) ge 1\n  acl s srv_is_up(be/s1)\n  \
         acl r path_reg ^/x[0-9]+$\n  acl l path_len lt 10\n  acl v hdr_val(x-n) eq 3\n  \
         acl k hdr_cnt(x) 0\n  acl t req.hdr(x,1) -- -dash\n  \
         http-request deny if !a h || n p c q\n  http-request auth unless au\n  \
         http-request set-header X-Src %[src]\n  \
         http-request set-header X-H \"%[req.hdr(host),lower,field(1,:)] %[path] %{+Q}[query]\"\n  \
         use_backend be if up s r l v k t METH_GET HTTP_1.1 !LOCALHOST { path /x } or TRUE\n",
    ),
    ("unknown_fetch", "  acl a foo(x) bar\n"),
    ("unknown_converter", "  acl a path,foo bar\n"),
    ("unknown_match_method", "  acl a path -m foo bar\n"),
    ("empty_match_method", "  acl a path -m\n"),
    ("bad_option", "  acl a path -x bar\n"),
    ("not_a_number", "  acl a hdr_cnt(host) abc\n"),
    ("bad_address", "  acl a src 1.2.3.4/33\n"),
    ("missing_pattern_file", "  acl a path -f /nonexistent/haproxyrs-patterns\n"),
    ("fetch_arg_type", "  acl a hdr(host,x) foo\n"),
    ("fetch_too_many_args", "  acl a path(x) foo\n"),
    ("sample_fetch_bad_arg", "  acl a src(x) y\n"),
    ("sample_fetch_unknown_converter", "  acl a src,foo x\n"),
    ("sample_fetch_int_arg", "  acl a int(x) 1\n"),
    ("acl_keyword_converter_arg", "  acl a path,lower(1) y\n"),
    ("missing_pattern_file_name", "  acl a path -f\n"),
    ("bin_pattern_odd", "  acl a path -m bin 1\n"),
    ("bin_pattern_not_hex", "  acl a path -m bin 0g\n"),
    ("anonymous_sample_fetch", "  http-request deny if { src(x) y }\n"),
    ("acl_name_char", "  acl a$ path /x\n"),
    ("no_such_acl_switching", "  use_backend be if nope\n"),
    ("acl_declared_after_use", "  use_backend be if a\n  acl a path /a\n"),
    ("missing_brace", "  use_backend be if { path foo\n"),
    ("empty_anonymous", "  use_backend be if { path /x } { }\n"),
    ("http_request_anonymous", "  http-request deny if { foo }\n"),
    ("tcp_request_no_such_acl", "  tcp-request content reject if nope\n"),
    ("no_pattern_warning", "  acl a path\n"),
    ("never_match_status", "  acl a status 200\n  use_backend be if a\n"),
    (
        "anonymous_incompatible",
        "  use_backend be if { res.hdr(x) y }\n",
    ),
    ("acl_keyword_not_in_2_6", "  acl a req_ssl_sni_end foo\n"),
    (
        "known_fetch_and_converter_not_evaluated",
        "  acl a sc_http_req_rate(0) gt 10\n  acl b src,sha1,hex -m found\n  \
         http-request set-header x %[src,sha1,hex]\n",
    ),
    (
        "never_match_per_rule_kind",
        "  acl a res.hdr(x) y\n  http-request deny if a\n  tcp-request content reject if a\n  \
         redirect location /x if a\n  tcp-request connection reject if a\n  \
         tcp-request session reject if a\n  monitor fail if a\n  force-persist if a\n",
    ),
    (
        "set_var_expression_errors",
        "  http-request set-var(txn.a) src)\n  http-request set-var(txn.b) foo\n  \
         http-request set-var(txn.c) src,lower(\n  http-request set-var(txn.d) src,lower)\n  \
         http-request set-var(txn.e) int()\n  http-request set-var(txn.f) bool(2)\n",
    ),
    (
        "tcp_set_var_expression_errors",
        "  tcp-request content set-var(txn.a) int()\n  tcp-request content set-var(txn.b) src)\n  \
         tcp-request connection set-var(sess.c) foo\n",
    ),
    (
        "set_var_expressions_2_6_accepts",
        "  http-request set-var(txn.a) str(),concat(,txn.b,)\n  \
         http-request set-var(txn.b) bool(true)\n  http-request set-var(txn.c) env()\n",
    ),
    ("acl_hdr_is_request_only", "  acl a hdr(x) y\n  http-response deny if a\n"),
    ("set_header_unknown_fetch", "  http-request set-header X %[foo]\n"),
    ("set_header_unknown_var", "  http-request set-header X %zz\n"),
    ("set_header_missing_bracket", "  http-request set-header X %[path\n"),
    ("set_header_conv_args", "  http-request set-header X '%[src,regsub(a)]'\n"),
    (
        "log_format_flags_at_end",
        "  log 127.0.0.1:514 local0\n  log-format 'x %{+Q}'\n",
    ),
    (
        "log_format_empty_sample",
        "  log 127.0.0.1:514 local0\n  log-format 'x %[]'\n",
    ),
    (
        "log_format_unclosed_sample",
        "  log 127.0.0.1:514 local0\n  log-format 'x %[src'\n",
    ),
    (
        "log_format_percent_space",
        "  log 127.0.0.1:514 local0\n  log-format 'x % y'\n",
    ),
    (
        "log_format_unknown_converter",
        "  log 127.0.0.1:514 local0\n  log-format '%[src,nope]'\n",
    ),
    (
        "log_format_valid",
        "  log 127.0.0.1:514 local0\n  log-format 'a%%b %[src]x %{+Q,+X}ci %{Q}ci %[status]'\n",
    ),
];

/// The `parsing [...]` lines (ALERT/WARNING), with the config path and PIDs removed.
fn messages(out: &CheckOutput) -> Vec<String> {
    let text = format!("{}\n{}", out.stdout, out.stderr);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.contains("arsing [") || l.contains("acl keyword"))
        // haproxyrs's own NOTICE for what it parses but does not evaluate (by design).
        .filter(|l| !l.contains("is parsed but not implemented"))
        .map(|l| {
            let l = l.split_once(" config : ").map_or(l, |(_, m)| m);
            strip_path(l)
        })
        .collect();
    lines.sort();
    lines
}

/// `/tmp/.../haproxy.cfg` → `haproxy.cfg`.
fn strip_path(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(pos) = rest.find("haproxy.cfg") {
        let before = &rest[..pos];
        let cut = before.rfind(['[', ' ', '<']).map_or(0, |p| p + 1);
        out.push_str(&before[..cut]);
        out.push_str("haproxy.cfg");
        rest = &rest[pos + "haproxy.cfg".len()..];
    }
    out.push_str(rest);
    out
}

#[test]
fn acl_checks_match_haproxy() {
    crate::require_haproxy!("acl_checks_match_haproxy");
    let mut failures = Vec::new();
    for (name, lines) in CASES {
        let cfg = format!("{BASE}{lines}");
        let theirs = check(Flavor::Haproxy, &cfg, &[], &[]);
        let ours = check(Flavor::Haproxyrs, &cfg, &[], &[]);
        let (tm, om) = (messages(&theirs), messages(&ours));
        if theirs.success() != ours.success() || tm != om {
            failures.push(format!(
                "--- case {name}: haproxy ok={} haproxyrs ok={}\nhaproxy:\n  {}\nhaproxyrs:\n  {}\n{}",
                theirs.success(),
                ours.success(),
                tm.join("\n  "),
                om.join("\n  "),
                ours.context()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn strip_path_keeps_the_file_name() {
    assert_eq!(
        strip_path("parsing [/tmp/x-1/haproxy.cfg:13] : no such ACL"),
        "parsing [haproxy.cfg:13] : no such ACL"
    );
}
