//! `tcp-request connection|session|content` and `tcp-response content`
//! rules, with `tcp-request`/`tcp-response inspect-delay`.
//!
//! Owns: compiling those rule lines (actions `accept`, `reject`,
//! `silent-drop`, `set-var`, `set-var-fmt`, `unset-var`, and `close` for
//! responses; anything else HAProxy knows is refused at startup by name),
//! running a rule list over a context ([`run`]), and the inspection loop
//! that reads client (or server) bytes until the rules decide or the delay
//! expires ([`inspect`]), like HAProxy 2.6's `tcp_inspect_request`.
//! Must not route, connect or forward.

use super::acl::{AclSet, Cond, Tri, holds3};
use super::fetch::{Ctx, Expr, sess};
use super::fmt::Fmt;
use crate::config::ir::RawRule;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// HAProxy's default `tune.bufsize`: a full buffer ends the inspection.
pub const BUFSIZE: usize = 16384;

/// What a rule does.
#[derive(Debug, Clone)]
pub enum Action {
    Accept,
    Reject,
    SilentDrop,
    /// `tcp-response content close`.
    Close,
    SetVar(String, Expr),
    SetVarFmt(String, Fmt),
    UnsetVar(String),
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub action: Action,
    pub cond: Option<Cond>,
}

/// The tcp rules of one proxy.
#[derive(Debug, Clone, Default)]
pub struct TcpRules {
    pub connection: Vec<Rule>,
    pub session: Vec<Rule>,
    pub content: Vec<Rule>,
    pub inspect_delay: Option<Duration>,
    pub response: Vec<Rule>,
    pub res_inspect_delay: Option<Duration>,
}

impl TcpRules {
    /// Whether the proxy has no tcp rules at all.
    pub fn is_empty(&self) -> bool {
        self.connection.is_empty()
            && self.session.is_empty()
            && self.content.is_empty()
            && self.response.is_empty()
    }
}

/// How a rule list ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No rule decided (or `accept`): go on.
    Accept,
    Reject,
    SilentDrop,
    Close,
    /// A condition needs more data (only while the delay runs).
    Wait,
}

impl Decision {
    /// Whether the session goes on.
    pub fn proceeds(self) -> bool {
        matches!(self, Decision::Accept | Decision::Wait)
    }
}

fn delay(w: &[String]) -> Result<Option<Duration>, String> {
    let t = w.get(2).ok_or("'inspect-delay' expects a timeout value")?;
    let ms =
        crate::config::units::parse_time(t).map_err(|_| format!("invalid inspect-delay '{t}'"))?;
    Ok(Some(Duration::from_millis(u64::from(ms))))
}

/// Compiles every `tcp-request`/`tcp-response` line among a proxy's raw
/// rule lines (full words, keyword first).
pub fn compile(lines: &[Vec<String>], acls: &AclSet) -> Result<TcpRules, String> {
    let mut out = TcpRules::default();
    for w in lines {
        add(&mut out, w, acls)?;
    }
    Ok(out)
}

/// [`compile`] over the IR's rule lines; errors name `file:line`.
pub fn compile_raw(lines: &[RawRule], acls: &AclSet) -> Result<TcpRules, String> {
    let mut out = TcpRules::default();
    for r in lines {
        add(&mut out, &r.words, acls).map_err(|e| format!("parsing [{}] : {e}", r.origin))?;
    }
    Ok(out)
}

fn add(out: &mut TcpRules, w: &[String], acls: &AclSet) -> Result<(), String> {
    {
        let kw = w.first().map(String::as_str).unwrap_or("");
        let stage = w.get(1).map(String::as_str).unwrap_or("");
        let list = match (kw, stage) {
            ("tcp-request", "inspect-delay") => {
                out.inspect_delay = delay(w)?;
                return Ok(());
            }
            ("tcp-response", "inspect-delay") => {
                out.res_inspect_delay = delay(w)?;
                return Ok(());
            }
            ("tcp-request", "connection") => &mut out.connection,
            ("tcp-request", "session") => &mut out.session,
            ("tcp-request", "content") => &mut out.content,
            ("tcp-response", "content") => &mut out.response,
            ("tcp-request" | "tcp-response", _) => {
                return Err(format!("'{kw} {stage}' is not implemented"));
            }
            _ => return Ok(()),
        };
        let rule = rule(&w[2..], kw == "tcp-response", acls)
            .map_err(|e| format!("'{}': {e}", w.join(" ")))?;
        list.push(rule);
    }
    Ok(())
}

