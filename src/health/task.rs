//! The check tasks: one per checked server and one per agent, forever
//! (they end with the process). They run on a dedicated thread with a
//! single-threaded tokio runtime (timers and sockets in one event loop,
//! like one HAProxy thread): with 1,000 servers checked every second
//! this costs about as much CPU as HAProxy 2.6, where the shared
//! multi-threaded runtime cost ~1.2-1.5x (cross-thread wake-ups).
//!
//! Owns: scheduling (first checks spread evenly over the smallest interval
//! like HAProxy's `start_checks`, then the interval the counter asks for),
//! applying results the way HAProxy's `set_server_check_status` and
//! `check_notify_*` do (health check and agent each with their own
//! counter), the server's operational state (UP, NOLB, DOWN) and its
//! trackers (`track`), agent replies (weight, drain/maint/ready), and
//! HAProxy's "Server x/y is DOWN/UP/stopping" and `log-health-checks`
//! messages on stderr. Must not pick servers.

use super::agent;
use super::engine::{self, Ctx, Finish};
use super::observe;
use super::probe::{self, Extra};
use super::spec::{BackendPlan, CheckKind, CheckSpec};
use super::status::{CheckResult, CheckSnapshot, CheckState, CheckStatus, OpState, Outcome};
use crate::upstream::Backend;
use crate::upstream::server::{AdminState, ServerState};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// HAProxy's agent rise/fall (`DEF_AGENT_RISETIME`/`FALLTIME`).
const AGENT_RISE: u32 = 1;
const AGENT_FALL: u32 = 1;

/// A server followed by others (`track`).
type Tracker = (Arc<Backend>, Arc<ServerState>);

/// Finds a live server by backend and server name.
type Finder<'a> = &'a dyn Fn(&str, &str) -> Option<Tracker>;

/// One checked server.
struct Job {
    be: Arc<Backend>,
    srv: Arc<ServerState>,
    spec: Arc<CheckSpec>,
    state: Arc<CheckState>,
    trackers: Vec<Tracker>,
}

/// Spawns the check tasks of every planned server whose live backend is
/// in `backends` (matched by name). Must be called inside a tokio
/// runtime. Returns how many tasks were started.
pub fn spawn_all(plans: &[BackendPlan], backends: &[Arc<Backend>]) -> usize {
    let find = |be: &str, sv: &str| -> Option<Tracker> {
        let b = backends.iter().find(|b| b.name == be)?;
        let s = b.servers.iter().find(|s| s.name == sv)?;
        Some((b.clone(), s.clone()))
    };
    let mut jobs: Vec<Job> = Vec::new();
    for p in plans {
        for (sv, down, up) in &p.on_marked {
            if let Some((_, s)) = find(&p.name, sv) {
                s.shutdown_on_down.store(*down, Ordering::Relaxed);
                s.shutdown_backups_on_up.store(*up, Ordering::Relaxed);
            }
        }
    }
    for p in plans {
        for c in &p.checks {
            let Some((be, srv)) = find(&p.name, &c.server_name) else {
                continue;
            };
            if srv.addr.is_none() {
                continue;
            }
            let check = c
                .enabled
                .then(|| CheckSnapshot::new(c.rise, c.fall, c.rise.max(1)));
            let agent = c
                .agent
                .as_ref()
                .map(|_| CheckSnapshot::new(AGENT_RISE, AGENT_FALL, AGENT_RISE));
            let state = Arc::new(CheckState::with(check, agent, None));
            let _ = srv.check.set(state.clone());
            if let Some(o) = c.observe.filter(|_| c.enabled) {
                srv.counters.observe.enable(o);
            }
            jobs.push(Job {
                be,
                srv,
                spec: Arc::new(c.clone()),
                state,
                trackers: Vec::new(),
            });
        }
    }
    link_trackers(plans, &find, &mut jobs);
    let mut firsts: Vec<Duration> = Vec::new();
    for j in &jobs {
        if j.spec.enabled {
            firsts
                .push(CheckSnapshot::new(j.spec.rise, j.spec.fall, j.spec.rise).interval(&j.spec));
        }
        if let Some(a) = &j.spec.agent {
            firsts.push(a.inter);
        }
    }
    let n = firsts.len() as u32;
    let mut min_inter = firsts.iter().min().copied().unwrap_or(Duration::ZERO);
    // `max-spread-checks` bounds the start-up spreading.
    if let Some(m) = plans
        .iter()
        .flat_map(|p| p.checks.iter())
        .find_map(|c| c.max_spread)
    {
        min_inter = min_inter.min(m);
    }
    let mut pos = 0u32;
    let mut slot = || {
        let d = min_inter * pos / n.max(1);
        pos += 1;
        d
    };
    for j in jobs {
        let j = Arc::new(j);
        if j.spec.enabled {
            spawn(run_health(j.clone(), slot()));
        }
        if j.spec.agent.is_some() {
            spawn(run_agent(j.clone(), slot()));
        }
    }
    n as usize
}

