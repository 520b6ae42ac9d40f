//! Connecting to a server of a backend, with HAProxy's retry policy.
//!
//! Owns: the connect timeout, `retries`, the turn-around delay between
//! retries on the same server, and `option redispatch [<interval>]`
//! (which retries pick another server, see [`leaves_server`]). Must not write anything to the connection.

use super::Backend;
use super::server::{ConnGuard, ServerState};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// Why no server connection could be made; all map to a 503 in HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("no server available")]
    NoServer,
    #[error("connection to the server failed")]
    Failed,
    #[error("queue timeout")]
    QueueTimeout,
}

/// A connected server with its connection counted.
#[derive(Debug)]
pub struct Connected {
    pub stream: TcpStream,
    pub guard: ConnGuard,
}

impl Connected {
    pub fn server(&self) -> &Arc<ServerState> {
        self.guard.server()
    }
}

/// Picks a server and connects, retrying like HAProxy: up to `retries`
/// more attempts on the same server after a short turn-around delay; with
/// `option redispatch` the last attempt goes to another server at once.
/// A full server queues the request first (see [`super::queue`]).
pub async fn connect(be: &Backend, src: IpAddr) -> Result<Connected, ConnectError> {
    let guard = super::queue::slot(be, src).await?;
    guard.server().counters.lb_pick();
    connect_with(be, guard, src).await
}

/// Like [`connect`] with the first server already picked (the request's
/// balancing decision); retries and redispatch apply from there.
pub async fn connect_from(
    be: &Backend,
    srv: Arc<ServerState>,
    src: IpAddr,
) -> Result<Connected, ConnectError> {
    let guard = super::queue::slot_on_or_redispatch(be, srv, src, false).await?;
    connect_with(be, guard, src).await
}

/// Connects to the server whose slot `guard` holds; the slot is kept
/// across retries on that server and traded on redispatch.
pub async fn connect_with(
    be: &Backend,
    guard: ConnGuard,
    src: IpAddr,
) -> Result<Connected, ConnectError> {
    connect_bound(be, guard, src, Bound::default()).await
}

/// How a request is tied to its first server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bound {
    /// Sent where its cookie or a `use-server` rule said (`SF_DIRECT`).
    pub direct: bool,
    /// `force-persist` matched: never redispatched.
    pub force: bool,
}

/// Whether retry number `retry` (1-based) of a request on `srv` goes to
/// another server (HAProxy's `stream_choose_redispatch`).
pub fn leaves_server(be: &Backend, srv: &ServerState, retry: u32, bound: Bound) -> bool {
    let free = !bound.direct && !be.balancer.hash_based() && be.balancer.active_in_service() > 1;
    let down = !super::persist::running(srv);
    super::retry::redispatch_now(
        be.policy.redispatch,
        be.retries,
        retry,
        down,
        bound.force,
        free,
    )
}

/// [`connect_with`] for a request bound to its server as `bound` says.
/// Connection failures are retried only with `retry-on conn-failure`
/// (the default), up to `retries` times; a retry leaving the server
/// (see [`leaves_server`]) goes at once, one staying waits the
/// turn-around delay first.
pub async fn connect_bound(
    be: &Backend,
    mut guard: ConnGuard,
    src: IpAddr,
    bound: Bound,
) -> Result<Connected, ConnectError> {
    let mut retry = 0;
    let mut first = true;
    loop {
        if !first {
            guard.server().count_attempt();
        }
        first = false;
        crate::metrics::on_attempt(guard.server(), false);
        if let Some(stream) = try_once(guard.server(), be.connect_timeout).await {
            guard.server().counters.observe.conn_ok();
            crate::session::fetch::sess::note_server(guard.server());
            return Ok(Connected { stream, guard });
        }
        guard.server().counters.observe.conn_failed();
        if !be.policy.retry_on.conn_failure || retry >= be.retries {
            guard.server().counters.conn_error();
            return Err(ConnectError::Failed);
        }
        retry += 1;
        if leaves_server(be, guard.server(), retry, bound)
            && let Some(other) = be.balancer.pick(src, Some(guard.server()))
            && !Arc::ptr_eq(&other, guard.server())
            && let Some(g) = other.try_take()
        {
            guard.server().counters.redispatch();
            guard = g;
            guard.server().counters.lb_pick();
            first = true;
            continue;
        }
        guard.server().counters.retry();
        // HAProxy waits min(timeout connect, 1s) before hammering the same
        // server again.
        let pause = be
            .connect_timeout
            .map_or(Duration::from_secs(1), |c| c.min(Duration::from_secs(1)));
        tokio::time::sleep(pause).await;
    }
}

async fn try_once(srv: &ServerState, timeout: Option<Duration>) -> Option<TcpStream> {
    let addr = srv.cur_addr()?;
    let fut = super::source::connect(addr, srv.source);
    let res = match timeout {
        Some(t) => tokio::time::timeout(t, fut).await.ok()?,
        None => fut.await,
    };
    let s = res.ok()?;
    let _ = s.set_nodelay(true);
    Some(s)
}
