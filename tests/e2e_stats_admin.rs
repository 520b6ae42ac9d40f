//! End-to-end tests of the stats page's admin side (`stats admin`, the
//! form POSTed like a browser does), `stats http-request`, `stats scope`
//! and `stats show-legends`, compared with HAProxy 2.6.12 where it helps.

mod support;
use std::collections::BTreeSet;
use support::{Backend, Behaviour, Proxy, body, free_port, server_of, status_line};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// A frontend on `fe` balancing over two servers, and `listen stats` on
/// `@PORT@` with the given extra `stats` lines.
fn config(fe: u16, a: u16, b: u16, stats: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n\
frontend f\n    bind 127.0.0.1:{fe}\n    default_backend web\n\n\
backend web\n    balance roundrobin\n    server s1 127.0.0.1:{a}\n    server s2 127.0.0.1:{b}\n\n\
listen stats\n    bind 127.0.0.1:@PORT@\n    stats uri /stats\n{stats}"
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

/// POSTs a form as a browser does.
fn post(p: &Proxy, path: &str, form: &str) -> String {
    p.raw(&format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    ))
}

fn header<'a>(resp: &'a str, name: &str) -> Option<&'a str> {
    let head = resp.split_once("\r\n\r\n").map_or(resp, |x| x.0);
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The `status` cell of `web/<srv>` in `;csv`.
fn csv_status(p: &Proxy, srv: &str) -> String {
    let csv = dechunk(body(&p.get("/stats;csv")));
    csv.lines()
        .find(|l| l.starts_with(&format!("web,{srv},")))
        .and_then(|l| l.split(',').nth(17))
        .unwrap_or("")
        .to_string()
}

/// The servers answering `n` requests through the frontend.
fn served(fe: u16, n: usize) -> BTreeSet<String> {
    (0..n)
        .map(|_| {
            let r = support::raw(
                fe,
                b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            );
            server_of(&r)
        })
        .collect()
}

