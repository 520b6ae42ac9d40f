use super::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// A connected pair: (our client side, the accepted server side).
async fn pair(l: &TcpListener) -> (TcpStream, TcpStream) {
    let addr = l.local_addr().expect("addr");
    let c = TcpStream::connect(addr).await.expect("connect");
    let (s, _) = l.accept().await.expect("accept");
    (c, s)
}

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

fn local_port(s: &TcpStream) -> u16 {
    s.local_addr().map(|a| a.port()).unwrap_or(0)
}

#[tokio::test]
async fn takes_most_recent_first() {
    let l = listener().await;
    let p = Arc::new(Pool::new(8, Duration::from_secs(5)));
    let (a, _sa) = pair(&l).await;
    let (b, _sb) = pair(&l).await;
    let (pa, pb) = (local_port(&a), local_port(&b));
    p.put(a);
    p.put(b);
    assert_eq!(p.len(), 2);
    assert_eq!(p.take().map(|s| local_port(&s)), Some(pb));
    assert_eq!(p.take().map(|s| local_port(&s)), Some(pa));
    assert!(p.take().is_none());
}

#[tokio::test]
async fn bounded_by_max_and_zero_disables() {
    let l = listener().await;
    let p = Arc::new(Pool::new(2, Duration::from_secs(5)));
    let mut keep = Vec::new();
    for _ in 0..4 {
        let (c, s) = pair(&l).await;
        keep.push(s);
        p.put(c);
    }
    assert_eq!(p.len(), 2);

    let off = Arc::new(Pool::new(0, Duration::from_secs(5)));
    let (c, _s) = pair(&l).await;
    assert!(!off.enabled());
    off.put(c);
    assert_eq!(off.len(), 0);
    assert!(off.take().is_none());
}

#[tokio::test]
async fn closed_or_readable_members_are_discarded() {
    let l = listener().await;
    let p = Arc::new(Pool::new(8, Duration::from_secs(5)));
    let (alive_c, _alive_s) = pair(&l).await;
    let (closed_c, closed_s) = pair(&l).await;
    let (chatty_c, mut chatty_s) = pair(&l).await;
    let want = local_port(&alive_c);
    p.put(alive_c);
    p.put(closed_c);
    p.put(chatty_c);
    drop(closed_s);
    chatty_s
        .write_all(b"HTTP/1.1 408 x\r\n\r\n")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The two bad ones are on top; both are skipped and closed.
    assert_eq!(p.take().map(|s| local_port(&s)), Some(want));
    assert!(p.is_empty());
}

#[tokio::test]
async fn stale_members_are_purged() {
    let l = listener().await;
    let p = Arc::new(Pool::new(8, Duration::from_millis(100)));
    let (a, _sa) = pair(&l).await;
    p.put(a);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (b, _sb) = pair(&l).await;
    let pb = local_port(&b);
    p.put(b);
    // (The background sweeper may have closed it already.)
    p.purge();
    assert_eq!(p.len(), 1);
    assert_eq!(p.take().map(|s| local_port(&s)), Some(pb));

    // A stale member is never handed out, even before a purge ran.
    let (c, _sc) = pair(&l).await;
    p.put(c);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(p.take().is_none());
}

#[tokio::test]
async fn background_sweeper_closes_idle_connections() {
    let l = listener().await;
    let p = Arc::new(Pool::new(8, Duration::from_millis(200)));
    let (a, mut sa) = pair(&l).await;
    p.put(a);
    // The server side sees EOF once the sweeper closed our end.
    let mut b = [0u8; 1];
    let r = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::io::AsyncReadExt::read(&mut sa, &mut b),
    )
    .await;
    assert!(matches!(r, Ok(Ok(0))), "{r:?}");
    assert!(p.is_empty());
}

#[test]
fn options() {
    let o = |k: &str, v: &str| (k.to_string(), vec![v.to_string()]);
    let p = Pool::from_options(&[]);
    assert_eq!((p.max, p.purge), (DEFAULT_MAX, DEFAULT_PURGE));
    let p = Pool::from_options(&[o("pool-max-conn", "10"), o("pool-purge-delay", "2s")]);
    assert_eq!((p.max, p.purge), (10, Duration::from_secs(2)));
    let p = Pool::from_options(&[o("pool-max-conn", "-1"), o("pool-purge-delay", "250")]);
    assert_eq!((p.max, p.purge), (usize::MAX, Duration::from_millis(250)));
    assert!(!Pool::from_options(&[o("pool-max-conn", "0")]).enabled());
}
