//! Proxy lines with their own argument grammar: `bind`, `server`,
//! `default-server`, `server-template`, `acl`, conditions, `stats`,
//! HTTP/TCP rules, `errorfile`, `http-check`, `tcp-check`.
//!
//! Owns: argument validation for those lines and recording them into the
//! IR. Address, unit, sample and file parsing are delegated through
//! [`super::kw`], which is the only place that knows the helper modules.

use super::kw;
use super::{Checker, Line};
use crate::config::ir::{Bind, ProxyKind, RawRule, Server};

/// `bind <addr> [options]`.
pub(super) fn bind(c: &mut Checker<'_>, l: &Line<'_>, pname: &str, kind: ProxyKind) {
    let _ = pname;
    let addr_text = l.arg(1);
    if addr_text.is_empty() {
        c.alert(
            l,
            "missing-arg",
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr2]:port2[-end2]}... as arguments.",
        );
        return;
    }
    let mut binds = Vec::new();
    for part in addr_text.split(',') {
        let expanded = kw::env_expand(part, c.getenv);
        match kw::parse_bind_addr(&expanded) {
            Ok(a) => binds.push(Bind {
                origin: l.origin(),
                addr: expanded.clone(),
                ip: a.ip,
                path: a.path,
                fd: a.fd,
                port_low: a.port_low,
                port_high: a.port_high,
                options: Vec::new(),
            }),
            Err(e) => {
                c.alert(l, "bad-address", format!("'bind' : {e}"));
                return;
            }
        }
    }
    let prefix = format!("'bind {addr_text}' in section '{}'", kind.name());
    let mut opts = Vec::new();
    let mut i = 2;
    while i < l.words.len() {
        let k = l.words[i];
        let Some(def) = kw::bind_kw(k) else {
            let sugg = kw::suggest_bind_kw(k);
            let msg = match sugg {
                Some(s) => format!("{prefix}: unknown keyword '{k}'; did you mean '{s}' maybe ?"),
                None => format!("{prefix}: unknown keyword '{k}'."),
            };
            c.alert(l, "unknown-bind-keyword", msg);
            return;
        };
        let nargs = def.args as usize;
        if nargs > 0 && l.arg(i + 1).is_empty() {
            c.alert(
                l,
                "missing-arg",
                format!("{prefix} : '{k}' : missing value"),
            );
            return;
        }
        let args: Vec<String> = l.words[i + 1..(i + 1 + nargs).min(l.words.len())]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Err(e) = kw::check_bind_option(k, &args, c) {
            c.alert(l, "bad-bind-option", format!("{prefix} : {e}"));
            return;
        }
        if !def.supported {
            c.unsupported(l, format!("bind {k}"));
        }
        opts.push((k.to_string(), args));
        i += 1 + nargs;
    }
    for b in &mut binds {
        b.options = opts.clone();
    }
    if let Some(p) = c.cur_proxy() {
        p.binds.extend(binds);
    }
}

