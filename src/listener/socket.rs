//! Creating listening sockets from `bind` lines.
//!
//! Owns: address expansion (port ranges, wildcard, `unix@`) and the socket
//! options of a `bind` line: `backlog`, `v4v6`/`v6only`, `transparent`,
//! `interface`, `mss`, `tcp-ut`, `defer-accept`, `tfo`, and the unix
//! socket file's `mode`/`user`/`group` (via [`super::unix`]). An option
//! the kernel refuses is a [`Warning`], as in HAProxy: the listener still
//! serves. Must not accept connections.

use super::{Listening, unix};
use crate::config::ir::Bind;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;

/// A socket option the kernel refused; HAProxy prints these as
/// `[WARNING] <stage> [file:line] for frontend <fe>: <text> for [<addr>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// `Binding` (options set before bind()) or `Starting` (the others).
    pub stage: &'static str,
    pub text: String,
}

/// An open listener and what the kernel refused on the way.
#[derive(Debug)]
pub struct Opened {
    pub listening: Listening,
    pub warnings: Vec<Warning>,
}

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
    opt(b, "backlog")
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| maxconn(b).unwrap_or(fe_maxconn).clamp(1, 65535) as i32)
}

/// The bind line's own `maxconn` (0 or absent: the frontend's).
pub fn maxconn(b: &Bind) -> Option<u32> {
    opt(b, "maxconn")
        .map(crate::config::units::atol)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0)
}

fn has_opt(b: &Bind, name: &str) -> bool {
    b.options.iter().any(|(k, _)| k == name)
}

/// The first argument of option `name`, when the line has it.
fn opt<'a>(b: &'a Bind, name: &str) -> Option<&'a str> {
    b.options
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, a)| a.first())
        .map(String::as_str)
}

/// `setsockopt` with an `int` value.
fn set_int(s: &Socket, level: i32, name: i32, v: i32) -> std::io::Result<()> {
    // SAFETY: a plain setsockopt on a socket we own, with a live int.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&v as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Options HAProxy sets before bind(): `transparent`, `interface`.
fn before_bind(s: &Socket, b: &Bind, v6: bool, w: &mut Vec<Warning>) {
    if has_opt(b, "transparent") {
        let r = if v6 {
            set_int(s, libc::IPPROTO_IPV6, libc::IPV6_TRANSPARENT, 1)
        } else {
            set_int(s, libc::IPPROTO_IP, libc::IP_TRANSPARENT, 1)
        };
        if r.is_err() {
            w.push(Warning {
                stage: "Binding",
                text: "cannot make receiving socket transparent".into(),
            });
        }
    }
    if let Some(dev) = opt(b, "interface")
        && let Err(e) = s.bind_device(Some(dev.as_bytes()))
    {
        w.push(Warning {
            stage: "Binding",
            text: format!(
                "cannot bind receiver to device '{dev}' ({})",
                unix::reason(&e)
            ),
        });
    }
}

/// Options HAProxy sets while starting the listener: `mss`, `tcp-ut`,
/// `defer-accept`, `tfo` (queue length: the backlog).
fn while_starting(s: &Socket, b: &Bind, backlog: i32, w: &mut Vec<Warning>) {
    let mut warn = |text: String| {
        w.push(Warning {
            stage: "Starting",
            text,
        })
    };
    // A negative `mss` asks the kernel to shrink the peer's MSS; Linux has
    // no such option and HAProxy 2.6 sets nothing then either.
    if let Some(m) = opt(b, "mss").map(crate::config::units::atol)
        && m > 0
        && set_int(s, libc::IPPROTO_TCP, libc::TCP_MAXSEG, m as i32).is_err()
    {
        warn(format!("cannot set MSS to {m}"));
    }
    if let Some(ms) = opt(b, "tcp-ut").and_then(|t| crate::config::units::parse_time_ms(t).ok())
        && set_int(s, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, ms as i32).is_err()
    {
        warn("cannot set TCP User Timeout".into());
    }
    // Accept once data arrived, waiting at most a second (HAProxy's value).
    if has_opt(b, "defer-accept")
        && set_int(s, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 1).is_err()
    {
        warn("cannot enable DEFER_ACCEPT".into());
    }
    if has_opt(b, "tfo") && set_int(s, libc::IPPROTO_TCP, libc::TCP_FASTOPEN, backlog).is_err() {
        warn("cannot enable TCP_FASTOPEN".into());
    }
}

/// Opens one listening socket; must run inside the tokio runtime.
pub fn open(b: &Bind, t: &BindTarget, fe_maxconn: u32) -> std::io::Result<Opened> {
    let mut warnings = Vec::new();
    let backlog = backlog(b, fe_maxconn);
    let listening = match t {
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
            before_bind(&s, b, addr.is_ipv6(), &mut warnings);
            s.bind(&(*addr).into())?;
            while_starting(&s, b, backlog, &mut warnings);
            s.listen(backlog)?;
            let std: std::net::TcpListener = s.into();
            Listening::Tcp(tokio::net::TcpListener::from_std(std)?)
        }
        BindTarget::Unix(path) => {
            let perms = unix::Perms::from_options(|k| opt(b, k)).map_err(std::io::Error::other)?;
            let l = unix::bind(path, perms).map_err(std::io::Error::other)?;
            Listening::Unix(tokio::net::UnixListener::from_std(l)?)
        }
        BindTarget::Fd(n) => inherited(*n, backlog)?,
    };
    Ok(Opened {
        listening,
        warnings,
    })
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
