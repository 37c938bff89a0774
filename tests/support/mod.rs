//! The shared test harness: start the real proxies on handed-over sockets, small recording
//! backends, a raw HTTP/TCP client, and the differential runner (haproxy vs haproxyrs).
//!
//! # Layout
//! - [`proxy`]: start `haproxyrs` or `/usr/sbin/haproxy` on a config text in a temp dir,
//!   listening sockets passed as `fd@N`; `-c` checks; killed by PID on drop.
//! - [`backends`]: HTTP/1.1 and TCP backends on ephemeral ports that record what they receive.
//! - [`client`]: send exact bytes, read with deadlines, split into HTTP responses.
//! - [`http1`]: the small HTTP/1.1 framing used by the client and the backends.
//! - [`diff`]: the same config and bytes through both proxies, every difference reported.
//! - [`haproxy`]: is Debian's haproxy installed; loud skips (a failure under `CI=true`).
//! - [`tempdir`]: a fresh directory per proxy, removed on drop.
#![allow(dead_code)]

pub mod backends;
pub mod client;
pub mod diff;
pub mod haproxy;
pub mod http1;
pub mod proxy;
pub mod tempdir;

use std::time::Duration;

/// The default bound for any single wait in the harness.
pub const WAIT: Duration = Duration::from_secs(10);
