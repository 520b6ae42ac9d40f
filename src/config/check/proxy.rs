//! `defaults`, `frontend`, `backend` and `listen` sections: section headers
//! (names, `from`, duplicates, defaults inheritance) and keyword lines.
//!
//! Owns: the proxy keyword dispatch and HAProxy's capability rules
//! (frontend-only / backend-only keywords, what `defaults` refuses).
//! Server and bind lines are delegated to [`super::server`].

use super::kw;
use super::{Checker, Cur, Line};
use crate::config::ast::Kwm;
use crate::config::ir::{Mode, Proxy, ProxyKind, RawRule, UseBackend};
use crate::config::units;

/// Handles a `defaults`/`frontend`/`backend`/`listen` header line.
pub(super) fn start(c: &mut Checker<'_>, l: &Line<'_>) {
    let kind = match l.arg(0) {
        "defaults" => ProxyKind::Defaults,
        "frontend" => ProxyKind::Frontend,
        "backend" => ProxyKind::Backend,
        _ => ProxyKind::Listen,
    };
    let kwname = l.arg(0);
    let name = l.arg(1);
    let set_cur = |c: &mut Checker<'_>, idx: Option<usize>| {
        c.cur = if kind == ProxyKind::Defaults {
            Cur::Defaults(idx)
        } else {
            Cur::Proxy(idx, kind)
        };
    };
    if kind != ProxyKind::Defaults && name.is_empty() {
        c.alert(
            l,
            "missing-name",
            format!("'{kwname}' expects an <id> argument"),
        );
        c.aborted = true;
        set_cur(c, None);
        return;
    }
    if let Some(bad) = name
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | ':')))
    {
        c.alert(
            l,
            "bad-name",
            format!("character '{bad}' is not permitted in '{kwname}' name '{name}'."),
        );
        c.aborted = true;
        set_cur(c, None);
        return;
    }
    // `from <defaults>` and the old `listen name addr:port` syntax.
    let mut from: Option<&str> = None;
    let mut i = 2;
    if kind != ProxyKind::Defaults || !l.arg(2).is_empty() {
        if l.arg(2) == "from" && !l.arg(3).is_empty() {
            from = Some(l.arg(3));
            i = 4;
        }
        if !l.arg(i).is_empty() && kind.has_fe() && kind != ProxyKind::Defaults {
            // Not fatal by itself; the section is dropped and its lines fail.
            c.diags.push(crate::config::diag::Diagnostic::at(
                crate::config::diag::Level::Alert,
                "old-listen-syntax",
                l.file,
                l.line,
                "please use the 'bind' keyword for listening addresses.",
            ));
            set_cur(c, None);
            return;
        }
    }

    // Duplicate names (frontend and backend may share a name; nothing else).
    if kind != ProxyKind::Defaults {
        let clash = c.cfg.proxies.iter().find(|p| {
            p.name == name
                && !((p.kind == ProxyKind::Frontend && kind == ProxyKind::Backend)
                    || (p.kind == ProxyKind::Backend && kind == ProxyKind::Frontend))
        });
        if let Some(p) = clash {
            let what = |k: ProxyKind| match k {
                ProxyKind::Listen => "proxy",
                k => k.name(),
            };
            let msg = format!(
                "{} '{}' has the same name as {} '{}' declared at {}.",
                what(kind),
                name,
                what(p.kind),
                p.name,
                p.origin
            );
            let text = format!("Parsing [{}:{}]: {msg}", l.file, l.line);
            c.alert_raw(l, "duplicate-proxy", &msg, text);
        }
    }

    let defaults_idx = match from {
        Some(f) => match c.named_defaults.get(f) {
            Some(&i) => Some(i),
            None => {
                let what = if kind == ProxyKind::Listen {
                    "proxy"
                } else {
                    kind.name()
                };
                c.alert(
                    l,
                    "unknown-defaults",
                    format!("defaults section '{f}' not found for {what} '{name}'."),
                );
                c.aborted = true;
                set_cur(c, None);
                return;
            }
        },
        // A `defaults` section inherits only through `from` (2.6.12).
        None if kind == ProxyKind::Defaults => None,
        None => c.last_defaults,
    };
    if let Some(i) = defaults_idx
        && !super::defrefs::refer(c, l, kind, i, from.is_some())
    {
        set_cur(c, None);
        return;
    }

    let mut p = Proxy::new(name, kind, l.origin());
    if let Some(d) = defaults_idx.and_then(|i| c.cfg.defaults.get(i)) {
        p.inherit_from(d);
        p.defaults_from = Some(d.name.clone());
        p.defaults_idx = defaults_idx;
    }
    if kind == ProxyKind::Defaults {
        c.cfg.defaults.push(p);
        let idx = c.cfg.defaults.len() - 1;
        if !name.is_empty() {
            c.named_defaults.insert(name.to_string(), idx);
        }
        c.last_defaults = Some(idx);
        set_cur(c, Some(idx));
    } else {
        c.cfg.proxies.push(p);
        let idx = c.cfg.proxies.len() - 1;
        set_cur(c, Some(idx));
    }
}

