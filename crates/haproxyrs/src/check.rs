//! Loading a config and judging it as HAProxy 2.6 does: the messages, the trailers
//! (`Error(s) found in configuration file`, `Fatal errors found in configuration.`,
//! zero-warning), and for `-c` the verdict on stdout with its exit code.

use std::path::Path;

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
    /// How many of `diags` the parser produced (lowering's follow).
    pub parsed: usize,
}

/// Parse and lower `opts.files`, adding the command line's own warnings.
pub fn load(opts: &Options, env: &dyn Environment) -> Loaded {
    let files = parse::config_files(&opts.files, env).unwrap_or_default();
    let (ast, mut diags) = parse::parse_paths(&opts.files, env);
    let parsed = diags.items.len();
    // Lowering runs even after the parser's ALERTs: HAProxy interprets every line it read
    // in the same pass, so keyword errors are reported alongside (it stops before its
    // validity checks, as lowering does when there is an ALERT).
    let lower_opts = lower::LowerOptions {
        ignore_resolve_errors: opts.ignore_resolve_errors,
        local_peer: opts.local_peer.clone(),
    };
    let config = lower::lower_with(&ast, env, &mut diags, &lower_opts);
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
        parsed,
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

/// The first argument of a global keyword.
fn global_arg(ast: &ConfigAst, keyword: &str) -> Option<String> {
    ast.sections
        .iter()
        .filter(|s| s.kind == SectionKind::Global)
        .flat_map(|s| &s.lines)
        .find(|l| l.keyword() == keyword)
        .and_then(|l| l.args().first())
        .map(|w| w.text.clone())
}

/// Master-worker mode: `-W`, `-Ws` or `master-worker` in the global section. The master
/// always has a listener of its own (its CLI socket pair).
pub fn master_worker(opts: &Options, ast: &ConfigAst) -> bool {
    opts.unimplemented.iter().any(|f| f == "-W" || f == "-Ws") || global_has(ast, "master-worker")
}

/// Quiet mode: `-q`, or `quiet` in the global section unless `-V` was given.
pub fn quiet(opts: &Options, ast: &ConfigAst) -> bool {
    opts.quiet || (!opts.verbose && global_has(ast, "quiet"))
}

/// Whether the standard streams go to `/dev/null` once the proxy serves, as 2.6 does in
/// quiet mode (server state changes, `log stdout` lines: nothing shows): `-q`, or the
/// global `quiet` unless `-d`/`-db` (which cancel the configuration's quiet) or `-V`.
pub fn quiet_serving(opts: &Options, ast: &ConfigAst) -> bool {
    opts.quiet || (!opts.verbose && !opts.debug && !opts.foreground && global_has(ast, "quiet"))
}

/// `zero-warning` in the global section, or `-dW`.
fn zero_warning(opts: &Options, ast: &ConfigAst) -> bool {
    opts.zero_warning || global_has(ast, "zero-warning")
}

/// Whether a `peers` section listens: it names the local peer (`-L`, default the host
/// name) with an address (`peer NAME ADDR`), or has a `bind` and a `server NAME` for it.
fn peers_listen(ast: &ConfigAst, local_peer: &str) -> bool {
    ast.sections
        .iter()
        .filter(|s| s.kind == SectionKind::Peers)
        .any(|s| {
            let names_local = |kw: &str| {
                s.lines.iter().any(|l| {
                    l.keyword() == kw && l.args().first().is_some_and(|w| w.text == local_peer)
                })
            };
            let has_bind = s.lines.iter().any(|l| l.keyword() == "bind");
            names_local("peer") || (has_bind && names_local("server"))
        })
}

/// Whether the config would listen anywhere: an enabled frontend bind, a stats socket, a
/// log-forward bind, or the local peer of a `peers` section (what HAProxy 2.6 counts
/// before its "no listener" exit).
pub fn has_listener(
    ast: &ConfigAst,
    config: &Config,
    opts: &Options,
    env: &dyn Environment,
) -> bool {
    let log_forward = ast
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::LogForward)
        .flat_map(|s| &s.lines)
        .any(|l| matches!(l.keyword(), "bind" | "dgram-bind"));
    // `-L` wins over the global `localpeer`, which wins over the host name.
    let local_peer = opts
        .local_peer
        .clone()
        .or_else(|| global_arg(ast, "localpeer"))
        .or_else(|| env.var("HAPROXY_LOCALPEER"))
        .unwrap_or_default();
    config.has_listeners()
        || !config.global.stats_sockets.is_empty()
        || log_forward
        || peers_listen(ast, &local_peer)
}

