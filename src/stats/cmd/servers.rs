//! Dynamic servers: `add server <backend>/<server> <addr> [kw args]*` and
//! `del server <backend>/<server>` (HAProxy 2.6.12's runtime API).
//!
//! Owns: argument parsing and checks in HAProxy's order with its replies
//! (the keywords 2.6 accepts on dynamic servers, the ones this engine
//! implements for them, `id` and `track` resolution, the deletion rules)
//! and the numeric id allocation. The live effect goes through
//! [`crate::upstream::Backend::add_server`] / `remove_server` and the
//! stats view's server snapshot. Level checks are done by the dispatcher.
//! Must not do I/O.

use super::{Reply, text};
use crate::config::ir::{Origin, Server};
use crate::stats::{BeView, PxView, SrvView, Stats};
use crate::upstream::server::{AdminState, ServerState};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The server keywords HAProxy 2.6 accepts on `add server` (its
/// `SRV_KW_DYNAMIC` set); any other known keyword is "not accepted for
/// dynamic server".
const DYNAMIC_KWS: &[&str] = &[
    "addr",
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "allow-0rtt",
    "alpn",
    "backup",
    "ca-file",
    "check",
    "check-alpn",
    "check-proto",
    "check-send-proxy",
    "check-sni",
    "check-ssl",
    "check-via-socks4",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "disabled",
    "downinter",
    "enabled",
    "error-limit",
    "fall",
    "fastinter",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "id",
    "inter",
    "maxconn",
    "maxqueue",
    "minconn",
    "no-backup",
    "no-check-ssl",
    "no-send-proxy",
    "no-send-proxy-v2",
    "no-send-proxy-v2-ssl",
    "no-send-proxy-v2-ssl-cn",
    "no-ssl",
    "no-ssl-reuse",
    "no-sslv3",
    "no-tfo",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-verifyhost",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "proxy-v2-options",
    "rise",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "slowstart",
    "sni",
    "source",
    "ssl",
    "ssl-max-ver",
    "ssl-min-ver",
    "ssl-reuse",
    "tfo",
    "tls-tickets",
    "track",
    "usesrc",
    "verify",
    "verifyhost",
    "weight",
    "ws",
];

/// The dynamic keywords this engine applies to an added server; the
/// others are refused by name rather than ignored.
const ENGINE_KWS: &[&str] = &[
    "backup",
    "no-backup",
    "disabled",
    "enabled",
    "id",
    "weight",
    "maxconn",
    "minconn",
    "maxqueue",
    "slowstart",
    "track",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "check",
    "inter",
    "fastinter",
    "downinter",
    "rise",
    "fall",
    "port",
    "addr",
    "observe",
    "on-error",
    "error-limit",
];

/// HAProxy's short error replies (`cli_err`): no empty line after them.
fn raw(s: &str) -> Reply {
    Reply::Raw(format!("{s}\n"))
}

/// Splits `backend/server` like HAProxy (the separator is searched from
/// the second character on; an empty server name is an error).
fn split(arg: Option<&str>) -> Option<(&str, &str)> {
    let a = arg?;
    let i = a.get(1..)?.find('/')? + 1;
    let (b, s) = (&a[..i], &a[i + 1..]);
    (!s.is_empty()).then_some((b, s))
}

fn backend<'a>(st: &'a Stats, name: &str) -> Option<(&'a PxView, &'a BeView)> {
    st.proxies
        .iter()
        .find(|p| p.name == name && p.be.is_some())
        .and_then(|p| Some((p, p.be.as_ref()?)))
}

