//! Process-wide counters for `show info` (`CumConns`, `CumReq`,
//! `ConnRate`, `SessRate` and their maxima).
//!
//! Owns: [`Global`] (one static instance, [`super::GLOBAL`]). Fed by the
//! frontend counters; must not be written from anywhere else.

use super::freq::{FreqCtr, Max};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Global {
    pub cum_conns: AtomicU64,
    pub cum_req: AtomicU64,
    pub conn_rate: FreqCtr,
    pub conn_rate_max: Max,
    pub sess_rate: FreqCtr,
    pub sess_rate_max: Max,
}

impl Global {
    pub const fn new() -> Global {
        Global {
            cum_conns: AtomicU64::new(0),
            cum_req: AtomicU64::new(0),
            conn_rate: FreqCtr::new(),
            conn_rate_max: Max::new(),
            sess_rate: FreqCtr::new(),
            sess_rate_max: Max::new(),
        }
    }

    /// A frontend accepted a connection (and its session).
    pub fn session(&self, now: u64) {
        self.cum_conns.fetch_add(1, Ordering::Relaxed);
        self.conn_rate_max
            .note(u64::from(self.conn_rate.add(now, 1)));
        self.sess_rate_max
            .note(u64::from(self.sess_rate.add(now, 1)));
    }

    /// A frontend accepted a connection that its rules then refused (no
    /// session).
    pub fn connection(&self, now: u64) {
        self.cum_conns.fetch_add(1, Ordering::Relaxed);
        self.conn_rate_max
            .note(u64::from(self.conn_rate.add(now, 1)));
    }

    /// `clear counters`: the maxima (totals are never cleared).
    pub fn clear(&self) {
        self.conn_rate_max.clear();
        self.sess_rate_max.clear();
    }
}
