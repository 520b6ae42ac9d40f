//! The stats socket: HAProxy 2.6's runtime API (`stats socket` in global).
//!
//! Owns: the CLI listeners ([`listen`]), the per-connection protocol
//! ([`conn`]: non-interactive and prompt modes, levels, `stats timeout`),
//! command execution ([`cmd`]) and the read-only views they print
//! (`show info`: [`info`], `show stat`: [`csv`]). Write commands act only
//! through [`crate::upstream::server::ServerState`]'s public setters.
//! Must not parse configuration text nor touch session bytes.

pub mod cmd;
pub mod conn;
pub mod csv;
pub mod help;
pub mod info;
pub mod listen;
pub mod page;
pub mod prometheus;
pub mod templates;

use crate::config::ir::{Config, Mode, ProxyKind, Server};
use crate::session::Frontend;
use crate::upstream::Backend;
use crate::upstream::server::{AdminState, ServerState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// HAProxy's default `stats timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// HAProxy's default `stats maxconn`.
pub const DEFAULT_MAXCONN: u32 = 10;

/// A CLI session's privilege level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    User,
    Operator,
    Admin,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "user" => Some(Level::User),
            "operator" => Some(Level::Operator),
            "admin" => Some(Level::Admin),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Level::User => "user",
            Level::Operator => "operator",
            Level::Admin => "admin",
        }
    }
}

/// One server as the CLI sees it.
#[derive(Debug)]
pub struct SrvView {
    pub sid: u32,
    pub ir: Server,
    pub live: Arc<ServerState>,
    /// Last state change made through the CLI (or startup).
    pub last_change: Mutex<Instant>,
    /// Disabled in the configuration (`disabled`) and not enabled since.
    pub cmaint: AtomicBool,
    /// In maintenance because the tracked server is (`track`).
    pub imaint: AtomicBool,
}

impl SrvView {
    pub fn since_change(&self) -> Duration {
        self.last_change
            .lock()
            .map_or(Duration::ZERO, |t| t.elapsed())
    }

    pub fn touch(&self) {
        if let Ok(mut t) = self.last_change.lock() {
            *t = Instant::now();
        }
    }

    /// `b/s` when the maintenance comes from the tracked server only.
    pub fn via_maint(&self, be: &BeView) -> Option<String> {
        if !self.imaint.load(Ordering::Relaxed) {
            return None;
        }
        self.tracked(be)
    }

    /// The tracked server as HAProxy names it: always `backend/server`.
    pub fn tracked(&self, be: &BeView) -> Option<String> {
        self.ir.track.as_deref().map(|t| {
            if t.contains('/') {
                t.to_string()
            } else {
                format!("{}/{t}", be.live.name)
            }
        })
    }

    /// The server address as `show stat` prints it (`ip:port`).
    pub fn addr_text(&self) -> String {
        match self.live.cur_addr() {
            Some(a) => a.to_string(),
            None => self.ir.addr.clone(),
        }
    }
}

/// The backend side of a proxy.
#[derive(Debug)]
pub struct BeView {
    pub live: Arc<Backend>,
    /// The servers now, in order (see [`Self::servers`]); `add server` /
    /// `del server` replace the snapshot.
    pub list: arc_swap::ArcSwap<Vec<Arc<SrvView>>>,
    pub algo: String,
    pub cookie: bool,
    /// HAProxy's `fullconn` (shown as the backend `slim`).
    pub fullconn: u32,
    pub all_backups: bool,
}

impl BeView {
    /// The servers now: a cheap snapshot, not to be kept across awaits.
    pub fn servers(&self) -> arc_swap::Guard<Arc<Vec<Arc<SrvView>>>> {
        self.list.load()
    }
}

/// The frontend side of a proxy.
#[derive(Debug)]
pub struct FeView {
    pub maxconn: u32,
    /// The frontend's connection limiter: `maxconn - available` = `scur`
    /// plus one permit held by each idle accept loop.
    pub limiter: Option<Arc<Semaphore>>,
    /// Accept loops (one per bound socket) of this frontend.
    pub loops: u32,
    /// The running frontend (connection totals).
    pub live: Option<Arc<crate::session::Frontend>>,
}

