//! Load-balancing algorithms over a backend's servers.
//!
//! Owns: server selection (`roundrobin`, `static-rr`, `leastconn`, `first`,
//! `source`, `uri`, `url_param`, `hdr()`, `random`, `hash <fetch>`) with
//! HAProxy 2.6's exact hash placement (map-based table or consistent ring,
//! see [`map`] and [`chash`]), and the active/backup split. Weights are
//! dynamic like HAProxy's: each pick reads the servers' effective weights
//! ([`Balancer::eweight`]: `set weight`, agent weights, `slowstart`) and
//! brings `roundrobin`'s fwrr trees ([`fwrr`]), `leastconn`'s tie order and
//! the consistent ring up to date, replaying changes in the order they
//! happened; map-based tables are rebuilt (cached) for the servers in
//! service; `static-rr` walks that table like HAProxy's
//! `map_get_server_rr`. `hash-balance-factor` bounds consistent-hash loads.
//! Must not connect anywhere or change server state.
//!
//! The servers are a snapshot behind an [`arc_swap::ArcSwap`]: picks load
//! it without a lock; `add server`/`del server` ([`Balancer::add_server`],
//! [`Balancer::remove_server`]) build the next one and carry the fwrr
//! trees and leastconn order over (a new server enters the trees the way
//! HAProxy 2.6 inserts it), so server identities and sequences continue.
//!
//! Request-based algorithms get their key through [`with_request_hash`]:
//! the HTTP session computes [`Balancer::request_hash`] and runs the
//! connect future inside that scope; without it (TCP) they fall back to
//! round robin like HAProxy does when the key is missing (the map walk
//! for map-based hashing).

pub mod algo;
pub mod chash;
pub mod fwrr;
pub mod hash;
pub mod key;
pub mod map;
pub mod rdp;

pub use algo::{Algo, Expr, Kind, unsupported_balance};
pub use hash::full_hash;

use super::server::ServerState;
use super::slowstart;
use hash::Method;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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
    /// The backups' group.
    backup: bool,
    /// Replaced by a newer snapshot (`add server`/`del server`): its
    /// stateful tables (fwrr, leastconn order) moved there, so a pick that
    /// locked them here retries on the current group.
    retired: AtomicBool,
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
    /// Numeric ids, for the consistent ring's node keys.
    ids: Vec<u32>,
    /// The consistent ring for the effective weights it was built with.
    ring: Mutex<(Vec<u32>, Arc<chash::Ring>)>,
    /// `roundrobin`'s trees.
    fwrr: Mutex<fwrr::Fwrr>,
    /// `leastconn`'s tie order.
    lc: Mutex<LcOrder>,
}

/// `leastconn`'s tie order: when each server was last repositioned.
#[derive(Debug, Clone)]
struct LcOrder {
    /// Per server: the position stamp (lower = older = first).
    order: Vec<u64>,
    counter: u64,
    /// Per server: the (usable, eweight) last applied.
    seen: Vec<(bool, u32)>,
}

