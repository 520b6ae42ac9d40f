//! What to check for each server, read from the resolved IR.
//!
//! Owns: the per-server parameters (`inter`, `fastinter`, `downinter`,
//! `rise`, `fall`, `port`, `addr`), the proxy's `timeout check` /
//! `timeout connect`, and the check kind (plain TCP connect or HTTP).
//! Refuses, by name, the check forms Switchyard does not run. Must not do
//! I/O beyond resolving a check `addr` given as a host name.

use super::fsm::Intervals;
use super::http::{self, HttpCheck, RuleError};
use super::observe::{self, ObserveSpec};
use super::protocols;
use super::ssl::{self, CheckTls};
use super::tcpcheck::{self, Ruleset};
use crate::config::ir::{Config, Origin, Proxy, RawRule, Server};
use crate::config::units::parse_time;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// HAProxy's default `inter`.
pub const DEFAULT_INTER_MS: u32 = 2000;
pub const DEFAULT_RISE: u32 = 2;
pub const DEFAULT_FALL: u32 = 3;

/// What a check does once connected.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// Connect, then close: L4OK / L4CON / L4TOUT.
    Tcp,
    /// Send a request and judge the response.
    Http(Arc<HttpCheck>),
    /// A tcp-check ruleset (`option tcp-check` or a protocol check).
    Rules(Arc<Ruleset>),
}

/// `agent-check` settings of a server.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub inter: Duration,
    pub rules: Arc<Ruleset>,
}

/// `track [<backend>/]<server>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSpec {
    pub server: usize,
    pub server_name: String,
    pub backend: String,
    pub target: String,
}

/// The check of one server.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// Index of the server in its proxy (and in the live backend).
    pub server: usize,
    pub server_name: String,
    /// `addr <ip>` override of the server address.
    pub addr: Option<IpAddr>,
    /// `port <n>` override of the server port.
    pub port: Option<u16>,
    pub rise: u32,
    pub fall: u32,
    pub intervals: Intervals,
    /// `timeout connect` of the proxy.
    pub timeout_connect: Option<Duration>,
    /// `timeout check` of the proxy.
    pub timeout_check: Option<Duration>,
    pub kind: CheckKind,
    /// `check`: the health check runs (false: agent only).
    pub enabled: bool,
    /// `check-send-proxy`.
    pub send_proxy: bool,
    /// `source`: the local address check connections leave from.
    pub source: Option<std::net::SocketAddr>,
    pub agent: Option<AgentSpec>,
    /// `option log-health-checks`.
    pub log_health_checks: bool,
    /// Global `spread-checks` (0..=50): each interval is moved randomly by
    /// up to this percentage.
    pub spread_pct: u32,
    /// Global `max-spread-checks`: bound of the start-up spreading delay.
    pub max_spread: Option<Duration>,
    /// `observe` / `on-error` / `error-limit` (passive health).
    pub observe: Option<ObserveSpec>,
    /// TLS of the check connections (`check-ssl`, `connect ssl`).
    pub tls: Arc<CheckTls>,
}

impl CheckSpec {
    /// Where to connect, given the server's own resolved address.
    pub fn target(&self, server: Option<SocketAddr>) -> Option<SocketAddr> {
        let base = server?;
        Some(SocketAddr::new(
            self.addr.unwrap_or(base.ip()),
            self.port.unwrap_or(base.port()),
        ))
    }
}

/// The checks of one backend.
#[derive(Debug, Clone)]
pub struct BackendPlan {
    pub name: String,
    pub checks: Vec<CheckSpec>,
    pub tracks: Vec<TrackSpec>,
    /// `(server, on-marked-down shutdown-sessions, on-marked-up
    /// shutdown-backup-sessions)` of the servers with either option.
    pub on_marked: Vec<(String, bool, bool)>,
}

