//! The registry of live client sessions, for `show sess` and
//! `shutdown session[s]`.
//!
//! Owns: one process-wide list of the sessions being served (frontend,
//! source, start time, chosen backend/server) and their kill switch.
//! The data path only calls [`register`] once per accepted connection
//! (keeping the returned [`SessionHandle`] alive for the session's
//! lifetime and stopping when [`SessionHandle::killed`] completes) and
//! [`note_server`] when a server is chosen. Must not touch session bytes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tokio::sync::Notify;

/// One registered session.
#[derive(Debug)]
pub struct Entry {
    pub id: u64,
    pub frontend: String,
    pub src: Option<SocketAddr>,
    pub started: Instant,
    /// `(backend, server)` once a server was chosen.
    pub target: Mutex<Option<(String, String)>>,
    kill: Notify,
    killed: AtomicBool,
}

impl Entry {
    /// HAProxy's `proto=` word for this session.
    pub fn proto(&self) -> &'static str {
        match self.src {
            Some(SocketAddr::V4(_)) => "tcpv4",
            Some(SocketAddr::V6(_)) => "tcpv6",
            None => "unix_stream",
        }
    }

    pub fn target(&self) -> Option<(String, String)> {
        self.target.lock().ok().and_then(|t| t.clone())
    }

    /// Asks the session to stop (it closes both sides).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

/// All live sessions, by id (ids grow, so the map is in arrival order).
#[derive(Debug, Default)]
pub struct Registry {
    next: AtomicU64,
    map: Mutex<BTreeMap<u64, Arc<Entry>>>,
}

impl Registry {
    pub fn add(self: &Arc<Self>, frontend: &str, src: Option<SocketAddr>) -> SessionHandle {
        // Ids start at a recognisable, non-zero "pointer".
        let id = 0x1000 + self.next.fetch_add(1, Ordering::Relaxed) * 0x10;
        let e = Arc::new(Entry {
            id,
            frontend: frontend.to_string(),
            src,
            started: Instant::now(),
            target: Mutex::new(None),
            kill: Notify::new(),
            killed: AtomicBool::new(false),
        });
        if let Ok(mut m) = self.map.lock() {
            m.insert(id, e.clone());
        }
        SessionHandle {
            entry: e,
            reg: self.clone(),
        }
    }

    /// A snapshot of the live sessions, oldest first.
    pub fn list(&self) -> Vec<Arc<Entry>> {
        self.map
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn get(&self, id: u64) -> Option<Arc<Entry>> {
        self.map.lock().ok().and_then(|m| m.get(&id).cloned())
    }
}

/// Keeps a session registered while alive.
#[derive(Debug)]
pub struct SessionHandle {
    entry: Arc<Entry>,
    reg: Arc<Registry>,
}

impl SessionHandle {
    pub fn entry(&self) -> &Arc<Entry> {
        &self.entry
    }

    /// Completes when `shutdown session` (or `shutdown sessions server`)
    /// targets this session.
    pub async fn killed(&self) {
        if self.entry.is_killed() {
            return;
        }
        self.entry.kill.notified().await;
    }

    /// Runs `fut` with this session as the current one (so that
    /// [`note_server`] finds it), stopping it early if killed.
    pub async fn run<F: std::future::Future<Output = ()>>(&self, fut: F) {
        CURRENT
            .scope(self.entry.clone(), async {
                tokio::select! {
                    _ = fut => {}
                    _ = self.killed() => {}
                }
            })
            .await;
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        if let Ok(mut m) = self.reg.map.lock() {
            m.remove(&self.entry.id);
        }
    }
}

tokio::task_local! {
    static CURRENT: Arc<Entry>;
}

/// The process-wide registry.
pub fn global() -> &'static Arc<Registry> {
    static R: OnceLock<Arc<Registry>> = OnceLock::new();
    R.get_or_init(Arc::default)
}

/// Registers a new client session of `frontend` in the process registry.
pub fn register(frontend: &str, src: Option<SocketAddr>) -> SessionHandle {
    global().add(frontend, src)
}

/// Records the server chosen for the current session (no-op outside a
/// [`SessionHandle::run`] scope).
pub fn note_server(backend: &str, server: &str) {
    let _ = CURRENT.try_with(|e| {
        if let Ok(mut t) = e.target.lock() {
            *t = Some((backend.to_string(), server.to_string()));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn register_list_kill_and_drop() {
        let reg = Arc::new(Registry::default());
        let h = reg.add("fe", "127.0.0.1:5000".parse().ok());
        assert_eq!(reg.list().len(), 1);
        let e = h.entry().clone();
        assert_eq!(e.proto(), "tcpv4");
        let run = h.run(async {
            note_server("web", "s1");
            std::future::pending::<()>().await
        });
        let killer = async {
            tokio::task::yield_now().await;
            reg.get(e.id).expect("listed").kill();
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            tokio::join!(run, killer)
        })
        .await
        .expect("the kill stops the session");
        assert_eq!(e.target(), Some(("web".into(), "s1".into())));
        drop(h);
        assert!(reg.list().is_empty());
    }
}