/// `server`, `default-server`, `server-template`.
pub(super) fn server(c: &mut Checker<'_>, l: &Line<'_>, pname: &str, kind: ProxyKind) {
    let _ = kind;
    let kwd = l.arg(0);
    let (name, addr_text, first_opt) = match kwd {
        "default-server" => ("", "", 1),
        "server-template" => {
            if l.arg(1).is_empty() || l.arg(2).is_empty() || l.arg(3).is_empty() {
                c.alert_bracket(
                    l,
                    "missing-arg",
                    "'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.",
                );
                return;
            }
            (l.arg(1), l.arg(3), 4)
        }
        _ => {
            if l.arg(1).is_empty() || l.arg(2).is_empty() {
                c.alert_bracket(
                    l,
                    "missing-arg",
                    "'server' expects <name> and <addr>[:<port>] as arguments.",
                );
                return;
            }
            (l.arg(1), l.arg(2), 3)
        }
    };
    let who = if kwd == "default-server" {
        "'default-server'".to_string()
    } else {
        format!("'{kwd} {pname}/{name}'")
    };
    let mut srv = Server {
        origin: l.origin(),
        name: name.to_string(),
        addr: addr_text.to_string(),
        host: None,
        ip: None,
        port: None,
        weight: 1,
        backup: false,
        check: false,
        disabled: false,
        maxconn: None,
        track: None,
        options: Vec::new(),
    };
    if !addr_text.is_empty() {
        let expanded = kw::env_expand(addr_text, c.getenv);
        match kw::parse_server_addr(&expanded) {
            Ok(a) => {
                srv.host = a.host;
                srv.ip = a.ip;
                srv.port = a.port;
            }
            Err(e) => {
                c.alert_bracket(l, "bad-address", format!("{who} : {e}"));
                return;
            }
        }
    }
    // Inherit default-server settings (they are plain keyword/args pairs).
    let defaults = c
        .cur_proxy()
        .map(|p| p.default_server.clone())
        .unwrap_or_default();
    // Successive `default-server` lines accumulate; servers start from them.
    let mut opts: Vec<(String, Vec<String>)> = defaults;
    let mut i = first_opt;
    while i < l.words.len() {
        let k = l.words[i];
        let Some(def) = kw::server_kw(k) else {
            let sugg = kw::suggest_server_kw(k);
            let msg = match sugg {
                Some(s) => format!("{who} : unknown keyword '{k}'; did you mean '{s}' maybe ?"),
                None => format!("{who} : unknown keyword '{k}'."),
            };
            c.alert_bracket(l, "unknown-server-keyword", msg);
            return;
        };
        if kwd == "default-server" && !def.default_server {
            c.alert_bracket(
                l,
                "not-in-default-server",
                format!("{who} : '{k}' option is not accepted in default-server sections."),
            );
            return;
        }
        let mut nargs = def.args as usize;
        if k == "source" {
            // `source <addr>[:<port>] [usesrc <addr>] [interface <name>]`:
            // the only server keyword with a variable argument count.
            nargs = 1;
            while matches!(l.arg(i + 1 + nargs), "usesrc" | "interface") {
                nargs += 2;
            }
            nargs = nargs.min(l.words.len().saturating_sub(i + 1)).max(1);
        }
        if nargs > 0 && l.words.len() <= i + nargs {
            let msg = match kw::check_server_option(k, &[], name, c) {
                Err(e) => e,
                Ok(()) => format!("'{k}' expects an argument."),
            };
            c.alert_bracket(l, "missing-arg", format!("{who} : {msg}"));
            return;
        }
        let args: Vec<String> = l.words[i + 1..i + 1 + nargs]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Err(e) = kw::check_server_option(k, &args, name, c) {
            c.alert_bracket(l, "bad-server-option", format!("{who} : {e}"));
            return;
        }
        if !def.supported {
            c.unsupported(l, format!("server {k}"));
        }
        opts.retain(|(o, _)| o != k);
        opts.push((k.to_string(), args));
        i += 1 + nargs;
    }
    for (k, a) in &opts {
        match k.as_str() {
            "weight" => srv.weight = a.first().and_then(|v| v.parse().ok()).unwrap_or(1),
            "backup" => srv.backup = true,
            "no-backup" => srv.backup = false,
            "check" => srv.check = true,
            "no-check" => srv.check = false,
            "disabled" => srv.disabled = true,
            "enabled" => srv.disabled = false,
            "maxconn" => srv.maxconn = a.first().and_then(|v| v.parse().ok()),
            "track" => srv.track = a.first().cloned(),
            _ => {}
        }
    }
    // `server-template <prefix> <num | low-high>` declares one server per id.
    let ids: Vec<u32> = if kwd == "server-template" {
        let r = l.arg(2);
        let (lo, hi) = match r.split_once('-') {
            Some((a, b)) => (a.parse().unwrap_or(1), b.parse().unwrap_or(0)),
            None => (1, r.parse().unwrap_or(0)),
        };
        (lo..=hi).take(10_000).collect()
    } else {
        Vec::new()
    };
    if kwd != "default-server" {
        srv.options = std::mem::take(&mut opts);
        if let Some(e) = health_option_error(&srv) {
            let px = c.cur_proxy().map(|p| p.name.clone()).unwrap_or_default();
            c.alert_bracket(
                l,
                "bad-server-option",
                format!("'server {px}/{name}' : {e}"),
            );
        }
    }
    if let Some(p) = c.cur_proxy() {
        if kwd == "default-server" {
            p.default_server = opts;
        } else if kwd == "server-template" {
            for id in ids {
                let mut s = srv.clone();
                s.name = format!("{name}{id}");
                p.servers.push(s);
            }
        } else {
            p.servers.push(srv);
        }
    }
}

