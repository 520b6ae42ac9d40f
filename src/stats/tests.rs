use super::conn::{Session, run_line, split_commands};
use super::*;
use crate::config::ir::Config;

fn load(text: &str) -> Config {
    let file = crate::config::source::SourceFile {
        name: "t.cfg".into(),
        content: text.as_bytes().to_vec(),
    };
    let res = crate::config::check_files(
        std::slice::from_ref(&file),
        &|_| None,
        crate::config::check::Options::default(),
    );
    assert!(!res.failed, "config failed: {:?}", res.diags);
    res.config
}

const CFG: &str = "global\n  maxconn 1000\n  stats timeout 30s\n  stats maxconn 3\n\
defaults\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
frontend fe\n  mode http\n  bind 127.0.0.1:1\n  default_backend web\n\
backend web\n  mode http\n  cookie SRV insert\n  server s1 127.0.0.1:19001 weight 10 check\n  server s2 127.0.0.1:19002 weight 20\n  server bk1 127.0.0.1:19002 backup\n\
backend tcpb\n  mode tcp\n  balance leastconn\n  server t1 127.0.0.1:19001\n  server t2 127.0.0.1:19002 disabled\n  server t3 127.0.0.1:19001 track web/s1\n";

fn stats() -> Stats {
    Stats::build(&load(CFG), &[], None, &[])
}

fn run(st: &Stats, level: Level, line: &str) -> String {
    let mut s = Session {
        level,
        prompt: false,
    };
    run_line(line, &mut s, st).0
}

fn row<'a>(out: &'a str, px: &str, sv: &str) -> Vec<&'a str> {
    out.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|c| c.len() > 2 && c[0] == px && c[1] == sv)
        .unwrap_or_default()
}

fn cell<'a>(r: &[&'a str], name: &str) -> &'a str {
    csv::col_index(name)
        .and_then(|i| r.get(i).copied())
        .unwrap_or("?")
}

#[test]
fn globals_timeout_maxconn_default_level() {
    let st = stats();
    assert_eq!(st.timeout, Duration::from_secs(30));
    assert_eq!(st.cli_maxconn, 3);
    assert_eq!(parse_time("10"), Some(Duration::from_millis(10)));
    assert_eq!(parse_time("2m"), Some(Duration::from_secs(120)));
    assert_eq!(parse_time("x"), None);
    assert_eq!(info::uptime_text(8), "0d 0h00m08s");
    assert_eq!(info::uptime_text(90061), "1d 1h01m01s");
}

#[test]
fn semicolons_split_and_escape() {
    assert_eq!(split_commands("a; b;c"), ["a", " b", "c"]);
    assert_eq!(split_commands("a\\;b"), ["a;b"]);
    // HAProxy's transcript 059: three answers, each with its empty line.
    let st = stats();
    let out = run(&st, Level::Admin, "show cli level; get weight web/s1");
    assert_eq!(out, "admin\n\n10 (initial 10)\n\n");
}

#[test]
fn show_stat_rows_like_a_fresh_haproxy() {
    let st = stats();
    let out = run(&st, Level::User, "show stat");
    let names: Vec<(&str, &str)> = out
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut c = l.split(',');
            (c.next().unwrap_or(""), c.next().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        names,
        [
            ("fe", "FRONTEND"),
            ("web", "s1"),
            ("web", "s2"),
            ("web", "bk1"),
            ("web", "BACKEND"),
            ("tcpb", "t1"),
            ("tcpb", "t2"),
            ("tcpb", "t3"),
            ("tcpb", "BACKEND"),
        ]
    );
    let be = row(&out, "web", "BACKEND");
    assert_eq!(
        (cell(&be, "weight"), cell(&be, "act"), cell(&be, "bck")),
        ("30", "2", "1")
    );
    assert_eq!(
        (cell(&be, "cookie"), cell(&be, "algo"), cell(&be, "slim")),
        ("SRV", "roundrobin", "100")
    );
    assert_eq!(cell(&row(&out, "tcpb", "t2"), "status"), "MAINT");
    assert_eq!(cell(&row(&out, "tcpb", "t3"), "tracked"), "web/s1");
    assert_eq!(cell(&row(&out, "tcpb", "BACKEND"), "weight"), "2");
    assert_eq!(cell(&row(&out, "fe", "FRONTEND"), "iid"), "2");
    assert_eq!(cell(&row(&out, "web", "s2"), "sid"), "2");
    // Filters: `show stat web 4 -1` keeps only web's servers.
    let f = run(&st, Level::User, "show stat web 4 -1");
    assert_eq!(f.lines().filter(|l| l.starts_with("web,")).count(), 3);
    assert_eq!(f.lines().count(), 1 + 3 + 1);
    let up = run(&st, Level::User, "show stat up");
    assert!(row(&up, "tcpb", "t2").is_empty());
    assert_eq!(cell(&row(&up, "tcpb", "BACKEND"), "status"), "UP (2/3)");
    assert_eq!(cell(&row(&up, "web", "BACKEND"), "status"), "UP (3/3)");
    assert_eq!(
        run(&st, Level::User, "show stat nosuch -1 -1"),
        "No such proxy.\n\n"
    );
}

