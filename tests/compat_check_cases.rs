//! Differential test of `-c` on the 90 reference check cases
//! (`../shared/reference/haproxy-2.6/transcripts/check-cases/`).
//!
//! Owns: running every case through the oracle (real HAProxy 2.6.12) and
//! through ours exactly like that folder's `run.sh` does (`#@ args:` /
//! `#@ env:` headers, `env -i` + `PATH`, cwd = the case folder), comparing
//! exit status, first-alert `file:line` and the full normalised output, and
//! writing `compat-tests/check-cases-report.md`.
//! Fails when an exit status or a first-alert location differs for a case not
//! listed in `compat-tests/check-cases-known-diffs.txt`.
//!
//! Must not touch: `src/` or the read-only case folder (`-c` only reads).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{AlertLoc, RunOutput};

const CASES_REL: &str = "reference/haproxy-2.6/transcripts/check-cases";
const KNOWN_DIFFS: &str = "compat-tests/check-cases-known-diffs.txt";
const REPORT: &str = "compat-tests/check-cases-report.md";
const TIMEOUT: Duration = Duration::from_secs(20);

/// One case: `NN-name.cfg` plus its header lines.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    /// haproxy arguments (whitespace-split like the shell does in `run.sh`).
    args: Vec<String>,
    /// `env(1)` arguments from `#@ env:`.
    envs: Vec<String>,
}

/// Value of the first `#@ <key>:` header (same as `sed -n 's/^#@ key: *//p' | head -1`).
fn header(text: &str, key: &str) -> Option<String> {
    let prefix = format!("#@ {key}:");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(|v| v.trim_start_matches(' ').to_string())
}

fn parse_case(name: &str, text: &str) -> Case {
    let split = |s: Option<String>| -> Vec<String> {
        s.map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let mut args = split(header(text, "args"));
    if args.is_empty() {
        args = vec!["-c".into(), "-f".into(), format!("{name}.cfg")];
    }
    Case {
        name: name.to_string(),
        args,
        envs: split(header(text, "env")),
    }
}

fn list_cases(dir: &Path) -> Vec<Case> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => panic!("cannot list check cases in {}: {e}", dir.display()),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            let b = n.as_bytes();
            n.ends_with(".cfg")
                && b.len() > 3
                && b[0].is_ascii_digit()
                && b[1].is_ascii_digit()
                && b[2] == b'-'
        })
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            let base = n.trim_end_matches(".cfg");
            let bytes = std::fs::read(dir.join(n)).unwrap_or_default();
            parse_case(base, &String::from_utf8_lossy(&bytes))
        })
        .collect()
}

/// `compat-tests/check-cases-known-diffs.txt`: `case-name  reason...` per line,
/// `#` comments and blank lines ignored. A reason is mandatory.
fn parse_known_diffs(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = match line.split_once(char::is_whitespace) {
            Some((n, r)) if !r.trim().is_empty() => (n, r.trim()),
            _ => return Err(format!("line {}: `{line}` has no reason", i + 1)),
        };
        out.insert(
            name.trim_end_matches(".cfg").to_string(),
            reason.to_string(),
        );
    }
    Ok(out)
}

/// Run one case like `run.sh`: `env -i <envs> PATH=$PATH <exe> <args>` in the case folder.
fn run_case(dir: &Path, case: &Case, exe: &Path) -> RunOutput {
    let mut cmd = Command::new("env");
    cmd.arg("-i")
        .args(&case.envs)
        .arg(format!(
            "PATH={}",
            std::env::var("PATH").unwrap_or_default()
        ))
        .arg(exe)
        .args(&case.args)
        .current_dir(dir);
    match common::run_with_timeout(cmd, TIMEOUT) {
        Ok(o) => o,
        Err(e) => panic!("cannot run {} for case {}: {e}", exe.display(), case.name),
    }
}

