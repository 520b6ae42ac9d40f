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
pub mod waitbody;

use super::fetch::sess::{current, scope};
use super::park::{self, Parked};
use super::rules::{Conn, Local, Site, Verdict, run_response};
use super::stream::{self, ClientStream};
use super::{ClientInfo, Frontend, Held, Route, buffer};
use crate::runtime::drain::Drain;
use crate::upstream::pool;
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
pub async fn serve<S>(io: S, info: ClientInfo, fe: Arc<Frontend>, drain: Arc<Drain>, held: Held)
where
    S: ClientStream,
{
    run(io, info, fe, drain, held, true, None).await
}

/// Resumes a parked connection's session ([`park`]) in its new task.
pub fn resume(p: Parked) -> impl std::future::Future<Output = ()> + Send {
    let Parked {
        io,
        info,
        fe,
        drain,
        held,
        sess,
        first,
        deadline,
    } = p;
    scope(sess, async move {
        // Back into the reactor; a refusal (descriptor limits) closes.
        if let Ok(io) = park::unpark_io(io) {
            run(io, info, fe, drain, held, first, Some(deadline)).await;
        }
    })
}

/// The connection's loop: wait for a request, serve it, again. `resumed`
/// carries the deadline of the wait a parked connection was in.
async fn run<S>(
    mut io: S,
    info: ClientInfo,
    fe: Arc<Frontend>,
    drain: Arc<Drain>,
    held: Held,
    mut first: bool,
    mut resumed: Option<Option<tokio::time::Instant>>,
) where
    S: ClientStream,
{
    let conn = Conn {
        src: info.src,
        dst: info.dst,
    };
    // No buffer until the client sends something: idle connections cost
    // only their task, or nothing but a parking slot once they wait long
    // (HAProxy likewise allocates buffers on demand).
    let mut buf: Vec<u8> = Vec::new();
    let mut stop = drain.watch();
    loop {
        let wait = if first {
            fe.http_request_timeout
        } else {
            fe.keep_alive_timeout
        };
        let mut deadline = match resumed.take() {
            Some(d) => d,
            None => wait.map(|t| tokio::time::Instant::now() + t),
        };
        if buf.is_empty() {
            if buf.capacity() > 0 {
                // Idle between requests: the buffer goes back to the free list.
                buffer::give(std::mem::take(&mut buf));
            }
            // A lean wait: an idle connection's task holds no buffer and
            // none of the request state below.
            match wait_idle(&io, deadline, &mut stop, !first, S::PARKABLE).await {
                Idle::Data(b) => buf = b,
                Idle::Over => {
                    if first {
                        crate::metrics::txn::bad_request(&fe.counters, 408);
                        let _ = send(&mut io, &errors::mux_page(408), fe.client_timeout).await;
                    }
                    break;
                }
                Idle::Park => match (io.into_tcp(), current()) {
                    (Ok(tcp), Some(sess)) => {
                        park::park(tcp, |io| Parked {
                            io,
                            info,
                            fe,
                            drain,
                            held,
                            sess,
                            first,
                            deadline,
                        });
                        return;
                    }
                    (Ok(_), None) => return,
                    (Err(back), _) => {
                        io = back;
                        resumed = Some(deadline);
                        continue;
                    }
                },
            }
            if !buf.is_empty() {
                // The request has begun: `timeout http-request` now applies.
                deadline = fe
                    .http_request_timeout
                    .map(|t| tokio::time::Instant::now() + t);
            }
        }
        // Boxed so the (large) request state exists only while a request
        // is in flight, not in every idle keep-alive connection's task.
        let cycle = Box::pin(request_cycle(
            &mut io, &mut buf, &fe, &conn, &drain, &mut stop, &mut first, deadline,
        ));
        match cycle.await {
            Next::KeepAlive => continue,
            Next::Close => break,
        }
    }
    buffer::give(buf);
    let _ = io.shutdown().await;
    drop(held);
}

/// How an idle wait ended.
enum Idle {
    /// The first bytes (empty at the end of the stream or on an error,
    /// which the next read reports).
    Data(Vec<u8>),
    /// Deadline reached, or a graceful stop while `watch_stop`.
    Over,
    /// Quiet for [`park::PARK_AFTER`]: the connection may park.
    Park,
}

