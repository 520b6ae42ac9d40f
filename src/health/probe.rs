//! One health check against one address: a plain connect, an HTTP
//! exchange, or a tcp-check ruleset ([`super::engine`]).
//!
//! Owns: the HTTP exchange with HAProxy's timeouts — without `timeout
//! check` the whole check must finish within `inter`; with it, connecting
//! gets min(`timeout connect`, `inter`) and the response `timeout check`.
//! Reads are bounded by one buffer (`tune.bufsize`). Must not change any
//! state: it only returns a [`CheckResult`].

use super::conn::{self, BoxIo, Open};
use super::engine::{self, Ctx, Finish, os_reason};
use super::http::{self, HttpCheck, Parsed};
use super::spec::{CheckKind, CheckSpec};
use super::status::{CheckResult, CheckStatus};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// HAProxy reads a check response into one buffer (`tune.bufsize`).
const MAX_RESPONSE: usize = engine::BUFSIZE;

/// What the check needs to know about the server right now.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// The server is DOWN (`disable-on-404` then fails a 404).
    pub server_stopped: bool,
    /// `x-haproxy-server-state` value (`http-check send-state`).
    pub state_header: Option<String>,
}

/// The engine context of a health check of `spec` against `target`.
pub fn ctx(spec: &CheckSpec, target: SocketAddr) -> Ctx {
    Ctx {
        target,
        inter: spec.intervals.inter,
        timeout_connect: spec.timeout_connect,
        timeout_check: spec.timeout_check,
        send_proxy: spec.send_proxy,
        tls: spec.tls.any().then(|| spec.tls.clone()),
        source: spec.source,
    }
}

/// Runs one check of `spec` against `target`.
pub async fn run(spec: &CheckSpec, target: SocketAddr) -> CheckResult {
    run_with(spec, target, &Extra::default()).await
}

/// Runs one check with the server's current state.
pub async fn run_with(spec: &CheckSpec, target: SocketAddr, extra: &Extra) -> CheckResult {
    let start = Instant::now();
    let c = ctx(spec, target);
    let mut r = match &spec.kind {
        CheckKind::Rules(rs) => match engine::run(rs, &c).await {
            Finish::Done(r) => r,
            Finish::AgentLine(_) => CheckResult::new(CheckStatus::L7Rsp, None, ""),
        },
        CheckKind::Tcp => connect_only(&c, spec.send_proxy).await,
        CheckKind::Http(h) => http_check(&c, h, extra, start).await,
    };
    // HAProxy reports whole milliseconds.
    r.duration = Some(Duration::from_millis(start.elapsed().as_millis() as u64));
    r
}

/// The PROXY v1 line HAProxy sends before a check (`check-send-proxy`).
pub fn proxy_line(s: &TcpStream) -> Vec<u8> {
    match (s.local_addr(), s.peer_addr()) {
        (Ok(l), Ok(p)) if l.is_ipv4() == p.is_ipv4() => format!(
            "PROXY {} {} {} {} {}\r\n",
            if l.is_ipv4() { "TCP4" } else { "TCP6" },
            l.ip(),
            p.ip(),
            l.port(),
            p.port()
        )
        .into_bytes(),
        _ => engine::PROXY_V1.to_vec(),
    }
}

async fn connect_only(c: &Ctx, send_proxy: bool) -> CheckResult {
    let tls = c.tls.as_deref().and_then(|t| t.default.as_deref());
    let o = Open {
        target: c.target,
        send_proxy,
        linger: false,
        tls,
    };
    match conn::open(c, &o, None).await {
        Err(f) => CheckResult::new(f.status, None, f.info),
        // HAProxy: a TLS connect check passes at layer 6.
        Ok(_) if tls.is_some() => CheckResult::new(CheckStatus::L6Ok, None, ""),
        Ok(_) => CheckResult::new(CheckStatus::L4Ok, None, ""),
    }
}

async fn http_check(c: &Ctx, h: &HttpCheck, extra: &Extra, start: Instant) -> CheckResult {
    let mut target = c.target;
    let mut send_proxy = c.send_proxy;
    let mut linger = false;
    let checks_tls = c.tls.as_deref();
    let mut tls = checks_tls.and_then(|t| t.default.as_deref());
    if let Some(cn) = &h.connect {
        if let Some(a) = cn.addr {
            target.set_ip(a.ip());
            if a.port() != 0 {
                target.set_port(a.port());
            }
        }
        if let Some(p) = cn.port {
            target.set_port(p);
        }
        send_proxy = cn.send_proxy || (cn.default && c.send_proxy);
        linger = cn.linger;
        tls = checks_tls.and_then(|t| t.for_connect(0, cn));
    }
    let o = Open {
        target,
        send_proxy,
        linger,
        tls,
    };
    let mut stream = match conn::open(c, &o, None).await {
        Err(f) => return CheckResult::new(f.status, None, f.info),
        Ok(s) => s,
    };
    let rest = c
        .deadline_after_connect(start)
        .saturating_duration_since(Instant::now());
    let vars = h.run_vars();
    let req = h.request_env(extra.state_header.as_deref(), &vars);
    let tout = h
        .expects
        .first()
        .and_then(|e| e.tout_status)
        .unwrap_or(CheckStatus::L7Tout);
    match tokio::time::timeout(
        rest,
        http_exchange(&mut stream, h, &req, extra.server_stopped, &vars),
    )
    .await
    {
        Err(_) => CheckResult::new(tout, None, ""),
        Ok(r) => r,
    }
}

async fn http_exchange(
    s: &mut BoxIo,
    h: &HttpCheck,
    req: &[u8],
    stopped: bool,
    vars: &super::lf::Vars,
) -> CheckResult {
    if let Err(e) = s.write_all(req).await {
        return CheckResult::new(CheckStatus::SockErr, None, os_reason(&e));
    }
    let want_body = h.needs_body();
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 4096];
    loop {
        let (n, err) = match s.read(&mut tmp).await {
            Ok(n) => (n, None),
            Err(e) => (0, Some(e)),
        };
        let room = MAX_RESPONSE - buf.len();
        buf.extend_from_slice(&tmp[..n.min(room)]);
        let eof = n == 0 || buf.len() >= MAX_RESPONSE;
        match http::parse_response(&buf, want_body, eof) {
            Parsed::Done(resp) => return h.judge_with(&resp, stopped, vars),
            Parsed::Invalid => {
                return match err {
                    Some(e) if buf.is_empty() => {
                        CheckResult::new(CheckStatus::SockErr, None, os_reason(&e))
                    }
                    _ => CheckResult::new(CheckStatus::L7Rsp, None, ""),
                };
            }
            Parsed::Partial => {}
        }
    }
}

#[cfg(test)]
mod tests;
