//! Stage 2: AST → IR with HAProxy 2.6's checks and messages.
//!
//! Owns: walking the statements in order, dispatching each line to its
//! section's handler, the error bookkeeping that decides HAProxy's verdict
//! (fatal / abort / per-file summaries), then the post-parse validity checks
//! and server address resolution. Section handlers live in sibling files;
//! they record into the IR and report through [`Checker`] helpers, never by
//! printing.

mod defrefs;
mod gaps;
mod global;
mod inherit;
mod kw;
mod other;
mod post;
mod proxy;
mod server;

use super::ast::{Ast, Kwm, Stmt};
use super::diag::{Diagnostic, Diagnostics, Level};
use super::ir::{Config, Origin, Proxy, ProxyKind};
use std::collections::HashMap;

/// The outcome of checking a configuration.
#[derive(Debug)]
pub struct CheckResult {
    pub config: Config,
    pub diags: Diagnostics,
    /// Parsing or checking found an error (exit 1).
    pub failed: bool,
    /// Parsing stopped at an aborting error.
    pub aborted: bool,
}

/// One line handed to a section handler.
pub(crate) struct Line<'a> {
    pub file: &'a str,
    pub line: u32,
    pub words: Vec<&'a str>,
    pub kwm: Kwm,
}

impl Line<'_> {
    pub fn origin(&self) -> Origin {
        Origin {
            file: self.file.to_string(),
            line: self.line,
        }
    }
    /// Word `i`, or "" when absent (HAProxy's args[] past the end).
    pub fn arg(&self, i: usize) -> &str {
        self.words.get(i).copied().unwrap_or("")
    }
    pub fn owned_from(&self, i: usize) -> Vec<String> {
        self.words.iter().skip(i).map(|s| s.to_string()).collect()
    }
}

/// Which section the following lines belong to.
#[derive(Debug, Clone)]
pub(crate) enum Cur {
    None,
    Global,
    /// A proxy under construction; `None` when its header failed.
    Proxy(Option<usize>, ProxyKind),
    Defaults(Option<usize>),
    Other(other::OtherSection),
}

/// The checker state.
pub(crate) struct Checker<'a> {
    pub ast: &'a Ast,
    pub diags: Diagnostics,
    pub cfg: Config,
    pub cur: Cur,
    pub file_failed: bool,
    pub failed: bool,
    pub aborted: bool,
    /// Index in cfg.defaults of the last anonymous/named defaults.
    pub last_defaults: Option<usize>,
    pub named_defaults: HashMap<String, usize>,
    /// How each defaults section (by index) was referenced so far.
    pub defaults_refs: HashMap<usize, defrefs::DefaultsRefs>,
    /// Per-proxy: server name → declaration line (duplicate detection).
    pub other: other::OtherState,
    pub getenv: &'a dyn Fn(&str) -> Option<String>,
    pub base_dir: std::path::PathBuf,
    pub opts: Options,
    /// ACL names declared so far in the current proxy (condition checks).
    pub acl_names: std::collections::HashSet<String>,
    /// Stand-alone alerts HAProxy prints right after the current line's.
    pub pending_after: Vec<String>,
}

/// Command-line switches that change checking.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `-dr`: unresolvable server addresses disable the server (warning).
    pub ignore_resolve_failures: bool,
}

impl<'a> Checker<'a> {
    // === reporting helpers ===

