//! The one per-session object: created once at accept, shared by the
//! fetches (task-local), the runtime API's session registry (`show sess`,
//! `shutdown session[s]`) and the frontend's `fe_conn` count.
//!
//! Owns: [`Sess`] (frontend, source, start time, chosen backend and
//! server, variables, stream count, kill switch), the task-local access
//! ([`scope`]), the process-wide variable scope `proc.`, and the
//! by-name lookups of live backends and frontends (`nbsrv(be)`,
//! `fe_conn(fe)`). Per connection this costs one allocation, the
//! frontend's `feconn` atomic, an id atomic and one short lock of a
//! registry shard ([`crate::stats::cmd::registry`]). Must not do I/O.

use super::smp::Smp;
use crate::metrics::ProxyCounters;
use crate::session::Frontend;
use crate::upstream::Backend;
use crate::upstream::server::ServerState;
use arc_swap::ArcSwapOption;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;
use tokio::sync::Notify;

/// Variables of one scope, by full name (`txn.foo`).
type VarMap = HashMap<String, Smp<'static>>;

/// One client session (HAProxy's session + stream, as far as the runtime
/// API and the fetches see them).
#[derive(Debug)]
pub struct Sess {
    /// The `show sess` id (unique while the process runs).
    pub id: u64,
    fe: Arc<Frontend>,
    pub src: Option<SocketAddr>,
    pub started: Instant,
    be: ArcSwapOption<Backend>,
    srv: ArcSwapOption<ServerState>,
    /// Empty maps do not allocate: the first `set-var` does.
    vars: Mutex<VarMap>,
    /// Streams (HTTP requests) started on this connection.
    streams: AtomicU32,
    kill: Notify,
    killed: AtomicBool,
}

impl Sess {
    /// A session of `fe` from `src`: counted in the frontend's `feconn`
    /// and listed in the session registry until dropped.
    pub fn new(fe: &Arc<Frontend>, src: Option<SocketAddr>) -> Arc<Sess> {
        fe.counters.feconn.fetch_add(1, Ordering::Relaxed);
        let s = Arc::new(Sess {
            id: crate::stats::cmd::registry::next_id(),
            fe: fe.clone(),
            src,
            started: Instant::now(),
            be: ArcSwapOption::empty(),
            srv: ArcSwapOption::empty(),
            vars: Mutex::new(HashMap::new()),
            streams: AtomicU32::new(0),
            kill: Notify::new(),
            killed: AtomicBool::new(false),
        });
        crate::stats::cmd::registry::insert(&s);
        s
    }

    pub fn frontend(&self) -> &Arc<Frontend> {
        &self.fe
    }

    /// The backend the session was switched to, if any yet.
    pub fn backend(&self) -> Option<Arc<Backend>> {
        self.be.load_full()
    }

    /// The server last chosen for the session, if any yet.
    pub fn server(&self) -> Option<Arc<ServerState>> {
        self.srv.load_full()
    }

    /// HAProxy's `proto=` word for this session.
    pub fn proto(&self) -> &'static str {
        match self.src {
            Some(SocketAddr::V4(_)) => "tcpv4",
            Some(SocketAddr::V6(_)) => "tcpv6",
            None => "unix_stream",
        }
    }

    /// Asks the session to stop (it closes both sides).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        // Unlisted at once: `show sess` right after the client saw the
        // close must not show it, whatever the order of the drops.
        crate::stats::cmd::registry::remove(self.id);
        self.kill.notify_one();
        // A parked session has no task to notice: the lot sweeps it.
        crate::session::park::poke();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Completes once [`Self::kill`] was called.
    pub async fn killed(&self) {
        if self.is_killed() {
            return;
        }
        self.kill.notified().await;
    }
}

impl Drop for Sess {
    fn drop(&mut self) {
        self.fe.counters.feconn.fetch_sub(1, Ordering::Relaxed);
        crate::stats::cmd::registry::remove(self.id);
    }
}

tokio::task_local! {
    static SESS: Arc<Sess>;
}

/// Runs `f` with `s` as the current session; stops it early (dropping
/// both connections) when the session is killed from the runtime API.
///
/// `f` (the whole session's state) is boxed once here and only the box
/// moves afterwards: every layer of futures around it would otherwise keep
/// its own copy of that state in every connection's task.
pub fn scope<F>(s: Arc<Sess>, f: F) -> impl std::future::Future<Output = ()> + Send
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let k = s.clone();
    let f = Box::pin(f);
    SESS.scope(s, async move {
        tokio::select! {
            _ = f => {}
            _ = k.killed() => {}
        }
    })
}

fn with<R>(f: impl FnOnce(&Sess) -> R) -> Option<R> {
    SESS.try_with(|s| f(s)).ok()
}

