use super::*;

const REF: &str = "/work/shared/reference/haproxy-2.6/transcripts/cli";

fn reference(name: &str) -> Option<String> {
    std::fs::read_to_string(format!("{REF}/{name}")).ok()
}

/// HAProxy 2.6.12's own full command list (from its `help`).
fn haproxy_lines(full: &str) -> Vec<&str> {
    full.lines()
        .skip(1)
        .filter(|l| !l.is_empty() && !TAIL.contains(l))
        .collect()
}

#[test]
fn algorithm_matches_haproxy_on_its_own_command_list() {
    let Some(full) = reference("001-help.txt") else {
        return;
    };
    let lines = haproxy_lines(&full);
    let cases = [
        ("001-help.txt", "help"),
        ("054-help-show.txt", "help show"),
        ("055-help-set-server.txt", "help set server"),
        ("056-unknown-command.txt", "frobnicate the widgets"),
        ("057-unknown-show-subcommand.txt", "show nothing"),
    ];
    for (file, cmd) in cases {
        let want = reference(file).unwrap_or_default();
        let words: Vec<&str> = cmd.split_whitespace().collect();
        // The transcript ends with the framing's empty line.
        assert_eq!(format!("{}\n", usage(&lines, &words)), want, "{cmd}");
    }
    // The empty line: the full list with its own header.
    let want = reference("058-empty-line.txt").unwrap_or_default();
    assert_eq!(format!("{}\n", usage(&lines, &[])), want);
}

#[test]
fn our_lines_are_haproxy_lines() {
    let Some(full) = reference("001-help.txt") else {
        return;
    };
    for l in COMMANDS {
        assert!(full.lines().any(|f| f == *l), "{l}");
    }
    let mut sorted = COMMANDS.to_vec();
    sorted.sort();
    assert_eq!(sorted, COMMANDS);
}

#[test]
fn help_filters_by_words() {
    let h = help(&["help", "set", "server"]);
    assert_eq!(
        h,
        "The following commands are valid at this level:\n  set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl\n  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n"
    );
}
