//! Helpers for the end-to-end tests: start the real `switchyard` binary on
//! a config, start loopback backends, send raw requests.
//!
//! Everything is bounded in time and every child is killed on drop.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A port that was free a moment ago, chosen below the kernel's
/// ephemeral range (32768-60999): outgoing connections never take these
/// ports as their source, so the port stays free until the test binds it
/// (a port from `bind(:0)` could be taken by any connect meanwhile).
pub fn free_port() -> u16 {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ (u64::from(std::process::id()) << 20);
    for _ in 0..500 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut x = seed.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        x ^= x >> 31;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 29;
        let port = 20000 + (x % 12000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// A running proxy process (switchyard or haproxy), killed on drop.
pub struct Proxy {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    /// Starts `switchyard -db -f cfg`; `cfg` uses `@PORT@` for the listen
    /// port. Waits until the port accepts connections.
    pub fn start(cfg: &str) -> Proxy {
        Self::start_with(env!("CARGO_BIN_EXE_switchyard"), cfg)
    }

    pub fn start_with(bin: &str, cfg: &str) -> Proxy {
        let port = free_port();
        let dir = TempDir::new();
        let path = dir.0.join("t.cfg");
        std::fs::write(&path, cfg.replace("@PORT@", &port.to_string())).expect("write cfg");
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn proxy");
        let p = Proxy {
            child,
            port,
            _dir: dir,
        };
        let until = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "proxy did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        p
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Exit status if the process ended within `t`.
    pub fn wait_exit(&mut self, t: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + t;
        while Instant::now() < until {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends raw bytes on a new connection and reads until close or 3 s.
    pub fn raw(&self, req: &str) -> String {
        raw(self.port, req.as_bytes())
    }

    /// `GET path` with `Connection: close`; returns the whole response.
    pub fn get(&self, path: &str) -> String {
        self.raw(&format!(
            "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
        ))
    }
}

/// Sends `req` to 127.0.0.1:`port`, reads until EOF (bounded).
pub fn raw(port: u16, req: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    s.write_all(req).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

/// Sends one command to a stats socket (waiting up to 2 s for the socket
/// to appear), half-closes and returns the whole reply; `<no socket>` when
/// nothing listens there.
pub fn cli(sock: &std::path::Path, cmd: &str) -> String {
    let until = Instant::now() + Duration::from_secs(2);
    let mut s = loop {
        match std::os::unix::net::UnixStream::connect(sock) {
            Ok(s) => break s,
            Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return String::from("<no socket>"),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let _ = s.write_all(format!("{cmd}\n").as_bytes());
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The body of a response (after the blank line).
pub fn body(resp: &str) -> &str {
    resp.split_once("\r\n\r\n").map_or("", |x| x.1)
}

pub fn status_line(resp: &str) -> &str {
    resp.lines().next().unwrap_or("")
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("switchyard-e2e-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a test backend does with each connection.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Answers every request with `200`, body `<name> <request head>`.
    Http,
    /// Sends garbage instead of a response.
    Garbage,
    /// Reads the request and never answers.
    Hang,
    /// Echoes raw bytes (TCP).
    Echo,
    /// Writes its name then closes (TCP).
    Name,
}

/// A loopback backend on a free port; stops on drop.
pub struct Backend {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl Backend {
    pub fn start(name: &str, b: Behaviour) -> Backend {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind backend");
        let port = l.local_addr().map(|a: SocketAddr| a.port()).expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let name = name.to_string();
        std::thread::spawn(move || {
            for c in l.incoming() {
                if st.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(c) = c else { continue };
                let name = name.clone();
                std::thread::spawn(move || handle(c, &name, b));
            }
        });
        Backend { port, stop }
    }
}

fn handle(mut c: TcpStream, name: &str, b: Behaviour) {
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut tmp = [0u8; 4096];
    match b {
        Behaviour::Name => {
            let _ = c.write_all(name.as_bytes());
        }
        Behaviour::Echo => {
            while let Ok(n) = c.read(&mut tmp) {
                if n == 0 || c.write_all(&tmp[..n]).is_err() {
                    break;
                }
            }
        }
        _ => {
            let mut buf = Vec::new();
            while let Some((head, reqbody)) = read_request(&mut c, &mut buf) {
                match b {
                    Behaviour::Garbage => {
                        let _ = c.write_all(b"garbage\r\n\r\n");
                        return;
                    }
                    Behaviour::Hang => {
                        std::thread::sleep(Duration::from_secs(3));
                        return;
                    }
                    _ => {}
                }
                let body = format!("{name} {head}{}", String::from_utf8_lossy(&reqbody));
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Server: {name}\r\n\r\n{body}",
                    body.len()
                );
                if c.write_all(resp.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}

/// Reads the next request from `c` (head, then a `Content-Length` body;
/// bodies in tests are never chunked). `buf` keeps what was read beyond
/// it. `None` once the peer closed or went quiet for the read timeout.
pub fn read_request(c: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        match c.read(&mut tmp) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let clen = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + clen {
        match c.read(&mut tmp) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
    let body = buf[head_end..head_end + clen].to_vec();
    buf.drain(..head_end + clen);
    Some((head, body))
}

/// What an [`App`] does with one request.
pub enum Answer {
    /// Sends these bytes and keeps the connection for the next request.
    Send(String),
    /// Sends these bytes (maybe none) and closes.
    Close(&'static [u8]),
}

/// A loopback HTTP server whose answers a test writes: `reply` gets each
/// request head. Threads live until the process ends (tests are short).
pub struct App {
    pub port: u16,
}

impl App {
    pub fn start(reply: impl Fn(&str) -> Answer + Send + Sync + 'static) -> App {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind app");
        let port = l.local_addr().expect("addr").port();
        let reply = Arc::new(reply);
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let reply = reply.clone();
                std::thread::spawn(move || {
                    let mut c = c;
                    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
                    let mut buf = Vec::new();
                    while let Some((head, _)) = read_request(&mut c, &mut buf) {
                        match reply(&head) {
                            Answer::Send(r) => {
                                if c.write_all(r.as_bytes()).is_err() {
                                    return;
                                }
                            }
                            Answer::Close(bytes) => {
                                let _ = c.write_all(bytes);
                                return;
                            }
                        }
                    }
                });
            }
        });
        App { port }
    }
}

/// The server rows of a `show stat` CSV: `backend/server` and the values
/// of `columns` (a leading "* " dropped; empty when a column is absent).
pub fn server_rows(stat: &str, columns: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut lines = stat.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("# ")
        .split(',')
        .collect();
    lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            if f.len() < 3 || f[1] == "FRONTEND" || f[1] == "BACKEND" {
                return None;
            }
            let row = columns
                .iter()
                .map(|c| {
                    header
                        .iter()
                        .position(|h| h == c)
                        .and_then(|i| f.get(i))
                        .map_or(String::new(), |v| v.trim_start_matches("* ").to_string())
                })
                .collect();
            Some((format!("{}/{}", f[0], f[1]), row))
        })
        .collect()
}

/// `HAProxy`'s binary, the oracle of the differential tests.
pub const HAPROXY: &str = "/usr/sbin/haproxy";

/// The engines a differential test runs: switchyard, then haproxy when
/// it is installed.
pub fn engines() -> Vec<&'static str> {
    let mut v = vec![env!("CARGO_BIN_EXE_switchyard")];
    if std::path::Path::new(HAPROXY).exists() {
        v.push(HAPROXY);
    }
    v
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// The `x-server` header of a response.
pub fn server_of(resp: &str) -> String {
    resp.lines()
        .find_map(|l| {
            l.strip_prefix("x-server: ")
                .or_else(|| l.strip_prefix("X-Server: "))
        })
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A port on which nothing listens (connection refused).
pub fn dead_port() -> u16 {
    free_port()
}
