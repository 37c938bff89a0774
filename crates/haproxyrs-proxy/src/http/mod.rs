//! The HTTP/1.1 engine (`mode http`), split by job as hyper's h1 is:
//!
//! - [`head`]: request/status line and header fields, parsed in place with HAProxy 2.6's limits.
//! - [`message`]: a parsed head held for rules, rewritable without per-request allocation.
//! - [`authority`]: request-target authority against `Host` (CONNECT, absolute form).
//! - [`framing`]: body length and connection semantics; the anti-smuggling rules.
//! - [`body`]: Content-Length / chunked / close-delimited body state machine.
//! - [`encode`]: canonical re-emission (lower-case names, `h1-case-adjust`).
//! - [`errors`]: HAProxy 2.6's error responses, byte for byte, and `errorfile` overrides.
//!
//! The codec entry points are `pub` so fuzz targets can drive them directly.

pub mod authority;
pub mod balance_key;
pub mod body;
pub mod encode;
pub mod engine;
pub mod errors;
pub mod framing;
pub mod head;
pub mod log;
pub mod message;
pub mod reuse;
pub mod rules;
pub mod session;
pub mod tunnel;

pub use engine::{ClientIo, Connected, Engine, NotConnected, ServerStates, Txn};
pub use session::{serve, HttpProxy};

pub mod samples;
#[cfg(test)]
mod tests;
