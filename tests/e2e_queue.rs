//! Server `maxconn` with queueing (`timeout queue`), as HAProxy 2.6: a
//! full server makes requests wait in FIFO order instead of failing, and a
//! request waiting longer than `timeout queue` gets the 503 page.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Answer, App, Proxy, status_line};

const SLOW: Duration = Duration::from_millis(300);

/// HAProxy 2.6's 503 page, byte for byte.
const PAGE_503: &str = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";

/// A keep-alive HTTP backend answering each request after [`SLOW`],
/// recording the highest number of requests it had in flight at once.
struct Slow {
    port: u16,
    peak: Arc<AtomicUsize>,
}

impl Slow {
    fn start() -> Slow {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let p = peak.clone();
        let app = App::start(move |_| {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(SLOW);
            in_flight.fetch_sub(1, Ordering::SeqCst);
            // Keep-alive: the proxy may pool this connection once idle.
            Answer::Send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_string())
        });
        Slow {
            port: app.port,
            peak,
        }
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

fn config(servers: &[&Slow], extra: &str) -> String {
    let lines: String = servers
        .iter()
        .enumerate()
        .map(|(i, s)| format!("    server s{i} 127.0.0.1:{} maxconn 1\n", s.port))
        .collect();
    format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n{extra}\nlisten l\n    bind 127.0.0.1:@PORT@\n    balance roundrobin\n{lines}"
    )
}

/// Sends `n` requests at once on separate client connections; returns the
/// responses and the wall time until the last one.
fn concurrent(p: &Proxy, n: usize) -> (Vec<String>, Duration) {
    let t = Instant::now();
    let port = p.port;
    let hs: Vec<_> = (0..n)
        .map(|i| {
            std::thread::spawn(move || {
                let req = format!("GET /{i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                support::raw(port, req.as_bytes())
            })
        })
        .collect();
    let out = hs
        .into_iter()
        .map(|h| h.join().unwrap_or_default())
        .collect();
    (out, t.elapsed())
}

#[test]
fn full_server_queues_requests_one_at_a_time() {
    let be = Slow::start();
    let p = Proxy::start(&config(&[&be], ""));
    let (resps, took) = concurrent(&p, 3);
    for r in &resps {
        assert_eq!(status_line(r), "HTTP/1.1 200 OK", "{r}");
    }
    assert_eq!(be.peak(), 1, "maxconn 1 exceeded");
    assert!(took >= SLOW * 3 - Duration::from_millis(30), "{took:?}");
    assert!(took < SLOW * 3 + Duration::from_millis(600), "{took:?}");
    // The pooled idle connections do not hold the slot: later requests
    // still go through at once.
    let (resps, took) = concurrent(&p, 1);
    assert_eq!(status_line(&resps[0]), "HTTP/1.1 200 OK");
    assert!(took < SLOW * 2, "{took:?}");
}

#[test]
fn queue_timeout_gives_the_503_page() {
    let be = Slow::start();
    let p = Proxy::start(&config(&[&be], "    timeout queue 100ms\n"));
    let (resps, took) = concurrent(&p, 3);
    let ok = resps
        .iter()
        .filter(|r| status_line(r) == "HTTP/1.1 200 OK")
        .count();
    let refused = resps.iter().filter(|r| r.as_str() == PAGE_503).count();
    assert_eq!((ok, refused), (1, 2), "{resps:?}");
    assert_eq!(be.peak(), 1);
    assert!(took < SLOW + Duration::from_millis(500), "{took:?}");
}

#[test]
fn queue_timeout_defaults_to_timeout_connect() {
    let be = Slow::start();
    let cfg = config(&[&be], "").replace("timeout connect 5s", "timeout connect 100ms");
    let p = Proxy::start(&cfg);
    let (resps, _) = concurrent(&p, 2);
    let refused = resps.iter().filter(|r| r.as_str() == PAGE_503).count();
    assert_eq!(refused, 1, "{resps:?}");
}

#[test]
fn two_servers_with_maxconn_one_serve_two_requests_in_parallel() {
    let (a, b) = (Slow::start(), Slow::start());
    let p = Proxy::start(&config(&[&a, &b], ""));
    let (resps, took) = concurrent(&p, 2);
    for r in &resps {
        assert_eq!(status_line(r), "HTTP/1.1 200 OK", "{r}");
    }
    assert_eq!((a.peak(), b.peak()), (1, 1));
    assert!(took < SLOW * 2 - Duration::from_millis(50), "{took:?}");
}

#[test]
fn maxconn_and_timeout_queue_pass_the_config_check() {
    let be = Slow::start();
    let dir = support::TempDir::new();
    let path = dir.0.join("q.cfg");
    let cfg = config(&[&be], "    timeout queue 1s\n")
        .replace("maxconn 1", "maxconn 1 maxqueue 5")
        .replace("@PORT@", &support::free_port().to_string());
    std::fs::write(&path, cfg).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("-c")
        .arg("-f")
        .arg(&path)
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
}
