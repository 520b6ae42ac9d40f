//! Differential `-c` tests on the small configurations in
//! `fixtures/check-extra/`: each is run through the real haproxy (oracle)
//! and through Switchyard, and the exit status and the whole normalised
//! output must be identical (our own `switchyard:` notices aside).
//! Add a file there whenever a `-c` behaviour is fixed.

mod common;

use common::{normalise, oracle_bin, ours_bin, repo_root, run_with_timeout};
use std::process::Command;
use std::time::Duration;

fn run(bin: &std::path::Path, dir: &std::path::Path, cfg: &str) -> (i32, String) {
    let mut cmd = Command::new("env");
    cmd.arg("-i")
        .arg(format!(
            "PATH={}",
            std::env::var("PATH").unwrap_or_default()
        ))
        .arg(bin)
        .args(["-c", "-f", cfg])
        .current_dir(dir);
    let out = match run_with_timeout(cmd, Duration::from_secs(20)) {
        Ok(o) => o,
        Err(e) => panic!("cannot run {}: {e}", bin.display()),
    };
    let text = format!(
        "--- stdout ---\n{}--- stderr ---\n{}",
        out.stdout, out.stderr
    );
    let kept: String = normalise(&text, &[bin])
        .lines()
        .filter(|l| !l.contains(") : switchyard: "))
        .map(|l| format!("{l}\n"))
        .collect();
    (out.exit, kept)
}

#[test]
fn extra_check_fixtures_match_haproxy() {
    let dir = repo_root().join("fixtures/check-extra");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/check-extra")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".cfg"))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    let (oracle, ours) = (oracle_bin(), ours_bin());
    let mut failures = Vec::new();
    for n in &names {
        let a = run(&oracle, &dir, n);
        let b = run(&ours, &dir, n);
        if a != b {
            failures.push(format!(
                "== {n}: oracle exit {} / ours exit {}\n-- oracle --\n{}-- ours --\n{}",
                a.0, b.0, a.1, b.1
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
