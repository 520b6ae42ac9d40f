//! Fetches over the raw bytes waiting in a channel (`tcp-request content`
//! inspection): `req.len`, `req.payload`, `req.payload_lv`, the TLS
//! ClientHello probes (`req.ssl_sni`, `req.ssl_hello_type`, `req.ssl_ver`)
//! and `req.proto_http`.
//!
//! Owns: parsing those bytes. Each function answers the value (if any) and
//! whether more data could change it (HAProxy's `SMP_F_MAY_CHANGE`). Must
//! not consume or modify the bytes.

use super::smp::Smp;
use std::borrow::Cow;

/// A fetch result over incomplete data.
pub type Got<'a> = (Option<Smp<'a>>, bool);

/// `req.payload(off,len)`; `len` 0 = up to the end of the data.
pub fn payload(d: &[u8], off: i64, len: i64) -> Got<'_> {
    let (Ok(off), Ok(len)) = (usize::try_from(off), usize::try_from(len)) else {
        return (None, false);
    };
    if len == 0 {
        return match d.get(off..) {
            Some(s) => (Some(Smp::Bin(Cow::Borrowed(s))), true),
            None => (None, true),
        };
    }
    match d.get(off..off.saturating_add(len)) {
        Some(s) => (Some(Smp::Bin(Cow::Borrowed(s))), false),
        None => (None, true),
    }
}

/// `req.payload_lv(off1,len1[,off2])`: a length field of `len1` bytes
/// (big endian) at `off1`, then that many bytes at `off1+len1+off2`.
pub fn payload_lv(d: &[u8], off1: i64, len1: i64, off2: i64) -> Got<'_> {
    let (Ok(o1), Ok(l1)) = (usize::try_from(off1), usize::try_from(len1)) else {
        return (None, false);
    };
    let Some(lf) = d.get(o1..o1.saturating_add(l1)) else {
        return (None, true);
    };
    let n = lf.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
    let start = o1 as i64 + l1 as i64 + off2;
    let Ok(start) = usize::try_from(start) else {
        return (None, false);
    };
    match d.get(start..start.saturating_add(n)) {
        Some(s) => (Some(Smp::Bin(Cow::Borrowed(s))), false),
        None => (None, true),
    }
}

/// `req.ssl_hello_type`: the handshake type of a TLS handshake record.
pub fn ssl_hello_type<'a>(d: &'a [u8]) -> Got<'a> {
    if d.len() < 6 {
        return (None, true);
    }
    if d[0] != 0x16 || d[1] < 3 {
        return (None, false);
    }
    (Some(Smp::Int(i64::from(d[5]))), false)
}

/// `req.ssl_ver`: `major << 16 | minor` of the record (the ClientHello's
/// version when present). SSLv2 hellos count as 2.0.
pub fn ssl_ver<'a>(d: &'a [u8]) -> Got<'a> {
    if d.len() < 5 {
        return (None, true);
    }
    if d[0] == 0x16 && d[1] == 3 {
        let mut v = (i64::from(d[1]) << 16) | i64::from(d[2]);
        if d.len() >= 11 && d[5] == 1 {
            v = (i64::from(d[9]) << 16) | i64::from(d[10]);
        }
        return (Some(Smp::Int(v)), false);
    }
    if d[0] & 0x80 != 0 && d[2] == 1 {
        // SSLv2 CLIENT-HELLO
        let v = (i64::from(d[3]) << 16) | i64::from(d[4]);
        return (Some(Smp::Int(v)), false);
    }
    (None, false)
}

/// A cursor over ClientHello bytes; `None` = truncated.
struct Rd<'a>(&'a [u8], usize);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.0.get(self.1..self.1.checked_add(n)?)?;
        self.1 += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| usize::from(b[0]))
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| usize::from(b[0]) << 8 | usize::from(b[1]))
    }
}

/// `req.ssl_sni`: the server name of a TLS ClientHello.
pub fn ssl_sni(d: &[u8]) -> Got<'_> {
    if d.len() < 9 {
        return (None, d.is_empty() || d[0] == 0x16);
    }
    if d[0] != 0x16 || d[1] < 3 || d[5] != 1 {
        return (None, false);
    }
    let rec_len = usize::from(d[3]) << 8 | usize::from(d[4]);
    let Some(rec) = d.get(5..5 + rec_len) else {
        return (None, true);
    };
    (sni_in(rec).map(|s| Smp::Str(Cow::Borrowed(s))), false)
}

fn sni_in(hs: &[u8]) -> Option<&[u8]> {
    let mut r = Rd(hs, 4); // type + 24-bit length
    r.take(2 + 32)?; // version, random
    let sid = r.u8()?;
    r.take(sid)?;
    let cs = r.u16()?;
    r.take(cs)?;
    let cm = r.u8()?;
    r.take(cm)?;
    let ext_len = r.u16()?;
    let mut e = Rd(r.take(ext_len)?, 0);
    while let (Some(t), Some(l)) = (e.u16(), e.u16()) {
        let body = e.take(l)?;
        if t != 0 {
            continue;
        }
        let mut s = Rd(body, 0);
        let list = s.u16()?;
        let mut names = Rd(s.take(list)?, 0);
        while let (Some(kind), Some(n)) = (names.u8(), names.u16()) {
            let name = names.take(n)?;
            if kind == 0 {
                return Some(name);
            }
        }
    }
    None
}

/// `req.proto_http`: the bytes hold a complete, valid HTTP request head.
pub fn proto_http<'a>(d: &'a [u8]) -> Got<'a> {
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut hs);
    match req.parse(d) {
        Ok(httparse::Status::Complete(_)) => (Some(Smp::Bool(true)), false),
        Ok(httparse::Status::Partial) => (None, true),
        Err(_) => (Some(Smp::Bool(false)), false),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal TLS 1.2 ClientHello carrying `sni`.
    pub fn client_hello(sni: &str) -> Vec<u8> {
        let name = sni.as_bytes();
        let mut ext = Vec::new();
        let list_len = name.len() + 3;
        ext.extend_from_slice(&[0, 0]);
        ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(list_len as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        ext.extend_from_slice(name);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0u8; 32]);
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
        body.extend_from_slice(&[1, 0]); // null compression
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn tls_probes() {
        let ch = client_hello("example.org");
        assert_eq!(ssl_sni(&ch).0, Some(Smp::str(b"example.org")));
        assert_eq!(ssl_sni(&ch[..20]), (None, true));
        assert_eq!(ssl_hello_type(&ch).0, Some(Smp::Int(1)));
        assert_eq!(ssl_ver(&ch).0, Some(Smp::Int(0x30003)));
        assert_eq!(ssl_sni(b"GET / HTTP/1.1\r\n\r\n"), (None, false));
    }

    #[test]
    fn payloads() {
        assert_eq!(
            payload(b"abcdef", 1, 2).0,
            Some(Smp::Bin(Cow::Borrowed(b"bc")))
        );
        assert_eq!(payload(b"ab", 1, 2), (None, true));
        assert_eq!(
            payload_lv(b"\x00\x03abcd", 0, 2, 0).0,
            Some(Smp::Bin(Cow::Borrowed(b"abc")))
        );
        assert_eq!(proto_http(b"GET / HTTP/1.1\r\n"), (None, true));
        assert_eq!(
            proto_http(b"GET / HTTP/1.1\r\n\r\n").0,
            Some(Smp::Bool(true))
        );
        assert_eq!(proto_http(b"\x16\x03\x01").0, Some(Smp::Bool(false)));
    }
}
