//! `set server <b>/<s> health down` on a checked server: DOWN at once, and
//! back UP after `rise` passing checks — for switchyard and, as the
//! reference, the real haproxy with the same configuration.

mod support;
use support::cli;

use std::path::Path;
use std::time::{Duration, Instant};
use support::{Backend, Behaviour, Proxy, TempDir};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// The `status` cell of server `be/s`.
fn status(sock: &Path) -> String {
    let out = cli(sock, "show stat");
    let head: Vec<&str> = out.lines().next().unwrap_or("").split(',').collect();
    let col = head.iter().position(|c| *c == "status").unwrap_or(17);
    out.lines()
        .find(|l| l.starts_with("be,s,"))
        .and_then(|l| l.split(',').nth(col).map(str::to_string))
        .unwrap_or_default()
}

fn wait_for(sock: &Path, want: &str, limit: Duration) -> String {
    let until = Instant::now() + limit;
    loop {
        let s = status(sock);
        if s == want || Instant::now() > until {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run(bin: &str, backend: u16) -> Vec<String> {
    let dir = TempDir::new();
    let sock = dir.0.join("s.sock");
    let cfg = format!(
        "global\n  stats socket {} level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 2s\n  timeout server 2s\n  timeout check 1s\n\
         frontend fe\n  bind 127.0.0.1:@PORT@\n  default_backend be\n\
         backend be\n  server s 127.0.0.1:{backend} check inter 100 rise 3 fall 2\n",
        sock.display()
    );
    let _p = Proxy::start_with(bin, &cfg);
    let mut seen = vec![wait_for(&sock, "UP", Duration::from_secs(3))];
    assert_eq!(cli(&sock, "set server be/s health down"), "\n", "{bin}");
    seen.push(status(&sock));
    seen.push(wait_for(&sock, "UP", Duration::from_secs(3)));
    seen
}

#[test]
fn forced_down_server_comes_back_after_rise_checks() {
    let be = Backend::start("s", Behaviour::Http);
    let ours = run(env!("CARGO_BIN_EXE_switchyard"), be.port);
    assert_eq!(ours[0], "UP");
    assert!(ours[1].starts_with("DOWN"), "{ours:?}");
    assert_eq!(ours[2], "UP", "{ours:?}");
    if Path::new(HAPROXY).exists() {
        let theirs = run(HAPROXY, be.port);
        assert_eq!(ours, theirs);
    }
}
