//! Parsing benchmark: `cargo bench --bench parse`.
//!
//! Generates the same shape as `../shared/bench/compare.sh --scenarios
//! check-big` (1,000 backends x 10 servers, 10,000 ACL lines) and times the
//! whole front end (read, tokenize, check, resolve) over several runs.
//! Numbers against HAProxy come from compare.sh, not from here.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

fn big_config() -> String {
    let mut s = String::from(
        "global\n    maxconn 10000\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\nfrontend fe\n    bind 127.0.0.1:28080\n",
    );
    for i in 0..10_000 {
        let _ = writeln!(s, "    acl a{i} path_beg /p{i}/");
    }
    for i in 0..1_000 {
        let _ = writeln!(s, "    use_backend be{i} if a{i}");
    }
    for b in 0..1_000 {
        let _ = writeln!(s, "\nbackend be{b}\n    balance roundrobin");
        for n in 0..10 {
            let _ = writeln!(
                s,
                "    server s{n} 127.0.0.{}:{} weight 10",
                1 + n,
                20000 + b
            );
        }
    }
    s
}

fn main() {
    let dir = std::env::temp_dir().join(format!("switchyard-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("big.cfg");
    if std::fs::write(&path, big_config()).is_err() {
        eprintln!("cannot write {}", path.display());
        return;
    }
    let files = vec![path.display().to_string()];
    let getenv = |_: &str| None;
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let res = switchyard::config::load(&files, &getenv, Default::default());
        times.push(t.elapsed());
        match res {
            Ok(r) if !r.failed => {}
            Ok(r) => eprintln!("unexpected diagnostics: {}", r.diags.items.len()),
            Err(e) => eprintln!("{e}"),
        }
    }
    times.sort();
    println!(
        "parse check-big (1000 backends x 10 servers, 10000 ACLs): median {:?}, min {:?}, max {:?}",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
