//! `redirect` rules and `http-request redirect`: `location`, `prefix`,
//! `scheme`, with `code`, `drop-query`, `append-slash`, `set-cookie`,
//! `clear-cookie`, built as HAProxy 2.6 builds them.
//!
//! Owns: [`Redirect`] parsing and its reply bytes. Must not do I/O.

use super::reply::push_hdr;
use crate::session::fetch::{Ctx, path_of};
use crate::session::fmt::Fmt;
use crate::session::http::errors;
use crate::session::http::head::Header;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Location,
    Prefix,
    Scheme,
}

/// A `redirect` rule.
#[derive(Debug, Clone)]
pub struct Redirect {
    kind: Kind,
    target: Fmt,
    code: u16,
    drop_query: bool,
    append_slash: bool,
    /// The complete `set-cookie` value (`set-cookie`/`clear-cookie`).
    cookie: Option<String>,
}

fn hdr<'a>(hs: &'a [Header], name: &str) -> Option<&'a [u8]> {
    hs.iter()
        .rev()
        .find(|h| h.name == name)
        .map(|h| h.value.as_slice())
}

impl Redirect {
    /// The reply bytes; `close` adds `connection: close`.
    pub fn render(&self, c: &Ctx<'_>, close: bool) -> Vec<u8> {
        let t = self.target.render(c);
        let mut loc = Vec::new();
        let (uri, host) = match c.req {
            Some(r) => (r.uri.as_str(), hdr(&r.headers, "host")),
            None => ("/", None),
        };
        let path = path_of(uri);
        let query = uri.split_once('?').map(|q| q.1);
        let add_path = |loc: &mut Vec<u8>| {
            loc.extend_from_slice(path.as_bytes());
            if let Some(q) = query.filter(|_| !self.drop_query) {
                loc.push(b'?');
                loc.extend_from_slice(q.as_bytes());
            }
            // HAProxy checks the last character of what it appended, the
            // query string included.
            if self.append_slash && loc.last() != Some(&b'/') {
                loc.push(b'/');
            }
        };
        match self.kind {
            Kind::Location => loc = t,
            Kind::Prefix => {
                if t != b"/" {
                    loc.extend_from_slice(&t);
                }
                add_path(&mut loc);
            }
            Kind::Scheme => {
                loc.extend_from_slice(&t);
                loc.extend_from_slice(b"://");
                loc.extend_from_slice(host.unwrap_or_default());
                add_path(&mut loc);
            }
        }
        let mut out =
            format!("HTTP/1.1 {} {}\r\n", self.code, errors::reason(self.code)).into_bytes();
        push_hdr(&mut out, "content-length", b"0");
        push_hdr(&mut out, "location", &loc);
        if matches!(self.code, 302 | 303 | 307) {
            push_hdr(&mut out, "cache-control", b"no-cache");
        }
        if let Some(ck) = &self.cookie {
            push_hdr(&mut out, "set-cookie", ck.as_bytes());
        }
        if close {
            push_hdr(&mut out, "connection", b"close");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// Parses the words after `redirect` (type, target, options).
pub fn parse(a: &[String]) -> Result<Redirect, String> {
    let mut kind = None;
    let mut target = None;
    let mut r = Redirect {
        kind: Kind::Location,
        target: Fmt::literal(""),
        code: 302,
        drop_query: false,
        append_slash: false,
        cookie: None,
    };
    let mut i = 0;
    let val = |i: usize| {
        a.get(i + 1)
            .map(String::as_str)
            .ok_or_else(|| format!("redirect option '{}' expects an argument", a[i]))
    };
    while i < a.len() {
        match a[i].as_str() {
            k @ ("location" | "prefix" | "scheme") => {
                kind = Some(match k {
                    "location" => Kind::Location,
                    "prefix" => Kind::Prefix,
                    _ => Kind::Scheme,
                });
                target = Some(Fmt::parse(val(i)?)?);
                i += 1;
            }
            "code" => {
                r.code = val(i)?
                    .parse()
                    .ok()
                    .filter(|c| matches!(c, 301..=303 | 307 | 308))
                    .ok_or("invalid redirect code")?;
                i += 1;
            }
            "drop-query" => r.drop_query = true,
            "append-slash" => r.append_slash = true,
            "set-cookie" => {
                r.cookie = Some(format!("{}; path=/;", val(i)?));
                i += 1;
            }
            "clear-cookie" => {
                r.cookie = Some(format!("{}; path=/; Max-Age=0;", val(i)?));
                i += 1;
            }
            other => return Err(format!("redirect option '{other}' is not implemented yet")),
        }
        i += 1;
    }
    r.kind = kind.ok_or("redirect expects 'location', 'prefix' or 'scheme'")?;
    r.target = target.ok_or("redirect expects a target")?;
    Ok(r)
}
