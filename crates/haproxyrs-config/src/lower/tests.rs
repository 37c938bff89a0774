//! Unit tests of lowering on real parsed text, with an in-memory environment.

use std::net::IpAddr;
use std::time::Duration;

use crate::ast::ConfigAst;
use crate::diag::{Diagnostics, Level};
use crate::env::MemoryEnv;
use crate::ir::{self, Balance, BindAddr, Config, HttpConnMode, Mode, ServerAddr};

fn load_with(text: &str, env: &MemoryEnv) -> (Option<Config>, Diagnostics) {
    let mut ast = ConfigAst::default();
    let mut diags = Diagnostics::default();
    let _ = crate::parse::parse_text("t.cfg", text.as_bytes(), env, &mut ast, &mut diags);
    let config = super::lower(&ast, env, &mut diags);
    (config, diags)
}

fn load(text: &str) -> (Option<Config>, Diagnostics) {
    load_with(text, &MemoryEnv::new())
}

fn texts(d: &Diagnostics, level: Level) -> Vec<String> {
    d.items
        .iter()
        .filter(|x| x.level == level)
        .map(|x| x.text.clone())
        .collect()
}

const TIMEOUTS: &str =
    "defaults\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n";

#[test]
fn defaults_apply_until_the_next_defaults() {
    let cfg = "defaults\n    mode http\n    timeout client 7s\n    timeout connect 1s\n    timeout server 2s\n\
               frontend a\n    bind :8001\n    default_backend b\n\
               backend b\n    server s 10.0.0.1:80\n\
               defaults\n    timeout client 3s\n    timeout connect 1s\n    timeout server 2s\n\
               frontend c\n    bind :8002\n    default_backend d\n\
               backend d\n    server s 10.0.0.1:80\n";
    let (c, d) = load(cfg);
    let c = c.unwrap_or_else(|| panic!("{:?}", d));
    let a = c.frontend_by_name("a").unwrap();
    assert_eq!(a.mode, Mode::Http);
    assert_eq!(a.timeouts.client, Some(Duration::from_secs(7)));
    // A new `defaults` starts again from the built-ins: mode tcp.
    let cc = c.frontend_by_name("c").unwrap();
    assert_eq!(cc.mode, Mode::Tcp);
    assert_eq!(cc.timeouts.client, Some(Duration::from_secs(3)));
}

#[test]
fn named_defaults_and_from() {
    let cfg = "defaults base\n    mode http\n    timeout client 9s\n    timeout connect 1s\n    timeout server 2s\n\
               defaults other\n    mode tcp\n    timeout client 1s\n    timeout connect 1s\n    timeout server 2s\n\
               listen web from base\n    bind :8080\n    server s 10.0.0.1:80\n\
               defaults child from base\n    retries 7\n\
               backend be from child\n    server s 10.0.0.1:80\n";
    let (c, d) = load(cfg);
    let c = c.unwrap_or_else(|| panic!("{:?}", d));
    let web = c.frontend_by_name("web").unwrap();
    assert_eq!(web.mode, Mode::Http);
    assert_eq!(web.timeouts.client, Some(Duration::from_secs(9)));
    let be = &c.backends[c.backend_by_name("be").unwrap().0];
    assert_eq!(be.mode, Mode::Http);
    assert_eq!(be.retries, 7);
}

