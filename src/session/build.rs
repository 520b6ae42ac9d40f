//! Compiling the resolved IR into live frontends and routes.
//!
//! Owns: which rules run where (frontend vs backend role, `listen`
//! proxies), option lookups (`forwardfor`, `http-server-close`,
//! `httpclose`), timeout defaults. Errors name the proxy and are fatal at
//! startup. Must not open sockets.

use super::acl::{AclSet, Cond};
use super::rules::{self, Phase};
use super::{ForwardFor, Frontend, Route, Switch};
use crate::config::ir::{Config, Proxy, ProxyKind};
use crate::upstream::{Backend, ms};
use std::collections::HashMap;
use std::sync::Arc;

fn words(lines: &[crate::config::ir::RawRule]) -> Vec<Vec<String>> {
    lines.iter().map(|r| r.words.clone()).collect()
}

/// `option forwardfor [except <net>] [header <name>] [if-none]`.
fn forwardfor(p: &Proxy) -> Result<Option<ForwardFor>, String> {
    if !p.option("forwardfor") {
        return Ok(None);
    }
    let mut ff = ForwardFor {
        header: "x-forwarded-for".into(),
        if_none: false,
        except: None,
    };
    let line = p.directives.iter().rev().find(|d| {
        d.words.first().is_some_and(|w| w == "option")
            && d.words.get(1).is_some_and(|w| w == "forwardfor")
    });
    if let Some(l) = line {
        let mut i = 2;
        while i < l.words.len() {
            match l.words[i].as_str() {
                "header" => {
                    ff.header = l
                        .words
                        .get(i + 1)
                        .map(|h| h.to_ascii_lowercase())
                        .unwrap_or(ff.header);
                    i += 1;
                }
                "except" => {
                    let net = l.words.get(i + 1).cloned().unwrap_or_default();
                    let w = ["if", "!", "{", "src", net.as_str(), "}"].map(str::to_string);
                    ff.except = Cond::compile(&w, &AclSet::default())?;
                    i += 1;
                }
                "if-none" => ff.if_none = true,
                _ => {}
            }
            i += 1;
        }
    }
    Ok(Some(ff))
}

fn route(p: &Proxy, acls: &AclSet, cfg: &Config) -> Result<Route, String> {
    let lines = words(&p.rules);
    let req_rules = if p.kind == ProxyKind::Listen {
        Vec::new()
    } else {
        let r = rules::compile_in(&lines, Phase::Request, acls, &p.name)?;
        let buffered = p.option("http-buffer-request");
        rules::buffering(buffered, ms(p.timeouts.http_request), r)
    };
    Ok(Route {
        be: Arc::new(Backend::try_from_ir(p, cfg)?),
        persist: crate::upstream::persist::compile_rules(p, |w| Cond::compile(w, acls))?,
        tcp_rules: Arc::new(super::tcp_rules::for_backend(
            &p.rules,
            acls,
            p.kind == ProxyKind::Listen,
        )?),
        req_rules,
        resp_rules: rules::compile_in(&lines, Phase::Response, acls, &p.name)?,
        replies: Arc::new(rules::ProxyReplies::from_proxy(p, cfg)?),
        forwardfor: forwardfor(p)?,
        server_close: p.option("http-server-close"),
        httpclose: p.option("httpclose"),
        tunnel_timeout: ms(p.timeouts.tunnel),
        // A `listen` serves its page from its frontend side.
        stats: if p.kind == ProxyKind::Backend {
            stats_page(p, cfg)?
        } else {
            None
        },
    })
}

