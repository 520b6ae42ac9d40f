//! HAProxy's checks on how a proxy refers to its `defaults` section: the
//! explicit (`from <name>`) and implicit (last section) ambiguity, and the
//! restrictions on a defaults section that defines TCP/HTTP rules (it may
//! initialise frontends or backends, never both, nor `listen` or
//! `defaults` sections).
//!
//! Owns: the per-defaults reference state and these alerts. Must not copy
//! anything into the proxy (see [`super::inherit`]).

use super::{Checker, Line};
use crate::config::diag::{Diagnostic, Level};
use crate::config::ir::{Proxy, ProxyKind};

/// How a defaults section has been referenced so far.
#[derive(Debug, Default, Clone)]
pub(crate) struct DefaultsRefs {
    explicit: bool,
    implicit: bool,
    /// Frontend or backend: the kind of proxies it initialises once it
    /// defines rules.
    rule_cap: Option<ProxyKind>,
}

fn has_rule(d: &Proxy, f: impl Fn(&str, &str) -> bool) -> bool {
    d.rules.iter().any(|r| {
        let w = |i: usize| r.words.get(i).map(String::as_str).unwrap_or("");
        w(1) != "inspect-delay" && f(w(0), w(1))
    })
}

/// Records the reference of the proxy being declared at `l` (of `kind`)
/// to defaults section `idx`. Returns false when HAProxy aborts parsing.
pub(super) fn refer(
    c: &mut Checker<'_>,
    l: &Line<'_>,
    kind: ProxyKind,
    idx: usize,
    explicit: bool,
) -> bool {
    let Some(d) = c.cfg.defaults.get(idx) else {
        return true;
    };
    let (dname, dorigin) = (d.name.clone(), d.origin.clone());
    let any_rule = has_rule(d, |_, _| true);
    let l4l5 = has_rule(d, |k, s| {
        k == "tcp-request" && matches!(s, "connection" | "session")
    });
    let rsp = has_rule(d, |k, _| k == "tcp-response");
    let refs = c.defaults_refs.entry(idx).or_default();
    if explicit {
        refs.explicit = true;
    } else {
        refs.implicit = true;
    }
    if refs.explicit && refs.implicit {
        // An alert in HAProxy's output that does not fail the check.
        c.diags.push(Diagnostic::at(
            Level::Alert,
            "ambiguous-defaults",
            l.file,
            l.line,
            format!(
                "defaults section '{dname}' (declared at {dorigin}) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references."
            ),
        ));
    }
    if !any_rule {
        return true;
    }
    let msg = if kind == ProxyKind::Defaults {
        format!(
            "a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at {dorigin})."
        )
    } else if kind == ProxyKind::Listen {
        "a listen section cannot inherit from a defaults section defining TCP/HTTP rules."
            .to_string()
    } else if refs.rule_cap.is_some_and(|k| k != kind) {
        format!(
            "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at {dorigin})."
        )
    } else if kind == ProxyKind::Backend && l4l5 {
        format!(
            "a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules (defaults section at {dorigin})."
        )
    } else if kind == ProxyKind::Frontend && rsp {
        format!(
            "a frontend section cannot inherit from a defaults section defining 'tcp-response content' rules (defaults section at {dorigin})."
        )
    } else {
        refs.rule_cap = Some(kind);
        return true;
    };
    c.alert_tight(l, "defaults-with-rules", msg);
    c.aborted = true;
    false
}

#[cfg(test)]
mod tests {
    use crate::config::source::SourceFile;

    /// The alert texts for `text` (HAProxy 2.6.12 gives the same ones for
    /// these configs, checked with `haproxy -c`).
    fn alerts(text: &str) -> (Vec<String>, bool) {
        let files = [SourceFile {
            name: "t.cfg".into(),
            content: text.as_bytes().to_vec(),
        }];
        let r = crate::config::check_files(&files, &|_| None, Default::default());
        let texts = r
            .diags
            .items
            .iter()
            .filter(|d| d.level == crate::config::diag::Level::Alert)
            .map(|d| d.text.clone())
            .collect();
        (texts, r.failed)
    }

    const B: &str = "  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n";

    #[test]
    fn explicit_and_implicit_use_is_reported_but_not_fatal() {
        let (a, failed) = alerts(&format!(
            "defaults d1\n{B}backend b from d1\n  server s 127.0.0.1:1\nbackend c\n  server s 127.0.0.1:1\n"
        ));
        assert!(!failed);
        assert_eq!(
            a,
            [
                "parsing [t.cfg:8] : defaults section 'd1' (declared at t.cfg:1) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references."
            ]
        );
    }

    #[test]
    fn defaults_with_rules_cannot_init_a_listen() {
        let (a, failed) = alerts(&format!(
            "defaults d1\n{B}  http-request deny\nlisten l from d1\n  bind 127.0.0.1:1\n"
        ));
        assert!(failed);
        assert_eq!(
            a.first().map(String::as_str),
            Some(
                "parsing [t.cfg:7]: a listen section cannot inherit from a defaults section defining TCP/HTTP rules."
            )
        );
    }

    #[test]
    fn a_defaults_section_without_from_inherits_nothing() {
        let (a, failed) = alerts(&format!(
            "defaults d1\n{B}  http-request deny\ndefaults d2\n{B}frontend f from d1\n  bind 127.0.0.1:1\n"
        ));
        assert!(!failed, "{a:?}");
        assert!(a.is_empty(), "{a:?}");
    }
}
