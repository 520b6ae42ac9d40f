//! Addresses as HAProxy 2.6 parses them (`str2sa_range`, `str2ip2`).
//!
//! Owns: the address grammar (family prefixes, IPv4/IPv6 literals, host
//! names, ports, port ranges and offsets, UNIX/abstract paths, `fd@`,
//! `sockpair@`), the per-keyword option presets ([`AddrOpts`]), and host name
//! resolution with libc `getaddrinfo` (honours `/etc/hosts`, as HAProxy does at
//! `-c` time).
//! Error texts are HAProxy's own, byte for byte, *including* the trailing `\n`
//! that some of HAProxy's messages carry (it shows as an empty line after
//! `server`, `log`, `stats socket`... errors). Presets whose HAProxy caller
//! trims that newline (`bind`, local `peer`) return the text already trimmed, so
//! `Err(e)` is always exactly what follows the caller's `'<kw>' : ` prefix.
//! `${VAR}` expansion is the lexer's job: the text given here is final.
//! Must not touch: diagnostics printing, the AST, listeners/sockets (apart
//! from `getsockname` on `fd@`/`sockpair@` numbers, which HAProxy also does).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Address family after parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrFamily {
    Inet,
    Inet6,
    /// A path-based UNIX socket (`/path`, `unix@`, `uxst@`, `uxdg@`).
    Unix,
    /// Linux abstract namespace socket (`abns@`).
    Abns,
    /// `fd@<n>` (an inherited file descriptor).
    Fd,
    /// `sockpair@<n>`.
    SockPair,
    /// A host name kept for later resolution (servers); see
    /// [`ParsedAddr::family_hint`] for a forced family.
    Unspecified,
}

/// Result of [`parse_addr`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAddr {
    pub family: AddrFamily,
    /// Host part as written (after the family prefix, brackets kept), for
    /// IP-like addresses and host names.
    pub host: Option<String>,
    /// Literal or resolved address (`*`, empty host → `0.0.0.0`; `::` → `::`).
    /// `None` for an unresolved host name (servers resolve later).
    pub ip: Option<IpAddr>,
    /// UNIX socket path, prefixed with [`AddrOpts::unix_prefix`] like
    /// HAProxy's `sun_path`; for `abns@` the name without the leading NUL.
    pub path: Option<String>,
    pub fd: Option<i32>,
    /// Port or range start (`a` in `a-b`). 0 when absent or for offsets.
    pub port_low: u16,
    /// Range end (== `port_low` for a single port). 0 when absent or for offsets.
    pub port_high: u16,
    /// HAProxy's signed port (`porta`): the port, or the offset for `+n`/`-n`
    /// (unchecked, may be outside 16 bits, like HAProxy).
    pub port: i32,
    /// `+n` / `-n` form (servers map the client's destination port).
    pub port_offset: bool,
    /// A port text followed the separator (`1.2.3.4:` has none).
    pub has_port: bool,
    /// Datagram socket type (`udp@`, `udp4@`, `uxdg@`, `dgram+`, or the
    /// keyword's default for datagram-only keywords).
    pub dgram: bool,
    /// A family forced by a prefix (`ipv4@`, `tcp6@`...) for host names that
    /// are still unresolved; `None` when free.
    pub family_hint: Option<AddrFamily>,
}

/// Which port forms a keyword accepts (convenience view of [`AddrOpts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortMode {
    /// A port is required (bind, stats socket, nameserver, mailer, dispatch).
    Mandatory,
    /// A port may be given or not (server, log, source).
    Optional,
    /// No port may be given.
    Forbidden,
}

