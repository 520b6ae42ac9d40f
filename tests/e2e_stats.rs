//! End-to-end tests of the stats socket (runtime API) against the real
//! binary, compared with HAProxy 2.6.12's answers.

mod support;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;
use support::{Backend, Behaviour, Proxy, TempDir, raw};

/// The header line captured from HAProxy 2.6.12 (`show stat`).
const HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,";

/// `show info` field names in HAProxy 2.6.12's order.
const INFO_FIELDS: &[&str] = &[
    "Name",
    "Version",
    "Release_date",
    "Nbthread",
    "Nbproc",
    "Process_num",
    "Pid",
    "Uptime",
    "Uptime_sec",
    "Memmax_MB",
    "PoolAlloc_MB",
    "PoolUsed_MB",
    "PoolFailed",
    "Ulimit-n",
    "Maxsock",
    "Maxconn",
    "Hard_maxconn",
    "CurrConns",
    "CumConns",
    "CumReq",
    "MaxSslConns",
    "CurrSslConns",
    "CumSslConns",
    "Maxpipes",
    "PipesUsed",
    "PipesFree",
    "ConnRate",
    "ConnRateLimit",
    "MaxConnRate",
    "SessRate",
    "SessRateLimit",
    "MaxSessRate",
    "SslRate",
    "SslRateLimit",
    "MaxSslRate",
    "SslFrontendKeyRate",
    "SslFrontendMaxKeyRate",
    "SslFrontendSessionReuse_pct",
    "SslBackendKeyRate",
    "SslBackendMaxKeyRate",
    "SslCacheLookups",
    "SslCacheMisses",
    "CompressBpsIn",
    "CompressBpsOut",
    "CompressBpsRateLim",
    "Tasks",
    "Run_queue",
    "Idle_pct",
    "node",
    "Stopping",
    "Jobs",
    "Unstoppable Jobs",
    "Listeners",
    "ActivePeers",
    "ConnectedPeers",
    "DroppedLogs",
    "BusyPolling",
    "FailedResolutions",
    "TotalBytesOut",
    "TotalSplicdedBytesOut",
    "BytesOutRate",
    "DebugCommandsIssued",
    "CumRecvLogs",
    "Build info",
    "Memmax_bytes",
    "PoolAlloc_bytes",
    "PoolUsed_bytes",
    "Start_time_sec",
    "Tainted",
];

