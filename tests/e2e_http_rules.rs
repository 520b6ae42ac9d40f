//! Differential tests of the HTTP rule actions and error replies: the same
//! config and requests through the real HAProxy 2.6 (`/usr/sbin/haproxy`,
//! skipped when absent) and through switchyard. The whole response must be
//! identical, including what the echo backend says it received.

mod support;
use support::{Backend, Behaviour, Proxy, dead_port};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn both(cfg: &str) -> Option<(Proxy, Proxy)> {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return None;
    }
    Some((Proxy::start_with(HAPROXY, cfg), Proxy::start(cfg)))
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/http-rules/{name}", env!("CARGO_MANIFEST_DIR"))
}

const DEFAULTS: &str = "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 2s\n    timeout tarpit 200ms\n";

/// `GET <path>` closing the connection, with extra header lines.
fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: h.example\r\n{extra}Connection: close\r\n\r\n")
}

fn compare(ha: &Proxy, sy: &Proxy, reqs: &[String]) {
    for r in reqs {
        assert_eq!(sy.raw(r), ha.raw(r), "request {r:?}");
    }
}

#[test]
fn request_rewrites_reach_the_server_as_with_haproxy() {
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:@PORT@\n\
    http-request set-path /np%[path] if {{ path_beg /sp }}\n\
    http-request set-pathq /npq if {{ path_beg /xq }}\n\
    http-request set-query a=b if {{ path_beg /sq }}\n\
    http-request set-uri /u?x if {{ path_beg /su }}\n\
    http-request set-method POST if {{ path_beg /sm }}\n\
    http-request replace-path ^/rp/(.*) /X/\\1 if {{ path_beg /rp }}\n\
    http-request replace-path /mid /Y if {{ path_beg /rm }}\n\
    http-request replace-uri ^/ru(.*) /Z\\1 if {{ path_beg /ru }}\n\
    http-request replace-pathq ^/rq(.*) /Q\\1 if {{ path_beg /rq }}\n\
    http-request replace-header X-H ^a(.*) b\\1 if {{ path_beg /rh }}\n\
    http-request replace-value X-H ^a(.*) b\\1 if {{ path_beg /rv }}\n\
    http-request del-header x- -m beg if {{ path_beg /db }}\n\
    http-request del-header x-h -m sub if {{ path_beg /ds }}\n\
    http-request del-header ^x-.$ -m reg if {{ path_beg /dr }}\n\
    http-request set-header X-Seen %[path] if {{ path_beg /sh }}\n\
    http-request set-log-level silent if {{ path_beg /ll }}\n\
    default_backend be\nbackend be\n    server e 127.0.0.1:{}\n",
        e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let hx = "X-H: abc, ad,zz , a2\r\nX-H: zz\r\nX-A: 1\r\nY-x-hA: 2\r\n";
    let reqs: Vec<String> = [
        "/sp/a?q=1",
        "/xq/a?q=1",
        "/sq/a?q=1",
        "/sq/a",
        "/su/a?q",
        "/sm",
        "/rp/a/b?q=1",
        "/rm/mid/x?q",
        "/xrm/mid/x?q",
        "/ru/k?j",
        "/rq/k?j",
        "/rh",
        "/rv",
        "/db",
        "/ds",
        "/dr",
        "/sh/p",
        "/ll",
    ]
    .iter()
    .map(|p| get(p, hx))
    .collect();
    compare(&ha, &sy, &reqs);
}

#[test]
fn response_rules_match_haproxy() {
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:@PORT@\n\
    use_backend st if {{ path_beg /st }}\n\
    use_backend mv if {{ path_beg /mv }}\n\
    use_backend dn if {{ path_beg /dn }}\n\
    default_backend be\n\
backend be\n    server e 127.0.0.1:{p}\n\
backend st\n    http-response set-status 201\n    http-response set-status 299 reason \"Yo yo\" if {{ status 201 }}\n    server e 127.0.0.1:{p}\n\
backend mv\n    http-response add-header X-Multi \"a, b,c\"\n    http-response replace-value X-Multi ^(b)$ Q\\1\n    http-response replace-header X-Server ^(e.*)$ Q\\1\n    http-response add-header X-Tmp 1\n    http-response del-header x-tm -m beg\n    server e 127.0.0.1:{p}\n\
backend dn\n    http-response deny deny_status 500 if {{ status 200 }}\n    server e 127.0.0.1:{p}\n",
        p = e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs: Vec<String> = ["/st", "/mv", "/dn", "/"]
        .iter()
        .map(|p| get(p, ""))
        .collect();
    compare(&ha, &sy, &reqs);
}

