//! `tcp-check` rulesets: the rules a check runs in order (connect, send,
//! expect, comment), parsed from `tcp-check` lines, plus the shape of the
//! built-in protocol rulesets ([`super::protocols`]).
//!
//! Owns: the rule types and the parsing of user `tcp-check` lines
//! (refusing, by name, the forms Switchyard does not run: log-format
//! strings, `proto`, `via-socks4`, `set-var`, `status-code`). Must not do I/O: [`super::engine`] runs the rules.

use super::http::RuleError;
use super::lf::{self, CheckExpr, CheckFmt, VarAction, Vars};
use super::status::CheckStatus;
use std::net::{IpAddr, SocketAddr};

/// Which family a ruleset belongs to: changes the info texts like HAProxy's
/// `TCPCHK_RULES_*_CHK` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// User `tcp-check` rules: generic "TCPCHK ..." texts.
    TcpCheck,
    Redis,
    Mysql,
    Pgsql,
    Smtp,
    Ldap,
    SslHello,
    Spop,
    Agent,
}

/// A whole ruleset.
#[derive(Debug, Clone)]
pub struct Ruleset {
    pub proto: Proto,
    /// Rules in order; the first non-comment one is always a connect (an
    /// implicit one is added when the configuration has none).
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    /// HAProxy's step id (`at step N`): 0 for the implicit connect.
    pub step: usize,
    pub comment: Option<String>,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    Connect(Connect),
    Send(Send),
    Expect(Box<Expect>),
    /// `set-var(...)`, `set-var-fmt(...)`, `unset-var(...)`.
    Var(VarAction),
    Comment,
}

/// `tcp-check connect` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connect {
    pub port: Option<u16>,
    pub addr: Option<SocketAddr>,
    pub send_proxy: bool,
    pub linger: bool,
    /// `default`: use the server's check settings (`check-send-proxy`).
    pub default: bool,
    /// Added by Switchyard because the ruleset starts with another rule.
    pub implicit: bool,
    /// `ssl`: TLS over this connection, with the server's SSL settings.
    pub ssl: bool,
    /// `sni <name>` (with `ssl`).
    pub sni: Option<String>,
    /// `alpn <list>` (with `ssl`).
    pub alpn: Option<Vec<String>>,
}

/// What a send rule writes.
#[derive(Debug, Clone)]
pub enum Send {
    Bytes(Vec<u8>),
    /// `send-lf` / `send-binary-lf` (`binary`: the result is hex).
    Lf {
        fmt: CheckFmt,
        binary: bool,
    },
    /// The SSLv3 client hello of `option ssl-hello-chk` (carries the time).
    SslHello,
}

/// One expect rule.
#[derive(Debug, Clone)]
pub struct Expect {
    pub negate: bool,
    pub kind: ExpectKind,
    /// `min-recv`; `None` is HAProxy's -1 (wait while it does not match).
    pub min_recv: Option<usize>,
    pub ok_status: Option<CheckStatus>,
    pub err_status: Option<CheckStatus>,
    pub tout_status: Option<CheckStatus>,
    pub on_success: Option<Fmt>,
    pub on_error: Option<Fmt>,
    /// `status-code res.payload(0,3)` (the SMTP reply code).
    pub code_from_payload: bool,
    /// `status-code <expr>`.
    pub status_expr: Option<CheckExpr>,
}

#[derive(Debug, Clone)]
pub enum ExpectKind {
    String(Vec<u8>),
    RString(regex::bytes::Regex),
    Binary(Vec<u8>),
    /// Matched against the upper-case hex dump of the buffer.
    RBinary(regex::Regex),
    /// `string-lf <fmt>`.
    StringLf(CheckFmt),
    /// `binary-lf <hexfmt>`.
    BinaryLf(CheckFmt),
    Custom(Custom),
}

/// The built-in parsers of protocol checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Custom {
    MysqlInitHandshake,
    MysqlOk,
    LdapBindResponse,
    SpopAgentHello,
    AgentReply,
}

/// The `on-success`/`on-error` forms: plain text, the response payload
/// from an offset (`res.payload(N,0)`, protocol checks) optionally
/// left-trimmed of blanks and cut at the first CR/LF, or a log-format.
#[derive(Debug, Clone)]
pub enum Fmt {
    Text(String),
    Lf(CheckFmt),
    Payload {
        offset: usize,
        ltrim: bool,
        cut_crlf: bool,
    },
}

