//! Process set-up as HAProxy does it: `daemon` + `pidfile`, and `chroot` +
//! `user`/`group` applied after the sockets are bound.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::{TempDir, free_port, raw};

fn wait_pidfile(path: &std::path::Path) -> u32 {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            return pid;
        }
        assert!(Instant::now() < until, "no pid file");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills `pid` when dropped (the daemon is not our child).
struct Kill(u32);
impl Drop for Kill {
    fn drop(&mut self) {
        // SAFETY: plain syscall on a pid this test started.
        unsafe {
            libc::kill(self.0 as i32, libc::SIGTERM);
        }
    }
}

fn status_field(pid: u32, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_default()
        .to_string()
}

fn wait_listening(port: u16) {
    let until = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "not listening");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn daemon_writes_pidfile_chroots_and_drops_privileges() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        panic!("this test needs root (CI runs as root)");
    }
    let dir = TempDir::new();
    let jail = dir.0.join("jail");
    std::fs::create_dir_all(&jail).expect("jail");
    let pidfile = dir.0.join("sy.pid");
    let port = free_port();
    let cfg = format!(
        "global\n  daemon\n  pidfile {}\n  chroot {}\n  user nobody\n  group nogroup\n\
         defaults\n  mode http\n  timeout client 2s\n  timeout server 2s\n  timeout connect 1s\n\
         frontend f\n  bind 127.0.0.1:{port}\n  http-request return status 200 string daemon-ok\n",
        pidfile.display(),
        jail.display()
    );
    let path = dir.0.join("t.cfg");
    std::fs::write(&path, cfg).expect("cfg");
    let st = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("-f")
        .arg(&path)
        .status()
        .expect("run");
    assert!(st.success(), "the parent exits 0 once the daemon is forked");
    let pid = wait_pidfile(&pidfile);
    let _k = Kill(pid);
    wait_listening(port);
    let resp = raw(
        port,
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(resp.ends_with("daemon-ok"), "{resp}");
    assert!(
        status_field(pid, "Uid:").contains("65534"),
        "uid not dropped"
    );
    assert!(
        status_field(pid, "Gid:").contains("65534"),
        "gid not dropped"
    );
    let root = std::fs::read_link(format!("/proc/{pid}/root")).expect("root link");
    assert_eq!(root, jail);
}
