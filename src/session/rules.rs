//! `http-request` / `http-response` / `redirect` rules, compiled from the
//! raw rule words the IR keeps, and the replies they generate.
//!
//! Owns: the actions we implement (`set-header`, `add-header`,
//! `del-header`, `deny`, `return`, `redirect`, `allow`), their argument
//! parsing, and building HAProxy's exact reply bytes. An action we do not
//! implement is an error at startup. Must not do I/O.

use super::acl::{AclSet, Cond, holds};
use super::fetch::{Ctx, path_of};
use super::fmt::Fmt;
use super::http::errors;
use super::http::head::{Header, Request, Response};

/// The body of a generated reply.
#[derive(Debug, Clone)]
enum Payload {
    Empty,
    /// HAProxy's default page for the status.
    Page,
    Text(Fmt),
}

/// A reply built by `deny` or `return`.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    content_type: Option<String>,
    payload: Payload,
    hdrs: Vec<(String, Fmt)>,
}

impl Reply {
    /// The reply for a plain error status (default page).
    pub fn page(status: u16) -> Reply {
        Reply {
            status,
            content_type: None,
            payload: Payload::Page,
            hdrs: Vec::new(),
        }
    }

    /// Bytes on the wire; `close` adds `connection: close`.
    pub fn render(&self, c: &Ctx<'_>, close: bool) -> Vec<u8> {
        if let Payload::Page = self.payload {
            return errors::stream_page(self.status, close);
        }
        let body = match &self.payload {
            Payload::Text(f) => f.render(c),
            _ => Vec::new(),
        };
        let mut out = format!(
            "HTTP/1.1 {} {}\r\n",
            self.status,
            errors::reason(self.status)
        )
        .into_bytes();
        for (n, v) in &self.hdrs {
            push_hdr(&mut out, n, &v.render(c));
        }
        push_hdr(
            &mut out,
            "content-length",
            body.len().to_string().as_bytes(),
        );
        if let Some(t) = &self.content_type {
            push_hdr(&mut out, "content-type", t.as_bytes());
        }
        if close {
            push_hdr(&mut out, "connection", b"close");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        out
    }
}

fn push_hdr(out: &mut Vec<u8>, n: &str, v: &[u8]) {
    out.extend_from_slice(n.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(v);
    out.extend_from_slice(b"\r\n");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RedirKind {
    Location,
    Prefix,
    Scheme,
}

/// A `redirect` rule.
#[derive(Debug, Clone)]
pub struct Redirect {
    kind: RedirKind,
    target: Fmt,
    code: u16,
    drop_query: bool,
    append_slash: bool,
}

impl Redirect {
    pub fn render(&self, c: &Ctx<'_>, close: bool) -> Vec<u8> {
        let t = self.target.render(c);
        let mut loc = Vec::new();
        let (uri, host) = match c.req {
            Some(r) => (r.uri.as_str(), hdr(&r.headers, "host")),
            None => ("/", None),
        };
        let path = path_of(uri);
        let query = uri.split_once('?').map(|q| q.1);
        let add_path = |loc: &mut Vec<u8>| {
            loc.extend_from_slice(path.as_bytes());
            if self.append_slash && !path.ends_with('/') {
                loc.push(b'/');
            }
            if let Some(q) = query.filter(|_| !self.drop_query) {
                loc.push(b'?');
                loc.extend_from_slice(q.as_bytes());
            }
        };
        match self.kind {
            RedirKind::Location => loc = t,
            RedirKind::Prefix => {
                if t != b"/" {
                    loc.extend_from_slice(&t);
                }
                add_path(&mut loc);
            }
            RedirKind::Scheme => {
                loc.extend_from_slice(&t);
                loc.extend_from_slice(b"://");
                loc.extend_from_slice(host.unwrap_or_default());
                add_path(&mut loc);
            }
        }
        let mut out =
            format!("HTTP/1.1 {} {}\r\n", self.code, errors::reason(self.code)).into_bytes();
        push_hdr(&mut out, "content-length", b"0");
        push_hdr(&mut out, "location", &loc);
        if matches!(self.code, 302 | 303 | 307) {
            push_hdr(&mut out, "cache-control", b"no-cache");
        }
        if close {
            push_hdr(&mut out, "connection", b"close");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

fn hdr<'a>(hs: &'a [Header], name: &str) -> Option<&'a [u8]> {
    hs.iter()
        .rev()
        .find(|h| h.name == name)
        .map(|h| h.value.as_slice())
}

/// What a rule does.
#[derive(Debug, Clone)]
pub enum Action {
    SetHeader(String, Fmt),
    AddHeader(String, Fmt),
    DelHeader(String),
    Allow,
    Deny(Reply),
    Return(Reply),
    Redirect(Redirect),
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub action: Action,
    pub cond: Option<Cond>,
}

/// Where the rule list applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Request,
    Response,
}

/// Compiles every rule of `phase` among a proxy's raw rule lines.
pub fn compile(lines: &[Vec<String>], phase: Phase, acls: &AclSet) -> Result<Vec<Rule>, String> {
    let mut out = Vec::new();
    for w in lines {
        let Some(kw) = w.first() else { continue };
        let args: &[String] = match (kw.as_str(), phase) {
            ("http-request", Phase::Request) | ("http-response", Phase::Response) => &w[1..],
            ("redirect", Phase::Request) => w.as_slice(),
            _ => continue,
        };
        let cond_at = args
            .iter()
            .position(|x| x == "if" || x == "unless")
            .unwrap_or(args.len());
        let cond = Cond::compile(&args[cond_at..], acls)?;
        let action =
            action(&args[..cond_at], phase).map_err(|e| format!("'{}': {e}", w.join(" ")))?;
        out.push(Rule { action, cond });
    }
    Ok(out)
}

fn action(a: &[String], phase: Phase) -> Result<Action, String> {
    let name = a.first().map(String::as_str).unwrap_or("");
    let arg = |i: usize| {
        a.get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("missing argument to '{name}'"))
    };
    Ok(match name {
        "set-header" | "add-header" => {
            let n = arg(1)?.to_ascii_lowercase();
            let v = Fmt::parse(arg(2)?)?;
            if name == "set-header" {
                Action::SetHeader(n, v)
            } else {
                Action::AddHeader(n, v)
            }
        }
        "del-header" => {
            if a.len() > 2 {
                return Err("del-header matching methods are not supported".into());
            }
            Action::DelHeader(arg(1)?.to_ascii_lowercase())
        }
        "allow" => Action::Allow,
        "deny" => {
            let default = if phase == Phase::Request { 403 } else { 502 };
            Action::Deny(reply(&a[1..], default, true)?)
        }
        "return" => Action::Return(reply(&a[1..], 200, false)?),
        "redirect" if phase == Phase::Request => Action::Redirect(redirect(&a[1..])?),
        other => return Err(format!("action '{other}' is not implemented yet")),
    })
}

fn reply(a: &[String], default: u16, is_deny: bool) -> Result<Reply, String> {
    let mut r = Reply {
        status: default,
        content_type: None,
        payload: if is_deny {
            Payload::Page
        } else {
            Payload::Empty
        },
        hdrs: Vec::new(),
    };
    let mut i = 0;
    let val = |i: usize| {
        a.get(i + 1)
            .cloned()
            .ok_or_else(|| format!("'{}' expects an argument", a[i]))
    };
    while i < a.len() {
        match a[i].as_str() {
            "status" | "deny_status" => {
                r.status = val(i)?
                    .parse()
                    .map_err(|_| "invalid status code".to_string())?;
                i += 2;
            }
            "content-type" => {
                r.content_type = Some(val(i)?);
                i += 2;
            }
            "string" => {
                r.payload = Payload::Text(Fmt::literal(&val(i)?));
                i += 2;
            }
            "lf-string" => {
                r.payload = Payload::Text(Fmt::parse(&val(i)?)?);
                i += 2;
            }
            "default-errorfiles" => {
                r.payload = Payload::Page;
                i += 1;
            }
            "hdr" => {
                let n = val(i)?.to_ascii_lowercase();
                let v = a.get(i + 2).ok_or("'hdr' expects a name and a value")?;
                r.hdrs.push((n, Fmt::parse(v)?));
                i += 3;
            }
            other => return Err(format!("'{other}' is not implemented yet")),
        }
    }
    if matches!(r.payload, Payload::Page) && !errors::has_page(r.status) {
        r.payload = Payload::Empty;
    }
    Ok(r)
}

fn redirect(a: &[String]) -> Result<Redirect, String> {
    let kind = match a.first().map(String::as_str) {
        Some("location") => RedirKind::Location,
        Some("prefix") => RedirKind::Prefix,
        Some("scheme") => RedirKind::Scheme,
        _ => return Err("redirect expects 'location', 'prefix' or 'scheme'".into()),
    };
    let target = Fmt::parse(a.get(1).ok_or("redirect expects a target")?)?;
    let mut r = Redirect {
        kind,
        target,
        code: 302,
        drop_query: false,
        append_slash: false,
    };
    let mut i = 2;
    while i < a.len() {
        match a[i].as_str() {
            "code" => {
                r.code = a
                    .get(i + 1)
                    .and_then(|c| c.parse().ok())
                    .ok_or("invalid redirect code")?;
                i += 1;
            }
            "drop-query" => r.drop_query = true,
            "append-slash" => r.append_slash = true,
            other => return Err(format!("redirect option '{other}' is not implemented yet")),
        }
        i += 1;
    }
    Ok(r)
}

/// What running a rule list decided.
#[derive(Debug)]
pub enum Verdict<'r> {
    Continue,
    Reply(&'r Reply),
    Redirect(&'r Redirect),
}

/// Connection facts rules can read (addresses); messages are added per call.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conn {
    pub src: Option<std::net::SocketAddr>,
    pub dst: Option<std::net::SocketAddr>,
}

impl Conn {
    pub fn ctx<'a>(&self, req: Option<&'a Request>, resp: Option<&'a Response>) -> Ctx<'a> {
        Ctx {
            req,
            resp,
            src: self.src.map(|a| a.ip()),
            src_port: self.src.map(|a| a.port()),
            dst: self.dst.map(|a| a.ip()),
            dst_port: self.dst.map(|a| a.port()),
        }
    }
}

/// Applies a header action to `headers`; returns a final verdict if any.
fn apply<'r>(
    r: &'r Rule,
    headers: &mut Vec<Header>,
    value: impl FnOnce(&Fmt) -> Vec<u8>,
) -> Option<Verdict<'r>> {
    match &r.action {
        Action::SetHeader(n, f) => {
            let v = value(f);
            headers.retain(|h| &h.name != n);
            headers.push(Header {
                name: n.clone(),
                value: v,
            });
        }
        Action::AddHeader(n, f) => {
            let v = value(f);
            headers.push(Header {
                name: n.clone(),
                value: v,
            });
        }
        Action::DelHeader(n) => headers.retain(|h| &h.name != n),
        Action::Allow => return Some(Verdict::Continue),
        Action::Deny(rep) | Action::Return(rep) => return Some(Verdict::Reply(rep)),
        Action::Redirect(rd) => return Some(Verdict::Redirect(rd)),
    }
    None
}

