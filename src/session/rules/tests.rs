use super::*;
use crate::session::http::head::{Framing, Request};

fn w(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn req(uri: &str) -> Request {
    Request {
        method: "GET".into(),
        uri: uri.into(),
        minor: 1,
        headers: vec![Header {
            name: "host".into(),
            value: b"h.example".to_vec(),
        }],
        framing: Framing::None,
        conn_close: false,
        conn_keep_alive: false,
        conn_upgrade: false,
        forced_close: false,
    }
}

fn first_reply(line: &str, uri: &str) -> String {
    let rules = compile(&[w(line)], Phase::Request, &AclSet::default()).unwrap();
    let mut r = req(uri);
    let conn = Conn::default();
    let out = match run_request(&rules, &mut r, &conn) {
        Verdict::Reply(rep) => rep.render(&conn.ctx(Some(&r), None), false),
        Verdict::Redirect(rd) => rd.render(&conn.ctx(Some(&r), None), false),
        Verdict::Continue => Vec::new(),
    };
    String::from_utf8_lossy(&out).to_string()
}

// Expected bytes captured from HAProxy 2.6.12.
#[test]
fn deny_with_status_uses_default_page() {
    let got = first_reply("http-request deny deny_status 429", "/");
    assert_eq!(
        got,
        "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n"
    );
}

#[test]
fn return_with_hdr_and_lf_string() {
    let rules = compile(
        &[vec![
            "http-request".into(),
            "return".into(),
            "status".into(),
            "404".into(),
            "content-type".into(),
            "text/plain".into(),
            "lf-string".into(),
            "hi %[path]".into(),
            "hdr".into(),
            "X-Foo".into(),
            "bar".into(),
        ]],
        Phase::Request,
        &AclSet::default(),
    )
    .unwrap();
    let mut r = req("/ret404");
    let conn = Conn::default();
    let Verdict::Reply(rep) = run_request(&rules, &mut r, &conn) else {
        panic!()
    };
    let got = rep.render(&conn.ctx(Some(&r), None), false);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "HTTP/1.1 404 Not Found\r\nx-foo: bar\r\ncontent-length: 10\r\ncontent-type: text/plain\r\n\r\nhi /ret404"
    );
}

#[test]
fn return_without_payload_is_empty() {
    assert_eq!(
        first_reply("http-request return status 503", "/"),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
    );
}

#[test]
fn redirects_match_haproxy() {
    assert_eq!(
        first_reply("http-request redirect location /l code 301", "/"),
        "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /l\r\n\r\n"
    );
    assert_eq!(
        first_reply("http-request redirect prefix /pfx", "/p/x?a=1"),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /pfx/p/x?a=1\r\ncache-control: no-cache\r\n\r\n"
    );
    assert_eq!(
        first_reply("http-request redirect prefix /pfx drop-query", "/dq/x?a=1"),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /pfx/dq/x\r\ncache-control: no-cache\r\n\r\n"
    );
    assert_eq!(
        first_reply("http-request redirect scheme https", "/s/y?q"),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://h.example/s/y?q\r\ncache-control: no-cache\r\n\r\n"
    );
}

#[test]
fn header_actions_modify_the_request() {
    let lines = [
        w("http-request set-header X-A one"),
        w("http-request add-header X-A two"),
        w("http-request del-header host"),
        w("http-request set-header X-B %[path]"),
    ];
    let rules = compile(&lines, Phase::Request, &AclSet::default()).unwrap();
    let mut r = req("/p");
    assert!(matches!(
        run_request(&rules, &mut r, &Conn::default()),
        Verdict::Continue
    ));
    let hs: Vec<(String, String)> = r
        .headers
        .iter()
        .map(|h| {
            (
                h.name.clone(),
                String::from_utf8_lossy(&h.value).to_string(),
            )
        })
        .collect();
    assert_eq!(
        hs,
        [
            ("x-a".into(), "one".into()),
            ("x-a".into(), "two".into()),
            ("x-b".into(), "/p".into())
        ]
    );
}

#[test]
fn unimplemented_actions_are_refused() {
    assert!(
        compile(
            &[w("http-request track-sc0 src")],
            Phase::Request,
            &AclSet::default()
        )
        .is_err()
    );
}
