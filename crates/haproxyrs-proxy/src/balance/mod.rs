//! Load balancing: one closed enum over the `balance` algorithms, one file per algorithm.
//! The [`Balancer`] works on the group of servers in use (usable actives; else the first
//! usable backup, or all of them with `option allbackups`) and is rebuilt when a server's
//! state or weight changes. Stateful algorithms (round-robin cursors) sit behind a
//! per-backend lock held for a few instructions; leastconn, first, random and hashing only
//! read atomics under a shared read lock.
//!
//! # Layout
//! - [`roundrobin`]: HAProxy's fast weighted round-robin (`roundrobin`).
//! - [`static_rr`]: the static map (`static-rr`, map-based hashing).
//! - [`leastconn`], [`first`], [`random`]: load-driven picks.
//! - [`hash`]: hash functions, `source` hashing, the consistent-hash ring.

pub mod first;
pub mod hash;
pub mod leastconn;
pub mod random;
pub mod roundrobin;
pub mod static_rr;

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use haproxyrs_config::ir;

use crate::server::ServerRt;

/// The key a hashing algorithm places a request by.
#[derive(Clone, Copy, Debug)]
pub enum HashKey<'a> {
    /// The client address (`balance source`).
    Source(IpAddr),
    /// Bytes from the request (`uri`, `url_param`, `hdr`, `hash`), hashed with the
    /// backend's `hash-type` function.
    Bytes(&'a [u8]),
}

/// What the balancer decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Server(usize),
    /// Usable servers exist but every one is saturated: queue in the backend.
    Saturated,
    /// No usable server at all.
    NoServer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algo {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Random { draws: u32 },
    Hash { consistent: bool },
}

/// Per-group structures; only the ones the algorithm needs are built.
#[derive(Debug, Default)]
struct Group {
    members: Vec<usize>,
    rr: Option<roundrobin::RoundRobin>,
    map: Option<static_rr::StaticMap>,
    ring: Option<hash::Ring>,
    table: Option<random::WeightedTable>,
}

/// The balancer of one backend.
#[derive(Debug)]
pub struct Balancer {
    algo: Algo,
    hash_type: ir::HashType,
    allbackups: bool,
    group: RwLock<Group>,
}

impl Balancer {
    pub fn new(be: &ir::Backend, servers: &[Arc<ServerRt>]) -> Balancer {
        let algo = match &be.balance {
            ir::Balance::RoundRobin => Algo::RoundRobin,
            ir::Balance::StaticRr => Algo::StaticRr,
            ir::Balance::LeastConn => Algo::LeastConn,
            ir::Balance::First => Algo::First,
            ir::Balance::Random { draws } => Algo::Random {
                draws: (*draws).max(1),
            },
            ir::Balance::Source
            | ir::Balance::Uri { .. }
            | ir::Balance::UrlParam { .. }
            | ir::Balance::Hdr { .. }
            | ir::Balance::RdpCookie { .. }
            | ir::Balance::Hash(_) => Algo::Hash {
                consistent: be.hash_type.consistent,
            },
        };
        let b = Balancer {
            algo,
            hash_type: be.hash_type,
            allbackups: be.options.allbackups,
            group: RwLock::new(Group::default()),
        };
        b.rebuild(servers);
        b
    }

    /// Recomputes the group in use and the algorithm's structures (after a state or
    /// weight change).
    pub fn rebuild(&self, servers: &[Arc<ServerRt>]) {
        let mut members: Vec<usize> = servers
            .iter()
            .filter(|s| !s.is_backup() && s.is_usable())
            .map(|s| s.idx)
            .collect();
        if members.is_empty() {
            let backups = servers.iter().filter(|s| s.is_backup() && s.is_usable());
            members = if self.allbackups {
                backups.map(|s| s.idx).collect()
            } else {
                backups.take(1).map(|s| s.idx).collect()
            };
        }
        let weights: Vec<(usize, u32)> =
            members.iter().map(|&i| (i, servers[i].weight())).collect();
        let mut g = Group {
            members,
            ..Group::default()
        };
        match self.algo {
            Algo::RoundRobin => g.rr = Some(roundrobin::RoundRobin::new(&weights)),
            Algo::StaticRr => g.map = Some(static_rr::StaticMap::new(&weights)),
            Algo::LeastConn => {}
            Algo::First => g.members.sort_by_key(|&i| servers[i].cfg.id),
            Algo::Random { .. } => g.table = Some(random::WeightedTable::new(&weights)),
            Algo::Hash { consistent } => {
                g.map = Some(static_rr::StaticMap::new(&weights));
                if consistent {
                    let pts: Vec<(usize, u32, u32)> = weights
                        .iter()
                        .map(|&(i, w)| (i, servers[i].cfg.id, w))
                        .collect();
                    g.ring = Some(hash::Ring::new(&pts));
                }
            }
        }
        match self.group.write() {
            Ok(mut w) => *w = g,
            Err(p) => *p.into_inner() = g,
        }
    }

