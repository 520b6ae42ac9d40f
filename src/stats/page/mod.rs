//! The HTTP stats page (`stats enable`, `stats uri`, `stats auth`, ...)
//! served by a proxy itself, like HAProxy's stats applet.
//!
//! Owns: reading a proxy's `stats` lines into a [`Conf`], matching a
//! request URI against `stats uri`, Basic auth ([`auth`]), and rendering
//! the answer: `;csv` (the `show stat` text) or the HTML page ([`html`]).
//! `stats http-request` and `stats admin` conditions ([`access`]), the
//! admin form POST ([`admin`], acting through the runtime API commands),
//! `;json`/`;typed` (the `show stat json|typed` text). Must not touch
//! session I/O: it only returns the bytes to send.

pub mod access;
pub mod admin;
pub mod auth;
pub mod html;
pub mod live;
pub mod scoped;

use super::Stats;
use super::csv::{Filter, show_stat};
use crate::config::ir::{Config, Proxy};
use crate::session::acl::AclSet;
use crate::session::fetch::Ctx;
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

/// The installed view, once the frontends run.
pub fn installed() -> Option<&'static Arc<Stats>> {
    STATS.get()
}

/// One proxy's stats page settings.
#[derive(Debug, Clone)]
pub struct Conf {
    /// The proxy serving the page (`stats scope .`).
    pub proxy: String,
    /// `stats scope`: the proxies shown (empty: all).
    pub scope: Vec<String>,
    /// `stats show-legends`.
    pub legends: bool,
    /// `stats http-request` rules and `stats admin` conditions.
    pub access: access::Access,
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
        Self::build(p, cfg).ok().flatten()
    }

    /// [`Conf::from_proxy`] with the `stats admin` / `stats http-request`
    /// conditions compiled against the proxy's ACLs; `Err` for a bad one.
    pub fn build(p: &Proxy, cfg: &Config) -> Result<Option<Conf>, String> {
        let lines: Vec<Vec<String>> = p.acls.iter().map(|r| r.words.clone()).collect();
        let acls = AclSet::compile(&lines)?;
        // A proxy without `stats` lines of its own takes its defaults
        // section's; one line of its own detaches it from them all
        // (HAProxy's `uri_auth`).
        let own = match cfg.defaults_of(p) {
            Some(d) if p.stats.is_empty() => &d.stats,
            _ => &p.stats,
        };
        let stats: Vec<Vec<String>> = own.iter().map(|r| r.words.clone()).collect();
        let access = access::Access::compile(&stats, &acls)?;
        let mut c = Conf {
            proxy: p.name.clone(),
            scope: Vec::new(),
            legends: false,
            access,
            uri: DEFAULT_URI.into(),
            realm: DEFAULT_REALM.into(),
            users: Vec::new(),
            refresh: None,
            hide_version: false,
            node: None,
            desc: None,
        };
        let mut enabled = false;
        for r in own {
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
                Some("scope") => {
                    enabled = true;
                    if let Some(s) = arg {
                        c.scope.push(if s == "." { p.name.clone() } else { s });
                    }
                }
                Some("show-legends") => {
                    enabled = true;
                    c.legends = true;
                }
                Some("admin" | "http-request") => enabled = true,
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
        if !c.access.rules.is_empty()
            && own
                .iter()
                .any(|r| matches!(r.words.first().map(String::as_str), Some("auth" | "realm")))
        {
            return Err(format!(
                "proxy '{}': stats 'auth'/'realm' and 'http-request' can't be used at the same time.",
                p.name
            ));
        }
        Ok(enabled.then_some(c))
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
    /// The request body (a POSTed admin form), when it was read.
    pub body: Option<&'a [u8]>,
    /// The request as the ACLs see it (for `stats admin`/`http-request`).
    pub ctx: Option<&'a Ctx<'a>>,
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

/// The part of `uri` after `conf.uri`, when the request targets the page.
pub fn rest_of<'u>(conf: &Conf, uri: &'u str) -> Option<&'u str> {
    let path = if conf.uri.starts_with('/') {
        path_of(uri)
    } else {
        uri
    };
    path.strip_prefix(conf.uri.as_str())
}

/// The options HAProxy reads after `stats uri` (`;csv`, `;up`...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opts {
    pub csv: bool,
    pub json: bool,
    pub json_schema: bool,
    pub typed: bool,
    pub norefresh: bool,
    pub up: bool,
    pub no_maint: bool,
    /// `;st=<CODE>`: the result of the last admin action.
    pub st: Option<String>,
    /// `scope=<text>` from the page's scope box.
    pub scope: Option<String>,
    /// `;live`: the page updates itself in place ([`live`]).
    pub live: bool,
}