impl Fmt {
    pub fn render(&self, buf: &[u8]) -> String {
        self.render_with(buf, None)
    }

    /// Renders with the check's variables (log-format forms).
    pub fn render_with(&self, buf: &[u8], vars: Option<&Vars>) -> String {
        match self {
            Fmt::Text(t) => t.clone(),
            Fmt::Lf(f) => f.render_string(&lf::Env {
                vars,
                res: Some(buf),
            }),
            Fmt::Payload {
                offset,
                ltrim,
                cut_crlf,
            } => {
                let mut b = buf.get(*offset..).unwrap_or_default();
                if *ltrim {
                    while let [b' ', rest @ ..] = b {
                        b = rest;
                    }
                }
                if *cut_crlf && let Some(i) = b.iter().position(|&c| c == b'\r' || c == b'\n') {
                    b = &b[..i];
                }
                String::from_utf8_lossy(b).into_owned()
            }
        }
    }
}

impl Expect {
    pub fn new(kind: ExpectKind) -> Self {
        Expect {
            negate: false,
            kind,
            min_recv: None,
            ok_status: None,
            err_status: None,
            tout_status: None,
            on_success: None,
            on_error: None,
            code_from_payload: false,
            status_expr: None,
        }
    }
}

impl Ruleset {
    /// Builds a ruleset from rules numbered by the caller, adding the
    /// implicit connect when the first real rule is not a connect.
    pub fn new(proto: Proto, mut rules: Vec<Rule>) -> Self {
        let first = rules
            .iter()
            .find(|r| !matches!(r.action, Action::Comment | Action::Var(_)));
        if !matches!(first.map(|r| &r.action), Some(Action::Connect(_))) {
            rules.insert(
                0,
                Rule {
                    step: 0,
                    comment: None,
                    action: Action::Connect(Connect {
                        default: true,
                        implicit: true,
                        ..Connect::default()
                    }),
                },
            );
        }
        Ruleset { proto, rules }
    }

    /// Whether any connect rule asks for `linger`/`send-proxy` etc. is
    /// irrelevant here; this tells if the ruleset ever sends PROXY.
    pub fn first_connect(&self) -> Option<&Connect> {
        self.rules.iter().find_map(|r| match &r.action {
            Action::Connect(c) => Some(c),
            _ => None,
        })
    }
}

fn unsupported(s: impl Into<String>) -> RuleError {
    RuleError::Unsupported(s.into())
}

fn invalid(s: impl Into<String>) -> RuleError {
    RuleError::Invalid(s.into())
}

/// Parses the user `tcp-check` lines (`words` without the leading
/// `tcp-check`), numbering steps like HAProxy (comments count).
pub fn parse_lines(lines: &[&[String]]) -> Result<Ruleset, RuleError> {
    let mut rules = Vec::new();
    for (i, w) in lines.iter().enumerate() {
        let step = i + 1;
        let sub = w.first().map(String::as_str).unwrap_or_default();
        let rule = match sub {
            "connect" => {
                if rules.iter().any(|r: &Rule| {
                    !matches!(
                        r.action,
                        Action::Comment | Action::Connect(_) | Action::Var(_)
                    )
                }) && !rules
                    .iter()
                    .any(|r: &Rule| matches!(r.action, Action::Connect(_)))
                {
                    return Err(invalid(
                        "'tcp-check connect' : first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset.",
                    ));
                }
                let (c, comment) = parse_connect("tcp-check", &w[1..])?;
                Rule {
                    step,
                    comment,
                    action: Action::Connect(c),
                }
            }
            "send" | "send-binary" | "send-lf" | "send-binary-lf" => {
                let (s, comment) = parse_send(sub, &w[1..])?;
                Rule {
                    step,
                    comment,
                    action: Action::Send(s),
                }
            }
            "expect" => {
                let (e, comment) = parse_expect(&w[1..])?;
                Rule {
                    step,
                    comment,
                    action: Action::Expect(Box::new(e)),
                }
            }
            "comment" => {
                let c = w.get(1).ok_or_else(|| {
                    invalid("'tcp-check comment' : expects a string as argument.")
                })?;
                Rule {
                    step,
                    comment: Some(c.clone()),
                    action: Action::Comment,
                }
            }
            v if v.starts_with("set-var") || v.starts_with("unset-var") => {
                let a = lf::parse_var_action("tcp-check", w)
                    .map_err(|(u, e)| if u { unsupported(e) } else { invalid(e) })?;
                Rule {
                    step,
                    comment: None,
                    action: Action::Var(a),
                }
            }
            other => return Err(unsupported(format!("tcp-check {other}"))),
        };
        rules.push(rule);
    }
    Ok(Ruleset::new(Proto::TcpCheck, rules))
}

