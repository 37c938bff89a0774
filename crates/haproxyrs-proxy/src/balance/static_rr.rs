//! `balance static-rr` and the map used by map-based hashing: a table of `sum(weights)`
//! entries filled by a smooth weighted pass where ties go to the earliest-declared
//! server, walked in order (static-rr) or indexed by `hash % sum` (map-based hashes).

/// The static server map of one group.
#[derive(Debug)]
pub struct StaticMap {
    /// Server indices, `sum(weights)` entries.
    map: Vec<usize>,
    /// Next position for static-rr.
    rr_idx: usize,
}

impl StaticMap {
    /// `servers`: (server index, user weight) of the usable servers of the group.
    pub fn new(servers: &[(usize, u32)]) -> StaticMap {
        let servers: Vec<(usize, i64)> = servers
            .iter()
            .filter(|(_, w)| *w > 0)
            .map(|&(s, w)| (s, i64::from(w)))
            .collect();
        let tot: i64 = servers.iter().map(|s| s.1).sum();
        let mut score = vec![0i64; servers.len()];
        let mut map = Vec::with_capacity(tot as usize);
        for _ in 0..tot {
            let mut best: Option<usize> = None;
            let mut max = 0i64;
            for (k, &(_, w)) in servers.iter().enumerate() {
                if tot == 1 {
                    best = Some(k);
                    break;
                }
                score[k] += w;
                let v = (score[k] + tot) / tot;
                if best.is_none() || v > max {
                    max = v;
                    best = Some(k);
                }
            }
            if let Some(b) = best {
                map.push(servers[b].0);
                if tot != 1 {
                    score[b] -= tot;
                }
            }
        }
        StaticMap { map, rr_idx: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Next server in map order, skipping saturated ones and `avoid` when possible.
    pub fn next_rr(
        &mut self,
        is_full: impl Fn(usize) -> bool,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let len = self.map.len();
        if len == 0 {
            return None;
        }
        let start = self.rr_idx;
        let mut idx = start;
        let mut avoided = None;
        loop {
            let srv = self.map[idx];
            idx = (idx + 1) % len;
            if !is_full(srv) {
                avoided = Some((srv, idx));
                if Some(srv) != avoid {
                    self.rr_idx = idx;
                    return Some(srv);
                }
            }
            if idx == start {
                break;
            }
        }
        let (srv, idx) = avoided?;
        self.rr_idx = idx;
        Some(srv)
    }

    /// Map-based hashing: the entry at `hash % sum(weights)`.
    pub fn by_hash(&self, hash: u32) -> Option<usize> {
        if self.map.is_empty() {
            return None;
        }
        // HAProxy's table has 16 entries per weight unit; it repeats this one, so the
        // modulo on the short table lands on the same server.
        let len = self.map.len() as u64 * 16;
        let pos = (u64::from(hash) % len) as usize % self.map.len();
        Some(self.map[pos])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_haproxy_table_3_1_2() {
        // HAProxy 2.6, weights a=3 b=1 c=2: "a a c a b c" repeating.
        let mut m = StaticMap::new(&[(0, 3), (1, 1), (2, 2)]);
        let s: Vec<usize> = (0..12)
            .map(|_| m.next_rr(|_| false, None).unwrap())
            .collect();
        assert_eq!(s, vec![0, 0, 2, 0, 1, 2, 0, 0, 2, 0, 1, 2]);
    }

    #[test]
    fn single_server_and_skip_full() {
        let mut m = StaticMap::new(&[(4, 7)]);
        assert_eq!(m.next_rr(|_| false, None), Some(4));
        let mut m = StaticMap::new(&[(0, 1), (1, 1)]);
        assert_eq!(m.next_rr(|s| s == 0, None), Some(1));
        assert_eq!(m.next_rr(|s| s == 0, None), Some(1));
        assert_eq!(m.next_rr(|_| true, None), None);
        assert_eq!(m.by_hash(3), Some(1));
    }

    #[test]
    fn avoid_is_skipped_unless_alone() {
        let mut m = StaticMap::new(&[(0, 1), (1, 1)]);
        assert_eq!(m.next_rr(|_| false, Some(0)), Some(1));
        let mut m = StaticMap::new(&[(0, 1)]);
        assert_eq!(m.next_rr(|_| false, Some(0)), Some(0));
    }
}