/// The current session.
pub fn current() -> Option<Arc<Sess>> {
    SESS.try_with(|s| s.clone()).ok()
}

/// The current frontend's name.
pub fn fe_name() -> Option<String> {
    with(|s| s.fe.name.clone())
}

/// Records the backend the session was switched to.
pub fn set_backend(be: &Arc<Backend>) {
    // Stored only when it changes: a keep-alive connection's next request
    // usually goes to the same backend, and an ArcSwap store costs a walk
    // over every thread's debt slots.
    with(|s| {
        if !s.be.load().as_ref().is_some_and(|c| Arc::ptr_eq(c, be)) {
            s.be.store(Some(be.clone()));
        }
    });
}

/// Records the server chosen for the current session (no-op outside a
/// session).
pub fn note_server(srv: &Arc<ServerState>) {
    with(|s| {
        if !s.srv.load().as_ref().is_some_and(|c| Arc::ptr_eq(c, srv)) {
            s.srv.store(Some(srv.clone()));
        }
    });
}

/// The backend the session was switched to, if any yet.
pub fn backend() -> Option<Arc<Backend>> {
    with(|s| s.backend()).flatten()
}

/// Starts a new stream (HTTP request): clears `txn.`/`req.`/`res.`
/// variables and counts it for `http_first_req`.
pub fn new_stream() {
    with(|s| {
        s.streams.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut v) = s.vars.lock()
            && !v.is_empty()
        {
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

fn frontends() -> &'static RwLock<HashMap<String, Arc<ProxyCounters>>> {
    static F: OnceLock<RwLock<HashMap<String, Arc<ProxyCounters>>>> = OnceLock::new();
    F.get_or_init(Default::default)
}

/// Makes a live frontend's counters reachable by name (`fe_conn(fe)`);
/// called once per accept loop, not per connection.
pub fn register_frontend(fe: &Frontend) {
    if let Ok(mut g) = frontends().write() {
        g.insert(fe.name.clone(), fe.counters.clone());
    }
}

/// Current connections of frontend `name` (`fe_conn`).
pub fn fe_conns(name: &str) -> u64 {
    if let Some(n) = with(|s| (s.fe.name == name).then(|| feconn(&s.fe.counters))).flatten() {
        return n;
    }
    frontends()
        .read()
        .ok()
        .and_then(|g| g.get(name).map(|c| feconn(c)))
        .unwrap_or(0)
}

fn feconn(c: &ProxyCounters) -> u64 {
    c.feconn.load(Ordering::Relaxed)
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

/// A frontend called `name` built from a minimal configuration (tests).
#[cfg(test)]
pub(crate) fn test_frontend(name: &str) -> Arc<Frontend> {
    let text = format!(
        "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
         listen {name}\n  bind 127.0.0.1:1\n  server s1 127.0.0.1:2\n"
    );
    let file = crate::config::source::SourceFile {
        name: "t.cfg".into(),
        content: text.into_bytes(),
    };
    let res = crate::config::check_files(
        std::slice::from_ref(&file),
        &|_| None,
        crate::config::check::Options::default(),
    );
    assert!(!res.failed, "config failed: {:?}", res.diags);
    let mut fes = crate::session::build::frontends(&res.config).expect("frontends build");
    fes.pop().expect("one frontend")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn vars_live_in_the_session() {
        let fe = test_frontend("fe-test-vars");
        register_frontend(&fe);
        let s = Sess::new(&fe, None);
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
            assert_eq!(fe_name().as_deref(), Some("fe-test-vars"));
        })
        .await;
        assert_eq!(fe_conns("fe-test-vars"), 0);
        assert_eq!(get_var("sess.b"), None);
    }

    #[tokio::test]
    async fn killed_session_stops_its_scope() {
        let fe = test_frontend("fe-test-kill");
        let s = Sess::new(&fe, "127.0.0.1:5000".parse().ok());
        let id = s.id;
        assert_eq!(s.proto(), "tcpv4");
        let run = scope(s, async {
            let srv = Arc::new(ServerState::new("s9", None, 1, false));
            note_server(&srv);
            std::future::pending::<()>().await
        });
        let killer = async {
            tokio::task::yield_now().await;
            let e = crate::stats::cmd::registry::get(id).expect("listed");
            assert_eq!(e.server().map(|s| s.name.clone()).as_deref(), Some("s9"));
            e.kill();
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            tokio::join!(run, killer)
        })
        .await
        .expect("the kill stops the session");
        assert!(crate::stats::cmd::registry::get(id).is_none());
        assert_eq!(feconn(&fe.counters), 0);
    }
}
