//! The `haproxyrs` binary: HAProxy's command line in front of the config crate and engines.

fn main() {
    env_logger::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let loaded = haproxyrs_config::load(&args, &haproxyrs_config::env::SystemEnv);
    std::process::exit(if loaded.config.is_some() { 0 } else { 1 });
}
