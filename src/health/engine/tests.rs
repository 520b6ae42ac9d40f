use super::*;
use crate::health::protocols;
use crate::health::tcpcheck::parse_lines;
use tokio::net::TcpListener;

fn ctx(target: SocketAddr, inter_ms: u64) -> Ctx {
    Ctx {
        target,
        inter: Duration::from_millis(inter_ms),
        timeout_connect: None,
        timeout_check: None,
        send_proxy: false,
        tls: None,
        source: None,
    }
}

/// A server that writes `banner` on connect, then `reply` after the first
/// read, then closes (or holds the connection when `hold`).
async fn server(banner: &'static [u8], reply: &'static [u8], hold: bool) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            tokio::spawn(async move {
                if !banner.is_empty() {
                    let _ = c.write_all(banner).await;
                }
                if !reply.is_empty() {
                    let mut b = [0u8; 4096];
                    let _ = c.read(&mut b).await;
                    let _ = c.write_all(reply).await;
                }
                if hold {
                    tokio::time::sleep(Duration::from_secs(3)).await;
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

fn rules(lines: &[&str]) -> Ruleset {
    let w: Vec<Vec<String>> = lines
        .iter()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    let refs: Vec<&[String]> = w.iter().map(Vec::as_slice).collect();
    parse_lines(&refs).unwrap()
}

async fn done(rs: &Ruleset, c: &Ctx) -> CheckResult {
    match run(rs, c).await {
        Finish::Done(r) => r,
        Finish::AgentLine(l) => panic!("agent line {l:?}"),
    }
}

#[tokio::test]
async fn texts_match_haproxy() {
    // Every expected text below was read from `show stat` of haproxy
    // 2.6.12 for the same rules and server behaviour.
    let r = done(&rules(&["connect"]), &ctx(dead(), 500)).await;
    assert_eq!(
        (r.status, r.info.as_str()),
        (
            CheckStatus::L4Con,
            "Connection refused at step 1 of tcp-check (connect)"
        )
    );
    let r = done(
        &rules(&["send PING", "expect string PONG"]),
        &ctx(dead(), 500),
    )
    .await;
    assert_eq!(
        r.info,
        "Connection refused at initial connection step of tcp-check"
    );
    let nope = server(b"", b"NOPE\r\n", false).await;
    let r = done(
        &rules(&["send PING", "expect string PONG"]),
        &ctx(nope, 500),
    )
    .await;
    assert_eq!(
        (r.status, r.info.as_str(), r.shown_code()),
        (
            CheckStatus::L7Rsp,
            "TCPCHK did not match content 'PONG' at step 2",
            None
        )
    );
    let r = done(
        &rules(&["send PING", "expect string PONG comment pongcheck"]),
        &ctx(nope, 500),
    )
    .await;
    assert_eq!(
        r.info,
        "TCPCHK did not match content 'PONG' at step 2 comment: pongcheck"
    );
    let ok = server(b"+OK hi\r\n", b"", true).await;
    let r = done(&rules(&["expect string +OK"]), &ctx(ok, 500)).await;
    assert_eq!(
        (r.status, r.info.as_str(), r.shown_code()),
        (CheckStatus::L7Ok, "(tcp-check)", Some(0))
    );
    let r = done(&rules(&["connect"]), &ctx(ok, 500)).await;
    assert_eq!(
        (r.status, r.info.as_str()),
        (CheckStatus::L4Ok, "(tcp-check)")
    );
    let r = done(&rules(&["expect ! string +OK"]), &ctx(ok, 500)).await;
    assert_eq!(r.info, "TCPCHK matched unwanted content '+OK' at step 1");
    let r = done(&rules(&["expect string PONG"]), &ctx(ok, 200)).await;
    assert_eq!(
        (r.status, r.info.as_str()),
        (
            CheckStatus::L7Tout,
            " at step 1 of tcp-check (expect string 'PONG')"
        )
    );
    let r = done(&rules(&["expect rbinary ^2D"]), &ctx(ok, 200)).await;
    assert_eq!(r.info, " at step 1 of tcp-check (expect binary regex)");
    let closed = server(b"", b"", false).await;
    let r = done(&rules(&["expect string x"]), &ctx(closed, 500)).await;
    assert_eq!(
        (r.status, r.info.as_str()),
        (CheckStatus::L7Rsp, "TCPCHK got an empty response at step 1")
    );
}

#[tokio::test]
async fn protocol_checks() {
    let c = |a| ctx(a, 500);
    let r = done(
        &protocols::redis(),
        &c(server(b"", b"-ERR foo bar\r\n", false).await),
    )
    .await;
    assert_eq!(
        (r.status, r.info.as_str(), r.shown_code()),
        (CheckStatus::L7Sts, "-ERR foo bar", Some(0))
    );
    let r = done(
        &protocols::redis(),
        &c(server(b"", b"+PONG\r\n", false).await),
    )
    .await;
    assert_eq!(
        (r.status, r.info.as_str()),
        (CheckStatus::L7Ok, "Redis server is ok")
    );
    let pg = protocols::pgsql(&["user".into(), "bob".into()]).unwrap();
    let r = done(&pg, &c(server(b"", b"R\0\0\0\x08\0\0\0\0", false).await)).await;
    assert_eq!(
        (r.status, r.info.as_str()),
        (CheckStatus::L7Ok, "PostgreSQL server is ok")
    );
    let r = done(&pg, &c(server(b"", b"EFATAL bad user\0", false).await)).await;
    assert_eq!(
        (r.status, r.info.as_str()),
        (CheckStatus::L7Rsp, " bad user")
    );
    let ssl = protocols::ssl_hello();
    let r = done(&ssl, &c(server(b"", b"\x16\x03\x03\x00\x0a", false).await)).await;
    assert_eq!((r.status, r.info.as_str()), (CheckStatus::L6Ok, ""));
    let r = done(&ssl, &c(server(b"", b"HTTP/1.0 200 OK", false).await)).await;
    assert_eq!((r.status, r.info.as_str()), (CheckStatus::L6Rsp, ""));
    let my = protocols::mysql(&[]).unwrap();
    let r = done(
        &my,
        &c(server(b"\x0d\x00\x00\x00\xff\x15\x04#28000nope", b"", true).await),
    )
    .await;
    assert_eq!(
        (r.status, r.info.as_str(), r.shown_code()),
        (CheckStatus::L7Sts, "#28000nope", Some(1045))
    );
    let smtp = protocols::smtp(&[]);
    let r = done(&smtp, &c(server(b"554 go away\r\n", b"", true).await)).await;
    assert_eq!(
        (r.status, r.info.as_str(), r.shown_code()),
        (CheckStatus::L7Sts, "go away", Some(554))
    );
    let r = done(
        &smtp,
        &c(server(b"220 hi\r\n", b"250 hello there\r\n", true).await),
    )
    .await;
    assert_eq!(
        (r.status, r.info.as_str(), r.shown_code()),
        (CheckStatus::L7Ok, "hello there", Some(250))
    );
}

#[tokio::test]
async fn agent_lines_and_bounds() {
    let a = protocols::agent(None);
    let got = run(&a, &ctx(server(b"up 50%\r\n", b"", true).await, 500)).await;
    assert_eq!(got, Finish::AgentLine(Some("up 50%".into())));
    // No end of line before the agent closes: incomplete.
    let got = run(&a, &ctx(server(b"up", b"", false).await, 500)).await;
    assert_eq!(got, Finish::AgentLine(None));
    // A huge response is bounded by the buffer: no match and no growth.
    static HUGE: [u8; 100_000] = [b'a'; 100_000];
    let r = done(
        &rules(&["expect string zz"]),
        &ctx(server(&HUGE, b"", true).await, 500),
    )
    .await;
    assert_eq!(r.status, CheckStatus::L7Rsp);
    let r = done(
        &rules(&["expect rstring ^b"]),
        &ctx(server(&HUGE, b"", true).await, 500),
    )
    .await;
    assert_eq!(r.status, CheckStatus::L7Rsp);
}
