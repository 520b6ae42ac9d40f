//! Log-format strings and sample expressions inside checks (`tcp-check
//! send-lf`, `expect string-lf`/`binary-lf`, `on-success`/`on-error`
//! formats, `http-check send uri-lf`/`hdr`/`body-lf`, `set-var`), and
//! the check-scope variables they read and write.
//!
//! Owns: compiling the forms that make sense without a client stream —
//! literal text, `%%`, `%H` (host name), `%pid`, and `%[expr]` whose
//! fetch is a constant (`str`, `int`, `bool`, `bin`, ...), `env`, `date`,
//! `rand`, a variable (`check.` / `sess.`: this check run; `proc.`:
//! process-wide) or the response buffer (`res.payload`,
//! `res.payload_lv`, `res.len`), followed by converters — and rendering
//! them (a missing value renders as nothing, like HAProxy's checks).
//! Everything else is refused by name at start-up. Fetches and
//! converters are the session engine's ([`crate::session::fetch`],
//! [`crate::session::conv`]), called with an empty stream. Must not do
//! I/O.

use crate::config::sample::{Arg, SampleExpr, parse_sample_expr, parse_sample_expr_prefix};
use crate::session::conv::Conv;
use crate::session::fetch::{Ctx, Fetch, Smp};
use std::collections::HashMap;
use std::path::Path;

/// Variables of one check run (`check.` and `sess.` scopes).
#[derive(Debug, Clone, Default)]
pub struct Vars(HashMap<String, Smp<'static>>);

impl Vars {
    pub fn get(&self, name: &str) -> Option<&Smp<'static>> {
        self.0.get(name)
    }

    pub fn set(&mut self, name: &str, v: Smp<'_>) {
        if name.starts_with("proc.") {
            crate::session::fetch::sess::set_var(name, v);
        } else {
            self.0.insert(name.to_string(), v.into_owned());
        }
    }

    pub fn unset(&mut self, name: &str) {
        if name.starts_with("proc.") {
            crate::session::fetch::sess::unset_var(name);
        } else {
            self.0.remove(name);
        }
    }
}

/// What an expression reads.
#[derive(Debug, Clone)]
enum Src {
    /// A fetch that needs no stream (constant, env, date, rand, proc
    /// variable, response payload).
    Fetch(Fetch),
    /// `var(check.x[,default])` / `var(sess.x)`.
    Var(String, Option<Smp<'static>>),
}

/// A sample expression usable in a check.
#[derive(Debug, Clone)]
pub struct CheckExpr {
    src: Src,
    convs: Vec<Conv>,
}

/// What the evaluation can see.
#[derive(Debug, Clone, Copy, Default)]
pub struct Env<'a> {
    pub vars: Option<&'a Vars>,
    /// The bytes received so far (`res.payload`).
    pub res: Option<&'a [u8]>,
}

fn scoped(name: &str) -> bool {
    name.starts_with("check.") || name.starts_with("sess.")
}

/// The converters that read or write session variables through the
/// session engine (which has no check scope).
const VAR_CONVS: &[&str] = &[
    "set-var",
    "unset-var",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "and",
    "or",
    "xor",
];

impl CheckExpr {
    /// Compiles a parsed expression; `Err` names what is refused.
    pub fn compile(se: &SampleExpr) -> Result<CheckExpr, String> {
        for (i, (name, _)) in se.convs.iter().enumerate() {
            let reads_var = se.conv_args.get(i).is_some_and(|a| {
                a.iter()
                    .any(|x| matches!(x, Arg::Str(s) if s.contains('.') && !s.starts_with("proc.")))
            });
            if VAR_CONVS.contains(&name.as_str()) && (reads_var || name.ends_with("-var")) {
                return Err(format!("converter '{name}' on check variables"));
            }
        }
        let e = crate::session::fetch::Expr::compile(se)?;
        let src = match e.fetch {
            Fetch::Var(n, d) if scoped(&n) => Src::Var(n, d),
            Fetch::Var(n, _) if !n.starts_with("proc.") => {
                return Err(format!("variable '{n}' (no such scope in checks)"));
            }
            f @ (Fetch::Const(_)
            | Fetch::Env(_)
            | Fetch::Date(..)
            | Fetch::Rand(_)
            | Fetch::Var(..)
            | Fetch::Payload { res: true, .. }
            | Fetch::PayloadLv { res: true, .. }
            | Fetch::ReqLen { res: true }) => Src::Fetch(f),
            _ => return Err(format!("sample fetch '{}'", se.fetch)),
        };
        Ok(CheckExpr {
            src,
            convs: e.convs,
        })
    }

