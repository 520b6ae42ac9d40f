//! ACL/map patterns: match methods, per-method pattern parsing and pattern
//! files.
//!
//! Owns: `-m` method names, the pattern parsers (`pat_parse_int`,
//! `pat_parse_dotted_ver`, `pat_parse_ip`, `pat_parse_bin`, regex) with
//! HAProxy 2.6's error texts, and reading `-f` files. Must not know about
//! sample expressions.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use super::args::{str2mask4, str2mask6};
use super::regex_check::check_regex;
use crate::grammar::samples::SmpType;

/// A pattern matching method (`-m`), plus the two keyword-specific parsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMethod {
    Found,
    Bool,
    Int,
    Ip,
    Bin,
    Len,
    Str,
    Beg,
    Sub,
    Dir,
    Dom,
    End,
    Reg,
    Regm,
    /// `req.ssl_ver`-style `major.minor` versions.
    DottedVer,
    /// HTTP methods (`method` keyword).
    Meth,
}

impl MatchMethod {
    /// Parses a `-m` argument (exact, case-sensitive).
    pub fn from_name(s: &str) -> Option<MatchMethod> {
        Some(match s {
            "found" => MatchMethod::Found,
            "bool" => MatchMethod::Bool,
            "int" => MatchMethod::Int,
            "ip" => MatchMethod::Ip,
            "bin" => MatchMethod::Bin,
            "len" => MatchMethod::Len,
            "str" => MatchMethod::Str,
            "beg" => MatchMethod::Beg,
            "sub" => MatchMethod::Sub,
            "dir" => MatchMethod::Dir,
            "dom" => MatchMethod::Dom,
            "end" => MatchMethod::End,
            "reg" => MatchMethod::Reg,
            "regm" => MatchMethod::Regm,
            _ => return None,
        })
    }

    /// The sample type the method expects (`pat_match_types`).
    pub fn expect_type(self) -> SmpType {
        match self {
            MatchMethod::Found | MatchMethod::Bool | MatchMethod::Int | MatchMethod::DottedVer => {
                SmpType::Sint
            }
            MatchMethod::Ip => SmpType::Addr,
            MatchMethod::Bin => SmpType::Bin,
            MatchMethod::Meth => SmpType::Meth,
            _ => SmpType::Str,
        }
    }

    /// The default method implied by a sample type, if any.
    pub fn default_for(t: SmpType) -> Option<MatchMethod> {
        match t {
            SmpType::Bool => Some(MatchMethod::Bool),
            SmpType::Sint => Some(MatchMethod::Int),
            SmpType::Addr | SmpType::Ipv4 | SmpType::Ipv6 => Some(MatchMethod::Ip),
            SmpType::Str => Some(MatchMethod::Str),
            _ => None,
        }
    }

    /// Whether ACL integer operators (`eq ge gt le lt`) apply.
    pub fn takes_operators(self) -> bool {
        matches!(
            self,
            MatchMethod::Int | MatchMethod::Len | MatchMethod::DottedVer
        )
    }
}

/// A parsed pattern value.
#[derive(Debug, Clone)]
pub enum PatValue {
    /// No value needed (`found`, `bool`).
    Nothing,
    /// Integer range; `None` = unbounded.
    Range(Option<i64>, Option<i64>),
    Ip(IpAddr, IpAddr),
    Bin(Vec<u8>),
    Str(String),
    /// A regex; `None` when only PCRE (not the `regex` crate) accepts it.
    Regex(String, Option<regex::Regex>),
}

/// One pattern and where it came from.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    pub value: PatValue,
    /// `(file, line)` for patterns read with `-f`.
    pub origin: Option<(PathBuf, usize)>,
}

/// HAProxy's `strl2llrc`: an optional `-` then digits, no overflow.
fn strl2llrc(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(if neg { -v } else { v })
}