/// Runs request rules in order; header actions modify `req`.
pub fn run_request<'r>(rules: &'r [Rule], req: &mut Request, conn: &Conn) -> Verdict<'r> {
    for r in rules {
        let c = conn.ctx(Some(req), None);
        if !holds(&r.cond, &c) {
            continue;
        }
        let v = match &r.action {
            Action::SetHeader(_, f) | Action::AddHeader(_, f) => Some(f.render(&c)),
            _ => None,
        };
        if let Some(verdict) = apply(r, &mut req.headers, |_| v.unwrap_or_default()) {
            return verdict;
        }
    }
    Verdict::Continue
}

/// Runs response rules in order; header actions modify `resp`.
pub fn run_response<'r>(
    rules: &'r [Rule],
    req: &Request,
    resp: &mut Response,
    conn: &Conn,
) -> Verdict<'r> {
    for r in rules {
        let c = conn.ctx(Some(req), Some(resp));
        if !holds(&r.cond, &c) {
            continue;
        }
        let v = match &r.action {
            Action::SetHeader(_, f) | Action::AddHeader(_, f) => Some(f.render(&c)),
            _ => None,
        };
        if let Some(verdict) = apply(r, &mut resp.headers, |_| v.unwrap_or_default()) {
            return verdict;
        }
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests;
