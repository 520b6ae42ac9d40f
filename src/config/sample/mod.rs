//! Sample expressions, ACLs and `if`/`unless` conditions of the
//! configuration, parsed exactly like HAProxy 2.6 with its error texts.
//!
//! Owns: parsing and load-time validation only (argument types, converter
//! chains, match methods, patterns and pattern files, predefined ACLs,
//! condition structure). Must not evaluate samples at run time, resolve
//! proxy/table/server names (returned in [`SampleExpr::refs`] for the
//! caller), or print anything: errors are returned as HAProxy's message text
//! without the `parsing [file:line] : ...` prefix.

pub mod acl;
pub mod args;
pub mod cond;
pub mod expr;
pub mod pattern;
pub mod regex_check;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use acl::{AclDef, AclFlags, check_acl_name, parse_acl, parse_acl_named};
pub use args::Arg;
pub use cond::{AclRef, Cond, CondPolarity, Term, parse_cond, predefined_acl};
pub use pattern::{MatchMethod, PatValue, Pattern};

use crate::grammar::samples::{self, ArgType, SmpType, Status};

/// An argument that names something resolved after parsing (backend,
/// frontend, table, server, userlist, regex). An empty `value` means "the
/// current proxy" for backend/frontend/table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgRef {
    pub kind: ArgType,
    pub value: String,
    /// 0-based argument position (HAProxy prints `arg_pos + 1`).
    pub arg_pos: usize,
    /// Index in [`SampleExpr::convs`] when the argument belongs to a
    /// converter, `None` for the fetch.
    pub conv: Option<usize>,
}

/// A parsed sample expression.
#[derive(Debug, Clone)]
pub struct SampleExpr {
    pub fetch: String,
    /// Raw (unescaped) argument texts of the fetch.
    pub fetch_args: Vec<String>,
    /// Converters with their raw argument texts.
    pub convs: Vec<(String, Vec<String>)>,
    /// Typed arguments of the fetch.
    pub fetch_typed: Vec<Arg>,
    /// Typed arguments of each converter (same order as `convs`).
    pub conv_args: Vec<Vec<Arg>>,
    /// Output type of the fetch alone.
    pub out_type_fetch: SmpType,
    /// Output type of the whole expression.
    pub out_type: SmpType,
    /// Arguments to resolve later.
    pub refs: Vec<ArgRef>,
}

/// Parses one word as a sample expression (the whole word must be used).
/// `Err` is HAProxy's bare message, e.g. `unknown converter 'frobnicate'`;
/// callers add context: `http-request set-var` prints `<msg>.`, log-format
/// prints [`logformat_error`], ACLs print `<msg> in ACL expression '<w>'`.
pub fn parse_sample_expr(text: &str) -> Result<SampleExpr, String> {
    parse_sample_expr_in(text, Path::new("."))
}

/// [`parse_sample_expr`] with relative map files resolved from `base_dir`.
pub fn parse_sample_expr_in(text: &str, base_dir: &Path) -> Result<SampleExpr, String> {
    let words = [text];
    let mut idx = 0;
    expr::parse_words(&words, &mut idx, expr::Mode::Word, false, base_dir).map(|(e, _)| e)
}

/// Parses `words[*idx]` allowing HAProxy's legacy syntax where following
/// words may each be a converter (`str(a) lower`). On success `*idx` is the
/// first word not consumed (as used by `http-request set-var` and friends).
pub fn parse_sample_expr_words(
    words: &[&str],
    idx: &mut usize,
    base_dir: &Path,
) -> Result<SampleExpr, String> {
    expr::parse_words(words, idx, expr::Mode::Word, true, base_dir).map(|(e, _)| e)
}

/// Parses a sample expression at the start of `text` and stops at the first
/// character that cannot continue it (log-format `%[...]`). Returns the
/// expression and the byte offset where parsing stopped.
pub fn parse_sample_expr_prefix(
    text: &str,
    base_dir: &Path,
) -> Result<(SampleExpr, usize), String> {
    let words = [text];
    let mut idx = 0;
    expr::parse_words(&words, &mut idx, expr::Mode::Prefix, false, base_dir)
}

/// The log-format wrapping of a sample error:
/// `failed to parse sample expression <TEXT> : MSG.`, where TEXT is the rest
/// of the log-format string from the expression start (e.g. `req.hdr(host),frobnicate]`).
pub fn logformat_error(text: &str, msg: &str) -> String {
    format!("failed to parse sample expression <{text}> : {msg}.")
}

/// Names of the fetches and converters of `expr` our engine does not
/// implement (status `unsupported` in the registry), in order, deduplicated.
pub fn unsupported_in(expr: &SampleExpr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |n: &str| {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    };
    if samples::fetch(&expr.fetch).is_none_or(|f| f.status == Status::Unsupported) {
        push(&expr.fetch);
    }
    for (c, _) in &expr.convs {
        if samples::converter(c).is_none_or(|k| k.status == Status::Unsupported) {
            push(c);
        }
    }
    out
}
