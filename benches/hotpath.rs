//! Hot-path micro benchmarks: `cargo bench --bench hotpath`.
//!
//! Times, with a plain loop and `std::time` (median of several runs,
//! printed as ns/op): request head parsing, the routing decision over 100
//! `use_backend` rules, header rewriting by the rules engine, and the
//! balancer's pick (roundrobin, leastconn, consistent hash) over 10
//! servers. Public API only; no assertions on the numbers.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use switchyard::config::ir::Config;
use switchyard::session::http::head::{Parsed, parse_request};
use switchyard::session::rules::{Conn, run_request};
use switchyard::upstream::lb::hash::HashType;
use switchyard::upstream::lb::{Algo, Balancer, Kind};
use switchyard::upstream::server::ServerState;

const RUNS: usize = 7;

/// Runs `f` `iters` times per run, `RUNS` runs; prints the median ns/op.
fn bench(name: &str, iters: u32, mut f: impl FnMut()) {
    let mut per_op: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    println!("{name:<40} {:>10.1} ns/op", per_op[RUNS / 2]);
}

const BROWSER_REQ: &[u8] = b"GET /static/app/main.3f2a9c.js?v=12 HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Referer: https://www.example.com/\r\n\
Cookie: session=8c1f0e2a9b7d4c3e; theme=dark; _ga=GA1.2.123456789.1700000000\r\n\
Connection: keep-alive\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: script\r\n\
Sec-Fetch-Mode: no-cors\r\n\
Sec-Fetch-Site: same-origin\r\n\r\n";

fn config() -> Option<Config> {
    let mut s = String::from(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind 127.0.0.1:1\n\
         http-request set-header X-Forwarded-Proto https\n\
         http-request set-header X-Request-Start t=123\n\
         http-request del-header Upgrade-Insecure-Requests\n\
         http-request del-header Sec-Fetch-Dest\n",
    );
    for i in 0..100 {
        s += &format!("    acl a{i} path_beg /p{i}/\n    use_backend be{i} if a{i}\n");
    }
    s += "    default_backend be0\n";
    for b in 0..100 {
        s += &format!("backend be{b}\n    server s1 127.0.0.1:{}\n", 20000 + b);
    }
    let file = switchyard::config::source::SourceFile {
        name: "hotpath.cfg".into(),
        content: s.into_bytes(),
    };
    let res = switchyard::config::check_files(
        std::slice::from_ref(&file),
        &|_| None,
        switchyard::config::check::Options::default(),
    );
    if res.failed {
        eprintln!("config refused: {:?}", res.diags);
        return None;
    }
    Some(res.config)
}

fn servers(n: usize) -> Vec<Arc<ServerState>> {
    (0..n)
        .map(|i| {
            let addr: Option<SocketAddr> = format!("127.0.0.1:{}", 10000 + i).parse().ok();
            Arc::new(ServerState::new(&format!("s{i}"), addr, 10, false))
        })
        .collect()
}

fn main() {
    bench("parse_request (browser GET)", 200_000, || {
        if let Parsed::Done(r, n) = parse_request(black_box(BROWSER_REQ)) {
            black_box((r, n));
        }
    });

    let Some(cfg) = config() else { return };
    let fes = match switchyard::session::build::frontends(&cfg) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("build failed: {e}");
            return;
        }
    };
    let Some(fe) = fes.first() else { return };
    let conn = Conn {
        src: "127.0.0.1:40000".parse().ok(),
        dst: "127.0.0.1:1".parse().ok(),
    };
    let Parsed::Done(base, _) = parse_request(BROWSER_REQ) else {
        eprintln!("request did not parse");
        return;
    };
    let mut late = base.clone();
    late.uri = "/p99/x".into();
    bench("route: 100 path_beg rules, last hits", 200_000, || {
        let ctx = conn.ctx(Some(black_box(&late)), None);
        black_box(fe.route(&ctx).is_some());
    });
    bench("route: 100 path_beg rules, none hits", 200_000, || {
        let ctx = conn.ctx(Some(black_box(&base)), None);
        black_box(fe.route(&ctx).is_some());
    });
    bench("http-request set/del-header x4", 200_000, || {
        let mut r = base.clone();
        let v = run_request(&fe.req_rules, &mut r, &conn);
        black_box((&r, &v));
    });
    bench("request clone (baseline of the above)", 200_000, || {
        black_box(base.clone());
    });

    let src = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
    let mk = |kind: Kind, hash: HashType| {
        Balancer::new(
            Algo {
                kind,
                hash,
                ids: Vec::new(),
            },
            &servers(10),
            false,
        )
    };
    let rr = mk(Kind::RoundRobin, HashType::default());
    bench("pick roundrobin (10 servers)", 1_000_000, || {
        black_box(rr.pick(src, None));
    });
    let lc = mk(Kind::LeastConn, HashType::default());
    bench("pick leastconn (10 servers)", 1_000_000, || {
        black_box(lc.pick(src, None));
    });
    let consistent = HashType::parse(&["consistent".to_string()]).unwrap_or_default();
    let ch = mk(Kind::Source, consistent);
    let mut a = 0u32;
    bench("pick consistent hash (10 servers)", 1_000_000, || {
        a = a.wrapping_add(0x9e37_79b9);
        black_box(ch.pick(IpAddr::V4(Ipv4Addr::from(a)), None));
    });
}
