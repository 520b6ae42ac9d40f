//! Post-parse validity checks (HAProxy's check_config_validity subset) and
//! server address resolution. Runs only when parsing found no error.
//!
//! Owns: cross-reference checks (backends, tracked servers, modes),
//! configuration warnings that need the whole proxy, and the final
//! `Failed to initialize server(s) addr.` verdict.

use super::Checker;
use super::kw;
use crate::config::diag::{Diagnostic, Level};
use crate::config::ir::{Mode, Proxy, ProxyKind};

const TIMEOUT_HINT: &str = "\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.";

fn kind_name(p: &Proxy) -> &'static str {
    match p.kind {
        ProxyKind::Listen => "proxy",
        k => k.name(),
    }
}

pub(super) fn run(c: &mut Checker<'_>) {
    if !c.other.programs.is_empty() && !c.cfg.global.master_worker {
        c.alert_plain(
            "program-needs-mw",
            "Can't use a 'program' section without master worker mode.",
        );
    }
    // Taken out while checking so diagnostics can be pushed without cloning.
    let proxies = std::mem::take(&mut c.cfg.proxies);
    for p in &proxies {
        if p.disabled {
            continue;
        }
        let kname = kind_name(p);
        unknown_http_errors(c, p);
        reply_errorfiles(c, p);
        if p.kind == ProxyKind::Frontend && p.binds.is_empty() {
            c.warn_plain(
                "no-bind",
                format!(
                    "{kname} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.",
                    p.name
                ),
            );
        }
        // default_backend
        if p.kind.has_fe() {
            if let Some((be, _)) = p
                .default_backend
                .as_ref()
                .filter(|(b, _)| !b.contains("%["))
            {
                check_target(
                    c,
                    &proxies,
                    p,
                    be,
                    "default_backend",
                    "as its default backend",
                );
            }
            for ub in &p.use_backends {
                if ub.backend.contains("%[") {
                    continue;
                }
                check_target(
                    c,
                    &proxies,
                    p,
                    &ub.backend,
                    "use_backend",
                    "in a 'use_backend' rule",
                );
            }
        }
        if let Some(msg) = super::gaps::stats_auth_mix(p) {
            c.alert_plain("stats-auth-and-rules", msg);
        }
        if let Some(msg) = super::gaps::unresolved_args(&c.cfg, p, &proxies) {
            c.alert_plain("unresolved-args", msg);
        }
        // servers: duplicates and tracking
        for (si, s) in p.servers.iter().enumerate() {
            if let Some(prev) = p.servers[..si].iter().find(|o| o.name == s.name) {
                let msg = format!(
                    "{} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                    p.kind.name(),
                    p.name,
                    s.name,
                    prev.origin.line
                );
                c.diags.push(Diagnostic::at(
                    Level::Alert,
                    "duplicate-server",
                    &s.origin.file,
                    s.origin.line,
                    msg,
                ));
                c.failed = true;
            }
            if let Some(t) = &s.track {
                let (bname, sname) = match t.split_once('/') {
                    Some((b, s)) => (b.to_string(), s.to_string()),
                    None => (p.name.clone(), t.clone()),
                };
                let who = format!("'server {}/{}'", p.name, s.name);
                let target = proxies.iter().find(|x| x.name == bname && x.kind.has_be());
                let err = match target {
                    None => Some(format!(
                        "{who} : unable to find required proxy '{bname}' for tracking."
                    )),
                    Some(tp) => match tp.servers.iter().find(|x| x.name == sname) {
                        None => Some(format!(
                            "{who} : unable to find required server '{sname}' for tracking."
                        )),
                        Some(ts)
                            if !ts.check && !has_opt(ts, "agent-check") && ts.track.is_none() =>
                        {
                            Some(format!(
                                "{who} : unable to use {bname}/{sname} for tracking as it does not have any check nor agent enabled."
                            ))
                        }
                        _ => None,
                    },
                };
                if let Some(e) = err {
                    c.diags.push(Diagnostic::bracket(
                        Level::Alert,
                        "bad-track",
                        &s.origin.file,
                        s.origin.line,
                        e,
                    ));
                    c.failed = true;
                }
            }
            // TLS (traffic or checks) verifying without a CA file.
            if p.kind.has_be() && crate::health::ssl::missing_ca(&c.cfg, p, s) {
                c.diags.push(Diagnostic::bracket(
                    Level::Alert,
                    "verify-no-ca",
                    &s.origin.file,
                    s.origin.line,
                    format!(
                        "'server {}/{}' : {}",
                        p.name,
                        s.name,
                        crate::health::ssl::NO_CA
                    ),
                ));
                c.failed = true;
            }
        }
        // HTTP-only features in TCP proxies.
        if p.mode != Mode::Http {
            if let (true, Some(o)) = (p.kind.has_fe(), &p.httplog_origin) {
                // HAProxy reports it at the last line that parsed sample
                // arguments in this proxy (its conf.args position).
                let line = p
                    .rules
                    .iter()
                    .chain(p.acls.iter())
                    .map(|r| r.origin.line)
                    .chain(p.use_backends.iter().map(|u| u.origin.line))
                    .filter(|&ln| ln >= o.line)
                    .max()
                    .unwrap_or(o.line);
                let opt = if p.option("httpslog") {
                    "httpslog"
                } else {
                    "httplog"
                };
                c.diags.push(Diagnostic::at(
                    Level::Warning,
                    "needs-http",
                    &o.file,
                    line,
                    format!(
                        "'option {opt}' not usable with {} '{}' (needs 'mode http'). Falling back to 'option tcplog'.",
                        p.kind.name(),
                        p.name
                    ),
                ));
            }
            if p.has_log_format && !p.has_log && p.kind.has_fe() {
                c.warn_plain(
                    "log-format-no-log",
                    format!(
                        "log format ignored for {kname} '{}' since it has no log address.",
                        p.name
                    ),
                );
            }
            let has = |w: &str| {
                p.rules
                    .iter()
                    .any(|r| r.words.first().map(String::as_str) == Some(w))
            };
            for (w, what) in [
                ("http-request", "'http-request' rules"),
                ("http-response", "'http-response' rules"),
                ("http-after-response", "'http-after-response' rules"),
                ("redirect", "'redirect' rules"),
            ] {
                if has(w) {
                    c.warn_plain(
                        "needs-http",
                        format!(
                            "{what} ignored for {kname} '{}' as they require HTTP mode.",
                            p.name
                        ),
                    );
                }
            }
            if p.option("forwardfor") {
                c.warn_plain(
                    "needs-http",
                    format!(
                        "'option forwardfor' ignored for {kname} '{}' as it requires HTTP mode.",
                        p.name
                    ),
                );
            }
            if p.option("originalto") {
                c.warn_plain(
                    "needs-http",
                    format!(
                        "'option originalto' ignored for {kname} '{}' as it requires HTTP mode.",
                        p.name
                    ),
                );
            }
            if p.kind.has_be() && p.cookie.is_some() {
                c.warn_plain(
                    "needs-http",
                    format!(
                        "cookie will be ignored for {kname} '{}' (needs 'mode http').",
                        p.name
                    ),
                );
            }
            if p.kind.has_be() {
                for s in &p.servers {
                    if has_opt(s, "cookie") {
                        c.warn_plain(
                            "needs-http",
                            format!(
                                "{} '{}' : ignoring cookie for server '{}' as HTTP mode is disabled.",
                                p.kind.name(),
                                p.name,
                                s.name
                            ),
                        );
                    }
                }
            }
        }
        // Missing timeouts.
        if p.mode != Mode::Log {
            let t = &p.timeouts;
            let fe_missing = p.kind.has_fe() && t.client.unwrap_or(0) == 0;
            let be_missing =
                p.kind.has_be() && (t.connect.unwrap_or(0) == 0 || t.server.unwrap_or(0) == 0);
            if fe_missing || be_missing {
                c.warn_plain(
                    "missing-timeouts",
                    format!("missing timeouts for {kname} '{}'.{TIMEOUT_HINT}", p.name),
                );
            }
        }
    }
    c.cfg.proxies = proxies;
    if c.failed {
        c.diags.push(Diagnostic::plain(
            Level::Alert,
            "fatal",
            "Fatal errors found in configuration.",
        ));
        return;
    }
    resolve_servers(c);
}