#[test]
fn listen_is_a_frontend_and_a_backend() {
    let cfg = format!("{TIMEOUTS}listen app\n    bind 127.0.0.1:8080,[::1]:8081\n    balance leastconn\n    server s1 10.0.0.1:80 weight 10 backup\n    server s2 10.0.0.2\n");
    let (c, d) = load(&cfg);
    let c = c.unwrap_or_else(|| panic!("{:?}", d));
    let fe = c.frontend_by_name("app").unwrap();
    let be_id = c.backend_by_name("app").unwrap();
    assert_eq!(fe.default_backend, Some(be_id));
    assert_eq!(fe.binds.len(), 2);
    assert_eq!(
        fe.binds[1].addr,
        BindAddr::Inet {
            addr: "::1".parse().unwrap(),
            port_lo: 8081,
            port_hi: 8081
        }
    );
    let be = c.backend(be_id);
    assert!(matches!(be.balance, Balance::LeastConn));
    assert_eq!(be.servers[0].weight, 10);
    assert!(be.servers[0].backup);
    assert_eq!(
        be.servers[1].addr,
        ServerAddr::Inet {
            ip: "10.0.0.2".parse().unwrap(),
            port: None,
            port_offset: 0
        }
    );
}

#[test]
fn missing_backend_is_haproxys_alert() {
    let cfg = format!("{TIMEOUTS}frontend fe\n    bind :80\n    default_backend nope\n");
    let (c, d) = load(&cfg);
    assert!(c.is_none());
    assert!(
        texts(&d, Level::Alert)
            .contains(&"Proxy 'fe': unable to find required default_backend: 'nope'.".to_string()),
        "{d:?}"
    );
}

#[test]
fn duplicate_names() {
    let cfg = format!("{TIMEOUTS}backend b\n    server s 10.0.0.1:80\n    server s 10.0.0.2:80\nbackend b\n    server t 10.0.0.1:80\n");
    let (_, d) = load(&cfg);
    let alerts = texts(&d, Level::Alert);
    assert!(alerts.iter().any(|a| a.contains("backend 'b' has the same name as backend 'b' declared at t.cfg:5")), "{alerts:?}");
    // Duplicate servers are a post-parse check: reported once parsing succeeds.
    let cfg = format!("{TIMEOUTS}backend b\n    server s 10.0.0.1:80\n    server s 10.0.0.2:80\n");
    let (_, d) = load(&cfg);
    assert_eq!(
        texts(&d, Level::Alert),
        vec!["parsing [t.cfg:7] : backend 'b', another server named 's' was already defined at line 6, please use distinct names.".to_string()]
    );
}

#[test]
fn http_frontend_cannot_use_tcp_backend() {
    let cfg = format!("{TIMEOUTS}frontend fe\n    mode http\n    bind :80\n    default_backend be\nbackend be\n    server s 10.0.0.1:80\n");
    let (c, d) = load(&cfg);
    assert!(c.is_none());
    assert!(texts(&d, Level::Alert)[0].starts_with(
        "http frontend 'fe' (t.cfg:5) tries to use incompatible tcp backend 'be' (t.cfg:9)"
    ));
}

#[test]
fn unknown_keyword_suggests() {
    let cfg = format!("{TIMEOUTS}frontend fe\n    bind :80\n    tiemout client 5s\n");
    let (_, d) = load(&cfg);
    let a = d.items.iter().find(|x| x.level == Level::Alert).unwrap();
    assert_eq!(a.text, "parsing [t.cfg:7] : unknown keyword 'tiemout' in 'frontend' section; did you mean 'timeout' maybe ?");
    assert_eq!(a.help.as_deref(), Some("did you mean 'timeout'?"));
}

#[test]
fn removed_and_bad_values() {
    let cfg =
        "defaults\n    contimeout 5s\n    timeout connect 5x\n    mode foo\n    balance foo\n";
    let (_, d) = load(cfg);
    assert_eq!(
        texts(&d, Level::Alert),
        vec![
            "parsing [t.cfg:2] : the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.",
            "parsing [t.cfg:3] : unexpected character 'x' in 'timeout connect'",
            "parsing [t.cfg:4] : unknown proxy mode 'foo'.",
            "parsing [t.cfg:5] : balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.",
        ]
    );
}

