//! Load-time validation of PCRE2 regular expressions.
//!
//! Owns: reproducing PCRE2's compile errors (`regex '%s' is invalid
//! (error=..., erroffset=N)`) for the common mistakes, and compiling with the
//! `regex` crate when the syntax is one it understands. PCRE-only syntax the
//! crate rejects (lookaround, backreferences, possessive quantifiers...) is
//! accepted, as PCRE2 accepts it. Must not evaluate anything.

/// Checks `re` like HAProxy's `regex_comp()`; on failure returns the
/// message HAProxy prints.
pub fn check_regex(re: &str, icase: bool) -> Result<Option<regex::Regex>, String> {
    if let Some((msg, off)) = pcre_error(re) {
        return Err(format!(
            "regex '{re}' is invalid (error={msg}, erroffset={off})"
        ));
    }
    let built = regex::RegexBuilder::new(re).case_insensitive(icase).build();
    Ok(built.ok())
}

/// Minimal PCRE2 syntax scanner: returns (message, offset) of the first
/// error PCRE2 would report for the constructs it knows.
fn pcre_error(re: &str) -> Option<(&'static str, usize)> {
    let b = re.as_bytes();
    let n = b.len();
    let mut i = 0;
    let mut depth: usize = 0;
    // whether the previous item can be repeated
    let mut repeatable = false;
    while i < n {
        let c = b[i];
        match c {
            b'\\' => {
                if i + 1 >= n {
                    return Some(("\\ at end of pattern", n));
                }
                let e = b[i + 1];
                if e == b'p' || e == b'P' {
                    // \pL or \p{...}
                    if i + 2 >= n {
                        return Some(("malformed \\P or \\p sequence", n));
                    }
                    if b[i + 2] == b'{' {
                        match re[i + 3..].find('}') {
                            Some(p) => i = i + 3 + p + 1,
                            None => return Some(("malformed \\P or \\p sequence", n)),
                        }
                    } else {
                        i += 3;
                    }
                } else if e == b'Q' {
                    match re[i + 2..].find("\\E") {
                        Some(p) => i = i + 2 + p + 2,
                        None => i = n,
                    }
                } else {
                    i += 2;
                }
                repeatable = true;
            }
            b'[' => {
                match scan_class(b, i) {
                    Ok(end) => i = end,
                    Err(e) => return Some(e),
                }
                repeatable = true;
            }
            b'(' => {
                depth += 1;
                i += 1;
                // skip group prefixes such as ?: ?= ?<name> ?P<name> *VERB
                if i < n && (b[i] == b'?' || b[i] == b'*') {
                    i += 1;
                }
                repeatable = false;
            }
            b')' => {
                if depth == 0 {
                    return Some(("unmatched closing parenthesis", i));
                }
                depth -= 1;
                i += 1;
                repeatable = true;
            }
            b'*' | b'+' | b'?' => {
                if !repeatable {
                    return Some(("quantifier does not follow a repeatable item", i));
                }
                i += 1;
                // lazy/possessive suffix
                if i < n && (b[i] == b'?' || b[i] == b'+') {
                    i += 1;
                }
                repeatable = false;
            }
            b'{' => {
                if let Some((lo, hi, end)) = quantifier(b, i) {
                    if !repeatable {
                        return Some(("quantifier does not follow a repeatable item", i));
                    }
                    if let (Some(lo), Some(hi)) = (lo, hi)
                        && lo > hi
                    {
                        return Some(("numbers out of order in {} quantifier", end - 1));
                    }
                    i = end;
                    if i < n && (b[i] == b'?' || b[i] == b'+') {
                        i += 1;
                    }
                    repeatable = false;
                } else {
                    i += 1;
                    repeatable = true;
                }
            }
            b'^' | b'$' | b'|' => {
                i += 1;
                repeatable = c == b'$' || c == b'^';
                if c == b'|' {
                    repeatable = false;
                }
            }
            _ => {
                i += 1;
                repeatable = true;
            }
        }
    }
    if depth > 0 {
        return Some(("missing closing parenthesis", n));
    }
    None
}

/// Parses `{n}`, `{n,}`, `{n,m}` at `i`; None when it is a literal brace.
fn quantifier(b: &[u8], i: usize) -> Option<(Option<u64>, Option<u64>, usize)> {
    let mut j = i + 1;
    let num = |j: &mut usize| -> Option<u64> {
        let s = *j;
        while *j < b.len() && b[*j].is_ascii_digit() {
            *j += 1;
        }
        if *j == s {
            None
        } else {
            std::str::from_utf8(&b[s..*j]).ok()?.parse().ok()
        }
    };
    let lo = num(&mut j);
    lo?;
    let mut hi = lo;
    if j < b.len() && b[j] == b',' {
        j += 1;
        hi = num(&mut j);
    }
    if j < b.len() && b[j] == b'}' {
        Some((lo, hi, j + 1))
    } else {
        None
    }
}

