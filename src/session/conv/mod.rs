//! Converters: the `,name(args)` steps of a sample expression (`lower`,
//! `map(file)`, `regsub(re,repl)`, `add(1)`, `base64`, hashes, ...).
//!
//! Owns: the converters we implement, compiled from the arguments the
//! configuration parser typed, and applying them to one sample. A converter
//! we do not implement is an error at startup. Must not fetch.

pub mod hash;
pub mod map;
mod text;

use crate::config::sample::Arg;
use crate::session::fetch::{Smp, sess};
use std::borrow::Cow;
use std::net::IpAddr;

/// An integer operand: a constant or a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Int(i64),
    Var(String),
}

impl Operand {
    fn get(&self) -> Option<i64> {
        match self {
            Operand::Int(i) => Some(*i),
            Operand::Var(v) => sess::get_var(v)?.to_int(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
    Crc32c,
}

/// A converter we implement, with its arguments.
#[derive(Debug, Clone)]
pub enum Conv {
    Lower,
    Upper,
    Length,
    Bytes(i64, Option<i64>),
    Concat(String, Option<String>, String),
    Arith(Arith, Operand),
    Neg,
    Cpl,
    Not,
    Bool,
    Odd,
    Even,
    Strcmp(String),
    Field {
        idx: i64,
        delims: Vec<u8>,
        count: i64,
        word: bool,
    },
    Base64,
    B64Dec,
    Hex,
    Hex2i,
    UrlDec(bool),
    Json(text::JsonMode),
    IpMask(u32, Option<u128>),
    Regsub(regex::bytes::Regex, Vec<u8>, bool),
    Ltrim(Vec<u8>),
    Rtrim(Vec<u8>),
    HostOnly,
    PortOnly,
    Hash(Hash, bool),
    Xxh32(u32),
    Map(Box<map::Map>),
    SetVar(String),
    UnsetVar(String),
}

fn s_arg(a: &[Arg], i: usize) -> Option<String> {
    match a.get(i) {
        Some(Arg::Str(s)) | Some(Arg::Ref(_, s)) => Some(s.clone()),
        Some(Arg::Int(v)) => Some(v.to_string()),
        _ => None,
    }
}

fn i_arg(a: &[Arg], i: usize) -> Option<i64> {
    match a.get(i) {
        Some(Arg::Int(v)) => Some(*v),
        Some(Arg::Str(s)) => Some(crate::config::sample::args::read_int64(s.as_bytes()).0),
        _ => None,
    }
}

fn operand(a: &[Arg]) -> Operand {
    let s = s_arg(a, 0).unwrap_or_default();
    if crate::config::sample::expr::is_var_name(&s) {
        Operand::Var(s)
    } else {
        Operand::Int(crate::config::sample::args::read_int64(s.as_bytes()).0)
    }
}

/// Decodes hex text (`bin()` fetch, `-m bin` style).
pub fn hex_decode(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|p| {
            let h = (p[0] as char).to_digit(16)?;
            let l = (p[1] as char).to_digit(16)?;
            Some((h * 16 + l) as u8)
        })
        .collect()
}

impl Conv {
    /// Compiles converter `name`; `Err` names one we do not implement.
    pub fn compile(name: &str, a: &[Arg]) -> Result<Conv, String> {
        use Conv as C;
        let arith = |op| Ok(C::Arith(op, operand(a)));
        let hash = |h| Ok(C::Hash(h, i_arg(a, 0).unwrap_or(0) != 0));
        let mask4 = |v: &Arg| match v {
            Arg::Ipv4(m) => Some(u32::from(*m)),
            _ => None,
        };
        match name {
            "lower" => Ok(C::Lower),
            "upper" => Ok(C::Upper),
            "length" => Ok(C::Length),
            "bytes" => Ok(C::Bytes(i_arg(a, 0).unwrap_or(0), i_arg(a, 1))),
            "concat" => Ok(C::Concat(
                s_arg(a, 0).unwrap_or_default(),
                s_arg(a, 1).filter(|v| !v.is_empty()),
                s_arg(a, 2).unwrap_or_default(),
            )),
            "add" => arith(Arith::Add),
            "sub" => arith(Arith::Sub),
            "mul" => arith(Arith::Mul),
            "div" => arith(Arith::Div),
            "mod" => arith(Arith::Mod),
            "and" => arith(Arith::And),
            "or" => arith(Arith::Or),
            "xor" => arith(Arith::Xor),
            "neg" => Ok(C::Neg),
            "cpl" => Ok(C::Cpl),
            "not" => Ok(C::Not),
            "bool" => Ok(C::Bool),
            "odd" => Ok(C::Odd),
            "even" => Ok(C::Even),
            "strcmp" => Ok(C::Strcmp(s_arg(a, 0).unwrap_or_default())),
            "field" | "word" => Ok(C::Field {
                idx: i_arg(a, 0).unwrap_or(1),
                delims: s_arg(a, 1).unwrap_or_default().into_bytes(),
                count: i_arg(a, 2).unwrap_or(1),
                word: name == "word",
            }),
            "base64" => Ok(C::Base64),
            "b64dec" => Ok(C::B64Dec),
            "hex" => Ok(C::Hex),
            "hex2i" => Ok(C::Hex2i),
            "url_dec" => Ok(C::UrlDec(i_arg(a, 0).unwrap_or(0) != 0)),
            "json" => Ok(C::Json(text::JsonMode::parse(
                &s_arg(a, 0).unwrap_or_default(),
            ))),
            "ipmask" => Ok(C::IpMask(
                a.first().and_then(mask4).unwrap_or(u32::MAX),
                match a.get(1) {
                    Some(Arg::Ipv6(m)) => Some(u128::from(*m)),
                    _ => None,
                },
            )),
            "regsub" => {
                let re = s_arg(a, 0).unwrap_or_default();
                let flags = s_arg(a, 2).unwrap_or_default();
                let r = regex::bytes::RegexBuilder::new(&re)
                    .case_insensitive(flags.contains('i'))
                    .build()
                    .map_err(|_| format!("regex '{re}' of converter 'regsub' is not supported"))?;
                Ok(C::Regsub(
                    r,
                    s_arg(a, 1).unwrap_or_default().into_bytes(),
                    flags.contains('g'),
                ))
            }
            "ltrim" => Ok(C::Ltrim(s_arg(a, 0).unwrap_or_default().into_bytes())),
            "rtrim" => Ok(C::Rtrim(s_arg(a, 0).unwrap_or_default().into_bytes())),
            "host_only" => Ok(C::HostOnly),
            "port_only" => Ok(C::PortOnly),
            "sdbm" => hash(Hash::Sdbm),
            "djb2" => hash(Hash::Djb2),
            "wt6" => hash(Hash::Wt6),
            "crc32" => hash(Hash::Crc32),
            "crc32c" => hash(Hash::Crc32c),
            "xxh32" => Ok(C::Xxh32(i_arg(a, 0).unwrap_or(0) as u32)),
            "set-var" => Ok(C::SetVar(s_arg(a, 0).unwrap_or_default())),
            "unset-var" => Ok(C::UnsetVar(s_arg(a, 0).unwrap_or_default())),
            n if n.starts_with("map") => {
                let file = s_arg(a, 0).unwrap_or_default();
                Ok(C::Map(Box::new(map::Map::load(
                    n,
                    &file,
                    s_arg(a, 1).as_deref(),
                )?)))
            }
            other => Err(format!("converter '{other}' is not implemented")),
        }
    }

    /// Applies the converter; `None` when it fails (the expression then
    /// gives no value).
    pub fn apply<'a>(&self, v: Smp<'a>) -> Option<Smp<'a>> {
        use Conv as C;
        let int = |f: &dyn Fn(i64) -> i64| v.to_int().map(|i| Smp::Int(f(i)));
        Some(match self {
            C::Lower => map_bytes(v, |b| b.to_ascii_lowercase()),
            C::Upper => map_bytes(v, |b| b.to_ascii_uppercase()),
            C::Length => Smp::Int(v.to_bytes().len() as i64),
            C::Bytes(off, len) => {
                let b = v.into_bytes();
                let off = usize::try_from(*off).unwrap_or(0).min(b.len());
                let end = match len {
                    Some(l) => off
                        .saturating_add(usize::try_from(*l).unwrap_or(0))
                        .min(b.len()),
                    None => b.len(),
                };
                Smp::Bin(slice(b, off, end))
            }
            C::Concat(pre, var, post) => {
                let mut b = v.into_bytes().into_owned();
                b.extend_from_slice(pre.as_bytes());
                if let Some(x) = var.as_deref().and_then(sess::get_var) {
                    b.extend_from_slice(&x.to_bytes());
                }
                b.extend_from_slice(post.as_bytes());
                Smp::owned(b)
            }
            C::Arith(op, o) => {
                let x = v.to_int()?;
                let y = o.get()?;
                Smp::Int(arith(*op, x, y))
            }
            C::Neg => int(&|i| i.wrapping_neg())?,
            C::Cpl => int(&|i| !i)?,
            C::Not => Smp::Bool(!v.to_bool()?),
            C::Bool => Smp::Bool(v.to_bool()?),
            C::Odd => Smp::Bool(v.to_int()? & 1 == 1),
            C::Even => Smp::Bool(v.to_int()? & 1 == 0),
            C::Strcmp(var) => {
                let other = sess::get_var(var)?;
                let (a, b) = (v.to_bytes(), other.to_bytes());
                let n = a.len().min(b.len());
                let r = a[..n]
                    .iter()
                    .zip(&b[..n])
                    .find(|(x, y)| x != y)
                    .map_or(a.len() as i64 - b.len() as i64, |(x, y)| {
                        i64::from(*x) - i64::from(*y)
                    });
                Smp::Int(r)
            }
            C::Field {
                idx,
                delims,
                count,
                word,
            } => {
                let b = v.into_bytes();
                let r = if *word {
                    text::word(&b, *idx, delims, *count)
                } else {
                    text::field(&b, *idx, delims, *count)
                }?;
                Smp::Str(slice(b, r.0, r.1))
            }
            C::Base64 => Smp::owned(text::base64(&v.to_bytes()).into_bytes()),
            C::B64Dec => Smp::Bin(Cow::Owned(text::b64dec(&v.to_bytes())?)),
            C::Hex => Smp::owned(
                v.to_bytes()
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>()
                    .into_bytes(),
            ),
            C::Hex2i => {
                let b = v.to_bytes();
                let s = std::str::from_utf8(&b).ok()?;
                Smp::Int(u64::from_str_radix(s, 16).ok()? as i64)
            }
            C::UrlDec(form) => Smp::owned(text::url_dec(&v.to_bytes(), *form)?),
            C::Json(m) => Smp::owned(text::json(&v.to_bytes(), *m)?),
            C::IpMask(m4, m6) => match v.to_ip()? {
                IpAddr::V4(a) => Smp::Ip(IpAddr::V4((u32::from(a) & m4).into())),
                IpAddr::V6(a) => Smp::Ip(IpAddr::V6((u128::from(a) & (*m6)?).into())),
            },
            C::Regsub(re, repl, global) => {
                let b = v.to_bytes();
                let out = if *global {
                    re.replace_all(&b, text::Repl(repl))
                } else {
                    re.replace(&b, text::Repl(repl))
                };
                Smp::owned(out.into_owned())
            }
            C::Ltrim(cs) => {
                let b = v.into_bytes();
                let s = b.iter().position(|c| !cs.contains(c)).unwrap_or(b.len());
                let e = b.len();
                Smp::Str(slice(b, s, e))
            }
            C::Rtrim(cs) => {
                let b = v.into_bytes();
                let e = b.iter().rposition(|c| !cs.contains(c)).map_or(0, |i| i + 1);
                Smp::Str(slice(b, 0, e))
            }
            C::HostOnly => {
                let b = v.to_bytes();
                let (h, _) = text::split_host(&b)?;
                Smp::owned(h.to_ascii_lowercase())
            }
            C::PortOnly => {
                let b = v.to_bytes();
                let (_, p) = text::split_host(&b)?;
                Smp::Int(p.map_or(Some(0), |p| std::str::from_utf8(p).ok()?.parse().ok())?)
            }
            C::Hash(h, avalanche) => {
                let b = v.to_bytes();
                let x = match h {
                    Hash::Sdbm => hash::sdbm(&b),
                    Hash::Djb2 => hash::djb2(&b),
                    Hash::Wt6 => hash::wt6(&b),
                    Hash::Crc32 => hash::crc32(&b),
                    Hash::Crc32c => hash::crc32c(&b),
                };
                Smp::Int(i64::from(if *avalanche { hash::full_hash(x) } else { x }))
            }
            C::Xxh32(seed) => Smp::Int(i64::from(hash::xxh32(&v.to_bytes(), *seed))),
            C::Map(m) => m.lookup(&v)?,
            C::SetVar(n) => {
                sess::set_var(n, v.clone());
                v
            }
            C::UnsetVar(n) => {
                sess::unset_var(n);
                v
            }
        })
    }
}

