//! Differential test of the `show stat` traffic counters: the same config
//! and the same requests on HAProxy 2.6.12 and on switchyard, then the
//! counter cells compared column by column (exact for counts and bytes,
//! within a tolerance for rates and timings). Also `clear counters`.

mod support;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::{Proxy, TempDir, dead_port, raw};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// A keep-alive HTTP server: `404` for `/missing`, else `200` with a fixed
/// body (the same bytes for both proxies).
struct Origin {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn origin() -> Origin {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            if st.load(Ordering::Relaxed) {
                return;
            }
            if let Ok(c) = c {
                std::thread::spawn(move || serve(c));
            }
        }
    });
    Origin { port, stop }
}

fn serve(mut c: TcpStream) {
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match c.read(&mut tmp) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        buf.drain(..end);
        let path = head.split(' ').nth(1).unwrap_or("");
        let resp: &[u8] = if path == "/missing" {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"
        };
        if c.write_all(resp).is_err() {
            return;
        }
    }
}

fn cli(sock: &Path, cmd: &str) -> String {
    let Ok(mut s) = UnixStream::connect(sock) else {
        return String::new();
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let _ = s.write_all(format!("{cmd}\n").as_bytes());
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn config(dir: &Path, a: u16, b: u16, dead: u16) -> String {
    format!(
        "global\n    stats socket {d}/admin.sock level admin\n    \
         stats socket {d}/oper.sock level operator\n\
         defaults\n    mode http\n    timeout connect 500ms\n    timeout client 2s\n    \
         timeout server 2s\n    timeout http-request 300ms\n    retries 1\n\
         frontend fe\n    bind 127.0.0.1:@PORT@\n    http-request deny if {{ path /deny }}\n    \
         use_backend dead if {{ path /dead }}\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{a}\n    server s2 127.0.0.1:{b}\n\
         backend dead\n    server d1 127.0.0.1:{dead}\n",
        d = dir.display()
    )
}

/// `(pxname, svname)` -> column -> cell.
type Table = HashMap<(String, String), HashMap<String, String>>;

fn table(csv: &str) -> Table {
    let mut lines = csv.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("# ")
        .split(',')
        .map(str::to_string)
        .collect();
    let mut t = Table::new();
    for l in lines.filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = l.split(',').collect();
        let row: HashMap<String, String> = header
            .iter()
            .zip(cells.iter())
            .map(|(h, c)| (h.clone(), c.to_string()))
            .collect();
        t.insert((cells[0].to_string(), cells[1].to_string()), row);
    }
    t
}

fn traffic(port: u16) {
    let get = |p: &str| {
        raw(
            port,
            format!("GET {p} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
        )
    };
    for _ in 0..3 {
        assert!(get("/").starts_with("HTTP/1.1 200"));
    }
    assert!(get("/missing").starts_with("HTTP/1.1 404"));
    assert!(get("/deny").starts_with("HTTP/1.1 403"));
    assert!(raw(port, b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(get("/dead").starts_with("HTTP/1.1 503"));
    // Keep-alive: three requests on one client connection.
    let ka = raw(
        port,
        b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n\
          GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(ka.matches("HTTP/1.1 200").count(), 3, "{ka}");
    // An idle first connection gets a 408 (and counts as a bad request).
    assert!(raw(port, b"").starts_with("HTTP/1.1 408"));
    // Let both proxies finish their end-of-stream accounting.
    std::thread::sleep(Duration::from_millis(200));
}

/// Counters that must be identical.
const EXACT: &[&str] = &[
    "qcur",
    "qmax",
    "scur",
    "stot",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "lbtot",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "req_tot",
    "cli_abrt",
    "srv_abrt",
    "conn_tot",
    "intercepted",
    "dcon",
    "dses",
    "wrew",
    "connect",
    "reuse",
];

/// HAProxy counts its internal message size; so do we, except that the
/// bytes of a request whose connect failed are not given to the server.
const BYTES: &[&str] = &["bin", "bout"];

/// Rates and timings: same emptiness, values within a tolerance.
const NEAR: &[(&str, i64)] = &[
    // HAProxy may still hold the previous connection when the next one
    // arrives.
    ("smax", 1),
    ("rate", 7),
    ("rate_max", 7),
    ("req_rate", 7),
    ("req_rate_max", 7),
    ("conn_rate", 7),
    ("conn_rate_max", 7),
    ("lastsess", 2),
    ("qtime", 30),
    ("ctime", 30),
    ("rtime", 30),
    ("ttime", 30),
];

/// `now`: both snapshots were taken right after their traffic, so the
/// current rates and `lastsess` compare too.
fn compare(ours: &Table, theirs: &Table, what: &str, now: bool) {
    let rows = [
        ("fe", "FRONTEND"),
        ("be", "s1"),
        ("be", "s2"),
        ("be", "BACKEND"),
        ("dead", "d1"),
        ("dead", "BACKEND"),
    ];
    let mut bad = Vec::new();
    for (px, sv) in rows {
        let key = (px.to_string(), sv.to_string());
        let (Some(o), Some(t)) = (ours.get(&key), theirs.get(&key)) else {
            panic!("{what}: row {px}/{sv} missing");
        };
        let cell = |r: &HashMap<String, String>, c: &str| r.get(c).cloned().unwrap_or_default();
        // The bytes of a request whose connect failed are not given to
        // the server (HAProxy gives them).
        let bytes: &[&str] = if (px, sv) == ("dead", "d1") {
            &[]
        } else {
            BYTES
        };
        for c in EXACT.iter().chain(bytes) {
            let (a, b) = (cell(o, c), cell(t, c));
            if a != b {
                bad.push(format!("{px}/{sv} {c}: ours {a:?}, haproxy {b:?}"));
            }
        }
        for (c, tol) in NEAR {
            if !now && matches!(*c, "rate" | "req_rate" | "conn_rate" | "lastsess") {
                continue;
            }
            let (a, b) = (cell(o, c), cell(t, c));
            let (x, y) = (a.parse::<i64>().unwrap_or(0), b.parse::<i64>().unwrap_or(0));
            if a.is_empty() != b.is_empty() || (x - y).abs() > *tol {
                bad.push(format!("{px}/{sv} {c}: ours {a:?}, haproxy {b:?}"));
            }
        }
    }
    assert!(bad.is_empty(), "{what}:\n{}", bad.join("\n"));
}

#[test]
fn stats_counters_match_real_haproxy() {
    if !Path::new(HAPROXY).exists() {
        return;
    }
    let a = origin();
    let b = origin();
    let dead = dead_port();
    let (d1, d2) = (TempDir::new(), TempDir::new());
    let ours = Proxy::start(&config(&d1.0, a.port, b.port, dead));
    let theirs = Proxy::start_with(HAPROXY, &config(&d2.0, a.port, b.port, dead));
    let (s1, s2) = (d1.0.join("admin.sock"), d2.0.join("admin.sock"));
    // Each snapshot right after its own traffic, so the rates compare.
    traffic(ours.port);
    let mine = table(&cli(&s1, "show stat"));
    traffic(theirs.port);
    let real = table(&cli(&s2, "show stat"));
    compare(&mine, &real, "after traffic", true);

    // `clear counters`: operator may, and only the maxima go.
    let (o1, o2) = (d1.0.join("oper.sock"), d2.0.join("oper.sock"));
    assert_eq!(
        cli(&o1, "clear counters all"),
        cli(&o2, "clear counters all")
    );
    assert_eq!(cli(&o1, "clear counters"), cli(&o2, "clear counters"));
    compare(
        &table(&cli(&s1, "show stat")),
        &table(&cli(&s2, "show stat")),
        "after clear counters",
        false,
    );
    assert_eq!(
        cli(&s1, "clear counters all"),
        cli(&s2, "clear counters all")
    );
    compare(
        &table(&cli(&s1, "show stat")),
        &table(&cli(&s2, "show stat")),
        "after clear counters all",
        false,
    );
    drop((ours, theirs));
}

/// `mode tcp`: sessions, balancing and raw byte counts agree.
#[test]
fn tcp_counters_match_real_haproxy() {
    if !Path::new(HAPROXY).exists() {
        return;
    }
    let echo = support::Backend::start("e", support::Behaviour::Echo);
    let cfg = |d: &Path| {
        format!(
            "global\n    stats socket {}/admin.sock level admin\n\
             defaults\n    timeout connect 500ms\n    timeout client 2s\n    timeout server 2s\n\
             listen t\n    mode tcp\n    bind 127.0.0.1:@PORT@\n    server e1 127.0.0.1:{}\n",
            d.display(),
            echo.port
        )
    };
    let (d1, d2) = (TempDir::new(), TempDir::new());
    let ours = Proxy::start(&cfg(&d1.0));
    let theirs = Proxy::start_with(HAPROXY, &cfg(&d2.0));
    for port in [ours.port, theirs.port] {
        for msg in ["hello", "a longer line of text\n"] {
            let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(3))).ok();
            s.write_all(msg.as_bytes()).expect("send");
            let mut got = vec![0u8; msg.len()];
            s.read_exact(&mut got).expect("echo");
            assert_eq!(got, msg.as_bytes());
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let o = table(&cli(&d1.0.join("admin.sock"), "show stat"));
    let t = table(&cli(&d2.0.join("admin.sock"), "show stat"));
    let mut bad = Vec::new();
    for sv in ["FRONTEND", "e1", "BACKEND"] {
        let key = ("t".to_string(), sv.to_string());
        let (Some(a), Some(b)) = (o.get(&key), t.get(&key)) else {
            panic!("row t/{sv} missing");
        };
        for c in [
            "stot", "lbtot", "connect", "reuse", "conn_tot", "bin", "bout", "econ", "wretr",
            "req_tot", "hrsp_2xx",
        ] {
            if a.get(c) != b.get(c) {
                bad.push(format!(
                    "t/{sv} {c}: ours {:?}, haproxy {:?}",
                    a.get(c),
                    b.get(c)
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
