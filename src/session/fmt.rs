//! Log-format strings as used by rule arguments (`set-header X %[src]`,
//! `lf-string`, redirect locations).
//!
//! Owns: parsing the subset we implement (literal text, `%%`, `%[fetch]`,
//! `%ci`, `%cp`, `%fi`, `%fp`) and rendering it. Anything else is an error
//! at startup. Must not evaluate ACLs.

use super::fetch::{Ctx, Fetch};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(Vec<u8>),
    Fetch(Fetch),
}

/// A compiled log-format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmt(Vec<Piece>);

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
            let (piece, used) = if rest.starts_with('%') {
                lit.push(b'%');
                i += 2;
                continue;
            } else if let Some(inner) = rest.strip_prefix('[') {
                let end = inner
                    .find(']')
                    .ok_or_else(|| format!("missing ']' in log-format '{s}'"))?;
                let expr = &inner[..end];
                let f = Fetch::parse(expr)
                    .ok_or_else(|| format!("unsupported sample expression '%[{expr}]'"))?;
                (f, end + 3)
            } else {
                let two = rest.get(..2).unwrap_or("");
                let f = match two {
                    "ci" => Fetch::Src,
                    "cp" => Fetch::SrcPort,
                    "fi" => Fetch::Dst,
                    "fp" => Fetch::DstPort,
                    _ => return Err(format!("unsupported log-format variable in '{s}'")),
                };
                (f, 3)
            };
            if !lit.is_empty() {
                out.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            out.push(Piece::Fetch(piece));
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
        let mut vals = Vec::new();
        for p in &self.0 {
            match p {
                Piece::Lit(l) => out.extend_from_slice(l),
                Piece::Fetch(f) => {
                    vals.clear();
                    f.values(c, &mut vals);
                    // Single-valued fetches give the last occurrence, as
                    // HAProxy's hdr() does in a sample expression.
                    if let Some(v) = vals.last() {
                        out.extend_from_slice(v);
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
        let f = Fmt::parse("a%%b %[src] %ci:%cp").unwrap();
        let c = Ctx {
            src: "10.1.2.3".parse().ok(),
            src_port: Some(42),
            ..Ctx::default()
        };
        assert_eq!(f.render(&c), b"a%b 10.1.2.3 10.1.2.3:42");
        assert!(Fmt::parse("%[src,lower]").is_err());
        assert!(Fmt::parse("%T").is_err());
    }
}
