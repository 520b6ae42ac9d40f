//! Client sessions: one task per accepted connection.
//!
//! Owns: the compiled per-frontend configuration ([`Frontend`], [`Route`],
//! built by [`build`]), and the dispatch to the TCP ([`tcp`]) or HTTP/1.1
//! ([`http`]) engine, with ACLs ([`acl`]), sample fetches ([`fetch`]),
//! log-format strings ([`fmt`]) and rules ([`rules`]). Must not accept
//! connections (that is [`crate::listener`]) nor pick servers (that is
//! [`crate::upstream`]).

pub mod acl;
pub mod buffer;
pub mod build;
pub mod conv;
pub mod fetch;
pub mod fmt;
pub mod http;
pub mod park;
pub mod patref;
pub mod rules;
pub mod splice;
pub mod stream;
pub mod tcp;
pub mod tcp_rules;

use crate::config::ir::{Bind, Mode};
use crate::runtime::drain::{Drain, Track};
use crate::upstream::Backend;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Addresses of an accepted connection (absent for unix sockets).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientInfo {
    pub src: Option<SocketAddr>,
    pub dst: Option<SocketAddr>,
}

/// `option forwardfor` as configured.
#[derive(Debug, Clone)]
pub struct ForwardFor {
    pub header: String,
    pub if_none: bool,
    pub except: Option<acl::Cond>,
}

/// A backend as a frontend reaches it: the upstream plus its HTTP rules.
#[derive(Debug)]
pub struct Route {
    pub be: Arc<Backend>,
    /// The backend's own `http-request` rules (empty for a `listen`, whose
    /// rules already ran in its frontend role).
    pub req_rules: Vec<rules::Rule>,
    pub resp_rules: Vec<rules::Rule>,
    pub forwardfor: Option<ForwardFor>,
    pub server_close: bool,
    pub httpclose: bool,
    pub tunnel_timeout: Option<Duration>,
    /// Backend-role `tcp-request content` and `tcp-response` rules.
    pub tcp_rules: Arc<tcp_rules::TcpRules>,
    /// `use-server`, `force-persist` and `ignore-persist` rules.
    pub persist: crate::upstream::persist::Rules<acl::Cond>,
    /// The backend's own stats page (`stats enable` in a `backend`).
    pub stats: Option<Arc<crate::stats::page::Conf>>,
    /// `errorfile`/`errorloc`/`http-error` replies and `timeout tarpit`.
    pub replies: Arc<rules::ProxyReplies>,
}

/// A `use_backend` rule.
#[derive(Debug)]
pub struct Switch {
    pub cond: Option<acl::Cond>,
    pub route: Arc<Route>,
}

/// A frontend (or the frontend side of a `listen`).
#[derive(Debug)]
pub struct Frontend {
    pub name: String,
    /// Connections accepted since start (`stot` in `show stat`).
    pub conn_total: std::sync::atomic::AtomicU64,
    /// Traffic counters (`show stat`, `show info`).
    pub counters: Arc<crate::metrics::ProxyCounters>,
    pub mode: Mode,
    pub maxconn: u32,
    pub binds: Vec<Bind>,
    pub client_timeout: Option<Duration>,
    pub http_request_timeout: Option<Duration>,
    pub keep_alive_timeout: Option<Duration>,
    pub req_rules: Vec<rules::Rule>,
    /// Frontend `http-response` rules (run after the backend's).
    pub resp_rules: Vec<rules::Rule>,
    /// `tcp-request connection|session|content` rules.
    pub tcp_rules: Arc<tcp_rules::TcpRules>,
    pub switching: Vec<Switch>,
    pub default: Option<Arc<Route>>,
    pub forwardfor: Option<ForwardFor>,
    pub server_close: bool,
    pub httpclose: bool,
    /// The stats page (`stats enable`/`uri`/`auth`... in this proxy).
    pub stats: Option<Arc<crate::stats::page::Conf>>,
    /// `errorfile`/`errorloc`/`http-error` replies and `timeout tarpit`.
    pub replies: Arc<rules::ProxyReplies>,
}

impl Frontend {
    /// The backend chosen by the switching rules for this context.
    pub fn route(&self, ctx: &fetch::Ctx<'_>) -> Option<&Arc<Route>> {
        let r = self
            .switching
            .iter()
            .find(|s| acl::holds(&s.cond, ctx))
            .map(|s| &s.route)
            .or(self.default.as_ref());
        if let Some(r) = r {
            fetch::sess::set_backend(&r.be);
        }
        r
    }
}

/// What keeps a live connection counted, whichever task (or the parking
/// lot, [`park`]) holds it: the accept-limit permits (global and
/// frontend `maxconn`, and the bind line's), the graceful-stop tracker and the frontend's
/// session count (`scur`). Dropping it releases them all.
#[derive(Debug, Default)]
pub struct Held {
    pub permits: Option<crate::listener::Permits>,
    pub track: Option<Track>,
    pub counted: Option<crate::metrics::counters::SessionGuard>,
}

/// Serves one accepted connection to completion.
pub fn serve<S>(
    io: S,
    info: ClientInfo,
    fe: Arc<Frontend>,
    drain: Arc<Drain>,
    mut held: Held,
) -> impl std::future::Future<Output = ()> + Send
where
    S: stream::ClientStream,
{
    // The one per-session object: fetches, `show sess`, `fe_conn`.
    let sess = fetch::Sess::new(&fe, info.src);
    fetch::sess::scope(sess, async move {
        // `tcp-request connection` then `tcp-request session` rules.
        if let Some(session) = tcp_rules::refusal(&fe.tcp_rules, &info) {
            fe.counters.refused(session);
            return;
        }
        held.counted = Some(fe.counters.session());
        match fe.mode {
            Mode::Http => http::serve(io, info, fe, drain, held).await,
            // Boxed: a tunnel's state would otherwise size every HTTP
            // connection's task too.
            _ => Box::pin(tcp::serve(io, info, fe)).await,
        }
    })
}
