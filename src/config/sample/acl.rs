//! ACL declarations: `acl <name> <criterion> [flags] [operator] [<value>] ...`.
//!
//! Owns: HAProxy 2.6's `parse_acl`/`parse_acl_expr` (ACL keywords vs plain
//! sample fetches, flags `-i -f -m -n -M -u --`, integer operators, pattern
//! validation, the "no pattern" and "extraneous space" warnings) with its
//! exact messages. Must not keep a registry of ACL names or `-u` ids: the
//! caller merges same-name ACLs and checks id uniqueness.

use std::path::Path;

use super::SampleExpr;
use super::args::{Arg, make_arg_list};
use super::expr::{self, kw_len};
use super::pattern::{MatchMethod, Pattern, load_pattern_file, parse_pattern};
use crate::grammar::samples::{self, SmpType, can_cast};

/// Flags given on the ACL line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclFlags {
    /// `-i`
    pub ignore_case: bool,
    /// `-n`
    pub no_dns: bool,
    /// `-M`
    pub as_map: bool,
    /// `-u <id>`
    pub unique_id: Option<i64>,
}

/// One parsed ACL expression.
#[derive(Debug, Clone)]
pub struct AclDef {
    /// The criterion as a sample expression.
    pub expr: SampleExpr,
    /// Keyword shown in messages: the ACL keyword (`path_beg`) or the fetch.
    pub kw: String,
    pub match_method: MatchMethod,
    pub flags: AclFlags,
    pub patterns: Vec<Pattern>,
    /// Files given with `-f`, in order.
    pub files: Vec<String>,
    /// Warnings, verbatim as HAProxy's `ha_warning` text (each ends in
    /// `\n`; the "no pattern" one ends in `\n\n`). Print without adding a
    /// newline.
    pub warnings: Vec<String>,
}

/// Checks an ACL name like the `acl` keyword parser does.
pub fn check_acl_name(name: &str) -> Result<(), String> {
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':')))
    {
        Some(c) => Err(format!(
            "character '{c}' is not permitted in acl name '{name}'."
        )),
        None => Ok(()),
    }
}

fn conv_loop(
    kw: &str,
    crit: &str,
    mut pos: usize,
    expr: &mut SampleExpr,
    base_dir: &Path,
) -> Result<(), String> {
    let b = crit.as_bytes();
    let mut ckw: Option<String> = None;
    let mut cur = expr.out_type_fetch;
    while pos < b.len() {
        if b[pos] != b',' {
            return Err(match &ckw {
                Some(c) => format!("ACL keyword '{kw}' : missing comma after converter '{c}'."),
                None => format!("ACL keyword '{kw}' : missing comma after fetch keyword."),
            });
        }
        while pos < b.len() && b[pos] == b',' {
            pos += 1;
        }
        if pos >= b.len() {
            break;
        }
        let kl = kw_len(&crit[pos..]);
        let name = &crit[pos..pos + kl];
        ckw = Some(name.to_string());
        let Some(conv) = samples::converter(name) else {
            return Err(format!("ACL keyword '{kw}' : unknown converter '{name}'."));
        };
        if !can_cast(cur, conv.input) {
            return Err(format!(
                "ACL keyword '{kw}' : converter '{name}' cannot be applied."
            ));
        }
        cur = conv.out;
        let list = make_arg_list(crit, pos + kl, &conv.args).map_err(|e| {
            format!(
                "ACL keyword '{kw}' : invalid arg {} in converter '{name}' : {}.",
                e.pos + 1,
                e.msg
            )
        })?;
        expr::conv_val_args(name, &list.args, base_dir).map_err(|m| {
            format!("ACL keyword '{kw}' : invalid args in converter '{name}' : {m}.")
        })?;
        expr.convs.push((name.to_string(), list.raw));
        expr.conv_args.push(list.args);
        pos = list.end;
    }
    expr.out_type = cur;
    Ok(())
}

