//! Extracting the bytes HAProxy hashes from a request.
//!
//! Owns: the `uri` walk (`len`, `depth`, `whole`, `path-only`), the
//! `url_param` scan of the query string, the `hdr()` value (first
//! comma-separated value; `use_domain_only` keeps the label before the
//! last dot), and the few sample fetches `balance hash` accepts. Pure
//! functions over byte slices; must not parse anything else of HTTP.

/// `balance uri` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UriOpts {
    pub whole: bool,
    pub path_only: bool,
    /// `len N`: only the first N characters (0 = all).
    pub len: usize,
    /// `depth N`: only the first N directories (0 = all).
    pub depth: usize,
}

/// The part of a request target after the scheme and authority (the path
/// and query of an absolute-form target; origin-form is unchanged).
pub fn path_and_query(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    match find(uri, b"://") {
        Some(i) => {
            let rest = &uri[i + 3..];
            match rest.iter().position(|&c| c == b'/') {
                Some(p) => &rest[p..],
                None => &[],
            }
        }
        None => &[],
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// The bytes `balance uri` hashes.
pub fn uri_key<'a>(uri: &'a [u8], o: &UriOpts) -> &'a [u8] {
    let uri = if o.path_only {
        path_and_query(uri)
    } else {
        uri
    };
    let limit = if o.len > 0 {
        o.len.min(uri.len())
    } else {
        uri.len()
    };
    let mut slashes = 0;
    let mut end = 0;
    while end < limit {
        match uri[end] {
            b'/' => {
                slashes += 1;
                if o.depth > 0 && slashes == o.depth + 1 {
                    break;
                }
            }
            b'?' if !o.whole => break,
            _ => {}
        }
        end += 1;
    }
    &uri[..end]
}

/// The value of the first `name=` parameter of the query string, as
/// `balance url_param` finds it (names compare case-sensitively).
pub fn url_param<'a>(uri: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let q = uri.iter().position(|&c| c == b'?')?;
    let mut params = &uri[q + 1..];
    let plen = name.len();
    while params.len() > plen {
        if params[plen] == b'=' && &params[..plen] == name {
            let v = &params[plen + 1..];
            let end = v.iter().position(|&c| c == b'&').unwrap_or(v.len());
            return Some(&v[..end]);
        }
        let amp = params.iter().position(|&c| c == b'&')?;
        params = &params[amp + 1..];
    }
    None
}

fn trim(v: &[u8]) -> &[u8] {
    let s = v
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t'))
        .unwrap_or(v.len());
    let e = v
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t'))
        .map_or(s, |e| e + 1);
    &v[s..e.max(s)]
}

/// The comma-separated values of every `name` header, in order.
pub fn header_values<'a, I>(headers: I, name: &str) -> Vec<&'a [u8]>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    headers
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(|&c| c == b',').map(trim))
        .collect()
}

/// `use_domain_only`: walking back from the end, the label between the
/// last dot and the dot before it (`www.example.com` gives `example`); a
/// value without a dot is used whole.
pub fn domain_only(v: &[u8]) -> &[u8] {
    let mut end = v.len();
    let mut i = v.len();
    let mut dohash = false;
    while i > 0 {
        if dohash {
            if v[i - 1] == b'.' {
                break;
            }
        } else if i < v.len() && v[i] == b'.' {
            end = i;
            dohash = true;
        }
        i -= 1;
    }
    &v[i..end]
}
