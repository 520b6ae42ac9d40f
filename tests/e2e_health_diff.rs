//! Differential test of health-check results: the same configuration and
//! the same misbehaving servers, checked by switchyard and by the real
//! HAProxy 2.6 (`/usr/sbin/haproxy`); the check and agent cells of `show
//! stat` must agree. Durations and times are left out (timing-dependent),
//! and the `* ` "check in progress" prefix is stripped. Bounded: about 3 s.

mod support;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::cli;
use support::{Proxy, TempDir};

/// How a fake server behaves on each connection.
#[derive(Clone, Copy)]
enum Mode {
    /// Writes the bytes as soon as connected, then holds the connection.
    Banner(&'static [u8]),
    /// Reads once, answers the bytes, closes.
    Reply(&'static [u8]),
    /// Accepts and says nothing.
    Hang,
}

/// A loopback server stopped on drop.
struct Fake {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Fake {
    fn start(mode: Mode) -> Fake {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        l.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((c, _)) => {
                        let st = st.clone();
                        std::thread::spawn(move || serve(c, mode, &st));
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

fn serve(mut c: TcpStream, mode: Mode, stop: &AtomicBool) {
    let _ = c.set_nonblocking(false);
    let _ = c.set_read_timeout(Some(Duration::from_millis(100)));
    let hold = |c: &mut TcpStream| {
        let mut b = [0u8; 4096];
        for _ in 0..30 {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match c.read(&mut b) {
                Ok(0) => return,
                Ok(_) => {}
                Err(_) => {}
            }
        }
    };
    match mode {
        Mode::Banner(b) => {
            let _ = c.write_all(b);
            hold(&mut c);
        }
        Mode::Reply(b) => {
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b);
        }
        Mode::Hang => hold(&mut c),
    }
}

const COLUMNS: &[&str] = &[
    "status",
    "weight",
    "chkfail",
    "chkdown",
    "check_status",
    "check_code",
    "check_desc",
    "last_chk",
    "check_rise",
    "check_fall",
    "check_health",
    "agent_status",
    "agent_code",
    "agent_desc",
    "last_agt",
    "agent_rise",
    "agent_fall",
    "agent_health",
    "hanafail",
];

/// `backend -> [(column, value)]` of every server row.
fn cells(stat: &str) -> Vec<(String, Vec<(String, String)>)> {
    support::server_rows(stat, COLUMNS)
        .into_iter()
        .map(|(n, vals)| (n, COLUMNS.iter().map(|c| c.to_string()).zip(vals).collect()))
        .collect()
}

fn config(dir: &Path, p: &[u16]) -> String {
    format!(
        "global\n  stats socket {d}/s.sock level admin\n\
defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n  timeout check 300ms\n\
frontend fe\n  bind 127.0.0.1:@PORT@\n  default_backend b_ref\n\
backend b_ref\n  option tcp-check\n  tcp-check connect\n  server s 127.0.0.1:{dead} check inter 300\n\
backend b_ref_implicit\n  option tcp-check\n  tcp-check send PING\\r\\n\n  tcp-check expect string PONG\n  server s 127.0.0.1:{dead} check inter 300\n\
backend b_tout\n  option tcp-check\n  tcp-check expect string PONG comment waiting\n  server s 127.0.0.1:{hang} check inter 300\n\
backend b_l4\n  server s 127.0.0.1:{dead} check inter 300\n\
backend b_sts\n  mode http\n  option httpchk GET /health\n  server s 127.0.0.1:{e500} check inter 300\n\
backend b_hdr\n  mode http\n  option httpchk\n  http-check expect hdr name x-ok\n  server s 127.0.0.1:{e500} check inter 300\n\
backend b_str\n  option tcp-check\n  tcp-check send PING\\r\\n\n  tcp-check expect string PONG\n  server s 127.0.0.1:{nope} check inter 300\n\
backend b_ok\n  option tcp-check\n  tcp-check expect rstring ^\\+OK\n  server s 127.0.0.1:{okb} check inter 300\n\
backend b_agarb\n  server s 127.0.0.1:{okb} check inter 300 agent-check agent-port {garb} agent-inter 300\n\
backend b_agdown\n  server s 127.0.0.1:{okb} check inter 300 agent-check agent-port {down} agent-inter 300\n\
backend b_ag50\n  server s 127.0.0.1:{okb} check inter 300 weight 10 agent-check agent-port {half} agent-inter 300\n\
backend b_agbig\n  server s 127.0.0.1:{okb} agent-check agent-port {big} agent-inter 300 weight 100\n\
backend b_agref\n  server s 127.0.0.1:{okb} check inter 300 agent-check agent-port {dead} agent-inter 300\n\
backend b_redis\n  option redis-check\n  server s 127.0.0.1:{rerr} check inter 300\n\
backend b_mysql\n  option mysql-check\n  server s 127.0.0.1:{myerr} check inter 300\n\
backend b_ldap\n  option ldap-check\n  server s 127.0.0.1:{ldap} check inter 300\n\
backend b_404\n  mode http\n  option httpchk\n  http-check disable-on-404\n  server s 127.0.0.1:{e404} check inter 300\n\
backend b_track\n  server t 127.0.0.1:{okb} track b_ref/s\n",
        d = dir.display(),
        dead = p[0],
        hang = p[1],
        e500 = p[2],
        nope = p[3],
        okb = p[4],
        garb = p[5],
        down = p[6],
        half = p[7],
        big = p[8],
        rerr = p[9],
        myerr = p[10],
        ldap = p[11],
        e404 = p[12],
    )
}

#[test]
fn check_cells_match_real_haproxy() {
    let bin = "/usr/sbin/haproxy";
    if !Path::new(bin).exists() {
        return;
    }
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let fakes = [
        Fake::start(Mode::Hang),
        Fake::start(Mode::Reply(
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
        )),
        Fake::start(Mode::Reply(b"NOPE\r\n")),
        Fake::start(Mode::Banner(b"+OK ready\r\n")),
        Fake::start(Mode::Banner(b"garbage words\n")),
        Fake::start(Mode::Banner(b"down #maintenance window\n")),
        Fake::start(Mode::Banner(b"50%\n")),
        Fake::start(Mode::Banner(b"300%\n")),
        Fake::start(Mode::Reply(b"-ERR denied\r\n")),
        Fake::start(Mode::Banner(b"\x0d\x00\x00\x00\xff\x15\x04#28000nope")),
        Fake::start(Mode::Reply(&[
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x31, 0x04, 0x00, 0x04, 0x00,
        ])),
        Fake::start(Mode::Reply(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        )),
    ];
    let mut ports = vec![dead];
    ports.extend(fakes.iter().map(|f| f.port));
    let d1 = TempDir::new();
    let d2 = TempDir::new();
    let ours = Proxy::start(&config(&d1.0, &ports));
    let theirs = Proxy::start_with(bin, &config(&d2.0, &ports));
    // Both must settle on the same cells; on a loaded machine either side
    // may still be running its first checks at the first look, so compare
    // again (bounded) until they agree.
    std::thread::sleep(Duration::from_millis(2200));
    let until = std::time::Instant::now() + Duration::from_secs(8);
    let (a, diffs) = loop {
        let a = cells(&cli(&d1.0.join("s.sock"), "show stat"));
        let b = cells(&cli(&d2.0.join("s.sock"), "show stat"));
        assert_eq!(a.len(), b.len(), "ours:\n{a:#?}\ntheirs:\n{b:#?}");
        let mut diffs = Vec::new();
        for ((n1, r1), (n2, r2)) in a.iter().zip(b.iter()) {
            assert_eq!(n1, n2);
            for ((c, v1), (_, v2)) in r1.iter().zip(r2.iter()) {
                if v1 != v2 {
                    diffs.push(format!("{n1} {c}: ours {v1:?} haproxy {v2:?}"));
                }
            }
        }
        if diffs.is_empty() || std::time::Instant::now() > until {
            break (a, diffs);
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // The comparison is not vacuous: a few values known from HAProxy.
    let get = |sv: &str, c: &str| -> String {
        a.iter()
            .find(|(n, _)| n == sv)
            .and_then(|(_, r)| r.iter().find(|(k, _)| k == c))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        get("b_ref/s", "last_chk"),
        "Connection refused at step 1 of tcp-check (connect)"
    );
    assert_eq!(get("b_agdown/s", "status"), "DOWN (agent)");
    assert_eq!(get("b_agbig/s", "weight"), "256");
    assert_eq!(get("b_404/s", "status"), "NOLB");
    assert_eq!(get("b_track/t", "status"), "DOWN");
    assert_eq!(get("b_mysql/s", "check_code"), "1045");
    drop(theirs);
    drop(ours);
}
