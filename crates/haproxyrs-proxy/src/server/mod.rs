//! Live state of one server: administrative/operational state, user weight, current
//! connections and queue length, all atomics so that any worker can read or update them
//! without a lock. The [`SlotGuard`] returned by [`ServerRt::try_take_slot`] holds one
//! connection slot and gives it back on drop.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use haproxyrs_config::ir;
use tokio::sync::Notify;

/// A server's state as the balancers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ServerState {
    Up = 0,
    /// Operationally down (failed health checks).
    Down = 1,
    /// Administrative maintenance (`disabled`, `set server ... state maint`).
    Maint = 2,
    /// Administrative drain: reachable by persistence only, weight 0 for balancing.
    Drain = 3,
}

impl ServerState {
    fn from_u8(v: u8) -> ServerState {
        match v {
            0 => ServerState::Up,
            1 => ServerState::Down,
            2 => ServerState::Maint,
            _ => ServerState::Drain,
        }
    }
}

/// Runtime object of one `server` line.
#[derive(Debug)]
pub struct ServerRt {
    /// Position in the backend's server list.
    pub idx: usize,
    pub cfg: ir::Server,
    state: AtomicU8,
    weight: AtomicU32,
    /// Connections currently established or being established through this server.
    cur: AtomicU32,
    /// Requests waiting in this server's queue.
    queued: AtomicU32,
    /// Requests that left this server's queue with a slot (for `%sq`).
    pub(crate) dequeued: AtomicU64,
    /// Total connections ever served (stats, logs).
    pub total: AtomicU64,
    /// Sequence number of the last change of `cur`: leastconn breaks ties by it, which
    /// turns equal loads into a round-robin like HAProxy's tree re-insertion order.
    pub(crate) lc_seq: AtomicU64,
    /// Woken when a slot of this server frees up.
    pub(crate) slot_freed: Notify,
    /// The last health check's result, for the stats page (written by the check task).
    pub last_check: std::sync::Mutex<Option<LastCheck>>,
}

/// A health check's result as the stats page shows it.
#[derive(Clone, Debug, Default)]
pub struct LastCheck {
    /// 2.6's short name (`L4OK`, `L4CON`, `L7STS`...).
    pub status: &'static str,
    /// The response's status code, for layer-7 results.
    pub code: Option<u16>,
    pub desc: &'static str,
    /// The error text or reason phrase (`last_chk`).
    pub info: String,
    pub duration_ms: u64,
    /// The health counter (0 down .. rise+fall-1 full health).
    pub health: u32,
}

impl ServerRt {
    pub fn new(idx: usize, cfg: ir::Server) -> ServerRt {
        let unresolved = matches!(cfg.addr, ir::ServerAddr::Unresolved { .. });
        let state = if cfg.disabled || unresolved {
            ServerState::Maint
        } else {
            ServerState::Up
        };
        ServerRt {
            idx,
            weight: AtomicU32::new(cfg.weight),
            cfg,
            state: AtomicU8::new(state as u8),
            cur: AtomicU32::new(0),
            queued: AtomicU32::new(0),
            dequeued: AtomicU64::new(0),
            total: AtomicU64::new(0),
            lc_seq: AtomicU64::new(idx as u64),
            slot_freed: Notify::new(),
            last_check: std::sync::Mutex::new(None),
        }
    }

    /// The address connected to for a client that reached `dst_port` (port-less and
    /// `+offset` servers follow it); `None` for unix and unresolved servers.
    pub fn inet_addr(&self, dst_port: Option<u16>) -> Option<SocketAddr> {
        match &self.cfg.addr {
            ir::ServerAddr::Inet {
                ip,
                port,
                port_offset,
            } => {
                let port = match port {
                    Some(p) => *p,
                    None => u16::try_from(i32::from(dst_port.unwrap_or(0)) + port_offset).ok()?,
                };
                Some(SocketAddr::new(*ip, port))
            }
            _ => None,
        }
    }

    pub fn name(&self) -> &str {
        &self.cfg.name
    }
    pub fn state(&self) -> ServerState {
        ServerState::from_u8(self.state.load(Ordering::Relaxed))
    }
    pub(crate) fn set_state_raw(&self, s: ServerState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }
    pub fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }
    pub(crate) fn set_weight_raw(&self, w: u32) {
        self.weight.store(w, Ordering::Relaxed);
    }
    pub fn is_backup(&self) -> bool {
        self.cfg.backup
    }
    /// Usable by load balancing: up with a non-zero weight.
    pub fn is_usable(&self) -> bool {
        self.state() == ServerState::Up && self.weight() > 0
    }
    pub fn cur_conns(&self) -> u32 {
        self.cur.load(Ordering::Relaxed)
    }
    pub fn queued(&self) -> u32 {
        self.queued.load(Ordering::Relaxed)
    }
    /// Saturated: `maxconn` set and every slot taken.
    pub fn is_full(&self) -> bool {
        self.cfg.maxconn != 0 && self.cur_conns() >= self.cfg.maxconn
    }

    /// Takes one connection slot unless `maxconn` is reached.
    pub fn try_take_slot(self: &Arc<Self>, seq: u64) -> Option<SlotGuard> {
        self.take(seq).then(|| SlotGuard {
            server: Arc::clone(self),
            on_release: None,
            held: true,
        })
    }

    /// Counts one more connection in use unless `maxconn` is reached.
    fn take(&self, seq: u64) -> bool {
        let max = self.cfg.maxconn;
        let mut cur = self.cur.load(Ordering::Relaxed);
        loop {
            if max != 0 && cur >= max {
                return false;
            }
            match self
                .cur
                .compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => cur = now,
            }
        }
        self.lc_seq.store(seq, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
        true
    }

    pub(crate) fn queue_enter(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn queue_leave(&self) {
        self.queued.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One connection slot of a server; dropping it frees the slot and wakes a queued waiter.
/// An HTTP connection parks its slot while it idles between requests: 2.6's `maxconn`
/// counts requests in progress, not open connections.
#[derive(Debug)]
pub struct SlotGuard {
    server: Arc<ServerRt>,
    /// Also woken on release (the backend's queue).
    pub(crate) on_release: Option<Arc<Notify>>,
    /// The slot is taken (not parked).
    held: bool,
}

impl SlotGuard {
    pub fn server(&self) -> &Arc<ServerRt> {
        &self.server
    }

    /// Gives the slot back while keeping the guard (its connection goes idle).
    pub fn park(&mut self) {
        if std::mem::replace(&mut self.held, false) {
            self.release();
        }
    }

    /// Takes the slot again for a new request; `false` (still parked) when the server is
    /// full.
    pub fn unpark(&mut self, seq: u64) -> bool {
        if !self.held {
            self.held = self.server.take(seq);
        }
        self.held
    }

    fn release(&self) {
        self.server.cur.fetch_sub(1, Ordering::AcqRel);
        if self.server.cfg.maxconn != 0 {
            self.server.slot_freed.notify_one();
            if let Some(n) = &self.on_release {
                n.notify_one();
            }
        }
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if self.held {
            self.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_respect_maxconn_and_release_on_drop() {
        let s = Arc::new(ServerRt::new(0, crate::balance::tests::ir_server(0, 1, 2)));
        let g1 = s.try_take_slot(1).unwrap();
        let _g2 = s.try_take_slot(2).unwrap();
        assert!(s.try_take_slot(3).is_none());
        assert!(s.is_full());
        drop(g1);
        assert_eq!(s.cur_conns(), 1);
        assert!(s.try_take_slot(4).is_some());
    }
}
