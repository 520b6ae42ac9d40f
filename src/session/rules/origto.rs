//! `option originalto [except <network>] [header <name>]`: the
//! `X-Original-To` request header carrying the client connection's
//! destination address, as HAProxy 2.6 adds it after `X-Forwarded-For`.
//!
//! Owns: parsing the option from a proxy's lines and adding the header.
//! Must not do I/O.

use crate::config::ir::{Proxy, RawRule};
use crate::session::http::head::{Header, Request};
use std::net::{IpAddr, SocketAddr};

/// One proxy's `option originalto`.
#[derive(Debug, Clone)]
pub struct OriginalTo {
    /// The header name, lower-case, when `header` was given.
    pub header: Option<String>,
    /// `except <network>`: address and prefix length.
    pub except: Option<(IpAddr, u8)>,
}

/// `addr[/len|/mask]`.
fn network(s: &str) -> Option<(IpAddr, u8)> {
    let (a, m) = s.split_once('/').unwrap_or((s, ""));
    let ip: IpAddr = a.parse().ok()?;
    let full = if ip.is_ipv4() { 32 } else { 128 };
    let len = if m.is_empty() {
        full
    } else if let Ok(n) = m.parse::<u8>() {
        n.min(full)
    } else {
        match m.parse::<IpAddr>().ok()? {
            IpAddr::V4(mask) => u32::from(mask).count_ones() as u8,
            IpAddr::V6(_) => return None,
        }
    };
    Some((ip, len))
}

fn in_net(ip: IpAddr, (net, len): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}

impl OriginalTo {
    /// The effective option of `p` (its own last line, else its defaults'
    /// `defaults_lines`), or `None` when disabled.
    pub fn from_proxy(p: &Proxy, defaults_lines: Option<&[RawRule]>) -> Option<OriginalTo> {
        if !p.option("originalto") {
            return None;
        }
        let is_opt = |l: &&RawRule| {
            l.words.first().is_some_and(|w| w == "option")
                && l.words.get(1).is_some_and(|w| w == "originalto")
        };
        let line = p
            .directives
            .iter()
            .rev()
            .find(is_opt)
            .or_else(|| defaults_lines?.iter().rev().find(is_opt));
        let mut o = OriginalTo {
            header: None,
            except: None,
        };
        if let Some(l) = line {
            let w = &l.words;
            let mut i = 2;
            while i < w.len() {
                match w[i].as_str() {
                    "header" => o.header = w.get(i + 1).map(|h| h.to_ascii_lowercase()),
                    "except" => o.except = w.get(i + 1).and_then(|n| network(n)),
                    _ => {}
                }
                i += 2;
            }
        }
        Some(o)
    }
}

/// Adds the header when the frontend or the backend enables the option
/// (the backend's header name wins; neither `except` may match).
pub fn add(
    req: &mut Request,
    fe: Option<&OriginalTo>,
    be: Option<&OriginalTo>,
    dst: Option<SocketAddr>,
) {
    if fe.is_none() && be.is_none() {
        return;
    }
    let Some(dst) = dst else { return };
    let ip = match dst.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    if [fe, be]
        .into_iter()
        .flatten()
        .any(|o| o.except.is_some_and(|n| in_net(ip, n)))
    {
        return;
    }
    let name = be
        .and_then(|b| b.header.clone())
        .or_else(|| fe.and_then(|f| f.header.clone()))
        .unwrap_or_else(|| "x-original-to".to_string());
    req.headers.push(Header {
        name,
        value: ip.to_string().into_bytes(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let n = network("10.0.0.0/8").unwrap();
        assert!(in_net("10.1.2.3".parse().unwrap(), n));
        assert!(!in_net("11.1.2.3".parse().unwrap(), n));
        let n = network("127.0.0.1").unwrap();
        assert!(in_net("127.0.0.1".parse().unwrap(), n));
        let n = network("192.168.0.0/255.255.0.0").unwrap();
        assert_eq!(n.1, 16);
        assert!(in_net("::1".parse().unwrap(), network("::1/128").unwrap()));
    }
}