/// Reads every backend's checks; an `Err` is the alert text refusing to
/// start.
pub fn plan(cfg: &Config) -> Result<Vec<BackendPlan>, String> {
    let mut out = Vec::new();
    for p in cfg
        .proxies
        .iter()
        .filter(|p| p.kind.has_be() && !p.disabled)
    {
        let defaults = defaults_of(cfg, p);
        let kind = check_kind(p, defaults)?;
        let log = p.option("log-health-checks");
        let spread = spread_checks(cfg);
        let max_spread = max_spread_checks(cfg);
        let gssl = ssl::global(cfg);
        let mut tls_cache = ssl::Cache::default();
        let mut checks = Vec::new();
        let mut tracks = Vec::new();
        let mut on_marked = Vec::new();
        for s in &p.servers {
            if let Some(m) = on_marked_of(p, s)? {
                on_marked.push(m);
            }
        }
        for (i, s) in p.servers.iter().enumerate() {
            if s.disabled {
                continue;
            }
            if let Some(t) = &s.track {
                let (backend, target) = match t.split_once('/') {
                    Some((b, sv)) => (b.to_string(), sv.to_string()),
                    None => (p.name.clone(), t.clone()),
                };
                tracks.push(TrackSpec {
                    server: i,
                    server_name: s.name.clone(),
                    backend,
                    target,
                });
                continue;
            }
            let agent = flag(s, "agent-check", "no-agent-check");
            if !s.check && !agent {
                continue;
            }
            let mut spec = server_spec(p, i, s, kind.clone())?;
            spec.enabled = s.check;
            if s.check {
                spec.tls = Arc::new(ssl::plan(&gssl, &mut tls_cache, p, s, &kind)?);
            }
            spec.log_health_checks = log;
            spec.spread_pct = spread;
            spec.max_spread = max_spread;
            if agent {
                spec.agent = Some(agent_spec(p, s)?);
            }
            checks.push(spec);
        }
        if !checks.is_empty() || !tracks.is_empty() || !on_marked.is_empty() {
            out.push(BackendPlan {
                name: p.name.clone(),
                checks,
                tracks,
                on_marked,
            });
        }
    }
    check_tracks(cfg, &out)?;
    Ok(out)
}

/// The health check of a server added at runtime (`add server ... check`)
/// to backend `p`: the backend's check type and the global spreading,
/// like a configured server's.
pub fn dynamic_check(cfg: &Config, p: &Proxy, s: &Server) -> Result<CheckSpec, String> {
    let kind = check_kind(p, defaults_of(cfg, p))?;
    let mut spec = server_spec(p, usize::MAX, s, kind)?;
    spec.enabled = true;
    spec.log_health_checks = p.option("log-health-checks");
    spec.spread_pct = spread_checks(cfg);
    spec.max_spread = max_spread_checks(cfg);
    spec.tls = Arc::new(ssl::plan(
        &ssl::global(cfg),
        &mut ssl::Cache::default(),
        p,
        s,
        &spec.kind,
    )?);
    Ok(spec)
}

/// Global `spread-checks <0..50>` (the config check validates the range).
fn spread_checks(cfg: &Config) -> u32 {
    cfg.global
        .directives
        .iter()
        .rev()
        .find(|r| r.words.first().is_some_and(|w| w == "spread-checks"))
        .and_then(|r| r.words.get(1))
        .and_then(|v| v.parse::<u32>().ok())
        .map_or(0, |v| v.min(50))
}

/// Global `max-spread-checks <time>` (milliseconds by default).
fn max_spread_checks(cfg: &Config) -> Option<Duration> {
    cfg.global
        .directives
        .iter()
        .rev()
        .find(|r| r.words.first().is_some_and(|w| w == "max-spread-checks"))
        .and_then(|r| r.words.get(1))
        .and_then(|v| parse_time(v).ok())
        .map(|ms| Duration::from_millis(u64::from(ms)))
}

/// Every tracked server must exist and run a check or an agent.
fn check_tracks(cfg: &Config, plans: &[BackendPlan]) -> Result<(), String> {
    for p in plans {
        for t in &p.tracks {
            let target_has_check = plans
                .iter()
                .filter(|b| b.name == t.backend)
                .flat_map(|b| b.checks.iter())
                .any(|c| c.server_name == t.target);
            let tracks_other = plans
                .iter()
                .filter(|b| b.name == t.backend)
                .flat_map(|b| b.tracks.iter())
                .any(|c| c.server_name == t.target);
            if !target_has_check && !tracks_other {
                let origin = cfg
                    .proxies
                    .iter()
                    .find(|x| x.name == p.name)
                    .and_then(|x| x.servers.get(t.server))
                    .map(|s| s.origin.clone());
                let loc = origin
                    .map(|o| format!("[{}:{}] : ", o.file, o.line))
                    .unwrap_or_default();
                return Err(format!(
                    "config : {loc}'server {}/{}' : unable to use {}/{} for tracking as it does not have any check nor agent enabled.",
                    p.name, t.server_name, t.backend, t.target
                ));
            }
        }
    }
    Ok(())
}

