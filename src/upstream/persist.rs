//! Server persistence and failover policy of a backend: the `cookie`
//! directive with the servers' cookie values, `option persist`,
//! `use-server`, `force-persist`/`ignore-persist`, `retry-on` and
//! `option redispatch <interval>`.
//!
//! Owns: the per-backend [`Policy`] built from the IR and the ordered
//! rule lists ([`Rules`], generic over the condition type the session
//! layer compiles). Must not evaluate conditions itself (the HTTP session
//! passes a closure) nor connect.

use super::cookie::{self, Candidate, ReqState};
use super::retry::{self, RetryOn};
use super::server::{AdminState, ServerState};
use crate::config::ir::{Mode, Proxy};
use crate::session::http::head::Header;
use std::sync::Arc;

/// What a backend does about persistence and failures.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `cookie` (HTTP backends only).
    pub cookie: Option<cookie::Conf>,
    /// Each server's `cookie` value, by server index.
    pub server_cookies: Vec<Option<String>>,
    /// `option persist`: a cookie keeps designating a down server.
    pub persist: bool,
    pub retry_on: RetryOn,
    /// `option redispatch [<interval>]`, see [`retry::redispatch_interval`].
    pub redispatch: Option<i32>,
    /// `balance url_param <p> check_post`: POST bodies are searched too.
    pub check_post: bool,
}

impl Policy {
    pub fn from_ir(p: &Proxy) -> Result<Policy, String> {
        let cookie = match (&p.cookie, p.mode) {
            (Some(words), Mode::Http) => Some(cookie::Conf::parse(words)?),
            _ => None,
        };
        let server_cookies = p
            .servers
            .iter()
            .map(|s| {
                s.options
                    .iter()
                    .rev()
                    .find(|(k, _)| k == "cookie")
                    .and_then(|(_, v)| v.first().cloned())
            })
            .collect();
        Ok(Policy {
            cookie,
            server_cookies,
            persist: p.option("persist"),
            retry_on: if p.mode == Mode::Http {
                RetryOn::from_directives(&p.directives)
            } else {
                RetryOn::default()
            },
            redispatch: retry::redispatch_interval(p),
            check_post: p.balance.as_ref().is_some_and(|b| {
                b.first().is_some_and(|w| w == "url_param")
                    && b.iter().skip(2).any(|w| w == "check_post")
            }),
        })
    }

    /// The cookie of server `i`.
    pub fn server_cookie(&self, i: usize) -> Option<&str> {
        self.server_cookies.get(i).and_then(|c| c.as_deref())
    }
}

/// HAProxy's `cur_state != STOPPED`: up and not in maintenance (a
/// draining server keeps its persistent clients).
pub fn running(s: &ServerState) -> bool {
    s.is_up() && s.admin_state() != AdminState::Maint && s.addr.is_some() && !s.is_deleted()
}

/// `use-server`, `force-persist` and `ignore-persist` of a backend, in
/// order, with conditions of type `C`.
#[derive(Debug)]
pub struct Rules<C> {
    /// (condition, server index).
    pub use_server: Vec<(Option<C>, usize)>,
    /// (true for `force-persist`, condition).
    pub persist: Vec<(bool, Option<C>)>,
}

impl<C> Default for Rules<C> {
    fn default() -> Self {
        Rules {
            use_server: Vec::new(),
            persist: Vec::new(),
        }
    }
}

impl<C> Rules<C> {
    pub fn is_empty(&self) -> bool {
        self.use_server.is_empty() && self.persist.is_empty()
    }
}

/// The persistence decision for one request.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// The server the request must go to (cookie or `use-server`).
    pub server: Option<Arc<ServerState>>,
    /// HAProxy's `SF_DIRECT`: sent where the client asked.
    pub direct: bool,
    /// `force-persist` matched.
    pub force: bool,
    /// `ignore-persist` matched.
    pub ignore: bool,
    pub cookie: ReqState,
}