#[test]
fn server_names_resolve_at_load() {
    let env = MemoryEnv::new().with_host("app", &["10.1.2.3".parse::<IpAddr>().unwrap()]);
    let cfg = format!("{TIMEOUTS}backend b\n    server s1 app:80\n    server s2 nowhere:80 init-addr last,libc,none\n");
    let (c, d) = load_with(&cfg, &env);
    let c = c.unwrap_or_else(|| panic!("{d:?}"));
    let b = &c.backends[0];
    assert_eq!(
        b.servers[0].addr,
        ServerAddr::Inet {
            ip: "10.1.2.3".parse().unwrap(),
            port: Some(80),
            port_offset: 0
        }
    );
    assert!(matches!(b.servers[1].addr, ServerAddr::Unresolved { .. }));
    assert!(texts(&d, Level::Warning)
        .iter()
        .any(|w| w.contains("could not resolve address 'nowhere', disabling server.")));

    let cfg = format!("{TIMEOUTS}backend b\n    server s1 nowhere:80\n");
    let (c, d) = load_with(&cfg, &env);
    assert!(c.is_none());
    assert_eq!(
        texts(&d, Level::Alert),
        vec![
            "[t.cfg:6] : 'server b/s1' : could not resolve address 'nowhere'.",
            "Failed to initialize server(s) addr."
        ]
    );
}

#[test]
fn certificates_are_checked_and_tls_refused() {
    let cfg = format!("{TIMEOUTS}frontend fe\n    bind *:443 ssl crt /etc/ssl/x.pem\n    default_backend b\nbackend b\n    server s 10.0.0.1:80\n");
    let (c, d) = load(&cfg);
    assert!(c.is_none());
    assert_eq!(
        texts(&d, Level::Alert)[0],
        "parsing [t.cfg:6] : 'bind *:443' in section 'frontend' : unable to stat SSL certificate from file '/etc/ssl/x.pem' : No such file or directory."
    );
    let env = MemoryEnv::new().with_file("/etc/ssl/x.pem", "pem");
    let (c, d) = load_with(&cfg, &env);
    let c = c.unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(c.refused.len(), 1);
    assert_eq!(c.refused[0].keyword, "bind ssl");
    assert!(c.frontends[0].binds[0].ssl);
}

#[test]
fn parsed_only_keywords_are_notices_not_warnings() {
    let cfg = format!(
        "global\n    cpu-map 1 0\n{TIMEOUTS}listen l\n    bind :80\n    server s 10.0.0.1:80 check check-send-proxy\n"
    );
    let (c, d) = load(&cfg);
    assert!(c.is_some(), "{d:?}");
    assert!(!d.has_warnings(), "{d:?}");
    let notices: Vec<&str> = d
        .items
        .iter()
        .filter(|x| x.unimplemented)
        .map(|x| x.text.as_str())
        .collect();
    assert!(
        notices.contains(&"parsing [t.cfg:2] : 'cpu-map' is parsed but not implemented"),
        "{notices:?}"
    );
    assert!(
        notices.contains(
            &"parsing [t.cfg:9] : 'server check-send-proxy' is parsed but not implemented"
        ),
        "{notices:?}"
    );
}

#[test]
fn options_and_mode_warnings() {
    let cfg = format!("{TIMEOUTS}backend waf\n    option forwardfor\n    option http-server-close\n    server s 10.0.0.1:80\nbackend h\n    mode http\n    option httpclose\n    option forwardfor except 10.0.0.0/8 header X-Real-IP\n    server s 10.0.0.1:80\n");
    let (c, d) = load(&cfg);
    let c = c.unwrap_or_else(|| panic!("{d:?}"));
    assert!(texts(&d, Level::Warning).contains(
        &"'option forwardfor' ignored for backend 'waf' as it requires HTTP mode.".to_string()
    ));
    let h = &c.backends[1];
    assert_eq!(h.options.http_conn_mode, HttpConnMode::Close);
    let ff = h.options.forwardfor.as_ref().unwrap();
    assert_eq!(ff.header, "X-Real-IP");
    assert_eq!(
        ff.except,
        Some(ir::sample::IpNet {
            addr: "10.0.0.0".parse().unwrap(),
            prefix: 8
        })
    );
}

