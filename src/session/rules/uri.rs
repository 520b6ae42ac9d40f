//! Request line rewrites: `set-method`, `set-path`, `set-pathq`,
//! `set-query`, `set-uri`, `replace-path`, `replace-pathq`, `replace-uri`.
//!
//! Owns: splitting a request URI into its authority prefix, path and query
//! the way HAProxy does, and rebuilding it. Must not do I/O.

use super::headers::expand;
use regex::bytes::Regex;

/// What part of the request line a rewrite sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Path,
    Pathq,
    Query,
    Uri,
}

/// `(scheme://authority, path, query)` of a URI.
fn split(uri: &str) -> (&str, &str, Option<&str>) {
    let start = match uri.find("://") {
        Some(i) if !uri.starts_with('/') => uri[i + 3..].find('/').map_or(uri.len(), |j| i + 3 + j),
        _ => 0,
    };
    let (pre, rest) = uri.split_at(start);
    match rest.split_once('?') {
        Some((p, q)) => (pre, p, Some(q)),
        None => (pre, rest, None),
    }
}

fn join(pre: &str, path: &str, query: Option<&str>) -> String {
    let mut s = String::with_capacity(pre.len() + path.len() + 1);
    s.push_str(pre);
    s.push_str(path);
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    s
}

/// Sets `part` of `uri` to `v`.
pub fn set(uri: &str, part: Part, v: &str) -> String {
    let (pre, path, query) = split(uri);
    match part {
        Part::Uri => v.to_string(),
        Part::Path => join(pre, v, query),
        Part::Pathq => join(pre, v, None),
        // No `?` is added for an empty query.
        Part::Query if v.is_empty() && query.is_none() => uri.to_string(),
        Part::Query => join(pre, path, Some(v)),
    }
}

/// `replace-*`: when `re` matches the part, the whole part becomes the
/// expansion of `with` (HAProxy replaces the part, not the match).
pub fn replace(uri: &str, part: Part, re: &Regex, with: &[u8]) -> Option<String> {
    let (pre, path, query) = split(uri);
    let subject = match part {
        Part::Uri => uri.to_string(),
        Part::Path => path.to_string(),
        Part::Pathq | Part::Query => join("", path, query),
    };
    let caps = re.captures(subject.as_bytes())?;
    let new = String::from_utf8_lossy(&expand(with, &caps)).to_string();
    Some(match part {
        Part::Uri => new,
        Part::Path => join(pre, &new, query),
        Part::Pathq | Part::Query => join(pre, &new, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Request lines HAProxy 2.6.12 forwarded for these rules.
    #[test]
    fn sets_like_haproxy() {
        assert_eq!(set("/sp/a?q=1", Part::Path, "/np/sp/a"), "/np/sp/a?q=1");
        assert_eq!(set("/sq/a?q=1", Part::Query, "a=b"), "/sq/a?a=b");
        assert_eq!(set("/sq/a", Part::Query, "a=b"), "/sq/a?a=b");
        assert_eq!(set("http://h/x?q", Part::Path, "/y"), "http://h/y?q");
        assert_eq!(set("/a?b", Part::Pathq, "/npq"), "/npq");
    }

    #[test]
    fn replaces_whole_part() {
        let re = |s| Regex::new(s).unwrap();
        assert_eq!(
            replace("/rp/a/b?q=1", Part::Path, &re("^/rp/(.*)"), b"/X/\\1").as_deref(),
            Some("/X/a/b?q=1")
        );
        assert_eq!(
            replace("/rm/mid/x?q", Part::Path, &re("/mid"), b"/Y").as_deref(),
            Some("/Y?q")
        );
        assert_eq!(
            replace("/ru/k?j", Part::Uri, &re("^/ru(.*)"), b"/Z\\1").as_deref(),
            Some("/Z/k?j")
        );
        assert_eq!(
            replace("/rq/k?j", Part::Pathq, &re("^/rq(.*)"), b"/Q\\1").as_deref(),
            Some("/Q/k?j")
        );
        assert_eq!(replace("/a", Part::Path, &re("^/b"), b"/c"), None);
    }
}