/// Section name as HAProxy prints it in "unknown keyword ... in 'X' section".
fn section_name(kind: ProxyKind) -> &'static str {
    kind.name()
}

/// Handles one keyword line inside a proxy section.
pub(super) fn line(c: &mut Checker<'_>, l: &Line<'_>, kind: ProxyKind) {
    let kw = l.arg(0);
    let Some(p) = c.cur_proxy() else { return };
    let pname = p.name.clone();
    let anon_defaults = kind == ProxyKind::Defaults && pname.is_empty();
    p.directives.push(RawRule {
        origin: l.origin(),
        words: l.owned_from(0),
    });

    // Every use of a keyword we do not implement is recorded (NOTICE in
    // `-c`, refusal at start-up), whatever its handler does next.
    if let Some(name) = kw::unsupported_proxy_keyword(kind, &l.words) {
        c.unsupported(l, name);
    }

    // Removed keywords first: HAProxy names their replacement.
    if let Some(text) = kw::removed_proxy_keyword(kind, l) {
        c.alert_raw(l, "removed-keyword", kw, text);
        return;
    }

    match kw {
        "mode" => {
            let m = match l.arg(1) {
                "http" => Mode::Http,
                "tcp" => Mode::Tcp,
                "health" => {
                    c.alert(
                        l,
                        "removed-keyword",
                        "'mode health' doesn't exist anymore. Please use 'http-request return' or 'tcp-request content reject' instead.",
                    );
                    return;
                }
                "log" if kind == ProxyKind::Backend || kind == ProxyKind::Defaults => Mode::Log,
                other => {
                    c.alert(l, "unknown-mode", format!("unknown proxy mode '{other}'."));
                    return;
                }
            };
            if let Some(p) = c.cur_proxy() {
                p.mode = m;
            }
        }
        "bind" => {
            if kind == ProxyKind::Defaults {
                c.alert(
                    l,
                    "not-in-defaults",
                    "'bind' not allowed in 'defaults' section.",
                );
                return;
            }
            if !kind.has_fe() {
                c.warn(
                    l,
                    "ignored-no-cap",
                    format!("'bind' ignored because backend '{pname}' has no frontend capability."),
                );
                return;
            }
            super::server::bind(c, l, &pname, kind);
        }
        "server" | "default-server" | "server-template" => {
            if kind == ProxyKind::Defaults && kw != "default-server" {
                c.alert_bracket(
                    l,
                    "not-in-defaults",
                    format!("'{kw}' not allowed in 'defaults' section."),
                );
                return;
            }
            if !kind.has_be() {
                let inner = format!(
                    "parsing [{}:{}] : '{kw}' not allowed because frontend '{pname}' has no backend capability.",
                    l.file, l.line
                );
                c.alert_bracket(l, "no-be-cap", inner);
                return;
            }
            super::server::server(c, l, &pname, kind);
        }
        "timeout" => timeout(c, l),
        "option" => option(c, l, kind, &pname),
        "acl" => {
            if kind == ProxyKind::Defaults {
                c.alert(
                    l,
                    "not-in-defaults",
                    not_in_defaults("acl", anon_defaults, true),
                );
                return;
            }
            super::server::acl(c, l);
        }
        "use_backend" => {
            if kind == ProxyKind::Defaults {
                c.alert(
                    l,
                    "not-in-defaults",
                    "'use_backend' not allowed in 'defaults' section.",
                );
                return;
            }
            if !kind.has_fe() {
                warn_nocap(c, l, kind, &pname, "frontend");
                return;
            }
            if l.arg(1).is_empty() {
                c.alert(l, "missing-arg", "'use_backend' expects a backend name.");
                return;
            }
            let cond = l.owned_from(2);
            if !cond.is_empty() {
                if !matches!(l.arg(2), "if" | "unless") {
                    c.alert(
                        l,
                        "bad-cond",
                        format!(
                            "error detected while parsing switching rule : missing condition after 'if' or 'unless' (got '{}').",
                            l.arg(2)
                        ),
                    );
                    return;
                }
                if let Err(e) = super::server::check_cond(c, &l.words[2..]) {
                    c.alert(
                        l,
                        "bad-cond",
                        format!("error detected while parsing switching rule : {e}."),
                    );
                    return;
                }
            }
            let origin = l.origin();
            if let Some(p) = c.cur_proxy() {
                p.use_backends.push(UseBackend {
                    origin,
                    backend: l.arg(1).to_string(),
                    cond,
                });
            }
        }
        "default_backend" => {
            if !kind.has_fe() {
                warn_nocap(c, l, kind, &pname, "frontend");
                return;
            }
            if l.arg(1).is_empty() {
                c.alert(
                    l,
                    "missing-arg",
                    "'default_backend' expects a backend name.",
                );
                return;
            }
            let origin = l.origin();
            if let Some(p) = c.cur_proxy() {
                p.default_backend = Some((l.arg(1).to_string(), origin));
            }
        }
        "maxconn" => {
            if !kind.has_fe() {
                warn_nocap(c, l, kind, &pname, "frontend");
                return;
            }
            if l.arg(1).is_empty() {
                c.alert(l, "missing-arg", "'maxconn' expects an integer argument.");
                return;
            }
            let v = units::atol(l.arg(1));
            if let Some(p) = c.cur_proxy() {
                p.maxconn = Some(v.max(0) as u32);
            }
        }
        "retries" => {
            if !kind.has_be() {
                warn_nocap(c, l, kind, &pname, "backend");
                return;
            }
            if l.arg(1).is_empty() {
                c.alert(l, "missing-arg", "'retries' expects an integer argument.");
                return;
            }
            let v = units::atol(l.arg(1));
            if let Some(p) = c.cur_proxy() {
                p.retries = Some(v.max(0) as u32);
            }
        }
        "balance" => {
            if !kind.has_be() {
                warn_nocap(c, l, kind, &pname, "backend");
                return;
            }
            if let Err(e) = kw::check_balance(&l.words[1..]) {
                c.alert(l, "bad-balance", e);
                return;
            }
            let b = l.owned_from(1);
            if let Some(name) = crate::upstream::lb::unsupported_balance(&b) {
                c.unsupported(l, name);
            }
            if let Some(p) = c.cur_proxy() {
                p.balance = Some(b);
            }
        }
        "hash-type" => {
            if !kind.has_be() {
                warn_nocap(c, l, kind, &pname, "backend");
                return;
            }
            if let Err(e) = crate::upstream::lb::hash::HashType::parse(&l.owned_from(1)) {
                c.alert(l, "bad-hash-type", e);
                return;
            }
            let v = l.owned_from(1);
            if let Some(p) = c.cur_proxy() {
                p.hash_type = Some(v);
            }
        }
        "cookie" => {
            if !kind.has_be() {
                warn_nocap(c, l, kind, &pname, "backend");
                return;
            }
            if l.arg(1).is_empty() {
                c.alert(
                    l,
                    "missing-arg",
                    "'cookie' expects <cookie_name> as argument.",
                );
                return;
            }
            let v = l.owned_from(1);
            if let Some(p) = c.cur_proxy() {
                p.cookie = Some(v);
            }
        }
        "log" => {
            let has = !(l.kwm == Kwm::No);
            if let Some(p) = c.cur_proxy() {
                p.has_log = has;
            }
        }
        "log-format" | "log-format-sd" | "error-log-format" => {
            if l.arg(1).is_empty() {
                c.alert(l, "missing-arg", format!("{kw} expects an argument."));
                return;
            }
            if let Some(p) = c.cur_proxy() {
                p.has_log_format = true;
            }
        }
        "disabled" => {
            if let Some(p) = c.cur_proxy() {
                p.disabled = true;
            }
        }
        "enabled" => {
            if let Some(p) = c.cur_proxy() {
                p.disabled = false;
            }
        }
        "description" => {
            if kind == ProxyKind::Defaults {
                c.alert_tight(
                    l,
                    "not-in-defaults",
                    "'description' not allowed in 'defaults' section.",
                );
            }
        }
        "stats" => super::server::stats(c, l, kind, &pname),
        "http-request" | "http-response" | "http-after-response" | "redirect" => {
            if kind == ProxyKind::Defaults && (anon_defaults || kw == "redirect") {
                c.alert(
                    l,
                    "not-in-defaults",
                    not_in_defaults(kw, anon_defaults, kw != "redirect"),
                );
                return;
            }
            super::server::http_rule(c, l, kind, &pname);
        }
        "tcp-request" | "tcp-response" => {
            super::server::tcp_rule(c, l, kind, &pname, anon_defaults);
        }
        "capture" => {
            if kind == ProxyKind::Defaults {
                let what = format!("capture {}", l.arg(1));
                c.alert(
                    l,
                    "not-in-defaults",
                    format!("'{what}' not allowed in 'defaults' section."),
                );
                return;
            }
            if !kind.has_fe() {
                warn_nocap(c, l, kind, &pname, "frontend");
                return;
            }
            c.unsupported(l, "capture");
        }
        "stick" | "stick-table" | "use-server" | "force-persist" | "ignore-persist" | "monitor"
        | "dispatch"
            if kind == ProxyKind::Defaults =>
        {
            let msg = if kw == "stick-table" {
                "'stick-table' is not supported in 'defaults' section.".to_string()
            } else {
                format!("'{kw}' not allowed in 'defaults' section.")
            };
            c.alert(l, "not-in-defaults", msg);
        }
        "errorfile" => super::server::errorfile(c, l),
        "filter" => {
            // SPOE filters read their own configuration file at load time.
            if let Some(i) = l.words.iter().position(|w| *w == "config") {
                let f = l.arg(i + 1);
                if let Err(e) = std::fs::metadata(f) {
                    let why = crate::config::source::os_reason(&e);
                    c.alert(
                        l,
                        "filter-config",
                        format!("'filter' : 'Could not open configuration file {f} : {why}'"),
                    );
                    return;
                }
            }
            generic(c, l, kind, &pname);
        }
        "http-check" => super::server::http_check(c, l),
        "tcp-check" => super::server::tcp_check(c, l),
        _ => generic(c, l, kind, &pname),
    }
}

