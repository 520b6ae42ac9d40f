//! Passive health (`observe layer7 error-limit 3 on-error mark-down`)
//! compared with the real HAProxy 2.6 (`/usr/sbin/haproxy`): a server
//! whose traffic port answers 503 while its check port (`port`) answers
//! 200. After three bad responses both proxies must show the server DOWN
//! with `check_status` HANA, the same `last_chk`, `chkfail`, `chkdown`,
//! `hanafail`, and log the same `is DOWN` line. Bounded: about 2 s.

mod support;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::cli;
use support::{TempDir, free_port};

/// A loopback HTTP server answering `resp` to every request, stopped on
/// drop.
struct Fake {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Fake {
    fn start(resp: &'static [u8]) -> Fake {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        l.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        std::thread::spawn(move || {
                            let _ = c.set_nonblocking(false);
                            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                            let mut buf = [0u8; 4096];
                            let _ = c.read(&mut buf);
                            let _ = c.write_all(resp);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Fake { port, stop }
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A proxy process with its stderr kept in a file, killed on drop.
struct Running {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(bin: &str, dir: &Path, cfg: &str) -> Running {
    let port = free_port();
    let path = dir.join("t.cfg");
    std::fs::write(&path, cfg.replace("@PORT@", &port.to_string())).expect("write cfg");
    let log = dir.join("stderr.txt");
    let err = std::fs::File::create(&log).expect("log file");
    let child = Command::new(bin)
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .expect("spawn proxy");
    let r = Running { child, port, log };
    let until = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "{bin} did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
    r
}

fn get(port: u16, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    let _ = s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a CSV line, honouring double quotes.
fn split_csv(l: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for ch in l.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out
}

const COLUMNS: &[&str] = &[
    "status",
    "chkfail",
    "chkdown",
    "check_status",
    "check_desc",
    "last_chk",
    "check_health",
    "hanafail",
];

/// The cells of server `be/s` in `show stat`.
fn server_cells(stat: &str, be: &str) -> Vec<(String, String)> {
    let mut lines = stat.lines();
    let header = split_csv(lines.next().unwrap_or("").trim_start_matches("# "));
    let row = lines
        .map(split_csv)
        .find(|f| f.len() > 2 && f[0] == be && f[1] == "s")
        .unwrap_or_default();
    COLUMNS
        .iter()
        .map(|c| {
            let v = header
                .iter()
                .position(|h| h == c)
                .and_then(|i| row.get(i))
                .cloned()
                .unwrap_or_default();
            (c.to_string(), v.trim_start_matches("* ").to_string())
        })
        .collect()
}

/// The `is DOWN` log line without its pid prefix; the count of active
/// sessions depends on when the last response finished, so it is masked.
fn down_line(log: &Path, be: &str) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let who = format!("Server {be}/s is DOWN");
    let Some(l) = text.lines().find(|l| l.contains(&who)) else {
        return String::new();
    };
    let l = l.split_once(" : ").map_or(l, |(_, rest)| rest);
    match l.split_once(" sessions active") {
        Some((head, tail)) => {
            let head = head.rsplit_once(' ').map_or(head, |(h, _)| h);
            format!("{head} N sessions active{tail}")
        }
        None => l.to_string(),
    }
}

fn config(dir: &Path, bad: u16, good: u16, dead: u16) -> String {
    format!(
        "global\n  stats socket {d}/s.sock level admin\n\
defaults\n  mode http\n  timeout connect 1s\n  timeout client 2s\n  timeout server 2s\n\
frontend fe\n  bind 127.0.0.1:@PORT@\n  use_backend b4 if {{ path_beg /l4 }}\n  default_backend b\n\
backend b\n  option httpchk GET /\n  server s 127.0.0.1:{bad} check port {good} inter 10s observe layer7 error-limit 3 on-error mark-down\n\
backend b4\n  retries 0\n  option httpchk GET /\n  server s 127.0.0.1:{dead} check port {good} inter 10s observe layer4 error-limit 2 on-error mark-down\n",
        d = dir.display()
    )
}

struct Seen {
    cells: Vec<(String, String)>,
    log: String,
    cells4: Vec<(String, String)>,
    log4: String,
    answers: Vec<String>,
}

fn run(bin: &str, bad: u16, good: u16, dead: u16) -> Seen {
    let d = TempDir::new();
    let p = start(bin, &d.0, &config(&d.0, bad, good, dead));
    // Let the first check (which passes) complete.
    std::thread::sleep(Duration::from_millis(300));
    let answers = (0..3)
        .map(|_| support::status_line(&get(p.port, "/")).to_string())
        .chain((0..2).map(|_| support::status_line(&get(p.port, "/l4")).to_string()))
        .collect();
    let sock = d.0.join("s.sock");
    let until = Instant::now() + Duration::from_secs(2);
    let down = |c: &[(String, String)]| c.first().is_some_and(|(_, v)| v.starts_with("DOWN"));
    loop {
        let stat = cli(&sock, "show stat");
        let (cells, cells4) = (server_cells(&stat, "b"), server_cells(&stat, "b4"));
        if (down(&cells) && down(&cells4)) || Instant::now() >= until {
            std::thread::sleep(Duration::from_millis(100));
            let (log, log4) = (down_line(&p.log, "b"), down_line(&p.log, "b4"));
            drop(p);
            return Seen {
                cells,
                log,
                cells4,
                log4,
                answers,
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn layer7_errors_mark_server_down_like_haproxy() {
    let bin = "/usr/sbin/haproxy";
    let bad = Fake::start(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let good = Fake::start(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let ours = run(env!("CARGO_BIN_EXE_switchyard"), bad.port, good.port, dead);
    let get = |c: &str| -> String {
        ours.cells
            .iter()
            .find(|(k, _)| k == c)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // Values seen on haproxy 2.6.12 with this configuration and traffic.
    assert_eq!(ours.answers, vec!["HTTP/1.1 503 Service Unavailable"; 5]);
    assert_eq!(get("status"), "DOWN", "{:#?}", ours.cells);
    assert_eq!(get("check_status"), "HANA");
    assert_eq!(get("check_desc"), "Health analyze");
    assert_eq!(
        get("last_chk"),
        "Detected 3 consecutive errors, last one was: Wrong http response"
    );
    assert_eq!(get("hanafail"), "1");
    assert_eq!(get("chkdown"), "1");
    assert_eq!(
        ours.log,
        "Server b/s is DOWN, reason: Health analyze, info: \"Detected 3 consecutive errors, last one was: Wrong http response\". 0 active and 0 backup servers left. N sessions active, 0 requeued, 0 remaining in queue."
    );
    // Layer 4: two refused connections (retries 0) with the check fine.
    let l4 = |c: &str| -> String {
        ours.cells4
            .iter()
            .find(|(k, _)| k == c)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(l4("status"), "DOWN", "{:#?}", ours.cells4);
    assert_eq!(
        l4("last_chk"),
        "Detected 2 consecutive errors, last one was: L4 unsuccessful connection"
    );
    assert!(
        ours.log4
            .starts_with("Server b4/s is DOWN, reason: Health analyze, info: \"Detected 2"),
        "{}",
        ours.log4
    );
    if !Path::new(bin).exists() {
        return;
    }
    let theirs = run(bin, bad.port, good.port, dead);
    assert_eq!(ours.answers, theirs.answers);
    assert_eq!(ours.cells, theirs.cells);
    assert_eq!(ours.log, theirs.log);
    assert_eq!(ours.cells4, theirs.cells4);
    assert_eq!(ours.log4, theirs.log4);
}
