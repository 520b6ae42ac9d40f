//! CLI commands: parsing one command, checking the level, answering with
//! HAProxy 2.6.12's texts.
//!
//! Owns: the command table (dispatch and level checks) and the server
//! state/weight commands. Command families live in `cmd/`: [`typed`]
//! (typed/json/desc formats, schema), `show` (env, errors, table, pools,
//! activity, sess, servers conn), `servers` (`add server`, `del server`),
//! `write` (maxconn, rate-limit, timeout,
//! frontends, checks, sessions), [`limits`] (runtime connection limits),
//! [`registry`] (live client sessions) and `maps` (map/ACL runtime API,
//! no level check: HAProxy allows it at level user). Write commands need level
//! admin ("Permission denied" otherwise) and act through
//! [`crate::upstream::server::ServerState`], the shared connection
//! semaphores and the session registry. Must not do I/O.

mod fields;
pub mod limits;
pub(crate) mod maps;
pub mod registry;
mod servers;
mod show;
pub mod typed;
mod write;

use super::conn::Session;
use super::csv::{self, Filter};
use super::{Level, PxView, SrvView, Stats, help, info};
use crate::upstream::server::AdminState;
use std::sync::atomic::Ordering;

/// What the connection layer sends back.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// Output; the connection adds the empty line that ends an answer.
    Text(String),
    /// Bytes sent as they are (HAProxy's few answers without the empty line).
    Raw(String),
    Quit,
}

const DENIED: &str = "Permission denied\n";

fn text(s: impl Into<String>) -> Reply {
    Reply::Text(s.into())
}

/// Runs one command (already split on `;` and trimmed).
pub fn execute(line: &str, sess: &mut Session, st: &Stats) -> Reply {
    let w: Vec<&str> = line.split_whitespace().collect();
    let admin = sess.level >= Level::Admin;
    match w.as_slice() {
        [] => text(help::unknown(&[])),
        ["help", ..] => text(help::help(&w)),
        ["prompt", ..] => {
            sess.prompt = !sess.prompt;
            text("")
        }
        ["quit", ..] => Reply::Quit,
        ["operator", ..] => lower(sess, Level::Operator),
        ["user", ..] => lower(sess, Level::User),
        ["show", "cli", "level", ..] => text(format!("{}\n", sess.level.name())),
        ["show", "version", ..] => text(format!("{}\n", info::VERSION)),
        ["show", "info", args @ ..] => text(show_info(st, args)),
        ["show", "schema", "json"] => text(format!("{}\n", typed::SCHEMA)),
        ["show", "stat", args @ ..] => show_stat(st, args),
        ["show", "backend", ..] => text(show_backend(st)),
        ["show", "servers", "state", rest @ ..] => show_servers_state(st, rest.first().copied()),
        ["get", "weight", rest @ ..] => match find(st, rest.first().copied()) {
            Ok((_, s)) => text(format!(
                "{} (initial {})\n",
                s.live.cur_weight(),
                s.ir.weight
            )),
            Err(e) => text(e),
        },
        ["set", "weight", ..] if !admin => text(DENIED),
        ["set", "weight", rest @ ..] => match find(st, rest.first().copied()) {
            Ok((px, s)) => set_weight(px, &s, rest.get(1).copied()),
            Err(e) => text(e),
        },
        ["disable", "server", ..] | ["enable", "server", ..] | ["set", "server", ..] if !admin => {
            text(DENIED)
        }
        [verb @ ("disable" | "enable"), "server", rest @ ..] => {
            match find(st, rest.first().copied()) {
                Ok((px, s)) => {
                    let to = if *verb == "disable" {
                        AdminState::Maint
                    } else {
                        AdminState::Ready
                    };
                    set_state(&s, to);
                    propagate(st, px, &s);
                    text("")
                }
                Err(e) => text(e),
            }
        }
        ["set", "server", rest @ ..] => set_server(st, rest),
        ["add" | "del", "server", ..] if !admin => text(DENIED),
        ["add", "server", rest @ ..] => servers::add(st, rest),
        ["del", "server", rest @ ..] => servers::del(st, rest),
        _ => more(&w, sess, st),
    }
}

