//! What a proxy does on its own in HTTP, outside its rule lists: which
//! locally generated reply it sends for a status (`errorfile`,
//! `errorloc`/`errorloc302`/`errorloc303` and `http-error` of the proxy,
//! inherited from its `defaults` section; HAProxy's default pages
//! otherwise), the `timeout tarpit` delay, `monitor-uri`/`monitor fail`,
//! `http-after-response` rules and `option originalto`.
//!
//! Owns: [`ProxyReplies`] (compiled once per proxy) and [`Site`] (the
//! backend-then-frontend lookup HAProxy's `http_error_message` does, and
//! the after-response pass over server and generated responses).
//! Must not do I/O at run time.

use super::reply::{self, Reply};
use super::{Conn, Phase, Rule, run_response};
use crate::config::ir::{Config, Proxy, RawRule};
use crate::session::acl::{AclSet, Cond, holds};
use crate::session::fetch::Ctx;
use crate::session::http::errors::{ERRORFILE_CODES, ErrorFile};
use crate::session::http::head::{Framing, Header, Request, Response};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A proxy's own replies per status, its tarpit delay and its monitor URI.
#[derive(Debug, Clone, Default)]
pub struct ProxyReplies {
    errors: HashMap<u16, Arc<Reply>>,
    /// `monitor-uri`.
    monitor_uri: Option<String>,
    /// `monitor fail` conditions (any true: 503 instead of 200).
    monitor_fail: Vec<Option<Cond>>,
    /// The proxy's name (a `listen` is both sides of a [`Site`]).
    proxy: String,
    /// `http-after-response` rules.
    after: Vec<Rule>,
    /// `option originalto`.
    pub originalto: Option<super::origto::OriginalTo>,
    /// `timeout tarpit`, else `timeout connect` (HAProxy's fallback).
    pub tarpit: Option<Duration>,
}

impl ProxyReplies {
    /// Compiles the error directives of `p` and of the `defaults` section
    /// it inherits from.
    pub fn from_proxy(p: &Proxy, cfg: &Config) -> Result<ProxyReplies, String> {
        let mut out = ProxyReplies {
            errors: HashMap::new(),
            monitor_uri: None,
            monitor_fail: Vec::new(),
            proxy: p.name.clone(),
            after: Vec::new(),
            originalto: None,
            tarpit: p
                .timeouts
                .tarpit
                .or(p.timeouts.connect)
                .map(|ms| Duration::from_millis(ms.into())),
        };
        let defaults = defaults_of(p, cfg);
        out.originalto =
            super::origto::OriginalTo::from_proxy(p, defaults.map(|d| d.directives.as_slice()));
        if let Some(d) = defaults {
            out.add_lines(&d.directives, cfg)?;
        }
        out.add_lines(&p.directives, cfg)?;
        let lines: Vec<Vec<String>> = p.rules.iter().map(|r| r.words.clone()).collect();
        let needs_acls = p.kind.has_fe()
            || lines
                .iter()
                .any(|w| w.first().is_some_and(|k| k == "http-after-response"));
        if needs_acls {
            let acl_lines: Vec<Vec<String>> = p.acls.iter().map(|r| r.words.clone()).collect();
            let acls = AclSet::compile(&acl_lines)?;
            out.after = super::compile_in(&lines, Phase::AfterResponse, &acls, &p.name)?;
            if p.kind.has_fe() {
                for d in defaults
                    .iter()
                    .map(|d| &d.directives)
                    .chain([&p.directives])
                {
                    out.add_monitor(d, &acls)?;
                }
            }
        }
        Ok(out)
    }

    fn add_monitor(&mut self, lines: &[RawRule], acls: &AclSet) -> Result<(), String> {
        for l in lines {
            let w = &l.words;
            match (arg(w, 0), arg(w, 1)) {
                ("monitor-uri", uri) if !uri.is_empty() => self.monitor_uri = Some(uri.to_string()),
                ("monitor", "fail") => self.monitor_fail.push(Cond::compile(&w[2..], acls)?),
                _ => {}
            }
        }
        Ok(())
    }

