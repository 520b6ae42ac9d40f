use super::*;
use std::net::{Ipv4Addr, SocketAddr};

fn srv(name: &str, weight: u32, backup: bool) -> Arc<ServerState> {
    let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
    Arc::new(ServerState::new(name, Some(addr), weight, backup))
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
    let b = Balancer::new(Algo::RoundRobin, &s, false);
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
    let b = Balancer::new(Algo::RoundRobin, &s, false);
    s[0].set_up(false);
    assert_eq!(names(&b, 2), ["b", "b"]);
    s[1].set_up(false);
    assert_eq!(names(&b, 2), ["bk1", "bk1"]);
    let all = Balancer::new(Algo::RoundRobin, &s, true);
    assert_eq!(names(&all, 2), ["bk1", "bk2"]);
    s[2].set_up(false);
    s[3].set_up(false);
    assert_eq!(names(&b, 1), [""]);
}

#[test]
fn leastconn_prefers_idle_servers() {
    let s = vec![srv("a", 1, false), srv("b", 1, false)];
    let b = Balancer::new(Algo::LeastConn, &s, false);
    let _g = s[0].take();
    assert_eq!(names(&b, 3), ["b", "b", "b"]);
}

#[test]
fn first_fills_servers_in_order() {
    let mut a = ServerState::new("a", "127.0.0.1:1".parse().ok(), 1, false);
    a.maxconn = Some(1);
    let s = vec![Arc::new(a), srv("b", 1, false)];
    let b = Balancer::new(Algo::First, &s, false);
    assert_eq!(names(&b, 1), ["a"]);
    let _g = s[0].take();
    assert_eq!(names(&b, 1), ["b"]);
}

#[test]
fn source_is_stable_and_uses_full_hash() {
    let s = vec![srv("a", 1, false), srv("b", 1, false), srv("c", 1, false)];
    let b = Balancer::new(Algo::Source, &s, false);
    let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
    let want = (full_hash(u32::from(Ipv4Addr::new(10, 0, 0, 7))) % 3) as usize;
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
    let b = Balancer::new(Algo::First, &s, false);
    let src = IpAddr::V4(Ipv4Addr::LOCALHOST);
    assert_eq!(
        b.pick(src, Some(&s[0])).map(|s| s.name.clone()),
        Some("b".into())
    );
}