/// `connect` options shared by `tcp-check connect` and `http-check
/// connect`; returns the options and the comment.
pub fn parse_connect(kw: &str, w: &[String]) -> Result<(Connect, Option<String>), RuleError> {
    let mut c = Connect::default();
    let mut comment = None;
    let mut i = 0;
    while i < w.len() {
        let a = w[i].as_str();
        let arg = || {
            w.get(i + 1)
                .cloned()
                .ok_or_else(|| invalid(format!("'{kw} connect' : '{a}' expects an argument.")))
        };
        match a {
            "default" => c.default = true,
            "linger" => c.linger = true,
            "send-proxy" => c.send_proxy = true,
            "comment" => {
                comment = Some(arg()?);
                i += 1;
            }
            "port" => {
                let v = arg()?;
                let p =
                    v.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(|| {
                        unsupported(format!("{kw} connect port <sample expression>"))
                    })?;
                c.port = Some(p);
                i += 1;
            }
            "addr" => {
                let v = arg()?;
                c.addr = Some(parse_addr(&v).ok_or_else(|| {
                    invalid(format!("'{kw} connect' : 'addr' : invalid address '{v}'."))
                })?);
                i += 1;
            }
            "ssl" => c.ssl = true,
            "sni" => {
                c.sni = Some(arg()?);
                i += 1;
            }
            "alpn" => {
                c.alpn = Some(crate::tls::client::parse_alpn(&arg()?));
                i += 1;
            }
            "proto" | "via-socks4" => {
                return Err(unsupported(format!("{kw} connect {a}")));
            }
            other => {
                return Err(invalid(format!(
                    "'{kw} connect' : expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '{other}' as argument."
                )));
            }
        }
        i += 1;
    }
    Ok((c, comment))
}

/// `ip`, `ip:port`, `[v6]:port`; the port 0 when absent.
fn parse_addr(v: &str) -> Option<SocketAddr> {
    if let Ok(sa) = v.parse::<SocketAddr>() {
        return Some(sa);
    }
    let h = v.trim_start_matches('[').trim_end_matches(']');
    h.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 0))
}

fn parse_send(kind: &str, w: &[String]) -> Result<(Send, Option<String>), RuleError> {
    let data = w
        .first()
        .ok_or_else(|| invalid(format!("'tcp-check {kind}' expects a string as argument")))?;
    let mut comment = None;
    let mut i = 1;
    while i < w.len() {
        if w[i] == "comment" {
            comment = Some(w.get(i + 1).cloned().ok_or_else(|| {
                invalid(format!(
                    "'tcp-check {kind}' : 'comment' expects a string as argument."
                ))
            })?);
            i += 2;
        } else {
            return Err(invalid(format!(
                "'tcp-check {kind}' : expects 'comment' but got '{}' as argument.",
                w[i]
            )));
        }
    }
    let lf = kind.ends_with("-lf");
    if lf {
        let fmt =
            CheckFmt::parse(data).map_err(|e| unsupported(format!("tcp-check {kind} {e}")))?;
        let binary = kind.starts_with("send-binary");
        return Ok(match fmt.as_literal() {
            Some(b) if !binary => (Send::Bytes(b), comment),
            _ => (Send::Lf { fmt, binary }, comment),
        });
    }
    let bytes = if kind.starts_with("send-binary") {
        parse_hex(data).ok_or_else(|| {
            invalid(format!(
                "'tcp-check {kind}' : '{data}' invalid binary string."
            ))
        })?
    } else {
        data.as_bytes().to_vec()
    };
    Ok((Send::Bytes(bytes), comment))
}

/// HAProxy's `parse_binary` for hex strings.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Parses a plain `on-success`/`on-error` text; log-format tags are
/// refused.
fn parse_fmt(kw: &str, v: &str) -> Result<Fmt, RuleError> {
    let f = CheckFmt::parse(v).map_err(|e| unsupported(format!("expect {kw} {e}")))?;
    Ok(match f.as_literal() {
        Some(t) => Fmt::Text(String::from_utf8_lossy(&t).into_owned()),
        None => Fmt::Lf(f),
    })
}

