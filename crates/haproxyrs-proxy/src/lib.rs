//! haproxyrs-proxy: the engines that execute a lowered config ([`haproxyrs_config::ir`]).
//!
//! # Layout
//! - [`runtime`]: worker threads, listeners, accept loop, maxconn, shutdown.
//! - [`balance`]: one module per `balance` algorithm behind one enum.
//! - [`backend`]/[`server`]: server state, connection setup, queueing, retries.
//! - [`tcp`]: TCP mode and the layer-4 relay (splice on Linux).
//! - [`proxy_protocol`]: PROXY protocol v1/v2 in and out.
//! - `http`: the HTTP/1.1 engine.
//! - `sample`: evaluation of fetches, ACLs, conditions and log-format expressions.
//! - [`log`]: log lines and sinks.

pub mod backend;
pub mod balance;
pub mod check;
pub mod log;
pub mod proxy_protocol;
pub mod runtime;
pub mod server;
pub mod stats;
pub mod tcp;

pub mod http;
pub mod sample;

use std::sync::Arc;

use haproxyrs_config::ir::Config;

/// How the binary asks the engines to run (filled from HAProxy's command line).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `-dS`: never use splice(2).
    pub no_splice: bool,
}

/// Errors that stop the proxy from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Refused(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Start every listener of `config` and serve until shut down (SIGTERM/SIGINT: hard
/// stop; SIGUSR1: soft stop).
pub fn run(config: Arc<Config>, opts: RunOptions) -> Result<(), RunError> {
    if opts.no_splice {
        tcp::relay::disable_splice();
    }
    runtime::run(config, opts)
}

/// The first half of [`run`]: check and bind everything, start no thread. The caller may
/// fork (daemon mode), then calls [`Opened::drop_privileges`] and [`Opened::serve`].
pub fn open(config: Arc<Config>, opts: &RunOptions) -> Result<Opened, RunError> {
    if opts.no_splice {
        tcp::relay::disable_splice();
    }
    runtime::open(config)
}

pub use runtime::Opened;
