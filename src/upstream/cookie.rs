//! Cookie-based persistence (`cookie <name> ...` in a backend, `cookie
//! <value>` on its servers), as HAProxy 2.6 does it.
//!
//! Owns: the parsed `cookie` directive ([`Conf`]), reading the client's
//! `Cookie` headers (which server the client sticks to, removing or
//! un-prefixing the persistence cookie on its way to the server) and the
//! response side (deleting, rewriting or prefixing the server's own
//! `Set-Cookie`, inserting ours, `Cache-control: private` with `nocache`).
//! Works on header values only: must not choose servers by itself (the
//! caller decides what a match means) nor touch connections.

#[cfg(test)]
mod tests;

/// How the persistence cookie is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No keyword: only read, never modified.
    Passive,
    Rewrite,
    Insert,
    Prefix,
}

/// A `cookie` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conf {
    pub name: String,
    pub mode: Mode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    /// Every `domain`, joined the way HAProxy emits them (`a; domain=b`).
    pub domain: Option<String>,
    /// Seconds (0: unset).
    pub maxidle: u32,
    pub maxlife: u32,
    /// Every `attr`, joined with `; `.
    pub attrs: Option<String>,
}

impl Conf {
    /// Parses the words after `cookie`. `dynamic` is refused: cookie
    /// values derived from a secret key are not implemented.
    pub fn parse(words: &[String]) -> Result<Conf, String> {
        let name = words.first().cloned().unwrap_or_default();
        let mut c = Conf {
            name,
            mode: Mode::Passive,
            indirect: false,
            nocache: false,
            postonly: false,
            preserve: false,
            httponly: false,
            secure: false,
            domain: None,
            maxidle: 0,
            maxlife: 0,
            attrs: None,
        };
        let mut i = 1;
        while i < words.len() {
            let arg = |k: usize| words.get(k).map(String::as_str).unwrap_or("");
            match words[i].as_str() {
                "rewrite" => c.mode = Mode::Rewrite,
                "insert" => c.mode = Mode::Insert,
                "prefix" => c.mode = Mode::Prefix,
                "indirect" => c.indirect = true,
                "nocache" => c.nocache = true,
                "postonly" => c.postonly = true,
                "preserve" => c.preserve = true,
                "httponly" => c.httponly = true,
                "secure" => c.secure = true,
                "domain" => {
                    let d = arg(i + 1);
                    c.domain = Some(match c.domain.take() {
                        Some(prev) => format!("{prev}; domain={d}"),
                        None => d.to_string(),
                    });
                    i += 1;
                }
                "attr" => {
                    let a = arg(i + 1);
                    c.attrs = Some(match c.attrs.take() {
                        Some(prev) => format!("{prev}; {a}"),
                        None => a.to_string(),
                    });
                    i += 1;
                }
                k @ ("maxidle" | "maxlife") => {
                    let v = crate::config::units::parse_time_s(arg(i + 1))
                        .map_err(|_| format!("cookie: invalid '{k}' value"))?;
                    if k == "maxidle" {
                        c.maxidle = v;
                    } else {
                        c.maxlife = v;
                    }
                    i += 1;
                }
                "dynamic" => {
                    return Err("cookie: 'dynamic' is not supported by this engine".into());
                }
                other => return Err(format!("cookie: unexpected argument '{other}'")),
            }
            i += 1;
        }
        Ok(c)
    }

    fn dated(&self) -> bool {
        self.maxidle > 0 || self.maxlife > 0
    }
}

/// What the client's cookie said (HAProxy's `TX_CK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seen {
    #[default]
    None,
    /// No server has this value.
    Invalid,
    /// Designates a server that is down.
    Down,
    /// Designates a server in service.
    Valid,
    /// `maxidle` exceeded.
    Expired,
    /// `maxlife` exceeded.
    Old,
    /// Persistence was ignored or already decided.
    Unused,
}

/// The persistence state of one request.
#[derive(Debug, Clone, Default)]
pub struct ReqState {
    /// Index of the server the cookie designates (and may be used).
    pub server: Option<usize>,
    pub seen: Seen,
    /// Dates carried by the cookie (seconds since the epoch, 0: absent).
    pub last_date: u32,
    pub first_date: u32,
}

/// A server as the cookie code sees it.
pub struct Candidate<'a> {
    /// The server's `cookie` value.
    pub cookie: Option<&'a str>,
    /// Not stopped (up, or draining): HAProxy's `cur_state != STOPPED`.
    pub running: bool,
}

/// One item of a `Cookie` header: bounds in the header value.
struct Item {
    /// Where the item starts (the delimiter before it, or 0).
    prev: usize,
    att: (usize, usize),
    /// `None` without an equal sign.
    val: Option<(usize, usize)>,
    /// The delimiter after the item (or the end).
    next: usize,
}

