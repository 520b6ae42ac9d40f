//! End-to-end tests of the check forms beyond plain connect/HTTP: tcp-check
//! rules, agent replies (drain, weight), `track`, `disable-on-404`,
//! `check-send-proxy` and `log-health-checks`, observed through the traffic
//! switchyard sends and what it prints. Every test is bounded (< 5 s).

mod support;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Proxy, TempDir, free_port};

/// A loopback server writing `banner` on every connection, recording the
/// first bytes each client sends, then holding the connection briefly.
struct Banner {
    port: u16,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Banner {
    fn start(banner: &'static [u8]) -> Banner {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        l.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (st, sn) = (stop.clone(), seen.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        let sn = sn.clone();
                        std::thread::spawn(move || {
                            let _ = c.set_nonblocking(false);
                            let _ = c.write_all(banner);
                            let _ = c.set_read_timeout(Some(Duration::from_millis(300)));
                            let mut b = [0u8; 512];
                            if let Ok(n) = c.read(&mut b)
                                && n > 0
                                && let Ok(mut g) = sn.lock()
                            {
                                g.push(b[..n].to_vec());
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Banner { port, stop, seen }
    }
}

impl Drop for Banner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

const DEFAULTS: &str = "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 2s\n  timeout server 2s\n  timeout check 300ms\n";

/// The first line a client gets through the proxy.
fn first_line(port: u16) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    s.set_read_timeout(Some(Duration::from_millis(800))).ok();
    let mut b = [0u8; 256];
    let n = s.read(&mut b).unwrap_or(0);
    String::from_utf8_lossy(&b[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

fn lines(port: u16, n: usize) -> Vec<String> {
    (0..n).map(|_| first_line(port)).collect()
}

#[test]
fn tcp_check_expect_takes_bad_server_out() {
    let good = Banner::start(b"+OK good\r\n");
    let bad = Banner::start(b"-ERR bad\r\n");
    let p = Proxy::start(&format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:@PORT@\n  default_backend b\nbackend b\n  balance roundrobin\n  option tcp-check\n  tcp-check expect string +OK\n  server g 127.0.0.1:{} check inter 200\n  server x 127.0.0.1:{} check inter 200\n",
        good.port, bad.port
    ));
    std::thread::sleep(Duration::from_millis(700));
    let got = lines(p.port, 6);
    assert!(got.iter().all(|l| l == "+OK good"), "{got:?}");
}

#[test]
fn agent_drain_and_zero_weight_stop_traffic() {
    let a = Banner::start(b"+OK a\r\n");
    let b = Banner::start(b"+OK b\r\n");
    let c = Banner::start(b"+OK c\r\n");
    let drain = Banner::start(b"drain\n");
    let zero = Banner::start(b"up 0%\n");
    let p = Proxy::start(&format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:@PORT@\n  default_backend b\nbackend b\n  balance roundrobin\n  server a 127.0.0.1:{} check inter 200\n  server b 127.0.0.1:{} agent-check agent-port {} agent-inter 200\n  server c 127.0.0.1:{} agent-check agent-port {} agent-inter 200\n",
        a.port, b.port, drain.port, c.port, zero.port
    ));
    std::thread::sleep(Duration::from_millis(700));
    let got = lines(p.port, 6);
    assert!(got.iter().all(|l| l == "+OK a"), "{got:?}");
}

#[test]
fn tracker_follows_tracked_server_and_404_goes_nolb() {
    let a = Banner::start(b"+OK a\r\n");
    let t = Banner::start(b"+OK t\r\n");
    let dead = free_port();
    let p = Proxy::start(&format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:@PORT@\n  default_backend b\nbackend ref\n  server r 127.0.0.1:{dead} check inter 200\nbackend b\n  balance roundrobin\n  server a 127.0.0.1:{} check inter 200\n  server t 127.0.0.1:{} track ref/r\n",
        a.port, t.port
    ));
    std::thread::sleep(Duration::from_millis(600));
    let got = lines(p.port, 6);
    assert!(got.iter().all(|l| l == "+OK a"), "{got:?}");

    // disable-on-404: the 404 server goes NOLB and gets no new traffic.
    let ok = Banner::start(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-S: ok\r\n\r\nok\r\n");
    let nf = Banner::start(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nX-S: nf\r\n\r\nnf\r\n");
    let p = Proxy::start(&format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:@PORT@\n  default_backend b\nbackend b\n  balance roundrobin\n  option httpchk\n  http-check disable-on-404\n  server ok 127.0.0.1:{} check inter 200\n  server nf 127.0.0.1:{} check inter 200\n",
        ok.port, nf.port
    ));
    std::thread::sleep(Duration::from_millis(600));
    let got = lines(p.port, 6);
    assert!(got.iter().all(|l| l == "HTTP/1.1 200 OK"), "{got:?}");
}

#[test]
fn check_send_proxy_sends_a_proxy_line() {
    let s = Banner::start(b"+OK\r\n");
    let _p = Proxy::start(&format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:@PORT@\n  default_backend b\nbackend b\n  option tcp-check\n  tcp-check send PING\\r\\n\n  tcp-check expect string +OK\n  server s 127.0.0.1:{} check inter 200 check-send-proxy\n",
        s.port
    ));
    std::thread::sleep(Duration::from_millis(500));
    let seen = s.seen.lock().map(|g| g.clone()).unwrap_or_default();
    let first = seen.first().map(|b| String::from_utf8_lossy(b).to_string());
    // haproxy 2.6.12 sends `PROXY TCP4 127.0.0.1 127.0.0.1 <sport> <port>`.
    let first = first.unwrap_or_default();
    assert!(
        first.starts_with("PROXY TCP4 127.0.0.1 127.0.0.1 "),
        "{first:?}"
    );
    assert!(
        first.contains(&format!(" {}\r\nPING\r\n", s.port)),
        "{first:?}"
    );
}

#[test]
fn log_health_checks_lines_like_haproxy() {
    let up = Banner::start(b"");
    let dead = free_port();
    let dir = TempDir::new();
    let cfg = dir.0.join("t.cfg");
    let port = free_port();
    std::fs::write(
        &cfg,
        format!(
            "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n  option log-health-checks\n  server s 127.0.0.1:{dead} check inter 300\n  server t 127.0.0.1:{} check inter 300 rise 1\n",
            up.port
        ),
    )
    .expect("write cfg");
    let err = dir.0.join("err");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["-db", "-f"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).expect("err file"))
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(700));
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&err).unwrap_or_default();
    // Lines printed by haproxy 2.6.12 for the same configuration.
    for want in [
        "Health check for server b/s failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms, status: 0/2 DOWN.",
        "Server b/s is DOWN. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "Health check for server b/t succeeded, reason: Layer4 check passed, check duration: 0ms, status: 3/3 UP.",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}
