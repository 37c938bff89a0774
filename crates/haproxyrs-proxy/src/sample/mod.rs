//! Evaluation of samples, ACLs, conditions and `%[...]` log-format parts, against a
//! session seen through [`SampleSource`] (implemented by the TCP and HTTP engines).
//!
//! Everything was compiled at load time (`haproxyrs_config::ir::sample`); evaluating reads
//! borrowed bytes from the source and, when a converter must produce new bytes, writes them
//! into a per-thread scratch buffer that is reused: the common matchers allocate nothing.
//!
//! # Layout
//! - [`source`] — the [`SampleSource`] trait and the [`Sample`] value.
//! - [`http_parts`] — URI, header-list, cookie and query-string splitting on borrowed bytes.
//! - [`fetch`] — fetch evaluation (one value, or every occurrence for ACLs).
//! - [`convert`] — converters.
//! - [`matcher`] — pattern matching (`-m str|beg|…`, `-i`, ints, nets).
//! - [`cond`] — ACL terms and conditions, tri-state ([`Match`]).
//! - [`render`] — `%[...]` rendering with `%{+Q,+E}` flags.
//! - [`buffered`] — HTTP fetches on a TCP session's buffered request head.
//! - [`auth`] — `http_auth` (Basic credentials checked against a `userlist`).
//! - [`tls_hello`] — TLS ClientHello parsing for `req.ssl_sni` / `req.ssl_hello_type`.

pub mod auth;
pub mod buffered;
pub mod cond;
pub mod convert;
pub mod fetch;
pub mod http_parts;
pub mod matcher;
pub mod render;
pub mod source;
pub mod tls_hello;

pub use cond::{eval_acl_term, eval_condition, Match};
pub use render::{render_sample, render_sample_log, render_sample_value};
pub use source::{Phase, Sample, SampleSource};

use std::cell::RefCell;

use haproxyrs_config::ir::sample::SampleExpr;

/// Two reusable buffers for converter output (one holds the current value while the
/// next converter writes into the other).
#[derive(Debug)]
pub struct Scratch {
    pub(crate) cur: Vec<u8>,
    pub(crate) tmp: Vec<u8>,
    /// Values a fetch composes itself (`base`).
    pub(crate) fetch: Vec<u8>,
}

impl Default for Scratch {
    /// Both converter buffers start with room for a typical value: they take turns, so
    /// an empty one would otherwise allocate on a second evaluation.
    fn default() -> Self {
        Scratch {
            cur: Vec::with_capacity(256),
            tmp: Vec::with_capacity(256),
            fetch: Vec::with_capacity(256),
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Run `f` with this thread's scratch buffers (or fresh ones if they are already in use,
/// which only happens if a source calls back into evaluation).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// Evaluate a sample expression as a value (the last header occurrence, the first query
/// parameter…) and hand it to `f`; `None` when the fetch found nothing or a converter
/// failed. The value borrows the source or the scratch buffer, so `f` must copy what it
/// keeps.
pub fn eval_sample<R>(
    expr: &SampleExpr,
    src: &dyn SampleSource,
    f: impl FnOnce(Option<Sample<'_>>) -> R,
) -> R {
    with_scratch(|scratch| {
        let Scratch { cur, tmp, fetch } = scratch;
        let mut f = Some(f);
        let mut out = None;
        fetch::fetch_each(&expr.fetch, src, false, fetch, &mut |raw| {
            let v = convert::apply(raw, &expr.converters, src, cur, tmp);
            if let Some(f) = f.take() {
                out = Some(f(v));
            }
            true
        });
        match f.take() {
            Some(f) => f(None),
            None => out.expect("set when f was taken"),
        }
    })
}

/// Evaluate a sample expression to an owned string (allocates: for tests and rare,
/// non-hot uses).
pub fn eval_sample_string(expr: &SampleExpr, src: &dyn SampleSource) -> Option<String> {
    eval_sample(expr, src, |v| {
        v.map(|s| {
            let mut out = Vec::new();
            s.write_to(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
    })
}

#[cfg(test)]
mod tests_alloc;
#[cfg(test)]
pub(crate) mod testsrc;
