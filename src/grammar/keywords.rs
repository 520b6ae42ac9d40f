//! Typed, load-once tables built from the declarative files in `grammar/`
//! (`sections.tsv`, `keywords.tsv`, `options.tsv`, `bind.tsv`, `server.tsv`,
//! `actions.tsv`, `cli.tsv`, `filters.tsv`).
//!
//! This module owns the configuration-keyword registry only. Sample fetches,
//! converters and ACL keywords live in [`crate::grammar::samples`]; this
//! module must not touch them. The data is embedded with `include_str!` and
//! parsed once into a [`Registry`] kept in a `OnceLock`; malformed lines are
//! skipped (and reported by [`Registry::errors`]) instead of panicking.

use std::sync::OnceLock;

/// Implementation status of a keyword in Switchyard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Parsed and implemented.
    Supported,
    /// Accepted and ignored: it has no effect on proxy behaviour.
    NoOp,
    /// Valid HAProxy 2.6 syntax that Switchyard does not implement.
    Unsupported,
    /// Removed from HAProxy: 2.6 itself rejects it with the alert in `notes`.
    Removed,
}

impl Status {
    /// Parses the `status` column.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "supported" => Some(Status::Supported),
            "no-op" => Some(Status::NoOp),
            "unsupported" => Some(Status::Unsupported),
            "removed" => Some(Status::Removed),
            _ => None,
        }
    }

    /// The spelling used in the TSV files and in `docs/compatibility.md`.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Supported => "supported",
            Status::NoOp => "no-op",
            Status::Unsupported => "unsupported",
            Status::Removed => "removed",
        }
    }
}

/// A configuration section type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Global,
    Defaults,
    Frontend,
    Backend,
    Listen,
    Userlist,
    Peers,
    Resolvers,
    Mailers,
    Cache,
    HttpErrors,
    Ring,
    Program,
    /// `log-forward` (extension of the original list).
    LogForward,
    /// `fcgi-app` (extension of the original list).
    FcgiApp,
}

impl Section {
    /// Every section, in documentation order.
    pub const ALL: [Section; 15] = [
        Section::Global,
        Section::Defaults,
        Section::Frontend,
        Section::Listen,
        Section::Backend,
        Section::Userlist,
        Section::Peers,
        Section::Resolvers,
        Section::Mailers,
        Section::Cache,
        Section::HttpErrors,
        Section::Ring,
        Section::Program,
        Section::LogForward,
        Section::FcgiApp,
    ];

    /// The section a header keyword opens (`"frontend"` → `Frontend`).
    pub fn from_keyword(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|sec| sec.name() == s)
    }

    /// The header keyword of this section.
    pub fn name(&self) -> &'static str {
        match self {
            Section::Global => "global",
            Section::Defaults => "defaults",
            Section::Frontend => "frontend",
            Section::Backend => "backend",
            Section::Listen => "listen",
            Section::Userlist => "userlist",
            Section::Peers => "peers",
            Section::Resolvers => "resolvers",
            Section::Mailers => "mailers",
            Section::Cache => "cache",
            Section::HttpErrors => "http-errors",
            Section::Ring => "ring",
            Section::Program => "program",
            Section::LogForward => "log-forward",
            Section::FcgiApp => "fcgi-app",
        }
    }

    /// True for defaults/frontend/listen/backend.
    pub fn is_proxy(&self) -> bool {
        matches!(
            self,
            Section::Defaults | Section::Frontend | Section::Backend | Section::Listen
        )
    }

    /// Bit used in [`OptionDef::sections`].
    pub fn proxy_bit(&self) -> u8 {
        match self {
            Section::Defaults => PROXY_DEFAULTS,
            Section::Frontend => PROXY_FRONTEND,
            Section::Listen => PROXY_LISTEN,
            Section::Backend => PROXY_BACKEND,
            _ => 0,
        }
    }
}

/// [`OptionDef::sections`] bit: accepted in `defaults`.
pub const PROXY_DEFAULTS: u8 = 1;
/// [`OptionDef::sections`] bit: accepted in `frontend`.
pub const PROXY_FRONTEND: u8 = 2;
/// [`OptionDef::sections`] bit: accepted in `listen`.
pub const PROXY_LISTEN: u8 = 4;
/// [`OptionDef::sections`] bit: accepted in `backend`.
pub const PROXY_BACKEND: u8 = 8;

