//! Typed argument lists of fetches and converters: `kw(a,b,...)`.
//!
//! Owns: HAProxy 2.6's `make_arg_list` behaviour (quotes, backslash escapes,
//! empty arguments, `)` handling, min/max counts) and its error texts. Must
//! not know about fetch/converter semantics (that is `expr.rs`).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::grammar::samples::{ArgSpec, ArgType};

/// One parsed argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Str(String),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    /// A reference resolved after parsing (backend, table, server, userlist,
    /// frontend, regex): the raw text, possibly empty (= current proxy).
    Ref(ArgType, String),
}

/// Outcome of `make_arg_list`.
#[derive(Debug)]
pub struct ArgList {
    pub args: Vec<Arg>,
    /// Raw (unescaped) text of each argument.
    pub raw: Vec<String>,
    /// Byte offset in the input of the first character after the list.
    pub end: usize,
}

/// An argument list error: the message and the 0-based argument index that
/// HAProxy reports (`err_arg`).
#[derive(Debug)]
pub struct ArgError {
    pub msg: String,
    pub pos: usize,
}

/// HAProxy's `read_int64`: optional sign then digits; stops at the first
/// non-digit. Returns the value and the number of bytes consumed.
pub fn read_int64(s: &[u8]) -> (i64, usize) {
    let mut i = 0;
    let mut neg = false;
    if s.first() == Some(&b'-') {
        neg = true;
        i = 1;
    } else if s.first() == Some(&b'+') {
        i = 1;
    }
    let mut v: u64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.wrapping_mul(10).wrapping_add(u64::from(s[i] - b'0'));
        i += 1;
    }
    let v = v as i64;
    (if neg { v.wrapping_neg() } else { v }, i)
}

/// HAProxy's `str2mask`: a CIDR length (0..=32) or a dotted netmask.
pub fn str2mask4(s: &str) -> Option<Ipv4Addr> {
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Some(a);
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 3 {
        return None;
    }
    let n: u32 = s.parse().ok()?;
    if n > 32 {
        return None;
    }
    let m = if n == 0 { 0 } else { u32::MAX << (32 - n) };
    Some(Ipv4Addr::from(m))
}