#[test]
fn missing_timeouts_warn() {
    let (c, d) = load("frontend fe\n    bind :80\n");
    assert!(c.is_some());
    assert!(texts(&d, Level::Warning)
        .iter()
        .any(|w| w.starts_with("missing timeouts for frontend 'fe'.")));
}

#[test]
fn unknown_user_and_lua_file() {
    let (_, d) = load("global\n    user vagrant\n    lua-load /x.lua\n");
    assert_eq!(
        texts(&d, Level::Alert),
        vec![
            "parsing [t.cfg:2] : cannot find user id for 'vagrant' (0:Success)",
            "parsing [t.cfg:3] : error in Lua file '/x.lua': cannot open /x.lua: No such file or directory",
        ]
    );
}

#[test]
fn logs() {
    let cfg = format!("global\n    log 127.0.0.1:514 local0 notice\n    log stdout format raw local1\n{TIMEOUTS}    log global\nlisten l\n    bind :80\n    server s 10.0.0.1:80\n");
    let (c, d) = load(&cfg);
    let c = c.unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(c.frontends[0].logs.len(), 2);
    assert_eq!(
        c.frontends[0].logs[1],
        ir::LogTarget {
            dest: ir::LogDest::Stdout,
            facility: 17,
            max_level: 7,
            min_level: 0,
            format: ir::LogTransport::Raw,
            len: 1024,
            sample: None,
        }
    );
    let (_, d) = load("global\n    log 127.0.0.1 foo\n");
    assert_eq!(
        texts(&d, Level::Alert),
        vec!["parsing [t.cfg:2] : log : unknown log facility 'foo'"]
    );
    // `len`, `sample` and the minimum level, with 2.6's errors.
    let cfg = format!("global\n    log 127.0.0.1 len 300 sample 1-2,4:5 local0 info notice\n{TIMEOUTS}    log global\nlisten l\n    bind :80\n    server s 10.0.0.1:80\n");
    let (c, d) = load(&cfg);
    let t = &c.unwrap_or_else(|| panic!("{d:?}")).frontends[0].logs[0];
    assert_eq!((t.len, t.max_level, t.min_level), (300, 6, 5));
    let sample = t.sample.as_ref().unwrap();
    let kept: Vec<u64> = (0..10).filter(|&n| sample.keeps(n)).collect();
    assert_eq!(kept, [0, 1, 3, 5, 6, 8]);
    for (arg, msg) in [
        (
            "len 79",
            "invalid log length '79', must be between 80 and 65535",
        ),
        ("sample 1", "Missing sample size"),
        ("sample 2-1:3", "wrong sample range '2-1'"),
        ("sample 0:2", "wrong sample range '0'"),
        ("format raw len 200", "unknown log facility 'len'"),
        (
            "sample 3:2",
            "sample size 2 should be greater or equal to 3 the maximum of the high ranges limits",
        ),
    ] {
        let (_, d) = load(&format!("global\n    log 127.0.0.1 {arg} local0\n"));
        assert_eq!(
            texts(&d, Level::Alert),
            vec![format!("parsing [t.cfg:2] : log : {msg}")]
        );
    }
}

/// Lowering must never panic: feed it every keyword of the table with assorted arguments.
#[test]
fn never_panics_on_odd_arguments() {
    let args = [
        "",
        "x",
        "0",
        "-1",
        "99999999999999999999",
        ":",
        "[",
        "a:b:c",
        "1-0",
        "*:",
        "if",
        "{",
        "}",
        "!",
        "%[",
        "\"\"",
        "fd@",
        "ipv6@",
        "/",
        "1.2.3.4:+9",
        "5x",
    ];
    let mut seed: u64 = 42;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for section in [
        "global",
        "defaults",
        "frontend f",
        "backend b",
        "listen l",
        "userlist u",
        "peers p",
        "cache c",
    ] {
        let mut text = format!("{section}\n");
        for kw in super::keywords::KEYWORDS.iter().map(|k| k.name).chain([
            "option forwardfor",
            "option httpchk",
            "bind",
            "server s",
            "default-server",
            "server-template t",
        ]) {
            for _ in 0..3 {
                text.push_str("    ");
                text.push_str(kw);
                for _ in 0..(next() % 5) {
                    text.push(' ');
                    text.push_str(args[next() % args.len()]);
                }
                text.push('\n');
            }
        }
        let _ = load(&text);
    }
}

