//! Upstream side: backends, their servers, balancing and connecting.
//!
//! Owns: [`Backend`] (servers + balancer + retry policy), server state
//! ([`server`]), the algorithms ([`lb`]) and connection establishment with
//! retries and redispatch ([`connect`]), and queueing on `maxconn`
//! ([`queue`]) with dynamic limits ([`load`]); persistence and failover
//! policy ([`persist`], [`cookie`], [`retry`]) and the per-request
//! connection choice built on them ([`dispatch`]); the runtime server list
//! (`add server`/`del server`: [`Backend::servers`] is a lock-free
//! snapshot, server identities kept across snapshots). Must not parse
//! HTTP or read configuration text: it is built from the resolved IR.

pub mod connect;
pub mod cookie;
pub mod dispatch;
pub mod lb;
pub mod load;
pub mod persist;
pub mod pool;
pub mod queue;
pub mod retry;
pub mod server;
pub mod slowstart;
pub mod source;

use crate::config::ir::Proxy;
use server::ServerState;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// A backend, live.
#[derive(Debug)]
pub struct Backend {
    pub name: String,
    /// The servers of the configuration, in order, forever: index-aligned
    /// with the cookie values and `use-server` rules (a `del server`
    /// leaves its entry marked [`ServerState::is_deleted`]). The servers
    /// in the backend now are [`Self::servers`].
    pub servers: Vec<Arc<ServerState>>,
    /// The servers now (configuration minus deleted plus `add server`),
    /// a snapshot replaced by the runtime API.
    current: arc_swap::ArcSwap<Vec<Arc<ServerState>>>,
    /// The backend load read by `minconn` servers.
    load: Arc<load::Load>,
    /// Serializes `add server`/`del server`.
    admin: std::sync::Mutex<()>,
    pub balancer: lb::Balancer,
    /// `retries` (HAProxy's default is 3).
    pub retries: u32,
    /// `option redispatch`: the last retry may go to another server.
    pub redispatch: bool,
    pub connect_timeout: Option<Duration>,
    pub server_timeout: Option<Duration>,
    /// Idle server connections may serve later requests (`http-reuse`
    /// other than `never`; see [`pool`]).
    pub http_reuse: bool,
    /// `http-reuse aggressive|always`: a client's first request may reuse.
    pub reuse_first: bool,
    /// Requests waiting for any server slot (non-deterministic algorithms).
    pub queue: Arc<queue::Queue>,
    /// `timeout queue`, else `timeout connect` (HAProxy's fallback).
    pub queue_timeout: Option<Duration>,
    /// Traffic counters of the backend role (`show stat`).
    pub counters: Arc<crate::metrics::ProxyCounters>,
    /// Persistence (`cookie`, `option persist`) and `retry-on`.
    pub policy: persist::Policy,
}

impl Backend {
    /// Builds the live backend, refusing what the engine cannot do (an
    /// unsupported `cookie` argument).
    /// `cfg` gives the default `fullconn` (from the frontends' `maxconn`).
    pub fn try_from_ir(p: &Proxy, cfg: &crate::config::ir::Config) -> Result<Backend, String> {
        let policy = persist::Policy::from_ir(p)?;
        // `source` forms the engine cannot honour are refused by name.
        for s in &p.servers {
            source::of(&s.options, p).map_err(|e| {
                if e.starts_with("parsing [") {
                    e
                } else {
                    format!("parsing [{}] : server '{}': {e}", s.origin, s.name)
                }
            })?;
        }
        let mut be = Backend::build(p, Some(cfg));
        be.policy = policy;
        Ok(be)
    }

    /// Builds the live backend from a resolved proxy with backend
    /// capability (persistence left out when its configuration is
    /// refused; [`Self::try_from_ir`] reports that).
    pub fn from_ir(p: &Proxy) -> Backend {
        Backend::build(p, None)
    }

    fn build(p: &Proxy, cfg: Option<&crate::config::ir::Config>) -> Backend {
        let be_queue: Arc<queue::Queue> = Arc::default();
        let be_load = load::Load::new(load::fullconn(p, cfg), be_queue.clone());
        let counters: Arc<crate::metrics::ProxyCounters> = Arc::default();
        let servers: Vec<Arc<ServerState>> = p
            .servers
            .iter()
            .map(|s| {
                let mut st = live_server(s, &be_load, &be_queue, &counters);
                st.source = source::of(&s.options, p).ok().flatten();
                Arc::new(st)
            })
            .collect();
        be_load.bind(&servers);
        let algo = lb::Algo::from_proxy(p);
        Backend {
            name: p.name.clone(),
            balancer: lb::Balancer::new(algo, &servers, p.option("allbackups"))
                .with_balance_factor(lb::algo::balance_factor(p)),
            current: arc_swap::ArcSwap::from_pointee(servers.clone()),
            load: be_load,
            admin: std::sync::Mutex::new(()),
            servers,
            retries: p.retries.unwrap_or(3),
            redispatch: retry::redispatch_interval(p).is_some_and(|i| i != 0),
            connect_timeout: ms(p.timeouts.connect),
            server_timeout: ms(p.timeouts.server),
            http_reuse: pool::reuse_enabled(p),
            reuse_first: pool::reuse_first(p),
            queue: be_queue,
            queue_timeout: ms(p.timeouts.queue.or(p.timeouts.connect)),
            counters,
            policy: persist::Policy::from_ir(p).unwrap_or_default(),
        }
    }
}

