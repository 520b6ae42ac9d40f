//! HAProxy 2.6's "did you mean" suggestions for mistyped keywords.
//!
//! This module owns the fuzzy-matching algorithm and the candidate lists
//! HAProxy uses in each situation; it does not print messages (the config
//! checker formats them) and must not touch fetch/converter suggestions.
//!
//! # Algorithm (reproduced from HAProxy's behaviour, not its code)
//!
//! Each word gets a fingerprint: a 32×32 table of counts of transitions
//! between character classes, where a class is one of the 26 letters
//! (case-insensitive, classes 1..=26), "digit" (27) or "other" (28). The
//! beginning and the end of the word both count as "other" (28), so
//! `"ab"` records 28→a, a→b and b→28. In addition, row 0 marks which classes
//! occur at all (set to 1, not counted). The distance between two words is
//! the sum of absolute differences over the whole table. The candidate with
//! the smallest distance wins (the first one on ties, in candidate order);
//! it is rejected when the distance exceeds twice the length of the typed
//! word or twice the length of the candidate.
//!
//! # Candidate lists
//!
//! * Unknown keyword in `global`: every table-registered global keyword
//!   (`registered = yes` in `keywords.tsv`), then [`GLOBAL_EXTRA`] (e.g.
//!   `default_backend` in global suggests `backend`).
//! * Unknown keyword in `defaults`/`frontend`/`listen`/`backend`: every
//!   table-registered proxy keyword regardless of the proxy type, then
//!   [`PROXY_EXTRA`], which starts with the section names (`frontnd` in
//!   defaults suggests `frontend`).
//! * Unknown `server`/`default-server` keyword: every server keyword.
//! * Unknown `bind` keyword: every bind keyword including the SSL ones.
//! * Unknown option (`option X`): every table-registered option, then
//!   [`OPTION_EXTRA`] (which contains `original-to` and `forwarded` although
//!   2.6 has no such options).
//! * Other sections (userlist, peers, ...): HAProxy offers no suggestion.

use super::keywords::{Registration, Section, registry};

/// Words HAProxy adds after the registered global keywords.
pub const GLOBAL_EXTRA: &[&str] = &[
    "global",
    "daemon",
    "master-worker",
    "noepoll",
    "nokqueue",
    "noevports",
    "nopoll",
    "busy-polling",
    "set-dumpable",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "nosplice",
    "nogetaddrinfo",
    "noreuseport",
    "quiet",
    "zero-warning",
    "tune.runqueue-depth",
    "tune.maxpollevents",
    "tune.maxaccept",
    "tune.chksize",
    "tune.recv_enough",
    "tune.buffers.limit",
    "tune.buffers.reserve",
    "tune.bufsize",
    "tune.maxrewrite",
    "tune.idletimer",
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
    "tune.pipesize",
    "tune.http.cookielen",
    "tune.http.logurilen",
    "tune.http.maxhdr",
    "tune.comp.maxlevel",
    "tune.pattern.cache-size",
    "uid",
    "gid",
    "external-check",
    "user",
    "group",
    "nbproc",
    "nbthread",
    "maxconn",
    "ssl-server-verify",
    "maxconnrate",
    "maxsessrate",
    "maxsslrate",
    "maxcomprate",
    "maxpipes",
    "maxzlibmem",
    "maxcompcpuusage",
    "ulimit-n",
    "chroot",
    "description",
    "node",
    "pidfile",
    "unix-bind",
    "log",
    "log-send-hostname",
    "server-state-base",
    "server-state-file",
    "log-tag",
    "spread-checks",
    "max-spread-checks",
    "cpu-map",
    "setenv",
    "presetenv",
    "unsetenv",
    "resetenv",
    "strict-limits",
    "localpeer",
    "numa-cpu-mapping",
    "defaults",
    "listen",
    "frontend",
    "backend",
    "peers",
    "resolvers",
];

/// Words HAProxy adds after the registered proxy keywords.
pub const PROXY_EXTRA: &[&str] = &[
    "listen",
    "frontend",
    "backend",
    "defaults",
    "server",
    "default-server",
    "server-template",
    "bind",
    "monitor-net",
    "monitor-uri",
    "mode",
    "id",
    "description",
    "disabled",
    "enabled",
    "acl",
    "dynamic-cookie-key",
    "cookie",
    "email-alert",
    "persist",
    "appsession",
    "load-server-state-from-file",
    "server-state-file-name",
    "max-session-srv-conns",
    "capture",
    "retries",
    "http-request",
    "http-response",
    "http-after-response",
    "http-send-name-header",
    "block",
    "redirect",
    "use_backend",
    "use-server",
    "force-persist",
    "ignore-persist",
    "force-persist",
    "stick-table",
    "stick",
    "stats",
    "option",
    "default_backend",
    "http-reuse",
    "monitor",
    "transparent",
    "maxconn",
    "backlog",
    "fullconn",
    "dispatch",
    "balance",
    "log-balance",
    "hash-type",
    "hash-balance-factor",
    "unique-id-format",
    "unique-id-header",
    "log-format",
    "log-format-sd",
    "log-tag",
    "log",
    "source",
    "usesrc",
    "error-log-format",
];

