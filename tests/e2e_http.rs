//! End-to-end `mode http` tests against the real binary.

mod support;
use support::{Backend, Behaviour, Proxy, body, dead_port, server_of, status_line};

fn defaults() -> &'static str {
    "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 2s\n"
}

#[test]
fn routes_by_path_host_and_method() {
    let api = Backend::start("api", Behaviour::Http);
    let web = Backend::start("web", Behaviour::Http);
    let img = Backend::start("img", Behaviour::Http);
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:@PORT@\n    acl is_api path_beg /api\n    acl is_img path_end .png\n    acl host_img hdr(host) -i img.example\n    use_backend api if is_api METH_GET\n    use_backend img if is_img || host_img\n    default_backend web\nbackend api\n    server a 127.0.0.1:{}\nbackend web\n    server w 127.0.0.1:{}\nbackend img\n    server i 127.0.0.1:{}\n",
        defaults(),
        api.port,
        web.port,
        img.port
    );
    let p = Proxy::start(&cfg);
    assert_eq!(server_of(&p.get("/api/users")), "api");
    assert_eq!(server_of(&p.get("/x/logo.png")), "img");
    assert_eq!(server_of(&p.get("/index.html")), "web");
    let r = p
        .raw("POST /api/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    assert_eq!(server_of(&r), "web");
    assert!(body(&r).ends_with("hi"), "{r}");
    let r = p.raw("GET / HTTP/1.1\r\nHost: IMG.example\r\nConnection: close\r\n\r\n");
    assert_eq!(server_of(&r), "img");
}

#[test]
fn roundrobin_rotates_in_declaration_order() {
    let a = Backend::start("a", Behaviour::Http);
    let b = Backend::start("b", Behaviour::Http);
    let c = Backend::start("c", Behaviour::Http);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    balance roundrobin\n    server a 127.0.0.1:{}\n    server b 127.0.0.1:{}\n    server c 127.0.0.1:{}\n",
        defaults(),
        a.port,
        b.port,
        c.port
    );
    let p = Proxy::start(&cfg);
    let order: Vec<String> = (0..6).map(|_| server_of(&p.get("/"))).collect();
    assert_eq!(order, ["a", "b", "c", "a", "b", "c"]);
}

#[test]

fn backup_serves_only_when_actives_are_down_and_503_when_all_are() {
    let bk = Backend::start("bk", Behaviour::Http);
    let act = Backend::start("act", Behaviour::Http);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    server s1 127.0.0.1:{} disabled\n    server s2 127.0.0.1:{}\n    server b1 127.0.0.1:{} backup\n",
        defaults(),
        dead_port(),
        act.port,
        bk.port
    );
    let p = Proxy::start(&cfg);
    assert_eq!(server_of(&p.get("/")), "act");
    drop(p);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    server s1 127.0.0.1:{} disabled\n    server b1 127.0.0.1:{} backup\n",
        defaults(),
        act.port,
        bk.port
    );
    let p = Proxy::start(&cfg);
    assert_eq!(server_of(&p.get("/")), "bk");
    drop(p);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    server s1 127.0.0.1:{} disabled\n    server b1 127.0.0.1:{} backup disabled\n",
        defaults(),
        act.port,
        bk.port
    );
    let p = Proxy::start(&cfg);
    assert_eq!(
        p.get("/"),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
    );
}

#[test]

fn refused_connection_redispatches_or_gives_503() {
    let ok = Backend::start("ok", Behaviour::Http);
    let dead = dead_port();
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    retries 1\n    option redispatch\n    balance first\n    server dead 127.0.0.1:{dead}\n    server ok 127.0.0.1:{}\n",
        defaults(),
        ok.port
    );
    let p = Proxy::start(&cfg);
    assert_eq!(server_of(&p.get("/")), "ok");
    drop(p);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    retries 1\n    server dead 127.0.0.1:{dead}\n",
        defaults()
    );
    let p = Proxy::start(&cfg);
    assert_eq!(status_line(&p.get("/")), "HTTP/1.1 503 Service Unavailable");
}

