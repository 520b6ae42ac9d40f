//! The non-proxy sections: `userlist`, `peers`, `resolvers`, `mailers`,
//! `cache`, `http-errors`, `ring`, `program`, `log-forward`, `fcgi-app`,
//! `namespace_list`.
//!
//! Owns: their header and keyword validation and the end-of-section checks
//! HAProxy makes (a cache needs a size, a program needs a command ...).
//! None of these features run yet: every use is recorded as unsupported.

use super::kw;
use super::{Checker, Cur, Line};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Userlist,
    Peers,
    Resolvers,
    Mailers,
    Cache,
    HttpErrors,
    Ring,
    Program,
    LogForward,
    FcgiApp,
    NamespaceList,
}

/// The section being read.
#[derive(Debug, Clone)]
pub(crate) struct OtherSection {
    pub kind: Kind,
    pub name: String,
    pub has_command: bool,
    pub has_size: bool,
    pub nameservers: usize,
    pub entries: usize,
}

/// Cross-section facts needed by post-parse checks.
#[derive(Debug, Default)]
pub(crate) struct OtherState {
    pub programs: Vec<String>,
    pub userlists: Vec<String>,
    pub resolvers: Vec<String>,
    pub peers: Vec<String>,
    pub http_errors: Vec<String>,
    pub caches: Vec<String>,
    pub rings: Vec<String>,
}

pub(super) fn start(c: &mut Checker<'_>, l: &Line<'_>) {
    let kw = l.arg(0);
    let name = l.arg(1).to_string();
    let kind = match kw {
        "userlist" => Kind::Userlist,
        "peers" => Kind::Peers,
        "resolvers" => Kind::Resolvers,
        "mailers" => Kind::Mailers,
        "cache" => Kind::Cache,
        "http-errors" => Kind::HttpErrors,
        "ring" => Kind::Ring,
        "program" => Kind::Program,
        "log-forward" => Kind::LogForward,
        "fcgi-app" => Kind::FcgiApp,
        _ => Kind::NamespaceList,
    };
    let needs_name = !matches!(kind, Kind::NamespaceList);
    if needs_name && name.is_empty() {
        match kind {
            Kind::LogForward => c.alert(l, "missing-name", "missing name for ip-forward section."),
            Kind::FcgiApp => {
                c.alert_tight(l, "missing-name", "'fcgi-app' expects <name> as argument.")
            }
            _ => c.alert(
                l,
                "missing-name",
                format!("'{kw}' expects <name> as argument."),
            ),
        }
    }
    if kind != Kind::NamespaceList {
        c.unsupported(l, kw);
    }
    match kind {
        Kind::Program => c.other.programs.push(name.clone()),
        Kind::Userlist => c.other.userlists.push(name.clone()),
        Kind::Resolvers => c.other.resolvers.push(name.clone()),
        Kind::Peers => c.other.peers.push(name.clone()),
        Kind::HttpErrors => c.other.http_errors.push(name.clone()),
        Kind::Cache => c.other.caches.push(name.clone()),
        Kind::Ring => c.other.rings.push(name.clone()),
        _ => {}
    }
    c.cur = Cur::Other(OtherSection {
        kind,
        name,
        has_command: false,
        has_size: false,
        nameservers: 0,
        entries: 0,
    });
}

pub(super) fn line(c: &mut Checker<'_>, l: &Line<'_>, mut s: OtherSection) {
    let kw = l.arg(0);
    let section = match s.kind {
        Kind::Userlist => "users",
        Kind::Peers => "peers",
        Kind::Resolvers => "resolvers",
        Kind::Mailers => "mailers",
        Kind::Cache => "cache",
        Kind::HttpErrors => "http-errors",
        Kind::Ring => "ring",
        Kind::Program => "program",
        Kind::LogForward => "log-forward",
        Kind::FcgiApp => "fcgi-app",
        Kind::NamespaceList => "namespace_list",
    };
    if !kw::other_keyword(section, kw) {
        let msg = format!("unknown keyword '{kw}' in '{section}' section");
        if matches!(s.kind, Kind::Userlist | Kind::FcgiApp) {
            c.alert_tight(l, "unknown-keyword", msg);
        } else {
            c.alert(l, "unknown-keyword", msg);
        }
        return;
    }
    s.entries += 1;
    match (&s.kind, kw) {
        (Kind::Program, "command") => s.has_command = true,
        (Kind::Cache, "total-max-size") => s.has_size = true,
        (Kind::Resolvers, "nameserver") => {
            if l.arg(1).is_empty() || l.arg(2).is_empty() {
                c.alert(
                    l,
                    "missing-arg",
                    "'nameserver' expects <name> and <addr>[:<port>] as arguments.",
                );
                return;
            }
            let text = kw::env_expand(l.arg(2), c.getenv);
            let opts = crate::config::addr::AddrOpts::nameserver();
            if let Err(e) = crate::config::addr::parse_addr(&text, &opts) {
                c.alert(
                    l,
                    "bad-address",
                    format!("'nameserver {}' : {}", l.arg(1), e.trim_end()),
                );
                return;
            }
            s.nameservers += 1;
        }
        (Kind::Resolvers, "parse-resolv-conf") => s.nameservers += 1,
        (Kind::HttpErrors, "errorfile") => {
            if let Err(e) = kw::load_errorfile(l.arg(1), l.arg(2), c) {
                c.alert(l, "bad-errorfile", e);
            }
        }
        _ => {}
    }
    c.cur = Cur::Other(s);
}

/// End-of-section checks.
pub(super) fn end(c: &mut Checker<'_>, s: OtherSection) {
    match s.kind {
        Kind::Cache if !s.has_size => {
            c.alert_plain(
                "cache-size",
                format!("Size not specified for cache '{}'", s.name),
            );
            c.file_failed = true;
        }
        Kind::Program if !s.has_command => {
            c.alert_plain(
                "program-command",
                format!(
                    "The program section '{}' lacks a command to launch.",
                    s.name
                ),
            );
            c.file_failed = true;
        }
        _ => {}
    }
}
