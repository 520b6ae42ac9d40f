//! Differential test of `-c` on the 240 real-world configs of
//! `../shared/corpus/configs/`.
//!
//! Owns: running every config through the oracle (real HAProxy 2.6.12) and
//! through ours, twice each:
//! * **stub**: `python3 ../shared/corpus/tools/stubenv.py --haproxy BIN CONFIG`
//!   (root only: private mount namespace + overlay root with stub certs, files,
//!   hosts, users, env vars; it prints haproxy's stdout then stderr on its own
//!   stdout and exits with haproxy's status);
//! * **bare**: `BIN -c -f /abs/CONFIG` from an empty scratch directory with only
//!   `PATH=/usr/sbin:/usr/bin:/bin` in the environment (as `verdicts.py`).
//!
//! Two worker threads, 20 s timeout per run. Writes
//! `compat-tests/corpus-report.md` and fails when the stub exit-status
//! agreement is below 95 % (the bare agreement is reported only).
//!
//! Must not touch: `src/`, the read-only corpus (stubenv.py copies the config
//! into its throw-away overlay).

mod common;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{AlertLoc, RunOutput};

const REPORT: &str = "compat-tests/corpus-report.md";
const TIMEOUT: Duration = Duration::from_secs(20);
const WORKERS: usize = 2;
/// Minimum stub-run exit-status agreement (percent) for the test to pass.
const EXIT_AGREEMENT_MIN: f64 = 95.0;
const BARE_PATH: &str = "/usr/sbin:/usr/bin:/bin";

/// Verdict of one binary on one config in one environment.
#[derive(Debug, Clone)]
struct Verdict {
    exit: i32,
    first_alert: Option<String>,
    loc: AlertLoc,
    /// stubenv.py itself failed (Python traceback) or the run timed out.
    harness_error: Option<String>,
}

impl Verdict {
    fn from_output(out: &RunOutput, combined: &str, config: &Path) -> Verdict {
        let cfg = config.to_string_lossy();
        let first_alert = common::first_alert(combined).map(|a| {
            a.replace(cfg.as_ref(), "FILE")
                .replace("config.cfg", "FILE")
        });
        let harness_error = if out.timed_out {
            Some(format!("timed out after {} s", TIMEOUT.as_secs()))
        } else if out.stderr.contains("Traceback") {
            Some(out.stderr.lines().last().unwrap_or("").to_string())
        } else {
            None
        };
        Verdict {
            exit: out.exit,
            loc: common::first_alert_location(combined),
            first_alert,
            harness_error,
        }
    }
}

/// Both binaries on one config.
#[derive(Debug, Clone)]
struct Row {
    file: String,
    stub: (Verdict, Verdict),
    bare: (Verdict, Verdict),
}

struct Ctx {
    stubenv: PathBuf,
    oracle: PathBuf,
    ours: PathBuf,
    scratch: PathBuf,
    seq: AtomicUsize,
}

fn run_stub(ctx: &Ctx, bin: &Path, config: &Path) -> Verdict {
    let mut cmd = Command::new("python3");
    cmd.arg(&ctx.stubenv).arg("--haproxy").arg(bin).arg(config);
    let out = common::run_with_timeout(cmd, TIMEOUT)
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", ctx.stubenv.display()));
    // stubenv.py writes haproxy's stdout and stderr to its own stdout.
    Verdict::from_output(&out, &out.stdout, config)
}

fn run_bare(ctx: &Ctx, bin: &Path, config: &Path) -> Verdict {
    let n = ctx.seq.fetch_add(1, Ordering::SeqCst);
    let cwd = ctx.scratch.join(format!("bare-{n}"));
    if let Err(e) = std::fs::create_dir_all(&cwd) {
        panic!("cannot create scratch dir {}: {e}", cwd.display());
    }
    let mut cmd = Command::new(bin);
    cmd.arg("-c")
        .arg("-f")
        .arg(config)
        .current_dir(&cwd)
        .env_clear()
        .env("PATH", BARE_PATH);
    let out = common::run_with_timeout(cmd, TIMEOUT)
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let _ = std::fs::remove_dir_all(&cwd);
    let combined = format!("{}{}", out.stdout, out.stderr);
    Verdict::from_output(&out, &combined, config)
}

fn list_configs(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list corpus configs in {}: {e}", dir.display()));
    let mut v: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    v.sort();
    v
}

/// stubenv.py runs `sh -c 'cd ... && exec BIN -c -f config.cfg'` inside a
/// chroot of an overlay of `/`: the path must be shell-safe. Copy the binary
/// to a safe path when it is not.
fn shell_safe_bin(bin: &Path, scratch: &Path) -> PathBuf {
    let s = bin.to_string_lossy();
    let safe = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c));
    if safe {
        return bin.to_path_buf();
    }
    let dst = scratch.join("switchyard-under-test");
    if let Err(e) = std::fs::copy(bin, &dst) {
        panic!("cannot copy {} to {}: {e}", bin.display(), dst.display());
    }
    dst
}