/// Keywords with no dedicated handler: known ones are recorded (and flagged
/// when unsupported), unknown ones get HAProxy's alert.
fn generic(c: &mut Checker<'_>, l: &Line<'_>, kind: ProxyKind, pname: &str) {
    let kw = l.arg(0);
    match kw::proxy_keyword(kind, kw) {
        kw::Known::Yes {
            supported,
            fe_only,
            be_only,
        } => {
            if fe_only && !kind.has_fe() {
                warn_nocap(c, l, kind, pname, "frontend");
                return;
            }
            if be_only && !kind.has_be() {
                warn_nocap(c, l, kind, pname, "backend");
                return;
            }
            let _ = supported; // recorded centrally in `line`
        }
        kw::Known::No => {
            let sugg = kw::suggest_proxy_keyword(kind, kw);
            c.alert_suggest(
                l,
                "unknown-keyword",
                format!("unknown keyword '{kw}' in '{}' section", section_name(kind)),
                sugg,
            );
        }
    }
}

fn warn_nocap(c: &mut Checker<'_>, l: &Line<'_>, kind: ProxyKind, pname: &str, need: &str) {
    let kw = l.arg(0);
    c.warn(
        l,
        "ignored-no-cap",
        format!(
            "'{kw}' ignored because {} '{pname}' has no {need} capability.",
            kind.name()
        ),
    );
}