/// The recorded transcript `NN-name.out`: (exit, stdout, stderr).
fn parse_transcript(text: &str) -> Option<(i32, String, String)> {
    let mut lines = text.split_inclusive('\n');
    let exit = lines.next()?.trim().strip_prefix("exit=")?.parse().ok()?;
    let rest: String = lines.skip(1).collect();
    let rest = rest.strip_prefix("--- stdout ---\n")?;
    let (out, err) = rest.split_once("--- stderr ---\n")?;
    Some((exit, out.to_string(), err.to_string()))
}

/// First line where `a` and `b` differ (a missing line shows as `(end)`).
fn first_diff(stream: &'static str, a: &str, b: &str) -> Option<(&'static str, String, String)> {
    let (mut la, mut lb) = (a.lines(), b.lines());
    loop {
        match (la.next(), lb.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => {
                let show = |l: Option<&str>| l.map_or("(end)".to_string(), str::to_string);
                return Some((stream, show(x), show(y)));
            }
        }
    }
}

/// Drop the `Running on: <uname>` banner line (kernel-dependent).
fn without_uname(s: &str) -> String {
    s.split_inclusive('\n')
        .filter(|l| !l.starts_with("Running on: "))
        .collect()
}

struct Row {
    name: String,
    oracle_exit: i32,
    ours_exit: i32,
    oracle_loc: AlertLoc,
    ours_loc: AlertLoc,
    alert_match: bool,
    text_match: bool,
    /// First differing line of the normalised output: (stream, oracle, ours).
    first_diff: Option<(&'static str, String, String)>,
    oracle_matches_transcript: bool,
    known: Option<String>,
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "**no**" }
}

fn render_report(rows: &[Row], oracle: &Path, ours: &Path, secs: f64) -> String {
    let n = rows.len();
    let exit_ok = rows.iter().filter(|r| r.oracle_exit == r.ours_exit).count();
    let alert_ok = rows.iter().filter(|r| r.alert_match).count();
    let text_ok = rows.iter().filter(|r| r.text_match).count();
    let transcript_ok = rows.iter().filter(|r| r.oracle_matches_transcript).count();
    let mut s = String::new();
    let _ = writeln!(s, "# `-c` check cases: oracle vs ours\n");
    let _ = writeln!(
        s,
        "Generated by `tests/compat_check_cases.rs` (see `compat-tests/README.md`).\n"
    );
    let _ = writeln!(
        s,
        "* oracle: `{}` ({})",
        oracle.display(),
        common::version_line(oracle)
    );
    let _ = writeln!(
        s,
        "* ours: `{}` ({})",
        ours.display(),
        common::version_line(ours)
    );
    let _ = writeln!(s, "* cases: {n}, wall time {secs:.1} s\n");
    let _ = writeln!(s, "| measure | agree | of | % |\n|---|---:|---:|---:|");
    for (label, k) in [
        ("exit status (required)", exit_ok),
        ("first-alert file:line (required)", alert_ok),
        ("full normalised stdout+stderr (reported only)", text_ok),
        ("oracle = recorded transcript (sanity)", transcript_ok),
    ] {
        let _ = writeln!(s, "| {label} | {k} | {n} | {:.1} |", common::pct(k, n));
    }
    let _ = writeln!(
        s,
        "\nFull-text mismatches: **{}**. Known diffs: {}.\n",
        n - text_ok,
        rows.iter().filter(|r| r.known.is_some()).count()
    );
    let _ = writeln!(
        s,
        "| case | oracle exit | ours exit | first-alert match | full-text match | oracle first alert at | ours first alert at | note |"
    );
    let _ = writeln!(s, "|---|---:|---:|---|---|---|---|---|");
    for r in rows {
        let mut note = String::new();
        if let Some(reason) = &r.known {
            let required_ok = r.oracle_exit == r.ours_exit && r.alert_match;
            note = if required_ok {
                format!("known diff (now agrees, entry can go): {reason}")
            } else {
                format!("known diff: {reason}")
            };
        }
        if !r.oracle_matches_transcript {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str("oracle differs from recorded transcript");
        }
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.oracle_exit,
            r.ours_exit,
            yes(r.alert_match),
            yes(r.text_match),
            common::md_cell(&r.oracle_loc.to_string(), 80),
            common::md_cell(&r.ours_loc.to_string(), 80),
            note.replace('|', "\\|")
        );
    }
    let diffs: Vec<&Row> = rows.iter().filter(|r| r.first_diff.is_some()).collect();
    if !diffs.is_empty() {
        let _ = writeln!(
            s,
            "\n## Full-text differences (first differing line, normalised)\n"
        );
        let _ = writeln!(s, "| case | stream | oracle | ours |\n|---|---|---|---|");
        for r in diffs {
            if let Some((stream, o, u)) = &r.first_diff {
                let _ = writeln!(
                    s,
                    "| `{}` | {stream} | {} | {} |",
                    r.name,
                    common::md_cell(o, 200),
                    common::md_cell(u, 200)
                );
            }
        }
    }
    s
}

