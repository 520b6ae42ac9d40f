//! Write commands beyond server state/weight: `set maxconn`,
//! `set rate-limit`, `set timeout cli`, `enable|disable|shutdown
//! frontend`, `enable|disable health|agent`, `set server ... health|
//! agent|check-port|addr`, `shutdown session[s]`.
//!
//! Owns: argument checks and HAProxy 2.6.12's replies; effects go
//! through [`super::limits`] (connection semaphores),
//! [`crate::upstream::server::ServerState`] setters and
//! [`super::registry`]. Level checks are done by the dispatcher.
//! Commands whose effect this engine cannot apply answer that they are
//! not supported rather than claim success.

use super::registry;
use super::show::parse_ptr;
use super::{Reply, limits, text};
use crate::stats::{FeView, PxView, SrvView, Stats};
use std::sync::atomic::Ordering;

/// C's `atoi`: leading blanks, sign, digits; anything else ends it.
pub fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = d.find(|c: char| !c.is_ascii_digit()).unwrap_or(d.len());
    let v = d[..end].parse::<i64>().unwrap_or(0);
    if neg { -v } else { v }
}

fn frontend<'a>(st: &'a Stats, name: Option<&str>) -> Result<(&'a PxView, &'a FeView), Reply> {
    let n = name.ok_or_else(|| text("A frontend name is expected.\n"))?;
    st.proxies
        .iter()
        .find(|p| p.name == n || n.strip_prefix('#').and_then(|i| i.parse().ok()) == Some(p.iid))
        .and_then(|p| p.fe.as_ref().map(|f| (p, f)))
        .ok_or_else(|| text("No such frontend.\n"))
}

