//! ACLs and conditions (`acl` lines, `if`/`unless` expressions).
//!
//! Owns: compiling the raw ACL words kept in the IR (`[name, criterion,
//! flags..., values...]`) into matchers, on top of the configuration
//! parser's [`crate::config::sample::parse_acl`] (so keywords, `-m`, `-i`,
//! `-f`, operators and pattern syntax mean exactly what `-c` checked), and
//! evaluating `if`/`unless` conditions with HAProxy's three-valued logic
//! (pass, fail, miss = "not enough data yet"). A criterion we do not
//! implement is an error at startup, never a silent mismatch.
//! Must not modify messages.

pub mod pat;

use super::fetch::{Ctx, Expr};
use super::patref::{PatRef, User};
use crate::config::sample::{AclDef, AclRef, CondPolarity, parse_acl, parse_cond};
use pat::Pats;
use std::path::Path;
use std::sync::Arc;

/// The outcome of an ACL or condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Pass,
    Fail,
    /// Could change once more data arrives.
    Miss,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::Pass => Tri::Fail,
            Tri::Fail => Tri::Pass,
            Tri::Miss => Tri::Miss,
        }
    }
}

/// One compiled ACL expression.
#[derive(Debug, Clone)]
pub struct AclExpr {
    expr: Expr,
    pats: Pats,
    /// Patterns loaded with `-f`: shared, runtime-mutable (CLI `add acl`).
    files: Vec<Arc<User>>,
    /// `http_auth_group(<userlist>) <group>...`: the userlist and the
    /// group names the user must belong to one of (`pat_match_auth`).
    auth_groups: Option<(String, Vec<String>)>,
}

impl AclExpr {
    /// Compiles a parsed ACL expression.
    pub fn from_def(def: &AclDef) -> Result<AclExpr, String> {
        let expr = Expr::compile(&def.expr).map_err(|e| format!("ACL '{}': {e}", def.kw))?;
        let inline: Vec<_> = def
            .patterns
            .iter()
            .filter(|p| p.origin.is_none())
            .cloned()
            .collect();
        let pats = Pats::compile(def.match_method, def.flags.ignore_case, &inline)?;
        let mut files = Vec::new();
        let mut seen: Vec<&Path> = Vec::new();
        for p in &def.patterns {
            let Some((f, _)) = &p.origin else { continue };
            if seen.contains(&f.as_path()) {
                continue;
            }
            seen.push(f);
            let name = f.to_string_lossy();
            let entries = || {
                def.patterns
                    .iter()
                    .filter(|q| q.origin.as_ref().is_some_and(|(g, _)| g == f))
                    .map(|q| (q.text.clone(), None))
                    .collect()
            };
            let desc = format!("pattern loaded from file '{name}' used by acl");
            let (_, u) = PatRef::attach(
                &name,
                false,
                &desc,
                entries,
                def.match_method,
                def.flags.ignore_case,
                None,
            )?;
            files.push(u);
        }
        let auth_groups = match &expr.fetch {
            super::fetch::Fetch::HttpAuthGroup(list)
                if def.kw == "http_auth_group" && expr.convs.is_empty() =>
            {
                let groups: Vec<String> = inline.iter().map(|p| p.text.clone()).collect();
                if let Some(g) = groups
                    .iter()
                    .find(|g| !super::fetch::auth::group_known(list, g))
                {
                    return Err(format!("acl http_auth_group(): invalid group '{g}'."));
                }
                Some((list.clone(), groups))
            }
            _ => None,
        };
        Ok(AclExpr {
            expr,
            pats,
            files,
            auth_groups,
        })
    }

    fn eval(&self, c: &Ctx<'_>) -> Tri {
        let mut vals = Vec::new();
        let more = self.expr.eval_all(c, &mut vals);
        let hit = |v: &super::fetch::Smp<'_>| match (&self.auth_groups, v) {
            (Some((list, groups)), super::fetch::Smp::Str(u)) => {
                super::fetch::auth::in_group(list, u, groups)
            }
            (Some(_), _) => false,
            _ => self.pats.find(v).is_some() || self.files.iter().any(|u| u.matches(v)),
        };
        if vals.iter().any(hit) {
            return Tri::Pass;
        }
        if more { Tri::Miss } else { Tri::Fail }
    }
}

/// A named ACL: the OR of its declarations.
#[derive(Debug, Clone)]
pub struct Acl {
    pub name: String,
    exprs: Vec<AclExpr>,
}

