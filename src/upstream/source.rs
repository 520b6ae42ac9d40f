//! `source`: the local address outgoing connections leave from.
//!
//! Owns: reading `source <addr>[:<port>]` (a server option, or the
//! `source` keyword of a backend, `listen` or `defaults` section; the
//! server's own wins) and connecting from that address, for traffic and
//! health checks alike. The forms this engine cannot honour (`usesrc`
//! transparent proxying, `interface`, port ranges) are refused by name at
//! start-up. Must not pick servers nor retry.

use std::io;
use std::net::{IpAddr, SocketAddr};
use tokio::net::{TcpSocket, TcpStream};

/// Parses the arguments after `source`.
pub fn parse(args: &[String]) -> Result<SocketAddr, String> {
    let Some(a) = args.first() else {
        return Err("'source' expects <addr>[:<port>] as argument.".into());
    };
    if let Some(extra) = args.get(1) {
        return Err(format!(
            "'source {a} {extra}' is not supported by Switchyard yet (only 'source <addr>[:<port>]')"
        ));
    }
    let text = a
        .strip_prefix("ipv4@")
        .or_else(|| a.strip_prefix("ipv6@"))
        .unwrap_or(a);
    if let Ok(ip) = text.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 0));
    }
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok(sa);
    }
    // `a.b.c.d:p` where `p` may be a range (`1024-65000`): not supported.
    match text.rsplit_once(':') {
        Some((ip, port)) if ip.parse::<IpAddr>().is_ok() && port.contains('-') => Err(format!(
            "'source {a}': port ranges are not supported by Switchyard yet"
        )),
        Some((ip, "")) if ip.parse::<IpAddr>().is_ok() => ip
            .parse::<IpAddr>()
            .map(|i| SocketAddr::new(i, 0))
            .map_err(|e| e.to_string()),
        _ => Err(format!("'source {a}': invalid address")),
    }
}

/// The `source` of a server line, else of its proxy (the last `source`
/// line of the proxy's own or inherited directives).
pub fn of(
    server_opts: &[(String, Vec<String>)],
    proxy: &crate::config::ir::Proxy,
) -> Result<Option<SocketAddr>, String> {
    if let Some((_, a)) = server_opts.iter().rev().find(|(k, _)| k == "source") {
        return parse(a).map(Some);
    }
    match proxy
        .directives
        .iter()
        .rev()
        .find(|d| d.words.first().is_some_and(|w| w == "source"))
    {
        Some(d) => parse(&d.words[1..])
            .map(Some)
            .map_err(|e| format!("parsing [{}] : {e}", d.origin)),
        None => Ok(None),
    }
}

/// Connects to `target`, from `source` when set (with `SO_REUSEADDR`, as
/// HAProxy binds outgoing sockets).
pub async fn connect(target: SocketAddr, source: Option<SocketAddr>) -> io::Result<TcpStream> {
    let Some(src) = source else {
        return TcpStream::connect(target).await;
    };
    let s = if target.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    s.set_reuseaddr(true)?;
    s.bind(src)?;
    s.connect(target).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(words: &[&str]) -> Result<SocketAddr, String> {
        parse(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn addresses_with_and_without_port() {
        assert_eq!(
            p(&["127.0.0.2"]).map(|a| a.to_string()),
            Ok("127.0.0.2:0".into())
        );
        assert_eq!(p(&["127.0.0.2:4000"]).map(|a| a.port()), Ok(4000));
        assert_eq!(p(&["ipv6@::1"]).map(|a| a.is_ipv6()), Ok(true));
        assert_eq!(p(&["[::1]:5000"]).map(|a| a.port()), Ok(5000));
        assert_eq!(p(&["10.0.0.1:"]).map(|a| a.port()), Ok(0));
    }

    #[test]
    fn unsupported_forms_are_named() {
        assert!(p(&["10.0.0.1:1024-2048"]).is_err_and(|e| e.contains("port ranges")));
        assert!(p(&["10.0.0.1", "usesrc", "clientip"]).is_err_and(|e| e.contains("usesrc")));
        assert!(p(&["10.0.0.1", "interface", "eth0"]).is_err_and(|e| e.contains("interface")));
        assert!(p(&["nohost"]).is_err());
        assert!(p(&[]).is_err());
    }

    #[tokio::test]
    async fn connections_leave_from_the_source_address() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let target = l.local_addr().expect("addr");
        let src: SocketAddr = "127.0.0.2:0".parse().expect("src");
        let (c, accepted) = tokio::join!(connect(target, Some(src)), l.accept());
        let c = c.expect("connect from 127.0.0.2");
        let (_, peer) = accepted.expect("accept");
        assert_eq!(peer.ip(), src.ip());
        assert_eq!(c.local_addr().expect("local").ip(), src.ip());
    }
}
