//! Server-side connection reuse (`http-reuse safe`, the default): keep-alive
//! requests share one server connection, `http-reuse never` opens one per
//! request, and servers closing idle connections stay invisible to clients.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use support::Proxy;

/// How the counting backend treats a connection after a response.
#[derive(Clone, Copy)]
enum Mode {
    /// Keep-alive: serve every request.
    KeepAlive,
    /// Answer one request, then close the connection at once.
    CloseAfterResponse,
    /// Answer one request; read the next one and close without answering
    /// (the race HAProxy's retry on reused connections exists for).
    DropSecondRequest,
}

/// A loopback HTTP backend counting the connections it accepted.
struct Counting {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for Counting {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl Counting {
    fn start(mode: Mode) -> Counting {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, st) = (accepted.clone(), stop.clone());
        std::thread::spawn(move || {
            for c in l.incoming() {
                if st.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(c) = c else { continue };
                a.fetch_add(1, Ordering::Relaxed);
                std::thread::spawn(move || serve(c, mode));
            }
        });
        Counting {
            port,
            accepted,
            stop,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

/// Reads one request head (the tests send no bodies); `None` at EOF.
fn read_head(c: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..i + 4);
            return Some(());
        }
        match c.read(&mut tmp) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
}

fn serve(mut c: TcpStream, mode: Mode) {
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut buf = Vec::new();
    let mut served = 0;
    while read_head(&mut c, &mut buf).is_some() {
        if served == 1 && matches!(mode, Mode::DropSecondRequest) {
            return;
        }
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        if c.write_all(resp).is_err() {
            return;
        }
        served += 1;
        if matches!(mode, Mode::CloseAfterResponse) {
            return;
        }
    }
}

fn config(backend_port: u16, extra: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
         frontend f\n  bind 127.0.0.1:@PORT@\n  default_backend b\n\
         backend b\n{extra}  server s1 127.0.0.1:{backend_port}\n"
    )
}

/// Reads one response (content-length framed) from `s`; returns its head.
fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> String {
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i + 4]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .and_then(|v| v.trim().parse().ok())
                })
                .unwrap_or(0);
            if buf.len() >= i + 4 + len {
                buf.drain(..i + 4 + len);
                return head;
            }
        }
        match s.read(&mut tmp) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(buf).to_string(),
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
}

/// Sends `n` sequential keep-alive GETs on one client connection and
/// asserts every answer is the backend's 200.
fn sequential(proxy: &Proxy, n: usize) {
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = Vec::new();
    for i in 0..n {
        s.write_all(format!("GET /r{i} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .expect("send");
        let head = read_response(&mut s, &mut buf);
        assert!(
            head.starts_with("HTTP/1.1 200"),
            "request {i} got: {head:?}"
        );
    }
}

#[test]
fn keep_alive_requests_share_one_server_connection() {
    let be = Counting::start(Mode::KeepAlive);
    let proxy = Proxy::start(&config(be.port, ""));
    sequential(&proxy, 50);
    assert_eq!(be.accepted(), 1);
}

#[test]
fn explicit_http_reuse_safe_shares_too() {
    let be = Counting::start(Mode::KeepAlive);
    let proxy = Proxy::start(&config(be.port, "  http-reuse safe\n"));
    sequential(&proxy, 20);
    assert_eq!(be.accepted(), 1);
}

#[test]
fn http_reuse_never_opens_one_connection_per_request() {
    let be = Counting::start(Mode::KeepAlive);
    let proxy = Proxy::start(&config(be.port, "  http-reuse never\n"));
    sequential(&proxy, 50);
    assert_eq!(be.accepted(), 50);
}

#[test]
fn http_server_close_opens_one_connection_per_request() {
    let be = Counting::start(Mode::KeepAlive);
    let proxy = Proxy::start(&config(be.port, "  option http-server-close\n"));
    sequential(&proxy, 10);
    assert_eq!(be.accepted(), 10);
}

#[test]
fn server_closing_after_each_response_is_invisible() {
    let be = Counting::start(Mode::CloseAfterResponse);
    let proxy = Proxy::start(&config(be.port, ""));
    sequential(&proxy, 50);
    assert!(be.accepted() >= 50);
}

#[test]
fn reused_connection_dropped_before_answer_is_retried() {
    let be = Counting::start(Mode::DropSecondRequest);
    let proxy = Proxy::start(&config(be.port, ""));
    sequential(&proxy, 30);
    // Each request after the first hit a reused connection that died,
    // then succeeded on a fresh one.
    assert_eq!(be.accepted(), 30);
}

#[test]
fn separate_clients_reuse_idle_server_connections() {
    // `http-reuse always`: even a client's first request may take an idle
    // server connection, so ten clients share one.
    let be = Counting::start(Mode::KeepAlive);
    let proxy = Proxy::start(&config(be.port, "    http-reuse always\n"));
    for _ in 0..10 {
        sequential(&proxy, 2);
        // The proxy pools the server connection right after the last
        // response byte; give it that moment before the next client.
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(be.accepted(), 1);
}

#[test]
fn safe_reuse_gives_each_clients_first_request_its_own_connection() {
    // Default `http-reuse safe`, as HAProxy 2.6: the first request of every
    // client connection opens its own server connection; later requests of
    // that client may reuse.
    let be = Counting::start(Mode::KeepAlive);
    let proxy = Proxy::start(&config(be.port, ""));
    for _ in 0..5 {
        sequential(&proxy, 3);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(be.accepted(), 5);
}

#[test]
fn requests_with_a_body_never_ride_an_idle_connection() {
    let be = Counting::start(Mode::KeepAlive);
    let proxy = Proxy::start(&config(be.port, ""));
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = Vec::new();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    assert!(read_response(&mut s, &mut buf).starts_with("HTTP/1.1 200"));
    // The backend's reader treats the body as the next head's prefix, so
    // use a body ending in an empty line to keep it in step.
    s.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n\r\n\r\n")
        .expect("send");
    assert!(read_response(&mut s, &mut buf).starts_with("HTTP/1.1 200"));
    assert_eq!(be.accepted(), 2);
}

#[test]
fn pool_max_conn_zero_disables_pooling() {
    let be = Counting::start(Mode::KeepAlive);
    let cfg = config(be.port, "").replace(
        &format!("127.0.0.1:{}\n", be.port),
        &format!("127.0.0.1:{} pool-max-conn 0\n", be.port),
    );
    let proxy = Proxy::start(&cfg);
    sequential(&proxy, 10);
    assert_eq!(be.accepted(), 10);
}