/// HAProxy's `PA_O_*` flags, plus two formatting details of the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrOpts {
    /// Resolve host names now (`PA_O_RESOLVE`); failures are errors.
    pub resolve: bool,
    /// Keep unresolvable names for later resolution (servers pass `fqdn`).
    pub fqdn_ok: bool,
    /// A port may be given (`PA_O_PORT_OK`).
    pub port_ok: bool,
    /// A port must be given and be >= 1 (`PA_O_PORT_MAND`).
    pub port_mand: bool,
    /// `a-b` ranges allowed (`PA_O_PORT_RANGE`).
    pub port_range: bool,
    /// `+n`/`-n` offsets allowed (`PA_O_PORT_OFS`).
    pub port_ofs: bool,
    /// `fd@` must name an existing socket (`PA_O_SOCKET_FD`).
    pub socket_fd: bool,
    /// `fd@` taken as a raw fd number (`PA_O_RAW_FD`).
    pub raw_fd: bool,
    /// Stream sockets acceptable (`PA_O_STREAM`).
    pub stream: bool,
    /// Datagram sockets acceptable (`PA_O_DGRAM`).
    pub dgram: bool,
    /// Datagram unless a prefix says otherwise (`PA_O_DEFAULT_DGRAM`).
    pub default_dgram: bool,
    /// `unix-bind prefix` (counts in the path length limit and is prepended).
    pub unix_prefix: Option<String>,
    /// Keep HAProxy's trailing `\n` on messages that have one.
    pub keep_newline: bool,
}

impl AddrOpts {
    fn base() -> Self {
        AddrOpts {
            resolve: true,
            fqdn_ok: false,
            port_ok: true,
            port_mand: false,
            port_range: false,
            port_ofs: false,
            socket_fd: false,
            raw_fd: false,
            stream: true,
            dgram: false,
            default_dgram: false,
            unix_prefix: None,
            keep_newline: true,
        }
    }

    /// `bind` (and `dgram-bind`-less stream listeners): port mandatory,
    /// ranges, `fd@` sockets, host names resolved now; newline trimmed.
    pub fn bind() -> Self {
        AddrOpts {
            port_mand: true,
            port_range: true,
            socket_fd: true,
            keep_newline: false,
            ..Self::base()
        }
    }

    /// The local `peer` line of a `peers` section as a listener (same rules
    /// as `bind`, messages printed after `'peer <name>' : `).
    pub fn peer_bind() -> Self {
        Self::bind()
    }

    /// `stats socket`: like `bind`, but the message keeps its newline.
    pub fn stats_socket() -> Self {
        AddrOpts {
            keep_newline: true,
            ..Self::bind()
        }
    }

    /// `server` / `default-server`-less server address: optional port,
    /// offsets, no `fd@`, host names kept for resolution at init.
    pub fn server() -> Self {
        AddrOpts {
            resolve: false,
            fqdn_ok: true,
            port_ofs: true,
            ..Self::base()
        }
    }

    /// A remote `peer` (and `server` lines inside `peers`): as a server but
    /// host names must resolve now.
    pub fn peer() -> Self {
        AddrOpts {
            port_ofs: true,
            ..Self::base()
        }
    }

    /// `server` lines of a `ring` section: resolved now, no offsets needed.
    pub fn ring_server() -> Self {
        Self::peer()
    }

    /// `log <target>`: optional port (0 allowed), raw `fd@`, datagram or stream.
    pub fn log() -> Self {
        AddrOpts {
            raw_fd: true,
            dgram: true,
            default_dgram: true,
            ..Self::base()
        }
    }

    /// `nameserver` in `resolvers`: port mandatory, datagram or stream.
    pub fn nameserver() -> Self {
        AddrOpts {
            port_mand: true,
            dgram: true,
            default_dgram: true,
            ..Self::base()
        }
    }

    /// `mailer` in `mailers`: port mandatory, stream.
    pub fn mailer() -> Self {
        AddrOpts {
            port_mand: true,
            ..Self::base()
        }
    }

    /// Proxy-level `dispatch`: port mandatory.
    pub fn dispatch() -> Self {
        Self::mailer()
    }

    /// Proxy-level `source`: optional port, no range/offset.
    pub fn source() -> Self {
        Self::base()
    }

    /// `source` option of a `server` line: port ranges allowed.
    pub fn server_source() -> Self {
        AddrOpts {
            port_range: true,
            ..Self::base()
        }
    }

    /// `addr` option of a `server` line (HAProxy trims the newline and adds
    /// a final `.` itself).
    pub fn server_addr() -> Self {
        AddrOpts {
            keep_newline: false,
            ..Self::base()
        }
    }

    /// Which port forms are accepted.
    pub fn port_mode(&self) -> PortMode {
        if !self.port_ok {
            PortMode::Forbidden
        } else if self.port_mand {
            PortMode::Mandatory
        } else {
            PortMode::Optional
        }
    }
}

