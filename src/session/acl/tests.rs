use super::*;
use crate::session::http::head::{Framing, Header, Request};

fn w(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn req(method: &str, uri: &str, host: &str) -> Request {
    Request {
        method: method.into(),
        uri: uri.into(),
        minor: 1,
        headers: vec![Header {
            name: "host".into(),
            value: host.as_bytes().to_vec(),
        }],
        framing: Framing::None,
        conn_close: false,
        conn_keep_alive: false,
        conn_upgrade: false,
        forced_close: false,
        body: None,
    }
}

fn check(acls: &[&str], cond: &str, r: &Request, src: &str) -> bool {
    let set = AclSet::compile(&acls.iter().map(|a| w(a)).collect::<Vec<_>>()).unwrap();
    let c = Cond::compile(&w(cond), &set).unwrap();
    let ctx = Ctx {
        req: Some(r),
        src: src.parse().ok(),
        ..Ctx::default()
    };
    holds(&c, &ctx)
}

#[test]
fn path_criteria() {
    let r = req("GET", "/api/v1/users?x=1", "Example.com");
    assert!(check(&["a path_beg /api"], "if a", &r, "1.2.3.4"));
    assert!(check(&["a path_end /users"], "if a", &r, "1.2.3.4"));
    assert!(check(&["a path_dir v1"], "if a", &r, "1.2.3.4"));
    assert!(check(&["a path_reg ^/api/v[0-9]+/"], "if a", &r, "1.2.3.4"));
    assert!(!check(&["a path /api"], "if a", &r, "1.2.3.4"));
    assert!(check(&["a path /api/v1/users"], "if a", &r, "1.2.3.4"));
    assert!(check(&["a path -m beg /api"], "if a", &r, "1.2.3.4"));
}

#[test]
fn host_criteria_and_case() {
    let r = req("GET", "/", "Example.com");
    assert!(check(
        &["h hdr(host) -i example.com"],
        "if h",
        &r,
        "1.2.3.4"
    ));
    assert!(!check(&["h hdr(host) example.com"], "if h", &r, "1.2.3.4"));
    assert!(check(&["h hdr_dom(host) -i com"], "if h", &r, "1.2.3.4"));
    assert!(!check(
        &["h hdr_dom(host) -i ample.com"],
        "if h",
        &r,
        "1.2.3.4"
    ));
    assert!(check(&["h hdr_beg(host) Ex"], "if h", &r, "1.2.3.4"));
}

#[test]
fn logic_and_anonymous_acls() {
    let r = req("POST", "/x", "h");
    assert!(check(
        &["p method POST", "x path /x"],
        "if p x",
        &r,
        "10.0.0.1"
    ));
    assert!(!check(
        &["p method POST", "x path /y"],
        "if p x",
        &r,
        "10.0.0.1"
    ));
    assert!(check(
        &["p method POST", "x path /y"],
        "if x || p",
        &r,
        "10.0.0.1"
    ));
    assert!(check(&["x path /y"], "unless x", &r, "10.0.0.1"));
    assert!(check(&["x path /y"], "if !x", &r, "10.0.0.1"));
    assert!(check(&[], "if { path /x } METH_POST", &r, "10.0.0.1"));
    assert!(!check(&[], "if METH_GET", &r, "10.0.0.1"));
    // Repeated declarations are ORed.
    assert!(check(&["x path /y", "x path /x"], "if x", &r, "10.0.0.1"));
}

#[test]
fn src_networks() {
    let r = req("GET", "/", "h");
    assert!(check(
        &["n src 10.0.0.0/8 192.168.0.1"],
        "if n",
        &r,
        "10.2.3.4"
    ));
    assert!(!check(&["n src 10.0.0.0/8"], "if n", &r, "11.2.3.4"));
    assert!(check(&[], "if LOCALHOST", &r, "127.0.0.1"));
    assert!(check(&["n src 10.0.0.0/8"], "if n", &r, "::ffff:10.0.0.1"));
}

#[test]
fn unknown_things_are_errors() {
    assert!(AclSet::compile(&[w("a sc0_conn_cur gt 1")]).is_err());
    let set = AclSet::default();
    assert!(Cond::compile(&w("if nope"), &set).is_err());
}