fn not_in_defaults(kw: &str, anon: bool, anon_variant: bool) -> String {
    if anon && anon_variant {
        format!("'{kw}' not allowed in anonymous 'defaults' section.")
    } else {
        format!("'{kw}' not allowed in 'defaults' section.")
    }
}

fn timeout(c: &mut Checker<'_>, l: &Line<'_>) {
    let name = l.arg(1);
    let field = match name {
        "client" | "clitimeout" => "client",
        "server" | "srvtimeout" => "server",
        "connect" | "contimeout" => "connect",
        "queue" => "queue",
        "tunnel" => "tunnel",
        "http-request" => "http-request",
        "http-keep-alive" => "http-keep-alive",
        "client-fin" => "client-fin",
        "server-fin" => "server-fin",
        "tarpit" => "tarpit",
        "check" => "check",
        _ => {
            c.alert(
                l,
                "bad-timeout",
                "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got 'timeout')"
                    .replace("(got 'timeout')", &format!("(got '{name}')")),
            );
            return;
        }
    };
    let v = l.arg(2);
    if v.is_empty() {
        c.alert(
            l,
            "bad-timeout",
            format!("'timeout {name}' expects an integer value (in milliseconds)"),
        );
        return;
    }
    let ms = match units::parse_time_in(v, units::TimeUnit::Ms) {
        Ok(t) => {
            // 2.6 accepts junk after a unit (`5sx`) with a stand-alone warning.
            if let Some(w) = t.warning {
                c.warn_plain("time-junk", w);
            }
            t.value
        }
        Err(e) => {
            c.alert(
                l,
                "bad-timeout",
                units::time_error_text(&e, v, &format!("timeout {name}")),
            );
            return;
        }
    };
    if !l.arg(3).is_empty() {
        c.alert(
            l,
            "bad-timeout",
            format!(
                "'timeout {name}' : unexpected extra argument '{}'",
                l.arg(3)
            ),
        );
        return;
    }
    if let Some(p) = c.cur_proxy() {
        let t = &mut p.timeouts;
        let slot = match field {
            "client" => &mut t.client,
            "server" => &mut t.server,
            "connect" => &mut t.connect,
            "queue" => &mut t.queue,
            "tunnel" => &mut t.tunnel,
            "http-request" => &mut t.http_request,
            "http-keep-alive" => &mut t.http_keep_alive,
            "client-fin" => &mut t.client_fin,
            "server-fin" => &mut t.server_fin,
            "tarpit" => &mut t.tarpit,
            _ => &mut t.check,
        };
        *slot = Some(ms);
    }
}

