//! `mode http` sessions (HTTP/1.x): keep-alive on the client side, one
//! server connection per request for now.
//!
//! Owns: the request/response loop of one client connection: head timeouts
//! (408), parse errors (400), rules, backend switching, connect errors
//! (503), server errors (502/504), connection-mode headers, and the
//! switch to a tunnel on `101`. Wire details live in [`head`] and [`body`],
//! generated pages in [`errors`]. Must not pick servers itself.

pub mod body;
pub mod errors;
pub mod head;

use super::rules::{Conn, Verdict, run_request, run_response};
use super::{ClientInfo, Frontend, Route};
use crate::runtime::drain::Drain;
use crate::upstream::connect::connect;
use body::{BodyError, Timeouts, fill, send};
use head::{Framing, Parsed, Request, Response};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// `tune.bufsize` minus `tune.maxrewrite` (HAProxy's defaults): the
/// largest request or response head accepted.
pub const MAX_HEAD: usize = 16384 - 1024;

/// How one exchange ended for the client connection.
enum Next {
    KeepAlive,
    Close,
}

/// Serves one HTTP client connection.
pub async fn serve<S>(mut io: S, info: ClientInfo, fe: Arc<Frontend>, drain: Arc<Drain>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let conn = Conn {
        src: info.src,
        dst: info.dst,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(16384);
    let mut first = true;
    let mut stop = drain.watch();
    loop {
        let timeout = if first {
            fe.http_request_timeout
        } else {
            fe.keep_alive_timeout
        };
        let got = read_head(
            &mut io,
            &mut buf,
            timeout,
            fe.http_request_timeout,
            &mut stop,
            first,
        )
        .await;
        let (req, n) = match got {
            HeadRead::Done(r, n) => (r, n),
            HeadRead::Quiet => break,
            HeadRead::Error(status) => {
                let _ = send(&mut io, &errors::mux_page(status), fe.client_timeout).await;
                break;
            }
        };
        buf.drain(..n);
        first = false;
        match exchange(&mut io, &mut buf, req, &fe, &conn, &drain).await {
            Next::KeepAlive => continue,
            Next::Close => break,
        }
    }
    let _ = io.shutdown().await;
}

enum HeadRead {
    Done(Request, usize),
    /// Close without answering (idle keep-alive expiry, client gone).
    Quiet,
    /// Answer with this mux error page, then close.
    Error(u16),
}

async fn read_head<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
    idle: Option<Duration>,
    request: Option<Duration>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
    first: bool,
) -> HeadRead {
    let mut deadline = idle.map(|t| tokio::time::Instant::now() + t);
    let mut started = !buf.is_empty();
    loop {
        if !buf.is_empty() {
            match head::parse_request(buf) {
                Parsed::Done(r, n) => return HeadRead::Done(r, n),
                Parsed::Invalid => return HeadRead::Error(400),
                Parsed::Partial if buf.len() >= MAX_HEAD => return HeadRead::Error(400),
                Parsed::Partial => {}
            }
            if !started {
                // The request has begun: `timeout http-request` now applies.
                started = true;
                deadline = request.map(|t| tokio::time::Instant::now() + t);
            }
        }
        let idle_conn = buf.is_empty() && !first;
        if idle_conn && *stop.borrow() {
            return HeadRead::Quiet;
        }
        let read = fill(buf, io, None);
        let res = tokio::select! {
            r = read => r,
            _ = sleep_until(deadline) => {
                return if buf.is_empty() && !first { HeadRead::Quiet } else { HeadRead::Error(408) };
            }
            _ = stop.changed(), if idle_conn => return HeadRead::Quiet,
        };
        match res {
            Ok(0) | Err(_) => return HeadRead::Quiet,
            Ok(_) => {}
        }
    }
}

