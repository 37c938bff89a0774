//! `balance random(N)`: N weighted random draws, keeping the least loaded candidate
//! (connections per unit of weight), "power of N choices". Draws come from a
//! per-thread xorshift generator: no shared state, no lock.

use std::cell::Cell;
use std::sync::Arc;

use crate::server::ServerRt;

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9e37_79b9);
    let local = 0u8;
    (t ^ (&local as *const u8 as u64).rotate_left(32)) | 1
}

/// A uniform 64-bit random number (xorshift64*).
pub fn next_u64() -> u64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// Cumulative weights of one group, for weighted draws.
#[derive(Debug)]
pub struct WeightedTable {
    /// (cumulative weight up to and including this server, server index).
    cumul: Vec<(u64, usize)>,
}

impl WeightedTable {
    pub fn new(servers: &[(usize, u32)]) -> WeightedTable {
        let mut acc = 0u64;
        let cumul = servers
            .iter()
            .filter(|(_, w)| *w > 0)
            .map(|&(s, w)| {
                acc += u64::from(w);
                (acc, s)
            })
            .collect();
        WeightedTable { cumul }
    }

    pub fn is_empty(&self) -> bool {
        self.cumul.is_empty()
    }

    fn draw(&self) -> usize {
        let total = self.cumul.last().map_or(1, |c| c.0);
        // Multiply-shift keeps the draw unbiased enough for weights below 2^32.
        let r = ((u128::from(next_u64()) * u128::from(total)) >> 64) as u64;
        let k = self.cumul.partition_point(|c| c.0 <= r);
        self.cumul[k.min(self.cumul.len() - 1)].1
    }

    pub fn pick(
        &self,
        servers: &[Arc<ServerRt>],
        draws: u32,
        avoid: Option<usize>,
    ) -> Option<usize> {
        if self.cumul.is_empty() {
            return None;
        }
        let mut best: Option<usize> = None;
        // Bounded: saturated/avoided candidates only cost extra draws.
        let mut attempts = draws.max(1) * 4 + 8;
        let mut taken = 0;
        while taken < draws.max(1) && attempts > 0 {
            attempts -= 1;
            let c = self.draw();
            if servers[c].is_full() || (Some(c) == avoid && self.cumul.len() > 1) {
                continue;
            }
            taken += 1;
            best = Some(match best {
                Some(p) if p != c && load_cmp(&servers[c], &servers[p]) => p,
                _ => c,
            });
        }
        best.or_else(|| {
            self.cumul
                .iter()
                .map(|c| c.1)
                .find(|&s| !servers[s].is_full() && Some(s) != avoid)
        })
    }
}

/// True when `a` is more loaded than `b` relative to their weights.
fn load_cmp(a: &ServerRt, b: &ServerRt) -> bool {
    u64::from(a.cur_conns()) * u64::from(b.weight())
        > u64::from(b.cur_conns()) * u64::from(a.weight())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::tests::mk_servers;

    #[test]
    fn draws_follow_weights() {
        let servers = mk_servers(&[1, 3]);
        let t = WeightedTable::new(&[(0, 1), (1, 3)]);
        let mut c = [0u32; 2];
        for _ in 0..40000 {
            c[t.pick(&servers, 1, None).unwrap()] += 1;
        }
        let share = f64::from(c[1]) / 40000.0;
        assert!((0.72..0.78).contains(&share), "{c:?}");
    }

    #[test]
    fn two_draws_prefer_the_idle_server() {
        let servers = mk_servers(&[1, 1]);
        let _g: Vec<_> = (0..5)
            .map(|k| servers[0].try_take_slot(k).unwrap())
            .collect();
        let t = WeightedTable::new(&[(0, 1), (1, 1)]);
        let ones = (0..1000)
            .filter(|_| t.pick(&servers, 2, None) == Some(1))
            .count();
        // Only a draw of (0, 0) yields 0: about a quarter of the time.
        assert!(ones > 650, "{ones}");
    }
}
