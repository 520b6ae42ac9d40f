//! The request body fetches: `req.body`, `req.body_len`, `req.body_size`
//! and `req.body_param([<name>])`, over the body buffered by
//! `wait-for-body` / `option http-buffer-request` (kept in
//! [`Request::body`]).
//!
//! Owns: reading that buffer. Without buffering the body is empty, as
//! when HAProxy runs the rules before any body byte arrived. Must not do
//! I/O.

use crate::session::http::head::{Framing, Request};

/// The buffered body (empty when none was buffered).
pub fn body(req: &Request) -> &[u8] {
    req.body.as_deref().unwrap_or(&[])
}

/// `req.body_size`: the advertised content-length, or the size of the
/// data there for a chunked body.
pub fn size(req: &Request) -> i64 {
    match req.framing {
        Framing::Length(n) => i64::try_from(n).unwrap_or(i64::MAX),
        _ => body(req).len() as i64,
    }
}

/// `req.body_param`: the values of the `&`-separated `name=value`
/// parameters of the body called `name` (any non-empty name when `None`),
/// as presented (no URL decoding).
pub fn params<'a>(req: &'a Request, name: Option<&str>) -> Vec<&'a [u8]> {
    let b = body(req);
    if b.is_empty() {
        return Vec::new();
    }
    b.split(|&c| c == b'&')
        .filter_map(|p| {
            let (n, v) = match p.iter().position(|&c| c == b'=') {
                Some(e) => (&p[..e], &p[e + 1..]),
                None => (p, &p[p.len()..]),
            };
            let hit = match name {
                Some(want) => want.as_bytes() == n,
                None => !n.is_empty(),
            };
            hit.then_some(v)
        })
        .collect()
}