    /// Parses one word (`int(1234)`, `str(a),upper`).
    pub fn parse(text: &str) -> Result<CheckExpr, String> {
        CheckExpr::compile(&parse_sample_expr(text)?)
    }

    pub fn eval(&self, env: &Env<'_>) -> Option<Smp<'static>> {
        let v: Smp<'static> = match &self.src {
            Src::Var(n, d) => env
                .vars
                .and_then(|v| v.get(n).cloned())
                .or_else(|| d.clone())?,
            Src::Fetch(f) => {
                let c = Ctx {
                    res_data: env.res,
                    ..Ctx::default()
                };
                let mut out = Vec::new();
                f.fetch(&c, false, &mut out);
                out.pop()?.into_owned()
            }
        };
        let mut v = v;
        for c in &self.convs {
            v = c.apply(v)?.into_owned();
        }
        Some(v)
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Lit(Vec<u8>),
    Expr(CheckExpr),
    Host,
    Pid,
}

/// A compiled log-format string.
#[derive(Debug, Clone)]
pub struct CheckFmt(Vec<Piece>);

impl CheckFmt {
    /// Parses `s`; `Err` names the part that is refused.
    pub fn parse(s: &str) -> Result<CheckFmt, String> {
        let mut out = Vec::new();
        let mut lit = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            let rest = &s[i + 1..];
            let (piece, used) = if rest.starts_with('%') {
                lit.push(b'%');
                i += 2;
                continue;
            } else if let Some(inner) = rest.strip_prefix('[') {
                let (se, end) = parse_sample_expr_prefix(inner, Path::new("."))?;
                if inner.as_bytes().get(end) != Some(&b']') {
                    return Err(format!("missing ']' in log-format '{s}'"));
                }
                (Piece::Expr(CheckExpr::compile(&se)?), end + 3)
            } else if rest.starts_with("pid") {
                (Piece::Pid, 4)
            } else if rest.starts_with('H') {
                (Piece::Host, 2)
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '{' || *c == '+')
                    .collect();
                return Err(format!("log-format variable '%{name}'"));
            };
            if !lit.is_empty() {
                out.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            out.push(piece);
            i += used;
        }
        if !lit.is_empty() {
            out.push(Piece::Lit(lit));
        }
        Ok(CheckFmt(out))
    }

    /// A format that is only `text`.
    pub fn literal(text: &str) -> CheckFmt {
        CheckFmt(vec![Piece::Lit(text.as_bytes().to_vec())])
    }

    /// The text when the format has no tag.
    pub fn as_literal(&self) -> Option<Vec<u8>> {
        match self.0.as_slice() {
            [] => Some(Vec::new()),
            [Piece::Lit(l)] => Some(l.clone()),
            _ => None,
        }
    }

    /// Renders; a missing value prints nothing (seen on haproxy 2.6.12:
    /// `A%[var(check.none)]B` sends `AB`).
    pub fn render(&self, env: &Env<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.0 {
            match p {
                Piece::Lit(l) => out.extend_from_slice(l),
                Piece::Host => out.extend_from_slice(host_name().as_bytes()),
                Piece::Pid => out.extend_from_slice(std::process::id().to_string().as_bytes()),
                Piece::Expr(e) => {
                    if let Some(v) = e.eval(env) {
                        out.extend_from_slice(&v.to_bytes());
                    }
                }
            }
        }
        out
    }

