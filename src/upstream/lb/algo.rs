//! The `balance` and `hash-type` settings of a backend, parsed.
//!
//! Owns: the algorithm and its options, which algorithms Switchyard does
//! not implement (refused at start-up by name), and the numeric server ids
//! the consistent hash keys on. Must not select servers.

use super::hash::HashType;
use super::key::UriOpts;
use crate::config::ir::Proxy;

/// What `balance hash <expr>` may hash (simple fetches only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `path`
    Path,
    /// `src`: the address bytes (4 for IPv4, 16 for IPv6).
    Src,
    /// `req.hdr(name)` / `hdr(name)`: the last value.
    ReqHdr(String),
    /// `url_param(name)` / `urlp(name)`.
    UrlParam(String),
}

impl Expr {
    fn parse(s: &str) -> Option<Expr> {
        let arg = |p: &str| {
            s.strip_prefix(p)
                .and_then(|r| r.strip_suffix(')'))
                .filter(|a| !a.is_empty() && !a.contains([',', '(', ')']))
                .map(str::to_string)
        };
        match s {
            "path" => Some(Expr::Path),
            "src" => Some(Expr::Src),
            _ => arg("req.hdr(")
                .or_else(|| arg("hdr("))
                .map(Expr::ReqHdr)
                .or_else(|| {
                    arg("url_param(")
                        .or_else(|| arg("urlp("))
                        .map(Expr::UrlParam)
                }),
        }
    }
}

/// The `balance` algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    Uri(UriOpts),
    UrlParam(String),
    Hdr {
        name: String,
        domain_only: bool,
    },
    /// `random[(draws)]`: power of `draws` choices on the consistent ring.
    Random(u32),
    Hash(Expr),
}

/// A backend's balancing settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Algo {
    pub kind: Kind,
    pub hash: HashType,
    /// Numeric server ids (`id` or HAProxy's automatic ones), in server
    /// declaration order; empty means 1, 2, 3...
    pub ids: Vec<u32>,
}

impl Algo {
    /// Reads `balance` words alone; unknown, unsupported or missing
    /// algorithms fall back to HAProxy's default, roundrobin (start-up
    /// refuses the unsupported ones before this matters).
    pub fn from_words(words: Option<&[String]>) -> Algo {
        let kind = words
            .and_then(|w| parse_balance(w).ok())
            .unwrap_or(Kind::RoundRobin);
        Algo {
            kind,
            hash: HashType::default(),
            ids: Vec::new(),
        }
    }

    /// Reads `balance`, the proxy's last `hash-type` and the server ids.
    pub fn from_proxy(p: &Proxy) -> Algo {
        let mut a = Algo::from_words(p.balance.as_deref());
        if let Some(h) = &p.hash_type {
            a.hash = HashType::parse(h).unwrap_or_default();
        }
        let explicit: Vec<Option<u32>> = p
            .servers
            .iter()
            .map(|s| {
                s.options
                    .iter()
                    .rev()
                    .find(|(k, _)| k == "id")
                    .and_then(|(_, v)| v.first())
                    .and_then(|v| v.parse().ok())
            })
            .collect();
        a.ids = assign_ids(&explicit);
        a
    }

    /// Whether the algorithm hashes something of the HTTP request.
    pub fn needs_request(&self) -> bool {
        matches!(
            self.kind,
            Kind::Uri(_) | Kind::UrlParam(_) | Kind::Hdr { .. } | Kind::Hash(_)
        )
    }
}

/// `hash-balance-factor` of a proxy (percent, the last line wins; 0:
/// none): consistent hashing skips servers above this share of the
/// average load.
pub fn balance_factor(p: &Proxy) -> u32 {
    p.directives
        .iter()
        .rev()
        .find(|d| d.words.first().is_some_and(|w| w == "hash-balance-factor"))
        .and_then(|d| d.words.get(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// HAProxy's automatic ids: servers without `id` take the lowest free
/// number, starting at 1, in declaration order.
pub fn assign_ids(explicit: &[Option<u32>]) -> Vec<u32> {
    let used: std::collections::BTreeSet<u32> = explicit.iter().flatten().copied().collect();
    let mut next = 1u32;
    explicit
        .iter()
        .map(|e| {
            e.unwrap_or_else(|| {
                while used.contains(&next) {
                    next += 1;
                }
                next += 1;
                next - 1
            })
        })
        .collect()
}

fn num(s: Option<&String>) -> usize {
    s.and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Parses `balance` arguments into an implemented algorithm, or names the
/// unimplemented one (`Err("balance rdp-cookie")`).
pub fn parse_balance(words: &[String]) -> Result<Kind, String> {
    let Some(first) = words.first() else {
        return Ok(Kind::RoundRobin);
    };
    let rest = &words[1..];
    let base = first.split('(').next().unwrap_or("");
    let kind = match base {
        "roundrobin" => Kind::RoundRobin,
        "static-rr" => Kind::StaticRr,
        "leastconn" => Kind::LeastConn,
        "first" => Kind::First,
        "source" => Kind::Source,
        "uri" => {
            let mut o = UriOpts::default();
            let mut i = 0;
            while i < rest.len() {
                match rest[i].as_str() {
                    "whole" => o.whole = true,
                    "path-only" => o.path_only = true,
                    "len" => {
                        o.len = num(rest.get(i + 1));
                        i += 1;
                    }
                    "depth" => {
                        o.depth = num(rest.get(i + 1));
                        i += 1;
                    }
                    _ => {}
                }
                i += 1;
            }
            Kind::Uri(o)
        }
        "url_param" => match rest.first() {
            Some(n) => Kind::UrlParam(n.clone()),
            None => return Err("balance url_param".into()),
        },
        "hdr" => {
            let name = first
                .strip_prefix("hdr(")
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or("");
            if name.is_empty() {
                return Err("balance hdr()".into());
            }
            Kind::Hdr {
                name: name.to_string(),
                domain_only: rest.iter().any(|w| w == "use_domain_only"),
            }
        }
        "random" => {
            let draws = first
                .strip_prefix("random(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|d| d.parse().ok())
                .unwrap_or(2u32);
            Kind::Random(draws.max(1))
        }
        "hash" => match rest.first().and_then(|e| Expr::parse(e)) {
            Some(e) => Kind::Hash(e),
            None => {
                return Err(format!(
                    "balance hash {}",
                    rest.first().map(String::as_str).unwrap_or("")
                ));
            }
        },
        _ => return Err(format!("balance {base}")),
    };
    Ok(kind)
}

/// The name of a `balance` form Switchyard does not implement, for the
/// start-up refusal (`None` when it is implemented).
pub fn unsupported_balance(words: &[String]) -> Option<String> {
    parse_balance(words).err()
}
