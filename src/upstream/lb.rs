//! Load-balancing algorithms over a backend's servers.
//!
//! Owns: server selection (`roundrobin`, `static-rr`, `leastconn`, `first`,
//! `source`, `uri`, `url_param`, `hdr()`, `random`, `hash <fetch>`) with
//! HAProxy 2.6's exact hash placement (map-based table or consistent ring,
//! see [`map`] and [`chash`]), and the active/backup split. Weighted
//! rotations are precomputed schedules walked by an atomic cursor; hash
//! tables are precomputed for the all-up case and rebuilt (cached) when
//! servers are down. Must not connect anywhere or change server state.
//!
//! Request-based algorithms get their key through [`with_request_hash`]:
//! the HTTP session computes [`Balancer::request_hash`] and runs the
//! connect future inside that scope; without it (TCP) they fall back to
//! round robin like HAProxy does when the key is missing.

pub mod algo;
pub mod chash;
pub mod hash;
pub mod key;
pub mod map;

pub use algo::{Algo, Expr, Kind, unsupported_balance};
pub use hash::full_hash;

use super::server::ServerState;
use hash::Method;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

tokio::task_local! {
    static REQ_HASH: Option<u32>;
}

/// Runs `f` (the connect) with the request's hash visible to
/// [`Balancer::pick`]. `None` means the key was absent: round robin.
pub async fn with_request_hash<F: std::future::Future>(h: Option<u32>, f: F) -> F::Output {
    REQ_HASH.scope(h, f).await
}

fn current_request_hash() -> Option<u32> {
    REQ_HASH.try_with(|h| *h).ok().flatten()
}

/// A map-based table for one set of eligible servers: (eligibility, table).
type Degraded = (Vec<bool>, Arc<Vec<usize>>);

/// A group of servers (the actives or the backups) with its tables.
#[derive(Debug)]
struct Group {
    servers: Vec<Arc<ServerState>>,
    /// Map-based effective weights (user weight / GCD of all weights).
    eweights: Vec<u32>,
    /// Indexes into `servers`, one full weighted cycle.
    schedule: Vec<usize>,
    cursor: AtomicUsize,
    /// The hash table with every server eligible.
    full_map: Arc<Vec<usize>>,
    /// The last table built for a degraded set.
    cache: Mutex<Option<Degraded>>,
    ring: chash::Ring,
}

impl Group {
    fn new(servers: Vec<(Arc<ServerState>, u32, u32)>) -> Self {
        let eweights: Vec<u32> = servers.iter().map(|s| s.2).collect();
        let weights: Vec<u32> = servers.iter().map(|s| s.0.weight).collect();
        let members: Vec<(usize, u32, u32)> = servers
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.1, s.0.weight))
            .collect();
        Group {
            schedule: smooth_schedule(&weights),
            full_map: Arc::new(map::build(&eweights, &vec![true; eweights.len()])),
            eweights,
            ring: chash::Ring::new(&members),
            servers: servers.into_iter().map(|s| s.0).collect(),
            cursor: AtomicUsize::new(0),
            cache: Mutex::new(None),
        }
    }

    /// Any server in service, full or not (full active servers queue
    /// requests rather than letting backups take them, like HAProxy).
    fn any_eligible(&self) -> bool {
        self.servers.iter().any(|s| s.eligible())
    }

    /// Up with a non-zero weight: the servers HAProxy keeps in its tables
    /// (a full server still gets its hashed requests, queued there).
    fn in_table(&self, i: usize) -> bool {
        self.servers
            .get(i)
            .is_some_and(|s| s.is_up() && s.weight > 0)
    }

    /// The map-based table for the current states.
    fn table(&self) -> Arc<Vec<usize>> {
        let elig: Vec<bool> = (0..self.servers.len()).map(|i| self.in_table(i)).collect();
        if elig.iter().all(|&e| e) {
            return self.full_map.clone();
        }
        let Ok(mut c) = self.cache.lock() else {
            return Arc::new(map::build(&self.eweights, &elig));
        };
        if let Some((e, t)) = c.as_ref()
            && *e == elig
        {
            return t.clone();
        }
        let t = Arc::new(map::build(&self.eweights, &elig));
        *c = Some((elig, t.clone()));
        t
    }
}