/// Runs the persist rules (`force-persist`/`ignore-persist`, first match
/// wins), then `use-server` (first matching rule whose server is running,
/// or any with `option persist`/`force-persist`). `holds` evaluates a
/// condition on the request.
pub fn decide_rules<C>(
    servers: &[Arc<ServerState>],
    policy: &Policy,
    rules: &Rules<C>,
    holds: impl Fn(&Option<C>) -> bool,
) -> Decision {
    let mut d = Decision::default();
    if let Some((force, _)) = rules.persist.iter().find(|(_, c)| holds(c)) {
        if *force {
            d.force = true;
        } else {
            d.ignore = true;
        }
    }
    for (c, i) in &rules.use_server {
        if !holds(c) {
            continue;
        }
        let Some(s) = servers.get(*i) else { continue };
        if running(s) || policy.persist || d.force {
            d.server = Some(s.clone());
            d.direct = true;
            break;
        }
    }
    d
}

/// Reads the client's `Cookie` header values (rewritten in place; an
/// emptied one must be removed by the caller) after [`decide_rules`].
/// `now`: seconds since the epoch.
pub fn apply_cookies<'h>(
    d: &mut Decision,
    servers: &[Arc<ServerState>],
    policy: &Policy,
    cookie_headers: impl Iterator<Item = &'h mut Vec<u8>>,
    now: u32,
) {
    let Some(ck) = &policy.cookie else { return };
    let cands: Vec<Candidate<'_>> = servers
        .iter()
        .enumerate()
        .map(|(i, s)| Candidate {
            // A deleted server's cookie designates nothing any more.
            cookie: policy.server_cookie(i).filter(|_| !s.is_deleted()),
            running: running(s),
        })
        .collect();
    let keep_down = policy.persist || d.force;
    let assigned = d.server.is_some();
    for h in cookie_headers {
        ck.on_request_header(
            h,
            &cands,
            d.ignore || assigned,
            keep_down,
            now,
            &mut d.cookie,
        );
    }
    if !assigned && let Some(i) = d.cookie.server {
        d.server = servers.get(i).cloned();
        d.direct = d.server.is_some();
    }
}

/// The response side of cookie persistence for a response from `srv`:
/// the server's own `Set-Cookie` handled per the mode, ours inserted when
/// due, then `Cache-control: private` with `nocache` on a cacheable
/// exchange. `direct`: the request reached the server its cookie (or a
/// `use-server` rule) designated.
#[allow(clippy::too_many_arguments)]
pub fn on_response(
    policy: &Policy,
    d: &Decision,
    servers: &[Arc<ServerState>],
    srv: &Arc<ServerState>,
    direct: bool,
    method: &str,
    req_headers: &[Header],
    status: u16,
    headers: &mut Vec<Header>,
    now: u32,
) {
    let Some(ck) = &policy.cookie else { return };
    if status < 200 && status != 101 {
        return;
    }
    let idx = servers.iter().position(|s| Arc::ptr_eq(s, srv));
    let srv_cookie = idx.and_then(|i| policy.server_cookie(i));
    let mut found = false;
    if !d.ignore {
        headers.retain_mut(|h| {
            if h.name != "set-cookie" {
                return true;
            }
            match ck.on_set_cookie(&mut h.value, srv_cookie, direct) {
                None => {
                    found = true;
                    false
                }
                Some(f) => {
                    found |= f;
                    true
                }
            }
        });
    }
    if d.ignore || !ck.must_insert(&d.cookie, direct, found, method == "POST", now) {
        return;
    }
    let cacheable = ck.nocache
        && cookie::cacheable(
            method,
            req_headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_slice())),
            status,
            headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_slice())),
        );
    headers.push(Header {
        name: "set-cookie".into(),
        value: ck.set_cookie(srv_cookie, &d.cookie, now).into_bytes(),
    });
    if cacheable {
        headers.push(Header {
            name: "cache-control".into(),
            value: b"private".to_vec(),
        });
    }
}

/// Seconds since the epoch (HAProxy's `date.tv_sec`).
pub fn now_secs() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