#[test]
fn server_errors_give_502_and_504() {
    let g = Backend::start("g", Behaviour::Garbage);
    let h = Backend::start("h", Behaviour::Hang);
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 300ms\nfrontend fe\n    bind 127.0.0.1:@PORT@\n    use_backend hang if {{ path /hang }}\n    default_backend garbage\nbackend garbage\n    server g 127.0.0.1:{}\nbackend hang\n    server h 127.0.0.1:{}\n",
        g.port, h.port
    );
    let p = Proxy::start(&cfg);
    assert_eq!(
        p.raw("GET / HTTP/1.1\r\nHost: t\r\n\r\n"),
        "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"
    );
    assert_eq!(
        p.get("/hang"),
        "HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n"
    );
}

const BAD_REQUEST: &str = "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";

#[test]
fn smuggling_vectors_get_haproxys_400() {
    let s = Backend::start("s", Behaviour::Http);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    server s 127.0.0.1:{}\n",
        defaults(),
        s.port
    );
    let p = Proxy::start(&cfg);
    for req in [
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\na",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET / HTTP/1.1\r\nHo st: a\r\n\r\n",
        "GARBAGE\r\n\r\n",
    ] {
        assert_eq!(p.raw(req), BAD_REQUEST, "{req:?}");
    }
    // CL + TE: chunked wins, content-length is dropped, the connection closes.
    let r = p.raw("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    assert!(
        r.starts_with("HTTP/1.1 200 OK\r\n") && r.contains("\r\nconnection: close\r\n\r\n"),
        "{r}"
    );
    assert!(body(&r).contains("transfer-encoding: chunked\r\n"), "{r}");
    assert!(!body(&r).contains("content-length"), "{r}");
}

#[test]
fn incomplete_request_times_out_with_408() {
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 300ms\n    timeout server 1s\nlisten l\n    bind 127.0.0.1:@PORT@\n    server s 127.0.0.1:{}\n",
        dead_port()
    );
    let p = Proxy::start(&cfg);
    let r = p.raw("GET / HTTP/1.1\r\nHost: a\r\n");
    assert!(
        r.starts_with("HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\n"),
        "{r}"
    );
}

#[test]

fn rules_deny_return_redirect_and_headers() {
    let s = Backend::start("s", Behaviour::Http);
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:@PORT@\n    option forwardfor\n    http-request deny if {{ path /admin }}\n    http-request return status 200 content-type text/plain string hello if {{ path /hello }}\n    http-request redirect prefix /new if {{ path_beg /old }}\n    http-request set-header X-Set one\n    http-request del-header X-Drop\n    http-response set-header X-Resp yes\n    default_backend be\nbackend be\n    server s 127.0.0.1:{}\n",
        defaults(),
        s.port
    );
    let p = Proxy::start(&cfg);
    assert_eq!(status_line(&p.get("/admin")), "HTTP/1.1 403 Forbidden");
    assert_eq!(
        p.get("/hello"),
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nhello"
    );
    assert_eq!(
        p.get("/old/x?q=1"),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new/old/x?q=1\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n"
    );
    let r = p.raw("GET /p HTTP/1.1\r\nHost: t\r\nX-Drop: 1\r\nConnection: close\r\n\r\n");
    assert!(r.contains("x-resp: yes\r\n"), "{r}");
    assert!(body(&r).contains("x-set: one\r\n"), "{r}");
    assert!(body(&r).contains("x-forwarded-for: 127.0.0.1\r\n"), "{r}");
    assert!(!body(&r).contains("x-drop"), "{r}");
}

#[test]
fn keep_alive_serves_pipelined_requests() {
    let s = Backend::start("s", Behaviour::Http);
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:@PORT@\n    http-request return status 200 content-type text/plain string local if {{ path /local }}\n    default_backend be\nbackend be\n    server s 127.0.0.1:{}\n",
        defaults(),
        s.port
    );
    let p = Proxy::start(&cfg);
    let r = p.raw("GET /local HTTP/1.1\r\nHost: t\r\n\r\nGET /far HTTP/1.1\r\nHost: t\r\n\r\nGET /local HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(r.matches("HTTP/1.1 200 OK").count(), 3, "{r}");
    assert!(r.ends_with("connection: close\r\n\r\nlocal"), "{r}");
}
