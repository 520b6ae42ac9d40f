//! Client-side TLS: the settings a server line gives, the rustls
//! configuration built from them once, and the handshake over a
//! connected TCP stream.
//!
//! Owns: reading `verify`, `ca-file` (`@system-ca` too), `crt` (the
//! client certificate: chain and key in one PEM file, or the key in
//! `<crt>.key`), `verifyhost`, `alpn`, `ssl-min-ver`/`ssl-max-ver`, the
//! certificate verifier with HAProxy's rules (with `verify required`
//! the chain is always checked, the host name only against the SNI when
//! one is sent, else against `verifyhost`, else not at all) and the
//! classification of handshake errors into HAProxy's texts. Must not
//! know who asked for the connection (checks, traffic).

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Where OpenSSL keeps the system CA bundle on Debian (`ca-file
/// @system-ca`).
pub const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// `verify none|required`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    None,
    /// HAProxy's default (`ssl-server-verify required`).
    #[default]
    Required,
}

/// `ssl-min-ver` / `ssl-max-ver` values, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    SslV3,
    TlsV10,
    TlsV11,
    TlsV12,
    TlsV13,
}

impl TlsVersion {
    /// HAProxy's spelling (`SSLv3`, `TLSv1.0` ... `TLSv1.3`).
    pub fn parse(s: &str) -> Option<TlsVersion> {
        Some(match s {
            "SSLv3" => TlsVersion::SslV3,
            "TLSv1.0" => TlsVersion::TlsV10,
            "TLSv1.1" => TlsVersion::TlsV11,
            "TLSv1.2" => TlsVersion::TlsV12,
            "TLSv1.3" => TlsVersion::TlsV13,
            _ => return None,
        })
    }
}

/// Errors building a client configuration: the caller refuses to start
/// with the text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TlsError {
    #[error("unable to load {what} from file '{path}' : {reason}")]
    File {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("'{0}' : rustls negotiates TLSv1.2 and TLSv1.3 only")]
    Versions(String),
    #[error("invalid '{0}' value '{1}'")]
    Value(&'static str, String),
    #[error("TLS configuration : {0}")]
    Rustls(String),
}

/// Global settings every server inherits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalSsl {
    /// `ca-base <dir>`: prefix of relative `ca-file` paths.
    pub ca_base: Option<String>,
    /// `crt-base <dir>`: prefix of relative `crt` paths.
    pub crt_base: Option<String>,
    /// `ssl-server-verify none|required` (default required).
    pub server_verify: Verify,
}

impl GlobalSsl {
    /// Reads the global section's lines (keyword and arguments each).
    pub fn from_directives<'a>(lines: impl Iterator<Item = &'a [String]>) -> GlobalSsl {
        let mut g = GlobalSsl::default();
        for w in lines {
            let arg = w.get(1).cloned();
            match w.first().map(String::as_str) {
                Some("ca-base") => g.ca_base = arg,
                Some("crt-base") => g.crt_base = arg,
                Some("ssl-server-verify") => {
                    g.server_verify = if arg.as_deref() == Some("none") {
                        Verify::None
                    } else {
                        Verify::Required
                    }
                }
                _ => {}
            }
        }
        g
    }
}

/// What a TLS client connection needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSettings {
    pub verify: Verify,
    /// Trusted CAs (`ca-file`), already joined with `ca-base`.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (`crt`), already joined with `crt-base`.
    pub crt: Option<PathBuf>,
    /// The SNI to send (a host name; an IP address sends none).
    pub sni: Option<String>,
    /// `verifyhost`: the name checked when no SNI is sent.
    pub verify_host: Option<String>,
    /// ALPN protocols to offer, in order.
    pub alpn: Vec<String>,
    pub min_ver: Option<TlsVersion>,
    pub max_ver: Option<TlsVersion>,
}

fn join(base: Option<&str>, path: &str) -> PathBuf {
    match base {
        Some(b) if !path.starts_with('/') && !path.starts_with('@') && !b.is_empty() => {
            Path::new(b).join(path)
        }
        _ => PathBuf::from(path),
    }
}