#[test]
fn maint_propagates_to_trackers_and_back() {
    let st = stats();
    assert_eq!(
        run(&st, Level::Admin, "set server web/s1 state maint"),
        "\n"
    );
    let out = run(&st, Level::Admin, "show stat");
    assert_eq!(cell(&row(&out, "web", "s1"), "status"), "MAINT");
    assert_eq!(
        cell(&row(&out, "tcpb", "t3"), "status"),
        "MAINT (via web/s1)"
    );
    let (_, t3) = st.server("tcpb", "t3").expect("t3");
    assert!(!t3.live.usable());
    assert_eq!(
        run(&st, Level::Admin, "set server web/s1 state ready"),
        "\n"
    );
    assert!(t3.live.usable());
    // A config-disabled server comes up with `enable server`.
    let (_, t2) = st.server("tcpb", "t2").expect("t2");
    assert!(!t2.live.usable());
    assert_eq!(run(&st, Level::Admin, "enable server tcpb/t2"), "\n");
    assert!(t2.live.usable());
}

#[test]
fn drain_and_weight_exclude_from_balancing() {
    let st = stats();
    let (_, s2) = st.server("web", "s2").expect("s2");
    assert_eq!(
        run(&st, Level::Admin, "set server web/s2 state drain"),
        "\n"
    );
    assert!(!s2.live.usable());
    let out = run(&st, Level::Admin, "show stat");
    assert_eq!(cell(&row(&out, "web", "s2"), "status"), "DRAIN");
    assert_eq!(cell(&row(&out, "web", "BACKEND"), "weight"), "10");
    assert_eq!(
        run(&st, Level::Admin, "set server web/s2 state ready"),
        "\n"
    );
    assert_eq!(run(&st, Level::Admin, "set weight web/s2 50%"), "\n");
    assert_eq!(
        run(&st, Level::Admin, "get weight web/s2"),
        "10 (initial 20)\n\n"
    );
    assert_eq!(run(&st, Level::Admin, "set server web/s2 weight 0"), "\n");
    assert!(!s2.live.usable());
}

#[test]
fn levels_are_enforced() {
    let st = stats();
    for cmd in [
        "disable server web/s1",
        "enable server web/s1",
        "set weight web/s1 1",
        "set server web/s1 state maint",
    ] {
        assert_eq!(run(&st, Level::User, cmd), "Permission denied\n\n", "{cmd}");
        assert_eq!(
            run(&st, Level::Operator, cmd),
            "Permission denied\n\n",
            "{cmd}"
        );
    }
    assert_eq!(
        run(&st, Level::Admin, "operator; show cli level"),
        "\noperator\n\n"
    );
    assert_eq!(run(&st, Level::User, "operator"), "Permission denied\n\n");
}

#[test]
fn unknown_and_empty_commands() {
    let st = stats();
    let out = run(&st, Level::Admin, "frob");
    assert!(
        out.starts_with(
            "Unknown command, but maybe one of the following ones is a better match:\n"
        )
    );
    assert!(out.ends_with("  quit                                    : disconnect\n\n"));
    let out = run(&st, Level::Admin, "");
    assert!(out.starts_with("Unknown command. Please enter one of the following commands only:\n"));
}
