use super::hash::{HashType, crc32, djb2, sdbm, wt6};
use super::*;
use std::net::{Ipv4Addr, SocketAddr};

fn srv(name: &str, weight: u32, backup: bool) -> Arc<ServerState> {
    let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
    Arc::new(ServerState::new(name, Some(addr), weight, backup))
}

fn algo(kind: Kind) -> Algo {
    Algo {
        kind,
        hash: HashType::default(),
        ids: Vec::new(),
    }
}

fn names(b: &Balancer, n: usize) -> Vec<String> {
    let src = IpAddr::V4(Ipv4Addr::LOCALHOST);
    (0..n)
        .map(|_| {
            b.pick(src, None)
                .map(|s| s.name.clone())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn equal_weights_rotate_in_declaration_order() {
    let s = vec![srv("a", 1, false), srv("b", 1, false), srv("c", 1, false)];
    let b = Balancer::new(algo(Kind::RoundRobin), &s, false);
    assert_eq!(names(&b, 6), ["a", "b", "c", "a", "b", "c"]);
}

#[test]
fn weighted_schedule_is_smooth() {
    assert_eq!(smooth_schedule(&[5, 1, 1]), [0, 0, 1, 0, 2, 0, 0]);
    assert_eq!(smooth_schedule(&[2, 1]), [0, 1, 0]);
}

#[test]
fn down_servers_are_skipped_and_backups_wait() {
    let s = vec![
        srv("a", 1, false),
        srv("b", 1, false),
        srv("bk1", 1, true),
        srv("bk2", 1, true),
    ];
    let b = Balancer::new(algo(Kind::RoundRobin), &s, false);
    s[0].set_up(false);
    assert_eq!(names(&b, 2), ["b", "b"]);
    s[1].set_up(false);
    assert_eq!(names(&b, 2), ["bk1", "bk1"]);
    let all = Balancer::new(algo(Kind::RoundRobin), &s, true);
    assert_eq!(names(&all, 2), ["bk1", "bk2"]);
    s[2].set_up(false);
    s[3].set_up(false);
    assert_eq!(names(&b, 1), [""]);
}

#[test]
fn leastconn_prefers_idle_servers() {
    let s = vec![srv("a", 1, false), srv("b", 1, false)];
    let b = Balancer::new(algo(Kind::LeastConn), &s, false);
    let _g = s[0].take();
    assert_eq!(names(&b, 3), ["b", "b", "b"]);
}

#[test]
fn first_fills_servers_in_order() {
    let mut a = ServerState::new("a", "127.0.0.1:1".parse().ok(), 1, false);
    a.maxconn = Some(1);
    let s = vec![Arc::new(a), srv("b", 1, false)];
    let b = Balancer::new(algo(Kind::First), &s, false);
    assert_eq!(names(&b, 1), ["a"]);
    let _g = s[0].take();
    assert_eq!(names(&b, 1), ["b"]);
}

#[test]
fn source_hashes_the_raw_address_without_avalanche() {
    let s = vec![srv("a", 1, false), srv("b", 1, false), srv("c", 1, false)];
    let b = Balancer::new(algo(Kind::Source), &s, false);
    let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
    let want = (u32::from(Ipv4Addr::new(10, 0, 0, 7)) % 3) as usize;
    for _ in 0..4 {
        assert_eq!(
            b.pick(ip, None).map(|s| s.name.clone()),
            Some(s[want].name.clone())
        );
    }
}

#[test]
fn redispatch_avoids_the_failed_server() {
    let s = vec![srv("a", 1, false), srv("b", 1, false)];
    let b = Balancer::new(algo(Kind::First), &s, false);
    let src = IpAddr::V4(Ipv4Addr::LOCALHOST);
    assert_eq!(
        b.pick(src, Some(&s[0])).map(|s| s.name.clone()),
        Some("b".into())
    );
}

/// Values printed by HAProxy 2.6.12's `sdbm`, `djb2`, `wt6`, `crc32`
/// converters on `path`, without and with the avalanche argument (1).
#[test]
fn hash_functions_match_haproxy_converters() {
    let cases: [(&str, [u32; 8]); 4] = [
        (
            "/",
            [
                47, 177620, 1886637733, 2043925204, 2118074832, 3725504903, 2250254464, 2724628003,
            ],
        ),
        (
            "/abc",
            [
                3135654771, 2088271610, 4175322074, 326170788, 2611440265, 1563166642, 2702208831,
                2375596333,
            ],
        ),
        (
            "/hello/world",
            [
                3461884038, 3258338207, 3022396808, 2263584858, 3247079497, 1125971948, 1385928714,
                1699623523,
            ],
        ),
        (
            "/0123456789abcdefXYZ",
            [
                2407387746, 114912193, 84409964, 1611609744, 1749565366, 3553135803, 2916199170,
                390766220,
            ],
        ),
    ];
    for (k, v) in cases {
        let k = k.as_bytes();
        let raw = [sdbm(k), djb2(k), wt6(k), crc32(k)];
        assert_eq!(raw, v[..4], "{k:?}");
        // HAProxy's djb2/crc32 converters do not apply the plain
        // full_hash with their argument; sdbm and wt6 do.
        assert_eq!(
            [full_hash(raw[0]), full_hash(raw[2])],
            [v[4], v[6]],
            "{k:?}"
        );
    }
}

#[test]
fn map_table_follows_haproxy_order() {
    // Weights are divided by their GCD; ties go to the first declared.
    assert_eq!(map::effective_weights(&[20, 10, 0]), [2, 1, 0]);
    let t = map::build(&[3, 1], &[true, true]);
    assert_eq!(t, [0, 0, 0, 1]);
    assert_eq!(map::build(&[1, 1, 1], &[true, false, true]), [0, 2]);
}

#[test]
fn uri_key_options() {
    use key::{UriOpts, uri_key};
    let u = b"/a/b/c?x=1";
    assert_eq!(uri_key(u, &UriOpts::default()), b"/a/b/c");
    let whole = UriOpts {
        whole: true,
        ..Default::default()
    };
    assert_eq!(uri_key(u, &whole), u);
    let depth = UriOpts {
        depth: 2,
        ..Default::default()
    };
    assert_eq!(uri_key(u, &depth), b"/a/b");
    let len = UriOpts {
        len: 3,
        ..Default::default()
    };
    assert_eq!(uri_key(u, &len), b"/a/");
    let po = UriOpts {
        path_only: true,
        ..Default::default()
    };
    assert_eq!(uri_key(b"http://h:1/p?q", &po), b"/p");
    assert_eq!(
        uri_key(b"http://h:1/p?q", &UriOpts::default()),
        b"http://h:1/p"
    );
}

#[test]
fn url_param_and_domain() {
    assert_eq!(key::url_param(b"/x?a=1&id=42&b", b"id"), Some(&b"42"[..]));
    assert_eq!(key::url_param(b"/x?aid=1", b"id"), None);
    assert_eq!(key::url_param(b"/x?id=", b"id"), Some(&b""[..]));
    assert_eq!(key::domain_only(b"www.example.com"), b"example");
    assert_eq!(key::domain_only(b"example.com"), b"example");
    assert_eq!(key::domain_only(b"localhost"), b"localhost");
}

#[test]
fn balance_parsing_and_refusals() {
    let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    assert!(
        matches!(algo::parse_balance(&w("uri whole depth 3")), Ok(Kind::Uri(o)) if o.whole && o.depth == 3)
    );
    assert_eq!(algo::parse_balance(&w("random(3)")), Ok(Kind::Random(3)));
    assert_eq!(
        algo::parse_balance(&w("hash req.hdr(x-id)")),
        Ok(Kind::Hash(Expr::ReqHdr("x-id".into())))
    );
    assert_eq!(
        unsupported_balance(&w("rdp-cookie")).as_deref(),
        Some("balance rdp-cookie")
    );
    assert_eq!(unsupported_balance(&w("url_param id check_post")), None);
    assert_eq!(
        algo::parse_balance(&w("url_param id check_post 64")),
        Ok(Kind::UrlParam("id".into()))
    );
    assert_eq!(
        unsupported_balance(&w("hash path,lower")).as_deref(),
        Some("balance hash path,lower")
    );
    assert_eq!(
        algo::assign_ids(&[None, Some(1), None, Some(3)]),
        [2, 1, 4, 3]
    );
    let ht = HashType::parse(&w("consistent")).unwrap();
    assert!(ht.avalanche);
    assert!(!HashType::parse(&w("consistent sdbm")).unwrap().avalanche);
}

#[test]
fn consistent_ring_skips_down_servers_only_for_their_keys() {
    let ring = chash::Ring::new(&[(0, 1, 16), (1, 2, 16), (2, 3, 16)]);
    let all = |_: usize| true;
    let no1 = |i: usize| i != 1;
    for h in (0..u32::MAX).step_by(7_654_321) {
        let a = ring.lookup(h, &all, &|_| false);
        let b = ring.lookup(h, &no1, &|_| false);
        if a != Some(1) {
            assert_eq!(a, b);
        } else {
            assert_ne!(b, Some(1));
        }
    }
}

#[test]
fn random_spreads_over_usable_servers_only() {
    let s = vec![srv("a", 1, false), srv("b", 2, false), srv("c", 1, false)];
    let b = Balancer::new(algo(Kind::Random(2)), &s, false);
    s[2].set_up(false);
    let got = names(&b, 200);
    assert!(got.iter().all(|n| n == "a" || n == "b"), "{got:?}");
    assert!(got.iter().any(|n| n == "a") && got.iter().any(|n| n == "b"));
}

#[tokio::test]
async fn request_hash_drives_the_pick_and_missing_keys_rotate() {
    let s = vec![srv("a", 1, false), srv("b", 1, false), srv("c", 1, false)];
    let b = Balancer::new(algo(Kind::UrlParam("id".into())), &s, false);
    let src = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let h = b.request_hash(b"/x?id=42", std::iter::empty(), src);
    assert_eq!(h, Some(sdbm(b"42")));
    let want = s[(sdbm(b"42") % 3) as usize].name.clone();
    for _ in 0..3 {
        let got = with_request_hash(h, async { b.pick(src, None) }).await;
        assert_eq!(got.map(|s| s.name.clone()), Some(want.clone()));
    }
    assert_eq!(b.request_hash(b"/x?other=1", std::iter::empty(), src), None);
    let rr = with_request_hash(None, async { names(&b, 3) }).await;
    assert_eq!(rr, ["a", "b", "c"]);
}

/// `roundrobin` over weights 1, 2, 3, then `set weight s1 10`: the server
/// sequence the real HAProxy 2.6.12 gives for the same operations.
#[test]
fn roundrobin_follows_haproxy_fwrr_across_a_weight_change() {
    let s = vec![srv("1", 1, false), srv("2", 2, false), srv("3", 3, false)];
    let b = Balancer::new(algo(Kind::RoundRobin), &s, false);
    let before = "3 2 3 1 3 2 3 2 3 1 3 2 3 2 3 1 3 2 3 2 3 1 3 2";
    assert_eq!(names(&b, 24).join(" "), before);
    s[0].set_cur_weight(10);
    let after = "3 1 2 1 1 1 3 1 1 2 1 3 1 1 1 3 1 2 1 1 1 3 1 1 2 1 3 1 1 1 3 1 2 1 1 1 3 1 1 2";
    assert_eq!(names(&b, 40).join(" "), after);
}

/// `hash-balance-factor 150`: with one connection held on the hashed
/// server, its share (HAProxy's slots: `ceil((served + 1) * 150 / 100)`
/// spread by effective weight) is used up and the key moves on the ring.
#[test]
fn hash_balance_factor_moves_keys_off_a_loaded_server() {
    let s = vec![srv("a", 1, false), srv("b", 1, false), srv("c", 1, false)];
    let mut a = algo(Kind::Source);
    a.hash = HashType::parse(&["consistent".to_string()]).unwrap();
    let plain = Balancer::new(a.clone(), &s, false);
    let bounded = Balancer::new(a, &s, false).with_balance_factor(150);
    let src = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
    let first = bounded.pick(src, None).unwrap();
    assert!(Arc::ptr_eq(&first, &plain.pick(src, None).unwrap()));
    let _held = first.take();
    let again = bounded.pick(src, None).unwrap();
    assert!(!Arc::ptr_eq(&first, &again), "stayed on {}", first.name);
    assert!(Arc::ptr_eq(&first, &plain.pick(src, None).unwrap()));
}

/// Consistent hashing follows effective weights: raising one server's
/// weight only moves keys onto it (its new nodes), never between others.
#[test]
fn consistent_weight_change_only_moves_keys_to_the_heavier_server() {
    let s = vec![srv("a", 1, false), srv("b", 1, false), srv("c", 1, false)];
    let mut a = algo(Kind::Source);
    a.hash = HashType::parse(&["consistent".to_string()]).unwrap();
    let b = Balancer::new(a, &s, false);
    let pick = |i: u32| {
        b.pick(
            IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761))),
            None,
        )
    };
    let before: Vec<String> = (0..500).map(|i| pick(i).unwrap().name.clone()).collect();
    s[0].set_cur_weight(4);
    let after: Vec<String> = (0..500).map(|i| pick(i).unwrap().name.clone()).collect();
    let moved = before.iter().zip(&after).filter(|(x, y)| x != y).count();
    assert!(moved > 50, "only {moved} keys moved");
    for (x, y) in before.iter().zip(&after) {
        assert!(x == y || y == "a", "{x} -> {y}");
    }
}