fn has_opt(s: &crate::config::ir::Server, k: &str) -> bool {
    s.options.iter().any(|(o, _)| o == k)
}

fn check_target(
    c: &mut Checker<'_>,
    proxies: &[Proxy],
    p: &Proxy,
    be: &str,
    what: &str,
    how: &str,
) {
    let target = proxies.iter().find(|x| x.name == be && x.kind.has_be());
    match target {
        None => {
            c.alert_plain(
                "unknown-backend",
                format!(
                    "Proxy '{}': unable to find required {what}: '{be}'.",
                    p.name
                ),
            );
        }
        Some(t) if t.name == p.name && t.kind == p.kind => {
            c.alert_plain(
                "self-backend",
                format!("Proxy '{}': {what} cannot point to itself.", p.name),
            );
        }
        // An HTTP frontend cannot hand its traffic to a TCP backend (the
        // reverse is an upgrade HAProxy allows).
        Some(t) if p.mode == Mode::Http && t.mode == Mode::Tcp => {
            c.alert_plain(
                "mode-mismatch",
                format!(
                    "{} {} '{}' ({}) tries to use incompatible {} {} '{}' ({}) {how} (see 'mode').",
                    p.mode.name(),
                    kind_name(p),
                    p.name,
                    p.origin,
                    t.mode.name(),
                    kind_name(t),
                    t.name,
                    t.origin
                ),
            );
        }
        Some(_) => {}
    }
}

