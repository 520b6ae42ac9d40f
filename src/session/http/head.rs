//! HTTP/1.x message heads: parsing with HAProxy's strictness, and writing.
//!
//! Owns: request/response head parsing (on top of `httparse` for the
//! tokenising), message framing (content-length / chunked / until close),
//! and the smuggling checks: duplicate or invalid `content-length`,
//! `transfer-encoding` not ending in `chunked`, both headers present (then,
//! like HAProxy, chunked wins, content-length is dropped and the connection
//! closes after the exchange). Must not do I/O.

/// HAProxy's `tune.http.maxhdr` default.
pub const MAX_HEADERS: usize = 101;

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    /// Response bodies only: until the server closes.
    UntilClose,
}

/// One header, name lower-cased (HAProxy forwards lower-case names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Vec<u8>,
}

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub uri: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub headers: Vec<Header>,
    pub framing: Framing,
    /// `connection: close` / `keep-alive` as the client asked.
    pub conn_close: bool,
    pub conn_keep_alive: bool,
    /// `connection: upgrade` (kept for the server when `upgrade` is sent).
    pub conn_upgrade: bool,
    /// Both content-length and transfer-encoding were sent.
    pub forced_close: bool,
    /// The body buffered by `wait-for-body` / `option
    /// http-buffer-request` (de-chunked), for the `req.body*` fetches.
    pub body: Option<Vec<u8>>,
}

/// A parsed response head.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub minor: u8,
    pub headers: Vec<Header>,
    pub framing: Framing,
}

/// What parsing a buffer gave.
#[derive(Debug)]
pub enum Parsed<T> {
    /// More bytes are needed.
    Partial,
    /// The head and its length in bytes.
    Done(T, usize),
    /// Malformed: 400 for requests, 502 for responses.
    Invalid,
}

/// Parses a request head from `buf`.
pub fn parse_request(buf: &[u8]) -> Parsed<Request> {
    // HAProxy takes any `HTTP/<digit>.<digit>` and speaks HTTP/1.1 for
    // versions above 1.1: parse such a head as 1.1 (same length).
    let patched;
    let buf = match newer_version_at(buf) {
        Some(at) => {
            let mut v = buf.to_vec();
            v[at..at + 3].copy_from_slice(b"1.1");
            patched = v;
            &patched[..]
        }
        None => buf,
    };
    let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut hdrs);
    let n = match request_parser().parse_request(&mut req, buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return lenient_request(buf),
    };
    build_request(req.method, req.path, req.version, req.headers, n)
}

/// Like HAProxy: several spaces may separate method, URI and version.
fn request_parser() -> httparse::ParserConfig {
    let mut c = httparse::ParserConfig::default();
    c.allow_multiple_spaces_in_request_line_delimiters(true);
    c
}

/// The headers of a head parsed from `probe`, with their values read
/// from `fixed` at the same offsets (see [`lenient::rewrite`]).
fn remap<'a>(
    hs: &[httparse::Header<'a>],
    probe: &[u8],
    fixed: &'a [u8],
) -> Vec<httparse::Header<'a>> {
    let base = probe.as_ptr() as usize;
    hs.iter()
        .map(|h| {
            let value = (h.value.as_ptr() as usize)
                .checked_sub(base)
                .and_then(|off| fixed.get(off..off + h.value.len()))
                .unwrap_or(h.value);
            httparse::Header {
                name: h.name,
                value,
            }
        })
        .collect()
}

/// A request head `httparse` refused: HAProxy's leniency (control bytes
/// in values, obs-fold) applied, else invalid.
#[cold]
fn lenient_request(buf: &[u8]) -> Parsed<Request> {
    let Some((fixed, probe)) = lenient::rewrite(buf) else {
        return Parsed::Invalid;
    };
    let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut hdrs);
    let n = match request_parser().parse_request(&mut req, &probe) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Invalid,
    };
    let hs = remap(req.headers, &probe, &fixed);
    build_request(req.method, req.path, req.version, &hs, n)
}

