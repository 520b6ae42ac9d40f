//! ACLs and conditions (`acl` lines, `if`/`unless` expressions).
//!
//! Owns: compiling the raw ACL words kept in the IR (`[name, criterion,
//! flags..., values...]`) into matchers, the predefined ACLs, and
//! evaluating `if`/`unless` conditions (AND of terms, `||`/`or` between
//! groups, `!` negation, anonymous `{ ... }` ACLs). A criterion we do not
//! implement is an error at startup, never a silent mismatch.
//! Must not modify messages.

use super::fetch::{Ctx, Fetch};
use std::net::IpAddr;
use std::sync::Arc;

/// How values are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Beg,
    End,
    Sub,
    Dir,
    Dom,
    Reg,
    Len,
    Found,
    Ip,
    Int,
    Bool(bool),
}

/// One `acl` line (or anonymous ACL).
#[derive(Debug, Clone)]
pub struct Expr {
    fetch: Option<Fetch>,
    kind: Kind,
    icase: bool,
    values: Vec<Vec<u8>>,
    regexes: Vec<regex::bytes::Regex>,
    nets: Vec<(IpAddr, u8)>,
    ints: Vec<(i64, i64)>,
}

/// A named ACL: the OR of its declarations.
#[derive(Debug, Clone)]
pub struct Acl {
    pub name: String,
    exprs: Vec<Expr>,
}

/// The ACLs of one proxy.
#[derive(Debug, Clone, Default)]
pub struct AclSet {
    acls: Vec<Arc<Acl>>,
}

impl AclSet {
    /// Compiles a proxy's `acl` lines (raw words without the `acl` keyword).
    pub fn compile(lines: &[Vec<String>]) -> Result<AclSet, String> {
        let mut set: Vec<Acl> = Vec::new();
        for words in lines {
            let Some(name) = words.first() else { continue };
            let e = Expr::compile(&words[1..])?;
            match set.iter_mut().find(|a| &a.name == name) {
                Some(a) => a.exprs.push(e),
                None => set.push(Acl {
                    name: name.clone(),
                    exprs: vec![e],
                }),
            }
        }
        Ok(AclSet {
            acls: set.into_iter().map(Arc::new).collect(),
        })
    }

    fn find(&self, name: &str) -> Result<Arc<Acl>, String> {
        if let Some(a) = self.acls.iter().find(|a| a.name == name) {
            return Ok(a.clone());
        }
        predefined(name)
            .map(|words| {
                let w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
                Expr::compile(&w).map(|e| {
                    Arc::new(Acl {
                        name: name.to_string(),
                        exprs: vec![e],
                    })
                })
            })
            .unwrap_or_else(|| Err(format!("no such ACL : '{name}'")))
    }
}

/// HAProxy's predefined ACLs we support, as anonymous ACL words.
fn predefined(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "TRUE" => &["always_true"],
        "FALSE" => &["always_false"],
        "HTTP" => &["always_true"],
        "HTTP_1.0" => &["req.ver", "1.0"],
        "HTTP_1.1" => &["req.ver", "1.1"],
        "METH_CONNECT" => &["method", "CONNECT"],
        "METH_DELETE" => &["method", "DELETE"],
        "METH_GET" => &["method", "GET", "HEAD"],
        "METH_HEAD" => &["method", "HEAD"],
        "METH_OPTIONS" => &["method", "OPTIONS"],
        "METH_POST" => &["method", "POST"],
        "METH_PUT" => &["method", "PUT"],
        "METH_TRACE" => &["method", "TRACE"],
        "HTTP_URL_ABS" => &["url_reg", "^[^/:]*://"],
        "HTTP_URL_SLASH" => &["url_beg", "/"],
        "HTTP_URL_STAR" => &["url", "*"],
        "LOCALHOST" => &["src", "127.0.0.1/8", "::1"],
        _ => return None,
    })
}