fn is_sp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The end of a cookie value starting at `from`: the first `;` or `,`
/// outside double quotes.
fn value_end(h: &[u8], from: usize, comma: bool) -> usize {
    let mut i = from;
    let mut quoted = false;
    while i < h.len() {
        match h[i] {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            b';' if !quoted => return i,
            b',' if comma && !quoted => return i,
            _ => {}
        }
        i += 1;
    }
    h.len()
}

fn next_item(h: &[u8], prev: usize, first: bool, comma: bool) -> Item {
    let mut att_beg = if first { prev } else { prev + 1 };
    while att_beg < h.len() && is_sp(h[att_beg]) {
        att_beg += 1;
    }
    let (mut eq, mut att_end) = (att_beg, att_beg);
    while eq < h.len() {
        let c = h[eq];
        if c == b'=' || c == b';' || (comma && c == b',') {
            break;
        }
        eq += 1;
        if !is_sp(c) {
            att_end = eq;
        }
    }
    if eq < h.len() && h[eq] == b'=' {
        let mut vb = eq + 1;
        while vb < h.len() && is_sp(h[vb]) {
            vb += 1;
        }
        let next = value_end(h, vb, comma);
        let mut ve = next;
        while ve > vb && is_sp(h[ve - 1]) {
            ve -= 1;
        }
        Item {
            prev,
            att: (att_beg, att_end),
            val: Some((vb, ve)),
            next,
        }
    } else {
        Item {
            prev,
            att: (att_beg, att_end),
            val: None,
            next: eq,
        }
    }
}

/// HAProxy's 30-bit date encoding: five characters of its base64
/// alphabet, most significant first.
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn s30_to_b64(v: u32) -> [u8; 5] {
    let mut out = [0u8; 5];
    for (i, o) in out.iter_mut().enumerate() {
        *o = B64[((v >> (24 - 6 * i)) & 63) as usize];
    }
    out
}

/// The inverse of [`s30_to_b64`]; `None` on a character outside the
/// alphabet.
pub fn b64_to_s30(s: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in s.get(..5)? {
        let d = B64.iter().position(|&b| b == c)? as u32;
        v = (v << 6) | d;
    }
    Some(v)
}

/// Removes `h[from..to]`, HAProxy's way (`http_del_hdr_value`): at the
/// start of the header the following delimiter and blanks go too,
/// elsewhere the blanks before the removed delimiter. Returns the new
/// `from` and the length delta.
fn del_value(h: &mut Vec<u8>, from: usize, next: usize) -> (usize, isize) {
    let old = h.len();
    if from == 0 {
        let mut n = next;
        if n < h.len() {
            n += 1;
        }
        while n < h.len() && is_sp(h[n]) {
            n += 1;
        }
        h.drain(0..n);
        (0, h.len() as isize - old as isize)
    } else {
        let mut p = from;
        while p > 0 && is_sp(h[p - 1]) {
            p -= 1;
        }
        h.drain(p..next);
        (p, h.len() as isize - old as isize)
    }
}

/// Removes the blanks between a cookie name ending at `att_end` and its
/// value starting at `vb` (around the '='); returns how many bytes went.
fn strip_around_equal(h: &mut Vec<u8>, att_end: usize, vb: usize) -> usize {
    let Some(eq) = h[att_end..vb]
        .iter()
        .position(|&c| c == b'=')
        .map(|p| att_end + p)
    else {
        return 0;
    };
    let after = vb - (eq + 1);
    let before = eq - att_end;
    if after == 0 && before == 0 {
        return 0;
    }
    h.drain(eq + 1..vb);
    h.drain(att_end..eq);
    after + before
}

fn shift(v: usize, d: isize) -> usize {
    (v as isize + d).max(0) as usize
}

