//! `show stat` (CSV): one row per frontend, server and backend, in
//! HAProxy's order (per proxy in config order: FRONTEND, servers, BACKEND).
//!
//! Owns: the values we can state honestly (sessions, limits, status,
//! weights, ids, mode, algo, address, and the traffic counters of
//! [`crate::metrics`]). Every other cell keeps the value a freshly started
//! HAProxy 2.6.12 prints ([`super::templates`]). Check cells come from
//! [`crate::health::columns`]. Must not change state.

use super::templates as t;
use super::{BeView, PxView, SrvView, Stats};
use crate::config::ir::Mode;
use crate::metrics::ProxyCounters;
use crate::metrics::clock::now_ms;
use crate::upstream::server::AdminState;
use std::sync::atomic::{AtomicU64, Ordering};

/// A row being filled: cells from column 0.
struct Row(Vec<String>);

impl Row {
    fn new(px: &str, sv: &str, template: &str) -> Row {
        let mut v = vec![quote(px), quote(sv)];
        v.extend(template.split(',').map(str::to_string));
        Row(v)
    }
    fn set(&mut self, col: &str, val: impl ToString) {
        if let Some(i) = col_index(col)
            && let Some(c) = self.0.get_mut(i)
        {
            *c = quote(&val.to_string());
        }
    }
    fn line(&self) -> String {
        // The templates keep HAProxy's trailing empty cell (line ends in ',').
        let mut s = self.0.join(",");
        s.push('\n');
        s
    }
}

/// Column position by name in HAProxy's header.
pub fn col_index(name: &str) -> Option<usize> {
    t::HEADER
        .trim_start_matches("# ")
        .split(',')
        .position(|c| c == name)
}

