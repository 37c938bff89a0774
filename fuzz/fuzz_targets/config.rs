//! Fuzz target `config`: arbitrary bytes as a config file, through the lexer, the
//! preprocessor, lowering and diagnostic rendering, in a fake environment. Nothing may
//! panic, hang or allocate without bound. Also feeds the text to `-cc`'s evaluator.
#![no_main]

use haproxyrs_config::env::MemoryEnv;
use haproxyrs_config::render::{render, Sources};
use haproxyrs_config::{lower, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let env = MemoryEnv::new()
        .with_var("HOME", "/root")
        .with_var("SP", " a  b ")
        .with_var("EMPTY", "")
        .with_file("/etc/haproxy/errors/503.http", "HTTP/1.0 503\r\n\r\n")
        .with_file("fuzz.cfg", data.to_vec())
        .with_host("localhost", &["127.0.0.1".parse().unwrap()])
        .with_user("haproxy")
        .with_group("haproxy");
    let paths = ["fuzz.cfg".to_string()];
    let (ast, mut diags) = parse::parse_paths(&paths, &env);
    let _ = lower::lower(&ast, &env, &mut diags);
    let mut sources = Sources::new(&env);
    for d in &diags.items {
        let _ = render(d, 1, &mut sources);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if text.len() < 4096 {
            let _ = parse::eval_condition(text, &env);
        }
    }
});
