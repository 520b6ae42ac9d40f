//! The parking lot: idle HTTP client connections without a task.
//!
//! Owns: connections that waited [`PARK_AFTER`] for a request without
//! receiving a byte. Their socket and session state ([`Parked`]) move into
//! one slab here and their task ends; a new task resumes the session
//! ([`super::http::resume`]) when bytes (or the end of the stream) arrive,
//! its deadline passes, a graceful stop begins (keep-alive connections
//! only) or the session is killed from the runtime API. A parked socket
//! leaves the runtime's reactor for the lot's own epoll set (one-shot,
//! keyed by slot), so it costs neither a task nor a reactor registration:
//! its slot and its session object only. Parking and resuming take two
//! `epoll_ctl` calls; a busy connection never waits long enough to park.
//!
//! Must not read or write the sockets, nor decide what an expired wait
//! means (the resumed session answers 408 or closes, as it would have).

use super::fetch::Sess;
use super::{ClientInfo, Frontend, Held};
use crate::runtime::drain::Drain;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The least a connection waits with its task before it parks (at most
/// twice this): longer than the gap between requests of a busy keep-alive
/// client, so those never pay for parking.
pub const PARK_AFTER: Duration = Duration::from_millis(16);

/// When a wait that begins now may park: the second [`PARK_AFTER`]
/// boundary ahead. Waits share these boundaries and a ticker always
/// sleeps until the nearer one, so registering a wait never moves the
/// timer driver's next wake earlier — which would cost every connection
/// a reactor wake-up (an eventfd write and an extra `epoll_wait`).
pub fn park_at(now: Instant) -> Instant {
    let t = ticker();
    let since = now.saturating_duration_since(t.base).as_millis() as u64;
    t.last_use.store(since, Ordering::Relaxed);
    if !t.running.load(Ordering::Relaxed) && !t.running.swap(true, Ordering::AcqRel) {
        tokio::spawn(tick());
    }
    t.boundary(since, 2)
}

/// The ticker behind [`park_at`]; it stops after a second without waits.
struct Ticker {
    base: Instant,
    last_use: AtomicU64,
    running: AtomicBool,
}

impl Ticker {
    /// The `n`th boundary after `since` (milliseconds from `base`).
    fn boundary(&self, since: u64, n: u64) -> Instant {
        let step = PARK_AFTER.as_millis() as u64;
        self.base + Duration::from_millis((since / step + n) * step)
    }
}

fn ticker() -> &'static Ticker {
    static T: OnceLock<Ticker> = OnceLock::new();
    T.get_or_init(|| Ticker {
        base: Instant::now(),
        last_use: AtomicU64::new(0),
        running: AtomicBool::new(false),
    })
}

async fn tick() {
    let t = ticker();
    loop {
        let since = Instant::now().saturating_duration_since(t.base).as_millis() as u64;
        if since.saturating_sub(t.last_use.load(Ordering::Relaxed)) > 1000 {
            t.running.store(false, Ordering::Release);
            return;
        }
        tokio::time::sleep_until(t.boundary(since, 1)).await;
    }
}

/// A session waiting for its client, without a task.
#[derive(Debug)]
pub struct Parked {
    /// Out of the reactor while parked (see [`unpark_io`]).
    pub io: std::net::TcpStream,
    pub info: ClientInfo,
    pub fe: Arc<Frontend>,
    pub drain: Arc<Drain>,
    pub held: Held,
    pub sess: Arc<Sess>,
    /// No request yet on this connection (a graceful stop leaves it be).
    pub first: bool,
    /// When the wait ends (`timeout http-request` or `http-keep-alive`).
    pub deadline: Option<Instant>,
}