#[test]
fn error_replies_match_haproxy() {
    let e = Backend::start("e", Behaviour::Http);
    let g = Backend::start("g", Behaviour::Garbage);
    let h = Backend::start("h", Behaviour::Hang);
    let cfg = format!(
        "{DEFAULTS}    errorfile 502 {f502}\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n    errorfile 403 {f403}\n    errorfile 503 {f503fe}\n    errorloc302 504 http://err.example/504\n\
    http-error status 429 content-type text/plain string \"slow down\"\n\
    http-request deny if {{ path /deny }}\n\
    http-request deny deny_status 429 if {{ path /429 }}\n\
    http-request return status 200 content-type text/plain file {body} if {{ path /file }}\n\
    http-request return status 404 errorfile {f503} if {{ path /ef }}\n\
    http-request return status 200 content-type text/plain lf-file {lf} hdr X-A b if {{ path /lf }}\n\
    http-request auth if {{ path /auth }}\n\
    http-request auth realm \"my realm\" if {{ path /realm }}\n\
    http-request tarpit if {{ path /tarpit }}\n\
    http-request tarpit deny_status 403 if {{ path /tarpit403 }}\n\
    http-request reject if {{ path /reject }}\n\
    http-request silent-drop if {{ path /drop }}\n\
    use_backend none if {{ path_beg /none }}\n\
    use_backend nonefe if {{ path_beg /nfe }}\n\
    use_backend dead if {{ path_beg /dead }}\n\
    use_backend garbage if {{ path_beg /garbage }}\n\
    use_backend hang if {{ path_beg /hang }}\n\
    default_backend be\n\
backend be\n    server e 127.0.0.1:{ep}\n\
backend none\n    errorfile 503 {f503}\n    errorfile 500 {f500}\n    http-request deny deny_status 500 if {{ path /none/deny }}\n    http-request deny if {{ path /none/403 }}\n\
backend nonefe\n\
backend dead\n    server d 127.0.0.1:{dp}\n\
backend garbage\n    server g 127.0.0.1:{gp}\n\
backend hang\n    timeout server 200ms\n    server h 127.0.0.1:{hp}\n",
        f502 = fixture("502.http"),
        f403 = fixture("403-http10.http"),
        f503 = fixture("503-noclen.http"),
        f500 = fixture("500.http"),
        body = fixture("body.txt"),
        ep = e.port,
        dp = dead_port(),
        gp = g.port,
        hp = h.port,
        f503fe = fixture("503-fe.http"),
        lf = fixture("lf.txt"),
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let mut reqs: Vec<String> = [
        "/deny",
        "/429",
        "/file",
        "/ef",
        "/auth",
        "/realm",
        "/tarpit",
        "/tarpit403",
        "/reject",
        "/drop",
        "/none",
        "/none/deny",
        "/none/403",
        "/nfe",
        "/dead",
        "/garbage",
        "/hang",
        "/lf",
    ]
    .iter()
    .map(|p| get(p, ""))
    .collect();
    // Keep-alive requests: the connection header depends on the file.
    for p in ["/none", "/none/deny", "/deny", "/auth"] {
        reqs.push(format!("GET {p} HTTP/1.0\r\nHost: h.example\r\n\r\n"));
    }
    compare(&ha, &sy, &reqs);
}

#[test]
fn redirect_options_match_haproxy() {
    let cfg = format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:@PORT@\n\
    http-request redirect location /x code 308 set-cookie SC=1 if {{ path /rc }}\n\
    http-request redirect prefix /p clear-cookie SC= if {{ path_beg /cc }}\n\
    http-request redirect prefix /p append-slash if {{ path_beg /as }}\n\
    http-request redirect scheme https drop-query append-slash code 303 if {{ path_beg /sd }}\n\
    redirect prefix /old code 301 if {{ path_beg /kw }}\n\
    http-request return status 200\n"
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs: Vec<String> = ["/rc", "/cc/a?b", "/as/a?b", "/as/", "/sd/a?b", "/kw/x?y"]
        .iter()
        .map(|p| get(p, ""))
        .collect();
    compare(&ha, &sy, &reqs);
}

#[test]
fn tarpit_waits_for_the_timeout() {
    let cfg = format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:@PORT@\n    timeout tarpit 400ms\n    http-request tarpit\n"
    );
    let sy = Proxy::start(&cfg);
    let t = std::time::Instant::now();
    let r = sy.raw(&get("/", ""));
    let took = t.elapsed();
    assert!(
        r.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{r}"
    );
    assert!(
        took >= std::time::Duration::from_millis(380) && took < std::time::Duration::from_secs(2),
        "{took:?}"
    );
}

