//! `http-request` / `http-response` / `http-after-response` / `redirect`
//! rules, compiled from the raw rule words the IR keeps, and run over a
//! message.
//!
//! Owns: the action list, where each action's arguments are parsed (one
//! file per family: [`headers`], [`uri`], [`reply`], [`redirect`],
//! [`vars`]), which proxy's error replies apply ([`pages`]), and the
//! verdict of a rule list. An action we do not implement is an error at
//! startup. Must not do I/O.

pub mod errsections;
pub mod headers;
pub mod normalize;
pub mod origto;
pub mod pages;
pub mod redirect;
pub mod reply;
pub mod uri;
pub mod vars;
pub mod waitbody;

pub use pages::{ProxyReplies, Site};
pub use redirect::Redirect;
pub use reply::Reply;

use super::acl::{AclSet, Cond, holds};
use super::fetch::Ctx;
use super::fmt::Fmt;
use super::http::errors;
use super::http::head::{Header, Request, Response};
use headers::NameMatch;
use regex::bytes::Regex;
use uri::Part;

/// What a rule does.
#[derive(Debug, Clone)]
pub enum Action {
    SetHeader(String, Fmt),
    AddHeader(String, Fmt),
    DelHeader(NameMatch),
    /// `replace-header` (false) / `replace-value` (true).
    ReplaceHeader {
        name: String,
        re: Regex,
        with: Fmt,
        per_value: bool,
    },
    SetUri(Part, Fmt),
    ReplaceUri(Part, Regex, Fmt),
    SetMethod(Fmt),
    /// `normalize-uri <normalizer>`; the 400 answered when a `strict`
    /// normalizer meets a bad percent sequence.
    NormalizeUri(normalize::Normalizer, Reply),
    /// `early-hint <name> <fmt>`: a header of a `103 Early Hints`.
    EarlyHint(String, Fmt),
    SetStatus(u16, Option<String>),
    SetVar(vars::SetVar),
    UnsetVar(String),
    Allow,
    Deny(Reply),
    Return(Reply),
    Tarpit(Reply),
    Redirect(Redirect),
    /// `reject` / `silent-drop`: close without answering.
    Drop,
    /// `use-service prometheus-exporter`: the exporter answers.
    Prometheus,
    /// `wait-for-body` (and `option http-buffer-request`): the rule list
    /// stops until the request body is there (see [`run_request_from`]).
    WaitForBody(waitbody::WaitBody),
    /// Accepted, with nothing to do in this engine (`set-log-level` while
    /// there are no traffic logs).
    Nothing,
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
    /// `http-after-response`: every response, generated ones included.
    AfterResponse,
}

/// `option http-buffer-request` (`on`): a wait for the body, up to the
/// proxy's `timeout http-request`, in front of its request rules.
pub fn buffering(
    on: bool,
    timeout: Option<std::time::Duration>,
    mut rules: Vec<Rule>,
) -> Vec<Rule> {
    if on {
        let w = waitbody::buffer_request(timeout);
        rules.insert(
            0,
            Rule {
                action: Action::WaitForBody(w),
                cond: None,
            },
        );
    }
    rules
}

/// Compiles every rule of `phase` among a proxy's raw rule lines.
pub fn compile(lines: &[Vec<String>], phase: Phase, acls: &AclSet) -> Result<Vec<Rule>, String> {
    compile_in(lines, phase, acls, "")
}

/// [`compile`] for proxy `proxy` (the default `auth` realm).
pub fn compile_in(
    lines: &[Vec<String>],
    phase: Phase,
    acls: &AclSet,
    proxy: &str,
) -> Result<Vec<Rule>, String> {
    let mut out = Vec::new();
    // `redirect` rules run after the `http-request` rules, wherever they
    // are declared.
    let http_first = lines
        .iter()
        .filter(|w| w.first().is_some_and(|k| k != "redirect"))
        .chain(
            lines
                .iter()
                .filter(|w| w.first().is_some_and(|k| k == "redirect")),
        );
    for w in http_first {
        let Some(kw) = w.first() else { continue };
        let args: &[String] = match (kw.as_str(), phase) {
            ("http-request", Phase::Request)
            | ("http-response", Phase::Response)
            | ("http-after-response", Phase::AfterResponse) => &w[1..],
            ("redirect", Phase::Request) => w.as_slice(),
            _ => continue,
        };
        let cond_at = args
            .iter()
            .position(|x| x == "if" || x == "unless")
            .unwrap_or(args.len());
        let cond = Cond::compile(&args[cond_at..], acls)?;
        let mut action = action(&args[..cond_at], phase, proxy)
            .map_err(|e| format!("'{}': {e}", w.join(" ")))?;
        if let Action::NormalizeUri(n, _) = &mut action
            && cond_at < args.len()
        {
            *n = normalize::with_condition(*n);
        }
        out.push(Rule { action, cond });
    }
    Ok(out)
}