/// How HAProxy knows a keyword; decides `-dKcfg` output and did-you-mean candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// In a keyword table: printed by `-dKcfg`, always a did-you-mean candidate.
    Table,
    /// Hard-coded, but listed in HAProxy's extra did-you-mean word list.
    Common,
    /// Hard-coded and never suggested.
    Hidden,
}

impl Registration {
    fn parse(s: &str) -> Option<Registration> {
        match s {
            "yes" => Some(Registration::Table),
            "common" => Some(Registration::Common),
            "no" => Some(Registration::Hidden),
            _ => None,
        }
    }
}

/// A section header (`sections.tsv`).
#[derive(Debug, Clone)]
pub struct SectionDef {
    pub section: Section,
    pub status: Status,
    pub notes: &'static str,
}

/// A keyword of a section (`keywords.tsv`). `name` may hold several words
/// (`"timeout client"`, `"stats socket"`).
#[derive(Debug, Clone)]
pub struct Keyword {
    pub section: Section,
    pub name: &'static str,
    pub status: Status,
    pub registered: Registration,
    /// For [`Status::Removed`]: HAProxy's alert, `{loc}` = `file:line`, `{arg1}` = first argument.
    pub notes: &'static str,
}

impl Keyword {
    /// First word of the keyword (`"timeout client"` → `"timeout"`).
    pub fn first_word(&self) -> &'static str {
        self.name.split(' ').next().unwrap_or(self.name)
    }

    /// The alert HAProxy prints for a removed keyword, after `[ALERT] ... : config : `.
    pub fn removed_alert(&self, file: &str, line: usize, arg1: &str) -> Option<String> {
        if self.status != Status::Removed {
            return None;
        }
        Some(fill_alert(self.notes, file, line, arg1))
    }
}

/// Substitutes `{loc}` and `{arg1}` in an alert template.
pub fn fill_alert(template: &str, file: &str, line: usize, arg1: &str) -> String {
    template
        .replace("{loc}", &format!("{file}:{line}"))
        .replace("{arg1}", arg1)
}

/// An `option X` (`options.tsv`).
#[derive(Debug, Clone)]
pub struct OptionDef {
    pub name: &'static str,
    /// `PROXY_*` bits of the sections accepting it.
    pub sections: u8,
    /// `no option X` / `default option X` allowed.
    pub allows_no: bool,
    /// HAProxy ignores it with a warning outside `mode http`.
    pub http_only: bool,
    pub status: Status,
    pub registered: Registration,
    /// Flags printed by `-dKcfg` (`"FE HTTP"`), empty if not table-registered.
    pub dump_flags: &'static str,
    pub notes: &'static str,
}

impl OptionDef {
    /// Whether `section` accepts this option.
    pub fn allowed_in(&self, section: Section) -> bool {
        self.sections & section.proxy_bit() != 0
    }
}

/// A `bind` or `server` keyword (`bind.tsv`, `server.tsv`).
#[derive(Debug, Clone)]
pub struct ArgKw {
    pub name: &'static str,
    /// Number of arguments following the keyword.
    pub args: u8,
    /// Takes a variable number of arguments (`-dKcfg` prints `+-1`).
    pub variable_args: bool,
    /// Accepted on `default-server` lines (always false for bind keywords).
    pub default_server: bool,
    /// Bind keywords only: registered in the SSL list.
    pub ssl: bool,
    /// Bind keywords only: also valid on crt-list lines.
    pub crt_list: bool,
    /// Bind keywords only: valid on crt-list lines but not on bind lines.
    pub crt_list_only: bool,
    pub status: Status,
    pub notes: &'static str,
}

/// A rule action (`actions.tsv`).
#[derive(Debug, Clone)]
pub struct ActionDef {
    /// `"http-request"`, `"tcp-request content"`, ...
    pub ruleset: &'static str,
    /// Action name without the trailing `*`.
    pub name: &'static str,
    /// Name is a prefix (`set-var` matches `set-var(txn.x)`).
    pub prefix: bool,
    pub status: Status,
    /// Registered in a keyword list (printed by `-dKcfg`).
    pub registered: bool,
    pub notes: &'static str,
}

impl ActionDef {
    /// Whether the word `w` selects this action.
    pub fn matches(&self, w: &str) -> bool {
        if self.prefix {
            w.starts_with(self.name)
        } else {
            w == self.name
        }
    }
}