fn option(c: &mut Checker<'_>, l: &Line<'_>, kind: ProxyKind, pname: &str) {
    let name = l.arg(1);
    if name.is_empty() {
        c.alert(l, "missing-arg", "'option' expects an option name.");
        return;
    }
    if let Some(text) = kw::removed_option(l) {
        c.alert_raw(l, "removed-option", name, text);
        return;
    }
    let Some(def) = kw::option(name) else {
        let sugg = kw::suggest_option(name);
        c.alert_suggest(
            l,
            "unknown-option",
            format!("unknown option '{name}'."),
            sugg,
        );
        return;
    };
    if l.kwm == Kwm::No && !def.allows_no {
        c.alert(
            l,
            "no-not-allowed",
            format!("'no option {name}' is not supported."),
        );
        return;
    }
    if def.fe_only && !kind.has_fe() {
        c.warn(
            l,
            "ignored-no-cap",
            format!(
                "'option {name}' ignored because {} '{pname}' has no frontend capability.",
                kind.name()
            ),
        );
        return;
    }
    if def.be_only && !kind.has_be() {
        c.warn(
            l,
            "ignored-no-cap",
            format!(
                "'option {name}' ignored because {} '{pname}' has no backend capability.",
                kind.name()
            ),
        );
        return;
    }
    if !def.supported {
        c.unsupported(l, format!("option {name}"));
    }
    let val = l.kwm != Kwm::No;
    if let Some(p) = c.cur_proxy() {
        p.options.insert(name.to_string(), val);
        // The mutually exclusive HTTP connection modes.
        if val && matches!(name, "httpclose" | "http-server-close" | "http-keep-alive") {
            for o in ["httpclose", "http-server-close", "http-keep-alive"] {
                if o != name {
                    p.options.remove(o);
                }
            }
        }
        if val && matches!(name, "httplog" | "tcplog" | "httpslog") {
            for o in ["httplog", "tcplog", "httpslog"] {
                if o != name {
                    p.options.remove(o);
                }
            }
        }
    }
    if val && matches!(name, "httplog" | "httpslog" | "tcplog") {
        let origin = l.origin();
        if let Some(p) = c.cur_proxy() {
            p.has_log_format = true;
            p.httplog_origin = (name != "tcplog").then_some(origin);
        }
    }
}
