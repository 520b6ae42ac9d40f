//! Registry tests: the data parses, `-dK` output matches the real 2.6.12
//! binary's dump, suggestions match the binary's "did you mean" answers, and
//! `docs/compatibility.md` is up to date.

use super::dump::{compatibility_markdown, dump};
use super::keywords::{Section, Status, registry};
use super::suggest::{
    best_match, suggest_bind_kw, suggest_option, suggest_section_keyword, suggest_server_kw,
};

const DUMP_REL: &str = "../shared/reference/haproxy-2.6/keywords/dump-dKall.txt";

fn reference_dump() -> Option<String> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DUMP_REL);
    match std::fs::read_to_string(&p) {
        Ok(s) => Some(s),
        Err(_) => {
            println!("note: {} absent, skipping", p.display());
            None
        }
    }
}

/// The part of the reference dump from `header` to the next `# List` line.
fn dump_part(all: &str, header: &str) -> String {
    let mut out = String::new();
    let mut on = false;
    for l in all.lines() {
        if l.starts_with("# List of") {
            on = l == header;
        }
        if on {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_file_parses() {
    let r = registry();
    assert!(r.errors().is_empty(), "bad rows: {:?}", r.errors());
    assert!(r.keywords(Section::Global).count() > 100);
    assert!(r.keywords(Section::Frontend).count() > 80);
    assert!(r.options().count() > 50);
    assert!(r.bind_kws().count() > 60);
    assert!(r.server_kws().count() > 95);
    assert!(r.cli_commands().count() > 120);
    assert!(r.actions("http-request").count() > 50);
    assert_eq!(r.sections().count(), Section::ALL.len());
}

#[test]
fn lookups() {
    let r = registry();
    assert_eq!(
        r.keyword(Section::Frontend, "bind").map(|k| k.status),
        Some(Status::Supported)
    );
    assert!(r.keyword(Section::Backend, "bind").is_none());
    assert!(r.keyword(Section::Frontend, "server").is_none());
    assert_eq!(
        r.keyword(Section::Global, "stats").map(|k| k.name),
        Some("stats socket")
    );
    assert_eq!(
        r.keyword_for_words(Section::Defaults, &["timeout", "connect", "5s"])
            .map(|k| k.name),
        Some("timeout connect")
    );
    let o = r.option("httplog").expect("httplog");
    assert!(o.http_only && !o.allows_no && !o.allowed_in(Section::Backend));
    assert!(
        r.option("abortonclose")
            .is_some_and(|o| o.allows_no && !o.allowed_in(Section::Frontend))
    );
    assert!(r.option("forwardfor").is_some_and(|o| o.http_only));
    assert!(
        r.server_kw("id")
            .is_some_and(|k| !k.default_server && k.args == 1)
    );
    assert!(r.server_kw("source").is_some_and(|k| k.variable_args));
    assert!(r.bind_kw("alpn").is_some_and(|k| k.ssl && k.crt_list));
    assert!(r.bind_kw("crt").is_some_and(|k| k.ssl && !k.crt_list));
    assert!(
        r.action("http-request", "set-var(txn.x)")
            .is_some_and(|a| a.prefix)
    );
    assert!(
        r.action("tcp-request content", "sc-inc-gpc0(1)")
            .is_some_and(|a| a.name == "sc-inc-gpc0")
    );
    assert!(r.action("http-request", "bogus").is_none());
    assert_eq!(
        Section::from_keyword("http-errors"),
        Some(Section::HttpErrors)
    );
    assert!(Section::Listen.is_proxy() && !Section::Global.is_proxy());
}

#[test]
fn removed_keywords_carry_haproxy_alerts() {
    // Exact texts from check-cases 62-64 and the real binary.
    let r = registry();
    let k = r.keyword(Section::Frontend, "reqadd").expect("reqadd");
    assert_eq!(
        k.removed_alert("62.cfg", 9, "x").as_deref(),
        Some(
            "parsing [62.cfg:9] : The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead."
        )
    );
    let k = r
        .keyword(Section::Defaults, "contimeout")
        .expect("contimeout");
    assert_eq!(
        k.removed_alert("63.cfg", 3, "").as_deref(),
        Some(
            "parsing [63.cfg:3] : the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'."
        )
    );
    let k = r.keyword(Section::Global, "nbproc").expect("nbproc");
    assert_eq!(
        k.removed_alert("64.cfg", 2, "2").as_deref(),
        Some(
            "parsing [64.cfg:2] : nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available."
        )
    );
    let k = r
        .keyword(Section::Backend, "redispatch")
        .expect("redispatch");
    assert_eq!(k.status, Status::Removed);
    let k = r
        .keyword(Section::Frontend, "monitor-net")
        .expect("monitor-net");
    assert_eq!(
        k.removed_alert("a.cfg", 14, "1.2.3.4").as_deref(),
        Some(
            "parsing [a.cfg:14] : 'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src 1.2.3.4 }' instead."
        )
    );
    let o = r.option("http-tunnel").expect("http-tunnel");
    assert_eq!(o.status, Status::Removed);
    assert!(o.notes.starts_with(
        "parsing [{loc}]: option 'http-tunnel' is not supported any more since HAProxy 2.1"
    ));
}

#[test]
fn no_op_never_changes_traffic() {
    // Spot-check honesty: these change traffic, so they must not be no-op.
    let r = registry();
    for kw in ["chroot", "hard-stop-after", "maxconnrate", "tune.bufsize"] {
        assert_ne!(
            r.keyword(Section::Global, kw).map(|k| k.status),
            Some(Status::NoOp),
            "{kw}"
        );
    }
    assert_ne!(r.option("nolinger").map(|o| o.status), Some(Status::NoOp));
}

#[test]
fn dump_matches_reference() {
    let Some(all) = reference_dump() else { return };
    for (class, header) in [
        ("cfg", "# List of registered configuration keywords:"),
        ("cli", "# List of registered CLI keywords:"),
        ("flt", "# List of registered filter names:"),
        ("svc", "# List of registered service names:"),
    ] {
        let want = dump_part(&all, header);
        let got = dump(class);
        if want != got {
            let diff: Vec<_> = want
                .lines()
                .zip(got.lines())
                .filter(|(a, b)| a != b)
                .take(5)
                .collect();
            panic!(
                "-dK{class} differs ({} vs {} lines): {diff:?}",
                want.lines().count(),
                got.lines().count()
            );
        }
    }
}

#[test]
fn every_dumped_keyword_is_registered() {
    let Some(all) = reference_dump() else { return };
    let r = registry();
    let cfg = dump_part(&all, "# List of registered configuration keywords:");
    let mut section = "";
    for l in cfg.lines().skip(1) {
        let Some(body) = l.strip_prefix('\t') else {
            section = l;
            continue;
        };
        let w: Vec<&str> = body.split(' ').collect();
        let found = match (section, w.as_slice()) {
            ("global", [k]) => r.keyword(Section::Global, k).is_some(),
            ("listen", ["bind", "<addr>", "ssl", k, ..]) if !k.starts_with('+') => {
                r.bind_kw(k).is_some()
            }
            ("listen", ["bind", "<addr>", k, ..]) => r.bind_kw(k).is_some(),
            ("listen", ["server", "<name>", "<addr>", k, ..]) => r.server_kw(k).is_some(),
            ("listen", ["option", k, ..]) => r.option(k).is_some(),
            ("listen", [k]) => {
                r.keyword(Section::Listen, k).is_some() || r.keyword(Section::Defaults, k).is_some()
            }
            ("listen", [a, b, k]) if a.starts_with("tcp-") => r
                .action(&format!("{a} {b}"), k.trim_end_matches('*'))
                .is_some(),
            ("listen", [a, k]) => r.action(a, k.trim_end_matches('*')).is_some(),
            ("crt-list", [k, ..]) => r.bind_kws().any(|b| b.name == *k && b.crt_list),
            _ => false,
        };
        assert!(found, "{section}: {body} missing from grammar/*.tsv");
    }
    let cli = dump_part(&all, "# List of registered CLI keywords:");
    for l in cli.lines().skip(1) {
        let words: Vec<&str> = l
            .split(' ')
            .filter(|w| !w.is_empty() && !w.starts_with('['))
            .collect();
        let cmd = words.join(" ");
        assert!(
            r.cli_commands().any(|c| c.command == cmd),
            "CLI {cmd} missing"
        );
    }
}

#[test]
fn fingerprint_basics() {
    assert_eq!(best_match("chek", ["check", "backup"]), Some("check"));
    assert_eq!(best_match("zzzzzzzz", ["a"]), None);
    assert_eq!(best_match("x", std::iter::empty()), None);
    // Ties keep the first candidate.
    assert_eq!(best_match("abc", ["abd", "abe"]), Some("abd"));
}

/// Answers of the real haproxy 2.6.12 (`haproxy -c`), "did you mean" part.
#[test]
fn suggestions_match_haproxy() {
    let g = |w| suggest_section_keyword(Section::Global, w);
    let d = |w| suggest_section_keyword(Section::Defaults, w);
    let f = |w| suggest_section_keyword(Section::Frontend, w);
    let b = |w| suggest_section_keyword(Section::Backend, w);
    let cases: Vec<(&str, Option<&str>, Option<&str>)> = vec![
        (
            "global hard-stop-aftr",
            g("hard-stop-aftr"),
            Some("hard-stop-after"),
        ),
        (
            "global default_backend",
            g("default_backend"),
            Some("backend"),
        ),
        (
            "global 51degrees-cache-size",
            g("51degrees-cache-size"),
            Some("tune.ssl.cachesize"),
        ),
        (
            "global tune.zlib.memlevel",
            g("tune.zlib.memlevel"),
            Some("tune.comp.maxlevel"),
        ),
        (
            "global tune.zlib.windowsize",
            g("tune.zlib.windowsize"),
            Some("tune.bufsize"),
        ),
        ("global wurfl-data-file", g("wurfl-data-file"), None),
        ("global ssl-engine", g("ssl-engine"), None),
        ("global deamon", g("deamon"), SUGG_DEAMON),
        ("global maxconnn", g("maxconnn"), SUGG_MAXCONNN),
        ("global pidfil", g("pidfil"), SUGG_PIDFIL),
        ("defaults frontnd", d("frontnd"), Some("frontend")),
        (
            "frontend default_backnd",
            f("default_backnd"),
            Some("default_backend"),
        ),
        ("frontend optoin", f("optoin"), Some("option")),
        ("frontend reqsetbe", f("reqsetbe"), Some("retries")),
        ("frontend use-backend", f("use-backend"), SUGG_USE_BACKEND),
        ("backend balanse", b("balanse"), SUGG_BALANSE),
        ("backend timout", b("timout"), SUGG_TIMOUT),
        ("backend http-requst", b("http-requst"), SUGG_HTTP_REQUST),
        ("server chek", suggest_server_kw("chek"), Some("check")),
        ("server wieght", suggest_server_kw("wieght"), SUGG_WIEGHT),
        ("server inte", suggest_server_kw("inte"), SUGG_INTE),
        (
            "bind acept-proxy",
            suggest_bind_kw("acept-proxy"),
            SUGG_ACEPT_PROXY,
        ),
        ("bind crtt", suggest_bind_kw("crtt"), SUGG_CRTT),
        ("option httplg", suggest_option("httplg"), Some("httplog")),
        (
            "option independant-streams",
            suggest_option("independant-streams"),
            Some("independent-streams"),
        ),
        (
            "option forwardedfor",
            suggest_option("forwardedfor"),
            SUGG_FORWARDEDFOR,
        ),
    ];
    let bad: Vec<_> = cases.iter().filter(|(_, got, want)| got != want).collect();
    assert!(bad.is_empty(), "mismatches (case, ours, haproxy): {bad:?}");
}

// Answers of the real binary for the typos above.
const SUGG_DEAMON: Option<&str> = Some("daemon");
const SUGG_MAXCONNN: Option<&str> = Some("maxconn");
const SUGG_PIDFIL: Option<&str> = Some("pidfile");
const SUGG_USE_BACKEND: Option<&str> = Some("use_backend");
const SUGG_BALANSE: Option<&str> = Some("balance");
const SUGG_TIMOUT: Option<&str> = Some("timeout");
const SUGG_HTTP_REQUST: Option<&str> = Some("http-request");
const SUGG_WIEGHT: Option<&str> = Some("weight");
const SUGG_INTE: Option<&str> = Some("inter");
const SUGG_ACEPT_PROXY: Option<&str> = Some("accept-proxy");
const SUGG_CRTT: Option<&str> = Some("crt");
const SUGG_FORWARDEDFOR: Option<&str> = Some("forwardfor");

#[test]
fn compatibility_doc_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/compatibility.md");
    let want = compatibility_markdown();
    if std::env::var_os("SWITCHYARD_REGEN_DOCS").is_some() {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&path, &want).expect("write docs/compatibility.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/compatibility.md is stale; regenerate with: SWITCHYARD_REGEN_DOCS=1 cargo test --lib grammar"
    );
}