impl Expr {
    fn compile(words: &[String]) -> Result<Expr, String> {
        let crit = words.first().ok_or("missing ACL criterion")?;
        let (base, arg) = match crit.find('(') {
            Some(i) => (&crit[..i], Some(&crit[i..])),
            None => (crit.as_str(), None),
        };
        let mut kind = None;
        let mut fetch_name = base.to_string();
        if base == "always_true" || base == "always_false" {
            return Ok(Expr::bare(None, Kind::Bool(base == "always_true")));
        }
        for (suf, k) in [
            ("_beg", Kind::Beg),
            ("_end", Kind::End),
            ("_sub", Kind::Sub),
            ("_dir", Kind::Dir),
            ("_dom", Kind::Dom),
            ("_reg", Kind::Reg),
            ("_len", Kind::Len),
            ("_cnt", Kind::Found),
            ("_str", Kind::Str),
        ] {
            if let Some(b) = base.strip_suffix(suf) {
                if Fetch::parse(&format!("{b}{}", arg.unwrap_or(""))).is_some() {
                    fetch_name = b.to_string();
                    kind = Some(k);
                }
                break;
            }
        }
        let full = format!("{fetch_name}{}", arg.unwrap_or(""));
        let fetch =
            Fetch::parse(&full).ok_or_else(|| format!("unsupported ACL criterion '{crit}'"))?;
        let mut e = Expr::bare(Some(fetch.clone()), kind.unwrap_or(default_kind(&fetch)));
        let mut i = 1;
        while i < words.len() {
            let w = words[i].as_str();
            match w {
                "-i" => e.icase = true,
                "-n" => {}
                "--" => {
                    i += 1;
                    break;
                }
                "-m" => {
                    i += 1;
                    let m = words.get(i).ok_or("missing match method after '-m'")?;
                    e.kind = match m.as_str() {
                        "str" => Kind::Str,
                        "beg" => Kind::Beg,
                        "end" => Kind::End,
                        "sub" => Kind::Sub,
                        "dir" => Kind::Dir,
                        "dom" => Kind::Dom,
                        "reg" => Kind::Reg,
                        "len" => Kind::Len,
                        "found" => Kind::Found,
                        "ip" => Kind::Ip,
                        "int" => Kind::Int,
                        other => return Err(format!("unsupported match method '-m {other}'")),
                    };
                }
                "-u" => i += 1,
                "-f" => {
                    i += 1;
                    let f = words.get(i).ok_or("missing file name after '-f'")?;
                    let text = std::fs::read_to_string(f)
                        .map_err(|err| format!("failed to open pattern file <{f}> : {err}"))?;
                    for l in text.lines() {
                        let l = l.trim();
                        if !l.is_empty() && !l.starts_with('#') {
                            e.add_value(l)?;
                        }
                    }
                }
                _ if w.starts_with('-') && w.len() > 1 => {
                    return Err(format!("unsupported ACL flag '{w}'"));
                }
                _ => break,
            }
            i += 1;
        }
        for v in &words[i.min(words.len())..] {
            e.add_value(v)?;
        }
        if e.kind == Kind::Reg {
            e.regexes = e
                .values
                .iter()
                .map(|v| {
                    regex::bytes::RegexBuilder::new(&String::from_utf8_lossy(v))
                        .case_insensitive(e.icase)
                        .build()
                        .map_err(|err| err.to_string())
                })
                .collect::<Result<_, _>>()?;
        }
        if e.icase {
            for v in &mut e.values {
                v.make_ascii_lowercase();
            }
        }
        Ok(e)
    }

    fn bare(fetch: Option<Fetch>, kind: Kind) -> Expr {
        Expr {
            fetch,
            kind,
            icase: false,
            values: Vec::new(),
            regexes: Vec::new(),
            nets: Vec::new(),
            ints: Vec::new(),
        }
    }

    fn add_value(&mut self, v: &str) -> Result<(), String> {
        match self.kind {
            Kind::Ip => self.nets.push(
                parse_net(v).ok_or_else(|| format!("'{v}' is not a valid IPv4 or IPv6 address"))?,
            ),
            Kind::Int | Kind::Len => self
                .ints
                .push(parse_range(v).ok_or_else(|| format!("'{v}' is not a number"))?),
            _ => self.values.push(v.as_bytes().to_vec()),
        }
        Ok(())
    }

    fn eval(&self, c: &Ctx<'_>) -> bool {
        if let Kind::Bool(b) = self.kind {
            return b;
        }
        let Some(f) = &self.fetch else { return false };
        let mut vals = Vec::new();
        f.values(c, &mut vals);
        vals.iter().any(|v| self.matches(v))
    }

    fn matches(&self, v: &[u8]) -> bool {
        let lowered;
        let v = if self.icase && self.kind != Kind::Reg {
            lowered = v.to_ascii_lowercase();
            &lowered[..]
        } else {
            v
        };
        let any = |f: &dyn Fn(&[u8]) -> bool| self.values.iter().any(|p| f(p));
        match self.kind {
            Kind::Str => any(&|p| p == v),
            Kind::Beg => any(&|p| v.starts_with(p)),
            Kind::End => any(&|p| v.ends_with(p)),
            Kind::Sub => any(&|p| contains(v, p)),
            Kind::Dir => any(&|p| delimited(v, p, b"/")),
            Kind::Dom => any(&|p| delimited(v, p, b"/.")),
            Kind::Reg => self.regexes.iter().any(|r| r.is_match(v)),
            Kind::Found => true,
            Kind::Len => self
                .ints
                .iter()
                .any(|&(lo, hi)| (lo..=hi).contains(&(v.len() as i64))),
            Kind::Int => {
                let n = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok());
                n.is_some_and(|n| self.ints.iter().any(|&(lo, hi)| (lo..=hi).contains(&n)))
            }
            Kind::Ip => {
                let ip = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<IpAddr>().ok());
                ip.is_some_and(|ip| self.nets.iter().any(|&(n, bits)| in_net(ip, n, bits)))
            }
            Kind::Bool(b) => b,
        }
    }
}

