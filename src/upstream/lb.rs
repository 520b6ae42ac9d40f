//! Load-balancing algorithms over a backend's servers.
//!
//! Owns: server selection (`roundrobin`, `static-rr`, `leastconn`, `first`,
//! `source`) and the active/backup split. Selection is lock-free: weighted
//! rotations are precomputed schedules walked by an atomic cursor.
//! Must not connect anywhere or change server state.

use super::server::ServerState;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The `balance` algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
}

impl Algo {
    /// Reads `balance` words; unknown or missing algorithms fall back to
    /// HAProxy's default, roundrobin.
    pub fn from_words(words: Option<&[String]>) -> Algo {
        match words.and_then(|w| w.first()).map(String::as_str) {
            Some("static-rr") => Algo::StaticRr,
            Some("leastconn") => Algo::LeastConn,
            Some("first") => Algo::First,
            Some("source") => Algo::Source,
            _ => Algo::RoundRobin,
        }
    }
}

/// A group of servers (the actives or the backups) with its schedule.
#[derive(Debug)]
struct Group {
    servers: Vec<Arc<ServerState>>,
    /// Indexes into `servers`, one full weighted cycle.
    schedule: Vec<usize>,
    cursor: AtomicUsize,
}

impl Group {
    fn new(servers: Vec<Arc<ServerState>>) -> Self {
        let weights: Vec<u32> = servers.iter().map(|s| s.weight).collect();
        Group {
            schedule: smooth_schedule(&weights),
            servers,
            cursor: AtomicUsize::new(0),
        }
    }

    fn any_usable(&self) -> bool {
        self.servers.iter().any(|s| s.usable())
    }
}

/// The balancer of one backend.
#[derive(Debug)]
pub struct Balancer {
    pub algo: Algo,
    active: Group,
    backup: Group,
    all_backups: bool,
}

impl Balancer {
    pub fn new(algo: Algo, servers: &[Arc<ServerState>], all_backups: bool) -> Self {
        let (b, a): (Vec<_>, Vec<_>) = servers.iter().cloned().partition(|s| s.backup);
        Balancer {
            algo,
            active: Group::new(a),
            backup: Group::new(b),
            all_backups,
        }
    }

    /// Picks a server for a new connection from `src`, skipping `avoid`
    /// (the server that just failed, when redispatching) if possible.
    pub fn pick(&self, src: IpAddr, avoid: Option<&Arc<ServerState>>) -> Option<Arc<ServerState>> {
        if self.active.any_usable() {
            return self.pick_in(&self.active, src, avoid);
        }
        if !self.all_backups && self.algo != Algo::Source {
            // Without `option allbackups` only the first usable backup serves.
            return self.backup.servers.iter().find(|s| s.usable()).cloned();
        }
        self.pick_in(&self.backup, src, avoid)
    }

    fn pick_in(
        &self,
        g: &Group,
        src: IpAddr,
        avoid: Option<&Arc<ServerState>>,
    ) -> Option<Arc<ServerState>> {
        let first = self.pick_once(g, src, None)?;
        match avoid {
            Some(a) if Arc::ptr_eq(a, &first) => self.pick_once(g, src, avoid).or(Some(first)),
            _ => Some(first),
        }
    }

    fn pick_once(
        &self,
        g: &Group,
        src: IpAddr,
        avoid: Option<&Arc<ServerState>>,
    ) -> Option<Arc<ServerState>> {
        let ok = |s: &Arc<ServerState>| s.usable() && !avoid.is_some_and(|a| Arc::ptr_eq(a, s));
        match self.algo {
            Algo::RoundRobin | Algo::StaticRr => {
                let n = g.schedule.len();
                for _ in 0..n {
                    let i = g.cursor.fetch_add(1, Ordering::Relaxed) % n;
                    let s = &g.servers[g.schedule[i]];
                    if ok(s) {
                        return Some(s.clone());
                    }
                }
                None
            }
            Algo::LeastConn => {
                let n = g.servers.len();
                if n == 0 {
                    return None;
                }
                // Ties rotate so equal servers share the load.
                let start = g.cursor.fetch_add(1, Ordering::Relaxed) % n;
                let mut best: Option<(u64, &Arc<ServerState>)> = None;
                for k in 0..n {
                    let s = &g.servers[(start + k) % n];
                    if !ok(s) {
                        continue;
                    }
                    let key = (u64::from(s.conns()) + 1) * 1_000_000 / u64::from(s.weight.max(1));
                    if best.is_none_or(|(b, _)| key < b) {
                        best = Some((key, s));
                    }
                }
                best.map(|(_, s)| s.clone())
            }
            Algo::First => g.servers.iter().find(|s| ok(s)).cloned(),
            Algo::Source => {
                let n = g.schedule.len();
                if n == 0 {
                    return None;
                }
                let h = full_hash(addr_hash(src)) as usize;
                let s = &g.servers[g.schedule[h % n]];
                if ok(s) {
                    return Some(s.clone());
                }
                // The map is rebuilt without down servers in HAProxy; walk
                // on from the hashed slot instead.
                (1..n)
                    .map(|k| &g.servers[g.schedule[(h + k) % n]])
                    .find(|s| ok(s))
                    .cloned()
            }
        }
    }
}

/// One full cycle of the smooth weighted rotation (each slot goes to the
/// server with the highest running score, which then pays the total): the
/// order HAProxy's map-based algorithms use; equal weights give s1, s2, ...
pub fn smooth_schedule(weights: &[u32]) -> Vec<usize> {
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    let mut score = vec![0i64; weights.len()];
    let mut out = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let mut best = 0;
        for (i, &w) in weights.iter().enumerate() {
            score[i] += i64::from(w);
            if score[i] > score[best] {
                best = i;
            }
        }
        score[best] -= total;
        out.push(best);
    }
    out
}

/// The source address folded to 32 bits the way HAProxy does (big-endian
/// words XORed together).
fn addr_hash(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => v6
            .octets()
            .chunks(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .fold(0, |h, w| h ^ w),
    }
}

/// Bob Jenkins' 32-bit full-avalanche integer hash (HAProxy's `full_hash`).
pub fn full_hash(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a
}

#[cfg(test)]
mod tests;
