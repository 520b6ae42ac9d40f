//! One health check against one address: connect, and for HTTP checks send
//! the request and judge the response.
//!
//! Owns: the check timeouts as HAProxy applies them — without `timeout
//! check` the whole check must finish within `inter`; with it, connecting
//! gets min(`timeout connect`, `inter`) and the response `timeout check`.
//! Must not change any state: it only returns a [`CheckResult`].

use super::http::{self, HttpCheck, Parsed};
use super::spec::{CheckKind, CheckSpec};
use super::status::{CheckResult, CheckStatus};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// HAProxy reads a check response into one buffer (`tune.bufsize`).
const MAX_RESPONSE: usize = 16384;

/// Runs one check of `spec` against `target`.
pub async fn run(spec: &CheckSpec, target: SocketAddr) -> CheckResult {
    let start = Instant::now();
    let mut r = run_inner(spec, target, start).await;
    // HAProxy reports whole milliseconds.
    r.duration = Some(Duration::from_millis(start.elapsed().as_millis() as u64));
    r
}

async fn run_inner(spec: &CheckSpec, target: SocketAddr, start: Instant) -> CheckResult {
    let inter = spec.intervals.inter;
    let connect_to = match spec.timeout_check {
        Some(_) => spec.timeout_connect.map_or(inter, |c| c.min(inter)),
        None => inter,
    };
    let stream = match tokio::time::timeout(connect_to, TcpStream::connect(target)).await {
        Err(_) => return CheckResult::new(CheckStatus::L4Tout, None, ""),
        Ok(Err(e)) => return CheckResult::new(CheckStatus::L4Con, None, os_reason(&e)),
        Ok(Ok(s)) => s,
    };
    let CheckKind::Http(h) = &spec.kind else {
        return CheckResult::new(CheckStatus::L4Ok, None, "");
    };
    let deadline = match spec.timeout_check {
        Some(t) => Instant::now() + t,
        None => start + inter,
    };
    let rest = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(rest, http_exchange(stream, h)).await {
        Err(_) => CheckResult::new(CheckStatus::L7Tout, None, ""),
        Ok(r) => r,
    }
}

async fn http_exchange(mut s: TcpStream, h: &HttpCheck) -> CheckResult {
    if let Err(e) = s.write_all(&h.request()).await {
        return CheckResult::new(CheckStatus::L4Con, None, os_reason(&e));
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
            Parsed::Done(resp) => return h.judge(&resp),
            Parsed::Invalid => {
                return match err {
                    Some(e) if buf.is_empty() => {
                        CheckResult::new(CheckStatus::L4Con, None, os_reason(&e))
                    }
                    _ => CheckResult::new(CheckStatus::L7Rsp, None, ""),
                };
            }
            Parsed::Partial => {}
        }
    }
}

/// The OS error text without Rust's " (os error N)" suffix, as HAProxy
/// prints `strerror()`.
fn os_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests;
