//! Getting a server connection for one HTTP request once its persistence
//! is decided, and again for a layer-7 retry (`retry-on`).
//!
//! Owns: the choice between the designated server (cookie, `use-server`)
//! and the balancer, idle-connection reuse for it, and where a retry goes
//! (same server, or another one per `option redispatch`). Must not send
//! anything on the connection.

use super::Backend;
use super::connect::{Bound, ConnectError, connect_bound, leaves_server};
use super::persist::Decision;
use super::pool::Lease;
use super::queue;
use std::net::IpAddr;
use std::sync::Arc;

/// A connection for a request: to its designated server when it has one
/// (queueing there when full), else to the balancer's pick. `reuse`: an
/// idle connection of that server may serve.
pub async fn acquire(
    be: &Backend,
    d: &Decision,
    src: IpAddr,
    reuse: bool,
) -> Result<Lease, ConnectError> {
    let guard = match &d.server {
        Some(s) => queue::slot_on_or_redispatch(be, s.clone(), src, d.force).await?,
        None => queue::slot(be, src).await?,
    };
    if d.server.is_none() {
        guard.server().counters.lb_pick();
    }
    if reuse && let Some(stream) = guard.server().pool.take() {
        crate::metrics::on_attempt(guard.server(), true);
        crate::session::fetch::sess::note_server(guard.server());
        return Ok(Lease {
            guard,
            stream,
            reused: true,
        });
    }
    let c = connect_bound(be, guard, src, bound(d)).await?;
    Ok(Lease {
        stream: c.stream,
        guard: c.guard,
        reused: false,
    })
}

/// How `d` binds its request to the first server.
pub fn bound(d: &Decision) -> Bound {
    Bound {
        direct: d.direct,
        force: d.force,
    }
}

/// A fresh connection for layer-7 retry number `retry` (1-based) after
/// `failed` gave an unwanted answer: on another server when HAProxy would
/// redispatch there (the request then stops being direct), else on the
/// same one, without the connect turn-around delay.
pub async fn retry(
    be: &Backend,
    failed: Lease,
    retry: u32,
    b: &mut Bound,
    src: IpAddr,
) -> Result<Lease, ConnectError> {
    let srv = failed.server().clone();
    drop(failed);
    let next = if leaves_server(be, &srv, retry, *b) {
        let other = be.balancer.pick(src, Some(&srv));
        if other.as_ref().is_some_and(|o| !Arc::ptr_eq(o, &srv)) {
            b.direct = false;
        }
        other.unwrap_or(srv)
    } else {
        srv
    };
    let guard = queue::slot_on_or_redispatch(be, next, src, b.force).await?;
    let c = connect_bound(be, guard, src, *b).await?;
    Ok(Lease {
        stream: c.stream,
        guard: c.guard,
        reused: false,
    })
}
