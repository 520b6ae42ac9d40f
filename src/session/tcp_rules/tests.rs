use super::*;

fn w(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn rules(lines: &[&str]) -> TcpRules {
    compile(
        &lines.iter().map(|l| w(l)).collect::<Vec<_>>(),
        &AclSet::default(),
    )
    .unwrap()
}

#[test]
fn compiles_and_refuses_by_name() {
    let r = rules(&[
        "tcp-request inspect-delay 2s",
        "tcp-request content accept if { req.len gt 3 }",
        "tcp-request content reject",
        "tcp-request connection reject if { src 10.0.0.0/8 }",
        "tcp-response content close",
    ]);
    assert_eq!(r.inspect_delay, Some(Duration::from_secs(2)));
    assert_eq!(r.content.len(), 2);
    assert_eq!(r.connection.len(), 1);
    assert_eq!(r.response.len(), 1);
    let e = compile(
        &[w("tcp-request content track-sc0 src")],
        &AclSet::default(),
    )
    .unwrap_err();
    assert!(e.contains("track-sc0"), "{e}");
    let e = compile(
        &[w("tcp-request connection expect-proxy layer4")],
        &AclSet::default(),
    )
    .unwrap_err();
    assert!(e.contains("expect-proxy"), "{e}");
}

#[test]
fn waits_while_partial_then_decides() {
    let r = rules(&[
        "tcp-request content accept if { req.len gt 3 }",
        "tcp-request content reject",
    ]);
    let c = Ctx::default();
    assert_eq!(eval_over(&r.content, b"ab", c, false, true), Decision::Wait);
    assert_eq!(
        eval_over(&r.content, b"abcd", c, false, true),
        Decision::Accept
    );
    assert_eq!(
        eval_over(&r.content, b"ab", c, false, false),
        Decision::Reject
    );
}

#[tokio::test]
async fn inspect_reads_until_rules_decide() {
    let r = rules(&[
        "tcp-request content accept if { req.payload(0,4) -m str PING }",
        "tcp-request content reject",
    ]);
    let (mut a, mut b) = tokio::io::duplex(64);
    let t = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        a.write_all(b"PI").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        a.write_all(b"NG").await.unwrap();
        a
    });
    let mut buf = Vec::new();
    let d = inspect(
        &mut b,
        &mut buf,
        &r.content,
        Some(Duration::from_secs(5)),
        Ctx::default(),
        false,
    )
    .await;
    assert_eq!(d, Decision::Accept);
    assert_eq!(buf, b"PING");
    let _ = t.await;
}

#[tokio::test]
async fn inspect_gives_up_at_the_delay() {
    let r = rules(&[
        "tcp-request content accept if { req.payload(0,4) -m str PING }",
        "tcp-request content reject",
    ]);
    let (_a, mut b) = tokio::io::duplex(64);
    let mut buf = Vec::new();
    let t0 = std::time::Instant::now();
    let d = inspect(
        &mut b,
        &mut buf,
        &r.content,
        Some(Duration::from_millis(100)),
        Ctx::default(),
        false,
    )
    .await;
    assert_eq!(d, Decision::Reject);
    assert!(t0.elapsed() >= Duration::from_millis(90));
}