/// Serializes `add server`/`del server` across CLI connections.
static ADMIN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `add server <b>/<s> <addr> [kw args]*`.
pub fn add(st: &Stats, args: &[&str]) -> Reply {
    let _admin = ADMIN.lock();
    let Some((bname, sname)) = split(args.first().copied()) else {
        return raw("Require 'backend/server'.");
    };
    let Some((px, be)) = backend(st, bname) else {
        return raw("No such backend.");
    };
    if !be.live.balancer.dynamic_weights() {
        return raw("Backend must use a dynamic load balancing to support dynamic servers.");
    }
    let (srv, id) = match build(st, px, be, sname, &args[1..]) {
        Ok(v) => v,
        Err(e) => return text(format!("{e}\n")),
    };
    let check = if srv.check {
        let Some(p) = st.cfg.proxies.iter().find(|p| p.name == px.name) else {
            return raw("No such backend.");
        };
        match crate::health::spec::dynamic_check(&st.cfg, p, &srv) {
            Ok(c) => Some(c),
            Err(e) => return text(format!("{e}\n")),
        }
    } else {
        None
    };
    let target = srv.track.as_deref().and_then(|t| tracked(st, px, t));
    let live = register(be, srv, id);
    if let Some(t) = target {
        follow(live.clone(), t);
    }
    // The check waits for `enable health` (HAProxy 2.6); outside a
    // runtime (unit tests) there is nothing to run it.
    if let Some(spec) = check
        && tokio::runtime::Handle::try_current().is_ok()
    {
        crate::health::task::spawn_dynamic(be.live.clone(), live, spec);
    }
    text("New server registered.\n")
}

/// Parses the line into a server and its numeric id, in HAProxy's order:
/// address, keywords (each checked as it comes), `track`, then the name.
fn build(
    st: &Stats,
    px: &PxView,
    be: &BeView,
    name: &str,
    words: &[&str],
) -> Result<(Server, Option<u32>), String> {
    let Some(addr) = words.first().copied().filter(|a| !a.is_empty()) else {
        return Err("'server' expects <name> and <addr>[:<port>] as arguments.".into());
    };
    let mut srv = Server {
        origin: Origin::default(),
        name: name.to_string(),
        addr: addr.to_string(),
        host: None,
        ip: None,
        port: None,
        weight: 1,
        backup: false,
        check: false,
        disabled: false,
        maxconn: None,
        track: None,
        // Dynamic servers keep no idle connections unless told
        // (`show stat` prints their `src_ilim` as 0).
        options: vec![("pool-max-conn".into(), vec!["0".into()])],
    };
    let a = crate::config::addr::parse_addr(addr, &crate::config::addr::AddrOpts::server())?;
    if a.path.is_some() || a.port_offset {
        return Err(format!(
            "'{addr}' : this engine only supports IP:port or host:port addresses for dynamic servers."
        ));
    }
    srv.ip = a.ip.map(|i| i.to_string());
    if srv.ip.is_none() {
        srv.host = a.host.clone();
    }
    srv.port = a.has_port.then_some(a.port_low);
    // What `show stat` prints for it: no address for an unresolved name,
    // port 0 when none was given.
    srv.addr = match (&srv.ip, srv.port) {
        (None, _) => String::new(),
        (Some(ip), p) => std::net::SocketAddr::new(
            ip.parse().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into()),
            p.unwrap_or(0),
        )
        .to_string(),
    };
    let mut id: Option<u32> = None;
    let mut i = 1;
    while i < words.len() {
        let k = words[i];
        let reg = crate::grammar::keywords::registry();
        let Some(def) = reg.server_kw(k) else {
            return Err(match crate::grammar::suggest::suggest_server_kw(k) {
                Some(s) => format!("unknown keyword '{k}'; did you mean '{s}' maybe ?"),
                None => format!("unknown keyword '{k}'."),
            });
        };
        if !DYNAMIC_KWS.contains(&k) {
            return Err(format!("'{k}' option is not accepted for dynamic server"));
        }
        let nargs = usize::from(def.args);
        let argv: Vec<String> = (0..nargs)
            .map(|j| words.get(i + 1 + j).copied().unwrap_or("").to_string())
            .collect();
        let v = argv.first().map(String::as_str).unwrap_or("");
        match k {
            "weight" => {
                let w = crate::config::units::atol(v);
                if !(0..=256).contains(&w) {
                    return Err(format!(
                        "weight of server {name} is not within 0 and 256 ({w}).."
                    ));
                }
                srv.weight = w as u32;
            }
            "id" => {
                let n = crate::config::units::atol(v);
                if n <= 0 || n > i64::from(i32::MAX) {
                    return Err("'id' : custom id has to be > 0.".into());
                }
                let n = n as u32;
                if let Some(o) = be.servers().iter().find(|s| s.sid == n) {
                    let at = if o.ir.origin.file.is_empty() {
                        "(null):0".to_string()
                    } else {
                        o.ir.origin.to_string()
                    };
                    return Err(format!(
                        "'id' : custom id {n} already used at {at} ('server {}').",
                        o.ir.name
                    ));
                }
                id = Some(n);
            }
            "backup" => srv.backup = true,
            "no-backup" => srv.backup = false,
            "disabled" => srv.disabled = true,
            "enabled" => srv.disabled = false,
            "maxconn" => srv.maxconn = u32::try_from(crate::config::units::atol(v)).ok(),
            "track" => srv.track = Some(v.to_string()),
            "check" => srv.check = true,
            _ => {}
        }
        if !ENGINE_KWS.contains(&k) {
            return Err(format!(
                "'{k}' option is not supported on dynamic servers by this engine."
            ));
        }
        srv.options.retain(|(o, _)| o != k);
        srv.options.push((k.to_string(), argv));
        i += 1 + nargs;
    }
    if let Some(t) = &srv.track {
        check_track(st, px, t)?;
    }
    if be.servers().iter().any(|s| s.ir.name == name) {
        return Err("Already exists a server with the same name in backend.".into());
    }
    Ok((srv, id))
}

