//! The `global` section.
//!
//! Owns: global keyword validation and the [`crate::config::ir::Global`]
//! fields. Unknown keywords get HAProxy's alert with its suggestion.

use super::kw;
use super::{Checker, Line};
use crate::config::ast::Kwm;
use crate::config::ir::{RawRule, StatsSocket};
use crate::config::units;

/// Keywords that take no argument ("'X' cannot handle unexpected argument").
const FLAGS: &[&str] = &[
    "daemon",
    "master-worker",
    "noepoll",
    "nopoll",
    "nosplice",
    "nogetaddrinfo",
    "noreuseport",
    "quiet",
    "zero-warning",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "set-dumpable",
    "strict-limits",
    "busy-polling",
    "external-check",
    "expose-experimental-directives",
    "hard-stop-after-is-deprecated",
];

pub(super) fn line(c: &mut Checker<'_>, l: &Line<'_>) {
    let kw = l.arg(0);
    c.cfg.global.directives.push(RawRule {
        origin: l.origin(),
        words: l.owned_from(0),
    });
    if let Some(name) = kw::unsupported_keyword(crate::grammar::keywords::Section::Global, &l.words)
    {
        c.unsupported(l, name);
    }
    if let Some(text) = kw::removed_global_keyword(l) {
        c.alert_raw(l, "removed-keyword", kw, text);
        return;
    }
    if FLAGS.contains(&kw)
        && kw != "external-check"
        && kw != "master-worker"
        && !l.arg(1).is_empty()
    {
        {
            c.alert(
                l,
                "unexpected-arg",
                format!("'{kw}' cannot handle unexpected argument '{}'.", l.arg(1)),
            );
            return;
        }
    }
    match kw {
        "daemon" => c.cfg.global.daemon = true,
        "master-worker" => {
            if !l.arg(1).is_empty() && l.arg(1) != "no-exit-on-failure" {
                c.alert(
                    l,
                    "bad-arg",
                    format!("'{kw}' only supports 'no-exit-on-failure' option"),
                );
                return;
            }
            c.cfg.global.master_worker = true;
        }
        "zero-warning" => c.cfg.global.zero_warning = true,
        "strict-limits" => c.cfg.global.no_strict_limits = l.kwm == Kwm::No,
        "maxconn" => {
            if l.arg(1).is_empty() {
                c.alert(l, "missing-arg", "'maxconn' expects an integer argument.");
                return;
            }
            c.cfg.global.maxconn = Some(units::atol(l.arg(1)).max(0) as u32);
        }
        "nbthread" => {
            let v = l.arg(1);
            match v.parse::<i64>() {
                Ok(n) if (1..=64).contains(&n) => c.cfg.global.nbthread = Some(n as u32),
                Ok(n) => c.alert(
                    l,
                    "bad-nbthread",
                    format!("'nbthread' value must be between 1 and 64 (was {n})"),
                ),
                Err(_) => c.alert(
                    l,
                    "bad-nbthread",
                    format!("'nbthread' passed a missing or unparsable integer value in '{v}'"),
                ),
            }
        }
        "pidfile" => {
            if l.arg(1).is_empty() {
                c.alert(
                    l,
                    "missing-arg",
                    "'pidfile' expects a file name as an argument.",
                );
                return;
            }
            c.cfg.global.pidfile = Some(l.arg(1).to_string());
        }
        "user" | "group" => {
            let name = l.arg(1);
            let found = if kw == "user" {
                kw::lookup_user(name)
            } else {
                kw::lookup_group(name)
            };
            if !found {
                let what = if kw == "user" { "user" } else { "group" };
                c.alert(
                    l,
                    "unknown-user",
                    format!("cannot find {what} id for '{name}' (0:Success)"),
                );
            }
        }
        "log" => {
            if l.kwm == Kwm::No {
                return;
            }
            if let Err(e) = kw::check_log(&l.words[1..], c) {
                c.alert(l, "bad-log", e);
            }
        }
        "stats" => stats(c, l),
        "ssl-dh-param-file" => {
            let f = l.arg(1);
            let ok = std::fs::read_to_string(f)
                .map(|t| t.contains("-----BEGIN DH PARAMETERS-----"))
                .unwrap_or(false);
            if !ok {
                c.alert(
                    l,
                    "dh-param",
                    format!("'ssl-dh-param-file': unable to load DH parameters from file <{f}>."),
                );
            }
        }
        "lua-load" | "lua-load-per-thread" => {
            let f = l.arg(1);
            if let Err(e) = std::fs::metadata(f) {
                c.alert(
                    l,
                    "lua-load",
                    format!(
                        "error in Lua file '{f}': cannot open {f}: {}",
                        crate::config::source::os_reason(&e)
                    ),
                );
            }
        }
        _ => match kw::global_keyword(kw) {
            Some(_) => {}
            None => {
                let sugg = kw::suggest_global_keyword(kw);
                c.alert_suggest(
                    l,
                    "unknown-keyword",
                    format!("unknown keyword '{kw}' in 'global' section"),
                    sugg,
                );
            }
        },
    }
}

fn stats(c: &mut Checker<'_>, l: &Line<'_>) {
    let sub = l.arg(1);
    let prefix = format!("parsing [{}:{}] : ", l.file, l.line);
    match sub {
        "socket" => {
            let addr = l.arg(2);
            if addr.is_empty() {
                c.alert(
                    l,
                    "missing-arg",
                    format!("{prefix}'stats socket' : missing socket address"),
                );
                return;
            }
            let expanded = kw::env_expand(addr, c.getenv);
            let parsed = match kw::parse_stats_socket_addr(&expanded) {
                Ok(a) => a,
                Err(e) => {
                    // HAProxy prints the location twice and adds an empty line.
                    c.alert(l, "bad-address", format!("{prefix}'stats socket' : {e}\n"));
                    return;
                }
            };
            let mut opts = Vec::new();
            let mut i = 3;
            while i < l.words.len() {
                let k = l.words[i];
                let Some(def) = kw::bind_kw(k) else {
                    c.alert(
                        l,
                        "unknown-keyword",
                        format!("{prefix}'stats socket' : unknown keyword '{k}'.\n"),
                    );
                    return;
                };
                let n = def.args as usize;
                let args: Vec<String> = l.words[(i + 1).min(l.words.len())..(i + 1 + n).min(l.words.len())]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                if k == "level" {
                    let v = args.first().map(String::as_str).unwrap_or("");
                    if !matches!(v, "user" | "operator" | "admin") {
                        c.alert(
                            l,
                            "bad-level",
                            format!("{prefix}'stats socket' : ''level' only supports 'user', 'operator', and 'admin' (got '{v}')'\n"),
                        );
                        return;
                    }
                }
                opts.push((k.to_string(), args));
                i += 1 + n;
            }
            c.cfg.global.stats_sockets.push(StatsSocket {
                origin: l.origin(),
                addr: expanded,
                path: parsed.path,
                ip: parsed.ip,
                port: parsed.port_low,
                options: opts,
            });
        }
        "timeout" => {
            if let Err(e) = units::parse_time_ms(l.arg(2)) {
                c.alert(
                    l,
                    "bad-timeout",
                    format!("'stats timeout' : {}", units::time_error_short(&e)),
                );
            }
        }
        "maxconn" | "bind-process" => {}
        _ => c.alert(
            l,
            "bad-stats",
            format!("'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{sub}')."),
        ),
    }
}