/// `on-marked-down` / `on-marked-up` of `s`, checked like HAProxy.
fn on_marked_of(p: &Proxy, s: &Server) -> Result<Option<(String, bool, bool)>, String> {
    let mut m = (s.name.clone(), false, false);
    for (k, want) in [
        ("on-marked-down", "shutdown-sessions"),
        ("on-marked-up", "shutdown-backup-sessions"),
    ] {
        let Some(v) = opt(s, k) else { continue };
        if v != want {
            return Err(format!(
                "config : [{}:{}] : 'server {}/{}' : '{k}' expects '{want}' but got '{v}'.",
                s.origin.file, s.origin.line, p.name, s.name
            ));
        }
        if k == "on-marked-down" {
            m.1 = true;
        } else {
            m.2 = true;
        }
    }
    Ok((m.1 || m.2).then_some(m))
}

/// The last of `on`/`off` on the server line wins.
fn flag(s: &Server, on: &str, off: &str) -> bool {
    s.options
        .iter()
        .rev()
        .find(|(n, _)| n == on || n == off)
        .is_some_and(|(n, _)| n == on)
}

fn agent_spec(p: &Proxy, s: &Server) -> Result<AgentSpec, String> {
    let port = match opt(s, "agent-port") {
        Some(v) => v
            .parse::<u16>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| invalid(&s.origin, &format!("invalid 'agent-port' value '{v}'")))?,
        None => {
            return Err(format!(
                "config : [{}:{}] : 'server {}/{}' : server {} does not have agent port. Agent check has been disabled.",
                s.origin.file, s.origin.line, p.name, s.name, s.name
            ));
        }
    };
    let addr = match opt(s, "agent-addr") {
        None => None,
        Some(v) => Some(resolve_ip(v).ok_or_else(|| {
            invalid(&s.origin, &format!("could not resolve agent address '{v}'"))
        })?),
    };
    // HAProxy's agent has its own `inter` (2 s unless `agent-inter`);
    // seen on haproxy 2.6.12: `check inter 200` leaves the agent at 2 s.
    let inter = match opt(s, "agent-inter") {
        None => Duration::from_millis(u64::from(DEFAULT_INTER_MS)),
        Some(v) => parse_time(v)
            .map(|ms| Duration::from_millis(u64::from(ms.max(1))))
            .map_err(|_| invalid(&s.origin, &format!("invalid 'agent-inter' value '{v}'")))?,
    };
    Ok(AgentSpec {
        addr,
        port,
        inter,
        rules: Arc::new(protocols::agent(opt(s, "agent-send"))),
    })
}

/// The defaults section `p` inherited from (`from <name>`, else the last
/// one declared before it).
fn defaults_of<'a>(cfg: &'a Config, p: &Proxy) -> Option<&'a Proxy> {
    cfg.defaults_of(p)
}

/// The start-up alert for a check form we do not run (same words as the
/// refusal of unsupported keywords).
fn refuse(o: &Origin, what: &str) -> String {
    format!(
        "config : parsing [{}:{}] : '{what}' is not implemented by Switchyard yet; refusing to start rather than silently ignoring it.",
        o.file, o.line
    )
}

fn invalid(o: &Origin, why: &str) -> String {
    format!("config : parsing [{}:{}] : {why}", o.file, o.line)
}

fn rule_error(o: &Origin, e: RuleError) -> String {
    match e {
        RuleError::Unsupported(what) => refuse(o, &what),
        RuleError::Invalid(why) => invalid(o, &why),
    }
}

