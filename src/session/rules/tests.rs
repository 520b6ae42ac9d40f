use super::*;
use crate::session::http::head::{Framing, Request, Response};

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
        body: None,
    }
}

fn first_reply(line: &str, uri: &str) -> String {
    let rules = compile(&[w(line)], Phase::Request, &AclSet::default()).unwrap();
    let mut r = req(uri);
    let conn = Conn::default();
    let fe = ProxyReplies::default();
    let site = Site { be: None, fe: &fe };
    let out = match run_request(&rules, &mut r, &conn) {
        Verdict::Reply(rep) => rep.render(&conn.ctx(Some(&r), None), &site, false).0,
        Verdict::Redirect(rd) => rd.render(&conn.ctx(Some(&r), None), false),
        _ => Vec::new(),
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
    let fe = ProxyReplies::default();
    let site = Site { be: None, fe: &fe };
    let got = rep.render(&conn.ctx(Some(&r), None), &site, false).0;
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

fn hdrs(r: &Request) -> Vec<String> {
    r.headers
        .iter()
        .map(|h| format!("{}: {}", h.name, String::from_utf8_lossy(&h.value)))
        .collect()
}

fn run(lines: &[&str], uri: &str, extra: &[(&str, &str)]) -> Request {
    let lines: Vec<_> = lines.iter().map(|l| w(l)).collect();
    let rules = compile(&lines, Phase::Request, &AclSet::default()).unwrap();
    let mut r = req(uri);
    for (n, v) in extra {
        r.headers.push(Header {
            name: n.to_string(),
            value: v.as_bytes().to_vec(),
        });
    }
    let _ = run_request(&rules, &mut r, &Conn::default());
    r
}

// What HAProxy 2.6.12 forwarded for the same rules and headers.
#[test]
fn replace_header_and_value_like_haproxy() {
    let r = run(
        &[r"http-request replace-header X-H ^a(.*) b\1"],
        "/",
        &[("x-h", "abc, ad"), ("x-h", "zz"), ("x-h", "a1")],
    );
    assert_eq!(
        hdrs(&r)[1..],
        ["x-h: bbc, ad", "x-h: zz", "x-h: b1"].map(String::from)
    );
    let r = run(
        &[r"http-request replace-value X-H ^a(.*) b\1"],
        "/",
        &[("x-h", "abc, ad,zz , a2"), ("x-h", "zz")],
    );
    assert_eq!(
        hdrs(&r)[1..],
        ["x-h: bbc,bd,zz ,b2", "x-h: zz"].map(String::from)
    );
}

#[test]
fn del_header_methods() {
    let extra = [("x-h", "1"), ("x-a", "2"), ("y-x-ha", "3")];
    let r = run(&["http-request del-header X- -m beg"], "/", &extra);
    assert_eq!(hdrs(&r), ["host: h.example", "y-x-ha: 3"].map(String::from));
    let r = run(&["http-request del-header x-h -m sub"], "/", &extra);
    assert_eq!(hdrs(&r), ["host: h.example", "x-a: 2"].map(String::from));
    let r = run(&["http-request del-header ^x-.$ -m reg"], "/", &extra);
    assert_eq!(hdrs(&r), ["host: h.example", "y-x-ha: 3"].map(String::from));
}

#[test]
fn request_line_rewrites() {
    let r = run(&["http-request set-path /np%[path]"], "/sp/a?q=1", &[]);
    assert_eq!(r.uri, "/np/sp/a?q=1");
    let r = run(
        &["http-request set-method POST", "http-request set-uri /u?x"],
        "/a",
        &[],
    );
    assert_eq!((r.method.as_str(), r.uri.as_str()), ("POST", "/u?x"));
    let r = run(
        &[r"http-request replace-path ^/rp/(.*) /X/\1"],
        "/rp/a/b?q=1",
        &[],
    );
    assert_eq!(r.uri, "/X/a/b?q=1");
}

#[test]
fn redirect_options_match_haproxy() {
    assert_eq!(
        first_reply(
            "http-request redirect location /x code 308 set-cookie SC=1",
            "/rc"
        ),
        "HTTP/1.1 308 Permanent Redirect\r\ncontent-length: 0\r\nlocation: /x\r\nset-cookie: SC=1; path=/;\r\n\r\n"
    );
    assert_eq!(
        first_reply(
            "http-request redirect prefix /p clear-cookie SC=",
            "/cc/a?b"
        ),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /p/cc/a?b\r\ncache-control: no-cache\r\nset-cookie: SC=; path=/; Max-Age=0;\r\n\r\n"
    );
    assert_eq!(
        first_reply("http-request redirect prefix /p append-slash", "/as/a?b"),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /p/as/a?b/\r\ncache-control: no-cache\r\n\r\n"
    );
    assert_eq!(
        first_reply(
            "http-request redirect scheme https drop-query append-slash code 303",
            "/sd/a?b"
        ),
        "HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: https://h.example/sd/a/\r\ncache-control: no-cache\r\n\r\n"
    );
}

#[test]
fn auth_and_tarpit_replies() {
    let rules = compile_in(
        &[w("http-request auth")],
        Phase::Request,
        &AclSet::default(),
        "fe",
    )
    .unwrap();
    let mut r = req("/");
    let conn = Conn::default();
    let fe = ProxyReplies::default();
    let site = Site { be: None, fe: &fe };
    let Verdict::Reply(rep) = run_request(&rules, &mut r, &conn) else {
        panic!("auth must answer")
    };
    let (b, close) = rep.render(&conn.ctx(Some(&r), None), &site, false);
    assert!(!close);
    assert_eq!(
        String::from_utf8_lossy(&b),
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"fe\"\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"
    );
    let rules = compile(
        &[w("http-request tarpit")],
        Phase::Request,
        &AclSet::default(),
    )
    .unwrap();
    assert!(matches!(
        run_request(&rules, &mut r, &conn),
        Verdict::Tarpit(t) if t.status == 500
    ));
}

#[test]
fn set_status_with_reason() {
    let lines = [
        w("http-response set-status 201"),
        w("http-response set-status 299 reason Yo"),
    ];
    let rules = compile(&lines[..1], Phase::Response, &AclSet::default()).unwrap();
    let r = req("/");
    let mut resp = Response {
        status: 200,
        reason: "OK".into(),
        minor: 1,
        headers: Vec::new(),
        framing: Framing::None,
    };
    let _ = run_response(&rules, &r, &mut resp, &Conn::default());
    assert_eq!((resp.status, resp.reason.as_str()), (201, "Created"));
    let rules = compile(&lines[1..], Phase::Response, &AclSet::default()).unwrap();
    let _ = run_response(&rules, &r, &mut resp, &Conn::default());
    assert_eq!((resp.status, resp.reason.as_str()), (299, "Yo"));
}