/// `AF_INET`, `AF_INET6` numbers as printed by HAProxy.
const AF_INET_NUM: i32 = 2;
const AF_INET6_NUM: i32 = 10;
/// HAProxy's `AF_CUST_SOCKPAIR` (`AF_MAX + 2`, glibc `AF_MAX` = 46).
const AF_CUST_SOCKPAIR_NUM: i32 = 48;

/// (prefix, family, `Some((sock_dgram, ctrl_dgram))` when the prefix forces it)
type Prefix = (&'static str, Kind, Option<(bool, bool)>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unspec,
    Inet,
    Inet6,
    Unix,
    Abns,
    Fd,
    SockPair,
}

/// Parses one address the way HAProxy's `str2sa_range` does for the keyword
/// described by `opts`. `Err` is HAProxy's message (see the module docs about
/// the trailing newline).
pub fn parse_addr(text: &str, opts: &AddrOpts) -> Result<ParsedAddr, String> {
    parse_inner(text, opts).map_err(|m| {
        if opts.keep_newline {
            m
        } else {
            m.trim_end_matches('\n').to_string()
        }
    })
}

/// `bind`-style comma-separated list (`a:80,b:81`); a trailing comma is
/// ignored, an empty element is an error, like HAProxy's `str2listener`.
pub fn parse_addr_list(text: &str, opts: &AddrOpts) -> Result<Vec<ParsedAddr>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (item, next) = match rest.find(',') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        out.push(parse_addr(item, opts)?);
        rest = next;
    }
    Ok(out)
}

