//! HAProxy's consistent-hash ring (`hash-type consistent`, `random`).
//!
//! Owns: the points of each server (its effective weight, i.e. `weight *
//! 16` at full weight, of them, keyed
//! `full_hash(id * 4096 + n)` where `id` is the server's numeric id) and
//! the lookup: the point at or after the hash (wrapping), compared with
//! the one before it; the closer one wins, ties going to the previous one.
//! Servers that are not eligible are skipped as if their points had been
//! removed. Must not look at server state itself.

use super::hash::full_hash;

/// HAProxy's `BE_WEIGHT_SCALE`: points per unit of user weight.
const WEIGHT_SCALE: u32 = 16;
/// HAProxy's `SRV_EWGHT_RANGE` (256 user weights * the scale).
const EWGHT_RANGE: u32 = 256 * WEIGHT_SCALE;

/// One group's ring, sorted by key.
#[derive(Debug, Default)]
pub struct Ring {
    /// (key, server index), sorted by key.
    points: Vec<(u32, usize)>,
}

impl Ring {
    /// `members` are (server index, id, effective weight = node count).
    pub fn new(members: &[(usize, u32, u32)]) -> Ring {
        let mut points = Vec::new();
        for &(idx, id, eweight) in members {
            let n = eweight.min(EWGHT_RANGE);
            for node in 0..n {
                points.push((
                    full_hash(id.wrapping_mul(EWGHT_RANGE).wrapping_add(node)),
                    idx,
                ));
            }
        }
        points.sort_by_key(|&(k, i)| (k, i));
        Ring { points }
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The server closest to `hash` among the eligible ones; a server
    /// `skip` refuses (the one to avoid, or one over its
    /// `hash-balance-factor` share) is
    /// skipped by walking on to the following points.
    pub fn lookup(
        &self,
        hash: u32,
        eligible: &dyn Fn(usize) -> bool,
        skip: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let n = self.points.len();
        if n == 0 {
            return None;
        }
        let start = self.points.partition_point(|&(k, _)| k < hash) % n;
        // First eligible point at or after the hash, wrapping.
        let next = (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| eligible(self.points[i].1))?;
        // Last eligible point before it, wrapping.
        let prev = (1..=n)
            .map(|k| (next + n - k) % n)
            .find(|&i| eligible(self.points[i].1))
            .unwrap_or(next);
        let (nk, ns) = self.points[next];
        let (pk, ps) = self.points[prev];
        let mut at = next;
        let mut srv = ns;
        if ns != ps && hash.wrapping_sub(pk) <= nk.wrapping_sub(hash) {
            at = prev;
            srv = ps;
        }
        if skip(srv) {
            // Walk on like HAProxy, at most one full turn.
            for k in 1..=n {
                let i = (at + k) % n;
                let s = self.points[i].1;
                if eligible(s) && !skip(s) {
                    return Some(s);
                }
            }
        }
        Some(srv)
    }
}
