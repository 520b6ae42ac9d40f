//! HTTP checks: the request built from `option httpchk` and `http-check
//! send`, and the verdict on the response from `http-check expect`.
//!
//! Owns: parsing those directives (refusing, by name, the sub-forms
//! Switchyard does not implement) and evaluating a received response.
//! Must not do I/O.

use super::status::{CheckResult, CheckStatus};
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
}

/// One `http-check expect [!] <match> <pattern>`.
#[derive(Debug, Clone)]
pub struct Expect {
    pub negate: bool,
    pub kind: ExpectKind,
}

#[derive(Debug, Clone)]
pub enum ExpectKind {
    /// `status <codes>`: a comma list of codes or `low-high` ranges.
    Status(Vec<(u16, u16)>),
    /// `rstatus <regex>` on the 3-digit code.
    RStatus(Regex),
    /// `string <text>`: a substring of the body.
    String(String),
}

impl Default for HttpCheck {
    fn default() -> Self {
        HttpCheck {
            method: "OPTIONS".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into(),
            headers: Vec::new(),
            expects: Vec::new(),
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
        match k {
            "meth" => c.method = arg(1)?,
            "uri" => c.uri = arg(1)?,
            "ver" => set_version(c, &arg(1)?),
            "hdr" => {
                let n = arg(1)?;
                let v = arg(2)?;
                c.headers.push((n.to_ascii_lowercase(), v));
                i += 1;
            }
            other => return Err(RuleError::Unsupported(format!("http-check send {other}"))),
        }
        i += 2;
    }
    Ok(())
}

/// Parses `http-check expect ...` (`words` after `expect`).
pub fn parse_expect(words: &[String]) -> Result<Expect, RuleError> {
    let mut w = words.iter().map(String::as_str);
    let mut negate = false;
    let mut m = w.next().unwrap_or_default();
    if m == "!" {
        negate = true;
        m = w.next().unwrap_or_default();
    }
    let pat = w.next();
    let need = |p: Option<&str>| {
        p.map(str::to_string)
            .ok_or_else(|| RuleError::Invalid(format!("'http-check expect {m}' expects a pattern")))
    };
    let kind =
        match m {
            "status" => ExpectKind::Status(parse_codes(&need(pat)?).map_err(RuleError::Invalid)?),
            "rstatus" => {
                let p = need(pat)?;
                ExpectKind::RStatus(Regex::new(&p).map_err(|e| {
                    RuleError::Invalid(format!("'http-check expect rstatus' : {e}"))
                })?)
            }
            "string" => ExpectKind::String(need(pat)?),
            "" => {
                return Err(RuleError::Invalid(
                    "'http-check expect' expects a matching method".into(),
                ));
            }
            other => return Err(RuleError::Unsupported(format!("http-check expect {other}"))),
        };
    if let Some(extra) = w.next() {
        return Err(RuleError::Invalid(format!(
            "'http-check expect {m}' : unexpected '{extra}'"
        )));
    }
    Ok(Expect { negate, kind })
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
    /// HAProxy sends them; HTTP/1.0 ones carry only the configured headers.
    pub fn request(&self) -> Vec<u8> {
        let mut s = format!("{} {} {}\r\n", self.method, self.uri, self.version);
        for (n, v) in &self.headers {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
        if self.version.eq_ignore_ascii_case("HTTP/1.1")
            && !self.headers.iter().any(|(n, _)| n == "connection")
        {
            s.push_str("connection: close\r\n");
        }
        s.push_str("\r\n");
        s.into_bytes()
    }

    /// Whether the verdict needs the body.
    pub fn needs_body(&self) -> bool {
        self.expects
            .iter()
            .any(|e| matches!(e.kind, ExpectKind::String(_)))
    }

    /// Judges a complete (or final) response. `None` when the head is not
    /// a valid HTTP response.
    pub fn judge(&self, resp: &Response) -> CheckResult {
        let code = resp.code;
        let sts_fail = || CheckResult::new(CheckStatus::L7Sts, Some(code), resp.reason.clone());
        if self.expects.is_empty() {
            return if (200..400).contains(&code) {
                CheckResult::new(CheckStatus::L7Ok, Some(code), "")
            } else {
                sts_fail()
            };
        }
        for e in &self.expects {
            match &e.kind {
                ExpectKind::Status(ranges) => {
                    let m = ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&code));
                    if m == e.negate {
                        return sts_fail();
                    }
                }
                ExpectKind::RStatus(re) => {
                    if re.is_match(&code.to_string()) == e.negate {
                        return sts_fail();
                    }
                }
                ExpectKind::String(s) => {
                    if resp.body.is_empty() {
                        return CheckResult::new(
                            CheckStatus::L7Rsp,
                            None,
                            "HTTP content check could not find a response body",
                        );
                    }
                    let m = find(&resp.body, s.as_bytes());
                    if m == e.negate {
                        let info = if e.negate {
                            "HTTP check matched unwanted content"
                        } else {
                            "HTTP content check did not match"
                        };
                        return CheckResult::new(CheckStatus::L7Rsp, None, info);
                    }
                }
            }
        }
        CheckResult::new(CheckStatus::L7Ok, Some(code), "")
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
    Parsed::Done(Response { code, reason, body })
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
        assert!(apply_send(&mut c, &words("body x")).is_err());
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

    fn resp(code: u16, reason: &str, body: &str) -> Response {
        Response {
            code,
            reason: reason.into(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn default_verdict_is_2xx_3xx() {
        let c = from_option(&[]);
        let r = c.judge(&resp(302, "Found", ""));
        assert_eq!((r.status, r.code), (CheckStatus::L7Ok, Some(302)));
        let r = c.judge(&resp(500, "Internal Server Error", ""));
        assert_eq!(r.status.name(), "L7STS");
        assert_eq!(r.info, "Internal Server Error");
    }

    #[test]
    fn expects() {
        let mut c = from_option(&[]);
        c.expects.push(parse_expect(&words("status 500")).unwrap());
        assert_eq!(c.judge(&resp(500, "x", "")).status, CheckStatus::L7Ok);
        let r = c.judge(&resp(200, "OK", ""));
        assert_eq!(
            (r.status, r.code, r.info.as_str()),
            (CheckStatus::L7Sts, Some(200), "OK")
        );

        let mut c = from_option(&[]);
        c.expects
            .push(parse_expect(&words("! rstatus ^5")).unwrap());
        assert_eq!(c.judge(&resp(200, "OK", "")).status, CheckStatus::L7Ok);
        assert_eq!(c.judge(&resp(503, "x", "")).status, CheckStatus::L7Sts);

        let mut c = from_option(&[]);
        c.expects
            .push(parse_expect(&words("string hello")).unwrap());
        assert_eq!(
            c.judge(&resp(200, "OK", "oh hello")).status,
            CheckStatus::L7Ok
        );
        let r = c.judge(&resp(500, "x", ""));
        assert_eq!(r.info, "HTTP content check could not find a response body");
        let r = c.judge(&resp(200, "OK", "bye"));
        assert_eq!(
            (r.status, r.info.as_str()),
            (CheckStatus::L7Rsp, "HTTP content check did not match")
        );

        let mut c = from_option(&[]);
        c.expects
            .push(parse_expect(&words("status 200-204,301")).unwrap());
        assert_eq!(c.judge(&resp(301, "", "")).status, CheckStatus::L7Ok);
        assert_eq!(c.judge(&resp(205, "", "")).status, CheckStatus::L7Sts);
    }

    #[test]
    fn unsupported_expect_forms_are_refused() {
        for w in ["hdr name x", "rstring x", "min-recv 3 status 200", "custom"] {
            let e = parse_expect(&words(w)).unwrap_err();
            let first = w.split(' ').next().unwrap();
            assert_eq!(
                e,
                RuleError::Unsupported(format!("http-check expect {first}"))
            );
        }
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
