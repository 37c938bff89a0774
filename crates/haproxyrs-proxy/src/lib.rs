//! haproxyrs-proxy: the engines that execute a lowered config ([`haproxyrs_config::ir`]).
//!
//! # Layout (filled in by the runtime, TCP and HTTP work)
//! - `runtime`: worker threads, listeners, accept loop, maxconn, shutdown.
//! - `balance`: one module per `balance` algorithm behind one enum.
//! - `backend`/`server`: server state, connection setup, queueing, retries.
//! - `tcp`: the layer-4 relay (splice on Linux).
//! - `http`: the HTTP/1.1 engine.
//! - `sample`: evaluation of fetches, ACLs, conditions and log-format expressions.
//! - `log`: log lines and sinks.

pub mod http;
pub mod sample;

use std::sync::Arc;

use haproxyrs_config::ir::Config;

/// How the binary asks the engines to run (filled from HAProxy's command line).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `-d`/`-db`: stay in the foreground (haproxyrs never forks yet).
    pub foreground: bool,
}

/// Errors that stop the proxy from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Refused(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Start every listener of `config` and serve until shut down.
pub fn run(_config: Arc<Config>, _opts: RunOptions) -> Result<(), RunError> {
    Err(RunError::Refused("the runtime is not built yet".into()))
}
