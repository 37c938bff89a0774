//! Starting the proxy (no `-c`): load and judge the config, refuse what haproxyrs does not
//! implement (command-line flags and security-relevant keywords), apply the process flags
//! (`-n`, `-m`), bind every socket, go to the background in daemon mode (`-p`/`pidfile`),
//! then hand the IR to the engines.

use std::path::Path;
use std::sync::Arc;

use haproxyrs_config::env::Environment;
use haproxyrs_config::ir::Config;
use haproxyrs_config::{Diagnostic, Level};
use haproxyrs_proxy::{Opened, RunOptions};

use crate::check;
use crate::cli::Options;
use crate::daemon;
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
        "-W" | "-Ws" => {
            " haproxyrs has no master process: use -D (systemd: Type=forking) or -db (Type=simple)."
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
    // As 2.6: `-D` always forks; `-d` and `-db` only override the `daemon` keyword.
    let daemon = opts.daemon || (config.global.daemon && !opts.foreground && !opts.debug);
    let pidfile = opts
        .pidfile
        .as_ref()
        .map(std::path::PathBuf::from)
        .or_else(|| config.global.pidfile.clone());
    let quiet_serving = check::quiet_serving(opts, &loaded.ast);
    let run = RunOptions {
        no_splice: opts.no_splice,
    };
    log::debug!("starting with {} frontend(s)", config.frontends.len());
    let opened = match haproxyrs_proxy::open(Arc::new(config), &run) {
        Ok(o) => o,
        Err(e) => {
            out.plain(Level::Alert, &format!("[haproxyrs.main()] {e}"));
            return 1;
        }
    };
    let served = if daemon {
        match background(opened, pidfile.as_deref(), &mut out) {
            Ok(Some(opened)) => opened.serve(),
            Ok(None) => return 0,
            Err(code) => return code,
        }
    } else {
        // As 2.6, the pid file is only written in daemon mode; in quiet mode nothing more
        // is shown once serving starts (/dev/null is opened before any chroot).
        if quiet_serving {
            let silenced = daemon::open_devnull().and_then(|f| daemon::silence_stdio(&f));
            if let Err(e) = silenced {
                out.plain(Level::Alert, &format!("[haproxyrs.main()] /dev/null: {e}"));
                return 1;
            }
        }
        opened.drop_privileges().and_then(|()| opened.serve())
    };
    match served {
        Ok(()) => 0,
        Err(e) => {
            out.plain(Level::Alert, &format!("[haproxyrs.main()] {e}"));
            1
        }
    }
}

/// Daemon mode, between the bound sockets and the threads: `Ok(None)` in the foreground
/// process (it exits 0), `Ok(Some(..))` in the background process (it serves), `Err(exit
/// code)` when going to the background fails.
fn background(
    opened: Opened,
    pidfile: Option<&Path>,
    out: &mut Reporter<'_>,
) -> Result<Option<Opened>, i32> {
    let alert = |out: &mut Reporter<'_>, msg: String| {
        out.plain(Level::Alert, &format!("[haproxyrs.main()] {msg}"));
        1
    };
    let pid_file = match pidfile {
        Some(path) => Some(
            daemon::PidFile::create(path)
                .map_err(|_| alert(out, format!("Cannot create pidfile {}", path.display())))?,
        ),
        None => None,
    };
    // Opened before any chroot, which may hide /dev.
    let devnull = daemon::open_devnull().map_err(|e| alert(out, format!("/dev/null: {e}")))?;
    match daemon::fork().map_err(|e| alert(out, e.to_string()))? {
        daemon::Side::Parent(pid) => {
            if let (Some(f), Some(path)) = (pid_file, pidfile) {
                if let Err(e) = f.write_pid(pid) {
                    alert(
                        out,
                        format!("Cannot write pidfile {} : {e}", path.display()),
                    );
                }
            }
            Ok(None)
        }
        daemon::Side::Child => {
            drop(pid_file);
            // Messages from now on carry the background pid, as in 2.6.
            out.refresh_pid();
            opened
                .drop_privileges()
                .map_err(|e| alert(out, e.to_string()))?;
            daemon::detach(&devnull).map_err(|e| alert(out, e.to_string()))?;
            Ok(Some(opened))
        }
    }
}
