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
        tokio::net::TcpStream::try_read_buf(self, buf)
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
        tokio::net::UnixStream::try_read_buf(self, buf)
    }
}

/// Waits until `s` is readable.
pub async fn readable<S: ClientStream>(s: &S) -> io::Result<()> {
    std::future::poll_fn(|cx| s.poll_readable(cx)).await
}
