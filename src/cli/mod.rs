//! The HAProxy-compatible command line: argument parsing ([`args`]) and the
//! modes it selects (`-v`, `-dK`, `-cc`, `-c`, run).
//!
//! Owns: stdout/stderr texts and exit codes. Must not parse configuration
//! itself: it calls [`crate::config::load`].

pub mod args;

use crate::config::{self, diag::Diagnostic, diag::Level};
use std::io::Write;

/// Version string in HAProxy's format, naming what we are.
pub const VERSION_LONG: &str = "2.6.12-switchyard-0.1.0";

fn banner() -> String {
    format!(
        "HAProxy version {VERSION_LONG} 2026/11/25 - Switchyard, an HAProxy-compatible proxy\n\
         Status: Switchyard {} implements HAProxy 2.6's configuration language.\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// What `main` should do after parsing the command line.
#[allow(clippy::large_enum_variant)] // built once per process
pub enum Next {
    Exit(i32),
    /// Start the proxy with this checked configuration.
    Run(Box<config::ir::Config>, args::Args),
}

fn exe_path() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "switchyard".into())
}

/// Runs the command line; returns the exit code or the config to run.
pub fn main(argv: Vec<String>) -> Next {
    let prog = argv
        .first()
        .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
        .unwrap_or_else(|| "switchyard".into());
    let rest = argv.get(1..).unwrap_or(&[]).to_vec();
    let a = match args::parse(&rest) {
        Ok(a) => a,
        Err(_) => {
            print!("{}", banner());
            eprint!("{}", args::usage(&prog));
            return Next::Exit(1);
        }
    };
    if a.version {
        print!("{}", banner());
        if a.build_options {
            println!("Build options :\n  Rust implementation; TLS via rustls.\n");
            println!(
                "Feature list : {}",
                config::cond::FEATURES
                    .iter()
                    .map(|f| format!("+{f}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        return Next::Exit(0);
    }
    if let Some(classes) = &a.dump_keywords {
        print!("{}", crate::grammar::dump_classes(classes));
        return Next::Exit(0);
    }
    if let Some(cond) = &a.check_cond {
        let getenv = config::haproxy_env(&a.files);
        return match config::cond::eval(cond, &getenv) {
            Ok(true) => Next::Exit(0),
            Ok(false) => Next::Exit(1),
            Err(e) => {
                eprintln!(
                    "Failed to evaluate condition: {} at position {}",
                    e.msg,
                    e.pos + 1
                );
                Next::Exit(2)
            }
        };
    }
    if a.files.is_empty() {
        print!("{}", banner());
        eprint!("{}", args::usage(&prog));
        return Next::Exit(1);
    }
    if let Some(dir) = &a.chdir {
        let changed = std::env::set_current_dir(dir);
        if let Err(e) = changed {
            eprintln!(
                "[ALERT]    ({}) : Could not change to directory {dir} : {e}",
                std::process::id()
            );
            return Next::Exit(1);
        }
    }
    check_or_run(a)
}

fn check_or_run(a: args::Args) -> Next {
    let pid = std::process::id();
    let exe = exe_path();
    let getenv = config::haproxy_env(&a.files);
    let opts = config::check::Options {
        ignore_resolve_failures: a.ignore_resolve_failures,
    };
    let res = match config::load(&a.files, &getenv, opts) {
        Ok(r) => r,
        Err(e) => {
            let mut d = config::diag::Diagnostics::default();
            d.push(Diagnostic::plain(
                Level::Alert,
                "cannot-open",
                e.to_string(),
            ));
            if !a.quiet {
                emit(&a, &d, pid, &exe, None);
            }
            return Next::Exit(1);
        }
    };
    let mut diags = res.diags;
    let mut failed = res.failed;
    let zero_warning = a.zero_warning || res.config.global.zero_warning;
    if !failed && zero_warning && diags.has_warnings() {
        diags.push(Diagnostic::plain(
            Level::Alert,
            "zero-warning",
            "Some warnings were found and 'zero-warning' is set. Aborting.",
        ));
        failed = true;
    }
    // Our addition: unsupported keywords are reported as distinct notices
    // in check mode (they never change the verdict) and refused at start-up.
    let unsupported = &res.config.unsupported;
    if a.check {
        if !failed && !a.json {
            for u in unsupported {
                diags.push(
                    Diagnostic::plain(
                        Level::Notice,
                        "unsupported",
                        format!(
                            "switchyard: parsing [{}:{}] : '{}' is valid HAProxy configuration but is not implemented by Switchyard yet; the proxy will refuse to start with it.",
                            u.origin.file, u.origin.line, u.keyword
                        ),
                    )
                    .no_ctx(),
                );
            }
        }
        // Check forms the health checker would refuse at start-up: also a
        // notice, never a verdict change. (Rule forms the HTTP engine cannot
        // run are refused at start-up only: compiling every rule here would
        // make `-c` several times slower on large configurations.)
        if !failed && !a.json && unsupported.is_empty() {
            let engine = crate::health::plan(&res.config).err();
            if let Some(e) = engine {
                diags.push(
                    Diagnostic::plain(
                        Level::Notice,
                        "unsupported",
                        format!("switchyard: {}", e.trim_end_matches('.')) + ".",
                    )
                    .no_ctx(),
                );
            }
        }
        let stdout_msg = if failed {
            None
        } else if res.config.has_listener() {
            Some(if diags.has_warnings() {
                "Warnings were found.\nConfiguration file is valid\n"
            } else {
                "Configuration file is valid\n"
            })
        } else {
            Some(if diags.has_warnings() {
                "Warnings were found.\nConfiguration file has no error but will not start (no listener) => exit(2).\n"
            } else {
                "Configuration file has no error but will not start (no listener) => exit(2).\n"
            })
        };
        if a.dump_config && !failed {
            println!(
                "{}",
                serde_json::to_string_pretty(&res.config).unwrap_or_default()
            );
        }
        if a.json {
            let mut v = diags.to_json();
            v["valid"] = serde_json::Value::Bool(!failed);
            v["exit"] = serde_json::json!(exit_code(failed, &res.config));
            v["unsupported"] = serde_json::to_value(unsupported).unwrap_or_default();
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else if !a.quiet {
            emit(&a, &diags, pid, &exe, stdout_msg);
        }
        let code = exit_code(failed, &res.config);
        // The process exits right after a check: skip freeing a possibly
        // huge IR (measurable on configurations with thousands of servers).
        std::mem::forget(res.config);
        return Next::Exit(code);
    }
    if a.dump_config && !failed {
        println!(
            "{}",
            serde_json::to_string_pretty(&res.config).unwrap_or_default()
        );
        return Next::Exit(0);
    }
    if failed {
        if !a.quiet {
            emit(&a, &diags, pid, &exe, None);
        }
        return Next::Exit(1);
    }
    if !a.quiet {
        emit(&a, &diags, pid, &exe, None);
    }
    if !unsupported.is_empty() {
        for u in unsupported {
            eprintln!(
                "[ALERT]    ({pid}) : config : parsing [{}:{}] : '{}' is not implemented by Switchyard yet; refusing to start rather than silently ignoring it.",
                u.origin.file, u.origin.line, u.keyword
            );
        }
        return Next::Exit(1);
    }
    Next::Run(Box::new(res.config), a)
}

fn exit_code(failed: bool, cfg: &config::ir::Config) -> i32 {
    if failed {
        1
    } else if cfg.has_listener() {
        0
    } else {
        2
    }
}

fn emit(
    _a: &args::Args,
    diags: &config::diag::Diagnostics,
    pid: u32,
    exe: &str,
    stdout_msg: Option<&str>,
) {
    let text = diags.render_haproxy(pid, exe, VERSION_LONG);
    let _ = std::io::stderr().write_all(text.as_bytes());
    if let Some(m) = stdout_msg {
        let _ = std::io::stdout().write_all(m.as_bytes());
    }
}
