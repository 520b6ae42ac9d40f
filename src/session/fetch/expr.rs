//! Compiled sample expressions: a fetch followed by converters
//! (`req.hdr(host),lower,map(hosts.map)`).
//!
//! Owns: turning the configuration parser's [`SampleExpr`] into something
//! runnable and running it, once (log-format, `set-var`) or over every
//! value (ACLs). Must not match patterns.

use super::{Ctx, Fetch, Smp};
use crate::config::sample::{SampleExpr, parse_sample_expr};
use crate::session::conv::Conv;

/// A runnable sample expression.
#[derive(Debug, Clone)]
pub struct Expr {
    pub fetch: Fetch,
    pub convs: Vec<Conv>,
}

impl Expr {
    /// Compiles a parsed expression; `Err` names what we do not implement.
    pub fn compile(se: &SampleExpr) -> Result<Expr, String> {
        let fetch = Fetch::compile(&se.fetch, &se.fetch_typed)?;
        let convs = se
            .convs
            .iter()
            .zip(&se.conv_args)
            .map(|((name, _), args)| Conv::compile(name, args))
            .collect::<Result<_, _>>()?;
        Ok(Expr { fetch, convs })
    }

    /// Parses and compiles one word (`path,lower`).
    pub fn parse(text: &str) -> Result<Expr, String> {
        Expr::compile(&parse_sample_expr(text)?)
    }

    fn convert<'a>(&self, mut v: Smp<'a>) -> Option<Smp<'a>> {
        for c in &self.convs {
            v = c.apply(v)?;
        }
        Some(v)
    }

    /// The expression's single value (HAProxy's default occurrence).
    pub fn eval<'a>(&self, c: &Ctx<'a>) -> Option<Smp<'a>> {
        let mut vals = Vec::new();
        self.fetch.fetch(c, false, &mut vals);
        let v = vals.pop()?;
        self.convert(v)
    }

    /// Every value, for matching: converted values that survive, and
    /// whether more data could change the outcome.
    pub fn eval_all<'a>(&self, c: &Ctx<'a>, out: &mut Vec<Smp<'a>>) -> bool {
        let mut vals = Vec::new();
        let more = self.fetch.fetch(c, true, &mut vals);
        out.extend(vals.into_iter().filter_map(|v| self.convert(v)));
        more
    }
}
