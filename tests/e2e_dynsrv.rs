//! Dynamic servers (`add server` / `del server` on the stats socket)
//! against the real HAProxy 2.6 (`/usr/sbin/haproxy`, differential parts
//! skipped when absent): the same commands on the same configuration must
//! get the same replies byte for byte, the same `show stat` and
//! `show servers state` rows, and the same roundrobin server sequence
//! after `add server` + `enable server` (+ `set weight`, `disable`,
//! `del server`). Switchyard alone: an added server takes traffic once
//! enabled, a deleted one never again, and its row disappears.

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{Backend, Behaviour, Proxy, TempDir, raw, server_of};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn have_haproxy() -> bool {
    let ok = Path::new(HAPROXY).exists();
    if !ok {
        eprintln!("skipped: {HAPROXY} not installed");
    }
    ok
}

struct Rig {
    p: Proxy,
    sock: PathBuf,
    _dir: TempDir,
}

/// Starts `bin` on `cfg` (`@SOCK@`: the admin socket, `@PORT@`: the
/// frontend port) and waits for the socket.
fn start(bin: &str, cfg: &str) -> Rig {
    let dir = TempDir::new();
    let sock = dir.0.join("admin.sock");
    let p = Proxy::start_with(bin, &cfg.replace("@SOCK@", &sock.display().to_string()));
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Rig { p, sock, _dir: dir }
}

fn cli(r: &Rig, cmd: &str) -> String {
    support::cli(&r.sock, cmd)
}

/// The configuration file's path differs between runs.
fn no_path(s: &str) -> String {
    match s.find(" already used at ") {
        Some(i) => {
            let rest = &s[i + 17..];
            let end = rest.find(".cfg:").map_or(0, |j| j + 4);
            format!("{} already used at CFG{}", &s[..i], &rest[end..])
        }
        None => s.to_string(),
    }
}

