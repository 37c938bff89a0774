//! Printing messages to stderr as HAProxy does: the tag, the pid, the context; the two
//! version NOTICEs before the first WARNING or ALERT; nothing at all under `-q`.

use std::io::Write;

use haproxyrs_config::env::Environment;
use haproxyrs_config::render::{self, Sources};
use haproxyrs_config::{Diagnostic, Level};

use crate::version::VERSION;

/// Writes messages to stderr.
pub struct Reporter<'a> {
    pid: u32,
    quiet: bool,
    diag_mode: bool,
    intro_done: bool,
    sources: Sources<'a>,
}

impl<'a> Reporter<'a> {
    pub fn new(env: &'a dyn Environment, quiet: bool, diag_mode: bool) -> Self {
        Reporter {
            pid: std::process::id(),
            quiet,
            diag_mode,
            intro_done: false,
            sources: Sources::new(env),
        }
    }

    /// After a fork: messages name this process.
    pub fn refresh_pid(&mut self) {
        self.pid = std::process::id();
    }

    fn emit(&mut self, level: Level, text: String) {
        if self.quiet {
            return;
        }
        if level >= Level::Warning && !self.intro_done {
            self.intro_done = true;
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "haproxyrs".into());
            let mut lines = vec![
                render::header(
                    Level::Notice,
                    self.pid,
                    None,
                    &format!(
                        "haproxyrs version is {VERSION} (follows HAProxy {})",
                        haproxyrs_config::HAPROXY_COMPAT_VERSION
                    ),
                ),
                render::header(
                    Level::Notice,
                    self.pid,
                    None,
                    &format!("path to executable is {exe}"),
                ),
            ];
            lines.push(text);
            return write_stderr(&lines.join("\n"));
        }
        write_stderr(&text);
    }

    /// One config diagnostic, with its source excerpt.
    pub fn diagnostic(&mut self, d: &Diagnostic) {
        if d.level == Level::Diag && !self.diag_mode {
            return;
        }
        let text = render::render(d, self.pid, &mut self.sources);
        self.emit(d.level, text);
    }

    /// A `config : …` message without a source location.
    pub fn config(&mut self, level: Level, text: &str) {
        let line = render::header(level, self.pid, Some("config"), text);
        self.emit(level, line);
    }

    /// A message without context (`[ALERT]    (pid) : text`).
    pub fn plain(&mut self, level: Level, text: &str) {
        let line = render::header(level, self.pid, None, text);
        self.emit(level, line);
    }

    /// A line on stdout (the `-c` verdict), unless quiet.
    pub fn stdout(&self, text: &str) {
        if !self.quiet {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}

fn write_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}
