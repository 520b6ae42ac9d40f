//! Listening sockets and accept loops.
//!
//! Owns: turning `bind` lines into sockets (IPv4/IPv6, port ranges,
//! `unix@` paths, SO_REUSEPORT), and accepting under the global and
//! per-frontend `maxconn` (a connection over the limit is simply not
//! accepted yet and waits in the kernel backlog). Must not read from the
//! accepted connections: it hands them to [`crate::session`].

pub mod socket;

use crate::runtime::drain::Drain;
use crate::session::{ClientInfo, Frontend, Held};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One open listening socket.
#[derive(Debug)]
pub enum Listening {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// The connection limits an accept loop honours.
#[derive(Debug, Clone)]
pub struct Limits {
    pub global: Arc<Semaphore>,
    pub frontend: Arc<Semaphore>,
}

impl Limits {
    async fn acquire(&self) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
        let f = self.frontend.clone().acquire_owned().await.ok()?;
        let g = self.global.clone().acquire_owned().await.ok()?;
        Some((f, g))
    }
}

/// Runs the accept loop of one socket until stopping begins.
pub async fn accept_loop(l: Listening, fe: Arc<Frontend>, limits: Limits, drain: Arc<Drain>) {
    let mut stop = drain.watch();
    crate::session::fetch::sess::register_frontend(&fe);
    let fixed_dst = fixed_dst(&l);
    loop {
        if *stop.borrow() {
            return;
        }
        let permits = tokio::select! {
            p = limits.acquire() => p,
            _ = stop.changed() => return,
        };
        let Some(permits) = permits else { return };
        // `set rate-limit connections|sessions global`.
        crate::stats::cmd::limits::wait_conn_rate().await;
        let accepted = tokio::select! {
            a = accept(&l, fixed_dst) => a,
            _ = stop.changed() => return,
        };
        if accepted.is_ok() {
            fe.conn_total
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        match accepted {
            Ok(Accepted::Tcp(s, info)) => {
                // TCP_NODELAY comes from the listening socket.
                let held = held(permits, &drain);
                tokio::spawn(crate::session::serve(
                    s,
                    info,
                    fe.clone(),
                    drain.clone(),
                    held,
                ));
            }
            Ok(Accepted::Unix(s)) => {
                let held = held(permits, &drain);
                let info = ClientInfo::default();
                tokio::spawn(crate::session::serve(
                    s,
                    info,
                    fe.clone(),
                    drain.clone(),
                    held,
                ));
            }
            Err(e) => {
                // EMFILE/ENFILE and friends: back off instead of spinning.
                tracing::warn!(frontend = %fe.name, error = %e, "accept failed");
                drop(permits);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// The guards an accepted connection carries until it ends.
fn held(permits: (OwnedSemaphorePermit, OwnedSemaphorePermit), drain: &Arc<Drain>) -> Held {
    Held {
        permits: Some(permits),
        track: Some(drain.track()),
        counted: None,
    }
}

enum Accepted {
    Tcp(tokio::net::TcpStream, ClientInfo),
    Unix(tokio::net::UnixStream),
}

/// The local address every connection accepted on `l` has, when the
/// socket is bound to one address (not a wildcard): no getsockname() per
/// connection then.
fn fixed_dst(l: &Listening) -> Option<std::net::SocketAddr> {
    match l {
        Listening::Tcp(t) => t.local_addr().ok().filter(|a| !a.ip().is_unspecified()),
        Listening::Unix(_) => None,
    }
}

async fn accept(
    l: &Listening,
    fixed_dst: Option<std::net::SocketAddr>,
) -> std::io::Result<Accepted> {
    match l {
        Listening::Tcp(t) => {
            let (s, peer) = t.accept().await?;
            let info = ClientInfo {
                src: Some(peer),
                dst: fixed_dst.or_else(|| s.local_addr().ok()),
            };
            Ok(Accepted::Tcp(s, info))
        }
        Listening::Unix(u) => Ok(Accepted::Unix(u.accept().await?.0)),
    }
}