fn parse_inner(text: &str, opts: &AddrOpts) -> Result<ParsedAddr, String> {
    if text.is_empty() {
        return Err(format!(
            "'{text}' resolves to an empty address (environment variable missing?)\n"
        ));
    }
    let only_dgram = opts.default_dgram || (opts.dgram && !opts.stream);
    let (mut sock_dgram, mut ctrl_dgram) = (only_dgram, only_dgram);
    let mut s = text;
    if let Some(r) = s.strip_prefix("stream+") {
        s = r;
        (sock_dgram, ctrl_dgram) = (false, false);
    } else if let Some(r) = s.strip_prefix("dgram+") {
        s = r;
        (sock_dgram, ctrl_dgram) = (true, true);
    }
    const PREFIXES: &[Prefix] = &[
        ("unix@", Kind::Unix, None),
        ("uxdg@", Kind::Unix, Some((true, true))),
        ("uxst@", Kind::Unix, Some((false, false))),
        ("abns@", Kind::Abns, None),
        ("ipv4@", Kind::Inet, None),
        ("ipv6@", Kind::Inet6, None),
        ("tcp4@", Kind::Inet, Some((false, false))),
        ("udp4@", Kind::Inet, Some((true, true))),
        ("tcp6@", Kind::Inet6, Some((false, false))),
        ("udp6@", Kind::Inet6, Some((true, true))),
        ("tcp@", Kind::Unspec, Some((false, false))),
        ("udp@", Kind::Unspec, Some((true, true))),
        ("quic4@", Kind::Inet, Some((true, false))),
        ("quic6@", Kind::Inet6, Some((true, false))),
        ("fd@", Kind::Fd, None),
        ("sockpair@", Kind::SockPair, None),
    ];
    let mut kind = Kind::Unspec;
    let mut prefixed = false;
    for (p, k, types) in PREFIXES {
        if let Some(r) = s.strip_prefix(p) {
            s = r;
            kind = *k;
            prefixed = true;
            if let Some((sd, cd)) = types {
                (sock_dgram, ctrl_dgram) = (*sd, *cd);
            }
            break;
        }
    }
    if !prefixed && s.starts_with('/') {
        kind = Kind::Unix;
    }

    let mut out = ParsedAddr {
        family: AddrFamily::Unspecified,
        host: None,
        ip: None,
        path: None,
        fd: None,
        port_low: 0,
        port_high: 0,
        port: 0,
        port_offset: false,
        has_port: false,
        dgram: sock_dgram,
        family_hint: None,
    };

    match kind {
        Kind::SockPair => {
            let fd = parse_fd(s, text)?;
            if let Err(e) = sock_name(fd) {
                return Err(format!("cannot use file descriptor '{fd}' : {e}.\n"));
            }
            out.family = AddrFamily::SockPair;
            out.fd = Some(fd);
        }
        Kind::Fd => {
            let fd = parse_fd(s, text)?;
            if opts.socket_fd {
                let (port, fam) = match sock_name(fd) {
                    Ok(v) => v,
                    Err(e) => return Err(format!("cannot use file descriptor '{fd}' : {e}.\n")),
                };
                match sock_type(fd) {
                    Some(t) if (t == libc::SOCK_STREAM) != sock_dgram => {}
                    _ => {
                        return Err(format!(
                            "socket on file descriptor '{fd}' is of the wrong type.\n"
                        ));
                    }
                }
                out.port_low = port;
                out.port_high = port;
                out.port = i32::from(port);
                out.family = fam;
            } else if opts.raw_fd {
                out.family = AddrFamily::Fd;
            } else {
                return Err(format!(
                    "a file descriptor is not acceptable here in '{text}'\n"
                ));
            }
            out.fd = Some(fd);
        }
        Kind::Unix | Kind::Abns => {
            let abstract_ns = kind == Kind::Abns;
            let pfx = if abstract_ns {
                ""
            } else {
                opts.unix_prefix.as_deref().unwrap_or("")
            };
            let max: i64 = 107
                - if abstract_ns {
                    0
                } else {
                    pfx.len() as i64 + 10
                };
            if s.len() as i64 > max {
                return Err(format!("socket path '{text}' too long (max {max})\n"));
            }
            out.family = if abstract_ns {
                AddrFamily::Abns
            } else {
                AddrFamily::Unix
            };
            out.path = Some(format!("{pfx}{s}"));
        }
        Kind::Unspec | Kind::Inet | Kind::Inet6 => {
            parse_inet(text, s, kind, opts, &mut out)?;
        }
    }

    if !ctrl_dgram && !opts.stream {
        return Err(format!("stream-type address not acceptable in '{text}'\n"));
    }
    if ctrl_dgram && !opts.dgram {
        return Err(format!("dgram-type address not acceptable in '{text}'\n"));
    }
    // protocol lookup: QUIC (stream control over datagram sockets) is not
    // built into the reference binary; socket pairs only exist as streams.
    let fam_num = match out.family {
        AddrFamily::Inet => Some(AF_INET_NUM),
        AddrFamily::Inet6 => Some(AF_INET6_NUM),
        AddrFamily::SockPair if sock_dgram => Some(AF_CUST_SOCKPAIR_NUM),
        _ => None,
    };
    let unsupported =
        ctrl_dgram != sock_dgram || (out.family == AddrFamily::SockPair && sock_dgram);
    if let (true, Some(num)) = (unsupported, fam_num) {
        let quic = !ctrl_dgram && sock_dgram;
        return Err(format!(
            "unsupported {} protocol for {} family {num} address '{text}'{}",
            if ctrl_dgram { "datagram" } else { "stream" },
            if sock_dgram { "datagram" } else { "stream" },
            if quic {
                "; QUIC is not compiled in if this is what you were looking for."
            } else {
                ""
            }
        ));
    }
    Ok(out)
}

/// `strtol` + `(int)` + `!*str || fd < 0 || *endptr` as HAProxy checks it.
fn parse_fd(s: &str, text: &str) -> Result<i32, String> {
    let (v, used) = crate::config::units::strtol(s);
    // HAProxy stores the long into an int: truncation reproduced on purpose
    let fd = v as i32;
    if s.is_empty() || fd < 0 || used != s.len() {
        return Err(format!(
            "file descriptor '{s}' is not a valid integer in '{text}'\n"
        ));
    }
    Ok(fd)
}

