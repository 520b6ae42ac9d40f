//! Idle server connections kept for reuse (HAProxy's `http-reuse safe`).
//!
//! Owns: the per-server pool of idle, keep-alive HTTP connections
//! ([`Pool`]), its bound (`pool-max-conn`), the age limit
//! (`pool-purge-delay`) with a background sweeper, the liveness check of an
//! idle connection before it is handed out, and leasing a server connection
//! for one request ([`acquire`] / [`release`]). Idle members are not counted
//! in the server's current connections: a lease carries a [`ConnGuard`]
//! only while in use. Must not decide whether a response allows reuse (that
//! is the HTTP engine) nor pick servers (that is [`super::lb`]).
//!
//! Locking: one `std::sync::Mutex<Vec<_>>` per server, held only for a
//! push, a pop or a purge of the stale prefix (no await, no syscall inside).
//! A mutex rather than a lock-free queue because the pool must be LIFO (the
//! most recently used connection is the least likely to have been closed by
//! the server's own keep-alive timeout, and the oldest ones age out at the
//! bottom where purging is a prefix cut); an uncontended futex lock costs
//! the same two atomic operations as a lock-free queue's CAS.

use super::Backend;
use super::connect::{ConnectError, connect_from, connect_with};
use super::server::{ConnGuard, ServerState};
use std::io::ErrorKind;
use std::mem::MaybeUninit;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Idle connections per server per process when `pool-max-conn` is absent.
pub const DEFAULT_MAX: usize = 64;
/// HAProxy's `pool-purge-delay` default.
pub const DEFAULT_PURGE: Duration = Duration::from_secs(5);

/// One idle connection and when it became idle.
#[derive(Debug)]
struct Idle {
    stream: TcpStream,
    since: Instant,
}

/// The idle connections of one server, most recently used last.
#[derive(Debug)]
pub struct Pool {
    idle: Mutex<Vec<Idle>>,
    max: usize,
    purge: Duration,
    sweeper: AtomicBool,
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new(DEFAULT_MAX, DEFAULT_PURGE)
    }
}

impl Pool {
    /// A pool keeping at most `max` idle connections (0 disables pooling)
    /// for at most `purge` each.
    pub fn new(max: usize, purge: Duration) -> Pool {
        Pool {
            idle: Mutex::new(Vec::new()),
            max,
            purge,
            sweeper: AtomicBool::new(false),
        }
    }

    /// Reads the `pool-max-conn` and `pool-purge-delay` server options
    /// (`-1` means unlimited, like HAProxy).
    pub fn from_options(opts: &[(String, Vec<String>)]) -> Pool {
        let arg = |k: &str| {
            opts.iter()
                .rev()
                .find(|(n, _)| n == k)
                .and_then(|(_, a)| a.first())
        };
        let max = match arg("pool-max-conn").map(|v| crate::config::units::atol(v)) {
            Some(v) if v < 0 => usize::MAX,
            Some(v) => usize::try_from(v).unwrap_or(DEFAULT_MAX),
            None => DEFAULT_MAX,
        };
        let purge = arg("pool-purge-delay")
            .and_then(|v| crate::config::units::parse_time_ms(v).ok())
            .map_or(DEFAULT_PURGE, |ms| Duration::from_millis(u64::from(ms)));
        Pool::new(max, purge)
    }

    pub fn enabled(&self) -> bool {
        self.max > 0
    }

    /// Idle connections currently held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // A panic while holding the lock cannot leave the Vec inconsistent.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most recently idled connection that is still fresh and alive;
    /// stale or dead members met on the way are closed.
    pub fn take(&self) -> Option<TcpStream> {
        let now = Instant::now();
        loop {
            let idle = self.lock().pop()?;
            if now.duration_since(idle.since) < self.purge && alive(&idle.stream) {
                return Some(idle.stream);
            }
        }
    }

    /// Keeps `stream` for reuse, or closes it when the pool is full.
    pub fn put(self: &Arc<Self>, stream: TcpStream) {
        if !self.enabled() {
            return;
        }
        let dropped = {
            let mut v = self.lock();
            if v.len() >= self.max {
                Some(stream)
            } else {
                v.push(Idle {
                    stream,
                    since: Instant::now(),
                });
                None
            }
        };
        // Closing happens outside the lock.
        drop(dropped);
        if !self.sweeper.swap(true, Ordering::Relaxed) {
            self.spawn_sweeper();
        }
    }