/// `track [<backend>/]<server>`: a configured server with a check, an
/// agent, or itself tracking one (HAProxy's `srv_apply_track`).
fn check_track(st: &Stats, px: &PxView, t: &str) -> Result<(), String> {
    let (bname, sname) = match t.split_once('/') {
        Some((b, s)) => (b, s),
        None => (px.name.as_str(), t),
    };
    let target = backend(st, bname)
        .and_then(|(_, b)| b.servers().iter().find(|s| s.ir.name == sname).cloned());
    let Some(target) = target else {
        return Err(format!(
            "unable to find required server '{sname}' for tracking."
        ));
    };
    if target.ir.origin.file.is_empty() {
        return Err(format!(
            "unable to use {bname}/{sname} for tracking as it is a dynamic server."
        ));
    }
    if !target.ir.check && target.ir.track.is_none() && !has_agent(&target) {
        return Err(format!(
            "unable to use {bname}/{sname} for tracking as it does not have any check nor agent enabled."
        ));
    }
    Ok(())
}

/// The live server `track` names (checked by [`check_track`]).
fn tracked(st: &Stats, px: &PxView, t: &str) -> Option<Arc<ServerState>> {
    let (bname, sname) = t.split_once('/').unwrap_or((px.name.as_str(), t));
    let (_, b) = backend(st, bname)?;
    let s = b
        .servers()
        .iter()
        .find(|s| s.ir.name == sname)?
        .live
        .clone();
    Some(s)
}

/// `track`: the new server shows the tracked server's check cells and
/// follows its operational state (polled; HAProxy pushes it) until it is
/// deleted.
fn follow(tracker: Arc<ServerState>, target: Arc<ServerState>) {
    use crate::health::{CheckState, OpState};
    let Some(state) = target.check.get().cloned() else {
        return;
    };
    let _ = tracker
        .check
        .set(Arc::new(CheckState::with(None, None, Some(state.clone()))));
    let op = move || state.reference().lock().op;
    let apply = |s: &ServerState, o: OpState| {
        s.set_stopping(o == OpState::Stopping);
        s.set_up(o != OpState::Stopped);
    };
    let mut last = op();
    if last != OpState::Running {
        apply(&tracker, last);
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        while !tracker.is_deleted() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let now = op();
            if now != last {
                apply(&tracker, now);
                last = now;
            }
        }
    });
}

fn has_agent(s: &SrvView) -> bool {
    s.ir.options.iter().any(|(k, _)| k == "agent-check")
}

/// The lowest free id from 1 (HAProxy's `get_next_id`).
fn next_id(be: &BeView) -> u32 {
    let used: std::collections::BTreeSet<u32> = be.servers().iter().map(|s| s.sid).collect();
    (1..=u32::MAX)
        .find(|n| !used.contains(n))
        .unwrap_or(u32::MAX)
}