    pub fn alert(&mut self, l: &Line<'_>, code: &'static str, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::at(Level::Alert, code, l.file, l.line, msg));
        self.fatal();
    }

    pub fn alert_tight(&mut self, l: &Line<'_>, code: &'static str, msg: impl Into<String>) {
        self.diags.push(Diagnostic::at_tight(
            Level::Alert,
            code,
            l.file,
            l.line,
            msg,
        ));
        self.fatal();
    }

    pub fn alert_bracket(&mut self, l: &Line<'_>, code: &'static str, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::bracket(Level::Alert, code, l.file, l.line, msg));
        self.fatal();
    }

    pub fn alert_raw(&mut self, l: &Line<'_>, code: &'static str, msg: &str, text: String) {
        self.diags.push(Diagnostic::raw(
            Level::Alert,
            code,
            l.file,
            l.line,
            msg,
            text,
        ));
        self.fatal();
    }

    pub fn alert_suggest(
        &mut self,
        l: &Line<'_>,
        code: &'static str,
        msg: String,
        suggestion: Option<&str>,
    ) {
        let text = match suggestion {
            Some(s) => format!("{msg}; did you mean '{s}' maybe ?"),
            None => msg,
        };
        self.diags.push(
            Diagnostic::at(Level::Alert, code, l.file, l.line, text).with_suggestion(suggestion),
        );
        self.fatal();
    }

    pub fn warn(&mut self, l: &Line<'_>, code: &'static str, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::at(Level::Warning, code, l.file, l.line, msg));
    }

    pub fn warn_plain(&mut self, code: &'static str, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::plain(Level::Warning, code, msg));
    }

    pub fn alert_plain(&mut self, code: &'static str, msg: impl Into<String>) {
        self.diags.push(Diagnostic::plain(Level::Alert, code, msg));
        self.failed = true;
    }

    pub fn fatal(&mut self) {
        self.file_failed = true;
        self.failed = true;
    }

    /// Records that a keyword we do not implement is used (NOTICE in `-c`,
    /// refusal at start-up).
    pub fn unsupported(&mut self, l: &Line<'_>, keyword: impl Into<String>) {
        self.cfg.unsupported.push(super::ir::UnsupportedUse {
            origin: l.origin(),
            keyword: keyword.into(),
        });
    }

    pub fn cur_proxy(&mut self) -> Option<&mut Proxy> {
        match self.cur {
            Cur::Proxy(Some(i), _) => self.cfg.proxies.get_mut(i),
            Cur::Defaults(Some(i)) => self.cfg.defaults.get_mut(i),
            _ => None,
        }
    }

    // === the walk ===

    fn run(&mut self) {
        let ast = self.ast;
        for stmt in &ast.stmts {
            match stmt {
                Stmt::Diag { diag, fatal, abort } => {
                    self.diags.push(diag.clone());
                    if *fatal {
                        self.fatal();
                    }
                    if *abort {
                        self.aborted = true;
                    }
                }
                Stmt::FileEnd { file } => {
                    self.end_section();
                    if self.file_failed || self.aborted {
                        let name = ast.files.get(*file).cloned().unwrap_or_default();
                        self.diags.push(Diagnostic::plain(
                            Level::Alert,
                            "file-errors",
                            format!("Error(s) found in configuration file : {name}"),
                        ));
                    }
                    self.file_failed = false;
                    self.cur = Cur::None;
                }
                Stmt::Line { loc, words, kwm } => {
                    let file = ast.files.get(loc.file).map(String::as_str).unwrap_or("");
                    let l = Line {
                        file,
                        line: loc.line,
                        words: words.iter().map(|w| w.text.as_str()).collect(),
                        kwm: *kwm,
                    };
                    self.line(&l);
                    for extra in std::mem::take(&mut self.pending_after) {
                        self.alert_plain("after-line", extra);
                    }
                }
            }
            if self.aborted {
                // The per-file summary still follows an abort.
                if let Some(Stmt::FileEnd { .. }) = Some(stmt) {
                    break;
                }
            }
        }
    }

    fn line(&mut self, l: &Line<'_>) {
        if self.aborted {
            return;
        }
        let kw = l.arg(0);
        if super::reader::is_section_keyword(kw) {
            self.end_section();
            self.start_section(l);
            return;
        }
        match self.cur.clone() {
            Cur::None => self.alert_tight(
                l,
                "out-of-section",
                format!("unknown keyword '{kw}' out of section."),
            ),
            Cur::Global => global::line(self, l),
            Cur::Proxy(None, _) | Cur::Defaults(None) => {
                self.alert(l, "no-proxy", "'listen' or 'defaults' expected.")
            }
            Cur::Proxy(Some(_), kind) => proxy::line(self, l, kind),
            Cur::Defaults(Some(_)) => proxy::line(self, l, ProxyKind::Defaults),
            Cur::Other(s) => other::line(self, l, s),
        }
    }

    fn start_section(&mut self, l: &Line<'_>) {
        self.acl_names.clear();
        match l.arg(0) {
            "global" => {
                if l.words.len() > 1 {
                    self.alert(
                        l,
                        "section-args",
                        format!("'global' cannot handle unexpected argument '{}'.", l.arg(1)),
                    );
                }
                self.cur = Cur::Global;
            }
            "defaults" | "frontend" | "backend" | "listen" => proxy::start(self, l),
            _ => other::start(self, l),
        }
    }

    fn end_section(&mut self) {
        if let Cur::Other(s) = self.cur.clone() {
            other::end(self, s);
        }
        self.cur = Cur::None;
    }
}

/// Checks a parsed AST. `base_dir` is where relative paths resolve.
pub fn check(ast: &Ast, getenv: &dyn Fn(&str) -> Option<String>, opts: Options) -> CheckResult {
    let mut c = Checker {
        ast,
        diags: Diagnostics::default(),
        cfg: Config::default(),
        cur: Cur::None,
        file_failed: false,
        failed: false,
        aborted: false,
        last_defaults: None,
        named_defaults: HashMap::new(),
        defaults_refs: HashMap::new(),
        other: other::OtherState::default(),
        getenv,
        base_dir: std::path::PathBuf::from("."),
        opts,
        acl_names: Default::default(),
        pending_after: Vec::new(),
    };
    c.run();
    if !c.aborted {
        if c.failed {
            c.diags.push(Diagnostic::plain(
                Level::Alert,
                "fatal",
                "Fatal errors found in configuration.",
            ));
        } else {
            post::run(&mut c);
        }
    }
    // After every diagnostic: the inherited lines are for the engines.
    inherit::apply(&mut c.cfg);
    CheckResult {
        config: c.cfg,
        diags: c.diags,
        failed: c.failed || c.aborted,
        aborted: c.aborted,
    }
}