/// A CLI command (`cli.tsv`).
#[derive(Debug, Clone)]
pub struct CliDef {
    /// Command words joined by one space (`"show stat"`).
    pub command: &'static str,
    pub master: bool,
    pub worker: bool,
    pub expert: bool,
    pub experimental: bool,
    pub status: Status,
    pub notes: &'static str,
}

/// A filter or service name (`filters.tsv`).
#[derive(Debug, Clone)]
pub struct FilterDef {
    /// True for `filter <name>` entries, false for `use-service <name>` services.
    pub is_filter: bool,
    pub name: &'static str,
    pub tag: &'static str,
    pub status: Status,
    pub notes: &'static str,
}

/// The whole configuration-keyword registry.
#[derive(Debug, Default)]
pub struct Registry {
    sections: Vec<SectionDef>,
    keywords: Vec<Keyword>,
    options: Vec<OptionDef>,
    bind: Vec<ArgKw>,
    server: Vec<ArgKw>,
    actions: Vec<ActionDef>,
    cli: Vec<CliDef>,
    filters: Vec<FilterDef>,
    errors: Vec<String>,
    /// section → exact name → index in `keywords`.
    kw_exact: std::collections::HashMap<Section, std::collections::HashMap<&'static str, usize>>,
    /// section → first word → first matching index in `keywords`.
    kw_first: std::collections::HashMap<Section, std::collections::HashMap<&'static str, usize>>,
    server_index: std::collections::HashMap<&'static str, usize>,
    bind_index: std::collections::HashMap<&'static str, usize>,
}

pub(crate) const SECTIONS_TSV: &str = include_str!("../../grammar/sections.tsv");
pub(crate) const KEYWORDS_TSV: &str = include_str!("../../grammar/keywords.tsv");
pub(crate) const OPTIONS_TSV: &str = include_str!("../../grammar/options.tsv");
pub(crate) const BIND_TSV: &str = include_str!("../../grammar/bind.tsv");
pub(crate) const SERVER_TSV: &str = include_str!("../../grammar/server.tsv");
pub(crate) const ACTIONS_TSV: &str = include_str!("../../grammar/actions.tsv");
pub(crate) const CLI_TSV: &str = include_str!("../../grammar/cli.tsv");
pub(crate) const FILTERS_TSV: &str = include_str!("../../grammar/filters.tsv");

/// The registry, parsed on first use.
pub fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(Registry::load)
}

/// Data rows of a TSV file: skips comments, blank lines and the header;
/// yields (line number, fields).
fn rows(
    file: &'static str,
    text: &'static str,
) -> impl Iterator<Item = (&'static str, usize, Vec<&'static str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .skip(1)
        .map(move |(n, l)| (file, n + 1, l.split('\t').collect()))
}