/// Waits until the client sends something. Readiness can be spurious: a
/// buffer is held only once bytes were actually read. With `parkable`,
/// the wait gives up after about [`park::PARK_AFTER`] so the task can end.
async fn wait_idle<S: ClientStream>(
    io: &S,
    deadline: Option<tokio::time::Instant>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
    watch_stop: bool,
    parkable: bool,
) -> Idle {
    // One timer: the deadline, or the moment to park when that is earlier.
    let park_at = parkable.then(|| park::park_at(tokio::time::Instant::now()));
    let (until, parks) = match (deadline, park_at) {
        (Some(d), Some(p)) if p < d => (Some(p), true),
        (None, Some(p)) => (Some(p), true),
        (d, _) => (d, false),
    };
    loop {
        if watch_stop && *stop.borrow() {
            return Idle::Over;
        }
        tokio::select! {
            _ = stream::readable(io) => {}
            _ = sleep_until(until) => return if parks { Idle::Park } else { Idle::Over },
            _ = stop.changed(), if watch_stop => return Idle::Over,
        }
        let mut b = buffer::take();
        match io.try_read_buf(&mut b) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => buffer::give(b),
            Ok(0) | Err(_) => {
                buffer::give(b);
                return Idle::Data(Vec::new());
            }
            Ok(_) => return Idle::Data(b),
        }
    }
}

/// Reads one request head and runs its exchange.
#[allow(clippy::too_many_arguments)]
async fn request_cycle<S: ClientStream>(
    io: &mut S,
    buf: &mut Vec<u8>,
    fe: &Frontend,
    conn: &Conn,
    drain: &Drain,
    stop: &mut tokio::sync::watch::Receiver<bool>,
    first: &mut bool,
    deadline: Option<tokio::time::Instant>,
) -> Next {
    let got = read_head(io, buf, deadline, fe.http_request_timeout, stop, *first).await;
    let (req, n) = match got {
        HeadRead::Done(r, n) => (r, n),
        HeadRead::Quiet => {
            // HAProxy counts a client leaving before a complete request
            // (even an empty first one) as a bad request (400).
            if *first || !buf.is_empty() {
                crate::metrics::txn::bad_request(&fe.counters, 400);
            }
            return Next::Close;
        }
        HeadRead::Error(status) => {
            crate::metrics::txn::bad_request(&fe.counters, status);
            let _ = send(io, &errors::mux_page(status), fe.client_timeout).await;
            return Next::Close;
        }
    };
    buf.drain(..n);
    let first_request = *first;
    *first = false;
    exchange(io, buf, req, fe, conn, drain, first_request).await
}

enum HeadRead {
    Done(Request, usize),
    /// Close without answering (idle keep-alive expiry, client gone).
    Quiet,
    /// Answer with this mux error page, then close.
    Error(u16),
}

