//! Log-format strings as used by rule arguments (`set-header X %[src]`,
//! `lf-string`, redirect locations).
//!
//! Owns: parsing the subset we implement (literal text, `%%`, `%[expr]`
//! with converters, `%ci`, `%cp`, `%fi`, `%fp`, `%fe`, `%b`) and rendering
//! it. Anything else is an error at startup. Must not evaluate ACLs.

use super::fetch::{Ctx, Expr, Fetch};
use std::path::Path;

#[derive(Debug, Clone)]
enum Piece {
    Lit(Vec<u8>),
    Expr(Expr),
}

/// A compiled log-format string.
#[derive(Debug, Clone)]
pub struct Fmt(Vec<Piece>);

fn alias(name: &str) -> Option<Fetch> {
    Some(match name {
        "ci" => Fetch::Src,
        "cp" => Fetch::SrcPort,
        "fi" => Fetch::Dst,
        "fp" => Fetch::DstPort,
        "f" => Fetch::FeName,
        "b" => Fetch::BeName,
        _ => return None,
    })
}

impl Fmt {
    pub fn parse(s: &str) -> Result<Fmt, String> {
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
            let (expr, used) = if rest.starts_with('%') {
                lit.push(b'%');
                i += 2;
                continue;
            } else if let Some(inner) = rest.strip_prefix('[') {
                let (se, end) =
                    crate::config::sample::parse_sample_expr_prefix(inner, Path::new("."))
                        .map_err(|e| crate::config::sample::logformat_error(inner, &e))?;
                if inner.as_bytes().get(end) != Some(&b']') {
                    return Err(format!("missing ']' in log-format '{s}'"));
                }
                (Expr::compile(&se)?, end + 3)
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                let f = alias(&name)
                    .ok_or_else(|| format!("log-format variable '%{name}' is not implemented"))?;
                (
                    Expr {
                        fetch: f,
                        convs: Vec::new(),
                    },
                    name.len() + 1,
                )
            };
            if !lit.is_empty() {
                out.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            out.push(Piece::Expr(expr));
            i += used;
        }
        if !lit.is_empty() {
            out.push(Piece::Lit(lit));
        }
        Ok(Fmt(out))
    }

    /// A literal that needs no evaluation.
    pub fn literal(s: &str) -> Fmt {
        Fmt(vec![Piece::Lit(s.as_bytes().to_vec())])
    }

    pub fn render(&self, c: &Ctx<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.0 {
            match p {
                Piece::Lit(l) => out.extend_from_slice(l),
                Piece::Expr(e) => {
                    if let Some(v) = e.eval(c) {
                        out.extend_from_slice(&v.to_bytes());
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_fetches() {
        let f = Fmt::parse("a%%b %[src] %ci:%cp %[str(AbC),lower]").unwrap();
        let c = Ctx {
            src: "10.1.2.3".parse().ok(),
            src_port: Some(42),
            ..Ctx::default()
        };
        assert_eq!(f.render(&c), b"a%b 10.1.2.3 10.1.2.3:42 abc");
        assert!(Fmt::parse("%[src,frobnicate]").is_err());
        assert!(Fmt::parse("%T").is_err());
    }
}
