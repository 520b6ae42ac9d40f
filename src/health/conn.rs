//! Opening a check connection: TCP connect, the optional PROXY line, the
//! optional TLS handshake ([`crate::tls::client`]), all within HAProxy's
//! connect timeout.
//!
//! Owns: the connection phase shared by plain, HTTP and tcp-check
//! checks, and how its failures map to HAProxy's layer 4 / layer 6
//! statuses (`L4CON`, `L4TOUT`, `L6RSP` "SSL handshake failure",
//! `L6TOUT`). Must not read or write check payloads.

use super::engine::{Ctx, os_reason};
use super::status::CheckStatus;
use crate::tls::Connector;
use std::net::SocketAddr;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// A check connection, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The connected stream.
pub type BoxIo = Box<dyn Io>;

/// How opening a connection failed: a status and its info text (without
/// the tcp-check step suffix, which the caller adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub status: CheckStatus,
    pub info: String,
}

impl Failed {
    fn new(status: CheckStatus, info: impl Into<String>) -> Failed {
        Failed {
            status,
            info: info.into(),
        }
    }
}

/// How to open the connection.
pub struct Open<'a> {
    pub target: SocketAddr,
    /// Send a PROXY line before anything else (before TLS too).
    pub send_proxy: bool,
    /// Keep the normal close (`linger`); else close with a reset.
    pub linger: bool,
    pub tls: Option<&'a Connector>,
}

/// Connects, sends the PROXY line, runs the TLS handshake; the whole
/// phase is bounded by `c.connect_timeout()` (cut to `limit` when that
/// is sooner), as HAProxy counts the handshake in the connect phase.
pub async fn open(c: &Ctx, o: &Open<'_>, limit: Option<Instant>) -> Result<BoxIo, Failed> {
    let mut deadline = Instant::now() + c.connect_timeout();
    if let Some(l) = limit {
        deadline = deadline.min(l);
    }
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(std::time::Duration::from_millis(1))
    };
    let mut s =
        match tokio::time::timeout(left(), crate::upstream::source::connect(o.target, c.source))
            .await
        {
            Err(_) => return Err(Failed::new(CheckStatus::L4Tout, "")),
            Ok(Err(e)) => return Err(Failed::new(CheckStatus::L4Con, os_reason(&e))),
            Ok(Ok(s)) => s,
        };
    // Without `linger`, HAProxy closes check connections with a reset: no
    // TIME_WAIT left behind at 1,000 checks a second.
    if !o.linger {
        let _ = s.set_zero_linger();
    }
    if o.send_proxy {
        let line = super::probe::proxy_line(&s);
        if let Err(e) = s.write_all(&line).await {
            return Err(Failed::new(CheckStatus::SockErr, os_reason(&e)));
        }
    }
    let Some(tls) = o.tls else {
        return Ok(Box::new(s));
    };
    match tokio::time::timeout(left(), tls.connect(s, o.target.ip())).await {
        Err(_) => Err(Failed::new(CheckStatus::L6Tout, "")),
        Ok(Err(e)) => Err(Failed::new(CheckStatus::L6Rsp, e.haproxy_text())),
        Ok(Ok(t)) => Ok(Box::new(t)),
    }
}
