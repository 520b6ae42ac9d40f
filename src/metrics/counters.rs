//! The traffic counters of a proxy (frontend or backend role) and of a
//! server, as `show stat` reports them.
//!
//! Owns: the counter cells ([`ProxyCounters`], [`ServerCounters`]), the
//! small event methods the data path calls (each a few relaxed atomic
//! adds), and clearing (`clear counters [all]`). Must not format anything
//! (that is `stats::csv`) nor read the clock more than once per event.

use super::clock::now_ms;
use super::freq::{FreqCtr, Max};
use super::swrate::SwRate;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const R: Ordering = Ordering::Relaxed;

/// Counters of one proxy side. A frontend and a backend each get their own
/// (a `listen` has both); a server's own cells use the same layout.
#[derive(Debug, Default)]
pub struct ProxyCounters {
    /// Connections accepted (`conn_tot`).
    pub conn_tot: AtomicU64,
    /// Sessions (`stot`): accepted connections for a frontend, streams
    /// assigned for a backend, connection attempts for a server.
    pub stot: AtomicU64,
    /// Sessions now (for `smax`; `scur` is read from the limiters).
    pub cur: AtomicU64,
    /// Client connections of a frontend alive now, from accept to close
    /// (HAProxy's `feconn`: `fe_conn`, `scur`); kept by
    /// `session::fetch::sess::Sess`.
    pub feconn: AtomicU64,
    pub smax: Max,
    pub conn_rate: FreqCtr,
    pub conn_rate_max: Max,
    /// Session rate (`rate`).
    pub sess_rate: FreqCtr,
    pub sess_rate_max: Max,
    pub req_rate: FreqCtr,
    pub req_rate_max: Max,
    /// HTTP requests (`req_tot`).
    pub req_tot: AtomicU64,
    pub bin: AtomicU64,
    pub bout: AtomicU64,
    pub dreq: AtomicU64,
    pub dresp: AtomicU64,
    pub ereq: AtomicU64,
    pub econ: AtomicU64,
    pub eresp: AtomicU64,
    pub wretr: AtomicU64,
    pub wredis: AtomicU64,
    /// Data transfers the client (`cli_abrt`) or the server (`srv_abrt`)
    /// aborted: an error or a timeout on that side once the exchange was
    /// under way.
    pub cli_abrt: AtomicU64,
    pub srv_abrt: AtomicU64,
    pub intercepted: AtomicU64,
    /// Connections refused by `tcp-request connection` rules (`dcon`) and
    /// sessions by `tcp-request session` rules (`dses`).
    pub dcon: AtomicU64,
    pub dses: AtomicU64,
    /// Header rewrites that did not fit in the message (`wrew`).
    pub wrew: AtomicU64,
    /// Internal errors (`eint`): a failed rewrite in strict mode, ...
    pub eint: AtomicU64,
    /// Load-balancing decisions (`lbtot`).
    pub lbtot: AtomicU64,
    /// New server connections (`connect`) and reused idle ones (`reuse`).
    pub connect: AtomicU64,
    pub reuse: AtomicU64,
    /// `hrsp_other`, `hrsp_1xx` .. `hrsp_5xx` (index = status / 100).
    pub hrsp: [AtomicU64; 6],
    /// [`now_ms`] + 1 of the last session (0: never).
    pub last_sess: AtomicU64,
    pub qtime: SwRate,
    pub ctime: SwRate,
    pub rtime: SwRate,
    pub ttime: SwRate,
    pub qtime_max: Max,
    pub ctime_max: Max,
    pub rtime_max: Max,
    pub ttime_max: Max,
}

/// Index in [`ProxyCounters::hrsp`] for a status (HAProxy: `other` unless
/// 1xx..5xx).
pub fn hrsp_index(status: u16) -> usize {
    match status / 100 {
        n @ 1..=5 => n as usize,
        _ => 0,
    }
}