fn var_name(action: &str) -> Option<String> {
    let inner = action.split_once('(')?.1.strip_suffix(')')?;
    if inner.contains(',') {
        return None;
    }
    Some(inner.trim().to_string())
}

fn rule(a: &[String], response: bool, acls: &AclSet) -> Result<Rule, String> {
    let name = a.first().map(String::as_str).unwrap_or("");
    let cond_at = |from: usize| {
        a.iter()
            .skip(from)
            .position(|x| x == "if" || x == "unless")
            .map_or(a.len(), |p| p + from)
    };
    let (action, at) = match name {
        "accept" => (Action::Accept, 1),
        "reject" => (Action::Reject, 1),
        "silent-drop" if !response => (Action::SilentDrop, 1),
        "close" if response => (Action::Close, 1),
        n if n.starts_with("set-var(") || n.starts_with("set-var-fmt(") => {
            let var = var_name(n)
                .ok_or_else(|| format!("action '{n}': set-var conditions are not implemented"))?;
            if n.starts_with("set-var-fmt(") {
                let f = a.get(1).ok_or("set-var-fmt expects a format string")?;
                (Action::SetVarFmt(var, Fmt::parse(f)?), 2)
            } else {
                let words: Vec<&str> = a[..cond_at(1)].iter().map(String::as_str).collect();
                let mut idx = 1;
                let se = crate::config::sample::parse_sample_expr_words(
                    &words,
                    &mut idx,
                    Path::new("."),
                )?;
                (Action::SetVar(var, Expr::compile(&se)?), idx)
            }
        }
        n if n.starts_with("unset-var(") => {
            (Action::UnsetVar(var_name(n).ok_or("bad unset-var")?), 1)
        }
        other => return Err(format!("action '{other}' is not implemented")),
    };
    let c = cond_at(at);
    if c != at {
        return Err(format!("unexpected '{}' after action '{name}'", a[at]));
    }
    Ok(Rule {
        action,
        cond: Cond::compile(&a[c..], acls)?,
    })
}

/// Runs `rules` over `ctx` in order (HAProxy's evaluation: a condition
/// that misses data stops everything with [`Decision::Wait`]; the next
/// evaluation starts over).
pub fn run(rules: &[Rule], ctx: &Ctx<'_>) -> Decision {
    for r in rules {
        match holds3(&r.cond, ctx) {
            Tri::Fail => continue,
            Tri::Miss => return Decision::Wait,
            Tri::Pass => {}
        }
        match &r.action {
            Action::Accept => return Decision::Accept,
            Action::Reject => return Decision::Reject,
            Action::SilentDrop => return Decision::SilentDrop,
            Action::Close => return Decision::Close,
            Action::SetVar(n, e) => {
                if let Some(v) = e.eval(ctx) {
                    sess::set_var(n, v);
                }
            }
            Action::SetVarFmt(n, f) => sess::set_var(n, super::fetch::Smp::owned(f.render(ctx))),
            Action::UnsetVar(n) => sess::unset_var(n),
        }
    }
    Decision::Accept
}

/// Whether `rules` may still need conditions over request contents.
fn needs_data(rules: &[Rule]) -> bool {
    !rules.is_empty()
}

/// Reads from `io` into `buf` and runs `rules` after each read until they
/// decide, the buffer is full, the peer closes, or `delay` expires (then
/// once more with the final data). Without a delay the rules run once over
/// what is already buffered. `base` gives the connection facts; the buffer
/// is put in `req_data` (or `res_data` with `response`). With `as_http`,
/// a complete HTTP request head in the buffer is parsed for HTTP fetches.
pub async fn inspect<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut Vec<u8>,
    rules: &[Rule],
    delay: Option<Duration>,
    base: Ctx<'_>,
    response: bool,
) -> Decision {
    if !needs_data(rules) {
        return Decision::Accept;
    }
    let deadline = delay.map(|d| tokio::time::Instant::now() + d);
    let mut closed = false;
    loop {
        let partial = deadline.is_some_and(|d| tokio::time::Instant::now() < d)
            && !closed
            && buf.len() < BUFSIZE;
        let d = eval_over(rules, buf, base, response, partial);
        if d != Decision::Wait || !partial {
            return if d == Decision::Wait {
                Decision::Accept
            } else {
                d
            };
        }
        let Some(dl) = deadline else {
            return Decision::Accept;
        };
        let mut chunk = [0u8; 4096];
        let room = (BUFSIZE - buf.len()).min(chunk.len());
        match tokio::time::timeout_at(dl, io.read(&mut chunk[..room])).await {
            Ok(Ok(0)) | Ok(Err(_)) => closed = true,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => {}
        }
    }
}