fn parse_int(text: &str) -> Result<PatValue, String> {
    let range_err = || format!("'{text}' is not a valid number range");
    if text.is_empty() {
        return Err(range_err());
    }
    let Some(p) = text.find([':', '-']) else {
        return strl2llrc(text)
            .map(|v| PatValue::Range(Some(v), Some(v)))
            .ok_or_else(|| format!("'{text}' is not a number"));
    };
    let (lo, hi) = (&text[..p], &text[p + 1..]);
    if p == 0 && !hi.is_empty() {
        return strl2llrc(hi)
            .map(|v| PatValue::Range(None, Some(v)))
            .ok_or_else(range_err);
    }
    if hi.is_empty() {
        return strl2llrc(lo)
            .map(|v| PatValue::Range(Some(v), None))
            .ok_or_else(range_err);
    }
    let (Some(a), Some(b)) = (strl2llrc(lo), strl2llrc(hi)) else {
        return Err(range_err());
    };
    if a > b {
        return Err(range_err());
    }
    Ok(PatValue::Range(Some(a), Some(b)))
}

/// `major[.minor]` with both below 65536, as `(major << 16) | minor`.
fn dotted(s: &str) -> Option<i64> {
    let (maj, min) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let maj = strl2llrc(maj)?;
    let min = match min {
        Some(m) => strl2llrc(m)?,
        None => 0,
    };
    if !(0..65536).contains(&maj) || !(0..65536).contains(&min) {
        return None;
    }
    Some((maj << 16) | min)
}

fn parse_dotted(text: &str) -> Result<PatValue, String> {
    let Some(p) = text.find([':', '-']) else {
        return dotted(text)
            .map(|v| PatValue::Range(Some(v), Some(v)))
            .ok_or_else(|| format!("'{text}' is not a dotted number"));
    };
    let range_err = || format!("'{text}' is not a valid dotted number range");
    let (lo, hi) = (&text[..p], &text[p + 1..]);
    let lo = if lo.is_empty() {
        None
    } else {
        Some(dotted(lo).ok_or_else(range_err)?)
    };
    let hi = if hi.is_empty() {
        None
    } else {
        Some(dotted(hi).ok_or_else(range_err)?)
    };
    if let (Some(a), Some(b)) = (lo, hi)
        && a > b
    {
        return Err(range_err());
    }
    Ok(PatValue::Range(lo, hi))
}

/// glibc `inet_aton` forms (`10.1`, `0x7f.1` is rejected by HAProxy's
/// resolver path too, so only decimal parts are accepted here).
fn inet_aton_decimal(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::new();
    for p in &parts {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 10 {
            return None;
        }
        nums.push(p.parse::<u64>().ok()?);
    }
    let last = nums.len() - 1;
    let mut v: u64 = 0;
    for (i, n) in nums.iter().enumerate() {
        if i < last {
            if *n > 255 {
                return None;
            }
            v |= n << (24 - 8 * i);
        } else {
            let room = 32 - 8 * i as u32;
            if room < 64 && *n >= (1u64 << room) {
                return None;
            }
            v |= n;
        }
    }
    u32::try_from(v).ok().map(Ipv4Addr::from)
}

fn resolve_v4(host: &str, dns: bool) -> Option<Ipv4Addr> {
    if let Ok(a) = host.parse::<Ipv4Addr>() {
        return Some(a);
    }
    if !dns {
        return None;
    }
    if let Some(a) = inet_aton_decimal(host) {
        return Some(a);
    }
    // numeric-looking names that are not plain decimal are rejected
    if host.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if host.is_empty()
        || host
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    {
        return None;
    }
    use std::net::ToSocketAddrs;
    (host, 0)
        .to_socket_addrs()
        .ok()?
        .find_map(|sa| match sa.ip() {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        })
}

