//! Request queueing on server `maxconn`, as HAProxy does (`maxqueue`,
//! `timeout queue`).
//!
//! Owns: the FIFO wait lists ([`Queue`]: one per server for deterministic
//! algorithms, one per backend otherwise), handing a freed slot to the
//! oldest waiter ([`dispatch`], run when a [`ConnGuard`] drops), and
//! getting a slot for a request ([`slot`], [`slot_on`]), and moving
//! waiters when servers change state (a server back in service takes
//! backend-queued requests; one going down hands its own waiters back to
//! the balancer with `option redispatch`, see [`slot_on_or_redispatch`]). Must not connect
//! anywhere nor choose servers itself (that is [`super::lb`]).
//!
//! Fast path: with a free slot nothing is locked (an atomic
//! compare-and-swap on the server's count, and an atomic length check of
//! the queues on release). The mutex of a queue is only taken while some
//! request waits. A freed slot is never left free while a request waits
//! for it: it is transferred to the oldest waiter (server queue or backend
//! queue, whichever head is older, like HAProxy's `process_srv_queue`).

use super::Backend;
use super::connect::ConnectError;
use super::server::{ConnGuard, ServerState};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// One waiting request.
#[derive(Debug)]
struct Waiter {
    id: u64,
    since: Instant,
    tx: oneshot::Sender<ConnGuard>,
}

/// A FIFO of requests waiting for a connection slot.
#[derive(Debug, Default)]
pub struct Queue {
    waiters: Mutex<VecDeque<Waiter>>,
    /// Entries in `waiters`, readable without the lock.
    len: AtomicUsize,
    next_id: AtomicU64,
    /// Most requests ever waiting at once (`qmax` in `show stat`).
    pub max: crate::metrics::freq::Max,
}

impl Queue {
    /// Requests waiting now.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Waiter>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(self: &Arc<Self>, tx: oneshot::Sender<ConnGuard>) -> Ticket {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut q = self.lock();
        q.push_back(Waiter {
            id,
            since: Instant::now(),
            tx,
        });
        self.len.store(q.len(), Ordering::SeqCst);
        self.max.note(q.len() as u64);
        Ticket {
            queue: self.clone(),
            id,
        }
    }

    fn head_since(&self) -> Option<Instant> {
        if self.is_empty() {
            return None;
        }
        self.lock().front().map(|w| w.since)
    }

    fn pop(&self) -> Option<Waiter> {
        if self.is_empty() {
            return None;
        }
        let mut q = self.lock();
        let w = q.pop_front();
        self.len.store(q.len(), Ordering::SeqCst);
        w
    }

    fn remove(&self, id: u64) {
        let mut q = self.lock();
        q.retain(|w| w.id != id);
        self.len.store(q.len(), Ordering::SeqCst);
    }
}

/// A place in a queue; leaving (timeout, cancelled request) removes it.
struct Ticket {
    queue: Arc<Queue>,
    id: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.queue.remove(self.id);
    }
}

/// Hands `srv`'s free slots to the oldest waiters of its own queue and of
/// its backend's queue. Called when a slot frees and after a request
/// queues (closing the race with a slot freed just before).
pub fn dispatch(srv: &Arc<ServerState>) {
    loop {
        let be_q = srv.be_queue.as_ref().filter(|_| srv.eligible());
        if srv.queue.is_empty() && be_q.is_none_or(|q| q.is_empty()) {
            return;
        }
        let Some(mut guard) = srv.try_take() else {
            return;
        };
        loop {
            let own = srv.queue.head_since();
            let be = be_q.and_then(|q| q.head_since());
            let w = match (own, be) {
                (Some(a), Some(b)) if b < a => be_q.and_then(|q| q.pop()),
                (Some(_), _) => srv.queue.pop(),
                (None, Some(_)) => be_q.and_then(|q| q.pop()),
                (None, None) => None,
            };
            let Some(w) = w else {
                // Nobody left: the slot frees again (outside any lock).
                return;
            };
            match w.tx.send(guard) {
                Ok(()) => break,
                // That waiter gave up; the next one gets the slot.
                Err(g) => guard = g,
            }
        }
    }
}

/// Whether `srv` would still accept a request into its own queue.
fn queue_has_room(srv: &ServerState) -> bool {
    srv.maxqueue
        .is_none_or(|m| m == 0 || srv.queue.len() < m as usize)
}

