//! Per-server runtime state: the resolved address, weight, role and the
//! counters the balancing algorithms read.
//!
//! Owns: atomics only, so the request path never takes a lock. Must not
//! decide which server to use (that is [`super::lb`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};

/// Administrative state set from the runtime API (`set server ... state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminState {
    Ready,
    Drain,
    Maint,
}

/// Process-wide order of server changes (see [`ServerState::changed_at`]).
static CHANGES: AtomicU64 = AtomicU64::new(1);

/// One `server` line, live.
#[derive(Debug)]
pub struct ServerState {
    pub name: String,
    /// `None` when the address could not be resolved at startup; such a
    /// server is never selected.
    pub addr: Option<SocketAddr>,
    /// `source`: the local address connections leave from.
    pub source: Option<SocketAddr>,
    pub weight: u32,
    pub backup: bool,
    pub maxconn: Option<u32>,
    /// `minconn`: with the backend's load (see [`super::load`]), the
    /// limit scales between this and `maxconn`.
    pub minconn: Option<u32>,
    /// The backend load read by the dynamic limit (set with `minconn`).
    pub load: std::sync::OnceLock<std::sync::Arc<super::load::Load>>,
    /// `maxqueue`: bound of this server's own queue (0 or `None`: none).
    pub maxqueue: Option<u32>,
    /// Requests waiting for a slot on this very server (hash-based
    /// algorithms).
    pub queue: std::sync::Arc<super::queue::Queue>,
    /// The backend's queue, served too when this server frees a slot.
    pub be_queue: Option<std::sync::Arc<super::queue::Queue>>,
    up: AtomicBool,
    /// NOLB (HAProxy's `SRV_ST_STOPPING`): up but takes no new
    /// load-balanced traffic; set by health checks (`disable-on-404`).
    stopping: AtomicBool,
    /// [`AdminState`] as a number (runtime API).
    admin: AtomicU8,
    /// Current user weight (`set weight`); starts at `weight`.
    uweight: AtomicU32,
    /// `slowstart`, whole seconds (0: none).
    pub slowstart: u32,
    /// When the server last came up from down (milliseconds on the
    /// process clock, `u64::MAX`: never), for `slowstart`.
    up_since: AtomicU64,
    /// Order of the last change that can move the balancer (weight,
    /// up/down, admin state, NOLB), so it replays them in order.
    changed: AtomicU64,
    cur_conns: AtomicU32,
    total_conns: AtomicU64,
    /// `set maxconn server` (runtime API): `u32::MAX` = not set, use
    /// `maxconn`; 0 = no limit.
    rt_maxconn: AtomicU32,
    /// `disable health` / `disable agent` (runtime API): the check task
    /// must not run probes of that kind while set.
    pub health_paused: AtomicBool,
    pub agent_paused: AtomicBool,
    /// `on-marked-down shutdown-sessions`: a health transition to DOWN
    /// kills the sessions using this server.
    pub shutdown_on_down: AtomicBool,
    /// `on-marked-up shutdown-backup-sessions`: coming UP kills the
    /// sessions on the backend's backup servers.
    pub shutdown_backups_on_up: AtomicBool,
    /// `set server <b>/<s> addr` (runtime API): replaces [`Self::addr`]
    /// for traffic and checks (read with [`Self::cur_addr`]).
    rt_addr: arc_swap::ArcSwapOption<SocketAddr>,
    /// `set server <b>/<s> check-port`: `u32::MAX` = not set.
    rt_check_port: AtomicU32,
    /// Idle keep-alive connections to this server (not counted in
    /// `cur_conns`).
    pub pool: std::sync::Arc<super::pool::Pool>,
    /// Health-check state (status, code, duration, rise/fall counter),
    /// set once when a check task starts for this server.
    pub check: std::sync::OnceLock<std::sync::Arc<crate::health::CheckState>>,
    /// Traffic counters (`show stat`); shares the backend's.
    pub counters: std::sync::Arc<crate::metrics::ServerCounters>,
    /// Removed with `del server`: never selected again, and tasks bound
    /// to it (health checks) end.
    deleted: AtomicBool,
    /// Added with `add server` and unchanged since: like HAProxy 2.6, its
    /// effective weight is not committed to the balancer yet (it takes no
    /// traffic even when added `enabled`, and `show stat` prints its
    /// weight unscaled) until its first state or weight change.
    fresh: AtomicBool,
    /// The weight `show stat` prints: HAProxy's committed effective
    /// weight, which `set weight` does not move while the server is in
    /// maintenance (it catches up when it leaves).
    shown_weight: AtomicU32,
}

