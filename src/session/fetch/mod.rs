//! Sample fetches: the values ACLs, converters and log-format strings read
//! (`path`, `hdr(host)`, `src`, `req.payload(0,3)`, `var(txn.x)`, ...).
//!
//! Owns: the fetches we implement ([`Fetch`], compiled from the arguments
//! the configuration parser typed), what each reads ([`Ctx`], the session
//! facts in [`sess`]), and compiled sample expressions ([`Expr`]: a fetch
//! plus converters). A fetch we do not implement is an error at startup.
//! Must not match, and must not modify messages.

pub mod auth;
pub mod body;
pub mod crypt;
pub mod expr;
pub mod http;
pub mod payload;
pub mod sess;
pub mod smp;

pub use expr::Expr;
pub use http::path_of;
pub use sess::{Sess, register_backend};
pub use smp::Smp;

use crate::config::sample::Arg;
use crate::session::http::head::{Request, Response};
use std::borrow::Cow;
use std::net::IpAddr;

/// What a fetch can look at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ctx<'a> {
    pub req: Option<&'a Request>,
    pub resp: Option<&'a Response>,
    pub src: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst: Option<IpAddr>,
    pub dst_port: Option<u16>,
    /// Request bytes under inspection (`tcp-request content`).
    pub req_data: Option<&'a [u8]>,
    /// Response bytes under inspection (`tcp-response content`).
    pub res_data: Option<&'a [u8]>,
    /// More data may still arrive (inspect-delay running): fetches over
    /// incomplete data report "may change" instead of a final miss.
    pub partial: bool,
}

/// A fetch we implement, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    Const(Smp<'static>),
    Env(String),
    /// `date(offset,unit)`: offset, units per second.
    Date(i64, i64),
    Rand(Option<i64>),
    Src,
    SrcPort,
    Dst,
    DstPort,
    Path,
    Pathq,
    Url,
    Query,
    Method,
    Base,
    Base32,
    Status,
    ReqVer,
    ResVer,
    HttpFirstReq,
    UrlParam(Option<String>, Option<u8>),
    /// `hdr`/`fhdr` on the request or response: name, occurrence.
    Hdr {
        res: bool,
        full: bool,
        name: Option<String>,
        occ: i64,
    },
    HdrCnt {
        res: bool,
        full: bool,
        name: Option<String>,
    },
    HdrIp {
        res: bool,
        name: Option<String>,
        occ: i64,
    },
    HdrVal {
        res: bool,
        name: Option<String>,
        occ: i64,
    },
    Hdrs,
    Cook {
        res: bool,
        name: Option<String>,
    },
    CookCnt {
        res: bool,
        name: Option<String>,
    },
    CookVal {
        res: bool,
        name: Option<String>,
    },
    ReqLen {
        res: bool,
    },
    Payload {
        res: bool,
        off: i64,
        len: i64,
    },
    PayloadLv {
        res: bool,
        off1: i64,
        len1: i64,
        off2: i64,
    },
    SslSni,
    SslHelloType,
    SslVer,
    ProtoHttp,
    WaitEnd,
    Nbsrv(Option<String>),
    SrvIsUp(String, String),
    FeConn(Option<String>),
    BeConn(Option<String>),
    FeName,
    BeName,
    Var(String, Option<Smp<'static>>),
    /// `http_auth(<userlist>)`.
    HttpAuth(String),
    /// `http_auth_group(<userlist>)`: the authenticated user's name.
    HttpAuthGroup(String),
    /// `req.body`, `req.body_len`, `req.body_size`.
    ReqBody,
    ReqBodyLen,
    ReqBodySize,
    /// `req.body_param([<name>])`.
    ReqBodyParam(Option<String>),
    /// A fetch reading the request in request rules and the response in
    /// response rules (`hdr()`): the request form, the response form.
    Dir(Box<Fetch>, Box<Fetch>),
}