async fn read_head<S: ClientStream>(
    io: &mut S,
    buf: &mut Vec<u8>,
    mut deadline: Option<tokio::time::Instant>,
    request: Option<Duration>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
    first: bool,
) -> HeadRead {
    let mut started = !buf.is_empty();
    loop {
        if !buf.is_empty() {
            match head::parse_request(buf) {
                // HAProxy refuses a body on an HTTP/1.0 GET, HEAD or
                // DELETE with 413.
                Parsed::Done(r, _)
                    if r.minor == 0
                        && r.framing != Framing::None
                        && matches!(r.method.as_str(), "GET" | "HEAD" | "DELETE") =>
                {
                    return HeadRead::Error(413);
                }
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
        let read = async {
            if buf.capacity() == 0 {
                // Wait without a buffer; take one once bytes are there.
                stream::readable(&*io).await.map_err(BodyError::Read)?;
                *buf = buffer::take();
            }
            fill(buf, io, None).await
        };
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
    tx: &mut crate::metrics::Txn,
) -> Next {
    tx.local(bytes);
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
    first_request: bool,
) -> Next
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut close = client_wants_close(&req, fe, drain);
    let has_body = req.framing != Framing::None;
    // Generated replies cannot skip an unread body safely: close instead.
    let reply_close = |close: bool| close || has_body;
    let mut tx = crate::metrics::Txn::http(&fe.counters, &req);

    let fe_site = Site {
        be: None,
        fe: &fe.replies,
    };
    // `tcp-request content` rules run first; `reject` closes silently.
    let tcp_ctx = conn.ctx(Some(&req), None);
    if !super::tcp_rules::on_http_request(&fe.tcp_rules, &tcp_ctx) {
        return Next::Close;
    }
    // `monitor-uri` answers before the HTTP rules.
    if let Some(status) = fe.replies.monitor(&conn.ctx(Some(&req), None)) {
        tx.intercepted();
        return page(io, &fe_site, status, fe, reply_close(close), &mut tx).await;
    }
    let (rules, stats) = (&fe.req_rules[..], fe.stats.as_deref());
    let c = reply_close(close);
    let phase = request_phase(
        io, buf, fe, rules, stats, &fe_site, &mut req, conn, &mut tx, c,
    );
    if let Some(next) = phase.await {
        return next;
    }
    let Some(route) = fe.route(&conn.ctx(Some(&req), None)).cloned() else {
        let c = reply_close(close);
        return page(io, &fe_site, 503, fe, c, &mut tx).await;
    };
    tx.backend(&route.be.counters);
    if !super::tcp_rules::run_http(&route.tcp_rules, &conn.ctx(Some(&req), None)) {
        return Next::Close;
    }
    let site = Site {
        be: Some(&route.replies),
        fe: &fe.replies,
    };
    let (rules, stats) = (&route.req_rules[..], route.stats.as_deref());
    let c = reply_close(close);
    let phase = request_phase(io, buf, fe, rules, stats, &site, &mut req, conn, &mut tx, c);
    if let Some(next) = phase.await {
        return next;
    }
    close |= route.httpclose;
    add_forwardfor(&mut req, fe, &route, conn);
    super::rules::origto::add(
        &mut req,
        fe.replies.originalto.as_ref(),
        route.replies.originalto.as_ref(),
        conn.dst,
    );

    let src_ip = conn
        .src
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let server_close = route.server_close || fe.server_close || route.httpclose || fe.httpclose;
    let be = &route.be;
    // Persistence: force/ignore-persist, use-server, then the cookie.
    let now = crate::upstream::persist::now_secs();
    let mut pd =
        crate::upstream::persist::decide_rules(&be.servers, &be.policy, &route.persist, |c| {
            super::acl::holds(c, &conn.ctx(Some(&req), None))
        });
    if be.policy.cookie.is_some() {
        let values = req
            .headers
            .iter_mut()
            .filter(|h| h.name == "cookie")
            .map(|h| &mut h.value);
        crate::upstream::persist::apply_cookies(&mut pd, &be.servers, &be.policy, values, now);
        req.headers
            .retain(|h| h.name != "cookie" || !h.value.is_empty());
    }
    let mut bound = crate::upstream::dispatch::bound(&pd);
    // Layer-7 retries (`retry-on` beyond conn-failure) replay the whole
    // request: only when its body is small enough to keep (HAProxy needs
    // it in one buffer too).
    let l7 = be.policy.retry_on.layer7()
        && match req.framing {
            Framing::None => true,
            Framing::Length(n) => n <= MAX_HEAD as u64,
            _ => false,
        };
    let mut l7_tries = 0;
    // `http-reuse safe`: only bodyless requests may ride an idle
    // connection, so a failure on it can be retried transparently.
    // Request-hashing algorithms (uri, url_param, hdr, hash) read this key.
    let mut key = be.balancer.request_hash(
        req.uri.as_bytes(),
        req.headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_slice())),
        src_ip,
    );
    // `balance url_param <p> check_post`: a POST without the parameter in
    // its query string is hashed on its (small enough) body.
    if key.is_none()
        && be.policy.check_post
        && req.method == "POST"
        && let Framing::Length(n) = req.framing
        && n <= MAX_HEAD as u64
    {
        let n = n as usize;
        while buf.len() < n {
            match fill(buf, io, fe.client_timeout).await {
                Ok(0) | Err(_) => return Next::Close,
                Ok(_) => {}
            }
        }
        key = be.balancer.body_param_hash(&buf[..n]);
    }
    // `http-reuse safe` (the default): the first request of a client
    // connection always gets its own server connection; `aggressive` and
    // `always` may reuse an idle one for it too. Requests with a body never
    // ride an idle connection (no safe replay if it was closed meanwhile).
    let may_reuse = be.http_reuse && !has_body && (!first_request || be.reuse_first);
    let acquire = crate::upstream::dispatch::acquire(be, &pd, src_ip, may_reuse);
    let mut lease = match crate::upstream::lb::with_request_hash(key, acquire).await {
        Ok(l) => l,
        Err(_) => {
            let c = reply_close(close);
            return page(io, &site, 503, fe, c, &mut tx).await;
        }
    };
    tx.server(lease.server(), lease.reused);
    let st = be.server_timeout;
    let ct = fe.client_timeout;

    // Request head and body to the server.
    let mut out = Vec::with_capacity(1024);
    start_line(&mut out, &req.method, &req.uri, req.minor);
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
    // The start line is already in `out`; `write_head` ends it.
    head::write_head(&mut out, b"", &req.headers, conn_hdr);
    // A small body is read whole first so a layer-7 retry can replay it.
    if l7 && let Framing::Length(n) = req.framing {
        let n = n as usize;
        while buf.len() < n {
            match fill(buf, io, ct).await {
                Ok(0) | Err(_) => return Next::Close,
                Ok(_) => {}
            }
        }
        out.extend(buf.drain(..n));
        req.framing = Framing::None;
    }
    let head_req = req.method == "HEAD";
    let mut sbuf = buffer::Pooled::take();
    let first = loop {
        let res = send_request(io, buf, &mut lease.stream, &out, &req, st, ct, &mut sbuf).await;
        if l7
            && l7_tries < be.retries
            && l7_failure(&res, lease.reused).is_some_and(|f| be.policy.retry_on.matches(f))
        {
            l7_tries += 1;
            let next = crate::upstream::dispatch::retry(be, lease, l7_tries, &mut bound, src_ip);
            lease = match next.await {
                Ok(l) => l,
                Err(_) => {
                    let c = reply_close(close);
                    return page(io, &site, 503, fe, c, &mut tx).await;
                }
            };
            sbuf.clear();
            continue;
        }
        match res {
            Ok(r) => break r,
            // An idle connection the server closed meanwhile: once more on
            // a fresh one, invisible to the client.
            Err(Fail::Early(_)) if lease.reused => {
                let srv = lease.server().clone();
                drop(lease);
                lease = match pool::fresh(be, srv, src_ip).await {
                    Ok(l) => l,
                    Err(_) => {
                        let c = reply_close(close);
                        return page(io, &site, 503, fe, c, &mut tx).await;
                    }
                };
                sbuf.clear();
            }
            Err(Fail::Early(Early::Write) | Fail::Write) => {
                tx.response_error();
                return page(io, &site, 502, fe, true, &mut tx).await;
            }
            Err(Fail::Early(Early::Read) | Fail::Status(_)) => {
                tx.response_error();
                let status = match res {
                    Err(Fail::Status(s)) => s,
                    _ => 502,
                };
                let c = reply_close(close);
                return page(io, &site, status, fe, c, &mut tx).await;
            }
            Err(Fail::Client(Some(status))) => {
                tx.client_error(status);
                let _ = send(io, &errors::mux_page(status), ct).await;
                return Next::Close;
            }
            Err(Fail::Client(None)) => {
                tx.client_abort();
                return Next::Close;
            }
        }
    };

    // Response head(s): forward 1xx interim responses, stop at the final one.
    let mut next = Some(first);
    let resp = loop {
        let got = match next.take() {
            Some(r) => Ok(r),
            None => read_response(&mut lease.stream, &mut sbuf, st, head_req, req.minor).await,
        };
        match got {
            Ok(r) if (100..200).contains(&r.0.status) && r.0.status != 101 => {
                let mut o = Vec::with_capacity(256);
                let r = r.0;
                status_line(&mut o, r.status, &r.reason);
                head::write_head(&mut o, b"", &r.headers, &[]);
                if send(io, &o, ct).await.is_err() {
                    return Next::Close;
                }
            }
            Ok(r) => break r,
            Err(status) => {
                tx.response_error();
                let c = reply_close(close);
                return page(io, &site, status, fe, c, &mut tx).await;
            }
        }
    };
    let (mut resp, srv_keep) = resp;
    tx.response(&resp);

    let mut verdict = run_response(&route.resp_rules, &req, &mut resp, conn);
    if let Verdict::Continue = verdict {
        verdict = run_response(&fe.resp_rules, &req, &mut resp, conn);
    }
    tx.response_verdict(&verdict);
    let c = reply_close(close);
    if let Some(l) = local_answer(verdict, &conn.ctx(Some(&req), Some(&resp)), &site, c) {
        return local(io, l, fe, &site, &mut tx).await;
    }

    if be.policy.cookie.is_some() {
        let srv = lease.server();
        let direct = bound.direct && pd.server.as_ref().is_some_and(|s| Arc::ptr_eq(s, srv));
        crate::upstream::persist::on_response(
            &be.policy,
            &pd,
            &be.servers,
            srv,
            direct,
            &req.method,
            &req.headers,
            resp.status,
            &mut resp.headers,
            now,
        );
    }
    site.after_response(&req, &mut resp, conn);
    if resp.status == 101 {
        return upgrade(io, buf, lease.stream, &sbuf, &resp, fe, &route).await;
    }
    close |= resp.framing == Framing::UntilClose;
    let conn_hdr: &[(&str, &[u8])] = if close {
        &[("connection", b"close")]
    } else if req.minor == 0 {
        &[("connection", b"keep-alive")]
    } else {
        &[]
    };
    let mut o = Vec::with_capacity(1024);
    status_line(&mut o, resp.status, &resp.reason);
    head::write_head(&mut o, b"", &resp.headers, conn_hdr);
    // The body bytes already read ride in the same write as the head.
    let framing = body::take_buffered(&mut o, &mut sbuf, resp.framing);
    if send(io, &o, ct).await.is_err() {
        tx.client_abort();
        return Next::Close;
    }
    let down = Timeouts {
        read: st,
        write: ct,
    };
    if let Err(e) = body::forward(&mut sbuf, &mut lease.stream, io, framing, down).await {
        // Who broke the transfer (`cli_abrt`, `srv_abrt`).
        match e {
            BodyError::Write(_) | BodyError::WriteTimeout => tx.client_abort(),
            BodyError::Invalid => tx.response_error(),
            _ => tx.server_abort(true),
        }
        return Next::Close;
    }
    // The server connection outlives the exchange only when both ends
    // agreed on keep-alive and nothing extra arrived after the body.
    if be.http_reuse
        && srv_keep
        && !server_close
        && resp.framing != Framing::UntilClose
        && sbuf.is_empty()
    {
        pool::release(lease);
    }
    if close { Next::Close } else { Next::KeepAlive }
}

