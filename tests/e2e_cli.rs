//! End-to-end tests of the runtime API commands over a real stats socket:
//! typed/json formats, the read-only `show` family, and write commands
//! with their effect on traffic. Deterministic answers are compared with
//! the real HAProxy 2.6.12 (`/usr/sbin/haproxy`) running the same config.

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;
use support::cli;
use support::{Backend, Behaviour, Proxy, TempDir, raw};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// Two name-echo servers `a`/`b` in `be` (tcp), an echo server in `echo`,
/// sockets at every level in `dir`.
fn config(dir: &Path, a: u16, b: u16, e: u16) -> String {
    format!(
        "global\n    maxconn 500\n    stats socket {d}/admin.sock mode 600 level admin\n    \
         stats socket {d}/oper.sock level operator\n    stats socket {d}/user.sock level user\n    \
         stats timeout 5s\n\
         defaults\n    timeout connect 500ms\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    mode tcp\n    bind 127.0.0.1:@PORT@\n    default_backend be\n\
         backend be\n    mode tcp\n    server a 127.0.0.1:{a} weight 10\n    \
         server b 127.0.0.1:{b} weight 20 maxconn 7\n\
         backend echo\n    mode tcp\n    server e1 127.0.0.1:{e}\n",
        d = dir.display()
    )
}

struct Rig {
    p: Proxy,
    dir: TempDir,
    _b: Vec<Backend>,
}

impl Rig {
    fn sock(&self, level: &str) -> std::path::PathBuf {
        self.dir.0.join(format!("{level}.sock"))
    }
    fn admin(&self, cmd: &str) -> String {
        cli(&self.sock("admin"), cmd)
    }
}

fn start_with(bin: &str) -> Rig {
    let a = Backend::start("a", Behaviour::Name);
    let b = Backend::start("b", Behaviour::Name);
    let e = Backend::start("e", Behaviour::Echo);
    let dir = TempDir::new();
    let p = Proxy::start_with(bin, &config(&dir.0, a.port, b.port, e.port));
    let r = Rig {
        p,
        dir,
        _b: vec![a, b, e],
    };
    // The unix sockets may come up just after the listener.
    for _ in 0..100 {
        if r.sock("admin").exists() && r.sock("user").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    r
}

fn ours() -> Rig {
    start_with(env!("CARGO_BIN_EXE_switchyard"))
}

fn haproxy() -> Option<Rig> {
    Path::new(HAPROXY).exists().then(|| start_with(HAPROXY))
}

/// The part of typed lines that does not depend on traffic or time.
fn typed_keys(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.splitn(4, ':').take(3).collect::<Vec<_>>().join(":"))
        .collect()
}