/// Starts the health check of a server added at runtime (`add server
/// ... check`): paused until `enable health` like HAProxy 2.6, ended by
/// `del server`. Must be called inside a tokio runtime.
pub fn spawn_dynamic(be: Arc<Backend>, srv: Arc<ServerState>, spec: CheckSpec) {
    srv.health_paused.store(true, Ordering::Relaxed);
    spawn(async move {
        // Until `enable health` the server shows no check at all.
        while srv.health_paused.load(Ordering::Relaxed) {
            if srv.is_deleted() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let check = CheckSnapshot::new(spec.rise, spec.fall, spec.rise.max(1));
        let state = Arc::new(CheckState::with(Some(check), None, None));
        let _ = srv.check.set(state.clone());
        if let Some(o) = spec.observe {
            srv.counters.observe.enable(o);
        }
        let j = Arc::new(Job {
            be,
            srv,
            spec: Arc::new(spec),
            state,
            trackers: Vec::new(),
        });
        run_health(j, Duration::ZERO).await;
    });
}

/// The runtime the checks run on: one dedicated thread with its own
/// event loop (timers and sockets together, like one HAProxy thread), so
/// a check's timer, connect and close never wake the traffic workers nor
/// hop between them. Falls back to the caller's runtime if the thread
/// cannot be started.
fn checks_runtime() -> Option<&'static tokio::runtime::Handle> {
    static RT: std::sync::OnceLock<Option<tokio::runtime::Handle>> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("health".into())
            .spawn(move || rt.block_on(std::future::pending::<()>()))
            .ok()?;
        Some(handle)
    })
    .as_ref()
}

/// Spawns a check task on the checks' runtime.
fn spawn<F>(f: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    match checks_runtime() {
        Some(h) => {
            h.spawn(f);
        }
        None => {
            tokio::spawn(f);
        }
    }
}

/// Gives every tracking server the state of the end of its chain and
/// registers it with that server's job.
fn link_trackers(plans: &[BackendPlan], find: Finder<'_>, jobs: &mut [Job]) {
    for p in plans {
        for t in &p.tracks {
            let Some((tbe, tsrv)) = find(&p.name, &t.server_name) else {
                continue;
            };
            // Follow the chain of tracks to a checked server.
            let (mut be, mut sv) = (t.backend.clone(), t.target.clone());
            let mut end = None;
            for _ in 0..16 {
                if let Some(j) = jobs
                    .iter()
                    .position(|j| j.be.name == be && j.srv.name == sv)
                {
                    end = Some(j);
                    break;
                }
                match plans
                    .iter()
                    .filter(|b| b.name == be)
                    .flat_map(|b| b.tracks.iter())
                    .find(|x| x.server_name == sv)
                {
                    Some(next) => {
                        be = next.backend.clone();
                        sv = next.target.clone();
                    }
                    None => break,
                }
            }
            let Some(j) = end else { continue };
            let st = Arc::new(CheckState::with(None, None, Some(jobs[j].state.clone())));
            let _ = tsrv.check.set(st);
            jobs[j].trackers.push((tbe, tsrv));
        }
    }
}

impl CheckSnapshot {
    /// The delay before the next check (HAProxy's `srv_getinter`).
    pub fn interval(&self, spec: &CheckSpec) -> Duration {
        let iv = &spec.intervals;
        if self.health == self.full() {
            iv.inter
        } else if self.health == 0 {
            iv.downinter.unwrap_or(iv.inter)
        } else {
            iv.fastinter.unwrap_or(iv.inter)
        }
    }
}

