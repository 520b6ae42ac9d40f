//! The registry of live client sessions, for `show sess` and
//! `shutdown session[s]`, and for the servers' `on-marked-down
//! shutdown-sessions` / `on-marked-up shutdown-backup-sessions`.
//!
//! Owns: a process-wide, sharded map from session id to a weak reference
//! of the session object ([`Sess`], which lives in
//! [`crate::session::fetch::sess`] and inserts/removes itself). Insert
//! and remove take one shard lock, uncontended in practice (shards are
//! picked by id). Must not touch session bytes.

use crate::session::fetch::sess::Sess;
use crate::upstream::server::ServerState;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// What `show sess` lists: the session object itself.
pub type Entry = Sess;

const SHARDS: usize = 16;

type Shard = Mutex<HashMap<u64, Weak<Sess>>>;

fn shards() -> &'static [Shard; SHARDS] {
    static S: OnceLock<[Shard; SHARDS]> = OnceLock::new();
    S.get_or_init(|| std::array::from_fn(|_| Mutex::new(HashMap::new())))
}

fn shard(id: u64) -> &'static Shard {
    // Ids step by 0x10: use the bits above.
    &shards()[((id >> 4) as usize) % SHARDS]
}

/// A fresh session id (a recognisable, non-zero "pointer").
pub fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    0x1000 + NEXT.fetch_add(1, Ordering::Relaxed) * 0x10
}

/// Lists `s` (called by [`Sess::new`]).
pub fn insert(s: &Arc<Sess>) {
    if let Ok(mut m) = shard(s.id).lock() {
        m.insert(s.id, Arc::downgrade(s));
    }
}

/// Unlists session `id` (called when the session is dropped).
pub fn remove(id: u64) {
    if let Ok(mut m) = shard(id).lock() {
        m.remove(&id);
    }
}

/// The live session `id`.
pub fn get(id: u64) -> Option<Arc<Sess>> {
    shard(id)
        .lock()
        .ok()
        .and_then(|m| m.get(&id).and_then(Weak::upgrade))
}

/// A snapshot of the live sessions, oldest first.
pub fn list() -> Vec<Arc<Sess>> {
    let mut out = Vec::new();
    for s in shards() {
        if let Ok(m) = s.lock() {
            out.extend(m.values().filter_map(Weak::upgrade));
        }
    }
    out.sort_by_key(|s| s.id);
    out
}

/// `(backend, server)` names once a server was chosen.
pub fn target(s: &Sess) -> Option<(String, String)> {
    let srv = s.server()?;
    let be = s
        .backend()
        .map_or_else(|| s.frontend().name.clone(), |b| b.name.clone());
    Some((be, srv.name.clone()))
}

/// Kills every session whose chosen server is `srv`; returns how many.
pub fn kill_on_server(srv: &Arc<ServerState>) -> usize {
    let mut n = 0;
    for s in list() {
        if s.server().is_some_and(|x| Arc::ptr_eq(&x, srv)) {
            s.kill();
            n += 1;
        }
    }
    n
}

/// Kills every session whose chosen server is one of `servers`.
pub fn kill_on_servers(servers: &[&Arc<ServerState>]) -> usize {
    let mut n = 0;
    for s in list() {
        if s.server()
            .is_some_and(|x| servers.iter().any(|b| Arc::ptr_eq(&x, b)))
        {
            s.kill();
            n += 1;
        }
    }
    n
}

/// A server of a backend (`all` its servers) changed state: applies
/// `on-marked-down shutdown-sessions` (now down) and `on-marked-up
/// shutdown-backup-sessions` (was down, now up; only for an active
/// server: it ends the sessions on the backend's backup servers).
pub fn on_state_change(
    all: &[Arc<ServerState>],
    srv: &Arc<ServerState>,
    was_down: bool,
    down: bool,
) {
    if down && !was_down && srv.shutdown_on_down.load(Ordering::Relaxed) {
        kill_on_server(srv);
    }
    if was_down && !down && !srv.backup && srv.shutdown_backups_on_up.load(Ordering::Relaxed) {
        let backups: Vec<&Arc<ServerState>> = all.iter().filter(|s| s.backup).collect();
        kill_on_servers(&backups);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fetch::sess::test_frontend;

    #[tokio::test]
    async fn sessions_insert_list_and_leave() {
        let fe = test_frontend("fe_reg_test");
        let a = Sess::new(&fe, None);
        let b = Sess::new(&fe, "[::1]:80".parse().ok());
        let ids: Vec<u64> = list()
            .iter()
            .filter(|s| s.frontend().name == "fe_reg_test")
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, vec![a.id, b.id]);
        assert_eq!(b.proto(), "tcpv6");
        assert!(target(&a).is_none());
        let (ida, idb) = (a.id, b.id);
        drop(a);
        assert!(get(ida).is_none());
        assert!(get(idb).is_some());
        drop(b);
        assert!(get(idb).is_none());
    }
}
