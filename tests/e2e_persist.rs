//! Cookie persistence and `use-server`, differential against the real
//! HAProxy 2.6 (`/usr/sbin/haproxy`, skipped when absent): the same config
//! and request sequence under both; which server answers, the status, the
//! `Set-Cookie`/`Cache-Control` lines added and the `Cookie` header the
//! server received must be identical.

mod support;
use std::time::Duration;
use support::{Answer, App, Proxy, dead_port};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// A backend answering by path: `/sc` adds `Set-Cookie: SRV=app; path=/`,
/// `/js` adds `Set-Cookie: JS=abc; Path=/`, `/etag` an `ETag`; the body
/// is the `Cookie` header it received.
fn app(name: &'static str) -> App {
    App::start(move |head| Answer::Send(answer(name, head)))
}

fn answer(name: &str, head: &str) -> String {
    let path = head.split(' ').nth(1).unwrap_or("/");
    let cookie: Vec<&str> = head
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("cookie").then_some(v.trim())
        })
        .collect();
    let mut extra = String::new();
    if path.starts_with("/sc") {
        extra.push_str("Set-Cookie: SRV=app; path=/\r\n");
    }
    if path.starts_with("/js") {
        extra.push_str("Set-Cookie: JS=abc; Path=/\r\n");
    }
    if path.contains("etag") {
        extra.push_str("ETag: \"x\"\r\n");
    }
    let body = format!("cookie=[{}]", cookie.join(" | "));
    format!(
        "HTTP/1.1 200 OK\r\nX-Server: {name}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The parts of a response persistence may change.
fn digest(resp: &str) -> String {
    let mut out = Vec::new();
    let mut lines = resp.split("\r\n");
    out.push(lines.next().unwrap_or("").to_string());
    for l in lines.by_ref() {
        if l.is_empty() {
            break;
        }
        let low = l.to_ascii_lowercase();
        if low.starts_with("x-server:")
            || low.starts_with("set-cookie:")
            || low.starts_with("cache-control:")
        {
            out.push(l.to_string());
        }
    }
    out.push(support::body(resp).to_string());
    out.join("\n")
}

fn run(cfg: &str, reqs: &[&str]) {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let ha = Proxy::start_with(HAPROXY, cfg);
    let sy = Proxy::start(cfg);
    for r in reqs {
        let want = digest(&ha.raw(r));
        let got = digest(&sy.raw(r));
        assert_eq!(got, want, "request {r:?}");
    }
}

fn cfg(be: &str, a: &App, b: &App, c: &App) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 500ms\n    timeout client 2s\n    timeout server 2s\nlisten l\n    bind 127.0.0.1:@PORT@\n    balance roundrobin\n{be}    server a 127.0.0.1:{} cookie ca\n    server b 127.0.0.1:{} cookie cb\n    server c 127.0.0.1:{}\n",
        a.port, b.port, c.port
    )
}

fn req(path: &str, cookie: Option<&str>) -> String {
    let c = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: h\r\n{c}Connection: close\r\n\r\n")
}

#[test]
fn insert_indirect_nocache_matches_haproxy() {
    let (a, b, c) = (app("a"), app("b"), app("c"));
    let cfg = cfg("    cookie SRV insert indirect nocache\n", &a, &b, &c);
    let reqs = [
        req("/", None),
        req("/etag", None),
        req("/", None),
        req("/", Some("SRV=cb")),
        req("/etag", Some("x=1; SRV=cb; y=2")),
        req("/", Some("SRV=ca; y=2")),
        req("/", Some("x=1;SRV=ca")),
        req("/", Some("SRV=nope")),
        req("/sc", Some("SRV=cb")),
        req("/sc", None),
        req("/", None),
        "POST /etag HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_string(),
    ];
    let reqs: Vec<&str> = reqs.iter().map(String::as_str).collect();
    run(&cfg, &reqs);
}

#[test]
fn insert_attributes_and_postonly_match_haproxy() {
    let (a, b, c) = (app("a"), app("b"), app("c"));
    let cfg = cfg(
        "    cookie SRV insert domain a.example domain b.example httponly secure attr SameSite=Lax attr x=1 preserve\n",
        &a,
        &b,
        &c,
    );
    let reqs = [
        req("/", None),
        req("/sc", None),
        req("/", Some("SRV=ca")),
        req("/sc", Some("SRV=cb")),
    ];
    let reqs: Vec<&str> = reqs.iter().map(String::as_str).collect();
    run(&cfg, &reqs);
    let post = cfg_postonly(&a, &b, &c);
    let reqs = [
        req("/", None),
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
    ];
    let reqs: Vec<&str> = reqs.iter().map(String::as_str).collect();
    run(&post, &reqs);
}

