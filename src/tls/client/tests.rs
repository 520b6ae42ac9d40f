use super::*;
use std::process::Command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn o(k: &str, v: &[&str]) -> (String, Vec<String>) {
    (k.to_string(), v.iter().map(|s| s.to_string()).collect())
}

#[test]
fn settings_from_server_line() {
    let g = GlobalSsl::from_directives(
        [
            vec!["ca-base".to_string(), "/etc/ca".to_string()],
            vec!["crt-base".to_string(), "/etc/crt".to_string()],
        ]
        .iter()
        .map(Vec::as_slice),
    );
    let s = ClientSettings::from_server_options(
        &[
            o("verify", &["none"]),
            o("ca-file", &["ca.pem"]),
            o("crt", &["/abs/c.pem"]),
            o("alpn", &["h2,http/1.1"]),
            o("ssl-min-ver", &["TLSv1.2"]),
            o("verify", &["required"]),
        ],
        &g,
    )
    .unwrap();
    assert_eq!(s.verify, Verify::Required);
    assert_eq!(s.ca_file, Some(PathBuf::from("/etc/ca/ca.pem")));
    assert_eq!(s.crt, Some(PathBuf::from("/abs/c.pem")));
    assert_eq!(s.alpn, vec!["h2", "http/1.1"]);
    assert_eq!(s.min_ver, Some(TlsVersion::TlsV12));
    assert!(ClientSettings::from_server_options(&[o("ssl-max-ver", &["TLSv9"])], &g).is_err());
    let none = GlobalSsl::from_directives(
        [vec!["ssl-server-verify".to_string(), "none".to_string()]]
            .iter()
            .map(Vec::as_slice),
    );
    let s = ClientSettings::from_server_options(&[], &none).unwrap();
    assert_eq!(s.verify, Verify::None);
}

#[test]
fn versions_rustls_can_do() {
    let mut s = ClientSettings {
        verify: Verify::None,
        max_ver: Some(TlsVersion::TlsV11),
        ..ClientSettings::default()
    };
    assert_eq!(
        Connector::new(&s).unwrap_err(),
        TlsError::Versions("ssl-max-ver".into())
    );
    s.max_ver = Some(TlsVersion::TlsV12);
    s.min_ver = Some(TlsVersion::TlsV10);
    assert!(Connector::new(&s).is_ok());
    assert_eq!(versions(&s).unwrap().len(), 1);
}

#[test]
fn missing_ca_file_is_an_error() {
    let s = ClientSettings {
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..ClientSettings::default()
    };
    assert!(matches!(Connector::new(&s), Err(TlsError::File { .. })));
}

/// A CA and a server certificate for `backend.test` (no IP SAN), made
/// with the openssl CLI; `None` when it is missing.
fn certs(dir: &Path) -> Option<()> {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
    ])?;
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=backend.test",
    ])?;
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:backend.test\n").ok()?;
    run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ])?;
    Some(())
}

/// A one-connection rustls echo server of `srv.pem`.
async fn server(dir: &Path) -> u16 {
    let chain = load_certs(&dir.join("srv.pem")).unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("srv.key")).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acc = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        for _ in 0..8 {
            let Ok((c, _)) = l.accept().await else { return };
            let acc = acc.clone();
            tokio::spawn(async move {
                if let Ok(mut s) = acc.accept(c).await {
                    let mut b = [0u8; 64];
                    if let Ok(n) = s.read(&mut b).await {
                        let _ = s.write_all(&b[..n]).await;
                    }
                }
            });
        }
    });
    port
}

async fn try_connect(port: u16, s: &ClientSettings) -> Result<Vec<u8>, &'static str> {
    let c = Connector::new(s).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut t = c
        .connect(tcp, "127.0.0.1".parse().unwrap())
        .await
        .map_err(|e| e.haproxy_text())?;
    t.write_all(b"ping").await.unwrap();
    let mut b = [0u8; 4];
    t.read_exact(&mut b).await.unwrap();
    Ok(b.to_vec())
}

#[tokio::test]
async fn handshakes_follow_haproxy_rules() {
    let dir = std::env::temp_dir().join(format!("sy-tls-unit-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    if certs(&dir).is_none() {
        return;
    }
    let port = server(&dir).await;
    let ca = Some(dir.join("ca.pem"));
    let base = ClientSettings {
        ca_file: ca.clone(),
        ..ClientSettings::default()
    };
    // Chain only: no SNI, no verifyhost, the IP is not in the cert.
    assert_eq!(try_connect(port, &base).await, Ok(b"ping".to_vec()));
    let sni = |n: &str| ClientSettings {
        sni: Some(n.into()),
        ..base.clone()
    };
    assert_eq!(
        try_connect(port, &sni("backend.test")).await,
        Ok(b"ping".to_vec())
    );
    assert_eq!(
        try_connect(port, &sni("wrong.test")).await,
        Err("Server presented an SSL certificate different from the expected one")
    );
    let vh = ClientSettings {
        verify_host: Some("wrong.test".into()),
        ..base.clone()
    };
    assert_eq!(
        try_connect(port, &vh).await,
        Err("Server presented an SSL certificate different from the configured one")
    );
    // The server's own cert is not a CA: chain failure.
    let wrong = ClientSettings {
        ca_file: Some(dir.join("srv.pem")),
        ..ClientSettings::default()
    };
    assert_eq!(
        try_connect(port, &wrong).await,
        Err("SSL handshake failure")
    );
    let none = ClientSettings {
        verify: Verify::None,
        sni: Some("wrong.test".into()),
        ..ClientSettings::default()
    };
    assert_eq!(try_connect(port, &none).await, Ok(b"ping".to_vec()));
    let _ = std::fs::remove_dir_all(&dir);
}
