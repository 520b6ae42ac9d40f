//! Text converters' algorithms: `field`/`word` spans, base64, URL
//! decoding, JSON escaping, `regsub` replacement references, host/port
//! splitting.
//!
//! Owns: the byte-level work only. Must not know about samples.

/// `json` input decoding modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonMode {
    Ascii,
    Utf8,
    /// `utf8s`/`utf8ps`: invalid sequences are skipped.
    Utf8Skip,
    /// `utf8p`: invalid sequences are kept as bytes.
    Utf8Keep,
}

impl JsonMode {
    pub fn parse(s: &str) -> JsonMode {
        match s {
            "utf8" => JsonMode::Utf8,
            "utf8s" | "utf8ps" => JsonMode::Utf8Skip,
            "utf8p" => JsonMode::Utf8Keep,
            _ => JsonMode::Ascii,
        }
    }
}

fn spans(b: &[u8], delims: &[u8], words: bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in b.iter().enumerate() {
        if delims.contains(c) {
            if !words || i > start {
                out.push((start, i));
            }
            start = i + 1;
        }
    }
    if !words || b.len() > start {
        out.push((start, b.len()));
    }
    out
}

fn select(sp: &[(usize, usize)], idx: i64, count: i64) -> Option<(usize, usize)> {
    let n = sp.len() as i64;
    let pos = if idx > 0 { idx } else { n + idx + 1 };
    if pos < 1 || pos > n {
        return None;
    }
    let (first, last) = if idx > 0 {
        (
            pos,
            if count == 0 {
                n
            } else {
                (pos + count - 1).min(n)
            },
        )
    } else {
        (
            if count == 0 {
                1
            } else {
                (pos - count + 1).max(1)
            },
            pos,
        )
    };
    Some((sp[(first - 1) as usize].0, sp[(last - 1) as usize].1))
}

/// `field(idx,delims,count)`: the byte range selected.
pub fn field(b: &[u8], idx: i64, delims: &[u8], count: i64) -> Option<(usize, usize)> {
    select(&spans(b, delims, false), idx, count)
}

/// `word(idx,delims,count)`: like `field` but empty words do not count.
pub fn word(b: &[u8], idx: i64, delims: &[u8], count: i64) -> Option<(usize, usize)> {
    select(&spans(b, delims, true), idx, count)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for ch in b.chunks(3) {
        let n = (u32::from(ch[0]) << 16)
            | (u32::from(*ch.get(1).unwrap_or(&0)) << 8)
            | u32::from(*ch.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= ch.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn b64dec(b: &[u8]) -> Option<Vec<u8>> {
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for ch in b.chunks(4) {
        let mut n = 0u32;
        let mut pad = 0;
        for &c in ch {
            let v = match c {
                b'=' => {
                    pad += 1;
                    0
                }
                _ if pad > 0 => return None,
                _ => B64.iter().position(|&x| x == c)? as u32,
            };
            n = (n << 6) | v;
        }
        if pad > 2 {
            return None;
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

/// HAProxy's `url_decode`: `%XX` sequences, `+` as space in forms (and
/// after a `?`); an invalid `%` sequence fails.
pub fn url_dec(b: &[u8], form: bool) -> Option<Vec<u8>> {
    let mut form = form;
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(if form { b' ' } else { b'+' }),
            b'%' => {
                let h = (*b.get(i + 1)? as char).to_digit(16)?;
                let l = (*b.get(i + 2)? as char).to_digit(16)?;
                out.push((h * 16 + l) as u8);
                i += 2;
            }
            b'?' => {
                form = true;
                out.push(b'?');
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

fn json_char(out: &mut Vec<u8>, c: u32) {
    match c {
        0x22 => out.extend_from_slice(b"\\\""),
        0x5c => out.extend_from_slice(b"\\\\"),
        0x2f => out.extend_from_slice(b"\\/"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0d => out.extend_from_slice(b"\\r"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x09 => out.extend_from_slice(b"\\t"),
        c if !(32..=126).contains(&c) => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
        c => out.push(c as u8),
    }
}

/// The `json` converter.
pub fn json(b: &[u8], mode: JsonMode) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len() + 8);
    if mode == JsonMode::Ascii {
        for &c in b {
            json_char(&mut out, u32::from(c));
        }
        return Some(out);
    }
    let mut rest = b;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                push_str(&mut out, s)?;
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                push_str(&mut out, std::str::from_utf8(good).ok()?)?;
                let n = e.error_len().unwrap_or(bad.len());
                match mode {
                    JsonMode::Utf8 => return None,
                    JsonMode::Utf8Keep => out.extend_from_slice(&bad[..n]),
                    _ => {}
                }
                rest = &bad[n..];
            }
        }
    }
    Some(out)
}

fn push_str(out: &mut Vec<u8>, s: &str) -> Option<()> {
    for ch in s.chars() {
        let c = u32::from(ch);
        if c > 0xffff {
            return None;
        }
        json_char(out, c);
    }
    Some(())
}

/// A `regsub` replacement: `\0`..`\9` insert capture groups.
pub struct Repl<'a>(pub &'a [u8]);

impl regex::bytes::Replacer for Repl<'_> {
    fn replace_append(&mut self, caps: &regex::bytes::Captures<'_>, dst: &mut Vec<u8>) {
        let r = self.0;
        let mut i = 0;
        while i < r.len() {
            if r[i] == b'\\' && i + 1 < r.len() && r[i + 1].is_ascii_digit() {
                let g = usize::from(r[i + 1] - b'0');
                if let Some(m) = caps.get(g) {
                    dst.extend_from_slice(m.as_bytes());
                }
                i += 2;
            } else {
                dst.push(r[i]);
                i += 1;
            }
        }
    }
}

/// Splits a Host value into host and optional port (`[v6]:port` aware).
pub fn split_host(b: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    if b.first() == Some(&b'[') {
        let close = b.iter().position(|&c| c == b']')?;
        let rest = &b[close + 1..];
        return match rest.strip_prefix(b":") {
            Some(p) => Some((&b[..=close], Some(p))),
            None if rest.is_empty() => Some((b, None)),
            None => None,
        };
    }
    match b.iter().rposition(|&c| c == b':') {
        Some(i) => Some((&b[..i], Some(&b[i + 1..]))),
        None => Some((b, None)),
    }
}