/// Resolves server host names like HAProxy does at start-up (libc).
fn resolve_servers(c: &mut Checker<'_>) {
    let mut failed = false;
    let mut proxies = std::mem::take(&mut c.cfg.proxies);
    for p in proxies.iter_mut() {
        if p.disabled {
            continue;
        }
        let pname = p.name.clone();
        for s in p.servers.iter_mut() {
            let Some(host) = s.host.clone() else { continue };
            let init_addr: Vec<String> = s
                .options
                .iter()
                .find(|(k, _)| k == "init-addr")
                .and_then(|(_, a)| a.first().cloned())
                .map(|v| v.split(',').map(str::to_string).collect())
                .unwrap_or_else(|| vec!["last".into(), "libc".into()]);
            let mut resolved = None;
            // Servers attached to `resolvers` may start unresolved (disabled).
            let mut allow_none = c.opts.ignore_resolve_failures || has_opt(s, "resolvers");
            for m in &init_addr {
                match m.as_str() {
                    "libc" => {
                        resolved = kw::resolve_host(&host);
                        if resolved.is_some() {
                            break;
                        }
                    }
                    "none" => {
                        allow_none = true;
                        break;
                    }
                    ip => {
                        if let Ok(a) = ip.parse::<std::net::IpAddr>() {
                            resolved = Some(a.to_string());
                            break;
                        }
                    }
                }
            }
            let who = format!("'server {}/{}'", pname, s.name);
            match resolved {
                Some(ip) => s.ip = Some(ip),
                None if allow_none => {
                    c.diags.push(Diagnostic::bracket(
                        Level::Warning,
                        "unresolved-server",
                        &s.origin.file,
                        s.origin.line,
                        format!("{who} : could not resolve address '{host}', disabling server."),
                    ));
                    s.disabled = true;
                }
                None => {
                    let msg = if host.is_empty() {
                        format!(
                            "{who} : resolves to an empty address (environment variable missing?)"
                        )
                    } else {
                        format!("{who} : could not resolve address '{host}'.")
                    };
                    c.diags.push(Diagnostic::bracket(
                        Level::Alert,
                        "unresolved-server",
                        &s.origin.file,
                        s.origin.line,
                        msg,
                    ));
                    failed = true;
                }
            }
        }
    }
    c.cfg.proxies = proxies;
    if failed {
        c.alert_plain("server-addr", "Failed to initialize server(s) addr.");
    }
}

/// The `errorfiles <name>` argument of `deny`/`return`/`tarpit` rules:
/// an unknown section is fatal, a section without a page for the reply's
/// status is worth a warning (HAProxy's post-parse check of http replies).
fn reply_errorfiles(c: &mut Checker<'_>, p: &crate::config::ir::Proxy) {
    for r in &p.rules {
        let w = &r.words;
        let (Some(set), Some(act)) = (w.first(), w.get(1)) else {
            continue;
        };
        let default = match (set.as_str(), act.as_str()) {
            ("http-request", "deny") => 403,
            ("http-request", "tarpit") => 500,
            ("http-request" | "http-response", "return") => 200,
            ("http-response", "deny") => 502,
            _ => continue,
        };
        let args = w[2..].iter().take_while(|x| *x != "if" && *x != "unless");
        let args: Vec<&String> = args.collect();
        let Some(i) = args.iter().position(|x| *x == "errorfiles") else {
            continue;
        };
        let name = args.get(i + 1).map_or("", |x| x.as_str());
        let status = args
            .iter()
            .position(|x| *x == "status" || *x == "deny_status")
            .and_then(|j| args.get(j + 1))
            .and_then(|v| v.parse::<u16>().ok())
            .unwrap_or(default);
        match c.cfg.http_errors(name) {
            None => c.alert_plain(
                "unknown-http-errors",
                format!(
                    "Proxy '{}': unknown http-errors section '{name}' referenced by an http reply .",
                    p.name
                ),
            ),
            Some(sec) if !sec.files.iter().any(|f| f.code == status) => c.warn_plain(
                "http-errors-status",
                format!(
                    "Proxy '{}': status '{status}' referenced by an http reply not declared in http-errors section '{name}'.",
                    p.name
                ),
            ),
            Some(_) => {}
        }
    }
}

/// `errorfiles <name>` naming no `http-errors` section (the proxy's own
/// lines and the ones of its defaults section), HAProxy's post-parse alert.
fn unknown_http_errors(c: &mut Checker<'_>, p: &crate::config::ir::Proxy) {
    let inherited = c.cfg.defaults_of(p).map(|d| d.directives.clone());
    let lines = inherited.iter().flatten().chain(p.directives.iter());
    let mut msgs = Vec::new();
    for d in lines {
        let w = |i: usize| d.words.get(i).map(String::as_str).unwrap_or("");
        if w(0) == "errorfiles" && c.cfg.http_errors(w(1)).is_none() {
            msgs.push(format!(
                "proxy '{}': unknown http-errors section '{}' (at {}).",
                p.name,
                w(1),
                d.origin
            ));
        }
    }
    for m in msgs {
        c.alert_plain("unknown-http-errors", m);
    }
}
