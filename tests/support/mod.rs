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
//!
//! # Usage
//! ```ignore
//! use crate::support::{backends::Backend, client, proxy::{Flavor, ProxyBuilder}};
//! let app = Backend::http("app1"); // answers 200 "app1\n", records what it receives
//! let p = ProxyBuilder::new(Flavor::Haproxyrs, "frontend f\n  mode http\n  bind {{fe0}}\n  \
//!          default_backend b\nbackend b\n  mode http\n  server s1 {{app}}\n")
//!     .var("app", app.addr_str())
//!     .start();                                   // {{fe0}} became fd@3: no port race
//! let resp = client::get(p.fe(0), "/x");          // bounded waits everywhere
//! assert_eq!(resp.status(), 200, "{}", p.context());
//! assert_eq!(app.requests()[0].target(), "/x");
//! // Differential: crate::support::diff::Diff::new("name", cfg).http_backend("a1")
//! //     .send("GET / HTTP/1.1\r\nhost: x\r\n\r\n").assert_same();   // {{be:a1}} in cfg
//! // `-c`: crate::support::proxy::check(Flavor::Haproxy, cfg, &[], &[]).
//! ```
#![allow(dead_code)]

pub mod backends;
pub mod client;
pub mod diff;
pub mod haproxy;
pub mod http1;
pub mod proxy;
pub mod tempdir;

#[cfg(test)]
mod selftest;

use std::time::Duration;

/// The default bound for any single wait in the harness.
pub const WAIT: Duration = Duration::from_secs(10);
