//! What to check for each server, read from the resolved IR.
//!
//! Owns: the per-server parameters (`inter`, `fastinter`, `downinter`,
//! `rise`, `fall`, `port`, `addr`), the proxy's `timeout check` /
//! `timeout connect`, and the check kind (plain TCP connect or HTTP).
//! Refuses, by name, the check forms Switchyard does not run. Must not do
//! I/O beyond resolving a check `addr` given as a host name.

use super::fsm::Intervals;
use super::http::{self, HttpCheck, RuleError};
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
        let mut checks = Vec::new();
        for (i, s) in p.servers.iter().enumerate() {
            if !s.check || s.disabled || s.track.is_some() {
                continue;
            }
            checks.push(server_spec(p, i, s, kind.clone())?);
        }
        if !checks.is_empty() {
            out.push(BackendPlan {
                name: p.name.clone(),
                checks,
            });
        }
    }
    Ok(out)
}

/// The defaults section `p` inherited from: the last one declared before
/// it in the same file (named `from` references are not tracked in the IR;
/// this approximation picks the preceding section).
fn defaults_of<'a>(cfg: &'a Config, p: &Proxy) -> Option<&'a Proxy> {
    cfg.defaults
        .iter()
        .filter(|d| d.origin.file == p.origin.file && d.origin.line < p.origin.line)
        .max_by_key(|d| d.origin.line)
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

fn is_kw(r: &RawRule, a: &str, b: &str) -> bool {
    r.words.first().is_some_and(|w| w == a) && r.words.get(1).is_some_and(|w| w == b)
}

fn check_kind(p: &Proxy, d: Option<&Proxy>) -> Result<CheckKind, String> {
    if !p.option("httpchk") {
        return Ok(CheckKind::Tcp);
    }
    let own_opt = p
        .directives
        .iter()
        .rev()
        .find(|r| is_kw(r, "option", "httpchk"));
    let opt = own_opt.or_else(|| {
        d.and_then(|d| {
            d.directives
                .iter()
                .rev()
                .find(|r| is_kw(r, "option", "httpchk"))
        })
    });
    let mut c = opt.map_or_else(HttpCheck::default, |r| http::from_option(&r.words[2..]));
    // `http-check` rules: the proxy's own, else the ones of its defaults.
    let own: Vec<&RawRule> = http_check_lines(&p.directives);
    let rules = if own.is_empty() {
        d.map(|d| http_check_lines(&d.directives))
            .unwrap_or_default()
    } else {
        own
    };
    let mut sends = 0;
    for r in rules {
        let sub = r.words.get(1).map(String::as_str).unwrap_or_default();
        let what = format!("http-check {sub}");
        match sub {
            "send" => {
                sends += 1;
                if sends > 1 {
                    return Err(refuse(&r.origin, "http-check send (more than one)"));
                }
                http::apply_send(&mut c, &r.words[2..]).map_err(|e| rule_error(&r.origin, e))?;
            }
            "expect" => {
                let e = http::parse_expect(&r.words[2..]).map_err(|e| rule_error(&r.origin, e))?;
                c.expects.push(e);
            }
            _ => {
                return Err(refuse(&r.origin, &what));
            }
        }
    }
    Ok(CheckKind::Http(Arc::new(c)))
}

fn http_check_lines(d: &[RawRule]) -> Vec<&RawRule> {
    d.iter()
        .filter(|r| r.words.first().is_some_and(|w| w == "http-check"))
        .collect()
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
    Ok(CheckSpec {
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