impl ServerState {
    pub fn new(name: &str, addr: Option<SocketAddr>, weight: u32, backup: bool) -> Self {
        ServerState {
            name: name.to_string(),
            addr,
            source: None,
            weight,
            backup,
            maxconn: None,
            minconn: None,
            load: std::sync::OnceLock::new(),
            maxqueue: None,
            queue: Default::default(),
            be_queue: None,
            up: AtomicBool::new(addr.is_some()),
            stopping: AtomicBool::new(false),
            admin: AtomicU8::new(0),
            uweight: AtomicU32::new(weight),
            slowstart: 0,
            up_since: AtomicU64::new(u64::MAX),
            changed: AtomicU64::new(0),
            cur_conns: AtomicU32::new(0),
            total_conns: AtomicU64::new(0),
            rt_maxconn: AtomicU32::new(u32::MAX),
            health_paused: AtomicBool::new(false),
            agent_paused: AtomicBool::new(false),
            shutdown_on_down: AtomicBool::new(false),
            shutdown_backups_on_up: AtomicBool::new(false),
            rt_addr: arc_swap::ArcSwapOption::empty(),
            rt_check_port: AtomicU32::new(u32::MAX),
            pool: Default::default(),
            check: std::sync::OnceLock::new(),
            counters: Default::default(),
            deleted: AtomicBool::new(false),
            fresh: AtomicBool::new(false),
            shown_weight: AtomicU32::new(weight),
        }
    }

    /// See the `fresh` field: true from [`Self::set_fresh`] until the
    /// next state or weight change.
    pub fn is_fresh(&self) -> bool {
        self.fresh.load(Ordering::Relaxed)
    }

    /// `add server`: the new server waits for its first change.
    pub fn set_fresh(&self) {
        self.fresh.store(true, Ordering::Relaxed);
        // HAProxy created it with weight 1 and applies `weight` later.
        self.shown_weight.store(1, Ordering::Relaxed);
    }

    /// The weight `show stat` prints: HAProxy's committed effective
    /// weight scaled back (see the `shown_weight` field).
    pub fn stat_weight(&self) -> u32 {
        self.shown_weight.load(Ordering::Relaxed)
    }

