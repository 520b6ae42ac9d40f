//! HTTP checks: the request built from `option httpchk` and `http-check
//! send`, and the verdict on the response from `http-check expect`.
//!
//! Owns: parsing those directives (refusing, by name, the sub-forms
//! Switchyard does not implement) and evaluating a received response.
//! Must not do I/O.

use super::lf::{self, CheckFmt, VarAction, Vars};
use super::status::{CheckResult, CheckStatus};
use super::tcpcheck::{self, Connect, Fmt};
use regex::Regex;

/// Why an `http-check` line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Valid HAProxy syntax Switchyard does not run; holds the form name
    /// (e.g. `http-check expect hdr`).
    #[error("'{0}' is not implemented by Switchyard yet")]
    Unsupported(String),
    #[error("{0}")]
    Invalid(String),
}

/// What an HTTP check sends and expects.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    pub method: String,
    pub uri: String,
    pub version: String,
    /// Extra headers, names lower-cased like HAProxy's HTX sends them.
    pub headers: Vec<(String, String)>,
    /// All must hold, in order; empty means "2xx or 3xx".
    pub expects: Vec<Expect>,
    /// `http-check connect` options (port, addr, send-proxy, linger).
    pub connect: Option<Connect>,
    /// `http-check disable-on-404`: a 404 puts a running server in NOLB.
    pub disable_on_404: bool,
    /// `http-check send-state`: adds `x-haproxy-server-state`.
    pub send_state: bool,
    /// `uri-lf <fmt>` (replaces `uri`).
    pub uri_fmt: Option<CheckFmt>,
    /// Header values that are log-format strings, by index in `headers`.
    pub header_fmts: Vec<(usize, CheckFmt)>,
    /// `body <string>` / `body-lf <fmt>`.
    pub body: Option<CheckFmt>,
    /// `http-check set-var`/`unset-var` rules, run before the request is
    /// built.
    pub vars: Vec<VarAction>,
}

/// One `http-check expect [!] <match> <pattern>`.
#[derive(Debug, Clone)]
pub struct Expect {
    pub negate: bool,
    pub kind: ExpectKind,
    pub comment: Option<String>,
    pub ok_status: Option<CheckStatus>,
    pub err_status: Option<CheckStatus>,
    pub tout_status: Option<CheckStatus>,
    pub on_success: Option<Fmt>,
    pub on_error: Option<Fmt>,
}

#[derive(Debug, Clone)]
pub enum ExpectKind {
    /// `status <codes>`: a comma list of codes or `low-high` ranges.
    Status(Vec<(u16, u16)>),
    /// `rstatus <regex>` on the 3-digit code.
    RStatus(Regex),
    /// `string <text>`: a substring of the body.
    String(String),
    /// `rstring <regex>` on the body.
    RString(regex::bytes::Regex),
    /// `hdr`/`fhdr name ... [value ...]`.
    Hdr(HdrMatch),
}

/// How `hdr`/`fhdr` compare a name or a value (`-m str|beg|end|sub|reg`).
#[derive(Debug, Clone)]
pub enum StrMatch {
    Str(String),
    Beg(String),
    End(String),
    Sub(String),
    Reg(Regex),
}

