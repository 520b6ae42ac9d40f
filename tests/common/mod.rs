//! Shared helpers for the differential compatibility tests
//! (`tests/compat_check_cases.rs`, `tests/compat_corpus.rs`).
//!
//! Owns: locating the repository, `../shared`, the oracle binary (the real
//! HAProxy 2.6.12) and our binary; running a command with a hard timeout;
//! normalising HAProxy output (pid, executable path, version notice) and
//! extracting the first `[ALERT]` and its `file:line`; small Markdown helpers
//! for the reports.
//!
//! Must not touch: anything under `src/` (it only runs the built binary) and
//! the read-only `../shared` folder (it only reads it).
//!
//! Environment overrides:
//! * `SWITCHYARD_BIN`: binary under test ("ours"), default the crate's own
//!   `switchyard` binary. Point it at `/usr/sbin/haproxy` to validate the
//!   harness itself: every comparison must then agree 100%.
//! * `HAPROXY_ORACLE`: reference binary, default `/usr/sbin/haproxy`.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use regex::Regex;

/// Default location of the reference HAProxy binary (Debian package `haproxy`).
pub const DEFAULT_ORACLE: &str = "/usr/sbin/haproxy";

/// Exit code recorded for a run killed by our timeout (same as `timeout(1)`).
pub const TIMEOUT_EXIT: i32 = 124;

/// Root of this repository (the crate's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The read-only `shared/` folder, always `../shared` relative to the repo root.
/// Panics with an explanation when it is missing.
pub fn shared_dir() -> PathBuf {
    let dir = repo_root().join("..").join("shared");
    match dir.canonicalize() {
        Ok(d) if d.is_dir() => d,
        _ => panic!(
            "compat tests need the reference folder `shared/` beside the repository \
             (looked for {}); CI lays a copy there",
            dir.display()
        ),
    }
}

/// The oracle (real HAProxy 2.6.12). Panics (test failure, never a skip) when absent.
pub fn oracle_bin() -> PathBuf {
    let p = std::env::var_os("HAPROXY_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_ORACLE));
    match p.canonicalize() {
        Ok(c) if c.is_file() => c,
        _ => panic!(
            "oracle binary {} not found: the compat tests compare against the real HAProxy 2.6.12 \
             (`apt-get install haproxy`, as .ci/run does); set HAPROXY_ORACLE to use another path",
            p.display()
        ),
    }
}

/// The binary under test: `$SWITCHYARD_BIN` or this crate's `switchyard`.
pub fn ours_bin() -> PathBuf {
    let p = std::env::var_os("SWITCHYARD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_switchyard")));
    match p.canonicalize() {
        Ok(c) if c.is_file() => c,
        _ => panic!(
            "binary under test {} not found (SWITCHYARD_BIN overrides it)",
            p.display()
        ),
    }
}

/// First line of `<bin> -v`, for the report headers.
pub fn version_line(bin: &Path) -> String {
    let mut cmd = Command::new(bin);
    cmd.arg("-v");
    match run_with_timeout(cmd, Duration::from_secs(10)) {
        Ok(out) => out.stdout.lines().next().unwrap_or("").trim().to_string(),
        Err(e) => format!("(could not run: {e})"),
    }
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Exit status; `128 + signal` when killed by a signal, [`TIMEOUT_EXIT`] on timeout.
    pub exit: i32,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

fn reader<R: Read + Send + 'static>(src: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut s) = src {
            // A read error just truncates the capture; the exit status still counts.
            let _ = s.read_to_end(&mut buf);
        }
        buf
    })
}

