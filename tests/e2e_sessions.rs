//! End-to-end tests of what the per-session object and the server's
//! runtime address make possible: `on-marked-down shutdown-sessions`,
//! `on-marked-up shutdown-backup-sessions`, `set server ... addr|
//! check-port`, `set timeout cli`. Each behaviour is run against the real
//! HAProxy 2.6.12 too (when installed) with the same config, and both
//! must agree.

mod support;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};
use support::cli;
use support::{Backend, Behaviour, Proxy, TempDir, engines, raw};

fn wait_sock(p: &Path) {
    for _ in 0..100 {
        if p.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_for(s: &mut TcpStream, t: Duration) -> String {
    s.set_read_timeout(Some(t)).ok();
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(_) => String::new(),
    }
}

/// Whether the proxy closes `c` within `t` (EOF or reset).
fn closed_within(c: &mut TcpStream, t: Duration) -> bool {
    let until = Instant::now() + t;
    c.set_read_timeout(Some(Duration::from_millis(50))).ok();
    let mut buf = [0u8; 64];
    while Instant::now() < until {
        match c.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

const DEFAULTS: &str = "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n";

#[test]
fn marked_down_shuts_sessions_down() {
    let e = Backend::start("e", Behaviour::Echo);
    for bin in engines() {
        let chk = TcpListener::bind("127.0.0.1:0").expect("check port");
        let cp = chk.local_addr().expect("addr").port();
        let cfg = format!(
            "{DEFAULTS}listen fe\n    bind 127.0.0.1:@PORT@\n    server e1 127.0.0.1:{} check port {cp} inter 100ms fall 1 rise 1 on-marked-down shutdown-sessions\n",
            e.port
        );
        let p = Proxy::start_with(bin, &cfg);
        let mut c = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
        c.write_all(b"hi").expect("write");
        assert_eq!(read_for(&mut c, Duration::from_secs(3)), "hi", "{bin}");
        assert!(!closed_within(&mut c, Duration::from_millis(300)), "{bin}");
        drop(chk);
        assert!(closed_within(&mut c, Duration::from_secs(3)), "{bin}");
    }
}

#[test]
fn marked_up_shuts_backup_sessions_down() {
    let e = Backend::start("e", Behaviour::Echo);
    for bin in engines() {
        // The check port of s1 is closed at first: s1 goes down, the
        // session lands on the backup.
        let cp = support::free_port();
        let cfg = format!(
            "{DEFAULTS}listen fe\n    bind 127.0.0.1:@PORT@\n    server s1 127.0.0.1:{e} check port {cp} inter 100ms fall 1 rise 1 on-marked-up shutdown-backup-sessions\n    server bk 127.0.0.1:{e} backup\n",
            e = e.port
        );
        let p = Proxy::start_with(bin, &cfg);
        std::thread::sleep(Duration::from_millis(600));
        let mut c = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
        c.write_all(b"hi").expect("write");
        assert_eq!(read_for(&mut c, Duration::from_secs(3)), "hi", "{bin}");
        let _chk = TcpListener::bind(("127.0.0.1", cp)).expect("check port");
        assert!(closed_within(&mut c, Duration::from_secs(3)), "{bin}");
    }
}

#[test]
fn set_server_addr_replies_and_moves_traffic() {
    let a = Backend::start("a", Behaviour::Name);
    let b = Backend::start("b", Behaviour::Name);
    let mut transcripts = Vec::new();
    for bin in engines() {
        let dir = TempDir::new();
        let sock = dir.0.join("admin.sock");
        let cfg = format!(
            "global\n    stats socket {} level admin\n{DEFAULTS}listen fe\n    bind 127.0.0.1:@PORT@\n    server s1 127.0.0.1:{a}\n    server s2 127.0.0.1:{a} disabled\n    server s3 127.0.0.1:{a} check inter 10s disabled\n",
            sock.display(),
            a = a.port
        );
        let p = Proxy::start_with(bin, &cfg);
        wait_sock(&sock);
        assert_eq!(raw(p.port, b""), "a", "{bin}");
        let mut t = String::new();
        for c in [
            "set server fe/s1 addr 127.0.0.2".to_string(),
            "set server fe/s1 addr 127.0.0.2".to_string(),
            "set server fe/s1 addr 127.0.0.1 port abc".to_string(),
            format!("set server fe/s1 addr 127.0.0.1 port {}", b.port),
            format!("set server fe/s1 addr 127.0.0.1 port {}", b.port),
            "set server fe/s1 addr ::1".to_string(),
            "set server fe/s1 addr 127.0.0.1".to_string(),
            "set server fe/s1 addr foo".to_string(),
            "set server fe/s1 addr".to_string(),
            "set server fe/s3 check-port 1234".to_string(),
            "set server fe/s3 check-port abc".to_string(),
            "set server fe/s3 check-port 70000".to_string(),
            "set server fe/s2 check-port 1234".to_string(),
        ] {
            t.push_str(&format!("> {c}\n{}", cli(&sock, &c)));
        }
        // Traffic follows the new address.
        assert_eq!(raw(p.port, b""), "b", "{bin}");
        transcripts.push(t);
    }
    if let [ours, theirs] = &transcripts[..] {
        assert_eq!(ours, theirs);
    }
    assert!(transcripts[0].contains("IP changed from '127.0.0.1' to '127.0.0.2'"));
}

#[test]
fn set_timeout_cli_bounds_the_idle_cli_session() {
    for bin in engines() {
        let dir = TempDir::new();
        let sock = dir.0.join("admin.sock");
        let cfg = format!(
            "global\n    stats socket {} level admin\n    stats timeout 30s\n{DEFAULTS}listen fe\n    bind 127.0.0.1:@PORT@\n",
            sock.display()
        );
        let _p = Proxy::start_with(bin, &cfg);
        wait_sock(&sock);
        let mut s = UnixStream::connect(&sock).expect("cli");
        s.write_all(b"prompt\nset timeout cli 1\n").expect("write");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let start = Instant::now();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(800) && took < Duration::from_secs(4),
            "{bin}: {took:?}"
        );
        assert_eq!(String::from_utf8_lossy(&out), "\n> \n> ", "{bin}");
    }
}

/// `show stat` cells by column name for each row: `(pxname, svname, cells)`.
fn stat_cells(csv: &str, cols: &[&str]) -> Vec<String> {
    let mut lines = csv.lines();
    let Some(head) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = head.trim_start_matches("# ").split(',').collect();
    let idx: Vec<usize> = cols
        .iter()
        .filter_map(|c| names.iter().position(|n| n == c))
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            idx.iter()
                .map(|&i| f.get(i).copied().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

#[test]
fn show_stat_and_info_reflect_cli_changes() {
    let dead = support::dead_port();
    let mut seen = Vec::new();
    for bin in engines() {
        let dir = TempDir::new();
        let sock = dir.0.join("admin.sock");
        let cfg = format!(
            "global\n    maxconn 500\n    stats socket {} level admin\n{DEFAULTS}listen fe\n    bind 127.0.0.1:@PORT@\n    server s1 127.0.0.1:{dead} check inter 100ms fall 1 rise 1\n    server s2 127.0.0.1:{dead} maxconn 9\n",
            sock.display()
        );
        let _p = Proxy::start_with(bin, &cfg);
        wait_sock(&sock);
        std::thread::sleep(Duration::from_millis(600));
        let mut out = String::new();
        for c in [
            "disable health fe/s1",
            "set maxconn frontend fe 7",
            "set maxconn server fe/s2 5",
            "disable frontend fe",
            "set rate-limit connections global 33",
            "set rate-limit sessions global 44",
            "set maxconn global 99",
        ] {
            out.push_str(&cli(&sock, c));
        }
        let cols = [
            "pxname",
            "svname",
            "slim",
            "status",
            "check_status",
            "check_code",
            "check_duration",
            "check_rise",
        ];
        for l in stat_cells(&cli(&sock, "show stat"), &cols) {
            out.push_str(&l);
            out.push('\n');
        }
        for l in cli(&sock, "show info").lines() {
            if [
                "Maxconn:",
                "Hard_maxconn:",
                "ConnRateLimit:",
                "SessRateLimit:",
            ]
            .iter()
            .any(|k| l.starts_with(k))
            {
                out.push_str(l);
                out.push('\n');
            }
        }
        seen.push(out);
    }
    assert!(seen[0].contains("fe,FRONTEND,7,PAUSED"), "{}", seen[0]);
    if let [ours, theirs] = &seen[..] {
        assert_eq!(ours, theirs);
    }
}