/// `show stat` with the columns that depend on time or on features
/// outside this test (limits, timers) left out.
fn stat_cols(csv: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let Some(head) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = head.trim_start_matches("# ").split(',').collect();
    let keep = [
        "pxname", "svname", "scur", "stot", "status", "weight", "act", "bck", "iid", "sid",
        "tracked", "addr", "mode", "algo", "src_ilim", "srv_icur",
    ];
    lines
        .filter(|l| !l.is_empty() && !l.starts_with("fe,"))
        .map(|l| {
            l.split(',')
                .zip(&names)
                .filter(|(_, n)| keep.contains(n))
                .map(|(v, n)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// `show servers state` without `srv_time_since_last_change`.
fn state_lines(s: &str) -> Vec<String> {
    s.lines()
        .map(|l| {
            let mut w: Vec<&str> = l.split(' ').collect();
            if !l.starts_with('#') && w.len() > 9 {
                w[9] = "T";
            }
            w.join(" ")
        })
        .collect()
}

const REPLIES_CFG: &str = "global
    stats socket @SOCK@ level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:@PORT@
    acl s3up srv_is_up(be/s3)
    http-request set-header x-s3 up if s3up
    default_backend be
backend be
    balance roundrobin
    default-server maxconn 7 weight 3
    use-server s1 if { path /x }
    server s1 127.0.0.1:@B1@
    server s2 127.0.0.1:@B2@
    server s3 127.0.0.1:@B2@ id 5
backend st
    balance static-rr
    server s1 127.0.0.1:@B1@
backend mh
    balance source
    server s1 127.0.0.1:@B1@
backend ch
    balance source
    hash-type consistent
    server s1 127.0.0.1:@B1@
backend lc
    balance leastconn
    server s1 127.0.0.1:@B1@ id 4
";

/// Commands whose replies must be identical; `show` ones are compared
/// column-wise.
const REPLY_CMDS: &[&str] = &[
    // Errors before parsing.
    "add server be",
    "add server be/",
    "add server nob/d1 127.0.0.1:1",
    "add server st/d1 127.0.0.1:1",
    "add server mh/d1 127.0.0.1:1",
    "add server be/d1",
    // Keyword errors.
    "add server be/d1 127.0.0.1:1 cookie x",
    "add server be/d1 127.0.0.1:1 redir http://x",
    "add server be/d1 127.0.0.1:1 non-stick",
    "add server be/d1 127.0.0.1:1 chek",
    "add server be/d1 127.0.0.1:1 weight 300",
    "add server be/d1 127.0.0.1:1 weight -1",
    "add server be/d1 127.0.0.1:1 id 0",
    "add server be/d1 127.0.0.1:1 id 5",
    "add server be/d1 127.0.0.1:99999",
    "add server be/s1 127.0.0.1:1 id 5",
    "add server be/d1 127.0.0.1:1 track zz",
    "add server be/d1 127.0.0.1:1 track s2",
    "add server be/s1 127.0.0.1:1",
    // Accepted: ids fill the gaps, default-server is not applied.
    "add server be/d1 127.0.0.1:@B3@",
    "add server be/d1 127.0.0.1:@B3@",
    "add server be/d2 127.0.0.1:@B3@ weight 10 maxconn 4 backup",
    "add server be/d3 127.0.0.1:@B3@ id 9",
    "add server be/d4 127.0.0.1:@B3@ disabled",
    "add server be/d5 127.0.0.1",
    "add server be/d6 localhost:80",
    "add server be/d7 127.0.0.1:1 id 9",
    "add server be/d7 127.0.0.1:1 track be/d1",
    "add server ch/d1 127.0.0.1:@B3@",
    "add server lc/d1 127.0.0.1:@B3@ weight 0",
    "show servers state",
    "show stat",
    // Deletion rules.
    "del server be",
    "del server nob/s1",
    "del server be/zz",
    "del server be/d1",
    "disable server be/d1",
    "del server be/d1",
    "del server be/d1",
    "del server be/s1",
    "disable server be/s1",
    "del server be/s1",
    "disable server be/s2",
    "del server be/s2",
    "disable server be/s3",
    "del server be/s3",
    "add server be/d8 127.0.0.1:@B3@",
    "enable server be/d3",
    "set weight be/d2 5",
    "show servers state be",
    "show stat",
];

fn replies(bin: &str, ports: &[u16; 3]) -> Vec<String> {
    let fill = |s: &str| {
        s.replace("@B1@", &ports[0].to_string())
            .replace("@B2@", &ports[1].to_string())
            .replace("@B3@", &ports[2].to_string())
    };
    let r = start(bin, &fill(REPLIES_CFG));
    let mut out = Vec::new();
    for c in REPLY_CMDS {
        let c = fill(c);
        let got = cli(&r, &c);
        if c.starts_with("show stat") {
            out.extend(stat_cols(&got).into_iter().map(|l| format!("{c} | {l}")));
        } else if c.starts_with("show servers state") {
            out.extend(state_lines(&got).into_iter().map(|l| format!("{c} | {l}")));
        } else {
            out.push(format!("{c} | {:?}", no_path(&got)));
        }
    }
    out
}

#[test]
fn add_and_del_replies_and_rows_match_haproxy() {
    if !have_haproxy() {
        return;
    }
    let b: Vec<Backend> = (1..=3)
        .map(|i| Backend::start(&format!("b{i}"), Behaviour::Http))
        .collect();
    let ports = [b[0].port, b[1].port, b[2].port];
    let want = replies(HAPROXY, &ports);
    let got = replies(env!("CARGO_BIN_EXE_switchyard"), &ports);
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(g, w, "\nhaproxy:    {w}\nswitchyard: {g}");
    }
    assert_eq!(got.len(), want.len(), "{got:#?}\n{want:#?}");
}

/// One step of a traffic scenario.
enum Op {
    /// `n` requests on fresh connections.
    Req(usize),
    /// A runtime API command.
    Cli(&'static str),
    /// `show stat` columns `status`, `check_status` of the backend's
    /// servers.
    Stat,
    /// Wait (health checks).
    Sleep(u64),
}

const RR_CFG: &str = "global
    stats socket @SOCK@ level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:@PORT@
    default_backend be
backend be
    balance roundrobin
    server s1 127.0.0.1:@s1@
    server s2 127.0.0.1:@s2@ weight 2
";

fn get(port: u16, path: &str) -> String {
    let r = raw(
        port,
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    server_of(&r)
}

/// Runs `ops` with backends s1..sN (`@sN@` in the commands, or the
/// `ports` given instead) and returns one line per step.
fn run(bin: &str, ops: &[Op], backends: &[Backend]) -> Vec<String> {
    let ports: Vec<u16> = backends.iter().map(|b| b.port).collect();
    run_on(bin, RR_CFG, ops, &ports)
}

fn run_on(bin: &str, cfg: &str, ops: &[Op], ports: &[u16]) -> Vec<String> {
    let fill = |s: &str| {
        let mut s = s.to_string();
        for (i, p) in ports.iter().enumerate() {
            s = s.replace(&format!("@s{}@", i + 1), &p.to_string());
        }
        s
    };
    let r = start(bin, &fill(cfg));
    let mut out = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        match op {
            Op::Req(n) => {
                let seq: Vec<String> = (0..*n)
                    .map(|i| get(r.p.port, &format!("/{k}/{i}")))
                    .collect();
                out.push(seq.join(" "));
            }
            Op::Cli(c) => {
                let reply = cli(&r, &fill(c));
                out.push(format!("{c} -> {reply:?}"));
            }
            Op::Stat => {
                let csv = cli(&r, "show stat");
                let mut lines = csv.lines();
                let head: Vec<&str> = lines
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("# ")
                    .split(',')
                    .collect();
                let col = |row: &[&str], n: &str| {
                    head.iter()
                        .position(|h| *h == n)
                        .and_then(|i| row.get(i).map(|v| v.to_string()))
                        .unwrap_or_default()
                };
                for l in lines.filter(|l| l.starts_with("be,")) {
                    let row: Vec<&str> = l.split(',').collect();
                    out.push(format!(
                        "{} {} {} {}",
                        col(&row, "svname"),
                        col(&row, "status"),
                        col(&row, "check_status"),
                        col(&row, "weight")
                    ));
                }
            }
            Op::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
        }
    }
    out
}

#[test]
fn roundrobin_sequence_after_add_enable_del_matches_haproxy() {
    if !have_haproxy() {
        return;
    }
    let backends: Vec<Backend> = (1..=5)
        .map(|i| Backend::start(&format!("s{i}"), Behaviour::Http))
        .collect();
    let ops = [
        Op::Req(6),
        Op::Cli("add server be/d1 127.0.0.1:@s3@ weight 3"),
        Op::Req(6),
        Op::Cli("enable server be/d1"),
        Op::Req(24),
        // Added `enabled`: HAProxy 2.6 gives it no traffic until its
        // first change, then takes it in from the `curr` tree.
        Op::Cli("add server be/d2 127.0.0.1:@s4@ enabled weight 3"),
        Op::Req(12),
        Op::Cli("set weight be/d2 2"),
        Op::Req(20),
        Op::Cli("disable server be/d1"),
        Op::Req(12),
        Op::Cli("del server be/d1"),
        Op::Req(12),
        Op::Cli("add server be/d3 127.0.0.1:@s5@ weight 5"),
        Op::Cli("enable server be/d3"),
        Op::Req(30),
        Op::Cli("set weight be/d3 1"),
        Op::Req(15),
    ];
    let want = run(HAPROXY, &ops, &backends);
    let got = run(env!("CARGO_BIN_EXE_switchyard"), &ops, &backends);
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(g, w, "step {i}\nhaproxy:    {w}\nswitchyard: {g}");
    }
}

#[test]
fn backup_added_at_runtime_serves_when_actives_are_down_like_haproxy() {
    if !have_haproxy() {
        return;
    }
    let backends: Vec<Backend> = (1..=5)
        .map(|i| Backend::start(&format!("s{i}"), Behaviour::Http))
        .collect();
    let ops = [
        Op::Cli("add server be/b1 127.0.0.1:@s5@ backup"),
        Op::Cli("enable server be/b1"),
        Op::Req(3),
        Op::Cli("disable server be/s1"),
        Op::Cli("disable server be/s2"),
        Op::Req(3),
        Op::Cli("enable server be/s2"),
        Op::Req(3),
    ];
    let want = run(HAPROXY, &ops, &backends);
    let got = run(env!("CARGO_BIN_EXE_switchyard"), &ops, &backends);
    assert_eq!(got, want);
}

/// A TCP backend with an established session through the proxy.
const TCP_CFG: &str = "global
    stats socket @SOCK@ level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:@PORT@
    default_backend be
backend be
    server s1 127.0.0.1:@D@
";

fn held_session_replies(bin: &str, echo: u16, dead: u16) -> Vec<String> {
    let r = start(bin, &TCP_CFG.replace("@D@", &dead.to_string()));
    let mut out = Vec::new();
    let mut step = |c: &str| out.push(format!("{c} -> {:?}", cli(&r, c)));
    step(&format!("add server be/d1 127.0.0.1:{echo}"));
    step("enable server be/d1");
    step("disable server be/s1");
    let mut c = TcpStream::connect(("127.0.0.1", r.p.port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(3))).ok();
    c.write_all(b"ping").expect("send");
    let mut buf = [0u8; 4];
    let echoed = c.read_exact(&mut buf).is_ok() && &buf == b"ping";
    step("disable server be/d1");
    step("del server be/d1");
    drop(c);
    // The session ends once the client closed; bounded wait.
    let mut last = String::new();
    for _ in 0..50 {
        last = cli(&r, "del server be/d1");
        if last.starts_with("Server deleted.") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    out.push(format!("echoed {echoed}; finally {last:?}"));
    out.push(format!("{:?}", cli(&r, "del server be/d1")));
    out
}

#[test]
fn del_refuses_a_server_with_a_session_like_haproxy() {
    if !have_haproxy() {
        return;
    }
    let echo = Backend::start("e", Behaviour::Echo);
    let dead = support::dead_port();
    let want = held_session_replies(HAPROXY, echo.port, dead);
    let got = held_session_replies(env!("CARGO_BIN_EXE_switchyard"), echo.port, dead);
    assert_eq!(got, want);
}

#[test]
fn added_server_takes_traffic_and_deleted_one_never_again() {
    let backends: Vec<Backend> = (1..=5)
        .map(|i| Backend::start(&format!("s{i}"), Behaviour::Http))
        .collect();
    let fill = |s: &str| {
        let mut s = s.to_string();
        for (i, b) in backends.iter().enumerate() {
            s = s.replace(&format!("@s{}@", i + 1), &b.port.to_string());
        }
        s
    };
    let cfg = RR_CFG.replace(
        "    default_backend be\n",
        "    default_backend be\n    http-request use-service prometheus-exporter if { path /metrics }\n    stats enable\n    stats uri /st\n",
    );
    let r = start(env!("CARGO_BIN_EXE_switchyard"), &fill(&cfg));
    let seen =
        |n: usize| -> Vec<String> { (0..n).map(|i| get(r.p.port, &format!("/{i}"))).collect() };
    assert_eq!(
        cli(&r, &fill("add server be/new 127.0.0.1:@s3@")),
        "New server registered.\n\n"
    );
    assert!(!seen(9).contains(&"s3".to_string()), "in maintenance");
    assert_eq!(cli(&r, "enable server be/new"), "\n");
    let got = seen(12);
    assert_eq!(got.iter().filter(|s| *s == "s3").count(), 3, "{got:?}");
    let stat = cli(&r, "show stat");
    assert!(stat.lines().any(|l| l.starts_with("be,new,")), "{stat}");
    let prom = support::body(&r.p.get("/metrics")).to_string();
    assert!(
        prom.contains("haproxy_server_status{proxy=\"be\",server=\"new\""),
        "{prom}"
    );
    let page = r.p.get("/st;csv");
    assert!(page.lines().any(|l| l.starts_with("be,new,")), "{page}");
    assert_eq!(cli(&r, "disable server be/new"), "\n");
    assert_eq!(cli(&r, "del server be/new"), "Server deleted.\n");
    let got = seen(12);
    assert!(!got.contains(&"s3".to_string()), "{got:?}");
    assert!(got.iter().all(|s| s == "s1" || s == "s2"), "{got:?}");
    let stat = cli(&r, "show stat");
    assert!(!stat.lines().any(|l| l.starts_with("be,new,")), "{stat}");
    // The name and the id are free again.
    assert_eq!(
        cli(&r, &fill("add server be/new 127.0.0.1:@s4@ enabled")),
        "New server registered.\n\n"
    );
    assert!(cli(&r, "show servers state be").contains("3 be 3 new 127.0.0.1 2 0 1 1"));
}

#[test]
fn health_checks_of_added_servers_start_with_enable_health_like_haproxy() {
    if !have_haproxy() {
        return;
    }
    let backends: Vec<Backend> = (1..=3)
        .map(|i| Backend::start(&format!("s{i}"), Behaviour::Http))
        .collect();
    // s4: nothing listens there.
    let dead = support::dead_port();
    let mut ports: Vec<u16> = backends.iter().map(|b| b.port).collect();
    ports.push(dead);
    let ops = [
        Op::Cli("add server be/c1 127.0.0.1:@s3@ check inter 200 rise 1 fall 1"),
        Op::Cli("add server be/c2 127.0.0.1:@s4@ check inter 200 rise 1 fall 1"),
        Op::Cli("enable health be/s1"),
        Op::Cli("enable server be/c1"),
        Op::Cli("enable server be/c2"),
        Op::Stat,
        Op::Cli("enable health be/c1"),
        Op::Cli("enable health be/c2"),
        Op::Sleep(1000),
        Op::Stat,
        Op::Req(12),
        Op::Cli("disable health be/c1"),
        Op::Stat,
        Op::Cli("disable server be/c2"),
        Op::Cli("del server be/c2"),
        Op::Stat,
    ];
    let want = run_on(HAPROXY, RR_CFG, &ops, &ports);
    let got = run_on(env!("CARGO_BIN_EXE_switchyard"), RR_CFG, &ops, &ports);
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(g, w, "step {i}\nhaproxy:    {w}\nswitchyard: {g}");
    }
    assert_eq!(got.len(), want.len());
    for l in ["c1 no check  1", "c1 UP L4OK 1", "c2 DOWN L4CON 1"] {
        assert!(got.iter().any(|g| g == l), "{l}: {got:#?}");
    }
}

#[test]
fn added_server_tracking_a_checked_one_follows_it_like_haproxy() {
    if !have_haproxy() {
        return;
    }
    let cfg = RR_CFG.replace(
        "    server s2 127.0.0.1:@s2@ weight 2\n",
        // One check at start-up, then none for a minute: forced states stay.
        "    server s2 127.0.0.1:@s2@ weight 2 check inter 60s rise 1 fall 1\n",
    );
    let ops = [
        Op::Sleep(300),
        Op::Cli("add server be/t1 127.0.0.1:@s3@ track s2"),
        Op::Cli("enable server be/t1"),
        Op::Sleep(300),
        Op::Stat,
        Op::Req(8),
        Op::Cli("set server be/s2 health down"),
        Op::Sleep(300),
        Op::Stat,
        Op::Req(4),
        Op::Cli("set server be/s2 health up"),
        Op::Sleep(300),
        Op::Stat,
        Op::Req(8),
        Op::Cli("disable server be/s2"),
        Op::Stat,
        Op::Cli("del server be/t1"),
        Op::Cli("disable server be/t1"),
        Op::Cli("del server be/t1"),
    ];
    let run_one = |bin: &str| {
        let b: Vec<Backend> = (1..=3)
            .map(|i| Backend::start(&format!("s{i}"), Behaviour::Http))
            .collect();
        let ports: Vec<u16> = b.iter().map(|b| b.port).collect();
        run_on(bin, &cfg, &ops, &ports)
    };
    let want = run_one(HAPROXY);
    let got = run_one(env!("CARGO_BIN_EXE_switchyard"));
    let norm = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|l| {
                l.split(' ')
                    .map(|w| {
                        if w.parse::<u16>().is_ok_and(|p| p > 1024) {
                            "P"
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let (want, got) = (norm(want), norm(got));
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(g, w, "step {i}\nhaproxy:    {w}\nswitchyard: {g}");
    }
    assert_eq!(got.len(), want.len());
}