async fn sleep_until(d: Option<tokio::time::Instant>) {
    match d {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Whether the client connection must close after this exchange.
fn client_wants_close(req: &Request, fe: &Frontend, drain: &Drain) -> bool {
    req.conn_close
        || (req.minor == 0 && !req.conn_keep_alive)
        || req.forced_close
        || fe.httpclose
        || drain.is_stopping()
}

/// Sends a locally generated reply; the connection survives only when the
/// request carried no body we would have to skip.
async fn reply<S: AsyncWrite + Unpin>(
    io: &mut S,
    bytes: &[u8],
    fe: &Frontend,
    close: bool,
) -> Next {
    if send(io, bytes, fe.client_timeout).await.is_err() || close {
        Next::Close
    } else {
        Next::KeepAlive
    }
}

async fn exchange<S>(
    io: &mut S,
    buf: &mut Vec<u8>,
    mut req: Request,
    fe: &Frontend,
    conn: &Conn,
    drain: &Drain,
) -> Next
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut close = client_wants_close(&req, fe, drain);
    let has_body = req.framing != Framing::None;
    // Generated replies cannot skip an unread body safely: close instead.
    let reply_close = |close: bool| close || has_body;

    match run_request(&fe.req_rules, &mut req, conn) {
        Verdict::Continue => {}
        Verdict::Reply(r) => {
            let c = reply_close(close);
            let bytes = r.render(&conn.ctx(Some(&req), None), c);
            return reply(io, &bytes, fe, c).await;
        }
        Verdict::Redirect(r) => {
            let c = reply_close(close);
            let bytes = r.render(&conn.ctx(Some(&req), None), c);
            return reply(io, &bytes, fe, c).await;
        }
    }
    let Some(route) = fe.route(&conn.ctx(Some(&req), None)).cloned() else {
        let c = reply_close(close);
        return reply(io, &errors::stream_page(503, c), fe, c).await;
    };
    match run_request(&route.req_rules, &mut req, conn) {
        Verdict::Continue => {}
        Verdict::Reply(r) => {
            let c = reply_close(close);
            let bytes = r.render(&conn.ctx(Some(&req), None), c);
            return reply(io, &bytes, fe, c).await;
        }
        Verdict::Redirect(r) => {
            let c = reply_close(close);
            let bytes = r.render(&conn.ctx(Some(&req), None), c);
            return reply(io, &bytes, fe, c).await;
        }
    }
    close |= route.httpclose;
    add_forwardfor(&mut req, fe, &route, conn);

    let src_ip = conn
        .src
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let server = match connect(&route.be, src_ip).await {
        Ok(s) => s,
        Err(_) => {
            let c = reply_close(close);
            return reply(io, &errors::stream_page(503, c), fe, c).await;
        }
    };
    let _guard = server.guard;
    let mut srv = server.stream;
    let st = route.be.server_timeout;
    let ct = fe.client_timeout;

    // Request head and body to the server.
    let mut out = Vec::with_capacity(1024);
    let start = format!("{} {} HTTP/1.{}", req.method, req.uri, req.minor);
    let server_close = route.server_close || fe.server_close || route.httpclose || fe.httpclose;
    let conn_hdr: &[(&str, &[u8])] =
        if req.conn_upgrade && req.headers.iter().any(|h| h.name == "upgrade") {
            &[("connection", b"upgrade")]
        } else if server_close {
            &[("connection", b"close")]
        } else if req.minor == 0 {
            &[("connection", b"keep-alive")]
        } else {
            &[]
        };
    head::write_head(&mut out, start.as_bytes(), &req.headers, conn_hdr);
    if send(&mut srv, &out, st).await.is_err() {
        return reply(io, &errors::stream_page(502, true), fe, true).await;
    }
    let up = Timeouts {
        read: ct,
        write: st,
    };
    match body::forward(buf, io, &mut srv, req.framing, up).await {
        Ok(()) => {}
        Err(BodyError::Invalid) => {
            let _ = send(io, &errors::mux_page(400), ct).await;
            return Next::Close;
        }
        Err(BodyError::ReadTimeout) => {
            let _ = send(io, &errors::mux_page(408), ct).await;
            return Next::Close;
        }
        Err(BodyError::Read(_) | BodyError::Truncated) => return Next::Close,
        Err(BodyError::Write(_) | BodyError::WriteTimeout) => {
            return reply(io, &errors::stream_page(502, true), fe, true).await;
        }
    }

    // Response head(s): forward 1xx interim responses, stop at the final one.
    let head_req = req.method == "HEAD";
    let mut sbuf: Vec<u8> = Vec::with_capacity(16384);
    let mut resp = loop {
        match read_response(&mut srv, &mut sbuf, st, head_req).await {
            Ok(r) if (100..200).contains(&r.status) && r.status != 101 => {
                let mut o = Vec::new();
                let start = format!("HTTP/1.1 {} {}", r.status, r.reason);
                head::write_head(&mut o, start.as_bytes(), &r.headers, &[]);
                if send(io, &o, ct).await.is_err() {
                    return Next::Close;
                }
            }
            Ok(r) => break r,
            Err(status) => {
                let c = reply_close(close);
                return reply(io, &errors::stream_page(status, c), fe, c).await;
            }
        }
    };

    let mut verdict = run_response(&route.resp_rules, &req, &mut resp, conn);
    if let Verdict::Continue = verdict {
        verdict = run_response(&fe.resp_rules, &req, &mut resp, conn);
    }
    match verdict {
        Verdict::Continue => {}
        Verdict::Reply(r) => {
            let c = reply_close(close);
            let bytes = r.render(&conn.ctx(Some(&req), Some(&resp)), c);
            return reply(io, &bytes, fe, c).await;
        }
        Verdict::Redirect(r) => {
            let c = reply_close(close);
            let bytes = r.render(&conn.ctx(Some(&req), Some(&resp)), c);
            return reply(io, &bytes, fe, c).await;
        }
    }

    if resp.status == 101 {
        return upgrade(io, buf, srv, &sbuf, &resp, fe, &route).await;
    }
    close |= resp.framing == Framing::UntilClose;
    let conn_hdr: &[(&str, &[u8])] = if close {
        &[("connection", b"close")]
    } else if !close && req.minor == 0 {
        &[("connection", b"keep-alive")]
    } else {
        &[]
    };
    let mut o = Vec::with_capacity(1024);
    let start = format!("HTTP/1.1 {} {}", resp.status, resp.reason);
    head::write_head(&mut o, start.as_bytes(), &resp.headers, conn_hdr);
    if send(io, &o, ct).await.is_err() {
        return Next::Close;
    }
    let down = Timeouts {
        read: st,
        write: ct,
    };
    if body::forward(&mut sbuf, &mut srv, io, resp.framing, down)
        .await
        .is_err()
    {
        return Next::Close;
    }
    if close { Next::Close } else { Next::KeepAlive }
}

/// Reads a response head; `Err` carries the status to answer with.
async fn read_response(
    srv: &mut TcpStream,
    sbuf: &mut Vec<u8>,
    st: Option<Duration>,
    head_req: bool,
) -> Result<Response, u16> {
    loop {
        if !sbuf.is_empty() {
            match head::parse_response(sbuf, head_req) {
                Parsed::Done(r, n) => {
                    sbuf.drain(..n);
                    return Ok(r);
                }
                Parsed::Invalid => return Err(502),
                Parsed::Partial if sbuf.len() >= MAX_HEAD => return Err(502),
                Parsed::Partial => {}
            }
        }
        match fill(sbuf, srv, st).await {
            Ok(0) => return Err(502),
            Ok(_) => {}
            Err(BodyError::ReadTimeout) => return Err(504),
            Err(_) => return Err(502),
        }
    }
}

fn add_forwardfor(req: &mut Request, fe: &Frontend, route: &Route, conn: &Conn) {
    // The backend's setting wins over the frontend's, like HAProxy.
    let Some(ff) = route.forwardfor.as_ref().or(fe.forwardfor.as_ref()) else {
        return;
    };
    let Some(src) = conn.src else { return };
    if ff.if_none && req.headers.iter().any(|h| h.name == ff.header) {
        return;
    }
    if let Some(ex) = &ff.except
        && !ex.eval(&conn.ctx(Some(req), None))
    {
        return;
    }
    let ip = match src.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    req.headers.push(head::Header {
        name: ff.header.clone(),
        value: ip.to_string().into_bytes(),
    });
}

/// `101 Switching Protocols`: forward the head, then both directions raw.
async fn upgrade<S>(
    io: &mut S,
    buf: &mut Vec<u8>,
    mut srv: TcpStream,
    sbuf: &[u8],
    resp: &Response,
    fe: &Frontend,
    route: &Route,
) -> Next
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut o = Vec::new();
    let start = format!("HTTP/1.1 {} {}", resp.status, resp.reason);
    let upg = resp.headers.iter().any(|h| h.name == "upgrade");
    let extra: &[(&str, &[u8])] = if upg {
        &[("connection", b"upgrade")]
    } else {
        &[]
    };
    head::write_head(&mut o, start.as_bytes(), &resp.headers, extra);
    o.extend_from_slice(sbuf);
    if send(io, &o, fe.client_timeout).await.is_err() {
        return Next::Close;
    }
    if !buf.is_empty() && send(&mut srv, buf, route.be.server_timeout).await.is_err() {
        return Next::Close;
    }
    buf.clear();
    let (ct, st) = match route.tunnel_timeout {
        Some(t) => (Some(t), Some(t)),
        None => (fe.client_timeout, route.be.server_timeout),
    };
    super::tcp::tunnel(io, srv, ct, st).await;
    Next::Close
}
