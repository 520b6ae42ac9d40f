//! Differential tests of `userlist` authentication: `http_auth()` and
//! `http_auth_group()` with clear-text and crypt(3)-hashed passwords
//! (SHA-512, SHA-256, MD5, DES) and group membership given on `user` and
//! `group` lines. The same config and requests go through the real
//! HAProxy 2.6 (`/usr/sbin/haproxy`, skipped when absent) and switchyard;
//! the whole responses must be identical.

mod support;
use support::Proxy;

const HAPROXY: &str = "/usr/sbin/haproxy";

// `openssl passwd -6/-5/-1 -salt saltsalt secret`, DES crypt("secret", "ab").
const CFG: &str = "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 2s\n\
userlist L\n\
    group admins users carol\n\
    group ops\n\
    user alice insecure-password pa groups admins,ops\n\
    user bob password $6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1 groups ops\n\
    user carol password $5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA\n\
    user dave password $1$saltsalt$9xy1btjgzLYfb7hivXtC//\n\
    user erin password abNANd1rDfiNc\n\
    user nopass\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n\
    acl adm http_auth_group(L) admins\n\
    acl ops http_auth_group(L) ops admins\n\
    http-request auth realm R unless { http_auth(L) }\n\
    http-request return status 200 content-type text/plain string admin if adm\n\
    http-request return status 201 content-type text/plain string ops if ops\n\
    http-request set-var(txn.u) http_auth_group(L)\n\
    http-request return status 202 content-type text/plain string plain-user if { var(txn.u) -m found }\n\
    http-request return status 203 content-type text/plain string none\n";

fn b64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn req(auth: Option<&str>) -> String {
    let a = auth.map_or(String::new(), |c| {
        format!("Authorization: Basic {}\r\n", b64(c))
    });
    format!("GET / HTTP/1.1\r\nHost: h\r\n{a}Connection: close\r\n\r\n")
}

#[test]
fn userlist_auth_and_groups_answer_as_haproxy() {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let ha = Proxy::start_with(HAPROXY, CFG);
    let sy = Proxy::start(CFG);
    let creds = [
        None,
        Some("alice:pa"),
        Some("alice:PA"),
        Some("bob:secret"),
        Some("bob:secret2"),
        Some("carol:secret"),
        Some("carol:"),
        Some("dave:secret"),
        Some("dave:secre"),
        Some("erin:secret"),
        Some("erin:secreT"),
        Some("nobody:secret"),
        Some("bob"),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for c in creds {
        let r = req(c);
        let want = ha.raw(&r);
        assert_eq!(sy.raw(&r), want, "credentials {c:?}");
        seen.insert(support::status_line(&want).to_string());
    }
    // A user declared without a password: HAProxy 2.6.12 dies of a
    // SIGSEGV (crypt of a NULL hash); we refuse the credentials.
    let r = sy.raw(&req(Some("nopass:")));
    assert!(r.starts_with("HTTP/1.1 401 "), "{r}");
    // The cases really cover every outcome.
    assert_eq!(seen.len(), 4, "{seen:?}");
}
