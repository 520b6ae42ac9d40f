//! `show info`: HAProxy 2.6.12's field list, in its order.
//!
//! Owns: the values we know (name, version, threads, pid, uptime, maxconn,
//! current connections, listeners, start time, and the process-wide
//! totals and rates of [`crate::metrics::GLOBAL`]: frontend connections
//! only, the CLI's own connections are not counted). Everything we do not
//! measure prints `0`, as a fresh HAProxy would; never an invented number.
//! Must not change state.

use super::Stats;

/// Our version, shown where HAProxy shows its own.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `Uptime:` as HAProxy formats it: `0d 0h00m08s`.
pub fn uptime_text(secs: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        secs / 86400,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn nofile_limit() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0 {
        r.rlim_cur
    } else {
        0
    }
}

/// The `(field, value)` list.
pub fn fields(st: &Stats) -> Vec<(&'static str, String)> {
    let up = st.uptime().as_secs();
    let z = || "0".to_string();
    let max = st.maxconn.to_string();
    let g = &crate::metrics::GLOBAL;
    let now = crate::metrics::clock::now_ms();
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    // `set rate-limit connections|sessions global`.
    let rl = crate::stats::cmd::limits::rate_limits();
    let rate =
        |c: &std::sync::atomic::AtomicU32| c.load(std::sync::atomic::Ordering::Relaxed).to_string();
    vec![
        ("Name", "Switchyard".into()),
        ("Version", VERSION.into()),
        ("Release_date", "".into()),
        ("Nbthread", st.nbthread.to_string()),
        ("Nbproc", "1".into()),
        ("Process_num", "1".into()),
        ("Pid", std::process::id().to_string()),
        ("Uptime", uptime_text(up)),
        ("Uptime_sec", up.to_string()),
        ("Memmax_MB", z()),
        ("PoolAlloc_MB", z()),
        ("PoolUsed_MB", z()),
        ("PoolFailed", z()),
        ("Ulimit-n", nofile_limit().to_string()),
        ("Maxsock", nofile_limit().to_string()),
        // `set maxconn global` changes the first, not the hard limit.
        (
            "Maxconn",
            st.global.as_ref().map_or_else(
                || max.clone(),
                |g| crate::stats::cmd::limits::current_max(g, st.maxconn).to_string(),
            ),
        ),
        ("Hard_maxconn", max),
        ("CurrConns", st.cur_conns().to_string()),
        ("CumConns", load(&g.cum_conns).to_string()),
        ("CumReq", load(&g.cum_req).to_string()),
        ("MaxSslConns", z()),
        ("CurrSslConns", z()),
        ("CumSslConns", z()),
        ("Maxpipes", z()),
        ("PipesUsed", z()),
        ("PipesFree", z()),
        ("ConnRate", g.conn_rate.read(now).to_string()),
        ("ConnRateLimit", rate(&rl.connections)),
        ("MaxConnRate", g.conn_rate_max.get().to_string()),
        ("SessRate", g.sess_rate.read(now).to_string()),
        ("SessRateLimit", rate(&rl.sessions)),
        ("MaxSessRate", g.sess_rate_max.get().to_string()),
        ("SslRate", z()),
        ("SslRateLimit", z()),
        ("MaxSslRate", z()),
        ("SslFrontendKeyRate", z()),
        ("SslFrontendMaxKeyRate", z()),
        ("SslFrontendSessionReuse_pct", z()),
        ("SslBackendKeyRate", z()),
        ("SslBackendMaxKeyRate", z()),
        ("SslCacheLookups", z()),
        ("SslCacheMisses", z()),
        ("CompressBpsIn", z()),
        ("CompressBpsOut", z()),
        ("CompressBpsRateLim", z()),
        ("Tasks", z()),
        ("Run_queue", z()),
        ("Idle_pct", "100".into()),
        ("node", hostname()),
        ("Stopping", z()),
        ("Jobs", z()),
        ("Unstoppable Jobs", z()),
        ("Listeners", st.listeners.to_string()),
        ("ActivePeers", z()),
        ("ConnectedPeers", z()),
        ("DroppedLogs", z()),
        ("BusyPolling", z()),
        ("FailedResolutions", z()),
        ("TotalBytesOut", z()),
        ("TotalSplicdedBytesOut", z()),
        ("BytesOutRate", z()),
        ("DebugCommandsIssued", z()),
        ("CumRecvLogs", z()),
        ("Build info", VERSION.into()),
        ("Memmax_bytes", z()),
        ("PoolAlloc_bytes", z()),
        ("PoolUsed_bytes", z()),
        ("Start_time_sec", st.start_unix.to_string()),
        ("Tainted", z()),
    ]
}

/// The `show info` text (no final empty line).
pub fn show_info(st: &Stats) -> String {
    fields(st)
        .into_iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect()
}
