//! `clear counters [all]` (stats socket) over every proxy and server the
//! CLI knows.
//!
//! Owns: the walk. `clear counters` resets the maximum values (and the
//! process-wide maxima of `show info`); `clear counters all` resets every
//! counter, as a restart would (`CumConns`/`CumReq` are process totals and
//! stay, like HAProxy's). Must not check privileges (the CLI does).

use crate::stats::Stats;

/// Clears the counters of all frontends, backends and servers.
pub fn clear_stats(st: &Stats, all: bool) {
    for px in &st.proxies {
        let fe = px
            .fe
            .as_ref()
            .and_then(|f| f.live.as_ref())
            .map(|f| &f.counters);
        let be = px.be.as_ref().map(|b| &b.live.counters);
        for c in fe.into_iter().chain(be) {
            if all { c.clear_all() } else { c.clear() }
        }
        for s in px.be.iter().flat_map(|b| b.servers().to_vec()) {
            let c = &s.live.counters.own;
            if all {
                c.clear_all()
            } else {
                c.clear()
            }
            s.live.queue.max.clear();
        }
        if let Some(b) = &px.be {
            b.live.queue.max.clear();
        }
    }
    super::GLOBAL.clear();
}