#[test]
fn samples_in_balance_use_backend_and_log_format() {
    let cfg = format!("{TIMEOUTS}frontend fe\n    mode http\n    bind :80\n    log-format \"%ci %[src]\"\n    use_backend %[req.hdr(host),lower] if {{ path_beg /a }}\n    default_backend be\nbackend be\n    mode http\n    balance hash req.hdr(host)\n    server s 10.0.0.1:80\n");
    let (c, d) = load(&cfg);
    let c = c.unwrap_or_else(|| panic!("{d:?}"));
    let fe = &c.frontends[0];
    assert!(matches!(fe.log_format, ir::LogFormat::Custom(_)));
    assert!(matches!(
        fe.switching[0].backend,
        ir::BackendTarget::Dynamic(_)
    ));
    assert!(fe.switching[0].cond.is_some());
    assert!(matches!(c.backends[0].balance, Balance::Hash(_)));
    assert!(c.refused.is_empty(), "{:?}", c.refused);
}

#[test]
fn fetches_naming_missing_things_are_alerts() {
    let cfg = format!("{TIMEOUTS}frontend fe\n    mode http\n    bind :80\n    acl dead nbsrv(nope) lt 1\n    default_backend be\nbackend be\n    mode http\n    server s 10.0.0.1:80\n");
    let (c, d) = load(&cfg);
    assert!(c.is_none());
    assert_eq!(
        texts(&d, Level::Alert),
        vec!["parsing [t.cfg:8]: unable to find backend 'nope' referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'fe'."]
    );
}

#[test]
fn capability_warnings_name_the_missing_side() {
    let cfg = format!("{TIMEOUTS}backend be\n    maxconn 10\n    option dontlognull\n    server s 10.0.0.1:80\nfrontend fe\n    bind :80\n    retries 3\n    default_backend be\n");
    let (_, d) = load(&cfg);
    let w = texts(&d, Level::Warning);
    assert!(w.contains(&"parsing [t.cfg:6] : 'maxconn' ignored because backend 'be' has no frontend capability. Maybe you want 'fullconn' instead ?".to_string()), "{w:?}");
    assert!(w.contains(&"parsing [t.cfg:7] : 'dontlognull' ignored because backend 'be' has no frontend capability.".to_string()), "{w:?}");
    assert!(w.contains(&"parsing [t.cfg:11] : 'retries' ignored because frontend 'fe' has no backend capability.".to_string()), "{w:?}");
}

/// Lowering must never panic on real configs cut and shuffled: every corpus file (when the
/// shared corpus is there) with lines truncated, words dropped and lines swapped.
#[test]
fn never_panics_on_mutated_real_configs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dirs = [
        root.join("haproxy-samples"),
        root.join("../shared/haproxy-corpus/cfg"),
        root.join("../../shared/haproxy-corpus/cfg"),
    ];
    let env = MemoryEnv::new().with_user("haproxy").with_group("haproxy");
    let mut seed: u64 = 7;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut files = 0;
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            files += 1;
            let lines: Vec<&str> = text.lines().collect();
            for round in 0..4 {
                let mut out = String::new();
                for (i, l) in lines.iter().enumerate() {
                    let l = match (round + i + next()) % 7 {
                        0 => l.get(..l.len() / 2).unwrap_or(l).to_string(),
                        1 => l
                            .split_whitespace()
                            .filter(|_| next() % 3 != 0)
                            .collect::<Vec<_>>()
                            .join(" "),
                        2 => lines[next() % lines.len()].to_string(),
                        _ => l.to_string(),
                    };
                    out.push_str(&l);
                    out.push('\n');
                }
                let _ = load_with(&out, &env);
            }
        }
    }
    assert!(files > 0, "no config found to mutate");
}