impl FeView {
    /// Connections accepted since start.
    pub fn stot(&self) -> u64 {
        self.live.as_ref().map_or(0, |f| {
            f.conn_total.load(std::sync::atomic::Ordering::Relaxed)
        })
    }

    /// Current sessions.
    pub fn scur(&self) -> u32 {
        self.limiter.as_ref().map_or(0, |l| {
            self.maxconn
                .saturating_sub(l.available_permits() as u32)
                .saturating_sub(self.loops)
        })
    }
}

/// A proxy (frontend, backend or listen) in config order.
#[derive(Debug)]
pub struct PxView {
    pub name: String,
    /// HAProxy's proxy id: 1 is the internal CLI proxy, so ours start at 2.
    pub iid: u32,
    pub mode: Mode,
    pub fe: Option<FeView>,
    pub be: Option<BeView>,
}

/// Everything the CLI reads or changes, built once at startup.
#[derive(Debug)]
pub struct Stats {
    /// The configuration it was built from (`add server` reads the
    /// backend's and the global settings).
    pub cfg: Arc<Config>,
    pub started: Instant,
    pub start_unix: u64,
    pub nbthread: u32,
    pub maxconn: u32,
    pub global: Option<Arc<Semaphore>>,
    pub proxies: Vec<PxView>,
    pub timeout: Duration,
    /// Number of listening sockets (frontend binds + CLI sockets).
    pub listeners: u32,
    /// Frontend accept loops (each holds a global permit while idle).
    pub accept_loops: u32,
    /// `stats maxconn`: concurrent connections per CLI socket.
    pub cli_maxconn: u32,
}

impl Stats {
    /// Builds the view. `live` are the running frontends (their routes
    /// carry the live backends); `limiters` maps a frontend name to its
    /// connection semaphore. Backends no frontend uses get a fresh,
    /// traffic-less [`Backend`] so that commands still apply to them.
    pub fn build(
        cfg: &Config,
        live: &[Arc<Frontend>],
        global: Option<(Arc<Semaphore>, u32)>,
        limiters: &[(String, Arc<Semaphore>)],
    ) -> Stats {
        let mut backends: Vec<Arc<Backend>> = Vec::new();
        for fe in live {
            let routes = fe
                .switching
                .iter()
                .map(|s| &s.route)
                .chain(fe.default.iter());
            for r in routes {
                if !backends.iter().any(|b| Arc::ptr_eq(b, &r.be)) {
                    backends.push(r.be.clone());
                }
            }
        }
        let global_max = global
            .as_ref()
            .map(|g| g.1)
            .or(cfg.global.maxconn)
            .unwrap_or(4096);
        let fe_max =
            |p: &crate::config::ir::Proxy| p.maxconn.filter(|&m| m > 0).unwrap_or(global_max);
        let mut proxies = Vec::new();
        for (i, p) in cfg.proxies.iter().enumerate() {
            let fe = p.kind.has_fe().then(|| FeView {
                maxconn: fe_max(p),
                limiter: limiters
                    .iter()
                    .find(|(n, _)| *n == p.name)
                    .map(|(_, s)| s.clone()),
                loops: limiters.iter().filter(|(n, _)| *n == p.name).count() as u32,
                live: live.iter().find(|f| f.name == p.name).cloned(),
            });
            let be = p.kind.has_be().then(|| {
                let live = backends
                    .iter()
                    .find(|b| b.name == p.name)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Backend::from_ir(p)));
                let ids = crate::upstream::lb::algo::Algo::from_proxy(p).ids;
                let servers: Vec<Arc<SrvView>> = p
                    .servers
                    .iter()
                    .zip(live.servers.iter())
                    .enumerate()
                    .map(|(k, (s, l))| {
                        if s.disabled {
                            l.set_admin_state(AdminState::Maint);
                        }
                        Arc::new(SrvView {
                            sid: ids.get(k).copied().unwrap_or(k as u32 + 1),
                            ir: s.clone(),
                            live: l.clone(),
                            last_change: Mutex::new(Instant::now()),
                            cmaint: AtomicBool::new(s.disabled),
                            imaint: AtomicBool::new(false),
                        })
                    })
                    .collect();
                // fullconn defaults to 10% of the sum of the maxconn of the
                // frontends that can reach this backend (at least 1).
                let users: u32 = cfg
                    .proxies
                    .iter()
                    .filter(|f| f.kind.has_fe() && !f.disabled)
                    .filter(|f| {
                        f.name == p.name && f.kind == ProxyKind::Listen
                            || f.default_backend
                                .as_ref()
                                .is_some_and(|(n, _)| *n == p.name)
                            || f.use_backends.iter().any(|u| u.backend == p.name)
                    })
                    .map(fe_max)
                    .sum();
                BeView {
                    live,
                    list: arc_swap::ArcSwap::from_pointee(servers),
                    algo: p
                        .balance
                        .as_ref()
                        .and_then(|b| b.first().cloned())
                        .unwrap_or_else(|| "roundrobin".into()),
                    cookie: p.cookie.is_some(),
                    fullconn: (users / 10).max(1),
                    all_backups: p.option("allbackups"),
                }
            });
            proxies.push(PxView {
                name: p.name.clone(),
                iid: i as u32 + 2,
                mode: p.mode,
                fe,
                be,
            });
        }
        let timeout = stats_timeout(cfg).unwrap_or(DEFAULT_TIMEOUT);
        let listeners = cfg
            .proxies
            .iter()
            .filter(|p| p.kind.has_fe() && !p.disabled)
            .map(|p| p.binds.len() as u32)
            .sum::<u32>()
            + cfg.global.stats_sockets.len() as u32;
        Stats {
            cfg: Arc::new(cfg.clone()),
            started: Instant::now(),
            start_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            nbthread: cfg.global.nbthread.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
            }),
            maxconn: global_max,
            global: global.map(|g| g.0),
            proxies,
            timeout,
            listeners,
            accept_loops: limiters.len() as u32,
            cli_maxconn: global_arg(cfg, "maxconn")
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .unwrap_or(DEFAULT_MAXCONN),
        }
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Finds `backend/server`.
    pub fn server(&self, be: &str, srv: &str) -> Result<(&PxView, Arc<SrvView>), &'static str> {
        let px = self
            .proxies
            .iter()
            .find(|p| p.name == be && p.be.is_some())
            .ok_or("No such backend.")?;
        let s = px
            .be
            .as_ref()
            .and_then(|b| b.servers().iter().find(|s| s.ir.name == srv).cloned())
            .ok_or("No such server.")?;
        Ok((px, s))
    }

    /// Current connections of the whole process.
    pub fn cur_conns(&self) -> u32 {
        match &self.global {
            // Each idle accept loop holds one permit while it waits.
            Some(g) => self
                .maxconn
                .saturating_sub(g.available_permits() as u32)
                .saturating_sub(self.accept_loops),
            None => 0,
        }
    }
}

