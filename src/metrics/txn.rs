//! Per-request (HTTP) or per-session (TCP) accounting, flushed into the
//! frontend, backend and server counters when the exchange ends, like
//! HAProxy's end-of-stream accounting.
//!
//! Owns: [`Txn`] (status, bytes, the four timing points and which backend
//! and server took part) and [`bad_request`] for parser errors. The data
//! path calls one method per event; the clock is read once when the
//! exchange starts, once when a server connection is obtained, once when
//! the response head arrives and once at the end. Must not change what
//! the data path does.

use super::clock::now_ms;
use super::counters::{ProxyCounters, ServerCounters};
use super::htx;
use crate::session::http::head::{Request, Response};
use crate::session::rules::Verdict;
use crate::upstream::server::ServerState;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

const R: Ordering = Ordering::Relaxed;

/// The status of a transaction the client aborted before any response
/// (HAProxy's `-1`): any value outside 1xx..5xx counts as `hrsp_other`.
const ABORTED: u16 = 999;

/// A parser error (400, 408) on a request that had begun: HAProxy counts
/// a request, a request error and the status on the frontend, no bytes.
pub fn bad_request(fe: &ProxyCounters, status: u16) {
    fe.request(now_ms());
    fe.ereq.fetch_add(1, R);
    fe.status(status);
}

/// One HTTP request or one TCP session being accounted.
#[derive(Debug)]
pub struct Txn {
    fe: Arc<ProxyCounters>,
    be: Option<Arc<ProxyCounters>>,
    srv: Option<Arc<ServerCounters>>,
    http: bool,
    status: u16,
    bin: u64,
    bout: u64,
    start: Instant,
    /// ms from start to the server connection (queue + connect).
    t_conn: Option<u32>,
    reused: bool,
    /// ms from start to the response head.
    t_data: Option<u32>,
}

fn ms(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_millis()).unwrap_or(u32::MAX)
}

impl Txn {
    fn new(fe: &Arc<ProxyCounters>, http: bool) -> Txn {
        Txn {
            fe: fe.clone(),
            be: None,
            srv: None,
            http,
            status: 0,
            bin: 0,
            bout: 0,
            start: Instant::now(),
            t_conn: None,
            reused: false,
            t_data: None,
        }
    }

    /// An HTTP request whose head was just parsed.
    pub fn http(fe: &Arc<ProxyCounters>, req: &Request) -> Txn {
        fe.request(now_ms());
        let mut t = Txn::new(fe, true);
        t.bin = htx::request(req);
        t
    }

    /// A TCP session.
    pub fn tcp(fe: &Arc<ProxyCounters>) -> Txn {
        Txn::new(fe, false)
    }

    /// The switching rules chose this backend.
    pub fn backend(&mut self, be: &Arc<ProxyCounters>) {
        if self.be.is_none() {
            be.assign(now_ms());
            self.be = Some(be.clone());
        }
    }

    /// The outcome of `http-request` rules.
    pub fn request_verdict(&mut self, v: &Verdict<'_>) {
        match v {
            // `auth` challenges are neither denied nor intercepted.
            Verdict::Reply(r) if r.realm.is_some() => {}
            Verdict::Reply(r) if r.intercepts() => self.intercepted(),
            Verdict::Reply(_) | Verdict::Tarpit(_) | Verdict::Drop => {
                self.fe.dreq.fetch_add(1, R);
                if let Some(be) = &self.be {
                    be.dreq.fetch_add(1, R);
                }
            }
            Verdict::Redirect(_) => self.intercepted(),
            Verdict::Internal => self.rewrite_failed(true),
            _ => {}
        }
    }

    /// The outcome of `http-response` rules.
    pub fn response_verdict(&mut self, v: &Verdict<'_>) {
        if let Verdict::Internal = v {
            self.rewrite_failed(true);
        }
        if let Verdict::Reply(_) | Verdict::Tarpit(_) | Verdict::Drop = v {
            self.fe.dresp.fetch_add(1, R);
            if let Some(be) = &self.be {
                be.dresp.fetch_add(1, R);
            }
            if let Some(s) = &self.srv {
                s.own.dresp.fetch_add(1, R);
            }
        }
    }

    /// Answered by the proxy itself (stats page, redirect). HAProxy counts
    /// it only when the frontend's own rules answered, not a backend's.
    pub fn intercepted(&mut self) {
        if self.be.is_none() {
            self.fe.intercepted.fetch_add(1, R);
        }
    }

    /// A server connection was obtained.
    pub fn server(&mut self, srv: &ServerState, reused: bool) {
        self.t_conn = Some(ms(self.start));
        self.reused = reused;
        self.srv = Some(srv.counters.clone());
    }

    /// The server's final response head.
    pub fn response(&mut self, r: &Response) {
        self.t_data = Some(ms(self.start));
        self.status = r.status;
        self.bout += htx::response(r);
        if let Some(s) = &self.srv {
            s.own.req_tot.fetch_add(1, R);
            s.own.status(r.status);
            s.resp_status(r.status);
        }
    }

