//! Which check connections of a server run over TLS, and with what
//! client configuration ([`crate::tls::Connector`]).
//!
//! Owns: HAProxy's rules for check SSL — `check-ssl` / `no-check-ssl`
//! (and `ssl` inherited by checks when neither `port` nor `addr`
//! redirect them), `check-sni`, `check-alpn` (else the server's
//! `alpn`), `check-proto` (only `h1`, for HTTP checks), the `ssl`, `sni`
//! and `alpn` options of `tcp-check connect` / `http-check connect` —
//! and the start-up errors that go with them (`verify is enabled by
//! default but no CA file specified`, H2 ALPN on HTTP checks). Must not
//! do network I/O: certificates are read here, once.

use super::spec::CheckKind;
use super::tcpcheck::{Action, Connect};
use crate::config::ir::{Config, Proxy, Server};
use crate::tls::{ClientSettings, Connector, GlobalSsl, TlsError, Verify};
use std::sync::Arc;

/// The TLS connectors of one server's check.
#[derive(Debug, Clone, Default)]
pub struct CheckTls {
    /// Used by `default` and implicit connects, and by plain / HTTP
    /// checks without their own connect (`check-ssl`).
    pub default: Option<Arc<Connector>>,
    /// For each rule of the ruleset (or the `http-check connect` at 0):
    /// the connector of a connect with `ssl`.
    pub by_rule: Vec<Option<Arc<Connector>>>,
}

impl CheckTls {
    /// Whether any connection of the check uses TLS.
    pub fn any(&self) -> bool {
        self.default.is_some() || self.by_rule.iter().any(Option::is_some)
    }

    /// The connector of connect rule `i` (`c` its options).
    pub fn for_connect(&self, i: usize, c: &Connect) -> Option<&Connector> {
        if c.ssl {
            self.by_rule.get(i).and_then(|x| x.as_deref())
        } else if c.default {
            self.default.as_deref()
        } else {
            None
        }
    }
}

/// Builds connectors once and shares identical ones (1,000 servers with
/// the same settings read the CA file once).
#[derive(Default)]
pub struct Cache {
    built: Vec<(ClientSettings, Arc<Connector>)>,
}

impl Cache {
    fn get(&mut self, s: &ClientSettings) -> Result<Arc<Connector>, TlsError> {
        if let Some((_, c)) = self.built.iter().find(|(k, _)| k == s) {
            return Ok(c.clone());
        }
        let c = Arc::new(Connector::new(s)?);
        self.built.push((s.clone(), c.clone()));
        Ok(c)
    }
}

/// The global settings of `cfg`.
pub fn global(cfg: &Config) -> GlobalSsl {
    GlobalSsl::from_directives(cfg.global.directives.iter().map(|d| d.words.as_slice()))
}

fn last<'a>(s: &'a Server, k: &str) -> Option<&'a [String]> {
    s.options
        .iter()
        .rev()
        .find(|(n, _)| n == k)
        .map(|(_, a)| a.as_slice())
}

fn has(s: &Server, k: &str) -> bool {
    s.options.iter().any(|(n, _)| n == k)
}

/// Whether default check connections use TLS (HAProxy's
/// `check.use_ssl`).
pub fn check_uses_ssl(s: &Server) -> bool {
    match s
        .options
        .iter()
        .rev()
        .find(|(n, _)| n == "check-ssl" || n == "no-check-ssl")
    {
        Some((n, _)) => n == "check-ssl",
        None => {
            let ssl = s
                .options
                .iter()
                .rev()
                .find(|(n, _)| n == "ssl" || n == "no-ssl")
                .is_some_and(|(n, _)| n == "ssl");
            ssl && !has(s, "port") && !has(s, "addr")
        }
    }
}

fn alert(p: &Proxy, s: &Server, why: &str) -> String {
    format!(
        "config : [{}:{}] : 'server {}/{}' : {why}",
        s.origin.file, s.origin.line, p.name, s.name
    )
}

fn refuse(s: &Server, what: &str) -> String {
    format!(
        "config : parsing [{}:{}] : '{what}' is not implemented by Switchyard yet; refusing to start rather than silently ignoring it.",
        s.origin.file, s.origin.line
    )
}

/// HAProxy's alert (after `'server b/s' : `) for a server using TLS with
/// `verify required` and no `ca-file`.
pub const NO_CA: &str = "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.";