/// Parses the criterion (`args[0]`), returning the expression, the keyword
/// for messages, and the match method if one is implied.
fn parse_criterion(
    args: &[&str],
    base_dir: &Path,
) -> Result<(SampleExpr, String, Option<MatchMethod>), String> {
    let crit = args.first().copied().unwrap_or("");
    let kl = kw_len(crit);
    if let Some(akw) = samples::acl_keyword(&crit[..kl]).filter(|_| kl > 0) {
        let kw = akw.name.as_str();
        let Some(fetch) = samples::fetch(&akw.fetch) else {
            return Err(format!("unknown fetch method '{}'", akw.fetch));
        };
        let list = make_arg_list(crit, kl, &fetch.args)
            .map_err(|e| format!("ACL keyword '{kw}' : {}", e.msg))?;
        let mut expr = SampleExpr {
            fetch: fetch.name.clone(),
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
                expr.refs.push(super::ArgRef {
                    kind: *t,
                    value: v.clone(),
                    arg_pos: i,
                    conv: None,
                });
            }
        }
        conv_loop(kw, crit, list.end, &mut expr, base_dir)?;
        if expr.convs.is_empty() {
            let m = match kw {
                "req.ssl_ver" | "req_ssl_ver" => Some(MatchMethod::DottedVer),
                "method" => Some(MatchMethod::Meth),
                _ => MatchMethod::from_name(&akw.match_method),
            };
            return Ok((expr, kw.to_string(), m));
        }
        let m = MatchMethod::default_for(expr.out_type);
        return Ok((expr, fetch.name.clone(), m));
    }
    let mut idx = 0;
    let (expr, _) = expr::parse_words(args, &mut idx, expr::Mode::Word, true, base_dir)
        .map_err(|e| format!("{e} in ACL expression '{crit}'"))?;
    let m = MatchMethod::default_for(expr.out_type);
    let kw = expr.fetch.clone();
    Ok((expr, kw, m))
}

