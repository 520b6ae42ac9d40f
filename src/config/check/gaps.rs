//! `-c` checks HAProxy 2.6.12 makes that the rule parsers elsewhere leave
//! to start-up: the service of `use-service`, the status of a
//! `deny`/`tarpit` without a body of its own, and `stats auth`/`realm`
//! mixed with `stats http-request`. Same alert texts as HAProxy.
//!
//! Owns: these checks (pure functions over the words of a line or a
//! proxy's `stats` lines). Must not read files nor build engine state.

use crate::config::ir::Proxy;
use crate::config::units::atol;

/// Services HAProxy 2.6.12 registers (`haproxy -dKall`).
const SERVICES: &[&str] = &["prometheus-exporter"];

/// The rule-parse error of an `http-request`/`http-response` (or
/// `tcp-request content`) line HAProxy refuses (text after "rule : ").
/// `lua_loaded`: the configuration loads Lua scripts, which may register
/// any `lua.<name>` service.
pub fn http_rule(words: &[&str], lua_loaded: bool) -> Option<String> {
    let action = *words.get(1)?;
    let end = words
        .iter()
        .position(|w| *w == "if" || *w == "unless")
        .unwrap_or(words.len());
    let args = words.get(2..end).unwrap_or_default();
    match action {
        "use-service" => {
            let name = args.first().copied().unwrap_or("");
            let known = SERVICES.contains(&name) || (lua_loaded && name.starts_with("lua."));
            (!known).then(|| format!("'{name}' unknown service name.."))
        }
        "deny" | "tarpit" => reply_status(args),
        "return" => reply_status(args).filter(|m| m.starts_with("Unexpected")),
        _ => None,
    }
}

/// A reply's status: within 200..599, and one HAProxy has a default
/// page for unless the reply brings its own body.
fn reply_status(args: &[&str]) -> Option<String> {
    let mut status = None;
    let mut own_body = false;
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "status" | "deny_status" => {
                let s = atol(args.get(i + 1).copied().unwrap_or(""));
                if !(200..=599).contains(&s) {
                    return Some(format!("Unexpected status code '{s}'."));
                }
                status = Some(s);
                i += 2;
            }
            "errorfile" | "errorfiles" | "file" | "lf-file" | "string" | "lf-string" => {
                own_body = true;
                i += 2;
            }
            "content-type" => i += 2,
            "hdr" => i += 3,
            _ => i += 1,
        }
    }
    let s = status?;
    let known = crate::config::external::ERRORFILE_CODES
        .iter()
        .any(|&c| i64::from(c) == s);
    (!own_body && !known).then(|| {
        format!("status code '{s}' not handled by default with 'default-errorfiles' argument..")
    })
}

/// `stats auth`/`stats realm` together with `stats http-request` in one
/// proxy (HAProxy's post-parse alert).
pub fn stats_auth_mix(p: &Proxy) -> Option<String> {
    let has = |k: &[&str]| {
        p.stats
            .iter()
            .any(|r| r.words.first().is_some_and(|w| k.contains(&w.as_str())))
    };
    (has(&["http-request"]) && has(&["auth", "realm"])).then(|| {
        format!(
            "proxy '{}': stats 'auth'/'realm' and 'http-request' can't be used at the same time.",
            p.name
        )
    })
}

/// Fetches whose first argument names a backend, a server
/// (`[<backend>/]<server>`) or a userlist.
const BACKEND_ARG: &[&str] = &[
    "nbsrv",
    "be_conn",
    "be_conn_free",
    "be_sess_rate",
    "queue",
    "avg_queue",
    "connslots",
];
const SERVER_ARG: &[&str] = &[
    "srv_is_up",
    "srv_conn",
    "srv_conn_free",
    "srv_queue",
    "srv_sess_rate",
    "srv_iweight",
    "srv_uweight",
    "srv_weight",
];
const USERLIST_ARG: &[&str] = &["http_auth", "http_auth_bin"];

/// `name(arg...)` at the start of `w`: the name and the first argument.
fn fetch_arg(w: &str) -> Option<(&str, &str)> {
    let (name, rest) = w.split_once('(')?;
    let arg = rest.split([',', ')']).next()?;
    Some((name, arg))
}