fn cfg_postonly(a: &App, b: &App, c: &App) -> String {
    cfg("    cookie SRV insert postonly\n", a, b, c)
}

#[test]
fn rewrite_prefix_and_passive_match_haproxy() {
    let (a, b, c) = (app("a"), app("b"), app("c"));
    let reqs = [
        req("/sc", None),
        req("/sc", Some("SRV=cb")),
        req("/js", Some("JS=cb~abc; o=1")),
        req("/js", None),
        req("/", Some("SRV=ca")),
    ];
    let reqs: Vec<&str> = reqs.iter().map(String::as_str).collect();
    run(&cfg("    cookie SRV rewrite\n", &a, &b, &c), &reqs);
    run(&cfg("    cookie JS prefix\n", &a, &b, &c), &reqs);
    run(&cfg("    cookie SRV\n", &a, &b, &c), &reqs);
}

#[test]
fn use_server_and_persist_rules_match_haproxy() {
    let (a, b, c) = (app("a"), app("b"), app("c"));
    let be = "    cookie SRV insert indirect\n    use-server b if { path_beg /b }\n    use-server c if { path_beg /c }\n    ignore-persist if { path_beg /ign }\n";
    let reqs = [
        req("/b", None),
        req("/c/x", None),
        req("/b", Some("SRV=ca")),
        req("/ign", Some("SRV=cb")),
        req("/ign", Some("SRV=cb")),
        req("/", Some("SRV=ca")),
    ];
    let reqs: Vec<&str> = reqs.iter().map(String::as_str).collect();
    run(&cfg(be, &a, &b, &c), &reqs);
}

#[test]
fn cookie_to_a_down_server_redispatches_like_haproxy() {
    let (a, b) = (app("a"), app("b"));
    let dead = dead_port();
    let mk = |extra: &str| {
        format!(
            "defaults\n    mode http\n    timeout connect 300ms\n    timeout client 2s\n    timeout server 2s\n    retries 1\nlisten l\n    bind 127.0.0.1:@PORT@\n    balance roundrobin\n    cookie SRV insert indirect\n{extra}    server a 127.0.0.1:{} cookie ca\n    server b 127.0.0.1:{} cookie cb\n    server d 127.0.0.1:{dead} cookie cd check inter 100ms fall 1 rise 1\n",
            a.port, b.port
        )
    };
    if !std::path::Path::new(HAPROXY).exists() {
        return;
    }
    for extra in [
        "",
        "    option redispatch\n",
        "    option persist\n    option redispatch\n",
    ] {
        let cfg = mk(extra);
        let ha = Proxy::start_with(HAPROXY, &cfg);
        let sy = Proxy::start(&cfg);
        // Let the health check mark `d` down on both.
        std::thread::sleep(Duration::from_millis(600));
        for r in [req("/", Some("SRV=cd")), req("/", Some("SRV=cd"))] {
            assert_eq!(digest(&sy.raw(&r)), digest(&ha.raw(&r)), "{extra:?} {r:?}");
        }
    }
}

#[test]
fn maxidle_cookie_carries_a_date() {
    let (a, b, c) = (app("a"), app("b"), app("c"));
    let cfg = cfg("    cookie SRV insert maxidle 30m maxlife 2h\n", &a, &b, &c);
    if !std::path::Path::new(HAPROXY).exists() {
        return;
    }
    let ha = Proxy::start_with(HAPROXY, &cfg);
    let sy = Proxy::start(&cfg);
    // Dates change every 4 s: compare the shape and the value's server
    // part, and that both encode nearly the same time.
    let get = |p: &Proxy| {
        let r = p.raw(&req("/", None));
        r.lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("set-cookie:")
                    .then(|| l.to_string())
            })
            .unwrap_or_default()
    };
    let (h, s) = (get(&ha), get(&sy));
    let shape = |v: &str| {
        v.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '+' || c == '/' {
                    'x'
                } else {
                    c
                }
            })
            .collect::<String>()
    };
    assert_eq!(shape(&s), shape(&h), "{s} vs {h}");
    assert!(
        s.to_ascii_lowercase().starts_with("set-cookie: srv=ca|"),
        "{s}"
    );
}
