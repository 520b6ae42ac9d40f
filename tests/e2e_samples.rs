//! Differential tests of sample fetches, converters and ACL match methods:
//! the same `http-request return ... lf-string` / `if { acl }` rules under
//! the real HAProxy 2.6 (`/usr/sbin/haproxy`, skipped when absent) and
//! under switchyard must produce byte-identical responses.

mod support;
use support::{Backend, Behaviour, Proxy, TempDir};

const HAPROXY: &str = "/usr/sbin/haproxy";

fn both(cfg: &str) -> Option<(Proxy, Proxy)> {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return None;
    }
    Some((Proxy::start_with(HAPROXY, cfg), Proxy::start(cfg)))
}

const HEAD: &str = "defaults\n    mode http\n    timeout connect 500ms\n    timeout client 2s\n    timeout server 2s\n";

/// One request carrying everything the cases read.
const REQ: &str = "GET /Api/v1/Items.php?a=1&b=two&a=3 HTTP/1.1\r\nHost: WWW.Example.com:8080\r\nX: 1, 2\r\nX: 3\r\nN: 12abc\r\nXff: 10.1.2.3:99\r\nCookie: c=v1; d=4; c=v2\r\nConnection: close\r\n\r\n";

/// Sample expressions rendered through `lf-string`, one rule per case.
const EXPRS: &[&str] = &[
    "path",
    "url",
    "query",
    "method",
    "base",
    "base32",
    "req.ver",
    "pathq",
    "hdr(x)",
    "hdr(x,1)",
    "hdr(x,-2)",
    "hdr_cnt(x)",
    "req.fhdr(x)",
    "req.fhdr(x,1)",
    "req.hdr_cnt(x)",
    "req.fhdr_cnt(x)",
    "hdr_ip(xff)",
    "hdr_val(n)",
    "hdr(nope)",
    "url_param(a)",
    "urlp(b)",
    "url_param(zz)",
    "req.cook(c)",
    "cook(d)",
    "req.cook_cnt(c)",
    "cook_val(d)",
    "src",
    "dst",
    "fe_name",
    "int(42)",
    "str(abc)",
    "bool(1)",
    "always_true",
    "always_false",
    "http_first_req",
    "nbsrv(b)",
    "srv_is_up(b/s1)",
    "srv_is_up(b/s2)",
    "be_conn(b)",
    "fe_conn",
    "var(txn.x)",
    "var(txn.nope)",
    "ssl_fc",
    "rand(1)",
    "env(SWITCHYARD_TEST_UNSET)",
    // converters
    "path,lower",
    "path,upper",
    "str(a_b_c),field(2,_)",
    "str(f1_f2_f3__f5),field(-2,_,3)",
    "str(f1_f2_f3__f5),word(3,_,2)",
    "str(a_b),field(5,_)",
    "str(hello),base64",
    "str(aGVsbG8=),b64dec",
    "str(hi),hex",
    "str(hello),length",
    "str(hello),bytes(1,3)",
    "str(hello),bytes(9)",
    "int(7),add(3)",
    "int(7),sub(10)",
    "int(7),mul(-2)",
    "int(7),div(2)",
    "int(7),div(0)",
    "int(-7),mod(3)",
    "int(7),mod(0)",
    "int(7),and(3)",
    "int(7),or(8)",
    "int(7),xor(5)",
    "int(5),neg",
    "int(5),cpl",
    "int(4),odd",
    "int(4),even",
    "int(0),not",
    "int(3),bool",
    "str(ff),hex2i",
    "str(a%20b+c),url_dec",
    "str(a%2),url_dec",
    "str(a/b),json",
    "src,ipmask(24)",
    "str(abcb),regsub(b,X)",
    "str(aXbXc),regsub(X,-,g)",
    "str(xxabc),ltrim(x)",
    "str(abcxx),rtrim(x)",
    "str(abc),sdbm",
    "str(abc),djb2",
    "str(abc),wt6",
    "str(abc),crc32",
    "str(abc),crc32c",
    "str(abc),xxh32",
    "str(abc),sdbm(1)",
    "str(abc),djb2(1)",
    "hdr(host),host_only",
    "hdr(host),port_only",
    "str(abc),concat(-,txn.x,+)",
    "str(hello),strcmp(txn.x)",
    "str(abc),strcmp(txn.x)",
    "int(7),add(txn.n)",
    "hdr(x),upper,lower",
];

