//! `stats` directives in a `defaults` section, as HAProxy 2.6 applies
//! them: every proxy without `stats` lines of its own serves the page with
//! the defaults' uri, auth, realm and refresh; a proxy with one `stats`
//! line of its own starts from scratch (no inherited auth). The same
//! requests go to HAProxy 2.6.12 and to switchyard; status line and the
//! `refresh`/`www-authenticate` headers must match.

mod support;
use std::path::Path;
use support::{Proxy, dead_port, free_port, raw};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn config(l2: u16, dead: u16) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 2s\n    \
         timeout server 2s\n    stats enable\n    stats uri /s\n    stats auth a:b\n    \
         stats refresh 7s\n    stats realm Zone\n\
         frontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{dead}\n\
         listen l2\n    bind 127.0.0.1:{l2}\n    stats uri /other\n    \
         server s2 127.0.0.1:{dead}\n"
    )
}

/// Status line and the headers under test.
fn summary(port: u16, path: &str, auth: bool) -> String {
    let creds = if auth {
        "Authorization: Basic YTpi\r\n"
    } else {
        ""
    };
    let r = raw(
        port,
        format!("GET {path} HTTP/1.1\r\nHost: t\r\n{creds}Connection: close\r\n\r\n").as_bytes(),
    );
    r.lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("http/") || l.starts_with("refresh") || l.starts_with("www-auth")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn stats_from_defaults_match_real_haproxy() {
    if !Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} is not installed");
        return;
    }
    let dead = dead_port();
    let (l2a, l2b) = (free_port(), free_port());
    let ours = Proxy::start(&config(l2a, dead));
    let theirs = Proxy::start_with(HAPROXY, &config(l2b, dead));
    let cases: &[(bool, &str, bool)] = &[
        (true, "/s", false),
        (true, "/s", true),
        (true, "/s;csv", true),
        (false, "/s", true),
        (false, "/other", true),
        (false, "/other", false),
    ];
    for &(fe, path, auth) in cases {
        let (a, b) = if fe {
            (
                summary(ours.port, path, auth),
                summary(theirs.port, path, auth),
            )
        } else {
            (summary(l2a, path, auth), summary(l2b, path, auth))
        };
        assert_eq!(a, b, "{} {path} auth={auth}", if fe { "fe" } else { "l2" });
    }
    // The inherited page really is the stats page, with its auth.
    assert!(summary(ours.port, "/s", false).contains("realm=\"Zone\""));
    assert!(summary(ours.port, "/s", true).contains("refresh: 7"));
}
