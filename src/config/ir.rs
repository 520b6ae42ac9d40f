//! The resolved configuration (IR) the engines consume: defaults already
//! inherited, references checked, addresses and units parsed.
//!
//! Owns: plain data types, serialisable for `--dump-config`. Must not hold
//! runtime state (counters, connections): those live in the runtime layer
//! and point back here by index.

use serde::Serialize;
use std::collections::BTreeMap;

/// Where something was declared: file name and line.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: u32,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Tcp,
    Http,
    Log,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Tcp => "tcp",
            Mode::Http => "http",
            Mode::Log => "log",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProxyKind {
    Defaults,
    Frontend,
    Backend,
    Listen,
}

impl ProxyKind {
    pub fn name(self) -> &'static str {
        match self {
            ProxyKind::Defaults => "defaults",
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }
    pub fn has_fe(self) -> bool {
        matches!(
            self,
            ProxyKind::Frontend | ProxyKind::Listen | ProxyKind::Defaults
        )
    }
    pub fn has_be(self) -> bool {
        matches!(
            self,
            ProxyKind::Backend | ProxyKind::Listen | ProxyKind::Defaults
        )
    }
}

/// Timeouts in milliseconds (absent = not set).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timeouts {
    pub client: Option<u32>,
    pub server: Option<u32>,
    pub connect: Option<u32>,
    pub queue: Option<u32>,
    pub tunnel: Option<u32>,
    pub http_request: Option<u32>,
    pub http_keep_alive: Option<u32>,
    pub client_fin: Option<u32>,
    pub server_fin: Option<u32>,
    pub tarpit: Option<u32>,
    pub check: Option<u32>,
}

/// A listening address (`bind`).
#[derive(Debug, Clone, Serialize)]
pub struct Bind {
    pub origin: Origin,
    /// The address text as written (after expansion).
    pub addr: String,
    pub ip: Option<String>,
    pub path: Option<String>,
    pub fd: Option<i32>,
    pub port_low: u16,
    pub port_high: u16,
    /// Remaining bind options, keyword → arguments.
    pub options: Vec<(String, Vec<String>)>,
}

/// A server line (`server`).
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    pub origin: Origin,
    pub name: String,
    pub addr: String,
    pub host: Option<String>,
    pub ip: Option<String>,
    pub port: Option<u16>,
    pub weight: u32,
    pub backup: bool,
    pub check: bool,
    pub disabled: bool,
    pub maxconn: Option<u32>,
    pub track: Option<String>,
    pub options: Vec<(String, Vec<String>)>,
}

/// One generic rule line kept for the engines (`http-request ...`).
#[derive(Debug, Clone, Serialize)]
pub struct RawRule {
    pub origin: Origin,
    pub words: Vec<String>,
}

/// `use_backend` rule.
#[derive(Debug, Clone, Serialize)]
pub struct UseBackend {
    pub origin: Origin,
    pub backend: String,
    pub cond: Vec<String>,
}

/// A proxy (frontend, backend, listen, or a defaults section).
#[derive(Debug, Clone, Serialize)]
pub struct Proxy {
    pub name: String,
    pub kind: ProxyKind,
    pub origin: Origin,
    pub mode: Mode,
    pub disabled: bool,
    pub maxconn: Option<u32>,
    pub retries: Option<u32>,
    pub balance: Option<Vec<String>>,
    /// `hash-type` arguments (inherited from defaults like `balance`).
    pub hash_type: Option<Vec<String>>,
    pub timeouts: Timeouts,
    /// `option X` (true) / `no option X` (false).
    pub options: BTreeMap<String, bool>,
    pub binds: Vec<Bind>,
    pub servers: Vec<Server>,
    pub default_server: Vec<(String, Vec<String>)>,
    pub default_backend: Option<(String, Origin)>,
    pub use_backends: Vec<UseBackend>,
    pub acls: Vec<RawRule>,
    pub rules: Vec<RawRule>,
    pub cookie: Option<Vec<String>>,
    pub stats: Vec<RawRule>,
    pub has_log: bool,
    pub has_log_format: bool,
    /// Where `option httplog`/`httpslog` was last set (checked after parsing).
    pub httplog_origin: Option<Origin>,
    /// Every directive line as written, for engines that read more later.
    /// After checking, the inheritable lines of the proxy's defaults section
    /// come first (see [`crate::config::check`]'s inheritance pass), so an
    /// engine taking the last matching line sees the proxy's own line win.
    pub directives: Vec<RawRule>,
    /// The name of the `defaults` section this proxy inherits from (`from
    /// <name>` or the last one declared before it; empty for an anonymous
    /// one), `None` when there is none.
    pub defaults_from: Option<String>,
    /// Index in [`Config::defaults`] of that section.
    pub defaults_idx: Option<usize>,
}

impl Proxy {
    pub fn new(name: &str, kind: ProxyKind, origin: Origin) -> Self {
        Proxy {
            name: name.to_string(),
            kind,
            origin,
            mode: Mode::Tcp,
            disabled: false,
            maxconn: None,
            retries: None,
            balance: None,
            hash_type: None,
            timeouts: Timeouts::default(),
            options: BTreeMap::new(),
            binds: Vec::new(),
            servers: Vec::new(),
            default_server: Vec::new(),
            default_backend: None,
            use_backends: Vec::new(),
            acls: Vec::new(),
            rules: Vec::new(),
            cookie: None,
            stats: Vec::new(),
            has_log: false,
            has_log_format: false,
            httplog_origin: None,
            directives: Vec::new(),
            defaults_from: None,
            defaults_idx: None,
        }
    }