/// The command families of `cmd/` (show, limits, checks, sessions).
fn more(w: &[&str], sess: &mut Session, st: &Stats) -> Reply {
    let oper = sess.level >= Level::Operator;
    let admin = sess.level >= Level::Admin;
    let arg = |i: usize| w.get(i).copied();
    match w {
        ["show", "env", ..] if !oper => text(DENIED),
        ["show", "env", ..] => text(show::env(arg(2))),
        ["show", "errors", ..] if !oper => text(DENIED),
        ["show", "errors", ..] => text(show::errors(st, arg(2))),
        ["show", "table", ..] => text(show::table(arg(2))),
        ["show", "pools", ..] => text(show::pools()),
        ["show", "activity", ..] => text(show::activity(st)),
        ["show", "sess", ..] if !oper => text(DENIED),
        ["show", "sess", ..] => text(show::sess(arg(2))),
        ["show", "servers", "conn", ..] => text(show::servers_conn(st, arg(3))),
        [
            v @ ("show" | "get" | "add" | "del" | "clear"),
            k @ ("map" | "acl"),
            rest @ ..,
        ] => {
            let m = *k == "map";
            match *v {
                "show" => maps::show(m, rest.first().copied()),
                "get" => maps::get(m, rest),
                "add" => maps::add(m, rest),
                "del" => maps::del(m, rest),
                _ => maps::clear(m, rest),
            }
        }
        ["set", "map", rest @ ..] => maps::set(rest),
        ["clear", "counters", rest @ ..] if !oper || (rest.first() == Some(&"all") && !admin) => {
            text(DENIED)
        }
        ["clear", "counters", rest @ ..] => {
            crate::metrics::clear::clear_stats(st, rest.first() == Some(&"all"));
            text("")
        }
        ["set", "timeout", rest @ ..] => match write::timeout_cli(rest) {
            Ok(d) if super::conn::set_idle_timeout(d) => text(""),
            // Not on a CLI connection (the stats page's admin form).
            Ok(_) => text("'set timeout cli' is not supported by this version.\n"),
            Err(r) => r,
        },
        ["set", "maxconn", "frontend" | "global" | "server", ..]
        | ["set", "rate-limit", ..]
        | ["enable" | "disable" | "shutdown", "frontend", ..]
        | ["enable" | "disable", "health" | "agent", ..]
        | ["shutdown", "session" | "sessions", ..]
            if !admin =>
        {
            text(DENIED)
        }
        ["set", "maxconn", "frontend", rest @ ..] => write::maxconn_frontend(st, rest),
        ["set", "maxconn", "global", rest @ ..] => write::maxconn_global(st, rest),
        ["set", "maxconn", "server", rest @ ..] => match find(st, rest.first().copied()) {
            Ok((_, s)) => write::maxconn_server(&s, rest.get(1).copied()),
            Err(e) => text(e),
        },
        ["set", "rate-limit", rest @ ..] => write::rate_limit(rest),
        [v @ ("enable" | "disable"), "frontend", ..] => {
            write::pause_frontend(st, arg(2), *v == "disable")
        }
        ["shutdown", "frontend", ..] => write::shutdown_frontend(st, arg(2)),
        [v @ ("enable" | "disable"), kind @ ("health" | "agent"), ..] => match find(st, arg(2)) {
            Ok((_, s)) => write::toggle_check(&s, *kind == "agent", *v == "enable"),
            Err(e) => text(e),
        },
        ["shutdown", "session", ..] => write::shutdown_session(arg(2)),
        ["shutdown", "sessions", "server", ..] => match find(st, arg(3)) {
            Ok((px, s)) => write::shutdown_server_sessions(px, &s),
            Err(e) => text(e),
        },
        _ => text(help::unknown(w)),
    }
}

fn lower(sess: &mut Session, to: Level) -> Reply {
    if to > sess.level {
        return text(DENIED);
    }
    sess.level = to;
    text("")
}

/// `backend/server` lookup with HAProxy's messages.
fn find<'a>(
    st: &'a Stats,
    arg: Option<&str>,
) -> Result<(&'a PxView, std::sync::Arc<SrvView>), String> {
    let (b, s) = arg
        .and_then(|a| a.split_once('/'))
        .ok_or_else(|| "Require 'backend/server'.\n".to_string())?;
    st.server(b, s).map_err(|e| format!("{e}\n"))
}