impl ProxyCounters {
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(R)
    }

    /// A frontend accepted a connection: counts it and the session for as
    /// long as the guard lives.
    pub fn session(self: &Arc<Self>) -> SessionGuard {
        let now = now_ms();
        self.conn_tot.fetch_add(1, R);
        self.stot.fetch_add(1, R);
        self.conn_rate_max
            .note(u64::from(self.conn_rate.add(now, 1)));
        self.sess_rate_max
            .note(u64::from(self.sess_rate.add(now, 1)));
        self.smax.note(self.cur.fetch_add(1, R) + 1);
        super::GLOBAL.session(now);
        SessionGuard(self.clone())
    }

    /// `tcp-request connection` (`session`: `tcp-request session`) rules
    /// refused a new connection: HAProxy counts the connection, not a
    /// session.
    pub fn refused(&self, session: bool) {
        let now = now_ms();
        self.conn_tot.fetch_add(1, R);
        self.conn_rate_max
            .note(u64::from(self.conn_rate.add(now, 1)));
        let c = if session { &self.dses } else { &self.dcon };
        c.fetch_add(1, R);
        super::GLOBAL.connection(now);
    }

    /// A frontend received an HTTP request (or a bad one).
    pub fn request(&self, now: u64) {
        self.req_tot.fetch_add(1, R);
        self.req_rate_max.note(u64::from(self.req_rate.add(now, 1)));
        super::GLOBAL.cum_req.fetch_add(1, R);
    }

    /// A stream was assigned to this backend (HAProxy's
    /// `stream_set_backend`); the backend counts it as current until
    /// [`Self::leave`].
    pub fn assign(&self, now: u64) {
        self.stot.fetch_add(1, R);
        self.sess_rate_max
            .note(u64::from(self.sess_rate.add(now, 1)));
        self.last_sess.store(now + 1, R);
        self.smax.note(self.cur.fetch_add(1, R) + 1);
    }

    pub fn leave(&self) {
        self.cur.fetch_sub(1, R);
    }

    pub fn status(&self, status: u16) {
        self.hrsp[hrsp_index(status)].fetch_add(1, R);
    }

    pub fn add_bytes(&self, bin: u64, bout: u64) {
        if bin > 0 {
            self.bin.fetch_add(bin, R);
        }
        if bout > 0 {
            self.bout.fetch_add(bout, R);
        }
    }

    /// One timing sample set (ms), HAProxy's `stream_update_time_stats`;
    /// `seen` is the sample count the window follows.
    pub fn times(&self, seen: u64, q: u32, c: u32, r: u32, t: u32) {
        self.qtime.add(seen, q);
        self.ctime.add(seen, c);
        self.rtime.add(seen, r);
        self.ttime.add(seen, t);
        self.qtime_max.note(u64::from(q));
        self.ctime_max.note(u64::from(c));
        self.rtime_max.note(u64::from(r));
        self.ttime_max.note(u64::from(t));
    }

    /// Seconds since the last session (`lastsess`), `None` if never.
    pub fn last_sess_secs(&self, now: u64) -> Option<u64> {
        match self.last_sess.load(R) {
            0 => None,
            t => Some(now.saturating_sub(t - 1) / 1000),
        }
    }

    /// `clear counters`: the maximum values only.
    pub fn clear(&self) {
        for m in [
            &self.smax,
            &self.conn_rate_max,
            &self.sess_rate_max,
            &self.req_rate_max,
            &self.qtime_max,
            &self.ctime_max,
            &self.rtime_max,
            &self.ttime_max,
        ] {
            m.clear();
        }
    }

    /// `clear counters all`: everything, as after a restart (the current
    /// session count stays: those sessions are still there).
    pub fn clear_all(&self) {
        self.clear();
        for c in [
            &self.conn_tot,
            &self.stot,
            &self.req_tot,
            &self.bin,
            &self.bout,
            &self.dreq,
            &self.dresp,
            &self.ereq,
            &self.econ,
            &self.eresp,
            &self.wretr,
            &self.wredis,
            &self.cli_abrt,
            &self.srv_abrt,
            &self.intercepted,
            &self.dcon,
            &self.dses,
            &self.wrew,
            &self.eint,
            &self.lbtot,
            &self.connect,
            &self.reuse,
            &self.last_sess,
        ] {
            c.store(0, R);
        }
        for c in &self.hrsp {
            c.store(0, R);
        }
        for f in [&self.conn_rate, &self.sess_rate, &self.req_rate] {
            f.clear();
        }
        for s in [&self.qtime, &self.ctime, &self.rtime, &self.ttime] {
            s.clear();
        }
    }
}

/// Ends a frontend session on drop.
#[derive(Debug)]
pub struct SessionGuard(Arc<ProxyCounters>);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.0.cur.fetch_sub(1, R);
    }
}

/// A server's own counters plus its backend's, so that an event seen on a
/// server connection updates both.
#[derive(Debug, Default)]
pub struct ServerCounters {
    pub own: ProxyCounters,
    pub backend: Arc<ProxyCounters>,
    /// Passive health (`observe`): fed by the events below, read by the
    /// server's check task.
    pub observe: crate::health::observe::Observer,
}

impl std::ops::Deref for ServerCounters {
    type Target = ProxyCounters;
    fn deref(&self) -> &ProxyCounters {
        &self.own
    }
}

impl ServerCounters {
    pub fn new(backend: Arc<ProxyCounters>) -> ServerCounters {
        ServerCounters {
            own: ProxyCounters::default(),
            backend,
            observe: Default::default(),
        }
    }

