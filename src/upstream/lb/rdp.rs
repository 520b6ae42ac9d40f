//! The RDP cookie of an RDP connection request (`Cookie: mstshash=...`),
//! as HAProxy's `rdp_cookie` fetch reads it for `balance rdp-cookie` and
//! `persist rdp-cookie`.
//!
//! Owns: the byte-level scan of the client's first bytes (TPKT + X.224
//! header, then the cookie line). Pure function; must not read sockets
//! nor decide anything about servers. Not wired yet: the TCP session has
//! to hand the inspected payload over, so `balance rdp-cookie` stays
//! refused at start-up.

/// What the first bytes of an RDP stream say about the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdpCookie<'a> {
    /// The cookie value (without the trailing CRLF).
    Found(&'a [u8]),
    /// Not enough bytes yet (wait for more while inspecting).
    TooShort,
    /// No such cookie in this request.
    Absent,
}

/// The value of cookie `name` (any name when `None`) in the RDP
/// connection request `data`: 11 header bytes, then `Cookie:` (any case),
/// spaces, `name=value` and CRLF.
pub fn rdp_cookie<'a>(data: &'a [u8], name: Option<&str>) -> RdpCookie<'a> {
    if data.len() <= 11 {
        return RdpCookie::TooShort;
    }
    let mut d = &data[11..];
    if d.len() <= 7 {
        return RdpCookie::TooShort;
    }
    if !d[..7].eq_ignore_ascii_case(b"Cookie:") {
        return RdpCookie::Absent;
    }
    d = &d[7..];
    let sp = d.iter().take_while(|&&c| c == b' ').count();
    d = &d[sp..];
    match name {
        Some(n) => {
            let n = n.as_bytes();
            if d.len() <= n.len() {
                return RdpCookie::TooShort;
            }
            if d[n.len()] != b'=' || !d[..n.len()].eq_ignore_ascii_case(n) {
                return RdpCookie::Absent;
            }
            d = &d[n.len() + 1..];
        }
        None => {
            let Some(eq) = d.iter().position(|&c| matches!(c, b'=' | b'\r' | b'\n')) else {
                return RdpCookie::TooShort;
            };
            if d[eq] != b'=' {
                return RdpCookie::Absent;
            }
            d = &d[eq + 1..];
        }
    }
    let end = d.iter().position(|&c| c == b'\r').unwrap_or(d.len());
    if d.len() - end < 2 {
        return RdpCookie::TooShort;
    }
    if d[end + 1] != b'\n' {
        return RdpCookie::Absent;
    }
    RdpCookie::Found(&d[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(cookie: &str) -> Vec<u8> {
        let mut v = vec![3, 0, 0, 0x2b, 0x26, 0xe0, 0, 0, 0, 0, 0];
        v.extend_from_slice(cookie.as_bytes());
        v.extend_from_slice(&[1, 0, 8, 0, 3, 0, 0, 0]);
        v
    }

    #[test]
    fn reads_mstshash_like_haproxy() {
        let r = req("Cookie: mstshash=alice\r\n");
        assert_eq!(rdp_cookie(&r, Some("mstshash")), RdpCookie::Found(b"alice"));
        assert_eq!(rdp_cookie(&r, Some("MSTSHASH")), RdpCookie::Found(b"alice"));
        assert_eq!(rdp_cookie(&r, None), RdpCookie::Found(b"alice"));
        assert_eq!(rdp_cookie(&r, Some("msts")), RdpCookie::Absent);
        assert_eq!(rdp_cookie(&r[..20], Some("mstshash")), RdpCookie::TooShort);
        let partial = req("Cookie: mstshash=al");
        assert_eq!(rdp_cookie(&partial[..30], None), RdpCookie::TooShort);
        assert_eq!(rdp_cookie(&req("Hello: x=y\r\n"), None), RdpCookie::Absent);
        assert_eq!(rdp_cookie(&req("Cookie: abc\r\n"), None), RdpCookie::Absent);
    }
}
