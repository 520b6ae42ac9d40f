use super::*;
use crate::session::http::head::{Framing, Header, Request};

fn req(uri: &str, hs: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        uri: uri.into(),
        minor: 1,
        headers: hs
            .iter()
            .map(|(n, v)| Header {
                name: n.to_string(),
                value: v.as_bytes().to_vec(),
            })
            .collect(),
        framing: Framing::None,
        conn_close: false,
        conn_keep_alive: false,
        conn_upgrade: false,
        forced_close: false,
        body: None,
    }
}

fn one(e: &str, r: &Request) -> Option<Vec<u8>> {
    let c = Ctx {
        req: Some(r),
        src: "10.0.0.1".parse().ok(),
        src_port: Some(1234),
        ..Ctx::default()
    };
    Expr::parse(e)
        .unwrap()
        .eval(&c)
        .map(|v| v.to_bytes().into_owned())
}

#[test]
fn http_fetches() {
    let r = req(
        "/a/B?x=1&y=2",
        &[
            ("host", "Ex.com"),
            ("x", "1, 2"),
            ("x", "3"),
            ("cookie", "a=1; b=2; a=3"),
        ],
    );
    assert_eq!(one("path", &r).unwrap(), b"/a/B");
    assert_eq!(one("query", &r).unwrap(), b"x=1&y=2");
    assert_eq!(one("url_param(y)", &r).unwrap(), b"2");
    assert_eq!(one("hdr(x)", &r).unwrap(), b"3");
    assert_eq!(one("hdr(x,1)", &r).unwrap(), b"1");
    assert_eq!(one("hdr_cnt(x)", &r).unwrap(), b"3");
    assert_eq!(one("req.fhdr(x,1)", &r).unwrap(), b"1, 2");
    assert_eq!(one("base", &r).unwrap(), b"Ex.com/a/B");
    assert_eq!(one("req.cook(a)", &r).unwrap(), b"3");
    assert_eq!(one("src", &r).unwrap(), b"10.0.0.1");
    assert_eq!(one("src_port", &r).unwrap(), b"1234");
    assert_eq!(one("hdr(nope)", &r), None);
    assert!(Fetch::compile("sc0_conn_cur", &[]).is_err());
}

#[test]
fn iterating_yields_every_value() {
    let r = req("/", &[("x", "1, 2"), ("x", "3")]);
    let c = Ctx {
        req: Some(&r),
        ..Ctx::default()
    };
    let mut out = Vec::new();
    Expr::parse("hdr(x)").unwrap().eval_all(&c, &mut out);
    assert_eq!(out.len(), 3);
}

#[test]
fn payload_may_change_only_while_partial() {
    let mut c = Ctx {
        req_data: Some(b"ab"),
        partial: true,
        ..Ctx::default()
    };
    let e = Expr::parse("req.payload(0,3)").unwrap();
    let mut out = Vec::new();
    assert!(e.eval_all(&c, &mut out));
    assert!(out.is_empty());
    c.partial = false;
    assert!(!e.eval_all(&c, &mut out));
}

#[test]
fn hdr_follows_the_direction() {
    use crate::session::http::head::Response;
    let r = req("/", &[("x", "req")]);
    let resp = Response {
        status: 200,
        reason: "OK".into(),
        minor: 1,
        headers: vec![Header {
            name: "x".into(),
            value: b"res".to_vec(),
        }],
        framing: Framing::None,
    };
    let e = Expr::parse("hdr(x)").unwrap();
    let mut c = Ctx {
        req: Some(&r),
        ..Ctx::default()
    };
    assert_eq!(e.eval(&c).unwrap().to_bytes().as_ref(), b"req");
    c.resp = Some(&resp);
    assert_eq!(e.eval(&c).unwrap().to_bytes().as_ref(), b"res");
    let e = Expr::parse("req.hdr(x)").unwrap();
    assert_eq!(e.eval(&c).unwrap().to_bytes().as_ref(), b"req");
}

#[test]
fn date_units() {
    let r = req("/", &[]);
    let s: i64 = String::from_utf8(one("date", &r).unwrap())
        .unwrap()
        .parse()
        .unwrap();
    let ms: i64 = String::from_utf8(one("date(0,ms)", &r).unwrap())
        .unwrap()
        .parse()
        .unwrap();
    let later: i64 = String::from_utf8(one("date(10)", &r).unwrap())
        .unwrap()
        .parse()
        .unwrap();
    assert!((ms / 1000 - s).abs() <= 1);
    assert!((later - s - 10).abs() <= 1);
}
