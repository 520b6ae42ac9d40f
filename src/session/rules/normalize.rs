//! `http-request normalize-uri <normalizer>`: HAProxy 2.6's URI
//! normalizers (`uri_normalizer.c` and `http_action_normalize_uri`).
//!
//! Owns: parsing the normalizer name and its `full`/`strict` option, and
//! rewriting a request URI with it. Path normalizers work on the path
//! without the query; percent and fragment ones on path and query
//! together; `query-sort-by-name` on the query. The scheme and authority
//! of an absolute URI are kept. Must not do I/O.

/// One normalizer, with its option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalizer {
    FragmentEncode,
    FragmentStrip,
    PathMergeSlashes,
    PathStripDot,
    /// `path-strip-dotdot [full]`.
    PathStripDotdot {
        full: bool,
    },
    /// `percent-decode-unreserved [strict]`.
    PercentDecodeUnreserved {
        strict: bool,
    },
    /// `percent-to-uppercase [strict]`.
    PercentToUppercase {
        strict: bool,
    },
    QuerySortByName,
}

/// Parses the words after `normalize-uri` (condition excluded), with
/// HAProxy's messages; words left over are an error.
pub fn parse(args: &[String]) -> Result<Normalizer, String> {
    let (n, used) = parse_prefix(args)?;
    match args.get(used) {
        None => Ok(n),
        Some(x) => Err(format!(
            "expects either 'if' or 'unless' followed by a condition but found '{x}'"
        )),
    }
}

/// The normalizer at the start of `args` and how many words it took
/// (`-c` reports the words after it with the generic rule message).
pub fn parse_prefix(args: &[String]) -> Result<(Normalizer, usize), String> {
    use Normalizer as N;
    let name = args.first().ok_or("missing argument <normalizer>")?;
    let opt = args
        .get(1)
        .map(String::as_str)
        .filter(|o| *o != "if" && *o != "unless");
    let with_opt = |word: &str| -> Result<bool, String> {
        match opt {
            None => Ok(false),
            Some(o) if o == word => Ok(true),
            Some(o) => Err(format!("unknown argument '{o}' for '{name}' normalizer")),
        }
    };
    let n = match name.as_str() {
        "path-merge-slashes" => N::PathMergeSlashes,
        "path-strip-dot" => N::PathStripDot,
        "path-strip-dotdot" => N::PathStripDotdot {
            full: with_opt("full")?,
        },
        "query-sort-by-name" => N::QuerySortByName,
        "percent-to-uppercase" => N::PercentToUppercase {
            strict: with_opt("strict")?,
        },
        "percent-decode-unreserved" => N::PercentDecodeUnreserved {
            strict: with_opt("strict")?,
        },
        "fragment-strip" => N::FragmentStrip,
        "fragment-encode" => N::FragmentEncode,
        other => return Err(format!("unknown normalizer '{other}'")),
    };
    let used = match n {
        N::PathStripDotdot { full: o }
        | N::PercentToUppercase { strict: o }
        | N::PercentDecodeUnreserved { strict: o } => 1 + usize::from(o),
        _ => 1,
    };
    Ok((n, used))
}

/// What HAProxy 2.6.12 really runs for `n` when a condition follows it:
/// the parser leaves the action unset (so `path-merge-slashes`, value 0)
/// for `path-strip-dotdot`, `percent-to-uppercase` and
/// `percent-decode-unreserved` without their option word.
pub fn with_condition(n: Normalizer) -> Normalizer {
    use Normalizer as N;
    match n {
        N::PathStripDotdot { full: false }
        | N::PercentToUppercase { strict: false }
        | N::PercentDecodeUnreserved { strict: false } => N::PathMergeSlashes,
        other => other,
    }
}

/// A `strict` normalizer met a bad percent sequence (HAProxy answers 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid percent-encoded sequence")]
pub struct BadEscape;