#[test]
fn check_cases_match_haproxy() {
    let oracle = common::oracle_bin();
    let ours = common::ours_bin();
    let dir = common::shared_dir().join(CASES_REL);
    let cases = list_cases(&dir);
    assert!(
        !cases.is_empty(),
        "no NN-name.cfg check cases found in {}",
        dir.display()
    );
    let known_text = std::fs::read_to_string(common::repo_root().join(KNOWN_DIFFS))
        .unwrap_or_else(|e| panic!("cannot read {KNOWN_DIFFS}: {e}"));
    let known = parse_known_diffs(&known_text).unwrap_or_else(|e| panic!("{KNOWN_DIFFS}: {e}"));
    let exes = [oracle.as_path(), ours.as_path()];

    let start = Instant::now();
    let mut rows = Vec::new();
    for case in &cases {
        let o = run_case(&dir, case, &oracle);
        let u = run_case(&dir, case, &ours);
        let (o_out, o_err) = (
            common::normalise(&o.stdout, &exes),
            common::normalise(&o.stderr, &exes),
        );
        let (u_out, u_err) = (
            common::normalise(&u.stdout, &exes),
            common::normalise(&u.stderr, &exes),
        );
        let oracle_loc = common::first_alert_location(&o_err);
        let ours_loc = common::first_alert_location(&u_err);
        let transcript = std::fs::read_to_string(dir.join(format!("{}.out", case.name)))
            .ok()
            .and_then(|t| parse_transcript(&t));
        // The transcript was recorded on another kernel: `-vv`/usage banners
        // carry `Running on: <uname>`, so that line is ignored here.
        let oracle_matches_transcript = transcript.is_some_and(|(e, out, err)| {
            e == o.exit
                && without_uname(&common::normalise(&out, &exes)) == without_uname(&o_out)
                && common::normalise(&err, &exes) == o_err
        });
        rows.push(Row {
            name: case.name.clone(),
            oracle_exit: o.exit,
            ours_exit: u.exit,
            alert_match: oracle_loc == ours_loc,
            oracle_loc,
            ours_loc,
            text_match: o_out == u_out && o_err == u_err,
            first_diff: first_diff("stdout", &o_out, &u_out)
                .or_else(|| first_diff("stderr", &o_err, &u_err)),
            oracle_matches_transcript,
            known: known.get(&case.name).cloned(),
        });
    }
    let secs = start.elapsed().as_secs_f64();
    let report = render_report(&rows, &oracle, &ours, secs);
    let path = common::write_report(REPORT, &report);

    let unknown: Vec<&String> = known
        .keys()
        .filter(|k| !rows.iter().any(|r| &r.name == *k))
        .collect();
    assert!(
        unknown.is_empty(),
        "{KNOWN_DIFFS} names cases that do not exist: {unknown:?}"
    );
    let failures: Vec<String> = rows
        .iter()
        .filter(|r| r.known.is_none() && !(r.oracle_exit == r.ours_exit && r.alert_match))
        .map(|r| {
            format!(
                "{}: exit oracle={} ours={}; first alert oracle={} ours={}",
                r.name, r.oracle_exit, r.ours_exit, r.oracle_loc, r.ours_loc
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} check cases differ from haproxy in exit status or first-alert location \
         (see {}):\n{}",
        failures.len(),
        rows.len(),
        path.display(),
        failures.join("\n")
    );
}

#[test]
fn headers_are_read_like_run_sh() {
    let c = parse_case(
        "54-multiple-files",
        "# x\n#@ args: -c -f 54-multiple-files.cfg  -f 54-multiple-files.part2.inc\n#@ args: -q\n",
    );
    assert_eq!(
        c.args,
        [
            "-c",
            "-f",
            "54-multiple-files.cfg",
            "-f",
            "54-multiple-files.part2.inc"
        ]
    );
    assert!(c.envs.is_empty());
    let d = parse_case("40-env-var-unset", "#@ env: -u UNSET_PORT\nglobal\n");
    assert_eq!(d.args, ["-c", "-f", "40-env-var-unset.cfg"]);
    assert_eq!(d.envs, ["-u", "UNSET_PORT"]);
    // A header must start the line, like sed's `^#@ args:`.
    let e = parse_case("01-x", "  #@ args: -q\n");
    assert_eq!(e.args, ["-c", "-f", "01-x.cfg"]);
}

#[test]
fn known_diffs_need_a_reason() {
    let ok = parse_known_diffs("# comment\n\n05-unknown-keyword-global  message text differs\n");
    assert_eq!(
        ok.ok()
            .and_then(|m| m.get("05-unknown-keyword-global").cloned()),
        Some("message text differs".to_string())
    );
    assert!(parse_known_diffs("05-unknown-keyword-global\n").is_err());
}

#[test]
fn transcript_and_alert_helpers_on_real_output() {
    // Taken verbatim from the recorded 05-unknown-keyword-global.out.
    let out = "exit=1\ncmd: haproxy -c -f 05-unknown-keyword-global.cfg\n--- stdout ---\n--- stderr ---\n\
[NOTICE]   (PID) : haproxy version is 2.6.12-1+deb12u4\n\
[NOTICE]   (PID) : path to executable is <haproxy-executable>\n\
[ALERT]    (PID) : config : parsing [05-unknown-keyword-global.cfg:3] : unknown keyword 'frobnicate' in 'global' section\n";
    let (exit, stdout, stderr) = parse_transcript(out).unwrap_or_default();
    assert_eq!(exit, 1);
    assert_eq!(stdout, "");
    assert_eq!(
        common::first_alert_location(&stderr),
        AlertLoc::At("05-unknown-keyword-global.cfg:3".into())
    );
    let raw = "[NOTICE]   (4242) : haproxy version is 9.9-x\n\
[NOTICE]   (4242) : path to executable is /opt/bin/sy\n\
[ALERT]    (4242) : config : Proxy 'fe': unable to find required default_backend: 'nosuch'.\n";
    let n = common::normalise(raw, &[Path::new("/opt/bin/sy")]);
    assert_eq!(
        n,
        "[NOTICE]   (PID) : haproxy version is <VERSION>\n\
[NOTICE]   (PID) : path to executable is <haproxy-executable>\n\
[ALERT]    (PID) : config : Proxy 'fe': unable to find required default_backend: 'nosuch'.\n"
    );
    assert_eq!(common::first_alert_location(&n), AlertLoc::Unlocated);
    assert_eq!(
        common::first_alert(&n).as_deref(),
        Some("config : Proxy 'fe': unable to find required default_backend: 'nosuch'.")
    );
    assert_eq!(common::first_alert_location("ok\n"), AlertLoc::NoAlert);
}

#[test]
fn timeout_kills_the_whole_process_group() {
    // A background grandchild keeps the pipes open: it must die with the group.
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("sleep 30 & echo started; sleep 30");
    let t = Instant::now();
    let out = common::run_with_timeout(cmd, Duration::from_millis(300));
    let out = out.unwrap_or_else(|e| panic!("cannot run sh: {e}"));
    assert!(out.timed_out);
    assert_eq!(out.exit, common::TIMEOUT_EXIT);
    assert_eq!(out.stdout, "started\n");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );

    let mut ok = Command::new("sh");
    ok.arg("-c").arg("echo out; echo err >&2; exit 3");
    let r = common::run_with_timeout(ok, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((r.exit, r.timed_out), (3, false));
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("out\n", "err\n"));
}
