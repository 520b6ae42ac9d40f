//! The HTTP stats page (`stats enable`, `stats uri`, `stats auth`, ...)
//! served by a proxy itself, like HAProxy's stats applet.
//!
//! Owns: reading a proxy's `stats` lines into a [`Conf`], matching a
//! request URI against `stats uri`, Basic auth ([`auth`]), and rendering
//! the answer: `;csv` (the `show stat` text) or the HTML page ([`html`]).
//! Must not change state (no `stats admin`) nor touch session I/O: it only
//! returns the bytes to send.

pub mod auth;
pub mod html;

use super::Stats;
use super::csv::{Filter, show_stat};
use crate::config::ir::{Config, Proxy};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// HAProxy's default `stats uri`.
pub const DEFAULT_URI: &str = "/haproxy?stats";
/// HAProxy's default `stats realm`.
pub const DEFAULT_REALM: &str = "HAProxy Statistics";

/// The process's stats view, installed once the frontends are running.
static STATS: OnceLock<Arc<Stats>> = OnceLock::new();

/// Makes `st` the view every stats page reads (first call wins).
pub fn install(st: Arc<Stats>) {
    let _ = STATS.set(st);
}

/// One proxy's stats page settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conf {
    pub uri: String,
    pub realm: String,
    /// `user:pass` pairs; empty means no authentication.
    pub users: Vec<String>,
    pub refresh: Option<Duration>,
    pub hide_version: bool,
    /// `stats show-node [name]`: the name to print.
    pub node: Option<String>,
    /// `stats show-desc [text]`: the description to print.
    pub desc: Option<String>,
}

impl Conf {
    /// Reads `p.stats` (words after `stats`); `None` when the page is not
    /// enabled (`enable`, `uri`, `auth`, `realm`, `refresh`... imply it, as
    /// they do in HAProxy).
    pub fn from_proxy(p: &Proxy, cfg: &Config) -> Option<Conf> {
        let mut c = Conf {
            uri: DEFAULT_URI.into(),
            realm: DEFAULT_REALM.into(),
            users: Vec::new(),
            refresh: None,
            hide_version: false,
            node: None,
            desc: None,
        };
        let mut enabled = false;
        for r in &p.stats {
            let w = &r.words;
            let arg = w.get(1).cloned();
            match w.first().map(String::as_str) {
                Some("enable") => enabled = true,
                Some("uri") => {
                    enabled = true;
                    if let Some(u) = arg {
                        c.uri = u;
                    }
                }
                Some("realm") => {
                    enabled = true;
                    if let Some(r) = arg {
                        c.realm = r;
                    }
                }
                Some("auth") => {
                    enabled = true;
                    c.users.extend(arg);
                }
                Some("refresh") => {
                    enabled = true;
                    c.refresh = arg.as_deref().and_then(refresh_time);
                }
                Some("hide-version") => {
                    enabled = true;
                    c.hide_version = true;
                }
                Some("show-node") => {
                    enabled = true;
                    c.node = Some(arg.unwrap_or_else(|| global_word(cfg, "node")));
                }
                Some("show-desc") => {
                    enabled = true;
                    c.desc = Some(match w.len() {
                        1 => global_word(cfg, "description"),
                        _ => w[1..].join(" "),
                    });
                }
                _ => {}
            }
        }
        enabled.then_some(c)
    }
}

/// `stats refresh` delay: seconds by default, HAProxy's time units accepted.
fn refresh_time(s: &str) -> Option<Duration> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().map(Duration::from_secs);
    }
    super::parse_time(s)
}

/// A global one-word setting (`node`, `description`), else the host name.
fn global_word(cfg: &Config, kw: &str) -> String {
    let found = cfg
        .global
        .directives
        .iter()
        .rev()
        .find(|d| d.words.first().is_some_and(|w| w == kw));
    match found {
        Some(d) if d.words.len() > 1 => d.words[1..].join(" "),
        _ if kw == "node" => std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// A request as the page needs it.
#[derive(Debug, Clone, Copy)]
pub struct Req<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub authorization: Option<&'a [u8]>,
    /// The client connection closes after this answer.
    pub close: bool,
}

/// The part of `uri` HAProxy compares with `stats uri`: the path and
/// query, without scheme and authority for absolute URIs.
fn path_of(uri: &str) -> &str {
    match uri.find("://") {
        Some(i) if !uri.starts_with('/') => {
            let rest = &uri[i + 3..];
            rest.find('/').map_or("", |j| &rest[j..])
        }
        _ => uri,
    }
}

/// The answer to `req` when its URI is under `conf.uri`, else `None`.
pub fn answer(conf: &Conf, req: &Req<'_>) -> Option<Vec<u8>> {
    let path = if conf.uri.starts_with('/') {
        path_of(req.uri)
    } else {
        req.uri
    };
    let rest = path.strip_prefix(conf.uri.as_str())?;
    if !conf.users.is_empty() && !auth::authorized(req.authorization, &conf.users) {
        return Some(auth::unauthorized(&conf.realm, req.close));
    }
    let Some(st) = STATS.get() else {
        return Some(crate::session::http::errors::stream_page(503, req.close));
    };
    Some(render(conf, st, rest, req))
}

/// Renders the page for the URI part after `stats uri`.
pub fn render(conf: &Conf, st: &Stats, rest: &str, req: &Req<'_>) -> Vec<u8> {
    let csv = rest.contains(";csv");
    let norefresh = rest.contains(";norefresh");
    let filter = Filter {
        hide_down: rest.contains(";up"),
        hide_maint: rest.contains(";no-maint"),
        ..Filter::default()
    };
    let (ctype, body) = if csv {
        ("text/plain", show_stat(st, filter))
    } else {
        ("text/html", html::page(conf, st, filter, norefresh))
    };
    let mut out =
        format!("HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: {ctype}\r\n");
    if let Some(r) = conf.refresh.filter(|_| !norefresh) {
        out.push_str(&format!("refresh: {}\r\n", r.as_secs()));
    }
    let head = req.method == "HEAD";
    if !head {
        out.push_str("transfer-encoding: chunked\r\n");
    }
    if req.close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    if !head {
        if !body.is_empty() {
            out.push_str(&format!("{:x}\r\n{body}\r\n", body.len()));
        }
        out.push_str("0\r\n\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests;
