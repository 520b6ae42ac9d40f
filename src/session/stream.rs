//! The client-side byte stream a session runs on.
//!
//! Owns: [`ClientStream`], the one capability sessions need beyond
//! `AsyncRead + AsyncWrite`: waiting until bytes (or the end) arrive
//! without holding a buffer, so an idle connection costs no buffer memory.
//! Must not read or write bytes itself.

use std::io;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};

/// An accepted client connection (TCP or unix socket; TLS later).
pub trait ClientStream: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static {
    /// Whether [`Self::into_tcp`] gives the socket (an idle connection
    /// can then park without a task).
    const PARKABLE: bool = false;

    /// Ready when a read would not block (data, end of stream or error).
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// A non-blocking read into the spare capacity of `buf`
    /// (`WouldBlock` when readiness was spurious).
    fn try_read_buf(&self, buf: &mut Vec<u8>) -> io::Result<usize>;

    /// The TCP socket underneath, when zero-copy relaying can use it.
    fn tcp(&self) -> Option<&tokio::net::TcpStream> {
        None
    }

    /// The TCP socket itself, when the connection can wait in the
    /// parking lot ([`super::park`]) without a task.
    fn into_tcp(self) -> Result<tokio::net::TcpStream, Self>
    where
        Self: Sized,
    {
        Err(self)
    }
}

impl ClientStream for tokio::net::TcpStream {
    const PARKABLE: bool = true;

    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_read_ready(cx)
    }

    fn try_read_buf(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        drained_read(self, buf, |b| tokio::net::TcpStream::try_read_buf(self, b))
    }

    fn tcp(&self) -> Option<&tokio::net::TcpStream> {
        Some(self)
    }

    fn into_tcp(self) -> Result<tokio::net::TcpStream, Self> {
        Ok(self)
    }
}

impl ClientStream for tokio::net::UnixStream {
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_read_ready(cx)
    }

    fn try_read_buf(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        drained_read(self, buf, |b| tokio::net::UnixStream::try_read_buf(self, b))
    }
}

/// Waits until `s` is readable.
pub async fn readable<S: ClientStream>(s: &S) -> io::Result<()> {
    std::future::poll_fn(|cx| s.poll_readable(cx)).await
}

/// Sockets whose reads can mark them drained.
trait Drainable {
    fn try_io_read(&self, f: impl FnOnce() -> io::Result<usize>) -> io::Result<usize>;
}

impl Drainable for tokio::net::TcpStream {
    fn try_io_read(&self, f: impl FnOnce() -> io::Result<usize>) -> io::Result<usize> {
        self.try_io(tokio::io::Interest::READABLE, f)
    }
}

impl Drainable for tokio::net::UnixStream {
    fn try_io_read(&self, f: impl FnOnce() -> io::Result<usize>) -> io::Result<usize> {
        self.try_io(tokio::io::Interest::READABLE, f)
    }
}

/// A non-blocking read that, like tokio's own `poll_read`, treats a read
/// that did not fill the room offered as proof the socket is drained and
/// forgets its readiness: the next wait then sleeps until the reactor
/// reports new bytes instead of trying a read that fails with `EAGAIN`
/// (one wasted system call per keep-alive request otherwise). Safe with
/// the edge-triggered reactor: bytes arriving later raise a new event.
fn drained_read<S: Drainable>(
    s: &S,
    buf: &mut Vec<u8>,
    read: impl FnOnce(&mut Vec<u8>) -> io::Result<usize>,
) -> io::Result<usize> {
    let room = buf.capacity() - buf.len();
    let mut got = None;
    let r = s.try_io_read(|| match read(buf) {
        Ok(n) if n > 0 && n < room => {
            got = Some(n);
            // Reported as "would block" so the readiness is cleared.
            Err(io::ErrorKind::WouldBlock.into())
        }
        other => other,
    });
    match got {
        Some(n) => Ok(n),
        None => r,
    }
}
