//! Process set-up done before any thread exists: file-descriptor limits
//! (`ulimit-n`, `strict-limits`), daemon mode (`daemon`, `-D`) and the pid
//! file (`pidfile`, `-p`).
//!
//! Owns: the few libc calls that must happen in a single-threaded process.
//! Must not touch sockets or the tokio runtime.

use crate::cli::args::Args;
use crate::config::ir::Config;

/// Raises RLIMIT_NOFILE like HAProxy: to `ulimit-n` when set, else to what
/// `maxconn` needs (two descriptors per connection plus a margin). With
/// `strict-limits` (the 2.6 default) failing to reach it is fatal.
pub fn raise_fd_limit(cfg: &Config) -> Result<(), String> {
    let want = match global_value(cfg, "ulimit-n").and_then(|v| v.parse::<u64>().ok()) {
        Some(n) => n,
        None => u64::from(cfg.global.maxconn.unwrap_or(0)) * 2 + 100,
    };
    let strict = strict_limits(cfg);
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Ok(());
    }
    if lim.rlim_cur >= want {
        return Ok(());
    }
    let target = libc::rlimit {
        rlim_cur: want,
        rlim_max: lim.rlim_max.max(want),
    };
    // SAFETY: as above.
    let ok = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &target) } == 0 || {
        let capped = libc::rlimit {
            rlim_cur: want.min(lim.rlim_max),
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        let r = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &capped) };
        r == 0 && capped.rlim_cur >= want
    };
    if !ok && strict {
        return Err(format!(
            "[{}] Cannot raise FD limit to {want}, limit is {}.",
            "switchyard", lim.rlim_cur
        ));
    }
    Ok(())
}

fn strict_limits(cfg: &Config) -> bool {
    !cfg.global.no_strict_limits
}

fn global_value<'a>(cfg: &'a Config, kw: &str) -> Option<&'a str> {
    cfg.global
        .directives
        .iter()
        .rev()
        .find(|d| d.words.first().map(String::as_str) == Some(kw))
        .and_then(|d| d.words.get(1))
        .map(String::as_str)
}

/// Forks into the background when `daemon`/`-D` asks for it (not with
/// `-db`/`-d`). The parent writes the pid file and exits; returns in the
/// child only.
pub fn daemonize_if_needed(cfg: &Config, args: &Args) -> Result<(), String> {
    let daemon = (args.daemon || cfg.global.daemon) && !args.foreground && !args.debug;
    let pidfile = args.pidfile.clone().or_else(|| cfg.global.pidfile.clone());
    if !daemon {
        if let Some(p) = &pidfile {
            write_pidfile(p, std::process::id())?;
        }
        return Ok(());
    }
    // SAFETY: called before any thread is started (the runtime is built
    // after this), so fork duplicates a single-threaded process.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("cannot fork into the background".into());
    }
    if pid > 0 {
        if let Some(Err(e)) = pidfile.as_ref().map(|p| write_pidfile(p, pid as u32)) {
            eprintln!("{e}");
        }
        std::process::exit(0);
    }
    // SAFETY: plain syscalls on our own process and descriptors 0-2.
    unsafe {
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::dup2(null, 1);
            libc::dup2(null, 2);
            if null > 2 {
                libc::close(null);
            }
        }
    }
    Ok(())
}

fn write_pidfile(path: &str, pid: u32) -> Result<(), String> {
    std::fs::write(path, format!("{pid}\n"))
        .map_err(|e| format!("[ALERT] cannot create pidfile {path}: {e}"))
}

/// After every socket is bound: `chroot`, then `group`/`gid` and
/// `user`/`uid`, in HAProxy's order, so that privileged ports and paths
/// are opened before privileges are dropped.
pub fn drop_privileges(cfg: &Config) -> Result<(), String> {
    let gid = match global_value(cfg, "group") {
        Some(g) => Some(
            crate::config::external::lookup_group(g)
                .ok_or_else(|| format!("cannot find group id for '{g}'"))?,
        ),
        None => global_value(cfg, "gid").and_then(|g| g.parse::<u32>().ok()),
    };
    let uid = match global_value(cfg, "user") {
        Some(u) => Some(
            crate::config::external::lookup_user(u)
                .ok_or_else(|| format!("cannot find user id for '{u}'"))?,
        ),
        None => global_value(cfg, "uid").and_then(|u| u.parse::<u32>().ok()),
    };
    if let Some(dir) = global_value(cfg, "chroot") {
        let c = std::ffi::CString::new(dir).map_err(|_| format!("Cannot chroot({dir})."))?;
        // SAFETY: plain syscalls with a valid NUL-terminated path.
        let ok = unsafe { libc::chroot(c.as_ptr()) == 0 && libc::chdir(c"/".as_ptr()) == 0 };
        if !ok {
            return Err(format!("[switchyard.main()] Cannot chroot({dir})."));
        }
    }
    if let Some(g) = gid {
        // SAFETY: plain syscalls; glibc applies them to every thread.
        let ok = unsafe { libc::setgroups(0, std::ptr::null()) == 0 && libc::setgid(g) == 0 };
        if !ok {
            return Err(format!("[switchyard.main()] Cannot set gid {g}."));
        }
    }
    if let Some(u) = uid {
        // SAFETY: as above.
        if unsafe { libc::setuid(u) } != 0 {
            return Err(format!("[switchyard.main()] Cannot set uid {u}."));
        }
    }
    Ok(())
}
