//! End-to-end tests of idle connections that wait without a task (the
//! parking lot, src/session/park.rs): a connection quiet for longer than
//! the parking delay must behave exactly as before — served when its
//! request comes, answered 408 or closed quietly when its wait expires,
//! closed by a graceful stop or `shutdown session` — and as HAProxy 2.6
//! does with the same config (compared when /usr/sbin/haproxy exists).

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::{Backend, Behaviour, Proxy, TempDir, cli, engines};

/// Longer than the parking delay (20 ms), with margin for a loaded machine.
const QUIET: Duration = Duration::from_millis(150);

fn cfg(be: u16, extra: &str) -> String {
    format!(
        "global\n    stats socket @SOCK@ level admin\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n{extra}\nfrontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend be\nbackend be\n    server s1 127.0.0.1:{be}\n"
    )
}

fn start(bin: &str, cfg: &str, dir: &TempDir) -> Proxy {
    let sock = dir.0.join(format!("{}.sock", bin.len()));
    Proxy::start_with(bin, &cfg.replace("@SOCK@", &sock.display().to_string()))
}

fn sock(bin: &str, dir: &TempDir) -> std::path::PathBuf {
    dir.0.join(format!("{}.sock", bin.len()))
}

/// Reads one response (head + Content-Length body); empty on close.
fn response(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
            let clen = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= i + 4 + clen {
                return String::from_utf8_lossy(&buf).into_owned();
            }
        }
        match s.read(&mut tmp) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&buf).into_owned(),
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
}

/// Everything until the proxy closes (bounded), and how long that took.
fn until_close(s: &mut TcpStream, max: Duration) -> (String, Duration) {
    let t0 = Instant::now();
    s.set_read_timeout(Some(max)).ok();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    (String::from_utf8_lossy(&out).into_owned(), t0.elapsed())
}

const GET: &[u8] = b"GET /p HTTP/1.1\r\nHost: t\r\n\r\n";

#[test]
fn quiet_connections_are_served_when_their_requests_come() {
    let be = Backend::start("s1", Behaviour::Http);
    let dir = TempDir::new();
    for bin in engines() {
        let p = start(bin, &cfg(be.port, ""), &dir);
        let mut conns: Vec<TcpStream> = (0..200)
            .map(|_| TcpStream::connect(("127.0.0.1", p.port)).expect("connect"))
            .collect();
        // Never a byte yet: every connection waits long enough to park.
        std::thread::sleep(QUIET);
        for round in 0..2 {
            for c in &mut conns {
                c.write_all(GET).expect("send");
            }
            for (i, c) in conns.iter_mut().enumerate() {
                let r = response(c);
                assert!(
                    r.starts_with("HTTP/1.1 200"),
                    "{bin} round {round} conn {i}: {r:?}"
                );
            }
            // Idle between requests: keep-alive connections park too.
            std::thread::sleep(QUIET);
        }
    }
}

#[test]
fn a_parked_first_wait_expires_with_haproxys_408() {
    let be = Backend::start("s1", Behaviour::Http);
    let dir = TempDir::new();
    let mut seen = Vec::new();
    for bin in engines() {
        let p = start(bin, &cfg(be.port, "    timeout http-request 400ms"), &dir);
        let mut c = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
        let (got, took) = until_close(&mut c, Duration::from_secs(3));
        assert!(got.starts_with("HTTP/1.1 408"), "{bin}: {got:?}");
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_millis(2000),
            "{bin}: closed after {took:?}"
        );
        seen.push(got);
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "switchyard and haproxy differ: {seen:?}");
}

#[test]
fn a_parked_keepalive_wait_expires_quietly_like_haproxy() {
    let be = Backend::start("s1", Behaviour::Http);
    let dir = TempDir::new();
    for bin in engines() {
        let p = start(
            bin,
            &cfg(be.port, "    timeout http-keep-alive 400ms"),
            &dir,
        );
        let mut c = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
        c.write_all(GET).expect("send");
        assert!(response(&mut c).starts_with("HTTP/1.1 200"), "{bin}");
        let (got, took) = until_close(&mut c, Duration::from_secs(3));
        assert_eq!(got, "", "{bin}: nothing is sent on a keep-alive expiry");
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_millis(2000),
            "{bin}: closed after {took:?}"
        );
    }
}

#[test]
fn a_graceful_stop_closes_parked_keepalive_connections() {
    let be = Backend::start("s1", Behaviour::Http);
    let dir = TempDir::new();
    for bin in engines() {
        let mut p = start(bin, &cfg(be.port, ""), &dir);
        let mut c = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
        c.write_all(GET).expect("send");
        assert!(response(&mut c).starts_with("HTTP/1.1 200"), "{bin}");
        std::thread::sleep(QUIET);
        // SAFETY: signalling the child process this test started.
        unsafe { libc_kill(p.pid() as i32, 10) };
        let (got, took) = until_close(&mut c, Duration::from_secs(4));
        assert_eq!(got, "", "{bin}");
        assert!(
            took < Duration::from_secs(3),
            "{bin}: closed after {took:?}"
        );
        assert!(
            p.wait_exit(Duration::from_secs(4)).is_some(),
            "{bin} did not stop"
        );
    }
}

#[test]
fn shutdown_session_closes_a_parked_session() {
    let be = Backend::start("s1", Behaviour::Http);
    let dir = TempDir::new();
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let p = start(bin, &cfg(be.port, ""), &dir);
    let mut c = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
    c.write_all(GET).expect("send");
    assert!(response(&mut c).starts_with("HTTP/1.1 200"));
    std::thread::sleep(QUIET);
    let me = format!("src=127.0.0.1:{}", c.local_addr().expect("addr").port());
    let listing = cli(&sock(bin, &dir), "show sess");
    let id = listing
        .lines()
        .find(|l| l.contains(&me))
        .and_then(|l| l.split(':').next())
        .unwrap_or_else(|| panic!("parked session not listed: {listing}"))
        .to_string();
    assert_eq!(
        cli(&sock(bin, &dir), &format!("shutdown session {id}")),
        "\n"
    );
    let (got, took) = until_close(&mut c, Duration::from_secs(3));
    assert_eq!(got, "");
    assert!(took < Duration::from_secs(2), "closed after {took:?}");
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
