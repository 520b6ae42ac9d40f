//! HTTP fetches: what `path`, `url`, `hdr()`, `cook()`, `url_param()`...
//! read from a parsed request or response head.
//!
//! Owns: header value splitting (commas outside quotes), occurrence
//! selection (positive from the first, negative from the last), cookie and
//! query-string parsing. Must not modify messages.

use super::smp::{Smp, leading_ipv4};
use crate::session::http::head::Header;
use std::borrow::Cow;
use std::net::IpAddr;

/// The path part of a request URI (absolute URIs lose scheme and
/// authority; the query string is cut).
pub fn path_of(uri: &str) -> &str {
    let rest = after_authority(uri);
    rest.split('?').next().unwrap_or(rest)
}

/// The URI without scheme and authority (`pathq`).
pub fn after_authority(uri: &str) -> &str {
    match uri.find("://") {
        Some(i) if !uri.starts_with('/') => {
            let after = &uri[i + 3..];
            match after.find('/') {
                Some(j) => &after[j..],
                None => "",
            }
        }
        _ => uri,
    }
}

/// Splits a header value on commas outside double quotes, trimming blanks.
fn split_values(v: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            b',' if !quoted => {
                out.push(v[start..i].trim_ascii());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(v[start.min(v.len())..].trim_ascii());
    out
}

/// Every value of header `name` (all headers when `None`), comma-split
/// unless `full` (whole lines).
pub fn values<'a>(hs: &'a [Header], name: Option<&str>, full: bool) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    for h in hs.iter().filter(|h| name.is_none_or(|n| h.name == n)) {
        if full {
            out.push(h.value.trim_ascii());
        } else {
            out.extend(split_values(&h.value));
        }
    }
    out
}

/// Picks occurrence `occ` (1 = first, -1 = last) of `vals`.
pub fn pick<T: Copy>(vals: &[T], occ: i64) -> Option<T> {
    if occ > 0 {
        vals.get(usize::try_from(occ - 1).ok()?).copied()
    } else if occ < 0 {
        let back = usize::try_from(-occ).ok()?;
        vals.len()
            .checked_sub(back)
            .and_then(|i| vals.get(i))
            .copied()
    } else {
        None
    }
}

/// Pushes the selected occurrence(s): all values when iterating with no
/// explicit occurrence, else one (the last by default).
pub fn push_occ<'a>(
    vals: Vec<&'a [u8]>,
    occ: i64,
    iter: bool,
    out: &mut Vec<Smp<'a>>,
    f: impl Fn(&'a [u8]) -> Option<Smp<'a>>,
) {
    if occ == 0 && iter {
        out.extend(vals.into_iter().filter_map(f));
    } else {
        let occ = if occ == 0 { -1 } else { occ };
        out.extend(pick(&vals, occ).and_then(f));
    }
}

/// `hdr_ip`: an IPv4 (a trailing `:port` is ignored) or IPv6 address.
pub fn ip_of(v: &[u8]) -> Option<Smp<'_>> {
    if let Some(a) = leading_ipv4(v) {
        return Some(Smp::Ip(IpAddr::V4(a)));
    }
    std::str::from_utf8(v)
        .ok()?
        .parse()
        .ok()
        .map(|a| Smp::Ip(IpAddr::V6(a)))
}

/// `hdr_val`: the leading integer of the value.
pub fn int_of(v: &[u8]) -> Option<Smp<'_>> {
    Some(Smp::Int(crate::config::sample::args::read_int64(v).0))
}

/// Cookies `(name, value)` of `Cookie` headers (`res`: the first pair of
/// each `Set-Cookie` header).
pub fn cookies(hs: &[Header], res: bool) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let hname = if res { "set-cookie" } else { "cookie" };
    for h in hs.iter().filter(|h| h.name == hname) {
        for (i, part) in h
            .value
            .split(|&b| b == b';' || (!res && b == b','))
            .enumerate()
        {
            if res && i > 0 {
                break;
            }
            let part = part.trim_ascii();
            if part.is_empty() {
                continue;
            }
            let (n, v) = match part.iter().position(|&b| b == b'=') {
                Some(e) => (part[..e].trim_ascii(), part[e + 1..].trim_ascii()),
                None => (part, &part[part.len()..]),
            };
            out.push((n, v));
        }
    }
    out
}