/// Sends one raw request on a unix CLI socket and reads until close.
fn cli_raw(sock: &Path, req: &[u8]) -> String {
    // The TCP frontend may accept before the CLI socket file exists.
    let until = std::time::Instant::now() + Duration::from_secs(2);
    let mut s = loop {
        match UnixStream::connect(sock) {
            Ok(s) => break s,
            Err(_) if std::time::Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("connect cli: {e}"),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let _ = s.write_all(req);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn cli(sock: &Path, cmd: &str) -> String {
    cli_raw(sock, format!("{cmd}\n").as_bytes())
}

/// A config with two name-echo TCP servers in `be`, an HTTP frontend,
/// admin + user sockets in `dir`.
fn config(dir: &Path, a: u16, b: u16) -> String {
    format!(
        "global\n    maxconn 500\n    stats socket {d}/admin.sock mode 600 level admin\n    \
         stats socket {d}/user.sock level user\n    stats timeout 5s\n\
         defaults\n    timeout connect 500ms\n    timeout client 2s\n    timeout server 2s\n\
         frontend fe\n    mode tcp\n    bind 127.0.0.1:@PORT@\n    default_backend be\n\
         backend be\n    mode tcp\n    server a 127.0.0.1:{a} weight 10\n    \
         server b 127.0.0.1:{b} weight 20\n    server z 127.0.0.1:{b} backup\n\
         backend web\n    mode http\n    balance leastconn\n    server w1 127.0.0.1:{a} weight 3\n",
        d = dir.display()
    )
}

fn start() -> (Proxy, TempDir, Backend, Backend) {
    let a = Backend::start("a", Behaviour::Name);
    let b = Backend::start("b", Behaviour::Name);
    let dir = TempDir::new();
    let p = Proxy::start(&config(&dir.0, a.port, b.port));
    (p, dir, a, b)
}

/// `(pxname, svname, status, weight)` of every data row.
fn rows(stat: &str) -> Vec<(String, String, String, String)> {
    let status = HEADER.split(',').position(|c| c == "status").unwrap_or(0);
    let weight = HEADER.split(',').position(|c| c == "weight").unwrap_or(0);
    stat.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let g = |i: usize| c.get(i).copied().unwrap_or("").to_string();
            (g(0), g(1), g(status), g(weight))
        })
        .collect()
}

#[test]
fn stats_show_info_has_haproxy_fields_in_order() {
    let (p, dir, _a, _b) = start();
    let out = cli(&dir.0.join("admin.sock"), "show info");
    assert!(out.ends_with("\n\n"), "{out:?}");
    let names: Vec<&str> = out
        .lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
        .collect();
    assert_eq!(names, INFO_FIELDS);
    assert!(out.contains(&format!("\nPid: {}\n", p.pid())), "{out}");
    assert!(out.contains("\nMaxconn: 500\n"), "{out}");
    assert!(out.contains("\nProcess_num: 1\n"), "{out}");
}

#[test]
fn stats_show_stat_header_and_rows_match_config() {
    let (_p, dir, _a, _b) = start();
    let out = cli(&dir.0.join("admin.sock"), "show stat");
    assert!(out.ends_with(",\n\n"), "{out:?}");
    let first = out.lines().next().unwrap_or("");
    assert_eq!(first, HEADER);
    let got: Vec<(String, String, String, String)> = rows(&out);
    let want = [
        ("fe", "FRONTEND", "OPEN", ""),
        ("be", "a", "no check", "10"),
        ("be", "b", "no check", "20"),
        ("be", "z", "no check", "1"),
        ("be", "BACKEND", "UP", "30"),
        ("web", "w1", "no check", "3"),
        ("web", "BACKEND", "UP", "3"),
    ];
    let want: Vec<(String, String, String, String)> = want
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(got, want);
    // Every row has as many cells as the header.
    let n = HEADER.split(',').count();
    for l in out.lines().filter(|l| !l.is_empty()) {
        assert_eq!(l.split(',').count(), n, "{l}");
    }
}

#[test]
fn stats_disable_server_diverts_traffic_and_shows_maint() {
    let (p, dir, _a, _b) = start();
    let sock = dir.0.join("admin.sock");
    assert_eq!(cli(&sock, "disable server be/b"), "\n");
    let got: Vec<String> = (0..4).map(|_| raw(p.port, b"")).collect();
    assert_eq!(got, ["a", "a", "a", "a"]);
    let stat = cli(&sock, "show stat");
    let r = rows(&stat);
    assert!(r.iter().any(|x| x.1 == "b" && x.2 == "MAINT"), "{stat}");
    assert!(
        r.iter()
            .any(|x| x.0 == "be" && x.1 == "BACKEND" && x.3 == "10"),
        "{stat}"
    );
    let state = cli(&sock, "show servers state be");
    assert!(state.contains(" be 2 b 127.0.0.1 0 1 20 20 "), "{state}");
    assert_eq!(cli(&sock, "enable server be/b"), "\n");
    let got: Vec<String> = (0..6).map(|_| raw(p.port, b"")).collect();
    assert!(got.iter().any(|s| s == "b"), "{got:?}");
    // set server ... state maint / ready, and weight 0 keep b out too.
    assert_eq!(cli(&sock, "set server be/b state maint"), "\n");
    let got: Vec<String> = (0..3).map(|_| raw(p.port, b"")).collect();
    assert_eq!(got, ["a", "a", "a"]);
    assert_eq!(cli(&sock, "set server be/b state ready"), "\n");
    assert_eq!(cli(&sock, "set weight be/b 0"), "\n");
    assert_eq!(cli(&sock, "get weight be/b"), "0 (initial 20)\n\n");
    let got: Vec<String> = (0..3).map(|_| raw(p.port, b"")).collect();
    assert_eq!(got, ["a", "a", "a"]);
}

#[test]
fn stats_levels_and_error_messages() {
    let (_p, dir, _a, _b) = start();
    let user = dir.0.join("user.sock");
    let admin = dir.0.join("admin.sock");
    assert_eq!(cli(&user, "disable server be/a"), "Permission denied\n\n");
    assert_eq!(cli(&user, "set weight be/a 5"), "Permission denied\n\n");
    assert_eq!(
        cli(&user, "set server be/a state maint"),
        "Permission denied\n\n"
    );
    assert_eq!(cli(&user, "show cli level"), "user\n\n");
    assert_eq!(cli(&user, "get weight be/a"), "10 (initial 10)\n\n");
    assert_eq!(cli(&user, "operator"), "Permission denied\n\n");
    assert_eq!(
        cli(&admin, "user; disable server be/a"),
        "\nPermission denied\n\n"
    );
    assert_eq!(cli(&admin, "get weight be/zz"), "No such server.\n\n");
    assert_eq!(cli(&admin, "get weight nob/a"), "No such backend.\n\n");
    assert_eq!(
        cli(&admin, "get weight be"),
        "Require 'backend/server'.\n\n"
    );
    assert_eq!(
        cli(&admin, "set weight be/a"),
        "Require <weight> or <weight%>.\n\n"
    );
    assert_eq!(
        cli(&admin, "set weight be/a abc"),
        "Empty weight string empty or preceded by garbage\n"
    );
    assert_eq!(
        cli(&admin, "set weight be/a 300"),
        "Absolute weight can only be between 0 and 256 inclusive.\n\n"
    );
    assert_eq!(
        cli(&admin, "set server be/a state up"),
        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"
    );
    assert_eq!(cli(&admin, "show backend"), "# name\nbe\nweb\n\n");
    assert_eq!(
        cli(&admin, "show servers state nosuch"),
        "Can't find backend.\n\n"
    );
    assert!(
        cli(&admin, "")
            .starts_with("Unknown command. Please enter one of the following commands only:\n")
    );
    // Prompt mode: each answer is followed by the prompt; quit closes.
    let out = cli_raw(&admin, b"prompt\nshow cli level\nquit\n");
    assert_eq!(out, "\n> admin\n\n> ");
}

#[test]
fn stats_garbage_and_huge_lines_do_not_crash() {
    let (p, dir, _a, _b) = start();
    let sock = dir.0.join("admin.sock");
    let huge = vec![b'x'; 200_000];
    let _ = cli_raw(&sock, &huge);
    let _ = cli_raw(&sock, b"\x00\xff\xfe;;;\\;\n");
    let _ = cli_raw(&sock, b"set weight be/a 99999999999999999999999\n");
    let _ = cli_raw(&sock, b"show stat -1 -99999999999 x\n");
    assert_eq!(cli(&sock, "show cli level"), "admin\n\n");
    assert_eq!(raw(p.port, b"").len(), 1);
}

/// The same config on the real HAProxy: names, status and weight agree,
/// before and after `disable server`.
#[test]
fn stats_rows_match_real_haproxy() {
    let bin = "/usr/sbin/haproxy";
    if !Path::new(bin).exists() {
        return;
    }
    let a = Backend::start("a", Behaviour::Name);
    let b = Backend::start("b", Behaviour::Name);
    let d1 = TempDir::new();
    let d2 = TempDir::new();
    let ours = Proxy::start(&config(&d1.0, a.port, b.port));
    let theirs = Proxy::start_with(bin, &config(&d2.0, a.port, b.port));
    let s1 = d1.0.join("admin.sock");
    let s2 = d2.0.join("admin.sock");
    let h1 = cli(&s1, "show stat");
    let h2 = cli(&s2, "show stat");
    assert_eq!(h1.lines().next(), h2.lines().next());
    assert_eq!(rows(&h1), rows(&h2));
    for c in [
        "disable server be/b",
        "set server be/a state drain",
        "set weight be/z 7",
    ] {
        assert_eq!(cli(&s1, c), cli(&s2, c), "{c}");
    }
    for c in [
        "show stat",
        "show stat up",
        "show stat no-maint",
        "show stat be 4 -1",
    ] {
        assert_eq!(rows(&cli(&s1, c)), rows(&cli(&s2, c)), "{c}");
    }
    let strip = |s: String| -> Vec<String> {
        // Drop srv_time_since_last_change (timing-dependent).
        s.lines()
            .map(|l| {
                let mut w: Vec<&str> = l.split(' ').collect();
                if w.len() > 9 && !l.starts_with('#') {
                    w[9] = "T";
                }
                w.join(" ")
            })
            .collect()
    };
    assert_eq!(
        strip(cli(&s1, "show servers state")),
        strip(cli(&s2, "show servers state"))
    );
    drop(theirs);
    drop(ours);
}
