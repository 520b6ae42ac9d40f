//! Sample values and HAProxy's casts between their types.
//!
//! Owns: [`Smp`] and the conversions fetches, converters and matchers use
//! (`c_int2str`, `c_str2int`, `c_str2addr`, ...). Must not read messages.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One sample value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Smp<'a> {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Str(Cow<'a, [u8]>),
    Bin(Cow<'a, [u8]>),
}

impl<'a> Smp<'a> {
    /// A string sample borrowing `b`.
    pub fn str(b: &'a [u8]) -> Smp<'a> {
        Smp::Str(Cow::Borrowed(b))
    }

    /// A string sample owning `b`.
    pub fn owned(b: Vec<u8>) -> Smp<'a> {
        Smp::Str(Cow::Owned(b))
    }

    /// Detaches the sample from the message it was read from.
    pub fn into_owned(self) -> Smp<'static> {
        match self {
            Smp::Bool(b) => Smp::Bool(b),
            Smp::Int(i) => Smp::Int(i),
            Smp::Ip(a) => Smp::Ip(a),
            Smp::Str(s) => Smp::Str(Cow::Owned(s.into_owned())),
            Smp::Bin(s) => Smp::Bin(Cow::Owned(s.into_owned())),
        }
    }

    /// The value as text (HAProxy's cast to `str`).
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Smp::Bool(b) => Cow::Borrowed(if *b { b"1" } else { b"0" }),
            Smp::Int(i) => Cow::Owned(i.to_string().into_bytes()),
            Smp::Ip(a) => Cow::Owned(a.to_string().into_bytes()),
            Smp::Str(s) | Smp::Bin(s) => Cow::Borrowed(s),
        }
    }

    /// The value as text, consuming it (no copy for strings).
    pub fn into_bytes(self) -> Cow<'a, [u8]> {
        match self {
            Smp::Str(s) | Smp::Bin(s) => s,
            other => Cow::Owned(other.to_bytes().into_owned()),
        }
    }

    /// The value as an integer (`c_str2int` reads a leading number; an
    /// empty string fails; IPv4 addresses give their 32-bit value).
    pub fn to_int(&self) -> Option<i64> {
        match self {
            Smp::Bool(b) => Some(i64::from(*b)),
            Smp::Int(i) => Some(*i),
            Smp::Ip(IpAddr::V4(a)) => Some(i64::from(u32::from(*a))),
            Smp::Ip(IpAddr::V6(_)) => None,
            Smp::Str(s) => {
                if s.is_empty() {
                    return None;
                }
                Some(crate::config::sample::args::read_int64(s).0)
            }
            Smp::Bin(_) => None,
        }
    }

    /// The value as a boolean (integers: non-zero).
    pub fn to_bool(&self) -> Option<bool> {
        match self {
            Smp::Bool(b) => Some(*b),
            _ => self.to_int().map(|i| i != 0),
        }
    }

    /// The value as an address (`c_str2addr`, `c_int2addr`).
    pub fn to_ip(&self) -> Option<IpAddr> {
        match self {
            Smp::Ip(a) => Some(*a),
            Smp::Int(i) => Some(IpAddr::V4(Ipv4Addr::from(*i as u32))),
            Smp::Str(s) => {
                let t = std::str::from_utf8(s).ok()?;
                t.parse::<Ipv4Addr>()
                    .map(IpAddr::V4)
                    .or_else(|_| t.parse::<Ipv6Addr>().map(IpAddr::V6))
                    .ok()
            }
            _ => None,
        }
    }

    /// Whether the value is textual (str or bin).
    pub fn is_text(&self) -> bool {
        matches!(self, Smp::Str(_) | Smp::Bin(_))
    }
}

/// HAProxy's `url2ipv4`: a dotted quad at the start of `s` (trailing bytes
/// such as `:port` are ignored).
pub fn leading_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut parts = [0u32; 4];
    let mut n = 0;
    let mut i = 0;
    let mut digits = 0;
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() {
            parts[n] = parts[n] * 10 + u32::from(c - b'0');
            digits += 1;
            if parts[n] > 255 || digits > 3 {
                return None;
            }
        } else if c == b'.' && n < 3 && digits > 0 {
            n += 1;
            digits = 0;
        } else {
            break;
        }
        i += 1;
    }
    (n == 3 && digits > 0).then(|| {
        Ipv4Addr::new(
            parts[0] as u8,
            parts[1] as u8,
            parts[2] as u8,
            parts[3] as u8,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts() {
        assert_eq!(Smp::str(b"12abc").to_int(), Some(12));
        assert_eq!(Smp::str(b"").to_int(), None);
        assert_eq!(Smp::Int(-3).to_bytes().as_ref(), b"-3");
        assert_eq!(Smp::Bool(true).to_bytes().as_ref(), b"1");
        assert_eq!(
            Smp::str(b"10.0.0.1").to_ip(),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(leading_ipv4(b"1.2.3.4:80"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(leading_ipv4(b"1.2.3"), None);
    }
}