fn regex(s: &str) -> Result<Regex, String> {
    Regex::new(s).map_err(|e| format!("invalid regex '{s}': {e}"))
}

fn action(a: &[String], phase: Phase, proxy: &str) -> Result<Action, String> {
    let name = a.first().map(String::as_str).unwrap_or("");
    let arg = |i: usize| {
        a.get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("missing argument to '{name}'"))
    };
    let req = phase == Phase::Request;
    let base = name.split('(').next().unwrap_or(name);
    Ok(match base {
        "set-header" | "add-header" => {
            let n = arg(1)?.to_ascii_lowercase();
            let v = Fmt::parse(arg(2)?)?;
            if name == "set-header" {
                Action::SetHeader(n, v)
            } else {
                Action::AddHeader(n, v)
            }
        }
        "del-header" => Action::DelHeader(NameMatch::parse(&a[1..])?),
        "replace-header" | "replace-value" => Action::ReplaceHeader {
            name: arg(1)?.to_ascii_lowercase(),
            re: regex(arg(2)?)?,
            with: Fmt::parse(arg(3)?)?,
            per_value: name == "replace-value",
        },
        "set-path" | "set-pathq" | "set-query" | "set-uri" if req => {
            Action::SetUri(part(name), Fmt::parse(arg(1)?)?)
        }
        "replace-path" | "replace-pathq" | "replace-uri" if req => {
            Action::ReplaceUri(part(name), regex(arg(1)?)?, Fmt::parse(arg(2)?)?)
        }
        "set-method" if req => Action::SetMethod(Fmt::parse(arg(1)?)?),
        "normalize-uri" if req => {
            Action::NormalizeUri(normalize::parse(&a[1..])?, Reply::page(400))
        }
        "early-hint" if req => {
            Action::EarlyHint(arg(1)?.to_ascii_lowercase(), Fmt::parse(arg(2)?)?)
        }
        "set-status" if !req => {
            let code: u16 = arg(1)?
                .parse()
                .ok()
                .filter(|c| (100..1000).contains(c))
                .ok_or("expects an integer status code between 100 and 999")?;
            let reason = match a.get(2).map(String::as_str) {
                Some("reason") => Some(arg(3)?.to_string()),
                Some(other) => return Err(format!("unexpected argument '{other}'")),
                None => None,
            };
            Action::SetStatus(code, reason)
        }
        "set-var" | "set-var-fmt" => Action::SetVar(vars::SetVar::parse(name, &a[1..])?),
        "unset-var" => Action::UnsetVar(vars::name_of(name)?),
        "allow" => Action::Allow,
        "deny" if phase != Phase::AfterResponse => {
            let default = if req { 403 } else { 502 };
            Action::Deny(reply::parse(&a[1..], default, reply::Kind::Error)?)
        }
        "tarpit" if req => Action::Tarpit(reply::parse(&a[1..], 500, reply::Kind::Error)?),
        "auth" if req => {
            let realm = match a.get(1).map(String::as_str) {
                Some("realm") => arg(2)?.to_string(),
                Some(other) => return Err(format!("unexpected argument '{other}'")),
                None => proxy.to_string(),
            };
            let mut r = Reply::page(401);
            r.realm = Some(realm);
            Action::Return(r)
        }
        "return" if phase != Phase::AfterResponse => {
            Action::Return(reply::parse(&a[1..], 200, reply::Kind::Return)?)
        }
        "redirect" if req => Action::Redirect(redirect::parse(&a[1..])?),
        "reject" | "silent-drop" if phase != Phase::AfterResponse => Action::Drop,
        "set-log-level" if phase != Phase::AfterResponse => Action::Nothing,
        "wait-for-body" if req => Action::WaitForBody(waitbody::parse(&a[1..])?),
        "use-service" if req => match arg(1)? {
            crate::stats::prometheus::SERVICE => Action::Prometheus,
            other => return Err(format!("'{other}' unknown service name.")),
        },
        other => return Err(format!("action '{other}' is not implemented yet")),
    })
}

fn part(action: &str) -> Part {
    match action.rsplit('-').next() {
        Some("pathq") => Part::Pathq,
        Some("query") => Part::Query,
        Some("uri") => Part::Uri,
        _ => Part::Path,
    }
}

