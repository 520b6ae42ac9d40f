use super::*;
use crate::upstream::lb::{Algo, Balancer, Kind, hash::HashType};
use std::net::Ipv4Addr;

const SRC: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn backend(kind: Kind, maxconn: &[u32], maxqueue: Option<u32>, timeout_ms: u64) -> Backend {
    let be_queue: Arc<Queue> = Arc::default();
    let servers: Vec<Arc<ServerState>> = maxconn
        .iter()
        .enumerate()
        .map(|(i, &m)| {
            let mut s = ServerState::new(&format!("s{i}"), "127.0.0.1:1".parse().ok(), 1, false);
            s.maxconn = Some(m);
            s.maxqueue = maxqueue;
            s.be_queue = Some(be_queue.clone());
            Arc::new(s)
        })
        .collect();
    let algo = Algo {
        kind,
        hash: HashType::default(),
        ids: Vec::new(),
    };
    Backend {
        name: "be".into(),
        balancer: Balancer::new(algo, &servers, false),
        current: arc_swap::ArcSwap::from_pointee(servers.clone()),
        load: crate::upstream::load::Load::new(1, be_queue.clone()),
        admin: std::sync::Mutex::new(()),
        servers,
        retries: 0,
        redispatch: false,
        connect_timeout: None,
        server_timeout: None,
        http_reuse: false,
        reuse_first: false,
        queue: be_queue,
        queue_timeout: Some(Duration::from_millis(timeout_ms)),
        counters: Default::default(),
        policy: Default::default(),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn try_take_respects_maxconn_and_release_frees() {
    let be = backend(Kind::RoundRobin, &[1], None, 100);
    let s = &be.servers[0];
    let g = s.try_take();
    assert!(g.is_some());
    assert!(s.try_take().is_none());
    assert!(!s.usable() && s.eligible());
    drop(g);
    assert_eq!(s.conns(), 0);
    assert!(s.try_take().is_some());
}

#[test]
fn full_backend_times_out_with_queue_timeout() {
    rt().block_on(async {
        let be = backend(Kind::RoundRobin, &[1, 1], None, 50);
        let _a = slot(&be, SRC).await.expect("first");
        let _b = slot(&be, SRC).await.expect("second");
        let t = Instant::now();
        let r = slot(&be, SRC).await;
        assert_eq!(r.err(), Some(ConnectError::QueueTimeout));
        assert!(t.elapsed() >= Duration::from_millis(50));
        assert!(be.queue.is_empty());
    });
}

#[test]
fn freed_slot_goes_to_the_oldest_waiter_of_the_backend_queue() {
    rt().block_on(async {
        let be = Arc::new(backend(Kind::RoundRobin, &[1, 1], None, 2000));
        let a = slot(&be, SRC).await.expect("a");
        let b = slot(&be, SRC).await.expect("b");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for i in 0..2 {
            let (be, tx) = (be.clone(), tx.clone());
            tokio::spawn(async move {
                // The guard travels along: the slot stays held.
                let _ = tx.send((i, slot(&be, SRC).await));
            });
            // Let it queue before the next one.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(be.queue.len(), 2);
        drop(b);
        let name = |r: &(i32, Result<ConnGuard, ConnectError>)| {
            (r.0, r.1.as_ref().map(|g| g.server().name.clone()).ok())
        };
        let first = rx.recv().await.expect("first waiter");
        assert_eq!(name(&first), (0, Some("s1".to_string())));
        drop(a);
        let second = rx.recv().await.expect("second waiter");
        assert_eq!(name(&second), (1, Some("s0".to_string())));
        assert!(be.queue.is_empty());
    });
}

#[test]
fn hashed_requests_queue_on_their_own_server() {
    rt().block_on(async {
        let be = Arc::new(backend(Kind::Source, &[1, 1], None, 2000));
        let g = slot(&be, SRC).await.expect("first");
        let name = g.server().name.clone();
        let be2 = be.clone();
        let h = tokio::spawn(async move { slot(&be2, SRC).await.map(|g| g.server().name.clone()) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Not sent to the other, free server: waiting on the hashed one.
        assert!(!h.is_finished());
        assert!(be.queue.is_empty());
        let own = be.servers.iter().find(|s| s.name == name).expect("server");
        assert_eq!(own.queue.len(), 1);
        drop(g);
        assert_eq!(h.await.expect("join"), Ok(name));
    });
}

#[test]
fn maxqueue_refuses_beyond_the_bound() {
    rt().block_on(async {
        let be = Arc::new(backend(Kind::Source, &[1], Some(1), 2000));
        let g = slot(&be, SRC).await.expect("first");
        let be2 = be.clone();
        let h = tokio::spawn(async move { slot(&be2, SRC).await.is_ok() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(slot(&be, SRC).await.err(), Some(ConnectError::NoServer));
        drop(g);
        assert!(h.await.expect("join"));
    });
}

#[test]
fn abandoned_waiter_leaves_the_queue_and_the_slot_moves_on() {
    rt().block_on(async {
        let be = Arc::new(backend(Kind::RoundRobin, &[1], None, 5000));
        let g = slot(&be, SRC).await.expect("first");
        let be2 = be.clone();
        let gone = tokio::spawn(async move { slot(&be2, SRC).await.is_ok() });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let be3 = be.clone();
        let next = tokio::spawn(async move { slot(&be3, SRC).await.is_ok() });
        tokio::time::sleep(Duration::from_millis(10)).await;
        gone.abort();
        let _ = gone.await;
        assert_eq!(be.queue.len(), 1);
        drop(g);
        assert!(next.await.expect("join"));
        assert_eq!(be.servers[0].conns(), 0);
    });
}

#[test]
fn waiters_on_a_server_that_goes_down_are_redispatched() {
    rt().block_on(async {
        let mut b = backend(Kind::Source, &[1, 1], None, 3000);
        b.policy.redispatch = Some(-1);
        let be = Arc::new(b);
        let g = slot(&be, SRC).await.expect("first");
        let own = g.server().clone();
        let be2 = be.clone();
        let h = tokio::spawn(async move { slot(&be2, SRC).await.map(|g| g.server().name.clone()) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(own.queue.len(), 1);
        // Its server goes down: the waiter goes back to the balancer and
        // gets the other server without waiting for the slot.
        own.set_up(false);
        let got = tokio::time::timeout(Duration::from_secs(1), h)
            .await
            .expect("redispatched in time")
            .expect("join");
        assert_ne!(got.as_deref().ok(), Some(own.name.as_str()));
        assert!(got.is_ok());
        drop(g);
    });
}

#[test]
fn without_redispatch_waiters_stay_on_their_server() {
    rt().block_on(async {
        let be = Arc::new(backend(Kind::Source, &[1, 1], None, 200));
        let g = slot(&be, SRC).await.expect("first");
        g.server().set_up(false);
        let r = slot_on_or_redispatch(&be, g.server().clone(), SRC, false).await;
        assert_eq!(r.err(), Some(ConnectError::QueueTimeout));
    });
}

#[test]
fn a_server_freed_by_a_limit_change_serves_the_backend_queue() {
    rt().block_on(async {
        let be = Arc::new(backend(Kind::RoundRobin, &[1], None, 3000));
        let _g = slot(&be, SRC).await.expect("first");
        let be2 = be.clone();
        let h = tokio::spawn(async move { slot(&be2, SRC).await.is_ok() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(be.queue.len(), 1);
        // A new slot appears without any release (runtime `set maxconn`):
        // the periodic re-check hands it over.
        be.servers[0].set_maxconn(2);
        let ok = tokio::time::timeout(Duration::from_secs(1), h).await;
        assert!(matches!(ok, Ok(Ok(true))));
    });
}