/// `set weight <b>/<s> <w>[%]`; also `set server <b>/<s> weight <w>`.
fn set_weight(px: &PxView, s: &SrvView, arg: Option<&str>) -> Reply {
    let Some(a) = arg.filter(|a| !a.is_empty()) else {
        return text("Require <weight> or <weight%>.\n");
    };
    let (num, pct) = match a.strip_suffix('%') {
        Some(n) => (n, true),
        None => (a, false),
    };
    let Ok(n) = num.parse::<u64>() else {
        return Reply::Raw("Empty weight string empty or preceded by garbage\n".into());
    };
    let w = if pct {
        if n > 100 {
            return text("Relative weight must be positive.\n");
        }
        u64::from(s.ir.weight) * n / 100
    } else {
        if n > 256 {
            return text("Absolute weight can only be between 0 and 256 inclusive.\n");
        }
        n
    };
    // Static algorithms (static-rr, map-based hashing) only take a server
    // out (0) or back at its configured weight, like HAProxy.
    let is_static = px
        .be
        .as_ref()
        .is_some_and(|b| !b.live.balancer.dynamic_weights());
    if is_static && w != 0 && w != u64::from(s.ir.weight) {
        return text(
            "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n",
        );
    }
    s.live.set_cur_weight(w as u32);
    s.touch();
    text("")
}

/// Applies an admin state to a server and to the servers tracking it.
fn set_state(s: &SrvView, to: AdminState) {
    let live = &s.live;
    if to == AdminState::Ready && s.cmaint.swap(false, Ordering::Relaxed) {
        // Disabled in the configuration: it had never been brought up.
        live.set_up(true);
    }
    live.set_admin_state(to);
    s.touch();
}

/// Propagates maintenance to trackers (`track b/s`) across all proxies.
fn propagate(st: &Stats, px: &PxView, s: &SrvView) {
    let me = format!("{}/{}", px.name, s.ir.name);
    let maint = s.live.admin_state() == AdminState::Maint;
    for p in &st.proxies {
        let Some(be) = &p.be else { continue };
        for t in be.servers().iter() {
            let tracks = t.ir.track.as_deref().is_some_and(|tr| {
                tr == me || (!tr.contains('/') && p.name == px.name && tr == s.ir.name)
            });
            if !tracks {
                continue;
            }
            let was = t.imaint.swap(maint, Ordering::Relaxed);
            if maint && t.live.admin_state() == AdminState::Ready {
                t.live.set_admin_state(AdminState::Maint);
                t.touch();
            } else if !maint && was && t.live.admin_state() == AdminState::Maint {
                t.live.set_admin_state(AdminState::Ready);
                t.touch();
            }
        }
    }
}

fn set_server(st: &Stats, rest: &[&str]) -> Reply {
    let (px, s) = match find(st, rest.first().copied()) {
        Ok(v) => v,
        Err(e) => return text(e),
    };
    let s = &*s;
    match rest.get(1).copied() {
        Some("state") => {
            let to = match rest.get(2).copied() {
                Some("ready") => AdminState::Ready,
                Some("drain") => AdminState::Drain,
                Some("maint") => AdminState::Maint,
                _ => {
                    return text(
                        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n",
                    );
                }
            };
            set_state(s, to);
            propagate(st, px, s);
            text("")
        }
        Some("weight") => set_weight(px, s, rest.get(2).copied()),
        Some("health") => write::set_health(s, false, rest.get(2).copied()),
        Some("agent") => write::set_health(s, true, rest.get(2).copied()),
        Some("check-port") => write::check_port(s, rest.get(2).copied()),
        Some("addr") => write::set_addr(s, rest.get(2..).unwrap_or_default()),
        Some(
            sub @ ("agent-addr" | "agent-port" | "agent-send" | "check-addr" | "fqdn" | "ssl"),
        ) => text(format!(
            "'set server <srv> {sub}' is not supported by this version.\n"
        )),
        _ => text(
            "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | \
             agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n",
        ),
    }
}

