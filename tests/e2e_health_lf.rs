//! Differential test of log-format strings and variables in checks
//! (`tcp-check send-lf`/`send-binary-lf`, `expect string-lf`/`binary-lf`,
//! `on-success`/`on-error` formats, `status-code`, `set-var`,
//! `set-var-fmt`, `unset-var`, `http-check send uri-lf`/`hdr`/`body-lf`):
//! echo servers send back what the check sent, so a passing check proves
//! the rendered bytes; switchyard and the real HAProxy 2.6
//! (`/usr/sbin/haproxy`) must show the same check cells. Bounded: about
//! 3 s.

mod support;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{Proxy, TempDir, cli};

#[derive(Clone, Copy)]
enum Mode {
    /// Echoes the first read back.
    Raw,
    /// Reads an HTTP request (head and content-length body) and answers
    /// 200 with the request as the body.
    Http,
}

struct Echo {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn echo(mode: Mode) -> Echo {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    l.set_nonblocking(true).expect("nonblocking");
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    std::thread::spawn(move || {
        while !st.load(Ordering::Relaxed) {
            match l.accept() {
                Ok((c, _)) => {
                    std::thread::spawn(move || serve(c, mode));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    Echo { port, stop }
}

fn serve(mut c: TcpStream, mode: Mode) {
    let _ = c.set_nonblocking(false);
    let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
    let mut b = [0u8; 4096];
    let mut got = Vec::new();
    loop {
        match c.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
        if let Mode::Raw = mode {
            break;
        }
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let want = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= want {
                break;
            }
        }
    }
    match mode {
        Mode::Raw => {
            let _ = c.write_all(&got);
        }
        Mode::Http => {
            let mut r =
                format!("HTTP/1.0 200 OK\r\ncontent-length: {}\r\n\r\n", got.len()).into_bytes();
            r.extend_from_slice(&got);
            let _ = c.write_all(&r);
        }
    }
    std::thread::sleep(Duration::from_millis(50));
}

const COLUMNS: &[&str] = &["status", "check_status", "check_code", "last_chk"];

fn cells(stat: &str) -> Vec<(String, Vec<String>)> {
    support::server_rows(stat, COLUMNS)
}

fn config(sock: &Path, raw: u16, http: u16) -> String {
    format!(
        "global\n  stats socket {sock} level admin\n\
defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n  timeout check 500ms\n\
frontend fe\n  bind 127.0.0.1:@PORT@\n  default_backend b_send\n\
backend b_send\n  option tcp-check\n  tcp-check set-var(check.a) str(hello)\n  tcp-check send-lf \"A%[var(check.a)]B%[var(check.nope)]C\\r\\n\"\n  tcp-check expect string \"AhelloBC\"\n  server s 127.0.0.1:{raw} check inter 300\n\
backend b_expectlf\n  option tcp-check\n  tcp-check set-var-fmt(check.b) \"x%[int(5)]\"\n  tcp-check send-lf \"%[var(check.b)]y\\r\\n\"\n  tcp-check expect string-lf \"%[var(check.b)]\" on-success \"saw %[res.payload(0,3)]\"\n  server s 127.0.0.1:{raw} check inter 300\n\
backend b_emptylf\n  option tcp-check\n  tcp-check send \"x\\r\\n\"\n  tcp-check expect string-lf \"%[var(check.nope)]\" comment cc\n  server s 127.0.0.1:{raw} check inter 300\n\
backend b_binlf\n  option tcp-check\n  tcp-check send-binary-lf \"41%[str(B),hex]43\"\n  tcp-check expect binary-lf \"%[str(ABC),hex]\" on-success \"got %[res.payload(0,2)]\" status-code \"int(42)\"\n  server s 127.0.0.1:{raw} check inter 300\n\
backend b_onerr\n  option tcp-check\n  tcp-check send x\n  tcp-check expect min-recv 1 error-status L7STS string-lf \"zz%[str(q)]\" on-error \"bad %[res.len]\" status-code \"res.len\"\n  server s 127.0.0.1:{raw} check inter 300\n\
backend b_nomatch\n  option tcp-check\n  tcp-check send x\n  tcp-check expect min-recv 1 ! binary-lf \"%[str(x),hex]\"\n  server s 127.0.0.1:{raw} check inter 300\n\
backend b_unset\n  option tcp-check\n  tcp-check set-var(check.a) int(1)\n  tcp-check unset-var(check.a)\n  tcp-check send-lf \"v=%[var(check.a)];\\r\\n\"\n  tcp-check expect string \"v=;\"\n  server s 127.0.0.1:{raw} check inter 300\n\
backend b_cond\n  option tcp-check\n  tcp-check set-var(check.n,ifnotexists) int(5)\n  tcp-check set-var(check.n,ifnotexists) int(9)\n  tcp-check set-var(check.n,ifgt) int(3)\n  tcp-check set-var(check.e,ifnotempty) str()\n  tcp-check send-lf \"n=%[var(check.n)] e=%[var(check.e)];\\r\\n\"\n  tcp-check expect string \"n=3 e=;\"\n  server s 127.0.0.1:{raw} check inter 300\n\
backend b_http\n  mode http\n  option httpchk\n  http-check set-var(check.n) int(7)\n  http-check send meth POST uri-lf \"/x/%[var(check.n)]\" ver HTTP/1.1 hdr Host \"h%[var(check.n)]\" hdr X-Lit abc body-lf \"n=%[var(check.n)]&s=%[str(a)]\"\n  http-check expect string \"POST /x/7 HTTP/1.1\\r\\nhost: h7\\r\\nx-lit: abc\\r\\ncontent-length: 7\\r\\nconnection: close\\r\\n\\r\\nn=7&s=a\" on-success \"ok %[var(check.n)]\"\n  server s 127.0.0.1:{http} check inter 300\n\
backend b_http_err\n  mode http\n  option httpchk\n  http-check set-var-fmt(check.w) \"nope-%[int(3)]\"\n  http-check send meth PUT uri /b body \"hello world\"\n  http-check expect string \"nope\" on-error \"missing %[var(check.w)]\"\n  server s 127.0.0.1:{http} check inter 300\n",
        sock = sock.display(),
    )
}

#[test]
fn log_format_check_cells_match_real_haproxy() {
    let bin = "/usr/sbin/haproxy";
    if !Path::new(bin).exists() {
        return;
    }
    let raw = echo(Mode::Raw);
    let http = echo(Mode::Http);
    let d1 = TempDir::new();
    let d2 = TempDir::new();
    let (s1, s2) = (d1.0.join("s.sock"), d2.0.join("s.sock"));
    let ours = Proxy::start(&config(&s1, raw.port, http.port));
    let theirs = Proxy::start_with(bin, &config(&s2, raw.port, http.port));
    std::thread::sleep(Duration::from_millis(1200));
    let until = Instant::now() + Duration::from_secs(8);
    let (a, diffs) = loop {
        let a = cells(&cli(&s1, "show stat"));
        let b = cells(&cli(&s2, "show stat"));
        assert_eq!(a.len(), b.len(), "ours:\n{a:#?}\ntheirs:\n{b:#?}");
        let mut diffs = Vec::new();
        for ((n, r1), (_, r2)) in a.iter().zip(b.iter()) {
            for (i, (v1, v2)) in r1.iter().zip(r2.iter()).enumerate() {
                if v1 != v2 {
                    diffs.push(format!("{n} {}: ours {v1:?} haproxy {v2:?}", COLUMNS[i]));
                }
            }
        }
        if diffs.is_empty() || Instant::now() > until {
            break (a, diffs);
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let get = |sv: &str, i: usize| {
        a.iter()
            .find(|(n, _)| n == sv)
            .map(|(_, r)| r[i].clone())
            .unwrap_or_default()
    };
    // Not vacuous: the checks that prove the rendered bytes passed.
    for sv in [
        "b_send/s",
        "b_expectlf/s",
        "b_binlf/s",
        "b_unset/s",
        "b_http/s",
    ] {
        assert_eq!(get(sv, 0), "UP", "{sv}");
    }
    assert_eq!(get("b_binlf/s", 2), "42");
    assert_eq!(get("b_http/s", 3), "ok 7");
    drop(theirs);
    drop(ours);
}
