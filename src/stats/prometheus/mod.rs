//! `http-request use-service prometheus-exporter`: HAProxy 2.6's built-in
//! Prometheus exporter (promex).
//!
//! Owns: the query string (`scope=`, `no-maint`), the metric text (same
//! names, HELP/TYPE lines, labels and value semantics as HAProxy 2.6.12:
//! [`table`] lists them, [`render`] writes them) and the HTTP answer.
//! Every value is read from the `show stat` rows and `show info` fields,
//! so the exporter never disagrees with the CSV. Must not change state nor
//! do I/O: it returns the bytes to send.

pub mod render;
pub mod table;

use super::Stats;

/// The service name `use-service` accepts.
pub const SERVICE: &str = "prometheus-exporter";

/// A metric section (`haproxy_<section>_...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sec {
    Process,
    Frontend,
    Backend,
    Server,
}

impl Sec {
    pub fn name(self) -> &'static str {
        match self {
            Sec::Process => "process",
            Sec::Frontend => "frontend",
            Sec::Backend => "backend",
            Sec::Server => "server",
        }
    }
    fn bit(self) -> u8 {
        match self {
            Sec::Process => 1,
            Sec::Frontend => 2,
            Sec::Backend => 4,
            Sec::Server => 8,
        }
    }
}

/// One metric definition.
#[derive(Debug, Clone, Copy)]
pub struct M {
    pub sec: Sec,
    /// The name after `haproxy_<section>_`.
    pub name: &'static str,
    pub help: &'static str,
    /// `counter` (else `gauge`).
    pub counter: bool,
    /// The `show info` field (process) or `show stat` column it reads.
    pub src: &'static str,
    /// Only for proxies in `mode http`.
    pub http: bool,
}

/// A `scope=` value HAProxy does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope '{0}'")]
pub struct BadScope(pub String);

/// What the query string asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// Bit set of [`Sec`]s to dump.
    pub scopes: u8,
    /// `no-maint`: leave out servers in maintenance.
    pub no_maint: bool,
}

impl Query {
    pub fn wants(&self, s: Sec) -> bool {
        self.scopes & s.bit() != 0
    }
}

/// Parses the query string of `uri` as HAProxy 2.6 does: without any
/// `scope=`, everything; the first `scope=` starts from nothing and each
/// one adds a section (`*` = all; an empty value clears the list; the
/// known but empty `listener`/`sticktable` scopes add nothing). `Err` for
/// an unknown scope (HAProxy answers 400).
pub fn parse_query(uri: &str) -> Result<Query, BadScope> {
    let mut q = Query {
        scopes: 0xf,
        no_maint: false,
    };
    let Some((_, qs)) = uri.split_once('?') else {
        return Ok(q);
    };
    let mut first = true;
    for p in qs.split('&') {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        match k {
            "scope" => {
                if first {
                    q.scopes = 0;
                    first = false;
                }
                q.scopes |= match v {
                    "" => {
                        q.scopes = 0;
                        0
                    }
                    "*" => 0xf,
                    "global" => Sec::Process.bit(),
                    "frontend" => Sec::Frontend.bit(),
                    "backend" => Sec::Backend.bit(),
                    "server" => Sec::Server.bit(),
                    "listener" | "sticktable" => 0,
                    other => return Err(BadScope(other.to_string())),
                };
            }
            "no-maint" => q.no_maint = true,
            _ => {}
        }
    }
    Ok(q)
}

/// The whole HTTP answer to a request for the exporter, and whether the
/// connection closes after it (always after a 400).
pub fn answer(st: Option<&Stats>, method: &str, uri: &str, close: bool) -> (Vec<u8>, bool) {
    let Ok(q) = parse_query(uri) else {
        return (crate::session::http::errors::stream_page(400, true), true);
    };
    let Some(st) = st else {
        return (crate::session::http::errors::stream_page(503, close), close);
    };
    let body = render::metrics(st, q);
    let mut out = String::from(
        "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\n",
    );
    let head = method == "HEAD";
    if !head {
        out.push_str("transfer-encoding: chunked\r\n");
    }
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    if !head {
        if !body.is_empty() {
            out.push_str(&format!("{:x}\r\n{body}\r\n", body.len()));
        }
        out.push_str("0\r\n\r\n");
    }
    (out.into_bytes(), close)
}

/// [`answer`] over the process's installed stats view.
pub fn serve(method: &str, uri: &str, close: bool) -> (Vec<u8>, bool) {
    answer(
        super::page::installed().map(|a| a.as_ref()),
        method,
        uri,
        close,
    )
}

#[cfg(test)]
mod tests;