/// The argument of the last `stats <kw> <arg>` line of global.
fn global_arg<'a>(cfg: &'a Config, kw: &str) -> Option<&'a str> {
    let d = cfg.global.directives.iter().rev().find(|d| {
        d.words.first().is_some_and(|w| w == "stats") && d.words.get(1).is_some_and(|w| w == kw)
    })?;
    d.words.get(2).map(String::as_str)
}

/// `stats timeout` (milliseconds, or with a unit suffix).
fn stats_timeout(cfg: &Config) -> Option<Duration> {
    parse_time(global_arg(cfg, "timeout")?)
}

/// A HAProxy time value: a number with an optional unit (default ms).
pub fn parse_time(s: &str) -> Option<Duration> {
    let i = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..i].parse().ok()?;
    let us = match &s[i..] {
        "" | "ms" => n.checked_mul(1_000)?,
        "us" => n,
        "s" => n.checked_mul(1_000_000)?,
        "m" => n.checked_mul(60_000_000)?,
        "h" => n.checked_mul(3_600_000_000)?,
        "d" => n.checked_mul(86_400_000_000)?,
        _ => return None,
    };
    Some(Duration::from_micros(us))
}

/// Opens every `stats socket` of `cfg` and serves them in the background.
/// Errors (a socket that cannot be bound) are fatal at startup.
pub fn start(stats: Arc<Stats>, cfg: &Config) -> Result<(), String> {
    // The `show map|acl` list, numbered as HAProxy does.
    cmd::maps::index::install(cfg);
    let mut opened = Vec::new();
    for s in &cfg.global.stats_sockets {
        opened.push(listen::open(s)?);
    }
    for l in opened {
        tokio::spawn(listen::serve(l, stats.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
