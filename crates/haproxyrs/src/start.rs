//! Starting the proxy (no `-c`): load and judge the config, refuse what haproxyrs does not
//! implement (command-line flags and security-relevant keywords), apply the process flags
//! (`-n`, `-m`, `-p`), then hand the IR to the engines.

use std::sync::Arc;

use haproxyrs_config::env::Environment;
use haproxyrs_config::ir::Config;
use haproxyrs_config::{Diagnostic, Level};
use haproxyrs_proxy::RunOptions;

use crate::check;
use crate::cli::Options;
use crate::report::Reporter;

/// `-m MEGS`: cap the address space, as HAProxy caps its memory.
fn limit_memory(megs: u64) -> Result<(), String> {
    let bytes = megs.saturating_mul(1024 * 1024);
    let lim = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: setrlimit reads a valid, initialised struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) } != 0 {
        return Err(format!(
            "[haproxyrs.main()] Cannot fix MEM limit to {megs} megs ({}).",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// What to do instead of a refused process-management flag.
fn flag_hint(flag: &str) -> &'static str {
    match flag {
        "-D" | "-W" | "-Ws" => {
            " haproxyrs stays in the foreground: run it under a supervisor with -db (systemd: Type=simple)."
        }
        f if f.starts_with("-sf") || f.starts_with("-st") || f.starts_with("-x") => {
            " Stop the old process yourself once the new one listens."
        }
        _ => "",
    }
}

/// Keywords that parse but whose behaviour the engines lack, where running without them
/// would change routing, access control or security: one ALERT each, and no start.
fn refuse_unimplemented(config: &Config, out: &mut Reporter<'_>) -> bool {
    for r in &config.refused {
        let d = Diagnostic::at(
            Level::Alert,
            &r.span,
            format!(
                "'{}' is not implemented by haproxyrs yet; refusing to start, since running without it would change routing, access control or security.",
                r.keyword
            ),
        );
        out.diagnostic(&d);
    }
    !config.refused.is_empty()
}

/// Start: returns the process exit code.
pub fn start(opts: &Options, env: &dyn Environment) -> i32 {
    let mut out = Reporter::new(env, opts.quiet, opts.diag_mode);
    if !opts.unimplemented.is_empty() {
        for flag in &opts.unimplemented {
            out.plain(
                Level::Alert,
                &format!("haproxyrs does not implement '{flag}' yet; refusing to start (use it with -c only).{}", flag_hint(flag)),
            );
        }
        return 1;
    }
    let loaded = check::load(opts, env);
    let mut out = Reporter::new(env, check::quiet(opts, &loaded.ast), opts.diag_mode);
    if let Err(code) = check::report(&loaded, opts, env, &mut out) {
        return code;
    }
    let Some(mut config) = loaded.config else {
        return 1;
    };
    if !check::has_listener(&loaded.ast, &config, opts, env) {
        out.plain(
            Level::Alert,
            "[haproxyrs.main()] No enabled listener found (check for 'bind' directives) ! Exiting.",
        );
        return 1;
    }
    if refuse_unimplemented(&config, &mut out) {
        return 1;
    }
    if let Some(n) = opts.maxconn {
        config.global.maxconn = n;
    }
    if let Some(megs) = opts.mem_limit_mb.filter(|&m| m > 0) {
        // As in HAProxy, a limit that cannot be set is a warning, not a failure.
        if let Err(e) = limit_memory(megs) {
            out.plain(Level::Warning, &e);
        }
    }
    if let Some(path) = &opts.pidfile {
        if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
            out.plain(
                Level::Alert,
                &format!("[haproxyrs.main()] Cannot create pidfile {path} : {e}"),
            );
            return 1;
        }
    }
    // haproxyrs never forks (`-D` is refused above), so it always stays in the foreground.
    // The update syntax keeps this compiling while the runtime adds options.
    #[allow(clippy::needless_update)]
    let run = RunOptions {
        foreground: true,
        no_splice: opts.no_splice,
        ..Default::default()
    };
    log::debug!("starting with {} frontend(s)", config.frontends.len());
    match haproxyrs_proxy::run(Arc::new(config), run) {
        Ok(()) => 0,
        Err(e) => {
            out.plain(Level::Alert, &format!("[haproxyrs.main()] {e}"));
            1
        }
    }
}