impl Group {
    fn new(backup: bool, servers: Vec<(Arc<ServerState>, u32, u32)>) -> Self {
        let eweights: Vec<u32> = servers.iter().map(|s| s.2).collect();
        let weights: Vec<u32> = servers.iter().map(|s| s.0.weight).collect();
        let ids: Vec<u32> = servers.iter().map(|s| s.1).collect();
        let dyn_w: Vec<u32> = servers
            .iter()
            .map(|s| slowstart::eweight(s.0.weight, slowstart::WEIGHT_SCALE, 1, None))
            .collect();
        let members: Vec<(bool, u32)> = servers
            .iter()
            .zip(&dyn_w)
            .map(|(s, &w)| (s.0.eligible(), w))
            .collect();
        Group {
            backup,
            retired: AtomicBool::new(false),
            schedule: smooth_schedule(&weights),
            full_map: Arc::new(map::build(&eweights, &vec![true; eweights.len()])),
            eweights,
            ring: Mutex::new((
                dyn_w.clone(),
                Arc::new(chash::Ring::new(&ring_members(&ids, &dyn_w))),
            )),
            ids,
            fwrr: Mutex::new(fwrr::Fwrr::new(&members)),
            lc: Mutex::new(LcOrder {
                order: (0..servers.len() as u64).collect(),
                counter: servers.len() as u64,
                seen: members.clone(),
            }),
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
        self.servers.get(i).is_some_and(|s| s.eligible())
    }

    /// The consistent ring for the current effective weights (rebuilt
    /// when they changed: HAProxy adds or removes the server's nodes).
    fn ring(&self, ew: &dyn Fn(&ServerState) -> u32) -> Arc<chash::Ring> {
        let Ok(mut r) = self.ring.lock() else {
            let w: Vec<u32> = self.servers.iter().map(|s| ew(s)).collect();
            return Arc::new(chash::Ring::new(&ring_members(&self.ids, &w)));
        };
        let same = r.0.len() == self.servers.len()
            && self.servers.iter().zip(&r.0).all(|(s, &w)| ew(s) == w);
        if !same {
            let w: Vec<u32> = self.servers.iter().map(|s| ew(s)).collect();
            let ring = Arc::new(chash::Ring::new(&ring_members(&self.ids, &w)));
            *r = (w, ring);
        }
        r.1.clone()
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

/// (server index, id, node count) for the consistent ring.
fn ring_members(ids: &[u32], ew: &[u32]) -> Vec<(usize, u32, u32)> {
    ids.iter()
        .zip(ew)
        .enumerate()
        .map(|(i, (&id, &w))| (i, id, w))
        .collect()
}

/// The two groups of one snapshot of a backend's servers.
#[derive(Debug)]
struct Groups {
    active: Group,
    backup: Group,
}

impl Groups {
    /// The groups of `servers` ((server, numeric id) in order).
    fn build(servers: &[(Arc<ServerState>, u32)]) -> Groups {
        let weights: Vec<u32> = servers.iter().map(|s| s.0.weight).collect();
        let ew = map::effective_weights(&weights);
        let (mut act, mut bck) = (Vec::new(), Vec::new());
        for ((s, id), &e) in servers.iter().zip(&ew) {
            let m = (s.clone(), *id, e);
            if s.backup { bck.push(m) } else { act.push(m) }
        }
        Groups {
            active: Group::new(false, act),
            backup: Group::new(true, bck),
        }
    }

    /// Every server with its id, in order (actives then backups).
    fn members(&self) -> Vec<(Arc<ServerState>, u32)> {
        [&self.active, &self.backup]
            .into_iter()
            .flat_map(|g| g.servers.iter().cloned().zip(g.ids.iter().copied()))
            .collect()
    }

    fn group(&self, backup: bool) -> &Group {
        if backup { &self.backup } else { &self.active }
    }
}

/// The balancer of one backend.
///
/// The servers and their tables are a snapshot ([`arc_swap::ArcSwap`]):
/// a pick loads it without locking, `add server`/`del server` (rare,
/// serialized) build the next one and carry the stateful tables over so
/// the round-robin sequence continues like HAProxy's.
#[derive(Debug)]
pub struct Balancer {
    pub algo: Algo,
    groups: arc_swap::ArcSwap<Groups>,
    all_backups: bool,
    rng: AtomicU64,
    /// `hash-balance-factor` (percent, 0: none).
    balance_factor: u32,
    /// Serializes [`Self::add_server`] and [`Self::remove_server`].
    admin: Mutex<()>,
}

impl Balancer {
    pub fn new(algo: Algo, servers: &[Arc<ServerState>], all_backups: bool) -> Self {
        let ids = if algo.ids.len() == servers.len() {
            algo.ids.clone()
        } else {
            (1..=servers.len() as u32).collect()
        };
        let members: Vec<(Arc<ServerState>, u32)> = servers.iter().cloned().zip(ids).collect();
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        Balancer {
            algo,
            groups: arc_swap::ArcSwap::from_pointee(Groups::build(&members)),
            all_backups,
            rng: AtomicU64::new(seed | 1),
            balance_factor: 0,
            admin: Mutex::new(()),
        }
    }

    /// `add server`: `s` (numeric id `id`) joins its group at the end,
    /// out of the round-robin trees until it is usable (HAProxy inserts
    /// a new server like one coming up).
    pub fn add_server(&self, s: Arc<ServerState>, id: u32) {
        self.rebuild(
            |m| m.push((s.clone(), id)),
            |old, fw, lc| {
                if old.backup == s.backup {
                    // HAProxy leaves a new server's effective weight at the
                    // one of weight 1 until the first change.
                    let ready = s.is_up() && s.admin_state() == super::server::AdminState::Ready;
                    fw.push(ready, slowstart::WEIGHT_SCALE);
                    lc.counter += 1;
                    lc.order.push(lc.counter);
                    lc.seen.push((false, 0));
                }
            },
        );
    }

    /// `del server`: removes `s` from its group (it is in maintenance, so
    /// out of the trees already once they are brought up to date).
    pub fn remove_server(&self, s: &Arc<ServerState>) {
        self.rebuild(
            |m| m.retain(|(x, _)| !Arc::ptr_eq(x, s)),
            |old, fw, lc| {
                let at = old.servers.iter().position(|x| Arc::ptr_eq(x, s));
                if let Some(at) = at {
                    fw.remove(at);
                    if at < lc.order.len() {
                        lc.order.remove(at);
                        lc.seen.remove(at);
                    }
                }
            },
        );
    }

    /// Builds the next snapshot from the current one: `edit` changes the
    /// member list, `carry` adapts each group's fwrr trees and leastconn
    /// order (taken from the current groups, under their locks).
    fn rebuild(
        &self,
        edit: impl FnOnce(&mut Vec<(Arc<ServerState>, u32)>),
        carry: impl Fn(&Group, &mut fwrr::Fwrr, &mut LcOrder),
    ) {
        let _admin = self.admin.lock();
        let cur = self.groups.load_full();
        let mut members = cur.members();
        edit(&mut members);
        let next = Groups::build(&members);
        // Bring the trees up to date first (a server disabled just before
        // its deletion leaves them now).
        for b in [false, true] {
            let g = cur.group(b);
            if let Ok(mut f) = g.fwrr.lock() {
                self.sync_fwrr(g, &mut f);
            }
        }
        let locks = [false, true].map(|b| {
            let g = cur.group(b);
            (g.fwrr.lock().ok(), g.lc.lock().ok())
        });
        for (b, (fw, lc)) in [false, true].into_iter().zip(&locks) {
            let ng = next.group(b);
            let (Some(fw), Some(lc)) = (fw, lc) else {
                continue;
            };
            let (mut f, mut l) = ((**fw).clone(), (**lc).clone());
            carry(cur.group(b), &mut f, &mut l);
            if let Ok(mut nf) = ng.fwrr.lock() {
                *nf = f;
            }
            if let Ok(mut nl) = ng.lc.lock() {
                *nl = l;
            }
            ng.cursor.store(
                cur.group(b).cursor.load(Ordering::Relaxed),
                Ordering::Relaxed,
            );
        }
        cur.active.retired.store(true, Ordering::Relaxed);
        cur.backup.retired.store(true, Ordering::Relaxed);
        self.groups.store(Arc::new(next));
        drop(locks);
    }

    /// The current servers of one group (tests and diagnostics).
    pub fn group_servers(&self, backup: bool) -> Vec<Arc<ServerState>> {
        self.groups.load().group(backup).servers.clone()
    }

    /// Sets `hash-balance-factor` (percent; 0 turns it off).
    pub fn with_balance_factor(mut self, factor: u32) -> Self {
        self.balance_factor = factor;
        self
    }

    /// `hash-balance-factor` (HAProxy's `chash_server_is_eligible`):
    /// whether server `i` of `g` serves fewer connections than its share
    /// of `factor`% of the backend's load plus one.
    fn under_factor(&self, g: &Group, i: usize) -> bool {
        let f = u64::from(self.balance_factor);
        if f == 0 {
            return true;
        }
        let Some(s) = g.servers.get(i) else {
            return false;
        };
        let gs = self.groups.load();
        let served: u64 = gs
            .active
            .servers
            .iter()
            .chain(&gs.backup.servers)
            .map(|s| u64::from(s.conns()))
            .sum();
        let tot_w: u64 = g
            .servers
            .iter()
            .filter(|s| s.eligible())
            .map(|s| u64::from(self.eweight(s)))
            .sum();
        if tot_w == 0 {
            return true;
        }
        let tot_slots = ((served + 1) * f).div_ceil(100);
        let (per_w, rem) = (tot_slots / tot_w, tot_slots % tot_w);
        let ew = u64::from(self.eweight(s));
        let slots = ew * per_w + (ew * rem).div_ceil(tot_w);
        u64::from(s.conns()) < slots
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

    /// Whether weights other than 0 and the configured one take effect
    /// (HAProxy's `BE_LB_PROP_DYN`: everything but `static-rr` and
    /// map-based hashing, which only accept `0%` and `100%`).
    pub fn dynamic_weights(&self) -> bool {
        match &self.algo.kind {
            Kind::RoundRobin | Kind::LeastConn | Kind::First | Kind::Random(_) => true,
            Kind::StaticRr => false,
            _ => self.algo.hash.method == Method::Consistent,
        }
    }

    /// A server's effective weight (HAProxy's `eweight`): the current
    /// user weight times [`slowstart::WEIGHT_SCALE`], ramped during a
    /// `slowstart` warm-up for the dynamic algorithms.
    pub fn eweight(&self, s: &ServerState) -> u32 {
        let warm = if self.dynamic_weights() {
            s.warmup()
        } else {
            None
        };
        slowstart::eweight(s.cur_weight(), slowstart::WEIGHT_SCALE, 1, warm)
    }

    /// Active (non-backup) servers in service (HAProxy's `srv_act`).
    pub fn active_in_service(&self) -> usize {
        let gs = self.groups.load();
        gs.active.servers.iter().filter(|s| s.eligible()).count()
    }

    /// Picks a server for a new connection from `src`, skipping `avoid`
    /// (the server that just failed, when redispatching) if possible.
    /// Full servers are skipped unless [`Self::deterministic`].
    pub fn pick(&self, src: IpAddr, avoid: Option<&Arc<ServerState>>) -> Option<Arc<ServerState>> {
        let gs = self.groups.load();
        if gs.active.any_eligible() {
            return self.pick_in(&gs.active, src, avoid);
        }
        if !self.all_backups {
            // Without `option allbackups` only the first usable backup
            // serves, whatever the algorithm (HAProxy does not even hash
            // when a single server is used).
            let first = gs.backup.servers.iter().find(|s| s.eligible());
            return first
                .filter(|s| s.has_slot() || self.deterministic())
                .cloned();
        }
        self.pick_in(&gs.backup, src, avoid)
    }

    fn pick_in(
        &self,
        g: &Group,
        src: IpAddr,
        avoid: Option<&Arc<ServerState>>,
    ) -> Option<Arc<ServerState>> {
        if self.algo.kind == Kind::RoundRobin {
            return self.fwrr(g, avoid);
        }
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
            Kind::RoundRobin => self.fwrr(g, avoid),
            Kind::StaticRr => map_rr(g, &ok),
            Kind::LeastConn => self.leastconn(g, &ok),
            Kind::First => g.servers.iter().find(|s| ok(s)).cloned(),
            Kind::Source => {
                let h = self.algo.hash.modify(addr_hash(src));
                self.by_hash(g, h, &hashed, avoid)
            }
            Kind::Random(draws) => self.random(g, *draws, &ok, avoid),
            _ => match current_request_hash() {
                Some(h) => self.by_hash(g, h, &hashed, avoid),
                // HAProxy walks the map in order without a key (the
                // consistent ring's fallback is its own rotation).
                None if self.algo.hash.method != Method::Consistent => map_rr(g, &ok),
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
            let ring = g.ring(&|s| self.eweight(s));
            let skip = |i: usize| Some(i) == avoid_i || !self.under_factor(g, i);
            let i = ring.lookup(h, &|i| g.in_table(i), &skip)?;
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
        let ring = g.ring(&|s| self.eweight(s));
        for _ in 0..draws.max(1) {
            let skip = |i: usize| Some(i) == avoid_i || !self.under_factor(g, i);
            let Some(c) = ring.lookup(self.next_random(), &|i| ok(&g.servers[i]), &skip) else {
                break;
            };
            best = Some(match best {
                Some(b) if b != c => {
                    let (sb, sc) = (&g.servers[b], &g.servers[c]);
                    if u64::from(sc.conns()) * u64::from(self.eweight(sb))
                        > u64::from(sb.conns()) * u64::from(self.eweight(sc))
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

    /// `leastconn` (HAProxy's fwlc tree): the lowest
    /// `(inflight + 1) * 4096 / eweight` (0 when idle) wins; equal keys
    /// go in the order the servers were last repositioned (picked, or
    /// changed in weight or state), oldest first.
    fn leastconn(
        &self,
        g: &Group,
        ok: &dyn Fn(&Arc<ServerState>) -> bool,
    ) -> Option<Arc<ServerState>> {
        let Ok(mut lc) = g.lc.lock() else {
            return g.servers.iter().find(|s| ok(s)).cloned();
        };
        if g.retired.load(Ordering::Relaxed) {
            // `add/del server` moved the order to a newer snapshot.
            drop(lc);
            let gs = self.groups.load();
            let ng = gs.group(g.backup);
            if !std::ptr::eq(ng, g) {
                return self.leastconn(ng, ok);
            }
            return ng.servers.iter().find(|s| ok(s)).cloned();
        }
        let mut todo: Vec<(u64, usize, (bool, u32))> = Vec::new();
        for (i, s) in g.servers.iter().enumerate() {
            let now = (s.eligible(), self.eweight(s));
            if lc.seen.get(i).is_some_and(|&w| w != now) {
                todo.push((s.changed_at(), i, now));
            }
        }
        todo.sort_unstable();
        for (_, i, now) in todo {
            lc.seen[i] = now;
            lc.counter += 1;
            lc.order[i] = lc.counter;
        }
        let mut best: Option<(u64, u64, usize)> = None;
        for (i, s) in g.servers.iter().enumerate() {
            if !ok(s) {
                continue;
            }
            let c = u64::from(s.conns());
            let key = if c == 0 {
                0
            } else {
                (c + 1) * 4096 / u64::from(self.eweight(s).max(1))
            };
            let cand = (key, lc.order.get(i).copied().unwrap_or(0), i);
            if best.is_none_or(|b| cand < b) {
                best = Some(cand);
            }
        }
        let (_, _, i) = best?;
        lc.counter += 1;
        lc.order[i] = lc.counter;
        g.servers.get(i).cloned()
    }

    /// `roundrobin`: HAProxy's fwrr trees, brought up to date with the
    /// servers' current usability and effective weights first.
    fn fwrr(&self, g: &Group, avoid: Option<&Arc<ServerState>>) -> Option<Arc<ServerState>> {
        let Ok(mut f) = g.fwrr.lock() else {
            return rotate(g, &|s: &Arc<ServerState>| s.usable());
        };
        if g.retired.load(Ordering::Relaxed) {
            // `add/del server` moved the trees to a newer snapshot.
            drop(f);
            let gs = self.groups.load();
            let ng = gs.group(g.backup);
            if !std::ptr::eq(ng, g) {
                return self.fwrr(ng, avoid);
            }
            return rotate(ng, &|s: &Arc<ServerState>| s.usable());
        }
        self.sync_fwrr(g, &mut f);
        let avoid_i = avoid.and_then(|a| g.servers.iter().position(|s| Arc::ptr_eq(s, a)));
        let i = f.next(&|i| !g.servers[i].has_slot(), avoid_i)?;
        g.servers.get(i).cloned()
    }

    /// Brings `g`'s fwrr trees up to date with the servers' usability
    /// and effective weights, replaying changes in the order they
    /// happened like HAProxy applying each at once.
    fn sync_fwrr(&self, g: &Group, f: &mut fwrr::Fwrr) {
        let mut todo: Vec<(u64, usize, bool, u32)> = Vec::new();
        for (i, s) in g.servers.iter().enumerate() {
            if s.is_fresh() {
                continue;
            }
            let (u, w) = (s.eligible(), self.eweight(s));
            if f.differs(i, u, w) {
                todo.push((s.changed_at(), i, u, w));
            }
        }
        todo.sort_unstable();
        for (_, i, u, w) in todo {
            f.update(i, u, w);
        }
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

/// `static-rr` (HAProxy's `map_get_server_rr`): the map-based table of
/// the servers in service, walked from the position after the last pick
/// (which survives table rebuilds, restarting at 0 past the end); full
/// servers are passed over.
fn map_rr(g: &Group, ok: &dyn Fn(&Arc<ServerState>) -> bool) -> Option<Arc<ServerState>> {
    let t = g.table();
    let n = t.len();
    for _ in 0..n {
        let mut cur = g.cursor.load(Ordering::Relaxed);
        let idx = loop {
            let idx = if cur >= n { 0 } else { cur };
            match g
                .cursor
                .compare_exchange_weak(cur, idx + 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break idx,
                Err(c) => cur = c,
            }
        };
        let s = g.servers.get(*t.get(idx)?)?;
        if ok(s) {
            return Some(s.clone());
        }
    }
    None
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