/// The connectors of server `s` checked with `kind`; an `Err` is the
/// start-up alert.
pub fn plan(
    g: &GlobalSsl,
    cache: &mut Cache,
    p: &Proxy,
    s: &Server,
    kind: &CheckKind,
) -> Result<CheckTls, String> {
    let base = ClientSettings::from_server_options(&s.options, g)
        .map_err(|e| alert(p, s, &e.to_string()))?;
    let http = matches!(kind, CheckKind::Http(_));
    let mut default = base.clone();
    default.sni = last(s, "check-sni").and_then(|a| a.first().cloned());
    if let Some(a) = last(s, "check-alpn").and_then(|a| a.first()) {
        default.alpn = crate::tls::client::parse_alpn(a);
    }
    if let Some(proto) = last(s, "check-proto").and_then(|a| a.first())
        && !(http && proto == "h1")
    {
        return Err(refuse(s, &format!("server check-proto {proto}")));
    }
    // The connects of the ruleset that ask for `ssl`.
    let connects: Vec<Option<&Connect>> = match kind {
        CheckKind::Rules(rs) => rs
            .rules
            .iter()
            .map(|r| match &r.action {
                Action::Connect(c) if c.ssl => Some(c),
                _ => None,
            })
            .collect(),
        CheckKind::Http(h) => vec![h.connect.as_ref().filter(|c| c.ssl)],
        CheckKind::Tcp => Vec::new(),
    };
    let default_used = check_uses_ssl(s);
    let any = default_used || connects.iter().any(Option::is_some);
    if !any {
        return Ok(CheckTls::default());
    }
    if base.verify == Verify::Required && base.ca_file.is_none() {
        return Err(alert(p, s, NO_CA));
    }
    let h2 =
        |st: &ClientSettings| http && st.alpn.iter().any(|a| a != "http/1.1" && a != "http/1.0");
    let build = |cache: &mut Cache, st: &ClientSettings| -> Result<Arc<Connector>, String> {
        if h2(st) {
            return Err(refuse(
                s,
                &format!("HTTP health checks over ALPN '{}'", st.alpn.join(",")),
            ));
        }
        cache.get(st).map_err(|e| alert(p, s, &e.to_string()))
    };
    let mut out = CheckTls::default();
    if default_used {
        out.default = Some(build(cache, &default)?);
    }
    for c in connects {
        let conn = match c {
            None => None,
            Some(c) => {
                // HAProxy: the rule's sni/alpn, else the check's ones on a
                // `default` connect, else none.
                let mut st = if c.default {
                    default.clone()
                } else {
                    ClientSettings {
                        sni: None,
                        alpn: Vec::new(),
                        ..base.clone()
                    }
                };
                if c.sni.is_some() {
                    st.sni = c.sni.clone();
                }
                if let Some(a) = &c.alpn {
                    st.alpn = a.clone();
                }
                Some(build(cache, &st)?)
            }
        };
        out.by_rule.push(conn);
    }
    Ok(out)
}

/// Whether the proxy (or the defaults it inherits its rules from) has a
/// `tcp-check connect ... ssl` or `http-check connect ... ssl` line.
fn rules_use_ssl(cfg: &Config, p: &Proxy) -> bool {
    let has = |d: &[crate::config::ir::RawRule], kw: &str| -> Option<bool> {
        let lines: Vec<_> = d
            .iter()
            .filter(|r| r.words.first().is_some_and(|w| w == kw))
            .collect();
        (!lines.is_empty()).then(|| {
            lines.iter().any(|r| {
                r.words.get(1).is_some_and(|w| w == "connect") && r.words.iter().any(|w| w == "ssl")
            })
        })
    };
    let d = cfg.defaults_of(p);
    ["tcp-check", "http-check"].iter().any(|kw| {
        has(&p.directives, kw)
            .or_else(|| d.and_then(|d| has(&d.directives, kw)))
            .unwrap_or(false)
    })
}

/// HAProxy's post-parse check: a server that speaks TLS (`ssl`,
/// `check-ssl`, or a ruleset with `connect ssl`) with `verify required`
/// (explicit or by default) and no `ca-file`.
pub fn missing_ca(cfg: &Config, p: &Proxy, s: &Server) -> bool {
    let ssl = s
        .options
        .iter()
        .rev()
        .find(|(n, _)| n == "ssl" || n == "no-ssl")
        .is_some_and(|(n, _)| n == "ssl");
    if !(ssl || check_uses_ssl(s) || rules_use_ssl(cfg, p)) {
        return false;
    }
    let g = global(cfg);
    match ClientSettings::from_server_options(&s.options, &g) {
        Ok(st) => st.verify == Verify::Required && st.ca_file.is_none(),
        Err(_) => false,
    }
}
