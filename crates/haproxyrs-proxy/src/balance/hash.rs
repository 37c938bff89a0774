//! Hash-based placement: HAProxy's hash functions (`sdbm`, `djb2`, `wt6`, `crc32`), its
//! avalanche mixer, the `balance source` address hash, and the consistent-hash ring
//! (`hash-type consistent`) whose points are those HAProxy computes from server ids.

use std::net::IpAddr;

use haproxyrs_config::ir::HashFunction;

/// Bob Jenkins' 32-bit integer avalanche, as HAProxy applies it ("full hash").
pub fn full_hash(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    // The final multiplication by a prime close to 3/4 of 2^32 spreads the values over
    // the whole ring (observed: `str(abc),sdbm(1)` = 659243622 in 2.6).
    a.wrapping_mul(3_221_225_473)
}

/// Bytes are signed `char`s in HAProxy's hash loops: keep that for bytes >= 0x80.
fn signed(b: u8) -> u32 {
    b as i8 as i32 as u32
}

pub fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &b| {
        signed(b)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

pub fn djb2(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &b| {
        (h << 5).wrapping_add(h).wrapping_add(signed(b))
    })
}

pub fn wt6(key: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965au32, 0x5ca6_953au32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &b in key {
        let t = u32::from(b);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

pub fn crc32(key: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in key {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Hash of a key with the backend's `hash-type` function and modifier.
pub fn hash_key(key: &[u8], function: HashFunction, avalanche: bool) -> u32 {
    let h = match function {
        HashFunction::Sdbm => sdbm(key),
        HashFunction::Djb2 => djb2(key),
        HashFunction::Wt6 => wt6(key),
        HashFunction::Crc32 => crc32(key),
        // `none`: the key is taken as a number when it is one, else its first bytes.
        HashFunction::None => std::str::from_utf8(key)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or_else(|| {
                let mut w = [0u8; 4];
                let n = key.len().min(4);
                w[..n].copy_from_slice(&key[..n]);
                u32::from_be_bytes(w)
            }),
    };
    if avalanche {
        full_hash(h)
    } else {
        h
    }
}

/// `balance source`: XOR of the address' 32-bit big-endian words; avalanched only for
/// consistent hashing (map-based takes it as is).
pub fn source_hash(ip: IpAddr, consistent: bool) -> u32 {
    let h = match ip {
        IpAddr::V4(a) => u32::from_be_bytes(a.octets()),
        IpAddr::V6(a) => a.octets().chunks_exact(4).fold(0u32, |h, c| {
            h ^ u32::from_be_bytes([c[0], c[1], c[2], c[3]])
        }),
    };
    if consistent {
        full_hash(h)
    } else {
        h
    }
}

const RING_SCALE: u32 = 16;

/// The consistent-hash ring of one group: `16 × weight` points per server, at
/// `full_hash(id × 4096 + n)`.
#[derive(Debug)]
pub struct Ring {
    /// (point, server index), sorted by point.
    points: Vec<(u32, usize)>,
}

impl Ring {
    /// `servers`: (server index, server id, user weight).
    pub fn new(servers: &[(usize, u32, u32)]) -> Ring {
        let mut points = Vec::new();
        for &(idx, id, w) in servers {
            for n in 0..w.min(256) * RING_SCALE {
                points.push((full_hash(id.wrapping_mul(4096).wrapping_add(n)), idx));
            }
        }
        points.sort_by_key(|p| p.0);
        Ring { points }
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The server whose point is closest to `hash` (the previous one on a tie), walking
    /// on past saturated servers and `avoid`.
    pub fn lookup(
        &self,
        hash: u32,
        is_full: impl Fn(usize) -> bool,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let n = self.points.len();
        if n == 0 {
            return None;
        }
        let next = self.points.partition_point(|p| p.0 < hash) % n;
        let prev = (next + n - 1) % n;
        let dp = hash.wrapping_sub(self.points[prev].0);
        let dn = self.points[next].0.wrapping_sub(hash);
        let start = if dp <= dn { prev } else { next };
        let first = self.points[start].1;
        if !is_full(first) && Some(first) != avoid {
            return Some(first);
        }
        // Walk the ring for the next eligible server.
        (1..n)
            .map(|k| self.points[(start + k) % n].1)
            .find(|&s| !is_full(s) && Some(s) != avoid)
            .or(if is_full(first) { None } else { Some(first) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_functions_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(djb2(b""), 5381);
        assert_eq!(djb2(b"a"), 5381 * 33 + 97);
        assert_eq!(sdbm(b"a"), 97);
        assert_eq!(sdbm(b"ab"), 98 + (97 << 6) + (97 << 16) - 97);
        // Bytes >= 0x80 count as negative chars.
        assert_eq!(sdbm(&[0xff]), u32::MAX);
    }

    #[test]
    fn source_hash_of_ipv4_is_the_address() {
        assert_eq!(
            source_hash("127.0.0.1".parse().unwrap(), false),
            0x7f00_0001
        );
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(source_hash(v6, false), 1);
    }

    #[test]
    fn ring_distributes_by_weight_and_walks_past_full() {
        let ring = Ring::new(&[(0, 1, 1), (1, 2, 3)]);
        let mut counts = [0u32; 2];
        for k in 0..20000u32 {
            counts[ring.lookup(full_hash(k), |_| false, None).unwrap()] += 1;
        }
        assert!(counts[1] > counts[0], "{counts:?}");
        assert_eq!(ring.lookup(5, |s| s == 0, None), Some(1));
        assert_eq!(ring.lookup(5, |_| true, None), None);
    }
}