/// One line of the report, in the order HAProxy prints it.
enum Item<'a> {
    Message(&'a Diagnostic),
    /// `Error(s) found in configuration file : FILE`, after that file's messages.
    FileErrors(&'a str),
    /// HAProxy stops reading a file at the line after its 50th line with a fatal error.
    TooManyErrors(&'a str, u32),
}

/// HAProxy's limit of lines with fatal errors per file.
const MAX_FATAL_LINES: usize = 50;

/// `(file, line)` of a message HAProxy emits while reading the files (`parsing [f:l]…`).
fn parsing_location(d: &Diagnostic) -> Option<(&str, u32)> {
    // HAProxy spells a few of these `Parsing [` (duplicate proxy names).
    let rest = d
        .text
        .strip_prefix("parsing [")
        .or_else(|| d.text.strip_prefix("Parsing ["))?;
    let end = rest.find(']')?;
    let (file, line) = rest[..end].rsplit_once(':')?;
    Some((file, line.parse().ok()?))
}

/// HAProxy reads each file line by line, printing each line's messages as it goes (the
/// preprocessor's before the keyword's; a missing LF after the line), then the file's
/// `Error(s) found` line; checks made after reading come last. The parser and lowering
/// run one after the other here, so their messages are merged back into that order, and
/// a file's messages stop where HAProxy would stop reading it (50 lines with errors).
/// `line_count` gives the number of lines of a file (by index); the first `parsed`
/// messages are the parser's. Lowering reads the sections in order, then checks the whole
/// config: its first message citing an earlier line than the one before belongs to those
/// later checks (HAProxy prints some of them as `parsing [f:l]` too).
fn haproxy_order<'a>(
    diags: &'a Diagnostics,
    files: &'a [String],
    parsed: usize,
    line_count: &dyn Fn(usize) -> u32,
) -> Vec<Item<'a>> {
    let file_index = |f: &str| files.iter().position(|x| x == f);
    let mut reading: Vec<(usize, u32, bool, &Diagnostic)> = Vec::new();
    let mut after: Vec<&Diagnostic> = Vec::new();
    let mut last_lowering: Option<(usize, u32)> = None;
    let mut checking = false;
    for (i, d) in diags.items.iter().enumerate() {
        if diags.checks_from.is_some_and(|first| i >= first) {
            after.push(d);
            continue;
        }
        let located = parsing_location(d).and_then(|(f, l)| Some((file_index(f)?, l)));
        if i >= parsed {
            if let Some(key) = located {
                checking |= last_lowering.is_some_and(|last| key < last);
                last_lowering = Some(key);
            }
        }
        match located.filter(|_| !checking) {
            Some((fi, line)) => {
                let end_of_line = d.text.contains(": Missing LF on last line")
                    || d.text.contains(": Stray NUL character")
                    || d.text.contains(": non-terminated '.if' block");
                reading.push((fi, line, end_of_line, d));
            }
            None => after.push(d),
        }
    }
    // Stable: messages of one line keep their order (parser first, then lowering).
    reading.sort_by_key(|&(fi, line, eol, _)| (fi, line, eol));
    let mut items = Vec::new();
    for (fi, file) in files.iter().enumerate() {
        let mine: Vec<(u32, &Diagnostic)> = reading
            .iter()
            .filter(|r| r.0 == fi)
            .map(|r| (r.1, r.3))
            .collect();
        let mut has_alert = false;
        let mut fatal_lines = 0;
        for (i, &(line, d)) in mine.iter().enumerate() {
            items.push(Item::Message(d));
            let alert = d.level == Level::Alert;
            has_alert |= alert;
            let line_ends = mine.get(i + 1).is_none_or(|&(next, _)| next != line);
            let line_had_alert = alert
                || mine[..i]
                    .iter()
                    .rev()
                    .take_while(|&&(l, _)| l == line)
                    .any(|&(_, d)| d.level == Level::Alert);
            if line_ends && line_had_alert {
                fatal_lines += 1;
                if fatal_lines >= MAX_FATAL_LINES {
                    if line < line_count(fi) {
                        items.push(Item::TooManyErrors(file, line + 1));
                    }
                    break;
                }
            }
        }
        if has_alert {
            items.push(Item::FileErrors(file));
        }
    }
    items.extend(after.into_iter().map(Item::Message));
    items
}

