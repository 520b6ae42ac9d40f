//! `mode tcp` sessions: pick a backend, connect, copy bytes both ways.
//!
//! Owns: the bidirectional copy with HAProxy's inactivity timeouts
//! (`timeout client` while waiting on the client, `timeout server` on the
//! server, `timeout tunnel` replacing both when set) and half-close
//! propagation. Must not look inside the bytes.

use super::{ClientInfo, Frontend};
use crate::upstream::connect::connect;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub async fn serve<S>(mut io: S, info: ClientInfo, fe: Arc<Frontend>)
where
    S: super::stream::ClientStream,
{
    // `tcp-request content` rules (frontend, then backend role): the bytes
    // read while inspecting go to the server first.
    let base = super::tcp_rules::conn_ctx(&info);
    let mut pending = Vec::new();
    let fr = &fe.tcp_rules;
    let d = super::tcp_rules::inspect(
        &mut io,
        &mut pending,
        &fr.content,
        fr.inspect_delay,
        base,
        false,
    );
    if !d.await.proceeds() {
        return;
    }
    let Some(route) = super::tcp_rules::with_data(base, &pending, |c| fe.route(c).cloned()) else {
        return;
    };
    let mut tx = crate::metrics::Txn::tcp_to(&fe.counters, &route.be.counters);
    let br = &route.tcp_rules;
    let d = super::tcp_rules::inspect(
        &mut io,
        &mut pending,
        &br.content,
        br.inspect_delay,
        base,
        false,
    );
    if !d.await.proceeds() {
        return;
    }
    let src_ip = info
        .src
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let Ok(mut server) = connect(&route.be, src_ip).await else {
        return;
    };
    tx.server(server.server(), false);
    if !pending.is_empty() && server.stream.write_all(&pending).await.is_err() {
        return;
    }
    tx.bytes_in(pending.len());
    drop(pending);
    // `tcp-response content` rules: inspect the server's first bytes.
    if !br.response.is_empty() {
        let mut first = Vec::new();
        let d = super::tcp_rules::inspect(
            &mut server.stream,
            &mut first,
            &br.response,
            br.res_inspect_delay,
            base,
            true,
        );
        if !d.await.proceeds() || (!first.is_empty() && io.write_all(&first).await.is_err()) {
            return;
        }
        tx.bytes_out(first.len());
    }
    let (ct, st) = match route.tunnel_timeout {
        Some(t) => (Some(t), Some(t)),
        None => (fe.client_timeout, route.be.server_timeout),
    };
    let _guard = server.guard;
    // Zero-copy when both ends are TCP sockets (Linux splice(2)).
    if let Some(client) = io.tcp()
        && let Ok(end) = super::splice::tunnel(client, &server.stream, ct, st).await
    {
        tx.socket_totals(client);
        end.count(&mut tx);
        return;
    }
    let end = tunnel(tx.count(io), server.stream, ct, st).await;
    end.count(&mut tx);
}

/// Which side broke a tunnel first (`show stat`'s `cli_abrt`/`srv_abrt`):
/// an error or an inactivity timeout while reading or writing it. A clean
/// close on both sides is no abort.
#[derive(Debug, Default)]
pub struct Aborts(std::sync::atomic::AtomicU8);

impl Aborts {
    const CLIENT: u8 = 1;
    const SERVER_WRITE: u8 = 2;
    const SERVER_READ: u8 = 3;

    /// Records a failed direction (`up`: client to server) unless another
    /// failure came first.
    pub fn fail(&self, up: bool, reading: bool) {
        let code = match (up, reading) {
            (true, true) | (false, false) => Self::CLIENT,
            (true, false) => Self::SERVER_WRITE,
            (false, true) => Self::SERVER_READ,
        };
        let _ = self
            .0
            .compare_exchange(0, code, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Adds the abort, if any, to the session's counters.
    pub fn count(&self, tx: &mut crate::metrics::Txn) {
        match self.0.load(Ordering::Relaxed) {
            Self::CLIENT => tx.client_abort(),
            Self::SERVER_WRITE => tx.server_abort(false),
            Self::SERVER_READ => tx.server_abort(true),
            _ => {}
        }
    }
}

/// Copies both ways until both sides are done or one side is idle for
/// longer than its timeout with no traffic in the other direction either.
pub async fn tunnel<A, B>(
    a: A,
    b: B,
    a_timeout: Option<Duration>,
    b_timeout: Option<Duration>,
) -> Aborts
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    let last = AtomicU64::new(0);
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let aborts = Aborts::default();
    let up = pipe(ar, bw, a_timeout, &last, start, |r| aborts.fail(true, r));
    let down = pipe(br, aw, b_timeout, &last, start, |r| aborts.fail(false, r));
    // Not `try_join`: a failed direction (say the server closed while the
    // client was still sending) must not drop what the other direction
    // still carries (the server's last answer), as HAProxy delivers it.
    let _ = tokio::join!(up, down);
    aborts
}

async fn pipe<R, W>(
    mut r: R,
    mut w: W,
    idle: Option<Duration>,
    last: &AtomicU64,
    start: Instant,
    fail: impl Fn(bool),
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16384];
    loop {
        let got = match idle {
            None => r.read(&mut buf).await,
            Some(t) => loop {
                match tokio::time::timeout(t, r.read(&mut buf)).await {
                    Ok(res) => break res,
                    Err(_) => {
                        let since =
                            start.elapsed().as_millis() as u64 - last.load(Ordering::Relaxed);
                        if since >= t.as_millis() as u64 {
                            fail(true);
                            return Err(std::io::ErrorKind::TimedOut.into());
                        }
                    }
                }
            },
        };
        let n = match got {
            Ok(n) => n,
            Err(e) => {
                // The source is gone: tell the other end.
                fail(true);
                let _ = w.shutdown().await;
                return Err(e);
            }
        };
        if n == 0 {
            let _ = w.shutdown().await;
            return Ok(());
        }
        last.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
        if let Err(e) = w.write_all(&buf[..n]).await {
            fail(false);
            return Err(e);
        }
    }
}
