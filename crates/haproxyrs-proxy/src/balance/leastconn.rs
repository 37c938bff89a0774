//! `balance leastconn`: the server with the fewest connections (established + queued)
//! per unit of weight, computed with HAProxy's key `(n + 1) × 4096 / eweight` (0 when
//! idle). Equal keys go to the server whose load changed least recently, which is the
//! order HAProxy's tree re-insertion yields: a round-robin among equals. Reads only
//! the servers' atomics: no shared mutable state of its own.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::server::ServerRt;

pub fn key(s: &ServerRt) -> u64 {
    let inflight = u64::from(s.cur_conns()) + u64::from(s.queued());
    let eweight = u64::from(s.weight().clamp(1, 256)) * 16;
    if inflight == 0 {
        0
    } else {
        (inflight + 1) * 4096 / eweight
    }
}

/// Picks among `group` (server indices).
pub fn pick(servers: &[Arc<ServerRt>], group: &[usize], avoid: Option<usize>) -> Option<usize> {
    let mut best: Option<(u64, u64, usize)> = None;
    let mut avoided = None;
    for &i in group {
        let s = &servers[i];
        if s.is_full() {
            continue;
        }
        if Some(i) == avoid {
            avoided = Some(i);
            continue;
        }
        let cand = (key(s), s.lc_seq.load(Ordering::Relaxed), i);
        if best.is_none_or(|b| (cand.0, cand.1) < (b.0, b.1)) {
            best = Some(cand);
        }
    }
    best.map(|b| b.2).or(avoided)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::tests::mk_servers;

    #[test]
    fn picks_least_loaded_per_weight_and_rotates_equals() {
        let servers = mk_servers(&[1, 2]);
        let group = [0, 1];
        let mut guards = Vec::new();
        let mut seq = 100;
        let mut picks = Vec::new();
        for _ in 0..6 {
            let p = pick(&servers, &group, None).unwrap();
            seq += 1;
            guards.push(servers[p].try_take_slot(seq).unwrap());
            picks.push(p);
        }
        // Weight 2 carries twice the connections.
        assert_eq!(servers[0].cur_conns(), 2);
        assert_eq!(servers[1].cur_conns(), 4);
        assert_eq!(picks[0], 0, "idle servers rotate from the first declared");
    }
}
