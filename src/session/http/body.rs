//! Streaming a message body from one side to the other.
//!
//! Owns: content-length and chunked transfer (validated chunk sizes, data
//! CRLFs and trailers, forwarded as received) and close-delimited bodies.
//! Bytes read past the end of the body stay in the caller's buffer (the next
//! pipelined request). Must not interpret headers.

use super::head::Framing;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Why a body transfer stopped.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("read failed: {0}")]
    Read(std::io::Error),
    #[error("write failed: {0}")]
    Write(std::io::Error),
    #[error("read timeout")]
    ReadTimeout,
    #[error("write timeout")]
    WriteTimeout,
    #[error("invalid chunked encoding")]
    Invalid,
    #[error("peer closed before the end of the body")]
    Truncated,
}

/// Longest chunk-size or trailer line we accept.
const MAX_LINE: usize = 4096;

/// Reads more bytes into `buf`; `Ok(0)` at end of stream.
pub async fn fill<R: AsyncRead + Unpin>(
    buf: &mut Vec<u8>,
    r: &mut R,
    timeout: Option<Duration>,
) -> Result<usize, BodyError> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(16384);
    }
    timed_read(r.read_buf(buf), timeout).await
}

/// Awaits a read within `timeout`, mapping errors to [`BodyError`].
async fn timed_read(
    fut: impl std::future::Future<Output = std::io::Result<usize>>,
    timeout: Option<Duration>,
) -> Result<usize, BodyError> {
    match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r.map_err(BodyError::Read),
            Err(_) => Err(BodyError::ReadTimeout),
        },
        None => fut.await.map_err(BodyError::Read),
    }
}

/// Writes all of `data` within `timeout`.
pub async fn send<W: AsyncWrite + Unpin>(
    w: &mut W,
    data: &[u8],
    timeout: Option<Duration>,
) -> Result<(), BodyError> {
    let fut = w.write_all(data);
    match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r.map_err(BodyError::Write),
            Err(_) => Err(BodyError::WriteTimeout),
        },
        None => fut.await.map_err(BodyError::Write),
    }
}

/// Timeouts of one transfer: reading from the source, writing to the sink.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub read: Option<Duration>,
    pub write: Option<Duration>,
}

/// Forwards one body. `buf` starts with whatever was read after the head.
pub async fn forward<R, W>(
    buf: &mut Vec<u8>,
    r: &mut R,
    w: &mut W,
    framing: Framing,
    t: Timeouts,
) -> Result<(), BodyError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match framing {
        Framing::None => Ok(()),
        Framing::Length(n) => forward_len(buf, r, w, n, t).await,
        Framing::UntilClose => loop {
            if !buf.is_empty() {
                send(w, buf, t.write).await?;
                buf.clear();
            }
            if fill(buf, r, t.read).await? == 0 {
                return Ok(());
            }
        },
        Framing::Chunked => forward_chunked(buf, r, w, t).await,
    }
}

/// Moves the body bytes already in `buf` behind a head about to be sent in
/// `out` (one write instead of two) and returns the framing of what is
/// left to forward. Chunked bodies stay in `buf` (their end needs parsing).
pub fn take_buffered(out: &mut Vec<u8>, buf: &mut Vec<u8>, framing: Framing) -> Framing {
    match framing {
        Framing::Length(n) => {
            let take = (buf.len() as u64).min(n) as usize;
            out.extend_from_slice(&buf[..take]);
            buf.drain(..take);
            if n == take as u64 {
                Framing::None
            } else {
                Framing::Length(n - take as u64)
            }
        }
        Framing::UntilClose => {
            out.append(buf);
            Framing::UntilClose
        }
        f => f,
    }
}

async fn forward_len<R, W>(
    buf: &mut Vec<u8>,
    r: &mut R,
    w: &mut W,
    mut left: u64,
    t: Timeouts,
) -> Result<(), BodyError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        let take = (buf.len() as u64).min(left) as usize;
        if take > 0 {
            send(w, &buf[..take], t.write).await?;
            buf.drain(..take);
            left -= take as u64;
        }
        if left == 0 {
            return Ok(());
        }
        if fill(buf, r, t.read).await? == 0 {
            return Err(BodyError::Truncated);
        }
    }
}

/// Returns the index just past the next LF in `buf`, reading as needed.
async fn line<R: AsyncRead + Unpin>(
    buf: &mut Vec<u8>,
    r: &mut R,
    t: Timeouts,
) -> Result<usize, BodyError> {
    line_checked(buf, r, t, |_| true).await
}

/// [`line`], failing as soon as the bytes read so far cannot start a
/// valid line (`ok` is asked about the partial line): a bad chunk size is
/// rejected without waiting for its end, like HAProxy.
async fn line_checked<R: AsyncRead + Unpin>(
    buf: &mut Vec<u8>,
    r: &mut R,
    t: Timeouts,
    ok: fn(&[u8]) -> bool,
) -> Result<usize, BodyError> {
    let mut from = 0;
    loop {
        if let Some(i) = memchr(b'\n', &buf[from..]) {
            return Ok(from + i + 1);
        }
        from = buf.len();
        if buf.len() > MAX_LINE || !ok(buf) {
            return Err(BodyError::Invalid);
        }
        if fill(buf, r, t.read).await? == 0 {
            return Err(BodyError::Truncated);
        }
    }
}

