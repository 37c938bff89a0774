//! `balance roundrobin`: HAProxy's "fast weighted round-robin". Each server advances
//! through a window of `sum(weights)` positions by steps of `sum/weight`; servers whose
//! next position is due are taken in position order, the heaviest first on ties. Three
//! ordered trees per group ("current", "init", "next") reproduce HAProxy's exact server
//! order, including how a window rolls over into the next one.

use std::collections::BTreeSet;

/// HAProxy scales user weights by this factor into "effective" weights.
const WEIGHT_SCALE: u32 = 16;
/// Upper bound of effective weights (256 × 16).
const EWGHT_MAX: u32 = 256 * WEIGHT_SCALE;
/// Range of user weights, used to build the current-tree key.
const UWGHT_RANGE: u32 = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tree {
    None,
    Curr,
    /// One of the two weight-ordered trees; which one is "init" or "next" swaps.
    T(usize),
}

#[derive(Clone, Debug)]
struct Slot {
    /// Index of the server in the backend.
    server: usize,
    eweight: u32,
    npos: u32,
    lpos: u32,
    rweight: u32,
    tree: Tree,
    key: (u32, u64),
}

/// The round-robin state of one group of servers (actives, or backups).
#[derive(Debug)]
pub struct RoundRobin {
    slots: Vec<Slot>,
    /// (key, insertion sequence, slot): insertion order breaks ties like ebtree duplicates.
    curr: BTreeSet<(u32, u64, usize)>,
    trees: [BTreeSet<(u32, u64, usize)>; 2],
    init: usize,
    curr_pos: u32,
    curr_weight: u32,
    next_weight: u32,
    seq: u64,
}