/// Parks `io` and the session state; the session resumes in a new task
/// (see the module doc). `io` leaves the reactor here.
pub fn park(io: tokio::net::TcpStream, p: impl FnOnce(std::net::TcpStream) -> Parked) {
    let Some(lot) = lot() else {
        return;
    };
    let Ok(io) = io.into_std() else {
        return;
    };
    let p = p(io);
    let fd = p.io.as_raw_fd();
    let deadline = p.deadline;
    let mut g = lot.lock();
    if !g.started {
        g.started = true;
        tokio::spawn(run(p.drain.clone()));
    }
    let key = g.insert(p);
    if watch(lot.epfd.as_raw_fd(), fd, key).is_err() {
        let p = g.remove(key);
        drop(g);
        p.into_iter().for_each(resume);
        return;
    }
    if let Some(d) = deadline {
        if g.next_deadline().is_none_or(|n| d < n) {
            lot.wake.notify_one();
        }
        g.timers.push(Reverse((d, key)));
    }
}

/// Back into the reactor, for the resumed session.
pub fn unpark_io(io: std::net::TcpStream) -> std::io::Result<tokio::net::TcpStream> {
    tokio::net::TcpStream::from_std(io)
}

/// Adds `fd` to the lot's epoll set for one readiness report (or re-arms
/// it: a socket parked before is still there, disarmed).
fn watch(epfd: RawFd, fd: RawFd, key: u64) -> std::io::Result<()> {
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLONESHOT) as u32,
        u64: key,
    };
    // SAFETY: plain syscalls on descriptors this process owns; `ev` lives
    // across both calls.
    let r = unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() != Some(libc::EEXIST) {
        return Err(e);
    }
    // SAFETY: as above.
    if unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_MOD, fd, &mut ev) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The keys of the sockets that became readable since the last call.
fn readable(epfd: RawFd, out: &mut Vec<u64>) {
    const BATCH: usize = 256;
    let mut evs = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
    loop {
        // SAFETY: `evs` has room for BATCH events; timeout 0 never blocks.
        let n = unsafe { libc::epoll_wait(epfd, evs.as_mut_ptr(), BATCH as i32, 0) };
        let Ok(n) = usize::try_from(n) else {
            return;
        };
        out.extend(evs[..n].iter().map(|e| e.u64));
        if n < BATCH {
            return;
        }
    }
}

/// Asks the lot to let go of killed sessions (`shutdown session`).
pub fn poke() {
    if let Some(Some(lot)) = LOT.get() {
        lot.lock().sweep = true;
        lot.wake.notify_one();
    }
}

/// How many connections are parked (for tests and `show activity`).
pub fn parked() -> usize {
    LOT.get()
        .and_then(Option::as_ref)
        .map_or(0, |l| l.lock().len)
}

fn resume(p: Parked) {
    tokio::spawn(super::http::resume(p));
}

/// The lot; `None` when the kernel refused an epoll set (connections
/// then keep their task while idle, as without a lot).
static LOT: OnceLock<Option<Lot>> = OnceLock::new();

fn lot() -> Option<&'static Lot> {
    LOT.get_or_init(|| {
        // SAFETY: epoll_create1 returns a new descriptor or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            tracing::warn!("no epoll set for idle connections; they keep their task");
            return None;
        }
        Some(Lot {
            // SAFETY: `fd` is a fresh descriptor nobody else owns.
            epfd: unsafe { OwnedFd::from_raw_fd(fd) },
            slab: Mutex::new(Slab::default()),
            wake: Notify::new(),
        })
    })
    .as_ref()
}

struct Lot {
    epfd: OwnedFd,
    slab: Mutex<Slab>,
    wake: Notify,
}

impl Lot {
    fn lock(&self) -> MutexGuard<'_, Slab> {
        // A panic while holding the lock leaves a consistent slab behind.
        self.slab.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The lot's epoll descriptor as the reactor sees it (not owned).
struct EpollFd(RawFd);

impl AsRawFd for EpollFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Parked sessions by slot; a key is the slot index (low 32 bits) and the
/// slot's generation (high 32 bits), so stale wakes and timers miss.
#[derive(Default)]
struct Slab {
    slots: Vec<(u32, Option<Box<Parked>>)>,
    free: Vec<u32>,
    len: usize,
    /// Keys whose socket became readable.
    ready: Vec<u64>,
    /// Deadlines, earliest first (entries of resumed slots are skipped).
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Look for killed sessions and, when stopping, keep-alive ones.
    sweep: bool,
    started: bool,
}

impl Slab {
    fn insert(&mut self, p: Parked) -> u64 {
        self.len += 1;
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push((0, None));
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[idx as usize];
        slot.0 = slot.0.wrapping_add(1);
        slot.1 = Some(Box::new(p));
        (u64::from(slot.0) << 32) | u64::from(idx)
    }