fn build_request(
    method: Option<&str>,
    uri: Option<&str>,
    minor: Option<u8>,
    headers: &[httparse::Header<'_>],
    n: usize,
) -> Parsed<Request> {
    let (Some(method), Some(uri), Some(minor)) = (method, uri, minor) else {
        return Parsed::Invalid;
    };
    // HAProxy 2.6.12 as Debian ships it (CVE-2023-45539 fix) refuses a
    // `#` anywhere in the URI.
    if uri.is_empty() || uri.as_bytes().contains(&b'#') {
        return Parsed::Invalid;
    }
    let Some(m) = Meta::scan(headers, true) else {
        return Parsed::Invalid;
    };
    let framing = if m.chunked {
        Framing::Chunked
    } else if let Some(l) = m.length {
        Framing::Length(l)
    } else {
        Framing::None
    };
    let r = Request {
        method: method.to_string(),
        uri: uri.to_string(),
        minor,
        headers: m.headers,
        framing: if framing == Framing::Length(0) {
            Framing::None
        } else {
            framing
        },
        conn_close: m.conn_close,
        conn_keep_alive: m.conn_keep_alive,
        conn_upgrade: m.conn_upgrade,
        forced_close: m.had_both,
        body: None,
    };
    Parsed::Done(r, n)
}

/// Where the version digits of a request line sit when the version is a
/// well-formed `HTTP/x.y` above 1.1 (`x.y` is then rewritten to `1.1`).
fn newer_version_at(buf: &[u8]) -> Option<usize> {
    let eol = buf.iter().position(|&b| b == b'\n')?;
    let line = buf[..eol].strip_suffix(b"\r").unwrap_or(&buf[..eol]);
    let line = line.trim_ascii_end();
    if line.len() < 8 {
        return None;
    }
    let at = line.len() - 3;
    let (proto, v) = (&line[at - 5..at], &line[at..]);
    let newer = proto == b"HTTP/"
        && v[0].is_ascii_digit()
        && v[1] == b'.'
        && v[2].is_ascii_digit()
        && (v[0] > b'1' || (v[0] == b'1' && v[2] > b'1'))
        && line.get(at - 6).is_some_and(|&b| b == b' ');
    newer.then_some(at)
}

/// Parses a response head; `head_req` tells whether it answers a HEAD.
pub fn parse_response(buf: &[u8], head_req: bool) -> Parsed<Response> {
    let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut hdrs);
    let n = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return lenient_response(buf, head_req),
    };
    build_response(
        resp.code,
        resp.version,
        resp.reason,
        resp.headers,
        n,
        head_req,
    )
}

/// A response head `httparse` refused: the same leniency as requests
/// (HAProxy parses both with one parser), else invalid.
#[cold]
fn lenient_response(buf: &[u8], head_req: bool) -> Parsed<Response> {
    let Some((fixed, probe)) = lenient::rewrite(buf) else {
        return Parsed::Invalid;
    };
    let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut hdrs);
    let n = match resp.parse(&probe) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Invalid,
    };
    let hs = remap(resp.headers, &probe, &fixed);
    build_response(resp.code, resp.version, resp.reason, &hs, n, head_req)
}

