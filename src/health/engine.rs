//! Runs one tcp-check ruleset against a server: HAProxy's `tcpcheck_main`
//! reduced to what Switchyard supports.
//!
//! Owns: connecting (with an optional PROXY v1 line), sending, reading
//! into one bounded buffer (`tune.bufsize`, 16384 bytes) and evaluating
//! expect rules, with HAProxy's status codes and info texts, including
//! the ` at step N of tcp-check (...)` suffixes of connection errors and
//! timeouts. Must not change any state: it returns a [`Finish`].

use super::conn::{self, BoxIo, Open};
use super::lf::{self, Vars};
use super::protocols::{self, CustomEval};
use super::ssl::CheckTls;
use super::status::{CheckResult, CheckStatus};
use super::tcpcheck::{Action, Connect, Custom, Expect, ExpectKind, Proto, Rule, Ruleset, Send};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// HAProxy reads check responses into one buffer of `tune.bufsize`.
pub const BUFSIZE: usize = 16384;

/// Where and how long a check may run.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The default connect address (server address with `addr`/`port`).
    pub target: SocketAddr,
    pub inter: Duration,
    pub timeout_connect: Option<Duration>,
    pub timeout_check: Option<Duration>,
    /// `check-send-proxy`: a PROXY line on `default` connects.
    pub send_proxy: bool,
    /// TLS connectors (`check-ssl`, `connect ssl`).
    pub tls: Option<Arc<CheckTls>>,
    /// `source`: the local address to connect from.
    pub source: Option<SocketAddr>,
}

impl Ctx {
    /// HAProxy: connecting gets `inter`, or min(`timeout connect`,
    /// `inter`) when `timeout check` is set.
    pub fn connect_timeout(&self) -> Duration {
        match self.timeout_check {
            Some(_) => self
                .timeout_connect
                .map_or(self.inter, |c| c.min(self.inter)),
            None => self.inter,
        }
    }

    /// After connecting: `timeout check` from now, else what is left of
    /// `inter` since the start.
    pub fn deadline_after_connect(&self, start: Instant) -> Instant {
        match self.timeout_check {
            Some(t) => Instant::now() + t,
            None => start + self.inter,
        }
    }
}

/// How a ruleset ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Done(CheckResult),
    /// The agent's reply line (`None`: the agent closed before a full
    /// line), to be applied by the caller.
    AgentLine(Option<String>),
}

/// The PROXY v1 line sent when the socket addresses are unknown.
pub const PROXY_V1: &[u8] = b"PROXY UNKNOWN\r\n";

/// Runs `rs`; the duration is filled in.
pub async fn run(rs: &Ruleset, ctx: &Ctx) -> Finish {
    let start = Instant::now();
    let mut f = Runner::new(rs, ctx, start).go().await;
    if let Finish::Done(r) = &mut f {
        r.duration = Some(Duration::from_millis(start.elapsed().as_millis() as u64));
    }
    f
}

/// The OS error text without Rust's " (os error N)" suffix, as HAProxy
/// prints `strerror()`.
pub fn os_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

struct Runner<'a> {
    rs: &'a Ruleset,
    ctx: &'a Ctx,
    start: Instant,
    deadline: Instant,
    stream: Option<BoxIo>,
    /// The current connection runs TLS (L6OK instead of L4OK).
    tls: bool,
    buf: Vec<u8>,
    eof: bool,
    /// The rule being evaluated (for error texts).
    cur: usize,
    /// `check.` / `sess.` variables of this run.
    vars: Vars,
}

enum Step {
    Continue,
    Wait,
    Stop(Finish),
}

impl<'a> Runner<'a> {
    fn new(rs: &'a Ruleset, ctx: &'a Ctx, start: Instant) -> Self {
        Runner {
            rs,
            ctx,
            start,
            deadline: start + ctx.inter,
            stream: None,
            tls: false,
            buf: Vec::new(),
            eof: false,
            cur: 0,
            vars: Vars::default(),
        }
    }

