//! `http-request`, `http-response`, `http-after-response` and `redirect`
//! rule validation with HAProxy 2.6's messages.
//!
//! Owns: action-name lookup (with HAProxy's "expects ..." lists, which are
//! in its registration order, not alphabetical), per-action argument shapes,
//! log-format `%[...]` sample expressions, and where the condition starts.
//! Must not evaluate anything at run time.

/// How a rule failed; the caller adds HAProxy's location prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    UnknownAction(String),
    Parse(String),
    Plain(String),
}

const HTTP_REQUEST_ACTIONS: &str = "'wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'";

const HTTP_RESPONSE_ACTIONS: &str = "'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'cache-store', 'add-acl(*)', 'add-header', 'allow', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'redirect', 'replace-header', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-status', 'strict-mode', 'track-sc(*)', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop'";

const HTTP_AFTER_RESPONSE_ACTIONS: &str = "'ot-group', 'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'";

fn action_list(ruleset: &str) -> &'static str {
    match ruleset {
        "http-request" => HTTP_REQUEST_ACTIONS,
        "http-response" => HTTP_RESPONSE_ACTIONS,
        _ => HTTP_AFTER_RESPONSE_ACTIONS,
    }
}

/// Whether `action` is in HAProxy's list for `ruleset` (`(*)` entries match
/// any `name(...)` form).
fn known_action(ruleset: &str, action: &str) -> bool {
    let has_paren = action.contains('(');
    action_list(ruleset).split(", ").any(|q| {
        let q = q.trim_matches('\'');
        // `(*)` marks HAProxy's prefix-matched actions (`track-sc0`,
        // `set-var(txn.x)`, `sc-inc-gpc0(1)`).
        match q.strip_suffix("(*)") {
            Some(p) => action.starts_with(p) && (has_paren || action.len() > p.len()),
            None => q == action,
        }
    })
}