    pub fn render_string(&self, env: &Env<'_>) -> String {
        String::from_utf8_lossy(&self.render(env)).into_owned()
    }
}

/// HAProxy's `hostname` (`%H`).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// A `set-var` condition (`ifexists`, `ifnotempty`, `ifgt`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    IfExists,
    IfNotExists,
    IfEmpty,
    IfNotEmpty,
    IfGt,
    IfLt,
}

impl Cond {
    fn parse(s: &str) -> Option<Cond> {
        Some(match s {
            // Check variables are removed by `unset-var`: "set" and
            // "exists" mean the same for them.
            "ifexists" | "ifset" => Cond::IfExists,
            "ifnotexists" | "ifnotset" => Cond::IfNotExists,
            "ifempty" => Cond::IfEmpty,
            "ifnotempty" => Cond::IfNotEmpty,
            "ifgt" => Cond::IfGt,
            "iflt" => Cond::IfLt,
            _ => return None,
        })
    }

    /// HAProxy's `var_set` conditions: `old` is the current value.
    fn holds(self, old: Option<&Smp<'_>>, new: &Smp<'_>) -> bool {
        let empty = matches!(new, Smp::Str(b) | Smp::Bin(b) if b.is_empty());
        match (self, old, new) {
            (Cond::IfExists, ..) => old.is_some(),
            (Cond::IfNotExists, ..) => old.is_none(),
            (Cond::IfEmpty, ..) => empty,
            (Cond::IfNotEmpty, ..) => !empty,
            (Cond::IfGt, Some(Smp::Int(o)), Smp::Int(n)) => o > n,
            (Cond::IfLt, Some(Smp::Int(o)), Smp::Int(n)) => o < n,
            (Cond::IfGt | Cond::IfLt, ..) => true,
        }
    }
}

/// One `set-var(...)` / `set-var-fmt(...)` / `unset-var(...)` rule.
#[derive(Debug, Clone)]
pub enum VarAction {
    Set(String, CheckExpr, Vec<Cond>),
    SetFmt(String, CheckFmt, Vec<Cond>),
    Unset(String),
}

fn set_if(vars: &mut Vars, n: &str, v: Smp<'_>, conds: &[Cond]) {
    if conds.iter().all(|c| c.holds(vars.get(n), &v)) {
        vars.set(n, v);
    }
}

impl VarAction {
    pub fn run(&self, vars: &mut Vars, res: Option<&[u8]>) {
        match self {
            VarAction::Set(n, e, conds) => {
                let v = e.eval(&Env {
                    vars: Some(vars),
                    res,
                });
                if let Some(v) = v {
                    set_if(vars, n, v, conds);
                }
            }
            VarAction::SetFmt(n, f, conds) => {
                let v = f.render(&Env {
                    vars: Some(vars),
                    res,
                });
                set_if(vars, n, Smp::owned(v), conds);
            }
            VarAction::Unset(n) => vars.unset(n),
        }
    }
}

