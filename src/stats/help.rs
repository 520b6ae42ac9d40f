//! The CLI `help` text and the answer to unknown commands.
//!
//! Owns: HAProxy's help line format (one line per command, same text as
//! 2.6.12), restricted to the commands this CLI implements, `help
//! <words>` filtering and HAProxy's fuzzy "better match" suggestions
//! (word-pair fingerprint distance). Must not run commands.

/// Help lines of the commands we implement, in HAProxy's (sorted) order.
pub const COMMANDS: &[&str] = &[
    "  add acl [@<ver>] <acl> <pattern>        : add an acl entry",
    "  add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of key/val)",
    "  clear acl [@<ver>] <acl>                : clear the contents of this acl",
    "  clear counters [all]                    : clear max statistics counters (or all counters)",
    "  clear map [@<ver>] <map>                : clear the contents of this map",
    "  del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>",
    "  del map <map> [<key>|#<ref>]            : delete map entries matching <key>",
    "  disable agent                           : disable agent checks",
    "  disable frontend <frontend>             : temporarily disable specific frontend",
    "  disable health                          : disable health checks",
    "  disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)",
    "  enable agent                            : enable agent checks",
    "  enable frontend <frontend>              : re-enable specific frontend",
    "  enable health                           : enable health checks",
    "  enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)",
    "  get acl <acl> <value>                   : report the patterns matching a sample for an ACL",
    "  get map <acl> <value>                   : report the keys and values matching a sample for a map",
    "  get weight <bk>/<srv>                   : report a server's current weight",
    "  operator                                : lower the level of the current CLI session to operator",
    "  set map <map> [<key>|#<ref>] <value>    : modify a map entry",
    "  set maxconn frontend <frontend> <value> : change a frontend's maxconn setting",
    "  set maxconn global <value>              : change the per-process maxconn setting",
    "  set maxconn server <bk>/<srv>           : change a server's maxconn setting",
    "  set rate-limit <setting> <value>        : change a rate limiting value",
    "  set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl",
    "  set timeout [cli] <delay>               : change a timeout setting",
    "  set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)",
    "  show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents",
    "  show activity                           : show per-thread activity stats (for support/developers)",
    "  show backend                            : list backends in the current running config",
    "  show cli level                          : display the level of the current CLI session",
    "  show env [var]                          : dump environment variables known to the process",
    "  show errors [<px>] [request|response]   : report last request and/or response errors for each proxy",
    "  show info [desc|json|typed|float]*      : report information about the running process",
    "  show map [@ver] [map]                   : report available maps or dump a map's contents",
    "  show pools                              : report information about the memory pools usage",
    "  show schema json                        : report schema used for stats",
    "  show servers conn [<backend>]           : dump server connections status (all or for a single backend)",
    "  show servers state [<backend>]          : dump volatile server information (all or for a single backend)",
    "  show sess [id]                          : report the list of current sessions or dump this exact session",
    "  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server",
    "  show table <table> [<filter>]*          : report table usage stats or dump this table's contents (filter: data/key)",
    "  show version                            : show version of the current process",
    "  shutdown frontend <frontend>            : stop a specific frontend",
    "  shutdown session [id]                   : kill a specific session",
    "  shutdown sessions server <bk>/<srv>     : kill sessions on a server",
    "  user                                    : lower the level of the current CLI session to user",
];

/// The trailing lines HAProxy always prints.
pub const TAIL: &[&str] = &[
    "  help [<command>]                        : list matching or all commands",
    "  prompt                                  : toggle interactive mode with prompt",
    "  quit                                    : disconnect",
];

/// At most this many fuzzy suggestions (HAProxy's `CLI_MAX_MATCHES`).
const MAX_MATCHES: usize = 5;
/// Keyword words compared (HAProxy's `CLI_PREFIX_KW_NB`).
const KW_WORDS: usize = 5;

