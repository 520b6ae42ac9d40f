//! End-to-end `mode tcp` tests and process lifecycle against the real binary.

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::{Backend, Behaviour, Proxy, dead_port, raw};

fn defaults() -> &'static str {
    "defaults\n    mode tcp\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 2s\n"
}

#[test]
fn tcp_roundrobin_and_echo() {
    let a = Backend::start("a", Behaviour::Name);
    let b = Backend::start("b", Behaviour::Name);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    server a 127.0.0.1:{}\n    server b 127.0.0.1:{}\n",
        defaults(),
        a.port,
        b.port
    );
    let p = Proxy::start(&cfg);
    // The readiness probe of Proxy::start took one turn already, so only
    // the alternation is asserted.
    std::thread::sleep(Duration::from_millis(100));
    let got: Vec<String> = (0..4).map(|_| raw(p.port, b"")).collect();
    assert!(
        got == ["a", "b", "a", "b"] || got == ["b", "a", "b", "a"],
        "{got:?}"
    );
    drop(p);
    let e = Backend::start("e", Behaviour::Echo);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    server e 127.0.0.1:{}\n",
        defaults(),
        e.port
    );
    let p = Proxy::start(&cfg);
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    s.write_all(b"ping").expect("write");
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).expect("echo");
    assert_eq!(&buf, b"ping");
}

#[test]

fn tcp_redispatch_after_refused_connection() {
    let ok = Backend::start("ok", Behaviour::Name);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    retries 2\n    option redispatch\n    server dead 127.0.0.1:{}\n    server ok 127.0.0.1:{}\n",
        defaults(),
        dead_port(),
        ok.port
    );
    let p = Proxy::start(&cfg);
    // Whatever server roundrobin starts with, every session ends on "ok".
    for _ in 0..3 {
        assert_eq!(raw(p.port, b""), "ok");
    }
}

#[test]
fn tcp_client_timeout_closes_idle_sessions() {
    let e = Backend::start("e", Behaviour::Echo);
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect 200ms\n    timeout client 300ms\n    timeout server 300ms\nlisten l\n    bind 127.0.0.1:@PORT@\n    server e 127.0.0.1:{}\n",
        e.port
    );
    let p = Proxy::start(&cfg);
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    let t = std::time::Instant::now();
    let mut buf = [0u8; 1];
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn sigusr1_stops_gracefully_and_sigterm_hard() {
    let e = Backend::start("e", Behaviour::Echo);
    let cfg = format!(
        "{}listen l\n    bind 127.0.0.1:@PORT@\n    server e 127.0.0.1:{}\n",
        defaults(),
        e.port
    );
    let mut p = Proxy::start(&cfg);
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    s.write_all(b"x").expect("write");
    let mut b = [0u8; 1];
    s.read_exact(&mut b).expect("echo");
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(p.pid() as i32, libc::SIGUSR1) };
    std::thread::sleep(Duration::from_millis(200));
    // No new connections, but the established one still works.
    assert!(TcpStream::connect(("127.0.0.1", p.port)).is_err());
    s.write_all(b"y").expect("write");
    s.read_exact(&mut b).expect("echo after soft stop");
    assert_eq!(&b, b"y");
    assert!(p.wait_exit(Duration::from_millis(100)).is_none());
    drop(s);
    let st = p
        .wait_exit(Duration::from_secs(3))
        .expect("exits once idle");
    assert!(st.success());

    let mut p = Proxy::start(&cfg);
    let _held = TcpStream::connect(("127.0.0.1", p.port)).expect("connect");
    // SAFETY: as above.
    unsafe { libc::kill(p.pid() as i32, libc::SIGTERM) };
    assert!(p.wait_exit(Duration::from_secs(2)).is_some());
}
