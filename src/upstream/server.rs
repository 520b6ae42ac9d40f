//! Per-server runtime state: the resolved address, weight, role and the
//! counters the balancing algorithms read.
//!
//! Owns: atomics only, so the request path never takes a lock. Must not
//! decide which server to use (that is [`super::lb`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// One `server` line, live.
#[derive(Debug)]
pub struct ServerState {
    pub name: String,
    /// `None` when the address could not be resolved at startup; such a
    /// server is never selected.
    pub addr: Option<SocketAddr>,
    pub weight: u32,
    pub backup: bool,
    pub maxconn: Option<u32>,
    up: AtomicBool,
    cur_conns: AtomicU32,
    total_conns: AtomicU64,
}

impl ServerState {
    pub fn new(name: &str, addr: Option<SocketAddr>, weight: u32, backup: bool) -> Self {
        ServerState {
            name: name.to_string(),
            addr,
            weight,
            backup,
            maxconn: None,
            up: AtomicBool::new(addr.is_some()),
            cur_conns: AtomicU32::new(0),
            total_conns: AtomicU64::new(0),
        }
    }

    /// Usable for new traffic: up, with a non-zero weight, an address and
    /// a free slot under `maxconn`.
    pub fn usable(&self) -> bool {
        self.is_up() && self.weight > 0 && self.has_slot()
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Health checks (or admin commands) flip this.
    pub fn set_up(&self, up: bool) {
        self.up.store(up && self.addr.is_some(), Ordering::Relaxed);
    }

    pub fn has_slot(&self) -> bool {
        match self.maxconn {
            Some(m) if m > 0 => self.conns() < m,
            _ => true,
        }
    }

    pub fn conns(&self) -> u32 {
        self.cur_conns.load(Ordering::Relaxed)
    }

    pub fn total(&self) -> u64 {
        self.total_conns.load(Ordering::Relaxed)
    }

    /// Counts a connection for as long as the guard lives.
    pub fn take(self: &std::sync::Arc<Self>) -> ConnGuard {
        self.cur_conns.fetch_add(1, Ordering::Relaxed);
        self.total_conns.fetch_add(1, Ordering::Relaxed);
        ConnGuard(self.clone())
    }
}

/// Decrements the server's current connection count on drop.
#[derive(Debug)]
pub struct ConnGuard(std::sync::Arc<ServerState>);

impl ConnGuard {
    pub fn server(&self) -> &std::sync::Arc<ServerState> {
        &self.0
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.cur_conns.fetch_sub(1, Ordering::Relaxed);
    }
}
