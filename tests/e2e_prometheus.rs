//! End-to-end tests of `http-request use-service prometheus-exporter`,
//! differential against HAProxy 2.6.12 (`/usr/sbin/haproxy` has promex
//! built in): same config, same requests, then the metric names, label
//! sets and HELP/TYPE lines must be the same, and the traffic counts equal.

mod support;
use std::collections::{BTreeMap, BTreeSet};
use support::{Backend, Behaviour, Proxy, body, dead_port, free_port, status_line};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn haproxy_has_promex() -> bool {
    std::process::Command::new(HAPROXY)
        .arg("-vv")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("prometheus-exporter"))
        .unwrap_or(false)
}

/// An HTTP frontend on `@PORT@` with the exporter on `/metrics`, a TCP
/// frontend on `tcp`, a checked server, a backup and a disabled one, and
/// a backend without servers.
fn config(tcp: u16, web: u16, dead: u16) -> String {
    format!(
        "global\n    maxconn 500\n\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n\
frontend fe_main\n    bind 127.0.0.1:@PORT@\n    http-request use-service prometheus-exporter if {{ path /metrics }}\n    default_backend web\n\n\
frontend fe_tcp\n    mode tcp\n    bind 127.0.0.1:{tcp}\n    default_backend tcpb\n\n\
backend web\n    server s1 127.0.0.1:{web} check inter 500ms\n    server s2 127.0.0.1:{web} backup\n    server s3 127.0.0.1:{dead} disabled\n\n\
backend tcpb\n    mode tcp\n    server t1 127.0.0.1:{web}\n\n\
backend empty\n"
    )
}

/// Decodes a chunked body.
fn dechunk(mut b: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = b.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        b = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// `name{labels}` -> value; the version label of build_info is blanked.
fn samples(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| {
            let k = if k.starts_with("haproxy_process_build_info") {
                "haproxy_process_build_info{version=\"\"}".to_string()
            } else {
                k.to_string()
            };
            (k, v.to_string())
        })
        .collect()
}

fn meta(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| l.starts_with("# "))
        .map(str::to_string)
        .collect()
}

/// The same traffic on both proxies, then the metrics (`query` appended).
fn scrape(p: &Proxy, tcp: u16, query: &str) -> (String, String) {
    for _ in 0..3 {
        let r = p.get("/");
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    }
    let r = p.get("/nothing-here");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    // One TCP session through fe_tcp.
    let _ = support::raw(tcp, b"GET / HTTP/1.0\r\n\r\n");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let r = p.get(&format!("/metrics{query}"));
    let head = r.split_once("\r\n\r\n").map_or("", |x| x.0).to_string();
    (head, dechunk(body(&r)))
}

fn start_pair(web: &Backend) -> ((Proxy, u16), (Proxy, u16)) {
    let dead = dead_port();
    let t1 = free_port();
    let ours = Proxy::start(&config(t1, web.port, dead));
    let t2 = free_port();
    let theirs = Proxy::start_with(HAPROXY, &config(t2, web.port, dead));
    // Let the first health check of s1 land on both.
    std::thread::sleep(std::time::Duration::from_millis(800));
    ((ours, t1), (theirs, t2))
}