fn build_response(
    code: Option<u16>,
    version: Option<u8>,
    reason: Option<&str>,
    headers: &[httparse::Header<'_>],
    n: usize,
    head_req: bool,
) -> Parsed<Response> {
    let (Some(status), Some(minor)) = (code, version) else {
        return Parsed::Invalid;
    };
    let reason = reason.unwrap_or("").to_string();
    let Some(m) = Meta::scan(headers, false) else {
        return Parsed::Invalid;
    };
    let framing = if head_req || (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::None
    } else if m.chunked {
        Framing::Chunked
    } else if let Some(l) = m.length {
        if l == 0 {
            Framing::None
        } else {
            Framing::Length(l)
        }
    } else {
        Framing::UntilClose
    };
    Parsed::Done(
        Response {
            status,
            reason,
            minor,
            headers: m.headers,
            framing,
        },
        n,
    )
}

/// What the headers say about framing and the connection.
struct Meta {
    headers: Vec<Header>,
    length: Option<u64>,
    chunked: bool,
    had_both: bool,
    conn_close: bool,
    conn_keep_alive: bool,
    conn_upgrade: bool,
}

impl Meta {
    fn scan(raw: &[httparse::Header<'_>], is_request: bool) -> Option<Meta> {
        let mut m = Meta {
            headers: Vec::with_capacity(raw.len() + 2),
            length: None,
            chunked: false,
            had_both: false,
            conn_close: false,
            conn_keep_alive: false,
            conn_upgrade: false,
        };
        let mut te_seen = false;
        let mut te_final_chunked = false;
        for h in raw {
            let name = h.name.to_ascii_lowercase();
            match name.as_str() {
                "content-length" => {
                    let v = parse_content_length(h.value)?;
                    if m.length.is_some_and(|old| old != v) {
                        return None;
                    }
                    if m.length.is_some() {
                        // Identical duplicates collapse into one header.
                        continue;
                    }
                    m.length = Some(v);
                    m.headers.push(Header {
                        name,
                        value: v.to_string().into_bytes(),
                    });
                    continue;
                }
                "transfer-encoding" => {
                    for enc in split_list(h.value) {
                        if te_final_chunked {
                            // Something after "chunked": the body cannot be
                            // delimited safely.
                            if is_request {
                                return None;
                            }
                            te_final_chunked = false;
                        }
                        if enc.eq_ignore_ascii_case(b"chunked") {
                            te_final_chunked = true;
                        }
                    }
                    te_seen = true;
                }
                "connection" => {
                    for tok in split_list(h.value) {
                        if tok.eq_ignore_ascii_case(b"close") {
                            m.conn_close = true;
                        } else if tok.eq_ignore_ascii_case(b"keep-alive") {
                            m.conn_keep_alive = true;
                        } else if tok.eq_ignore_ascii_case(b"upgrade") {
                            m.conn_upgrade = true;
                        }
                    }
                    // Hop-by-hop: regenerated on each side.
                    continue;
                }
                _ => {}
            }
            m.headers.push(Header {
                name,
                value: h.value.to_vec(),
            });
        }
        if te_seen {
            if !te_final_chunked && is_request {
                return None;
            }
            m.chunked = te_final_chunked;
            if m.length.is_some() {
                m.had_both = true;
                m.length = None;
                m.headers.retain(|h| h.name != "content-length");
            }
        }
        Some(m)
    }
}

/// A content-length value: comma-separated decimal numbers, all equal.
fn parse_content_length(v: &[u8]) -> Option<u64> {
    let mut out: Option<u64> = None;
    for part in v.split(|&b| b == b',') {
        let p = trim(part);
        if p.is_empty() || !p.iter().all(u8::is_ascii_digit) || p.len() > 19 {
            return None;
        }
        let n: u64 = std::str::from_utf8(p).ok()?.parse().ok()?;
        if out.is_some_and(|o| o != n) {
            return None;
        }
        out = Some(n);
    }
    out
}

fn trim(v: &[u8]) -> &[u8] {
    let s = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let e = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &v[s..e.max(s)]
}

fn split_list(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(trim).filter(|p| !p.is_empty())
}

/// Writes a head: start line, headers, then `extra` headers, then CRLF.
pub fn write_head(out: &mut Vec<u8>, start: &[u8], headers: &[Header], extra: &[(&str, &[u8])]) {
    out.extend_from_slice(start);
    out.extend_from_slice(b"\r\n");
    for h in headers {
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&h.value);
        out.extend_from_slice(b"\r\n");
    }
    for (n, v) in extra {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

mod lenient;

#[cfg(test)]
mod tests;
