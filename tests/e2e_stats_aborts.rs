//! Differential test of the `show stat` cells that count things going
//! wrong: `cli_abrt`/`srv_abrt` (a client or a server breaking a transfer,
//! in HTTP and in TCP), `dcon`/`dses` (`tcp-request connection|session
//! reject`), `wrew` and `eint` (a `set-header` that does not fit in the
//! buffer, an internal error in HAProxy's default strict mode). The same
//! config and the same traffic go to HAProxy 2.6.12 and to switchyard;
//! the cells, then the Prometheus lines that carry them, must be equal.

mod support;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Proxy, TempDir, cli, free_port};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// Reads one request head (and, for `/post`, its 1000-byte body).
fn read_request(c: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 65536];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match c.read(&mut tmp) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let path = head.split(' ').nth(1).unwrap_or("").to_string();
    if path == "/post" {
        let mut have = buf.len() - end;
        while have < 1000 {
            match c.read(&mut tmp) {
                Ok(0) | Err(_) => return None,
                Ok(n) => have += n,
            }
        }
    }
    Some(path)
}

/// Closes with a reset instead of a FIN.
fn reset(c: TcpStream) {
    let s = socket2::SockRef::from(&c);
    let _ = s.set_linger(Some(Duration::ZERO));
    drop(c);
}

