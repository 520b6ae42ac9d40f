//! The checker's window onto the keyword registry and the argument parsers
//! (addresses, units, samples, files). Section handlers call only this, so
//! the registry and parser APIs are used in exactly one place.

use super::Checker;
use crate::config::ir::ProxyKind;
use crate::grammar::keywords::{self as g, Section, Status};

fn supported(s: Status) -> bool {
    matches!(s, Status::Supported | Status::NoOp)
}

fn proxy_section(kind: ProxyKind) -> Section {
    match kind {
        ProxyKind::Defaults => Section::Defaults,
        ProxyKind::Frontend => Section::Frontend,
        ProxyKind::Backend => Section::Backend,
        ProxyKind::Listen => Section::Listen,
    }
}

// === keywords ===

/// A removed proxy keyword's complete alert text (location included).
pub fn removed_proxy_keyword(kind: ProxyKind, l: &super::Line<'_>) -> Option<String> {
    let k = g::registry().keyword(proxy_section(kind), l.arg(0))?;
    if k.name != l.arg(0) {
        return None;
    }
    k.removed_alert(l.file, l.line as usize, l.arg(1))
}

pub fn removed_global_keyword(l: &super::Line<'_>) -> Option<String> {
    let k = g::registry().keyword(Section::Global, l.arg(0))?;
    if k.name != l.arg(0) {
        return None;
    }
    k.removed_alert(l.file, l.line as usize, l.arg(1))
}

pub fn removed_option(l: &super::Line<'_>) -> Option<String> {
    let o = g::registry().option(l.arg(1))?;
    (o.status == Status::Removed).then(|| g::fill_alert(o.notes, l.file, l.line as usize, l.arg(1)))
}

pub enum Known {
    Yes {
        supported: bool,
        fe_only: bool,
        be_only: bool,
    },
    No,
}

/// Whether `kw` is a keyword of this proxy section.
pub fn proxy_keyword(kind: ProxyKind, kw: &str) -> Known {
    let reg = g::registry();
    match reg.keyword(proxy_section(kind), kw) {
        Some(k) => {
            let in_fe = reg.keyword(Section::Frontend, kw).is_some();
            let in_be = reg.keyword(Section::Backend, kw).is_some();
            Known::Yes {
                supported: supported(k.status),
                fe_only: in_fe && !in_be,
                be_only: in_be && !in_fe,
            }
        }
        None => {
            // A keyword of another proxy section is known (capability warning).
            let in_fe = reg.keyword(Section::Frontend, kw);
            let in_be = reg.keyword(Section::Backend, kw);
            match (in_fe, in_be) {
                (Some(k), None) | (None, Some(k)) => Known::Yes {
                    supported: supported(k.status),
                    fe_only: in_fe.is_some(),
                    be_only: in_be.is_some(),
                },
                _ => Known::No,
            }
        }
    }
}

pub fn suggest_proxy_keyword(kind: ProxyKind, kw: &str) -> Option<&'static str> {
    crate::grammar::suggest::suggest_section_keyword(proxy_section(kind), kw)
}

/// `Some(supported)` when `kw` is a global keyword.
pub fn global_keyword(kw: &str) -> Option<bool> {
    g::registry()
        .keyword(Section::Global, kw)
        .map(|k| supported(k.status))
}

pub fn suggest_global_keyword(kw: &str) -> Option<&'static str> {
    crate::grammar::suggest::suggest_section_keyword(Section::Global, kw)
}

pub fn other_keyword(section: &str, kw: &str) -> bool {
    let s = match section {
        "users" => Section::Userlist,
        "peers" => Section::Peers,
        "resolvers" => Section::Resolvers,
        "mailers" => Section::Mailers,
        "cache" => Section::Cache,
        "http-errors" => Section::HttpErrors,
        "ring" => Section::Ring,
        "program" => Section::Program,
        _ => return true,
    };
    g::registry().keyword(s, kw).is_some()
}

pub struct OptDef {
    pub allows_no: bool,
    pub fe_only: bool,
    pub be_only: bool,
    pub supported: bool,
}