    /// The status of the monitor answer when `c`'s request targets the
    /// `monitor-uri` (200, or 503 when a `monitor fail` condition holds).
    pub fn monitor(&self, c: &Ctx<'_>) -> Option<u16> {
        let m = self.monitor_uri.as_deref()?;
        let uri = c.req?.uri.as_str();
        let origin = match uri.find("://") {
            Some(i) if !uri.starts_with('/') => {
                uri[i + 3..].find('/').map_or("", |j| &uri[i + 3 + j..])
            }
            _ => uri,
        };
        if uri != m && origin != m {
            return None;
        }
        let fail = self.monitor_fail.iter().any(|cond| holds(cond, c));
        Some(if fail { 503 } else { 200 })
    }

    fn add_lines(&mut self, lines: &[RawRule], cfg: &Config) -> Result<(), String> {
        for l in lines {
            let w = &l.words;
            let at = |e: String| format!("parsing [{}:{}] : {e}", l.origin.file, l.origin.line);
            match w.first().map(String::as_str) {
                Some("errorfile") => {
                    let (code, path) = (arg(w, 1), arg(w, 2));
                    let Some(code) = code_of(code) else { continue };
                    let raw = std::fs::read(path)
                        .map_err(|e| at(format!("errorfile : cannot read '{path}' : {e}")))?;
                    let f = ErrorFile::parse(&raw)
                        .map_err(|e| at(format!("errorfile '{path}' : {e}")))?;
                    self.errors.insert(code, Arc::new(Reply::file(f)));
                }
                Some("errorfiles") => self.add_errorfiles(w, cfg).map_err(at)?,
                Some(kw @ ("errorloc" | "errorloc302" | "errorloc303")) => {
                    let Some(code) = code_of(arg(w, 1)) else {
                        continue;
                    };
                    let redir = if kw == "errorloc303" { 303 } else { 302 };
                    let f = ErrorFile::location(redir, arg(w, 2));
                    self.errors.insert(code, Arc::new(Reply::file(f)));
                }
                Some("http-error") => {
                    let r = reply::parse(&w[1..], 0, reply::Kind::HttpError).map_err(at)?;
                    if let Some(code) = code_of(&r.status.to_string()) {
                        self.errors.insert(code, Arc::new(r));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `errorfiles <http-errors> [<code> ...]`: the section's pages (all,
    /// or only the listed codes) replace the ones set so far.
    fn add_errorfiles(&mut self, w: &[String], cfg: &Config) -> Result<(), String> {
        let name = arg(w, 1);
        let sec = cfg
            .http_errors(name)
            .ok_or_else(|| format!("errorfiles : unknown http-errors section '{name}'"))?;
        let only: Vec<u16> = w.iter().skip(2).filter_map(|c| code_of(c)).collect();
        for f in &sec.files {
            if !ERRORFILE_CODES.contains(&f.code) || !(only.is_empty() || only.contains(&f.code)) {
                continue;
            }
            let raw = std::fs::read(&f.path)
                .map_err(|e| format!("errorfile : cannot read '{}' : {e}", f.path))?;
            let page =
                ErrorFile::parse(&raw).map_err(|e| format!("errorfile '{}' : {e}", f.path))?;
            self.errors.insert(f.code, Arc::new(Reply::file(page)));
        }
        Ok(())
    }

    /// The reply configured for `status`, if any.
    pub fn get(&self, status: u16) -> Option<&Arc<Reply>> {
        self.errors.get(&status)
    }
}

fn arg(w: &[String], i: usize) -> &str {
    w.get(i).map(String::as_str).unwrap_or("")
}

/// A status `errorfile` accepts (HAProxy warns and ignores the others).
fn code_of(s: &str) -> Option<u16> {
    s.parse().ok().filter(|c| ERRORFILE_CODES.contains(c))
}

/// The `defaults` section `p` inherits from (`from <name>`, else the last
/// one declared before it).
fn defaults_of<'a>(p: &Proxy, cfg: &'a Config) -> Option<&'a Proxy> {
    cfg.defaults_of(p)
}

/// Where a reply is generated: the backend's replies (when one was
/// chosen) win over the frontend's, as in HAProxy.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub be: Option<&'a ProxyReplies>,
    pub fe: &'a ProxyReplies,
}

impl<'a> Site<'a> {
    /// The configured reply for `status`, backend first.
    pub fn error(&self, status: u16) -> Option<&'a Reply> {
        self.be
            .and_then(|b| b.get(status))
            .or_else(|| self.fe.get(status))
            .map(|r| &**r)
    }

    /// The tarpit delay of the current proxy.
    pub fn tarpit(&self) -> Option<Duration> {
        self.be.unwrap_or(self.fe).tarpit
    }

    /// The page for a status the engine generates (502, 503, 504...):
    /// bytes and whether the connection must close after them.
    pub fn page(&self, status: u16, c: &Ctx<'_>, close: bool) -> (Vec<u8>, bool) {
        let (b, close) = Reply::page(status).render(c, self, close);
        (self.after_bytes(b, c), close)
    }

    /// The `http-after-response` rule lists to run: backend's, then
    /// frontend's (once for a `listen`).
    fn after_lists(&self) -> impl Iterator<Item = &'a [Rule]> {
        let fe = self.fe;
        let be = self.be.filter(|b| b.proxy != fe.proxy);
        be.into_iter()
            .chain([fe])
            .map(|p| p.after.as_slice())
            .filter(|l| !l.is_empty())
    }

