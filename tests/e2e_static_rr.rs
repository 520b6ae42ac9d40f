//! `balance static-rr` (and map-based hashing without a key) against the
//! real HAProxy 2.6 (`/usr/sbin/haproxy`, skipped when absent): HAProxy
//! walks its server map (rebuilt when servers go down or up, or take
//! weight 0 / back 100%) from the position after the last pick; the same
//! requests and runtime commands must reach the same servers.

mod support;
use std::path::Path;
use std::time::Duration;
use support::{Backend, Behaviour, Proxy, TempDir, raw, server_of};

const HAPROXY: &str = "/usr/sbin/haproxy";

enum Op {
    Req(usize),
    Cli(&'static str),
}

fn run(bin: &str, balance: &str, weights: &[u32], ops: &[Op]) -> Vec<String> {
    let dir = TempDir::new();
    let sock = dir.0.join("admin.sock");
    let mut cfg = format!(
        "global\n    stats socket {} level admin\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend be\nbackend be\n    {balance}\n",
        sock.display()
    );
    let mut backends = Vec::new();
    for (i, w) in weights.iter().enumerate() {
        let name = format!("s{}", i + 1);
        let b = Backend::start(&name, Behaviour::Http);
        cfg += &format!("    server {name} 127.0.0.1:{} weight {w}\n", b.port);
        backends.push(b);
    }
    let p = Proxy::start_with(bin, &cfg);
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        match op {
            Op::Req(n) => {
                let seq: Vec<String> = (0..*n)
                    .map(|i| {
                        let req = format!(
                            "GET /{k}/{i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                        );
                        server_of(&raw(p.port, req.as_bytes()))
                    })
                    .collect();
                out.push(seq.join(" "));
            }
            Op::Cli(c) => out.push(format!("{c} -> {:?}", support::cli(&sock, c))),
        }
    }
    out
}

fn parity(balance: &str, weights: &[u32], ops: &[Op]) {
    if !Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let want = run(HAPROXY, balance, weights, ops);
    let got = run(env!("CARGO_BIN_EXE_switchyard"), balance, weights, ops);
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(
            g, w,
            "{balance}: step {i}\nhaproxy:    {w}\nswitchyard: {g}"
        );
    }
    assert_eq!(got.len(), want.len());
}

const OPS: &[Op] = &[
    Op::Req(13),
    Op::Cli("disable server be/s2"),
    Op::Req(9),
    Op::Cli("enable server be/s2"),
    Op::Req(14),
    Op::Cli("set weight be/s3 0"),
    Op::Req(7),
    Op::Cli("set weight be/s3 100%"),
    Op::Req(12),
    Op::Cli("set weight be/s1 2"),
    Op::Cli("disable server be/s1"),
    Op::Req(5),
    Op::Cli("enable server be/s1"),
    Op::Req(12),
];

#[test]
fn static_rr_walks_the_map_like_haproxy() {
    parity("balance static-rr", &[1, 2, 3, 1], OPS);
}

#[test]
fn map_based_hash_without_key_walks_the_map_like_haproxy() {
    parity("balance url_param foo", &[1, 2, 3, 1], OPS);
}