pub fn option(name: &str) -> Option<OptDef> {
    let o = g::registry().option(name)?;
    Some(OptDef {
        allows_no: o.allows_no,
        fe_only: o.sections & (g::PROXY_BACKEND) == 0,
        be_only: o.sections & (g::PROXY_FRONTEND) == 0,
        supported: supported(o.status),
    })
}

pub fn suggest_option(name: &str) -> Option<&'static str> {
    crate::grammar::suggest::suggest_option(name)
}

pub struct ArgDef {
    pub args: u8,
    pub default_server: bool,
    pub supported: bool,
}

pub fn bind_kw(k: &str) -> Option<ArgDef> {
    g::registry().bind_kw(k).map(|d| ArgDef {
        args: d.args,
        default_server: d.default_server,
        supported: supported(d.status),
    })
}

pub fn suggest_bind_kw(k: &str) -> Option<&'static str> {
    crate::grammar::suggest::suggest_bind_kw(k)
}

pub fn server_kw(k: &str) -> Option<ArgDef> {
    g::registry().server_kw(k).map(|d| ArgDef {
        args: d.args,
        default_server: d.default_server,
        supported: supported(d.status),
    })
}

pub fn suggest_server_kw(k: &str) -> Option<&'static str> {
    crate::grammar::suggest::suggest_server_kw(k)
}

// === argument checks ===

pub fn check_balance(args: &[&str]) -> Result<(), String> {
    let a = args.first().copied().unwrap_or("");
    if a.is_empty() {
        // `balance` alone keeps the default (roundrobin).
        return Ok(());
    }
    let base = a.split('(').next().unwrap_or("");
    let ok = [
        "roundrobin",
        "static-rr",
        "leastconn",
        "first",
        "source",
        "uri",
        "url_param",
        "random",
        "hash",
    ];
    if ok.contains(&base) || (base == "hdr" && a.ends_with(')')) || base == "rdp-cookie" {
        return Ok(());
    }
    Err("balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.".to_string())
}

pub fn check_bind_option(k: &str, args: &[String], c: &mut Checker<'_>) -> Result<(), String> {
    let a = args.first().map(String::as_str).unwrap_or("");
    let n = crate::config::units::atol(a);
    match k {
        "mss" if n == 0 || n.abs() > 65535 => {
            Err("'mss' : expects an MSS with and absolute value between 1 and 65535".into())
        }
        "tcp-ut" if crate::config::units::parse_time_ms(a).is_err() => {
            Err("'tcp-ut' : expects a positive delay in milliseconds".into())
        }
        "maxconn" if n < 0 => Err(format!("'maxconn' : invalid value {n}, must be >= 0")),
        "nice" if !(-1024..=1024).contains(&n) => Err(format!(
            "'nice' : invalid value {n}, allowed range is -1024..1024"
        )),
        "mode" if a.is_empty() || u32::from_str_radix(a, 8).is_err() => Err(format!(
            "'mode' : missing or invalid mode '{a}' (octal integer expected)"
        )),
        "user" if crate::config::external::lookup_user(a).is_none() => {
            Err(format!("'user' : unknown user name '{a}'"))
        }
        "group" if crate::config::external::lookup_group(a).is_none() => {
            Err(format!("'group' : unknown group name '{a}'"))
        }
        "crt" | "ca-file" | "crl-file" | "crt-list" | "ca-verify-file" => {
            let path = args.first().map(String::as_str).unwrap_or("");
            let full = with_base(c, k, path);
            crate::config::external::check_bind_file_full(k, &full).map_err(|e| {
                // HAProxy prints the CA/CRL loader's own alert first.
                if let Some(extra) = e.extra {
                    c.alert_plain("ca-file", extra);
                }
                e.line
            })
        }
        _ => Ok(()),
    }
}

/// Applies global `crt-base` (certificates) or `ca-base` (CA/CRL files) to
/// a relative path, as HAProxy does when it loads them.
fn with_base(c: &Checker<'_>, k: &str, path: &str) -> String {
    let base_kw = if matches!(k, "crt" | "crt-list") {
        "crt-base"
    } else {
        "ca-base"
    };
    if path.starts_with('/') {
        return path.to_string();
    }
    let base = c
        .cfg
        .global
        .directives
        .iter()
        .rev()
        .find(|d| d.words.first().map(String::as_str) == Some(base_kw))
        .and_then(|d| d.words.get(1));
    match base {
        Some(b) if !b.is_empty() => format!("{}/{}", b.trim_end_matches('/'), path),
        _ => path.to_string(),
    }
}

