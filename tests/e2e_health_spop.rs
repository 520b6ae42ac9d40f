//! Differential test of `option spop-check`: fake SPOE agents answer the
//! HAPROXY-HELLO frame with good and bad AGENT-HELLO / AGENT-DISCONNECT
//! frames; switchyard and the real HAProxy 2.6 (`/usr/sbin/haproxy`)
//! must show the same check cells in `show stat`. Also checks the bytes
//! switchyard sends. Bounded: about 3 s.

mod support;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Proxy, TempDir, cli};

/// A fake agent: reads the hello, answers `reply` (nothing when empty:
/// closes at once), remembers what it read.
struct Agent {
    port: u16,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn agent(reply: Vec<u8>) -> Agent {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    l.set_nonblocking(true).expect("nonblocking");
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (st, sn) = (stop.clone(), seen.clone());
    std::thread::spawn(move || {
        while !st.load(Ordering::Relaxed) {
            match l.accept() {
                Ok((c, _)) => {
                    let r = reply.clone();
                    let sn = sn.clone();
                    std::thread::spawn(move || serve(c, &r, &sn));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    Agent { port, stop, seen }
}

fn serve(mut c: TcpStream, reply: &[u8], seen: &Mutex<Vec<u8>>) {
    let _ = c.set_nonblocking(false);
    let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
    let mut b = [0u8; 4096];
    let mut got = Vec::new();
    while got.len() < 82 {
        match c.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    if let Ok(mut s) = seen.lock() {
        *s = got;
    }
    let _ = c.write_all(reply);
    std::thread::sleep(Duration::from_millis(50));
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

const CAPS: &str = "0C6361706162696C6974696573 0800";
const VSN2: &str = "0776657273696F6E 0803322E30";
const MFS: &str = "0E6D61782D6672616D652D73697A65 03FCF006";

/// A frame with its length prefix.
fn frame(body: &str) -> Vec<u8> {
    let b = hex(body);
    let mut out = (b.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&b);
    out
}

fn replies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "ok",
            frame(&format!("65 00000001 0000 {VSN2} {MFS} {CAPS}")),
        ),
        ("zero", hex("00000000")),
        ("noflag", hex("00000007 65 00000000 0000")),
        (
            "v1",
            hex("00000014 65 00000001 0000 0776657273696F6E 0803312E30"),
        ),
        ("nomfs", frame(&format!("65 00000001 0000 {VSN2} {CAPS}"))),
        ("novsn", frame(&format!("65 00000001 0000 {MFS} {CAPS}"))),
        (
            "small",
            frame(&format!(
                "65 00000001 0000 {VSN2} 0E6D61782D6672616D652D73697A65 0364 {CAPS}"
            )),
        ),
        (
            "discon",
            frame("66 00000001 0000 0B7374617475732D636F6465 0303 076D657373616765 0802686921"),
        ),
        ("notspop", b"HTTP/1.0 400 Bad request\r\n\r\n".to_vec()),
        ("closed", Vec::new()),
    ]
}

const COLUMNS: &[&str] = &["status", "check_status", "check_code", "last_chk"];

fn cells(stat: &str) -> Vec<(String, Vec<String>)> {
    support::server_rows(stat, COLUMNS)
}

fn config(sock: &Path, agents: &[(&str, u16)]) -> String {
    let mut c = format!(
        "global\n  stats socket {} level admin\n\
defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n  timeout check 500ms\n\
frontend fe\n  bind 127.0.0.1:@PORT@\n  default_backend b_ok\n",
        sock.display()
    );
    for (name, port) in agents {
        c.push_str(&format!(
            "backend b_{name}\n  option spop-check\n  server s 127.0.0.1:{port} check inter 300 rise 1 fall 1\n"
        ));
    }
    c
}

#[test]
fn spop_check_cells_match_real_haproxy() {
    let bin = "/usr/sbin/haproxy";
    if !Path::new(bin).exists() {
        return;
    }
    let fakes: Vec<(&str, Agent)> = replies().into_iter().map(|(n, r)| (n, agent(r))).collect();
    let ports: Vec<(&str, u16)> = fakes.iter().map(|(n, a)| (*n, a.port)).collect();
    let d1 = TempDir::new();
    let d2 = TempDir::new();
    let (s1, s2) = (d1.0.join("s.sock"), d2.0.join("s.sock"));
    let ours = Proxy::start(&config(&s1, &ports));
    let theirs = Proxy::start_with(bin, &config(&s2, &ports));
    std::thread::sleep(Duration::from_millis(1200));
    let until = Instant::now() + Duration::from_secs(8);
    let (a, diffs) = loop {
        let a = cells(&cli(&s1, "show stat"));
        let b = cells(&cli(&s2, "show stat"));
        assert_eq!(a.len(), b.len(), "ours:\n{a:#?}\ntheirs:\n{b:#?}");
        let mut diffs = Vec::new();
        for ((n, r1), (_, r2)) in a.iter().zip(b.iter()) {
            for (i, (v1, v2)) in r1.iter().zip(r2.iter()).enumerate() {
                if v1 != v2 {
                    diffs.push(format!("{n} {}: ours {v1:?} haproxy {v2:?}", COLUMNS[i]));
                }
            }
        }
        if diffs.is_empty() || Instant::now() > until {
            break (a, diffs);
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let get = |sv: &str| a.iter().find(|(n, _)| n == sv).map(|(_, r)| r.clone());
    assert_eq!(get("b_ok/s").map(|r| r[1].clone()), Some("L7OK".into()));
    assert_eq!(
        get("b_v1/s").map(|r| r[3].clone()),
        Some("unsupported version".into())
    );
    drop(theirs);
    drop(ours);
    // What both sent: HAProxy's 82-byte hello.
    let seen = fakes[0]
        .1
        .seen
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    assert_eq!(seen.len(), 82);
    assert_eq!(&seen[..8], &hex("0000004e 01 000000")[..]);
}
