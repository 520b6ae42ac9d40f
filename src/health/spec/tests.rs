use super::*;
use crate::config::ir::Config;

fn load(text: &str) -> Config {
    let file = crate::config::source::SourceFile {
        name: "t.cfg".into(),
        content: text.as_bytes().to_vec(),
    };
    let res = crate::config::check_files(
        std::slice::from_ref(&file),
        &|_| None,
        crate::config::check::Options::default(),
    );
    assert!(!res.failed, "config failed: {:?}", res.diags);
    res.config
}

const BASE: &str =
    "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n";

#[test]
fn defaults_and_server_parameters() {
    let cfg = load(&format!(
        "{BASE}backend b\n  default-server inter 3s fall 5\n  server s1 127.0.0.1:80 check rise 4 fastinter 100 downinter 1m port 8080 addr 127.0.0.2\n  server s2 127.0.0.1:81 check\n  server s3 127.0.0.1:82\n"
    ));
    let p = plan(&cfg).expect("plan");
    assert_eq!(p.len(), 1);
    let c = &p[0].checks;
    assert_eq!(c.len(), 2);
    assert_eq!((c[0].rise, c[0].fall), (4, 5));
    assert_eq!(c[0].intervals.inter, Duration::from_secs(3));
    assert_eq!(c[0].intervals.fastinter, Some(Duration::from_millis(100)));
    assert_eq!(c[0].intervals.downinter, Some(Duration::from_secs(60)));
    let base: SocketAddr = "127.0.0.1:80".parse().unwrap();
    assert_eq!(
        c[0].target(Some(base)),
        Some("127.0.0.2:8080".parse().unwrap())
    );
    assert_eq!(c[0].timeout_connect, Some(Duration::from_secs(1)));
    assert_eq!(c[0].timeout_check, None);
    assert!(matches!(c[0].kind, CheckKind::Tcp));
    // HAProxy's defaults: inter 2000, rise 2 (fall 5 from default-server).
    assert_eq!((c[1].rise, c[1].fall), (2, 5));
    assert_eq!(c[1].intervals.inter, Duration::from_secs(3));
    assert_eq!(c[1].server, 1);
}

#[test]
fn no_check_disables() {
    let cfg = load(&format!(
        "{BASE}backend b\n  default-server check\n  server s1 127.0.0.1:80 no-check\n  server s2 127.0.0.1:81\n"
    ));
    let p = plan(&cfg).expect("plan");
    assert_eq!(p[0].checks.len(), 1);
    assert_eq!(p[0].checks[0].server_name, "s2");
    assert_eq!(p[0].checks[0].intervals.inter, Duration::from_millis(2000));
    assert_eq!((p[0].checks[0].rise, p[0].checks[0].fall), (2, 3));
}

#[test]
fn httpchk_from_defaults_and_proxy() {
    let cfg = load(&format!(
        "{BASE}  option httpchk GET /d\n  http-check expect status 204\n  timeout check 300\nbackend b\n  server s1 127.0.0.1:80 check\nbackend c\n  http-check send meth HEAD uri /own\n  server s1 127.0.0.1:80 check\n"
    ));
    let p = plan(&cfg).expect("plan");
    let CheckKind::Http(h) = &p[0].checks[0].kind else {
        panic!("expected http")
    };
    assert_eq!(h.request(), b"GET /d HTTP/1.0\r\n\r\n");
    assert_eq!(h.expects.len(), 1);
    assert_eq!(
        p[0].checks[0].timeout_check,
        Some(Duration::from_millis(300))
    );
    let CheckKind::Http(h) = &p[1].checks[0].kind else {
        panic!("expected http")
    };
    // Own http-check rules replace the defaults' ones.
    assert_eq!(h.request(), b"HEAD /own HTTP/1.0\r\n\r\n");
    assert!(h.expects.is_empty());
}

#[test]
fn unsupported_forms_are_refused_by_name() {
    let cfg = load(&format!(
        "{BASE}backend b\n  option httpchk\n  http-check expect string-lf %[var(x)]\n  server s1 127.0.0.1:80 check\n"
    ));
    let e = plan(&cfg).unwrap_err();
    assert!(
        e.contains(":8] : 'http-check expect string-lf' is not implemented"),
        "{e}"
    );
    let cfg = load(&format!(
        "{BASE}backend b\n  option httpchk\n  http-check send meth GET body-lf %[src]\n  server s1 127.0.0.1:80 check\n"
    ));
    let e = plan(&cfg).unwrap_err();
    assert!(
        e.contains("'http-check send body-lf sample fetch 'src'' is not implemented"),
        "{e}"
    );
    let cfg = load(&format!(
        "{BASE}backend b\n  option httpchk\n  http-check expect ! status 200 min-recv\n  server s1 127.0.0.1:80 check\n"
    ));
    let e = plan(&cfg).unwrap_err();
    assert!(e.contains("'min-recv' expects an argument"), "{e}");
}