#[test]
fn admin_form_puts_a_server_in_maintenance() {
    let a = Backend::start("A", Behaviour::Http);
    let b = Backend::start("B", Behaviour::Http);
    let fe = free_port();
    let p = Proxy::start(&config(fe, a.port, b.port, "    stats admin if TRUE\n"));
    assert_eq!(served(fe, 4), BTreeSet::from(["A".into(), "B".into()]));
    // The page carries HAProxy's form: checkboxes and the backend id.
    let page = dechunk(body(&p.get("/stats")));
    assert!(
        page.contains("<input class='web-checkbox' type=\"checkbox\" name=\"s\" value=\"s1\">")
    );
    assert!(page.contains("<option value=\"maint\">Set state to MAINT</option>"));
    let bid = page
        .split("<input type=\"hidden\" name=\"b\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("backend id field")
        .replace('#', "%23");
    let r = post(&p, "/stats", &format!("s=s1&action=maint&b={bid}"));
    assert_eq!(status_line(&r), "HTTP/1.1 303 See Other");
    assert_eq!(header(&r, "location"), Some("/stats;st=DONE"));
    assert_eq!(csv_status(&p, "s1"), "MAINT");
    // Traffic no longer reaches s1.
    assert_eq!(served(fe, 4), BTreeSet::from(["B".into()]));
    // The result box on the page the browser is sent to.
    let done = dechunk(body(&p.get("/stats;st=DONE")));
    assert!(done.contains("Action processed successfully.</div>"));
    // Back to READY, by backend name this time.
    let r = post(&p, "/stats", "s=s1&action=ready&b=web");
    assert_eq!(header(&r, "location"), Some("/stats;st=DONE"));
    assert_ne!(csv_status(&p, "s1"), "MAINT");
    assert_eq!(served(fe, 4), BTreeSet::from(["A".into(), "B".into()]));
    // Drain keeps the server out of the balancing too.
    let r = post(&p, "/stats;up", "s=s2&action=drain&b=web");
    assert_eq!(header(&r, "location"), Some("/stats;st=DONE;up"));
    assert_eq!(csv_status(&p, "s2"), "DRAIN");
}

/// The `;st=` codes HAProxy 2.6.12 answers for odd forms.
#[test]
fn admin_results_as_haproxy() {
    let a = Backend::start("A", Behaviour::Http);
    let fe_o = free_port();
    let fe_t = free_port();
    let ours = Proxy::start(&config(fe_o, a.port, a.port, "    stats admin if TRUE\n"));
    let theirs = Proxy::start_with(
        HAPROXY,
        &config(fe_t, a.port, a.port, "    stats admin if TRUE\n"),
    );
    for form in [
        "s=s1&action=maint",
        "action=maint&b=web",
        "s=s1&action=bogus&b=web",
        "s=nosuch&action=maint&b=web",
        "s=s1&s=zz&action=maint&b=web",
        "s=s1&action=maint&b=nosuch",
        "s=s1&s=s2&action=ready&b=web",
    ] {
        let o = post(&ours, "/stats", form);
        let t = post(&theirs, "/stats", form);
        assert_eq!(status_line(&o), status_line(&t), "{form}");
        assert_eq!(header(&o, "location"), header(&t, "location"), "{form}");
    }
    // Without `stats admin`: denied.
    let p = Proxy::start(&config(
        free_port(),
        a.port,
        a.port,
        "    stats admin if FALSE\n",
    ));
    let r = post(&p, "/stats", "s=s1&action=maint&b=web");
    assert_eq!(header(&r, "location"), Some("/stats;st=DENY"));
    assert_ne!(csv_status(&p, "s1"), "MAINT");
    let page = dechunk(body(&p.get("/stats")));
    assert!(!page.contains("name=\"s\""), "no form without admin");
}

/// `stats http-request deny|auth|allow`, `stats scope`, `stats
/// show-legends`: the same answers as HAProxy.
#[test]
fn access_rules_and_scope_as_haproxy() {
    let a = Backend::start("A", Behaviour::Http);
    let extra = "    stats http-request deny if { path_end ;csv }\n    stats http-request auth realm Secret if { path_end ;json }\n    stats http-request allow\n    stats scope web\n    stats scope .\n    stats show-legends\n";
    let ours = Proxy::start(&config(free_port(), a.port, a.port, extra));
    let theirs = Proxy::start_with(HAPROXY, &config(free_port(), a.port, a.port, extra));
    for path in ["/stats;csv", "/stats;json", "/stats"] {
        let o = ours.get(path);
        let t = theirs.get(path);
        assert_eq!(status_line(&o), status_line(&t), "{path}");
        assert_eq!(
            header(&o, "www-authenticate"),
            header(&t, "www-authenticate"),
            "{path}"
        );
    }
    // Scope: the same proxy tables.
    let tables = |r: &str| -> Vec<String> {
        dechunk(body(r))
            .split("<a class=px href=\"#")
            .skip(1)
            .filter_map(|s| s.split('"').next().map(str::to_string))
            .collect()
    };
    let (o, t) = (ours.get("/stats"), theirs.get("/stats"));
    assert_eq!(tables(&o), tables(&t));
    assert_eq!(tables(&o), ["web", "stats"]);
    assert!(dechunk(body(&o)).contains("<div class=tips>balancing: roundrobin</div>"));
    // `;typed` honours the scope too.
    let pxnames = |r: &str| -> BTreeSet<String> {
        dechunk(body(r))
            .lines()
            .filter(|l| l.contains(".pxname."))
            .filter_map(|l| l.rsplit(':').next().map(str::to_string))
            .collect()
    };
    let (o, t) = (ours.get("/stats;typed"), theirs.get("/stats;typed"));
    assert_eq!(pxnames(&o), pxnames(&t));
    assert_eq!(pxnames(&o), BTreeSet::from(["web".into(), "stats".into()]));
    // The scope box narrows further (case-insensitive substring).
    let (o, t) = (ours.get("/stats?scope=WE"), theirs.get("/stats?scope=WE"));
    assert_eq!(tables(&o), tables(&t));
}

/// A headless browser renders the page (skipped without chromium).
#[test]
fn chromium_screenshot_smoke() {
    let Some(bin) = ["chromium", "chromium-browser"].into_iter().find(|b| {
        std::process::Command::new("which")
            .arg(b)
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        eprintln!("skipped: chromium is not installed");
        return;
    };
    let a = Backend::start("A", Behaviour::Http);
    let p = Proxy::start(&config(
        free_port(),
        a.port,
        a.port,
        "    stats admin if TRUE\n",
    ));
    let dir = support::TempDir::new();
    let shot = dir.0.join("page.png");
    let mut child = std::process::Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
            &format!("http://127.0.0.1:{}/stats;norefresh", p.port),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn chromium");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"));
}

/// The page reads like HAProxy's: same headings, row classes, form
/// controls, legend and display options for the same config.
#[test]
fn page_structure_as_haproxy() {
    let a = Backend::start("A", Behaviour::Http);
    let extra = "    stats refresh 10s\n    stats admin if TRUE\n";
    let ours = Proxy::start(&config(free_port(), a.port, a.port, extra));
    let theirs = Proxy::start_with(HAPROXY, &config(free_port(), a.port, a.port, extra));
    // Tags and classes only (no text, no tips).
    let skeleton = |r: &str| -> Vec<String> {
        let page = dechunk(body(r));
        let mut out = Vec::new();
        for part in page.split('<').skip(1) {
            let tag = part.split('>').next().unwrap_or("");
            let keep = tag.starts_with("tr class")
                || tag.starts_with("th ")
                || tag.starts_with("input")
                || tag.starts_with("option")
                || tag.starts_with("form")
                || tag.starts_with("table class=\"lgd")
                || tag.starts_with("a href=\"/");
            // The backend id is the CSV's `iid` (numbered by the counters).
            if keep && !tag.starts_with("input type=\"hidden\"") {
                out.push(tag.to_string());
            }
        }
        out
    };
    for path in ["/stats", "/stats;up;norefresh", "/stats;st=PART"] {
        let (o, t) = (ours.get(path), theirs.get(path));
        assert_eq!(skeleton(&o), skeleton(&t), "{path}");
        let heads = |r: &str| -> Vec<String> {
            dechunk(body(r))
                .split("<th>")
                .skip(1)
                .filter_map(|s| s.split('<').next().map(str::to_string))
                .collect()
        };
        assert_eq!(heads(&o), heads(&t), "{path}");
    }
}
