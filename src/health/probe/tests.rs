use super::*;
use crate::health::fsm::Intervals;
use crate::health::http::{from_option, parse_expect};
use std::sync::Arc;
use tokio::net::TcpListener;

fn spec(kind: CheckKind, inter_ms: u64) -> CheckSpec {
    CheckSpec {
        source: None,
        server: 0,
        server_name: "s".into(),
        addr: None,
        port: None,
        rise: 2,
        fall: 3,
        intervals: Intervals {
            inter: Duration::from_millis(inter_ms),
            fastinter: None,
            downinter: None,
        },
        timeout_connect: None,
        timeout_check: None,
        kind,
        enabled: true,
        send_proxy: false,
        agent: None,
        log_health_checks: false,
        spread_pct: 0,
        max_spread: None,
        observe: None,
        tls: Arc::new(crate::health::ssl::CheckTls::default()),
    }
}

/// A one-shot server answering `resp` to every connection (or nothing
/// when `resp` is empty).
async fn server(resp: &'static [u8]) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut b = [0u8; 1024];
                let _ = c.read(&mut b).await;
                if !resp.is_empty() {
                    let _ = c.write_all(resp).await;
                } else {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            });
        }
    });
    a
}

fn dead() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[tokio::test]
async fn l4_results() {
    let a = server(b"x").await;
    let r = run(&spec(CheckKind::Tcp, 500), a).await;
    assert_eq!(r.status, CheckStatus::L4Ok);
    assert!(r.duration.is_some());
    let r = run(&spec(CheckKind::Tcp, 500), dead()).await;
    assert_eq!(
        (r.status, r.info.as_str()),
        (CheckStatus::L4Con, "Connection refused")
    );
}

#[tokio::test]
async fn l7_results() {
    let http = |e: Option<&str>| {
        let mut c = from_option(&[]);
        if let Some(e) = e {
            let w: Vec<String> = e.split_whitespace().map(str::to_string).collect();
            c.expects.push(parse_expect(&w).unwrap());
        }
        CheckKind::Http(Arc::new(c))
    };
    let ok = server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").await;
    let e500 = server(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n").await;
    let garbage = server(b"garbage\r\n\r\n").await;
    let hang = server(b"").await;
    let r = run(&spec(http(None), 500), ok).await;
    assert_eq!((r.status, r.code), (CheckStatus::L7Ok, Some(200)));
    let r = run(&spec(http(None), 500), e500).await;
    assert_eq!(
        (r.status, r.code, r.info.as_str()),
        (CheckStatus::L7Sts, Some(500), "Internal Server Error")
    );
    let r = run(&spec(http(Some("status 500")), 500), e500).await;
    assert_eq!(r.status, CheckStatus::L7Ok);
    let r = run(&spec(http(Some("string hello")), 500), ok).await;
    assert_eq!(r.status, CheckStatus::L7Ok);
    let r = run(&spec(http(None), 500), garbage).await;
    assert_eq!(r.status, CheckStatus::L7Rsp);
    let r = run(&spec(http(None), 200), hang).await;
    assert_eq!(r.status, CheckStatus::L7Tout);
    // Without `timeout check` the whole check is bounded by inter.
    let d = r.duration.unwrap();
    assert!(
        d >= Duration::from_millis(190) && d < Duration::from_millis(600),
        "{d:?}"
    );
    // With it, the response gets `timeout check`.
    let mut s = spec(http(None), 2000);
    s.timeout_check = Some(Duration::from_millis(100));
    let r = run(&s, hang).await;
    assert_eq!(r.status, CheckStatus::L7Tout);
    assert!(r.duration.unwrap() < Duration::from_millis(600));
}
