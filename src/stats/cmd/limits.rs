//! Connection limits changed at run time: `set maxconn frontend|global`,
//! `disable|enable|shutdown frontend`, `set rate-limit`.
//!
//! Owns: the current value of each limit and its effect on the shared
//! connection semaphores the accept loops wait on (permits are added,
//! forgotten, held while paused, or the semaphore is closed to stop a
//! frontend for good). The accept path may also call
//! [`wait_conn_rate`] before each accept to honour `set rate-limit
//! connections|sessions global`. Must not accept nor read connections.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The run-time state of one limiter semaphore (a frontend's, or the
/// process-wide one).
#[derive(Debug)]
pub struct Limit {
    /// The current maximum (the configured one until changed).
    max: AtomicU32,
    paused: AtomicBool,
    stopped: AtomicBool,
    /// The task holding the permits while paused.
    hold: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Limit {
    pub fn max(&self) -> u32 {
        self.max.load(Ordering::Relaxed)
    }
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }
}

type Table = Mutex<Vec<(Weak<Semaphore>, Arc<Limit>)>>;

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(Table::default)
}

/// The state of `sem`, created with `configured` as its maximum.
pub fn limit_of(sem: &Arc<Semaphore>, configured: u32) -> Arc<Limit> {
    let Ok(mut t) = table().lock() else {
        return Arc::new(new_limit(configured));
    };
    t.retain(|(w, _)| w.strong_count() > 0);
    if let Some((_, l)) = t
        .iter()
        .find(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(sem)))
    {
        return l.clone();
    }
    let l = Arc::new(new_limit(configured));
    t.push((Arc::downgrade(sem), l.clone()));
    l
}

fn new_limit(max: u32) -> Limit {
    Limit {
        max: AtomicU32::new(max),
        paused: AtomicBool::new(false),
        stopped: AtomicBool::new(false),
        hold: Mutex::new(None),
    }
}

/// The current maximum of `sem` (`configured` when never changed): what
/// `show stat`'s `slim` and `show info`'s `Maxconn` should print.
pub fn current_max(sem: &Arc<Semaphore>, configured: u32) -> u32 {
    limit_of(sem, configured).max()
}

/// Changes the maximum of `sem` to `new`: adds permits, or removes them
/// (the ones in use are taken back as they are released).
pub fn set_max(sem: &Arc<Semaphore>, configured: u32, new: u32) {
    let l = limit_of(sem, configured);
    let old = l.max.swap(new, Ordering::SeqCst);
    if new > old {
        sem.add_permits((new - old) as usize);
    } else if new < old {
        let want = (old - new) as usize;
        let got = sem.forget_permits(want);
        if got < want {
            let sem = sem.clone();
            let rest = (want - got) as u32;
            spawn(async move {
                if let Ok(p) = sem.acquire_many_owned(rest).await {
                    p.forget();
                }
            });
        }
    }
}

/// Spawns `f` after polling it once here: a semaphore acquire in it
/// joins the (fair) wait queue at once, before any accept loop can take
/// the permits it wants, even when the runtime is slow to run new tasks.
fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(
    f: F,
) -> Option<tokio::task::JoinHandle<()>> {
    let h = tokio::runtime::Handle::try_current().ok()?;
    let mut f = Box::pin(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    if f.as_mut().poll(&mut cx).is_ready() {
        return None;
    }
    Some(h.spawn(f))
}

/// `disable frontend`: no new connection is accepted (the semaphore is
/// fair, so a waiter holding every permit blocks later acquirers).
/// Returns false when already paused.
pub fn pause(sem: &Arc<Semaphore>, configured: u32) -> bool {
    let l = limit_of(sem, configured);
    if l.paused.swap(true, Ordering::SeqCst) {
        return false;
    }
    let s = sem.clone();
    let n = l.max().max(1);
    let task = spawn(async move {
        if let Ok(p) = s.acquire_many_owned(n).await {
            // Held until `resume` aborts this task.
            std::future::pending::<()>().await;
            drop(p);
        }
    });
    if let Ok(mut h) = l.hold.lock() {
        *h = task;
    }
    true
}

/// `enable frontend`. Returns false when not paused.
pub fn resume(sem: &Arc<Semaphore>, configured: u32) -> bool {
    let l = limit_of(sem, configured);
    if !l.paused.swap(false, Ordering::SeqCst) {
        return false;
    }
    if let Ok(mut h) = l.hold.lock()
        && let Some(t) = h.take()
    {
        t.abort();
    }
    true
}

/// `shutdown frontend`: the accept loops end (their semaphore closes);
/// established sessions go on. Returns false when already stopped.
pub fn stop(sem: &Arc<Semaphore>, configured: u32) -> bool {
    let l = limit_of(sem, configured);
    if l.stopped.swap(true, Ordering::SeqCst) {
        return false;
    }
    resume(sem, configured);
    sem.close();
    true
}

/// What `show stat` should print for a frontend changed from the CLI:
/// `(slim, status override)`; the status is `PAUSED` or `STOP` (else
/// the caller's own, e.g. `OPEN`/`FULL`).
pub fn frontend_view(fe: &crate::stats::FeView) -> (u32, Option<&'static str>) {
    let Some(sem) = &fe.limiter else {
        return (fe.maxconn, None);
    };
    let l = limit_of(sem, fe.maxconn);
    let status = if l.is_stopped() {
        Some("STOP")
    } else if l.is_paused() {
        Some("PAUSED")
    } else {
        None
    };
    (l.max(), status)
}

/// `set rate-limit <what> global <n>` values (0 = unlimited).
#[derive(Debug, Default)]
pub struct RateLimits {
    pub connections: AtomicU32,
    pub sessions: AtomicU32,
    pub ssl_sessions: AtomicU32,
    pub http_compression: AtomicU32,
    window: Mutex<Option<(Instant, u64)>>,
    pub accepted: AtomicU64,
}

pub fn rate_limits() -> &'static RateLimits {
    static R: OnceLock<RateLimits> = OnceLock::new();
    R.get_or_init(RateLimits::default)
}

