//! Differential test of health checks over TLS (`check-ssl`,
//! `check-sni`, `verify`, `verifyhost`, `tcp-check connect ssl`,
//! `http-check connect ssl`): the same configuration and the same
//! servers, checked by switchyard and by the real HAProxy 2.6
//! (`/usr/sbin/haproxy`); the check cells of `show stat` must agree.
//! A CA, a server certificate for `backend.test` (no IP address in it)
//! and an unrelated CA are made with the `openssl` CLI at test time; the
//! TLS servers are small rustls servers in this process. Bounded: about
//! 4 s.

mod support;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{Proxy, TempDir, cli};

#[derive(Clone)]
enum Mode {
    /// TLS; answers one HTTP request with 200 (or just completes the
    /// handshake when the client sends nothing).
    TlsHttp(Arc<rustls::ServerConfig>),
    /// Plain TCP: reads, answers cleartext HTTP, closes.
    Plain,
    /// Accepts and says nothing.
    Hang,
}

struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn start(mode: Mode) -> Server {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    l.set_nonblocking(true).expect("nonblocking");
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    std::thread::spawn(move || {
        while !st.load(Ordering::Relaxed) {
            match l.accept() {
                Ok((c, _)) => {
                    let m = mode.clone();
                    let st = st.clone();
                    std::thread::spawn(move || serve(c, m, &st));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    Server { port, stop }
}

const RESP: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn serve(mut c: TcpStream, mode: Mode, stop: &AtomicBool) {
    let _ = c.set_nonblocking(false);
    let _ = c.set_read_timeout(Some(Duration::from_millis(100)));
    let mut b = [0u8; 4096];
    match mode {
        Mode::Plain => {
            let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
            let _ = c.read(&mut b);
            let _ = c.write_all(RESP);
        }
        Mode::Hang => {
            for _ in 0..30 {
                if stop.load(Ordering::Relaxed) || matches!(c.read(&mut b), Ok(0)) {
                    return;
                }
            }
        }
        Mode::TlsHttp(cfg) => {
            let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
            let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                return;
            };
            let mut t = rustls::StreamOwned::new(conn, c);
            if let Ok(n) = t.read(&mut b)
                && n > 0
            {
                let _ = t.write_all(RESP);
                t.conn.send_close_notify();
                let _ = t.flush();
            }
        }
    }
}

/// Makes `ca.pem`, `srv.pem`/`srv.key` (CN and SAN `backend.test`) and
/// an unrelated `other.pem` CA in `dir`; false when openssl is missing.
fn certs(dir: &Path) -> bool {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let ca = |name: &str, cn: &str| {
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={cn}"),
        ])
    };
    if !(ca("ca", "Test CA") && ca("other", "Other CA")) {
        return false;
    }
    let _ = std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:backend.test\n");
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=backend.test",
    ]) && run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ])
}

fn server_config(dir: &Path) -> Arc<rustls::ServerConfig> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("srv.pem"))
        .expect("srv.pem")
        .collect::<Result<_, _>>()
        .expect("certs");
    let key = PrivateKeyDer::from_pem_file(dir.join("srv.key")).expect("srv.key");
    let prov = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(prov)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config"),
    )
}

const COLUMNS: &[&str] = &[
    "status",
    "check_status",
    "check_code",
    "check_desc",
    "last_chk",
    "check_health",
];

fn cells(stat: &str) -> Vec<(String, Vec<(String, String)>)> {
    support::server_rows(stat, COLUMNS)
        .into_iter()
        .map(|(n, vals)| (n, COLUMNS.iter().map(|c| c.to_string()).zip(vals).collect()))
        .collect()
}

struct Ports {
    tls: u16,
    plain: u16,
    hang: u16,
    dead: u16,
}