/// `h2,http/1.1` → `["h2", "http/1.1"]`.
pub fn parse_alpn(v: &str) -> Vec<String> {
    v.split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

impl ClientSettings {
    /// Reads a server line's options (keyword, arguments; the last one
    /// wins, as `default-server` values come first). `sni` is not read:
    /// on a server it is a sample expression the caller evaluates.
    pub fn from_server_options(
        opts: &[(String, Vec<String>)],
        g: &GlobalSsl,
    ) -> Result<ClientSettings, TlsError> {
        let mut s = ClientSettings {
            verify: g.server_verify,
            ..ClientSettings::default()
        };
        for (k, a) in opts {
            let v = a.first().map(String::as_str).unwrap_or_default();
            match k.as_str() {
                "verify" => {
                    s.verify = match v {
                        "none" => Verify::None,
                        "required" => Verify::Required,
                        _ => return Err(TlsError::Value("verify", v.into())),
                    }
                }
                "ca-file" => s.ca_file = Some(join(g.ca_base.as_deref(), v)),
                "crt" => s.crt = Some(join(g.crt_base.as_deref(), v)),
                "verifyhost" => s.verify_host = Some(v.to_string()),
                "no-verifyhost" => s.verify_host = None,
                "alpn" => s.alpn = parse_alpn(v),
                "ssl-min-ver" => {
                    s.min_ver =
                        Some(TlsVersion::parse(v).ok_or(TlsError::Value("ssl-min-ver", v.into()))?)
                }
                "ssl-max-ver" => {
                    s.max_ver =
                        Some(TlsVersion::parse(v).ok_or(TlsError::Value("ssl-max-ver", v.into()))?)
                }
                _ => {}
            }
        }
        Ok(s)
    }
}

/// Why a handshake failed, with HAProxy's `conn_err_code_str` texts.
#[derive(Debug)]
pub enum HandshakeError {
    /// The certificate does not match the SNI sent.
    MismatchSni,
    /// The certificate does not match `verifyhost`.
    Mismatch,
    /// Anything else: bad chain, garbage, close, reset.
    Failure(std::io::Error),
}

impl HandshakeError {
    pub fn haproxy_text(&self) -> &'static str {
        match self {
            HandshakeError::MismatchSni => {
                "Server presented an SSL certificate different from the expected one"
            }
            HandshakeError::Mismatch => {
                "Server presented an SSL certificate different from the configured one"
            }
            HandshakeError::Failure(_) => "SSL handshake failure",
        }
    }
}

/// A ready-to-use client configuration.
#[derive(Clone)]
pub struct Connector {
    tls: TlsConnector,
    /// The SNI, when one is sent.
    sni: Option<ServerName<'static>>,
    /// Whether a host name is checked (SNI or `verifyhost`).
    name_checked: bool,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("sni", &self.sni)
            .field("name_checked", &self.name_checked)
            .finish()
    }
}

fn file_err(what: &'static str, path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        what,
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Every certificate of a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err("certificates", path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err("certificates", path, e))?;
    if certs.is_empty() {
        return Err(file_err("certificates", path, "no certificate found"));
    }
    Ok(certs)
}