/// The HTTP origin: `/slow` streams a huge body for a while, `/cut` and
/// `/cutrst` stop in the middle of the announced body (FIN, RST),
/// `/cutchunk` in the middle of a chunked one, `/late` answers after a
/// second; anything else gets a small `200`.
fn http_origin(mut c: TcpStream) {
    c.set_read_timeout(Some(Duration::from_secs(3))).ok();
    let Some(path) = read_request(&mut c) else {
        return;
    };
    let head = |len: &str| format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n");
    match path.as_str() {
        "/slow" => {
            let _ = c.write_all(head("100000000").as_bytes());
            let chunk = vec![b'x'; 100_000];
            for _ in 0..40 {
                if c.write_all(&chunk).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        "/cut" | "/cutrst" => {
            let _ = c.write_all(format!("{}0123456789", head("1000")).as_bytes());
            std::thread::sleep(Duration::from_millis(100));
            if path == "/cutrst" {
                reset(c);
            }
        }
        "/cutchunk" => {
            let _ = c.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n",
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        "/late" => {
            std::thread::sleep(Duration::from_millis(1000));
            let _ = c.write_all(format!("{}ok", head("2")).as_bytes());
        }
        _ => {
            let _ = c.write_all(format!("{}ok", head("2")).as_bytes());
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// The TCP origin: `rst` gets 1000 bytes then a reset, `fin` 1000 bytes
/// then a close, anything else a stream of bytes for a while.
fn tcp_origin(mut c: TcpStream) {
    c.set_read_timeout(Some(Duration::from_secs(3))).ok();
    let mut first = [0u8; 16];
    let Ok(n) = c.read(&mut first) else { return };
    let _ = c.write_all(&[b'x'; 1000]);
    std::thread::sleep(Duration::from_millis(100));
    match &first[..n] {
        b"rst" => reset(c),
        b"fin" => {}
        _ => {
            let chunk = vec![b'y'; 100_000];
            for _ in 0..40 {
                if c.write_all(&chunk).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// A listener serving each connection with `f` on its own thread (the
/// threads end with the test process).
fn origin(f: fn(TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || f(c));
        }
    });
    port
}

/// The listening ports of one proxy instance.
struct Ports {
    fe: u16,
    fc: u16,
    fs: u16,
    tt: u16,
    prom: u16,
}

fn config(dir: &Path, p: &Ports, http: u16, tcp: u16) -> String {
    format!(
        "global\n    stats socket {d}/admin.sock level admin\n\
         defaults\n    mode http\n    timeout connect 500ms\n    timeout client 2s\n    \
         timeout server 2s\n\
         frontend fe\n    bind 127.0.0.1:@PORT@\n    \
         http-request set-header x-b %[req.hdr(x-a)] if {{ path /big }}\n    \
         default_backend be\n\
         backend be\n    server s1 127.0.0.1:{http}\n\
         frontend fc\n    bind 127.0.0.1:{fc}\n    tcp-request connection reject\n    \
         default_backend be\n\
         frontend fs\n    bind 127.0.0.1:{fs}\n    tcp-request session reject\n    \
         default_backend be\n\
         listen tt\n    mode tcp\n    bind 127.0.0.1:{tt}\n    server t1 127.0.0.1:{tcp}\n\
         frontend prom\n    bind 127.0.0.1:{prom}\n    \
         http-request use-service prometheus-exporter\n",
        d = dir.display(),
        fc = p.fc,
        fs = p.fs,
        tt = p.tt,
        prom = p.prom,
    )
}

/// How the client ends its side.
#[derive(Clone, Copy)]
enum End {
    /// Read the whole answer.
    ReadAll,
    /// Read the first bytes, then close (a FIN, or a reset when unread
    /// data is pending).
    FirstBytes,
    /// Read the first bytes, then reset.
    FirstBytesRst,
    /// Send, wait a little, reset without reading.
    Rst,
}

fn exchange(port: u16, data: &[u8], end: End) -> Vec<u8> {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Vec::new();
    };
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    let mut out = Vec::new();
    if s.write_all(data).is_err() {
        return out;
    }
    let mut tmp = [0u8; 4096];
    match end {
        End::ReadAll => {
            let _ = s.read_to_end(&mut out);
        }
        End::FirstBytes | End::FirstBytesRst => {
            if let Ok(n) = s.read(&mut tmp) {
                out.extend_from_slice(&tmp[..n]);
            }
        }
        End::Rst => {}
    }
    std::thread::sleep(Duration::from_millis(200));
    match end {
        End::FirstBytesRst | End::Rst => reset(s),
        _ => {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
    out
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n").into_bytes()
}

fn starts(b: &[u8], with: &str) -> bool {
    b.starts_with(with.as_bytes())
}

/// The same traffic for each proxy; the answers are checked as they come.
fn traffic(p: &Ports) {
    assert!(starts(
        &exchange(p.fe, &get("/", ""), End::ReadAll),
        "HTTP/1.1 200"
    ));
    // The client leaves in the middle of a large response (FIN, then RST).
    for end in [End::FirstBytes, End::FirstBytesRst] {
        let r = exchange(p.fe, &get("/slow", ""), end);
        assert!(starts(&r, "HTTP/1.1 200"));
    }
    // The server stops in the middle of the body.
    for path in ["/cut", "/cutrst", "/cutchunk"] {
        let r = exchange(p.fe, &get(path, ""), End::ReadAll);
        assert!(starts(&r, "HTTP/1.1 200"), "{path}");
    }
    // The client resets while the server is still thinking.
    exchange(p.fe, &get("/late", ""), End::Rst);
    // The client resets in the middle of its request body.
    let post = b"POST /post HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nabc";
    exchange(p.fe, post, End::Rst);
    // A set-header that does not fit: 500, counted as wrew and eint.
    let big = format!("x-a: {}\r\n", "a".repeat(9000));
    let r = exchange(p.fe, &get("/big", &big), End::ReadAll);
    assert!(
        starts(&r, "HTTP/1.1 500"),
        "{}",
        String::from_utf8_lossy(&r)
    );
    // Refused by tcp-request connection / session rules.
    exchange(p.fc, &get("/", ""), End::ReadAll);
    exchange(p.fs, &get("/", ""), End::ReadAll);
    // TCP: the client resets mid-stream, the server resets, the server
    // closes cleanly.
    assert!(!exchange(p.tt, b"go", End::FirstBytesRst).is_empty());
    assert!(!exchange(p.tt, b"rst", End::ReadAll).is_empty());
    assert!(!exchange(p.tt, b"fin", End::ReadAll).is_empty());
}

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
        if cells.len() < 2 {
            continue;
        }
        let row = header
            .iter()
            .zip(cells.iter())
            .map(|(h, c)| (h.clone(), c.to_string()))
            .collect();
        t.insert((cells[0].to_string(), cells[1].to_string()), row);
    }
    t
}

const CELLS: &[&str] = &[
    "stot",
    "conn_tot",
    "req_tot",
    "ereq",
    "econ",
    "eresp",
    "dreq",
    "dresp",
    "cli_abrt",
    "srv_abrt",
    "dcon",
    "dses",
    "wrew",
    "eint",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
];

const ROWS: &[(&str, &str)] = &[
    ("fe", "FRONTEND"),
    ("be", "s1"),
    ("be", "BACKEND"),
    ("fc", "FRONTEND"),
    ("fs", "FRONTEND"),
    ("tt", "FRONTEND"),
    ("tt", "t1"),
    ("tt", "BACKEND"),
];

/// The Prometheus lines of the counters under test.
fn prom_lines(port: u16) -> Vec<String> {
    let r = exchange(port, &get("/metrics", ""), End::ReadAll);
    let text = String::from_utf8_lossy(&r).to_string();
    let names = [
        "haproxy_frontend_denied_connections_total{",
        "haproxy_frontend_denied_sessions_total{",
        "haproxy_frontend_failed_header_rewriting_total{",
        "haproxy_frontend_internal_errors_total{",
        "haproxy_backend_client_aborts_total{",
        "haproxy_backend_server_aborts_total{",
        "haproxy_backend_failed_header_rewriting_total{",
        "haproxy_backend_internal_errors_total{",
        "haproxy_server_client_aborts_total{",
        "haproxy_server_server_aborts_total{",
        "haproxy_server_failed_header_rewriting_total{",
        "haproxy_server_internal_errors_total{",
    ];
    text.lines()
        .filter(|l| names.iter().any(|n| l.starts_with(n)) && !l.contains("\"prom\""))
        .map(str::to_string)
        .collect()
}

/// Waits (bounded) until the sessions of both proxies have ended, so the
/// end-of-stream accounting is done.
fn settle(sock: &Path) {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        let t = table(&cli(sock, "show stat"));
        let busy = ROWS.iter().any(|(px, sv)| {
            t.get(&(px.to_string(), sv.to_string()))
                .and_then(|r| r.get("scur"))
                .is_some_and(|c| c != "0")
        });
        if !busy {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn abort_deny_and_rewrite_counters_match_real_haproxy() {
    if !Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} is not installed");
        return;
    }
    let (http, tcp) = (origin(http_origin), origin(tcp_origin));
    let ports = || Ports {
        fe: 0,
        fc: free_port(),
        fs: free_port(),
        tt: free_port(),
        prom: free_port(),
    };
    let (mut p1, mut p2) = (ports(), ports());
    let (d1, d2) = (TempDir::new(), TempDir::new());
    let ours = Proxy::start(&config(&d1.0, &p1, http, tcp));
    let theirs = Proxy::start_with(HAPROXY, &config(&d2.0, &p2, http, tcp));
    p1.fe = ours.port;
    p2.fe = theirs.port;
    let (s1, s2) = (d1.0.join("admin.sock"), d2.0.join("admin.sock"));
    std::thread::scope(|sc| {
        sc.spawn(|| traffic(&p1));
        sc.spawn(|| traffic(&p2));
    });
    settle(&s1);
    settle(&s2);
    let (mine, real) = (table(&cli(&s1, "show stat")), table(&cli(&s2, "show stat")));
    let mut bad = Vec::new();
    for (px, sv) in ROWS {
        let key = (px.to_string(), sv.to_string());
        let (Some(o), Some(t)) = (mine.get(&key), real.get(&key)) else {
            panic!("row {px}/{sv} missing");
        };
        for c in CELLS {
            if o.get(*c) != t.get(*c) {
                bad.push(format!(
                    "{px}/{sv} {c}: ours {:?}, haproxy {:?}",
                    o.get(*c),
                    t.get(*c)
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // Each counter under test moved at least once (else the test proves
    // nothing).
    let cell = |px: &str, sv: &str, c: &str| {
        real.get(&(px.to_string(), sv.to_string()))
            .and_then(|r| r.get(c))
            .cloned()
            .unwrap_or_default()
    };
    for (px, sv, c) in [
        ("be", "s1", "cli_abrt"),
        ("be", "s1", "srv_abrt"),
        ("tt", "t1", "cli_abrt"),
        ("tt", "t1", "srv_abrt"),
        ("fc", "FRONTEND", "dcon"),
        ("fs", "FRONTEND", "dses"),
        ("fe", "FRONTEND", "wrew"),
        ("fe", "FRONTEND", "eint"),
    ] {
        assert_ne!(cell(px, sv, c), "0", "{px}/{sv} {c}");
    }
    // The exporter shows the same values.
    let (a, b) = (prom_lines(p1.prom), prom_lines(p2.prom));
    assert!(!b.is_empty());
    assert_eq!(a, b);
    drop((ours, theirs));
}