/// What running a rule list decided.
#[derive(Debug)]
pub enum Verdict<'r> {
    Continue,
    Reply(&'r Reply),
    Redirect(&'r Redirect),
    /// Answer with this reply after `timeout tarpit`.
    Tarpit(&'r Reply),
    /// `reject`/`silent-drop`: close the connection without answering.
    Drop,
    /// `use-service prometheus-exporter`.
    Prometheus,
    /// A header rewrite did not fit in the message buffer: in strict mode
    /// (HAProxy's default) the answer is a 500 (`wrew` and `eint` in
    /// `show stat`).
    Internal,
}

/// What the engine must do after a verdict (see [`answer`]).
#[derive(Debug)]
pub enum Local {
    /// Send these bytes; close afterwards when the flag is set.
    Send(Vec<u8>, bool),
    /// Wait `timeout tarpit`, then send.
    Tarpit(Vec<u8>, bool),
    /// Close without a word.
    Drop,
}

/// The local answer for a verdict, or `None` when the exchange continues.
pub fn answer(v: Verdict<'_>, c: &Ctx<'_>, site: &Site<'_>, close: bool) -> Option<Local> {
    Some(match v {
        Verdict::Continue => return None,
        Verdict::Reply(r) => {
            let (b, close) = r.render(c, site, close);
            Local::Send(site.after_bytes(b, c), close)
        }
        Verdict::Redirect(r) => Local::Send(site.after_bytes(r.render(c, close), c), close),
        Verdict::Tarpit(r) => {
            let (b, close) = r.render(c, site, close);
            Local::Tarpit(site.after_bytes(b, c), close)
        }
        Verdict::Drop => Local::Drop,
        Verdict::Internal => {
            let (b, close) = site.page(500, c, close);
            Local::Send(b, close)
        }
        Verdict::Prometheus => {
            let (method, uri) = c
                .req
                .map_or(("GET", "/"), |r| (r.method.as_str(), r.uri.as_str()));
            let (b, close) = crate::stats::prometheus::serve(method, uri, close);
            Local::Send(b, close)
        }
    })
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
            ..Ctx::default()
        }
    }
}

/// The rendered value a header action needs (read before the headers
/// change).
fn header_value(a: &Action, c: &Ctx<'_>) -> Vec<u8> {
    match a {
        Action::SetHeader(_, f) | Action::AddHeader(_, f) => f.render(c),
        Action::ReplaceHeader { with, .. } => with.render(c),
        _ => Vec::new(),
    }
}

/// Runs one header action over `hs` with its rendered value `v`.
fn header_action(a: &Action, hs: &mut Vec<Header>, v: Vec<u8>) {
    match a {
        Action::SetHeader(n, _) => headers::set(hs, n, v),
        Action::AddHeader(n, _) => hs.push(Header {
            name: n.clone(),
            value: v,
        }),
        Action::DelHeader(m) => m.delete(hs),
        Action::ReplaceHeader {
            name,
            re,
            per_value,
            ..
        } => headers::replace(hs, name, re, &v, *per_value),
        _ => {}
    }
}

/// The verdict of a final action, `None` for actions that let the list go on.
fn final_verdict(a: &Action) -> Option<Verdict<'_>> {
    Some(match a {
        Action::Allow => Verdict::Continue,
        Action::Deny(rep) | Action::Return(rep) => Verdict::Reply(rep),
        Action::Tarpit(rep) => Verdict::Tarpit(rep),
        Action::Drop => Verdict::Drop,
        Action::Redirect(rd) => Verdict::Redirect(rd),
        Action::Prometheus => Verdict::Prometheus,
        _ => return None,
    })
}

/// Variable actions; `true` when `a` was one.
fn var_action(a: &Action, c: &Ctx<'_>) -> bool {
    match a {
        Action::SetVar(s) => s.run(c),
        Action::UnsetVar(n) => vars::unset(n),
        Action::Nothing => {}
        _ => return false,
    }
    true
}

/// Runs request rules in order; rewrites modify `req`. `early-hint`
/// rules are dropped: use [`run_request_hints`] to send them.
pub fn run_request<'r>(rules: &'r [Rule], req: &mut Request, conn: &Conn) -> Verdict<'r> {
    run_request_hints(rules, req, conn, &mut Vec::new())
}

/// [`run_request_hints`] from rule `start` on, stopping at a
/// `wait-for-body` rule whose condition holds while the request has a
/// body: `Err` tells what to wait for and the rule to resume at.
pub fn run_request_from<'r>(
    rules: &'r [Rule],
    start: usize,
    req: &mut Request,
    conn: &Conn,
    interim: &mut Vec<u8>,
) -> Result<Verdict<'r>, waitbody::WaitAt> {
    run_rules(rules, start, req, conn, interim, true)
}