/// The `retry-on` event an attempt's outcome is (`None`: not retryable).
fn l7_failure(
    res: &Result<(Response, bool), Fail>,
    reused: bool,
) -> Option<crate::upstream::retry::Failure> {
    use crate::upstream::retry::Failure;
    match res {
        Ok((r, _)) => Some(Failure::Status(r.status)),
        Err(Fail::Early(_)) if !reused => Some(Failure::EmptyResponse),
        Err(Fail::Status(504)) => Some(Failure::ResponseTimeout),
        Err(Fail::Status(502)) => Some(Failure::JunkResponse),
        _ => None,
    }
}

/// Why sending a request (and reading the first response head) failed.
enum Fail {
    /// Before any response byte: retryable on a fresh connection when the
    /// request went over a reused one.
    Early(Early),
    /// The server refused the body.
    Write,
    /// The answer to give after a response error (502/504).
    Status(u16),
    /// The client side failed: the mux page to send, if any, then close.
    Client(Option<u16>),
}

enum Early {
    Write,
    Read,
}

/// Sends the request head (and body) and reads the first response head.
#[allow(clippy::too_many_arguments)]
async fn send_request<S>(
    io: &mut S,
    buf: &mut Vec<u8>,
    srv: &mut TcpStream,
    head_bytes: &[u8],
    req: &Request,
    st: Option<Duration>,
    ct: Option<Duration>,
    sbuf: &mut Vec<u8>,
) -> Result<(Response, bool), Fail>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    if send(srv, head_bytes, st).await.is_err() {
        return Err(Fail::Early(Early::Write));
    }
    let up = Timeouts {
        read: ct,
        write: st,
    };
    match body::forward(buf, io, srv, req.framing, up).await {
        Ok(()) => {}
        Err(BodyError::Invalid) => return Err(Fail::Client(Some(400))),
        Err(BodyError::ReadTimeout) => return Err(Fail::Client(Some(408))),
        Err(BodyError::Read(_) | BodyError::Truncated) => return Err(Fail::Client(None)),
        Err(BodyError::Write(_) | BodyError::WriteTimeout) => return Err(Fail::Write),
    }
    match read_response(srv, sbuf, st, req.method == "HEAD", req.minor).await {
        Ok(r) => Ok(r),
        Err(502) if sbuf.is_empty() => Err(Fail::Early(Early::Read)),
        Err(s) => Err(Fail::Status(s)),
    }
}

