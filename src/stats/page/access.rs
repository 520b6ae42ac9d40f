//! Who may see and drive the stats page: `stats http-request
//! allow|deny|auth [realm <r>] [if|unless <cond>]` and `stats admin
//! if|unless <cond>`.
//!
//! Owns: compiling those lines (with the proxy's ACLs) and deciding, for
//! one request, which rule applies and whether admin actions are allowed.
//! Must not render pages nor change state.

use crate::session::acl::{AclSet, Cond, holds};
use crate::session::fetch::Ctx;

/// A `stats http-request` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Allow,
    Deny,
    /// `auth [realm <r>]` (`None`: the `stats realm`).
    Auth(Option<String>),
}

/// One `stats http-request` rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub act: Act,
    pub cond: Option<Cond>,
}

/// The compiled access settings of one stats page.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub rules: Vec<Rule>,
    /// `stats admin` conditions (any holding one enables admin actions).
    pub admin: Vec<Cond>,
}

/// Splits `words` at `if`/`unless`.
fn split_cond(words: &[String]) -> (&[String], &[String]) {
    let at = words
        .iter()
        .position(|w| w == "if" || w == "unless")
        .unwrap_or(words.len());
    words.split_at(at)
}

impl Access {
    /// Reads the `stats http-request` / `stats admin` lines among the
    /// proxy's `stats` words (each without the leading `stats`).
    pub fn compile(lines: &[Vec<String>], acls: &AclSet) -> Result<Access, String> {
        let mut a = Access::default();
        for w in lines {
            match w.first().map(String::as_str) {
                Some("http-request") => {
                    let (act, cond) = split_cond(&w[1..]);
                    let act = match act.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                        ["allow"] => Act::Allow,
                        ["deny"] => Act::Deny,
                        ["auth"] => Act::Auth(None),
                        ["auth", "realm", r] => Act::Auth(Some(r.to_string())),
                        _ => {
                            return Err(format!(
                                "'stats http-request' expects 'allow', 'deny' or 'auth [realm <realm>]' (got '{}')",
                                act.join(" ")
                            ));
                        }
                    };
                    let cond = Cond::compile(cond, acls)?;
                    a.rules.push(Rule { act, cond });
                }
                Some("admin") => {
                    let (_, cond) = split_cond(&w[1..]);
                    match Cond::compile(cond, acls)? {
                        Some(c) => a.admin.push(c),
                        None => {
                            return Err(
                                "'stats admin' requires either 'if' or 'unless' followed by a condition."
                                    .into(),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(a)
    }

    /// The first `stats http-request` rule whose condition holds.
    pub fn decide(&self, ctx: Option<&Ctx<'_>>) -> Option<&Act> {
        let def = Ctx::default();
        let c = ctx.unwrap_or(&def);
        self.rules
            .iter()
            .find(|r| holds(&r.cond, c))
            .map(|r| &r.act)
    }

    /// Whether admin actions are allowed for this request.
    pub fn admin(&self, ctx: Option<&Ctx<'_>>) -> bool {
        let def = Ctx::default();
        let c = ctx.unwrap_or(&def);
        self.admin.iter().any(|cond| cond.eval(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn compiles_rules_and_admin() {
        let acls = AclSet::default();
        let a = Access::compile(
            &[
                w("http-request deny if FALSE"),
                w("http-request auth realm R"),
                w("admin if TRUE"),
            ],
            &acls,
        )
        .expect("valid");
        assert_eq!(a.decide(None), Some(&Act::Auth(Some("R".into()))));
        assert!(a.admin(None));
        let none = Access::compile(&[w("admin if FALSE")], &acls).expect("valid");
        assert!(!none.admin(None));
        assert_eq!(none.decide(None), None);
        assert!(Access::compile(&[w("admin")], &acls).is_err());
        assert!(Access::compile(&[w("http-request redirect")], &acls).is_err());
    }
}
