//! Stats page behaviour; expectations captured from HAProxy 2.6.12.

use super::html::{server_class, split_csv};
use super::*;
use crate::config::ir::{Origin, ProxyKind, RawRule};

fn proxy(lines: &[&str]) -> Proxy {
    let mut p = Proxy::new("stats", ProxyKind::Listen, Origin::default());
    for l in lines {
        p.stats.push(RawRule {
            origin: Origin::default(),
            words: l.split(' ').map(str::to_string).collect(),
        });
    }
    p
}

fn conf(lines: &[&str]) -> Option<Conf> {
    Conf::from_proxy(&proxy(lines), &Config::default())
}

#[test]
fn enable_and_implied_enable() {
    assert_eq!(conf(&[]), None);
    let c = conf(&["enable"]);
    assert_eq!(c.as_ref().map(|c| c.uri.as_str()), Some("/haproxy?stats"));
    assert_eq!(c.map(|c| c.realm), Some("HAProxy Statistics".into()));
    let c = conf(&["auth a:b", "auth c:d", "realm R", "refresh 10s"]);
    let c = c.expect("auth implies enable");
    assert_eq!(c.users, vec!["a:b".to_string(), "c:d".to_string()]);
    assert_eq!(c.realm, "R");
    assert_eq!(c.refresh, Some(Duration::from_secs(10)));
    assert_eq!(conf(&["uri /st"]).map(|c| c.uri), Some("/st".into()));
    assert_eq!(
        conf(&["refresh 5"]).and_then(|c| c.refresh),
        Some(Duration::from_secs(5))
    );
}

fn req<'a>(uri: &'a str, auth: Option<&'a [u8]>) -> Req<'a> {
    Req {
        method: "GET",
        uri,
        authorization: auth,
        close: false,
    }
}

#[test]
fn uri_prefix_matching() {
    let c = conf(&["uri /st", "auth a:b"]).expect("enabled");
    assert!(answer(&c, &req("/other", None)).is_none());
    assert!(answer(&c, &req("/s", None)).is_none());
    let a = answer(&c, &req("/st;csv", None)).expect("stats uri");
    assert!(a.starts_with(b"HTTP/1.1 401 Unauthorized\r\n"));
    let a = answer(&c, &req("http://h:80/stats", None)).expect("absolute uri");
    assert!(a.starts_with(b"HTTP/1.1 401 "));
    let a = answer(&c, &req("/st", Some(b"Basic YTpj"))).expect("stats uri");
    assert!(a.starts_with(b"HTTP/1.1 401 "));
}

#[test]
fn default_uri_with_query() {
    let c = conf(&["enable"]).expect("enabled");
    assert!(answer(&c, &req("/haproxy?stats;csv", None)).is_some());
    assert!(answer(&c, &req("/haproxy", None)).is_none());
}

#[test]
fn csv_splitting() {
    assert_eq!(split_csv("a,\"b,c\",\"d\"\"e\","), ["a", "b,c", "d\"e", ""]);
}

#[test]
fn colour_classes() {
    assert_eq!(server_class("UP", false), "active_up");
    assert_eq!(server_class("UP", true), "backup_up");
    assert_eq!(server_class("DOWN", false), "active_down");
    assert_eq!(server_class("no check", false), "active_no_check");
    assert_eq!(server_class("MAINT", true), "maintain");
    assert_eq!(server_class("MAINT (via a/b)", false), "maintain");
    assert_eq!(server_class("UP 1/3", false), "active_going_down");
    assert_eq!(server_class("DOWN 1/2", false), "active_going_up");
    assert_eq!(server_class("DRAIN", false), "active_draining");
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8_lossy(&b).into_owned()
}

/// Headers as HAProxy 2.6.12 sends them (`stats refresh 5`,
/// `stats hide-version`, `stats show-node`, global `node mynode`).
#[test]
fn render_headers_like_haproxy() {
    let st = Stats::build(&Config::default(), &[], None, &[]);
    let mut c = conf(&["refresh 5", "hide-version"]).expect("enabled");
    c.node = Some("mynode".into());
    let head = Req {
        method: "HEAD",
        uri: "/haproxy?stats",
        authorization: None,
        close: false,
    };
    assert_eq!(
        text(render(&c, &st, "", &head)),
        "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nrefresh: 5\r\n\r\n"
    );
    let get = Req {
        method: "GET",
        ..head
    };
    let page = text(render(&c, &st, "", &get));
    assert!(page.contains("<title>Statistics Report for HAProxy on mynode</title>"));
    assert!(page.contains("style=\"text-decoration: none;\">HAProxy</a></h1>"));
    assert!(page.contains(" on mynode</h2>"));
    assert!(page.ends_with("</body></html>\n\r\n0\r\n\r\n"));
    let csv = text(render(&c, &st, ";csv;norefresh", &get));
    assert!(csv.starts_with(
        "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
    ));
    assert!(csv.contains("\r\n# pxname,svname,"));
}
