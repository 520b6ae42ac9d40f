//! Process lifecycle shared with every task: the "stopping" signal and the
//! count of sessions still in flight, for graceful stops.
//!
//! Owns: the stop flag and the session tracker. Must not know about
//! sockets or protocols.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Notify, watch};

/// Shared by the runtime, the listeners and the sessions.
#[derive(Debug)]
pub struct Drain {
    stop_tx: watch::Sender<bool>,
    active: AtomicUsize,
    idle: Notify,
}

impl Default for Drain {
    fn default() -> Self {
        Drain {
            stop_tx: watch::channel(false).0,
            active: AtomicUsize::new(0),
            idle: Notify::new(),
        }
    }
}

impl Drain {
    /// Asks listeners to stop accepting and idle sessions to close.
    pub fn stop(&self) {
        self.stop_tx.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.stop_tx.borrow()
    }

    /// A receiver that resolves `changed()` when stopping begins.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.stop_tx.subscribe()
    }

    /// Counts a session until the returned guard drops.
    pub fn track(self: &Arc<Self>) -> Track {
        self.active.fetch_add(1, Ordering::AcqRel);
        Track(self.clone())
    }

    pub fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// Resolves once no session is in flight.
    pub async fn wait_idle(&self) {
        loop {
            let n = self.idle.notified();
            if self.active() == 0 {
                return;
            }
            n.await;
        }
    }
}

/// One in-flight session.
#[derive(Debug)]
pub struct Track(Arc<Drain>);

impl Drop for Track {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}
