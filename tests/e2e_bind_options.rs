//! End-to-end tests of `bind` line options, each run through switchyard
//! and the real HAProxy 2.6 (when installed) with the same config:
//! socket options the kernel refuses are warnings with HAProxy's text and
//! the listener still serves; `mss` shows in the peer's segment size; a
//! bind line's own `maxconn` holds connections back; unix socket files
//! get their `mode` and owner.

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{TempDir, engines, free_port};

/// A proxy whose stderr goes to a file; killed on drop.
struct Run {
    child: Child,
    err: std::path::PathBuf,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Run {
    fn start(bin: &str, dir: &TempDir, tag: &str, cfg: &str, ready: impl Fn() -> bool) -> Run {
        let path = dir.0.join(format!("{tag}.cfg"));
        std::fs::write(&path, cfg).expect("write cfg");
        let err = dir.0.join(format!("{tag}.err"));
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("spawn");
        let until = Instant::now() + Duration::from_secs(5);
        while !ready() {
            assert!(Instant::now() < until, "{bin} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Run { child, err }
    }

    /// The warnings printed so far, pid and config path left out.
    fn warnings(&self, cfg_dir: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(&self.err).unwrap_or_default();
        let dir = format!("{}/", cfg_dir.display());
        text.lines()
            .filter(|l| l.starts_with("[WARNING]"))
            .map(|l| {
                let l = l.replacen(&dir, "", 1);
                match (l.find('('), l.find(')')) {
                    (Some(a), Some(b)) if a < b => format!("{}(pid){}", &l[..a], &l[b + 1..]),
                    _ => l,
                }
            })
            .collect()
    }
}

fn http_get(s: &mut impl ReadWrite) -> String {
    let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn tcp_up(port: u16) -> impl Fn() -> bool {
    move || TcpStream::connect(("127.0.0.1", port)).is_ok()
}

const DEFAULTS: &str = "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n";

#[test]
fn refused_socket_options_warn_like_haproxy_and_the_listener_serves() {
    let dir = TempDir::new();
    let mut seen = Vec::new();
    for (i, bin) in engines().into_iter().enumerate() {
        let port = free_port();
        let cfg = format!(
            "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port} interface nosuchdev0 mss 1200 tcp-ut 3s defer-accept tfo transparent\n    http-request return status 200 content-type text/plain string ok\n"
        );
        let tag = format!("w{i}");
        let run = Run::start(bin, &dir, &tag, &cfg, tcp_up(port));
        let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(3))).ok();
        // The segment size the proxy advertised limits ours.
        let mss = tcp_maxseg(&c);
        assert!(mss > 0 && mss <= 1200, "{bin}: our MSS is {mss}");
        let r = http_get(&mut c);
        assert!(r.starts_with("HTTP/1.1 200"), "{bin}: {r:?}");
        let w = run
            .warnings(&dir.0)
            .into_iter()
            .map(|l| l.replace(&port.to_string(), "PORT").replace(&tag, "T"))
            .collect::<Vec<_>>();
        assert!(
            w.iter().any(|l| l.contains(
                "Binding [T.cfg:7] for frontend fe: cannot bind receiver to device 'nosuchdev0' (No such device) for [127.0.0.1:PORT]"
            )),
            "{bin}: {w:?}"
        );
        seen.push((w, mss));
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "switchyard and haproxy differ: {seen:?}");
}

fn tcp_maxseg(c: &TcpStream) -> i32 {
    let mut v: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as u32;
    // SAFETY: getsockopt into an int we own (libc declared below).
    let r = unsafe { getsockopt(c.as_raw_fd(), 6, 2, (&mut v as *mut i32).cast(), &mut len) };
    if r == 0 { v } else { -1 }
}

unsafe extern "C" {
    fn getsockopt(fd: i32, level: i32, name: i32, val: *mut u8, len: *mut u32) -> i32;
}

#[test]
fn a_bind_lines_maxconn_holds_further_connections_back() {
    let dir = TempDir::new();
    for (i, bin) in engines().into_iter().enumerate() {
        let port = free_port();
        let cfg = format!(
            "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port} maxconn 1\n    http-request return status 200 content-type text/plain string ok\n"
        );
        let _run = Run::start(bin, &dir, &format!("m{i}"), &cfg, || true);
        std::thread::sleep(Duration::from_millis(300));
        // The one slot: a client that has not finished its request.
        let mut a = TcpStream::connect(("127.0.0.1", port)).expect("connect a");
        a.write_all(b"GET / HTTP/1.1\r\n").expect("send a");
        std::thread::sleep(Duration::from_millis(100));
        let mut b = TcpStream::connect(("127.0.0.1", port)).expect("connect b");
        b.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .expect("send b");
        b.set_read_timeout(Some(Duration::from_millis(400))).ok();
        let mut buf = [0u8; 64];
        let early = b.read(&mut buf);
        assert!(
            early.is_err(),
            "{bin}: the second connection was served while the first held the slot"
        );
        drop(a);
        b.set_read_timeout(Some(Duration::from_secs(3))).ok();
        let mut out = Vec::new();
        let _ = b.read_to_end(&mut out);
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("HTTP/1.1 200"), "{bin}: {out:?}");
    }
}

#[test]
fn unix_socket_files_get_their_mode_and_owner() {
    let dir = TempDir::new();
    let mut seen = Vec::new();
    for (i, bin) in engines().into_iter().enumerate() {
        let sock = dir.0.join(format!("fe{i}.sock"));
        let cfg = format!(
            "{DEFAULTS}frontend fe\n    bind unix@{} mode 640 user nobody group nogroup\n    http-request return status 200 content-type text/plain string ok\n",
            sock.display()
        );
        let s2 = sock.clone();
        let _run = Run::start(bin, &dir, &format!("u{i}"), &cfg, move || s2.exists());
        let md = std::fs::metadata(&sock).expect("socket file");
        let mut c = std::os::unix::net::UnixStream::connect(&sock).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(3))).ok();
        let r = http_get(&mut c);
        assert!(r.starts_with("HTTP/1.1 200"), "{bin}: {r:?}");
        assert_eq!(md.mode() & 0o777, 0o640, "{bin}");
        assert_ne!(md.uid(), 0, "{bin}: owner should be nobody");
        seen.push((md.mode(), md.uid(), md.gid()));
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "switchyard and haproxy differ: {seen:?}");
}