/// `set maxconn frontend <fe> <n>`.
pub fn maxconn_frontend(st: &Stats, args: &[&str]) -> Reply {
    let (_, fe) = match frontend(st, args.first().copied()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(v) = args.get(1) else {
        return text("Integer value expected.\n");
    };
    let v = atoi(v);
    if v < 0 {
        return text("Value out of range.\n");
    }
    // 0 leaves only the process-wide limit.
    let v = if v == 0 {
        st.maxconn
    } else {
        v.min(i64::from(u32::MAX)) as u32
    };
    if let Some(sem) = &fe.limiter {
        limits::set_max(sem, fe.maxconn, v);
    }
    text("")
}

/// `set maxconn global <n>`: 0 restores the configured (hard) maximum.
pub fn maxconn_global(st: &Stats, args: &[&str]) -> Reply {
    let Some(v) = args.first() else {
        return text("Expects an integer value.\n");
    };
    let v = atoi(v);
    if v > i64::from(st.maxconn) {
        return text("Value out of range.\n");
    }
    let v = if v <= 0 { st.maxconn } else { v as u32 };
    if let Some(sem) = &st.global {
        limits::set_max(sem, st.maxconn, v);
    }
    text("")
}

/// `set maxconn server <b>/<s> <n>` (0 = no limit).
pub fn maxconn_server(s: &SrvView, arg: Option<&str>) -> Reply {
    let Some(a) = arg else {
        return text("Require <maxconn>.\n");
    };
    match a.parse::<u32>() {
        Ok(v) => {
            s.live.set_maxconn(v);
            // Newly allowed slots go to the requests waiting in queue.
            crate::upstream::queue::dispatch(&s.live);
            text("")
        }
        Err(_) => Reply::Raw("maxconn string empty or preceded by garbage\n".into()),
    }
}

const RATE_USAGE: &str = "'set rate-limit' only supports :\n   - 'connections global' to set the per-process maximum connection rate\n   - 'sessions global' to set the per-process maximum session rate\n   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n   - 'http-compression global' to set the per-process maximum compression speed in kB/s\n";

/// `set rate-limit <what> global <n>` (0 = no limit).
pub fn rate_limit(args: &[&str]) -> Reply {
    let r = limits::rate_limits();
    let (what, slot) = match (args.first().copied(), args.get(1).copied()) {
        (Some(w @ "connections"), Some("global")) => (w, &r.connections),
        (Some(w @ "sessions"), Some("global")) => (w, &r.sessions),
        (Some(w @ "ssl-sessions"), Some("global")) => (w, &r.ssl_sessions),
        (Some(w @ "http-compression"), Some("global")) => (w, &r.http_compression),
        _ => return text(RATE_USAGE),
    };
    let Some(v) = args.get(2) else {
        return text("Expects an integer value.\n");
    };
    let v = atoi(v);
    if v < 0 {
        return text("Value out of range.\n");
    }
    // Without SSL termination there is no SSL session to limit; the
    // others need the accept loop's hook (connections, sessions) or are
    // not enforced at all (compression).
    let enforced = match what {
        "ssl-sessions" => true,
        "http-compression" => false,
        _ => limits::rate_hooked(),
    };
    if !enforced {
        return text(format!(
            "'set rate-limit {what}' is not supported by this version.\n"
        ));
    }
    slot.store(v.min(i64::from(u32::MAX)) as u32, Ordering::Relaxed);
    text("")
}

/// Checks `set timeout cli <delay>` (seconds by default); returns the
/// new idle timeout.
pub fn timeout_cli(args: &[&str]) -> Result<std::time::Duration, Reply> {
    if args.first() != Some(&"cli") {
        return Err(text("'set timeout' only supports 'cli'.\n"));
    }
    let Some(v) = args.get(1) else {
        return Err(text("Expects an integer value.\n"));
    };
    let d = if v.chars().all(|c| c.is_ascii_digit()) {
        v.parse::<u64>().ok().map(std::time::Duration::from_secs)
    } else {
        crate::stats::parse_time(v)
    };
    match d {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(text("Invalid timeout value.\n")),
    }
}

/// `disable|enable frontend <fe>`.
pub fn pause_frontend(st: &Stats, name: Option<&str>, pause: bool) -> Reply {
    let (_, fe) = match frontend(st, name) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(sem) = &fe.limiter else {
        return text("");
    };
    let l = limits::limit_of(sem, fe.maxconn);
    if l.is_stopped() {
        return text(if pause {
            "Frontend was previously shut down, cannot disable.\n"
        } else {
            "Frontend was previously shut down, cannot enable.\n"
        });
    }
    if pause {
        if !limits::pause(sem, fe.maxconn) {
            return text("All sockets are already disabled.\n");
        }
    } else if !limits::resume(sem, fe.maxconn) {
        return text("All sockets are already enabled.\n");
    }
    text("")
}

/// `shutdown frontend <fe>`.
pub fn shutdown_frontend(st: &Stats, name: Option<&str>) -> Reply {
    let (_, fe) = match frontend(st, name) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(sem) = &fe.limiter
        && !limits::stop(sem, fe.maxconn)
    {
        return text("Frontend was already shut down.\n");
    }
    text("")
}

fn has_agent(s: &SrvView) -> bool {
    s.ir.options.iter().any(|(k, _)| k == "agent-check")
}

/// `enable|disable health|agent <b>/<s>`.
pub fn toggle_check(s: &SrvView, agent: bool, enable: bool) -> Reply {
    let configured = if agent { has_agent(s) } else { s.ir.check };
    if enable && !configured {
        return text(if agent {
            "Agent was not configured on this server, cannot enable.\n"
        } else {
            "Health check was not configured on this server, cannot enable.\n"
        });
    }
    let flag = if agent {
        &s.live.agent_paused
    } else {
        &s.live.health_paused
    };
    flag.store(!enable, Ordering::Relaxed);
    text("")
}

/// `set server <b>/<s> health|agent up|stopping|down`.
pub fn set_health(s: &SrvView, agent: bool, arg: Option<&str>) -> Reply {
    if agent {
        if !has_agent(s) {
            return text("agent checks are not enabled on this server.\n");
        }
    } else if s.ir.track.is_some() {
        return text("cannot change health on a tracking server.\n");
    }
    match (arg, agent) {
        (Some("up"), _) => {
            s.live.set_stopping(false);
            s.live.set_up(true);
            set_check_health(s, agent, true);
            crate::upstream::queue::dispatch(&s.live);
        }
        // NOLB: up, but takes no new load-balanced traffic.
        (Some("stopping"), false) => {
            s.live.set_up(true);
            s.live.set_stopping(true);
        }
        (Some("down"), _) => {
            let was_down = !s.live.is_up();
            s.live.set_stopping(false);
            s.live.set_up(false);
            // The check counter restarts from 0: passing checks bring the
            // server back after `rise` of them, as in HAProxy.
            set_check_health(s, agent, false);
            // `on-marked-down shutdown-sessions`.
            registry::on_state_change(&[], &s.live, was_down, true);
        }
        (_, false) => {
            return text("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n");
        }
        (_, true) => return text("'set server <srv> agent' expects 'up' or 'down'.\n"),
    }
    s.touch();
    text("")
}

/// Moves the check (or agent) counter to fully up or fully down, so that
/// the next checks continue from the state the operator forced.
fn set_check_health(s: &SrvView, agent: bool, up: bool) {
    use crate::health::status::OpState;
    let Some(c) = s.live.check.get() else { return };
    let mut g = c.lock();
    let side = if agent {
        g.agent.as_mut()
    } else {
        g.check.as_mut()
    };
    let Some(side) = side else { return };
    side.health = if up { side.full() } else { 0 };
    match (up, g.op) {
        (false, OpState::Running | OpState::Stopping) => {
            g.op = OpState::Stopped;
            g.chkdown += 1;
            g.down_since = Some(std::time::Instant::now());
        }
        (true, OpState::Stopped) => {
            g.op = OpState::Running;
            if let Some(t) = g.down_since.take() {
                g.downtime += t.elapsed();
            }
        }
        _ => {}
    }
}

/// `set server <b>/<s> check-port <port>`: the checks use `port` from
/// now on.
pub fn check_port(s: &SrvView, arg: Option<&str>) -> Reply {
    let Some(a) = arg else {
        return text("set server <b>/<s> check-port requires a port.\n");
    };
    if !s.ir.check {
        return Reply::Raw("health checks are not enabled on this server\n".into());
    }
    let Ok(p) = a.parse::<i64>() else {
        return Reply::Raw("provided port is not an integer\n".into());
    };
    let Ok(p) = u16::try_from(p) else {
        return Reply::Raw("provided port is invalid\n".into());
    };
    s.live.set_check_port(p);
    text("")
}

/// `set server <b>/<s> addr <ip> [port <port>]`: traffic and checks go
/// to the new address from now on (HAProxy 2.6's messages).
pub fn set_addr(s: &SrvView, args: &[&str]) -> Reply {
    let Some(ip) = args.first() else {
        return text("set server <b>/<s> addr requires an address and optionally a port.\n");
    };
    let Ok(ip) = ip.parse::<std::net::IpAddr>() else {
        return text(format!("Invalid addr '{ip}' by 'stats socket command'\n"));
    };
    let port = match args.get(1..3) {
        Some(["port", p]) => Some(*p),
        _ => None,
    };
    let map = port.is_some_and(|p| p.starts_with(['+', '-']));
    if map && !s.ir.check {
        // Port maps (`+N`/`-N`) need the client's destination port.
        return text("'set server <srv> addr ... port +/-<n>' is not supported by this version.\n");
    }
    let cur = s.live.cur_addr();
    let old_port = cur.map_or(0, |a| a.port());
    let mut m = match cur {
        Some(a) if a.ip() == ip => String::from("no need to change the addr"),
        _ => {
            let old = cur.map_or_else(|| "(none)".into(), |a| a.ip().to_string());
            s.live.set_addr(std::net::SocketAddr::new(ip, old_port));
            format!("IP changed from '{old}' to '{ip}'")
        }
    };
    if let Some(p) = port {
        if map {
            m.push_str(", can't change <port> to port map because it is incompatible with current health check port configuration (use 'port' statement from the 'server' directive.");
        } else {
            match p.parse::<u16>() {
                Ok(n) if n == old_port => m.push_str(", no need to change the port"),
                Ok(n) => {
                    s.live.set_addr(std::net::SocketAddr::new(ip, n));
                    m.push_str(&format!(", port changed from '{old_port}' to '{n}'"));
                }
                Err(_) => m.push_str(&format!(", problem converting port '{p}' to an int")),
            }
        }
    }
    m.push_str(" by 'stats socket command'\n");
    text(m)
}

/// `shutdown session <id>`.
pub fn shutdown_session(arg: Option<&str>) -> Reply {
    let id = arg.map_or(0, parse_ptr);
    if id == 0 {
        return text("Session pointer expected (use 'show sess').\n");
    }
    match registry::get(id) {
        Some(e) => {
            e.kill();
            text("")
        }
        None => text("No such session (use 'show sess').\n"),
    }
}

/// `shutdown sessions server <b>/<s>`: kills the sessions using it.
pub fn shutdown_server_sessions(px: &PxView, s: &SrvView) -> Reply {
    let _ = px;
    registry::kill_on_server(&s.live);
    text("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi("12abc"), 12);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi("-5"), -5);
        assert_eq!(atoi(" 7"), 7);
    }

    #[test]
    fn rate_limit_replies() {
        assert_eq!(rate_limit(&[]), text(RATE_USAGE));
        assert_eq!(rate_limit(&["connections"]), text(RATE_USAGE));
        assert_eq!(
            rate_limit(&["connections", "global"]),
            text("Expects an integer value.\n")
        );
        assert_eq!(rate_limit(&["ssl-sessions", "global", "0"]), text(""));
    }

    #[test]
    fn timeout_cli_checks() {
        assert_eq!(
            timeout_cli(&["foo", "5"]).err(),
            Some(text("'set timeout' only supports 'cli'.\n"))
        );
        assert_eq!(
            timeout_cli(&["cli"]).err(),
            Some(text("Expects an integer value.\n"))
        );
        assert_eq!(
            timeout_cli(&["cli", "0"]).err(),
            Some(text("Invalid timeout value.\n"))
        );
        assert_eq!(
            timeout_cli(&["cli", "abc"]).err(),
            Some(text("Invalid timeout value.\n"))
        );
        assert_eq!(
            timeout_cli(&["cli", "60"]).ok(),
            Some(std::time::Duration::from_secs(60))
        );
    }

    #[tokio::test]
    async fn shutdown_session_kills_registered_one() {
        assert_eq!(
            shutdown_session(Some("abc")),
            text("Session pointer expected (use 'show sess').\n")
        );
        assert_eq!(
            shutdown_session(Some("0x1")),
            text("No such session (use 'show sess').\n")
        );
        let fe = crate::session::fetch::sess::test_frontend("fe_kill");
        let h = crate::session::fetch::Sess::new(&fe, None);
        let id = format!("{:#x}", h.id);
        assert_eq!(shutdown_session(Some(&id)), text(""));
        assert!(h.is_killed());
        tokio::time::timeout(std::time::Duration::from_secs(2), h.killed())
            .await
            .expect("killed resolves");
    }
}
