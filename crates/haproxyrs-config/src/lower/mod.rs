//! Lowering: AST → IR. Resolves `defaults` inheritance, interprets each keyword through the
//! keyword table, and cross-checks names (backends, ACLs, servers), emitting HAProxy's
//! ALERTs and WARNINGs with file:line.

pub mod http_rules;

use crate::ast::ConfigAst;
use crate::diag::Diagnostics;
use crate::env::Environment;
use crate::ir::Config;

/// Lower a parsed config. Returns `None` when an ALERT was emitted.
pub fn lower(_ast: &ConfigAst, _env: &dyn Environment, diags: &mut Diagnostics) -> Option<Config> {
    if diags.has_alerts() {
        return None;
    }
    Some(Config::default())
}

// Samples, ACLs, conditions and log-format strings (the API is in `sample`).
pub mod acl;
pub mod condition;
pub mod fetch;
pub mod logformat;
pub mod sample;
