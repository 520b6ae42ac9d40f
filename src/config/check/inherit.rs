//! What a proxy takes from its `defaults` section beyond the typed fields
//! copied when its header is read ([`crate::config::ir::Proxy::inherit_from`]).
//!
//! Owns: the pass run after checking that puts, in front of each proxy's
//! own lines, (1) the inheritable directive lines of its defaults section
//! into `directives` (engines take the last matching line, so the proxy's
//! own line wins, as with HAProxy's `proxy_defproxy_cpy`), and (2) the
//! defaults' TCP/HTTP rules into `rules` (HAProxy evaluates a named
//! defaults' rule list before the proxy's own, and a final verdict there
//! ends the evaluation: a concatenated list behaves the same).
//! Must not emit diagnostics: `haproxy -c` output is produced before this
//! pass and must not change.

use crate::config::ir::{Config, Proxy, RawRule};

/// Directive keywords whose value a proxy inherits from its defaults
/// section and may override with its own line (the last line wins).
/// `http-check`/`tcp-check` are not here: the health engine reads them
/// from the defaults section itself (a proxy's own list replaces them).
/// Error pages (`errorfile`, `errorloc*`, `http-error`, `errorfiles`) are
/// read the same way by the reply engine.
const INHERITED: &[&str] = &[
    "option",
    "no",
    "retry-on",
    "http-reuse",
    "fullconn",
    "max-keep-alive-queue",
    "monitor-uri",
    "http-send-name-header",
    "source",
    "backlog",
    "rate-limit",
    "unique-id-format",
    "unique-id-header",
    "log-format",
    "log-format-sd",
    "error-log-format",
    "compression",
    "hash-balance-factor",
    "max-session-srv-conns",
];

/// Whether a defaults directive line is inherited by `p`.
fn inherited_line(words: &[String]) -> bool {
    let kw = words.first().map(String::as_str).unwrap_or("");
    if kw == "no" {
        return words.get(1).is_some_and(|w| w == "option");
    }
    INHERITED.contains(&kw)
}

/// Whether a defaults rule line applies to `p` (its capabilities).
fn rule_applies(p: &Proxy, words: &[String]) -> bool {
    let kw = words.first().map(String::as_str).unwrap_or("");
    let stage = words.get(1).map(String::as_str).unwrap_or("");
    match (kw, stage) {
        ("tcp-request", "connection" | "session") => p.kind.has_fe(),
        ("tcp-response", _) => p.kind.has_be(),
        _ => true,
    }
}

/// Applies the inheritance of every proxy of `cfg` (not of defaults
/// sections: their own chaining is already in their typed fields).
pub(crate) fn apply(cfg: &mut Config) {
    let Config {
        defaults, proxies, ..
    } = cfg;
    for p in proxies.iter_mut() {
        let Some(d) = p.defaults_idx.and_then(|i| defaults.get(i)) else {
            continue;
        };
        let mut dirs: Vec<RawRule> = d
            .directives
            .iter()
            .filter(|r| inherited_line(&r.words))
            .cloned()
            .collect();
        dirs.append(&mut p.directives);
        p.directives = dirs;
        let mut rules: Vec<RawRule> = d
            .rules
            .iter()
            .filter(|r| rule_applies(p, &r.words))
            .cloned()
            .collect();
        rules.append(&mut p.rules);
        p.rules = rules;
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ir::Config;
    use crate::config::source::SourceFile;

    fn load(text: &str) -> Config {
        let files = [SourceFile {
            name: "t.cfg".into(),
            content: text.as_bytes().to_vec(),
        }];
        let r = crate::config::check_files(&files, &|_| None, Default::default());
        assert!(!r.failed, "config refused: {:?}", r.diags);
        r.config
    }

    fn kws(lines: &[crate::config::ir::RawRule]) -> Vec<String> {
        lines.iter().map(|r| r.words.join(" ")).collect()
    }

    const BASE: &str =
        "  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n";

    #[test]
    fn directives_of_defaults_come_first() {
        let cfg = load(&format!(
            "defaults\n{BASE}  retry-on 503\n  http-reuse never\n  fullconn 50\n  option redispatch 2\n\
             backend b\n  http-reuse always\n  server s 127.0.0.1:1\n"
        ));
        let b = cfg.proxy("b").expect("backend");
        let d = kws(&b.directives);
        assert_eq!(
            d,
            [
                "retry-on 503",
                "http-reuse never",
                "fullconn 50",
                "option redispatch 2",
                "http-reuse always",
                "server s 127.0.0.1:1"
            ]
        );
        assert!(crate::upstream::pool::reuse_first(b));
        assert_eq!(crate::upstream::retry::redispatch_interval(b), Some(2));
        assert_eq!(b.defaults_from.as_deref(), Some(""));
    }

    #[test]
    fn named_defaults_by_from_and_rules_first() {
        let cfg = load(&format!(
            "defaults web\n{BASE}  http-request set-header X-D 1\n  tcp-request connection accept\n\
             defaults other\n{BASE}  retry-on 502\n\
             frontend f from web\n  bind 127.0.0.1:1\n  http-request set-header X-F 1\n  default_backend b\n\
             backend b\n  server s 127.0.0.1:1\n"
        ));
        let f = cfg.proxy("f").expect("frontend");
        assert_eq!(f.defaults_from.as_deref(), Some("web"));
        assert_eq!(
            kws(&f.rules),
            [
                "http-request set-header X-D 1",
                "tcp-request connection accept",
                "http-request set-header X-F 1"
            ]
        );
        let b = cfg.proxy("b").expect("backend");
        assert_eq!(b.defaults_from.as_deref(), Some("other"));
        assert_eq!(kws(&b.directives)[0], "retry-on 502");
        assert!(b.rules.is_empty());
    }
}