/// Parses `set-var(<name>[,<cond>...]) <expr>`, `set-var-fmt(<name>
/// [,<cond>...]) <fmt>`, `unset-var(<name>)` (`w[0]` is the action
/// word). `Err((unsupported, text))`: `unsupported` tells a refusal
/// from a syntax error (HAProxy's text).
pub fn parse_var_action(kw: &str, w: &[String]) -> Result<VarAction, (bool, String)> {
    let head = w.first().map(String::as_str).unwrap_or_default();
    let (act, rest) = head
        .split_once('(')
        .ok_or((false, format!("'{kw} {head}' : missing variable name.")))?;
    let inner = rest
        .strip_suffix(')')
        .ok_or((false, format!("'{kw} {head}' : missing ')'.")))?;
    let mut parts = inner.split(',');
    let name = parts.next().unwrap_or_default().to_string();
    let mut conds = Vec::new();
    for c in parts {
        conds.push(Cond::parse(c).ok_or((
            false,
            format!("'{kw} {head}' : '{act}' : unknown condition \"{c}\"."),
        ))?);
    }
    if !crate::config::sample::expr::is_var_name(&name) {
        return Err((
            false,
            format!("'{kw} {head}' : invalid variable name '{name}'."),
        ));
    }
    let check_scope = name.starts_with("sess.") || name.starts_with("check.");
    if !check_scope && !name.starts_with("proc.") {
        return Err((
            true,
            format!("{kw} {act}({name}) (no such scope in checks)"),
        ));
    }
    if !check_scope && !conds.is_empty() {
        return Err((true, format!("{kw} {act} conditions on proc variables")));
    }
    let arg = || {
        w.get(1)
            .cloned()
            .ok_or((false, format!("'{kw} {head}' : expects an argument.")))
    };
    match act {
        "set-var" => {
            let e = CheckExpr::parse(&arg()?).map_err(|e| (true, format!("{kw} set-var {e}")))?;
            Ok(VarAction::Set(name, e, conds))
        }
        "set-var-fmt" => {
            let f =
                CheckFmt::parse(&arg()?).map_err(|e| (true, format!("{kw} set-var-fmt {e}")))?;
            Ok(VarAction::SetFmt(name, f, conds))
        }
        "unset-var" => Ok(VarAction::Unset(name)),
        other => Err((false, format!("'{kw} {other}' : unknown action."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_render_like_haproxy() {
        let mut vars = Vars::default();
        vars.set("check.port", Smp::Int(1234));
        let env = Env {
            vars: Some(&vars),
            res: Some(b"+OK hello"),
        };
        let f =
            CheckFmt::parse("PING %[var(check.port)] %[str(AbC),lower] 100%% %[var(check.none)]")
                .unwrap();
        assert_eq!(f.render(&env), b"PING 1234 abc 100% ");
        let f = CheckFmt::parse("%[res.payload(0,3)]").unwrap();
        assert_eq!(f.render(&env), b"+OK");
        assert_eq!(
            CheckFmt::parse("plain").unwrap().as_literal(),
            Some(b"plain".to_vec())
        );
        assert!(CheckFmt::parse("%[src]").unwrap_err().contains("'src'"));
        assert!(CheckFmt::parse("%ci").is_err());
        assert!(CheckFmt::parse("%[var(txn.x)]").is_err());
    }

    #[test]
    fn var_actions() {
        let w = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        let mut vars = Vars::default();
        parse_var_action("tcp-check", &w("set-var(check.a) int(7)"))
            .unwrap()
            .run(&mut vars, None);
        parse_var_action("tcp-check", &w("set-var-fmt(check.b) x%[var(check.a)]"))
            .unwrap()
            .run(&mut vars, None);
        assert_eq!(vars.get("check.a"), Some(&Smp::Int(7)));
        assert_eq!(
            vars.get("check.b").map(|v| v.to_bytes().to_vec()),
            Some(b"x7".to_vec())
        );
        parse_var_action("tcp-check", &w("unset-var(check.a)"))
            .unwrap()
            .run(&mut vars, None);
        assert!(vars.get("check.a").is_none());
        assert!(matches!(
            parse_var_action("tcp-check", &w("set-var(txn.a) int(1)")),
            Err((true, _))
        ));
        // haproxy 2.6.12's alert text for a bad condition.
        assert_eq!(
            parse_var_action("tcp-check", &w("set-var(check.x,bogus) int(1)")).unwrap_err(),
            (
                false,
                "'tcp-check set-var(check.x,bogus)' : 'set-var' : unknown condition \"bogus\"."
                    .to_string()
            )
        );
        let mut vars = Vars::default();
        for l in [
            "set-var(check.n,ifnotexists) int(5)",
            "set-var(check.n,ifnotexists) int(9)",
            "set-var(check.n,ifgt) int(3)",
            "set-var(check.n,ifgt) int(8)",
            "set-var(check.s,ifnotempty) str()",
        ] {
            parse_var_action("tcp-check", &w(l))
                .unwrap()
                .run(&mut vars, None);
        }
        assert_eq!(vars.get("check.n"), Some(&Smp::Int(3)));
        assert!(vars.get("check.s").is_none());
    }
}
