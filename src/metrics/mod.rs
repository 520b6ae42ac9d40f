//! Traffic counters behind `show stat` and `show info`, with HAProxy's
//! arithmetic: per-second event rates ([`freq`]), sliding averages of
//! timings ([`swrate`]), HTTP message sizes as HAProxy counts bytes
//! ([`htx`]).
//!
//! Owns: the counter cells of frontends, backends and servers
//! ([`counters`]), the per-request accounting the data path feeds
//! ([`txn`], [`io`]) and the process-wide totals ([`global`]). Lock-free:
//! the data path only does relaxed atomic adds. Must not format output
//! (that is [`crate::stats`]) nor change traffic.

pub mod clear;
pub mod clock;
pub mod counters;
pub mod freq;
pub mod global;
pub mod htx;
pub mod io;
pub mod swrate;
pub mod txn;

pub use counters::{ProxyCounters, ServerCounters, SessionGuard};
pub use io::Counted;
pub use txn::Txn;

/// Process-wide totals (`show info`).
pub static GLOBAL: global::Global = global::Global::new();

/// A connection attempt on `srv` (new, or `reused` from its idle pool).
pub fn on_attempt(srv: &crate::upstream::server::ServerState, reused: bool) {
    srv.counters.attempt(reused, srv.conns());
}