fn default_kind(f: &Fetch) -> Kind {
    match f {
        Fetch::Src | Fetch::Dst => Kind::Ip,
        Fetch::SrcPort | Fetch::DstPort | Fetch::Status => Kind::Int,
        _ => Kind::Str,
    }
}

fn contains(h: &[u8], n: &[u8]) -> bool {
    n.is_empty() || h.windows(n.len()).any(|w| w == n)
}

/// `p` appears in `v` bounded by delimiters (or the ends).
fn delimited(v: &[u8], p: &[u8], delims: &[u8]) -> bool {
    let p = p.strip_prefix(b"/").unwrap_or(p);
    if p.is_empty() {
        return false;
    }
    v.split(|b| delims.contains(b))
        .collect::<Vec<_>>()
        .windows(p.split(|b| delims.contains(b)).count())
        .any(|w| {
            let mut parts = p.split(|b| delims.contains(b));
            w.iter().all(|seg| parts.next() == Some(*seg))
        })
}

fn parse_range(v: &str) -> Option<(i64, i64)> {
    match v.split_once(':') {
        Some((a, b)) => {
            let lo = if a.is_empty() {
                i64::MIN
            } else {
                a.parse().ok()?
            };
            let hi = if b.is_empty() {
                i64::MAX
            } else {
                b.parse().ok()?
            };
            Some((lo, hi))
        }
        None => v.parse().ok().map(|n| (n, n)),
    }
}

fn parse_net(v: &str) -> Option<(IpAddr, u8)> {
    let (a, bits) = match v.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (v, None),
    };
    let ip: IpAddr = a.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        Some(b) => match b.parse::<u8>() {
            Ok(n) if n <= max => n,
            // A dotted mask (255.255.0.0).
            _ => match b.parse::<std::net::Ipv4Addr>() {
                Ok(m) => u32::from(m).count_ones() as u8,
                Err(_) => return None,
            },
        },
    };
    Some((ip, bits))
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let ip = match (ip, net) {
        (IpAddr::V6(v6), IpAddr::V4(_)) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        _ => ip,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}

/// One term of a condition.
#[derive(Debug, Clone)]
struct Term {
    neg: bool,
    acl: Arc<Acl>,
}

/// An `if`/`unless` condition: OR of AND-groups.
#[derive(Debug, Clone)]
pub struct Cond {
    unless: bool,
    groups: Vec<Vec<Term>>,
}

impl Cond {
    /// Compiles `words` starting with `if` or `unless`; `Ok(None)` when
    /// there is no condition.
    pub fn compile(words: &[String], acls: &AclSet) -> Result<Option<Cond>, String> {
        let Some(first) = words.first() else {
            return Ok(None);
        };
        let unless = match first.as_str() {
            "if" => false,
            "unless" => true,
            other => return Err(format!("expected 'if' or 'unless' but got '{other}'")),
        };
        let mut groups = vec![Vec::new()];
        let mut i = 1;
        while i < words.len() {
            let mut w = words[i].as_str();
            if w == "||" || w == "or" {
                groups.push(Vec::new());
                i += 1;
                continue;
            }
            let mut neg = false;
            if w == "!" {
                neg = true;
                i += 1;
                w = words
                    .get(i)
                    .map(String::as_str)
                    .ok_or("missing ACL after '!'")?;
            } else if let Some(rest) = w.strip_prefix('!') {
                neg = true;
                w = rest;
            }
            let acl = if w == "{" {
                let end = words[i..]
                    .iter()
                    .position(|x| x == "}")
                    .ok_or("missing '}' in condition")?
                    + i;
                let e = Expr::compile(&words[i + 1..end])?;
                i = end;
                Arc::new(Acl {
                    name: "anonymous".into(),
                    exprs: vec![e],
                })
            } else {
                acls.find(w)?
            };
            if let Some(g) = groups.last_mut() {
                g.push(Term { neg, acl });
            }
            i += 1;
        }
        Ok(Some(Cond { unless, groups }))
    }

    pub fn eval(&self, c: &Ctx<'_>) -> bool {
        let hit = self.groups.iter().any(|g| {
            g.iter()
                .all(|t| t.acl.exprs.iter().any(|e| e.eval(c)) != t.neg)
        });
        hit != self.unless
    }
}

/// Evaluates an optional condition (absent = true).
pub fn holds(c: &Option<Cond>, ctx: &Ctx<'_>) -> bool {
    c.as_ref().is_none_or(|c| c.eval(ctx))
}

#[cfg(test)]
mod tests;