/// The check options that pick a check type; the last one wins.
const CHECK_OPTIONS: &[&str] = &[
    "httpchk",
    "tcp-check",
    "redis-check",
    "mysql-check",
    "pgsql-check",
    "smtpchk",
    "ldap-check",
    "ssl-hello-chk",
    "spop-check",
    "external-check",
];

/// The last check-type `option` line of `d` (words after `option`), or
/// `Some(None)` when the last one is a `no option`.
fn last_check_option(d: &[RawRule]) -> Option<(Option<&RawRule>, &str)> {
    d.iter().rev().find_map(|r| {
        let w: Vec<&str> = r.words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["option", o, ..] if CHECK_OPTIONS.contains(o) => Some((Some(r), *o)),
            ["no", "option", o, ..] if CHECK_OPTIONS.contains(o) => Some((None, *o)),
            _ => None,
        }
    })
}

fn check_kind(p: &Proxy, d: Option<&Proxy>) -> Result<CheckKind, String> {
    let found = last_check_option(&p.directives)
        .or_else(|| d.and_then(|d| last_check_option(&d.directives)));
    let Some((Some(rule), name)) = found else {
        return Ok(CheckKind::Tcp);
    };
    let args = &rule.words[2..];
    let o = &rule.origin;
    let rs = match name {
        "httpchk" => return http_kind(p, d, args),
        "tcp-check" => return tcp_kind(p, d),
        "redis-check" => protocols::redis(),
        "ssl-hello-chk" => protocols::ssl_hello(),
        "ldap-check" => protocols::ldap(),
        "smtpchk" => protocols::smtp(args),
        "mysql-check" => protocols::mysql(args).map_err(|e| rule_error(o, e))?,
        "pgsql-check" => protocols::pgsql(args).map_err(|e| rule_error(o, e))?,
        "spop-check" => super::spop::ruleset(),
        other => return Err(refuse(o, &format!("option {other}"))),
    };
    Ok(CheckKind::Rules(Arc::new(rs)))
}

fn lines_of<'a>(d: &'a [RawRule], kw: &str) -> Vec<&'a RawRule> {
    d.iter()
        .filter(|r| r.words.first().is_some_and(|w| w == kw))
        .collect()
}

/// The proxy's own `kw` lines, else the ones of its defaults.
fn own_or_defaults<'a>(p: &'a Proxy, d: Option<&'a Proxy>, kw: &str) -> Vec<&'a RawRule> {
    let own = lines_of(&p.directives, kw);
    if own.is_empty() {
        d.map(|d| lines_of(&d.directives, kw)).unwrap_or_default()
    } else {
        own
    }
}

fn tcp_kind(p: &Proxy, d: Option<&Proxy>) -> Result<CheckKind, String> {
    let rules = own_or_defaults(p, d, "tcp-check");
    if rules.is_empty() {
        return Ok(CheckKind::Tcp);
    }
    let words: Vec<&[String]> = rules.iter().map(|r| &r.words[1..]).collect();
    match tcpcheck::parse_lines(&words) {
        Ok(rs) => Ok(CheckKind::Rules(Arc::new(rs))),
        Err(e) => {
            // Point at the offending line: re-parse prefixes to find it.
            let mut at = rules[0];
            for n in 1..=rules.len() {
                if tcpcheck::parse_lines(&words[..n]).is_err() {
                    at = rules[n - 1];
                    break;
                }
            }
            Err(rule_error(&at.origin, e))
        }
    }
}

