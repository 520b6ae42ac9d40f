//! Pattern matching: the compiled patterns of one ACL (or map) and the
//! match methods of HAProxy 2.6 (`-m str/beg/end/sub/dir/dom/reg/len/int/
//! ip/bool/found/bin`, dotted versions, methods).
//!
//! Owns: compiling parsed patterns ([`crate::config::sample::Pattern`]) and
//! finding the pattern a sample matches. Maps use the index to find their
//! value. Must not fetch anything.

use crate::config::sample::{MatchMethod, PatValue, Pattern};
use crate::session::fetch::Smp;
use std::net::IpAddr;

#[derive(Debug, Clone)]
enum Item {
    Bytes(Vec<u8>),
    Range(i64, i64),
    Net(IpAddr, u8),
    Re(regex::bytes::Regex),
}

/// Compiled patterns with their method.
#[derive(Debug, Clone)]
pub struct Pats {
    pub method: MatchMethod,
    icase: bool,
    items: Vec<Item>,
}

fn mask_bits(m: IpAddr) -> u8 {
    match m {
        IpAddr::V4(a) => u32::from(a).count_ones() as u8,
        IpAddr::V6(a) => u128::from(a).count_ones() as u8,
    }
}

impl Pats {
    /// Compiles patterns parsed by the configuration parser.
    pub fn compile(method: MatchMethod, icase: bool, pats: &[Pattern]) -> Result<Pats, String> {
        let mut items = Vec::with_capacity(pats.len());
        for p in pats {
            items.push(match &p.value {
                PatValue::Nothing => continue,
                PatValue::Range(lo, hi) => {
                    Item::Range(lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX))
                }
                PatValue::Ip(a, m) => Item::Net(*a, mask_bits(*m)),
                PatValue::Bin(b) => Item::Bytes(b.clone()),
                PatValue::Str(s) => Item::Bytes(if icase {
                    s.to_ascii_lowercase().into_bytes()
                } else {
                    s.clone().into_bytes()
                }),
                PatValue::Regex(text, _) => Item::Re(
                    regex::bytes::RegexBuilder::new(text)
                        .case_insensitive(icase)
                        .build()
                        .map_err(|_| format!("regex '{text}' is not supported by Switchyard"))?,
                ),
            });
        }
        Ok(Pats {
            method,
            icase,
            items,
        })
    }

    /// Number of compiled patterns.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no pattern.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Index of the pattern `v` matches (the longest prefix for `ip`, else
    /// the first in order). `found`/`bool` answer `Some(0)` on success.
    pub fn find(&self, v: &Smp<'_>) -> Option<usize> {
        use MatchMethod as M;
        match self.method {
            M::Found => return Some(0),
            M::Bool => return v.to_bool().filter(|b| *b).map(|_| 0),
            M::Int | M::DottedVer => {
                let n = v.to_int()?;
                return self
                    .first(|it| matches!(it, Item::Range(lo, hi) if (*lo..=*hi).contains(&n)));
            }
            M::Ip => {
                let ip = v.to_ip()?;
                let mut best: Option<(usize, u8)> = None;
                for (i, it) in self.items.iter().enumerate() {
                    if let Item::Net(n, bits) = it
                        && in_net(ip, *n, *bits)
                        && best.is_none_or(|(_, b)| *bits > b)
                    {
                        best = Some((i, *bits));
                    }
                }
                return best.map(|b| b.0);
            }
            _ => {}
        }
        let raw = v.to_bytes();
        if self.method == M::Len {
            let n = raw.len() as i64;
            return self.first(|it| matches!(it, Item::Range(lo, hi) if (*lo..=*hi).contains(&n)));
        }
        if self.method == M::Reg || self.method == M::Regm {
            return self.first(|it| matches!(it, Item::Re(r) if r.is_match(&raw)));
        }
        let lowered;
        let s: &[u8] = if self.icase {
            lowered = raw.to_ascii_lowercase();
            &lowered
        } else {
            &raw
        };
        let test: &dyn Fn(&[u8]) -> bool = match self.method {
            M::Beg => &|p| s.starts_with(p),
            M::End => &|p| s.ends_with(p),
            M::Sub => &|p| contains(s, p),
            M::Dir => &|p| match_word(s, p, b"/?"),
            M::Dom => &|p| match_word(s, p, b"/."),
            _ => &|p| s == p,
        };
        self.first(|it| matches!(it, Item::Bytes(p) if test(p)))
    }

    fn first(&self, f: impl Fn(&Item) -> bool) -> Option<usize> {
        self.items.iter().position(f)
    }
}

fn contains(h: &[u8], n: &[u8]) -> bool {
    n.is_empty() || h.windows(n.len()).any(|w| w == n)
}

/// HAProxy's `match_word`: `p` (trimmed of delimiters) appears in `s`
/// starting after a delimiter (or at the start) and ending before one (or
/// at the end).
fn match_word(s: &[u8], p: &[u8], delims: &[u8]) -> bool {
    let is_d = |c: u8| delims.contains(&c);
    let a = p.iter().position(|&c| !is_d(c)).unwrap_or(p.len());
    let b = p.iter().rposition(|&c| !is_d(c)).map_or(a, |e| e + 1);
    let p = &p[a..b.max(a)];
    if p.is_empty() || p.len() > s.len() {
        return false;
    }
    let mut may = true;
    for i in 0..=s.len() - p.len() {
        if is_d(s[i]) {
            may = true;
            continue;
        }
        if !may {
            continue;
        }
        if &s[i..i + p.len()] == p && s.get(i + p.len()).is_none_or(|&c| is_d(c)) {
            return true;
        }
        may = false;
    }
    false
}

/// Whether `ip` is inside `net/bits` (IPv4-mapped IPv6 addresses match
/// IPv4 networks, and IPv4 addresses match `::ffff:` IPv6 networks).
pub fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits.min(32)))
            };
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits.min(128)))
            };
            u128::from(a) & m == u128::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|v4| in_net(IpAddr::V4(v4), net, bits)),
        (IpAddr::V4(a), IpAddr::V6(_)) => in_net(IpAddr::V6(a.to_ipv6_mapped()), net, bits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert!(match_word(b"/a/b/c", b"b", b"/?"));
        assert!(match_word(b"/a/b/c", b"/b/c/", b"/?"));
        assert!(!match_word(b"/a/bb/c", b"b", b"/?"));
        assert!(match_word(b"www.example.com", b"example.com", b"/."));
        assert!(!match_word(b"www.myexample.com", b"example.com", b"/."));
    }

    #[test]
    fn nets() {
        let n: IpAddr = "10.0.0.0".parse().unwrap();
        assert!(in_net("10.1.2.3".parse().unwrap(), n, 8));
        assert!(in_net("::ffff:10.1.2.3".parse().unwrap(), n, 8));
        assert!(!in_net("11.1.2.3".parse().unwrap(), n, 8));
    }
}
