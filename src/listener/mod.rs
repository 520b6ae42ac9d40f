//! Listening sockets and accept loops.
//!
//! Owns: turning `bind` lines into sockets (IPv4/IPv6, port ranges,
//! `unix@` paths, SO_REUSEPORT), and accepting under the global and
//! per-frontend `maxconn` (a connection over the limit is simply not
//! accepted yet and waits in the kernel backlog). Must not read from the
//! accepted connections: it hands them to [`crate::session`].

pub mod socket;
pub mod unix;

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
    /// The `bind` line's own `maxconn`, when it has one.
    pub bind: Option<Arc<Semaphore>>,
}

/// The slots one connection holds under [`Limits`] while it lives.
#[derive(Debug)]
pub struct Permits {
    _bind: Option<OwnedSemaphorePermit>,
    _frontend: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Limits {
    async fn acquire(&self) -> Option<Permits> {
        let b = match &self.bind {
            Some(b) => Some(b.clone().acquire_owned().await.ok()?),
            None => None,
        };
        let f = self.frontend.clone().acquire_owned().await.ok()?;
        let g = self.global.clone().acquire_owned().await.ok()?;
        Some(Permits {
            _bind: b,
            _frontend: f,
            _global: g,
        })
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
fn held(permits: Permits, drain: &Arc<Drain>) -> Held {
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
        // A `transparent` listener takes connections for any address.
        Listening::Tcp(t) if !transparent(t) => {
            t.local_addr().ok().filter(|a| !a.ip().is_unspecified())
        }
        _ => None,
    }
}

fn transparent(t: &TcpListener) -> bool {
    let v6 = t.local_addr().is_ok_and(|a| a.is_ipv6());
    let (level, name) = if v6 {
        (libc::IPPROTO_IPV6, libc::IPV6_TRANSPARENT)
    } else {
        (libc::IPPROTO_IP, libc::IP_TRANSPARENT)
    };
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt into an int we own, with its length.
    let r = unsafe {
        libc::getsockopt(
            std::os::fd::AsRawFd::as_raw_fd(t),
            level,
            name,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    r == 0 && v != 0
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
