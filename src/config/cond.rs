//! `.if` / `.elif` condition expressions (and `-cc`), parsed with nom.
//!
//! Owns: the expression grammar (terms, `!`, `&&`, `||`, parentheses,
//! predicates `defined feature streq strneq version_atleast version_before`)
//! and HAProxy's error texts with their positions. Must not read files.

use nom::{
    IResult, Parser,
    bytes::complete::{take_while, take_while1},
    character::complete::{char, multispace0},
};

/// The version we claim for `version_atleast()`/`version_before()`.
pub const VERSION: &str = "2.6.12";

/// Features reported by `-vv` that `feature()` recognises.
pub const FEATURES: &[&str] = &[
    "EPOLL",
    "TPROXY",
    "LINUX_TPROXY",
    "LINUX_SPLICE",
    "LIBCRYPT",
    "CRYPT_H",
    "GETADDRINFO",
    "OPENSSL",
    "TFO",
    "NS",
    "DL",
    "RT",
    "PRCTL",
    "THREAD_DUMP",
    "CPU_AFFINITY",
    "ACCEPT4",
    "CLOSEFROM",
    "ZLIB",
    "POLL",
    "THREAD",
    "BACKTRACE",
    "STATIC_PCRE",
    "PCRE2",
    "PCRE2_JIT",
    "SYSTEMD",
    "PROMEX",
    "LUA",
];

/// A parse error: message and 0-based offset in the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondError {
    pub msg: String,
    pub pos: usize,
}

/// Evaluates a condition text (the words of the line re-joined by spaces).
/// `getenv` answers `defined()`.
pub fn eval(text: &str, getenv: &dyn Fn(&str) -> Option<String>) -> Result<bool, CondError> {
    let mut p = Evaluator { src: text, getenv };
    let (rest, v) = p.or_expr(text)?;
    let rest_trim = rest.trim_start();
    if !rest_trim.is_empty() {
        return Err(CondError {
            msg: "unexpected character".into(),
            pos: text.len() - rest_trim.len(),
        });
    }
    Ok(v)
}

struct Evaluator<'a, 'e> {
    src: &'a str,
    getenv: &'e dyn Fn(&str) -> Option<String>,
}

type R<'a, T> = Result<(&'a str, T), CondError>;

