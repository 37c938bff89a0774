//! Session logging: the [`LogRecord`] an engine fills during a session, the renderer of
//! log-format expressions (`option tcplog`, `option httplog`, `log-format`) over it, and
//! the sinks. Rendering happens on the session's worker; framing and I/O happen on one
//! logger thread behind a bounded channel, so a slow sink never blocks the data path:
//! when the channel is full the line is dropped and counted.
//!
//! # Layout
//! - [`record`]: `LogRecord`, termination flags.
//! - [`render`]: log-format rendering and HAProxy's built-in formats.
//! - [`sink`]: the logger thread, syslog framing, stdout/stderr/UDP/unix sinks.

pub mod record;
pub mod render;
pub mod sink;

pub use record::{LogRecord, TermFlags};
pub use render::render;
pub use sink::{LogHub, Logger};
