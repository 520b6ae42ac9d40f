//! Sample expressions: `fetch[(args)][,conv[(args)]]*`.
//!
//! Owns: HAProxy 2.6's `sample_parse_expr` (single word, multi-word legacy
//! converter syntax, and the log-format "stop at first foreign character"
//! mode), converter chain type checks, and the load-time argument checks
//! (`val_args`) of the fetches/converters we know. Messages are returned
//! bare (no trailing period); callers add their own context.

use std::path::Path;

use super::args::{Arg, ArgError, make_arg_list};
use super::pattern::{MatchMethod, load_pattern_file};
use super::regex_check::check_regex;
use super::{ArgRef, SampleExpr};
use crate::grammar::samples::{self, ArgType, SmpType, can_cast};

/// HAProxy's `is_idchar`.
pub fn is_idchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b':')
}

/// Length of the keyword at the start of `s`.
pub fn kw_len(s: &str) -> usize {
    s.bytes().take_while(|&c| is_idchar(c)).count()
}

const VAR_SCOPES: [&str; 6] = ["proc.", "sess.", "txn.", "req.", "res.", "check."];

/// Whether `name` is a valid scoped variable name (`txn.foo`).
pub fn is_var_name(name: &str) -> bool {
    VAR_SCOPES
        .iter()
        .any(|p| name.strip_prefix(p).is_some_and(|r| !r.is_empty()))
}

fn var_check(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Empty variable name cannot be accepted".into());
    }
    if !is_var_name(name) {
        return Err(format!(
            "invalid variable name '{name}'. A variable name must be start by its scope. \
             The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
        ));
    }
    Ok(())
}

fn str_arg(args: &[Arg], i: usize) -> Option<&str> {
    match args.get(i) {
        Some(Arg::Str(s)) | Some(Arg::Ref(_, s)) => Some(s),
        _ => None,
    }
}

fn int_arg(args: &[Arg], i: usize) -> Option<i64> {
    match args.get(i) {
        Some(Arg::Int(v)) => Some(*v),
        _ => None,
    }
}

/// Load-time checks of a fetch's arguments (`val_args`).
fn fetch_val_args(name: &str, args: &[Arg]) -> Result<(), String> {
    if name == "var" {
        var_check(str_arg(args, 0).unwrap_or(""))?;
    }
    Ok(())
}

/// The match method implied by a `map_*` converter name.
fn map_method(name: &str) -> Option<MatchMethod> {
    let rest = name.strip_prefix("map")?;
    let kind = rest.strip_prefix('_').unwrap_or("str");
    let kind = kind.split('_').next().unwrap_or("str");
    let kind = if kind.is_empty() { "str" } else { kind };
    MatchMethod::from_name(kind)
}

/// Load-time checks of a converter's arguments (`val_args`).
pub(crate) fn conv_val_args(name: &str, args: &[Arg], base_dir: &Path) -> Result<(), String> {
    match name {
        "json" => match str_arg(args, 0).unwrap_or("") {
            "" | "ascii" | "utf8" | "utf8s" | "utf8p" | "utf8ps" => Ok(()),
            _ => Err(
                "Unexpected input code type. Allowed value are 'ascii', 'utf8', \
                      'utf8s', 'utf8p' and 'utf8ps'"
                    .into(),
            ),
        },
        "field" | "word" => {
            if int_arg(args, 0) == Some(0) {
                return Err("Unexpected value 0 for index".into());
            }
            if str_arg(args, 1) == Some("") {
                return Err("Empty separators list".into());
            }
            Ok(())
        }
        "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" => {
            let a = str_arg(args, 0).unwrap_or("");
            let (_, n) = super::args::read_int64(a.as_bytes());
            if n == a.len() || is_var_name(a) {
                Ok(())
            } else {
                Err("expects an integer or a variable name".into())
            }
        }
        "concat" => match str_arg(args, 1) {
            Some(v) if !v.is_empty() && !is_var_name(v) => {
                Err(format!("failed to register variable name '{v}'"))
            }
            _ => Ok(()),
        },
        "strcmp" | "secure_memcmp" => match str_arg(args, 0) {
            Some(v) if !is_var_name(v) => Err(format!("failed to register variable name '{v}'")),
            _ => Ok(()),
        },
        "regsub" => {
            let flags = str_arg(args, 2).unwrap_or("");
            match flags.chars().find(|c| *c != 'i' && *c != 'g') {
                Some(c) => Err(format!(
                    "invalid regex flag '{c}', only 'i' and 'g' are supported"
                )),
                None => Ok(()),
            }
        }
        _ => match map_method(name) {
            Some(m) if name.starts_with("map") => {
                let file = str_arg(args, 0).unwrap_or("");
                load_pattern_file(m, file, base_dir, false, true, true).map(|_| ())
            }
            _ => Ok(()),
        },
    }
}

/// Where the expression comes from, which decides how parsing stops.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One word that must be fully consumed.
    Word,
    /// Stop quietly at the first character that is not a `,` (log-format).
    Prefix,
}