/// How often a waiting request re-checks its surroundings: servers back
/// in service (their slots are handed over then) and, for a request queued
/// on one server, that server going down.
const RECHECK: Duration = Duration::from_millis(50);

/// Why a request stopped waiting without a slot.
enum Left {
    Timeout,
    /// Its server went down: back to the balancer (`option redispatch`).
    ServerDown,
}

/// Waits in `q` for a slot, up to `timeout` (`None`: forever). `kick`
/// runs once queued so a slot freed meanwhile is not missed, then on
/// every re-check; `leave` tells when to give up the place and go back to
/// the balancer.
async fn wait_in(
    q: &Arc<Queue>,
    timeout: Option<Duration>,
    kick: impl Fn(),
    leave: impl Fn() -> bool,
) -> Result<ConnGuard, Left> {
    let (tx, mut rx) = oneshot::channel();
    let ticket = q.push(tx);
    kick();
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let got = loop {
        let tick = tokio::time::sleep(RECHECK);
        let until = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = &mut rx => break r.ok(),
            _ = until => break None,
            _ = tick => {
                kick();
                if leave() {
                    drop(ticket);
                    return rx.try_recv().map_err(|_| Left::ServerDown);
                }
            }
        }
    };
    drop(ticket);
    match got {
        Some(g) => Ok(g),
        // A slot handed over just as the timer fired still counts.
        None => rx.try_recv().map_err(|_| Left::Timeout),
    }
}

/// A connection slot on the server the balancer picks for a request from
/// `src`, queueing when servers are full: on the chosen server for
/// deterministic (hash-based) algorithms, else on the backend until any
/// server frees a slot (or comes back in service).
pub async fn slot(be: &Backend, src: IpAddr) -> Result<ConnGuard, ConnectError> {
    let deterministic = be.balancer.deterministic();
    for _ in 0..8 {
        let Some(srv) = be.balancer.pick(src, None) else {
            break;
        };
        if deterministic {
            return slot_on_or_redispatch(be, srv, src, false).await;
        }
        if let Some(g) = srv.try_take() {
            return Ok(g);
        }
        // Lost a race for its last slot: pick again.
    }
    if deterministic || !be.servers().iter().any(|s| s.eligible()) {
        return Err(ConnectError::NoServer);
    }
    let kick = || {
        for s in be.servers().iter() {
            dispatch(s);
        }
    };
    wait_in(&be.queue, be.queue_timeout, kick, || false)
        .await
        .map_err(|_| ConnectError::QueueTimeout)
}

/// A connection slot on `srv` itself, waiting in its queue when it is full
/// (or others already wait there). A full `maxqueue` gives up at once.
pub async fn slot_on(be: &Backend, srv: Arc<ServerState>) -> Result<ConnGuard, ConnectError> {
    slot_on_or_leave(be, srv, None).await
}

/// [`slot_on`] for a request from `src` that HAProxy would hand back to
/// the balancer if `srv` goes down while it waits (`option redispatch`
/// without `option persist`, and no `force-persist`).
pub async fn slot_on_or_redispatch(
    be: &Backend,
    srv: Arc<ServerState>,
    src: IpAddr,
    force: bool,
) -> Result<ConnGuard, ConnectError> {
    let movable = be.policy.redispatch.is_some() && !be.policy.persist && !force;
    slot_on_or_leave(be, srv, movable.then_some(src)).await
}

async fn slot_on_or_leave(
    be: &Backend,
    srv: Arc<ServerState>,
    redispatch_from: Option<IpAddr>,
) -> Result<ConnGuard, ConnectError> {
    if srv.queue.is_empty()
        && let Some(g) = srv.try_take()
    {
        return Ok(g);
    }
    if !queue_has_room(&srv) {
        return Err(ConnectError::NoServer);
    }
    let leave = || redispatch_from.is_some() && !srv.eligible();
    match wait_in(&srv.queue, be.queue_timeout, || dispatch(&srv), leave).await {
        Ok(g) => Ok(g),
        Err(Left::Timeout) => Err(ConnectError::QueueTimeout),
        Err(Left::ServerDown) => match redispatch_from {
            Some(src) => Box::pin(slot(be, src)).await,
            None => Err(ConnectError::NoServer),
        },
    }
}

#[cfg(test)]
mod tests;