fn parse_inet(
    text: &str,
    s: &str,
    kind: Kind,
    opts: &AddrOpts,
    out: &mut ParsedAddr,
) -> Result<(), String> {
    let b = s.as_bytes();
    // last ':' or ']' (index 0 is looked at as a fallback, like HAProxy);
    // with an empty host HAProxy reads the prefix's last byte, never ':'.
    let sep = match b.iter().rposition(|&c| c == b':' || c == b']') {
        Some(i) if b[i] == b':' => Some(i),
        _ => None,
    };
    let (host, port1) = match sep {
        Some(i) => {
            if !opts.port_ok {
                return Err(format!("port specification not permitted here in '{text}'"));
            }
            (&s[..i], &s[i + 1..])
        }
        None => {
            if opts.port_mand {
                return Err(format!("missing port specification in '{text}'"));
            }
            (s, "")
        }
    };
    let mand = i32::from(opts.port_mand);
    let first = port1.as_bytes().first().copied();
    match first {
        Some(c) if c.is_ascii_digit() => {
            let (p1, p2) = match port1.find('-') {
                Some(i) => {
                    if !opts.port_range {
                        return Err(format!("port range not permitted here in '{text}'"));
                    }
                    (&port1[..i], &port1[i + 1..])
                }
                None => (port1, port1),
            };
            let lo = crate::config::units::atoi(p1);
            let hi = crate::config::units::atoi(p2);
            if lo < mand || lo > 65535 {
                return Err(format!("invalid port '{p1}'"));
            }
            if hi < mand || hi > 65535 {
                return Err(format!("invalid port '{p2}'"));
            }
            if lo > hi {
                return Err(format!("invalid port range '{lo}-{hi}'"));
            }
            out.port_low = u16::try_from(lo).unwrap_or(0);
            out.port_high = u16::try_from(hi).unwrap_or(0);
            out.port = lo;
        }
        Some(b'-') | Some(b'+') => {
            if !opts.port_ofs {
                return Err(format!("port offset not permitted here in '{text}'"));
            }
            let n = crate::config::units::atoi(&port1[1..]);
            out.port = if first == Some(b'-') {
                n.wrapping_neg()
            } else {
                n
            };
            out.port_offset = true;
        }
        Some(_) => {
            let c = port1.chars().next().unwrap_or('\0');
            return Err(format!(
                "invalid character '{c}' in port number '{port1}' in '{text}'\n"
            ));
        }
        None => {
            if opts.port_mand {
                return Err(format!("missing port specification in '{text}'"));
            }
        }
    }
    out.has_port = !port1.is_empty();
    out.host = Some(host.to_string());
    let fam = match kind {
        Kind::Inet => Some(AddrFamily::Inet),
        Kind::Inet6 => Some(AddrFamily::Inet6),
        _ => None,
    };
    let ip = match str2ip(host, fam, false) {
        Some(ip) => Some(ip),
        None if opts.resolve => match str2ip(host, fam, true) {
            Some(ip) => Some(ip),
            None => return Err(format!("invalid address: '{host}' in '{text}'\n")),
        },
        None if opts.fqdn_ok => None,
        None => return Err(format!("invalid address: '{host}' in '{text}'\n")),
    };
    match ip {
        Some(IpAddr::V4(_)) => out.family = AddrFamily::Inet,
        Some(IpAddr::V6(_)) => out.family = AddrFamily::Inet6,
        None => {
            out.family = AddrFamily::Unspecified;
            out.family_hint = fam;
        }
    }
    out.ip = ip;
    Ok(())
}

/// HAProxy's `str2ip2`: `[..]` brackets, `::`, `*`/empty (any address),
/// IPv6 then IPv4 literals, then (when `resolve`) a validated host name
/// resolved with `getaddrinfo`. `family` restricts the accepted family.
pub fn str2ip(text: &str, family: Option<AddrFamily>, resolve: bool) -> Option<IpAddr> {
    let mut s = text;
    if s.starts_with('[') {
        if s.len() < 4 || s.len() >= 48 || !s.ends_with(']') {
            return None;
        }
        s = &s[1..s.len() - 1];
    }
    let want4 = matches!(family, None | Some(AddrFamily::Inet));
    let want6 = matches!(family, None | Some(AddrFamily::Inet6));
    if s == "::" {
        return want6.then_some(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    }
    if s.is_empty() || s == "*" {
        return Some(match family {
            Some(AddrFamily::Inet6) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
    }
    if want6 && let Ok(a) = s.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(a));
    }
    if want4 && let Ok(a) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(a));
    }
    if !resolve || !hostname_valid(s) {
        return None;
    }
    getaddrinfo(s, family)
}

/// Resolves a host name (or literal) like HAProxy's `str2ip2(.., 1)`.
pub fn resolve_host(name: &str) -> Option<IpAddr> {
    str2ip(name, None, true)
}

/// As [`resolve_host`], restricted to a family forced by `ipv4@`/`ipv6@`.
pub fn resolve_host_family(name: &str, family: Option<AddrFamily>) -> Option<IpAddr> {
    str2ip(name, family, true)
}

