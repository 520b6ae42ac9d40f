//! The running proxy: turns a checked [`crate::config::ir::Config`] into
//! listeners and sessions, and owns the process lifecycle.
//!
//! Owns: the tokio runtime (sized by `nbthread`), opening every listener
//! before serving (a bind failure aborts startup like HAProxy), signals
//! (SIGINT/SIGTERM: hard stop; SIGUSR1: graceful stop, i.e. stop accepting
//! and let in-flight sessions finish), and the exit code. Must not parse
//! configuration text nor touch the bytes of a session.

pub mod drain;
mod process;

use crate::cli::args::Args;
use crate::config::ir::Config;
use crate::listener::{self, Limits, socket};
use drain::Drain;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// HAProxy's `maxconn` fallback when nothing sets it.
const DEFAULT_MAXCONN: u32 = 4096;

fn alert(msg: &str) {
    eprintln!("[ALERT]    ({}) : {msg}", std::process::id());
}

fn warning(msg: &str) {
    eprintln!("[WARNING]  ({}) : {msg}", std::process::id());
}

/// Starts the proxy; returns the process exit code.
pub fn run(cfg: Config, args: Args) -> i32 {
    // Before any thread exists: fd limits, then daemon fork and pid file.
    if let Err(e) =
        process::raise_fd_limit(&cfg).and_then(|_| process::daemonize_if_needed(&cfg, &args))
    {
        alert(&e);
        return 1;
    }
    // `nosplice`: TCP tunnels copy through user space.
    crate::session::splice::set_enabled(
        !cfg.global
            .directives
            .iter()
            .any(|d| d.words.first().is_some_and(|w| w == "nosplice")),
    );
    let threads = cfg
        .global
        .nbthread
        .map(|n| n as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    // One thread: a current-thread runtime avoids cross-thread wake-ups
    // between the main thread and a lone worker (HAProxy's `nbthread 1`).
    let built = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let rt = match built {
        Ok(rt) => rt,
        Err(e) => {
            alert(&format!("cannot start the runtime: {e}"));
            return 1;
        }
    };
    let code = rt.block_on(serve(cfg, args));
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

async fn serve(cfg: Config, args: Args) -> i32 {
    let frontends = match crate::session::build::frontends(&cfg) {
        Ok(f) => f,
        Err(e) => {
            alert(&e);
            return 1;
        }
    };
    // Health checks: refuse unsupported forms before opening anything.
    let checks = match crate::health::plan(&cfg) {
        Ok(c) => c,
        Err(e) => {
            alert(&e);
            return 1;
        }
    };
    let global_max = args
        .maxconn
        .as_deref()
        .and_then(|m| m.parse().ok())
        .or(cfg.global.maxconn)
        .unwrap_or(DEFAULT_MAXCONN);
    let global = Arc::new(Semaphore::new(global_max as usize));
    let drain = Arc::new(Drain::default());
    // Open everything first: a bind error must abort before serving.
    let mut loops = Vec::new();
    for fe in &frontends {
        let limits = Limits {
            global: global.clone(),
            frontend: Arc::new(Semaphore::new(fe.maxconn as usize)),
            bind: None,
        };
        for b in &fe.binds {
            let limits = Limits {
                bind: socket::maxconn(b).map(|n| Arc::new(Semaphore::new(n as usize))),
                ..limits.clone()
            };
            for t in socket::targets(b) {
                match socket::open(b, &t, fe.maxconn) {
                    Ok(o) => {
                        for w in &o.warnings {
                            warning(&format!(
                                "{} [{}:{}] for frontend {}: {} for [{t}]",
                                w.stage, b.origin.file, b.origin.line, fe.name, w.text
                            ));
                        }
                        loops.push((o.listening, fe.clone(), limits.clone()));
                    }
                    Err(e) => {
                        alert(&format!(
                            "Starting {} {}: cannot bind socket ({}) [{t}]",
                            if fe.binds.is_empty() {
                                "proxy"
                            } else {
                                "frontend"
                            },
                            fe.name,
                            os_reason(&e)
                        ));
                        return 1;
                    }
                }
            }
        }
    }
    // Stats sockets (runtime API): bound before serving; failure is fatal.
    let fe_sems: Vec<_> = loops
        .iter()
        .map(|(_, f, l)| (f.name.clone(), l.frontend.clone()))
        .collect();
    let stats = crate::stats::Stats::build(
        &cfg,
        &frontends,
        Some((global.clone(), global_max)),
        &fe_sems,
    );
    let stats = Arc::new(stats);
    // Health checks run on every backend, used by a frontend or not.
    let mut checked = backends_of(&frontends);
    for b in stats.proxies.iter().filter_map(|p| p.be.as_ref()) {
        if !checked.iter().any(|c| Arc::ptr_eq(c, &b.live)) {
            checked.push(b.live.clone());
        }
    }
    crate::stats::page::install(stats.clone());
    if let Err(e) = crate::stats::start(stats, &cfg) {
        alert(&e);
        return 1;
    }
    // Everything is bound: now chroot and drop privileges, like HAProxy.
    if let Err(e) = process::drop_privileges(&cfg) {
        alert(&e);
        return 1;
    }
    for (l, fe, limits) in loops {
        tokio::spawn(listener::accept_loop(l, fe, limits, drain.clone()));
    }
    crate::health::spawn_all(&checks, &checked);
    wait_for_stop(&drain).await
}

/// Every live backend reachable from a frontend, once each.
fn backends_of(frontends: &[Arc<crate::session::Frontend>]) -> Vec<Arc<crate::upstream::Backend>> {
    let mut out: Vec<Arc<crate::upstream::Backend>> = Vec::new();
    let routes = frontends
        .iter()
        .flat_map(|f| f.switching.iter().map(|s| &s.route).chain(f.default.iter()));
    for r in routes {
        if !out.iter().any(|b| Arc::ptr_eq(b, &r.be)) {
            out.push(r.be.clone());
        }
    }
    out
}

/// The OS error text without Rust's " (os error N)" suffix.
fn os_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

async fn wait_for_stop(drain: &Arc<Drain>) -> i32 {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term), Ok(mut usr1)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::user_defined1()),
    ) else {
        alert("cannot install signal handlers");
        return 1;
    };
    tokio::select! {
        _ = int.recv() => return 0,
        _ = term.recv() => return 0,
        _ = usr1.recv() => {}
    }
    // Graceful: stop accepting, let sessions end; a second INT/TERM forces.
    drain.stop();
    tokio::select! {
        _ = drain.wait_idle() => 0,
        _ = int.recv() => 0,
        _ = term.recv() => 0,
    }
}
