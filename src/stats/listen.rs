//! Opening `stats socket` listeners and accepting CLI connections.
//!
//! Owns: unix sockets (bound under a temporary name, `mode`/`uid`/`gid`/
//! `user`/`group` applied, then renamed over the final path so a stale
//! socket from a previous run is replaced atomically; a non-socket file at
//! that path is never clobbered) and TCP sockets (`ipv4@`/`ipv6@`/plain
//! `addr:port`), plus the socket's `level`. Must not interpret commands.

use super::{Level, Stats, conn};
use crate::config::ir::StatsSocket;
use crate::listener::unix::{self, reason};
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

fn open_unix(path: &str, s: &StatsSocket) -> Result<UnixListener, String> {
    let fail =
        |what: &str| format!("Starting proxy GLOBAL: cannot bind UNIX socket ({what}) [{path}]");
    let perms = unix::Perms::from_options(|k| opt(s, k)).map_err(|w| fail(&w))?;
    let l = unix::bind(path, perms).map_err(|w| fail(&w))?;
    UnixListener::from_std(l).map_err(|e| e.to_string())
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
