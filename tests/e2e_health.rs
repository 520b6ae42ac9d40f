//! End-to-end health-check tests against the real binary: servers taken
//! out after `fall` failed checks and put back after `rise` good ones, and
//! `option httpchk` / `http-check expect` verdicts. Every test is bounded
//! well under 10 s.

mod support;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{Proxy, TempDir, free_port, server_of, status_line};

/// A loopback HTTP server on a chosen port that can be stopped and
/// restarted: answers `check_status` on `/health`, 200 elsewhere, with an
/// `X-Server` header, and closes every connection after one response.
struct Srv {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Srv {
    fn start(port: u16, name: &'static str, check_status: u16) -> Srv {
        let until = Instant::now() + Duration::from_secs(3);
        let l = loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => break l,
                Err(e) if Instant::now() < until => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("bind {port}: {e}"),
            }
        };
        l.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((c, _)) => {
                        std::thread::spawn(move || answer(c, name, check_status));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Srv {
            stop,
            thread: Some(thread),
        }
    }

    /// Closes the listening socket (new connections are refused).
    fn kill(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        self.halt();
    }
}

fn answer(mut c: TcpStream, name: &str, check_status: u16) {
    let _ = c.set_nonblocking(false);
    c.set_read_timeout(Some(Duration::from_secs(2))).ok();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match c.read(&mut tmp) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let path = head.split(' ').nth(1).unwrap_or("");
    let code = if path == "/health" { check_status } else { 200 };
    let resp = format!(
        "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nX-Server: {name}\r\nConnection: close\r\n\r\n"
    );
    let _ = c.write_all(resp.as_bytes());
}

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout connect 500ms\n  timeout client 2s\n  timeout server 2s\n";

/// Sends `n` requests; returns the answering server of each (`""` when
/// the request did not get a 200).
fn spread(p: &Proxy, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let r = p.get("/");
            if status_line(&r).contains(" 200 ") {
                server_of(&r)
            } else {
                String::new()
            }
        })
        .collect()
}

#[test]
fn l4_check_takes_dead_server_out_and_back() {
    let t0 = Instant::now();
    let (pa, pb) = (free_port(), free_port());
    let a = Srv::start(pa, "a", 200);
    let b = Srv::start(pb, "b", 200);
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:@PORT@\n  default_backend be\nbackend be\n  balance roundrobin\n  server a 127.0.0.1:{pa} check inter 100 fall 2 rise 2\n  server b 127.0.0.1:{pb} check inter 100 fall 2 rise 2\n"
    );
    let p = Proxy::start(&cfg);
    std::thread::sleep(Duration::from_millis(250));
    let got = spread(&p, 10);
    assert!(got.iter().all(|s| s == "a" || s == "b"), "{got:?}");
    assert!(got.iter().any(|s| s == "b"), "{got:?}");

    b.kill();
    // inter × fall + inter, plus scheduling slack.
    std::thread::sleep(Duration::from_millis(300 + 150));
    let got = spread(&p, 20);
    assert!(
        got.iter().all(|s| s == "a"),
        "b still gets traffic: {got:?}"
    );

    let _b = Srv::start(pb, "b", 200);
    // `rise 2` good checks at fastinter (= inter) apart, plus slack.
    std::thread::sleep(Duration::from_millis(200 + 200));
    let got = spread(&p, 10);
    assert!(got.iter().all(|s| s == "a" || s == "b"), "{got:?}");
    assert!(got.iter().any(|s| s == "b"), "b did not come back: {got:?}");
    drop(a);
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[test]
fn httpchk_takes_500_out() {
    let t0 = Instant::now();
    let (pg, pb) = (free_port(), free_port());
    let _good = Srv::start(pg, "good", 200);
    let _bad = Srv::start(pb, "bad", 500);
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:@PORT@\n  default_backend be\nbackend be\n  option httpchk GET /health\n  server good 127.0.0.1:{pg} check inter 100 fall 2 rise 2\n  server bad 127.0.0.1:{pb} check inter 100 fall 2 rise 2\n"
    );
    let p = Proxy::start(&cfg);
    // A fresh server goes DOWN on its first failed check (HAProxy 2.6).
    std::thread::sleep(Duration::from_millis(300));
    let got = spread(&p, 10);
    assert!(got.iter().all(|s| s == "good"), "{got:?}");
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[test]
fn http_check_expect_status_500_keeps_it_in() {
    let t0 = Instant::now();
    let (pg, pb) = (free_port(), free_port());
    let _good = Srv::start(pg, "good", 200);
    let _bad = Srv::start(pb, "bad", 500);
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:@PORT@\n  default_backend be\nbackend be\n  option httpchk\n  http-check send meth GET uri /health ver HTTP/1.1 hdr Host check.example\n  http-check expect status 500\n  server good 127.0.0.1:{pg} check inter 100 fall 2 rise 2\n  server bad 127.0.0.1:{pb} check inter 100 fall 2 rise 2\n"
    );
    let p = Proxy::start(&cfg);
    std::thread::sleep(Duration::from_millis(300));
    // The 500 answer is now the expected one: only "bad" stays in.
    let got = spread(&p, 10);
    assert!(got.iter().all(|s| s == "bad"), "{got:?}");
    assert!(t0.elapsed() < Duration::from_secs(10));
}

/// Runs the binary on `cfg` and returns (exit code, stderr) within 5 s.
fn run_to_exit(cfg: &str) -> (Option<i32>, String) {
    let dir = TempDir::new();
    let path = dir.0.join("t.cfg");
    std::fs::write(&path, cfg).expect("write cfg");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let until = Instant::now() + Duration::from_secs(5);
    let code = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break s.code();
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (code, err)
}

#[test]
fn unsupported_check_forms_are_refused_at_startup() {
    let port = free_port();
    for (line, form) in [
        (
            "option httpchk\n  http-check expect string-lf x",
            "http-check expect string-lf",
        ),
        (
            "option httpchk\n  http-check send meth GET body-lf %[src]",
            "http-check send body-lf sample fetch 'src'",
        ),
        (
            "option tcp-check\n  tcp-check send-lf %[src]",
            "tcp-check send-lf sample fetch 'src'",
        ),
        (
            "option httpchk\n  http-check connect proto h2",
            "http-check connect proto",
        ),
    ] {
        let cfg = format!(
            "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend be\nbackend be\n  {line}\n  server s 127.0.0.1:{port} check\n"
        );
        let (code, err) = run_to_exit(&cfg);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("[ALERT]"), "{err}");
        assert!(
            err.contains(&format!("'{form}' is not implemented by Switchyard")),
            "{err}"
        );
    }
}