/// HAProxy's `resolv_hostname_validation`: at most 255 bytes, labels of
/// `[A-Za-z0-9_-]` of at most 63 bytes (empty labels are not checked here).
pub fn hostname_valid(name: &str) -> bool {
    if name.len() > 255 {
        return false;
    }
    name.split('.').all(|label| {
        label.len() <= 63
            && label
                .bytes()
                .all(|c| c == b'-' || c == b'_' || c.is_ascii_alphanumeric())
    })
}

/// HAProxy's `resolv_str_to_dn_label` succeeds: no empty label except a
/// single trailing dot. A server whose name fails this gets
/// `Can't create DNS resolution for server '<name>'`.
pub fn dn_label_valid(name: &str) -> bool {
    let b = name.as_bytes();
    let mut offset = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'.' {
            if i == offset {
                return false;
            }
            if i + 1 == b.len() {
                break;
            }
            offset = i + 1;
        }
    }
    true
}

fn getaddrinfo(name: &str, family: Option<AddrFamily>) -> Option<IpAddr> {
    let c_name = std::ffi::CString::new(name).ok()?;
    // SAFETY: addrinfo is a plain C struct for which all-zero is a valid value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = match family {
        Some(AddrFamily::Inet) => libc::AF_INET,
        Some(AddrFamily::Inet6) => libc::AF_INET6,
        _ => libc::AF_UNSPEC,
    };
    hints.ai_socktype = libc::SOCK_DGRAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid NUL-terminated name, valid hints, out-pointer to a local.
    let rc = unsafe { libc::getaddrinfo(c_name.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 || res.is_null() {
        return None;
    }
    // SAFETY: getaddrinfo succeeded, `res` points to a valid list whose first
    // entry's ai_addr matches ai_family; freed exactly once below.
    let ip = unsafe {
        let ai = &*res;
        let ip = if ai.ai_addr.is_null() {
            None
        } else if ai.ai_family == libc::AF_INET {
            let sa = &*(ai.ai_addr as *const libc::sockaddr_in);
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr))))
        } else if ai.ai_family == libc::AF_INET6 {
            let sa = &*(ai.ai_addr as *const libc::sockaddr_in6);
            Some(IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr)))
        } else {
            None
        };
        libc::freeaddrinfo(res);
        ip
    };
    match (family, ip) {
        (Some(AddrFamily::Inet), Some(IpAddr::V6(_))) => None,
        (Some(AddrFamily::Inet6), Some(IpAddr::V4(_))) => None,
        (_, ip) => ip,
    }
}

/// C `strerror(errno)` text (without Rust's ` (os error N)` suffix).
pub fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// `getsockname` on `fd`: (port, family) or the `strerror` text.
fn sock_name(fd: i32) -> Result<(u16, AddrFamily), String> {
    // SAFETY: sockaddr_storage is plain data; all-zero is valid.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: the buffer and its length are valid for the call; an invalid
    // fd only makes the call fail with EBADF/ENOTSOCK.
    let rc = unsafe { libc::getsockname(fd, (&raw mut ss).cast::<libc::sockaddr>(), &mut len) };
    if rc == -1 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        return Err(strerror(errno));
    }
    let fam = i32::from(ss.ss_family);
    if fam == libc::AF_INET {
        // SAFETY: family says the storage holds a sockaddr_in.
        let sa = unsafe { &*(&raw const ss).cast::<libc::sockaddr_in>() };
        Ok((u16::from_be(sa.sin_port), AddrFamily::Inet))
    } else if fam == libc::AF_INET6 {
        // SAFETY: family says the storage holds a sockaddr_in6.
        let sa = unsafe { &*(&raw const ss).cast::<libc::sockaddr_in6>() };
        Ok((u16::from_be(sa.sin6_port), AddrFamily::Inet6))
    } else if fam == libc::AF_UNIX {
        Ok((0, AddrFamily::Unix))
    } else {
        Ok((0, AddrFamily::Fd))
    }
}

fn sock_type(fd: i32) -> Option<i32> {
    let mut t: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: valid out-buffer of the advertised size.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&raw mut t).cast::<libc::c_void>(),
            &mut len,
        )
    };
    (rc == 0).then_some(t)
}

#[cfg(test)]
mod tests;
