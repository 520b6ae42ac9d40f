//! HAProxy 2.6's generated responses, byte for byte.
//!
//! Owns: the default error pages, reason phrases, and the two wire shapes
//! HAProxy uses: pages produced by the stream (lower-case headers, keep-alive
//! preserved) and pages produced by the HTTP/1 mux on parse errors and
//! request timeouts (legacy capitalised headers, always closing).
//! Must not decide when an error happens.

/// The reason phrase HAProxy puts on a status line it builds.
#[allow(clippy::match_overlapping_arm)]
pub fn reason(status: u16) -> &'static str {
    // Exact codes first, then the class fallbacks (HAProxy's order).
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        210 => "Content Different",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        310 => "Too many Redirects",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested range unsatisfiable",
        417 => "Expectation failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable entity",
        423 => "Locked",
        424 => "Method failure",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        449 => "Retry With",
        450 => "Blocked by Windows Parental Controls",
        451 => "Unavailable For Legal Reasons",
        456 => "Unrecoverable Error",
        499 => "client has closed connection",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        505 => "HTTP Version not supported",
        506 => "Variant also negociate",
        507 => "Insufficient storage",
        508 => "Loop detected",
        509 => "Bandwidth Limit Exceeded",
        510 => "Not extended",
        511 => "Network authentication required",
        520 => "Web server is returning an unknown error",
        100..=199 => "Informational",
        200..=299 => "Success",
        300..=399 => "Redirection",
        400..=499 => "Client Error",
        500..=599 => "Server Error",
        _ => "Other",
    }
}

/// Status line reason and body sentence of each default error page.
fn page_text(status: u16) -> Option<(&'static str, &'static str)> {
    Some(match status {
        200 => ("OK", "Service ready."),
        400 => ("Bad request", "Your browser sent an invalid request."),
        401 => (
            "Unauthorized",
            "You need a valid user and password to access this content.",
        ),
        403 => ("Forbidden", "Request forbidden by administrative rules."),
        404 => ("Not Found", "The resource could not be found."),
        405 => (
            "Method Not Allowed",
            "A request was made of a resource using a request method not supported by that resource",
        ),
        407 => (
            "Unauthorized",
            "You need a valid user and password to access this content.",
        ),
        408 => (
            "Request Time-out",
            "Your browser didn't send a complete request in time.",
        ),
        410 => (
            "Gone",
            "The resource is no longer available and will not be available again.",
        ),
        413 => (
            "Payload Too Large",
            "The request entity exceeds the maximum allowed.",
        ),
        421 => (
            "Misdirected Request",
            "Request sent to a non-authoritative server.",
        ),
        422 => (
            "Unprocessable Content",
            "The server cannot process the contained instructions.",
        ),
        425 => ("Too Early", "Your browser sent early data."),
        429 => (
            "Too Many Requests",
            "You have sent too many requests in a given amount of time.",
        ),
        500 => (
            "Internal Server Error",
            "An internal server error occurred.",
        ),
        501 => (
            "Not Implemented",
            ".The server does not support the functionality required to fulfill the request.",
        ),
        502 => (
            "Bad Gateway",
            "The server returned an invalid or incomplete response.",
        ),
        503 => (
            "Service Unavailable",
            "No server is available to handle this request.",
        ),
        504 => ("Gateway Time-out", "The server didn't respond in time."),
        _ => return None,
    })
}

/// Whether HAProxy has a default page for `status` (others fall back to 500).
pub fn has_page(status: u16) -> bool {
    page_text(status).is_some()
}

fn body(status: u16) -> (u16, &'static str, String) {
    let (status, (reason, text)) = match page_text(status) {
        Some(t) => (status, t),
        None => (500, page_text(500).unwrap_or(("", ""))),
    };
    let body = format!("<html><body><h1>{status} {reason}</h1>\n{text}\n</body></html>\n");
    (status, reason, body)
}

/// A default page as the stream sends it. `close` adds `connection: close`
/// (the client connection will not be kept alive).
pub fn stream_page(status: u16, close: bool) -> Vec<u8> {
    let (status, reason, body) = body(status);
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n",
        body.len()
    );
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