fn yes(s: &str) -> Option<bool> {
    match s {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn field(f: &[&'static str], i: usize) -> &'static str {
    f.get(i).copied().unwrap_or("")
}

impl Registry {
    fn load() -> Registry {
        let mut r = Registry::default();
        for (file, n, f) in rows("sections.tsv", SECTIONS_TSV) {
            match (
                Section::from_keyword(field(&f, 0)),
                Status::parse(field(&f, 1)),
            ) {
                (Some(section), Some(status)) => r.sections.push(SectionDef {
                    section,
                    status,
                    notes: field(&f, 2),
                }),
                _ => r.errors.push(format!("{file}:{n}: bad row")),
            }
        }
        for (file, n, f) in rows("keywords.tsv", KEYWORDS_TSV) {
            match (
                Section::from_keyword(field(&f, 0)),
                Status::parse(field(&f, 2)),
                Registration::parse(field(&f, 3)),
            ) {
                (Some(section), Some(status), Some(registered)) if !field(&f, 1).is_empty() => {
                    r.keywords.push(Keyword {
                        section,
                        name: field(&f, 1),
                        status,
                        registered,
                        notes: field(&f, 4),
                    })
                }
                _ => r.errors.push(format!("{file}:{n}: bad row")),
            }
        }
        for (file, n, f) in rows("options.tsv", OPTIONS_TSV) {
            let sections = field(&f, 1).chars().try_fold(0u8, |acc, c| {
                let bit = match c {
                    'd' => PROXY_DEFAULTS,
                    'f' => PROXY_FRONTEND,
                    'l' => PROXY_LISTEN,
                    'b' => PROXY_BACKEND,
                    _ => return None,
                };
                Some(acc | bit)
            });
            match (
                sections,
                yes(field(&f, 2)),
                yes(field(&f, 3)),
                Status::parse(field(&f, 4)),
                Registration::parse(field(&f, 5)),
            ) {
                (Some(sections), Some(allows_no), Some(http_only), Some(status), Some(reg)) => {
                    r.options.push(OptionDef {
                        name: field(&f, 0),
                        sections,
                        allows_no,
                        http_only,
                        status,
                        registered: reg,
                        dump_flags: field(&f, 6),
                        notes: field(&f, 7),
                    })
                }
                _ => r.errors.push(format!("{file}:{n}: bad row")),
            }
        }
        for (file, n, f) in rows("bind.tsv", BIND_TSV) {
            let scope = field(&f, 1);
            match (
                parse_args(field(&f, 2)),
                yes(field(&f, 3)),
                Status::parse(field(&f, 4)),
            ) {
                (Some((args, variable_args)), Some(crt_list), Some(status))
                    if matches!(scope, "" | "ssl" | "crt-list") =>
                {
                    r.bind.push(ArgKw {
                        name: field(&f, 0),
                        args,
                        variable_args,
                        default_server: false,
                        ssl: scope == "ssl",
                        crt_list,
                        crt_list_only: scope == "crt-list",
                        status,
                        notes: field(&f, 5),
                    })
                }
                _ => r.errors.push(format!("{file}:{n}: bad row")),
            }
        }
        for (file, n, f) in rows("server.tsv", SERVER_TSV) {
            match (
                parse_args(field(&f, 1)),
                yes(field(&f, 2)),
                Status::parse(field(&f, 3)),
            ) {
                (Some((args, variable_args)), Some(default_server), Some(status)) => {
                    r.server.push(ArgKw {
                        name: field(&f, 0),
                        args,
                        variable_args,
                        default_server,
                        ssl: false,
                        crt_list: false,
                        crt_list_only: false,
                        status,
                        notes: field(&f, 4),
                    })
                }
                _ => r.errors.push(format!("{file}:{n}: bad row")),
            }
        }
        for (file, n, f) in rows("actions.tsv", ACTIONS_TSV) {
            let raw = field(&f, 1);
            let (name, prefix) = match raw.strip_suffix('*') {
                Some(p) => (p, true),
                None => (raw, false),
            };
            match (Status::parse(field(&f, 2)), yes(field(&f, 3))) {
                (Some(status), Some(registered)) if !name.is_empty() => r.actions.push(ActionDef {
                    ruleset: field(&f, 0),
                    name,
                    prefix,
                    status,
                    registered,
                    notes: field(&f, 4),
                }),
                _ => r.errors.push(format!("{file}:{n}: bad row")),
            }
        }
        for (file, n, f) in rows("cli.tsv", CLI_TSV) {
            let level = field(&f, 1);
            let has = |w: &str| level.split(',').any(|x| x == w);
            let known = level
                .split(',')
                .all(|x| matches!(x, "master" | "worker" | "expert" | "experimental"));
            match Status::parse(field(&f, 2)) {
                Some(status) if known && !field(&f, 0).is_empty() => r.cli.push(CliDef {
                    command: field(&f, 0),
                    master: has("master"),
                    worker: has("worker"),
                    expert: has("expert"),
                    experimental: has("experimental"),
                    status,
                    notes: field(&f, 3),
                }),
                _ => r.errors.push(format!("{file}:{n}: bad row")),
            }
        }
        for (file, n, f) in rows("filters.tsv", FILTERS_TSV) {
            let kind = field(&f, 0);
            match Status::parse(field(&f, 3)) {
                Some(status) if matches!(kind, "filter" | "service") => r.filters.push(FilterDef {
                    is_filter: kind == "filter",
                    name: field(&f, 1),
                    tag: field(&f, 2),
                    status,
                    notes: field(&f, 4),
                }),
                _ => r.errors.push(format!("{file}:{n}: bad row")),
            }
        }
        r.build_indexes();
        r
    }

    /// Hash indexes so that lookups cost O(1) per configuration line.
    fn build_indexes(&mut self) {
        for (i, k) in self.keywords.iter().enumerate() {
            self.kw_exact
                .entry(k.section)
                .or_default()
                .entry(k.name)
                .or_insert(i);
            self.kw_first
                .entry(k.section)
                .or_default()
                .entry(k.first_word())
                .or_insert(i);
        }
        for (i, k) in self.server.iter().enumerate() {
            self.server_index.entry(k.name).or_insert(i);
        }
        for (i, k) in self.bind.iter().enumerate() {
            if !k.crt_list_only {
                self.bind_index.entry(k.name).or_insert(i);
            }
        }
    }

    /// Rows that failed to parse (empty for the committed data; a test checks it).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Section headers with their status.
    pub fn sections(&self) -> impl Iterator<Item = &SectionDef> {
        self.sections.iter()
    }

    /// A keyword of `section`: exact (possibly multi-word) name first, else the
    /// first row whose first word is `name` (`"timeout"` finds `"timeout client"`).
    pub fn keyword(&self, section: Section, name: &str) -> Option<&Keyword> {
        let exact = self.kw_exact.get(&section).and_then(|m| m.get(name));
        exact
            .or_else(|| self.kw_first.get(&section).and_then(|m| m.get(name)))
            .and_then(|&i| self.keywords.get(i))
    }

    /// The most specific keyword of `section` matching the leading `words` of a line.
    pub fn keyword_for_words(&self, section: Section, words: &[&str]) -> Option<&Keyword> {
        (1..=words.len().min(3)).rev().find_map(|n| {
            let name = if n == 1 {
                std::borrow::Cow::Borrowed(words[0])
            } else {
                std::borrow::Cow::Owned(words[..n].join(" "))
            };
            self.kw_exact
                .get(&section)
                .and_then(|m| m.get(name.as_ref()))
                .and_then(|&i| self.keywords.get(i))
        })
    }

    /// All keywords of `section`, in file order.
    pub fn keywords(&self, section: Section) -> impl Iterator<Item = &Keyword> {
        self.keywords.iter().filter(move |k| k.section == section)
    }

    /// An `option` by name.
    pub fn option(&self, name: &str) -> Option<&OptionDef> {
        self.options.iter().find(|o| o.name == name)
    }

    /// All options, in file order.
    pub fn options(&self) -> impl Iterator<Item = &OptionDef> {
        self.options.iter()
    }

    /// A bind keyword (any scope).
    pub fn bind_kw(&self, name: &str) -> Option<&ArgKw> {
        self.bind_index.get(name).and_then(|&i| self.bind.get(i))
    }

    /// All bind keywords (including crt-list-only ones).
    pub fn bind_kws(&self) -> impl Iterator<Item = &ArgKw> {
        self.bind.iter()
    }

    /// A server / default-server keyword.
    pub fn server_kw(&self, name: &str) -> Option<&ArgKw> {
        self.server_index
            .get(name)
            .and_then(|&i| self.server.get(i))
    }

    /// All server keywords.
    pub fn server_kws(&self) -> impl Iterator<Item = &ArgKw> {
        self.server.iter()
    }

    /// The action selected by word `name` in `ruleset`: an exact name wins,
    /// else the longest matching prefix (`sc-inc-gpc0(1)` → `sc-inc-gpc0`).
    pub fn action(&self, ruleset: &str, name: &str) -> Option<&ActionDef> {
        let it = self.actions.iter().filter(|a| a.ruleset == ruleset);
        it.clone()
            .find(|a| !a.prefix && a.name == name)
            .or_else(|| {
                it.filter(|a| a.prefix && a.matches(name))
                    .max_by_key(|a| a.name.len())
            })
    }

    /// All actions of `ruleset`.
    pub fn actions<'a>(&'a self, ruleset: &'a str) -> impl Iterator<Item = &'a ActionDef> {
        self.actions.iter().filter(move |a| a.ruleset == ruleset)
    }

    /// All CLI commands, in `-dKcli` order.
    pub fn cli_commands(&self) -> impl Iterator<Item = &CliDef> {
        self.cli.iter()
    }

    /// Filter and service names.
    pub fn filters(&self) -> impl Iterator<Item = &FilterDef> {
        self.filters.iter()
    }
}

fn parse_args(s: &str) -> Option<(u8, bool)> {
    if s == "-1" {
        return Some((0, true));
    }
    s.parse::<u8>().ok().map(|n| (n, false))
}