/// The URI after `n`.
pub fn apply(n: Normalizer, uri: &str) -> Result<String, BadEscape> {
    use Normalizer as N;
    // The authority prefix of an absolute URI, then path and query.
    let start = match uri.find("://") {
        Some(i) if !uri.starts_with('/') => uri[i + 3..].find('/').map_or(uri.len(), |j| i + 3 + j),
        _ => 0,
    };
    let (pre, pathq) = uri.split_at(start);
    let (path, query) = match pathq.find('?') {
        Some(q) => pathq.split_at(q),
        None => (pathq, ""),
    };
    let b = pathq.as_bytes();
    let out: Vec<u8> = match n {
        N::PathMergeSlashes => [merge_slashes(path.as_bytes()), query.into()].concat(),
        N::PathStripDot => [strip_dot(path.as_bytes()), query.into()].concat(),
        N::PathStripDotdot { full } => [strip_dotdot(path.as_bytes(), full), query.into()].concat(),
        N::QuerySortByName => [path.as_bytes(), &sort_query(query.as_bytes())].concat(),
        N::PercentToUppercase { strict } => percent(b, strict, false)?,
        N::PercentDecodeUnreserved { strict } => percent(b, strict, true)?,
        N::FragmentStrip => b[..b.iter().position(|&c| c == b'#').unwrap_or(b.len())].to_vec(),
        N::FragmentEncode => {
            let mut o = Vec::with_capacity(b.len() + 8);
            for &c in b {
                if c == b'#' {
                    o.extend_from_slice(b"%23");
                } else {
                    o.push(c);
                }
            }
            o
        }
    };
    let mut s = String::with_capacity(pre.len() + out.len());
    s.push_str(pre);
    s.push_str(&String::from_utf8_lossy(&out));
    Ok(s)
}

fn merge_slashes(p: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(p.len());
    for &c in p {
        if !(c == b'/' && o.last() == Some(&b'/')) {
            o.push(c);
        }
    }
    o
}

/// Drops every `.` segment with the slash that follows it.
fn strip_dot(p: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(p.len());
    let mut segs = p.split(|&c| c == b'/').peekable();
    while let Some(seg) = segs.next() {
        let last = segs.peek().is_none();
        // A trailing slash yields a final empty segment: the slash
        // before it was already written.
        if last && seg.is_empty() && !p.is_empty() {
            break;
        }
        if seg != b"." {
            o.extend_from_slice(seg);
            if !last {
                o.push(b'/');
            }
        }
    }
    o
}

/// Merges `/../` with the segment before it, walking backwards as
/// HAProxy does; without `full`, unconsumed `/..` stay at the start.
fn strip_dotdot(p: &[u8], full: bool) -> Vec<u8> {
    let mut rev: Vec<u8> = Vec::with_capacity(p.len());
    let mut off = p.len() as isize - 1;
    let mut up = 0usize;
    let at = |i: isize, s: &[u8]| i >= 0 && p[i as usize..].starts_with(s);
    if off >= 2 && at(off - 2, b"/..") && off as usize == p.len() - 1 {
        up += 1;
        off -= 2;
    }
    while off >= 0 {
        if off >= 3 && at(off - 3, b"/../") {
            up += 1;
            off -= 3;
            continue;
        }
        if up > 0 {
            off -= 1;
            if off >= 0 {
                up -= 1;
                while off >= 0 && p[off as usize] != b'/' {
                    off -= 1;
                }
            }
        } else {
            rev.push(p[off as usize]);
            off -= 1;
            while off >= 0 && p[off as usize] != b'/' {
                rev.push(p[off as usize]);
                off -= 1;
            }
        }
    }
    if up > 0 {
        rev.push(b'/');
        if !full {
            for _ in 0..up {
                rev.extend_from_slice(b"../");
            }
        }
    }
    rev.reverse();
    rev
}

