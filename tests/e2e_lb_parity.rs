//! Differential load-balancing tests: the same configuration under the
//! real HAProxy 2.6 (`/usr/sbin/haproxy`, skipped when absent) and under
//! switchyard; thousands of distinct keys (URIs, query parameters, Host
//! headers) must land on the same server name under both.

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::{Backend, Behaviour, Proxy};

const HAPROXY: &str = "/usr/sbin/haproxy";
const KEYS: usize = 2000;

/// A keep-alive HTTP/1.1 client reading `content-length` framed replies.
struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn new(port: u16) -> Client {
        Client::wrap(TcpStream::connect(("127.0.0.1", port)).expect("connect"))
    }

    /// A connection from the loopback address `src` (any 127.x.y.z).
    fn from(src: [u8; 4], port: u16) -> Client {
        use std::os::fd::FromRawFd;
        let sin = |a: [u8; 4], p: u16| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: p.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(a),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let (local, remote) = (sin(src, 0), sin([127, 0, 0, 1], port));
        // SAFETY: a fresh socket owned by the returned stream; the address
        // structs outlive the calls that read them.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket");
            let sa =
                |a: &libc::sockaddr_in| (a as *const libc::sockaddr_in).cast::<libc::sockaddr>();
            assert_eq!(libc::bind(fd, sa(&local), len), 0, "bind {src:?}");
            assert_eq!(libc::connect(fd, sa(&remote), len), 0, "connect");
            Client::wrap(TcpStream::from_raw_fd(fd))
        }
    }

    fn wrap(s: TcpStream) -> Client {
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        s.set_nodelay(true).ok();
        Client { s, buf: Vec::new() }
    }

    /// Sends `req` and returns the `x-server` of the reply.
    fn server(&mut self, req: &str) -> String {
        self.s.write_all(req.as_bytes()).expect("send");
        let mut tmp = [0u8; 8192];
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = self.s.read(&mut tmp).expect("read");
            assert!(n > 0, "connection closed before a reply to {req:?}");
            self.buf.extend_from_slice(&tmp[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_ascii_lowercase();
        let field = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
        };
        let clen: usize = field("content-length:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while self.buf.len() < head_end + clen {
            let n = self.s.read(&mut tmp).expect("read body");
            assert!(n > 0, "connection closed in a body");
            self.buf.extend_from_slice(&tmp[..n]);
        }
        self.buf.drain(..head_end + clen);
        field("x-server:").unwrap_or_else(|| format!("<{}>", head.lines().next().unwrap_or("")))
    }
}

/// Runs `reqs` through both proxies built from `balance` (the lines of the
/// backend before its servers) and asserts identical server choices.
fn parity(name: &str, balance: &str, servers: &[(&str, &str)], reqs: &[String]) {
    parity_from(name, balance, servers, reqs, &[]);
}

/// Like [`parity`]; with `sources`, request `i` goes on a new connection
/// from `sources[i]`.
fn parity_from(
    name: &str,
    balance: &str,
    servers: &[(&str, &str)],
    reqs: &[String],
    sources: &[[u8; 4]],
) {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let backends: Vec<Backend> = servers
        .iter()
        .map(|(n, _)| Backend::start(n, Behaviour::Http))
        .collect();
    let mut cfg = String::from(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\nfrontend fe\n    bind 127.0.0.1:@PORT@\n    default_backend be\nbackend be\n",
    );
    for l in balance.lines() {
        cfg += &format!("    {l}\n");
    }
    for ((n, opts), b) in servers.iter().zip(&backends) {
        cfg += &format!("    server {n} 127.0.0.1:{} {opts}\n", b.port);
    }
    let start = Instant::now();
    let ha = Proxy::start_with(HAPROXY, &cfg);
    let sy = Proxy::start(&cfg);
    let (mut ch, mut cs) = (Client::new(ha.port), Client::new(sy.port));
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    let mut diffs = Vec::new();
    for (i, r) in reqs.iter().enumerate() {
        if let Some(&src) = sources.get(i) {
            (ch, cs) = (Client::from(src, ha.port), Client::from(src, sy.port));
        }
        let want = ch.server(r);
        let got = cs.server(r);
        *seen.entry(want.clone()).or_default() += 1;
        if want != got {
            diffs.push(format!(
                "{:?}: haproxy {want}, switchyard {got}",
                r.lines().next()
            ));
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{name}: too slow"
        );
    }
    assert!(
        diffs.is_empty(),
        "{name}: {} of {} keys differ (distribution {seen:?}), first: {:#?}",
        diffs.len(),
        reqs.len(),
        &diffs[..diffs.len().min(10)]
    );
    // The keys must really spread, or the test proves little.
    assert!(
        seen.len() > 1 || name.ends_with("(single)"),
        "{name}: {seen:?}"
    );
    eprintln!("{name}: {} keys identical, {seen:?}", reqs.len());
}

fn get(target: &str, extra: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: test.example\r\n{extra}\r\n")
}

fn uris() -> Vec<String> {
    (0..KEYS)
        .map(|i| {
            get(
                &format!("/k{i}/d{}/x{}?q={i}&r={}", i % 13, i * 7, i % 5),
                "",
            )
        })
        .collect()
}