    fn tcp(&self) -> bool {
        self.rs.proto == Proto::TcpCheck
    }

    /// HAProxy's `chk_report_conn_err` suffix for user tcp-checks.
    fn where_text(&self) -> String {
        if !self.tcp() {
            return String::new();
        }
        let Some(r) = self.rs.rules.get(self.cur) else {
            return String::new();
        };
        if r.step == 0 {
            return " at initial connection step of tcp-check".into();
        }
        let mut s = format!(" at step {} of tcp-check", r.step);
        match &r.action {
            Action::Connect(c) => match c.port {
                Some(p) => s.push_str(&format!(" (connect port {p})")),
                None => s.push_str(" (connect)"),
            },
            Action::Send(_) => s.push_str(" (send)"),
            Action::Expect(e) => match &e.kind {
                ExpectKind::String(d) => s.push_str(&format!(
                    " (expect string '{}')",
                    String::from_utf8_lossy(d)
                )),
                ExpectKind::Binary(d) => s.push_str(&format!(
                    " (expect binary '{}')",
                    String::from_utf8_lossy(d)
                )),
                ExpectKind::RString(_) => s.push_str(" (expect regex)"),
                ExpectKind::RBinary(_) => s.push_str(" (expect binary regex)"),
                ExpectKind::StringLf(_) => s.push_str(" (expect log-format string)"),
                ExpectKind::BinaryLf(_) => s.push_str(" (expect log-format binary)"),
                ExpectKind::Custom(_) => s.push_str(" (expect custom function)"),
            },
            Action::Comment | Action::Var(_) => {}
        }
        if let Some(c) = &r.comment {
            s.push_str(&format!(" comment: '{c}'"));
        }
        s
    }

    fn done(status: CheckStatus, code: Option<u16>, info: impl Into<String>) -> Finish {
        Finish::Done(CheckResult::new(status, code, info))
    }

    fn timeout_result(&self) -> Finish {
        let st = match self.rs.rules.get(self.cur).map(|r| &r.action) {
            Some(Action::Expect(e)) => e.tout_status.unwrap_or(CheckStatus::L7Tout),
            _ => CheckStatus::L7Tout,
        };
        Self::done(st, None, self.where_text())
    }

    fn io_error(&self, e: &std::io::Error) -> Finish {
        Self::done(
            CheckStatus::SockErr,
            None,
            format!("{}{}", os_reason(e), self.where_text()),
        )
    }

    async fn go(mut self) -> Finish {
        let mut must_read = true;
        let mut last: Option<usize> = None;
        for i in 0..self.rs.rules.len() {
            self.cur = i;
            let rule = &self.rs.rules[i];
            match &rule.action {
                Action::Comment => continue,
                Action::Var(v) => {
                    v.run(&mut self.vars, Some(&self.buf));
                    continue;
                }
                Action::Connect(c) => {
                    if let Some(f) = self.connect(c).await {
                        return f;
                    }
                    must_read = true;
                }
                Action::Send(s) => {
                    if let Some(f) = self.send(s).await {
                        return f;
                    }
                    must_read = true;
                }
                Action::Expect(e) => {
                    if must_read {
                        if let Some(f) = self.recv(rule, e).await {
                            return f;
                        }
                        must_read = false;
                    }
                    loop {
                        let last_read = self.eof || self.buf.len() >= BUFSIZE;
                        match self.eval(rule, e, last_read) {
                            Step::Continue => break,
                            Step::Stop(f) => return f,
                            Step::Wait if last_read => {
                                // Nothing more can come: judge as is.
                                return self.timeout_result();
                            }
                            Step::Wait => {
                                if let Some(f) = self.read_more().await {
                                    return f;
                                }
                            }
                        }
                    }
                }
            }
            last = Some(i);
        }
        self.all_passed(last)
    }