/// HAProxy's `str2mask6`: a prefix length (0..=128) or an IPv6 mask.
pub fn str2mask6(s: &str) -> Option<Ipv6Addr> {
    if let Ok(a) = s.parse::<Ipv6Addr>() {
        return Some(a);
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 3 {
        return None;
    }
    let n: u32 = s.parse().ok()?;
    if n > 128 {
        return None;
    }
    let m = if n == 0 { 0 } else { u128::MAX << (128 - n) };
    Some(Ipv6Addr::from(m))
}

/// Reads one argument starting at `i`, honouring quotes and escapes. Returns
/// the unescaped word and the index of the terminator (`,` `)` or end).
fn read_word(b: &[u8], mut i: usize) -> (String, usize) {
    let mut out: Vec<u8> = Vec::new();
    let (mut sq, mut dq) = (false, false);
    while i < b.len() {
        let c = b[i];
        if c == b'"' && !sq {
            dq = !dq;
            i += 1;
        } else if c == b'\'' && !dq {
            sq = !sq;
            i += 1;
        } else if c == b'\\' && !sq && i + 1 < b.len() {
            match b[i + 1] {
                n @ (b'\\' | b' ' | b'"' | b'\'') => {
                    out.push(n);
                    i += 1;
                }
                b'r' => {
                    out.push(b'\r');
                    i += 1;
                }
                b'n' => {
                    out.push(b'\n');
                    i += 1;
                }
                b't' => {
                    out.push(b'\t');
                    i += 1;
                }
                _ => out.push(b'\\'),
            }
            i += 1;
        } else {
            if !sq && !dq && (c == b',' || c == b')') {
                break;
            }
            out.push(c);
            i += 1;
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), i)
}

fn typed(t: ArgType, w: &str, pos: usize) -> Result<Arg, ArgError> {
    let empty = || ArgError {
        msg: format!(
            "expected type '{}' at position {}, but got nothing",
            t.name(),
            pos + 1
        ),
        pos,
    };
    let bad = || ArgError {
        msg: format!(
            "failed to parse '{}' as type '{}' at position {}",
            w,
            t.name(),
            pos + 1
        ),
        pos,
    };
    match t {
        ArgType::Sint => {
            if w.is_empty() {
                return Err(empty());
            }
            let (v, n) = read_int64(w.as_bytes());
            if n < w.len() {
                return Err(bad());
            }
            Ok(Arg::Int(v))
        }
        ArgType::Str | ArgType::Var | ArgType::Map | ArgType::Time | ArgType::Size => {
            Ok(Arg::Str(w.to_string()))
        }
        ArgType::Fe | ArgType::Be | ArgType::Tab | ArgType::Srv | ArgType::Usr | ArgType::Reg => {
            Ok(Arg::Ref(t, w.to_string()))
        }
        ArgType::Ipv4 => {
            if w.is_empty() {
                return Err(empty());
            }
            w.parse().map(Arg::Ipv4).map_err(|_| bad())
        }
        ArgType::Msk4 => {
            if w.is_empty() {
                return Err(empty());
            }
            str2mask4(w).map(Arg::Ipv4).ok_or_else(bad)
        }
        ArgType::Ipv6 => {
            if w.is_empty() {
                return Err(empty());
            }
            w.parse().map(Arg::Ipv6).map_err(|_| bad())
        }
        ArgType::Msk6 => {
            if w.is_empty() {
                return Err(empty());
            }
            str2mask6(w).map(Arg::Ipv6).ok_or_else(bad)
        }
        ArgType::PbufFnum => {
            if w.is_empty() {
                return Err(empty());
            }
            let ok = w
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if ok {
                Ok(Arg::Str(w.to_string()))
            } else {
                Err(bad())
            }
        }
    }
}

/// Parses the argument list starting at byte `start` of `text` (which points
/// at `(` or at whatever follows the keyword), per `spec`.
pub fn make_arg_list(text: &str, start: usize, spec: &ArgSpec) -> Result<ArgList, ArgError> {
    let b = text.as_bytes();
    let mut i = start;
    let empty = if b.get(i) == Some(&b'(') {
        i += 1;
        false
    } else {
        true
    };
    let nbarg = spec.types.len();
    let mut args = Vec::new();
    let mut raw = Vec::new();
    let mut pos = 0;
    // `fetch()` with only optional arguments is the same as `fetch`.
    let no_args = !empty && spec.min == 0 && b.get(i) == Some(&b')');
    if nbarg > 0 && !(empty && spec.min == 0) && !no_args {
        while pos < nbarg {
            let (w, j) = if empty {
                (String::new(), i)
            } else {
                read_word(b, i)
            };
            i = j;
            args.push(typed(spec.types[pos], &w, pos)?);
            raw.push(w);
            pos += 1;
            if empty || i >= b.len() || b[i] == b')' || pos >= nbarg {
                break;
            }
            i += 1; // skip the comma
        }
    }
    if pos < spec.min {
        let t = spec
            .types
            .get(pos)
            .map(|t| t.name())
            .unwrap_or("end of arguments");
        return Err(ArgError {
            msg: format!(
                "missing arguments (got {}/{}), type '{}' expected",
                pos, spec.min, t
            ),
            pos,
        });
    }
    if !empty {
        if b.get(i) == Some(&b')') {
            i += 1;
        } else {
            let rest = &text[i.min(text.len())..];
            let msg = if rest.is_empty() {
                "expected ')'".to_string()
            } else {
                format!("expected ')' before '{rest}'")
            };
            let pos = if pos > 1 { pos - 1 } else { pos };
            return Err(ArgError { msg, pos });
        }
    }
    Ok(ArgList { args, raw, end: i })
}