fn show_stat(st: &Stats, args: &[&str]) -> Reply {
    let mut f = Filter {
        hide_down: args.contains(&"up"),
        hide_maint: args.contains(&"no-maint"),
        ..Filter::default()
    };
    let pos: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !matches!(*a, "typed" | "json" | "desc" | "up" | "no-maint"))
        .collect();
    if pos.len() >= 3 {
        if pos[0] != "-1" {
            let known = st
                .proxies
                .iter()
                .any(|p| p.name == pos[0] || pos[0].parse::<u32>().ok() == Some(p.iid));
            if !known {
                return text("No such proxy.\n");
            }
            f.proxy = Some(pos[0]);
        }
        f.mask = match pos[1].parse::<i64>() {
            Ok(-1) => 7,
            Ok(m) if m >= 0 => (m as u32) & 7,
            _ => 7,
        };
        f.sid = pos[2].parse::<u32>().ok();
    }
    let csv = csv::show_stat(st, f);
    if args.contains(&"json") {
        text(typed::stat_json(&csv))
    } else if args.contains(&"typed") {
        text(typed::stat_typed(&csv, args.contains(&"desc")))
    } else {
        text(csv)
    }
}

/// `show info [desc|json|typed|float]*`.
fn show_info(st: &Stats, args: &[&str]) -> String {
    let o = typed::InfoOpts {
        typed: args.contains(&"typed"),
        json: args.contains(&"json"),
        desc: args.contains(&"desc"),
        float: args.contains(&"float"),
    };
    let fields = info::fields(st);
    // The start instant in Unix time, to the microsecond.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let start = now - st.uptime().as_secs_f64();
    let floats = [
        ("Uptime_sec", st.uptime().as_secs_f64()),
        ("Start_time_sec", start),
    ];
    typed::info(&fields, &floats, o)
}

fn show_backend(st: &Stats) -> String {
    let mut out = String::from("# name\n");
    for p in st.proxies.iter().filter(|p| p.be.is_some()) {
        out.push_str(&p.name);
        out.push('\n');
    }
    out
}

const SRV_STATE_HEADER: &str = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

fn show_servers_state(st: &Stats, be: Option<&str>) -> Reply {
    if let Some(b) = be
        && !st.proxies.iter().any(|p| p.name == b && p.be.is_some())
    {
        return text("Can't find backend.\n");
    }
    let mut out = String::from(SRV_STATE_HEADER);
    for p in &st.proxies {
        let Some(bv) = &p.be else { continue };
        if be.is_some_and(|b| b != p.name) {
            continue;
        }
        for s in bv.servers().iter() {
            out.push_str(&server_state_line(p, s));
        }
    }
    text(out)
}

/// One `show servers state` line. Admin flags: 0x01 forced maint, 0x02
/// inherited maint (tracking), 0x04 config maint, 0x08 forced drain.
fn server_state_line(p: &PxView, s: &SrvView) -> String {
    let l = &s.live;
    let adm = l.admin_state();
    let mut flags = 0u32;
    let imaint = s.imaint.load(Ordering::Relaxed);
    if adm == AdminState::Maint {
        flags |= if imaint { 0x02 } else { 0x01 };
    }
    if s.cmaint.load(Ordering::Relaxed) {
        flags |= 0x04;
    }
    if adm == AdminState::Drain {
        flags |= 0x08;
    }
    let running = l.is_up() && adm != AdminState::Maint;
    let (ip, port) = match l.addr {
        Some(a) => (a.ip().to_string(), a.port()),
        None => (
            s.ir.ip.clone().unwrap_or_else(|| "-".into()),
            s.ir.port.unwrap_or(0),
        ),
    };
    let fqdn = match (&s.ir.host, &s.ir.ip) {
        (Some(h), None) => h.clone(),
        _ => "-".into(),
    };
    format!(
        "{} {} {} {} {} {} {} {} {} {} 1 0 {} {} 0 0 {} {} {} - 0 0 - - 0\n",
        p.iid,
        p.name,
        s.sid,
        s.ir.name,
        ip,
        if running { 2 } else { 0 },
        flags,
        l.cur_weight(),
        s.ir.weight,
        s.since_change().as_secs(),
        // srv_check_health: a dynamic server's check counter starts at 0.
        if running && !s.ir.origin.file.is_empty() {
            2
        } else {
            0
        },
        if s.cmaint.load(Ordering::Relaxed) {
            8
        } else {
            0
        },
        // srv_f_forced_id: an explicit `id`.
        u8::from(s.ir.options.iter().any(|(k, _)| k == "id")),
        fqdn,
        port,
    )
}
