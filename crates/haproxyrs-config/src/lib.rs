//! haproxyrs-config: reads haproxy.cfg files exactly as HAProxy 2.6 does and turns them
//! into a typed, validated IR, or into HAProxy-style diagnostics.
//!
//! Data flows one way: text → [`ast`] (sections, lines, words with spans) → [`lower`]
//! (defaults resolved, keywords interpreted, names cross-checked) → [`ir`]. This crate opens
//! no sockets and knows nothing of tokio; what it needs from outside the text goes through
//! [`env::Environment`].
//!
//! # Layout
//! - [`span`], [`diag`]: positions and messages; [`render`]: messages as HAProxy prints
//!   them, with a source excerpt and caret.
//! - [`parse`]: lexer and preprocessor (`#`, quotes, escapes, `${VAR}`, `.if` …) → [`ast`].
//! - [`lower`]: AST → [`ir`], with validation and the keyword table.
//! - [`mod@env`]: the environment interface, the real system environment, and
//!   [`env::MemoryEnv`] for tests and fuzzing.

pub mod ast;
pub mod diag;
pub mod env;
pub mod ir;
pub mod lower;
pub mod parse;
pub mod render;
pub mod span;
pub mod suggest;

pub use diag::{Diagnostic, Diagnostics, Level};

/// The HAProxy version whose behaviour haproxyrs follows (for `-v` and `version_atleast()`).
pub const HAPROXY_COMPAT_VERSION: &str = "2.6.12";

/// The outcome of loading a config: the IR when there was no ALERT, and every message.
#[derive(Debug, Default)]
pub struct Loaded {
    pub config: Option<ir::Config>,
    pub diagnostics: Diagnostics,
}

/// Read, parse and lower the given `-f` paths (files or directories), in order.
///
/// As HAProxy reports every error of its single parsing pass, lowering runs even after the
/// parser's own ALERTs (its keyword checks are part of that pass); only its post-parse
/// phases wait for an ALERT-free parse. A file that could not be read at all stops here.
pub fn load(paths: &[String], env: &dyn env::Environment) -> Loaded {
    let (ast, mut diagnostics) = parse::parse_paths(paths, env);
    let unreadable = diagnostics.aborted && ast.sections.is_empty() && diagnostics.has_alerts();
    let config = if unreadable {
        None
    } else {
        lower::lower(&ast, env, &mut diagnostics)
    };
    Loaded {
        config,
        diagnostics,
    }
}