/// The effective per-second limit on new connections (the lowest of
/// `connections` and `sessions`; every accepted connection is a session).
fn conn_limit() -> u32 {
    let r = rate_limits();
    let c = r.connections.load(Ordering::Relaxed);
    let s = r.sessions.load(Ordering::Relaxed);
    match (c, s) {
        (0, s) => s,
        (c, 0) => c,
        (c, s) => c.min(s),
    }
}

/// How long to wait before the next accept under the connection rate
/// limit; counts the connection when it is admitted now.
pub fn conn_rate_delay(now: Instant) -> Option<Duration> {
    let lim = conn_limit();
    let r = rate_limits();
    let Ok(mut w) = r.window.lock() else {
        return None;
    };
    let (start, n) = match *w {
        Some((s, n)) if now.duration_since(s) < Duration::from_secs(1) => (s, n),
        _ => (now, 0),
    };
    if lim > 0 && n >= u64::from(lim) {
        *w = Some((start, n));
        return Some(Duration::from_secs(1).saturating_sub(now.duration_since(start)));
    }
    *w = Some((start, n + 1));
    r.accepted.fetch_add(1, Ordering::Relaxed);
    None
}

/// Set once an accept loop honours the rate limits (calls
/// [`wait_conn_rate`]); until then `set rate-limit connections|sessions`
/// would have no effect and says so.
static RATE_HOOKED: AtomicBool = AtomicBool::new(false);

pub fn rate_hooked() -> bool {
    RATE_HOOKED.load(Ordering::Relaxed)
}

/// Hook for the accept loop: waits while the global connection rate
/// limit is reached.
pub async fn wait_conn_rate() {
    RATE_HOOKED.store(true, Ordering::Relaxed);
    for _ in 0..1000 {
        match conn_rate_delay(Instant::now()) {
            Some(d) => tokio::time::sleep(d.max(Duration::from_millis(1))).await,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn maxconn_changes_permits() {
        let sem = Arc::new(Semaphore::new(10));
        set_max(&sem, 10, 15);
        assert_eq!(sem.available_permits(), 15);
        assert_eq!(current_max(&sem, 10), 15);
        let busy = sem.clone().acquire_many_owned(12).await.expect("permits");
        set_max(&sem, 10, 5);
        // 3 free ones are gone now, 7 more as the busy ones come back.
        assert_eq!(sem.available_permits(), 0);
        drop(busy);
        tokio::task::yield_now().await;
        for _ in 0..100 {
            if sem.available_permits() == 5 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(sem.available_permits(), 5);
    }

    #[tokio::test]
    async fn pause_blocks_new_acquirers_until_resume() {
        let sem = Arc::new(Semaphore::new(4));
        let held = sem.clone().acquire_owned().await.expect("permit");
        assert!(pause(&sem, 4));
        assert!(!pause(&sem, 4));
        tokio::task::yield_now().await;
        let s2 = sem.clone();
        let waiter = tokio::spawn(async move { s2.acquire_owned().await.is_ok() });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "paused: nothing is admitted");
        assert!(resume(&sem, 4));
        assert!(!resume(&sem, 4));
        let ok = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("admitted after resume");
        assert!(matches!(ok, Ok(true)));
        drop(held);
        assert!(stop(&sem, 4));
        assert!(!stop(&sem, 4));
        assert!(sem.clone().acquire_owned().await.is_err());
    }

    #[test]
    fn rate_window_admits_up_to_limit() {
        let r = rate_limits();
        r.connections.store(3, Ordering::Relaxed);
        let t = Instant::now();
        let admitted = (0..5).filter(|_| conn_rate_delay(t).is_none()).count();
        assert_eq!(admitted, 3);
        assert!(conn_rate_delay(t + Duration::from_millis(1100)).is_none());
        r.connections.store(0, Ordering::Relaxed);
    }
}