pub fn check_server_option(
    k: &str,
    args: &[String],
    name: &str,
    c: &mut Checker<'_>,
) -> Result<(), String> {
    let a = args.first().map(String::as_str).unwrap_or("");
    match k {
        "source" if args.is_empty() => Err(
            "'source' expects <addr>[:<port>[-<port>]], and optionally 'usesrc' <addr>, and 'interface' <name> as argument.."
                .to_string(),
        ),
        "weight" => {
            let v = crate::config::units::atol(a);
            if !(0..=256).contains(&v) {
                return Err(
                    format!("weight of server {name} is not within 0 and 256 ({v}).") + ".",
                );
            }
            Ok(())
        }
        "inter" | "fastinter" | "downinter" | "slowstart" | "agent-inter" | "pool-purge-delay" => {
            crate::config::units::parse_time_ms(a)
                .map(|_| ())
                .map_err(|_| format!("'{k}' expects a delay as argument.."))
        }
        "ca-file" | "crl-file" | "crt" => {
            crate::config::external::check_server_file_full(k, &with_base(c, k, a)).map_err(|e| {
                // On server lines HAProxy prints the loader's alert after.
                if let Some(extra) = e.extra {
                    c.pending_after.push(extra);
                }
                e.line
            })
        }
        _ => Ok(()),
    }
}

pub fn parse_acl(words: &[&str], c: &mut Checker<'_>) -> Result<(), String> {
    crate::config::sample::parse_acl(words, &c.base_dir).map(|_| ())
}

pub fn parse_cond(words: &[&str], c: &mut Checker<'_>) -> Result<(), String> {
    let acls = &c.acl_names;
    let declared = |n: &str| acls.contains(n);
    crate::config::sample::parse_cond(words, &declared, &c.base_dir).map(|_| ())
}

pub enum RuleError {
    /// Unknown action: HAProxy's list of valid ones (tight prefix, aborts).
    UnknownAction(String),
    /// A parse error inside a known action (aborts).
    Parse(String),
    /// Any other error (fatal).
    Plain(String),
}

/// Whether the global section loads Lua scripts so far (their services
/// and actions, `lua.<name>`, are registered by code Switchyard does not
/// run, so `-c` takes such names on trust, as the scripts would define).
fn lua_loaded(c: &Checker<'_>) -> bool {
    c.cfg.global.directives.iter().any(|d| {
        d.words
            .first()
            .is_some_and(|w| w == "lua-load" || w == "lua-load-per-thread")
    })
}

pub fn check_http_rule(l: &super::Line<'_>, c: &mut Checker<'_>) -> Result<(), RuleError> {
    crate::config::rules::check_http_rule(&l.words, c.getenv)
        .map_err(|e| match e {
            crate::config::rules::RuleError::UnknownAction(m) => RuleError::UnknownAction(m),
            crate::config::rules::RuleError::Parse(m) => RuleError::Parse(m),
            crate::config::rules::RuleError::Plain(m) => RuleError::Plain(m),
        })
        .and_then(
            |cond_at| match super::gaps::http_rule(&l.words, lua_loaded(c)) {
                Some(msg) => Err(RuleError::Parse(msg)),
                None => Ok(cond_at),
            },
        )
        .and_then(|cond_at| match cond_at {
            Some(i) => parse_cond(&l.words[i..], c).map_err(|e| {
                RuleError::Plain(format!(
                    "error detected while parsing an '{} {}' condition : {e}.",
                    l.arg(0),
                    l.arg(1)
                ))
            }),
            None => Ok(()),
        })
}