/// The private key of `crt`: in the file itself, else in `<crt>.key`.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    if let Ok(k) = PrivateKeyDer::from_pem_file(path) {
        return Ok(k);
    }
    let mut alt = path.as_os_str().to_owned();
    alt.push(".key");
    PrivateKeyDer::from_pem_file(Path::new(&alt))
        .map_err(|_| file_err("private key", path, "no private key found"))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn versions(
    s: &ClientSettings,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsError> {
    let lo = s.min_ver.unwrap_or(TlsVersion::TlsV12);
    let hi = s.max_ver.unwrap_or(TlsVersion::TlsV13);
    let mut v = Vec::new();
    if lo <= TlsVersion::TlsV12 && hi >= TlsVersion::TlsV12 {
        v.push(&rustls::version::TLS12);
    }
    if lo <= TlsVersion::TlsV13 && hi >= TlsVersion::TlsV13 {
        v.push(&rustls::version::TLS13);
    }
    if v.is_empty() {
        let kw = if hi < TlsVersion::TlsV12 {
            "ssl-max-ver"
        } else {
            "ssl-min-ver"
        };
        return Err(TlsError::Versions(kw.into()));
    }
    Ok(v)
}

fn server_name(n: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(n.to_string()).map_err(|_| TlsError::Value("sni", n.into()))
}

impl Connector {
    /// Builds the configuration: reads the CA file and the client
    /// certificate now.
    pub fn new(s: &ClientSettings) -> Result<Connector, TlsError> {
        let prov = provider();
        let algs = prov.signature_verification_algorithms;
        let sni = s.sni.as_deref().map(server_name).transpose()?;
        let checked_name = match (&sni, &s.verify_host) {
            (Some(n), _) => Some(n.clone()),
            (None, Some(h)) => Some(server_name(h)?),
            (None, None) => None,
        };
        let inner = match s.verify {
            Verify::None => None,
            Verify::Required => {
                let path = s.ca_file.clone().unwrap_or_else(|| SYSTEM_CA_FILE.into());
                let path = if path.as_os_str() == "@system-ca" {
                    PathBuf::from(SYSTEM_CA_FILE)
                } else {
                    path
                };
                let mut roots = RootCertStore::empty();
                for c in load_certs(&path)? {
                    roots
                        .add(c)
                        .map_err(|e| file_err("CA certificates", &path, e))?;
                }
                Some(
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), prov.clone())
                        .build()
                        .map_err(|e| TlsError::Rustls(e.to_string()))?,
                )
            }
        };
        let verifier = Arc::new(HaproxyVerifier {
            inner,
            name: checked_name.clone(),
            algs,
        });
        let builder = ClientConfig::builder_with_provider(prov)
            .with_protocol_versions(&versions(s)?)
            .map_err(|e| TlsError::Rustls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut cfg = match &s.crt {
            Some(p) => builder
                .with_client_auth_cert(load_certs(p)?, load_key(p)?)
                .map_err(|e| TlsError::Rustls(format!("'{}' : {e}", p.display())))?,
            None => builder.with_no_client_auth(),
        };
        cfg.alpn_protocols = s.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(Connector {
            tls: TlsConnector::from(Arc::new(cfg)),
            sni: sni.filter(|n| matches!(n, ServerName::DnsName(_))),
            name_checked: checked_name.is_some(),
        })
    }

    /// Runs the handshake over `tcp` (connected to `peer`). Timeouts are
    /// the caller's.
    pub async fn connect(
        &self,
        tcp: TcpStream,
        peer: IpAddr,
    ) -> Result<TlsStream<TcpStream>, HandshakeError> {
        let name = self
            .sni
            .clone()
            .unwrap_or(ServerName::IpAddress(peer.into()));
        self.tls.connect(name, tcp).await.map_err(|e| {
            let name_err = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<rustls::Error>())
                .is_some_and(|r| {
                    matches!(
                        r,
                        rustls::Error::InvalidCertificate(
                            CertificateError::NotValidForName
                                | CertificateError::NotValidForNameContext { .. }
                        )
                    )
                });
            match (name_err, self.sni.is_some()) {
                (true, true) => HandshakeError::MismatchSni,
                (true, false) => HandshakeError::Mismatch,
                _ => HandshakeError::Failure(e),
            }
        })
    }

    /// Whether the server's certificate name is checked.
    pub fn checks_name(&self) -> bool {
        self.name_checked
    }
}

/// HAProxy's verification: no check at all with `verify none`; with
/// `verify required` the chain, then the name only when one is set.
#[derive(Debug)]
struct HaproxyVerifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    name: Option<ServerName<'static>>,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for HaproxyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(inner) = &self.inner else {
            return Ok(ServerCertVerified::assertion());
        };
        let name = self.name.as_ref().unwrap_or(server_name);
        // webpki checks the chain before the name: a name error means the
        // chain is good.
        match inner.verify_server_cert(end_entity, intermediates, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.name.is_none() => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

#[cfg(test)]
mod tests;