#[test]
fn added_server_waits_for_enable_then_takes_its_share() {
    let s = vec![srv("a", 1, false), srv("b", 1, false)];
    let b = Balancer::new(algo(Kind::RoundRobin), &s, false);
    let d = srv("d", 2, false);
    d.set_admin_state(crate::upstream::server::AdminState::Maint);
    d.set_fresh();
    b.add_server(d.clone(), 3);
    assert!(!names(&b, 8).contains(&"d".to_string()));
    d.set_admin_state(crate::upstream::server::AdminState::Ready);
    let got = names(&b, 40);
    assert_eq!(got.iter().filter(|n| *n == "d").count(), 20, "{got:?}");
    assert_eq!(b.group_servers(false).len(), 3);
}

#[test]
fn server_added_enabled_waits_for_its_first_change() {
    let s = vec![srv("a", 1, false)];
    let b = Balancer::new(algo(Kind::RoundRobin), &s, false);
    let d = srv("d", 1, false);
    d.set_fresh();
    b.add_server(d.clone(), 2);
    assert_eq!(names(&b, 4), ["a"; 4]);
    // HAProxy 2.6: the weight it was created with is committed as 1, so
    // setting 1 changes nothing and it still takes no traffic.
    d.set_cur_weight(1);
    assert_eq!(names(&b, 4), ["a"; 4]);
    d.set_cur_weight(2);
    assert!(names(&b, 4).contains(&"d".to_string()));
}

