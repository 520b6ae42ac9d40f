//! `bind fd@<n>`: a listening socket inherited from the parent, the way
//! test drivers such as VTest start a proxy. Also checks the TCP tunnel
//! (spliced on Linux) carries bytes both ways with half-close.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::TempDir;

/// Starts switchyard with `listener` as its fd 3 and `cfg` written to a
/// temp file; returns the child (killed by the caller).
fn start_with_fd(listener: &TcpListener, cfg: &str, dir: &TempDir) -> std::process::Child {
    let path = dir.0.join("fd.cfg");
    std::fs::write(&path, cfg).expect("write cfg");
    let fd = listener.as_raw_fd();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: dup2 is async-signal-safe; it runs in the child before exec.
    unsafe {
        cmd.pre_exec(move || {
            // dup2 onto itself keeps close-on-exec: clear it instead.
            let rc = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().expect("spawn switchyard")
}

fn get(port: u16) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    if s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return String::new();
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn serves_on_an_inherited_socket() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let dir = TempDir::new();
    let cfg = "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
               frontend fe\n  bind fd@3\n  http-request return status 200 content-type text/plain string inherited\n";
    let mut child = start_with_fd(&l, cfg, &dir);
    // Our own copy must not accept: close it so only the child serves.
    drop(l);
    let until = Instant::now() + Duration::from_secs(5);
    let mut resp = String::new();
    while Instant::now() < until {
        resp = get(port);
        if !resp.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("inherited"), "{resp}");
}

#[test]
fn bad_inherited_fd_is_refused_at_startup() {
    let dir = TempDir::new();
    let path = dir.0.join("bad.cfg");
    std::fs::write(
        &path,
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend fe\n  bind fd@77\n  http-request return status 200\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .output()
        .expect("run");
    assert!(!out.status.success());
}

/// A mode tcp tunnel moves a large payload both ways and propagates the
/// client's half-close to the server (and the server's answer back).
#[test]
fn tcp_tunnel_moves_bytes_and_half_closes() {
    tunnel_roundtrip("");
}

/// The same through the copying tunnel (`nosplice`).
#[test]
fn copying_tunnel_with_nosplice() {
    tunnel_roundtrip("global\n  nosplice\n");
}

fn tunnel_roundtrip(global: &str) {
    let backend = TcpListener::bind("127.0.0.1:0").expect("bind");
    let bport = backend.local_addr().expect("addr").port();
    // Server: reads everything until EOF, sends it back reversed, closes.
    let server = std::thread::spawn(move || {
        // The proxy's readiness probe also reaches us (as an empty
        // connection): serve the first connection that carries bytes.
        for _ in 0..4 {
            let (mut c, _) = backend.accept().expect("accept");
            c.set_read_timeout(Some(Duration::from_secs(10))).ok();
            let mut all = Vec::new();
            c.read_to_end(&mut all).expect("read");
            if all.is_empty() {
                continue;
            }
            let reply: Vec<u8> = all.iter().rev().copied().collect();
            c.write_all(&reply).expect("write");
            return;
        }
    });
    let proxy = support::Proxy::start(&format!(
        "{global}defaults\n  mode tcp\n  timeout client 10s\n  timeout server 10s\n  timeout connect 5s\n\
         listen t\n  bind 127.0.0.1:@PORT@\n  server s 127.0.0.1:{bport}\n"
    ));
    let mut c = TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut w = c.try_clone().expect("clone");
    let sent = payload.clone();
    let writer = std::thread::spawn(move || {
        w.write_all(&sent).expect("write payload");
        w.shutdown(Shutdown::Write).expect("half-close");
    });
    let mut back = Vec::new();
    c.read_to_end(&mut back).expect("read reply");
    writer.join().expect("writer");
    server.join().expect("server");
    let want: Vec<u8> = payload.iter().rev().copied().collect();
    assert_eq!(back.len(), want.len());
    assert!(back == want, "payload corrupted in the tunnel");
}

/// A server that answers and closes at once while the client is still
/// sending: the answer must reach the client (the failed client→server
/// direction must not cut the server→client one), spliced or copied.
#[test]
fn server_answer_survives_a_closed_server_while_client_sends() {
    for global in ["", "global\n  nosplice\n"] {
        let backend = TcpListener::bind("127.0.0.1:0").expect("bind");
        let bport = backend.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for c in backend.incoming() {
                let Ok(mut c) = c else { return };
                let _ = c.write_all(b"srvname\n");
            }
        });
        let proxy = support::Proxy::start(&format!(
            "{global}defaults\n  mode tcp\n  timeout client 3s\n  timeout server 3s\n  timeout connect 2s\n\
             listen t\n  bind 127.0.0.1:@PORT@\n  server s 127.0.0.1:{bport}\n"
        ));
        for i in 0..20 {
            let mut c = TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect");
            c.set_read_timeout(Some(Duration::from_secs(3))).ok();
            let mut w = c.try_clone().expect("clone");
            let blast = std::thread::spawn(move || {
                for _ in 0..64 {
                    if w.write_all(&[b'x'; 16384]).is_err() {
                        return;
                    }
                }
            });
            let mut got = Vec::new();
            let _ = c.read_to_end(&mut got);
            let _ = blast.join();
            assert!(
                got.starts_with(b"srvname\n"),
                "{global:?} round {i}: got {:?}",
                String::from_utf8_lossy(&got)
            );
        }
    }
}