/// The options every `expect` accepts; returns `Ok(true)` when `w[*i]`
/// was one (and advances `i` past its argument).
pub fn expect_option(
    kw: &str,
    e: &mut Expect,
    comment: &mut Option<String>,
    w: &[String],
    i: &mut usize,
) -> Result<bool, RuleError> {
    let a = w[*i].as_str();
    let arg = || {
        w.get(*i + 1)
            .cloned()
            .ok_or_else(|| invalid(format!("'{kw} expect' : '{a}' expects an argument.")))
    };
    let status = |v: &str, allowed: &[&str]| -> Result<CheckStatus, RuleError> {
        if !allowed.contains(&v) {
            return Err(invalid(format!(
                "'{kw} expect' : '{a}' only supports {}, got '{v}'.",
                allowed.join(", ")
            )));
        }
        CheckStatus::from_name(v).ok_or_else(|| invalid(format!("unknown status '{v}'")))
    };
    match a {
        "min-recv" => {
            let v = arg()?;
            let n: i64 = v
                .parse()
                .map_err(|_| invalid(format!("'{kw} expect' : invalid 'min-recv' '{v}'.")))?;
            e.min_recv = usize::try_from(n).ok();
        }
        "comment" => *comment = Some(arg()?),
        "ok-status" => {
            e.ok_status = Some(status(&arg()?, &["L7OK", "L7OKC", "L6OK", "L4OK"])?);
        }
        "error-status" => {
            e.err_status = Some(status(&arg()?, &["L7RSP", "L7STS", "L6RSP", "L4CON"])?);
        }
        "tout-status" => {
            e.tout_status = Some(status(&arg()?, &["L7TOUT", "L6TOUT", "L4TOUT"])?);
        }
        "on-success" => e.on_success = Some(parse_fmt("on-success", &arg()?)?),
        "on-error" => e.on_error = Some(parse_fmt("on-error", &arg()?)?),
        "status-code" => {
            let v = arg()?;
            e.status_expr = Some(
                CheckExpr::parse(&v)
                    .map_err(|x| unsupported(format!("{kw} expect status-code {x}")))?,
            );
        }
        _ => return Ok(false),
    }
    *i += 2;
    Ok(true)
}

/// `tcp-check expect ...` (words after `expect`).
pub fn parse_expect(w: &[String]) -> Result<(Expect, Option<String>), RuleError> {
    let mut e = Expect::new(ExpectKind::String(Vec::new()));
    let mut comment = None;
    let mut kind = None;
    let mut i = 0;
    while i < w.len() {
        if expect_option("tcp-check", &mut e, &mut comment, w, &mut i)? {
            continue;
        }
        let a = w[i].as_str();
        let (neg, m) = match a.strip_prefix('!') {
            Some("") => {
                e.negate = true;
                i += 1;
                continue;
            }
            Some(rest) => (true, rest),
            None => (false, a),
        };
        if kind.is_some() {
            return Err(invalid(format!("'tcp-check expect' : unexpected '{a}'.")));
        }
        let pat = w.get(i + 1).ok_or_else(|| {
            invalid(format!(
                "'tcp-check expect' : '{m}' expects <pattern> as an argument."
            ))
        })?;
        e.negate |= neg;
        kind = Some(match m {
            "string" => ExpectKind::String(pat.as_bytes().to_vec()),
            "binary" => ExpectKind::Binary(parse_hex(pat).ok_or_else(|| {
                invalid(format!(
                    "'tcp-check expect' : '{pat}' invalid binary string."
                ))
            })?),
            "rstring" => ExpectKind::RString(
                regex::bytes::Regex::new(pat)
                    .map_err(|e| invalid(format!("'tcp-check expect' : {e}")))?,
            ),
            "rbinary" => ExpectKind::RBinary(
                regex::Regex::new(pat).map_err(|e| invalid(format!("'tcp-check expect' : {e}")))?,
            ),
            "string-lf" | "binary-lf" => {
                let f = CheckFmt::parse(pat)
                    .map_err(|x| unsupported(format!("tcp-check expect {m} {x}")))?;
                if m == "string-lf" {
                    ExpectKind::StringLf(f)
                } else {
                    ExpectKind::BinaryLf(f)
                }
            }
            other => {
                return Err(invalid(format!(
                    "'tcp-check expect' : expects 'string', 'rstring', 'string-lf', 'binary', 'rbinary', 'binary-lf' but got '{other}' as argument."
                )));
            }
        });
        i += 2;
    }
    e.kind = kind.ok_or_else(|| {
        invalid("'tcp-check expect' : expects a pattern type ('string', 'rstring', 'binary', 'rbinary', ...).")
    })?;
    Ok((e, comment))
}