/// Creates the live server and publishes it. A new server starts in
/// maintenance unless `enabled` was given (`disabled` marks it
/// configured down too).
fn register(be: &BeView, srv: Server, id: Option<u32>) -> Arc<ServerState> {
    let sid = id.unwrap_or_else(|| next_id(be));
    // Dynamic servers use the "none" init-addr method: a host name is
    // never resolved (HAProxy prints no address for it).
    let mut unresolved = srv.clone();
    if unresolved.ip.is_none() {
        unresolved.host = None;
    }
    let live = Arc::new(be.live.new_server(&unresolved));
    let enabled = srv
        .options
        .iter()
        .rev()
        .find(|(k, _)| k == "enabled" || k == "disabled")
        .is_some_and(|(k, _)| k == "enabled");
    if !enabled {
        live.set_admin_state(AdminState::Maint);
    }
    live.set_fresh();
    let view = Arc::new(SrvView {
        sid,
        cmaint: AtomicBool::new(srv.disabled),
        imaint: AtomicBool::new(false),
        ir: srv,
        live: live.clone(),
        last_change: std::sync::Mutex::new(std::time::Instant::now()),
    });
    be.live.add_server(live.clone(), sid);
    let mut next = be.servers().to_vec();
    next.push(view);
    be.list.store(Arc::new(next));
    live
}

/// Whether another element of the configuration points at `be/s`: a
/// `use-server` rule, a configured server tracking it, or a sample fetch
/// naming it (`srv_is_up(be/s)`).
fn referenced(st: &Stats, bname: &str, s: &SrvView) -> bool {
    if s.ir.origin.file.is_empty() {
        return false;
    }
    let name = s.ir.name.as_str();
    st.cfg.proxies.iter().any(|p| {
        let use_server = p.name == bname
            && p.directives.iter().any(|d| {
                d.words.first().is_some_and(|w| w == "use-server")
                    && d.words.get(1).is_some_and(|w| w == name)
            });
        let tracked = p.servers.iter().any(|x| {
            x.track.as_deref().is_some_and(|t| match t.split_once('/') {
                Some((b, sv)) => b == bname && sv == name,
                None => p.name == bname && t == name,
            })
        });
        let arg = format!("({bname}/{name})");
        let fetch = p
            .directives
            .iter()
            .chain(&p.acls)
            .flat_map(|d| &d.words)
            .any(|w| w.contains("srv_") && w.contains(&arg));
        use_server || tracked || fetch
    })
}

/// `del server <b>/<s>`.
pub fn del(st: &Stats, args: &[&str]) -> Reply {
    let _admin = ADMIN.lock();
    let Some((bname, sname)) = split(args.first().copied()) else {
        return raw("Require 'backend/server'.");
    };
    let Some((_, be)) = backend(st, bname) else {
        return raw("No such backend.");
    };
    let Some(s) = be.servers().iter().find(|s| s.ir.name == sname).cloned() else {
        return raw("No such server.");
    };
    if referenced(st, bname, &s) {
        return raw(
            "This server cannot be removed at runtime due to other configuration elements pointing to it.",
        );
    }
    if s.live.admin_state() != AdminState::Maint {
        return raw("Only servers in maintenance mode can be deleted.");
    }
    // Idle connections of a server in maintenance are closed (HAProxy
    // cleans them up when the server enters maintenance).
    while s.live.pool.take().is_some() {}
    if s.live.conns() > 0 || !s.live.pool.is_empty() || !s.live.queue.is_empty() {
        return raw("Server still has connections attached to it, cannot remove it.");
    }
    be.live.remove_server(&s.live);
    let next: Vec<Arc<SrvView>> = be
        .servers()
        .iter()
        .filter(|x| !Arc::ptr_eq(x, &s))
        .cloned()
        .collect();
    be.list.store(Arc::new(next));
    s.live.health_paused.store(true, Ordering::Relaxed);
    raw("Server deleted.")
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn backend_server_split_like_haproxy() {
        assert_eq!(split(Some("be/s1")), Some(("be", "s1")));
        assert_eq!(split(Some("be/")), None);
        assert_eq!(split(Some("be")), None);
        assert_eq!(split(None), None);
        assert_eq!(split(Some("a/b/c")), Some(("a", "b/c")));
    }
}