fn kill_group(pgid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        // SAFETY: plain syscall; the group is the one we created for this child
        // (it still has members, so its id cannot have been reused).
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Run `cmd` (stdin = /dev/null, stdout/stderr captured) in its own process
/// group; after `timeout` the whole group is killed and the run is reported
/// with exit [`TIMEOUT_EXIT`].
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> std::io::Result<RunOutput> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let pgid = child.id();
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let mut status = None;
    let mut timed_out = false;
    loop {
        if status.is_none() {
            status = child.try_wait()?;
        }
        if status.is_some() && out.is_finished() && err.is_finished() {
            break;
        }
        if start.elapsed() >= timeout {
            // Either the child is not reaped yet or some group member still
            // holds our pipes: the group exists, kill all of it.
            kill_group(pgid);
            timed_out = true;
            if status.is_none() {
                status = Some(child.wait()?);
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let exit = match (timed_out, status) {
        (true, _) => TIMEOUT_EXIT,
        (false, Some(st)) => st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)),
        (false, None) => -1,
    };
    Ok(RunOutput {
        exit,
        timed_out,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: start.elapsed(),
    })
}

fn re_pid() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?m)^(\[(?:NOTICE|WARNING|ALERT)\] +)\([0-9]+\)").expect("valid regex")
    })
}

fn re_version() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?m)^(\[NOTICE\] +\(PID\) : haproxy version is ).*$").expect("valid regex")
    })
}

fn re_alert_prefix() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^\[ALERT\]\s*\((?:[0-9]+|PID)\)\s*:\s*").expect("valid regex"))
}

fn re_location() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"\[([^\[\]\s]+):([0-9]+)\]").expect("valid regex"))
}

/// Normalise HAProxy output like the transcripts' `run.sh` does, plus the
/// version notice: `(12345)` after a level tag -> `(PID)`; every path in
/// `exes` -> `<haproxy-executable>`; `haproxy version is X` -> `... <VERSION>`.
pub fn normalise(text: &str, exes: &[&Path]) -> String {
    let mut s = re_pid().replace_all(text, "${1}(PID)").into_owned();
    let mut paths: Vec<String> = exes
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| !p.is_empty())
        .collect();
    paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in paths {
        s = s.replace(&p, "<haproxy-executable>");
    }
    re_version().replace_all(&s, "${1}<VERSION>").into_owned()
}

/// The first `[ALERT]` line, with its `[ALERT]    (pid) : ` prefix removed.
pub fn first_alert(text: &str) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with("[ALERT]"))
        .map(|l| re_alert_prefix().replace(l, "").trim_end().to_string())
}

/// Where the first alert points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertLoc {
    /// No `[ALERT]` line at all.
    NoAlert,
    /// An alert without a `[file:line]` (post-parse checks, missing file...).
    Unlocated,
    /// `file:line` of the first `[file:line]` in the first alert.
    At(String),
}

impl std::fmt::Display for AlertLoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlertLoc::NoAlert => f.write_str("(no alert)"),
            AlertLoc::Unlocated => f.write_str("(no location)"),
            AlertLoc::At(s) => f.write_str(s),
        }
    }
}

/// `file:line` of the first alert in `text` (see [`AlertLoc`]).
pub fn first_alert_location(text: &str) -> AlertLoc {
    match first_alert(text) {
        None => AlertLoc::NoAlert,
        Some(a) => match re_location().captures(&a) {
            Some(c) => AlertLoc::At(format!("{}:{}", &c[1], &c[2])),
            None => AlertLoc::Unlocated,
        },
    }
}

/// Make `s` safe inside a Markdown table cell (one line, no pipes), cut to `max` chars.
pub fn md_cell(s: &str, max: usize) -> String {
    let one_line = s.replace('\r', "").replace('\n', " ⏎ ");
    let mut cut: String = one_line.chars().take(max).collect();
    if one_line.chars().count() > max {
        cut.push('…');
    }
    let escaped = cut.replace('|', "\\|").replace('`', "'");
    if escaped.is_empty() {
        String::new()
    } else {
        format!("`{escaped}`")
    }
}

/// Percentage with one decimal, `n/d` guarded against `d == 0`.
pub fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        (n as f64) * 100.0 / (d as f64)
    }
}

/// Write a report file under the repo, panicking with the path on failure.
pub fn write_report(rel: &str, content: &str) -> PathBuf {
    let path = repo_root().join(rel);
    if let Err(e) = std::fs::write(&path, content) {
        panic!("cannot write report {}: {e}", path.display());
    }
    path
}