    /// The balancer chose this server (`lbtot`).
    pub fn lb_pick(&self) {
        self.own.lbtot.fetch_add(1, R);
        self.backend.lbtot.fetch_add(1, R);
    }

    /// A connection attempt (new or reused) with `cur` connections now on
    /// the server.
    pub fn attempt(&self, reused: bool, cur: u32) {
        let now = now_ms();
        let o = &self.own;
        o.stot.fetch_add(1, R);
        o.sess_rate_max.note(u64::from(o.sess_rate.add(now, 1)));
        o.last_sess.store(now + 1, R);
        o.smax.note(u64::from(cur));
        let c = if reused { &o.reuse } else { &o.connect };
        c.fetch_add(1, R);
        let c = if reused {
            &self.backend.reuse
        } else {
            &self.backend.connect
        };
        c.fetch_add(1, R);
    }

    /// Both this server and its backend.
    fn both(&self, f: impl Fn(&ProxyCounters) -> &AtomicU64) {
        f(&self.own).fetch_add(1, R);
        f(&self.backend).fetch_add(1, R);
    }

    /// Another attempt on the same server after a failed connect.
    pub fn retry(&self) {
        self.both(|c| &c.wretr);
    }

    /// The last retry went to another server (counted on the one left).
    pub fn redispatch(&self) {
        self.both(|c| &c.wredis);
    }

    /// Connecting failed for good.
    pub fn conn_error(&self) {
        self.both(|c| &c.econ);
    }

    /// The server's response was invalid, late or missing.
    pub fn resp_error(&self) {
        self.both(|c| &c.eresp);
        self.observe
            .report(crate::health::observe::HanaStatus::ReadError);
    }

    /// The client aborted the transfer (HAProxy's `cli_aborts`).
    pub fn client_abort(&self) {
        self.both(|c| &c.cli_abrt);
    }

    /// The server aborted the transfer (HAProxy's `srv_aborts`); a read
    /// error on its side (`read`) is a response error too.
    pub fn server_abort(&self, read: bool) {
        self.both(|c| &c.srv_abrt);
        if read {
            self.both(|c| &c.eresp);
        }
    }

    /// The server's final response status (passive health, layer 7).
    pub fn resp_status(&self, status: u16) {
        self.observe.http_status(status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_keeps_totals_and_clear_all_resets_them() {
        let be = Arc::new(ProxyCounters::default());
        let s = ServerCounters::new(be.clone());
        s.lb_pick();
        s.attempt(false, 3);
        s.retry();
        s.conn_error();
        be.assign(now_ms());
        be.status(503);
        assert_eq!(s.smax.get(), 3);
        assert_eq!(ProxyCounters::get(&be.connect), 1);
        assert_eq!(ProxyCounters::get(&be.wretr), 1);
        assert_eq!(ProxyCounters::get(&be.hrsp[5]), 1);
        s.own.clear();
        be.clear();
        assert_eq!(s.smax.get(), 0);
        assert_eq!(ProxyCounters::get(&s.lbtot), 1);
        assert_eq!(ProxyCounters::get(&be.stot), 1);
        s.own.clear_all();
        be.clear_all();
        assert_eq!(ProxyCounters::get(&s.lbtot), 0);
        assert_eq!(ProxyCounters::get(&be.stot), 0);
        assert_eq!(ProxyCounters::get(&be.hrsp[5]), 0);
        assert_eq!(be.last_sess_secs(now_ms()), None);
    }

    #[test]
    fn refusals_and_aborts_land_in_their_cells() {
        let fe = ProxyCounters::default();
        fe.refused(false);
        fe.refused(true);
        assert_eq!(ProxyCounters::get(&fe.conn_tot), 2);
        assert_eq!(ProxyCounters::get(&fe.stot), 0);
        assert_eq!(ProxyCounters::get(&fe.dcon), 1);
        assert_eq!(ProxyCounters::get(&fe.dses), 1);
        let be = Arc::new(ProxyCounters::default());
        let s = ServerCounters::new(be.clone());
        s.client_abort();
        s.server_abort(true);
        s.server_abort(false);
        assert_eq!(ProxyCounters::get(&be.cli_abrt), 1);
        assert_eq!(ProxyCounters::get(&s.srv_abrt), 2);
        // Only a read failure on the server is a response error too.
        assert_eq!(ProxyCounters::get(&be.eresp), 1);
        fe.clear_all();
        assert_eq!(ProxyCounters::get(&fe.dcon), 0);
    }

    #[test]
    fn status_classes_follow_haproxy() {
        assert_eq!(hrsp_index(101), 1);
        assert_eq!(hrsp_index(404), 4);
        assert_eq!(hrsp_index(599), 5);
        assert_eq!(hrsp_index(0), 0);
        assert_eq!(hrsp_index(600), 0);
    }
}
