//! Header actions: `set-header`, `add-header`, `del-header [-m meth]`,
//! `replace-header`, `replace-value`, and HAProxy's `exp_replace`
//! back-reference syntax shared with the URI rewrites.
//!
//! Owns: how each action edits a header list. Must not do I/O.

use crate::session::http::head::Header;
use regex::bytes::{Captures, Regex};

/// How `del-header` matches names (`-m str|beg|end|sub|reg`).
#[derive(Debug, Clone)]
pub enum NameMatch {
    Str(String),
    Beg(String),
    End(String),
    Sub(String),
    Reg(Regex),
}

impl NameMatch {
    /// Parses `<name> [-m <meth>]`.
    pub fn parse(a: &[String]) -> Result<NameMatch, String> {
        let name = a.first().ok_or("del-header expects a header name")?;
        let lc = name.to_ascii_lowercase();
        let meth = match a.get(1).map(String::as_str) {
            None => "str",
            Some("-m") => a
                .get(2)
                .map(String::as_str)
                .ok_or("'-m' expects a method")?,
            Some(other) => return Err(format!("unexpected argument '{other}'")),
        };
        if a.len() > 3 {
            return Err(format!("unexpected argument '{}'", a[3]));
        }
        Ok(match meth {
            "str" => NameMatch::Str(lc),
            "beg" => NameMatch::Beg(lc),
            "end" => NameMatch::End(lc),
            "sub" => NameMatch::Sub(lc),
            "reg" => NameMatch::Reg(
                Regex::new(name).map_err(|e| format!("invalid regex '{name}': {e}"))?,
            ),
            other => return Err(format!("'-m {other}' is not supported")),
        })
    }

    fn matches(&self, n: &str) -> bool {
        match self {
            NameMatch::Str(s) => n == s,
            NameMatch::Beg(s) => n.starts_with(s.as_str()),
            NameMatch::End(s) => n.ends_with(s.as_str()),
            NameMatch::Sub(s) => n.contains(s.as_str()),
            NameMatch::Reg(r) => r.is_match(n.as_bytes()),
        }
    }

    /// Removes every matching header.
    pub fn delete(&self, hs: &mut Vec<Header>) {
        hs.retain(|h| !self.matches(&h.name));
    }
}

/// Replaces every header `name` with `value`.
pub fn set(hs: &mut Vec<Header>, name: &str, value: Vec<u8>) {
    hs.retain(|h| h.name != name);
    hs.push(Header {
        name: name.to_string(),
        value,
    });
}

/// HAProxy's `exp_replace`: `\N` inserts group N, `\xHH` a byte, `\c` the
/// character c; everything else is copied.
pub fn expand(replace: &[u8], caps: &Captures<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(replace.len());
    let mut i = 0;
    while i < replace.len() {
        let b = replace[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&n) = replace.get(i + 1) else { break };
        if n.is_ascii_digit() {
            if let Some(m) = caps.get(usize::from(n - b'0')) {
                out.extend_from_slice(m.as_bytes());
            }
            i += 2;
        } else if n == b'x' {
            let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
            match (
                replace.get(i + 2).and_then(|&c| hex(c)),
                replace.get(i + 3).and_then(|&c| hex(c)),
            ) {
                (Some(h), Some(l)) => out.push((h << 4) | l),
                _ => break,
            }
            i += 4;
        } else {
            out.push(n);
            i += 2;
        }
    }
    out
}

/// `replace-header` (whole values) or `replace-value` (each
/// comma-separated value) on every header `name`.
pub fn replace(hs: &mut [Header], name: &str, re: &Regex, with: &[u8], per_value: bool) {
    for h in hs.iter_mut().filter(|h| h.name == name) {
        if !per_value {
            if let Some(c) = re.captures(&h.value) {
                h.value = expand(with, &c);
            }
            continue;
        }
        let mut out = Vec::with_capacity(h.value.len());
        for (k, seg) in h.value.split(|&b| b == b',').enumerate() {
            if k > 0 {
                out.push(b',');
            }
            let t = seg.trim_ascii();
            match re.captures(t) {
                // A rewritten value loses the blanks around it.
                Some(c) => out.extend_from_slice(&expand(with, &c)),
                None => out.extend_from_slice(seg),
            }
        }
        h.value = out;
    }
}
