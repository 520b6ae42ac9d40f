//! Per-session facts that fetches read but the message does not carry:
//! variables, the frontend and backend names, connection counters, and the
//! registry of live backends (`nbsrv(be)`, `srv_is_up(be/srv)`).
//!
//! Owns: the task-local [`Sess`] (set around each client session by
//! [`scope`]) and the process-wide variable scope `proc.`. Must not do I/O.

use super::smp::Smp;
use crate::upstream::Backend;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// Variables of one scope, by full name (`txn.foo`).
type VarMap = HashMap<String, Smp<'static>>;

/// The facts of one client session.
#[derive(Debug)]
pub struct Sess {
    fe: String,
    be: Mutex<Option<Arc<Backend>>>,
    vars: Mutex<VarMap>,
    /// Streams (HTTP requests) started on this connection.
    streams: AtomicU32,
    fe_conns: Arc<AtomicU64>,
}

impl Sess {
    /// A session of frontend `fe`; counts it in `fe_conn` while alive.
    pub fn new(fe: &str) -> Arc<Sess> {
        let fe_conns = fe_counter(fe);
        fe_conns.fetch_add(1, Ordering::Relaxed);
        Arc::new(Sess {
            fe: fe.to_string(),
            be: Mutex::new(None),
            vars: Mutex::new(HashMap::new()),
            streams: AtomicU32::new(0),
            fe_conns,
        })
    }
}

impl Drop for Sess {
    fn drop(&mut self) {
        self.fe_conns.fetch_sub(1, Ordering::Relaxed);
    }
}

tokio::task_local! {
    static SESS: Arc<Sess>;
}

/// Runs `f` with `s` as the current session.
pub async fn scope<F: std::future::Future>(s: Arc<Sess>, f: F) -> F::Output {
    SESS.scope(s, f).await
}

fn with<R>(f: impl FnOnce(&Sess) -> R) -> Option<R> {
    SESS.try_with(|s| f(s)).ok()
}

/// The current frontend's name.
pub fn fe_name() -> Option<String> {
    with(|s| s.fe.clone())
}

/// Records the backend the session was switched to.
pub fn set_backend(be: &Arc<Backend>) {
    with(|s| {
        if let Ok(mut g) = s.be.lock() {
            *g = Some(be.clone());
        }
    });
}

/// The backend the session was switched to, if any yet.
pub fn backend() -> Option<Arc<Backend>> {
    with(|s| s.be.lock().ok().and_then(|g| g.clone())).flatten()
}

/// Starts a new stream (HTTP request): clears `txn.`/`req.`/`res.`
/// variables and counts it for `http_first_req`.
pub fn new_stream() {
    with(|s| {
        s.streams.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut v) = s.vars.lock() {
            v.retain(|k, _| k.starts_with("sess."));
        }
    });
}

/// Whether the current stream is the connection's first one.
pub fn first_stream() -> bool {
    with(|s| s.streams.load(Ordering::Relaxed) <= 1).unwrap_or(true)
}

fn proc_vars() -> &'static Mutex<VarMap> {
    static P: OnceLock<Mutex<VarMap>> = OnceLock::new();
    P.get_or_init(Default::default)
}

fn var_map<R>(name: &str, f: impl FnOnce(&mut VarMap) -> R) -> Option<R> {
    if name.starts_with("proc.") {
        return proc_vars().lock().ok().map(|mut g| f(&mut g));
    }
    with(|s| s.vars.lock().ok().map(|mut g| f(&mut g))).flatten()
}

/// Reads variable `name` (scope included).
pub fn get_var(name: &str) -> Option<Smp<'static>> {
    var_map(name, |m| m.get(name).cloned()).flatten()
}

/// Sets variable `name`.
pub fn set_var(name: &str, v: Smp<'_>) {
    let v = v.into_owned();
    var_map(name, |m| m.insert(name.to_string(), v));
}

/// Removes variable `name`.
pub fn unset_var(name: &str) {
    var_map(name, |m| m.remove(name));
}

fn fe_counter(name: &str) -> Arc<AtomicU64> {
    static C: OnceLock<Mutex<HashMap<String, Arc<AtomicU64>>>> = OnceLock::new();
    let m = C.get_or_init(Default::default);
    match m.lock() {
        Ok(mut g) => g.entry(name.to_string()).or_default().clone(),
        Err(_) => Arc::default(),
    }
}

/// Current connections of frontend `name` (`fe_conn`).
pub fn fe_conns(name: &str) -> u64 {
    fe_counter(name).load(Ordering::Relaxed)
}

fn registry() -> &'static RwLock<HashMap<String, Arc<Backend>>> {
    static R: OnceLock<RwLock<HashMap<String, Arc<Backend>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Makes a live backend reachable by name (`nbsrv(be)`, `srv_is_up`).
pub fn register_backend(be: &Arc<Backend>) {
    if let Ok(mut g) = registry().write() {
        g.insert(be.name.clone(), be.clone());
    }
}

/// The live backend called `name`.
pub fn lookup_backend(name: &str) -> Option<Arc<Backend>> {
    registry().read().ok().and_then(|g| g.get(name).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn vars_live_in_the_session() {
        let s = Sess::new("fe-test-vars");
        scope(s, async {
            assert_eq!(fe_conns("fe-test-vars"), 1);
            set_var("txn.a", Smp::Int(3));
            set_var("sess.b", Smp::Int(4));
            assert_eq!(get_var("txn.a"), Some(Smp::Int(3)));
            new_stream();
            assert_eq!(get_var("txn.a"), None);
            assert_eq!(get_var("sess.b"), Some(Smp::Int(4)));
            assert!(first_stream());
            new_stream();
            assert!(!first_stream());
        })
        .await;
        assert_eq!(fe_conns("fe-test-vars"), 0);
        assert_eq!(get_var("sess.b"), None);
    }
}
