//! Differential test of the `errorfiles <http-errors>` argument of
//! `http-request deny`/`return`/`tarpit` and `http-error`: the section's
//! page for the reply's status, else the proxy's page for it. The same
//! config and requests go through the real HAProxy (`/usr/sbin/haproxy`,
//! skipped when absent) and switchyard; the whole answers must match.

mod support;
use support::{Proxy, TempDir};

const HAPROXY: &str = "/usr/sbin/haproxy";

#[test]
fn errorfiles_argument_answers_as_haproxy() {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let dir = TempDir::new();
    let page = |code: u16, text: &str| {
        let p = dir.0.join(format!("{code}.http"));
        let body = format!("<p>{text}</p>\n");
        let raw = format!(
            "HTTP/1.1 {code} Custom\r\nContent-Type: text/html\r\nX-From: section\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        std::fs::write(&p, raw).expect("write errorfile");
        p.display().to_string()
    };
    let (p403, p503, p500) = (page(403, "no"), page(503, "busy"), page(500, "oops"));
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 2s\n    timeout tarpit 100ms\n\
http-errors E\n    errorfile 403 {p403}\n    errorfile 503 {p503}\n\
http-errors F\n    errorfile 500 {p500}\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n\
    http-error status 500 errorfiles F\n\
    http-request deny errorfiles E if {{ path /d }}\n\
    http-request deny status 404 errorfiles E if {{ path /n }}\n\
    http-request deny errorfiles E hdr X-Ignored 1 if {{ path /h }}\n\
    http-request return status 503 errorfiles E if {{ path /r }}\n\
    http-request return status 200 errorfiles E if {{ path /ok }}\n\
    http-request tarpit errorfiles E if {{ path /t }}\n\
    http-request tarpit deny_status 403 errorfiles E if {{ path /t3 }}\n\
    http-request deny status 500 if {{ path /e }}\n\
    http-request deny deny_status 500 if {{ path /e2 }}\n\
    http-request deny status 503 hdr x-a b if {{ path /e3 }}\n\
    http-request tarpit status 503 content-type text/plain if {{ path /e4 }}\n\
    http-request return status 200 content-type text/plain string fine\n"
    );
    let ha = Proxy::start_with(HAPROXY, &cfg);
    let sy = Proxy::start(&cfg);
    for path in [
        "/d", "/n", "/h", "/r", "/ok", "/t", "/t3", "/e", "/e2", "/e3", "/e4", "/x",
    ] {
        let r = format!("GET {path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assert_eq!(sy.raw(&r), ha.raw(&r), "path {path}");
    }
}
