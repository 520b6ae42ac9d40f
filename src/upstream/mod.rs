//! Upstream side: backends, their servers, balancing and connecting.
//!
//! Owns: [`Backend`] (servers + balancer + retry policy), server state
//! ([`server`]), the algorithms ([`lb`]) and connection establishment with
//! retries and redispatch ([`connect`]), and queueing on `maxconn`
//! ([`queue`]). Must not parse HTTP or read
//! configuration text: it is built from the resolved IR.

pub mod connect;
pub mod lb;
pub mod pool;
pub mod queue;
pub mod server;

use crate::config::ir::Proxy;
use server::ServerState;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// A backend, live.
#[derive(Debug)]
pub struct Backend {
    pub name: String,
    pub servers: Vec<Arc<ServerState>>,
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
}

impl Backend {
    /// Builds the live backend from a resolved proxy with backend capability.
    pub fn from_ir(p: &Proxy) -> Backend {
        let be_queue: Arc<queue::Queue> = Arc::default();
        let servers: Vec<Arc<ServerState>> = p
            .servers
            .iter()
            .map(|s| {
                let addr = resolve(s.ip.as_deref().or(s.host.as_deref()), s.port);
                let mut st = ServerState::new(&s.name, addr, s.weight, s.backup);
                st.maxconn = s.maxconn;
                st.maxqueue = server_u32(&s.options, "maxqueue");
                st.be_queue = Some(be_queue.clone());
                st.pool = Arc::new(pool::Pool::from_options(&s.options));
                if s.disabled {
                    st.set_up(false);
                }
                Arc::new(st)
            })
            .collect();
        let algo = lb::Algo::from_proxy(p);
        Backend {
            name: p.name.clone(),
            balancer: lb::Balancer::new(algo, &servers, p.option("allbackups")),
            servers,
            retries: p.retries.unwrap_or(3),
            redispatch: p.option("redispatch"),
            connect_timeout: ms(p.timeouts.connect),
            server_timeout: ms(p.timeouts.server),
            http_reuse: pool::reuse_enabled(p),
            reuse_first: pool::reuse_first(p),
            queue: be_queue,
            queue_timeout: ms(p.timeouts.queue.or(p.timeouts.connect)),
        }
    }
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