    pub fn option(&self, name: &str) -> bool {
        self.options.get(name).copied().unwrap_or(false)
    }

    /// The inheritable part of a defaults section, applied to a new proxy
    /// (HAProxy's proxy_defproxy_cpy, reduced to what the IR models).
    pub fn inherit_from(&mut self, d: &Proxy) {
        self.mode = d.mode;
        self.maxconn = d.maxconn;
        self.retries = d.retries;
        self.timeouts = d.timeouts.clone();
        self.options = d.options.clone();
        self.default_server = d.default_server.clone();
        self.has_log = d.has_log;
        self.has_log_format = d.has_log_format;
        if self.kind.has_be() {
            self.balance = d.balance.clone();
            self.hash_type = d.hash_type.clone();
            self.cookie = d.cookie.clone();
        }
        if self.kind.has_fe() {
            self.default_backend = d.default_backend.clone();
        }
    }
}

/// `stats socket` in global.
#[derive(Debug, Clone, Serialize)]
pub struct StatsSocket {
    pub origin: Origin,
    pub addr: String,
    pub path: Option<String>,
    pub ip: Option<String>,
    pub port: u16,
    pub options: Vec<(String, Vec<String>)>,
}

/// The `global` section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Global {
    pub maxconn: Option<u32>,
    pub nbthread: Option<u32>,
    pub daemon: bool,
    pub master_worker: bool,
    pub pidfile: Option<String>,
    pub stats_sockets: Vec<StatsSocket>,
    pub zero_warning: bool,
    /// `no strict-limits`: failing to raise the fd limit is not fatal.
    pub no_strict_limits: bool,
    pub directives: Vec<RawRule>,
}

/// A keyword we know but do not implement yet, as used by this config.
#[derive(Debug, Clone, Serialize)]
pub struct UnsupportedUse {
    pub origin: Origin,
    pub keyword: String,
}

/// A `user` password in a `userlist`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Password {
    /// No password given: the user can never authenticate.
    None,
    /// `insecure-password <clear text>`.
    Insecure(String),
    /// `password <crypt(3) hash>`, checked with the system crypt(3).
    Crypt(String),
}

/// A `user` line of a `userlist`.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub origin: Origin,
    pub name: String,
    pub password: Password,
    /// Groups named on the `user` line (`groups a,b`).
    pub groups: Vec<String>,
}

/// A `group` line of a `userlist`.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub origin: Origin,
    pub name: String,
    /// Users named on the `group` line (`users a,b`).
    pub users: Vec<String>,
}

/// A `userlist` section (`http_auth(<name>)`, `http_auth_group(<name>)`).
#[derive(Debug, Clone, Serialize)]
pub struct Userlist {
    pub origin: Origin,
    pub name: String,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
}

impl Userlist {
    /// The user called `name` (the first one declared).
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Whether user `user` belongs to group `group` (named on either line).
    pub fn in_group(&self, user: &str, group: &str) -> bool {
        self.user(user)
            .is_some_and(|u| u.groups.iter().any(|g| g == group))
            || self
                .groups
                .iter()
                .any(|g| g.name == group && g.users.iter().any(|u| u == user))
    }
}

/// One `errorfile <code> <file>` line of an `http-errors` section.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorFile {
    pub origin: Origin,
    pub code: u16,
    pub path: String,
}

/// An `http-errors` section (`errorfiles <name>`, `http-error ... errorfiles`).
#[derive(Debug, Clone, Serialize)]
pub struct HttpErrors {
    pub origin: Origin,
    pub name: String,
    pub files: Vec<ErrorFile>,
}

/// The whole resolved configuration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Config {
    pub global: Global,
    pub defaults: Vec<Proxy>,
    pub proxies: Vec<Proxy>,
    pub unsupported: Vec<UnsupportedUse>,
    pub userlists: Vec<Userlist>,
    pub http_errors: Vec<HttpErrors>,
}

impl Config {
    pub fn proxy(&self, name: &str) -> Option<&Proxy> {
        self.proxies.iter().find(|p| p.name == name)
    }

    /// The `defaults` section `p` inherits from (`from <name>`, else the
    /// last one declared before it).
    pub fn defaults_of(&self, p: &Proxy) -> Option<&Proxy> {
        p.defaults_idx.and_then(|i| self.defaults.get(i))
    }

    /// The `userlist` called `name`.
    pub fn userlist(&self, name: &str) -> Option<&Userlist> {
        self.userlists.iter().find(|u| u.name == name)
    }

    /// The `http-errors` section called `name`.
    pub fn http_errors(&self, name: &str) -> Option<&HttpErrors> {
        self.http_errors.iter().find(|h| h.name == name)
    }

    /// Whether anything would listen (HAProxy's exit 2 rule).
    pub fn has_listener(&self) -> bool {
        !self.global.stats_sockets.is_empty()
            || self
                .proxies
                .iter()
                .any(|p| p.kind.has_fe() && !p.disabled && !p.binds.is_empty())
    }
}
