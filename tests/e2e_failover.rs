//! Failover: `retry-on`, `retries` and `option redispatch [<interval>]`,
//! differential against the real HAProxy 2.6 (`/usr/sbin/haproxy`,
//! skipped when absent): for the same config and request sequence, the
//! status and the answering server must match request by request.

mod support;
use support::{Answer, App, Proxy, dead_port};

const HAPROXY: &str = "/usr/sbin/haproxy";

#[derive(Clone, Copy)]
enum Act {
    /// 200 with `X-Server`.
    Ok,
    /// 503 with `X-Server`.
    Unavailable,
    /// Reads the request and closes without a byte.
    Close,
    /// Answers garbage.
    Junk,
}

fn app(name: &'static str, act: Act) -> u16 {
    let app = App::start(move |_| {
        let (status, reason) = match act {
            Act::Close => return Answer::Close(b""),
            Act::Junk => return Answer::Close(b"junk\r\n\r\n"),
            Act::Ok => (200, "OK"),
            Act::Unavailable => (503, "Service Unavailable"),
        };
        Answer::Send(format!(
            "HTTP/1.1 {status} {reason}\r\nX-Server: {name}\r\nContent-Length: {}\r\n\r\n{name}",
            name.len()
        ))
    });
    app.port
}

/// Status line and answering server.
fn digest(resp: &str) -> String {
    let status = resp.lines().next().unwrap_or("").to_string();
    format!("{status} / {}", support::server_of(resp))
}

fn run(cfg: &str, reqs: &[&str]) {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let ha = Proxy::start_with(HAPROXY, cfg);
    let sy = Proxy::start(cfg);
    for (i, r) in reqs.iter().enumerate() {
        let want = digest(&ha.raw(r));
        let got = digest(&sy.raw(r));
        assert_eq!(got, want, "request #{i} {r:?}\n{cfg}");
    }
}

const GET: &str = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
const POST: &str = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const POST_BODY: &str =
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";

fn cfg(be: &str, servers: &[(&str, u16)]) -> String {
    let mut s = format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 500ms\nlisten l\n    bind 127.0.0.1:@PORT@\n    balance roundrobin\n{be}"
    );
    for (n, p) in servers {
        s.push_str(&format!("    server {n} 127.0.0.1:{p}\n"));
    }
    s
}

#[test]
fn retry_on_status_moves_to_another_server() {
    let bad = app("bad", Act::Unavailable);
    let good = app("good", Act::Ok);
    let servers = [("bad", bad), ("good", good)];
    for be in [
        "    retry-on 503\n    retries 2\n",
        "    retry-on 503\n    retries 2\n    option redispatch\n",
        "    retry-on 503 conn-failure\n    retries 3\n    option redispatch 1\n",
        "    retry-on all-retryable-errors\n    retries 1\n    option redispatch\n",
    ] {
        run(
            &cfg(be, &servers),
            &[GET, GET, GET, GET, POST, POST, POST_BODY, POST_BODY],
        );
    }
}

#[test]
fn empty_and_junk_responses_are_retried_when_asked() {
    let closer = app("closer", Act::Close);
    let junk = app("junk", Act::Junk);
    let good = app("good", Act::Ok);
    let servers = [("closer", closer), ("junk", junk), ("good", good)];
    for be in [
        "    retries 2\n    option redispatch\n",
        "    retry-on empty-response junk-response\n    retries 3\n    option redispatch\n",
        "    retry-on empty-response\n    retries 3\n    option redispatch\n",
    ] {
        run(&cfg(be, &servers), &[GET, GET, GET, GET, GET, GET]);
    }
}

#[test]
fn connection_failures_redispatch_like_haproxy() {
    let good = app("good", Act::Ok);
    let dead = dead_port();
    let servers = [("dead", dead), ("good", good)];
    for be in [
        "    retries 1\n",
        "    retries 2\n    option redispatch\n",
        "    retry-on none\n    option redispatch\n",
        "    retry-on 503\n    option redispatch\n",
    ] {
        run(&cfg(be, &servers), &[GET, GET, GET, GET]);
    }
}

#[test]
fn minconn_and_fullconn_serve_like_haproxy() {
    let a = app("a", Act::Ok);
    let b = app("b", Act::Ok);
    let be = "    fullconn 20\n    default-server minconn 1 maxconn 10\n";
    run(&cfg(be, &[("a", a), ("b", b)]), &[GET, GET, GET, POST]);
}

#[test]
fn url_param_check_post_hashes_the_body_like_haproxy() {
    let ports: Vec<u16> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| app(n, Act::Ok))
        .collect();
    let servers: Vec<(&str, u16)> = ["a", "b", "c", "d"]
        .iter()
        .copied()
        .zip(ports.iter().copied())
        .collect();
    let reqs: Vec<String> = ["u1", "u2", "zed", "u4", "u5"]
        .iter()
        .map(|v| {
            let body = format!("x=1&id={v}&y=2");
            format!(
                "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        })
        .chain(std::iter::once(
            "POST /form?id=u2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nid=u9".to_string(),
        ))
        .collect();
    let reqs: Vec<&str> = reqs.iter().map(String::as_str).collect();
    run(
        &cfg("    balance url_param id check_post\n", &servers),
        &reqs,
    );
}