/// HAProxy's upper-case hex dump the `rbinary` regexes run on.
pub fn hex_dump(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02X}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn steps_and_implicit_connect() {
        // haproxy 2.6.12: `send PING` + `expect string PONG` fails "at
        // step 2"; a refused implicit connect is the "initial connection
        // step".
        let a = w("send PING");
        let b = w("expect string PONG");
        let rs = parse_lines(&[&a, &b]).unwrap();
        assert_eq!(rs.rules.len(), 3);
        assert!(matches!(&rs.rules[0].action, Action::Connect(c) if c.implicit));
        assert_eq!(rs.rules[0].step, 0);
        assert_eq!(rs.rules[2].step, 2);
        let c = w("connect port 8080 linger comment hi");
        let rs = parse_lines(&[&c]).unwrap();
        assert_eq!(rs.rules.len(), 1);
        let Action::Connect(cn) = &rs.rules[0].action else {
            panic!()
        };
        assert_eq!((cn.port, cn.linger, cn.implicit), (Some(8080), true, false));
        assert_eq!(rs.rules[0].comment.as_deref(), Some("hi"));
    }

    #[test]
    fn expect_forms() {
        let (e, c) = parse_expect(&w("! string +OK comment x min-recv 3")).unwrap();
        assert!(e.negate);
        assert_eq!(e.min_recv, Some(3));
        assert_eq!(c.as_deref(), Some("x"));
        let (e, _) = parse_expect(&w("!rstring ^E error-status L7STS")).unwrap();
        assert!(e.negate && matches!(e.kind, ExpectKind::RString(_)));
        assert_eq!(e.err_status, Some(CheckStatus::L7Sts));
        let (e, _) = parse_expect(&w("binary 2d4f4b")).unwrap();
        assert!(matches!(e.kind, ExpectKind::Binary(ref b) if b == b"-OK"));
        assert!(parse_expect(&w("binary 2d4")).is_err());
        assert!(parse_expect(&w("string")).is_err());
        assert!(matches!(
            parse_expect(&w("string-lf %[x]")),
            Err(RuleError::Unsupported(_))
        ));
        let (e, _) = parse_expect(&w(
            "string x on-error %[res.payload(0,2)] status-code res.len",
        ))
        .unwrap();
        assert_eq!(
            e.on_error.map(|f| f.render(b"ab-cd")),
            Some("ab".to_string())
        );
        assert!(e.status_expr.is_some());
        assert!(matches!(
            parse_expect(&w("string x on-error %[src]")),
            Err(RuleError::Unsupported(_))
        ));
        let (e, _) = parse_expect(&w("string-lf %[str(ab),upper]")).unwrap();
        assert!(matches!(e.kind, ExpectKind::StringLf(_)));
        assert!(parse_expect(&w("string x ok-status L7STS")).is_err());
    }

    #[test]
    fn refusals_by_name() {
        for (l, name) in [
            ("connect proto h1", "tcp-check connect proto"),
            (
                "set-var(txn.x) str(a)",
                "tcp-check set-var(txn.x) (no such scope in checks)",
            ),
            ("send-lf %[src]", "tcp-check send-lf sample fetch 'src'"),
        ] {
            let a = w(l);
            assert_eq!(
                parse_lines(&[&a]).unwrap_err(),
                RuleError::Unsupported(name.into())
            );
        }
    }

    #[test]
    fn fmt_payload() {
        let f = Fmt::Payload {
            offset: 4,
            ltrim: true,
            cut_crlf: true,
        };
        assert_eq!(f.render(b"554  go away\r\nmore"), "go away");
        assert_eq!(f.render(b"55"), "");
        assert_eq!(hex_dump(&[0x52, 0x0a]), "520A");
        assert_eq!(parse_hex("300C"), Some(vec![0x30, 0x0c]));
    }
}