async fn run_health(j: Arc<Job>, first: Duration) {
    wait_or_hana(&j, first).await;
    loop {
        // `del server`: the check ends with its server.
        if j.srv.is_deleted() {
            return;
        }
        // `set server ... addr|check-port` move the checks too.
        let Some(mut target) = j.spec.target(j.srv.cur_addr()) else {
            return;
        };
        if let Some(p) = j.srv.check_port() {
            target.set_port(p);
        }
        // Checks pause in maintenance and on `disable health`.
        let paused =
            j.srv.admin_state() == AdminState::Maint || j.srv.health_paused.load(Ordering::Relaxed);
        if !paused {
            j.state.set_in_progress(false, true);
            let extra = Extra {
                server_stopped: j.state.lock().op == OpState::Stopped,
                state_header: match &j.spec.kind {
                    CheckKind::Http(h) if h.send_state => Some(state_header(&j)),
                    _ => None,
                },
            };
            let res = probe::run_with(&j.spec, target, &extra).await;
            apply(&j, false, res);
        }
        let next = j
            .state
            .lock()
            .check
            .as_ref()
            .map_or(j.spec.intervals.inter, |c| c.interval(&j.spec));
        wait_or_hana(&j, spread(next, j.spec.spread_pct)).await;
    }
}

/// Sleeps `d`, applying passive health (`observe`) firings meanwhile. A
/// firing brings the next check forward to `fastinter` from now when the
/// server has one and that is sooner (HAProxy's `__health_adjust`); the
/// intervals after it follow the health counter, so after `fail-check`,
/// `sudden-death` or `mark-down` checks stay at `fastinter` until the
/// server is back to full health. Later firings keep being applied while
/// waiting.
async fn wait_or_hana(j: &Job, d: Duration) {
    let obs = &j.srv.counters.observe;
    if !obs.enabled() {
        tokio::time::sleep(d).await;
        return;
    }
    let mut deadline = tokio::time::Instant::now() + d;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return,
            _ = obs.fired() => {
                let Some(f) = obs.take() else { continue };
                apply_hana(j, f);
                if let Some(fast) = j.spec.intervals.fastinter {
                    deadline = deadline.min(tokio::time::Instant::now() + fast);
                }
            }
        }
    }
}

/// HAProxy's `__health_adjust` actions once `error-limit` is reached.
fn apply_hana(j: &Job, f: observe::Fired) {
    {
        let mut g = j.state.lock();
        let Some(c) = g.check.as_mut() else { return };
        let Some(h) = observe::health_before_failure(f.on_error, c.health, c.rise) else {
            return;
        };
        c.health = h;
    }
    apply(j, false, CheckResult::new(CheckStatus::Hana, None, f.info));
}

async fn run_agent(j: Arc<Job>, first: Duration) {
    let Some(a) = j.spec.agent.clone() else {
        return;
    };
    tokio::time::sleep(first).await;
    loop {
        let Some(base) = j.srv.cur_addr() else { return };
        if !j.srv.agent_paused.load(Ordering::Relaxed) {
            let target = SocketAddr::new(a.addr.unwrap_or(base.ip()), a.port);
            let ctx = Ctx {
                target,
                inter: a.inter,
                timeout_connect: j.spec.timeout_connect,
                timeout_check: j.spec.timeout_check,
                send_proxy: false,
                tls: None,
                source: j.spec.source,
            };
            j.state.set_in_progress(true, true);
            let start = Instant::now();
            let res = match engine::run(&a.rules, &ctx).await {
                Finish::Done(r) => r,
                Finish::AgentLine(line) => {
                    let prev = j
                        .state
                        .lock()
                        .agent
                        .as_ref()
                        .map_or(super::CheckStatus::Ini, |s| s.last.status);
                    let eff = agent::evaluate(line.as_deref(), j.srv.weight, prev);
                    if let Some(adm) = &eff.admin {
                        set_admin(&j, adm);
                    }
                    if let Some(w) = eff.weight {
                        j.srv.set_cur_weight(w.min(agent::MAX_WEIGHT));
                    }
                    if let Some(m) = eff.maxconn {
                        j.srv.set_maxconn(m);
                    }
                    let mut r = eff.result;
                    r.duration = Some(Duration::from_millis(start.elapsed().as_millis() as u64));
                    r
                }
            };
            apply(&j, true, res);
        }
        tokio::time::sleep(spread(a.inter, j.spec.spread_pct)).await;
    }
}

