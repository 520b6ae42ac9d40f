use super::*;

fn conf(s: &str) -> Conf {
    let w: Vec<String> = s.split_whitespace().map(str::to_string).collect();
    Conf::parse(&w).expect("valid cookie line")
}

fn cands<'a>(v: &'a [(&'a str, bool)]) -> Vec<Candidate<'a>> {
    v.iter()
        .map(|&(c, running)| Candidate {
            cookie: Some(c),
            running,
        })
        .collect()
}

fn req(c: &Conf, h: &str, servers: &[(&str, bool)], keep_down: bool) -> (String, ReqState, bool) {
    let mut v = h.as_bytes().to_vec();
    let mut st = ReqState::default();
    let keep = c.on_request_header(
        &mut v,
        &cands(servers),
        false,
        keep_down,
        1_000_000,
        &mut st,
    );
    (String::from_utf8_lossy(&v).into_owned(), st, keep)
}

#[test]
fn parses_options_like_haproxy() {
    let c = conf(
        "SRV insert indirect nocache domain a.com domain b.com attr SameSite=Lax attr x httponly secure maxidle 30m maxlife 1h",
    );
    assert_eq!(c.mode, Mode::Insert);
    assert_eq!(c.domain.as_deref(), Some("a.com; domain=b.com"));
    assert_eq!(c.attrs.as_deref(), Some("SameSite=Lax; x"));
    assert_eq!((c.maxidle, c.maxlife), (1800, 3600));
    assert!(Conf::parse(&["S".into(), "dynamic".into()]).is_err());
}

#[test]
fn insert_indirect_removes_our_cookie_anywhere() {
    let c = conf("SRV insert indirect");
    let s = [("a", true), ("b", true)];
    let (h, st, keep) = req(&c, "x=1; SRV=b; y=2", &s, false);
    assert_eq!(
        (h.as_str(), st.server, st.seen, keep),
        ("x=1; y=2", Some(1), Seen::Valid, true)
    );
    let (h, _, _) = req(&c, "SRV=a; y=2", &s, false);
    assert_eq!(h, "y=2");
    let (h, _, _) = req(&c, "x=1; SRV=a", &s, false);
    assert_eq!(h, "x=1");
    let (_, st, keep) = req(&c, "SRV=a", &s, false);
    assert!(!keep);
    assert_eq!(st.server, Some(0));
}

#[test]
fn down_server_is_not_designated_unless_persist() {
    let c = conf("SRV insert");
    let s = [("a", false), ("b", true)];
    let (h, st, _) = req(&c, "SRV=a", &s, false);
    assert_eq!(
        (h.as_str(), st.server, st.seen),
        ("SRV=a", None, Seen::Down)
    );
    let (_, st, _) = req(&c, "SRV=a", &s, true);
    assert_eq!((st.server, st.seen), (Some(0), Seen::Down));
    let (_, st, _) = req(&c, "SRV=zz", &s, false);
    assert_eq!((st.server, st.seen), (None, Seen::Invalid));
}

#[test]
fn prefix_mode_strips_the_server_part() {
    let c = conf("JSESSIONID prefix");
    let s = [("s1", true)];
    let (h, st, _) = req(&c, "a=b; JSESSIONID=s1~abc; c=d", &s, false);
    assert_eq!(
        (h.as_str(), st.server),
        ("a=b; JSESSIONID=abc; c=d", Some(0))
    );
    let mut v = b"JSESSIONID=abc; Path=/".to_vec();
    assert_eq!(c.on_set_cookie(&mut v, Some("s1"), false), Some(true));
    assert_eq!(v, b"JSESSIONID=s1~abc; Path=/");
}

#[test]
fn rewrite_and_insert_on_the_response() {
    let rw = conf("SRV rewrite");
    let mut v = b"SRV=whatever; path=/x".to_vec();
    assert_eq!(rw.on_set_cookie(&mut v, Some("s2"), false), Some(true));
    assert_eq!(v, b"SRV=s2; path=/x");
    let ins = conf("SRV insert");
    let mut v = b"SRV=app".to_vec();
    assert_eq!(ins.on_set_cookie(&mut v, Some("s2"), false), None);
    let mut v = b"OTHER=1".to_vec();
    assert_eq!(ins.on_set_cookie(&mut v, Some("s2"), false), Some(false));
}

#[test]
fn inserted_cookie_text() {
    let c = conf("SRV insert domain a.com httponly secure attr SameSite=Lax");
    let st = ReqState::default();
    assert_eq!(
        c.set_cookie(Some("s1"), &st, 0),
        "SRV=s1; path=/; domain=a.com; HttpOnly; Secure; SameSite=Lax"
    );
    assert_eq!(
        conf("SRV insert").set_cookie(None, &st, 0),
        "SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"
    );
    assert!(c.must_insert(&st, false, false, false, 0));
    assert!(!c.must_insert(&st, true, false, false, 0));
    assert!(!conf("S insert postonly").must_insert(&st, false, false, false, 0));
}

#[test]
fn date_encoding_round_trips() {
    for v in [1u32, 63, 64, 0x3fff_ffff, 1_700_000_000 >> 2] {
        assert_eq!(b64_to_s30(&s30_to_b64(v)), Some(v));
    }
    assert_eq!(&s30_to_b64(0), b"AAAAA");
    assert_eq!(b64_to_s30(b"AA!AA"), None);
}

#[test]
fn cacheability_follows_haproxy() {
    let none: [(&str, &[u8]); 0] = [];
    let etag: [(&str, &[u8]); 1] = [("etag", b"\"x\"")];
    let private: [(&str, &[u8]); 2] = [("etag", b"\"x\""), ("cache-control", b"private")];
    assert!(!cacheable("GET", none.into_iter(), 200, none.into_iter()));
    assert!(cacheable("GET", none.into_iter(), 200, etag.into_iter()));
    assert!(!cacheable("POST", none.into_iter(), 200, etag.into_iter()));
    assert!(!cacheable("GET", none.into_iter(), 302, etag.into_iter()));
    assert!(!cacheable(
        "GET",
        none.into_iter(),
        200,
        private.into_iter()
    ));
}

#[test]
fn blanks_around_equal_are_removed_like_haproxy() {
    let c = conf("SRV prefix");
    let (h, st, _) = req(&c, "x=1 ; SRV = a~zz ; y = 2", &[("a", true)], false);
    assert_eq!((h.as_str(), st.server), ("x=1 ; SRV=zz ; y=2", Some(0)));
    let p = conf("SRV");
    let (h, _, _) = req(&p, "x=1 ; SRV = a ; y=2", &[("a", true)], false);
    assert_eq!(h, "x=1 ; SRV=a ; y=2");
}