/// Builds every enabled frontend with a `bind`, and the routes they use.
pub fn frontends(cfg: &Config) -> Result<Vec<Arc<Frontend>>, String> {
    super::fetch::auth::register_userlists(cfg);
    rules::errsections::register(cfg);
    let mut routes: HashMap<&str, Arc<Route>> = HashMap::new();
    for p in cfg
        .proxies
        .iter()
        .filter(|p| p.kind.has_be() && !p.disabled)
    {
        let acls = AclSet::compile(&words(&p.acls)).map_err(|e| ctx(p, e))?;
        let r = route(p, &acls, cfg).map_err(|e| ctx(p, e))?;
        super::fetch::register_backend(&r.be);
        routes.insert(p.name.as_str(), Arc::new(r));
    }
    let global_maxconn = cfg.global.maxconn.unwrap_or(4096);
    let mut out = Vec::new();
    for p in cfg
        .proxies
        .iter()
        .filter(|p| p.kind.has_fe() && !p.disabled && !p.binds.is_empty())
    {
        let acls = AclSet::compile(&words(&p.acls)).map_err(|e| ctx(p, e))?;
        let lines = words(&p.rules);
        let mut switching = Vec::new();
        for u in &p.use_backends {
            let route = routes.get(u.backend.as_str()).cloned().ok_or_else(|| {
                ctx(
                    p,
                    format!("unable to find required use_backend: '{}'", u.backend),
                )
            })?;
            let cond = Cond::compile(&u.cond, &acls).map_err(|e| ctx(p, e))?;
            switching.push(Switch { cond, route });
        }
        let default = match (&p.default_backend, p.kind) {
            (Some((name, _)), _) => Some(routes.get(name.as_str()).cloned().ok_or_else(|| {
                ctx(
                    p,
                    format!("unable to find required default_backend: '{name}'"),
                )
            })?),
            (None, ProxyKind::Listen) => routes.get(p.name.as_str()).cloned(),
            _ => None,
        };
        let client = ms(p.timeouts.client);
        let http_request = ms(p.timeouts.http_request).or(client);
        let resp_rules = if p.kind == ProxyKind::Listen {
            // Already in the route (same proxy).
            Vec::new()
        } else {
            rules::compile_in(&lines, Phase::Response, &acls, &p.name).map_err(|e| ctx(p, e))?
        };
        out.push(Arc::new(Frontend {
            conn_total: Default::default(),
            counters: Default::default(),
            name: p.name.clone(),
            mode: p.mode,
            maxconn: p.maxconn.filter(|&m| m > 0).unwrap_or(global_maxconn),
            binds: p.binds.clone(),
            client_timeout: client,
            http_request_timeout: http_request,
            keep_alive_timeout: ms(p.timeouts.http_keep_alive).or(http_request),
            req_rules: rules::buffering(
                p.option("http-buffer-request"),
                http_request,
                rules::compile_in(&lines, Phase::Request, &acls, &p.name).map_err(|e| ctx(p, e))?,
            ),
            replies: Arc::new(rules::ProxyReplies::from_proxy(p, cfg).map_err(|e| ctx(p, e))?),
            resp_rules,
            tcp_rules: Arc::new(
                super::tcp_rules::for_frontend(&p.rules, &acls).map_err(|e| ctx(p, e))?,
            ),
            switching,
            default,
            forwardfor: forwardfor(p).map_err(|e| ctx(p, e))?,
            server_close: p.option("http-server-close"),
            httpclose: p.option("httpclose"),
            stats: stats_page(p, cfg).map_err(|e| ctx(p, e))?,
        }));
    }
    Ok(out)
}

/// The stats page of `p` in `mode http` (HAProxy ignores it otherwise).
fn stats_page(p: &Proxy, cfg: &Config) -> Result<Option<Arc<crate::stats::page::Conf>>, String> {
    if p.mode != crate::config::ir::Mode::Http {
        return Ok(None);
    }
    Ok(crate::stats::page::Conf::build(p, cfg)?.map(Arc::new))
}

fn ctx(p: &Proxy, e: String) -> String {
    format!(
        "{} '{}' (declared at {}) : {e}",
        p.kind.name(),
        p.name,
        p.origin
    )
}
