//! Zero-copy TCP tunnels on Linux: bytes move socket → pipe → socket with
//! splice(2) and never enter user space.
//!
//! Owns: the per-direction kernel pipes and the splice loop, with the same
//! inactivity timeout and half-close rules as the copying tunnel in
//! [`super::tcp`]. Must not look at the bytes (it cannot: they stay in the
//! kernel). Falls back to the caller (returns `Err` before moving any byte)
//! when pipes cannot be created or the global `nosplice` is set.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Cleared by the global `nosplice` keyword.
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Applies the global `nosplice` setting (before traffic starts).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Bytes asked of one splice call (the default pipe holds 64 KiB).
const CHUNK: usize = 65536;

/// A kernel pipe used as the splice relay of one direction.
struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
}

impl Pipe {
    fn new() -> io::Result<Pipe> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` is a valid 2-element array for pipe2 to fill.
        let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded, both descriptors are fresh and ours.
        Ok(unsafe {
            Pipe {
                r: OwnedFd::from_raw_fd(fds[0]),
                w: OwnedFd::from_raw_fd(fds[1]),
            }
        })
    }
}

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: plain descriptors and null offsets (sockets and pipes have
    // no file position); the kernel validates everything else.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Activity clock shared by both directions: a direction times out only
/// when neither side moved a byte for its whole timeout (HAProxy's rule).
struct Clock {
    start: Instant,
    last_ms: AtomicU64,
}

impl Clock {
    fn touch(&self) {
        self.last_ms
            .store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
    fn idle_for(&self) -> Duration {
        let now = self.start.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// Waits for `interest` on `s`, failing with `TimedOut` once the tunnel
/// has been idle for `idle`.
async fn ready(
    s: &TcpStream,
    interest: Interest,
    idle: Option<Duration>,
    clock: &Clock,
) -> io::Result<()> {
    let Some(t) = idle else {
        s.ready(interest).await?;
        return Ok(());
    };
    loop {
        let wait = t.saturating_sub(clock.idle_for());
        if wait.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        if let Ok(r) = tokio::time::timeout(wait, s.ready(interest)).await {
            r?;
            return Ok(());
        }
    }
}

/// One direction: `src` → pipe → `dst`, then half-close `dst`.
async fn one_way(
    src: &TcpStream,
    dst: &TcpStream,
    pipe: Pipe,
    idle: Option<Duration>,
    clock: &Clock,
    fail: impl Fn(bool),
) -> io::Result<()> {
    let (pr, pw) = (pipe.r.as_raw_fd(), pipe.w.as_raw_fd());
    let (sfd, dfd) = (src.as_raw_fd(), dst.as_raw_fd());
    loop {
        if let Err(e) = ready(src, Interest::READABLE, idle, clock).await {
            fail(true);
            abort(dfd);
            return Err(e);
        }
        let n = match src.try_io(Interest::READABLE, || splice(sfd, pw, CHUNK)) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => {
                // `src` is gone: nothing more can reach it either, so the
                // other direction (reading `dst`) ends too.
                fail(true);
                abort(dfd);
                return Err(e);
            }
        };
        if n == 0 {
            // SAFETY: shutting down the write side of a socket we own.
            unsafe { libc::shutdown(dfd, libc::SHUT_WR) };
            return Ok(());
        }
        clock.touch();
        let mut left = n;
        while left > 0 {
            match dst.try_io(Interest::WRITABLE, || splice(pr, dfd, left)) {
                Ok(0) => {
                    fail(false);
                    return Err(io::ErrorKind::WriteZero.into());
                }
                Ok(m) => {
                    left -= m;
                    clock.touch();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if let Err(e) = ready(dst, Interest::WRITABLE, idle, clock).await {
                        fail(false);
                        return Err(e);
                    }
                }
                Err(e) => {
                    fail(false);
                    return Err(e);
                }
            }
        }
    }
}

/// Shuts a socket down both ways: its reader sees the end at once.
fn abort(fd: RawFd) {
    // SAFETY: shutting down a socket we own; errors (already closed) are moot.
    unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
}

/// Relays `a` (the client) ⇄ `b` (the server) with splice until both
/// directions ended (or one failed); tells which side aborted, if one
/// did. `Err` before any byte moved means "use the copying tunnel".
pub async fn tunnel(
    a: &TcpStream,
    b: &TcpStream,
    a_timeout: Option<Duration>,
    b_timeout: Option<Duration>,
) -> io::Result<super::tcp::Aborts> {
    if !ENABLED.load(Ordering::Relaxed) {
        return Err(io::ErrorKind::Unsupported.into());
    }
    let up = Pipe::new()?;
    let down = Pipe::new()?;
    let clock = Clock {
        start: Instant::now(),
        last_ms: AtomicU64::new(0),
    };
    // Not `try_join`: when one direction fails (say the server closed while
    // the client was still sending), what the other already has in flight
    // (the server's last answer) is still delivered, as HAProxy does.
    let aborts = super::tcp::Aborts::default();
    let _ = tokio::join!(
        one_way(a, b, up, a_timeout, &clock, |r| aborts.fail(true, r)),
        one_way(b, a, down, b_timeout, &clock, |r| aborts.fail(false, r))
    );
    Ok(aborts)
}