/// `pat_parse_ip`: IPv4 with optional CIDR/dotted mask (host names resolved
/// unless `-n`), else IPv6 with optional prefix length.
fn parse_ip(text: &str, dns: bool) -> Result<PatValue, String> {
    let bad = || format!("'{text}' is not a valid IPv4 or IPv6 address");
    let (addr, mask) = match text.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (text, None),
    };
    if let Some(a) = resolve_v4(addr, dns) {
        let m = match mask {
            Some(m) => str2mask4(m).ok_or_else(bad)?,
            None => Ipv4Addr::BROADCAST,
        };
        return Ok(PatValue::Ip(IpAddr::V4(a), IpAddr::V4(m)));
    }
    let a: Ipv6Addr = addr.parse().map_err(|_| bad())?;
    let m = match mask {
        Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => {
            str2mask6(m).ok_or_else(bad)?
        }
        Some(_) => return Err(bad()),
        None => Ipv6Addr::from(u128::MAX),
    };
    Ok(PatValue::Ip(IpAddr::V6(a), IpAddr::V6(m)))
}

fn parse_bin(text: &str) -> Result<PatValue, String> {
    let b = text.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err("an even number of hex digit is expected".to_string());
    }
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks(2) {
        let mut v = 0u8;
        for &c in pair {
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| format!("an hex digit is expected (found '{}')", c as char))?;
            v = (v << 4) | d as u8;
        }
        out.push(v);
    }
    Ok(PatValue::Bin(out))
}

/// Parses one pattern for `method`. `icase`: `-i`; `dns`: not `-n`.
pub fn parse_pattern(
    method: MatchMethod,
    text: &str,
    icase: bool,
    dns: bool,
) -> Result<PatValue, String> {
    match method {
        MatchMethod::Found | MatchMethod::Bool => Ok(PatValue::Nothing),
        MatchMethod::Int | MatchMethod::Len => parse_int(text),
        MatchMethod::DottedVer => parse_dotted(text),
        MatchMethod::Ip => parse_ip(text, dns),
        MatchMethod::Bin => parse_bin(text),
        MatchMethod::Reg | MatchMethod::Regm => {
            let re = check_regex(text, icase)?;
            Ok(PatValue::Regex(text.to_string(), re))
        }
        _ => Ok(PatValue::Str(text.to_string())),
    }
}

/// Reads pattern file lines as HAProxy does: lines starting with `#` and
/// empty lines skipped, leading blanks stripped, trailing kept. With
/// `as_map`, only the key (first word) is a pattern.
pub fn read_pattern_file(
    path: &str,
    base_dir: &Path,
    as_map: bool,
) -> Result<Vec<(String, usize)>, String> {
    let full = if Path::new(path).is_absolute() {
        PathBuf::from(path)
    } else {
        base_dir.join(path)
    };
    let bytes = match std::fs::read(&full) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory || full.is_dir() => {
            return Err(format!(
                "error encountered while reading  <{path}> : Is a directory"
            ));
        }
        Err(_) => return Err(format!("failed to open pattern file <{path}>")),
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        if line.starts_with('#') {
            continue;
        }
        let l = line.trim_start_matches([' ', '\t']);
        let l = l.split(['\r', '\n']).next().unwrap_or("");
        if l.is_empty() {
            continue;
        }
        let key = if as_map {
            l.split([' ', '\t']).next().unwrap_or("")
        } else {
            l
        };
        out.push((key.to_string(), n + 1));
    }
    Ok(out)
}

/// Reads and parses a `-f` file for `method`; errors carry HAProxy's
/// `at line N of file 'F'` suffix.
pub fn load_pattern_file(
    method: MatchMethod,
    path: &str,
    base_dir: &Path,
    icase: bool,
    dns: bool,
    as_map: bool,
) -> Result<Vec<Pattern>, String> {
    let lines = read_pattern_file(path, base_dir, as_map)?;
    let mut pats = Vec::with_capacity(lines.len());
    for (text, line) in lines {
        let value = parse_pattern(method, &text, icase, dns)
            .map_err(|e| format!("{e} at line {line} of file '{path}'"))?;
        pats.push(Pattern {
            text,
            value,
            origin: Some((PathBuf::from(path), line)),
        });
    }
    Ok(pats)
}