impl Acl {
    fn eval(&self, c: &Ctx<'_>) -> Tri {
        let mut res = Tri::Fail;
        for e in &self.exprs {
            match e.eval(c) {
                Tri::Pass => return Tri::Pass,
                Tri::Miss => res = Tri::Miss,
                Tri::Fail => {}
            }
        }
        res
    }
}

/// The ACLs of one proxy.
#[derive(Debug, Clone, Default)]
pub struct AclSet {
    acls: Vec<Arc<Acl>>,
}

fn strs(w: &[String]) -> Vec<&str> {
    w.iter().map(String::as_str).collect()
}

impl AclSet {
    /// Compiles a proxy's `acl` lines (raw words without the `acl` keyword).
    pub fn compile(lines: &[Vec<String>]) -> Result<AclSet, String> {
        let mut set: Vec<Acl> = Vec::new();
        for words in lines {
            let Some(name) = words.first() else { continue };
            let def = parse_acl(&strs(&words[1..]), Path::new("."))?;
            let e = AclExpr::from_def(&def)?;
            match set.iter_mut().find(|a| &a.name == name) {
                Some(a) => a.exprs.push(e),
                None => set.push(Acl {
                    name: name.clone(),
                    exprs: vec![e],
                }),
            }
        }
        Ok(AclSet {
            acls: set.into_iter().map(Arc::new).collect(),
        })
    }

    fn get(&self, name: &str) -> Option<&Arc<Acl>> {
        self.acls.iter().find(|a| a.name == name)
    }
}

/// One term of a condition.
#[derive(Debug, Clone)]
struct Term {
    neg: bool,
    acl: Arc<Acl>,
}

/// An `if`/`unless` condition: OR of AND-groups.
#[derive(Debug, Clone)]
pub struct Cond {
    unless: bool,
    groups: Vec<Vec<Term>>,
}

impl Cond {
    /// Compiles `words` starting with `if` or `unless`; `Ok(None)` when
    /// there is no condition.
    pub fn compile(words: &[String], acls: &AclSet) -> Result<Option<Cond>, String> {
        if words.is_empty() {
            return Ok(None);
        }
        let w = strs(words);
        let pc = parse_cond(&w, &|n| acls.get(n).is_some(), Path::new("."))?;
        let mut groups = Vec::new();
        for suite in &pc.suites {
            let mut g = Vec::new();
            for t in suite {
                let acl = match &t.acl {
                    AclRef::Named(n) => acls
                        .get(n)
                        .cloned()
                        .ok_or_else(|| format!("no such ACL : '{n}'"))?,
                    AclRef::Predefined(_, def) | AclRef::Anonymous(def) => Arc::new(Acl {
                        name: n_of(&t.acl),
                        exprs: vec![AclExpr::from_def(def)?],
                    }),
                };
                g.push(Term { neg: t.neg, acl });
            }
            groups.push(g);
        }
        Ok(Some(Cond {
            unless: pc.polarity == CondPolarity::Unless,
            groups,
        }))
    }

    /// The three-valued result (HAProxy's `acl_exec_cond`).
    pub fn eval3(&self, c: &Ctx<'_>) -> Tri {
        let mut res = Tri::Fail;
        for g in &self.groups {
            let mut suite = Tri::Pass;
            for t in g {
                let mut r = t.acl.eval(c);
                if t.neg {
                    r = r.not();
                }
                match r {
                    Tri::Fail => {
                        suite = Tri::Fail;
                        break;
                    }
                    Tri::Miss => suite = Tri::Miss,
                    Tri::Pass => {}
                }
            }
            match suite {
                Tri::Pass => {
                    res = Tri::Pass;
                    break;
                }
                Tri::Miss => res = Tri::Miss,
                Tri::Fail => {}
            }
        }
        if self.unless { res.not() } else { res }
    }

    /// Whether the condition holds (a miss does not).
    pub fn eval(&self, c: &Ctx<'_>) -> bool {
        self.eval3(c) == Tri::Pass
    }
}

fn n_of(r: &AclRef) -> String {
    match r {
        AclRef::Named(n) | AclRef::Predefined(n, _) => n.clone(),
        AclRef::Anonymous(_) => "anonymous".into(),
    }
}

/// Evaluates an optional condition (absent = true).
pub fn holds(c: &Option<Cond>, ctx: &Ctx<'_>) -> bool {
    c.as_ref().is_none_or(|c| c.eval(ctx))
}

/// Three-valued form of [`holds`].
pub fn holds3(c: &Option<Cond>, ctx: &Ctx<'_>) -> Tri {
    c.as_ref().map_or(Tri::Pass, |c| c.eval3(ctx))
}

#[cfg(test)]
mod tests;