/// Scans a character class starting at `[`; returns the index after `]`.
fn scan_class(b: &[u8], start: usize) -> Result<usize, (&'static str, usize)> {
    let n = b.len();
    let mut i = start + 1;
    if i < n && b[i] == b'^' {
        i += 1;
    }
    // a leading ']' is literal
    if i < n && b[i] == b']' {
        i += 1;
    }
    let mut prev: Option<u8> = None;
    while i < n {
        let c = b[i];
        if c == b']' {
            return Ok(i + 1);
        }
        if c == b'['
            && i + 1 < n
            && b[i + 1] == b':'
            && let Some(p) = b[i + 2..].windows(2).position(|w| w == b":]")
        {
            i = i + 2 + p + 2;
            prev = None;
            continue;
        }
        let (val, next) = if c == b'\\' {
            if i + 1 >= n {
                return Err(("\\ at end of pattern", n));
            }
            let e = b[i + 1];
            let lit = match e {
                b'd' | b'D' | b'w' | b'W' | b's' | b'S' | b'h' | b'H' | b'v' | b'V' => None,
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                _ if e.is_ascii_alphanumeric() => None,
                _ => Some(e),
            };
            (lit, i + 2)
        } else {
            (Some(c), i + 1)
        };
        // range?
        if next + 1 < n && b[next] == b'-' && b[next + 1] != b']' {
            let hi_pos = next + 1;
            let (hi, after) = if b[hi_pos] == b'\\' {
                if hi_pos + 1 >= n {
                    return Err(("\\ at end of pattern", n));
                }
                let e = b[hi_pos + 1];
                let v = if e.is_ascii_alphanumeric() {
                    None
                } else {
                    Some(e)
                };
                (v, hi_pos + 2)
            } else {
                (Some(b[hi_pos]), hi_pos + 1)
            };
            if let (Some(lo), Some(h)) = (val, hi)
                && lo > h
            {
                return Err(("range out of order in character class", after - 1));
            }
            i = after;
            prev = None;
            continue;
        }
        prev = val;
        i = next;
    }
    let _ = prev;
    Err(("missing terminating ] for character class", n))
}

#[cfg(test)]
mod tests {
    use super::check_regex;

    fn err(re: &str) -> String {
        check_regex(re, false).err().unwrap_or_default()
    }

    #[test]
    fn messages_match_haproxy() {
        // all captured from haproxy 2.6.12 (`acl a path_reg <re>`)
        let cases = [
            (
                "(",
                "regex '(' is invalid (error=missing closing parenthesis, erroffset=1)",
            ),
            (
                "a(",
                "regex 'a(' is invalid (error=missing closing parenthesis, erroffset=2)",
            ),
            (
                "[z-a]",
                "regex '[z-a]' is invalid (error=range out of order in character class, erroffset=3)",
            ),
            (
                "a\\",
                "regex 'a\\' is invalid (error=\\ at end of pattern, erroffset=2)",
            ),
            (
                "\\",
                "regex '\\' is invalid (error=\\ at end of pattern, erroffset=1)",
            ),
            (
                "a{2,1}",
                "regex 'a{2,1}' is invalid (error=numbers out of order in {} quantifier, erroffset=5)",
            ),
            (
                "*a",
                "regex '*a' is invalid (error=quantifier does not follow a repeatable item, erroffset=0)",
            ),
            (
                "a)",
                "regex 'a)' is invalid (error=unmatched closing parenthesis, erroffset=1)",
            ),
            (
                "[a",
                "regex '[a' is invalid (error=missing terminating ] for character class, erroffset=2)",
            ),
            (
                "a\\p",
                "regex 'a\\p' is invalid (error=malformed \\P or \\p sequence, erroffset=3)",
            ),
        ];
        for (re, want) in cases {
            assert_eq!(err(re), want, "{re}");
        }
    }

    #[test]
    fn pcre_only_syntax_accepted() {
        for re in [
            "a(?=b)",
            "(?<n>a)",
            "(?P<n>a)\\k<n>",
            "a++",
            "^[^/:]*://",
            "[]a]",
            "x{1,}",
            "{",
        ] {
            assert!(check_regex(re, false).is_ok(), "{re}");
        }
    }
}
