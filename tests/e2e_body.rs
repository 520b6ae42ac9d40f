//! Differential tests of request body buffering: `option
//! http-buffer-request` and `http-request wait-for-body time <t>
//! [at-least <n>]`, read by the `req.body`, `req.body_len`,
//! `req.body_size` and `req.body_param` fetches. Bodies arrive in pieces
//! (head first, body later), chunked, after `Expect: 100-continue`, too
//! slowly (408) or cut short by the client. The same config and bytes go
//! to the real HAProxy (`/usr/sbin/haproxy`, skipped when absent) and to
//! switchyard; the whole answers must be identical.

mod support;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;
use support::Proxy;

const HAPROXY: &str = "/usr/sbin/haproxy";

const ECHO: &str = "http-request return status 200 content-type text/plain lf-string \"body=[%[req.body]] len=%[req.body_len] size=%[req.body_size] b=%[req.body_param(b)] any=%[req.body_param]\"";

fn cfg(fe_extra: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 3s\n    timeout server 3s\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n{fe_extra}    {ECHO}\n"
    )
}

/// Sends `parts` with `gap` between them (half-closing after the last
/// when `close`), returns everything received.
fn talk(port: u16, parts: &[&[u8]], gap: Duration, close: bool) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(4))).ok();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(gap);
        }
        let _ = s.write_all(p);
    }
    if close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn both(cfg: &str) -> Option<(Proxy, Proxy)> {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return None;
    }
    Some((Proxy::start_with(HAPROXY, cfg), Proxy::start(cfg)))
}

fn post(extra: &str, len: usize) -> String {
    format!(
        "POST /p HTTP/1.1\r\nHost: h\r\n{extra}Content-Length: {len}\r\nConnection: close\r\n\r\n"
    )
}

#[test]
fn buffered_body_reaches_the_fetches_as_with_haproxy() {
    let Some((ha, sy)) = both(&cfg(
        "    timeout http-request 400ms\n    option http-buffer-request\n",
    )) else {
        return;
    };
    let gap = Duration::from_millis(100);
    let chunked =
        "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let cases: Vec<(Vec<Vec<u8>>, bool)> = vec![
        // Head, then the body a little later.
        (vec![post("", 11).into(), b"a=1&b=2&c=3".to_vec()], false),
        // Body in two pieces.
        (
            vec![post("", 9).into(), b"b=x".to_vec(), b"yz&b=2".to_vec()],
            false,
        ),
        // Chunked, in pieces, with a trailer.
        (
            vec![
                chunked.into(),
                b"4\r\nb=ab\r\n".to_vec(),
                b"3\r\n&c=\r\n0\r\nX-T: 1\r\n\r\n".to_vec(),
            ],
            false,
        ),
        // Expect: 100-continue gets its interim answer first.
        (
            vec![post("Expect: 100-continue\r\n", 3).into(), b"b=1".to_vec()],
            false,
        ),
        // A GET without body does not wait.
        (
            vec![b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".to_vec()],
            false,
        ),
        // Too slow: 408 after timeout http-request.
        (vec![post("", 10).into(), b"b=1".to_vec()], false),
        // The client closes its side before the end of the body: HAProxy
        // aborts without an answer.
        (vec![post("", 10).into(), b"b=12".to_vec()], true),
    ];
    for (parts, close) in &cases {
        let p: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let want = talk(ha.port, &p, gap, *close);
        let got = talk(sy.port, &p, gap, *close);
        assert_eq!(
            got,
            want,
            "parts {:?}",
            p.iter()
                .map(|x| String::from_utf8_lossy(x))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn wait_for_body_stops_where_haproxy_does() {
    let Some((ha, sy)) = both(&cfg(
        "    http-request deny deny_status 403 if { path /deny }\n\
             http-request wait-for-body time 300ms at-least 4 if { path /least }\n\
             http-request wait-for-body time 300ms if { path /full }\n",
    )) else {
        return;
    };
    let gap = Duration::from_millis(100);
    let req = |path: &str, len: usize| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: h\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
        )
    };
    let cases: Vec<Vec<Vec<u8>>> = vec![
        // at-least reached before the whole body.
        vec![req("/least", 10).into(), b"b=123".to_vec()],
        // The whole body, in two pieces.
        vec![req("/full", 6).into(), b"b=1".to_vec(), b"&c=2".to_vec()],
        // Never complete: 408 after the wait's time.
        vec![req("/full", 50).into(), b"b=1".to_vec()],
        // The deny comes first: no wait.
        vec![req("/deny", 50).into()],
        // No wait-for-body for this path: the rules see no body yet.
        vec![req("/other", 3).into(), b"b=1".to_vec()],
    ];
    for parts in &cases {
        let p: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let want = talk(ha.port, &p, gap, false);
        let got = talk(sy.port, &p, gap, false);
        assert_eq!(
            got,
            want,
            "parts {:?}",
            p.iter()
                .map(|x| String::from_utf8_lossy(x))
                .collect::<Vec<_>>()
        );
    }
}
