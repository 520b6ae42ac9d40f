//! `set-var(<scope>.<name>)`, `set-var-fmt(...)` and `unset-var(...)`
//! actions. The variables themselves live in the session facts of
//! [`crate::session::fetch::sess`] (where the `var()` fetch reads them).
//!
//! Owns: parsing the variable name and the value source. Must not do I/O.

use crate::session::fetch::{Ctx, Expr, Smp, sess};
use crate::session::fmt::Fmt;

/// Where a variable's new value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Expr(Box<Expr>),
    Fmt(Fmt),
}

/// A compiled `set-var`/`set-var-fmt`.
#[derive(Debug, Clone)]
pub struct SetVar {
    pub name: String,
    pub src: Source,
}

/// The `scope.name` inside `set-var(scope.name)`, checked.
pub fn name_of(action: &str) -> Result<String, String> {
    let inner = action
        .split_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .ok_or_else(|| format!("'{action}' expects a variable name in parentheses"))?;
    // `set-var(txn.x,ifexists)` style conditions came after 2.6.
    let scope = inner.split('.').next().unwrap_or("");
    if !matches!(scope, "proc" | "sess" | "txn" | "req" | "res") || !inner.contains('.') {
        return Err(format!("invalid variable name '{inner}'"));
    }
    Ok(inner.to_string())
}

impl SetVar {
    /// `set-var(name) <expr>` or `set-var-fmt(name) <fmt>`.
    pub fn parse(action: &str, args: &[String]) -> Result<SetVar, String> {
        let name = name_of(action)?;
        let [arg] = args else {
            return Err(format!("'{action}' expects exactly one argument"));
        };
        let src = if action.starts_with("set-var-fmt") {
            Source::Fmt(Fmt::parse(arg)?)
        } else {
            Source::Expr(Box::new(Expr::parse(arg)?))
        };
        Ok(SetVar { name, src })
    }

    /// Evaluates the source and stores the value (an expression without a
    /// value leaves the variable untouched, as in HAProxy).
    pub fn run(&self, c: &Ctx<'_>) {
        match &self.src {
            Source::Expr(e) => {
                if let Some(v) = e.eval(c) {
                    sess::set_var(&self.name, v);
                }
            }
            Source::Fmt(f) => sess::set_var(&self.name, Smp::owned(f.render(c))),
        }
    }
}

/// `unset-var(name)`.
pub fn unset(name: &str) {
    sess::unset_var(name);
}
