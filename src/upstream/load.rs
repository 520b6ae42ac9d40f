//! Dynamic server `maxconn` (`minconn` on servers, `fullconn` on the
//! backend), HAProxy 2.6's `srv_dynamic_maxconn`: below `fullconn`
//! concurrent requests on the backend, a server's limit scales from
//! `minconn` up to `maxconn` with the backend's load.
//!
//! Owns: the backend load reading ([`Load`]: requests holding a server
//! slot or queued) and the formula ([`dynamic_max`]). Must not take or
//! release slots.

use super::queue::Queue;
use super::server::ServerState;
use crate::config::ir::{Config, Proxy};
use std::sync::{Arc, Weak};

/// A backend's load as the dynamic limit reads it.
#[derive(Debug)]
pub struct Load {
    pub fullconn: u32,
    servers: arc_swap::ArcSwap<Vec<Weak<ServerState>>>,
    queue: Arc<Queue>,
}

impl Load {
    pub fn new(fullconn: u32, queue: Arc<Queue>) -> Arc<Load> {
        Arc::new(Load {
            fullconn: fullconn.max(1),
            servers: Default::default(),
            queue,
        })
    }

    /// Binds the backend's servers (after they exist, and again when
    /// `add server`/`del server` change them).
    pub fn bind(&self, servers: &[Arc<ServerState>]) {
        self.servers
            .store(Arc::new(servers.iter().map(Arc::downgrade).collect()));
    }

    /// HAProxy's `beconn`: requests on the backend, connected or queued.
    pub fn beconn(&self) -> u32 {
        let mut n = self.queue.len() as u32;
        for s in self.servers.load().iter() {
            if let Some(s) = s.upgrade() {
                n = n
                    .saturating_add(s.conns())
                    .saturating_add(s.queue.len() as u32);
            }
        }
        n
    }
}

/// The limit in force for a server with `maxconn`/`minconn` when the
/// backend carries `beconn` requests.
pub fn dynamic_max(maxconn: u32, minconn: u32, beconn: u32, fullconn: u32) -> u32 {
    if beconn >= fullconn || minconn >= maxconn {
        return maxconn;
    }
    let scaled = (u64::from(beconn) * u64::from(maxconn) / u64::from(fullconn.max(1))) as u32;
    scaled.max(minconn)
}

/// `fullconn` of a backend: its own directive, else HAProxy's default of
/// a tenth (rounded up) of the `maxconn` sum of the frontends that can
/// reach it (`default_backend`, `use_backend`, a `listen` itself), at
/// least 1.
pub fn fullconn(p: &Proxy, cfg: Option<&Config>) -> u32 {
    let own = p
        .directives
        .iter()
        .rev()
        .find(|d| d.words.first().is_some_and(|w| w == "fullconn"))
        .and_then(|d| d.words.get(1))
        .map(|v| crate::config::units::atol(v).max(0) as u32);
    if let Some(v) = own.filter(|&v| v > 0) {
        return v;
    }
    let Some(cfg) = cfg else { return 1 };
    let global = cfg.global.maxconn.unwrap_or(4096);
    let total: u64 = cfg
        .proxies
        .iter()
        .filter(|f| f.kind.has_fe() && !f.disabled)
        .filter(|f| {
            (f.kind == crate::config::ir::ProxyKind::Listen && f.name == p.name)
                || f.default_backend
                    .as_ref()
                    .is_some_and(|(b, _)| *b == p.name)
                || f.use_backends.iter().any(|u| u.backend == p.name)
        })
        .map(|f| u64::from(f.maxconn.filter(|&m| m > 0).unwrap_or(global)))
        .sum();
    (total.div_ceil(10) as u32).max(1)
}

/// `minconn` of a server line (`None`: not set).
pub fn minconn(opts: &[(String, Vec<String>)]) -> Option<u32> {
    let v = opts.iter().rev().find(|(k, _)| k == "minconn")?.1.first()?;
    u32::try_from(crate::config::units::atol(v))
        .ok()
        .filter(|&m| m > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_between_minconn_and_maxconn() {
        // fullconn 100, minconn 10, maxconn 100.
        assert_eq!(dynamic_max(100, 10, 0, 100), 10);
        assert_eq!(dynamic_max(100, 10, 50, 100), 50);
        assert_eq!(dynamic_max(100, 10, 5, 100), 10);
        assert_eq!(dynamic_max(100, 10, 100, 100), 100);
        assert_eq!(dynamic_max(100, 10, 500, 100), 100);
        // Static when minconn reaches maxconn.
        assert_eq!(dynamic_max(20, 20, 0, 100), 20);
    }

    #[test]
    fn load_counts_connections_and_waiters() {
        let q: Arc<Queue> = Arc::default();
        let l = Load::new(10, q);
        let s = Arc::new(ServerState::new("s", "127.0.0.1:1".parse().ok(), 1, false));
        l.bind(std::slice::from_ref(&s));
        let g = s.take();
        let g2 = s.take();
        assert_eq!(l.beconn(), 2);
        drop((g, g2));
        assert_eq!(l.beconn(), 0);
    }
}