fn memchr(c: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == c)
}

/// Whether a chunk-size line still being received can become valid: hex
/// digits (at most 15), then spaces, `;extensions` or the CR.
pub fn chunk_size_prefix_ok(l: &[u8]) -> bool {
    let digits = l.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits > 15 || (digits == 0 && !l.is_empty()) {
        return false;
    }
    let mut rest = l[digits..].iter().skip_while(|&&b| b == b' ' || b == b'\t');
    match rest.next() {
        None | Some(b';') => true,
        Some(b'\r') => rest.next().is_none(),
        Some(_) => false,
    }
}

/// Parses a chunk-size line (with its CRLF): hex digits, then optional
/// spaces and `;extensions`.
pub fn chunk_size(l: &[u8]) -> Option<u64> {
    let l = l.strip_suffix(b"\n")?;
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    let digits = l.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 15 {
        return None;
    }
    let rest = &l[digits..];
    let rest_ok = rest
        .iter()
        .skip_while(|&&b| b == b' ' || b == b'\t')
        .copied()
        .next()
        .is_none_or(|b| b == b';');
    if !rest_ok || rest.iter().any(|&b| b < 0x20 && b != b'\t') {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(&l[..digits]).ok()?, 16).ok()
}

async fn forward_chunked<R, W>(
    buf: &mut Vec<u8>,
    r: &mut R,
    w: &mut W,
    t: Timeouts,
) -> Result<(), BodyError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        let end = line_checked(buf, r, t, chunk_size_prefix_ok).await?;
        let size = chunk_size(&buf[..end]).ok_or(BodyError::Invalid)?;
        send(w, &buf[..end], t.write).await?;
        buf.drain(..end);
        if size == 0 {
            // Trailers up to the empty line.
            loop {
                let end = line(buf, r, t).await?;
                let empty = end <= 2 && buf[..end].iter().all(|&b| b == b'\r' || b == b'\n');
                send(w, &buf[..end], t.write).await?;
                buf.drain(..end);
                if empty {
                    return Ok(());
                }
            }
        }
        forward_len(buf, r, w, size, t).await?;
        while buf.len() < 2 {
            if fill(buf, r, t.read).await? == 0 {
                return Err(BodyError::Truncated);
            }
        }
        if &buf[..2] != b"\r\n" {
            return Err(BodyError::Invalid);
        }
        send(w, b"\r\n", t.write).await?;
        buf.drain(..2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a\r\n"), Some(26));
        assert_eq!(chunk_size(b"0;ext=1\r\n"), Some(0));
        assert_eq!(chunk_size(b"zz\r\n"), None);
        assert_eq!(chunk_size(b"\r\n"), None);
        assert_eq!(chunk_size(b"-1\r\n"), None);
        assert_eq!(chunk_size(b"1 x\r\n"), None);
        assert_eq!(chunk_size(b"ffffffffffffffff\r\n"), None);
        assert!(chunk_size_prefix_ok(b""));
        assert!(chunk_size_prefix_ok(b"1a"));
        assert!(chunk_size_prefix_ok(b"1a ;ext"));
        assert!(chunk_size_prefix_ok(b"1a\r"));
        assert!(!chunk_size_prefix_ok(b"hello"));
        assert!(!chunk_size_prefix_ok(b"5x"));
        assert!(!chunk_size_prefix_ok(b"1a\rx"));
        assert!(!chunk_size_prefix_ok(b"ffffffffffffffffff"));
    }

    async fn run(input: &[u8], framing: Framing) -> (Result<(), BodyError>, Vec<u8>, Vec<u8>) {
        let mut buf = Vec::new();
        let mut r = input;
        let mut out = Vec::new();
        let t = Timeouts {
            read: None,
            write: None,
        };
        let res = forward(&mut buf, &mut r, &mut out, framing, t).await;
        (res, out, buf)
    }

    #[tokio::test]
    async fn chunked_body_is_forwarded_and_leftover_kept() {
        let (res, out, left) = run(b"3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET", Framing::Chunked).await;
        assert!(res.is_ok());
        assert_eq!(out, b"3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n");
        assert_eq!(left, b"GET");
    }

    #[tokio::test]
    async fn bad_chunk_data_crlf_is_invalid() {
        let (res, _, _) = run(b"3\r\nabcX\r\n0\r\n\r\n", Framing::Chunked).await;
        assert!(matches!(res, Err(BodyError::Invalid)));
    }

    #[tokio::test]
    async fn length_body_stops_at_length() {
        let (res, out, left) = run(b"hello world", Framing::Length(5)).await;
        assert!(res.is_ok());
        assert_eq!(
            (out.as_slice(), left.as_slice()),
            (&b"hello"[..], &b" world"[..])
        );
        let (res, _, _) = run(b"hi", Framing::Length(5)).await;
        assert!(matches!(res, Err(BodyError::Truncated)));
    }
}