    /// All rules passed: the verdict depends on the last rule run.
    fn all_passed(&self, last: Option<usize>) -> Finish {
        let tcp = self.tcp();
        match last.map(|i| &self.rs.rules[i].action) {
            Some(Action::Expect(e)) => {
                let info = match &e.on_success {
                    Some(f) => f.render_with(&self.buf, Some(&self.vars)),
                    None if tcp => "(tcp-check)".into(),
                    None => String::new(),
                };
                let code = if e.code_from_payload {
                    payload_code(&self.buf)
                } else {
                    self.status_code(e).or(Some(0))
                };
                Self::done(e.ok_status.unwrap_or(CheckStatus::L7Ok), code, info)
            }
            Some(Action::Connect(c)) => Self::done(
                if self.tls {
                    CheckStatus::L6Ok
                } else {
                    CheckStatus::L4Ok
                },
                None,
                if c.implicit { "" } else { "(tcp-check)" },
            ),
            _ => Self::done(CheckStatus::L7Ok, Some(0), "(tcp-check)"),
        }
    }

    async fn connect(&mut self, c: &Connect) -> Option<Finish> {
        self.stream = None;
        self.buf.clear();
        self.eof = false;
        let mut addr = self.ctx.target;
        if let Some(a) = c.addr {
            addr.set_ip(a.ip());
            if a.port() != 0 {
                addr.set_port(a.port());
            }
        }
        if let Some(p) = c.port {
            addr.set_port(p);
        }
        let tls = self
            .ctx
            .tls
            .as_deref()
            .and_then(|t| t.for_connect(self.cur, c));
        let o = Open {
            target: addr,
            send_proxy: c.send_proxy
                || (c.default && self.ctx.send_proxy && self.rs.proto != Proto::Agent),
            linger: c.linger,
            tls,
        };
        match conn::open(self.ctx, &o, Some(self.deadline)).await {
            Err(f) => Some(Self::done(
                f.status,
                None,
                format!("{}{}", f.info, self.where_text()),
            )),
            Ok(s) => {
                self.tls = tls.is_some();
                self.stream = Some(s);
                self.deadline = self.ctx.deadline_after_connect(self.start);
                None
            }
        }
    }

    async fn write(&mut self, data: &[u8]) -> Option<Finish> {
        let rest = self.deadline.saturating_duration_since(Instant::now());
        let Some(s) = self.stream.as_mut() else {
            return Some(Self::done(CheckStatus::SockErr, None, self.where_text()));
        };
        match tokio::time::timeout(rest, s.write_all(data)).await {
            Err(_) => Some(self.timeout_result()),
            Ok(Err(e)) => Some(self.io_error(&e)),
            Ok(Ok(())) => None,
        }
    }