/// `acl <name> <criterion> [flags] [values]`.
pub(super) fn acl(c: &mut Checker<'_>, l: &Line<'_>) {
    let name = l.arg(1);
    if name.is_empty() {
        c.alert(l, "missing-arg", "'acl' expects an ACL name.");
        return;
    }
    if let Some(bad) = name
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | ':')))
    {
        c.alert(
            l,
            "bad-acl-name",
            format!("character '{bad}' is not permitted in acl name '{name}'."),
        );
        return;
    }
    if let Err(e) = kw::parse_acl(&l.words[2..], c) {
        c.alert(
            l,
            "bad-acl",
            format!("error detected while parsing ACL '{name}' : {e}."),
        );
        return;
    }
    let origin = l.origin();
    let words = l.owned_from(1);
    c.acl_names.insert(name.to_string());
    if let Some(p) = c.cur_proxy() {
        p.acls.push(RawRule { origin, words });
    }
}

/// Checks an `if|unless ...` condition against the ACLs declared so far.
pub(super) fn check_cond(c: &mut Checker<'_>, words: &[&str]) -> Result<(), String> {
    kw::parse_cond(words, c)
}

/// `stats ...` in a proxy.
pub(super) fn stats(c: &mut Checker<'_>, l: &Line<'_>, kind: ProxyKind, pname: &str) {
    let sub = l.arg(1);
    let _ = pname;
    const EXPECTS: &str = "expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.";
    match sub {
        "admin" | "http-request" if kind == ProxyKind::Defaults => {
            // HAProxy names the sub-keyword for `admin` only.
            let what = if sub == "admin" {
                "stats admin"
            } else {
                "stats"
            };
            c.alert_tight(
                l,
                "not-in-defaults",
                format!("'{what}' not allowed in 'defaults' section."),
            );
            return;
        }
        "admin" if !matches!(l.arg(2), "if" | "unless") => {
            c.alert(
                l,
                "stats-admin-cond",
                "'stats admin' requires either 'if' or 'unless' followed by a condition.",
            );
            return;
        }
        "admin" | "http-request" => {}
        "enable" | "uri" | "realm" | "auth" | "scope" | "hide-version" | "refresh"
        | "show-legends" | "show-node" | "show-desc" | "show-modules" => {}
        "" => {
            c.alert_tight(
                l,
                "bad-stats",
                format!("missing keyword in 'stats', {EXPECTS}"),
            );
            return;
        }
        _ => {
            c.alert_tight(
                l,
                "bad-stats",
                format!("unknown stats parameter '{sub}', {EXPECTS}"),
            );
            return;
        }
    }
    let origin = l.origin();
    let words = l.owned_from(1);
    if let Some(p) = c.cur_proxy() {
        p.stats.push(RawRule { origin, words });
    }
}

