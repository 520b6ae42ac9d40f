//! Opening `stats socket` listeners and accepting CLI connections.
//!
//! Owns: unix sockets (bound under a temporary name, `mode`/`uid`/`gid`/
//! `user`/`group` applied, then renamed over the final path so a stale
//! socket from a previous run is replaced atomically; a non-socket file at
//! that path is never clobbered) and TCP sockets (`ipv4@`/`ipv6@`/plain
//! `addr:port`), plus the socket's `level`. Must not interpret commands.

use super::{Level, Stats, conn};
use crate::config::ir::StatsSocket;
use std::ffi::CString;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};

/// A bound CLI socket and the level its sessions start at.
#[derive(Debug)]
pub struct Opened {
    pub sock: Sock,
    pub level: Level,
}

#[derive(Debug)]
pub enum Sock {
    Unix(UnixListener),
    Tcp(TcpListener),
}

fn opt<'a>(s: &'a StatsSocket, name: &str) -> Option<&'a str> {
    s.options
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.first().map(String::as_str))
}

/// The level of a socket: `level` option, else HAProxy's default
/// (`operator`, per the `level` bind option documentation).
pub fn level_of(s: &StatsSocket) -> Level {
    opt(s, "level")
        .and_then(Level::parse)
        .unwrap_or(Level::Operator)
}

/// Binds one `stats socket`. Must run inside the tokio runtime.
pub fn open(s: &StatsSocket) -> Result<Opened, String> {
    let level = level_of(s);
    let sock = match &s.path {
        Some(p) => Sock::Unix(open_unix(p, s)?),
        None => {
            let ip = s.ip.as_deref().unwrap_or("0.0.0.0");
            let ip = ip.trim_start_matches('[').trim_end_matches(']');
            let addr: std::net::IpAddr = ip
                .parse()
                .map_err(|_| format!("Starting proxy GLOBAL: invalid address [{}]", s.addr))?;
            let sa = std::net::SocketAddr::new(addr, s.port);
            let std = std::net::TcpListener::bind(sa).map_err(|e| {
                format!(
                    "Starting proxy GLOBAL: cannot bind socket ({}) [{sa}]",
                    reason(&e)
                )
            })?;
            std.set_nonblocking(true).map_err(|e| e.to_string())?;
            Sock::Tcp(TcpListener::from_std(std).map_err(|e| e.to_string())?)
        }
    };
    Ok(Opened { sock, level })
}

fn reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn open_unix(path: &str, s: &StatsSocket) -> Result<UnixListener, String> {
    let fail =
        |what: &str| format!("Starting proxy GLOBAL: cannot bind UNIX socket ({what}) [{path}]");
    if let Ok(md) = std::fs::symlink_metadata(path)
        && !md.file_type().is_socket()
    {
        return Err(fail("a file which is not a socket is in the way"));
    }
    let tmp = format!("{path}.{}.tmp", std::process::id());
    let _ = std::fs::remove_file(&tmp);
    let l = std::os::unix::net::UnixListener::bind(&tmp).map_err(|e| fail(&reason(&e)))?;
    let cleanup = |msg: String| {
        let _ = std::fs::remove_file(&tmp);
        msg
    };
    if let Some(m) = opt(s, "mode") {
        let mode = u32::from_str_radix(m, 8).map_err(|_| cleanup(fail("bad mode")))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
            .map_err(|e| cleanup(fail(&reason(&e))))?;
    }
    let uid = match (opt(s, "uid"), opt(s, "user")) {
        (Some(u), _) => Some(u.parse::<u32>().map_err(|_| cleanup(fail("bad uid")))?),
        (None, Some(name)) => Some(user_id(name).ok_or_else(|| cleanup(fail("unknown user")))?),
        _ => None,
    };
    let gid = match (opt(s, "gid"), opt(s, "group")) {
        (Some(g), _) => Some(g.parse::<u32>().map_err(|_| cleanup(fail("bad gid")))?),
        (None, Some(name)) => Some(group_id(name).ok_or_else(|| cleanup(fail("unknown group")))?),
        _ => None,
    };
    if uid.is_some() || gid.is_some() {
        std::os::unix::fs::chown(&tmp, uid, gid).map_err(|e| cleanup(fail(&reason(&e))))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| cleanup(fail(&reason(&e))))?;
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    UnixListener::from_std(l).map_err(|e| e.to_string())
}

fn user_id(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: getpwnam takes a valid NUL-terminated string; the returned
    // pointer is checked for NULL and read immediately (startup only).
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    // SAFETY: non-null pointer to a passwd struct owned by libc.
    Some(unsafe { (*pw).pw_uid })
}

fn group_id(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: as in `user_id`, for getgrnam.
    let gr = unsafe { libc::getgrnam(c.as_ptr()) };
    if gr.is_null() {
        return None;
    }
    // SAFETY: non-null pointer to a group struct owned by libc.
    Some(unsafe { (*gr).gr_gid })
}

/// Accepts CLI connections forever.
/// At most `stats maxconn` connections are served at once; more wait in
/// the kernel backlog.
pub async fn serve(o: Opened, stats: Arc<Stats>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(stats.cli_maxconn as usize));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let st = stats.clone();
        let lvl = o.level;
        let r = match &o.sock {
            Sock::Unix(u) => u.accept().await.map(|(s, _)| {
                tokio::spawn(async move {
                    conn::serve(s, lvl, st).await;
                    drop(permit);
                })
            }),
            Sock::Tcp(t) => t.accept().await.map(|(s, _)| {
                tokio::spawn(async move {
                    conn::serve(s, lvl, st).await;
                    drop(permit);
                })
            }),
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "stats socket accept failed");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}
