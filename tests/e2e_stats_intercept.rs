//! Differential: `http-request return` in a frontend counts as
//! "intercepted", `deny` as "denied", a backend's `return` as neither —
//! `show stat` of switchyard and of the real haproxy after the same
//! requests.

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;
use support::{Proxy, TempDir};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn config(sock: &std::path::Path) -> String {
    format!(
        "global\n  stats socket {} level admin\n\
         defaults\n  mode http\n  timeout connect 2s\n  timeout client 2s\n  timeout server 2s\n\
         frontend fe\n  bind 127.0.0.1:@PORT@\n\
         \x20 http-request return status 200 content-type text/plain string hi if {{ path /r }}\n\
         \x20 http-request deny if {{ path /d }}\n  default_backend be\n\
         backend be\n  http-request return status 201 if {{ path /br }}\n  server s 127.0.0.1:9\n",
        sock.display()
    )
}

fn show_stat(sock: &std::path::Path) -> Vec<Vec<String>> {
    for _ in 0..100 {
        if let Ok(mut s) = UnixStream::connect(sock) {
            s.set_read_timeout(Some(Duration::from_secs(3))).ok();
            let _ = s.write_all(b"show stat\n");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            return out
                .lines()
                .map(|l| l.split(',').map(str::to_string).collect())
                .collect();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no stats socket at {}", sock.display());
}

fn cells(sock: &std::path::Path) -> Vec<String> {
    let rows = show_stat(sock);
    let head = rows.first().cloned().unwrap_or_default();
    let col = |name: &str| head.iter().position(|h| h.trim_start_matches("# ") == name);
    let mut out = Vec::new();
    for r in rows.iter().skip(1).filter(|r| r.len() > 2) {
        for name in ["dreq", "intercepted", "req_tot", "hrsp_2xx", "hrsp_4xx"] {
            let v = col(name)
                .and_then(|i| r.get(i))
                .cloned()
                .unwrap_or_default();
            out.push(format!("{}/{} {name}={v}", r[0], r[1]));
        }
    }
    out
}

fn run(bin: &str) -> Vec<String> {
    let dir = TempDir::new();
    let sock = dir.0.join("s.sock");
    let p = Proxy::start_with(bin, &config(&sock));
    for path in ["/r", "/d", "/br", "/r"] {
        let resp = p.get(path);
        assert!(resp.starts_with("HTTP/1.1 "), "{bin} {path}: {resp}");
    }
    // HAProxy updates the counters when the stream ends, just after the
    // last byte went out.
    std::thread::sleep(Duration::from_millis(200));
    cells(&sock)
}

#[test]
fn return_deny_and_backend_return_are_counted_like_haproxy() {
    let ours = run(env!("CARGO_BIN_EXE_switchyard"));
    assert!(
        ours.iter().any(|c| c == "fe/FRONTEND intercepted=2"),
        "{ours:?}"
    );
    if std::path::Path::new(HAPROXY).exists() {
        let theirs = run(HAPROXY);
        assert_eq!(ours, theirs);
    }
}
