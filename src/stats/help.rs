//! The CLI `help` text and the answer to unknown commands.
//!
//! Owns: HAProxy's help line format (one line per command, same text as
//! 2.6.12), restricted to the commands this CLI implements. Must not run
//! commands.

/// Help lines of the commands we implement, in HAProxy's order.
pub const COMMANDS: &[&str] = &[
    "  disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)",
    "  enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)",
    "  get weight <bk>/<srv>                   : report a server's current weight",
    "  operator                                : lower the level of the current CLI session to operator",
    "  set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl",
    "  set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)",
    "  show backend                            : list backends in the current running config",
    "  show cli level                          : display the level of the current CLI session",
    "  show info [desc|json|typed|float]*      : report information about the running process",
    "  show servers state [<backend>]          : dump volatile server information (all or for a single backend)",
    "  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server",
    "  show version                            : show version of the current process",
    "  user                                    : lower the level of the current CLI session to user",
];

/// The trailing lines HAProxy always prints.
pub const TAIL: &[&str] = &[
    "  help [<command>]                        : list matching or all commands",
    "  prompt                                  : toggle interactive mode with prompt",
    "  quit                                    : disconnect",
];

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

/// The answer to an unknown command: the closest help lines (those
/// sharing a word with the command), at most five, then the fixed tail.
pub fn unknown(words: &[&str]) -> String {
    let mut scored: Vec<(usize, &str)> = COMMANDS
        .iter()
        .map(|l| {
            let cmd = l.split(':').next().unwrap_or("");
            let n = words
                .iter()
                .filter(|w| cmd.split_whitespace().any(|c| c == **w))
                .count();
            (n, *l)
        })
        .filter(|(n, _)| *n > 0)
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.truncate(5);
    let mut out =
        String::from("Unknown command, but maybe one of the following ones is a better match:\n");
    let mut picked: Vec<&str> = scored.into_iter().map(|(_, l)| l).collect();
    picked.sort_by_key(|l| COMMANDS.iter().position(|c| c == l));
    for l in picked.into_iter().chain(TAIL.iter().copied()) {
        out.push_str(l);
        out.push('\n');
    }
    out
}
