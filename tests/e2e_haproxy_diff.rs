//! Differential tests: the same config and requests under the real HAProxy
//! 2.6 (`/usr/sbin/haproxy`, skipped when absent) and under switchyard; the
//! generated responses must be byte-identical.

mod support;
use support::{Backend, Behaviour, Proxy, dead_port, server_of};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn both(cfg: &str) -> Option<(Proxy, Proxy)> {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return None;
    }
    Some((Proxy::start_with(HAPROXY, cfg), Proxy::start(cfg)))
}

#[test]
fn generated_responses_match_haproxy() {
    let g = Backend::start("g", Behaviour::Garbage);
    let h = Backend::start("h", Behaviour::Hang);
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 100ms\n    timeout client 500ms\n    timeout server 300ms\n    retries 1\nfrontend fe\n    bind 127.0.0.1:@PORT@\n    http-request deny if {{ path /403 }}\n    http-request deny deny_status 429 if {{ path /429 }}\n    http-request return status 404 content-type text/plain lf-string hi-%[path] hdr X-Foo bar if {{ path /ret }}\n    http-request return status 500 default-errorfiles if {{ path /500 }}\n    http-request redirect location /l code 301 if {{ path /301 }}\n    http-request redirect scheme https if {{ path_beg /s/ }}\n    http-request redirect prefix /p drop-query if {{ path_beg /dq }}\n    use_backend none if {{ path /none }}\n    use_backend dead if {{ path /dead }}\n    use_backend garbage if {{ path /garbage }}\n    use_backend hang if {{ path /hang }}\nbackend none\nbackend dead\n    server d 127.0.0.1:{}\nbackend garbage\n    server g 127.0.0.1:{}\nbackend hang\n    server h 127.0.0.1:{}\n",
        dead_port(),
        g.port,
        h.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs = [
        "GET /403 HTTP/1.1\r\nHost: h.example\r\n\r\n",
        "GET /429 HTTP/1.1\r\nHost: h.example\r\nConnection: close\r\n\r\n",
        "GET /ret HTTP/1.1\r\nHost: h.example\r\n\r\n",
        "GET /500 HTTP/1.1\r\nHost: h.example\r\n\r\n",
        "GET /301 HTTP/1.1\r\nHost: h.example\r\n\r\n",
        "GET /s/x?q=1 HTTP/1.1\r\nHost: h.example\r\n\r\n",
        "GET /dq/x?q=1 HTTP/1.0\r\nHost: h.example\r\n\r\n",
        "GET /none HTTP/1.1\r\nHost: h.example\r\n\r\n",
        "GET /dead HTTP/1.1\r\nHost: h.example\r\nConnection: close\r\n\r\n",
        "GET /garbage HTTP/1.1\r\nHost: h.example\r\n\r\n",
        "GET /hang HTTP/1.1\r\nHost: h.example\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "GET / HTTP/1.1\r\nHost: a\r\n",
    ];
    for r in reqs {
        assert_eq!(sy.raw(r), ha.raw(r), "request {r:?}");
    }
}

#[test]
fn roundrobin_order_matches_haproxy() {
    let a = Backend::start("a", Behaviour::Http);
    let b = Backend::start("b", Behaviour::Http);
    let c = Backend::start("c", Behaviour::Http);
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 2s\nlisten l\n    bind 127.0.0.1:@PORT@\n    balance roundrobin\n    server a 127.0.0.1:{}\n    server b 127.0.0.1:{}\n    server c 127.0.0.1:{}\n",
        a.port, b.port, c.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let seq = |p: &Proxy| (0..7).map(|_| server_of(&p.get("/"))).collect::<Vec<_>>();
    assert_eq!(seq(&sy), seq(&ha));
}
