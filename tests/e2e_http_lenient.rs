//! Differential test of the head leniency of HAProxy 2.6, for requests
//! and server responses alike: control bytes inside header values are
//! forwarded as they are, obs-fold continuation lines are unfolded (each
//! CR and LF of the break becomes a space), while a CR inside a value, a
//! control byte in a name or a continuation right after the start line
//! stay 400 (502 for a response). The whole answers of the real HAProxy
//! (`/usr/sbin/haproxy`, skipped when absent) and of switchyard must be
//! identical, including what the echo backend got.

mod support;
use support::{Backend, Behaviour, Proxy};

const HAPROXY: &str = "/usr/sbin/haproxy";

const HEADERS: [&[u8]; 20] = [
    b"X-F: a\r\n  b\r\n",
    b"X-F: a\r\n\tb  \r\n c\r\n",
    b"X-F: a \r\n \r\n",
    b"X-F:\r\n b\r\n",
    b"X-F: a\n  b\n",
    b"X-F: a\r\n b\r\nX-G: c\r\n\td\r\n",
    b"X-C: a\x00b\r\n",
    b"X-C: a\x01b\r\n",
    b"X-C: a\x7fb\r\n",
    b"X-C: a\x1bb\x0c\r\n",
    b"X-C: \x01\r\n",
    b"X-C: \x0c\r\n",
    b"X-C: a\x0c \r\n",
    b"X-C: a\x01\r\n b\x02\r\n",
    b"X-C: a\rb\r\n",
    b"X\x01C: ab\r\n",
    b"Content-Length: 1\r\n x\r\n",
    b"Content-Length: 1\x01\r\n",
    b"Host: h\x01\r\n",
    b"X-Empty:\r\n",
];

fn raw(port: u16, req: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(3)))
        .ok();
    s.write_all(req).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn lenient_heads_are_forwarded_as_haproxy_does() {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 2s\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend be\n\
backend be\n    server e 127.0.0.1:{}\n",
        e.port
    );
    let ha = Proxy::start_with(HAPROXY, &cfg);
    let sy = Proxy::start(&cfg);
    for h in HEADERS {
        let mut r = b"GET / HTTP/1.1\r\n".to_vec();
        if !h.starts_with(b"Host") {
            r.extend_from_slice(b"Host: h\r\n");
        }
        r.extend_from_slice(h);
        r.extend_from_slice(b"Connection: close\r\n\r\n");
        let want = raw(ha.port, &r);
        assert!(!want.is_empty(), "haproxy gave nothing for {h:?}");
        assert_eq!(
            String::from_utf8_lossy(&raw(sy.port, &r)),
            String::from_utf8_lossy(&want),
            "header {:?}",
            String::from_utf8_lossy(h)
        );
    }
}

/// Server answers, by request path `/<index>`: control bytes and obs-fold
/// in response headers are forwarded (unfolded) the same way; the
/// malformed ones get the same 502.
const RESPONSES: [&[u8]; 6] = [
    b"HTTP/1.1 200 OK\r\nX-C: a\x01b\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nX-F: a\r\n  b\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nX-N: \x00\x7f\x1b\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nX-C: a\rb\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nX\x01: a\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n x\r\n\r\nok",
];

/// A backend answering `RESPONSES[i]` to `GET /<i>`; stops with the test.
fn raw_backend() -> u16 {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            std::thread::spawn(move || {
                c.set_read_timeout(Some(std::time::Duration::from_secs(3)))
                    .ok();
                let mut buf = Vec::new();
                let mut tmp = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut tmp) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                }
                let path = String::from_utf8_lossy(&buf);
                let i: usize = path
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.trim_start_matches('/').parse().ok())
                    .unwrap_or(0);
                let _ = c.write_all(RESPONSES[i.min(RESPONSES.len() - 1)]);
            });
        }
    });
    port
}

#[test]
fn lenient_response_heads_are_forwarded_as_haproxy_does() {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let port = raw_backend();
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 2s\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend be\n\
backend be\n    server e 127.0.0.1:{port}\n"
    );
    let ha = Proxy::start_with(HAPROXY, &cfg);
    let sy = Proxy::start(&cfg);
    for (i, resp) in RESPONSES.iter().enumerate() {
        let r = format!("GET /{i} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        let want = raw(ha.port, r.as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&raw(sy.port, r.as_bytes())),
            String::from_utf8_lossy(&want),
            "response {:?}",
            String::from_utf8_lossy(resp)
        );
    }
}
