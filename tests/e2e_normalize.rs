//! Differential test of `http-request normalize-uri`: every HAProxy 2.6
//! normalizer, chosen by a path prefix, over a few dozen tricky URIs. The
//! echo backend shows the request line it received; the whole responses
//! of the real HAProxy (`/usr/sbin/haproxy`, skipped when absent) and of
//! switchyard must be identical, 400s of the `strict` variants included.

mod support;
use support::{Backend, Behaviour, Proxy};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// (selector header value, normalizer words).
const NORMALIZERS: [(&str, &str); 12] = [
    ("fe", "fragment-encode"),
    ("fs", "fragment-strip"),
    ("ms", "path-merge-slashes"),
    ("sd", "path-strip-dot"),
    ("dd", "path-strip-dotdot"),
    ("df", "path-strip-dotdot full"),
    ("pd", "percent-decode-unreserved"),
    ("ps", "percent-decode-unreserved strict"),
    ("pu", "percent-to-uppercase"),
    ("us", "percent-to-uppercase strict"),
    ("qs", "query-sort-by-name"),
    ("all", "path-merge-slashes"),
];

const URIS: [&str; 36] = [
    "/",
    "//",
    "///a//b///",
    "/a//b?x//y",
    "/#foo",
    "/a#b#c",
    "/a?b#c",
    "/a#",
    "/.",
    "/./",
    "/./bar/",
    "/a/./a",
    "/.well-known/",
    "/a/.",
    "/a/./././b/.",
    "/foo/../",
    "/foo/../bar/",
    "/foo/bar/../",
    "/../bar/",
    "/bar/../../",
    "/foo//../",
    "/foo/%2E%2E/",
    "/a/b/..",
    "/..",
    "/a/../../../b?c/../d",
    "/%61dmin",
    "/foo%3Fbar=baz",
    "/%%36%36",
    "/%ZZ",
    "/%6f%7e%2f%41?q=%6a%3d",
    "/%",
    "/%a",
    "/?c=3&a=1&b=2",
    "/?a=3&b=4&a=1&b=5&a=2&&",
    "/?b&&a=&a&",
    "/x?",
];

#[test]
fn normalizers_rewrite_as_haproxy() {
    if !std::path::Path::new(HAPROXY).exists() {
        eprintln!("skipped: {HAPROXY} not installed");
        return;
    }
    let e = Backend::start("e", Behaviour::Http);
    let mut rules = String::new();
    for (sel, n) in NORMALIZERS {
        if sel == "all" {
            continue;
        }
        rules.push_str(&format!(
            "    http-request normalize-uri {n} if {{ req.hdr(x-n) {sel} all }}\n"
        ));
    }
    let cfg = format!(
        "global\n    expose-experimental-directives\ndefaults\n    mode http\n    timeout connect 200ms\n    timeout client 2s\n    timeout server 2s\n\
frontend fe\n    bind 127.0.0.1:@PORT@\n{rules}    http-request set-header x-path %[path]\n    default_backend be\n\
backend be\n    server e 127.0.0.1:{}\n",
        e.port
    );
    let ha = Proxy::start_with(HAPROXY, &cfg);
    let sy = Proxy::start(&cfg);
    for (sel, n) in NORMALIZERS {
        for u in URIS {
            let r =
                format!("GET {u} HTTP/1.1\r\nHost: h\r\nX-N: {sel}\r\nConnection: close\r\n\r\n");
            assert_eq!(sy.raw(&r), ha.raw(&r), "normalize-uri {n} on {u:?}");
        }
    }
    // Absolute URIs keep their scheme and authority.
    for u in ["http://h//a/./b/../c?z&a", "http://h", "http://h/?b&a"] {
        let r = format!("GET {u} HTTP/1.1\r\nHost: h\r\nX-N: all\r\nConnection: close\r\n\r\n");
        assert_eq!(sy.raw(&r), ha.raw(&r), "all on {u:?}");
    }
}
