//! Message sizes as HAProxy 2.6 counts them in `bin`/`bout` for HTTP
//! proxies: the size of the internal (HTX) message, not the wire bytes.
//! Measured on the real binary: start-line parts without separators + 21,
//! plus name + value of each header, plus body data. Connection-level
//! errors (400/408 from the parser) count nothing.
//!
//! Owns: these formulas. Must not allocate.

use crate::session::http::head::{Framing, Header, Request, Response};

/// Fixed cost of a start line in HAProxy's internal message.
const START_LINE: u64 = 21;
/// `HTTP/1.x`.
const VERSION: u64 = 8;

fn headers(h: &[Header]) -> u64 {
    h.iter()
        .map(|h| (h.name.len() + h.value.len()) as u64)
        .sum()
}

fn body(f: Framing) -> u64 {
    match f {
        Framing::Length(n) => n,
        _ => 0,
    }
}

/// HAProxy's message buffer (`tune.bufsize`, 16384) less the HTX header:
/// the space a message head may take once rewritten.
const HTX_SIZE: u64 = 16384 - 40;
/// The index entry of each HTX block.
const BLOCK: u64 = 8;
/// HAProxy's start-line structure before its strings.
const START_LINE_STRUCT: u64 = 29;

/// HTX space one header takes.
pub fn header_space(name: &str, value: &[u8]) -> u64 {
    BLOCK + (name.len() + value.len()) as u64
}

/// HTX space of a head: start line, headers, end-of-headers marker.
fn head_space(start_strings: u64, hs: &[Header]) -> u64 {
    let h: u64 = hs.iter().map(|h| header_space(&h.name, &h.value)).sum();
    BLOCK + START_LINE_STRUCT + start_strings + h + BLOCK
}

/// Space left for rewrites in a request's HTX message (a rewrite that
/// needs more fails, HAProxy's `wrew`).
pub fn request_room(r: &Request) -> u64 {
    let sl = (r.method.len() + r.uri.len()) as u64 + VERSION;
    HTX_SIZE.saturating_sub(head_space(sl, &r.headers))
}

/// [`request_room`] for a response.
pub fn response_room(r: &Response) -> u64 {
    let sl = VERSION + 3 + r.reason.len() as u64;
    HTX_SIZE.saturating_sub(head_space(sl, &r.headers))
}

/// A request as received (before any rule rewrote it).
pub fn request(r: &Request) -> u64 {
    (r.method.len() + r.uri.len()) as u64
        + VERSION
        + START_LINE
        + headers(&r.headers)
        + body(r.framing)
}

/// A response as received from the server.
pub fn response(r: &Response) -> u64 {
    VERSION + 3 + r.reason.len() as u64 + START_LINE + headers(&r.headers) + body(r.framing)
}

/// A locally generated response given as wire bytes (`connection` headers
/// are added on output by HAProxy, so they do not count). Returns the
/// status too (0 when unreadable).
pub fn raw_response(b: &[u8]) -> (u16, u64) {
    let (head, body) = match b.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&b[..i], &b[i + 4..]),
        None => (b, &b[b.len()..]),
    };
    let mut lines = head.split(|&c| c == b'\n');
    let start = lines.next().unwrap_or_default().trim_ascii();
    let parts = start.split(|&c| c == b' ');
    let mut status = 0u16;
    let mut size = START_LINE;
    // Version and status are single words; the reason may hold spaces.
    let mut seps = 0u64;
    for (i, p) in parts.enumerate() {
        if i == 1 {
            status = std::str::from_utf8(p)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
        }
        if i >= 3 {
            seps += 1;
        }
        size += p.len() as u64;
    }
    // Spaces inside the reason phrase are part of it.
    size += seps;
    for l in lines {
        let l = l.trim_ascii_end();
        let Some(colon) = l.iter().position(|&c| c == b':') else {
            continue;
        };
        let name = &l[..colon];
        if name.eq_ignore_ascii_case(b"connection") {
            continue;
        }
        size += (name.len() + l[colon + 1..].trim_ascii().len()) as u64;
    }
    (status, size + body.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values read from HAProxy 2.6.12's `show stat` after one request.
    #[test]
    fn request_sizes_match_haproxy() {
        let r = |raw: &[u8]| match crate::session::http::head::parse_request(raw) {
            crate::session::http::head::Parsed::Done(r, _) => request(&r),
            _ => 0,
        };
        assert_eq!(r(b"GET / HTTP/1.1\r\n\r\n"), 33);
        assert_eq!(r(b"GET / HTTP/1.1\r\nA: b\r\n\r\n"), 35);
        assert_eq!(r(b"GET /xx HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n"), 39);
    }

    // HAProxy 2.6.12: `set-header x-b %[req.hdr(x-a)]` fits for an x-a
    // of 8124 bytes in this request, not 8125 (measured).
    #[test]
    fn rewrite_room_matches_haproxy() {
        let fits = |n: usize| {
            let raw = format!(
                "GET /big HTTP/1.1\r\nHost: x\r\nx-a: {}\r\n\r\n",
                "a".repeat(n)
            );
            match crate::session::http::head::parse_request(raw.as_bytes()) {
                crate::session::http::head::Parsed::Done(r, _) => {
                    header_space("x-b", &vec![b'a'; n]) <= request_room(&r)
                }
                _ => false,
            }
        };
        assert!(fits(8124));
        assert!(!fits(8125));
    }

    #[test]
    fn generated_pages_match_haproxy() {
        // HAProxy's 403 page: bout 192 (plus our connection: close).
        let p = crate::session::http::errors::stream_page(403, true);
        assert_eq!(raw_response(&p), (403, 192));
        let (st, n) = raw_response(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
        assert_eq!((st, n), (404, 60));
    }
}