const UNEQUAL: &[(&str, &str)] = &[
    ("s1", "weight 10"),
    ("s2", "weight 30"),
    ("s3", "weight 20"),
    ("s4", "weight 50"),
    ("s5", "weight 10"),
];

const EQUAL: &[(&str, &str)] = &[("a", ""), ("b", ""), ("c", ""), ("d", "")];

#[test]
fn uri_map_based_matches_haproxy() {
    parity("uri equal", "balance uri", EQUAL, &uris());
    parity("uri weighted", "balance uri", UNEQUAL, &uris());
}

#[test]
fn uri_options_match_haproxy() {
    parity(
        "uri whole djb2",
        "balance uri whole\nhash-type map-based djb2",
        UNEQUAL,
        &uris(),
    );
    parity(
        "uri depth 2 wt6",
        "balance uri depth 2\nhash-type map-based wt6",
        EQUAL,
        &uris(),
    );
    parity(
        "uri len 6 crc32 avalanche",
        "balance uri len 6\nhash-type map-based crc32 avalanche",
        UNEQUAL,
        &uris(),
    );
    let abs: Vec<String> = (0..KEYS)
        .map(|i| get(&format!("http://test.example/a{i}/b?c={i}"), ""))
        .collect();
    parity("uri path-only", "balance uri path-only", UNEQUAL, &abs);
}

#[test]
fn uri_consistent_matches_haproxy() {
    parity(
        "uri consistent",
        "balance uri\nhash-type consistent",
        UNEQUAL,
        &uris(),
    );
    let ids: &[(&str, &str)] = &[
        ("a", "weight 3"),
        ("b", "id 7"),
        ("c", "weight 2"),
        ("d", "id 2 weight 1"),
    ];
    parity(
        "uri consistent sdbm ids",
        "balance uri\nhash-type consistent sdbm",
        ids,
        &uris(),
    );
}

#[test]
fn url_param_matches_haproxy() {
    let reqs: Vec<String> = (0..KEYS)
        .map(|i| get(&format!("/p?a=1&user{}=x&user={}&z", i % 3, i * 31 + 5), ""))
        .collect();
    parity("url_param", "balance url_param user", UNEQUAL, &reqs);
    parity(
        "url_param consistent",
        "balance url_param user\nhash-type consistent djb2",
        EQUAL,
        &reqs,
    );
}

#[test]
fn hdr_host_matches_haproxy() {
    let reqs: Vec<String> = (0..KEYS)
        .map(|i| {
            format!(
                "GET / HTTP/1.1\r\nHost: w{}.site{i}.example{}.com\r\n\r\n",
                i % 3,
                i % 11
            )
        })
        .collect();
    parity("hdr(host)", "balance hdr(host)", UNEQUAL, &reqs);
    parity(
        "hdr(host) domain",
        "balance hdr(Host) use_domain_only",
        EQUAL,
        &reqs,
    );
    parity(
        "hdr(host) consistent",
        "balance hdr(host)\nhash-type consistent wt6",
        UNEQUAL,
        &reqs,
    );
}

#[test]
fn hash_expr_matches_haproxy() {
    let reqs: Vec<String> = (0..KEYS)
        .map(|i| {
            get(
                &format!("/h{i}?v={}", i % 17),
                &format!("X-Id: id-{}\r\n", i * 13),
            )
        })
        .collect();
    parity("hash path", "balance hash path", UNEQUAL, &reqs);
    parity(
        "hash req.hdr",
        "balance hash req.hdr(x-id)\nhash-type consistent",
        UNEQUAL,
        &reqs,
    );
}

#[test]
fn source_matches_haproxy() {
    let srcs: Vec<[u8; 4]> = (0..300u32)
        .map(|i| {
            [
                127,
                (i % 7) as u8,
                (i * 37 % 256) as u8,
                (i % 250 + 1) as u8,
            ]
        })
        .collect();
    let reqs: Vec<String> = srcs.iter().map(|_| get("/", "")).collect();
    parity_from("source", "balance source", UNEQUAL, &reqs, &srcs);
    parity_from(
        "source consistent",
        "balance source\nhash-type consistent",
        UNEQUAL,
        &reqs,
        &srcs,
    );
}

#[test]
fn disabled_and_backup_servers_match_haproxy() {
    let some_down: &[(&str, &str)] = &[
        ("s1", "weight 10"),
        ("s2", "weight 30 disabled"),
        ("s3", "weight 20"),
        ("s4", "weight 50"),
        ("s5", "weight 10 disabled"),
    ];
    parity("uri some disabled", "balance uri", some_down, &uris());
    parity(
        "uri consistent some disabled",
        "balance uri\nhash-type consistent",
        some_down,
        &uris(),
    );
    let backups: &[(&str, &str)] = &[
        ("s1", "disabled"),
        ("b1", "backup weight 2"),
        ("b2", "backup weight 3"),
        ("b3", "backup weight 1"),
    ];
    parity(
        "uri allbackups",
        "balance uri\noption allbackups",
        backups,
        &uris(),
    );
    // Without allbackups only the first usable backup serves.
    parity("uri first backup (single)", "balance uri", backups, &uris());
    parity(
        "uri allbackups consistent",
        "balance uri\noption allbackups\nhash-type consistent",
        backups,
        &uris(),
    );
}