    async fn send(&mut self, s: &Send) -> Option<Finish> {
        let data = match s {
            Send::Bytes(b) => b.clone(),
            Send::Lf { fmt, binary } => {
                let env = lf::Env {
                    vars: Some(&self.vars),
                    res: Some(&self.buf),
                };
                let text = fmt.render(&env);
                if text.is_empty() {
                    // HAProxy sends nothing and goes on.
                    self.buf.clear();
                    return None;
                }
                if *binary {
                    match super::tcpcheck::parse_hex(&String::from_utf8_lossy(&text)) {
                        Some(b) => b,
                        None => {
                            return Some(Self::done(
                                CheckStatus::L7Rsp,
                                None,
                                format!(
                                    "tcp-check send : failed to build log-format string at step {}",
                                    self.rs.rules[self.cur].step
                                ),
                            ));
                        }
                    }
                } else {
                    text
                }
            }
            Send::SslHello => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as u32);
                protocols::ssl_hello_bytes(now)
            }
        };
        self.buf.clear();
        if data.len() >= BUFSIZE {
            return Some(Self::done(
                CheckStatus::L7Rsp,
                None,
                format!(
                    "tcp-check send : string too large ({}) for buffer size ({BUFSIZE}) at step {}",
                    data.len(),
                    self.rs.rules[self.cur].step
                ),
            ));
        }
        self.write(&data).await
    }

    /// One read; `Ok(0)` is EOF.
    async fn read_once(&mut self) -> Result<usize, Finish> {
        if self.eof || self.buf.len() >= BUFSIZE {
            return Ok(0);
        }
        let rest = self.deadline.saturating_duration_since(Instant::now());
        let room = BUFSIZE - self.buf.len();
        let mut tmp = vec![0u8; room.min(8192)];
        let Some(s) = self.stream.as_mut() else {
            return Ok(0);
        };
        match tokio::time::timeout(rest, s.read(&mut tmp)).await {
            Err(_) => Err(self.timeout_result()),
            Ok(Err(e)) => {
                if self.buf.is_empty() {
                    Err(self.io_error(&e))
                } else {
                    // Data then an error (often an RST): judge the data.
                    self.eof = true;
                    Ok(0)
                }
            }
            Ok(Ok(0)) => {
                self.eof = true;
                Ok(0)
            }
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&tmp[..n]);
                Ok(n)
            }
        }
    }

    /// The first read of an expect after a connect or a send.
    async fn recv(&mut self, rule: &Rule, e: &Expect) -> Option<Finish> {
        if !self.buf.is_empty() {
            return None;
        }
        match self.read_once().await {
            Err(f) => Some(f),
            Ok(0) if self.buf.is_empty() => {
                let mut info = format!("TCPCHK got an empty response at step {}", rule.step);
                if let Some(c) = &rule.comment {
                    info.push_str(&format!(" comment: '{c}'"));
                }
                Some(Self::done(
                    e.err_status.unwrap_or(CheckStatus::L7Rsp),
                    None,
                    info,
                ))
            }
            Ok(_) => None,
        }
    }

    async fn read_more(&mut self) -> Option<Finish> {
        self.read_once().await.err()
    }

    fn eval(&self, rule: &Rule, e: &Expect, last_read: bool) -> Step {
        let buf = &self.buf;
        if let ExpectKind::Custom(c) = &e.kind {
            return self.eval_custom(*c, last_read);
        }
        if !last_read {
            if let ExpectKind::String(d) | ExpectKind::Binary(d) = &e.kind
                && buf.len() < d.len()
            {
                return Step::Wait;
            }
            if let Some(m) = e.min_recv
                && m > 0
                && buf.len() < m
            {
                return Step::Wait;
            }
        }
        let env = lf::Env {
            vars: Some(&self.vars),
            res: Some(buf),
        };
        // Log-format patterns are evaluated on each look, like HAProxy.
        let lf_pat = match &e.kind {
            ExpectKind::StringLf(f) | ExpectKind::BinaryLf(f) => {
                let r = f.render(&env);
                let binary = matches!(e.kind, ExpectKind::BinaryLf(_));
                Some(if r.is_empty() {
                    Err("log-format string evaluated to an empty string")
                } else if binary {
                    super::tcpcheck::parse_hex(&String::from_utf8_lossy(&r)).ok_or(
                        "Failed to parse hexastring resulting of eval of a log-format string",
                    )
                } else {
                    Ok(r)
                })
            }
            _ => None,
        };
        if let Some(Err(desc)) = &lf_pat {
            return Step::Stop(self.expect_error(rule, e, desc.to_string()));
        }
        let matched = match (&e.kind, &lf_pat) {
            (_, Some(Ok(p))) => {
                if buf.len() < p.len() && !last_read {
                    return Step::Wait;
                }
                buf.len() >= p.len() && contains(buf, p)
            }
            (ExpectKind::String(d) | ExpectKind::Binary(d), _) => contains(buf, d),
            (ExpectKind::RString(re), _) => re.is_match(buf),
            (ExpectKind::RBinary(re), _) => re.is_match(&super::tcpcheck::hex_dump(buf)),
            _ => false,
        };
        if !matched && !last_read && e.min_recv.is_none() {
            return Step::Wait;
        }
        if matched != e.negate {
            return Step::Continue;
        }
        let info = match &e.on_error {
            Some(f) => f.render_with(buf, Some(&self.vars)),
            None if self.tcp() => {
                let mut s = String::from(if matched {
                    "TCPCHK matched unwanted content"
                } else {
                    "TCPCHK did not match content"
                });
                let what = match &e.kind {
                    ExpectKind::String(d) => format!(" '{}'", String::from_utf8_lossy(d)),
                    ExpectKind::Binary(_) => " (binary)".into(),
                    ExpectKind::RString(_) => " (regex)".into(),
                    ExpectKind::RBinary(_) => " (binary regex)".into(),
                    ExpectKind::StringLf(_) => " (log-format string)".into(),
                    ExpectKind::BinaryLf(_) => " (log-format binary)".into(),
                    ExpectKind::Custom(_) => " (custom function)".into(),
                };
                s.push_str(&format!("{what} at step {}", rule.step));
                s
            }
            None => String::new(),
        };
        Step::Stop(self.expect_error(rule, e, info))
    }

    /// HAProxy's `tcpcheck_expect_onerror_message` once the info text is
    /// known: the comment, then the `status-code` expression.
    fn expect_error(&self, rule: &Rule, e: &Expect, mut info: String) -> Finish {
        if let Some(c) = &rule.comment {
            info.push_str(&format!(" comment: {c}"));
        }
        let code = if e.code_from_payload {
            payload_code(&self.buf)
        } else {
            self.status_code(e)
        };
        Self::done(
            e.err_status.unwrap_or(CheckStatus::L7Rsp),
            code,
            cut_nul(info),
        )
    }

    /// `status-code <expr>` evaluated on the response.
    fn status_code(&self, e: &Expect) -> Option<u16> {
        let x = e.status_expr.as_ref()?;
        let v = x.eval(&lf::Env {
            vars: Some(&self.vars),
            res: Some(&self.buf),
        })?;
        v.to_int().map(|n| n as u16)
    }

    fn eval_custom(&self, c: Custom, last_read: bool) -> Step {
        let r = match c {
            Custom::MysqlInitHandshake => protocols::mysql_packet(&self.buf, 0, last_read),
            Custom::MysqlOk => protocols::mysql_ok(&self.buf, last_read),
            Custom::LdapBindResponse => protocols::ldap_bind(&self.buf),
            Custom::SpopAgentHello => super::spop::expect_agent_hello(&self.buf, last_read),
            Custom::AgentReply => {
                let end = self
                    .buf
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r' || b == 0);
                return match end {
                    Some(i) if self.buf[i] != 0 => Step::Stop(Finish::AgentLine(Some(
                        String::from_utf8_lossy(&self.buf[..i]).into_owned(),
                    ))),
                    _ if last_read => Step::Stop(Finish::AgentLine(None)),
                    _ => Step::Wait,
                };
            }
        };
        match r {
            CustomEval::Wait => Step::Wait,
            CustomEval::Continue => Step::Continue,
            CustomEval::Stop(mut res) => {
                res.info = cut_nul(std::mem::take(&mut res.info));
                Step::Stop(Finish::Done(res))
            }
        }
    }
}

fn contains(h: &[u8], n: &[u8]) -> bool {
    n.is_empty() || h.windows(n.len()).any(|w| w == n)
}

/// Info texts are C strings in HAProxy: they end at the first NUL.
fn cut_nul(mut s: String) -> String {
    if let Some(i) = s.find('\0') {
        s.truncate(i);
    }
    s
}

/// `status-code res.payload(0,3)`: the first three bytes as a number.
fn payload_code(buf: &[u8]) -> Option<u16> {
    let t = std::str::from_utf8(buf.get(..3)?).ok()?;
    t.parse().ok().or(Some(0))
}

#[cfg(test)]
mod tests;
