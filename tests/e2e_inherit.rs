//! Differential tests of what proxies take from their `defaults` sections
//! (named sections used with `from`, the implicit last one): the same
//! config and requests through the real HAProxy 2.6 (`/usr/sbin/haproxy`,
//! skipped when absent) and through switchyard; the responses must match.

mod support;
use support::{Backend, Behaviour, Proxy, TempDir, dead_port};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn both(cfg: &str) -> Option<(Proxy, Proxy)> {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return None;
    }
    Some((Proxy::start_with(HAPROXY, cfg), Proxy::start(cfg)))
}

const TIMEOUTS: &str =
    "    mode http\n    timeout connect 500ms\n    timeout client 2s\n    timeout server 2s\n";

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: h.example\r\n{extra}Connection: close\r\n\r\n")
}

/// The response without the `date`-like parts that differ by nature (none
/// here: the echo backend and the rules are deterministic).
fn compare(ha: &Proxy, sy: &Proxy, reqs: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for r in reqs {
        let h = ha.raw(r);
        assert_eq!(sy.raw(r), h, "request {r:?}");
        out.push(h);
    }
    out
}

#[test]
fn named_defaults_rules_run_before_the_proxy_rules() {
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "defaults web\n{TIMEOUTS}\
    tcp-request content reject if {{ path /tcpreject }}\n\
    http-request allow if {{ path /first }}\n\
    http-request set-header X-D web\n\
    http-request deny deny_status 429 if {{ path /dd }}\n\
    http-after-response set-header X-After web\n\
defaults plain\n{TIMEOUTS}\
frontend fe from web\n    bind 127.0.0.1:@PORT@\n\
    http-request deny if {{ path /first }}\n\
    http-request set-header X-F fe\n\
    http-after-response set-header X-After2 fe\n\
    default_backend be\n\
backend be\n    server e 127.0.0.1:{}\n",
        e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let r = compare(
        &ha,
        &sy,
        &[
            get("/first", ""),
            get("/x", ""),
            get("/dd", ""),
            get("/tcpreject", ""),
        ],
    );
    // `allow` in the defaults' list ends the evaluation: no 403, no X-D.
    assert!(r[0].starts_with("HTTP/1.1 200") && !r[0].contains("x-d: web"));
    assert!(r[1].contains("x-d: web") && r[1].contains("x-f: fe"));
    assert!(r[2].starts_with("HTTP/1.1 429"));
    assert!(r[3].is_empty());
}

#[test]
fn implicit_defaults_retry_on_and_redispatch() {
    let g = Backend::start("g", Behaviour::Garbage);
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "defaults\n{TIMEOUTS}    retries 2\n    retry-on junk-response\n    option redispatch 1\n\
    http-reuse never\n    fullconn 100\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend be\n\
backend be\n    balance roundrobin\n    server g 127.0.0.1:{}\n    server e 127.0.0.1:{}\n",
        g.port, e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs: Vec<String> = (0..4).map(|i| get(&format!("/r{i}"), "")).collect();
    for r in compare(&ha, &sy, &reqs) {
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    }
}

#[test]
fn own_directive_overrides_the_defaults_one() {
    let g = Backend::start("g", Behaviour::Garbage);
    let e = Backend::start("e", Behaviour::Http);
    // The backend's own `retry-on none` wins over the defaults' line: the
    // junk response is not retried and the client gets HAProxy's 502.
    let cfg = format!(
        "defaults\n{TIMEOUTS}    retries 2\n    retry-on junk-response\n    option redispatch 1\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend be\n\
backend be\n    retry-on none\n    balance roundrobin\n    server g 127.0.0.1:{}\n    server e 127.0.0.1:{}\n",
        g.port, e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs: Vec<String> = (0..4).map(|i| get(&format!("/o{i}"), "")).collect();
    let r = compare(&ha, &sy, &reqs);
    assert!(r.iter().any(|r| r.starts_with("HTTP/1.1 502")));
}

#[test]
fn http_auth_with_a_userlist_matches_haproxy() {
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "userlist L\n    group admins users bob\n    user bob insecure-password secret\n\
    user alice insecure-password other groups admins\n\
defaults\n{TIMEOUTS}\
frontend fe\n    bind 127.0.0.1:@PORT@\n\
    acl ok http_auth(L)\n\
    http-request auth realm Private unless ok\n\
    default_backend be\n\
backend be\n    server e 127.0.0.1:{}\n",
        e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let auth = |v: &str| format!("Authorization: {v}\r\n");
    let r = compare(
        &ha,
        &sy,
        &[
            get("/", ""),
            get("/", &auth("Basic Ym9iOnNlY3JldA==")),
            get("/", &auth("basic Ym9iOnNlY3JldA==")),
            get("/", &auth("Bas Ym9iOnNlY3JldA==")),
            get("/", &auth("Basic Ym9iOndyb25n")),
            get("/", &auth("Basic YWxpY2U6c2VjcmV0")),
            get("/", &auth("Basic Ym9ic2VjcmV0")),
            get("/", &auth("Basic Ym9iOnNlY3JldA")),
            get("/", &auth("Bearer Ym9iOnNlY3JldA==")),
        ],
    );
    assert!(r[0].starts_with("HTTP/1.1 401"), "{}", r[0]);
    assert!(r[1].starts_with("HTTP/1.1 200"), "{}", r[1]);
    assert!(r[4].starts_with("HTTP/1.1 401"), "{}", r[4]);
}

#[test]
fn errorfiles_from_an_http_errors_section_match_haproxy() {
    let dir = TempDir::new();
    let page = |code: u16, reason: &str| {
        let p = dir.0.join(format!("{code}.http"));
        let body = format!("custom {code} page\n");
        let text = format!(
            "HTTP/1.0 {code} {reason}\r\nCache-Control: no-cache\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        std::fs::write(&p, text).expect("write errorfile");
        p.display().to_string()
    };
    let (p403, p503) = (page(403, "Forbidden"), page(503, "Service Unavailable"));
    let cfg = format!(
        "http-errors errs\n    errorfile 403 {p403}\n    errorfile 503 {p503}\n\
defaults\n{TIMEOUTS}    errorfiles errs 403\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n\
    http-request deny if {{ path /deny }}\n\
    use_backend only403 if {{ path /only403 }}\n\
    default_backend be\n\
backend be\n    errorfiles errs\n    server s 127.0.0.1:{}\n\
backend only403\n    server s 127.0.0.1:{}\n",
        dead_port(),
        dead_port()
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let r = compare(
        &ha,
        &sy,
        &[get("/deny", ""), get("/down", ""), get("/only403", "")],
    );
    assert!(r[0].contains("custom 403 page"), "{}", r[0]);
    assert!(r[1].contains("custom 503 page"), "{}", r[1]);
    assert!(
        r[2].starts_with("HTTP/1.1 503") && !r[2].contains("custom"),
        "{}",
        r[2]
    );
}