/// `http-request`, `http-response`, `http-after-response`, `redirect`.
pub(super) fn http_rule(c: &mut Checker<'_>, l: &Line<'_>, kind: ProxyKind, pname: &str) {
    let kwd = l.arg(0);
    // Experimental actions need `expose-experimental-directives` in an
    // earlier `global` section (checked before the action's arguments).
    if kwd == "http-request"
        && l.arg(1) == "normalize-uri"
        && !c.cfg.global.directives.iter().any(|d| {
            d.words
                .first()
                .is_some_and(|w| w == "expose-experimental-directives")
        })
    {
        c.alert(
            l,
            "experimental",
            "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'",
        );
        c.aborted = true;
        return;
    }
    if kwd == "http-request" && matches!(l.arg(1), "normalize-uri" | "wait-for-body") {
        let args: Vec<String> = l.words.iter().skip(2).map(|w| w.to_string()).collect();
        let res = if l.arg(1) == "normalize-uri" {
            crate::session::rules::normalize::parse_prefix(&args).map(|x| x.1)
        } else {
            crate::session::rules::waitbody::parse_prefix(&args).map(|x| x.1)
        };
        let what = if kind == ProxyKind::Defaults {
            "defaults"
        } else {
            kind.name()
        };
        match res {
            Err(msg) => {
                let msg = format!(
                    "error detected in {what} '{pname}' while parsing '{kwd} {}' rule : {msg}.",
                    l.arg(1)
                );
                c.alert(l, "bad-rule", msg);
                c.aborted = true;
                return;
            }
            Ok(used) => {
                if let Some(x) = args.get(used).filter(|x| *x != "if" && *x != "unless") {
                    let msg = format!(
                        "'{kwd} {}' expects either 'if' or 'unless' followed by a condition but found '{x}'.",
                        l.arg(1)
                    );
                    c.alert_tight(l, "bad-rule", msg);
                    c.aborted = true;
                    return;
                }
            }
        }
    }
    if let Err(e) = kw::check_http_rule(l, c) {
        match e {
            kw::RuleError::UnknownAction(msg) => {
                c.alert_tight(l, "unknown-action", msg);
                c.aborted = true;
            }
            kw::RuleError::Parse(msg) => {
                let what = if kind == ProxyKind::Defaults {
                    "defaults"
                } else {
                    kind.name()
                };
                c.alert(
                    l,
                    "bad-rule",
                    format!(
                        "error detected in {what} '{pname}' while parsing '{kwd} {}' rule : {msg}",
                        l.arg(1)
                    ),
                );
                c.aborted = true;
            }
            kw::RuleError::Plain(msg) => c.alert(l, "bad-rule", msg),
        }
        return;
    }
    if kwd != "redirect" && !kw::action_supported(kwd, l.arg(1)) {
        c.unsupported(l, format!("{kwd} {}", l.arg(1)));
    }
    let origin = l.origin();
    let words = l.owned_from(0);
    if let Some(p) = c.cur_proxy() {
        p.rules.push(RawRule { origin, words });
    }
}

/// `tcp-request ...` / `tcp-response ...`.
pub(super) fn tcp_rule(
    c: &mut Checker<'_>,
    l: &Line<'_>,
    kind: ProxyKind,
    pname: &str,
    anon: bool,
) {
    let kwd = l.arg(0);
    let stage = l.arg(1);
    if kwd == "tcp-request" {
        match stage {
            "connection" | "session" if !kind.has_fe() => {
                c.alert(
                    l,
                    "not-frontend",
                    format!(
                        "{kwd} {stage} is not allowed because {} {pname} is not a frontend",
                        kind.name()
                    ),
                );
                return;
            }
            "connection" | "session" | "content" | "inspect-delay" => {}
            _ => {
                c.alert(
                    l,
                    "bad-tcp-rule",
                    format!("'{kwd}' expects 'inspect-delay', 'connection', or 'content', 'session' in {} '{pname}' (got '{stage}')", kind.name()),
                );
                return;
            }
        }
    } else if !matches!(stage, "content" | "inspect-delay") {
        c.alert(
            l,
            "bad-tcp-rule",
            format!(
                "'{kwd}' expects 'inspect-delay' or 'content' in {} '{pname}' (got '{stage}')",
                kind.name()
            ),
        );
        return;
    }
    if anon && stage != "inspect-delay" {
        c.alert(
            l,
            "not-in-defaults",
            format!("{kwd} {stage} is not allowed in anonymous 'defaults' sections"),
        );
        return;
    }
    if let Err(e) = kw::check_tcp_rule(l, c, kind, pname) {
        c.alert(l, "bad-rule", e);
        return;
    }
    let origin = l.origin();
    let words = l.owned_from(0);
    if let Some(p) = c.cur_proxy() {
        p.rules.push(RawRule { origin, words });
    }
}