    /// Whether `del server` removed this server.
    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Relaxed)
    }

    /// `del server`: marks the server removed (see [`Self::is_deleted`]).
    pub fn mark_deleted(&self) {
        self.stamp();
        self.deleted.store(true, Ordering::Relaxed);
    }

    /// The address traffic and checks go to now: the configured one
    /// until `set server ... addr` changes it.
    pub fn cur_addr(&self) -> Option<SocketAddr> {
        match &*self.rt_addr.load() {
            Some(a) => Some(**a),
            None => self.addr,
        }
    }

    /// `set server ... addr`: traffic and checks go to `a` from now on.
    pub fn set_addr(&self, a: SocketAddr) {
        self.rt_addr.store(Some(std::sync::Arc::new(a)));
    }

    /// `set server ... check-port`, if used.
    pub fn check_port(&self) -> Option<u16> {
        u16::try_from(self.rt_check_port.load(Ordering::Relaxed)).ok()
    }

    pub fn set_check_port(&self, p: u16) {
        self.rt_check_port.store(u32::from(p), Ordering::Relaxed);
    }

    /// Usable for new traffic: [`Self::eligible`] with a free slot under
    /// `maxconn`.
    pub fn usable(&self) -> bool {
        self.eligible() && self.has_slot()
    }

    /// In service: up, ready, with a non-zero weight and an address (full
    /// or not; requests queue on a full one).
    pub fn eligible(&self) -> bool {
        !self.is_deleted()
            && !self.is_fresh()
            && self.is_up()
            && !self.is_stopping()
            && self.admin_state() == AdminState::Ready
            && self.cur_weight() > 0
    }

    /// NOLB: up, but excluded from load balancing (health checks).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Health checks: enter or leave NOLB.
    pub fn set_stopping(&self, v: bool) {
        self.stamp();
        self.stopping.store(v, Ordering::Relaxed);
    }

    pub fn admin_state(&self) -> AdminState {
        match self.admin.load(Ordering::Relaxed) {
            1 => AdminState::Drain,
            2 => AdminState::Maint,
            _ => AdminState::Ready,
        }
    }

    /// Runtime API: `set server ... state`, `disable/enable server`.
    pub fn set_admin_state(&self, st: AdminState) {
        self.stamp();
        // Leaving maintenance warms up like coming up (`slowstart`).
        if st != AdminState::Maint && self.admin_state() == AdminState::Maint && self.is_up() {
            self.up_since
                .store(super::slowstart::clock_ms(), Ordering::Relaxed);
        }
        if st != AdminState::Maint {
            self.shown_weight
                .store(self.cur_weight(), Ordering::Relaxed);
        }
        let v = match st {
            AdminState::Ready => 0,
            AdminState::Drain => 1,
            AdminState::Maint => 2,
        };
        self.admin.store(v, Ordering::Relaxed);
    }

    /// The current user weight (the configured one until `set weight`).
    pub fn cur_weight(&self) -> u32 {
        self.uweight.load(Ordering::Relaxed)
    }

    /// Runtime API: `set weight`. Only 0 vs non-zero changes selection so
    /// far (the weighted schedules are built from `weight` at startup).
    pub fn set_cur_weight(&self, w: u32) {
        self.stamp();
        self.uweight.store(w, Ordering::Relaxed);
        if self.admin_state() != AdminState::Maint {
            self.shown_weight.store(w, Ordering::Relaxed);
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Health checks (or admin commands) flip this. Coming up from down
    /// starts the `slowstart` warm-up.
    pub fn set_up(&self, up: bool) {
        self.stamp();
        let now_up = up && self.addr.is_some();
        let was = self.up.swap(now_up, Ordering::Relaxed);
        if now_up && !was {
            self.up_since
                .store(super::slowstart::clock_ms(), Ordering::Relaxed);
        }
    }

    fn stamp(&self) {
        self.fresh.store(false, Ordering::Relaxed);
        self.changed
            .store(CHANGES.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
    }

    /// When this server last changed in a way the balancer follows
    /// (process-wide order; 0: never since start-up).
    pub fn changed_at(&self) -> u64 {
        self.changed.load(Ordering::Relaxed)
    }

    /// While warming up after coming up (`slowstart`): (whole seconds
    /// elapsed, slowstart seconds).
    pub fn warmup(&self) -> Option<(u64, u32)> {
        if self.slowstart == 0 {
            return None;
        }
        let since = self.up_since.load(Ordering::Relaxed);
        if since == u64::MAX {
            return None;
        }
        let now = super::slowstart::clock_ms();
        let elapsed = (now / 1000).saturating_sub(since / 1000);
        (elapsed < u64::from(self.slowstart)).then_some((elapsed, self.slowstart))
    }

    pub fn has_slot(&self) -> bool {
        self.limit().is_none_or(|m| self.conns() < m)
    }

    pub fn conns(&self) -> u32 {
        self.cur_conns.load(Ordering::SeqCst)
    }

    /// The current `maxconn` (configured, or set from the runtime API),
    /// when it limits anything.
    fn limit(&self) -> Option<u32> {
        match self.rt_maxconn.load(Ordering::Relaxed) {
            u32::MAX => self
                .maxconn
                .filter(|&m| m > 0)
                .map(|m| match (self.minconn, self.load.get()) {
                    (Some(min), Some(l)) => {
                        super::load::dynamic_max(m, min, l.beconn(), l.fullconn)
                    }
                    _ => m,
                })
                .map(|m| match self.warmup() {
                    Some((e, ss)) => super::slowstart::ramp_maxconn(m, e, ss),
                    None => m,
                }),
            0 => None,
            m => Some(m),
        }
    }

    /// The `maxconn` in force (`None`: unlimited), as `show stat` prints it.
    pub fn cur_maxconn(&self) -> Option<u32> {
        self.limit()
    }

    /// Runtime API: `set maxconn server` (0 = no limit).
    pub fn set_maxconn(&self, m: u32) {
        self.rt_maxconn
            .store(m.min(u32::MAX - 1), Ordering::Relaxed);
    }

    pub fn total(&self) -> u64 {
        self.total_conns.load(Ordering::Relaxed)
    }

    /// Counts a connection for as long as the guard lives, whatever
    /// `maxconn` says (see [`Self::try_take`]).
    pub fn take(self: &std::sync::Arc<Self>) -> ConnGuard {
        self.cur_conns.fetch_add(1, Ordering::SeqCst);
        self.total_conns.fetch_add(1, Ordering::Relaxed);
        ConnGuard(self.clone())
    }

    /// A connection slot under `maxconn`, or `None` when the server is
    /// full. Lock-free (one compare-and-swap loop).
    pub fn try_take(self: &std::sync::Arc<Self>) -> Option<ConnGuard> {
        if let Some(m) = self.limit() {
            self.cur_conns
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                    (c < m).then_some(c + 1)
                })
                .ok()?;
            self.total_conns.fetch_add(1, Ordering::Relaxed);
            return Some(ConnGuard(self.clone()));
        }
        Some(self.take())
    }

    /// Counts one more connection attempt made with a slot already held
    /// (a retry on the same server).
    pub fn count_attempt(&self) {
        self.total_conns.fetch_add(1, Ordering::Relaxed);
    }
}

/// Decrements the server's current connection count on drop and hands
/// the freed slot to the oldest queued request, if any.
#[derive(Debug)]
pub struct ConnGuard(std::sync::Arc<ServerState>);

impl ConnGuard {
    pub fn server(&self) -> &std::sync::Arc<ServerState> {
        &self.0
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.cur_conns.fetch_sub(1, Ordering::SeqCst);
        if self.0.limit().is_some() {
            super::queue::dispatch(&self.0);
        }
    }
}