/// `spread-checks`: `d` moved by a random amount within ±`pct`%.
fn spread(d: Duration, pct: u32) -> Duration {
    if pct == 0 {
        return d;
    }
    use std::sync::atomic::AtomicU64;
    static SEED: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    // xorshift64: a statistical jitter, not a secret.
    let mut x = SEED.load(Ordering::Relaxed)
        ^ u64::from(std::process::id())
        ^ Instant::now().elapsed().as_nanos() as u64;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    SEED.store(x, Ordering::Relaxed);
    let span = d.as_millis() as u64 * u64::from(pct) / 100;
    if span == 0 {
        return d;
    }
    let off = x % (2 * span + 1);
    Duration::from_millis((d.as_millis() as u64 + off).saturating_sub(span).max(1))
}

/// `x-haproxy-server-state` as HAProxy's `httpchk_build_status_header`.
fn state_header(j: &Job) -> String {
    let g = j.state.lock();
    let Some(c) = &g.check else {
        return String::new();
    };
    let stopped = g.op == OpState::Stopped;
    let mut s = if stopped {
        if c.health > 0 {
            format!("DOWN {}/{}", c.health, c.rise)
        } else {
            "DOWN".into()
        }
    } else {
        let nolb = g.op == OpState::Stopping;
        let base = if nolb { "NOLB" } else { "UP" };
        if c.health == c.full() {
            base.into()
        } else {
            format!("{base} {}/{}", c.health - c.rise + 1, c.fall)
        }
    };
    drop(g);
    let (addr, port) = j
        .srv
        .addr
        .map_or((String::new(), 0), |a| (a.ip().to_string(), a.port()));
    let usable = |b: bool| -> u32 {
        j.be.servers()
            .iter()
            .filter(|x| x.backup == b && x.eligible())
            .map(|x| x.cur_weight())
            .sum()
    };
    let tot = match usable(false) {
        0 => usable(true),
        w => w,
    };
    let scur: u32 = j.be.servers().iter().map(|x| x.conns()).sum();
    s.push_str(&format!(
        "; address={addr}; port={port}; name={}/{}; node={}; weight={}/{}; scur={}/{}; qcur=0",
        j.be.name,
        j.srv.name,
        node_name(),
        j.srv.cur_weight(),
        tot,
        j.srv.conns(),
        scur
    ));
    s
}

/// HAProxy's default `node`: the host name.
fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// What a result asks of the server.
fn apply(j: &Job, is_agent: bool, res: CheckResult) {
    let (want, log) = {
        let mut g = j.state.lock();
        let (check_up, agent_up) = (
            g.check.as_ref().is_none_or(|c| c.is_up()),
            g.agent.as_ref().is_none_or(|c| c.is_up()),
        );
        let _ = (check_up, agent_up);
        let outcome = res.status.outcome();
        let mut report = false;
        let mut counted = false;
        let side_health;
        {
            let side = if is_agent { &mut g.agent } else { &mut g.check };
            let Some(side) = side.as_mut() else { return };
            report |= side.last.status != res.status;
            let before = side.health;
            if is_agent && outcome == Outcome::Failed && !res.status.has_code() {
                // Failing to reach the agent never marks a server down.
                side.last = res.clone();
                side.in_progress = false;
            } else {
                counted = side.apply(&res);
            }
            report |= side.health != before;
            side_health = side.health;
        }
        if counted && !is_agent {
            g.chkfail += 1;
        }
        let check_ok = g.check.as_ref().is_none_or(|c| c.is_up());
        let agent_ok = g.agent.as_ref().is_none_or(|c| c.is_up());
        let maint = j.srv.admin_state() == AdminState::Maint;
        let want = match outcome {
            Outcome::Failed => {
                let agent_soft = is_agent && res.status != super::CheckStatus::L7Sts;
                (!agent_soft && side_health == 0).then_some(OpState::Stopped)
            }
            Outcome::Passed => {
                (!maint && check_ok && agent_ok && !(is_agent && g.op == OpState::Stopping))
                    .then_some(OpState::Running)
            }
            Outcome::CondPass => {
                (!maint && !is_agent && check_ok && agent_ok).then_some(OpState::Stopping)
            }
            Outcome::Neutral => None,
        };
        let log = (j.spec.log_health_checks && report).then(|| {
            let side = if is_agent { &g.agent } else { &g.check };
            side.as_ref()
                .map(|s| health_log_line(j, is_agent, s, &res))
                .unwrap_or_default()
        });
        (want.filter(|w| *w != g.op), log)
    };
    if let Some(l) = log.filter(|l| !l.is_empty()) {
        eprintln!("[WARNING]  ({}) : {l}.", std::process::id());
    }
    if let Some(to) = want {
        transition(j, to, &res);
    }
}

