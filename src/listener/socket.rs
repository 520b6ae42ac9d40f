//! Creating listening sockets from `bind` lines.
//!
//! Owns: address expansion (port ranges, wildcard, `unix@`) and socket
//! options. Must not accept connections.

use super::Listening;
use crate::config::ir::Bind;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Where a `bind` line listens, one entry per socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindTarget {
    Inet(SocketAddr),
    Unix(String),
    /// `fd@<n>`: a listening socket inherited from the parent process.
    Fd(i32),
}

impl std::fmt::Display for BindTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindTarget::Inet(a) => write!(f, "{a}"),
            BindTarget::Unix(p) => write!(f, "{p}"),
            BindTarget::Fd(n) => write!(f, "fd@{n}"),
        }
    }
}

/// Expands one `bind` line into its sockets' addresses.
pub fn targets(b: &Bind) -> Vec<BindTarget> {
    if let Some(p) = &b.path {
        return vec![BindTarget::Unix(p.clone())];
    }
    if let Some(n) = b.fd {
        return vec![BindTarget::Fd(n)];
    }
    let ip: IpAddr =
        b.ip.as_deref()
            .map(|s| s.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|s| s.parse().ok())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let hi = b.port_high.max(b.port_low);
    (b.port_low..=hi)
        .map(|p| BindTarget::Inet(SocketAddr::new(ip, p)))
        .collect()
}

/// The `backlog` bind option, else HAProxy's fallback (the frontend's
/// maxconn, bounded by the kernel anyway).
fn backlog(b: &Bind, fe_maxconn: u32) -> i32 {
    b.options
        .iter()
        .find(|(k, _)| k == "backlog")
        .and_then(|(_, a)| a.first())
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(fe_maxconn.clamp(1, 65535) as i32)
}

fn has_opt(b: &Bind, name: &str) -> bool {
    b.options.iter().any(|(k, _)| k == name)
}

/// Opens one listening socket; must run inside the tokio runtime.
pub fn open(b: &Bind, t: &BindTarget, fe_maxconn: u32) -> std::io::Result<Listening> {
    match t {
        BindTarget::Inet(addr) => {
            let dom = if addr.is_ipv4() {
                Domain::IPV4
            } else {
                Domain::IPV6
            };
            let s = Socket::new(dom, Type::STREAM, Some(Protocol::TCP))?;
            s.set_reuse_address(true)?;
            s.set_reuse_port(true)?;
            if addr.is_ipv6() {
                if has_opt(b, "v6only") {
                    s.set_only_v6(true)?;
                } else if has_opt(b, "v4v6") {
                    s.set_only_v6(false)?;
                }
            }
            s.set_nonblocking(true)?;
            // Accepted connections inherit it (Linux): no setsockopt per
            // connection.
            s.set_tcp_nodelay(true)?;
            s.bind(&(*addr).into())?;
            s.listen(backlog(b, fe_maxconn))?;
            let std: std::net::TcpListener = s.into();
            Ok(Listening::Tcp(tokio::net::TcpListener::from_std(std)?))
        }
        BindTarget::Unix(path) => {
            // A stale socket file from a previous run would block bind().
            if let Ok(m) = std::fs::symlink_metadata(path) {
                use std::os::unix::fs::FileTypeExt;
                if m.file_type().is_socket() {
                    let _ = std::fs::remove_file(path);
                }
            }
            let l = std::os::unix::net::UnixListener::bind(path)?;
            l.set_nonblocking(true)?;
            Ok(Listening::Unix(tokio::net::UnixListener::from_std(l)?))
        }
        BindTarget::Fd(n) => inherited(*n, backlog(b, fe_maxconn)),
    }
}

/// Adopts an inherited socket (`fd@<n>`): a private duplicate, made
/// non-blocking and listening (HAProxy calls listen() on a bound socket
/// that does not listen yet).
fn inherited(n: i32, backlog: i32) -> std::io::Result<Listening> {
    use std::os::fd::FromRawFd;
    // SAFETY: F_DUPFD_CLOEXEC on a caller-named descriptor; the kernel
    // rejects numbers that are not open (EBADF).
    let fd = unsafe { libc::fcntl(n, libc::F_DUPFD_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let s = unsafe { Socket::from_raw_fd(fd) };
    if s.r#type()? != Type::STREAM {
        return Err(std::io::Error::other("not a stream socket"));
    }
    if !s.is_listener()? {
        s.listen(backlog)?;
    }
    s.set_nonblocking(true)?;
    if s.domain()? == Domain::UNIX {
        let l: std::os::unix::net::UnixListener = s.into();
        Ok(Listening::Unix(tokio::net::UnixListener::from_std(l)?))
    } else {
        s.set_tcp_nodelay(true)?;
        let l: std::net::TcpListener = s.into();
        Ok(Listening::Tcp(tokio::net::TcpListener::from_std(l)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ir::Origin;

    fn bind(ip: Option<&str>, lo: u16, hi: u16) -> Bind {
        Bind {
            origin: Origin::default(),
            addr: String::new(),
            ip: ip.map(str::to_string),
            path: None,
            fd: None,
            port_low: lo,
            port_high: hi,
            options: Vec::new(),
        }
    }

    #[test]
    fn port_ranges_expand_inclusively() {
        let t = targets(&bind(Some("127.0.0.1"), 8000, 8002));
        assert_eq!(t.len(), 3);
        assert_eq!(t[2], BindTarget::Inet("127.0.0.1:8002".parse().unwrap()));
    }

    #[test]
    fn missing_ip_is_the_ipv4_wildcard_and_ipv6_is_kept() {
        assert_eq!(
            targets(&bind(None, 80, 80)),
            [BindTarget::Inet("0.0.0.0:80".parse().unwrap())]
        );
        assert_eq!(
            targets(&bind(Some("::1"), 80, 80)),
            [BindTarget::Inet("[::1]:80".parse().unwrap())]
        );
    }
}