    /// Runs the `http-after-response` rules over a server response.
    pub fn after_response(&self, req: &Request, resp: &mut Response, conn: &Conn) {
        for l in self.after_lists() {
            // `allow` only ends its own list.
            let _ = run_response(l, req, resp, conn);
        }
    }

    /// Runs the `http-after-response` rules over a generated reply's bytes
    /// (head parsed, rules applied, head rebuilt; the body is kept).
    pub fn after_bytes(&self, bytes: Vec<u8>, c: &Ctx<'_>) -> Vec<u8> {
        if self.after_lists().next().is_none() {
            return bytes;
        }
        let Some((mut resp, body_at)) = parse_head(&bytes) else {
            return bytes;
        };
        let conn = Conn {
            src: c.src.zip(c.src_port).map(|(a, p)| (a, p).into()),
            dst: c.dst.zip(c.dst_port).map(|(a, p)| (a, p).into()),
        };
        let empty;
        let req = match c.req {
            Some(r) => r,
            None => {
                empty = Request {
                    method: String::new(),
                    uri: String::new(),
                    minor: 1,
                    headers: Vec::new(),
                    framing: Framing::None,
                    conn_close: false,
                    conn_keep_alive: false,
                    conn_upgrade: false,
                    forced_close: false,
                    body: None,
                };
                &empty
            }
        };
        // The connection header is the mux's: it stays last, out of reach.
        let conn_hdrs: Vec<Header> = resp
            .headers
            .iter()
            .filter(|h| h.name == "connection")
            .cloned()
            .collect();
        resp.headers.retain(|h| h.name != "connection");
        self.after_response(req, &mut resp, &conn);
        resp.headers.extend(conn_hdrs);
        let mut out =
            format!("HTTP/1.{} {} {}\r\n", resp.minor, resp.status, resp.reason).into_bytes();
        for h in &resp.headers {
            reply::push_hdr(&mut out, &h.name, &h.value);
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&bytes[body_at..]);
        out
    }
}

/// A generated reply's head as a [`Response`], and where its body starts.
fn parse_head(b: &[u8]) -> Option<(Response, usize)> {
    let end = b.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&b[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let mut sl = lines.next()?.splitn(3, ' ');
    let minor = match sl.next()? {
        "HTTP/1.0" => 0,
        _ => 1,
    };
    let status = sl.next()?.parse().ok()?;
    let reason = sl.next().unwrap_or("").to_string();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| Header {
            name: n.to_string(),
            value: v.as_bytes().to_vec(),
        })
        .collect();
    let resp = Response {
        status,
        reason,
        minor,
        headers,
        framing: Framing::None,
    };
    Some((resp, end + 4))
}