/// `option log-health-checks`: `Health check for server b/s succeeded,
/// reason: ..., status: 3/3 UP`.
fn health_log_line(j: &Job, is_agent: bool, s: &CheckSnapshot, res: &CheckResult) -> String {
    let verdict = match res.status.outcome() {
        Outcome::CondPass => "conditionally succeeded",
        Outcome::Passed => "succeeded",
        _ => "failed",
    };
    let up = s.health >= s.rise;
    format!(
        "{} check for {}server {}/{} {verdict}, {}, status: {}/{} {}",
        if is_agent { "Agent" } else { "Health" },
        if j.srv.backup { "backup " } else { "" },
        j.be.name,
        j.srv.name,
        res.reason_text(),
        if up { s.health - s.rise + 1 } else { s.health },
        if up { s.fall } else { s.rise },
        if !up {
            "DOWN"
        } else if j.srv.cur_weight() > 0 {
            "UP"
        } else {
            "DRAIN"
        }
    )
}

fn set_flags(srv: &ServerState, to: OpState) {
    match to {
        OpState::Running => {
            srv.set_stopping(false);
            srv.set_up(true);
        }
        OpState::Stopping => {
            srv.set_up(true);
            srv.set_stopping(true);
        }
        OpState::Stopped => {
            srv.set_stopping(false);
            srv.set_up(false);
        }
    }
}

fn transition(j: &Job, to: OpState, res: &CheckResult) {
    let from = {
        let mut g = j.state.lock();
        let from = g.op;
        g.op = to;
        if to == OpState::Stopped {
            g.chkdown += 1;
            g.down_since = Some(Instant::now());
        } else if let Some(t) = g.down_since.take() {
            g.downtime += t.elapsed();
        }
        from
    };
    set_flags(&j.srv, to);
    shutdown_sessions(&j.be, &j.srv, from, to);
    let pid = std::process::id();
    // HAProxy leaves the reason out when `log-health-checks` already
    // reported it.
    let why = (!j.spec.log_health_checks).then_some(res);
    let msg = match to {
        OpState::Stopped => down_message(&j.be, &j.srv, why),
        OpState::Running => up_message(&j.be, &j.srv, why),
        OpState::Stopping => stopping_message(&j.be, &j.srv, why),
    };
    eprintln!("[WARNING]  ({pid}) : {msg}");
    if to != OpState::Running || from == OpState::Stopped {
        alert_if_empty(&j.be);
    }
    for (tbe, tsrv) in &j.trackers {
        set_flags(tsrv, to);
        shutdown_sessions(tbe, tsrv, from, to);
        let what = match to {
            OpState::Stopped => "DOWN",
            OpState::Running => "UP",
            OpState::Stopping => "stopping",
        };
        let (act, bck) = counts(tbe);
        eprintln!(
            "[WARNING]  ({pid}) : {} is {what} via {}/{}. {act} active and {bck} backup servers {}.",
            who(tbe, tsrv),
            j.be.name,
            j.srv.name,
            if to == OpState::Stopped {
                "left"
            } else {
                "online"
            }
        );
        if to != OpState::Running {
            alert_if_empty(tbe);
        }
    }
}

/// `on-marked-down shutdown-sessions` and `on-marked-up
/// shutdown-backup-sessions` after `srv` went from `from` to `to`.
fn shutdown_sessions(be: &Backend, srv: &Arc<ServerState>, from: OpState, to: OpState) {
    crate::stats::cmd::registry::on_state_change(
        &be.servers(),
        srv,
        from == OpState::Stopped,
        to == OpState::Stopped,
    );
}