impl Opts {
    pub fn parse(rest: &str) -> Opts {
        let schema = rest.contains(";json-schema");
        Opts {
            csv: rest.contains(";csv"),
            json: !schema && rest.contains(";json"),
            json_schema: schema,
            typed: rest.contains(";typed"),
            norefresh: rest.contains(";norefresh"),
            up: rest.contains(";up"),
            no_maint: rest.contains(";no-maint"),
            live: rest.contains(";live"),
            st: rest.find(";st=").map(|i| {
                rest[i + 4..]
                    .split([';', '&', '?'])
                    .next()
                    .unwrap_or("")
                    .to_string()
            }),
            scope: rest
                .find("scope=")
                .map(|i| admin::url_decode(rest[i + 6..].split([';', '&']).next().unwrap_or(""))),
        }
    }

    /// The options kept in the page's links (`;up`, `;no-maint`,
    /// `;norefresh`, the scope).
    pub fn suffix(&self, norefresh: bool) -> String {
        let mut s = String::new();
        if self.up {
            s.push_str(";up");
        }
        if self.no_maint {
            s.push_str(";no-maint");
        }
        if norefresh {
            s.push_str(";norefresh");
        }
        if let Some(sc) = self.scope.as_ref().filter(|s| !s.is_empty()) {
            s.push_str("&scope=");
            s.push_str(sc);
        }
        s
    }
}

/// Whether proxy `name` is shown: in `stats scope` (when set) and
/// containing the scope box text (case-insensitive), as HAProxy does.
pub fn in_scope(conf: &Conf, opts: &Opts, name: &str) -> bool {
    if !conf.scope.is_empty() && !conf.scope.iter().any(|s| s == name) {
        return false;
    }
    match opts.scope.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => name.to_ascii_lowercase().contains(&s.to_ascii_lowercase()),
        None => true,
    }
}

/// The answer to `req` when its URI is under `conf.uri`, else `None`.
pub fn answer(conf: &Conf, req: &Req<'_>) -> Option<Vec<u8>> {
    let rest = rest_of(conf, req.uri)?;
    let authorized = || auth::authorized(req.authorization, &conf.users);
    match conf.access.decide(req.ctx) {
        Some(access::Act::Allow) => {}
        Some(access::Act::Deny) => {
            return Some(crate::session::http::errors::stream_page(403, req.close));
        }
        Some(access::Act::Auth(realm)) => {
            let realm = realm.as_deref().unwrap_or(&conf.realm);
            return Some(auth::unauthorized(realm, req.close));
        }
        // `stats auth` acts as a last `auth` rule unless the user is known.
        None if !conf.users.is_empty() && !authorized() => {
            return Some(auth::unauthorized(&conf.realm, req.close));
        }
        None => {}
    }
    let Some(st) = STATS.get() else {
        return Some(crate::session::http::errors::stream_page(503, req.close));
    };
    let opts = Opts::parse(rest);
    let admin = conf.access.admin(req.ctx);
    if req.method == "POST" {
        let code = if admin {
            admin::apply(st, req.body.unwrap_or_default())
        } else {
            "DENY"
        };
        let up = if opts.up { ";up" } else { "" };
        return Some(admin::redirect(&conf.uri, code, up, req.close));
    }
    Some(render(conf, st, &opts, admin, req))
}

/// Runs a read-only runtime API command (`show stat json`...).
fn cli_text(st: &Stats, cmd: &str) -> String {
    let mut sess = super::conn::Session {
        level: super::Level::User,
        prompt: false,
    };
    match super::cmd::execute(cmd, &mut sess, st) {
        super::cmd::Reply::Text(t) | super::cmd::Reply::Raw(t) => t,
        super::cmd::Reply::Quit => String::new(),
    }
}

/// Keeps the CSV header and the rows of the proxies in scope.
fn scoped_csv(conf: &Conf, opts: &Opts, csv: String) -> String {
    if conf.scope.is_empty() && opts.scope.as_deref().is_none_or(str::is_empty) {
        return csv;
    }
    let mut out = String::with_capacity(csv.len());
    for (i, l) in csv.lines().enumerate() {
        let px = html::split_csv(l).into_iter().next().unwrap_or_default();
        if i == 0 || in_scope(conf, opts, &px) {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// Renders the page for the options of the URI.
pub fn render(conf: &Conf, st: &Stats, opts: &Opts, admin: bool, req: &Req<'_>) -> Vec<u8> {
    let filter = Filter {
        hide_down: opts.up,
        hide_maint: opts.no_maint,
        ..Filter::default()
    };
    let (ctype, body) = if opts.csv {
        ("text/plain", scoped_csv(conf, opts, show_stat(st, filter)))
    } else if opts.json_schema {
        ("application/json", cli_text(st, "show schema json"))
    } else if opts.json {
        let keep = |px: &str| in_scope(conf, opts, px);
        (
            "application/json",
            scoped::json(&cli_text(st, "show stat json"), keep),
        )
    } else if opts.typed {
        let keep = |px: &str| in_scope(conf, opts, px);
        (
            "text/plain",
            scoped::typed(&cli_text(st, "show stat typed"), keep),
        )
    } else {
        ("text/html", html::page(conf, st, filter, opts, admin))
    };
    let mut out =
        format!("HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: {ctype}\r\n");
    // A `;live` page updates itself: no reload.
    if let Some(r) = conf.refresh.filter(|_| !opts.norefresh && !opts.live) {
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