/// Compiles the proxy's `use-server`, `force-persist` and `ignore-persist`
/// lines with `compile` (the session's condition compiler). A server
/// named by a log-format expression is refused (not implemented).
pub fn compile_rules<C>(
    p: &Proxy,
    compile: impl Fn(&[String]) -> Result<Option<C>, String>,
) -> Result<Rules<C>, String> {
    let mut r = Rules::default();
    for d in &p.directives {
        let w = &d.words;
        match w.first().map(String::as_str) {
            Some("use-server") => {
                let name = w.get(1).map(String::as_str).unwrap_or("");
                let Some(i) = p.servers.iter().position(|s| s.name == name) else {
                    return Err(format!(
                        "parsing [{}] : use-server: server '{name}' not found or dynamic server names are not supported",
                        d.origin
                    ));
                };
                r.use_server.push((compile(&w[2..])?, i));
            }
            Some(k @ ("force-persist" | "ignore-persist")) => {
                r.persist.push((k == "force-persist", compile(&w[1..])?));
            }
            _ => {}
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ir::{Origin, ProxyKind, RawRule, Server};

    fn proxy(lines: &[&str]) -> Proxy {
        let mut p = Proxy::new("b", ProxyKind::Backend, Origin::default());
        p.mode = Mode::Http;
        for n in ["a", "b"] {
            p.servers.push(Server {
                origin: Origin::default(),
                name: n.into(),
                addr: "127.0.0.1:1".into(),
                host: None,
                ip: Some("127.0.0.1".into()),
                port: Some(1),
                weight: 1,
                backup: false,
                check: false,
                disabled: false,
                maxconn: None,
                track: None,
                options: vec![("cookie".into(), vec![format!("c{n}")])],
            });
        }
        for l in lines {
            p.directives.push(RawRule {
                origin: Origin::default(),
                words: l.split_whitespace().map(str::to_string).collect(),
            });
        }
        p
    }

    fn states(up: [bool; 2]) -> Vec<Arc<ServerState>> {
        up.iter()
            .enumerate()
            .map(|(i, &u)| {
                let s = ServerState::new(&format!("s{i}"), "127.0.0.1:1".parse().ok(), 1, false);
                s.set_up(u);
                Arc::new(s)
            })
            .collect()
    }

    /// Conditions are plain booleans here.
    fn rules(p: &Proxy) -> Rules<bool> {
        compile_rules(p, |w| Ok(w.get(1).map(|v| v == "true"))).expect("rules")
    }

    #[test]
    fn use_server_skips_a_down_server_unless_persist() {
        let p = proxy(&["use-server a if true", "use-server b if true"]);
        let pol = Policy::from_ir(&p).expect("policy");
        let r = rules(&p);
        let holds = |c: &Option<bool>| c.unwrap_or(true);
        let d = decide_rules(&states([false, true]), &pol, &r, holds);
        assert_eq!(d.server.map(|s| s.name.clone()).as_deref(), Some("s1"));
        let mut pol2 = pol.clone();
        pol2.persist = true;
        let d = decide_rules(&states([false, true]), &pol2, &r, holds);
        assert_eq!(d.server.map(|s| s.name.clone()).as_deref(), Some("s0"));
        assert!(d.direct);
        assert!(compile_rules(&proxy(&["use-server nope if true"]), |_| Ok(Some(true))).is_err());
    }

    #[test]
    fn cookie_designates_and_ignore_persist_skips_it() {
        let mut p = proxy(&["ignore-persist if true"]);
        p.cookie = Some(vec!["SRV".into(), "insert".into()]);
        let pol = Policy::from_ir(&p).expect("policy");
        let sv = states([true, true]);
        let mut v = b"SRV=cb".to_vec();
        let mut d = decide_rules(&sv, &pol, &Rules::<bool>::default(), |_| true);
        apply_cookies(&mut d, &sv, &pol, std::iter::once(&mut v), 0);
        assert_eq!(d.server.map(|s| s.name.clone()).as_deref(), Some("s1"));
        let mut d = decide_rules(&sv, &pol, &rules(&p), |c| c.unwrap_or(true));
        assert!(d.ignore);
        apply_cookies(&mut d, &sv, &pol, std::iter::once(&mut v), 0);
        assert!(d.server.is_none());
    }
}