fn slice(b: Cow<'_, [u8]>, s: usize, e: usize) -> Cow<'_, [u8]> {
    match b {
        Cow::Borrowed(x) => Cow::Borrowed(&x[s..e.max(s)]),
        Cow::Owned(x) => Cow::Owned(x[s..e.max(s)].to_vec()),
    }
}

fn map_bytes<'a>(v: Smp<'a>, f: impl Fn(&[u8]) -> Vec<u8>) -> Smp<'a> {
    Smp::owned(f(&v.to_bytes()))
}

/// HAProxy's saturating arithmetic (`arith_add` and friends).
fn arith(op: Arith, x: i64, y: i64) -> i64 {
    match op {
        Arith::Add => x.saturating_add(y),
        Arith::Sub => x.saturating_sub(y),
        Arith::Mul => x.saturating_mul(y),
        Arith::Div => {
            if y == 0 {
                i64::MAX
            } else {
                x.checked_div(y).unwrap_or(i64::MAX)
            }
        }
        Arith::Mod => {
            if y == 0 {
                0
            } else {
                x.checked_rem(y).unwrap_or(0)
            }
        }
        Arith::And => x & y,
        Arith::Or => x | y,
        Arith::Xor => x ^ y,
    }
}

#[cfg(test)]
mod tests;