fn http_kind(p: &Proxy, d: Option<&Proxy>, args: &[String]) -> Result<CheckKind, String> {
    let mut c = http::from_option(args);
    let rules = own_or_defaults(p, d, "http-check");
    let mut sends = 0;
    let mut seen_other = false;
    for r in rules {
        let sub = r.words.get(1).map(String::as_str).unwrap_or_default();
        let what = format!("http-check {sub}");
        match sub {
            "send" => {
                sends += 1;
                seen_other = true;
                if sends > 1 {
                    return Err(refuse(&r.origin, "http-check send (more than one)"));
                }
                http::apply_send(&mut c, &r.words[2..]).map_err(|e| rule_error(&r.origin, e))?;
            }
            "expect" => {
                seen_other = true;
                let e = http::parse_expect(&r.words[2..]).map_err(|e| rule_error(&r.origin, e))?;
                c.expects.push(e);
            }
            "connect" => {
                if seen_other || c.connect.is_some() {
                    return Err(refuse(
                        &r.origin,
                        "http-check connect (more than one, or after another rule)",
                    ));
                }
                let (cn, _) = tcpcheck::parse_connect("http-check", &r.words[2..])
                    .map_err(|e| rule_error(&r.origin, e))?;
                c.connect = Some(cn);
            }
            "comment" => {}
            v if v.starts_with("set-var") || v.starts_with("unset-var") => {
                let a = super::lf::parse_var_action("http-check", &r.words[1..]).map_err(
                    |(u, e)| {
                        if u {
                            refuse(&r.origin, &e)
                        } else {
                            invalid(&r.origin, &e)
                        }
                    },
                )?;
                c.vars.push(a);
            }
            "disable-on-404" => c.disable_on_404 = true,
            "send-state" => c.send_state = true,
            _ => {
                return Err(refuse(&r.origin, &what));
            }
        }
    }
    Ok(CheckKind::Http(Arc::new(c)))
}

fn opt<'a>(s: &'a Server, k: &str) -> Option<&'a str> {
    s.options
        .iter()
        .rev()
        .find(|(n, _)| n == k)
        .and_then(|(_, a)| a.first())
        .map(String::as_str)
}

fn server_spec(p: &Proxy, idx: usize, s: &Server, kind: CheckKind) -> Result<CheckSpec, String> {
    let time = |k: &str| -> Result<Option<Duration>, String> {
        match opt(s, k) {
            None => Ok(None),
            Some(v) => parse_time(v)
                .map(|ms| Some(Duration::from_millis(u64::from(ms.max(1)))))
                .map_err(|_| invalid(&s.origin, &format!("invalid '{k}' value '{v}'"))),
        }
    };
    let count = |k: &str, def: u32| -> Result<u32, String> {
        match opt(s, k) {
            None => Ok(def),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| invalid(&s.origin, &format!("invalid '{k}' value '{v}'"))),
        }
    };
    let inter = time("inter")?.unwrap_or(Duration::from_millis(u64::from(DEFAULT_INTER_MS)));
    let port = match opt(s, "port") {
        None => None,
        Some(v) => Some(
            v.parse::<u16>()
                .map_err(|_| invalid(&s.origin, &format!("invalid check port '{v}'")))?,
        ),
    };
    let addr = match opt(s, "addr") {
        None => None,
        Some(v) => Some(resolve_ip(v).ok_or_else(|| {
            invalid(&s.origin, &format!("could not resolve check address '{v}'"))
        })?),
    };
    let observe = observe::parse(opt(s, "observe"), opt(s, "on-error"), opt(s, "error-limit"))
        .map_err(|why| {
            format!(
                "config : [{}:{}] : 'server {}/{}' : {why}.",
                s.origin.file, s.origin.line, p.name, s.name
            )
        })?;
    let source = crate::upstream::source::of(&s.options, p).map_err(|e| invalid(&s.origin, &e))?;
    Ok(CheckSpec {
        source,
        server: idx,
        server_name: s.name.clone(),
        addr,
        port,
        rise: count("rise", DEFAULT_RISE)?,
        fall: count("fall", DEFAULT_FALL)?,
        intervals: Intervals {
            inter,
            fastinter: time("fastinter")?,
            downinter: time("downinter")?,
        },
        timeout_connect: crate::upstream::ms(p.timeouts.connect),
        timeout_check: crate::upstream::ms(p.timeouts.check),
        kind,
        enabled: true,
        send_proxy: flag(s, "check-send-proxy", "no-check-send-proxy"),
        agent: None,
        log_health_checks: false,
        spread_pct: 0,
        max_spread: None,
        observe,
        tls: Arc::new(CheckTls::default()),
    })
}

fn resolve_ip(v: &str) -> Option<IpAddr> {
    let h = v.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse() {
        return Some(ip);
    }
    (h, 0).to_socket_addrs().ok()?.next().map(|a| a.ip())
}

#[cfg(test)]
mod tests;
