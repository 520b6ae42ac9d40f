//! End-to-end tests of the map/ACL runtime API (`show/get/add/del/set/
//! clear map|acl`): the same config (a map used by `lf-string
//! "%[path,map(...)]"`, an ACL loaded with `-f`) and the same CLI commands
//! run against Switchyard and the real HAProxy 2.6.12; CLI replies (entry
//! addresses normalized) and HTTP answers must be identical before and
//! after each change.

mod support;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::cli;
use support::{Proxy, TempDir, body};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// Replaces `0x<hex>` entry addresses with `0xPTR`.
fn norm(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i]);
        out.push_str("0xPTR");
        rest = rest[i + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    out.push_str(rest);
    out
}

struct Rig {
    p: Proxy,
    sock: PathBuf,
    user: PathBuf,
    _dir: TempDir,
}

impl Rig {
    fn cmd(&self, c: &str) -> String {
        cli(&self.sock, c)
    }
    fn http(&self, path: &str) -> String {
        let r = self.p.get(path);
        format!("{} {}", support::status_line(&r), body(&r))
    }
}

fn start(bin: &str, files: &Path) -> Rig {
    let dir = TempDir::new();
    let cfg = format!(
        "global\n    stats socket {d}/admin.sock level admin\n    \
         stats socket {d}/user.sock level user\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    \
         timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@PORT@\n    acl blocked path -f {f}/deny.acl\n    \
         http-request return status 403 content-type text/plain string blocked if blocked\n    \
         http-request return status 200 content-type text/plain \
         lf-string \"%[path,map({f}/paths.map,none)]\"\n",
        d = dir.0.display(),
        f = files.display()
    );
    let p = Proxy::start_with(bin, &cfg);
    let sock = dir.0.join("admin.sock");
    let user = dir.0.join("user.sock");
    for _ in 0..100 {
        if sock.exists() && user.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Rig {
        p,
        sock,
        user,
        _dir: dir,
    }
}

/// The `0x...` reference of the entry `key` in a `show map|acl` listing.
fn ref_of(listing: &str, key: &str) -> String {
    listing
        .lines()
        .find(|l| l.split(' ').nth(1) == Some(key))
        .and_then(|l| l.split(' ').next())
        .map(|p| format!("#{p}"))
        .unwrap_or_default()
}

#[test]
fn map_and_acl_runtime_api_match_haproxy() {
    if !Path::new(HAPROXY).exists() {
        return;
    }
    let files = TempDir::new();
    std::fs::write(files.0.join("paths.map"), "/a A1\n# c\n/b B1\n/c C1\n").expect("map");
    std::fs::write(files.0.join("deny.acl"), "/x\n/y\n").expect("acl");
    let m = format!("{}/paths.map", files.0.display());
    let a = format!("{}/deny.acl", files.0.display());
    let h = start(HAPROXY, &files.0);
    let o = start(env!("CARGO_BIN_EXE_switchyard"), &files.0);
    let probe = ["/a", "/b", "/c", "/d", "/x", "/y", "/z"];
    let check_http = |step: &str| {
        for p in probe {
            assert_eq!(o.http(p), h.http(p), "GET {p} after {step}");
        }
    };
    check_http("start");
    let cmds = [
        format!("show map {m}"),
        format!("show acl {a}"),
        format!("get map {m} /a"),
        format!("get map {m} /zz"),
        format!("get acl {a} /x"),
        format!("get acl {a} /q"),
        "get map".into(),
        "show map /nope".into(),
        "show acl #99".into(),
        format!("add map {m} /d D1"),
        format!("add map {m}"),
        format!("add acl {a}"),
        format!("add acl {a} /z"),
        format!("set map {m} /b B2"),
        format!("set map {m} /nope v"),
        format!("set map {m} /b"),
        format!("del map {m} /a"),
        format!("del map {m} /nope"),
        format!("del acl {a} /x"),
        "del acl".into(),
        "clear map".into(),
        format!("show map {m}"),
        format!("show acl {a}"),
        format!("get map {m} /d"),
    ];
    for c in &cmds {
        assert_eq!(norm(&o.cmd(c)), norm(&h.cmd(c)), "command {c}");
        check_http(c);
    }
    // Delete by reference, from each side's own listing.
    let (lo, lh) = (
        o.cmd(&format!("show map {m}")),
        h.cmd(&format!("show map {m}")),
    );
    let (ro, rh) = (ref_of(&lo, "/c"), ref_of(&lh, "/c"));
    assert!(ro.starts_with("#0x"), "{lo}");
    assert_eq!(
        o.cmd(&format!("del map {m} {ro}")),
        h.cmd(&format!("del map {m} {rh}"))
    );
    check_http("del by ref");
    // The user level may use the map commands too.
    let c = format!("add map {m} /e E1");
    assert_eq!(cli(&o.user, &c), cli(&h.user, &c));
    check_http(&c);
    for c in [format!("clear map {m}"), format!("clear acl {a}")] {
        assert_eq!(o.cmd(&c), h.cmd(&c), "command {c}");
        check_http(&c);
    }
    assert_eq!(o.cmd(&format!("show map {m}")), "\n");
}

/// `file '<dir>/t.cfg'` (each proxy has its own directory) as `file 'CFG'`.
fn norm_cfg(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("file '/") {
        let tail = &rest[i + 6..];
        match tail.find('\'') {
            Some(j) if tail[..j].ends_with("/t.cfg") => {
                out.push_str(&rest[..i]);
                out.push_str("file 'CFG'");
                rest = &tail[j + 1..];
            }
            _ => {
                out.push_str(&rest[..i + 6]);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `show map` / `show acl` without arguments: HAProxy's ids (one counter
/// for maps and ACLs, in parse order), descriptions (every user of a file,
/// anonymous ACL expressions with their line), its internal ACLs and the
/// entry counts; then the `#<id>` forms.
#[test]
fn listing_matches_real_haproxy() {
    if !Path::new(HAPROXY).exists() {
        return;
    }
    let files = TempDir::new();
    let f = files.0.display().to_string();
    std::fs::write(files.0.join("m1.map"), "a 1\nb 2\n").expect("write");
    std::fs::write(files.0.join("m2.map"), "x y\n").expect("write");
    std::fs::write(files.0.join("p.acl"), "/a\n/b\n").expect("write");
    std::fs::write(files.0.join("ips.lst"), "10.0.0.0/8\n").expect("write");
    let cfg = |d: &Path| {
        format!(
            "global\n    stats socket {d}/admin.sock level admin\n\
             defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    \
             timeout server 5s\n\
             frontend fe\n    bind 127.0.0.1:@PORT@\n    acl inl path /x /y\n    \
             acl fromfile path -f {f}/p.acl\n    \
             acl both path -f {f}/p.acl -f {f}/ips.lst\n    acl nopat always_true\n    \
             acl beg path_beg -i /img /css\n    acl b2 path_beg -f {f}/p.acl\n    \
             http-request set-header x-m %[req.hdr(host),map({f}/m1.map,none)]\n    \
             http-request set-header x-n %[req.hdr(host),map_str({f}/m2.map)]\n    \
             http-request set-header x-o %[req.hdr(host),map({f}/m1.map)]\n    \
             http-request deny if {{ path /deny }} || {{ src -f {f}/ips.lst }}\n    \
             http-request deny if inl fromfile both nopat beg b2\n    \
             http-request return status 200 if {{ hdr(x-a) -i foo }} !{{ src 1.2.3.4 }}\n    \
             default_backend be\n\
             backend be\n    acl bea hdr(host) -m str foo bar\n    use-server s1 if bea\n    \
             server s1 127.0.0.1:1\n",
            d = d.display()
        )
    };
    let (d1, d2) = (TempDir::new(), TempDir::new());
    let ours = Proxy::start(&cfg(&d1.0));
    let theirs = Proxy::start_with(HAPROXY, &cfg(&d2.0));
    let (s1, s2) = (d1.0.join("admin.sock"), d2.0.join("admin.sock"));
    let acl = cli(&s2, "show acl");
    assert!(acl.contains("acl 'var' file 'httpclient' line 0"), "{acl}");
    let mut cmds = vec!["show acl".to_string(), "show map".to_string()];
    // Every listed id, whatever it is.
    for l in acl.lines().chain(cli(&s2, "show map").lines()).skip(1) {
        if let Some(id) = l.split(' ').next().filter(|i| !i.is_empty() && *i != "#") {
            cmds.push(format!("show acl #{id}"));
            cmds.push(format!("show map #{id}"));
        }
    }
    assert!(cmds.len() > 30, "{cmds:?}");
    for c in &cmds {
        let (a, b) = (norm(&norm_cfg(&cli(&s1, c))), norm(&norm_cfg(&cli(&s2, c))));
        assert_eq!(a, b, "command {c}");
    }
    drop((ours, theirs));
}