/// Sorts the `&`-separated parameters of `q` (with its leading `?`) by
/// name, stably; a trailing empty parameter is lost, as in HAProxy.
fn sort_query(q: &[u8]) -> Vec<u8> {
    let Some(rest) = q.strip_prefix(b"?") else {
        return q.to_vec();
    };
    let mut params: Vec<&[u8]> = rest.split(|&c| c == b'&').collect();
    if params.last().is_some_and(|p| p.is_empty()) {
        params.pop();
    }
    let name = |p: &[u8]| p.split(|&c| c == b'=').next().unwrap_or(p).to_vec();
    params.sort_by_key(|p| name(p));
    let mut o = b"?".to_vec();
    o.extend_from_slice(&params.join(&b'&'));
    o
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `percent-to-uppercase` (`decode` false) or `percent-decode-unreserved`.
fn percent(b: &[u8], strict: bool, decode: bool) -> Result<Vec<u8>, BadEscape> {
    let mut o = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c != b'%' {
            o.push(c);
            continue;
        }
        match (
            b.get(i).copied().and_then(hex),
            b.get(i + 1).copied().and_then(hex),
        ) {
            (Some(h), Some(l)) => {
                let v = h << 4 | l;
                if !decode {
                    o.extend_from_slice(&[
                        b'%',
                        b[i].to_ascii_uppercase(),
                        b[i + 1].to_ascii_uppercase(),
                    ]);
                } else if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                    o.push(v);
                } else {
                    o.extend_from_slice(&b[i - 1..i + 2]);
                }
                i += 2;
            }
            _ if strict => return Err(BadEscape),
            _ => o.push(c),
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(words: &str, uri: &str) -> Result<String, BadEscape> {
        let w: Vec<String> = words.split_whitespace().map(String::from).collect();
        apply(parse(&w).expect("valid normalizer"), uri)
    }

    // The examples of configuration.txt for HAProxy 2.6.
    #[test]
    fn documented_examples() {
        let ok = |w: &str, a: &str, b: &str| assert_eq!(n(w, a).as_deref(), Ok(b), "{w} {a}");
        ok("fragment-encode", "/#foo", "/%23foo");
        ok("fragment-strip", "/#foo", "/");
        for (a, b) in [("/.", "/"), ("/./bar/", "/bar/"), ("/a/./a", "/a/a")] {
            ok("path-strip-dot", a, b);
        }
        ok("path-strip-dot", "/.well-known/", "/.well-known/");
        for (a, b) in [
            ("/foo/../", "/"),
            ("/foo/../bar/", "/bar/"),
            ("/foo/bar/../", "/foo/"),
            ("/../bar/", "/../bar/"),
            ("/bar/../../", "/../"),
            ("/foo//../", "/foo/"),
            ("/foo/%2E%2E/", "/foo/%2E%2E/"),
        ] {
            ok("path-strip-dotdot", a, b);
        }
        ok("path-strip-dotdot full", "/../bar/", "/bar/");
        ok("path-strip-dotdot full", "/bar/../../", "/");
        ok("path-merge-slashes", "//", "/");
        ok("path-merge-slashes", "/foo//bar", "/foo/bar");
        for (a, b) in [
            ("/%61dmin", "/admin"),
            ("/foo%3Fbar=baz", "/foo%3Fbar=baz"),
            ("/%%36%36", "/%66"),
            ("/%ZZ", "/%ZZ"),
        ] {
            ok("percent-decode-unreserved", a, b);
        }
        assert_eq!(
            n("percent-decode-unreserved strict", "/%%36%36"),
            Err(BadEscape)
        );
        assert_eq!(
            n("percent-decode-unreserved strict", "/%ZZ"),
            Err(BadEscape)
        );
        ok("percent-to-uppercase", "/%6f", "/%6F");
        ok("percent-to-uppercase", "/%zz", "/%zz");
        assert_eq!(n("percent-to-uppercase strict", "/%zz"), Err(BadEscape));
        for (a, b) in [
            ("/?c=3&a=1&b=2", "/?a=1&b=2&c=3"),
            ("/?aaa=3&a=1&aa=2", "/?a=1&aa=2&aaa=3"),
            ("/?a=3&b=4&a=1&b=5&a=2", "/?a=3&a=1&a=2&b=4&b=5"),
        ] {
            ok("query-sort-by-name", a, b);
        }
    }

    #[test]
    fn absolute_uri_keeps_its_authority() {
        assert_eq!(
            n("path-merge-slashes", "http://h//a//b?x//y").as_deref(),
            Ok("http://h/a/b?x//y")
        );
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse(&["nope".into()]).is_err());
        assert!(parse(&["path-strip-dotdot".into(), "x".into()]).is_err());
        assert!(parse(&[]).is_err());
        // `-c` sees the condition after the normalizer.
        let w: Vec<String> = ["path-strip-dotdot", "if", "x"].map(String::from).into();
        assert_eq!(
            parse_prefix(&w),
            Ok((Normalizer::PathStripDotdot { full: false }, 1))
        );
    }
}