    fn slot(&mut self, key: u64) -> Option<&mut (u32, Option<Box<Parked>>)> {
        let s = self.slots.get_mut((key & 0xffff_ffff) as usize)?;
        (u64::from(s.0) == key >> 32).then_some(s)
    }

    fn get(&mut self, key: u64) -> Option<&Parked> {
        self.slot(key)?.1.as_deref()
    }

    fn remove(&mut self, key: u64) -> Option<Parked> {
        let p = self.slot(key)?.1.take()?;
        self.len -= 1;
        self.free.push((key & 0xffff_ffff) as u32);
        Some(*p)
    }

    /// Everything due now: readable, expired, killed or stopping.
    fn due(&mut self, now: Instant) -> Vec<Parked> {
        let mut out = Vec::new();
        for key in std::mem::take(&mut self.ready) {
            out.extend(self.remove(key));
        }
        while let Some(&Reverse((d, key))) = self.timers.peek() {
            if d > now {
                break;
            }
            self.timers.pop();
            if self.get(key).is_some_and(|p| p.deadline == Some(d)) {
                out.extend(self.remove(key));
            }
        }
        if std::mem::take(&mut self.sweep) {
            for i in 0..self.slots.len() {
                let (gen_, p) = &self.slots[i];
                let gone = p
                    .as_ref()
                    .is_some_and(|p| p.sess.is_killed() || (!p.first && p.drain.is_stopping()));
                let key = (u64::from(*gen_) << 32) | i as u64;
                if gone {
                    out.extend(self.remove(key));
                }
            }
        }
        if self.slots.len() > 64 && self.len < self.slots.len() / 4 {
            self.shrink();
        }
        out
    }

    /// Gives memory back after a burst: trailing free slots are dropped.
    fn shrink(&mut self) {
        while self.slots.last().is_some_and(|s| s.1.is_none()) {
            self.slots.pop();
        }
        let n = self.slots.len() as u32;
        self.free.retain(|&i| i < n);
        self.slots.shrink_to_fit();
        self.free.shrink_to_fit();
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|r| r.0.0)
    }
}

/// The lot's one task: resumes what is due, then sleeps until a socket
/// is readable, a deadline, a poke or a graceful stop.
async fn run(drain: Arc<Drain>) {
    let Some(lot) = lot() else {
        return;
    };
    let epfd = EpollFd(lot.epfd.as_raw_fd());
    // SAFETY: the descriptor belongs to the process-wide lot, which is
    // never dropped, so it stays open and the same while `afd` lives.
    let afd = match unsafe { AsyncFd::register_with_interest(epfd, Interest::READABLE) } {
        Ok(a) => a,
        Err(e) => {
            let e = e.to_string();
            tracing::error!(error = %e, "idle connection lot cannot watch its epoll set");
            return;
        }
    };
    let mut stop = drain.watch();
    let mut keys = Vec::new();
    loop {
        readable(lot.epfd.as_raw_fd(), &mut keys);
        let (due, next) = {
            let mut g = lot.lock();
            g.ready.append(&mut keys);
            (g.due(Instant::now()), g.next_deadline())
        };
        due.into_iter().for_each(resume);
        let stopping = async {
            if *stop.borrow() {
                std::future::pending::<()>().await;
            }
            let _ = stop.changed().await;
        };
        tokio::select! {
            r = afd.readable() => {
                if let Ok(mut g) = r {
                    g.clear_ready();
                }
            }
            _ = lot.wake.notified() => {}
            _ = async {
                match next {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => {}
            _ = stopping => lot.lock().sweep = true,
        }
    }
}
