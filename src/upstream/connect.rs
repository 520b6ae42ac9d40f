//! Connecting to a server of a backend, with HAProxy's retry policy.
//!
//! Owns: the connect timeout, `retries`, the turn-around delay between
//! retries on the same server, and `option redispatch` (the last retry
//! picks another server). Must not write anything to the connection.

use super::Backend;
use super::server::{ConnGuard, ServerState};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// Why no server connection could be made; both map to a 503 in HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("no server available")]
    NoServer,
    #[error("connection to the server failed")]
    Failed,
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
pub async fn connect(be: &Backend, src: IpAddr) -> Result<Connected, ConnectError> {
    let srv = be.balancer.pick(src, None).ok_or(ConnectError::NoServer)?;
    connect_from(be, srv, src).await
}

/// Like [`connect`] with the first server already picked (the request's
/// balancing decision); retries and redispatch apply from there.
pub async fn connect_from(
    be: &Backend,
    mut srv: Arc<ServerState>,
    src: IpAddr,
) -> Result<Connected, ConnectError> {
    let mut left = be.retries;
    loop {
        let guard = srv.take();
        if let Some(stream) = try_once(&srv, be.connect_timeout).await {
            return Ok(Connected { stream, guard });
        }
        drop(guard);
        if left == 0 {
            return Err(ConnectError::Failed);
        }
        left -= 1;
        if be.redispatch
            && left == 0
            && let Some(other) = be.balancer.pick(src, Some(&srv))
        {
            srv = other;
            continue;
        }
        // HAProxy waits min(timeout connect, 1s) before hammering the same
        // server again.
        let pause = be
            .connect_timeout
            .map_or(Duration::from_secs(1), |c| c.min(Duration::from_secs(1)));
        tokio::time::sleep(pause).await;
    }
}

async fn try_once(srv: &ServerState, timeout: Option<Duration>) -> Option<TcpStream> {
    let addr = srv.addr?;
    let fut = TcpStream::connect(addr);
    let res = match timeout {
        Some(t) => tokio::time::timeout(t, fut).await.ok()?,
        None => fut.await,
    };
    let s = res.ok()?;
    let _ = s.set_nodelay(true);
    Some(s)
}
