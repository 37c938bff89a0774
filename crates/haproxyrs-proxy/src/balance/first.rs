//! `balance first`: the usable server with the lowest id that still has a free
//! `maxconn` slot; weights are ignored. Fills servers one after another.

use std::sync::Arc;

use crate::server::ServerRt;

/// `group` is sorted by server id at build time.
pub fn pick(servers: &[Arc<ServerRt>], group: &[usize], avoid: Option<usize>) -> Option<usize> {
    let mut avoided = None;
    for &i in group {
        if servers[i].is_full() {
            continue;
        }
        if Some(i) == avoid {
            avoided = Some(i);
            continue;
        }
        return Some(i);
    }
    avoided
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::tests::mk_servers_maxconn;

    #[test]
    fn fills_lowest_id_first() {
        let servers = mk_servers_maxconn(&[(1, 2), (1, 2)]);
        let group = [0, 1];
        let mut g = Vec::new();
        let mut picks = Vec::new();
        for k in 0..4 {
            let p = pick(&servers, &group, None).unwrap();
            picks.push(p);
            g.push(servers[p].try_take_slot(k).unwrap());
        }
        assert_eq!(picks, vec![0, 0, 1, 1]);
        assert_eq!(pick(&servers, &group, None), None);
        g.remove(0);
        assert_eq!(pick(&servers, &group, None), Some(0));
    }
}
