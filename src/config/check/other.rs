//! The non-proxy sections: `userlist`, `peers`, `resolvers`, `mailers`,
//! `cache`, `http-errors`, `ring`, `program`, `log-forward`, `fcgi-app`,
//! `namespace_list`.
//!
//! Owns: their header and keyword validation and the end-of-section checks
//! HAProxy makes (a cache needs a size, a program needs a command ...).
//! `userlist` and `http-errors` sections are kept in the IR
//! ([`crate::config::ir::Userlist`], [`crate::config::ir::HttpErrors`]);
//! the other sections do not run yet: every use is recorded as unsupported.

use super::kw;
use super::{Checker, Cur, Line};
use crate::config::ir::{ErrorFile, Group, HttpErrors, Password, User, Userlist};

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
    match kind {
        Kind::NamespaceList => {}
        Kind::Userlist if !name.is_empty() => c.cfg.userlists.push(Userlist {
            origin: l.origin(),
            name: name.clone(),
            users: Vec::new(),
            groups: Vec::new(),
        }),
        Kind::HttpErrors if !name.is_empty() => c.cfg.http_errors.push(HttpErrors {
            origin: l.origin(),
            name: name.clone(),
            files: Vec::new(),
        }),
        Kind::Userlist | Kind::HttpErrors => {}
        _ => c.unsupported(l, kw),
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
                return;
            }
            // Statuses HAProxy ignores (with a warning) are not kept.
            let code = l.arg(1).parse::<u16>().ok();
            let (origin, path) = (l.origin(), l.arg(2).to_string());
            if let (Some(code), Some(h)) = (code, c.cfg.http_errors.last_mut())
                && h.name == s.name
            {
                h.files.push(ErrorFile { origin, code, path });
            }
        }
        (Kind::Userlist, "user" | "group") => userlist_line(c, l, &s.name),
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

/// `user <name> [password|insecure-password <pw>] [groups <g>[,<g>...]]`
/// and `group <name> [users <u>[,<u>...]]` into the current userlist.
fn userlist_line(c: &mut Checker<'_>, l: &Line<'_>, list: &str) {
    let list_of = |v: &str| -> Vec<String> {
        v.split(',')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (origin, name) = (l.origin(), l.arg(1).to_string());
    let mut password = Password::None;
    let mut members = Vec::new();
    let mut i = 2;
    while i < l.words.len() {
        match l.arg(i) {
            "password" => password = Password::Crypt(l.arg(i + 1).to_string()),
            "insecure-password" => password = Password::Insecure(l.arg(i + 1).to_string()),
            "groups" | "users" => members.extend(list_of(l.arg(i + 1))),
            _ => {}
        }
        i += 2;
    }
    let Some(u) = c.cfg.userlists.last_mut().filter(|u| u.name == list) else {
        return;
    };
    if l.arg(0) == "user" {
        u.users.push(User {
            origin,
            name,
            password,
            groups: members,
        });
    } else {
        u.groups.push(Group {
            origin,
            name,
            users: members,
        });
    }
}
