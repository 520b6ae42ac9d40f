//! Waiting for the request body before (or in the middle of) a proxy's
//! `http-request` rules: `wait-for-body` and `option
//! http-buffer-request`, as HAProxy 2.6's `http_wait_for_msg_body`.
//!
//! Owns: running a rule list with its waits ([`run_rules`]): answering
//! `Expect: 100-continue` first (and dropping the header), reading until
//! the whole body, `at-least` bytes or a full buffer are there (a client
//! that closes ends the wait too), and the 408 when the wait times out.
//! The body bytes stay in the connection buffer for forwarding; a copy
//! (de-chunked) goes to [`Request::body`] for the `req.body*` fetches.
//! Must not answer anything but the 100 interim response.

use super::body::{chunk_size, fill, send};
use super::head::{Framing, Request};
use crate::session::rules::waitbody::WaitBody;
use crate::session::rules::{Conn, Rule, Verdict, run_request_from};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// HAProxy's default `tune.bufsize` less `tune.maxrewrite`: the wait
/// also ends when the head and the body fill that much (approximated on
/// the raw bytes; HAProxy counts its internal HTX blocks).
const ROOM: usize = 16384 - 1024;

/// Runs `rules` like [`crate::session::rules::run_request_hints`],
/// waiting for the body where a `wait-for-body` rule says so. `Err` is
/// the status to answer (408 when the body did not come in time), or 0
/// to close without a word (the client left before the end of the body).
#[allow(clippy::too_many_arguments)]
pub async fn run_rules<'r, S>(
    io: &mut S,
    buf: &mut Vec<u8>,
    client_timeout: Option<Duration>,
    rules: &'r [Rule],
    req: &mut Request,
    conn: &Conn,
    interim: &mut Vec<u8>,
) -> Result<Verdict<'r>, u16>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut start = 0;
    loop {
        match run_request_from(rules, start, req, conn, interim) {
            Ok(v) => return Ok(v),
            Err(at) => {
                wait(io, buf, client_timeout, req, at.wait).await?;
                start = at.next;
            }
        }
    }
}

/// Waits for the body of `req` (whose head was already removed from
/// `buf`) and copies what is there into `req.body`.
async fn wait<S>(
    io: &mut S,
    buf: &mut Vec<u8>,
    client_timeout: Option<Duration>,
    req: &mut Request,
    w: WaitBody,
) -> Result<(), u16>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    if req.method == "CONNECT" || req.framing == Framing::None {
        return Ok(());
    }
    expect_100(io, client_timeout, req).await?;
    let room = ROOM.saturating_sub(head_size(req));
    let limit = match (w.time, client_timeout) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let deadline = limit.map(|d| tokio::time::Instant::now() + d);
    loop {
        let (data, complete) = decode(buf, req.framing);
        let enough =
            complete || buf.len() >= room || (w.at_least > 0 && data.len() as u64 >= w.at_least);
        if enough {
            req.body = Some(data);
            return Ok(());
        }
        let read = fill(buf, io, None);
        let res = match deadline {
            Some(d) => match tokio::time::timeout_at(d, read).await {
                Ok(r) => r,
                Err(_) => return Err(408),
            },
            None => read.await,
        };
        if matches!(res, Ok(0) | Err(_)) {
            // The client closed before the end of the body: HAProxy
            // aborts the stream without an answer.
            return Err(0);
        }
    }
}

/// `Expect: 100-continue` on an HTTP/1.1 request: the interim answer is
/// sent now and the header removed, as HAProxy does before waiting.
async fn expect_100<S>(io: &mut S, t: Option<Duration>, req: &mut Request) -> Result<(), u16>
where
    S: AsyncWrite + Unpin,
{
    let Some(i) = req.headers.iter().position(|h| h.name == "expect") else {
        return Ok(());
    };
    if req.minor != 1 || !req.headers[i].value.eq_ignore_ascii_case(b"100-continue") {
        return Ok(());
    }
    req.headers.remove(i);
    // A failed write shows up on the next read.
    let _ = send(io, b"HTTP/1.1 100 Continue\r\n\r\n", t).await;
    Ok(())
}

/// The size of the head as it was received, roughly.
fn head_size(req: &Request) -> usize {
    let hs: usize = req
        .headers
        .iter()
        .map(|h| h.name.len() + h.value.len() + 4)
        .sum();
    req.method.len() + req.uri.len() + 12 + hs + 2
}

/// The body bytes there for `framing` (de-chunked), and whether the whole
/// body is there. A malformed chunked body counts as complete: the
/// transfer will report it.
fn decode(buf: &[u8], framing: Framing) -> (Vec<u8>, bool) {
    match framing {
        Framing::Length(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            (buf[..buf.len().min(n)].to_vec(), buf.len() >= n)
        }
        Framing::Chunked => dechunk(buf),
        Framing::None | Framing::UntilClose => (Vec::new(), true),
    }
}

fn dechunk(buf: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let Some(lf) = buf[pos..].iter().position(|&b| b == b'\n') else {
            return (out, false);
        };
        let Some(size) = chunk_size(&buf[pos..pos + lf + 1]) else {
            return (out, true);
        };
        pos += lf + 1;
        if size == 0 {
            // Trailers up to the empty line.
            loop {
                let Some(lf) = buf[pos..].iter().position(|&b| b == b'\n') else {
                    return (out, false);
                };
                let line = &buf[pos..pos + lf];
                pos += lf + 1;
                if line.is_empty() || line == b"\r" {
                    return (out, true);
                }
            }
        }
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let avail = buf.len() - pos;
        if avail < size {
            out.extend_from_slice(&buf[pos..]);
            return (out, false);
        }
        out.extend_from_slice(&buf[pos..pos + size]);
        pos += size;
        match buf.get(pos..pos + 2) {
            Some(b"\r\n") => pos += 2,
            Some(_) => return (out, true),
            None => return (out, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks_progressively() {
        let full = b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\nNEXT";
        assert_eq!(dechunk(full), (b"abcde".to_vec(), true));
        assert_eq!(dechunk(&full[..10]), (b"abc".to_vec(), false));
        assert_eq!(dechunk(&full[..5]), (b"ab".to_vec(), false));
        assert_eq!(dechunk(b"zz\r\n"), (Vec::new(), true));
    }

    #[test]
    fn length_bodies() {
        assert_eq!(
            decode(b"abcdef", Framing::Length(4)),
            (b"abcd".to_vec(), true)
        );
        assert_eq!(decode(b"ab", Framing::Length(4)), (b"ab".to_vec(), false));
    }
}