/// A default page as the HTTP/1 mux sends it on a parse error or request
/// timeout (HAProxy's legacy raw message; the connection then closes).
pub fn mux_page(status: u16) -> Vec<u8> {
    let (status, reason, body) = body(status);
    // HAProxy's built-in 413 message carries no `Connection: close`
    // (the connection closes all the same).
    let conn = if status == 413 {
        ""
    } else {
        "Connection: close\r\n"
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-length: {}\r\nCache-Control: no-cache\r\n{conn}Content-Type: text/html\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A default page with one extra header after HAProxy's own (the
/// `www-authenticate` of `http-request auth`).
pub fn stream_page_with(status: u16, close: bool, extra: Option<(&str, &[u8])>) -> Vec<u8> {
    let (status, reason, body) = body(status);
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n",
        body.len()
    )
    .into_bytes();
    if let Some((n, v)) = extra {
        push_hdr(&mut out, n, v);
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

fn push_hdr(out: &mut Vec<u8>, n: &str, v: &[u8]) {
    out.extend_from_slice(n.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(v);
    out.extend_from_slice(b"\r\n");
}

/// The status codes `errorfile` accepts (HAProxy's `http_err_codes`).
pub const ERRORFILE_CODES: [u16; 19] = [
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504,
];

/// A raw HTTP response loaded from an `errorfile` (or built for
/// `errorloc`), replayed the way HAProxy 2.6 does after converting it to
/// its internal message: version and reason kept, header names lower-cased,
/// connection headers dropped, `connection: close` added when the body is
/// delimited by the close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorFile {
    pub minor: u8,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    has_length: bool,
}

impl ErrorFile {
    /// Parses a response file; the message names what is wrong.
    pub fn parse(raw: &[u8]) -> Result<ErrorFile, String> {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i, i + 4))
            .or_else(|| {
                raw.windows(2)
                    .position(|w| w == b"\n\n")
                    .map(|i| (i, i + 2))
            })
            .ok_or("missing end of headers")?;
        let head = String::from_utf8_lossy(&raw[..end.0]).to_string();
        let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
        let start = lines.next().unwrap_or_default();
        let mut parts = start.splitn(3, ' ');
        let ver = parts.next().unwrap_or_default();
        let minor = match ver {
            "HTTP/1.0" => 0,
            "HTTP/1.1" => 1,
            _ => return Err(format!("invalid status line '{start}'")),
        };
        let status = parts
            .next()
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| (100..1000).contains(c))
            .ok_or_else(|| format!("invalid status line '{start}'"))?;
        let reason = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        let mut has_length = false;
        for l in lines {
            let (n, v) = l
                .split_once(':')
                .ok_or_else(|| format!("invalid header line '{l}'"))?;
            let n = n.trim().to_ascii_lowercase();
            if matches!(n.as_str(), "connection" | "proxy-connection" | "keep-alive") {
                continue;
            }
            has_length |= n == "content-length" || n == "transfer-encoding";
            headers.push((n, v.trim().as_bytes().to_vec()));
        }
        Ok(ErrorFile {
            minor,
            status,
            reason,
            headers,
            body: raw[end.1..].to_vec(),
            has_length,
        })
    }

    /// An `errorloc`/`errorloc302`/`errorloc303` redirection.
    pub fn location(code: u16, url: &str) -> ErrorFile {
        let raw = format!(
            "HTTP/1.1 {code} {}\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: {url}\r\n\r\n",
            reason(code)
        );
        // The text above is always well formed.
        ErrorFile::parse(raw.as_bytes()).unwrap_or(ErrorFile {
            minor: 1,
            status: code,
            reason: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
            has_length: true,
        })
    }

    /// Whether the connection cannot survive this answer.
    pub fn closes(&self) -> bool {
        !self.has_length || self.minor == 0
    }

    /// The bytes on the wire; `extra` is appended after the file's headers.
    pub fn render(&self, close: bool, extra: Option<(&str, &[u8])>) -> Vec<u8> {
        let mut out =
            format!("HTTP/1.{} {} {}\r\n", self.minor, self.status, self.reason).into_bytes();
        for (n, v) in &self.headers {
            push_hdr(&mut out, n, v);
        }
        if let Some((n, v)) = extra {
            push_hdr(&mut out, n, v);
        }
        if self.minor == 1 && (close || !self.has_length) {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from HAProxy 2.6.12 with curl/raw sockets.
    #[test]
    fn stream_503_matches_haproxy() {
        let want = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
        assert_eq!(String::from_utf8_lossy(&stream_page(503, true)), want);
    }

    #[test]
    fn stream_pages_have_haproxy_lengths() {
        for (code, len) in [(403, 93), (429, 117), (500, 97), (502, 107), (504, 92)] {
            let p = String::from_utf8_lossy(&stream_page(code, false)).to_string();
            assert!(p.contains(&format!("content-length: {len}\r\n")), "{p}");
        }
    }

    #[test]
    fn mux_400_and_408_match_haproxy() {
        let want = "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
        assert_eq!(String::from_utf8_lossy(&mux_page(400)), want);
        let want = "HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
        assert_eq!(String::from_utf8_lossy(&mux_page(408)), want);
    }

    // HAProxy 2.6.12 replaying `errorfile 503` with "HTTP/1.1 503 Oops",
    // no content-length, to a keep-alive request.
    #[test]
    fn errorfile_without_length_closes() {
        let f = ErrorFile::parse(
            b"HTTP/1.1 503 Oops\r\nContent-Type: text/plain\r\nX-Custom: yes\r\n\r\nsorry\n",
        )
        .unwrap();
        assert!(f.closes());
        assert_eq!(
            String::from_utf8_lossy(&f.render(false, None)),
            "HTTP/1.1 503 Oops\r\ncontent-type: text/plain\r\nx-custom: yes\r\nconnection: close\r\n\r\nsorry\n"
        );
        let f = ErrorFile::parse(b"HTTP/1.0 403 Nope\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n<h1>no</h1>\n").unwrap();
        assert_eq!(
            String::from_utf8_lossy(&f.render(true, None)),
            "HTTP/1.0 403 Nope\r\ncache-control: no-cache\r\n\r\n<h1>no</h1>\n"
        );
        let f = ErrorFile::parse(b"HTTP/1.1 500 Bad\r\nContent-Length: 3\r\n\r\nabc").unwrap();
        assert!(!f.closes());
        assert_eq!(
            String::from_utf8_lossy(&f.render(true, None)),
            "HTTP/1.1 500 Bad\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc"
        );
    }
}
