//! `if|unless <term> [or|'||' <term>]...` conditions and predefined ACLs.
//!
//! Owns: HAProxy 2.6's `parse_acl_cond` structure (negation with `!`,
//! implicit AND inside a suite, `or`/`||` between suites, anonymous ACLs in
//! braces), lookup order (declared names first, then predefined), and the
//! predefined ACL table. Must not know which ACLs a proxy declared: the
//! caller answers through `is_declared`.

use std::path::Path;

use super::acl::{AclDef, parse_acl_named};

/// `if` or `unless`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondPolarity {
    If,
    Unless,
}

/// What a term refers to.
#[derive(Debug, Clone)]
pub enum AclRef {
    /// An ACL declared in the proxy (resolved by the caller).
    Named(String),
    /// A predefined ACL (`TRUE`, `METH_GET`, ...), already parsed.
    Predefined(String, Box<AclDef>),
    /// An anonymous ACL `{ criterion ... }`.
    Anonymous(Box<AclDef>),
}

/// One possibly negated ACL reference.
#[derive(Debug, Clone)]
pub struct Term {
    pub neg: bool,
    pub acl: AclRef,
}

/// A parsed condition: suites are OR-ed, terms within a suite AND-ed.
#[derive(Debug, Clone)]
pub struct Cond {
    pub polarity: CondPolarity,
    pub suites: Vec<Vec<Term>>,
    /// Warnings from anonymous/predefined ACLs, verbatim (see `AclDef`).
    pub warnings: Vec<String>,
    /// Number of words used, counting `if`/`unless` (parsing stops at the
    /// first empty word).
    pub consumed: usize,
}

/// The predefined ACLs of HAProxy 2.6 and their definitions.
pub const PREDEFINED: &[(&str, &[&str])] = &[
    ("TRUE", &["always_true"]),
    ("FALSE", &["always_false"]),
    ("LOCALHOST", &["src", "127.0.0.1/8", "::1"]),
    ("HTTP", &["req.proto_http"]),
    ("HTTP_1.0", &["req.ver", "1.0"]),
    ("HTTP_1.1", &["req.ver", "1.1"]),
    ("HTTP_2.0", &["req.ver", "2.0"]),
    ("HTTP_CONTENT", &["req.hdr_val(content-length)", "gt", "0"]),
    ("HTTP_URL_ABS", &["url_reg", "^[^/:]*://"]),
    ("HTTP_URL_SLASH", &["url_beg", "/"]),
    ("HTTP_URL_STAR", &["url", "*"]),
    ("METH_CONNECT", &["method", "CONNECT"]),
    ("METH_DELETE", &["method", "DELETE"]),
    ("METH_GET", &["method", "GET", "HEAD"]),
    ("METH_HEAD", &["method", "HEAD"]),
    ("METH_OPTIONS", &["method", "OPTIONS"]),
    ("METH_POST", &["method", "POST"]),
    ("METH_PUT", &["method", "PUT"]),
    ("METH_TRACE", &["method", "TRACE"]),
    ("RDP_COOKIE", &["req.rdp_cookie_cnt", "gt", "0"]),
    ("REQ_CONTENT", &["req.len", "gt", "0"]),
    ("WAIT_END", &["wait_end"]),
];

/// Parses a predefined ACL by name (case-sensitive).
pub fn predefined_acl(name: &str) -> Option<AclDef> {
    let (_, def) = PREDEFINED.iter().find(|(n, _)| *n == name)?;
    parse_acl_named(name, def, Path::new(".")).ok()
}

/// Parses a condition; `args[0]` must be `if` or `unless`. `is_declared`
/// tells whether the proxy declared an ACL of that name (checked before the
/// predefined ones, which it may override).
pub fn parse_cond(
    args: &[&str],
    is_declared: &dyn Fn(&str) -> bool,
    base_dir: &Path,
) -> Result<Cond, String> {
    let end = args.iter().position(|a| a.is_empty()).unwrap_or(args.len());
    let args = &args[..end];
    let polarity = match args.first().copied() {
        Some("if") => CondPolarity::If,
        Some("unless") => CondPolarity::Unless,
        _ => return Err("conditions must start with either 'if' or 'unless'".into()),
    };
    let mut suites: Vec<Vec<Term>> = Vec::new();
    let mut in_suite = false;
    let mut warnings = Vec::new();
    let mut neg = false;
    let mut i = 1;
    while i < args.len() {
        let mut word = args[i];
        while let Some(w) = word.strip_prefix('!') {
            neg = !neg;
            word = w;
        }
        if word.is_empty() {
            i += 1;
            continue;
        }
        if word.eq_ignore_ascii_case("or") || word == "||" {
            in_suite = false;
            neg = false;
            i += 1;
            continue;
        }
        let acl = if word == "{" {
            let close = args[i + 1..]
                .iter()
                .position(|a| *a == "}")
                .ok_or_else(|| "missing closing '}' in condition".to_string())?;
            let inner = &args[i + 1..i + 1 + close];
            let def = parse_acl_named("", inner, base_dir)?;
            warnings.extend(def.warnings.iter().cloned());
            i += close + 1;
            AclRef::Anonymous(Box::new(def))
        } else if is_declared(word) {
            AclRef::Named(word.to_string())
        } else if let Some(def) = predefined_acl(word) {
            AclRef::Predefined(word.to_string(), Box::new(def))
        } else {
            return Err(format!("no such ACL : '{word}'"));
        };
        if !in_suite {
            suites.push(Vec::new());
            in_suite = true;
        }
        if let Some(s) = suites.last_mut() {
            s.push(Term { neg, acl });
        }
        neg = false;
        i += 1;
    }
    Ok(Cond {
        polarity,
        suites,
        warnings,
        consumed: end,
    })
}
