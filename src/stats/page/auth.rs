//! `stats auth` / `stats realm`: HTTP Basic credentials and HAProxy's 401.
//!
//! Owns: decoding the `Authorization: Basic` header and the exact 401 page
//! HAProxy 2.6.12 sends. Must not decide which URIs are protected.

/// Decodes standard base64 (with or without padding); `None` when invalid.
pub fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_ascii();
    let body = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// Whether an `Authorization` header value carries one of `users`
/// (`user:pass` as written after `stats auth`).
pub fn authorized(header: Option<&[u8]>, users: &[String]) -> bool {
    let Some(h) = header else { return false };
    let h = h.trim_ascii();
    let Some(sp) = h.iter().position(|&b| b == b' ') else {
        return false;
    };
    if !h[..sp].eq_ignore_ascii_case(b"basic") {
        return false;
    }
    let Some(cred) = base64_decode(&h[sp + 1..]) else {
        return false;
    };
    users.iter().any(|u| u.as_bytes() == cred.as_slice())
}

/// HAProxy's 401 page for `realm`; `close` adds `connection: close`.
pub fn unauthorized(realm: &str, close: bool) -> Vec<u8> {
    let body = "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
    let mut out = format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"{realm}\"\r\n",
        body.len()
    );
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64() {
        assert_eq!(base64_decode(b"YTpi").as_deref(), Some(&b"a:b"[..]));
        assert_eq!(base64_decode(b"YWI6Yw==").as_deref(), Some(&b"ab:c"[..]));
        assert_eq!(base64_decode(b"YWI6Yw").as_deref(), Some(&b"ab:c"[..]));
        assert_eq!(base64_decode(b"Y"), None);
        assert_eq!(base64_decode(b"Y!Ti"), None);
    }

    #[test]
    fn checks_credentials() {
        let users = vec!["a:b".to_string()];
        assert!(authorized(Some(b"Basic YTpi"), &users));
        assert!(authorized(Some(b"basic YTpi"), &users));
        assert!(!authorized(Some(b"Basic YTpj"), &users));
        assert!(!authorized(Some(b"Bearer YTpi"), &users));
        assert!(!authorized(None, &users));
    }

    /// Captured from HAProxy 2.6.12 (`stats auth a:b`, no credentials).
    #[test]
    fn page_matches_haproxy() {
        let want = "HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"HAProxy Statistics\"\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
        assert_eq!(
            String::from_utf8_lossy(&unauthorized("HAProxy Statistics", false)),
            want
        );
    }
}