    /// The server's response was invalid, late or missing.
    pub fn response_error(&mut self) {
        if let Some(s) = &self.srv {
            s.resp_error();
        }
    }

    /// The client aborted the transfer (error, or gone while the response
    /// was being sent): `cli_abrt` on the backend and server.
    pub fn client_abort(&mut self) {
        // Before any response: HAProxy ends the transaction with no valid
        // status, counted as `hrsp_other` (and a backend request).
        if self.http && self.status == 0 {
            self.status = ABORTED;
        }
        match (&self.srv, &self.be) {
            (Some(s), _) => s.client_abort(),
            (None, Some(be)) => {
                be.cli_abrt.fetch_add(1, R);
            }
            _ => {}
        }
    }

    /// The server aborted the transfer: `srv_abrt` (and `eresp` when
    /// reading from it failed) on the backend and server.
    pub fn server_abort(&mut self, read: bool) {
        if let Some(s) = &self.srv {
            s.server_abort(read);
        }
    }

    /// A header rewrite did not fit in the message (`wrew`); in strict
    /// mode (HAProxy's default) it is an internal error too (`eint`).
    pub fn rewrite_failed(&mut self, strict: bool) {
        self.each(|c| &c.wrew);
        if strict {
            self.each(|c| &c.eint);
        }
    }

    /// The frontend, the backend and the server, when known.
    fn each(&self, f: impl Fn(&ProxyCounters) -> &std::sync::atomic::AtomicU64) {
        f(&self.fe).fetch_add(1, R);
        if let Some(be) = &self.be {
            f(be).fetch_add(1, R);
        }
        if let Some(s) = &self.srv {
            f(&s.own).fetch_add(1, R);
        }
    }

    /// The client sent a broken body or stalled; the proxy answers
    /// `status` (counted, but as a parser error its bytes are not).
    pub fn client_error(&mut self, status: u16) {
        self.fe.ereq.fetch_add(1, R);
        self.status = status;
    }

    /// A locally generated response (rules, errors, stats page).
    pub fn local(&mut self, bytes: &[u8]) {
        let (status, size) = htx::raw_response(bytes);
        self.status = status;
        self.bout += size;
    }

    /// A TCP session that the switching rules sent to `be`.
    pub fn tcp_to(fe: &Arc<ProxyCounters>, be: &Arc<ProxyCounters>) -> Txn {
        let mut t = Txn::tcp(fe);
        t.backend(be);
        t
    }

    /// Client bytes moved outside a [`super::Counted`] stream (inspected
    /// before connecting, or sent by the proxy itself).
    pub fn bytes_in(&mut self, n: usize) {
        self.bin += n as u64;
    }

    pub fn bytes_out(&mut self, n: usize) {
        self.bout += n as u64;
    }

    /// The whole session's client-side byte totals from the kernel
    /// (`TCP_INFO`), for relays that bypass user space (splice).
    pub fn socket_totals(&mut self, client: &tokio::net::TcpStream) {
        if let Some((rx, tx)) = super::io::tcp_totals(client) {
            self.bin = rx;
            self.bout = tx;
        }
    }

    /// Wraps the client side of a TCP session so its bytes are counted.
    pub fn count<S>(&self, io: S) -> super::io::Counted<S> {
        super::io::Counted::new(io, self.fe.clone(), self.be.clone(), self.srv.clone())
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        if self.http && self.status != 0 {
            self.fe.status(self.status);
            if let Some(be) = &self.be {
                be.status(self.status);
                be.req_tot.fetch_add(1, R);
            }
        }
        self.fe.add_bytes(self.bin, self.bout);
        if let Some(be) = &self.be {
            be.add_bytes(self.bin, self.bout);
        }
        if let Some(s) = &self.srv {
            s.own.add_bytes(self.bin, self.bout);
        }
        // Times only for exchanges that reached a server and (HTTP) got
        // its answer, as HAProxy does.
        if let (Some(s), Some(t_conn)) = (&self.srv, self.t_conn) {
            let t_data = if self.http { self.t_data } else { Some(t_conn) };
            if let Some(t_data) = t_data {
                let total = ms(self.start);
                let (q, c) = if self.reused {
                    (t_conn, 0)
                } else {
                    (0, t_conn)
                };
                let r = t_data.saturating_sub(t_conn);
                let seen = |p: &ProxyCounters| {
                    if self.http {
                        p.req_tot.load(R)
                    } else {
                        p.lbtot.load(R)
                    }
                };
                s.own.times(seen(&s.own), q, c, r, total);
                if let Some(be) = &self.be {
                    be.times(seen(be), q, c, r, total);
                }
            }
        }
        if let Some(be) = &self.be {
            be.leave();
        }
    }
}
