//! Expected texts were produced by HAProxy 2.6.12 (`haproxy -c`) on one-line
//! configurations (check-cases 24-29, 83 and many more by hand).

use super::*;

fn err(text: &str, o: &AddrOpts) -> String {
    match parse_addr(text, o) {
        Err(e) => e,
        Ok(a) => panic!("{text}: unexpectedly parsed as {a:?}"),
    }
}

fn ok(text: &str, o: &AddrOpts) -> ParsedAddr {
    match parse_addr(text, o) {
        Ok(a) => a,
        Err(e) => panic!("{text}: {e}"),
    }
}

#[test]
fn bind_errors_match_haproxy() {
    let b = AddrOpts::bind();
    let cases: &[(&str, &str)] = &[
        (
            "1.2.3.4.5:8080",
            "invalid address: '1.2.3.4.5' in '1.2.3.4.5:8080'",
        ),
        (
            "999.1.1.1:8081",
            "invalid address: '999.1.1.1' in '999.1.1.1:8081'",
        ),
        ("127.0.0.1:70000", "invalid port '70000'"),
        ("127.0.0.1", "missing port specification in '127.0.0.1'"),
        ("::80", "invalid address: ':' in '::80'"),
        ("::1", "invalid address: ':' in '::1'"),
        ("[::]80", "missing port specification in '[::]80'"),
        ("[::1]", "missing port specification in '[::1]'"),
        ("[]:80", "invalid address: '[]' in '[]:80'"),
        ("127.0.0.1:10-1", "invalid port range '10-1'"),
        (
            "127.0.0.1:+5",
            "port offset not permitted here in '127.0.0.1:+5'",
        ),
        ("127.0.0.1:0", "invalid port '0'"),
        ("127.0.0.1:", "missing port specification in '127.0.0.1:'"),
        (
            "127.0.0.1:x80",
            "invalid character 'x' in port number 'x80' in '127.0.0.1:x80'",
        ),
        ("127.0.0.1:8080-", "invalid port ''"),
        ("127.0.0.1:80-x", "invalid port 'x'"),
        ("127.0.0.1:80-0", "invalid port '0'"),
        (
            "127.0.0.1:99999999999999999999",
            "invalid port '99999999999999999999'",
        ),
        ("*", "missing port specification in '*'"),
        (":", "missing port specification in ':'"),
        ("rel.sock", "missing port specification in 'rel.sock'"),
        (
            "no-such-host.invalid:80",
            "invalid address: 'no-such-host.invalid' in 'no-such-host.invalid:80'",
        ),
        (
            "fd@x",
            "file descriptor 'x' is not a valid integer in 'fd@x'",
        ),
        ("fd@", "file descriptor '' is not a valid integer in 'fd@'"),
        (
            "fd@-1",
            "file descriptor '-1' is not a valid integer in 'fd@-1'",
        ),
        (
            "fd@3x",
            "file descriptor '3x' is not a valid integer in 'fd@3x'",
        ),
        (
            "sockpair@",
            "file descriptor '' is not a valid integer in 'sockpair@'",
        ),
        ("udp@:80", "dgram-type address not acceptable in 'udp@:80'"),
        (
            "udp4@127.0.0.1:80",
            "dgram-type address not acceptable in 'udp4@127.0.0.1:80'",
        ),
        (
            "dgram+127.0.0.1:80",
            "dgram-type address not acceptable in 'dgram+127.0.0.1:80'",
        ),
        (
            "stream+udp@:80",
            "dgram-type address not acceptable in 'stream+udp@:80'",
        ),
        (
            "stream+uxdg@/tmp/x",
            "dgram-type address not acceptable in 'stream+uxdg@/tmp/x'",
        ),
        ("udp@", "missing port specification in 'udp@'"),
        (
            "ipv6@1.2.3.4:80",
            "invalid address: '1.2.3.4' in 'ipv6@1.2.3.4:80'",
        ),
        ("ipv4@::1:80", "invalid address: '::1' in 'ipv4@::1:80'"),
        (
            "tcp6@1.2.3.4:80",
            "invalid address: '1.2.3.4' in 'tcp6@1.2.3.4:80'",
        ),
        (
            "quic4@127.0.0.1:80",
            "unsupported stream protocol for datagram family 2 address 'quic4@127.0.0.1:80'; QUIC is not compiled in if this is what you were looking for.",
        ),
        (
            "quic6@:80",
            "unsupported stream protocol for datagram family 10 address 'quic6@:80'; QUIC is not compiled in if this is what you were looking for.",
        ),
        (
            "",
            "'' resolves to an empty address (environment variable missing?)",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(text, &b), *want, "bind {text}");
    }
}

