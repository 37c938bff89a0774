//! Lowering: AST → IR. Resolves `defaults` inheritance, interprets each keyword through the
//! keyword table, and cross-checks names (backends, ACLs, servers), emitting HAProxy's
//! ALERTs and WARNINGs with file:line.
//!
//! It runs in HAProxy's three phases, so that the same errors are reported:
//! 1. **parsing**: every line of every section, in order (keyword errors, bad values,
//!    missing certificate or Lua files, unknown users…). Parsing goes on after an error,
//!    as HAProxy's does, so all of them are reported.
//! 2. **validity checks** (only if phase 1 found no ALERT): backend references, duplicate
//!    servers, mode mismatches, missing timeouts, options ignored for the mode.
//! 3. **server address resolution** (only if phase 2 found no ALERT): host names resolved
//!    through [`Environment::resolve`] as `init-addr last,libc` does.
//!
//! # Layout
//! - [`keywords`]: the keyword table (dispatch, status, compatibility doc).
//! - [`global`], [`proxy`], [`sections`]: handlers per section kind; [`defaults`]: inheritance.
//! - [`options`]: `option …`; [`balance`]: `balance`, `hash-type`; [`rules`]: ACLs,
//!   conditions and the HTTP/TCP rule keywords, fed to their own lowering modules.
//! - [`bind`], [`server`], [`log`]: addresses and options shared by several keywords.
//! - [`units`]: times, sizes, integers. [`validate`]: phases 2 and 3, building the IR.

pub mod balance;
pub mod bind;
pub mod checks;
pub mod defaults;
pub mod fcgi;
pub mod global;
pub mod http_check;
pub mod http_rules;
pub mod keywords;
pub mod log;
pub mod options;
pub mod proxy;
pub mod rules;
pub mod sections;
pub mod server;
pub mod tcp_check;
pub mod tcp_rules;
pub mod units;
pub mod validate;

#[cfg(test)]
mod tests;

use crate::ast::{ConfigAst, Line, SectionKind};
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::env::Environment;
use crate::ir::{self, Config};
use crate::span::Span;

/// What every handler may use: the environment, the diagnostics, the global settings, and
/// the list of keywords the proxy must refuse to start with.
pub struct Cx<'a> {
    pub env: &'a dyn Environment,
    pub diags: &'a mut Diagnostics,
    pub global: ir::Global,
    pub refused: Vec<ir::Refusal>,
    /// Set by an error after which HAProxy stops reading the file (`ERR_ABORT`).
    pub abort: bool,
    /// `crt-base` / `ca-base` from `global`, prefixed to relative certificate paths.
    pub crt_base: Option<String>,
    pub ca_base: Option<String>,
    /// `insecure-fork-wanted` in `global` (needed by `option external-check`).
    pub insecure_fork: bool,
    /// `localpeer` in `global` (else the host name) and `server-state-file`/`-base`.
    pub localpeer: Option<String>,
    pub server_state_file: Option<String>,
    pub server_state_base: Option<String>,
    pub opts: LowerOptions,
    /// Post-parse ALERTs found while parsing (HAProxy reports them in its validity
    /// checks, which only run when parsing succeeded).
    pub deferred: Vec<Diagnostic>,
    /// `ssl-server-verify none` in `global`.
    pub ssl_server_verify_none: bool,
    /// `httpclient.resolvers.id NAME` lines, checked once all sections are known.
    pub deferred_resolvers: Vec<(String, Span)>,
}

impl<'a> Cx<'a> {
    pub fn new(env: &'a dyn Environment, diags: &'a mut Diagnostics) -> Self {
        Cx {
            env,
            diags,
            global: ir::Global::default(),
            refused: Vec::new(),
            abort: false,
            crt_base: None,
            ca_base: None,
            insecure_fork: false,
            localpeer: None,
            server_state_file: None,
            server_state_base: None,
            opts: LowerOptions::default(),
            deferred: Vec::new(),
            ssl_server_verify_none: false,
            deferred_resolvers: Vec::new(),
        }
    }

    /// `parsing [file:line] : msg` as an ALERT.
    pub fn alert(&mut self, span: &Span, msg: impl AsRef<str>) {
        self.diags
            .push(Diagnostic::parsing(Level::Alert, span, msg));
    }

    /// `parsing [file:line] : msg` as a WARNING.
    pub fn warn(&mut self, span: &Span, msg: impl AsRef<str>) {
        self.diags
            .push(Diagnostic::parsing(Level::Warning, span, msg));
    }