/// Agent `ready`/`drain`/`maint`.
fn set_admin(j: &Job, word: &str) {
    let to = match word {
        "drain" => AdminState::Drain,
        "maint" => AdminState::Maint,
        _ => AdminState::Ready,
    };
    let from = j.srv.admin_state();
    if from == to {
        return;
    }
    j.srv.set_admin_state(to);
    let pid = std::process::id();
    let (act, bck) = counts(&j.be);
    match to {
        AdminState::Maint => {
            {
                let mut g = j.state.lock();
                if g.op != OpState::Stopped {
                    g.chkdown += 1;
                    g.down_since = Some(Instant::now());
                }
            }
            eprintln!(
                "[WARNING]  ({pid}) : {} is going DOWN for maintenance. {act} active and {bck} backup servers left. {} sessions active, 0 requeued, 0 remaining in queue.",
                who(&j.be, &j.srv),
                j.srv.conns()
            );
            alert_if_empty(&j.be);
        }
        AdminState::Drain => {
            eprintln!(
                "[WARNING]  ({pid}) : {} enters drain state. {act} active and {bck} backup servers online. 0 sessions requeued, 0 total in queue.",
                who(&j.be, &j.srv)
            );
            alert_if_empty(&j.be);
        }
        AdminState::Ready => {
            if from == AdminState::Maint {
                let mut g = j.state.lock();
                if g.op != OpState::Stopped
                    && let Some(t) = g.down_since.take()
                {
                    g.downtime += t.elapsed();
                }
            }
            eprintln!(
                "[WARNING]  ({pid}) : {} is {}. {act} active and {bck} backup servers online. 0 sessions requeued, 0 total in queue.",
                who(&j.be, &j.srv),
                if from == AdminState::Maint {
                    "UP (leaving forced maintenance)"
                } else {
                    "UP (leaving forced drain)"
                }
            );
        }
    }
}

/// (active, backup) servers currently usable in `be`.
fn counts(be: &Backend) -> (usize, usize) {
    let up = |b: bool| {
        be.servers()
            .iter()
            .filter(|s| s.backup == b && s.eligible())
            .count()
    };
    (up(false), up(true))
}

fn who(be: &Backend, srv: &ServerState) -> String {
    format!(
        "{}Server {}/{}",
        if srv.backup { "Backup " } else { "" },
        be.name,
        srv.name
    )
}

fn running_on_backup(act: usize, bck: usize) -> &'static str {
    if act == 0 && bck > 0 {
        " Running on backup."
    } else {
        ""
    }
}

/// HAProxy: `Server b/s1 is DOWN, reason: ..., check duration: 0ms. 1
/// active and 0 backup servers left. 0 sessions active, 0 requeued, 0
/// remaining in queue.`
pub fn down_message(be: &Backend, srv: &ServerState, res: Option<&CheckResult>) -> String {
    let (act, bck) = counts(be);
    format!(
        "{} is DOWN{}. {act} active and {bck} backup servers left.{} {} sessions active, 0 requeued, 0 remaining in queue.",
        who(be, srv),
        reason(res),
        running_on_backup(act, bck),
        srv.conns()
    )
}

/// HAProxy: `Server b/s1 is UP, reason: ..., check duration: 0ms. 2 active
/// and 0 backup servers online. 0 sessions requeued, 0 total in queue.`
pub fn up_message(be: &Backend, srv: &ServerState, res: Option<&CheckResult>) -> String {
    let (act, bck) = counts(be);
    format!(
        "{} is UP{}. {act} active and {bck} backup servers online.{} 0 sessions requeued, 0 total in queue.",
        who(be, srv),
        reason(res),
        running_on_backup(act, bck),
    )
}

/// HAProxy (`disable-on-404`): `Server b/s is stopping, reason: Layer7
/// check conditionally passed, code: 404, check duration: 0ms. 0 active
/// and 0 backup servers online. 0 sessions requeued, 0 total in queue.`
pub fn stopping_message(be: &Backend, srv: &ServerState, res: Option<&CheckResult>) -> String {
    let (act, bck) = counts(be);
    format!(
        "{} is stopping{}. {act} active and {bck} backup servers online.{} 0 sessions requeued, 0 total in queue.",
        who(be, srv),
        reason(res),
        running_on_backup(act, bck),
    )
}

fn reason(res: Option<&CheckResult>) -> String {
    res.map(|r| format!(", {}", r.reason_text()))
        .unwrap_or_default()
}

fn alert_if_empty(be: &Backend) {
    if counts(be) == (0, 0) {
        eprintln!(
            "[ALERT]    ({}) : backend '{}' has no server available!",
            std::process::id(),
            be.name
        );
    }
}