#[test]
fn cli_deterministic_answers_match_haproxy() {
    let Some(h) = haproxy() else {
        return;
    };
    let o = ours();
    // Both really answer (a missing socket would make everything equal).
    assert_eq!(o.admin("show cli level"), "admin\n\n");
    assert_eq!(h.admin("show cli level"), "admin\n\n");
    let cmds = [
        ("admin", "show schema json"),
        ("admin", "show env NO_SUCH_VARIABLE"),
        ("admin", "show table"),
        ("admin", "show table nosuch"),
        ("admin", "show errors nosuch"),
        ("admin", "show servers conn nosuch"),
        ("admin", "show sess 0x1234"),
        ("admin", "shutdown session"),
        ("admin", "shutdown session abc"),
        ("admin", "shutdown session 0x1234"),
        ("admin", "shutdown sessions server"),
        ("admin", "shutdown sessions server be"),
        ("admin", "shutdown sessions server be/nosuch"),
        ("admin", "set maxconn frontend"),
        ("admin", "set maxconn frontend nosuch 10"),
        ("admin", "set maxconn frontend fe"),
        ("admin", "set maxconn frontend fe -3"),
        ("admin", "set maxconn global"),
        ("admin", "set maxconn global 5000"),
        ("admin", "set maxconn server be/a"),
        ("admin", "set maxconn server be/a abc"),
        ("admin", "set maxconn server a 3"),
        ("admin", "set rate-limit"),
        ("admin", "set rate-limit connections global"),
        ("admin", "set timeout foo 5"),
        ("admin", "set timeout cli"),
        ("admin", "set timeout cli abc"),
        ("admin", "disable frontend"),
        ("admin", "disable frontend nosuch"),
        ("admin", "shutdown frontend nosuch"),
        ("admin", "enable health be/a"),
        ("admin", "enable agent be/a"),
        ("admin", "disable health be/nosuch"),
        ("admin", "disable health a"),
        ("admin", "set server be/a agent up"),
        ("admin", "set server be/a health bogus"),
        ("admin", "set server be/a check-port"),
        ("admin", "set server be/a check-port 80"),
        ("admin", "set server be/a addr"),
        ("admin", "set server be/a addr bogus"),
        ("admin", "set server be/a frob 1"),
        ("admin", "help set server"),
        ("admin", "help set maxconn"),
        ("admin", "set maxconn"),
        ("user", "show sess"),
        ("user", "show errors"),
        ("user", "show env"),
        ("user", "set maxconn server be/a 3"),
        ("user", "set rate-limit connections global 1"),
        ("user", "disable frontend fe"),
        ("user", "shutdown session 0x1"),
        ("oper", "set maxconn global 10"),
        ("oper", "disable health be/a"),
        ("oper", "shutdown frontend fe"),
        ("user", "show table"),
    ];
    for (lvl, c) in cmds {
        assert_eq!(cli(&o.sock(lvl), c), cli(&h.sock(lvl), c), "{lvl}: {c}");
    }
    // Address of a server, unchanged: both answer "no need to change".
    let a = o.admin("show servers conn be");
    let port = a
        .lines()
        .nth(1)
        .and_then(|l| l.split(' ').nth(3))
        .unwrap_or("0")
        .to_string();
    let c = format!("set server be/a addr 127.0.0.1 port {port}");
    assert_eq!(
        o.admin(&c),
        "no need to change the addr, no need to change the port by 'stats socket command'\n\n"
    );
    // `show servers conn` has HAProxy's header (thread count aside).
    let hdr = |s: &str| {
        s.lines()
            .next()
            .unwrap_or("")
            .split(" idle_per_thr")
            .next()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        hdr(&o.admin("show servers conn")),
        hdr(&h.admin("show servers conn"))
    );
    // `show errors` without captures.
    let e = o.admin("show errors");
    assert!(e.starts_with("Total events captured on ["), "{e}");
    assert!(e.ends_with("] : 0\n\n"), "{e}");
}

#[test]
fn cli_typed_and_json_have_haproxy_layout() {
    let Some(h) = haproxy() else {
        return;
    };
    let o = ours();
    for c in [
        "show stat typed",
        "show stat typed desc",
        "show stat -1 4 -1 typed",
    ] {
        assert_eq!(typed_keys(&o.admin(c)), typed_keys(&h.admin(c)), "{c}");
    }
    let j = o.admin("show stat json");
    let v: serde_json::Value = serde_json::from_str(j.trim_end()).expect("valid json");
    let rows = v.as_array().map_or(0, Vec::len);
    assert_eq!(rows, 6, "{j}");
    assert_eq!(v[0][0]["objType"], "Frontend");
    assert_eq!(v[0][0]["field"]["name"], "pxname");
    let i = o.admin("show info json");
    let v: serde_json::Value = serde_json::from_str(i.trim_end()).expect("valid json");
    assert_eq!(v[0]["field"]["name"], "Name");
    assert_eq!(v[0]["tags"]["origin"], "Product");
    let t = o.admin("show info typed");
    assert!(t.starts_with("0.Name.1:POS:str:"), "{t}");
    assert!(t.contains("\n15.Maxconn.1:CLP:u32:500\n"), "{t}");
    let f = o.admin("show info float");
    assert!(
        f.lines()
            .any(|l| l.starts_with("Uptime_sec: ") && l.contains('.')),
        "{f}"
    );
}