fn s_arg(a: &[Arg], i: usize) -> Option<String> {
    match a.get(i) {
        Some(Arg::Str(s)) | Some(Arg::Ref(_, s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn i_arg(a: &[Arg], i: usize) -> Option<i64> {
    match a.get(i) {
        Some(Arg::Int(v)) => Some(*v),
        Some(Arg::Str(s)) => s.parse().ok(),
        _ => None,
    }
}

fn lc(s: Option<String>) -> Option<String> {
    s.map(|s| s.to_ascii_lowercase())
}

impl Fetch {
    /// Compiles fetch `name` with the typed arguments the configuration
    /// parser produced; `Err` names a fetch we do not implement.
    pub fn compile(name: &str, a: &[Arg]) -> Result<Fetch, String> {
        use Fetch as F;
        let hname = || lc(s_arg(a, 0));
        let occ = || i_arg(a, 1).unwrap_or(0);
        Ok(match name {
            "always_true" => F::Const(Smp::Bool(true)),
            "always_false" => F::Const(Smp::Bool(false)),
            "int" => F::Const(Smp::Int(i_arg(a, 0).unwrap_or(0))),
            "bool" => F::Const(Smp::Bool(i_arg(a, 0).unwrap_or(0) != 0)),
            "str" => F::Const(Smp::owned(s_arg(a, 0).unwrap_or_default().into_bytes())),
            "ipv4" | "ipv6" => F::Const(Smp::Ip(match a.first() {
                Some(Arg::Ipv4(v)) => IpAddr::V4(*v),
                Some(Arg::Ipv6(v)) => IpAddr::V6(*v),
                _ => return Err(format!("bad argument to fetch '{name}'")),
            })),
            "bin" => {
                let hex = s_arg(a, 0).unwrap_or_default();
                let b = crate::session::conv::hex_decode(hex.as_bytes())
                    .ok_or_else(|| format!("bad hex string in fetch '{name}'"))?;
                F::Const(Smp::Bin(Cow::Owned(b)))
            }
            "env" => F::Env(s_arg(a, 0).unwrap_or_default()),
            "date" => F::Date(
                i_arg(a, 0).unwrap_or(0),
                match s_arg(a, 1).as_deref() {
                    None | Some("s") => 1,
                    Some("ms") => 1_000,
                    Some("us") => 1_000_000,
                    Some(u) => return Err(format!("fetch 'date': unknown unit '{u}'")),
                },
            ),
            "rand" => F::Rand(i_arg(a, 0)),
            "src" => F::Src,
            "src_port" => F::SrcPort,
            "dst" => F::Dst,
            "dst_port" => F::DstPort,
            "path" => F::Path,
            "pathq" => F::Pathq,
            "url" => F::Url,
            "query" => F::Query,
            "method" => F::Method,
            "base" => F::Base,
            "base32" => F::Base32,
            "status" => F::Status,
            "req.ver" | "req_ver" => F::ReqVer,
            "res.ver" | "resp_ver" => F::ResVer,
            "http_first_req" => F::HttpFirstReq,
            "url_param" | "urlp" => {
                F::UrlParam(s_arg(a, 0), s_arg(a, 1).and_then(|d| d.bytes().next()))
            }
            "req.hdr" => F::Hdr {
                res: false,
                full: false,
                name: hname(),
                occ: occ(),
            },
            "req.fhdr" => F::Hdr {
                res: false,
                full: true,
                name: hname(),
                occ: occ(),
            },
            "res.hdr" | "shdr" => F::Hdr {
                res: true,
                full: false,
                name: hname(),
                occ: occ(),
            },
            "res.fhdr" => F::Hdr {
                res: true,
                full: true,
                name: hname(),
                occ: occ(),
            },
            "req.hdr_cnt" => F::HdrCnt {
                res: false,
                full: false,
                name: hname(),
            },
            "req.fhdr_cnt" => F::HdrCnt {
                res: false,
                full: true,
                name: hname(),
            },
            "res.hdr_cnt" | "shdr_cnt" => F::HdrCnt {
                res: true,
                full: false,
                name: hname(),
            },
            "res.fhdr_cnt" => F::HdrCnt {
                res: true,
                full: true,
                name: hname(),
            },
            "req.hdr_ip" => F::HdrIp {
                res: false,
                name: hname(),
                occ: occ(),
            },
            "res.hdr_ip" | "shdr_ip" => F::HdrIp {
                res: true,
                name: hname(),
                occ: occ(),
            },
            "req.hdr_val" => F::HdrVal {
                res: false,
                name: hname(),
                occ: occ(),
            },
            "res.hdr_val" | "shdr_val" => F::HdrVal {
                res: true,
                name: hname(),
                occ: occ(),
            },
            // Direction-dependent: the response's in response rules.
            "hdr" | "hdr_cnt" | "hdr_ip" | "hdr_val" => F::Dir(
                Box::new(Fetch::compile(&format!("req.{name}"), a)?),
                Box::new(Fetch::compile(&format!("res.{name}"), a)?),
            ),
            "req.hdrs" => F::Hdrs,
            "cook" | "req.cook" => F::Cook {
                res: false,
                name: s_arg(a, 0),
            },
            "scook" | "res.cook" => F::Cook {
                res: true,
                name: s_arg(a, 0),
            },
            "cook_cnt" | "req.cook_cnt" => F::CookCnt {
                res: false,
                name: s_arg(a, 0),
            },
            "scook_cnt" | "res.cook_cnt" => F::CookCnt {
                res: true,
                name: s_arg(a, 0),
            },
            "cook_val" | "req.cook_val" => F::CookVal {
                res: false,
                name: s_arg(a, 0),
            },
            "scook_val" | "res.cook_val" => F::CookVal {
                res: true,
                name: s_arg(a, 0),
            },
            "req.len" | "req_len" => F::ReqLen { res: false },
            "res.len" => F::ReqLen { res: true },
            "req.payload" | "payload" | "res.payload" => F::Payload {
                res: name == "res.payload",
                off: i_arg(a, 0).unwrap_or(0),
                len: i_arg(a, 1).unwrap_or(0),
            },
            "req.payload_lv" | "payload_lv" | "res.payload_lv" => F::PayloadLv {
                res: name == "res.payload_lv",
                off1: i_arg(a, 0).unwrap_or(0),
                len1: i_arg(a, 1).unwrap_or(0),
                off2: i_arg(a, 2).unwrap_or(0),
            },
            "req.ssl_sni" | "req_ssl_sni" => F::SslSni,
            "req.ssl_hello_type" | "req_ssl_hello_type" => F::SslHelloType,
            "req.ssl_ver" | "req_ssl_ver" => F::SslVer,
            "req.proto_http" | "req_proto_http" => F::ProtoHttp,
            "ssl_fc" | "ssl_bc" => F::Const(Smp::Bool(false)),
            "wait_end" => F::WaitEnd,
            "nbsrv" => F::Nbsrv(s_arg(a, 0)),
            "srv_is_up" => {
                let full = s_arg(a, 0).unwrap_or_default();
                let (b, s) = full.split_once('/').unwrap_or(("", full.as_str()));
                F::SrvIsUp(b.to_string(), s.to_string())
            }
            "fe_conn" => F::FeConn(s_arg(a, 0)),
            "be_conn" => F::BeConn(s_arg(a, 0)),
            "fe_name" => F::FeName,
            "be_name" => F::BeName,
            "var" => F::Var(
                s_arg(a, 0).unwrap_or_default(),
                s_arg(a, 1).map(|d| Smp::owned(d.into_bytes())),
            ),
            "req.body" => F::ReqBody,
            "req.body_len" => F::ReqBodyLen,
            "req.body_size" => F::ReqBodySize,
            "req.body_param" => F::ReqBodyParam(s_arg(a, 0)),
            "http_auth" | "http_auth_group" => {
                let list = s_arg(a, 0).unwrap_or_default();
                if !auth::known(&list) {
                    return Err(format!(
                        "unable to find userlist '{list}' referenced in arg 1 of '{name}'"
                    ));
                }
                if name == "http_auth" {
                    F::HttpAuth(list)
                } else {
                    F::HttpAuthGroup(list)
                }
            }
            other => return Err(format!("sample fetch '{other}' is not implemented")),
        })
    }

    /// Pushes the fetch's values into `out`. With `iter` (ACL matching),
    /// multi-valued fetches without an explicit occurrence yield every
    /// value; otherwise one (HAProxy's default occurrence). Returns whether
    /// the result may change with more data.
    pub fn fetch<'a>(&self, c: &Ctx<'a>, iter: bool, out: &mut Vec<Smp<'a>>) -> bool {
        use Fetch as F;
        // An HTTP fetch over raw bytes still waiting for a complete head.
        if c.req.is_none() && c.req_data.is_some() && self.needs_req() {
            return c.partial;
        }
        let req = c.req;
        let uri = req.map(|r| r.uri.as_str());
        let heads = |res: bool| {
            if res {
                c.resp.map(|r| r.headers.as_slice())
            } else {
                req.map(|r| r.headers.as_slice())
            }
        };
        match self {
            F::Const(v) => out.push(v.clone()),
            F::Env(n) => {
                if let Ok(v) = std::env::var(n) {
                    out.push(Smp::owned(v.into_bytes()));
                }
            }
            F::Date(off, per_sec) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| (d.as_micros() as i64) / (1_000_000 / per_sec));
                out.push(Smp::Int(now.wrapping_add(*off)));
            }
            F::Rand(range) => {
                let r = i64::from(random_u32());
                out.push(Smp::Int(match range {
                    Some(n) => (r * n) >> 32,
                    None => r,
                }));
            }
            F::Src => out.extend(c.src.map(Smp::Ip)),
            F::SrcPort => out.extend(c.src_port.map(|p| Smp::Int(p.into()))),
            F::Dst => out.extend(c.dst.map(Smp::Ip)),
            F::DstPort => out.extend(c.dst_port.map(|p| Smp::Int(p.into()))),
            F::Path => out.extend(uri.map(|u| Smp::str(path_of(u).as_bytes()))),
            F::Pathq => out.extend(uri.map(|u| Smp::str(http::after_authority(u).as_bytes()))),
            F::Url => out.extend(uri.map(|u| Smp::str(u.as_bytes()))),
            F::Query => out.extend(
                uri.and_then(|u| u.split_once('?'))
                    .map(|q| Smp::str(q.1.as_bytes())),
            ),
            F::Method => out.extend(req.map(|r| Smp::str(r.method.as_bytes()))),
            F::Base => out.extend(req.map(|r| Smp::Str(http::base(&r.headers, &r.uri)))),
            F::Base32 => out.extend(req.map(|r| Smp::Int(http::base32(&r.headers, &r.uri).into()))),
            F::Status => out.extend(c.resp.map(|r| Smp::Int(r.status.into()))),
            F::ReqVer => out.extend(req.map(|r| ver(r.minor))),
            F::ResVer => out.extend(c.resp.map(|r| ver(r.minor))),
            F::HttpFirstReq => {
                if req.is_some() {
                    out.push(Smp::Bool(sess::first_stream()));
                }
            }
            F::UrlParam(name, delim) => {
                if let Some(u) = uri {
                    let vals = http::url_params(u, name.as_deref(), *delim);
                    let occ = if iter { 0 } else { 1 };
                    http::push_occ(vals, occ, iter, out, |v| Some(Smp::str(v)));
                }
            }
            F::Hdr {
                res,
                full,
                name,
                occ,
            } => {
                if let Some(hs) = heads(*res) {
                    let vals = http::values(hs, name.as_deref(), *full);
                    http::push_occ(vals, *occ, iter, out, |v| Some(Smp::str(v)));
                }
            }
            F::HdrCnt { res, full, name } => {
                if let Some(hs) = heads(*res) {
                    let n = http::values(hs, name.as_deref(), *full).len();
                    out.push(Smp::Int(n as i64));
                }
            }
            F::HdrIp { res, name, occ } => {
                if let Some(hs) = heads(*res) {
                    let vals = http::values(hs, name.as_deref(), false);
                    http::push_occ(vals, *occ, iter, out, http::ip_of);
                }
            }
            F::HdrVal { res, name, occ } => {
                if let Some(hs) = heads(*res) {
                    let vals = http::values(hs, name.as_deref(), false);
                    http::push_occ(vals, *occ, iter, out, http::int_of);
                }
            }
            F::Hdrs => {
                if let Some(r) = req {
                    let mut b = Vec::new();
                    for h in &r.headers {
                        b.extend_from_slice(h.name.as_bytes());
                        b.extend_from_slice(b": ");
                        b.extend_from_slice(&h.value);
                        b.extend_from_slice(b"\r\n");
                    }
                    out.push(Smp::owned(b));
                }
            }
            F::Cook { res, name } => {
                if let Some(hs) = heads(*res) {
                    let vals = cookie_vals(hs, *res, name.as_deref());
                    // The last occurrence, except with no name (the first).
                    let occ = if name.is_some() { -1 } else { 1 };
                    http::push_occ(vals, if iter { 0 } else { occ }, iter, out, |v| {
                        Some(Smp::str(v))
                    });
                }
            }
            F::CookCnt { res, name } => {
                if let Some(hs) = heads(*res) {
                    let n = cookie_vals(hs, *res, name.as_deref()).len();
                    out.push(Smp::Int(n as i64));
                }
            }
            F::CookVal { res, name } => {
                if let Some(hs) = heads(*res) {
                    let vals = cookie_vals(hs, *res, name.as_deref());
                    let occ = if iter { 0 } else { -1 };
                    http::push_occ(vals, occ, iter, out, http::int_of);
                }
            }
            F::ReqLen { res } => {
                if let Some(d) = data(c, *res) {
                    out.push(Smp::Int(d.len() as i64));
                    return c.partial;
                }
            }
            F::Payload { res, off, len } => {
                return got(c, *res, out, |d| payload::payload(d, *off, *len));
            }
            F::PayloadLv {
                res,
                off1,
                len1,
                off2,
            } => {
                return got(c, *res, out, |d| {
                    payload::payload_lv(d, *off1, *len1, *off2)
                });
            }
            F::SslSni => return got(c, false, out, payload::ssl_sni),
            F::SslHelloType => return got(c, false, out, payload::ssl_hello_type),
            F::SslVer => return got(c, false, out, payload::ssl_ver),
            F::ProtoHttp => {
                if req.is_some() {
                    out.push(Smp::Bool(true));
                } else {
                    return got(c, false, out, payload::proto_http);
                }
            }
            F::WaitEnd => {
                if c.partial {
                    return true;
                }
                out.push(Smp::Bool(true));
            }
            F::Nbsrv(be) => {
                if let Some(b) = backend(be.as_deref()) {
                    let n = b.servers().iter().filter(|s| s.eligible()).count();
                    out.push(Smp::Int(n as i64));
                }
            }
            F::SrvIsUp(be, srv) => {
                if let Some(b) = backend(Some(be).filter(|b| !b.is_empty()).map(String::as_str)) {
                    let up = b
                        .servers
                        .iter()
                        .find(|s| &s.name == srv)
                        .is_some_and(|s| s.eligible());
                    out.push(Smp::Bool(up));
                }
            }
            F::FeConn(fe) => {
                if let Some(n) = fe.clone().or_else(sess::fe_name) {
                    out.push(Smp::Int(sess::fe_conns(&n) as i64));
                }
            }
            F::BeConn(be) => {
                if let Some(b) = backend(be.as_deref()) {
                    let n: u64 = b.servers().iter().map(|s| u64::from(s.conns())).sum();
                    out.push(Smp::Int(n as i64));
                }
            }
            F::FeName => out.extend(sess::fe_name().map(|n| Smp::owned(n.into_bytes()))),
            // Before switching, the stream's backend is its frontend.
            F::BeName => out.extend(
                sess::backend()
                    .map(|b| b.name.clone())
                    .or_else(sess::fe_name)
                    .map(|n| Smp::owned(n.into_bytes())),
            ),
            F::Dir(q, r) => {
                return if c.resp.is_some() {
                    r.fetch(c, iter, out)
                } else {
                    q.fetch(c, iter, out)
                };
            }
            F::Var(n, default) => out.extend(sess::get_var(n).or_else(|| default.clone())),
            F::HttpAuth(list) => {
                out.extend(req.and_then(|r| auth::http_auth(list, r)).map(Smp::Bool))
            }
            F::ReqBody => out.extend(req.map(|r| Smp::Bin(body::body(r).into()))),
            F::ReqBodyLen => out.extend(req.map(|r| Smp::Int(body::body(r).len() as i64))),
            F::ReqBodySize => out.extend(req.map(|r| Smp::Int(body::size(r)))),
            F::ReqBodyParam(name) => {
                if let Some(r) = req {
                    let vals = body::params(r, name.as_deref());
                    let occ = if iter { 0 } else { 1 };
                    http::push_occ(vals, occ, iter, out, |v| Some(Smp::str(v)));
                }
            }
            F::HttpAuthGroup(list) => out.extend(
                req.and_then(|r| auth::http_auth_user(list, r))
                    .map(|u| Smp::owned(u.into_bytes())),
            ),
        }
        false
    }
}

impl Fetch {
    /// Whether the fetch reads the HTTP request.
    fn needs_req(&self) -> bool {
        use Fetch as F;
        match self {
            F::Path | F::Pathq | F::Url | F::Query | F::Method | F::Base | F::Base32 => true,
            F::ReqVer | F::UrlParam(..) | F::Hdrs | F::HttpFirstReq => true,
            F::HttpAuth(_) | F::HttpAuthGroup(_) => true,
            F::ReqBody | F::ReqBodyLen | F::ReqBodySize | F::ReqBodyParam(_) => true,
            F::Hdr { res, .. } | F::HdrCnt { res, .. } | F::HdrIp { res, .. } => !res,
            F::HdrVal { res, .. } | F::Cook { res, .. } | F::CookCnt { res, .. } => !res,
            F::CookVal { res, .. } => !res,
            F::Dir(q, _) => q.needs_req(),
            _ => false,
        }
    }
}

fn ver(minor: u8) -> Smp<'static> {
    Smp::str(if minor == 0 { b"1.0" } else { b"1.1" })
}