/// [`run_request`], appending the `103 Early Hints` responses that
/// `early-hint` rules build to `interim` (one per run of consecutive
/// rules; none for HTTP/1.0 clients), to be sent before the final answer.
pub fn run_request_hints<'r>(
    rules: &'r [Rule],
    req: &mut Request,
    conn: &Conn,
    interim: &mut Vec<u8>,
) -> Verdict<'r> {
    match run_rules(rules, 0, req, conn, interim, false) {
        Ok(v) => v,
        Err(_) => Verdict::Continue,
    }
}

fn run_rules<'r>(
    rules: &'r [Rule],
    start: usize,
    req: &mut Request,
    conn: &Conn,
    interim: &mut Vec<u8>,
    stop_at_wait: bool,
) -> Result<Verdict<'r>, waitbody::WaitAt> {
    let mut open = false;
    for (i, r) in rules.iter().enumerate().skip(start) {
        let c = conn.ctx(Some(req), None);
        if !holds(&r.cond, &c) {
            continue;
        }
        if let Action::EarlyHint(n, f) = &r.action {
            if req.minor == 0 {
                continue;
            }
            if !open {
                interim.extend_from_slice(b"HTTP/1.1 103 Early Hints\r\n");
                open = true;
            }
            reply::push_hdr(interim, n, &f.render(&c));
            let next_is_hint = matches!(
                rules.get(i + 1).map(|r| &r.action),
                Some(Action::EarlyHint(..))
            );
            if !next_is_hint {
                interim.extend_from_slice(b"\r\n");
                open = false;
            }
            continue;
        }
        if open {
            interim.extend_from_slice(b"\r\n");
            open = false;
        }
        if let Some(v) = final_verdict(&r.action) {
            return Ok(v);
        }
        if var_action(&r.action, &c) {
            continue;
        }
        match &r.action {
            Action::WaitForBody(wait) => {
                if stop_at_wait && req.framing != super::http::head::Framing::None {
                    return Err(waitbody::WaitAt {
                        wait: *wait,
                        next: i + 1,
                    });
                }
            }
            Action::SetUri(p, f) => {
                let v = String::from_utf8_lossy(&f.render(&c)).to_string();
                req.uri = uri::set(&req.uri, *p, &v);
            }
            Action::ReplaceUri(p, re, f) => {
                let w = f.render(&c);
                if let Some(u) = uri::replace(&req.uri, *p, re, &w) {
                    req.uri = u;
                }
            }
            Action::SetMethod(f) => {
                req.method = String::from_utf8_lossy(&f.render(&c)).to_string();
            }
            Action::NormalizeUri(n, bad) => match normalize::apply(*n, &req.uri) {
                Ok(u) => req.uri = u,
                Err(normalize::BadEscape) => return Ok(Verdict::Reply(bad)),
            },
            a => {
                let v = header_value(a, &c);
                let room = crate::metrics::htx::request_room(req);
                if !header_fits(a, &req.headers, &v, room) {
                    return Ok(Verdict::Internal);
                }
                header_action(a, &mut req.headers, v);
            }
        }
    }
    if open {
        interim.extend_from_slice(b"\r\n");
    }
    Ok(Verdict::Continue)
}

/// Runs response (or after-response) rules in order; rewrites modify
/// `resp`.
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
        if let Some(v) = final_verdict(&r.action) {
            return v;
        }
        if var_action(&r.action, &c) {
            continue;
        }
        match &r.action {
            Action::SetStatus(code, reason) => {
                resp.status = *code;
                resp.reason = reason
                    .clone()
                    .unwrap_or_else(|| errors::reason(*code).to_string());
            }
            a => {
                let v = header_value(a, &c);
                let room = crate::metrics::htx::response_room(resp);
                if !header_fits(a, &resp.headers, &v, room) {
                    return Verdict::Internal;
                }
                header_action(a, &mut resp.headers, v);
            }
        }
    }
    Verdict::Continue
}

/// Whether `set-header`/`add-header` with value `v` fits in the `room`
/// left in HAProxy's message buffer (other actions always do here).
fn header_fits(a: &Action, hs: &[Header], v: &[u8], room: u64) -> bool {
    use crate::metrics::htx::header_space;
    match a {
        Action::AddHeader(n, _) => header_space(n, v) <= room,
        Action::SetHeader(n, _) => {
            let freed: u64 = hs
                .iter()
                .filter(|h| h.name == *n)
                .map(|h| header_space(&h.name, &h.value))
                .sum();
            header_space(n, v) <= room + freed
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests;
