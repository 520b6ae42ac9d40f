//! `tcp-request` / `tcp-response` rules end to end, differential against
//! the real HAProxy 2.6 (`/usr/sbin/haproxy`, skipped when absent): content
//! inspection waiting for data, the inspect-delay expiry, SNI routing,
//! connection-level rejects, response inspection, and content rules in
//! HTTP mode.

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::{Backend, Behaviour, Proxy};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn both(cfg: &str) -> Option<(Proxy, Proxy)> {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return None;
    }
    Some((Proxy::start_with(HAPROXY, cfg), Proxy::start(cfg)))
}

const TCP: &str = "defaults\n    mode tcp\n    timeout connect 500ms\n    timeout client 3s\n    timeout server 3s\n";

/// Sends `parts` with `gap` between them, then reads until close (3 s max).
/// Returns what came back and how long the exchange took.
fn talk(port: u16, parts: &[&[u8]], gap: Duration) -> (Vec<u8>, Duration) {
    let t0 = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(gap);
        }
        if s.write_all(p).is_err() {
            break;
        }
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    (out, t0.elapsed())
}

#[test]
fn content_rules_wait_for_data_then_decide() {
    let echo = Backend::start("e", Behaviour::Echo);
    let cfg = format!(
        "{TCP}frontend f\n    bind 127.0.0.1:@PORT@\n    tcp-request inspect-delay 2s\n    tcp-request content accept if {{ req.payload(0,4) -m str PING }}\n    tcp-request content reject\n    default_backend b\nbackend b\n    server s 127.0.0.1:{}\n",
        echo.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    for p in [&ha, &sy] {
        // Split across two reads: the rule waits for the 4th byte.
        let (out, _) = talk(p.port, &[b"PI", b"NG\n"], Duration::from_millis(200));
        assert_eq!(out, b"PING\n", "port {}", p.port);
        let (out, took) = talk(p.port, &[b"XXXX"], Duration::ZERO);
        assert!(out.is_empty());
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
}

#[test]
fn inspect_delay_expiry_runs_rules_on_final_data() {
    let echo = Backend::start("e", Behaviour::Echo);
    let cfg = format!(
        "{TCP}frontend f\n    bind 127.0.0.1:@PORT@\n    tcp-request inspect-delay 300ms\n    tcp-request content accept if {{ req.len ge 4 }}\n    tcp-request content reject\n    default_backend b\nbackend b\n    server s 127.0.0.1:{}\n",
        echo.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    for p in [&ha, &sy] {
        let t0 = Instant::now();
        let mut s = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(3))).ok();
        s.write_all(b"ab").unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let took = t0.elapsed();
        assert!(out.is_empty(), "port {}: {out:?}", p.port);
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_secs(2),
            "{took:?}"
        );
        // Enough data: accepted at once and forwarded.
        let (out, _) = talk(p.port, &[b"abcd"], Duration::ZERO);
        assert_eq!(out, b"abcd");
    }
}

/// A TLS 1.2 ClientHello carrying `sni`.
fn client_hello(sni: &str) -> Vec<u8> {
    let name = sni.as_bytes();
    let list_len = name.len() + 3;
    let mut ext = vec![0, 0];
    ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
    ext.extend_from_slice(&(list_len as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7u8; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[test]
fn sni_routing() {
    let a = Backend::start("a", Behaviour::Name);
    let b = Backend::start("b", Behaviour::Name);
    let cfg = format!(
        "{TCP}frontend f\n    bind 127.0.0.1:@PORT@\n    tcp-request inspect-delay 2s\n    tcp-request content accept if {{ req_ssl_sni -m found }}\n    use_backend ba if {{ req_ssl_sni -i A.example }}\n    default_backend bb\nbackend ba\n    server s 127.0.0.1:{}\nbackend bb\n    server s 127.0.0.1:{}\n",
        a.port, b.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    for p in [&ha, &sy] {
        let hello = client_hello("a.example");
        let (out, _) = talk(
            p.port,
            &[&hello[..10], &hello[10..]],
            Duration::from_millis(100),
        );
        assert_eq!(out, b"a", "port {}", p.port);
        let (out, _) = talk(p.port, &[&client_hello("b.example")], Duration::ZERO);
        assert_eq!(out, b"b");
    }
}

#[test]
fn connection_and_response_rules() {
    let a = Backend::start("a", Behaviour::Name);
    let b = Backend::start("b", Behaviour::Name);
    let cfg = format!(
        "{TCP}frontend f\n    bind 127.0.0.1:@PORT@\n    tcp-request connection reject if {{ src 10.0.0.0/8 }}\n    tcp-request connection accept if {{ src 127.0.0.0/8 }}\n    tcp-request connection reject\n    use_backend ba if {{ req.len gt 100 }}\n    default_backend bb\nbackend ba\n    server s 127.0.0.1:{}\nbackend bb\n    tcp-response inspect-delay 1s\n    tcp-response content reject if {{ res.payload(0,1) -m str b }}\n    server s 127.0.0.1:{}\n",
        a.port, b.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    for p in [&ha, &sy] {
        let (out, _) = talk(p.port, &[b"x"], Duration::ZERO);
        assert!(out.is_empty(), "port {}: {out:?}", p.port);
    }
    let cfg = format!(
        "{TCP}listen refuse\n    bind 127.0.0.1:@PORT@\n    tcp-request connection reject if {{ src 127.0.0.0/8 }}\n    server s 127.0.0.1:{}\n",
        a.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    for p in [&ha, &sy] {
        let (out, took) = talk(p.port, &[b"x"], Duration::ZERO);
        assert!(out.is_empty(), "port {}: {out:?}", p.port);
        assert!(took < Duration::from_secs(1));
    }
}

#[test]
fn content_rules_in_http_mode() {
    let cfg = "defaults\n    mode http\n    timeout connect 500ms\n    timeout client 3s\n    timeout server 3s\nfrontend h\n    bind 127.0.0.1:@PORT@\n    tcp-request content reject if { path /x }\n    tcp-request content set-var(txn.m) method\n    http-request return status 200 content-type text/plain lf-string ok-%[var(txn.m)]\n";
    let Some((ha, sy)) = both(cfg) else { return };
    for p in [&ha, &sy] {
        let r = p.raw("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(r, "", "a content reject closes without a reply");
    }
    let r = "GET /y HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    let (h, s) = (ha.raw(r), sy.raw(r));
    assert!(h.ends_with("ok-GET"), "{h}");
    assert_eq!(s, h);
}

/// What the engine cannot run is refused at start-up, by name and line.
#[test]
fn refuses_unimplemented_rules_fetches_and_converters() {
    let cases = [
        ("tcp-request content track-sc0 src", "track-sc0"),
        ("tcp-request connection expect-proxy layer4", "expect-proxy"),
        (
            "tcp-request content reject if { sc0_conn_cur gt 1 }",
            "sc0_conn_cur",
        ),
        (
            "http-request return status 200 content-type text/plain lf-string %[path,url_enc]",
            "url_enc",
        ),
    ];
    for (rule, name) in cases {
        let dir = support::TempDir::new();
        let path = dir.0.join("r.cfg");
        let port = support::free_port();
        let cfg = format!(
            "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:{port}\n  {rule}\n"
        );
        std::fs::write(&path, cfg).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Ok(Some(s)) = child.try_wait() {
                break Some(s);
            }
            if Instant::now() > until {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        assert_eq!(status.and_then(|s| s.code()), Some(1), "{rule}: {err}");
        assert!(
            err.contains(name) && err.contains("r.cfg:"),
            "{rule}: {err}"
        );
    }
}
