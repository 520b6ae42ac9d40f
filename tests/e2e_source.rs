//! `source` (server option, and the backend keyword as fallback): traffic
//! and health-check connections leave from the configured local address,
//! under switchyard and the real HAProxy 2.6 alike (when installed).

mod support;
use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Proxy, engines};

/// An HTTP server answering with the peer address it saw; it records the
/// peers of every connection (health checks included).
struct Peers {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

fn peers() -> Peers {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            let ip = c
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            if let Ok(mut v) = s.lock() {
                v.push(ip.clone());
            }
            std::thread::spawn(move || {
                let mut c = c;
                c.set_read_timeout(Some(Duration::from_secs(3))).ok();
                let mut buf = Vec::new();
                while let Some((_, _)) = support::read_request(&mut c, &mut buf) {
                    let r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{ip}",
                        ip.len()
                    );
                    if c.write_all(r.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Peers { port, seen }
}

fn body_of(p: &Proxy) -> String {
    let r = p.get("/");
    support::body(&r).to_string()
}

#[test]
fn traffic_and_checks_leave_from_the_source_address() {
    for bin in engines() {
        let (a, b) = (peers(), peers());
        let cfg = format!(
            "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
             listen l\n    bind 127.0.0.1:@PORT@\n    balance roundrobin\n    source 127.0.0.3\n    option httpchk GET /\n\
             \x20   server a 127.0.0.1:{} check inter 200ms source 127.0.0.2\n\
             \x20   server b 127.0.0.1:{} check inter 200ms\n",
            a.port, b.port
        );
        let p = Proxy::start_with(bin, &cfg);
        let mut got: Vec<String> = (0..2).map(|_| body_of(&p)).collect();
        got.sort();
        assert_eq!(got, ["127.0.0.2", "127.0.0.3"], "{bin}: traffic sources");
        // A few checks have run by now (inter 200ms).
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until && a.seen.lock().map_or(0, |v| v.len()) < 3 {
            std::thread::sleep(Duration::from_millis(50));
        }
        for (who, want) in [(&a, "127.0.0.2"), (&b, "127.0.0.3")] {
            let seen = who.seen.lock().map(|v| v.clone()).unwrap_or_default();
            assert!(seen.len() >= 2, "{bin}: too few connections: {seen:?}");
            assert!(
                seen.iter().all(|ip| ip == want),
                "{bin}: {seen:?} (want {want})"
            );
        }
    }
}

#[test]
fn unsupported_source_forms_are_refused_by_name() {
    let dir = support::TempDir::new();
    let path = dir.0.join("s.cfg");
    std::fs::write(
        &path,
        format!("defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nlisten l\n    bind 127.0.0.1:{}\n    server a 127.0.0.1:1 source 127.0.0.2 usesrc clientip\n", support::free_port()),
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["-db", "-f"])
        .arg(&path)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("usesrc") && err.contains("s.cfg:8"), "{err}");
}