fn cookie_vals<'a>(
    hs: &'a [crate::session::http::head::Header],
    res: bool,
    name: Option<&str>,
) -> Vec<&'a [u8]> {
    http::cookies(hs, res)
        .into_iter()
        .filter(|(n, _)| name.is_none_or(|w| w.as_bytes() == *n))
        .map(|(_, v)| v)
        .collect()
}

fn data<'a>(c: &Ctx<'a>, res: bool) -> Option<&'a [u8]> {
    if res { c.res_data } else { c.req_data }
}

/// Runs a payload parser; "may change" only while more data can come.
fn got<'a>(
    c: &Ctx<'a>,
    res: bool,
    out: &mut Vec<Smp<'a>>,
    f: impl FnOnce(&'a [u8]) -> payload::Got<'a>,
) -> bool {
    let Some(d) = data(c, res) else { return false };
    let (v, more) = f(d);
    out.extend(v);
    more && c.partial
}

/// The named backend, or the session's current one.
fn backend(name: Option<&str>) -> Option<std::sync::Arc<crate::upstream::Backend>> {
    match name {
        Some(n) => sess::lookup_backend(n),
        None => sess::backend(),
    }
}

/// A pseudo-random number (xorshift seeded per thread from the clock).
fn random_u32() -> u32 {
    use std::cell::Cell;
    thread_local! {
        static S: Cell<u64> = Cell::new(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
                | 1,
        );
    }
    S.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 32) as u32
    })
}

#[cfg(test)]
mod tests;