#[test]
fn removed_server_is_never_picked_again() {
    let s = vec![srv("a", 1, false), srv("b", 1, false), srv("c", 1, false)];
    for kind in [Kind::RoundRobin, Kind::LeastConn, Kind::First] {
        let b = Balancer::new(algo(kind.clone()), &s, false);
        let _ = names(&b, 5);
        s[0].set_admin_state(crate::upstream::server::AdminState::Maint);
        b.remove_server(&s[0]);
        s[0].set_admin_state(crate::upstream::server::AdminState::Ready);
        let got = names(&b, 12);
        assert!(
            got.iter().all(|n| n == "b" || n == "c"),
            "{kind:?}: {got:?}"
        );
        assert_eq!(b.group_servers(false).len(), 2);
    }
}

#[test]
fn backup_added_at_runtime_serves_when_actives_are_down() {
    let s = vec![srv("a", 1, false)];
    let b = Balancer::new(algo(Kind::RoundRobin), &s, false);
    let k = srv("k", 1, true);
    b.add_server(k.clone(), 2);
    k.set_admin_state(crate::upstream::server::AdminState::Ready);
    assert_eq!(names(&b, 2), ["a", "a"]);
    s[0].set_up(false);
    assert_eq!(names(&b, 2), ["k", "k"]);
}
