//! TLS for Switchyard, built on rustls (ring provider, TLS 1.2 and 1.3).
//!
//! Owns: turning HAProxy's SSL settings into rustls configurations and
//! running handshakes, with HAProxy's connection error texts
//! (`SSL handshake failure`, `Server presented an SSL certificate
//! different from the expected one`, ...).
//!
//! - [`client`]: the client side, used when Switchyard connects to a
//!   server. [`client::ClientSettings::from_server_options`] reads a
//!   server line's `verify`, `ca-file`, `crt`, `verifyhost`, `alpn`,
//!   `ssl-min-ver` / `ssl-max-ver` (with the global `ca-base`, `crt-base`
//!   and `ssl-server-verify`, see [`client::GlobalSsl`]);
//!   [`client::Connector`] is built once from them (certificates are read
//!   at start-up, never per connection) and wraps a connected
//!   `TcpStream`. The health checks use it today (`check-ssl`,
//!   `tcp-check connect ssl`); TLS to backends for traffic (`server ...
//!   ssl`) is meant to reuse the same [`client::Connector`] with the
//!   server's `sni` evaluated per request.
//! - A server side (`bind ... ssl crt`) would live beside it as
//!   `server.rs`, sharing the PEM loading of [`client`].
//!
//! Limits (refused by the caller at start-up through [`TlsError`], never
//! ignored): SSLv3 / TLS 1.0 / TLS 1.1 cannot be negotiated (a
//! `ssl-max-ver` below TLSv1.2 is an error; a lower `ssl-min-ver` simply
//! means 1.2); hostname checks use the certificate's subjectAltName only
//! (no fallback to the CN as OpenSSL does); cipher lists, CRLs and OCSP
//! are not read.
//!
//! Must not know about health checks, proxies or sessions: callers pass
//! plain settings and get streams back.

pub mod client;

pub use client::{
    ClientSettings, Connector, GlobalSsl, HandshakeError, TlsError, TlsVersion, Verify,
};