#[test]
fn dr_option_disables_unresolvable_servers() {
    let cfg = format!("{TIMEOUTS}backend b\n    server s1 nowhere:80\n");
    let env = MemoryEnv::new();
    let mut ast = ConfigAst::default();
    let mut diags = Diagnostics::default();
    let _ = crate::parse::parse_text("t.cfg", cfg.as_bytes(), &env, &mut ast, &mut diags);
    let opts = super::LowerOptions {
        ignore_resolve_errors: true,
        local_peer: None,
    };
    let c = super::lower_with(&ast, &env, &mut diags, &opts);
    assert!(c.is_some(), "{diags:?}");
    assert!(texts(&diags, Level::Warning)
        .iter()
        .any(|w| w.ends_with("could not resolve address 'nowhere', disabling server.")));
}

#[test]
fn named_defaults_used_both_ways_is_a_notice() {
    let cfg = "defaults d\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f from d\n    bind :81\n    default_backend b\nbackend b\n    server s 10.0.0.1:80\n";
    let (c, d) = load(cfg);
    assert!(c.is_some(), "{d:?}");
    let n = texts(&d, Level::Notice);
    assert!(n.iter().any(|t| t.starts_with("parsing [t.cfg:9] : defaults section 'd' (declared at t.cfg:1) is explicitly referenced")), "{n:?}");
}

#[test]
fn smart_accept_is_on_by_default_in_http_mode_only() {
    let fe = |mode: &str, opt: &str| {
        let cfg = format!(
            "{TIMEOUTS}frontend f\n    mode {mode}\n{opt}    bind :8001\n    default_backend b\n\
             backend b\n    mode {mode}\n    server s 10.0.0.1:80\n"
        );
        let (c, d) = load(&cfg);
        let c = c.unwrap_or_else(|| panic!("{:?}", d));
        c.frontend_by_name("f").unwrap().smart_accept()
    };
    assert!(fe("http", ""));
    assert!(!fe("tcp", ""));
    assert!(!fe("http", "    no option tcp-smart-accept\n"));
    assert!(fe("tcp", "    option tcp-smart-accept\n"));
}

#[test]
fn daemon_keyword_sets_daemon_and_takes_no_argument() {
    let (c, d) = load(&format!(
        "global\n    daemon\n{TIMEOUTS}listen l\n    bind :80\n"
    ));
    let c = c.unwrap_or_else(|| panic!("{d:?}"));
    assert!(c.global.daemon);
    assert!(!d.items.iter().any(|x| x.unimplemented), "{d:?}");
    let (c, _) = load(&format!("{TIMEOUTS}listen l\n    bind :80\n"));
    assert!(!c.expect("config").global.daemon);
    let (c, d) = load(&format!(
        "global\n    daemon foo\n{TIMEOUTS}listen l\n    bind :80\n"
    ));
    assert!(c.is_none());
    assert!(
        d.items
            .iter()
            .any(|x| x.text
                == "parsing [t.cfg:2] : 'daemon' cannot handle unexpected argument 'foo'."),
        "{d:?}"
    );
}

#[test]
fn first_pidfile_wins() {
    let (c, d) = load(&format!(
        "global\n    pidfile /run/a.pid\n    pidfile /run/b.pid\n{TIMEOUTS}listen l\n    bind :80\n"
    ));
    let c = c.unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(
        c.global.pidfile.as_deref(),
        Some(std::path::Path::new("/run/a.pid"))
    );
}