#[test]
fn monitor_uri_matches_haproxy() {
    let cfg = format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:@PORT@\n    monitor-uri /mon\n    monitor fail if {{ hdr(x-fail) 1 }}\n    http-request deny\n"
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs = [
        get("/mon", ""),
        get("/mon", "X-Fail: 1\r\n"),
        get("/mon?x", ""),
        "GET http://h.example/mon HTTP/1.1\r\nHost: h.example\r\nConnection: close\r\n\r\n"
            .to_string(),
    ];
    compare(&ha, &sy, &reqs);
}

#[test]
fn after_response_rules_match_haproxy() {
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:@PORT@\n\
    http-after-response set-header X-After fe\n\
    http-after-response set-status 299 reason Odd if {{ status 503 }}\n\
    http-request deny if {{ path /deny }}\n\
    http-request redirect location /x if {{ path /redir }}\n\
    use_backend none if {{ path /none }}\n\
    default_backend be\n\
backend be\n    http-after-response add-header X-Be be\n    http-after-response replace-value X-Server ^(e)$ Q\\1\n    server e 127.0.0.1:{}\n\
backend none\n    http-after-response set-header X-None 1\n    http-after-response allow\n    http-after-response set-header X-Never 1\n",
        e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs: Vec<String> = ["/", "/deny", "/redir", "/none"]
        .iter()
        .map(|p| get(p, ""))
        .collect();
    compare(&ha, &sy, &reqs);
}

#[test]
fn variables_match_haproxy() {
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:@PORT@\n\
    http-request set-var(txn.p) path\n\
    http-request set-var-fmt(txn.f) \"x-%[path]\"\n\
    http-request set-var(sess.s) str(kept)\n\
    http-request unset-var(txn.p) if {{ path_beg /u }}\n\
    http-request set-header X-V \"%[var(txn.p)]|%[var(txn.f)]|%[var(sess.s)]\"\n\
    http-response set-header X-R %[var(txn.f)]\n\
    default_backend be\nbackend be\n    server e 127.0.0.1:{}\n",
        e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs: Vec<String> = ["/a", "/u/b"].iter().map(|p| get(p, "")).collect();
    compare(&ha, &sy, &reqs);
}

#[test]
fn originalto_matches_haproxy() {
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:@PORT@\n    option forwardfor\n    option originalto\n\
    use_backend named if {{ path /named }}\n    use_backend except if {{ path /except }}\n    default_backend be\n\
backend be\n    server e 127.0.0.1:{p}\n\
backend named\n    option originalto header X-Dst\n    server e 127.0.0.1:{p}\n\
backend except\n    option originalto except 127.0.0.0/8\n    server e 127.0.0.1:{p}\n",
        p = e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs: Vec<String> = ["/", "/named", "/except"]
        .iter()
        .map(|p| get(p, ""))
        .collect();
    compare(&ha, &sy, &reqs);
}

#[test]
fn listen_proxy_runs_each_rule_once() {
    let e = Backend::start("e", Behaviour::Http);
    let cfg = format!(
        "{DEFAULTS}listen l\n    bind 127.0.0.1:@PORT@\n    errorfile 403 {f403}\n\
    http-request add-header X-Req 1\n    http-response add-header X-Resp 1\n    http-after-response add-header X-After 1\n\
    http-request deny if {{ path /deny }}\n    server e 127.0.0.1:{p}\n",
        f403 = fixture("403-http10.http"),
        p = e.port
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs: Vec<String> = ["/", "/deny"].iter().map(|p| get(p, "")).collect();
    compare(&ha, &sy, &reqs);
}

#[test]
fn early_hints_match_haproxy() {
    let cfg = format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:@PORT@\n\
    http-request early-hint Link \"</a.css>; rel=preload\"\n\
    http-request early-hint Link \"</b.js>; rel=preload; as=%[path]\"\n\
    http-request set-header X-A 1\n\
    http-request early-hint X-Second yes if {{ path /two }}\n\
    http-request return status 200 string ok content-type text/plain\n"
    );
    let Some((ha, sy)) = both(&cfg) else { return };
    let reqs = [
        get("/p", ""),
        get("/two", ""),
        "GET /two HTTP/1.0\r\nHost: a\r\n\r\n".to_string(),
    ];
    compare(&ha, &sy, &reqs);
}
