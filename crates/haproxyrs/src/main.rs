//! The `haproxyrs` binary: HAProxy 2.6's command line in front of the config crate and
//! the engines.
//!
//! # Layout
//! - [`cli`]: flags → [`cli::Command`], usage text.
//! - [`version`]: `-v` / `-vv`.
//! - [`report`]: messages on stderr in HAProxy's shape.
//! - [`check`]: load + judge a config; `-c` and `-cc`.
//! - [`start`]: everything between a good config and the running engines.
//! - [`daemon`]: the fork to the background (`daemon`, `-D`) and the pid file.

mod check;
mod cli;
mod daemon;
mod report;
mod start;
mod version;

use std::io::Write;

use haproxyrs_config::env::SystemEnv;
use haproxyrs_config::render;
use haproxyrs_config::Level;

use cli::{CliError, Command, Options};

/// HAProxy exports the local peer name (`-L`, default: the host name) to the config.
fn set_local_peer(opts: &Options) {
    let name = opts.local_peer.clone().or_else(|| {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        (rc == 0).then(|| {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            String::from_utf8_lossy(&buf[..end]).into_owned()
        })
    });
    if let Some(name) = name {
        std::env::set_var("HAPROXY_LOCALPEER", name);
    }
}

/// `-C DIR`, before any file is read.
fn change_dir(opts: &Options) -> Result<(), String> {
    match &opts.chdir {
        Some(dir) => std::env::set_current_dir(dir).map_err(|e| {
            format!(
                "Could not change to directory {dir} : {}",
                haproxyrs_config::parse::strerror(&e)
            )
        }),
        None => Ok(()),
    }
}

fn print_usage() -> i32 {
    let _ = std::io::stdout().write_all(version::version().as_bytes());
    let _ = std::io::stderr().write_all(cli::usage("haproxyrs").as_bytes());
    1
}

fn run() -> i32 {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(c) => c,
        Err(CliError::Usage) => return print_usage(),
        Err(CliError::Alert(msg)) => {
            eprintln!(
                "{}",
                render::header(Level::Alert, std::process::id(), None, &msg)
            );
            return 1;
        }
    };
    let env = SystemEnv;
    match command {
        Command::Version { build } => {
            let text = if build {
                version::build_options()
            } else {
                version::version()
            };
            let _ = std::io::stdout().write_all(text.as_bytes());
            0
        }
        Command::Condition(expr, opts) => {
            set_local_peer(&opts);
            check::condition(&expr, &opts, &env)
        }
        Command::Load(opts) => {
            if let Err(msg) = change_dir(&opts) {
                report::Reporter::new(&env, opts.quiet, opts.diag_mode).plain(Level::Alert, &msg);
                return 1;
            }
            set_local_peer(&opts);
            // A directory without any *.cfg file leaves nothing to load: usage, as HAProxy.
            if matches!(haproxyrs_config::parse::config_files(&opts.files, &env), Ok(f) if f.is_empty())
            {
                return print_usage();
            }
            if opts.check {
                check::check(&opts, &env)
            } else {
                start::start(&opts, &env)
            }
        }
    }
}

/// The program's own diagnostics: `RUST_LOG` when set, else debug under `-d`, else warnings.
fn init_logging() {
    let debug = std::env::args_os().skip(1).any(|a| a == "-d");
    let default = if debug { "debug" } else { "warn" };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default)).init();
}

fn main() {
    init_logging();
    std::process::exit(run());
}
