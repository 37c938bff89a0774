//! Loading a config and judging it as HAProxy 2.6 does: the messages, the trailers
//! (`Error(s) found in configuration file`, `Fatal errors found in configuration.`,
//! zero-warning), and for `-c` the verdict on stdout with its exit code.

use haproxyrs_config::ast::{ConfigAst, SectionKind};
use haproxyrs_config::env::Environment;
use haproxyrs_config::ir::Config;
use haproxyrs_config::{lower, parse, Diagnostic, Diagnostics, Level};

use crate::cli::Options;
use crate::report::Reporter;

/// Everything one load produced.
pub struct Loaded {
    pub ast: ConfigAst,
    /// The IR, when no ALERT was emitted.
    pub config: Option<Config>,
    pub diags: Diagnostics,
    /// The config files read, in order (directories expanded).
    pub files: Vec<String>,
}

/// Parse and lower `opts.files`, adding the command line's own warnings.
pub fn load(opts: &Options, env: &dyn Environment) -> Loaded {
    let files = parse::config_files(&opts.files, env).unwrap_or_default();
    let (ast, mut diags) = parse::parse_paths(&opts.files, env);
    let missing_file = diags.aborted && ast.sections.is_empty() && diags.has_alerts();
    let config = if missing_file {
        None
    } else {
        lower::lower(&ast, env, &mut diags)
    };
    if !opts.master_cli.is_empty() && !master_worker(opts, &ast) {
        diags.push(Diagnostic::new(
            Level::Warning,
            "a master CLI socket was defined, but master-worker mode (-W) is not enabled.",
        ));
    }
    let config = if diags.has_alerts() { None } else { config };
    log::debug!(
        "loaded {} file(s), {} section(s), {} message(s)",
        files.len(),
        ast.sections.len(),
        diags.items.len()
    );
    Loaded {
        ast,
        config,
        diags,
        files,
    }
}

/// Whether a global keyword (without arguments that matter here) is set.
fn global_has(ast: &ConfigAst, keyword: &str) -> bool {
    ast.sections
        .iter()
        .filter(|s| s.kind == SectionKind::Global)
        .flat_map(|s| &s.lines)
        .any(|l| l.keyword() == keyword)
}

/// Master-worker mode: `-W`, `-Ws` or `master-worker` in the global section. The master
/// always has a listener of its own (its CLI socket pair).
pub fn master_worker(opts: &Options, ast: &ConfigAst) -> bool {
    opts.unimplemented.iter().any(|f| f == "-W" || f == "-Ws") || global_has(ast, "master-worker")
}

/// `zero-warning` in the global section, or `-dW`.
fn zero_warning(opts: &Options, ast: &ConfigAst) -> bool {
    opts.zero_warning || global_has(ast, "zero-warning")
}

/// Whether the config would listen anywhere: an enabled frontend bind, a stats socket,
/// or a log-forward bind (what HAProxy 2.6 counts before its "no listener" exit).
pub fn has_listener(ast: &ConfigAst, config: &Config) -> bool {
    let frontends = config
        .frontends
        .iter()
        .any(|f| !f.disabled && !f.binds.is_empty());
    let log_forward = ast
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::LogForward)
        .flat_map(|s| &s.lines)
        .any(|l| matches!(l.keyword(), "bind" | "dgram-bind"));
    frontends || !config.global.stats_sockets.is_empty() || log_forward
}

/// Print every message and the trailers. `Err(code)` when the load must stop.
pub fn report(loaded: &Loaded, opts: &Options, out: &mut Reporter<'_>) -> Result<(), i32> {
    for d in &loaded.diags.items {
        out.diagnostic(d);
    }
    if loaded.diags.has_alerts() {
        for file in &loaded.files {
            let prefix = format!("parsing [{file}:");
            let parse_error = loaded
                .diags
                .items
                .iter()
                .any(|d| d.level == Level::Alert && d.text.starts_with(&prefix));
            if parse_error {
                out.config(
                    Level::Alert,
                    &format!("Error(s) found in configuration file : {file}"),
                );
            }
        }
        if !loaded.diags.aborted {
            out.config(Level::Alert, "Fatal errors found in configuration.");
        }
        return Err(1);
    }
    if loaded.diags.has_warnings() && zero_warning(opts, &loaded.ast) {
        out.config(
            Level::Alert,
            "Some warnings were found and 'zero-warning' is set. Aborting.",
        );
        return Err(1);
    }
    Ok(())
}

/// `-c`: the verdict and its exit code.
pub fn check(opts: &Options, env: &dyn Environment) -> i32 {
    let loaded = load(opts, env);
    let mut out = Reporter::new(env, opts.quiet, opts.diag_mode);
    if let Err(code) = report(&loaded, opts, &mut out) {
        return code;
    }
    if loaded.diags.has_warnings() {
        out.stdout("Warnings were found.");
    }
    let listens = master_worker(opts, &loaded.ast)
        || loaded
            .config
            .as_ref()
            .is_some_and(|c| has_listener(&loaded.ast, c));
    if !listens {
        out.stdout("Configuration file has no error but will not start (no listener) => exit(2).");
        return 2;
    }
    out.stdout("Configuration file is valid");
    0
}

/// `-cc EXPR`: 0 true, 1 false, 2 error.
pub fn condition(expr: &str, opts: &Options, env: &dyn Environment) -> i32 {
    match parse::eval_condition(expr, env) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(msg) => {
            let mut out = Reporter::new(env, opts.quiet, opts.diag_mode);
            out.config(
                Level::Alert,
                &format!("Failed to evaluate condition: {msg}"),
            );
            2
        }
    }
}