    /// Chooses a server for a new connection. `avoid`: a server to skip when another
    /// one is available (redispatch after failures).
    pub fn pick(
        &self,
        servers: &[Arc<ServerRt>],
        key: Option<HashKey<'_>>,
        avoid: Option<usize>,
    ) -> Pick {
        let full = |i: usize| servers[i].is_full();
        let chosen = match self.algo {
            Algo::RoundRobin | Algo::StaticRr => {
                let mut g = match self.group.write() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                if g.members.is_empty() {
                    return Pick::NoServer;
                }
                let g = &mut *g;
                match (&mut g.rr, &mut g.map) {
                    (Some(rr), _) => rr.next(full, avoid),
                    (None, Some(map)) => map.next_rr(full, avoid),
                    _ => None,
                }
            }
            Algo::Hash { consistent } => {
                let h = match key {
                    Some(HashKey::Source(ip)) => Some(hash::source_hash(ip, consistent)),
                    Some(HashKey::Bytes(b)) => Some(hash::hash_key(
                        b,
                        self.hash_type.function,
                        self.hash_type.avalanche,
                    )),
                    None => None,
                };
                match h {
                    Some(h) => {
                        let g = self.read();
                        if g.members.is_empty() {
                            return Pick::NoServer;
                        }
                        // One server left: HAProxy does not hash at all.
                        let h = if g.members.len() == 1 { 0 } else { h };
                        // A hashed request goes to its server even when saturated: it
                        // then waits in that server's queue.
                        match (&g.ring, &g.map) {
                            (Some(ring), _) => ring.lookup(h, |_| false, avoid),
                            (None, Some(map)) => map
                                .by_hash(h)
                                .filter(|&s| Some(s) != avoid)
                                .or_else(|| g.members.iter().copied().find(|&s| Some(s) != avoid)),
                            _ => None,
                        }
                    }
                    // No key (missing header/parameter): round-robin over the map.
                    None => {
                        let mut g = match self.group.write() {
                            Ok(g) => g,
                            Err(p) => p.into_inner(),
                        };
                        if g.members.is_empty() {
                            return Pick::NoServer;
                        }
                        g.map.as_mut().and_then(|m| m.next_rr(full, avoid))
                    }
                }
            }
            Algo::LeastConn => {
                let g = self.read();
                if g.members.is_empty() {
                    return Pick::NoServer;
                }
                leastconn::pick(servers, &g.members, avoid)
            }
            Algo::First => {
                let g = self.read();
                if g.members.is_empty() {
                    return Pick::NoServer;
                }
                first::pick(servers, &g.members, avoid)
            }
            Algo::Random { draws } => {
                let g = self.read();
                if g.members.is_empty() {
                    return Pick::NoServer;
                }
                g.table.as_ref().and_then(|t| t.pick(servers, draws, avoid))
            }
        };
        match chosen {
            Some(i) => Pick::Server(i),
            None => Pick::Saturated,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Group> {
        match self.group.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::server::ServerRt;
    use haproxyrs_config::span::Span;

    pub(crate) fn ir_server(idx: usize, weight: u32, maxconn: u32) -> ir::Server {
        ir::Server {
            name: format!("s{}", idx + 1),
            span: Span::new("t".into(), 1, 1),
            addr: ir::ServerAddr::Inet {
                ip: "127.0.0.1".parse().unwrap(),
                port: Some(1),
                port_offset: 0,
            },
            weight,
            backup: false,
            disabled: false,
            maxconn,
            maxqueue: 0,
            send_proxy: None,
            check: None,
            cookie: None,
            ssl: false,
            id: idx as u32 + 1,
        }
    }

    pub(crate) fn mk_servers(weights: &[u32]) -> Vec<Arc<ServerRt>> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| Arc::new(ServerRt::new(i, ir_server(i, w, 0))))
            .collect()
    }

    pub(crate) fn mk_servers_maxconn(spec: &[(u32, u32)]) -> Vec<Arc<ServerRt>> {
        spec.iter()
            .enumerate()
            .map(|(i, &(w, m))| Arc::new(ServerRt::new(i, ir_server(i, w, m))))
            .collect()
    }

    pub(crate) fn backend(balance: ir::Balance, servers: Vec<ir::Server>) -> ir::Backend {
        ir::Backend {
            name: "be".into(),
            span: Span::new("t".into(), 1, 1),
            mode: ir::Mode::Tcp,
            balance,
            hash_type: ir::HashType::default(),
            servers,
            timeouts: ir::Timeouts::default(),
            retries: 3,
            http_reuse: ir::HttpReuse::default(),
            acls: vec![],
            tcp_request_content: vec![],
            http: Default::default(),
            cookie: None,
            health_check: None,
            fullconn: None,
            logs: vec![],
            log_format: ir::LogFormat::Default,
            options: ir::ProxyOptions::default(),
            stats: None,
            disabled: false,
        }
    }

    fn rt(be: &ir::Backend) -> Vec<Arc<ServerRt>> {
        be.servers
            .iter()
            .enumerate()
            .map(|(i, s)| Arc::new(ServerRt::new(i, s.clone())))
            .collect()
    }

    #[test]
    fn backups_only_when_no_active_is_usable() {
        let mut servers = vec![ir_server(0, 1, 0), ir_server(1, 1, 0), ir_server(2, 1, 0)];
        servers[0].disabled = true;
        servers[1].backup = true;
        servers[2].backup = true;
        let mut be = backend(ir::Balance::RoundRobin, servers.clone());
        let s = rt(&be);
        let b = Balancer::new(&be, &s);
        for _ in 0..4 {
            assert_eq!(b.pick(&s, None, None), Pick::Server(1), "first backup only");
        }
        be.options.allbackups = true;
        let b = Balancer::new(&be, &s);
        let picks: Vec<_> = (0..4).map(|_| b.pick(&s, None, None)).collect();
        assert_eq!(
            picks,
            vec![
                Pick::Server(1),
                Pick::Server(2),
                Pick::Server(1),
                Pick::Server(2)
            ]
        );
        servers[0].disabled = false;
        let be = backend(ir::Balance::RoundRobin, servers);
        let s = rt(&be);
        let b = Balancer::new(&be, &s);
        assert_eq!(b.pick(&s, None, None), Pick::Server(0));
        assert_eq!(b.pick(&s, None, None), Pick::Server(0));
    }

    #[test]
    fn no_server_and_saturation() {
        let mut sv = ir_server(0, 1, 1);
        sv.disabled = true;
        let be = backend(ir::Balance::LeastConn, vec![sv]);
        let s = rt(&be);
        assert_eq!(Balancer::new(&be, &s).pick(&s, None, None), Pick::NoServer);
        let be = backend(ir::Balance::LeastConn, vec![ir_server(0, 1, 1)]);
        let s = rt(&be);
        let b = Balancer::new(&be, &s);
        let _g = s[0].try_take_slot(1).unwrap();
        assert_eq!(b.pick(&s, None, None), Pick::Saturated);
    }

    #[test]
    fn source_map_based_is_address_mod_total_weight() {
        let be = backend(
            ir::Balance::Source,
            vec![ir_server(0, 1, 0), ir_server(1, 2, 0), ir_server(2, 3, 0)],
        );
        let s = rt(&be);
        let b = Balancer::new(&be, &s);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        // 0x7f000001 % 6 = 5 → the 6th map entry; map for 1:2:3 is c b c a b c... check
        // through the map itself.
        let map = static_rr::StaticMap::new(&[(0, 1), (1, 2), (2, 3)]);
        assert_eq!(
            b.pick(&s, Some(HashKey::Source(ip)), None),
            Pick::Server(map.by_hash(0x7f00_0001).unwrap())
        );
    }
}