/// Values of `url_param(name[,delim])`: parameters after `?` (or `delim`),
/// separated by `&`, `;` or `delim`. No name = every parameter.
pub fn url_params<'a>(uri: &'a str, name: Option<&str>, delim: Option<u8>) -> Vec<&'a [u8]> {
    let b = uri.as_bytes();
    let Some(start) = b.iter().position(|&c| c == b'?' || Some(c) == delim) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in b[start + 1..].split(|&c| c == b'&' || c == b';' || Some(c) == delim) {
        let (n, v) = match p.iter().position(|&c| c == b'=') {
            Some(e) => (&p[..e], &p[e + 1..]),
            None => (p, &p[p.len()..]),
        };
        if name.is_none_or(|want| want.as_bytes() == n) && (name.is_some() || !n.is_empty()) {
            out.push(v);
        }
    }
    out
}

/// The first `Host` header value.
pub fn host(hs: &[Header]) -> Option<&[u8]> {
    hs.iter()
        .find(|h| h.name == "host")
        .map(|h| h.value.trim_ascii())
}

/// `base`: host then path.
pub fn base<'a>(hs: &'a [Header], uri: &'a str) -> Cow<'a, [u8]> {
    let path = path_of(uri).as_bytes();
    match host(hs) {
        Some(h) => {
            let mut v = h.to_vec();
            v.extend_from_slice(path);
            Cow::Owned(v)
        }
        None => Cow::Borrowed(path),
    }
}

/// `base32`: HAProxy's sdbm-style hash of host then path, avalanched.
pub fn base32(hs: &[Header], uri: &str) -> u32 {
    let mut hash: u32 = 0;
    let host = host(hs).unwrap_or_default();
    for &c in host.iter().chain(path_of(uri).as_bytes()) {
        hash = crate::session::conv::hash::sc(c)
            .wrapping_add(hash << 6)
            .wrapping_add(hash << 16)
            .wrapping_sub(hash);
    }
    crate::session::conv::hash::full_hash(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: &str, v: &str) -> Header {
        Header {
            name: n.into(),
            value: v.as_bytes().to_vec(),
        }
    }

    #[test]
    fn header_values_and_occurrences() {
        let hs = vec![h("x", "a, b"), h("y", "z"), h("x", "\"c,d\"")];
        let v = values(&hs, Some("x"), false);
        assert_eq!(v, vec![&b"a"[..], b"b", b"\"c,d\""]);
        assert_eq!(pick(&v, -1), Some(&b"\"c,d\""[..]));
        assert_eq!(pick(&v, 2), Some(&b"b"[..]));
        assert_eq!(pick(&v, -4), None);
        assert_eq!(values(&hs, Some("x"), true).len(), 2);
    }

    #[test]
    fn cookies_and_params() {
        let hs = vec![h("cookie", "a=1; b=2"), h("set-cookie", "s=9; Path=/")];
        assert_eq!(
            cookies(&hs, false),
            vec![(&b"a"[..], &b"1"[..]), (b"b", b"2")]
        );
        assert_eq!(cookies(&hs, true), vec![(&b"s"[..], &b"9"[..])]);
        assert_eq!(
            url_params("/p?a=1&b=2&a=3", Some("a"), None),
            vec![&b"1"[..], b"3"]
        );
        assert_eq!(url_params("/p;x=1", Some("x"), Some(b';')), vec![&b"1"[..]]);
        assert!(url_params("/p", Some("a"), None).is_empty());
    }

    #[test]
    fn paths() {
        assert_eq!(path_of("/a/b?x=1"), "/a/b");
        assert_eq!(path_of("http://h:80/p?q"), "/p");
        assert_eq!(path_of("*"), "*");
        assert_eq!(after_authority("http://h/p?q"), "/p?q");
    }
}