/// `METHOD URI HTTP/1.x` without the line end.
fn start_line(out: &mut Vec<u8>, method: &str, uri: &str, minor: u8) {
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(uri.as_bytes());
    out.extend_from_slice(b" HTTP/1.");
    out.push(b'0' + minor.min(9));
}

/// `HTTP/1.1 <status> <reason>` without the line end.
fn status_line(out: &mut Vec<u8>, status: u16, reason: &str) {
    let s = status.min(999);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(&[
        b'0' + (s / 100) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
        b' ',
    ]);
    out.extend_from_slice(reason.as_bytes());
}

/// Whether the server keeps the connection open after this response:
/// HTTP/1.1 unless `connection: close`, HTTP/1.0 (or an HTTP/1.0 request)
/// only with `connection: keep-alive`. `raw` is the response head as sent
/// (the parsed headers no longer carry `connection`).
fn server_keeps_alive(raw: &[u8], resp_minor: u8, req_minor: u8) -> bool {
    let (mut close, mut keep) = (false, false);
    for line in raw.split(|&b| b == b'\n').skip(1) {
        // The parser refused blanks before a colon: a `Connection` header
        // starts with exactly this, and most lines differ at once.
        const NAME: &[u8] = b"connection:";
        if line.len() < NAME.len() || !line[..NAME.len()].eq_ignore_ascii_case(NAME) {
            continue;
        }
        for tok in line[NAME.len()..].split(|&b| b == b',') {
            let tok = tok.trim_ascii();
            close |= tok.eq_ignore_ascii_case(b"close");
            keep |= tok.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    !close && (keep || (resp_minor >= 1 && req_minor >= 1))
}

/// The local answer for a rule verdict (`return`, `deny`, `redirect`,
/// `tarpit`, `reject`...), or `None` when the rules let the exchange go on.
fn local_answer(
    v: Verdict,
    ctx: &crate::session::fetch::Ctx<'_>,
    site: &Site<'_>,
    close: bool,
) -> Option<Local> {
    super::rules::answer(v, ctx, site, close)
}

/// One proxy's request phase (the frontend's, then the backend's): its
/// `http-request` rules with their early hints, then its stats page.
/// `Some` when the exchange ends here.
#[allow(clippy::too_many_arguments)]
async fn request_phase<S>(
    io: &mut S,
    buf: &mut Vec<u8>,
    fe: &Frontend,
    rules: &[super::rules::Rule],
    stats: Option<&crate::stats::page::Conf>,
    site: &Site<'_>,
    req: &mut Request,
    conn: &Conn,
    tx: &mut crate::metrics::Txn,
    close: bool,
) -> Option<Next>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut interim = Vec::new();
    // `wait-for-body` / `option http-buffer-request` read the body here.
    let run = waitbody::run_rules(io, buf, fe.client_timeout, rules, req, conn, &mut interim);
    let verdict = match run.await {
        Ok(v) => v,
        Err(0) => return Some(Next::Close),
        Err(status) => return Some(page(io, site, status, fe, true, tx).await),
    };
    // `early-hint`: the 103 responses go out before anything else.
    if !interim.is_empty() && send(io, &interim, fe.client_timeout).await.is_err() {
        return Some(Next::Close);
    }
    tx.request_verdict(&verdict);
    if let Verdict::Prometheus = verdict {
        tx.intercepted();
    }
    if let Some(l) = local_answer(verdict, &conn.ctx(Some(req), None), site, close) {
        return Some(local(io, l, fe, site, tx).await);
    }
    if let Some(bytes) = stats_answer(io, buf, fe, stats, req, conn, close).await {
        tx.intercepted();
        return Some(reply(io, &bytes, fe, close, tx).await);
    }
    None
}

/// Carries out a local answer: send (after the tarpit delay), or close.
async fn local<S: AsyncWrite + Unpin>(
    io: &mut S,
    l: Local,
    fe: &Frontend,
    site: &Site<'_>,
    tx: &mut crate::metrics::Txn,
) -> Next {
    match l {
        Local::Send(b, close) => reply(io, &b, fe, close, tx).await,
        Local::Tarpit(b, close) => {
            match site.tarpit().or(fe.client_timeout) {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
            reply(io, &b, fe, close, tx).await
        }
        Local::Drop => Next::Close,
    }
}

/// Sends the proxy's page for a status the engine generates (errorfile
/// or HAProxy's default page).
async fn page<S: AsyncWrite + Unpin>(
    io: &mut S,
    site: &Site<'_>,
    status: u16,
    fe: &Frontend,
    close: bool,
    tx: &mut crate::metrics::Txn,
) -> Next {
    let (b, close) = site.page(status, &Default::default(), close);
    reply(io, &b, fe, close, tx).await
}

/// The stats page's answer when `req` targets this proxy's `stats uri`
/// (checked after the proxy's `http-request` rules, like HAProxy). A
/// POSTed admin form (up to one buffer) is read first.
async fn stats_answer<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
    fe: &Frontend,
    conf: Option<&crate::stats::page::Conf>,
    req: &Request,
    conn: &Conn,
    close: bool,
) -> Option<Vec<u8>> {
    let conf = conf?;
    crate::stats::page::rest_of(conf, &req.uri)?;
    let mut body = None;
    if let (true, Framing::Length(n)) = (req.method == "POST", req.framing) {
        let n = n as usize;
        while n <= MAX_HEAD && buf.len() < n {
            match fill(buf, io, fe.client_timeout).await {
                Ok(got) if got > 0 => {}
                _ => break,
            }
        }
        if n <= buf.len() {
            body = Some(buf.drain(..n).collect::<Vec<u8>>());
        }
    }
    let authorization = req
        .headers
        .iter()
        .find(|h| h.name == "authorization")
        .map(|h| h.value.as_slice());
    let ctx = conn.ctx(Some(req), None);
    let r = crate::stats::page::Req {
        method: &req.method,
        uri: &req.uri,
        authorization,
        close,
        body: body.as_deref(),
        ctx: Some(&ctx),
    };
    crate::stats::page::answer(conf, &r)
}

/// Reads a response head; `Err` carries the status to answer with. The
/// flag tells whether the server keeps the connection alive.
async fn read_response(
    srv: &mut TcpStream,
    sbuf: &mut Vec<u8>,
    st: Option<Duration>,
    head_req: bool,
    req_minor: u8,
) -> Result<(Response, bool), u16> {
    loop {
        if !sbuf.is_empty() {
            match head::parse_response(sbuf, head_req) {
                Parsed::Done(r, n) => {
                    let keep = server_keeps_alive(&sbuf[..n], r.minor, req_minor);
                    sbuf.drain(..n);
                    return Ok((r, keep));
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

#[cfg(test)]
mod keep_alive_tests {
    use super::server_keeps_alive;

    #[test]
    fn connection_header_decides_as_http_says() {
        let h = |s: &str| s.replace('|', "\r\n").into_bytes();
        assert!(server_keeps_alive(&h("HTTP/1.1 200 OK|A: b||"), 1, 1));
        assert!(!server_keeps_alive(
            &h("HTTP/1.1 200 OK|Connection: close||"),
            1,
            1
        ));
        assert!(!server_keeps_alive(
            &h("HTTP/1.1 200 OK|connection:Keep-Alive, CLOSE||"),
            1,
            1
        ));
        assert!(!server_keeps_alive(&h("HTTP/1.0 200 OK|A: b||"), 0, 1));
        assert!(server_keeps_alive(
            &h("HTTP/1.0 200 OK|Connection: keep-alive||"),
            0,
            1
        ));
        // Another header that merely ends with the name does not count.
        assert!(server_keeps_alive(
            &h("HTTP/1.1 200 OK|X-Connection: close||"),
            1,
            1
        ));
        assert!(!server_keeps_alive(&h("HTTP/1.1 200 OK|A: b||"), 1, 0));
    }
}