/// Parses converters after the fetch. Returns the end offset in the word.
#[allow(clippy::too_many_arguments)]
fn parse_convs(
    words: &[&str],
    idx: &mut usize,
    mut pos: usize,
    mode: Mode,
    multi: bool,
    fkw: &str,
    expr: &mut SampleExpr,
    base_dir: &Path,
) -> Result<usize, String> {
    let mut ckw: Option<String> = None;
    let mut prev = expr.out_type_fetch;
    loop {
        let mut word = words.get(*idx).copied().unwrap_or("");
        let b = word.as_bytes();
        if pos < b.len() && b[pos] != b',' {
            if mode == Mode::Prefix {
                break;
            }
            return Err(match &ckw {
                Some(c) => format!("missing comma after converter '{c}'"),
                None => format!("missing comma after fetch keyword '{fkw}'"),
            });
        }
        while pos < b.len() && b[pos] == b',' {
            pos += 1;
        }
        let mut at_word_start = false;
        if pos >= b.len() {
            if !multi {
                break;
            }
            *idx += 1;
            word = words.get(*idx).copied().unwrap_or("");
            if word.is_empty() {
                break;
            }
            pos = 0;
            at_word_start = true;
        }
        let rest = &word[pos..];
        let kl = kw_len(rest);
        let name = &rest[..kl];
        let Some(conv) = samples::converter(name) else {
            if at_word_start {
                // an isolated keyword that is not ours: leave it to the caller
                break;
            }
            return Err(format!("unknown converter '{name}'"));
        };
        ckw = Some(name.to_string());
        if !can_cast(prev, conv.input) {
            return Err(format!("converter '{name}' cannot be applied"));
        }
        prev = conv.out;
        let list = make_arg_list(word, pos + kl, &conv.args).map_err(|ArgError { msg, pos }| {
            format!("invalid arg {} in converter '{name}' : {msg}", pos + 1)
        })?;
        conv_val_args(name, &list.args, base_dir)
            .map_err(|e| format!("invalid args in converter '{name}' : {e}"))?;
        let ci = expr.convs.len();
        for (i, a) in list.args.iter().enumerate() {
            if let Arg::Ref(t, v) = a {
                expr.refs.push(ArgRef {
                    kind: *t,
                    value: v.clone(),
                    arg_pos: i,
                    conv: Some(ci),
                });
            }
        }
        expr.convs.push((name.to_string(), list.raw));
        expr.conv_args.push(list.args);
        pos = list.end;
    }
    expr.out_type = prev;
    Ok(pos)
}

/// Core parser shared by every entry point. `words[*idx]` is the expression;
/// with `multi`, following words may be legacy space-separated converters,
/// and `*idx` ends at the first word not consumed. Returns the end offset in
/// the last word used (meaningful for `Mode::Prefix`).
pub(crate) fn parse_words(
    words: &[&str],
    idx: &mut usize,
    mode: Mode,
    multi: bool,
    base_dir: &Path,
) -> Result<(SampleExpr, usize), String> {
    let text = words.get(*idx).copied().unwrap_or("");
    let kl = kw_len(text);
    if kl == 0 {
        return Err("missing fetch method".into());
    }
    let fkw = &text[..kl];
    let Some(fetch) = samples::fetch(fkw) else {
        return Err(format!("unknown fetch method '{fkw}'"));
    };
    let list = make_arg_list(text, kl, &fetch.args)
        .map_err(|e| format!("fetch method '{fkw}' : {}", e.msg))?;
    fetch_val_args(fkw, &list.args)
        .map_err(|e| format!("invalid args in fetch method '{fkw}' : {e}"))?;
    let mut expr = SampleExpr {
        fetch: fkw.to_string(),
        fetch_args: list.raw,
        convs: Vec::new(),
        fetch_typed: list.args,
        conv_args: Vec::new(),
        out_type_fetch: fetch.out,
        out_type: fetch.out,
        refs: Vec::new(),
    };
    for (i, a) in expr.fetch_typed.iter().enumerate() {
        if let Arg::Ref(t, v) = a {
            expr.refs.push(ArgRef {
                kind: *t,
                value: v.clone(),
                arg_pos: i,
                conv: None,
            });
        }
    }
    let end = parse_convs(words, idx, list.end, mode, multi, fkw, &mut expr, base_dir)?;
    if !multi && mode == Mode::Word {
        *idx += 1;
    }
    Ok((expr, end))
}

/// Validates a regex argument (`regsub`) as the late resolver would.
pub fn check_regex_arg(re: &str, icase: bool) -> Result<(), String> {
    check_regex(re, icase).map(|_| ())
}

/// The sample type `t` an ACL built on `expr` gets by default.
pub fn default_match(t: SmpType) -> Option<MatchMethod> {
    MatchMethod::default_for(t)
}

/// Resolve kinds that must name an existing object (for callers' messages).
pub fn ref_kind_name(t: ArgType) -> &'static str {
    t.name()
}