/// The keyword words of a help line: those before the first argument.
fn keywords(line: &str) -> Vec<&str> {
    let usage = line.split(" : ").next().unwrap_or("");
    usage
        .split_whitespace()
        .take_while(|w| !w.starts_with(['<', '[', '(', '{']))
        .take(KW_WORDS)
        .collect()
}

/// Counts letter pairs of `word` (with begin/end marks) into `fp`,
/// indexed `32 * from + to` (1..26 letters, 27 digits, 28 other).
fn fingerprint(fp: &mut [u8; 1024], word: &str) {
    let class = |c: u8| -> usize {
        match c.to_ascii_lowercase() {
            c @ b'a'..=b'z' => usize::from(c - b'a') + 1,
            b'0'..=b'9' => 27,
            _ => 28,
        }
    };
    let mut from = 28;
    for &b in word.as_bytes() {
        let to = class(b);
        // Row 0 marks the presence of a character class.
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].wrapping_add(1);
}

fn distance(a: &[u8; 1024], b: &[u8; 1024]) -> usize {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (i32::from(*x) - i32::from(*y)).unsigned_abs() as usize)
        .sum()
}

/// HAProxy's usage message for `args` (the command words; `help` first
/// for the help command) against the help lines `lines`.
pub fn usage(lines: &[&str], args: &[&str]) -> String {
    let (ishelp, args) = match args.first() {
        Some(&"help") => (true, &args[1..]),
        _ => (false, args),
    };
    let kws: Vec<Vec<&str>> = lines.iter().map(|l| keywords(l)).collect();
    // The number of leading words some keyword matches exactly.
    let prefix = |kw: &[&str]| kw.iter().zip(args).take_while(|(k, a)| k == a).count();
    let length = kws.iter().map(|k| prefix(k)).max().unwrap_or(0);
    let mut out = String::from(if ishelp {
        "The following commands are valid at this level:\n"
    } else if length == 0 && args.is_empty() {
        "Unknown command. Please enter one of the following commands only:\n"
    } else {
        "Unknown command, but maybe one of the following ones is a better match:\n"
    });
    let mut matches: Vec<(usize, usize)> = Vec::new();
    if let Some(rest) = args.get(length..).filter(|r| !r.is_empty()) {
        for (i, kw) in kws.iter().enumerate() {
            if prefix(kw).min(length) != length || kw.len() < length {
                continue;
            }
            let mut ws = [0u8; 1024];
            let mut ls = [0u8; 1024];
            let mut total = 0;
            for a in rest.iter().take(KW_WORDS.saturating_sub(length)) {
                fingerprint(&mut ws, a);
                total += a.len();
            }
            for k in &kw[length..] {
                fingerprint(&mut ls, k);
                total += k.len();
            }
            let d = distance(&ws, &ls);
            if d < 5 * total / 2 {
                matches.push((d, i));
            }
        }
        // Stable: equal distances keep the registration order.
        matches.sort_by_key(|m| m.0);
        matches.truncate(MAX_MATCHES);
    }
    let mut picked: Vec<usize> = match matches.first() {
        Some(&(best, _)) => matches
            .iter()
            .take_while(|m| m.0 <= 5 * best / 2)
            .map(|m| m.1)
            .collect(),
        None => (0..lines.len())
            .filter(|&i| prefix(&kws[i]) >= length && kws[i].len() >= length)
            .collect(),
    };
    picked.sort_by_key(|&i| lines[i]);
    for i in picked {
        out.push_str(lines[i]);
        out.push('\n');
    }
    for l in TAIL {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The full help (`help`, or an empty command line with a header).
pub fn full(header: &str) -> String {
    let mut out = String::from(header);
    out.push('\n');
    for l in COMMANDS.iter().chain(TAIL) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// `help [<words>]`.
pub fn help(words: &[&str]) -> String {
    usage(COMMANDS, words)
}

/// The answer to an unknown command.
pub fn unknown(words: &[&str]) -> String {
    usage(COMMANDS, words)
}

#[cfg(test)]
mod tests;