impl Conf {
    /// Processes one `Cookie` header value in place, updating `st`.
    /// `skip`: persistence ignored or the server already assigned;
    /// `keep_down`: `option persist` or `force-persist` (a down server
    /// still gets its clients). `now` in seconds. Returns `false` when the
    /// whole header must go.
    pub fn on_request_header(
        &self,
        h: &mut Vec<u8>,
        servers: &[Candidate<'_>],
        skip: bool,
        keep_down: bool,
        now: u32,
        st: &mut ReqState,
    ) -> bool {
        let mut del_from: Option<usize> = None;
        let mut preserve = false;
        let mut prev = 0;
        let mut first = true;
        while prev < h.len() {
            let it = next_item(h, prev, first, true);
            first = false;
            prev = it.next;
            if h.get(it.att.0) == Some(&b'$') {
                continue;
            }
            let Some((vb, ve)) = it.val else {
                preserve = true;
                if let Some(f) = del_from.take() {
                    let (_, d) = del_value(h, f, it.prev);
                    prev = shift(it.next, d);
                }
                continue;
            };
            // Blanks around '=' are removed, as HAProxy does.
            let d = strip_around_equal(h, it.att.1, vb);
            let (vb, ve) = (vb - d, ve - d);
            prev -= d;
            let it = Item {
                next: it.next - d,
                ..it
            };
            let is_ours = &h[it.att.0..it.att.1] == self.name.as_bytes();
            if !is_ours {
                preserve = true;
                if let Some(f) = del_from.take() {
                    let (_, d) = del_value(h, f, it.prev);
                    prev = shift(it.next, d);
                }
                continue;
            }
            // Our cookie: SRV[|last[|first]] or SRV~OPAQUE (prefix mode).
            let mut delim = ve;
            if self.mode == Mode::Prefix {
                delim = h[vb..ve]
                    .iter()
                    .position(|&c| c == b'~')
                    .map_or(ve, |p| vb + p);
            } else if let Some(p) = h[vb..ve].iter().position(|&c| c == b'|') {
                delim = vb + p;
                let d1 = delim + 1;
                if ve - d1 >= 5
                    && let Some(v) = b64_to_s30(&h[d1..])
                    && v > 0
                {
                    st.last_date = v << 2;
                }
                if let Some(p2) = h[d1..ve].iter().position(|&c| c == b'|') {
                    let d2 = d1 + p2;
                    if ve - d2 > 5
                        && let Some(v) = b64_to_s30(&h[d2 + 1..])
                        && v > 0
                    {
                        st.first_date = v << 2;
                    }
                }
            }
            let past = |d: u32, max: u32| {
                (now as i64 - d as i64) > max as i64 || (d as i64 - now as i64) > 86400
            };
            if st.first_date != 0 && self.maxlife > 0 && past(st.first_date, self.maxlife) {
                st.seen = Seen::Old;
                delim = vb;
                st.first_date = 0;
                st.last_date = 0;
            } else if st.last_date != 0 && self.maxidle > 0 && past(st.last_date, self.maxidle) {
                st.seen = Seen::Expired;
                delim = vb;
                st.first_date = 0;
                st.last_date = 0;
            }
            let mut found = false;
            if delim != vb && !skip && st.server.is_none() {
                let v = &h[vb..delim];
                for (i, s) in servers.iter().enumerate() {
                    if s.cookie.is_some_and(|c| c.as_bytes() == v) {
                        if s.running || keep_down {
                            st.seen = if s.running { Seen::Valid } else { Seen::Down };
                            st.server = Some(i);
                            found = true;
                            break;
                        }
                        st.seen = Seen::Down;
                    }
                }
            }
            if !found && !matches!(st.seen, Seen::Down | Seen::Expired | Seen::Old) {
                st.seen = if skip || st.server.is_some() {
                    Seen::Unused
                } else {
                    Seen::Invalid
                };
            }
            if self.mode == Mode::Prefix && delim != ve {
                // Only the application's part reaches the server.
                h.drain(vb..delim + 1);
                prev = it.next - (delim + 1 - vb);
                del_from = None;
                preserve = true;
            } else if del_from.is_none() && self.mode == Mode::Insert && self.indirect {
                del_from = Some(it.prev);
            }
        }
        if let Some(f) = del_from {
            if preserve {
                h.truncate(f);
            } else {
                h.clear();
            }
        }
        !h.is_empty()
    }

    /// Processes one `Set-Cookie` value from the server. `server_cookie`:
    /// the answering server's `cookie` value; `direct`: the request went
    /// where its cookie said. Returns `None` to delete the header, else
    /// whether it was our cookie (HAProxy's `TX_SCK_FOUND`).
    pub fn on_set_cookie(
        &self,
        h: &mut Vec<u8>,
        server_cookie: Option<&str>,
        direct: bool,
    ) -> Option<bool> {
        let it = next_item(h, 0, true, false);
        let Some((vb, ve)) = it.val else {
            return Some(false);
        };
        // Blanks around '=' are removed, as HAProxy does.
        let d = strip_around_equal(h, it.att.1, vb);
        let (vb, ve) = (vb - d, ve - d);
        let (ab, ae) = it.att;
        if &h[ab..ae] != self.name.as_bytes() {
            return Some(false);
        }
        if self.preserve {
            return Some(true);
        }
        if self.mode == Mode::Insert || (direct && self.indirect) {
            return None;
        }
        match (self.mode, server_cookie) {
            (Mode::Rewrite, Some(c)) => {
                h.splice(vb..ve, c.bytes());
            }
            (Mode::Prefix, Some(c)) => {
                let mut p = c.as_bytes().to_vec();
                p.push(b'~');
                h.splice(vb..vb, p);
            }
            _ => {}
        }
        Some(true)
    }

    /// Whether a `Set-Cookie` must be added to the response, HAProxy's
    /// conditions: insert mode, not preserved, the client was not sent to
    /// its server already (or the dates need a refresh), `postonly`.
    pub fn must_insert(
        &self,
        st: &ReqState,
        direct: bool,
        sck_found: bool,
        post: bool,
        now: u32,
    ) -> bool {
        self.mode == Mode::Insert
            && !(sck_found && self.preserve)
            && (!direct
                || ((self.maxidle > 0 || st.last_date != 0)
                    && (st.last_date == 0 || (st.last_date as i64 - now as i64) < 0))
                || (self.maxlife > 0 && st.first_date == 0)
                || (self.maxlife == 0 && st.first_date != 0))
            && (!self.postonly || post)
    }

    /// The `Set-Cookie` value to insert for a server with cookie
    /// `server_cookie` (none: a removal request).
    pub fn set_cookie(&self, server_cookie: Option<&str>, st: &ReqState, now: u32) -> String {
        let mut s = match server_cookie {
            None => format!(
                "{}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/",
                self.name
            ),
            Some(c) => {
                let mut s = format!("{}={c}", self.name);
                if self.dated() {
                    s.push('|');
                    s.push_str(&String::from_utf8_lossy(&s30_to_b64((now + 3) >> 2)));
                    if self.maxlife > 0 {
                        let f = if st.first_date != 0 {
                            st.first_date >> 2
                        } else {
                            (now + 3) >> 2
                        };
                        s.push('|');
                        s.push_str(&String::from_utf8_lossy(&s30_to_b64(f)));
                    }
                }
                s.push_str("; path=/");
                s
            }
        };
        if let Some(d) = &self.domain {
            s.push_str("; domain=");
            s.push_str(d);
        }
        if self.httponly {
            s.push_str("; HttpOnly");
        }
        if self.secure {
            s.push_str("; Secure");
        }
        if let Some(a) = &self.attrs {
            s.push_str("; ");
            s.push_str(a);
        }
        s
    }
}

/// HAProxy's cacheability of an exchange (`TX_CACHEABLE`), which decides
/// whether `nocache` adds `Cache-control: private`. `req` and `resp` are
/// (lower-case name, value) pairs.
pub fn cacheable<'a>(
    method: &str,
    req: impl Iterator<Item = (&'a str, &'a [u8])>,
    status: u16,
    resp: impl Iterator<Item = (&'a str, &'a [u8])> + Clone,
) -> bool {
    let mut c = matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE");
    for (n, v) in req {
        if n == "authorization" {
            c = false;
        }
        if n == "cache-control" {
            for tok in v.split(|&b| b == b',') {
                if starts_ci(tok.trim_ascii(), b"no-store") {
                    c = false;
                }
            }
        }
    }
    if !matches!(
        status,
        200 | 203 | 204 | 206 | 300 | 301 | 404 | 405 | 410 | 414 | 501
    ) {
        c = false;
    }
    if status < 200 {
        return false;
    }
    if resp
        .clone()
        .any(|(n, v)| n == "pragma" && v.trim_ascii().eq_ignore_ascii_case(b"no-cache"))
    {
        return false;
    }
    let (mut fresh, mut null_maxage) = (false, false);
    for (_, v) in resp.clone().filter(|(n, _)| *n == "cache-control") {
        for tok in v.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            let eq = |s: &[u8]| tok.eq_ignore_ascii_case(s);
            if eq(b"public") {
                c = true;
            } else if eq(b"max-age=0") {
                null_maxage = true;
            } else if eq(b"private") || eq(b"no-cache") || eq(b"no-store") || eq(b"s-maxage=0") {
                c = false;
            } else if starts_ci(tok, b"no-cache=\"set-cookie") {
            } else if starts_ci(tok, b"s-maxage") {
                fresh = true;
                null_maxage = false;
            } else if starts_ci(tok, b"max-age") {
                fresh = true;
            }
        }
    }
    if null_maxage {
        c = false;
    }
    if !fresh {
        fresh = resp.clone().any(|(n, _)| n == "expires");
    }
    if !fresh
        && !resp
            .clone()
            .any(|(n, _)| n == "etag" || n == "last-modified")
    {
        c = false;
    }
    c
}

fn starts_ci(s: &[u8], p: &[u8]) -> bool {
    s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p)
}