impl RoundRobin {
    /// `servers`: (server index, user weight) of every usable server of the group, in
    /// declaration order.
    pub fn new(servers: &[(usize, u32)]) -> RoundRobin {
        let slots: Vec<Slot> = servers
            .iter()
            .filter(|(_, w)| *w > 0)
            .map(|&(server, w)| Slot {
                server,
                eweight: w.min(256) * WEIGHT_SCALE,
                npos: 0,
                lpos: 0,
                rweight: 0,
                tree: Tree::None,
                key: (0, 0),
            })
            .collect();
        let tot: u32 = slots.iter().map(|s| s.eweight).sum();
        let mut rr = RoundRobin {
            slots,
            curr: BTreeSet::new(),
            trees: [BTreeSet::new(), BTreeSet::new()],
            init: 0,
            curr_pos: tot,
            curr_weight: tot,
            next_weight: tot,
            seq: 0,
        };
        for i in 0..rr.slots.len() {
            rr.queue_by_weight(rr.init, i);
        }
        rr
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn next_tree(&self) -> usize {
        1 - self.init
    }

    fn queue_by_weight(&mut self, t: usize, i: usize) {
        self.seq += 1;
        let key = (EWGHT_MAX - self.slots[i].eweight, self.seq);
        self.slots[i].key = key;
        self.slots[i].tree = Tree::T(t);
        self.trees[t].insert((key.0, key.1, i));
    }

    fn dequeue(&mut self, i: usize) {
        let s = &self.slots[i];
        let k = (s.key.0, s.key.1, i);
        match s.tree {
            Tree::Curr => {
                self.curr.remove(&k);
            }
            Tree::T(t) => {
                self.trees[t].remove(&k);
            }
            Tree::None => {}
        }
        self.slots[i].tree = Tree::None;
    }

    /// Puts a server back in "current" at its next position, or in "next" when that
    /// position falls outside the current window.
    fn queue(&mut self, i: usize) {
        let (cw, nw) = (self.curr_weight, self.next_weight);
        let s = &mut self.slots[i];
        if s.eweight == 0 || s.npos >= 2 * cw || s.npos >= cw + nw {
            s.npos = s.npos.wrapping_sub(cw);
            let t = self.next_tree();
            self.queue_by_weight(t, i);
        } else {
            self.seq += 1;
            let k = UWGHT_RANGE
                .wrapping_mul(s.npos)
                .wrapping_add((EWGHT_MAX + s.rweight - s.eweight) / WEIGHT_SCALE);
            s.key = (k, self.seq);
            s.tree = Tree::Curr;
            self.curr.insert((k, self.seq, i));
        }
    }

    fn get_from_group(&mut self) -> Option<usize> {
        let first_curr = self.curr.iter().next().map(|e| e.2);
        if let Some(i) = first_curr {
            let s = &self.slots[i];
            if s.eweight != 0 && s.npos <= self.curr_pos {
                return Some(i);
            }
        }
        if let Some(&(_, _, i)) = self.trees[self.init].iter().next() {
            if self.slots[i].eweight != 0 {
                self.slots[i].npos = 0;
                self.slots[i].rweight = 0;
                return Some(i);
            }
        }
        first_curr
    }

    fn update_position(&mut self, i: usize) {
        let nw = self.next_weight;
        let cp = self.curr_pos;
        let s = &mut self.slots[i];
        if s.eweight == 0 {
            return;
        }
        if s.npos == 0 {
            s.npos = cp;
        }
        s.lpos = s.npos;
        s.npos += nw / s.eweight;
        s.rweight += nw % s.eweight;
        if s.rweight >= s.eweight {
            s.rweight -= s.eweight;
            s.npos += 1;
        }
    }

    fn switch_trees(&mut self) {
        self.init = 1 - self.init;
        // Servers now in "init" were queued as "next": their tree tag follows the swap
        // automatically since it names the physical tree.
        self.curr_weight = self.next_weight;
        self.curr_pos = self.curr_weight;
    }

    /// Next server, skipping saturated ones (`is_full(server)`) and `avoid` when another
    /// choice exists. Returns the server index.
    pub fn next(&mut self, is_full: impl Fn(usize) -> bool, avoid: Option<usize>) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut switched = false;
        let mut avoided: Option<usize> = None;
        let mut full: Vec<usize> = Vec::new();
        let chosen: Option<usize>;
        'outer: loop {
            if self.curr_weight == 0 {
                self.curr_weight = self.next_weight;
                self.curr_pos = self.next_weight;
            }
            let i = loop {
                if let Some(i) = self.get_from_group() {
                    break i;
                }
                if switched {
                    chosen = avoided;
                    break 'outer;
                }
                switched = true;
                self.switch_trees();
            };
            self.update_position(i);
            self.dequeue(i);
            self.curr_pos += 1;
            let server = self.slots[i].server;
            if !is_full(server) {
                if Some(server) != avoid || avoided.is_some() {
                    chosen = Some(i);
                    break;
                }
                avoided = Some(i);
            }
            full.push(i);
        }
        if let Some(i) = chosen {
            self.queue(i);
        }
        for &f in full.iter().rev() {
            if Some(f) == chosen {
                continue;
            }
            if switched {
                let t = self.init;
                self.queue_by_weight(t, f);
            } else {
                self.queue(f);
            }
        }
        chosen.map(|i| self.slots[i].server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(weights: &[u32], n: usize) -> String {
        let names = b"abcdefgh";
        let srv: Vec<(usize, u32)> = weights.iter().copied().enumerate().collect();
        let mut rr = RoundRobin::new(&srv);
        (0..n)
            .map(|_| names[rr.next(|_| false, None).unwrap()] as char)
            .collect()
    }

    #[test]
    fn observed_haproxy_order_3_1_2() {
        // HAProxy 2.6, weights a=3 b=1 c=2: "a c a b a c" repeating.
        assert_eq!(seq(&[3, 1, 2], 12), "acabacacabac");
    }

    #[test]
    fn shares_follow_weights() {
        let s = seq(&[1, 2, 3], 600);
        assert_eq!(s.matches('a').count(), 100);
        assert_eq!(s.matches('b').count(), 200);
        assert_eq!(s.matches('c').count(), 300);
    }

    #[test]
    fn equal_weights_rotate_in_declaration_order() {
        assert_eq!(seq(&[1, 1, 1], 6), "abcabc");
    }

    #[test]
    fn saturated_servers_are_skipped() {
        let srv = vec![(0, 1), (1, 1)];
        let mut rr = RoundRobin::new(&srv);
        for _ in 0..5 {
            assert_eq!(rr.next(|s| s == 0, None), Some(1));
        }
        assert_eq!(rr.next(|_| true, None), None);
    }
}