/// Validates one rule line. Returns the index of `if`/`unless` when the rule
/// has a condition.
pub fn check_http_rule(
    words: &[&str],
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<usize>, RuleError> {
    let _ = getenv;
    let ruleset = words.first().copied().unwrap_or("");
    if ruleset == "redirect" {
        return check_redirect(words, 1);
    }
    let action = words.get(1).copied().unwrap_or("");
    // Lua actions are registered by `lua-load` scripts; the caller decides.
    if action.starts_with("lua.") {
        let cond_at = words.iter().position(|w| *w == "if" || *w == "unless");
        return Ok(cond_at);
    }
    if !known_action(ruleset, action) {
        let got = if action.is_empty() {
            "'' (missing argument)".to_string()
        } else {
            format!("'{action}'")
        };
        return Err(RuleError::UnknownAction(format!(
            "'{ruleset}' expects {}, but got {got}.",
            action_list(ruleset)
        )));
    }
    let base = action.split('(').next().unwrap_or(action);
    let args: Vec<&str> = words[2..].to_vec();
    let cond_at = args.iter().position(|w| *w == "if" || *w == "unless");
    let pre: &[&str] = match cond_at {
        Some(i) => &args[..i],
        None => &args,
    };
    let bad_tail = |extra: &str| {
        RuleError::UnknownAction(format!(
            "'{ruleset} {action}' expects either 'if' or 'unless' followed by a condition but found '{extra}'."
        ))
    };
    match base {
        "set-header" | "add-header" => {
            if pre.len() != 2 {
                return Err(RuleError::Parse("expects exactly 2 arguments.".into()));
            }
            check_log_format(pre[1])?;
        }
        "replace-header" | "replace-value" => {
            if pre.len() != 3 {
                return Err(RuleError::Parse("expects exactly 3 arguments.".into()));
            }
            check_regex(pre[1])?;
            check_log_format(pre[2])?;
        }
        "replace-path" | "replace-pathq" | "replace-uri" => {
            if pre.len() != 2 {
                return Err(RuleError::Parse("expects exactly 2 arguments.".into()));
            }
            check_regex(pre[0])?;
            check_log_format(pre[1])?;
        }
        "del-header" if pre.is_empty() => {
            return Err(RuleError::Parse("expects at least 1 argument.".into()));
        }
        "set-path" | "set-pathq" | "set-query" | "set-uri" | "set-method" | "set-status"
        | "early-hint" | "set-log-level" | "set-nice" | "set-mark" | "set-tos" => {
            if pre.is_empty() {
                return Err(RuleError::Parse("expects exactly 1 argument.".into()));
            }
            if matches!(
                base,
                "set-path" | "set-pathq" | "set-query" | "set-uri" | "set-method"
            ) {
                check_log_format(pre[0])?;
            }
        }
        "set-var" => {
            let expr = pre.join(" ");
            if expr.is_empty() {
                return Err(RuleError::Parse("missing fetch method.".into()));
            }
            check_sample(pre[0])?;
        }
        "set-var-fmt" => {
            if let Some(f) = pre.first() {
                check_log_format(f)?;
            }
        }
        "deny" | "tarpit" | "return" | "auth" | "allow" | "reject" | "silent-drop"
        | "disable-l7-retry" | "wait-for-handshake" => {
            let mut i = 0;
            while i < pre.len() {
                match pre[i] {
                    "deny_status" | "status" => {
                        if pre.get(i + 1).is_none() {
                            return Err(RuleError::Parse(
                                "'status' expects <status_code> as argument.".into(),
                            ));
                        }
                        i += 2;
                    }
                    "content-type" | "errorfile" | "errorfiles" | "file" | "lf-file" | "string"
                    | "lf-string" | "realm" => {
                        if pre.get(i + 1).is_none() {
                            return Err(RuleError::Parse(format!(
                                "'{}' expects <arg> as argument.",
                                pre[i]
                            )));
                        }
                        if pre[i] == "lf-string" {
                            check_log_format(pre[i + 1])?;
                        }
                        i += 2;
                    }
                    "hdr" => i += 3,
                    "default-errorfiles" => i += 1,
                    other
                        if matches!(
                            base,
                            "allow"
                                | "reject"
                                | "silent-drop"
                                | "disable-l7-retry"
                                | "wait-for-handshake"
                        ) || !other.is_empty() =>
                    {
                        return Err(bad_tail(other));
                    }
                    _ => i += 1,
                }
            }
        }
        "redirect" => return check_redirect(words, 2).map(|_| cond_at.map(|i| i + 2)),
        _ => {}
    }
    Ok(cond_at.map(|i| i + 2))
}

fn check_redirect(words: &[&str], start: usize) -> Result<Option<usize>, RuleError> {
    let cond_at = words
        .iter()
        .skip(start)
        .position(|w| *w == "if" || *w == "unless")
        .map(|i| i + start);
    let opts = &words[start.min(words.len())..cond_at.unwrap_or(words.len())];
    // The type may come anywhere among the options (`code 302 location /x`).
    if !opts
        .iter()
        .any(|w| matches!(*w, "prefix" | "location" | "scheme"))
    {
        return Err(RuleError::Parse(
            "redirection type expected ('prefix', 'location', or 'scheme').".into(),
        ));
    }
    Ok(cond_at)
}

fn check_regex(re: &str) -> Result<(), RuleError> {
    regex::Regex::new(re)
        .map(|_| ())
        .map_err(|e| RuleError::Parse(format!("regex '{re}' is invalid: {e}")))
}

fn check_sample(expr: &str) -> Result<(), RuleError> {
    crate::config::sample::parse_sample_expr(expr)
        .map(|_| ())
        .map_err(|e| RuleError::Parse(format!("{e}.")))
}

/// Checks the `%[...]` sample expressions of a log-format string.
pub fn check_log_format(fmt: &str) -> Result<(), RuleError> {
    let cwd = std::path::Path::new(".");
    let mut i = 0;
    while let Some(off) = fmt[i..].find("%[") {
        let start = i + off + 2;
        let rest = &fmt[start..];
        match crate::config::sample::parse_sample_expr_prefix(rest, cwd) {
            Ok((_, used)) => i = (start + used + 1).min(fmt.len()),
            Err(e) => {
                return Err(RuleError::Parse(crate::config::sample::logformat_error(
                    rest, &e,
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chk(w: &[&str]) -> Result<Option<usize>, RuleError> {
        check_http_rule(w, &|_| None)
    }

    #[test]
    fn action_lists() {
        assert!(known_action("http-request", "set-var(txn.x)"));
        assert!(!known_action("http-request", "set-var"));
        assert!(known_action("http-response", "set-status"));
        assert!(!known_action("http-request", "set-status"));
        match chk(&["http-request", "frobnicate"]) {
            Err(RuleError::UnknownAction(m)) => {
                assert!(m.starts_with("'http-request' expects 'wait-for-handshake', "));
                assert!(m.ends_with(", but got 'frobnicate'."));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn argument_counts() {
        assert_eq!(
            chk(&["http-request", "set-header", "X"]),
            Err(RuleError::Parse("expects exactly 2 arguments.".into()))
        );
        assert_eq!(
            chk(&["http-request", "set-header", "X", "y", "if", "a"]),
            Ok(Some(4))
        );
        assert_eq!(
            chk(&["http-request", "deny", "foo"]),
            Err(RuleError::UnknownAction(
                "'http-request deny' expects either 'if' or 'unless' followed by a condition but found 'foo'.".into()
            ))
        );
    }
}