/// One line of verdicts.tsv (the oracle's recorded verdicts).
struct Recorded {
    bare_exit: i32,
    bare_alert: String,
    stub_exit: i32,
    stub_alert: String,
}

/// verdicts.tsv by file name, to spot a drifting oracle or environment.
fn recorded_verdicts(corpus: &Path) -> HashMap<String, Recorded> {
    let text = std::fs::read_to_string(corpus.join("verdicts.tsv")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let rec = Recorded {
                bare_exit: f.get(1)?.parse().ok()?,
                bare_alert: f.get(2)?.to_string(),
                stub_exit: f.get(4)?.parse().ok()?,
                stub_alert: f.get(5)?.to_string(),
            };
            Some((f.first()?.to_string(), rec))
        })
        .collect()
}

/// Does the oracle's verdict differ from the recorded one (exit or first alert)?
fn drifted(v: &Verdict, exit: i32, alert: &str) -> bool {
    let got = v.first_alert.as_deref().unwrap_or("").replace('\t', " ");
    v.exit != exit || got != alert
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

struct Agreement {
    exit: usize,
    loc: usize,
    both: usize,
    total: usize,
}

fn agreement(rows: &[Row], pick: fn(&Row) -> &(Verdict, Verdict)) -> Agreement {
    let mut a = Agreement {
        exit: 0,
        loc: 0,
        both: 0,
        total: rows.len(),
    };
    for r in rows {
        let (o, u) = pick(r);
        let e = o.exit == u.exit;
        let l = o.loc == u.loc;
        a.exit += usize::from(e);
        a.loc += usize::from(l);
        a.both += usize::from(e && l);
    }
    a
}

fn alert_cell(v: &Verdict) -> String {
    match (&v.harness_error, &v.first_alert) {
        (Some(h), _) => common::md_cell(&format!("HARNESS: {h}"), 160),
        (None, Some(a)) => common::md_cell(a, 160),
        (None, None) => String::new(),
    }
}

fn disagreement_table(s: &mut String, rows: &[Row], pick: fn(&Row) -> &(Verdict, Verdict)) {
    let bad: Vec<&Row> = rows
        .iter()
        .filter(|r| {
            let (o, u) = pick(r);
            o.exit != u.exit || o.loc != u.loc
        })
        .collect();
    if bad.is_empty() {
        let _ = writeln!(s, "None.\n");
        return;
    }
    let _ = writeln!(
        s,
        "| config | oracle exit | ours exit | oracle first alert | ours first alert |"
    );
    let _ = writeln!(s, "|---|---:|---:|---|---|");
    for r in bad {
        let (o, u) = pick(r);
        let mark = |same: bool, x: i32| {
            if same {
                x.to_string()
            } else {
                format!("**{x}**")
            }
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} |",
            r.file,
            o.exit,
            mark(o.exit == u.exit, u.exit),
            alert_cell(o),
            alert_cell(u)
        );
    }
    let _ = writeln!(s);
}

fn render(rows: &[Row], ctx: &Ctx, secs: f64, recorded: &HashMap<String, Recorded>) -> String {
    let stub = agreement(rows, |r| &r.stub);
    let bare = agreement(rows, |r| &r.bare);
    let drift_stub: Vec<&str> = rows
        .iter()
        .filter(|r| {
            recorded
                .get(&r.file)
                .is_none_or(|v| drifted(&r.stub.0, v.stub_exit, &v.stub_alert))
        })
        .map(|r| r.file.as_str())
        .collect();
    let drift_bare: Vec<&str> = rows
        .iter()
        .filter(|r| {
            recorded
                .get(&r.file)
                .is_none_or(|v| drifted(&r.bare.0, v.bare_exit, &v.bare_alert))
        })
        .map(|r| r.file.as_str())
        .collect();
    let mut s = String::new();
    let _ = writeln!(s, "# Corpus `-c` agreement: oracle vs ours\n");
    let _ = writeln!(
        s,
        "Generated by `tests/compat_corpus.rs` (see `compat-tests/README.md`).\n"
    );
    let _ = writeln!(
        s,
        "* oracle: `{}` ({})",
        ctx.oracle.display(),
        common::version_line(&ctx.oracle)
    );
    let _ = writeln!(
        s,
        "* ours: `{}` ({})",
        ctx.ours.display(),
        common::version_line(&ctx.ours)
    );
    let _ = writeln!(
        s,
        "* configs: {}, {WORKERS} workers, {} s timeout per run, wall time {secs:.1} s",
        rows.len(),
        TIMEOUT.as_secs()
    );
    let _ = writeln!(
        s,
        "* oracle vs recorded `verdicts.tsv` (exit status and first alert): {} stub / {} bare \
         differences (should be 0: otherwise the machine differs from the one that recorded it){}\n",
        drift_stub.len(),
        drift_bare.len(),
        if drift_stub.is_empty() && drift_bare.is_empty() {
            String::new()
        } else {
            format!(
                "; stub: {}; bare: {}",
                drift_stub.join(", "),
                drift_bare.join(", ")
            )
        }
    );
    let _ = writeln!(
        s,
        "| run | exit status | first-alert file:line | both | threshold |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---|");
    for (name, a, thr) in [
        (
            "stub (stubenv.py)",
            &stub,
            format!("exit ≥ {EXIT_AGREEMENT_MIN} % (enforced)"),
        ),
        ("bare", &bare, "none (reported only)".to_string()),
    ] {
        let _ = writeln!(
            s,
            "| {name} | {:.1} % ({}/{}) | {:.1} % ({}/{}) | {:.1} % ({}/{}) | {thr} |",
            common::pct(a.exit, a.total),
            a.exit,
            a.total,
            common::pct(a.loc, a.total),
            a.loc,
            a.total,
            common::pct(a.both, a.total),
            a.both,
            a.total
        );
    }
    let _ = writeln!(
        s,
        "\nFirst alerts below have the `[ALERT] (pid) :` prefix removed and the config path replaced by `FILE`.\n"
    );
    let _ = writeln!(s, "## Disagreements, stub run\n");
    disagreement_table(&mut s, rows, |r| &r.stub);
    let _ = writeln!(s, "## Disagreements, bare run\n");
    disagreement_table(&mut s, rows, |r| &r.bare);
    s
}