/// `errorfile <code> <file>`.
pub(super) fn errorfile(c: &mut Checker<'_>, l: &Line<'_>) {
    if l.arg(1).is_empty() || l.arg(2).is_empty() {
        c.alert(
            l,
            "missing-arg",
            "errorfile : <code> and <file> are expected.",
        );
        return;
    }
    if let Err(e) = kw::load_errorfile(l.arg(1), l.arg(2), c) {
        c.alert(l, "bad-errorfile", e);
    }
}

/// `http-check ...`.
pub(super) fn http_check(c: &mut Checker<'_>, l: &Line<'_>) {
    let sub = l.arg(1);
    let known = [
        "disable-on-404",
        "send-state",
        "comment",
        "connect",
        "send",
        "expect",
    ];
    if !known.contains(&sub) && !sub.starts_with("set-var") && !sub.starts_with("unset-var") {
        c.alert(
            l,
            "bad-http-check",
            format!("'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{sub}'"),
        );
    }
}

/// `tcp-check ...`.
pub(super) fn tcp_check(c: &mut Checker<'_>, l: &Line<'_>) {
    let sub = l.arg(1);
    match sub {
        "send" | "send-lf" | "send-binary" | "send-binary-lf" => {
            let arg = l.arg(2);
            let what = if sub.contains("binary") { "binary" } else { "string" };
            let value = match arg {
                "string" | "binary" | "lf-string" | "lf-binary" => l.arg(3),
                a => a,
            };
            if value.is_empty() {
                c.alert(l, "bad-tcp-check", format!("'tcp-check {sub}' : '{what}' expects a send as argument."));
            }
        }
        "expect" => {
            let mut i = 2;
            if l.arg(i) == "!" {
                i += 1;
            }
            let mut kw = l.arg(i);
            if let Some(s) = kw.strip_prefix('!') {
                kw = s;
            }
            let ok = [
                "min-recv", "binary", "string", "rstring", "string-lf", "rbinary", "binary-lf",
                "comment",
            ];
            if !ok.contains(&kw) {
                c.alert(
                    l,
                    "bad-tcp-check",
                    format!("'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '{kw}' as argument.."),
                );
            }
        }
        "connect" | "comment" => {}
        s if s.starts_with("set-var") || s.starts_with("unset-var") => {}
        _ => c.alert(
            l,
            "bad-tcp-check",
            format!("'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var(*)' and 'unset-var(*)' but got '{sub}'"),
        ),
    }
}

/// HAProxy's verdict on the passive-health and state-change server
/// options, checked when the server is set up (2.6's texts).
fn health_option_error(s: &crate::config::ir::Server) -> Option<String> {
    for (k, args) in &s.options {
        let v = args.first().map(String::as_str).unwrap_or("");
        let err = match k.as_str() {
            "observe" if !matches!(v, "none" | "layer4" | "layer7") => {
                format!("'observe' expects one of 'none', 'layer4', 'layer7' but got '{v}'.")
            }
            "on-error"
                if !matches!(v, "fastinter" | "fail-check" | "sudden-death" | "mark-down") =>
            {
                format!(
                    "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{v}'."
                )
            }
            "on-marked-down" if v != "shutdown-sessions" => {
                format!("'on-marked-down' expects 'shutdown-sessions' but got '{v}'.")
            }
            "on-marked-up" if v != "shutdown-backup-sessions" => {
                format!("'on-marked-up' expects 'shutdown-backup-sessions' but got '{v}'.")
            }
            "error-limit" if v.parse::<i64>().map_or(true, |n| n <= 0) => {
                "error-limit has to be > 0..".to_string()
            }
            _ => continue,
        };
        return Some(err);
    }
    // haproxy 2.6.12 refuses `check` on a tracking server while parsing.
    if s.track.is_some() && s.check {
        return Some("unable to enable checks and tracking at the same time!".into());
    }
    None
}
