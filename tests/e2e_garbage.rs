//! Bad input on the HTTP request path, over real sockets: generated
//! requests built from valid, odd and hostile fragments (smuggling
//! vectors, bad chunk sizes, control bytes, over-long lines) go to
//! switchyard and to the real haproxy with the same configuration.
//!
//! Always required: switchyard answers every one with a well-formed
//! status line or closes, within the time limit, and stays up. Compared:
//! the status (or the silent close) haproxy gives for the same bytes.

mod support;

use proptest::prelude::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};
use support::{Backend, Behaviour, Proxy};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn config(backend: u16) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 2s\n  timeout server 2s\n  timeout http-request 1s\n\
         frontend fe\n  bind 127.0.0.1:@PORT@\n  default_backend be\n\
         backend be\n  server s1 127.0.0.1:{backend}\n"
    )
}

/// Sends `req`, half-closes, and returns the status code of the first
/// response (0: closed without an answer). `None`: no answer and no close
/// within the limit.
fn status_of(port: u16, req: &[u8]) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_millis(500))).ok();
    let _ = s.write_all(req);
    let _ = s.shutdown(Shutdown::Write);
    let until = Instant::now() + Duration::from_secs(4);
    let mut out = Vec::new();
    let mut tmp = [0u8; 4096];
    while Instant::now() < until {
        match s.read(&mut tmp) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&tmp[..n]);
                if out.len() >= 12 {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(_) => break,
        }
    }
    if out.is_empty() {
        return if Instant::now() >= until {
            None
        } else {
            Some(0)
        };
    }
    let line = String::from_utf8_lossy(&out);
    let code = line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    Some(code)
}

/// Request fragments: start lines, header lines and bodies, valid and not.
fn start_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET / HTTP/1.1\r\n".to_string()),
        Just("POST /p HTTP/1.1\r\n".to_string()),
        Just("GET /a?b=c HTTP/1.0\r\n".to_string()),
        Just("GET  / HTTP/1.1\r\n".to_string()),
        Just("GET / HTTP/1.1 \r\n".to_string()),
        Just("GET / HTTP/2.0\r\n".to_string()),
        Just("G\x01T / HTTP/1.1\r\n".to_string()),
        Just("GET /\x7f HTTP/1.1\r\n".to_string()),
        Just("GET / HTTP/1.1\n".to_string()),
        Just("\r\nGET / HTTP/1.1\r\n".to_string()),
        Just(format!("GET /{} HTTP/1.1\r\n", "a".repeat(20000))),
        "[A-Z]{1,8} /[a-z0-9/?=&%]{0,40} HTTP/1\\.[01]\r\n",
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Host: x\r\n".to_string()),
        Just("Content-Length: 5\r\n".to_string()),
        Just("Content-Length: 0\r\n".to_string()),
        Just("Content-Length: -1\r\n".to_string()),
        Just("Content-Length: 5, 6\r\n".to_string()),
        Just("Content-Length: 5, 5\r\n".to_string()),
        Just("Content-Length: 99999999999999999999\r\n".to_string()),
        Just("Transfer-Encoding: chunked\r\n".to_string()),
        Just("Transfer-Encoding: gzip\r\n".to_string()),
        Just("Transfer-Encoding: chunked, identity\r\n".to_string()),
        Just("Transfer-Encoding : chunked\r\n".to_string()),
        Just("X-Folded: a\r\n  b\r\n".to_string()),
        Just("X-Ctl: a\x01b\r\n".to_string()),
        Just("X-Nul: a\x00b\r\n".to_string()),
        Just("Bad Name: v\r\n".to_string()),
        Just(": empty\r\n".to_string()),
        Just("NoColon\r\n".to_string()),
        Just("Connection: close\r\n".to_string()),
        Just("Connection: keep-alive\r\n".to_string()),
        Just("Expect: 100-continue\r\n".to_string()),
        Just(format!("X-Long: {}\r\n", "v".repeat(17000))),
        "[A-Za-z-]{1,12}: [ -~]{0,30}\r\n",
    ]
}

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("hello".to_string()),
        Just("5\r\nhello\r\n0\r\n\r\n".to_string()),
        Just("zz\r\nhello\r\n0\r\n\r\n".to_string()),
        Just("5\r\nhelloXX0\r\n\r\n".to_string()),
        Just("ffffffffffffffffff\r\n".to_string()),
        Just("0\r\nTrailer: x\r\n\r\n".to_string()),
        "[ -~]{0,20}",
    ]
}

fn request() -> impl Strategy<Value = Vec<u8>> {
    (start_line(), prop::collection::vec(header(), 0..6), body()).prop_map(|(s, hs, b)| {
        let mut r = s;
        for h in hs {
            r.push_str(&h);
        }
        r.push_str("\r\n");
        r.push_str(&b);
        r.into_bytes()
    })
}

#[test]
fn garbage_requests_get_haproxy_answers_and_never_hurt() {
    let be = Backend::start("s1", Behaviour::Http);
    let cfg = config(be.port);
    let mut ours = Proxy::start(&cfg);
    let theirs = std::path::Path::new(HAPROXY)
        .exists()
        .then(|| Proxy::start_with(HAPROXY, &cfg));
    // A fixed seed: the same 600 requests every run.
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(
        ProptestConfig {
            cases: 600,
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let same = std::cell::Cell::new(0u32);
    let total = std::cell::Cell::new(0u32);
    let diffs = std::cell::RefCell::new(Vec::<String>::new());
    let res = runner.run(&request(), |req| {
        total.set(total.get() + 1);
        let got = status_of(ours.port, &req);
        prop_assert!(
            got.is_some(),
            "no answer and no close for {:?}",
            String::from_utf8_lossy(&req)
        );
        if let Some(h) = &theirs {
            let want = status_of(h.port, &req);
            if want == got {
                same.set(same.get() + 1);
            } else {
                let shown: String = String::from_utf8_lossy(&req).chars().take(160).collect();
                diffs
                    .borrow_mut()
                    .push(format!("haproxy {want:?} switchyard {got:?}: {shown:?}"));
            }
        }
        Ok(())
    });
    assert!(res.is_ok(), "{res:?}");
    assert!(
        ours.wait_exit(Duration::from_millis(10)).is_none(),
        "switchyard died"
    );
    let (same, total, diffs) = (same.get(), total.get(), diffs.into_inner());
    if theirs.is_some() {
        eprintln!("agreement with haproxy: {same}/{total}");
        assert!(
            diffs.is_empty(),
            "answers differ from haproxy's:\n{}",
            diffs.join("\n")
        );
    }
}