/// ACL conditions, each answering "yes" or falling through to "no".
const ACLS: &[&str] = &[
    "path_beg /Api",
    "path_beg /api",
    "path_beg -i /api",
    "path_end .php",
    "path_sub v1",
    "path_reg ^/Api/.*php$",
    "path_dir v1",
    "path_dir Api/v1",
    "path_dir pi",
    "path_len 19",
    "path_len gt 30",
    "hdr_dom(host) -i example.com:8080",
    "hdr_dom(host) -i example",
    "hdr_dom(host) -i ample.com",
    "hdr_cnt(x) gt 2",
    "hdr_cnt(x) eq 2",
    "hdr_val(n) ge 10",
    "hdr_val(n) lt 10",
    "src 127.0.0.0/8",
    "src 10.0.0.0/8",
    "src 127.0.0.1",
    "url_param(a) -m found",
    "hdr(nope) -m found",
    "int(5) 1:10",
    "int(5) lt 3",
    "int(5) 6:",
    "str(abc) -m sub b",
    "path -i -m str /api/v1/items.php",
    "method GET",
    "method POST",
    "always_false",
    "req.ver 1.1",
    "int(0) -m bool",
    "int(2) -m bool",
    "str(abc) -m len 3",
    "hdr(x) 2",
    "hdr(x) -m beg 3",
    "hdr_beg(x) 1",
    "url_param(a) 3",
    "req.cook(c) v1",
    "cook(c) v2",
    "hdr_ip(xff) 10.1.0.0/16",
    "str(www.example.com) -m dom example.com",
    "str(www.example.com) -m end .com",
    "src -f @NETS@",
    "path -m beg -f @PATHS@",
    "nbsrv(b) 1",
    "srv_is_up(b/s2)",
    "base -m beg www.example.com:8080/Api",
    "path,lower -m str /api/v1/items.php",
    "str(10.0.0.1),ipmask(8) 10.0.0.0",
];

fn cfg(dir: &TempDir, be_port: u16) -> String {
    let map = dir.0.join("m.map");
    std::fs::write(&map, "# comment\n/api/v1/items.php mapped\n/other x\n").unwrap();
    let nets = dir.0.join("n.lst");
    std::fs::write(&nets, "# nets\n192.168.0.0/16\n  127.0.0.0/8\n").unwrap();
    let paths = dir.0.join("p.lst");
    std::fs::write(&paths, "/nope\n\n/Api\n").unwrap();
    let mut c = String::from(HEAD);
    c.push_str("frontend fe\n    bind 127.0.0.1:@PORT@\n");
    c.push_str("    tcp-request content set-var(txn.x) str(hello)\n");
    c.push_str("    tcp-request content set-var(txn.n) int(5)\n");
    let mut exprs: Vec<String> = EXPRS.iter().map(|e| e.to_string()).collect();
    exprs.push(format!("path,lower,map({},nomap)", map.display()));
    exprs.push(format!("str(zz),map_beg({},nomap)", map.display()));
    exprs.push(format!("path,map_beg({})", map.display()));
    for (i, e) in exprs.iter().enumerate() {
        c.push_str(&format!(
            "    http-request return status 200 content-type text/plain lf-string \"<%[{e}]>\" if {{ hdr(case) e{i} }}\n"
        ));
    }
    for (i, a) in ACLS.iter().enumerate() {
        let a = a
            .replace("@NETS@", &nets.display().to_string())
            .replace("@PATHS@", &paths.display().to_string());
        c.push_str(&format!(
            "    http-request return status 200 content-type text/plain string yes if {{ hdr(case) a{i} }} {{ {a} }}\n"
        ));
    }
    c.push_str("    http-request return status 200 content-type text/plain string no\n");
    c.push_str(&format!(
        "backend b\n    server s1 127.0.0.1:{be_port}\n    server s2 127.0.0.1:{be_port} disabled\n"
    ));
    c
}

fn req(case: &str) -> String {
    REQ.replacen("\r\n\r\n", &format!("\r\ncase: {case}\r\n\r\n"), 1)
}

#[test]
fn fetches_converters_and_match_methods_match_haproxy() {
    let be = Backend::start("b", Behaviour::Http);
    let dir = TempDir::new();
    let Some((ha, sy)) = both(&cfg(&dir, be.port)) else {
        return;
    };
    let mut diffs = Vec::new();
    let n_exprs = EXPRS.len() + 3;
    for i in 0..n_exprs {
        let r = req(&format!("e{i}"));
        let (h, s) = (ha.raw(&r), sy.raw(&r));
        if h != s {
            let what = EXPRS.get(i).copied().unwrap_or("map");
            diffs.push(format!(
                "%[{what}]: haproxy {:?} switchyard {:?}",
                support::body(&h),
                support::body(&s)
            ));
        }
    }
    for (i, a) in ACLS.iter().enumerate() {
        let r = req(&format!("a{i}"));
        let (h, s) = (ha.raw(&r), sy.raw(&r));
        if h != s {
            diffs.push(format!(
                "{{ {a} }}: haproxy {:?} switchyard {:?}",
                support::body(&h),
                support::body(&s)
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