fn config(sock: &Path, certs: &Path, p: &Ports) -> String {
    let ca = certs.join("ca.pem");
    let other = certs.join("other.pem");
    let (tls, plain, hang, dead) = (p.tls, p.plain, p.hang, p.dead);
    let ca = ca.display();
    let other = other.display();
    format!(
        "global\n  stats socket {sock} level admin\n\
defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n  timeout check 500ms\n\
frontend fe\n  bind 127.0.0.1:@PORT@\n  default_backend b_l6\n\
backend b_l6\n  server s 127.0.0.1:{tls} check check-ssl inter 300 verify none\n\
backend b_http\n  option httpchk GET /\n  server s 127.0.0.1:{tls} check check-ssl inter 300 verify none\n\
backend b_http_ca\n  option httpchk GET /\n  server s 127.0.0.1:{tls} check check-ssl inter 300 verify required ca-file {ca}\n\
backend b_garb\n  server s 127.0.0.1:{plain} check check-ssl inter 300 verify none\n\
backend b_hang\n  server s 127.0.0.1:{hang} check check-ssl inter 300 verify none\n\
backend b_ref\n  server s 127.0.0.1:{dead} check check-ssl inter 300 verify none\n\
backend b_wrongca\n  server s 127.0.0.1:{tls} check check-ssl inter 300 verify required ca-file {other}\n\
backend b_sni_ok\n  server s 127.0.0.1:{tls} check check-ssl inter 300 verify required ca-file {ca} check-sni backend.test\n\
backend b_sni_bad\n  server s 127.0.0.1:{tls} check check-ssl inter 300 verify required ca-file {ca} check-sni wrong.test\n\
backend b_vhost_bad\n  server s 127.0.0.1:{tls} check check-ssl inter 300 verify required ca-file {ca} verifyhost wrong.test\n\
backend b_nocheckssl\n  server s 127.0.0.1:{tls} check check-ssl no-check-ssl inter 300 verify none\n\
backend b_tcp\n  option tcp-check\n  tcp-check connect ssl\n  server s 127.0.0.1:{tls} check inter 300 verify none\n\
backend b_tcp_garb\n  option tcp-check\n  tcp-check connect ssl\n  server s 127.0.0.1:{plain} check inter 300 verify none\n\
backend b_tcp_hang\n  option tcp-check\n  tcp-check connect ssl\n  server s 127.0.0.1:{hang} check inter 300 verify none\n\
backend b_tcp_sni\n  option tcp-check\n  tcp-check connect ssl sni wrong.test\n  server s 127.0.0.1:{tls} check inter 300 verify required ca-file {ca}\n\
backend b_tcp_send\n  option tcp-check\n  tcp-check connect ssl\n  tcp-check send \"GET / HTTP/1.0\\r\\n\\r\\n\"\n  tcp-check expect string \"200 OK\"\n  server s 127.0.0.1:{tls} check inter 300 verify none\n\
backend b_implicit\n  option tcp-check\n  tcp-check send \"GET / HTTP/1.0\\r\\n\\r\\n\"\n  tcp-check expect string \"200 OK\"\n  server s 127.0.0.1:{tls} check check-ssl inter 300 verify none\n\
backend b_httpconn\n  option httpchk GET /\n  http-check connect ssl\n  server s 127.0.0.1:{tls} check inter 300 verify none\n\
backend b_httpconn_garb\n  option httpchk GET /\n  http-check connect ssl\n  server s 127.0.0.1:{plain} check inter 300 verify none\n",
        sock = sock.display(),
    )
}

#[test]
fn tls_check_cells_match_real_haproxy() {
    let bin = "/usr/sbin/haproxy";
    let dir = TempDir::new();
    if !Path::new(bin).exists() || !certs(&dir.0) {
        return;
    }
    let tls = start(Mode::TlsHttp(server_config(&dir.0)));
    let plain = start(Mode::Plain);
    let hang = start(Mode::Hang);
    let ports = Ports {
        tls: tls.port,
        plain: plain.port,
        hang: hang.port,
        dead: support::dead_port(),
    };
    let d1 = TempDir::new();
    let d2 = TempDir::new();
    let (s1, s2) = (d1.0.join("s.sock"), d2.0.join("s.sock"));
    let ours = Proxy::start(&config(&s1, &dir.0, &ports));
    let theirs = Proxy::start_with(bin, &config(&s2, &dir.0, &ports));
    std::thread::sleep(Duration::from_millis(2000));
    let until = Instant::now() + Duration::from_secs(8);
    let (a, diffs) = loop {
        let a = cells(&cli(&s1, "show stat"));
        let b = cells(&cli(&s2, "show stat"));
        assert_eq!(a.len(), b.len(), "ours:\n{a:#?}\ntheirs:\n{b:#?}");
        let mut diffs = Vec::new();
        for ((n1, r1), (n2, r2)) in a.iter().zip(b.iter()) {
            assert_eq!(n1, n2);
            for ((c, v1), (_, v2)) in r1.iter().zip(r2.iter()) {
                if v1 != v2 {
                    diffs.push(format!("{n1} {c}: ours {v1:?} haproxy {v2:?}"));
                }
            }
        }
        if diffs.is_empty() || Instant::now() > until {
            break (a, diffs);
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let get = |sv: &str, c: &str| -> String {
        a.iter()
            .find(|(n, _)| n == sv)
            .and_then(|(_, r)| r.iter().find(|(k, _)| k == c))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // Not vacuous: values seen on haproxy 2.6.12.
    assert_eq!(get("b_l6/s", "check_status"), "L6OK");
    assert_eq!(get("b_http_ca/s", "check_code"), "200");
    assert_eq!(get("b_garb/s", "last_chk"), "SSL handshake failure");
    assert_eq!(get("b_hang/s", "check_status"), "L6TOUT");
    assert_eq!(
        get("b_sni_bad/s", "last_chk"),
        "Server presented an SSL certificate different from the expected one"
    );
    assert_eq!(
        get("b_vhost_bad/s", "last_chk"),
        "Server presented an SSL certificate different from the configured one"
    );
    assert_eq!(get("b_nocheckssl/s", "check_status"), "L4OK");
    drop(theirs);
    drop(ours);
}

/// `check-ssl` with the default `verify required` and no `ca-file` is a
/// start-up error in HAProxy; so it is in switchyard, with its words.
#[test]
fn verify_without_ca_file_is_refused() {
    let dir = TempDir::new();
    let cfg = dir.0.join("t.cfg");
    std::fs::write(
        &cfg,
        format!(
            "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
frontend fe\n  bind 127.0.0.1:{}\n  default_backend b\n\
backend b\n  server s 127.0.0.1:1 check check-ssl\n",
            support::free_port()
        ),
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("-db")
        .arg("-f")
        .arg(&cfg)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("'server b/s' : verify is enabled by default but no CA file specified."),
        "{err}"
    );
}