#[test]
fn bind_accepts_like_haproxy() {
    let b = AddrOpts::bind();
    for text in [
        ":80",
        "*:80",
        ":::80",
        "[::]:80",
        "localhost:80",
        "127.0.0.1:1-10",
        "127.0.0.1:80x",
        "127.0.0.1:4294967376",
        "127.0.0.1:80-90-100",
        "[::1]:80",
        "[1.2.3.4]:80",
        "ipv4@:80",
        "ipv6@*:80",
        "ipv6@:80",
        "ipv6@::1:80",
        "ipv6@[::1]:80",
        "tcp@127.0.0.1:80",
        "tcp4@127.0.0.1:80",
        "tcp6@:80",
        "stream+127.0.0.1:80",
        "dgram+tcp@:80",
        "/tmp/x.sock",
        "/",
        "unix@rel.sock",
        "unix@",
        "uxst@/tmp/x",
        "abns@foo",
        "abns@",
    ] {
        ok(text, &b);
    }
    let a = ok(":::80", &b);
    assert_eq!(a.family, AddrFamily::Inet6);
    assert_eq!(a.ip, Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
    assert_eq!((a.port_low, a.port_high, a.has_port), (80, 80, true));
    let a = ok(":8080", &b); // bind "${UNSET}:8080"
    assert_eq!(a.ip, Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    let a = ok("127.0.0.1:1-10", &b);
    assert_eq!((a.port_low, a.port_high), (1, 10));
    assert_eq!(ok("127.0.0.1:4294967376", &b).port_low, 80);
    let a = ok("/tmp/x.sock", &b);
    assert_eq!(
        (a.family, a.path.as_deref()),
        (AddrFamily::Unix, Some("/tmp/x.sock"))
    );
    let a = ok("abns@foo", &b);
    assert_eq!(
        (a.family, a.path.as_deref()),
        (AddrFamily::Abns, Some("foo"))
    );
    let a = ok("localhost:80", &b);
    assert_eq!(a.host.as_deref(), Some("localhost"));
    assert!(a.ip.is_some_and(|ip| ip.is_loopback()));
}

#[test]
fn unix_path_limits() {
    let b = AddrOpts::bind();
    let p97 = format!("unix@{}", "a".repeat(97));
    ok(&p97, &b);
    let p98 = format!("unix@{}", "a".repeat(98));
    assert_eq!(
        err(&p98, &b),
        format!("socket path '{p98}' too long (max 97)")
    );
    let a107 = format!("abns@{}", "a".repeat(107));
    ok(&a107, &b);
    let a108 = format!("abns@{}", "a".repeat(108));
    assert_eq!(
        err(&a108, &b),
        format!("socket path '{a108}' too long (max 107)")
    );
    let with_pfx = AddrOpts {
        unix_prefix: Some("/var/run/".into()),
        ..AddrOpts::bind()
    };
    // without unix@ or a leading '/', a relative name is a host name
    assert_eq!(
        err(
            "x.sock",
            &AddrOpts {
                port_mand: false,
                ..with_pfx.clone()
            }
        ),
        "invalid address: 'x.sock' in 'x.sock'"
    );
    let p = ok("unix@x.sock", &with_pfx);
    assert_eq!(p.path.as_deref(), Some("/var/run/x.sock"));
    let p88 = format!("unix@{}", "a".repeat(89));
    assert_eq!(
        err(&p88, &with_pfx),
        format!("socket path '{p88}' too long (max 88)")
    );
}

#[test]
fn server_rules_match_haproxy() {
    let s = AddrOpts::server();
    for text in [
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:0",
        "127.0.0.1:+5",
        "127.0.0.1:-5",
        ":80",
        "*:80",
        ":::80",
        "[::1]",
        "[::1]:80",
        "localhost",
        "/tmp/x.sock",
        "unix@rel.sock",
        "abns@x",
        "1.2.3.4:-99999",
        "1.2.3.4:+70000",
    ] {
        ok(text, &s);
    }
    // host names and bad literals are kept for resolution at init time
    // (HAProxy then says "could not resolve address '<host>'.")
    for (text, host) in [
        ("300.1.1.1:8081", "300.1.1.1"),
        ("[::1::2]:8081", "[::1::2]"),
        ("::1", ":"),
        ("[::1]80", "[::1]80"),
        ("rel.sock", "rel.sock"),
        ("no-such-host.invalid:8081", "no-such-host.invalid"),
        ("-", "-"),
        ("foo_bar:80", "foo_bar"),
    ] {
        let a = ok(text, &s);
        assert_eq!(
            (a.family, a.ip, a.host.as_deref()),
            (AddrFamily::Unspecified, None, Some(host)),
            "{text}"
        );
    }
    let a = ok("ipv6@127.0.0.1:80", &s);
    assert_eq!((a.ip, a.family_hint), (None, Some(AddrFamily::Inet6)));
    let a = ok("127.0.0.1:-5", &s);
    assert_eq!((a.port, a.port_offset), (-5, true));
    let a = ok("127.0.0.1", &s);
    assert!(!a.has_port);
    let cases: &[(&str, &str)] = &[
        ("127.0.0.1:70000", "invalid port '70000'"),
        (
            "127.0.0.1:abc",
            "invalid character 'a' in port number 'abc' in '127.0.0.1:abc'\n",
        ),
        (
            "127.0.0.1:1-10",
            "port range not permitted here in '127.0.0.1:1-10'",
        ),
        (
            "1.2.3.4:80-",
            "port range not permitted here in '1.2.3.4:80-'",
        ),
        ("1.2.3.4:99999999999", "invalid port '99999999999'"),
        (
            "fd@3",
            "a file descriptor is not acceptable here in 'fd@3'\n",
        ),
        (
            "udp@1.2.3.4:80",
            "dgram-type address not acceptable in 'udp@1.2.3.4:80'\n",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(text, &s), *want, "server {text}");
    }
}

#[test]
fn fd_numbers_are_checked_with_getsockname() {
    // fd 987654 is never open in the test process
    assert_eq!(
        err("sockpair@987654", &AddrOpts::server()),
        "cannot use file descriptor '987654' : Bad file descriptor.\n"
    );
    assert_eq!(
        err("fd@987654", &AddrOpts::bind()),
        "cannot use file descriptor '987654' : Bad file descriptor."
    );
    // log takes raw fd numbers without checking them
    let a = ok("fd@1", &AddrOpts::log());
    assert_eq!((a.family, a.fd), (AddrFamily::Fd, Some(1)));
    // a regular file is not a socket
    let f = std::fs::File::open("/proc/self/exe");
    if let Ok(f) = f {
        use std::os::fd::AsRawFd;
        let n = f.as_raw_fd();
        assert_eq!(
            err(&format!("fd@{n}"), &AddrOpts::stats_socket()),
            format!("cannot use file descriptor '{n}' : Socket operation on non-socket.\n")
        );
    }
}

#[test]
fn stats_socket_keeps_newlines() {
    let s = AddrOpts::stats_socket();
    // check-case 83
    assert_eq!(
        err("admin.sock", &s),
        "missing port specification in 'admin.sock'"
    );
    ok("unix@ok.sock", &s);
    ok("127.0.0.1:1-10", &s);
    assert_eq!(
        err("nosuch.invalid:9999", &s),
        "invalid address: 'nosuch.invalid' in 'nosuch.invalid:9999'\n"
    );
    assert_eq!(
        err("127.0.0.1:+1", &s),
        "port offset not permitted here in '127.0.0.1:+1'"
    );
    assert_eq!(err("127.0.0.1:5-1", &s), "invalid port range '5-1'");
    assert_eq!(
        err("fd@x", &s),
        "file descriptor 'x' is not a valid integer in 'fd@x'\n"
    );
    assert_eq!(
        err("uxdg@/tmp/x", &s),
        "dgram-type address not acceptable in 'uxdg@/tmp/x'\n"
    );
    let long = format!("unix@{}", "a".repeat(110));
    assert_eq!(
        err(&long, &s),
        format!("socket path '{long}' too long (max 97)\n")
    );
}

#[test]
fn log_nameserver_peer_mailer_source() {
    let l = AddrOpts::log();
    for t in [
        "127.0.0.1",
        "localhost",
        "/dev/log",
        "unix@rel",
        "udp@1.2.3.4:514",
        "1.2.3.4:0",
        "[::1]",
        "[::1]:514",
        "abns@x",
    ] {
        ok(t, &l);
    }
    assert_eq!(
        err("127.0.0.1:1-10", &l),
        "port range not permitted here in '127.0.0.1:1-10'"
    );
    assert_eq!(
        err("nosuch.invalid", &l),
        "invalid address: 'nosuch.invalid' in 'nosuch.invalid'\n"
    );
    assert_eq!(
        err("rel.sock", &l),
        "invalid address: 'rel.sock' in 'rel.sock'\n"
    );
    assert_eq!(
        err("ipv6@1.2.3.4", &l),
        "invalid address: '1.2.3.4' in 'ipv6@1.2.3.4'\n"
    );
    assert_eq!(err("::1", &l), "invalid address: ':' in '::1'\n");
    assert!(ok("udp@1.2.3.4:514", &l).dgram);
    assert!(ok("1.2.3.4", &l).dgram);

    let n = AddrOpts::nameserver();
    ok("127.0.0.1:53", &n);
    ok("udp@127.0.0.1:53", &n);
    ok("/tmp/x", &n);
    assert_eq!(
        err("127.0.0.1", &n),
        "missing port specification in '127.0.0.1'"
    );
    assert_eq!(err("127.0.0.1:0", &n), "invalid port '0'");
    assert_eq!(
        err("127.0.0.1:+5", &n),
        "port offset not permitted here in '127.0.0.1:+5'"
    );

    let p = AddrOpts::peer();
    ok("127.0.0.1", &p);
    ok("127.0.0.1:+5", &p);
    assert_eq!(
        err("127.0.0.1:1-5", &p),
        "port range not permitted here in '127.0.0.1:1-5'"
    );
    assert_eq!(
        err("rel.sock", &p),
        "invalid address: 'rel.sock' in 'rel.sock'\n"
    );
    let pb = AddrOpts::peer_bind();
    assert_eq!(
        err("127.0.0.1:+1", &pb),
        "port offset not permitted here in '127.0.0.1:+1'"
    );
    assert_eq!(err("127.0.0.1:0", &pb), "invalid port '0'");
    assert_eq!(
        err("nosuch.invalid:10000", &pb),
        "invalid address: 'nosuch.invalid' in 'nosuch.invalid:10000'"
    );

    assert_eq!(
        err("127.0.0.1", &AddrOpts::mailer()),
        "missing port specification in '127.0.0.1'"
    );
    assert_eq!(
        err("127.0.0.1", &AddrOpts::dispatch()),
        "missing port specification in '127.0.0.1'"
    );
    let s = AddrOpts::source();
    ok("/tmp/x", &s);
    assert_eq!(
        err("127.0.0.1:1-5", &s),
        "port range not permitted here in '127.0.0.1:1-5'"
    );
    assert_eq!(
        err("localhost:+5", &s),
        "port offset not permitted here in 'localhost:+5'"
    );
    ok("1.2.3.4:1-5", &AddrOpts::server_source());
    assert_eq!(
        err("nosuch.invalid", &AddrOpts::server_addr()),
        "invalid address: 'nosuch.invalid' in 'nosuch.invalid'"
    );
}

#[test]
fn lists_split_on_commas() {
    let b = AddrOpts::bind();
    assert_eq!(
        parse_addr_list("127.0.0.1:80,127.0.0.2:81", &b).map(|v| v.len()),
        Ok(2)
    );
    assert_eq!(parse_addr_list("127.0.0.1:80,", &b).map(|v| v.len()), Ok(1));
    assert_eq!(
        parse_addr_list("127.0.0.1:80,,1.2.3.4:9", &b),
        Err("'' resolves to an empty address (environment variable missing?)".into())
    );
    assert_eq!(
        parse_addr_list("127.0.0.1:80,bad", &b),
        Err("missing port specification in 'bad'".into())
    );
}

#[test]
fn resolution_and_hostname_rules() {
    assert_eq!(
        resolve_host("127.0.0.1"),
        Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
    );
    assert_eq!(resolve_host("[::1]"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    assert!(resolve_host("localhost").is_some_and(|i| i.is_loopback()));
    assert_eq!(resolve_host("300.1.1.1"), None);
    assert_eq!(resolve_host("[::1::2]"), None);
    assert_eq!(resolve_host("foo_bar"), None);
    assert_eq!(
        resolve_host_family("127.0.0.1", Some(AddrFamily::Inet6)),
        None
    );
    assert!(hostname_valid("a..b"));
    assert!(hostname_valid("foo_bar-1.example"));
    assert!(!hostname_valid("a b"));
    assert!(!hostname_valid(&"a".repeat(64)));
    assert!(!hostname_valid(&"a.".repeat(128)));
    assert!(!dn_label_valid("a..b")); // "Can't create DNS resolution for server"
    assert!(!dn_label_valid(".a"));
    assert!(dn_label_valid("a.b."));
    assert!(dn_label_valid("a"));
    assert_eq!(AddrOpts::bind().port_mode(), PortMode::Mandatory);
    assert_eq!(AddrOpts::server().port_mode(), PortMode::Optional);
}

proptest::proptest! {
    #[test]
    fn parse_addr_never_panics(s in "\\PC{0,40}") {
        for o in [AddrOpts::server(), AddrOpts::stats_socket(), AddrOpts { resolve: false, ..AddrOpts::bind() }] {
            let _ = parse_addr(&s, &o);
        }
    }

    #[test]
    fn parse_addr_shaped_never_panics(
        pfx in "(|ipv4@|ipv6@|udp@|tcp6@|unix@|abns@|fd@|sockpair@|stream\\+|dgram\\+|quic4@)",
        host in "[0-9a-f:.\\[\\]*]{0,12}",
        port in "(|:|:[0-9+-]{0,8}|:[0-9]{1,6}-[0-9x]{0,6})",
    ) {
        let s = format!("{pfx}{host}{port}");
        for o in [AddrOpts::server(), AddrOpts { resolve: false, ..AddrOpts::bind() }, AddrOpts { resolve: false, ..AddrOpts::log() }] {
            let _ = parse_addr(&s, &o);
        }
    }
}