/// Quotes a cell containing `,` or `"` (9.1).
fn quote(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn load(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// The counter cells every row kind shares. `srv`: a server row (no
/// `dreq`); `http`: the HTTP-only cells apply.
fn counters(r: &mut Row, c: &ProxyCounters, now: u64, http: bool, srv: bool) {
    r.set("smax", c.smax.get());
    r.set("bin", load(&c.bin));
    r.set("bout", load(&c.bout));
    if !srv {
        r.set("dreq", load(&c.dreq));
    }
    r.set("dresp", load(&c.dresp));
    r.set("rate", c.sess_rate.read(now));
    r.set("rate_max", c.sess_rate_max.get());
    r.set("wrew", load(&c.wrew));
    r.set("eint", load(&c.eint));
    if http {
        for (i, name) in [
            "hrsp_other",
            "hrsp_1xx",
            "hrsp_2xx",
            "hrsp_3xx",
            "hrsp_4xx",
            "hrsp_5xx",
        ]
        .iter()
        .enumerate()
        {
            r.set(name, load(&c.hrsp[i]));
        }
        r.set("req_tot", load(&c.req_tot));
    }
}

/// Cells of backends and servers (the server side of the traffic).
fn upstream_counters(r: &mut Row, c: &ProxyCounters, now: u64, http: bool) {
    r.set("econ", load(&c.econ));
    r.set("eresp", load(&c.eresp));
    r.set("wretr", load(&c.wretr));
    r.set("wredis", load(&c.wredis));
    r.set("lbtot", load(&c.lbtot));
    r.set("stot", load(&c.stot));
    r.set("cli_abrt", load(&c.cli_abrt));
    r.set("srv_abrt", load(&c.srv_abrt));
    r.set("lastsess", c.last_sess_secs(now).map_or(-1, |s| s as i64));
    // HAProxy averages over the requests (HTTP) or balanced connections
    // (TCP) seen so far, up to its sample window.
    let seen = if http {
        load(&c.req_tot)
    } else {
        load(&c.lbtot)
    };
    r.set("qtime", c.qtime.avg(seen));
    r.set("ctime", c.ctime.avg(seen));
    r.set("rtime", c.rtime.avg(seen));
    r.set("ttime", c.ttime.avg(seen));
    r.set("qtime_max", c.qtime_max.get());
    r.set("ctime_max", c.ctime_max.get());
    r.set("rtime_max", c.rtime_max.get());
    r.set("ttime_max", c.ttime_max.get());
    r.set("connect", load(&c.connect));
    r.set("reuse", load(&c.reuse));
}

/// A server's `status` cell.
pub fn server_status(be: &BeView, s: &SrvView) -> String {
    let live = &s.live;
    if live.admin_state() == AdminState::Maint {
        if let Some(via) = s.via_maint(be) {
            return format!("MAINT (via {via})");
        }
        return "MAINT".into();
    }
    if !live.is_up() {
        return "DOWN".into();
    }
    if live.admin_state() == AdminState::Drain {
        return "DRAIN".into();
    }
    if s.ir.check {
        "UP".into()
    } else {
        "no check".into()
    }
}

/// Usable servers of a backend: (active count, backup count, weight).
pub fn be_weights(be: &BeView) -> (u32, u32, u32) {
    // HAProxy's "currently usable": up, not in maintenance nor draining,
    // non-zero weight (maxconn does not matter here).
    let usable = |s: &&SrvView| {
        s.live.is_up()
            && s.live.admin_state() == AdminState::Ready
            && s.live.cur_weight() > 0
            && !s.live.is_fresh()
    };
    let servers = be.servers();
    let act: Vec<&SrvView> = servers
        .iter()
        .map(|s| &**s)
        .filter(|s| !s.ir.backup)
        .filter(usable)
        .collect();
    let bck: Vec<&SrvView> = servers
        .iter()
        .map(|s| &**s)
        .filter(|s| s.ir.backup)
        .filter(usable)
        .collect();
    let weight = if !act.is_empty() {
        act.iter().map(|s| s.live.cur_weight()).sum()
    } else if be.all_backups {
        bck.iter().map(|s| s.live.cur_weight()).sum()
    } else {
        bck.first().map_or(0, |s| s.live.cur_weight())
    };
    (act.len() as u32, bck.len() as u32, weight)
}

fn frontend_row(st: &Stats, px: &PxView, fe: &super::FeView) -> String {
    let tpl = if px.mode == Mode::Http {
        t::FE_HTTP
    } else {
        t::FE_TCP
    };
    let mut r = Row::new(&px.name, "FRONTEND", tpl);
    // HAProxy's `feconn`: the live client sessions.
    match &fe.live {
        Some(l) => r.set("scur", load(&l.counters.feconn)),
        None => r.set("scur", fe.scur()),
    }
    if let Some(live) = &fe.live {
        let c = &live.counters;
        let http = px.mode == Mode::Http;
        let now = now_ms();
        counters(&mut r, c, now, http, false);
        r.set("stot", load(&c.stot));
        r.set("ereq", load(&c.ereq));
        r.set("conn_rate", c.conn_rate.read(now));
        r.set("conn_rate_max", c.conn_rate_max.get());
        r.set("conn_tot", load(&c.conn_tot));
        r.set("dcon", load(&c.dcon));
        r.set("dses", load(&c.dses));
        if http {
            r.set("req_rate", c.req_rate.read(now));
            r.set("req_rate_max", c.req_rate_max.get());
            r.set("intercepted", load(&c.intercepted));
        }
    }
    // `set maxconn frontend`, `disable|shutdown frontend`.
    let (slim, status) = crate::stats::cmd::limits::frontend_view(fe);
    r.set("slim", slim);
    if let Some(st) = status {
        r.set("status", st);
    }
    r.set("iid", px.iid);
    r.set("mode", px.mode.name());
    let _ = st;
    r.line()
}

fn server_row(st: &Stats, px: &PxView, be: &BeView, s: &SrvView) -> String {
    let tpl = if px.mode == Mode::Http {
        t::SRV_HTTP
    } else {
        t::SRV_TCP
    };
    let mut r = Row::new(&px.name, &s.ir.name, tpl);
    let l = &s.live;
    r.set("scur", l.conns());
    // `set maxconn server` included.
    r.set(
        "slim",
        l.cur_maxconn()
            .filter(|&m| m > 0)
            .map(|m| m.to_string())
            .unwrap_or_default(),
    );
    let http = px.mode == Mode::Http;
    let now = now_ms();
    counters(&mut r, &l.counters, now, http, true);
    upstream_counters(&mut r, &l.counters, now, http);
    r.set("qcur", l.queue.len());
    r.set("qmax", l.queue.max.get());
    let idle = l.pool.len();
    r.set("srv_icur", idle);
    r.set("idle_conn_cur", idle);
    r.set("status", server_status(be, s));
    r.set("weight", l.stat_weight());
    r.set("uweight", l.cur_weight());
    if let Some((_, v)) =
        s.ir.options
            .iter()
            .rev()
            .find(|(k, _)| k == "pool-max-conn")
    {
        r.set("src_ilim", v.first().cloned().unwrap_or_default());
    }
    r.set("act", u8::from(!s.ir.backup));
    r.set("bck", u8::from(s.ir.backup));
    r.set("lastchg", s.since_change().as_secs());
    r.set("iid", px.iid);
    r.set("sid", s.sid);
    r.set("tracked", s.tracked(be).unwrap_or_default());
    r.set("addr", s.addr_text());
    r.set("mode", px.mode.name());
    // `disable health|agent`: HAProxy hides that check's cells.
    let hp = l.health_paused.load(std::sync::atomic::Ordering::Relaxed);
    let ap = l.agent_paused.load(std::sync::atomic::Ordering::Relaxed);
    for (col, val) in crate::health::columns::stat_columns(l) {
        let hidden = (hp && PAUSED_CHECK.contains(&col)) || (ap && PAUSED_AGENT.contains(&col));
        if !hidden {
            r.set(col, val);
        }
    }
    // Without an enabled health check HAProxy shows a running server as
    // unchecked (`disable health`, a dynamic server before
    // `enable health`).
    if hp && l.is_up() && !l.is_stopping() && l.admin_state() == AdminState::Ready {
        r.set("status", "no check");
    }
    let _ = st;
    r.line()
}

/// Cells of a health check that `disable health` hides.
const PAUSED_CHECK: [&str; 10] = [
    "chkfail",
    "chkdown",
    "check_status",
    "check_code",
    "check_duration",
    "check_desc",
    "last_chk",
    "check_rise",
    "check_fall",
    "check_health",
];

/// Cells of an agent check that `disable agent` hides.
const PAUSED_AGENT: [&str; 8] = [
    "agent_status",
    "agent_code",
    "agent_duration",
    "agent_desc",
    "last_agt",
    "agent_rise",
    "agent_fall",
    "agent_health",
];

/// `counts`: HAProxy's quirk of printing `UP (<running>/<servers>)` when
/// `up` or `no-maint` was requested.
fn backend_row(st: &Stats, px: &PxView, be: &BeView, counts: bool) -> String {
    let tpl = if px.mode == Mode::Http {
        t::BE_HTTP
    } else {
        t::BE_TCP
    };
    let mut r = Row::new(&px.name, "BACKEND", tpl);
    let (act, bck, weight) = be_weights(be);
    // HAProxy's `beconn`: streams assigned to the backend (queued ones
    // included), not server connections.
    r.set("scur", load(&be.live.counters.cur));
    r.set("slim", be.fullconn);
    let c = &be.live.counters;
    let http = px.mode == Mode::Http;
    let now = now_ms();
    counters(&mut r, c, now, http, false);
    upstream_counters(&mut r, c, now, http);
    r.set("qcur", be.live.queue.len());
    r.set("qmax", be.live.queue.max.get());
    let servers = be.servers();
    let up = weight > 0 || servers.is_empty();
    let mut status = String::from(if up { "UP" } else { "DOWN" });
    if counts {
        let running = servers
            .iter()
            .filter(|s| s.live.is_up() && s.live.admin_state() != AdminState::Maint)
            .count();
        status = format!("{status} ({running}/{})", servers.len());
    }
    r.set("status", status);
    r.set("weight", weight);
    r.set("uweight", weight);
    r.set("act", act);
    r.set("bck", bck);
    r.set("lastchg", st.uptime().as_secs());
    if !up {
        r.set("downtime", st.uptime().as_secs());
    }
    r.set("iid", px.iid);
    r.set("cookie", if be.cookie { "SRV" } else { "" });
    r.set("mode", px.mode.name());
    r.set("algo", &be.algo);
    r.line()
}

/// Row filter of `show stat [<px>|<iid>] [<type mask>] [<sid>]`.
#[derive(Debug, Clone, Copy)]
pub struct Filter<'a> {
    pub proxy: Option<&'a str>,
    /// 1 = frontends, 2 = backends, 4 = servers.
    pub mask: u32,
    pub sid: Option<u32>,
    /// `up`: hide stopped servers (DOWN or MAINT).
    pub hide_down: bool,
    /// `no-maint`: hide servers in maintenance.
    pub hide_maint: bool,
}

impl Default for Filter<'_> {
    fn default() -> Self {
        Filter {
            proxy: None,
            mask: 7,
            sid: None,
            hide_down: false,
            hide_maint: false,
        }
    }
}

/// The whole `show stat` answer (header + rows, no final empty line).
pub fn show_stat(st: &Stats, f: Filter<'_>) -> String {
    let mut out = String::from(t::HEADER);
    out.push('\n');
    for px in &st.proxies {
        if let Some(p) = f.proxy
            && p != px.name
            && p.parse::<u32>().ok() != Some(px.iid)
        {
            continue;
        }
        if let Some(fe) = &px.fe
            && f.mask & 1 != 0
            && f.sid.is_none()
        {
            out.push_str(&frontend_row(st, px, fe));
        }
        if let Some(be) = &px.be {
            if f.mask & 4 != 0 {
                for s in be.servers().iter() {
                    let maint = s.live.admin_state() == AdminState::Maint;
                    let stopped = maint || !s.live.is_up();
                    if (f.hide_down && stopped) || (f.hide_maint && maint) {
                        continue;
                    }
                    if f.sid.is_none_or(|id| id == s.sid) {
                        out.push_str(&server_row(st, px, be, s));
                    }
                }
            }
            if f.mask & 2 != 0 {
                out.push_str(&backend_row(st, px, be, f.hide_down || f.hide_maint));
            }
        }
    }
    out
}