impl Backend {
    /// The servers in the backend now, in `show stat` order: a snapshot,
    /// cheap to take (no lock), to drop soon (not across awaits).
    pub fn servers(&self) -> arc_swap::Guard<Arc<Vec<Arc<ServerState>>>> {
        self.current.load()
    }

    /// A live server for `s` (an `add server` line) belonging to this
    /// backend, not added yet (see [`Self::add_server`]).
    pub fn new_server(&self, s: &crate::config::ir::Server) -> ServerState {
        live_server(s, &self.load, &self.queue, &self.counters)
    }

    /// `add server`: `s` (numeric id `id`) joins the backend at the end
    /// of its list and of its balancer group.
    pub fn add_server(&self, s: Arc<ServerState>, id: u32) {
        let _admin = self.admin.lock();
        let mut next: Vec<Arc<ServerState>> = self.current.load().to_vec();
        next.push(s.clone());
        self.load.bind(&next);
        self.balancer.add_server(s, id);
        self.current.store(Arc::new(next));
    }

    /// `del server`: `s` leaves the backend (marked deleted so tasks
    /// bound to it end). False when it was not in the backend.
    pub fn remove_server(&self, s: &Arc<ServerState>) -> bool {
        let _admin = self.admin.lock();
        let cur = self.current.load();
        if !cur.iter().any(|x| Arc::ptr_eq(x, s)) {
            return false;
        }
        let next: Vec<Arc<ServerState>> =
            cur.iter().filter(|x| !Arc::ptr_eq(x, s)).cloned().collect();
        s.mark_deleted();
        self.load.bind(&next);
        self.balancer.remove_server(s);
        self.current.store(Arc::new(next));
        true
    }
}

/// A live server from its configuration line.
fn live_server(
    s: &crate::config::ir::Server,
    be_load: &Arc<load::Load>,
    be_queue: &Arc<queue::Queue>,
    counters: &Arc<crate::metrics::ProxyCounters>,
) -> ServerState {
    let addr = resolve(s.ip.as_deref().or(s.host.as_deref()), s.port);
    let mut st = ServerState::new(&s.name, addr, s.weight, s.backup);
    st.maxconn = s.maxconn;
    // HAProxy: `minconn` alone (or above `maxconn`) is a static
    // limit; with a smaller `minconn` the limit is dynamic.
    match (load::minconn(&s.options), s.maxconn.filter(|&m| m > 0)) {
        (Some(min), Some(max)) if min < max => {
            st.minconn = Some(min);
            let _ = st.load.set(be_load.clone());
        }
        (Some(min), _) => st.maxconn = Some(min),
        _ => {}
    }
    st.maxqueue = server_u32(&s.options, "maxqueue");
    st.slowstart = s
        .options
        .iter()
        .rev()
        .find(|(n, _)| n == "slowstart")
        .and_then(|(_, v)| v.first())
        .and_then(|v| crate::config::units::parse_time_ms(v).ok())
        .map_or(0, slowstart::slowstart_secs);
    st.be_queue = Some(be_queue.clone());
    st.pool = Arc::new(pool::Pool::from_options(&s.options));
    st.counters = Arc::new(crate::metrics::ServerCounters::new(counters.clone()));
    if s.disabled {
        st.set_up(false);
    }
    st
}

/// The last numeric value of a server option (`maxqueue 10`).
fn server_u32(opts: &[(String, Vec<String>)], key: &str) -> Option<u32> {
    let v = opts.iter().rev().find(|(n, _)| n == key)?.1.first()?;
    u32::try_from(crate::config::units::atol(v)).ok()
}

/// A millisecond timeout from the IR; 0 means "no timeout" like HAProxy.
pub fn ms(v: Option<u32>) -> Option<Duration> {
    v.filter(|&m| m > 0)
        .map(|m| Duration::from_millis(u64::from(m)))
}

/// Resolves a server address once at startup (HAProxy resolves with libc at
/// boot too). A missing port keeps the client's destination port in HAProxy;
/// we do not support that yet and leave such servers unresolved.
fn resolve(host: Option<&str>, port: Option<u16>) -> Option<SocketAddr> {
    let host = host?;
    let port = port?;
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<std::net::IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    (h, port).to_socket_addrs().ok()?.next()
}
