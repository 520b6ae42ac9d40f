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
    assert!(conf(&[]).is_none());
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
        body: None,
        ctx: None,
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
        body: None,
        ctx: None,
    };
    assert_eq!(
        text(render(&c, &st, &Opts::parse(""), false, &head)),
        "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nrefresh: 5\r\n\r\n"
    );
    let get = Req {
        method: "GET",
        ..head
    };
    let page = text(render(&c, &st, &Opts::parse(""), false, &get));
    assert!(page.contains("<title>Statistics Report for HAProxy on mynode</title>"));
    assert!(page.contains("style=\"text-decoration: none;\">HAProxy</a></h1>"));
    assert!(page.contains(" on mynode</h2>"));
    assert!(page.ends_with("</body></html>\n\r\n0\r\n\r\n"));
    let csv = text(render(&c, &st, &Opts::parse(";csv;norefresh"), false, &get));
    assert!(csv.starts_with(
        "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
    ));
    assert!(csv.contains("\r\n# pxname,svname,"));
}

/// `;` options and the scope box, as HAProxy reads them.
#[test]
fn options_and_scope() {
    let o = Opts::parse(";up;norefresh;st=DONE");
    assert!(o.up && o.norefresh && !o.csv);
    assert_eq!(o.st.as_deref(), Some("DONE"));
    let o = Opts::parse(";json-schema");
    assert!(o.json_schema && !o.json);
    let o = Opts::parse("?scope=WE");
    assert_eq!(o.scope.as_deref(), Some("WE"));
    let mut c = conf(&["scope web", "scope ."]).expect("scope enables");
    assert_eq!(c.scope, vec!["web".to_string(), "stats".to_string()]);
    assert!(in_scope(&c, &Opts::default(), "web"));
    assert!(!in_scope(&c, &Opts::default(), "other"));
    assert!(in_scope(&c, &o, "web"));
    assert!(!in_scope(&c, &o, "stats"));
    c.scope.clear();
    assert!(in_scope(&c, &o, "myweb"));
}

/// The admin form and the result box, compared with HAProxy 2.6.12's page.
#[test]
fn admin_form_and_message_like_haproxy() {
    let st = Stats::build(&Config::default(), &[], None, &[]);
    let c = conf(&["admin if TRUE", "show-legends"]).expect("enabled");
    assert!(c.legends && c.access.admin(None));
    let o = Opts::parse(";st=DONE");
    let page = html::page(&c, &st, Filter::default(), &o, true);
    assert!(page.contains("<p><div class=active_up><a class=lfsb href=\"/haproxy?stats\" title=\"Remove this message\">[X]</a> Action processed successfully.</div>"));
    assert!(page.contains("<table class=\"lgd\"><tr>"));
    assert!(page.contains("<li><a href=\"/haproxy?stats;up\">Hide 'DOWN' servers</a><br>"));
    assert!(page.contains("<li><a href=\"/haproxy?stats;csv\">CSV export</a><br>"));
}

#[test]
fn thousands_and_times_like_haproxy() {
    assert_eq!(html::u2h("1000"), "<span class=\"rls\">1</span>000");
    assert_eq!(html::u2h("500"), "500");
    assert_eq!(
        html::u2h("1234567"),
        "<span class=\"rls\">1</span><span class=\"rls\">234</span>567"
    );
    assert_eq!(html::human_time("9"), "9s");
    assert_eq!(html::human_time("65"), "1m5s");
    assert_eq!(html::human_time("7380"), "2h3m");
    assert_eq!(html::human_time("93600"), "1d2h");
}

/// HAProxy 2.6.12 refuses `stats auth` (or `realm`) with `stats http-request`.
#[test]
fn auth_and_http_request_exclusive() {
    let p = proxy(&["auth a:b", "http-request allow"]);
    assert_eq!(
        Conf::build(&p, &Config::default()).err().as_deref(),
        Some(
            "proxy 'stats': stats 'auth'/'realm' and 'http-request' can't be used at the same time."
        )
    );
}