impl StrMatch {
    fn matches(&self, v: &str, ci: bool) -> bool {
        let eq = |a: &str, b: &str| {
            if ci {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        match self {
            StrMatch::Str(p) => eq(v, p),
            StrMatch::Beg(p) => v.len() >= p.len() && v.get(..p.len()).is_some_and(|h| eq(h, p)),
            StrMatch::End(p) => {
                v.len() >= p.len() && v.get(v.len() - p.len()..).is_some_and(|t| eq(t, p))
            }
            StrMatch::Sub(p) => {
                if ci {
                    v.to_ascii_lowercase().contains(&p.to_ascii_lowercase())
                } else {
                    v.contains(p.as_str())
                }
            }
            StrMatch::Reg(r) => r.is_match(v),
        }
    }
}

/// `hdr` (values split on commas) or `fhdr` (full value).
#[derive(Debug, Clone)]
pub struct HdrMatch {
    pub name: StrMatch,
    pub value: Option<StrMatch>,
    pub full: bool,
}

impl Default for HttpCheck {
    fn default() -> Self {
        HttpCheck {
            method: "OPTIONS".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into(),
            headers: Vec::new(),
            expects: Vec::new(),
            connect: None,
            disable_on_404: false,
            send_state: false,
            uri_fmt: None,
            header_fmts: Vec::new(),
            body: None,
            vars: Vec::new(),
        }
    }
}

/// `option httpchk [<uri>] | [<meth> <uri> [<ver>]]`; `args` are the words
/// after `httpchk`. A version carrying `\r\n`-separated headers (the old
/// trick) contributes those headers.
pub fn from_option(args: &[String]) -> HttpCheck {
    let mut c = HttpCheck::default();
    match args {
        [] => {}
        [uri] => c.uri = uri.clone(),
        [m, uri] => {
            c.method = m.clone();
            c.uri = uri.clone();
        }
        [m, uri, ver, ..] => {
            c.method = m.clone();
            c.uri = uri.clone();
            set_version(&mut c, ver);
        }
    }
    c
}

fn set_version(c: &mut HttpCheck, ver: &str) {
    let ver = ver.replace("\\r\\n", "\r\n");
    let mut parts = ver.split("\r\n");
    c.version = parts.next().unwrap_or_default().to_string();
    for h in parts {
        if let Some((n, v)) = h.split_once(':') {
            c.headers
                .push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

/// Applies `http-check send ...` (`words` after `send`).
pub fn apply_send(c: &mut HttpCheck, words: &[String]) -> Result<(), RuleError> {
    let mut i = 0;
    while i < words.len() {
        let k = words[i].as_str();
        let arg = |n: usize| {
            words.get(i + n).cloned().ok_or_else(|| {
                RuleError::Invalid(format!("'http-check send' : '{k}' expects an argument."))
            })
        };
        let fmt = |v: &str, what: &str| {
            CheckFmt::parse(v)
                .map_err(|e| RuleError::Unsupported(format!("http-check send {what} {e}")))
        };
        match k {
            "meth" => c.method = arg(1)?,
            "uri" => {
                c.uri = arg(1)?;
                c.uri_fmt = None;
            }
            "uri-lf" => {
                let f = fmt(&arg(1)?, "uri-lf")?;
                c.uri_fmt = Some(f);
            }
            "ver" => set_version(c, &arg(1)?),
            "hdr" => {
                let n = arg(1)?;
                let v = arg(2)?;
                let f = fmt(&v, "hdr")?;
                if f.as_literal().is_none() {
                    c.header_fmts.push((c.headers.len(), f));
                }
                c.headers.push((n.to_ascii_lowercase(), v));
                i += 1;
            }
            "body" => c.body = Some(CheckFmt::literal(&arg(1)?)),
            "body-lf" => {
                let f = fmt(&arg(1)?, "body-lf")?;
                c.body = Some(f);
            }
            "comment" => {
                arg(1)?;
            }
            other => return Err(RuleError::Unsupported(format!("http-check send {other}"))),
        }
        i += 2;
    }
    Ok(())
}

/// Parses `http-check expect ...` (`words` after `expect`): options
/// (`comment`, `min-recv`, `ok-status`, `error-status`, `tout-status`,
/// plain `on-success`/`on-error`) may stand anywhere, like in HAProxy.
pub fn parse_expect(words: &[String]) -> Result<Expect, RuleError> {
    let mut te = tcpcheck::Expect::new(tcpcheck::ExpectKind::String(Vec::new()));
    let mut comment = None;
    let mut negate = false;
    let mut kind = None;
    let mut i = 0;
    while i < words.len() {
        if words[i] == "status-code" {
            return Err(RuleError::Unsupported(
                "http-check expect status-code".into(),
            ));
        }
        if tcpcheck::expect_option("http-check", &mut te, &mut comment, words, &mut i).map_err(
            |e| match e {
                RuleError::Unsupported(n) => {
                    RuleError::Unsupported(n.replacen("tcp-check", "http-check", 1))
                }
                o => o,
            },
        )? {
            continue;
        }
        let m = words[i].as_str();
        if m == "!" {
            negate = true;
            i += 1;
            continue;
        }
        if kind.is_some() {
            return Err(RuleError::Invalid(format!(
                "'http-check expect' : unexpected '{m}'"
            )));
        }
        let need = |j: usize| {
            words.get(j).cloned().ok_or_else(|| {
                RuleError::Invalid(format!("'http-check expect {m}' expects a pattern"))
            })
        };
        kind = Some(match m {
            "status" => {
                i += 2;
                ExpectKind::Status(parse_codes(&need(i - 1)?).map_err(RuleError::Invalid)?)
            }
            "rstatus" => {
                i += 2;
                let p = need(i - 1)?;
                ExpectKind::RStatus(Regex::new(&p).map_err(|e| {
                    RuleError::Invalid(format!("'http-check expect rstatus' : {e}"))
                })?)
            }
            "string" => {
                i += 2;
                ExpectKind::String(need(i - 1)?)
            }
            "rstring" => {
                i += 2;
                let p = need(i - 1)?;
                ExpectKind::RString(regex::bytes::Regex::new(&p).map_err(|e| {
                    RuleError::Invalid(format!("'http-check expect rstring' : {e}"))
                })?)
            }
            "hdr" | "fhdr" => {
                let (h, n) = parse_hdr(m, &words[i + 1..])?;
                i += 1 + n;
                ExpectKind::Hdr(h)
            }
            other => return Err(RuleError::Unsupported(format!("http-check expect {other}"))),
        });
    }
    let kind = kind.ok_or_else(|| {
        RuleError::Invalid("'http-check expect' expects a matching method".into())
    })?;
    if te.status_expr.is_some() {
        return Err(RuleError::Unsupported(
            "http-check expect status-code".into(),
        ));
    }
    Ok(Expect {
        negate,
        kind,
        comment,
        ok_status: te.ok_status,
        err_status: te.err_status,
        tout_status: te.tout_status,
        on_success: te.on_success,
        on_error: te.on_error,
    })
}

/// `name [-m meth] <name> [value [-m meth] <value>]`; returns the match
/// and how many words it used.
fn parse_hdr(kw: &str, w: &[String]) -> Result<(HdrMatch, usize), RuleError> {
    let bad = |why: &str| RuleError::Invalid(format!("'http-check expect {kw}' : {why}"));
    let one = |w: &[String], at: usize| -> Result<(StrMatch, usize), RuleError> {
        let mut at = at;
        let mut meth = "str";
        if w.get(at).is_some_and(|x| x == "-m") {
            meth = w
                .get(at + 1)
                .map(String::as_str)
                .ok_or_else(|| bad("'-m' expects a method"))?;
            at += 2;
        }
        let p = w.get(at).cloned().ok_or_else(|| bad("missing pattern"))?;
        let m = match meth {
            "str" => StrMatch::Str(p),
            "beg" => StrMatch::Beg(p),
            "end" => StrMatch::End(p),
            "sub" => StrMatch::Sub(p),
            "reg" => StrMatch::Reg(Regex::new(&p).map_err(|e| bad(&format!("{e}")))?),
            o => {
                return Err(bad(&format!(
                    "'-m' only supports 'str', 'beg', 'end', 'sub' or 'reg', got '{o}'"
                )));
            }
        };
        Ok((m, at + 1))
    };
    if w.first().map(String::as_str) != Some("name") {
        return Err(bad("expects 'name'"));
    }
    let (name, mut at) = one(w, 1)?;
    let mut value = None;
    if w.get(at).is_some_and(|x| x == "value") {
        let (v, n) = one(w, at + 1)?;
        value = Some(v);
        at = n;
    }
    Ok((
        HdrMatch {
            name,
            value,
            full: kw == "fhdr",
        },
        at,
    ))
}

fn parse_codes(s: &str) -> Result<Vec<(u16, u16)>, String> {
    s.split(',')
        .map(|part| {
            let bad = || format!("'http-check expect status' : invalid status code '{part}'");
            let (lo, hi) = part.split_once('-').unwrap_or((part, part));
            let lo: u16 = lo.trim().parse().map_err(|_| bad())?;
            let hi: u16 = hi.trim().parse().map_err(|_| bad())?;
            Ok((lo, hi))
        })
        .collect()
}

impl HttpCheck {
    /// The request bytes. HTTP/1.1 requests get `connection: close` like
    /// HAProxy sends them; HTTP/1.0 ones carry only the configured headers
    /// (and `x-haproxy-server-state` when `state` is given).
    pub fn request_with(&self, state: Option<&str>) -> Vec<u8> {
        self.request_env(state, &Vars::default())
    }

    /// The request with log-format parts rendered against `vars`;
    /// a body gets `content-length` like HAProxy adds it.
    pub fn request_env(&self, state: Option<&str>, vars: &Vars) -> Vec<u8> {
        let env = lf::Env {
            vars: Some(vars),
            res: None,
        };
        let uri = match &self.uri_fmt {
            Some(f) => f.render_string(&env),
            None => self.uri.clone(),
        };
        let mut s = format!("{} {} {}\r\n", self.method, uri, self.version).into_bytes();
        for (i, (n, v)) in self.headers.iter().enumerate() {
            s.extend_from_slice(n.as_bytes());
            s.extend_from_slice(b": ");
            match self.header_fmts.iter().find(|(j, _)| *j == i) {
                Some((_, f)) => s.extend_from_slice(&f.render(&env)),
                None => s.extend_from_slice(v.as_bytes()),
            }
            s.extend_from_slice(b"\r\n");
        }
        if let Some(st) = state {
            s.extend_from_slice(format!("x-haproxy-server-state: {st}\r\n").as_bytes());
        }
        let body = self.body.as_ref().map(|b| b.render(&env));
        if let Some(b) = &body {
            s.extend_from_slice(format!("content-length: {}\r\n", b.len()).as_bytes());
        }
        if self.version.eq_ignore_ascii_case("HTTP/1.1")
            && !self.headers.iter().any(|(n, _)| n == "connection")
        {
            s.extend_from_slice(b"connection: close\r\n");
        }
        s.extend_from_slice(b"\r\n");
        if let Some(b) = body {
            s.extend_from_slice(&b);
        }
        s
    }

    /// The check-scope variables of one run (`http-check set-var`).
    pub fn run_vars(&self) -> Vars {
        let mut v = Vars::default();
        for a in &self.vars {
            a.run(&mut v, None);
        }
        v
    }

    /// The request without server state.
    pub fn request(&self) -> Vec<u8> {
        self.request_with(None)
    }

    /// Whether the verdict needs the body.
    pub fn needs_body(&self) -> bool {
        self.expects
            .iter()
            .any(|e| matches!(e.kind, ExpectKind::String(_) | ExpectKind::RString(_)))
    }

    /// Judges a complete (or final) response. `server_stopped` tells
    /// whether the server is DOWN (a 404 then fails as usual even with
    /// `disable-on-404`).
    pub fn judge(&self, resp: &Response, server_stopped: bool) -> CheckResult {
        self.judge_with(resp, server_stopped, &Vars::default())
    }

    /// [`Self::judge`] with the check's variables (log-format
    /// `on-success` / `on-error`).
    pub fn judge_with(&self, resp: &Response, server_stopped: bool, vars: &Vars) -> CheckResult {
        let code = resp.code;
        if self.disable_on_404 && !server_stopped && code == 404 {
            return CheckResult::new(CheckStatus::L7OkC, Some(code), "");
        }
        if self.expects.is_empty() {
            return if (200..400).contains(&code) {
                CheckResult::new(CheckStatus::L7Ok, Some(code), "")
            } else {
                CheckResult::new(CheckStatus::L7Sts, Some(code), resp.reason.clone())
            };
        }
        for e in &self.expects {
            let fail = |def: CheckStatus, desc: &str| {
                let mut info = e
                    .on_error
                    .as_ref()
                    .map_or_else(|| desc.to_string(), |f| f.render_with(&[], Some(vars)));
                if let Some(c) = &e.comment {
                    info.push_str(&format!(" comment: {c}"));
                }
                CheckResult::new(e.err_status.unwrap_or(def), Some(code), info)
            };
            let sts = || fail(CheckStatus::L7Sts, &resp.reason);
            match &e.kind {
                ExpectKind::Status(ranges) => {
                    let m = ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&code));
                    if m == e.negate {
                        return sts();
                    }
                }
                ExpectKind::RStatus(re) => {
                    if re.is_match(&code.to_string()) == e.negate {
                        return sts();
                    }
                }
                ExpectKind::Hdr(h) => {
                    if h.matches(&resp.headers) == e.negate {
                        return sts();
                    }
                }
                ExpectKind::String(_) | ExpectKind::RString(_) => {
                    if resp.body.is_empty() {
                        return fail(
                            CheckStatus::L7Rsp,
                            "HTTP content check could not find a response body",
                        );
                    }
                    let m = match &e.kind {
                        ExpectKind::String(s) => find(&resp.body, s.as_bytes()),
                        ExpectKind::RString(re) => re.is_match(&resp.body),
                        _ => false,
                    };
                    if m == e.negate {
                        return fail(
                            CheckStatus::L7Rsp,
                            if e.negate {
                                "HTTP check matched unwanted content"
                            } else {
                                "HTTP content check did not match"
                            },
                        );
                    }
                }
            }
        }
        let last = self.expects.last();
        CheckResult::new(
            last.and_then(|e| e.ok_status).unwrap_or(CheckStatus::L7Ok),
            Some(code),
            last.and_then(|e| e.on_success.as_ref())
                .map(|f| f.render_with(&[], Some(vars)))
                .unwrap_or_default(),
        )
    }
}

impl HdrMatch {
    /// Whether any header matches (values split on commas for `hdr`).
    pub fn matches(&self, headers: &[(String, String)]) -> bool {
        for (n, v) in headers {
            if !self.name.matches(n, true) {
                continue;
            }
            let Some(vm) = &self.value else {
                return true;
            };
            if self.full {
                if vm.matches(v, false) {
                    return true;
                }
            } else if v.split(',').any(|p| vm.matches(p.trim(), false)) {
                return true;
            }
        }
        false
    }
}

fn find(h: &[u8], n: &[u8]) -> bool {
    n.is_empty() || h.windows(n.len()).any(|w| w == n)
}

/// A parsed response (what the verdict needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub code: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Outcome of parsing what was received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Head (and body when needed) complete.
    Done(Response),
    /// Need more bytes.
    Partial,
    /// Not an HTTP response.
    Invalid,
}

/// Parses `buf`; `eof` says no more bytes will come. The body is wanted
/// only when `want_body`: then it ends at `content-length` or at EOF.
pub fn parse_response(buf: &[u8], want_body: bool, eof: bool) -> Parsed {
    let mut hdrs = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut hdrs);
    let head_len = match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if eof {
                Parsed::Invalid
            } else {
                Parsed::Partial
            };
        }
        Err(_) => return Parsed::Invalid,
    };
    let Some(code) = r.code else {
        return Parsed::Invalid;
    };
    let reason = r.reason.unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = r
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect();
    let clen = r
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let body = &buf[head_len..];
    if want_body && !eof {
        let complete = match clen {
            Some(n) => body.len() >= n,
            // No framing, or chunked: read to EOF (the request asked for
            // the connection to close), bounded by the buffer size.
            None => (100..200).contains(&code) || code == 204 || code == 304,
        };
        if !complete {
            return Parsed::Partial;
        }
    }
    let body = match clen {
        Some(n) => body[..n.min(body.len())].to_vec(),
        None => body.to_vec(),
    };
    Parsed::Done(Response {
        code,
        reason,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn default_request_is_options_http10() {
        // haproxy 2.6.12 sends exactly `OPTIONS / HTTP/1.0\r\n\r\n`.
        assert_eq!(from_option(&[]).request(), b"OPTIONS / HTTP/1.0\r\n\r\n");
        assert_eq!(
            from_option(&words("GET /health")).request(),
            b"GET /health HTTP/1.0\r\n\r\n"
        );
    }

    #[test]
    fn send_with_headers_like_haproxy() {
        // haproxy 2.6.12 with `http-check send meth HEAD uri /x ver HTTP/1.1
        // hdr Host foo.example` sent these bytes.
        let mut c = from_option(&[]);
        apply_send(
            &mut c,
            &words("meth HEAD uri /x ver HTTP/1.1 hdr Host foo.example"),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(c.request()).unwrap(),
            "HEAD /x HTTP/1.1\r\nhost: foo.example\r\nconnection: close\r\n\r\n"
        );
        apply_send(&mut c, &words("body x")).unwrap();
        assert!(
            String::from_utf8(c.request())
                .unwrap()
                .ends_with("content-length: 1\r\nconnection: close\r\n\r\nx")
        );
        assert!(apply_send(&mut c, &words("body-lf %[src]")).is_err());
    }

    #[test]
    fn old_version_with_headers() {
        let args = words("GET /");
        let mut c = from_option(&[
            args[0].clone(),
            args[1].clone(),
            "HTTP/1.1\r\nHost: www".into(),
        ]);
        assert_eq!(c.version, "HTTP/1.1");
        assert_eq!(c.headers, vec![("host".into(), "www".into())]);
        c = from_option(&words("GET / HTTP/1.1\\r\\nHost:www"));
        assert_eq!(c.headers, vec![("host".into(), "www".into())]);
    }

    impl HttpCheck {
        fn judge_t(&self, r: &Response) -> CheckResult {
            self.judge(r, false)
        }
    }

    fn resp(code: u16, reason: &str, body: &str) -> Response {
        Response {
            code,
            reason: reason.into(),
            headers: vec![("X-A".into(), "b, c".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn default_verdict_is_2xx_3xx() {
        let c = from_option(&[]);
        let r = c.judge_t(&resp(302, "Found", ""));
        assert_eq!((r.status, r.code), (CheckStatus::L7Ok, Some(302)));
        let r = c.judge_t(&resp(500, "Internal Server Error", ""));
        assert_eq!(r.status.name(), "L7STS");
        assert_eq!(r.info, "Internal Server Error");
    }

    #[test]
    fn expects() {
        let mut c = from_option(&[]);
        c.expects.push(parse_expect(&words("status 500")).unwrap());
        assert_eq!(c.judge_t(&resp(500, "x", "")).status, CheckStatus::L7Ok);
        let r = c.judge_t(&resp(200, "OK", ""));
        assert_eq!(
            (r.status, r.code, r.info.as_str()),
            (CheckStatus::L7Sts, Some(200), "OK")
        );

        let mut c = from_option(&[]);
        c.expects
            .push(parse_expect(&words("! rstatus ^5")).unwrap());
        assert_eq!(c.judge_t(&resp(200, "OK", "")).status, CheckStatus::L7Ok);
        assert_eq!(c.judge_t(&resp(503, "x", "")).status, CheckStatus::L7Sts);

        let mut c = from_option(&[]);
        c.expects
            .push(parse_expect(&words("string hello")).unwrap());
        assert_eq!(
            c.judge_t(&resp(200, "OK", "oh hello")).status,
            CheckStatus::L7Ok
        );
        let r = c.judge_t(&resp(500, "x", ""));
        assert_eq!(r.info, "HTTP content check could not find a response body");
        let r = c.judge_t(&resp(200, "OK", "bye"));
        assert_eq!(
            (r.status, r.info.as_str()),
            (CheckStatus::L7Rsp, "HTTP content check did not match")
        );

        let mut c = from_option(&[]);
        c.expects
            .push(parse_expect(&words("status 200-204,301")).unwrap());
        assert_eq!(c.judge_t(&resp(301, "", "")).status, CheckStatus::L7Ok);
        assert_eq!(c.judge_t(&resp(205, "", "")).status, CheckStatus::L7Sts);
    }

    #[test]
    fn unsupported_expect_forms_are_refused() {
        for w in ["custom", "string-lf %[x]"] {
            let e = parse_expect(&words(w)).unwrap_err();
            let first = w.split(' ').next().unwrap();
            assert_eq!(
                e,
                RuleError::Unsupported(format!("http-check expect {first}"))
            );
        }
        assert_eq!(
            parse_expect(&words("status 200 status-code 3")).unwrap_err(),
            RuleError::Unsupported("http-check expect status-code".into())
        );
    }

    #[test]
    fn hdr_rstring_and_options() {
        // haproxy 2.6.12: `expect hdr name x-a value c` against `X-A: b`
        // is L7STS with code 200 and info "OK".
        let mut c = from_option(&[]);
        c.expects
            .push(parse_expect(&words("hdr name x-a value c")).unwrap());
        let mut r = resp(200, "OK", "");
        r.headers = vec![("X-A".into(), "b".into())];
        let v = c.judge_t(&r);
        assert_eq!(
            (v.status, v.code, v.info.as_str()),
            (CheckStatus::L7Sts, Some(200), "OK")
        );
        // `hdr` splits values on commas, `fhdr` does not.
        assert_eq!(c.judge_t(&resp(200, "OK", "")).status, CheckStatus::L7Ok);
        let mut c = from_option(&[]);
        c.expects
            .push(parse_expect(&words("fhdr name -m beg x- value -m end c")).unwrap());
        assert_eq!(c.judge_t(&resp(200, "OK", "")).status, CheckStatus::L7Ok);
        let mut c = from_option(&[]);
        c.expects
            .push(parse_expect(&words("rstring ^n comment cc error-status L7STS")).unwrap());
        let v = c.judge_t(&resp(200, "OK", "ok"));
        assert_eq!(
            (v.status, v.info.as_str()),
            (
                CheckStatus::L7Sts,
                "HTTP content check did not match comment: cc"
            )
        );
        assert_eq!(c.judge_t(&resp(200, "OK", "no")).status, CheckStatus::L7Ok);
        // disable-on-404: conditionally passed unless the server is down.
        let mut c = from_option(&[]);
        c.disable_on_404 = true;
        let v = c.judge(&resp(404, "Not Found", ""), false);
        assert_eq!((v.status, v.code), (CheckStatus::L7OkC, Some(404)));
        assert_eq!(
            c.judge(&resp(404, "Not Found", ""), true).status,
            CheckStatus::L7Sts
        );
    }

    #[test]
    fn send_state_header_position() {
        let mut c = from_option(&[]);
        apply_send(&mut c, &words("meth GET uri /y ver HTTP/1.1 hdr Host a.b")).unwrap();
        // Captured from haproxy 2.6.12 (`http-check send-state`).
        assert_eq!(
            String::from_utf8(c.request_with(Some("UP; name=hv/s"))).unwrap(),
            "GET /y HTTP/1.1\r\nhost: a.b\r\nx-haproxy-server-state: UP; name=hv/s\r\nconnection: close\r\n\r\n"
        );
    }

    #[test]
    fn parse_response_framing() {
        let full = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert!(matches!(parse_response(full, true, false), Parsed::Done(r) if r.body == b"hello"));
        assert_eq!(parse_response(&full[..40], true, false), Parsed::Partial);
        assert!(matches!(
            parse_response(&full[..40], false, false),
            Parsed::Done(_)
        ));
        assert_eq!(
            parse_response(b"garbage\r\n\r\n", false, false),
            Parsed::Invalid
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200", false, true),
            Parsed::Invalid
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200", false, false),
            Parsed::Partial
        );
    }
}