/// The balancer of one backend.
#[derive(Debug)]
pub struct Balancer {
    pub algo: Algo,
    active: Group,
    backup: Group,
    all_backups: bool,
    rng: AtomicU64,
}

impl Balancer {
    pub fn new(algo: Algo, servers: &[Arc<ServerState>], all_backups: bool) -> Self {
        let ids = if algo.ids.len() == servers.len() {
            algo.ids.clone()
        } else {
            (1..=servers.len() as u32).collect()
        };
        let weights: Vec<u32> = servers.iter().map(|s| s.weight).collect();
        let ew = map::effective_weights(&weights);
        let (mut act, mut bck) = (Vec::new(), Vec::new());
        for (i, s) in servers.iter().enumerate() {
            let e = (s.clone(), ids[i], ew[i]);
            if s.backup { bck.push(e) } else { act.push(e) }
        }
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        Balancer {
            algo,
            active: Group::new(act),
            backup: Group::new(bck),
            all_backups,
            rng: AtomicU64::new(seed | 1),
        }
    }

    /// The hash of the request key for request-based algorithms (`None`
    /// when the key is absent, or the algorithm does not hash requests).
    /// `uri` is the request target as received; `headers` in order.
    pub fn request_hash<'a, I>(&self, uri: &'a [u8], headers: I, src: IpAddr) -> Option<u32>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let ht = &self.algo.hash;
        match &self.algo.kind {
            Kind::Uri(o) => Some(ht.hash(key::uri_key(uri, o))),
            Kind::UrlParam(n) => key::url_param(uri, n.as_bytes()).map(|v| ht.hash(v)),
            Kind::Hdr { name, domain_only } => {
                let v = *key::header_values(headers, name).first()?;
                if v.is_empty() {
                    return None;
                }
                Some(ht.hash(if *domain_only { key::domain_only(v) } else { v }))
            }
            Kind::Hash(e) => match e {
                Expr::Path => {
                    let p = key::path_and_query(uri);
                    let end = p.iter().position(|&c| c == b'?').unwrap_or(p.len());
                    Some(ht.hash(&p[..end]))
                }
                Expr::Src => Some(match src {
                    IpAddr::V4(a) => ht.hash(&a.octets()),
                    IpAddr::V6(a) => ht.hash(&a.octets()),
                }),
                Expr::ReqHdr(n) => key::header_values(headers, n).last().map(|v| ht.hash(v)),
                Expr::UrlParam(n) => key::url_param(uri, n.as_bytes()).map(|v| ht.hash(v)),
            },
            _ => None,
        }
    }

    /// `url_param ... check_post`: the hash of the parameter found in a
    /// POST body (`a=1&b=2` form), `None` when absent or another
    /// algorithm.
    pub fn body_param_hash(&self, body: &[u8]) -> Option<u32> {
        let Kind::UrlParam(n) = &self.algo.kind else {
            return None;
        };
        let mut q = Vec::with_capacity(body.len() + 1);
        q.push(b'?');
        q.extend_from_slice(body);
        key::url_param(&q, n.as_bytes()).map(|v| self.algo.hash.hash(v))
    }

    /// Whether this request's server is fixed by a hash (`source`, or a
    /// request-based algorithm with its key present): such requests queue
    /// on that server when it is full, and [`Self::pick`] returns it full
    /// or not. Other algorithms skip full servers.
    pub fn deterministic(&self) -> bool {
        match &self.algo.kind {
            Kind::Source => true,
            Kind::RoundRobin | Kind::StaticRr | Kind::LeastConn | Kind::First | Kind::Random(_) => {
                false
            }
            _ => current_request_hash().is_some(),
        }
    }

    /// A hash-based algorithm (HAProxy's `BE_LB_KIND_HI`): a failed
    /// request is not moved to another server at once on retry.
    pub fn hash_based(&self) -> bool {
        !matches!(
            self.algo.kind,
            Kind::RoundRobin | Kind::StaticRr | Kind::LeastConn | Kind::First | Kind::Random(_)
        )
    }

    /// Active (non-backup) servers in service (HAProxy's `srv_act`).
    pub fn active_in_service(&self) -> usize {
        self.active.servers.iter().filter(|s| s.eligible()).count()
    }

    /// Picks a server for a new connection from `src`, skipping `avoid`
    /// (the server that just failed, when redispatching) if possible.
    /// Full servers are skipped unless [`Self::deterministic`].
    pub fn pick(&self, src: IpAddr, avoid: Option<&Arc<ServerState>>) -> Option<Arc<ServerState>> {
        if self.active.any_eligible() {
            return self.pick_in(&self.active, src, avoid);
        }
        if !self.all_backups {
            // Without `option allbackups` only the first usable backup
            // serves, whatever the algorithm (HAProxy does not even hash
            // when a single server is used).
            let first = self.backup.servers.iter().find(|s| s.eligible());
            return first
                .filter(|s| s.has_slot() || self.deterministic())
                .cloned();
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
        // A hashed request keeps its server even when it is full (it
        // queues there).
        let hashed =
            |s: &Arc<ServerState>| s.eligible() && !avoid.is_some_and(|a| Arc::ptr_eq(a, s));
        match &self.algo.kind {
            Kind::RoundRobin | Kind::StaticRr => rotate(g, &ok),
            Kind::LeastConn => {
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
            Kind::First => g.servers.iter().find(|s| ok(s)).cloned(),
            Kind::Source => {
                let h = self.algo.hash.modify(addr_hash(src));
                self.by_hash(g, h, &hashed, avoid)
            }
            Kind::Random(draws) => self.random(g, *draws, &ok, avoid),
            _ => match current_request_hash() {
                Some(h) => self.by_hash(g, h, &hashed, avoid),
                None => rotate(g, &ok),
            },
        }
    }

    /// The server a hash designates, by the configured method.
    fn by_hash(
        &self,
        g: &Group,
        h: u32,
        ok: &dyn Fn(&Arc<ServerState>) -> bool,
        avoid: Option<&Arc<ServerState>>,
    ) -> Option<Arc<ServerState>> {
        if self.algo.hash.method == Method::Consistent {
            let avoid_i = avoid.and_then(|a| g.servers.iter().position(|s| Arc::ptr_eq(s, a)));
            let i = g.ring.lookup(h, &|i| g.in_table(i), avoid_i)?;
            let s = &g.servers[i];
            if ok(s) {
                return Some(s.clone());
            }
            return rotate(g, ok);
        }
        let t = g.table();
        let n = t.len();
        if n == 0 {
            return None;
        }
        let at = h as usize % n;
        // An avoided (or out of service) server: walk on from the hashed
        // slot.
        (0..n)
            .map(|k| &g.servers[t[(at + k) % n]])
            .find(|s| ok(s))
            .cloned()
    }

    /// Power of `draws` choices: random points on the consistent ring,
    /// keeping the least loaded server relative to its weight.
    fn random(
        &self,
        g: &Group,
        draws: u32,
        ok: &dyn Fn(&Arc<ServerState>) -> bool,
        avoid: Option<&Arc<ServerState>>,
    ) -> Option<Arc<ServerState>> {
        let avoid_i = avoid.and_then(|a| g.servers.iter().position(|s| Arc::ptr_eq(s, a)));
        let mut best: Option<usize> = None;
        for _ in 0..draws.max(1) {
            let Some(c) = g
                .ring
                .lookup(self.next_random(), &|i| ok(&g.servers[i]), avoid_i)
            else {
                break;
            };
            best = Some(match best {
                Some(b) if b != c => {
                    let (sb, sc) = (&g.servers[b], &g.servers[c]);
                    if u64::from(sc.conns()) * u64::from(sb.weight)
                        > u64::from(sb.conns()) * u64::from(sc.weight)
                    {
                        b
                    } else {
                        c
                    }
                }
                _ => c,
            });
        }
        best.map(|i| g.servers[i].clone())
    }

    fn next_random(&self) -> u32 {
        // xorshift64*, racing threads just share the sequence.
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.store(x, Ordering::Relaxed);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
}

/// The weighted rotation (also the fallback when a hash key is missing).
fn rotate(g: &Group, ok: &dyn Fn(&Arc<ServerState>) -> bool) -> Option<Arc<ServerState>> {
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

/// One full cycle of the smooth weighted rotation (each slot goes to the
/// server with the highest running score, which then pays the total);
/// equal weights give s1, s2, ...
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

#[cfg(test)]
mod tests;
