//! Dynamic weights over real sockets: the same configuration and the same
//! runtime API operations (`set weight`, `disable/enable server`) under
//! the real HAProxy 2.6 (`/usr/sbin/haproxy`, skipped when absent) and
//! under switchyard must send the same requests to the same servers
//! (roundrobin's fwrr sequence, consistent and map-based hashing);
//! `random` follows new weights statistically and `slowstart` ramps a
//! revived server's share up.

mod support;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{Backend, Behaviour, Proxy, TempDir, raw, server_of};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// One step of a scenario.
enum Op {
    /// `n` requests `GET /<prefix><i>` on fresh connections.
    Req(&'static str, usize),
    /// A runtime API command on the admin socket.
    Cli(&'static str),
}

struct Rig {
    p: Proxy,
    sock: PathBuf,
    _dir: TempDir,
    _b: Vec<Backend>,
}

fn cli(sock: &Path, cmd: &str) -> String {
    let Ok(mut s) = UnixStream::connect(sock) else {
        return String::from("<no socket>");
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let _ = s.write_all(format!("{cmd}\n").as_bytes());
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `backend be` with `lines` (balance, hash-type) and servers s1.. with
/// the given extra options, in mode http behind an admin socket.
fn start(bin: &str, lines: &str, servers: &[&str]) -> Rig {
    let dir = TempDir::new();
    let sock = dir.0.join("admin.sock");
    let mut cfg = format!(
        "global\n    stats socket {} level admin\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend be\nbackend be\n",
        sock.display()
    );
    for l in lines.lines() {
        cfg += &format!("    {l}\n");
    }
    let mut backends = Vec::new();
    for (i, opts) in servers.iter().enumerate() {
        let name = format!("s{}", i + 1);
        let b = Backend::start(&name, Behaviour::Http);
        cfg += &format!("    server {name} 127.0.0.1:{} {opts}\n", b.port);
        backends.push(b);
    }
    let p = Proxy::start_with(bin, &cfg);
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Rig {
        p,
        sock,
        _dir: dir,
        _b: backends,
    }
}

fn get(port: u16, path: &str) -> String {
    let r = raw(
        port,
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    server_of(&r)
}

/// Runs `ops` and returns one line per step: the servers seen, or `CLI`.
fn run(bin: &str, lines: &str, servers: &[&str], ops: &[Op]) -> Vec<String> {
    let r = start(bin, lines, servers);
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::Req(prefix, n) => {
                let seq: Vec<String> = (0..*n)
                    .map(|i| get(r.p.port, &format!("/{prefix}{i}")))
                    .collect();
                out.push(seq.join(" "));
            }
            Op::Cli(c) => {
                cli(&r.sock, c);
                out.push(format!("CLI {c}"));
            }
        }
    }
    out
}

/// The same scenario under both; the server sequences must be equal.
fn parity(name: &str, lines: &str, servers: &[&str], ops: &[Op]) {
    if !Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let start = Instant::now();
    let want = run(HAPROXY, lines, servers, ops);
    let got = run(env!("CARGO_BIN_EXE_switchyard"), lines, servers, ops);
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(
            g, w,
            "{name}: step {i} differs\nhaproxy:    {w}\nswitchyard: {g}"
        );
    }
    assert_eq!(want.len(), got.len());
    eprintln!("{name}: identical ({:?})", start.elapsed());
}

#[test]
fn roundrobin_follows_set_weight_like_haproxy() {
    parity(
        "roundrobin",
        "balance roundrobin",
        &["weight 1", "weight 2", "weight 3"],
        &[
            Op::Req("a", 24),
            Op::Cli("set weight be/s1 10"),
            Op::Req("b", 40),
            Op::Cli("set weight be/s2 0"),
            Op::Req("c", 20),
            Op::Cli("set weight be/s2 5"),
            Op::Req("d", 30),
            Op::Cli("set weight be/s3 1"),
            Op::Req("e", 30),
            Op::Cli("set weight be/s1 50%"),
            Op::Req("f", 30),
        ],
    );
}

#[test]
fn roundrobin_follows_disable_and_enable_like_haproxy() {
    parity(
        "roundrobin down/up",
        "balance roundrobin",
        &["weight 3", "weight 2", "weight 1", "weight 4"],
        &[
            Op::Req("a", 13),
            Op::Cli("disable server be/s1"),
            Op::Req("b", 11),
            Op::Cli("enable server be/s1"),
            Op::Req("c", 30),
            Op::Cli("set weight be/s4 1"),
            Op::Cli("set weight be/s2 7"),
            Op::Req("d", 40),
        ],
    );
}

#[test]
fn leastconn_ties_follow_changes_like_haproxy() {
    parity(
        "leastconn",
        "balance leastconn",
        &["weight 1", "weight 2", "weight 3"],
        &[
            Op::Req("a", 12),
            Op::Cli("set weight be/s1 10"),
            Op::Req("b", 12),
            Op::Cli("disable server be/s2"),
            Op::Req("c", 6),
            Op::Cli("enable server be/s2"),
            Op::Req("d", 12),
            Op::Cli("set weight be/s3 0"),
            Op::Req("e", 6),
            Op::Cli("set weight be/s3 4"),
            Op::Req("f", 12),
        ],
    );
}

#[test]
fn consistent_hash_follows_set_weight_like_haproxy() {
    parity(
        "consistent",
        "balance uri\nhash-type consistent",
        &["weight 10", "weight 10", "weight 10 id 7"],
        &[
            Op::Req("k", 300),
            Op::Cli("set weight be/s1 30"),
            Op::Req("k", 300),
            Op::Cli("set weight be/s2 1"),
            Op::Req("k", 300),
            Op::Cli("set weight be/s3 0"),
            Op::Req("k", 300),
        ],
    );
}

#[test]
fn map_based_hash_rebuilds_like_haproxy() {
    parity(
        "map-based",
        "balance uri",
        &["weight 2", "weight 4", "weight 6"],
        &[
            Op::Req("k", 200),
            Op::Cli("set weight be/s2 0"),
            Op::Req("k", 200),
            Op::Cli("set weight be/s2 100%"),
            Op::Req("k", 200),
        ],
    );
}

#[test]
fn random_follows_new_weights() {
    let r = start(
        env!("CARGO_BIN_EXE_switchyard"),
        "balance random",
        &["weight 1", "weight 1"],
    );
    let share = |n: usize| {
        let hits = (0..n)
            .filter(|i| get(r.p.port, &format!("/r{i}")) == "s1")
            .count();
        hits as f64 / n as f64
    };
    let before = share(300);
    assert!((0.3..0.7).contains(&before), "before: {before}");
    cli(&r.sock, "set weight be/s1 10");
    let after = share(300);
    // Expected 10/11 = 0.91.
    assert!(after > 0.8, "after set weight 10: {after}");
}

#[test]
fn slowstart_ramps_a_revived_server() {
    let r = start(
        env!("CARGO_BIN_EXE_switchyard"),
        "balance roundrobin",
        &[
            "weight 1",
            "weight 1 check inter 100 rise 1 fall 1 slowstart 3s",
        ],
    );
    cli(&r.sock, "set server be/s2 health down");
    for i in 0..20 {
        assert_eq!(get(r.p.port, &format!("/d{i}")), "s1");
    }
    // Back up from down: the warm-up starts now.
    cli(&r.sock, "set server be/s2 health up");
    // Shares per second of the warm-up: 1/16, 6/16 then 11/16 of s1's
    // effective weight (slowstart 3s), then equal.
    let start = Instant::now();
    let mut buckets = [(0usize, 0usize); 4];
    while start.elapsed() < Duration::from_millis(3900) {
        let b = (start.elapsed().as_millis() / 1000) as usize;
        let s = get(r.p.port, "/x");
        if let Some(c) = buckets.get_mut(b) {
            c.1 += 1;
            if s == "s2" {
                c.0 += 1;
            }
        }
    }
    let share: Vec<f64> = buckets
        .iter()
        .map(|&(h, n)| h as f64 / n.max(1) as f64)
        .collect();
    eprintln!("slowstart shares per second: {share:?} of {buckets:?}");
    assert!(share[0] < 0.25, "first second: {share:?}");
    assert!(share[3] > 0.4, "after the warm-up: {share:?}");
    assert!(share[0] < share[2] && share[1] <= share[3], "{share:?}");
}