#[test]
fn tcp_check_protocols_agent_and_track() {
    let cfg = load(&format!(
        "{BASE}  option redis-check\nbackend r\n  server s1 127.0.0.1:80 check\nbackend t\n  option tcp-check\n  tcp-check send PING\\r\\n\n  tcp-check expect string +PONG\n  server s1 127.0.0.1:80 check check-send-proxy\nbackend m\n  option mysql-check user hap\n  option httpchk\n  option pgsql-check user bob\n  server s1 127.0.0.1:80 check agent-check agent-port 9999 agent-send hello\\n agent-inter 5s\n  server s2 127.0.0.1:81 track t/s1\n  server s3 127.0.0.1:82 agent-check agent-port 1 no-agent-check\n"
    ));
    let p = plan(&cfg).expect("plan");
    // Inherited from defaults: redis-check.
    let CheckKind::Rules(rs) = &p[0].checks[0].kind else {
        panic!("expected rules")
    };
    assert_eq!(rs.proto, crate::health::tcpcheck::Proto::Redis);
    let CheckKind::Rules(rs) = &p[1].checks[0].kind else {
        panic!("expected rules")
    };
    assert_eq!(rs.proto, crate::health::tcpcheck::Proto::TcpCheck);
    // The lexer unescapes `\r\n` like HAProxy.
    assert!(matches!(
        &rs.rules[1].action,
        crate::health::tcpcheck::Action::Send(crate::health::tcpcheck::Send::Bytes(b)) if b == b"PING\r\n"
    ));
    assert!(p[1].checks[0].send_proxy);
    // The last check option wins.
    let m = &p[2];
    let CheckKind::Rules(rs) = &m.checks[0].kind else {
        panic!("expected rules")
    };
    assert_eq!(rs.proto, crate::health::tcpcheck::Proto::Pgsql);
    let a = m.checks[0].agent.as_ref().expect("agent");
    assert_eq!((a.port, a.inter), (9999, Duration::from_secs(5)));
    assert_eq!(m.checks.len(), 1);
    assert_eq!(
        m.tracks,
        vec![TrackSpec {
            server: 1,
            server_name: "s2".into(),
            backend: "t".into(),
            target: "s1".into()
        }]
    );
}

#[test]
fn agent_without_port_and_bad_track_are_refused() {
    // haproxy 2.6.12: `[c1.cfg:6] : 'server b/s' : server s does not have
    // agent port. Agent check has been disabled.`
    let cfg = load(&format!(
        "{BASE}backend b\n  server s 127.0.0.1:80 agent-check\n"
    ));
    let e = plan(&cfg).unwrap_err();
    assert!(
        e.ends_with("[t.cfg:7] : 'server b/s' : server s does not have agent port. Agent check has been disabled."),
        "{e}"
    );
    let cfg = load(&format!(
        "{BASE}backend b\n  option tcp-check\n  tcp-check connect proto h1\n  server s 127.0.0.1:80 check\n"
    ));
    let e = plan(&cfg).unwrap_err();
    assert!(
        e.contains(":8] : 'tcp-check connect proto' is not implemented"),
        "{e}"
    );
}

#[test]
fn check_tls_plans() {
    // `connect ssl` and `check-ssl` build connectors; `no-check-ssl`
    // wins over `check-ssl`; `ssl` alone implies check SSL unless `port`
    // moves the checks (HAProxy's rule).
    let cfg = load(&format!(
        "{BASE}backend b\n  option tcp-check\n  tcp-check connect ssl sni x.test alpn h2\n  server s 127.0.0.1:80 check verify none\n\
backend c\n  server s1 127.0.0.1:80 check check-ssl verify none check-sni a.test\n  server s2 127.0.0.1:80 check check-ssl no-check-ssl verify none\n"
    ));
    let p = plan(&cfg).expect("plan");
    let t = &p[0].checks[0].tls;
    assert!(t.default.is_none() && t.by_rule.iter().flatten().count() == 1);
    assert!(p[1].checks[0].tls.default.is_some());
    assert!(!p[1].checks[1].tls.any());
    let s = |o: &[(&str, &[&str])]| crate::config::ir::Server {
        origin: Default::default(),
        name: "s".into(),
        addr: String::new(),
        host: None,
        ip: None,
        port: None,
        weight: 1,
        backup: false,
        check: true,
        disabled: false,
        maxconn: None,
        track: None,
        options: o
            .iter()
            .map(|(k, a)| (k.to_string(), a.iter().map(|x| x.to_string()).collect()))
            .collect(),
    };
    assert!(crate::health::ssl::check_uses_ssl(&s(&[("ssl", &[])])));
    assert!(!crate::health::ssl::check_uses_ssl(&s(&[
        ("ssl", &[]),
        ("port", &["81"])
    ])));
    assert!(crate::health::ssl::check_uses_ssl(&s(&[
        ("ssl", &[]),
        ("port", &["81"]),
        ("check-ssl", &[])
    ])));
    // HTTP checks cannot speak h2: refused by name.
    let cfg = load(&format!(
        "{BASE}backend b\n  option httpchk\n  server s 127.0.0.1:80 check check-ssl verify none check-alpn h2\n"
    ));
    assert!(
        plan(&cfg)
            .unwrap_err()
            .contains("HTTP health checks over ALPN 'h2'")
    );
}
