//! Idle server connections and `http-reuse`. Each server has one idle list shared by every
//! worker thread (a mutex held for a push or pop only), so a connection released by one worker
//! can serve a request accepted by another; the per-worker fast path is the connection a
//! client session keeps attached between its own requests.
//!
//! HAProxy's meanings: `never` shares nothing (a session only reuses its own connection);
//! `safe` (default) never gives an idle connection to a session's first request; `aggressive`
//! gives the first request only connections already proven by a reuse; `always` shares all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use haproxyrs_config::ir::HttpReuse;

/// An idle connection and whether it has already carried more than one request.
struct Idle<C> {
    conn: C,
    proven: bool,
}

/// Cap on idle connections kept per server.
const MAX_IDLE_PER_SERVER: usize = 256;

/// The idle lists of one backend, one per server.
pub struct IdlePool<C> {
    servers: Vec<Mutex<Vec<Idle<C>>>>,
}

impl<C> IdlePool<C> {
    pub fn new(servers: usize) -> IdlePool<C> {
        IdlePool {
            servers: (0..servers).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// Take an idle connection to `server` that `mode` allows for this request.
    pub fn take(&self, server: usize, mode: HttpReuse, first_request: bool) -> Option<(C, bool)> {
        let allowed_proven_only = match (mode, first_request) {
            (HttpReuse::Never, _) => return None,
            (HttpReuse::Safe, true) => return None,
            (HttpReuse::Aggressive, true) => true,
            _ => false,
        };
        let mut list = self.servers.get(server)?.lock().ok()?;
        let pos = list
            .iter()
            .rposition(|i| i.proven || !allowed_proven_only)?;
        let idle = list.swap_remove(pos);
        Some((idle.conn, idle.proven))
    }

    /// Give back a connection that finished a response cleanly.
    pub fn put(&self, server: usize, conn: C, proven: bool, mode: HttpReuse) {
        if mode == HttpReuse::Never {
            return;
        }
        if let Some(Ok(mut list)) = self.servers.get(server).map(|m| m.lock()) {
            if list.len() < MAX_IDLE_PER_SERVER {
                list.push(Idle { conn, proven });
            }
        }
    }

    pub fn idle_count(&self, server: usize) -> usize {
        self.servers
            .get(server)
            .and_then(|m| m.lock().ok().map(|l| l.len()))
            .unwrap_or(0)
    }
}

/// Counters for the reuse share report (requests sent to a server, and how many of them went
/// over an already used connection).
#[derive(Debug, Default)]
pub struct ReuseStats {
    pub requests: AtomicU64,
    pub reused: AtomicU64,
}

impl ReuseStats {
    pub fn record(&self, reused: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if reused {
            self.reused.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Share of requests that reused a connection, in percent.
    pub fn share(&self) -> f64 {
        let r = self.requests.load(Ordering::Relaxed);
        if r == 0 {
            return 0.0;
        }
        100.0 * self.reused.load(Ordering::Relaxed) as f64 / r as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_modes() {
        let p: IdlePool<u32> = IdlePool::new(2);
        p.put(0, 1, false, HttpReuse::Safe);
        assert!(p.take(0, HttpReuse::Safe, true).is_none());
        assert!(p.take(0, HttpReuse::Aggressive, true).is_none());
        assert_eq!(p.take(0, HttpReuse::Always, true), Some((1, false)));
        p.put(0, 2, true, HttpReuse::Safe);
        assert_eq!(p.take(0, HttpReuse::Aggressive, true), Some((2, true)));
        p.put(1, 3, false, HttpReuse::Safe);
        assert_eq!(p.take(1, HttpReuse::Safe, false), Some((3, false)));
        p.put(1, 4, true, HttpReuse::Never);
        assert_eq!(p.idle_count(1), 0);
        assert!(p.take(1, HttpReuse::Never, false).is_none());
        let s = ReuseStats::default();
        s.record(true);
        s.record(false);
        assert_eq!(s.share(), 50.0);
    }
}