/// Print every message and the trailers. `Err(code)` when the load must stop.
pub fn report(
    loaded: &Loaded,
    opts: &Options,
    env: &dyn Environment,
    out: &mut Reporter<'_>,
) -> Result<(), i32> {
    let line_count = |fi: usize| {
        loaded
            .files
            .get(fi)
            .and_then(|f| env.read_file(Path::new(f)).ok())
            .map_or(0, |b| parse::source::lines(&b).len() as u32)
    };
    for item in haproxy_order(&loaded.diags, &loaded.files, loaded.parsed, &line_count) {
        match item {
            Item::Message(d) => out.diagnostic(d),
            Item::FileErrors(file) => out.config(
                Level::Alert,
                &format!("Error(s) found in configuration file : {file}"),
            ),
            Item::TooManyErrors(file, line) => out.config(
                Level::Alert,
                &format!(
                    "parsing [{file}:{line}]: too many fatal errors ({MAX_FATAL_LINES}), stopping now."
                ),
            ),
        }
    }
    if loaded.diags.has_alerts() {
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
    let mut out = Reporter::new(env, quiet(opts, &loaded.ast), opts.diag_mode);
    // Accepted like HAProxy does, but said out loud rather than silently skipped.
    for flag in opts.unimplemented.iter().filter(|f| f.starts_with("-dK")) {
        out.plain(
            Level::Notice,
            &format!("'{flag}' (keyword dump) is not implemented by haproxyrs; ignored."),
        );
    }
    if let Err(code) = report(&loaded, opts, env, &mut out) {
        return code;
    }
    if loaded.diags.has_warnings() {
        out.stdout("Warnings were found.");
    }
    let listens = master_worker(opts, &loaded.ast)
        || loaded
            .config
            .as_ref()
            .is_some_and(|c| has_listener(&loaded.ast, c, opts, env));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(level: Level, text: &str) -> Diagnostic {
        Diagnostic::new(level, text)
    }

    fn render(items: &[Item<'_>]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Message(d) => d.text.clone(),
                Item::FileErrors(f) => format!("Error(s) found in configuration file : {f}"),
                Item::TooManyErrors(f, l) => format!("too many at {f}:{l}"),
            })
            .collect()
    }

    #[test]
    fn messages_follow_the_reading_order() {
        let diags = Diagnostics {
            items: vec![
                // From the parser:
                d(Level::Alert, "parsing [a.cfg:9]: Missing LF on last line, file might have been truncated at position 3."),
                d(Level::Notice, "parsing [a.cfg:2]: 'hi'."),
                d(Level::Alert, "parsing [b.cfg:1]: unknown keyword 'x' out of section."),
                // From lowering, which reads the sections in order:
                d(Level::Alert, "parsing [a.cfg:4] : unknown keyword 'z' in 'global' section"),
                d(Level::Alert, "parsing [a.cfg:9] : unknown keyword 'y' in 'global' section"),
                d(Level::Alert, "Parsing [b.cfg:7]: frontend 'fe' has the same name as frontend 'fe' declared at b.cfg:1."),
                d(Level::Warning, "missing timeouts for frontend 'fe'."),
            ],
            aborted: false,
            checks_from: None,
        };
        let files = vec!["a.cfg".to_string(), "b.cfg".to_string()];
        assert_eq!(
            render(&haproxy_order(&diags, &files, 3, &|_| 100)),
            [
                "parsing [a.cfg:2]: 'hi'.",
                "parsing [a.cfg:4] : unknown keyword 'z' in 'global' section",
                "parsing [a.cfg:9] : unknown keyword 'y' in 'global' section",
                "parsing [a.cfg:9]: Missing LF on last line, file might have been truncated at position 3.",
                "Error(s) found in configuration file : a.cfg",
                "parsing [b.cfg:1]: unknown keyword 'x' out of section.",
                "Parsing [b.cfg:7]: frontend 'fe' has the same name as frontend 'fe' declared at b.cfg:1.",
                "Error(s) found in configuration file : b.cfg",
                "missing timeouts for frontend 'fe'.",
            ]
        );
    }

    #[test]
    fn reading_stops_after_fifty_lines_with_errors() {
        let mut items: Vec<Diagnostic> = (2..=60)
            .map(|l| {
                d(
                    Level::Alert,
                    &format!("parsing [a.cfg:{l}] : unknown keyword 'x{l}' in 'global' section"),
                )
            })
            .collect();
        // Two messages on one line count once.
        items.insert(1, d(Level::Warning, "parsing [a.cfg:2] : w"));
        let diags = Diagnostics {
            items,
            aborted: false,
            checks_from: None,
        };
        let files = vec!["a.cfg".to_string()];
        let out = render(&haproxy_order(&diags, &files, 0, &|_| 70));
        assert_eq!(out.len(), 50 + 1 + 1 + 1);
        assert_eq!(
            out[50],
            "parsing [a.cfg:51] : unknown keyword 'x51' in 'global' section"
        );
        assert_eq!(out[51], "too many at a.cfg:52");
        assert_eq!(out[52], "Error(s) found in configuration file : a.cfg");
        // When the 50th is on the last line, nothing more is said.
        let out = render(&haproxy_order(&diags, &files, 0, &|_| 51));
        assert_eq!(out[51], "Error(s) found in configuration file : a.cfg");
    }

    #[test]
    fn lowering_checks_after_reading_are_not_reading_errors() {
        let diags = Diagnostics {
            items: vec![
                d(Level::Notice, "parsing [a.cfg:14] : 'server check' is parsed but not implemented"),
                d(Level::Notice, "parsing [a.cfg:15] : 'server check' is parsed but not implemented"),
                d(Level::Notice, "parsing [a.cfg:16] : 'server check' is parsed but not implemented"),
                // Duplicate names are found after reading, though cited as `parsing [..]`.
                d(Level::Alert, "parsing [a.cfg:15] : backend 'b', another server named 's' was already defined at line 14, please use distinct names."),
            ],
            aborted: false,
            checks_from: None,
        };
        let files = vec!["a.cfg".to_string()];
        let out = render(&haproxy_order(&diags, &files, 0, &|_| 20));
        assert_eq!(out.len(), 4);
        assert!(
            !out.iter().any(|l| l.starts_with("Error(s) found")),
            "{out:?}"
        );
    }
}
