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
        && super::splice::tunnel(client, &server.stream, ct, st)
            .await
            .is_ok()
    {
        tx.socket_totals(client);
        return;
    }
    tunnel(tx.count(io), server.stream, ct, st).await;
}

/// Copies both ways until both sides are done or one side is idle for
/// longer than its timeout with no traffic in the other direction either.
pub async fn tunnel<A, B>(a: A, b: B, a_timeout: Option<Duration>, b_timeout: Option<Duration>)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    let last = AtomicU64::new(0);
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let up = pipe(ar, bw, a_timeout, &last, start);
    let down = pipe(br, aw, b_timeout, &last, start);
    // Not `try_join`: a failed direction (say the server closed while the
    // client was still sending) must not drop what the other direction
    // still carries (the server's last answer), as HAProxy delivers it.
    let _ = tokio::join!(up, down);
}

async fn pipe<R, W>(
    mut r: R,
    mut w: W,
    idle: Option<Duration>,
    last: &AtomicU64,
    start: Instant,
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
                let _ = w.shutdown().await;
                return Err(e);
            }
        };
        if n == 0 {
            let _ = w.shutdown().await;
            return Ok(());
        }
        last.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
        w.write_all(&buf[..n]).await?;
    }
}