/// Checks the condition of a `tcp-request`/`tcp-response` rule.
pub fn check_tcp_rule(
    l: &super::Line<'_>,
    c: &mut Checker<'_>,
    kind: ProxyKind,
    pname: &str,
) -> Result<(), String> {
    let Some(i) = l.words.iter().position(|w| *w == "if" || *w == "unless") else {
        return Ok(());
    };
    parse_cond(&l.words[i..], c).map_err(|e| {
        format!(
            "'{} {} {}' : error detected in {} '{pname}' while parsing '{}' condition : {e}",
            l.arg(0),
            l.arg(1),
            l.arg(2),
            kind.name(),
            l.arg(i)
        )
    })
}

pub fn load_errorfile(code: &str, path: &str, c: &mut Checker<'_>) -> Result<(), String> {
    let _ = c;
    crate::config::external::load_errorfile(path, code).map(|_| ())
}

pub fn check_log(args: &[&str], c: &mut Checker<'_>) -> Result<(), String> {
    let _ = c;
    crate::config::logcfg::check_log_args(args)
}

pub fn lookup_user(name: &str) -> bool {
    crate::config::external::lookup_user(name).is_some()
}

pub fn lookup_group(name: &str) -> bool {
    crate::config::external::lookup_group(name).is_some()
}

pub fn resolve_host(host: &str) -> Option<String> {
    crate::config::addr::resolve_host(host).map(|ip| ip.to_string())
}

// === addresses ===

pub struct BindAddr {
    pub ip: Option<String>,
    pub path: Option<String>,
    pub fd: Option<i32>,
    pub port_low: u16,
    pub port_high: u16,
}

pub struct SrvAddr {
    pub host: Option<String>,
    pub ip: Option<String>,
    pub port: Option<u16>,
}

/// HAProxy's env_expand: `$VAR` and `${VAR}` expanded anywhere (used by
/// address parsing, which sees the unquoted text).
pub fn env_expand(s: &str, getenv: &dyn Fn(&str) -> Option<String>) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let (braced, start) = if b.get(i + 1) == Some(&b'{') {
                (true, i + 2)
            } else {
                (false, i + 1)
            };
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start && (!braced || b.get(j) == Some(&b'}')) {
                let name = &s[start..j];
                out.push_str(&getenv(name).unwrap_or_default());
                i = if braced { j + 1 } else { j };
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or('\0');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

pub fn parse_bind_addr(text: &str) -> Result<BindAddr, String> {
    use crate::config::addr;
    let a = addr::parse_addr(text, &addr::AddrOpts::bind())?;
    Ok(BindAddr {
        ip: a.ip.map(|i| i.to_string()),
        path: a.path,
        fd: a.fd,
        port_low: a.port_low,
        port_high: a.port_high,
    })
}

pub fn parse_stats_socket_addr(text: &str) -> Result<BindAddr, String> {
    use crate::config::addr;
    let a = addr::parse_addr(text, &addr::AddrOpts::stats_socket())?;
    Ok(BindAddr {
        ip: a.ip.map(|i| i.to_string()),
        path: a.path,
        fd: a.fd,
        port_low: a.port_low,
        port_high: a.port_high,
    })
}

pub fn parse_server_addr(text: &str) -> Result<SrvAddr, String> {
    use crate::config::addr;
    let a = addr::parse_addr(text, &addr::AddrOpts::server())?;
    Ok(SrvAddr {
        host: if a.ip.is_none() && a.path.is_none() {
            Some(a.host.unwrap_or_default())
        } else {
            None
        },
        ip: a.ip.map(|i| i.to_string()),
        port: a.has_port.then_some(a.port_low),
    })
}

/// The registry name of the keyword a line uses (`"stats socket"`,
/// `"timeout client"`, `"acl"`) when our status for it is `unsupported`.
pub fn unsupported_keyword(section: Section, words: &[&str]) -> Option<&'static str> {
    let k = g::registry().keyword_for_words(section, words)?;
    (k.status == Status::Unsupported).then_some(k.name)
}

pub fn unsupported_proxy_keyword(kind: ProxyKind, words: &[&str]) -> Option<&'static str> {
    unsupported_keyword(proxy_section(kind), words)
}

/// Whether a rule action is implemented (`ruleset` like `"http-request"`).
pub fn action_supported(ruleset: &str, action: &str) -> bool {
    g::registry()
        .action(ruleset, action)
        .is_some_and(|a| supported(a.status))
}