/// HAProxy's argument resolution (`smp_resolve_args`) for one proxy: the
/// backends, servers and userlists its ACLs and `http-request` sample
/// expressions name must exist. The alert text, if any.
pub fn unresolved_args(
    cfg: &crate::config::ir::Config,
    px: &Proxy,
    all: &[Proxy],
) -> Option<String> {
    let mut errs = Vec::new();
    let mut check = |kw: &str, arg: &str, at: &crate::config::ir::Origin, ctx: &str| {
        let whose = format!("referenced in arg 1 of {ctx} keyword '{kw}'");
        let tail = if ctx == "ACL" {
            format!("in proxy '{}'", px.name)
        } else {
            format!("in http-request expression in proxy '{}'", px.name)
        };
        let e = if BACKEND_ARG.contains(&kw) {
            (!all.iter().any(|p| p.name == arg && p.kind.has_be()))
                .then(|| format!("unable to find backend '{arg}' {whose} {tail}."))
        } else if SERVER_ARG.contains(&kw) {
            let (b, s) = arg.split_once('/').unwrap_or((px.name.as_str(), arg));
            match all.iter().find(|p| p.name == b && p.kind.has_be()) {
                None => Some(format!("unable to find proxy '{b}' {whose} {tail}.")),
                Some(bp) if !bp.servers.iter().any(|x| x.name == s) => Some(format!(
                    "unable to find server '{s}' in proxy '{b}', {whose} {tail}."
                )),
                _ => None,
            }
        } else if USERLIST_ARG.contains(&kw) {
            (!cfg.userlists.iter().any(|u| u.name == arg))
                .then(|| format!("unable to find userlist '{arg}' {whose} {tail}."))
        } else {
            None
        };
        if let Some(e) = e {
            errs.push(format!("parsing [{}:{}]: {e}", at.file, at.line));
        }
    };
    for r in &px.directives {
        let w = &r.words;
        let Some(kw) = w.first() else { continue };
        if kw == "acl" {
            if let Some((f, a)) = w.get(2).and_then(|c| fetch_arg(c)) {
                check(f, a, &r.origin, "ACL");
            }
            continue;
        }
        let split = w
            .iter()
            .position(|x| x == "if" || x == "unless")
            .unwrap_or(w.len());
        if kw == "http-request" {
            for word in &w[..split] {
                let body = word.trim_start_matches("%[");
                for part in body.split([',', '[', ' ']) {
                    if let Some((f, a)) = fetch_arg(part) {
                        check(f, a, &r.origin, "sample fetch");
                    }
                }
            }
        }
        let mut open = false;
        for x in &w[split..] {
            match x.as_str() {
                "{" | "!{" => open = true,
                "}" => open = false,
                c if open => {
                    if let Some((f, a)) = fetch_arg(c) {
                        check(f, a, &r.origin, "ACL");
                    }
                    open = false;
                }
                _ => {}
            }
        }
    }
    match errs.len() {
        0 => None,
        1 => errs.pop(),
        _ => Some(format!(
            "multiple argument resolution errors:{}",
            errs.iter()
                .map(|e| format!("\n        {e}"))
                .collect::<String>()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<&str> {
        s.split(' ').collect()
    }

    #[test]
    fn haproxy_texts() {
        assert_eq!(
            http_rule(&w("http-request use-service lua.x"), false).as_deref(),
            Some("'lua.x' unknown service name..")
        );
        assert_eq!(
            http_rule(&w("http-request use-service lua.x"), true),
            None,
            "a loaded Lua script may register any lua.<name> service"
        );
        assert_eq!(
            http_rule(&w("http-request use-service prometheus-exporter"), false),
            None
        );
        assert_eq!(
            http_rule(&w("http-request deny deny_status 451"), false).as_deref(),
            Some("status code '451' not handled by default with 'default-errorfiles' argument..")
        );
        assert_eq!(
            http_rule(&w("http-request deny deny_status abc"), false).as_deref(),
            Some("Unexpected status code '0'.")
        );
        assert_eq!(
            http_rule(&w("http-request deny deny_status 200"), false),
            None
        );
        assert_eq!(
            http_rule(&w("http-request tarpit deny_status 404"), false),
            None
        );
        assert_eq!(
            http_rule(
                &w("http-request deny deny_status 501 string x if TRUE"),
                false
            ),
            None
        );
        assert_eq!(http_rule(&w("http-request return status 451"), false), None);
        assert_eq!(
            http_rule(&w("http-request return status 99"), false).as_deref(),
            Some("Unexpected status code '99'.")
        );
    }
}