impl<'a> Evaluator<'a, '_> {
    fn pos(&self, rest: &str) -> usize {
        self.src.len() - rest.len()
    }

    fn or_expr(&mut self, s: &'a str) -> R<'a, bool> {
        let (mut s, mut v) = self.and_expr(s)?;
        loop {
            let t = s.trim_start();
            if let Some(r) = t.strip_prefix("||") {
                let (r2, v2) = self.and_expr(r)?;
                v = v || v2;
                s = r2;
            } else {
                return Ok((s, v));
            }
        }
    }

    fn and_expr(&mut self, s: &'a str) -> R<'a, bool> {
        let (mut s, mut v) = self.term(s)?;
        loop {
            let t = s.trim_start();
            if let Some(r) = t.strip_prefix("&&") {
                let (r2, v2) = self.term(r)?;
                v = v && v2;
                s = r2;
            } else {
                return Ok((s, v));
            }
        }
    }

    fn term(&mut self, s: &'a str) -> R<'a, bool> {
        let s = s.trim_start();
        if let Some(r) = s.strip_prefix('!') {
            let (r, v) = self.term(r)?;
            return Ok((r, !v));
        }
        if let Some(r) = s.strip_prefix('(') {
            let (r, v) = self.or_expr(r)?;
            let r = r.trim_start();
            return match r.strip_prefix(')') {
                Some(r) => Ok((r, v)),
                None => Err(CondError {
                    msg: "expected ')'".into(),
                    pos: self.pos(r),
                }),
            };
        }
        if s.is_empty() {
            return Ok((s, false));
        }
        // Numbers: zero is false, anything else true.
        if s.as_bytes()[0].is_ascii_digit() || s.starts_with('-') {
            let (r, num) = take_number(s).map_err(|_| CondError {
                msg: "unparsable conditional expression".into(),
                pos: self.pos(s),
            })?;
            return Ok((r, num.parse::<i64>().map(|n| n != 0).unwrap_or(true)));
        }
        let ident: IResult<&str, &str> =
            take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_').parse(s);
        let (r, name) = match ident {
            Ok(x) => x,
            Err(_) => {
                return Err(CondError {
                    msg: format!("unparsable conditional expression '{}'", s),
                    pos: self.pos(s),
                });
            }
        };
        let pred_pos = self.pos(s);
        let unknown = || CondError {
            msg: format!("unknown term '{}'", s),
            pos: pred_pos,
        };
        let known = [
            "defined",
            "feature",
            "streq",
            "strneq",
            "version_atleast",
            "version_before",
        ];
        if !known.contains(&name) {
            return Err(CondError {
                msg: format!("unparsable conditional expression '{}'", s),
                pos: pred_pos,
            });
        }
        let open: IResult<&str, char> = (multispace0, char('(')).map(|(_, c)| c).parse(r);
        let (r, _) = open.map_err(|_| CondError {
            msg: format!("missing opening parenthesis in '{}'", s),
            pos: pred_pos,
        })?;
        let (r, args) = self.args(r)?;
        let need = match name {
            "streq" | "strneq" => 2,
            _ => 1,
        };
        if args.len() != need {
            let _ = unknown;
            return Err(CondError {
                msg: format!("function '{name}' expects {need} arguments in '{}'", s),
                pos: pred_pos,
            });
        }
        let v = match name {
            "defined" => (self.getenv)(&args[0]).is_some(),
            "feature" => FEATURES.iter().any(|f| f.eq_ignore_ascii_case(&args[0])),
            "streq" => args[0] == args[1],
            "strneq" => args[0] != args[1],
            "version_atleast" => compare_versions(VERSION, &args[0]) >= 0,
            "version_before" => compare_versions(VERSION, &args[0]) < 0,
            _ => false,
        };
        Ok((r, v))
    }

    /// Arguments up to the closing parenthesis, separated by commas.
    fn args(&mut self, s: &'a str) -> R<'a, Vec<String>> {
        let mut out = Vec::new();
        let mut rest = s;
        loop {
            let arg: IResult<&str, &str> = take_while(|c: char| c != ',' && c != ')').parse(rest);
            let (r, a) = arg.map_err(|_| CondError {
                msg: "missing closing parenthesis".into(),
                pos: self.pos(rest),
            })?;
            out.push(a.trim().to_string());
            if let Some(r2) = r.strip_prefix(',') {
                rest = r2;
            } else if let Some(r2) = r.strip_prefix(')') {
                if out.len() == 1 && out[0].is_empty() {
                    out.clear();
                }
                return Ok((r2, out));
            } else {
                return Err(CondError {
                    msg: "missing closing parenthesis".into(),
                    pos: self.pos(r),
                });
            }
        }
    }
}

fn take_number(s: &str) -> IResult<&str, &str> {
    nom::combinator::recognize((
        nom::combinator::opt(char('-')),
        take_while1(|c: char| c.is_ascii_digit()),
    ))
    .parse(s)
}

/// Compares HAProxy version strings component-wise (`2.4-dev19` < `2.4`).
/// Returns -1, 0 or 1.
pub fn compare_versions(a: &str, b: &str) -> i32 {
    let pa = version_key(a);
    let pb = version_key(b);
    match pa.cmp(&pb) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

/// (major, minor, patch, build, stage) where stage orders dev < pre < rc < release.
fn version_key(v: &str) -> (u32, u32, u32, u32, i64) {
    let (nums, suffix) = match v.find('-') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, ""),
    };
    let mut it = nums.split('.').map(|x| {
        x.chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse::<u32>()
            .unwrap_or(0)
    });
    let major = it.next().unwrap_or(0);
    let minor = it.next().unwrap_or(0);
    let patch = it.next().unwrap_or(0);
    let build = it.next().unwrap_or(0);
    let num_of = |p: &str| -> i64 {
        suffix[p.len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse::<i64>()
            .unwrap_or(0)
    };
    let stage = if suffix.starts_with("dev") {
        -3000 + num_of("dev")
    } else if suffix.starts_with("pre") {
        -2000 + num_of("pre")
    } else if suffix.starts_with("rc") {
        -1000 + num_of("rc")
    } else {
        0
    };
    (major, minor, patch, build, stage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> Result<bool, CondError> {
        eval(s, &|n| (n == "HOME").then(|| "x".to_string()))
    }

    #[test]
    fn predicates_and_logic() {
        assert_eq!(ev("defined(HOME)"), Ok(true));
        assert_eq!(ev("!defined(NOPE)"), Ok(true));
        assert_eq!(ev("streq(a,a) && strneq(a,b)"), Ok(true));
        assert_eq!(ev("0 || (1 && !0)"), Ok(true));
        assert_eq!(ev(""), Ok(false));
        assert_eq!(ev("version_atleast(2.4-dev19)"), Ok(true));
        assert_eq!(ev("version_before(2.6)"), Ok(false));
        assert_eq!(ev("version_before(2.7-dev0)"), Ok(true));
        assert_eq!(ev("feature(OPENSSL)"), Ok(true));
    }

    #[test]
    fn unknown_term_reports_position() {
        let e = ev("frobnicate(1)").unwrap_err();
        assert_eq!(e.pos, 0);
        assert!(
            e.msg
                .starts_with("unparsable conditional expression 'frobnicate(1)'")
        );
    }
}