#[test]
fn same_metrics_as_haproxy() {
    if !haproxy_has_promex() {
        eprintln!("skipped: {HAPROXY} without the prometheus exporter");
        return;
    }
    let web = Backend::start("w", Behaviour::Http);
    let ((ours, t1), (theirs, t2)) = start_pair(&web);
    let (oh, ob) = scrape(&ours, t1, "");
    let (th, tb) = scrape(&theirs, t2, "");
    assert_eq!(oh, th, "response head");
    assert_eq!(meta(&ob), meta(&tb), "HELP/TYPE lines");
    let (os, ts) = (samples(&ob), samples(&tb));
    let on: BTreeSet<&String> = os.keys().collect();
    let tn: BTreeSet<&String> = ts.keys().collect();
    let only_ours: Vec<_> = on.difference(&tn).collect();
    let only_theirs: Vec<_> = tn.difference(&on).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "only ours: {only_ours:?}\nonly haproxy: {only_theirs:?}"
    );
    // Same output order (metric by metric, proxy by proxy, label values).
    let order = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("haproxy_process_build_info"))
            .map(|l| l.rsplit_once(' ').map_or(l, |x| x.0).to_string())
            .collect()
    };
    assert_eq!(order(&ob), order(&tb));
    // Counts are exact.
    for k in [
        "haproxy_frontend_http_requests_total{proxy=\"fe_main\"}",
        "haproxy_frontend_http_responses_total{proxy=\"fe_main\",code=\"2xx\"}",
        "haproxy_frontend_http_responses_total{proxy=\"fe_main\",code=\"4xx\"}",
        "haproxy_frontend_intercepted_requests_total{proxy=\"fe_main\"}",
        "haproxy_frontend_sessions_total{proxy=\"fe_main\"}",
        "haproxy_frontend_limit_sessions{proxy=\"fe_main\"}",
        "haproxy_frontend_status{proxy=\"fe_main\",state=\"UP\"}",
        "haproxy_frontend_sessions_total{proxy=\"fe_tcp\"}",
        "haproxy_backend_http_requests_total{proxy=\"web\"}",
        "haproxy_backend_http_responses_total{proxy=\"web\",code=\"2xx\"}",
        "haproxy_backend_status{proxy=\"web\",state=\"UP\"}",
        "haproxy_backend_active_servers{proxy=\"web\"}",
        "haproxy_backend_backup_servers{proxy=\"web\"}",
        "haproxy_backend_sessions_total{proxy=\"tcpb\"}",
        "haproxy_backend_agg_server_status{proxy=\"web\",state=\"MAINT\"}",
        "haproxy_backend_agg_server_status{proxy=\"web\",state=\"UP\"}",
        "haproxy_server_status{proxy=\"web\",server=\"s1\",state=\"UP\"}",
        "haproxy_server_status{proxy=\"web\",server=\"s3\",state=\"MAINT\"}",
        "haproxy_server_check_status{proxy=\"web\",server=\"s1\",state=\"L7OK\"}",
        "haproxy_server_sessions_total{proxy=\"web\",server=\"s1\"}",
        "haproxy_server_http_responses_total{proxy=\"web\",server=\"s1\",code=\"2xx\"}",
        "haproxy_server_limit_sessions{proxy=\"web\",server=\"s1\"}",
        "haproxy_server_weight{proxy=\"web\",server=\"s1\"}",
        "haproxy_process_nbproc",
        "haproxy_process_max_connections",
    ] {
        assert_eq!(os.get(k), ts.get(k), "{k}");
    }
}

#[test]
fn scope_and_no_maint_as_haproxy() {
    if !haproxy_has_promex() {
        eprintln!("skipped: {HAPROXY} without the prometheus exporter");
        return;
    }
    let web = Backend::start("w", Behaviour::Http);
    let ((ours, _), (theirs, _)) = start_pair(&web);
    for q in [
        "?scope=server",
        "?scope=backend&scope=frontend",
        "?scope=global",
        "?scope=",
        "?scope=server&scope=",
        "?no-maint",
        "?scope=server&no-maint",
        "?scope=*",
    ] {
        let o = ours.get(&format!("/metrics{q}"));
        let t = theirs.get(&format!("/metrics{q}"));
        assert_eq!(status_line(&o), status_line(&t), "{q}");
        let names = |r: &str| -> BTreeSet<String> {
            samples(&dechunk(body(r)))
                .into_keys()
                .filter(|k| !k.starts_with("haproxy_process_build_info"))
                .collect()
        };
        assert_eq!(names(&o), names(&t), "{q}");
    }
    // An unknown scope: HAProxy's 400, and the connection closes.
    let o = ours.get("/metrics?scope=all");
    let t = theirs.get("/metrics?scope=all");
    assert_eq!(status_line(&o), "HTTP/1.1 400 Bad request");
    assert_eq!(o, t);
}

#[test]
fn head_has_no_body_and_rule_condition_applies() {
    let web = Backend::start("w", Behaviour::Http);
    let ours = Proxy::start(&config(free_port(), web.port, dead_port()));
    let r = ours.raw("HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(
        r,
        "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\nconnection: close\r\n\r\n"
    );
    // Other paths still reach the server.
    let r = ours.get("/metricsx");
    assert!(body(&r).starts_with("w "), "{r}");
}