    /// `parsing [file:line]: msg` (no space before the colon), a form several 2.6 messages use.
    pub fn alert_tight(&mut self, span: &Span, msg: impl AsRef<str>) {
        self.diags.push(Diagnostic {
            level: Level::Alert,
            text: format!("parsing [{span}]: {}", msg.as_ref()),
            span: Some(span.clone()),
            help: None,
            unimplemented: false,
        });
    }

    /// `[file:line] : msg` as an ALERT (HAProxy's form for server lines and post-parse checks).
    pub fn alert_at(&mut self, span: &Span, msg: impl AsRef<str>) {
        self.diags.push(Diagnostic::at(Level::Alert, span, msg));
    }

    /// A message with no location.
    pub fn alert_plain(&mut self, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(Level::Alert, msg));
    }

    pub fn warn_plain(&mut self, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(Level::Warning, msg));
    }

    /// The NOTICE for a keyword that parses but is not implemented.
    pub fn unimplemented(&mut self, span: &Span, what: &str) {
        self.diags.push(Diagnostic::unimplemented(span, what));
    }

    /// A keyword the proxy must not start with: NOTICE now, refusal recorded for the binary.
    pub fn refuse(&mut self, span: &Span, what: &str) {
        self.diags.push(Diagnostic::unimplemented(span, what));
        self.refused.push(ir::Refusal {
            keyword: what.to_string(),
            span: span.clone(),
        });
    }

    /// An unknown keyword, with a "did you mean" when one is close.
    pub fn unknown_keyword<'k>(
        &mut self,
        line: &Line,
        section: &str,
        candidates: impl IntoIterator<Item = &'k str>,
    ) {
        let kw = line.keyword();
        let span = &line.words[0].span;
        let suggestion = crate::suggest::best_match(kw, candidates);
        let mut d = match suggestion {
            Some(s) => Diagnostic::parsing(
                Level::Alert,
                span,
                format!(
                    "unknown keyword '{kw}' in '{section}' section; did you mean '{s}' maybe ?"
                ),
            ),
            None => Diagnostic::parsing(
                Level::Alert,
                span,
                format!("unknown keyword '{kw}' in '{section}' section"),
            ),
        };
        if let Some(s) = suggestion {
            d = d.with_help(format!("did you mean '{s}'?"));
        }
        self.diags.push(d);
    }
}

/// Command-line settings that change what lowering checks.
#[derive(Clone, Debug, Default)]
pub struct LowerOptions {
    /// `-dr`: a server address that does not resolve disables the server instead of
    /// failing (as if `none` ended every `init-addr`).
    pub ignore_resolve_errors: bool,
    /// `-L NAME`: the local peer name (`peers` sections must name it), instead of the
    /// `localpeer` keyword or the host name.
    pub local_peer: Option<String>,
}

/// Lower a parsed config. Returns `None` when an ALERT was emitted (by the parser before,
/// or here). Parsing-phase checks run even after the parser's own ALERTs, as HAProxy
/// reports every error of its single parsing pass.
pub fn lower(ast: &ConfigAst, env: &dyn Environment, diags: &mut Diagnostics) -> Option<Config> {
    lower_with(ast, env, diags, &LowerOptions::default())
}

/// [`lower`] with command-line settings (`-dr`, `-L`).
pub fn lower_with(
    ast: &ConfigAst,
    env: &dyn Environment,
    diags: &mut Diagnostics,
    opts: &LowerOptions,
) -> Option<Config> {
    let mut cx = Cx::new(env, diags);
    cx.opts = opts.clone();
    let mut state = defaults::State::default();
    for section in &ast.sections {
        if cx.abort {
            break;
        }
        match section.kind {
            SectionKind::Global => global::section(&mut cx, section),
            SectionKind::Defaults => defaults::section(&mut cx, &mut state, section),
            SectionKind::Frontend | SectionKind::Backend | SectionKind::Listen => {
                proxy::section(&mut cx, &mut state, section)
            }
            _ => sections::section(&mut cx, &mut state, section),
        }
    }
    if cx.diags.has_alerts() {
        return None;
    }
    cx.diags.checks_from = Some(cx.diags.items.len());
    let (mut config, init_addrs) = validate::check(&mut cx, state)?;
    if !validate::resolve_servers(&mut cx, &mut config, &init_addrs) {
        return None;
    }
    config.refused = std::mem::take(&mut cx.refused);
    Some(config)
}

// Samples, ACLs, conditions and log-format strings (the API is in `sample`).
pub mod acl;
pub mod condition;
pub mod fetch;
pub mod fetch_registry;
pub mod logformat;
pub mod sample;
