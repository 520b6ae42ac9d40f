//! The command line as users run it: `-c` verdicts, `--format json`,
//! `--dump-config`, `-dK`, and the refusal to start with unimplemented
//! keywords. Each test starts the real binary.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

fn cfg(text: &str) -> tempfile_path::TempCfg {
    tempfile_path::TempCfg::new(text)
}

mod tempfile_path {
    /// A config file in a unique temporary directory, removed on drop.
    pub struct TempCfg {
        pub dir: std::path::PathBuf,
        pub path: std::path::PathBuf,
    }
    impl TempCfg {
        pub fn new(text: &str) -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "switchyard-cli-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let path = dir.join("t.cfg");
            let mut f = std::fs::File::create(&path).expect("create cfg");
            f.write_all(text.as_bytes()).expect("write cfg");
            TempCfg { dir, path }
        }
    }
    impl Drop for TempCfg {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
    use std::io::Write;
}

const VALID: &str = "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend fe\n  bind 127.0.0.1:18080\n  default_backend be\nbackend be\n  server s1 127.0.0.1:18081\n";

#[test]
fn check_valid_prints_valid_and_exits_0() {
    let c = cfg(VALID);
    let out = bin()
        .arg("-c")
        .arg("-f")
        .arg(&c.path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Configuration file is valid\n"
    );
}

#[test]
fn check_quiet_silences_everything() {
    let c = cfg("frontend fe\n  frobnicate\n");
    let out = bin()
        .args(["-c", "-q", "-f"])
        .arg(&c.path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn check_json_has_location_code_and_suggestion() {
    let c = cfg("defaults\n  frontnd x\n");
    let out = bin()
        .args(["-c", "--format", "json", "-f"])
        .arg(&c.path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = &v["diagnostics"][0];
    assert_eq!(d["level"], "alert");
    assert_eq!(d["line"], 2);
    assert_eq!(d["code"], "unknown-keyword");
    assert_eq!(d["suggestion"], "frontend");
    assert_eq!(v["valid"], false);
}

#[test]
fn dump_config_shows_inherited_defaults() {
    let c = cfg(VALID);
    let out = bin()
        .args(["-c", "-q", "--dump-config", "-f"])
        .arg(&c.path)
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let fe = &v["proxies"][0];
    assert_eq!(fe["name"], "fe");
    assert_eq!(fe["mode"], "http");
    assert_eq!(fe["timeouts"]["client"], 1000);
}

#[test]
fn unsupported_keyword_is_a_notice_in_check_and_refused_at_start() {
    let c = cfg(&format!("{VALID}  compression algo gzip\n"));
    let out = bin()
        .arg("-c")
        .arg("-f")
        .arg(&c.path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "verdict must stay HAProxy's");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[NOTICE]") && err.contains("'compression'"),
        "{err}"
    );
    let out = bin()
        .arg("-db")
        .arg("-f")
        .arg(&c.path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("compression") && err.contains(":11]"), "{err}");
}

#[test]
fn dk_help_and_cfg() {
    let out = bin().arg("-dKcfg").output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("# List of registered configuration keywords:")
    );
}

#[test]
fn unknown_flag_prints_usage_and_fails() {
    let out = bin().arg("-Z").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("Usage : switchyard"));
}