fn eval_over(rules: &[Rule], buf: &[u8], base: Ctx<'_>, response: bool, partial: bool) -> Decision {
    let parsed = if response {
        None
    } else {
        match super::http::head::parse_request(buf) {
            super::http::head::Parsed::Done(r, _) => Some(r),
            _ => None,
        }
    };
    let mut ctx = base;
    ctx.partial = partial;
    if response {
        ctx.res_data = Some(buf);
    } else {
        ctx.req_data = Some(buf);
        if ctx.req.is_none() {
            ctx.req = parsed.as_ref();
        }
    }
    run(rules, &ctx)
}

#[cfg(test)]
mod tests;

/// The rules a proxy applies in its frontend role: connection, session
/// and content rules (response rules belong to the backend role).
pub fn for_frontend(lines: &[RawRule], acls: &AclSet) -> Result<TcpRules, String> {
    let mut r = compile_raw(lines, acls)?;
    r.response.clear();
    r.res_inspect_delay = None;
    Ok(r)
}

/// The rules a proxy applies in its backend role: content rules (not for
/// a `listen`, whose content rules run once in its frontend role) and
/// response rules.
pub fn for_backend(lines: &[RawRule], acls: &AclSet, listen: bool) -> Result<TcpRules, String> {
    let mut r = compile_raw(lines, acls)?;
    r.connection.clear();
    r.session.clear();
    if listen {
        r.content.clear();
        r.inspect_delay = None;
    }
    Ok(r)
}

/// Runs `f` with `base` plus the inspected request bytes (and the HTTP
/// request they hold, if complete), e.g. to pick a backend.
pub fn with_data<R>(base: Ctx<'_>, buf: &[u8], f: impl FnOnce(&Ctx<'_>) -> R) -> R {
    let parsed = match super::http::head::parse_request(buf) {
        super::http::head::Parsed::Done(r, _) => Some(r),
        _ => None,
    };
    let mut ctx = base;
    ctx.req_data = Some(buf);
    if ctx.req.is_none() {
        ctx.req = parsed.as_ref();
    }
    f(&ctx)
}

/// The connection facts of `info` as a context.
pub fn conn_ctx(info: &super::ClientInfo) -> Ctx<'static> {
    Ctx {
        src: info.src.map(|a| a.ip()),
        src_port: info.src.map(|a| a.port()),
        dst: info.dst.map(|a| a.ip()),
        dst_port: info.dst.map(|a| a.port()),
        ..Ctx::default()
    }
}

/// Runs the `tcp-request connection` then `tcp-request session` rules of
/// a new connection; `false` when it must be closed.
pub fn on_accept(rules: &TcpRules, info: &super::ClientInfo) -> bool {
    refusal(rules, info).is_none()
}

/// Which rules refused a new connection: `Some(false)` the `tcp-request
/// connection` ones, `Some(true)` the `tcp-request session` ones (`dcon`
/// and `dses` in `show stat`), `None` when it goes on.
pub fn refusal(rules: &TcpRules, info: &super::ClientInfo) -> Option<bool> {
    if rules.connection.is_empty() && rules.session.is_empty() {
        return None;
    }
    let c = conn_ctx(info);
    if !run(&rules.connection, &c).proceeds() {
        return Some(false);
    }
    if !run(&rules.session, &c).proceeds() {
        return Some(true);
    }
    None
}

/// Starts an HTTP stream: resets transaction variables, then runs the
/// frontend's `tcp-request content` rules over the parsed request;
/// `false` when the connection must be closed without a reply.
pub fn on_http_request(rules: &TcpRules, ctx: &Ctx<'_>) -> bool {
    sess::new_stream();
    run_http(rules, ctx)
}

/// Runs `tcp-request content` rules over a complete HTTP request.
pub fn run_http(rules: &TcpRules, ctx: &Ctx<'_>) -> bool {
    rules.content.is_empty() || run(&rules.content, ctx).proceeds()
}
