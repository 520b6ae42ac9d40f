//! Byte counting on the client side of a TCP session.
//!
//! Owns: [`Counted`], a transparent wrapper that adds what it reads to
//! `bin` and what it writes to `bout` of the frontend, backend and server
//! of the session. Counts stay in the wrapper (plain integers) and are
//! flushed every [`FLUSH`] bytes and on drop, so a long tunnel shows up
//! in `show stat` while it runs. Must not change the bytes.

use super::counters::{ProxyCounters, ServerCounters};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Pending bytes that trigger a flush to the shared counters.
pub const FLUSH: u64 = 64 * 1024;

/// A stream whose traffic is counted.
#[derive(Debug)]
pub struct Counted<S> {
    inner: S,
    rx: u64,
    tx: u64,
    fe: Arc<ProxyCounters>,
    be: Option<Arc<ProxyCounters>>,
    srv: Option<Arc<ServerCounters>>,
}

impl<S> Counted<S> {
    pub fn new(
        inner: S,
        fe: Arc<ProxyCounters>,
        be: Option<Arc<ProxyCounters>>,
        srv: Option<Arc<ServerCounters>>,
    ) -> Counted<S> {
        Counted {
            inner,
            rx: 0,
            tx: 0,
            fe,
            be,
            srv,
        }
    }

    fn flush_counts(&mut self) {
        let (i, o) = (self.rx, self.tx);
        if i == 0 && o == 0 {
            return;
        }
        self.fe.add_bytes(i, o);
        if let Some(b) = &self.be {
            b.add_bytes(i, o);
        }
        if let Some(s) = &self.srv {
            s.own.add_bytes(i, o);
        }
        self.rx = 0;
        self.tx = 0;
    }

    fn maybe_flush(&mut self) {
        if self.rx + self.tx >= FLUSH {
            self.flush_counts();
        }
    }
}

impl<S> Drop for Counted<S> {
    fn drop(&mut self) {
        self.flush_counts();
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            this.rx += (buf.filled().len() - before) as u64;
            this.maybe_flush();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = r {
            this.tx += n as u64;
            this.maybe_flush();
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Bytes received from and sent to (acknowledged by) the peer of a TCP
/// socket since it opened, from `TCP_INFO`.
pub fn tcp_totals(s: &tokio::net::TcpStream) -> Option<(u64, u64)> {
    use std::os::fd::AsRawFd;
    // SAFETY: an all-zero tcp_info is a valid value (plain integers).
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `info`, which we
    // own; the fd is valid for the lifetime of `s`.
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    // Both counters include the FIN's sequence number once it went
    // through: take it out (states after the peer's FIN, after ours was
    // acknowledged).
    // Linux `enum tcp_state` values (include/net/tcp_states.h).
    const FIN_WAIT2: u8 = 5;
    const TIME_WAIT: u8 = 6;
    const CLOSE: u8 = 7;
    const CLOSE_WAIT: u8 = 8;
    const LAST_ACK: u8 = 9;
    const CLOSING: u8 = 11;
    let st = info.tcpi_state;
    let fin_in = [TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, CLOSING].contains(&st);
    let fin_out = [FIN_WAIT2, TIME_WAIT, CLOSE].contains(&st);
    let rx = info.tcpi_bytes_received.saturating_sub(u64::from(fin_in));
    let tx = info.tcpi_bytes_acked.saturating_sub(u64::from(fin_out));
    Some((rx, tx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn counts_both_directions_on_drop() {
        let fe = Arc::new(ProxyCounters::default());
        let (a, mut b) = tokio::io::duplex(64);
        let mut c = Counted::new(a, fe.clone(), None, None);
        b.write_all(b"hello").await.ok();
        let mut buf = [0u8; 16];
        let n = c.read(&mut buf).await.unwrap_or(0);
        assert_eq!(n, 5);
        c.write_all(b"abc").await.ok();
        assert_eq!(ProxyCounters::get(&fe.bin), 0);
        drop(c);
        assert_eq!(ProxyCounters::get(&fe.bin), 5);
        assert_eq!(ProxyCounters::get(&fe.bout), 3);
    }
}