/// Reads what arrives within `t`.
fn read_for(s: &mut TcpStream, t: Duration) -> String {
    s.set_read_timeout(Some(t)).ok();
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(_) => String::new(),
    }
}

#[test]
fn cli_set_server_health_down_diverts_traffic() {
    let o = ours();
    assert_eq!(o.admin("set server be/b health down"), "\n");
    let got: Vec<String> = (0..4).map(|_| raw(o.p.port, b"")).collect();
    assert_eq!(got, ["a", "a", "a", "a"]);
    assert_eq!(o.admin("set server be/b health up"), "\n");
    let got: Vec<String> = (0..6).map(|_| raw(o.p.port, b"")).collect();
    assert!(got.iter().any(|g| g == "b"), "{got:?}");
}

/// A proxy whose frontend `fe` leads to one echo server `echo/e1`, with
/// an admin socket; connections stay open as long as the client wants.
fn echo_rig() -> (Proxy, TempDir, Backend) {
    let e = Backend::start("e", Behaviour::Echo);
    let dir = TempDir::new();
    let cfg = format!(
        "global\n    maxconn 100\n    stats socket {d}/admin.sock level admin\n\
         defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend echo\n\
         backend echo\n    server e1 127.0.0.1:{}\n",
        e.port,
        d = dir.0.display()
    );
    let p = Proxy::start(&cfg);
    for _ in 0..100 {
        if dir.0.join("admin.sock").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (p, dir, e)
}

/// An echo round trip on a new or existing connection.
fn echo(c: &mut TcpStream, msg: &str, wait: Duration) -> String {
    if c.write_all(msg.as_bytes()).is_err() {
        return String::new();
    }
    read_for(c, wait)
}

#[test]
fn cli_set_maxconn_frontend_limits_accepts() {
    let (p, dir, _e) = echo_rig();
    let sock = dir.0.join("admin.sock");
    assert_eq!(cli(&sock, "set maxconn frontend fe 1"), "\n");
    let mut c1 = TcpStream::connect(("127.0.0.1", p.port)).expect("c1");
    assert_eq!(echo(&mut c1, "one", Duration::from_secs(3)), "one");
    let mut c2 = TcpStream::connect(("127.0.0.1", p.port)).expect("c2");
    assert_eq!(
        echo(&mut c2, "two", Duration::from_millis(400)),
        "",
        "over maxconn: not served"
    );
    assert_eq!(cli(&sock, "set maxconn frontend fe 10"), "\n");
    assert_eq!(read_for(&mut c2, Duration::from_secs(3)), "two");
}

#[test]
fn cli_set_maxconn_server_limits_and_releases_queue() {
    let (p, dir, _e) = echo_rig();
    let sock = dir.0.join("admin.sock");
    assert_eq!(
        cli(&sock, "set maxconn server echo/e1 abc"),
        "maxconn string empty or preceded by garbage\n"
    );
    assert_eq!(cli(&sock, "set maxconn server echo/e1 1"), "\n");
    let mut c1 = TcpStream::connect(("127.0.0.1", p.port)).expect("c1");
    assert_eq!(echo(&mut c1, "one", Duration::from_secs(3)), "one");
    let mut c2 = TcpStream::connect(("127.0.0.1", p.port)).expect("c2");
    assert_eq!(
        echo(&mut c2, "two", Duration::from_millis(300)),
        "",
        "queued behind maxconn 1"
    );
    assert_eq!(cli(&sock, "set maxconn server echo/e1 0"), "\n");
    assert_eq!(read_for(&mut c2, Duration::from_secs(3)), "two");
}

#[test]
fn cli_disable_frontend_pauses_accepting() {
    let (p, dir, _e) = echo_rig();
    let sock = dir.0.join("admin.sock");
    assert_eq!(cli(&sock, "disable frontend fe"), "\n");
    assert_eq!(
        cli(&sock, "disable frontend fe"),
        "All sockets are already disabled.\n\n"
    );
    // The accept loop may already hold the slot of one more connection.
    let mut c1 = TcpStream::connect(("127.0.0.1", p.port)).expect("c1");
    let _ = echo(&mut c1, "one", Duration::from_millis(300));
    let mut c2 = TcpStream::connect(("127.0.0.1", p.port)).expect("c2");
    assert_eq!(
        echo(&mut c2, "two", Duration::from_millis(400)),
        "",
        "paused"
    );
    assert_eq!(cli(&sock, "enable frontend fe"), "\n");
    assert_eq!(read_for(&mut c2, Duration::from_secs(3)), "two");
    assert_eq!(
        cli(&sock, "enable frontend fe"),
        "All sockets are already enabled.\n\n"
    );
    assert_eq!(cli(&sock, "shutdown frontend fe"), "\n");
    assert_eq!(
        cli(&sock, "shutdown frontend fe"),
        "Frontend was already shut down.\n\n"
    );
    assert_eq!(
        cli(&sock, "enable frontend fe"),
        "Frontend was previously shut down, cannot enable.\n\n"
    );
}

#[test]
fn cli_show_and_shutdown_session() {
    let (p, dir, _e) = echo_rig();
    let sock = dir.0.join("admin.sock");
    let mut c = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
    assert_eq!(echo(&mut c, "x", Duration::from_secs(3)), "x");
    let list = cli(&sock, "show sess");
    // Ours by its source port: the start-up probe's session may still be
    // listed, and ids follow task start order, not accept order.
    let me = format!(
        "src=127.0.0.1:{} ",
        c.local_addr().map(|a| a.port()).unwrap_or(0)
    );
    let line = list
        .lines()
        .find(|l| l.contains(&me) && l.contains(" fe=fe be=echo srv=e1 "))
        .unwrap_or_else(|| panic!("{list}"));
    let id = line.split(':').next().unwrap_or("").to_string();
    let one = cli(&sock, &format!("show sess {id}"));
    assert!(one.contains("frontend=fe"), "{list}\n---\n{one}");
    assert_eq!(cli(&sock, &format!("shutdown session {id}")), "\n");
    let mut buf = Vec::new();
    c.set_read_timeout(Some(Duration::from_secs(3))).ok();
    let _ = c.read_to_end(&mut buf);
    assert!(!cli(&sock, "show sess").contains(&id));
    // `shutdown sessions server` ends every session on that server.
    let mut c1 = TcpStream::connect(("127.0.0.1", p.port)).expect("c1");
    let mut c2 = TcpStream::connect(("127.0.0.1", p.port)).expect("c2");
    assert_eq!(echo(&mut c1, "1", Duration::from_secs(3)), "1");
    assert_eq!(echo(&mut c2, "2", Duration::from_secs(3)), "2");
    assert_eq!(cli(&sock, "shutdown sessions server echo/e1"), "\n");
    for c in [&mut c1, &mut c2] {
        let mut buf = Vec::new();
        c.set_read_timeout(Some(Duration::from_secs(3))).ok();
        assert!(c.read_to_end(&mut buf).is_ok(), "closed by the proxy");
    }
    assert!(!cli(&sock, "show sess").contains(" fe=fe "));
}

#[test]
fn cli_rate_limit_connections_throttles_accepts() {
    let (p, dir, _e) = echo_rig();
    let sock = dir.0.join("admin.sock");
    assert_eq!(cli(&sock, "set rate-limit connections global 2"), "\n");
    std::thread::sleep(Duration::from_millis(1100));
    let mut conns: Vec<TcpStream> = (0..6)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", p.port)).ok())
        .collect();
    for c in conns.iter_mut() {
        let _ = c.write_all(b"x");
    }
    std::thread::sleep(Duration::from_millis(400));
    let mut served = 0;
    for c in conns.iter_mut() {
        if read_for(c, Duration::from_millis(20)) == "x" {
            served += 1;
        }
    }
    // Two per second, plus the connection an idle accept loop may hold.
    assert!((2..=3).contains(&served), "{served}");
    assert_eq!(cli(&sock, "set rate-limit connections global 0"), "\n");
}