    /// Closes idle connections older than the purge delay; returns how many.
    pub fn purge(&self) -> usize {
        let Some(cut) = Instant::now().checked_sub(self.purge) else {
            return 0;
        };
        let old: Vec<Idle> = {
            let mut v = self.lock();
            // Pushed in time order: the stale ones are a prefix.
            let n = v.partition_point(|i| i.since <= cut);
            v.drain(..n).collect()
        };
        old.len()
    }

    fn spawn_sweeper(self: &Arc<Self>) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.sweeper.store(false, Ordering::Relaxed);
            return;
        };
        let weak: Weak<Pool> = Arc::downgrade(self);
        let period = (self.purge / 2).max(Duration::from_millis(100));
        rt.spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(p) = weak.upgrade() else { return };
                p.purge();
            }
        });
    }
}

/// `http-reuse` of a backend: only `never` disables reuse (`safe`, the
/// default, `aggressive` and `always` all reuse under the safe rules).
/// The last line wins, like HAProxy.
pub fn reuse_enabled(p: &crate::config::ir::Proxy) -> bool {
    let last = p
        .directives
        .iter()
        .rev()
        .find(|d| d.words.first().is_some_and(|w| w == "http-reuse"));
    last.is_none_or(|d| d.words.get(1).is_none_or(|w| w != "never"))
}

/// `http-reuse aggressive|always`: idle connections may carry the first
/// request of a client connection too.
pub fn reuse_first(p: &crate::config::ir::Proxy) -> bool {
    p.directives
        .iter()
        .rev()
        .find(|d| d.words.first().is_some_and(|w| w == "http-reuse"))
        .and_then(|d| d.words.get(1))
        .is_some_and(|w| w == "aggressive" || w == "always")
}

/// Whether an idle connection can carry a new request: not closed by the
/// server and with nothing unexpected to read. Only when the reactor saw a
/// read event does a non-blocking `MSG_PEEK` ask the kernel what it was.
fn alive(s: &TcpStream) -> bool {
    // No read event since the last response was read: nothing arrived, so
    // the connection is usable without asking the kernel (a FIN still in
    // flight is covered by the transparent retry on a fresh connection).
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    if s.poll_read_ready(&mut cx).is_pending() {
        return true;
    }
    let mut b = [MaybeUninit::<u8>::uninit(); 1];
    match socket2::SockRef::from(s).peek(&mut b) {
        Err(e) => e.kind() == ErrorKind::WouldBlock,
        // EOF, or bytes the server sent unasked: unusable either way.
        Ok(_) => false,
    }
}

/// A server connection leased for one request.
#[derive(Debug)]
pub struct Lease {
    pub stream: TcpStream,
    pub guard: ConnGuard,
    /// Taken from the pool (a failure before any response byte may be
    /// retried on a fresh connection).
    pub reused: bool,
}

impl Lease {
    pub fn server(&self) -> &Arc<ServerState> {
        self.guard.server()
    }
}

/// Picks a server and gets a slot on it (queueing on `maxconn`), then
/// reuses one of its idle connections when `reuse` allows and one is
/// alive, else connects (with retries and redispatch).
pub async fn acquire(be: &Backend, src: IpAddr, reuse: bool) -> Result<Lease, ConnectError> {
    let guard = super::queue::slot(be, src).await?;
    guard.server().counters.lb_pick();
    if reuse && let Some(stream) = guard.server().pool.take() {
        crate::metrics::on_attempt(guard.server(), true);
        return Ok(Lease {
            guard,
            stream,
            reused: true,
        });
    }
    let c = connect_with(be, guard, src).await?;
    Ok(Lease {
        stream: c.stream,
        guard: c.guard,
        reused: false,
    })
}

/// A new connection starting with `srv` (retries and redispatch apply).
pub async fn fresh(
    be: &Backend,
    srv: Arc<ServerState>,
    src: IpAddr,
) -> Result<Lease, ConnectError> {
    let c = connect_from(be, srv, src).await?;
    Ok(Lease {
        stream: c.stream,
        guard: c.guard,
        reused: false,
    })
}

/// Returns a connection whose exchange ended cleanly to its server's pool;
/// it stops counting as an active connection.
pub fn release(lease: Lease) {
    let Lease { stream, guard, .. } = lease;
    guard.server().pool.put(stream);
}

#[cfg(test)]
mod tests;
