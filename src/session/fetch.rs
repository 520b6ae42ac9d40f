//! Sample fetches over a request: the values ACLs and log-format strings
//! read (`path`, `hdr(host)`, `method`, `src`, ...).
//!
//! Owns: the fetch names we implement and how each one reads the message.
//! Must not match or modify anything.

use super::http::head::{Request, Response};
use std::net::IpAddr;

/// What a fetch can look at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ctx<'a> {
    pub req: Option<&'a Request>,
    pub resp: Option<&'a Response>,
    pub src: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst: Option<IpAddr>,
    pub dst_port: Option<u16>,
}

/// A fetch we implement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    Path,
    Url,
    Query,
    Method,
    Src,
    SrcPort,
    Dst,
    DstPort,
    /// `hdr(name)` / `req.hdr(name)`: every comma-separated value.
    ReqHdr(String),
    /// `res.hdr(name)` / `shdr(name)`.
    ResHdr(String),
    /// `req.ver` as "1.0" / "1.1".
    ReqVer,
    Status,
}

impl Fetch {
    /// Parses a fetch name such as `hdr(host)`; `None` if not implemented.
    pub fn parse(s: &str) -> Option<Fetch> {
        let (name, arg) = match s.find('(') {
            Some(i) => (
                &s[..i],
                s[i + 1..]
                    .strip_suffix(')')
                    .map(|a| a.split(',').next().unwrap_or(a)),
            ),
            None => (s, None),
        };
        let arg = arg.map(|a| a.trim().to_ascii_lowercase());
        Some(match (name, arg) {
            ("path", None) => Fetch::Path,
            ("url", None) => Fetch::Url,
            ("query", None) => Fetch::Query,
            ("method", None) => Fetch::Method,
            ("src", None) => Fetch::Src,
            ("src_port", None) => Fetch::SrcPort,
            ("dst", None) => Fetch::Dst,
            ("dst_port", None) => Fetch::DstPort,
            ("req.ver", None) | ("req_ver", None) => Fetch::ReqVer,
            ("status", None) => Fetch::Status,
            ("hdr" | "req.hdr" | "req.fhdr" | "fhdr", Some(a)) if !a.is_empty() => Fetch::ReqHdr(a),
            ("res.hdr" | "shdr" | "res.fhdr", Some(a)) if !a.is_empty() => Fetch::ResHdr(a),
            _ => return None,
        })
    }

    /// Every value the fetch yields (headers may yield several).
    pub fn values<'a>(&self, c: &Ctx<'a>, out: &mut Vec<std::borrow::Cow<'a, [u8]>>) {
        use std::borrow::Cow::{Borrowed, Owned};
        match self {
            Fetch::Path => {
                if let Some(r) = c.req {
                    out.push(Borrowed(path_of(&r.uri).as_bytes()));
                }
            }
            Fetch::Url => {
                if let Some(r) = c.req {
                    out.push(Borrowed(r.uri.as_bytes()));
                }
            }
            Fetch::Query => {
                if let Some(q) = c.req.and_then(|r| r.uri.split_once('?')) {
                    out.push(Borrowed(q.1.as_bytes()));
                }
            }
            Fetch::Method => {
                if let Some(r) = c.req {
                    out.push(Borrowed(r.method.as_bytes()));
                }
            }
            Fetch::Src => out.extend(c.src.map(|a| Owned(a.to_string().into_bytes()))),
            Fetch::SrcPort => out.extend(c.src_port.map(|a| Owned(a.to_string().into_bytes()))),
            Fetch::Dst => out.extend(c.dst.map(|a| Owned(a.to_string().into_bytes()))),
            Fetch::DstPort => out.extend(c.dst_port.map(|a| Owned(a.to_string().into_bytes()))),
            Fetch::ReqVer => {
                if let Some(r) = c.req {
                    out.push(Borrowed(if r.minor == 0 { b"1.0" } else { b"1.1" }));
                }
            }
            Fetch::Status => out.extend(c.resp.map(|r| Owned(r.status.to_string().into_bytes()))),
            Fetch::ReqHdr(n) => {
                if let Some(r) = c.req {
                    hdr_values(&r.headers, n, out);
                }
            }
            Fetch::ResHdr(n) => {
                if let Some(r) = c.resp {
                    hdr_values(&r.headers, n, out);
                }
            }
        }
    }
}

fn hdr_values<'a>(
    hs: &'a [super::http::head::Header],
    name: &str,
    out: &mut Vec<std::borrow::Cow<'a, [u8]>>,
) {
    for h in hs.iter().filter(|h| h.name == name) {
        for v in h.value.split(|&b| b == b',') {
            let s = v
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(v.len());
            let e = v
                .iter()
                .rposition(|b| !b.is_ascii_whitespace())
                .map_or(s, |e| e + 1);
            out.push(std::borrow::Cow::Borrowed(&v[s..e.max(s)]));
        }
    }
}

/// The path part of a request URI (absolute URIs lose scheme and
/// authority; the query string is cut).
pub fn path_of(uri: &str) -> &str {
    let rest = match uri.find("://") {
        Some(i) => {
            let after = &uri[i + 3..];
            match after.find('/') {
                Some(j) => &after[j..],
                None => "",
            }
        }
        None => uri,
    };
    rest.split('?').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_drops_query_and_authority() {
        assert_eq!(path_of("/a/b?x=1"), "/a/b");
        assert_eq!(path_of("http://h:80/p?q"), "/p");
        assert_eq!(path_of("*"), "*");
    }

    #[test]
    fn fetch_names() {
        assert_eq!(
            Fetch::parse("hdr(Host)"),
            Some(Fetch::ReqHdr("host".into()))
        );
        assert_eq!(
            Fetch::parse("req.hdr(host,-1)"),
            Some(Fetch::ReqHdr("host".into()))
        );
        assert_eq!(Fetch::parse("path"), Some(Fetch::Path));
        assert_eq!(Fetch::parse("sc0_conn_cur"), None);
    }
}