/// HAProxy's `strtol(s, &end, 10)` with `*end == 0` required.
fn strtol_full(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if t.is_empty() {
        return if s.is_empty() { Some(0) } else { None };
    }
    let (neg, d) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = d.parse().unwrap_or(i64::MAX);
    Some(if neg { -v } else { v })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

fn std_op(s: &str) -> Option<Op> {
    Some(match s {
        "eq" => Op::Eq,
        "gt" => Op::Gt,
        "ge" => Op::Ge,
        "lt" => Op::Lt,
        "le" => Op::Le,
        _ => return None,
    })
}

fn strl2llrc(s: &str) -> Option<i64> {
    let d = s.strip_prefix('-').unwrap_or(s);
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Rewrites `<op> <value>` into the range syntax, like HAProxy does.
fn apply_op(op: Op, arg: &str, dotted: bool) -> Result<String, String> {
    let nan = || format!("'{arg}' is neither a number nor a supported operator");
    let (major, minor) = match arg.find('.') {
        Some(p) => (&arg[..p], Some(&arg[p + 1..])),
        None => (arg, None),
    };
    let mut minor_v = 0i64;
    if let (true, Some(m)) = (dotted, minor) {
        minor_v = strl2llrc(m).ok_or_else(nan)?;
        if minor_v >= 65536 {
            return Err(format!("'{arg}' contains too large a minor value"));
        }
    }
    let mut value = strl2llrc(major).ok_or_else(nan)?;
    if dotted {
        if value >= 65536 {
            return Err(format!("'{arg}' contains too large a major value"));
        }
        value = (value << 16) | (minor_v & 0xffff);
    }
    let fmt = |v: i64| {
        if dotted {
            format!("{}.{}", v >> 16, v & 0xffff)
        } else {
            v.to_string()
        }
    };
    Ok(match op {
        Op::Eq => return Err("internal error".into()),
        Op::Gt => format!("{}:", fmt(value.wrapping_add(1))),
        Op::Ge => format!("{}:", fmt(value)),
        Op::Lt => format!(":{}", fmt(value.wrapping_sub(1))),
        Op::Le => format!(":{}", fmt(value)),
    })
}

/// Parses an ACL expression: `args` are the words after `acl <name>`
/// (criterion first). Words after the first empty one are ignored. Does not
/// emit the name-dependent "extraneous space" warning (see
/// [`parse_acl_named`]).
pub fn parse_acl(args: &[&str], base_dir: &Path) -> Result<AclDef, String> {
    let end = args.iter().position(|a| a.is_empty()).unwrap_or(args.len());
    let args = &args[..end];
    let (expr, kw, mut method) = parse_criterion(args, base_dir)?;
    let cur_type = expr.out_type;
    let mut warnings = Vec::new();
    if method.is_some() && cur_type != SmpType::Bool && args.len() < 2 {
        warnings.push(format!(
            "parsing acl keyword '{}' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use '-m bool'.\n\n",
            args.first().copied().unwrap_or("")
        ));
    }
    let need_m = |kw: &str| {
        format!(
            "matching method must be specified first (using '-m') when using a sample fetch of this type ('{kw}')"
        )
    };
    let mut flags = AclFlags::default();
    let mut patterns = Vec::new();
    let mut files = Vec::new();
    let mut loaded = false;
    let mut i = 1;
    let next = |i: usize| args.get(i + 1).copied().unwrap_or("");
    while i < args.len() && args[i].starts_with('-') {
        match args[i] {
            "-i" => flags.ignore_case = true,
            "-n" => flags.no_dns = true,
            "-u" => {
                let id = strtol_full(next(i))
                    .ok_or_else(|| "the argument of -u must be an integer".to_string())?;
                flags.unique_id = Some(id);
                i += 1;
            }
            "-f" => {
                let Some(m) = method else {
                    return Err(need_m(&kw));
                };
                let f = next(i);
                patterns.extend(load_pattern_file(
                    m,
                    f,
                    base_dir,
                    flags.ignore_case,
                    !flags.no_dns,
                    flags.as_map,
                )?);
                files.push(f.to_string());
                loaded = true;
                i += 1;
            }
            "-m" => {
                if loaded {
                    return Err("'-m' must only be specified before patterns and files in parsing ACL expression".into());
                }
                let name = next(i);
                let m = MatchMethod::from_name(name).ok_or_else(|| {
                    format!("unknown matching method '{name}' when parsing ACL expression")
                })?;
                if m != MatchMethod::Found && !can_cast(cur_type, m.expect_type()) {
                    return Err(format!(
                        "matching method '{name}' cannot be used with fetch keyword '{kw}'"
                    ));
                }
                method = Some(m);
                i += 1;
            }
            "-M" => flags.as_map = true,
            "--" => {
                i += 1;
                break;
            }
            other => {
                return Err(format!(
                    "'{other}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
                ));
            }
        }
        i += 1;
    }
    let Some(method) = method else {
        return Err(need_m(&kw));
    };
    let mut op = Op::Eq;
    for &arg in args.iter().skip(i) {
        let mut text = arg.to_string();
        if method.takes_operators() {
            if let Some(o) = std_op(arg) {
                op = o;
                continue;
            }
            let has_sep = arg.contains(':') || arg.contains('-');
            if !has_sep && op != Op::Eq {
                text = apply_op(op, arg, method == MatchMethod::DottedVer)?;
            }
        }
        let value = parse_pattern(method, &text, flags.ignore_case, !flags.no_dns)?;
        patterns.push(Pattern {
            text,
            value,
            origin: None,
        });
    }
    Ok(AclDef {
        expr,
        kw,
        match_method: method,
        flags,
        patterns,
        files,
        warnings,
    })
}

/// [`parse_acl`] for a named ACL, adding HAProxy's warning about a first
/// argument starting with `(` after a criterion without parenthesis.
pub fn parse_acl_named(name: &str, args: &[&str], base_dir: &Path) -> Result<AclDef, String> {
    let mut def = parse_acl(args, base_dir)?;
    let crit = args.first().copied().unwrap_or("");
    let first = args.get(1).copied().unwrap_or("");
    if !crit.contains('(') && first.starts_with('(') {
        def.warnings.push(format!(
            "parsing acl '{name}' :\n  matching '{crit}' for pattern '{first}' is likely a mistake and probably\n  not what you want. Maybe you need to remove the extraneous space before '('.\n  If you are really sure this is not an error, please insert '--' between the\n  match and the pattern to make this warning message disappear.\n"
        ));
    }
    Ok(def)
}