#[test]
fn corpus_exit_codes_agree_with_haproxy() {
    let oracle = common::oracle_bin();
    let ours = common::ours_bin();
    let shared = common::shared_dir();
    let corpus = shared.join("corpus");
    let stubenv = corpus.join("tools").join("stubenv.py");
    assert!(
        stubenv.is_file(),
        "missing {} (the corpus stub environment)",
        stubenv.display()
    );
    assert!(
        is_root(),
        "the corpus test needs root: stubenv.py uses `unshare -m`, mounts an overlay and chroots \
         (run `cargo test` as root, as CI does)"
    );
    let configs = list_configs(&corpus.join("configs"));
    assert!(
        !configs.is_empty(),
        "no configs in {}",
        corpus.join("configs").display()
    );

    let scratch =
        std::env::temp_dir().join(format!("switchyard-compat-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", scratch.display()));
    let ctx = Ctx {
        stubenv,
        oracle: shell_safe_bin(&oracle, &scratch),
        ours: shell_safe_bin(&ours, &scratch),
        scratch: scratch.clone(),
        seq: AtomicUsize::new(0),
    };

    // Preflight: the stub environment must work for the oracle at all.
    let probe = run_stub(&ctx, &ctx.oracle, &configs[0]);
    assert!(
        probe.harness_error.is_none() && probe.exit != 127,
        "stubenv.py does not work here ({:?}, exit {}): it needs root, util-linux `unshare`, \
         overlayfs, `chroot` and `openssl`",
        probe.harness_error,
        probe.exit
    );

    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Row>> = Mutex::new(Vec::with_capacity(configs.len()));
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(cfg) = configs.get(i) else { break };
                    let row = Row {
                        file: cfg
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        stub: (
                            run_stub(&ctx, &ctx.oracle, cfg),
                            run_stub(&ctx, &ctx.ours, cfg),
                        ),
                        bare: (
                            run_bare(&ctx, &ctx.oracle, cfg),
                            run_bare(&ctx, &ctx.ours, cfg),
                        ),
                    };
                    if let Ok(mut v) = results.lock() {
                        v.push(row);
                    }
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&scratch);
    let mut rows = results.into_inner().unwrap_or_default();
    rows.sort_by(|a, b| a.file.cmp(&b.file));
    assert_eq!(rows.len(), configs.len(), "a worker thread died");

    let recorded = recorded_verdicts(&corpus);
    let report = render(&rows, &ctx, secs, &recorded);
    let path = common::write_report(REPORT, &report);

    let oracle_broken: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.stub
                .0
                .harness_error
                .as_ref()
                .map(|e| format!("{}: {e}", r.file))
        })
        .collect();
    assert!(
        oracle_broken.is_empty(),
        "the oracle's stub run failed on {} configs (harness problem, see {}):\n{}",
        oracle_broken.len(),
        path.display(),
        oracle_broken.join("\n")
    );
    let not_found = rows.iter().filter(|r| r.stub.1.exit == 127).count();
    assert!(
        not_found < rows.len(),
        "every stub run of {} exited 127: the binary is not visible inside stubenv's chroot \
         (an overlay of `/` only: keep the binary on the root filesystem)",
        ctx.ours.display()
    );
    let stub = agreement(&rows, |r| &r.stub);
    let got = common::pct(stub.exit, stub.total);
    assert!(
        got >= EXIT_AGREEMENT_MIN,
        "corpus stub-run exit-status agreement {got:.1} % ({}/{}) is below {EXIT_AGREEMENT_MIN} % \
         (see {})",
        stub.exit,
        stub.total,
        path.display()
    );
}