/// Words HAProxy adds after the registered options.
pub const OPTION_EXTRA: &[&str] = &[
    "httpclose",
    "http-server-close",
    "http-keep-alive",
    "redispatch",
    "httplog",
    "tcplog",
    "tcpka",
    "httpchk",
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
    "tcp-check",
    "external-check",
    "forwardfor",
    "original-to",
    "forwarded",
];

const FP_SIZE: usize = 1024;
const CLASS_OTHER: usize = 28;

fn class(c: char) -> usize {
    match c.to_ascii_lowercase() {
        l @ 'a'..='z' => (l as usize) - ('a' as usize) + 1,
        '0'..='9' => 27,
        _ => CLASS_OTHER,
    }
}

/// The transition fingerprint of `word` (see module docs). Works on bytes
/// like HAProxy: a multi-byte UTF-8 character counts as several "other".
fn fingerprint(word: &str) -> [u16; FP_SIZE] {
    let mut fp = [0u16; FP_SIZE];
    let mut from = CLASS_OTHER;
    for b in word.bytes() {
        let to = class(b as char);
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].saturating_add(1);
        from = to;
    }
    fp[32 * from + CLASS_OTHER] = fp[32 * from + CLASS_OTHER].saturating_add(1);
    fp
}

/// HAProxy's distance between two words.
pub fn distance(a: &str, b: &str) -> usize {
    let (fa, fb) = (fingerprint(a), fingerprint(b));
    fa.iter()
        .zip(fb.iter())
        .map(|(x, y)| x.abs_diff(*y) as usize)
        .sum()
}

/// The candidate HAProxy would suggest for `word`, if any.
pub fn best_match<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let fw = fingerprint(word);
    let mut best: Option<(&'a str, usize)> = None;
    for cand in candidates {
        let fc = fingerprint(cand);
        let d: usize = fw
            .iter()
            .zip(fc.iter())
            .map(|(x, y)| x.abs_diff(*y) as usize)
            .sum();
        if best.is_none_or(|(_, bd)| d < bd) {
            best = Some((cand, d));
        }
    }
    let (cand, d) = best?;
    if d > 2 * word.len() || d > 2 * cand.len() {
        return None;
    }
    Some(cand)
}

/// Candidate list for an unknown keyword in `section` (see module docs).
pub fn section_candidates(section: Section) -> Vec<&'static str> {
    let reg = registry();
    let mut out: Vec<&'static str> = Vec::new();
    let secs: Vec<Section> = if section.is_proxy() {
        vec![
            Section::Defaults,
            Section::Frontend,
            Section::Listen,
            Section::Backend,
        ]
    } else if section == Section::Global {
        vec![Section::Global]
    } else {
        return out;
    };
    for s in secs {
        for k in reg.keywords(s) {
            if k.registered == Registration::Table && !out.contains(&k.first_word()) {
                out.push(k.first_word());
            }
        }
    }
    let extra = if section == Section::Global {
        GLOBAL_EXTRA
    } else {
        PROXY_EXTRA
    };
    out.extend_from_slice(extra);
    out
}

/// Suggestion for an unknown keyword `word` in `section`.
pub fn suggest_section_keyword(section: Section, word: &str) -> Option<&'static str> {
    best_match(word, section_candidates(section))
}

/// Suggestion for an unknown `server`/`default-server` keyword.
pub fn suggest_server_kw(word: &str) -> Option<&'static str> {
    best_match(word, registry().server_kws().map(|k| k.name))
}

/// Suggestion for an unknown `bind` keyword.
pub fn suggest_bind_kw(word: &str) -> Option<&'static str> {
    best_match(
        word,
        registry()
            .bind_kws()
            .filter(|k| !k.crt_list_only)
            .map(|k| k.name),
    )
}

/// Suggestion for an unknown `option`.
pub fn suggest_option(word: &str) -> Option<&'static str> {
    let reg = registry();
    best_match(
        word,
        reg.options()
            .filter(|o| o.registered == Registration::Table)
            .map(|o| o.name)
            .chain(OPTION_EXTRA.iter().copied()),
    )
}
