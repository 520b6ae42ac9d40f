//! Diagnostics: what `-c` reports, in HAProxy's exact text, and as JSON.
//!
//! Owns: the diagnostic record, its HAProxy rendering (`[ALERT]    (pid) :
//! config : ...`), the lazy start-up notices, and the JSON form. Must not
//! decide verdicts: the checker sets severities, the CLI picks exit codes.

use serde::Serialize;
use std::fmt::Write as _;

/// Severity as HAProxy prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Notice,
    Warning,
    Alert,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::Notice => "[NOTICE]   ",
            Level::Warning => "[WARNING]  ",
            Level::Alert => "[ALERT]    ",
        }
    }
}

/// One diagnostic. `text` is the complete HAProxy message after the
/// `config : ` context, location prefix included, so that printing is a
/// plain concatenation; `file`/`line`/`col` repeat the location for tools.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub level: Level,
    /// Whether HAProxy prints the `config : ` context before the text.
    #[serde(skip)]
    pub config_ctx: bool,
    pub code: &'static str,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub col: Option<u32>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    #[serde(skip)]
    pub text: String,
}

/// Collects diagnostics in emission order.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn count(&self, level: Level) -> usize {
        self.items.iter().filter(|d| d.level == level).count()
    }

    pub fn has_warnings(&self) -> bool {
        self.count(Level::Warning) > 0
    }

    /// Renders everything as HAProxy writes it on stderr. The two start-up
    /// notices are emitted lazily, just before the first warning or alert.
    pub fn render_haproxy(&self, pid: u32, exe: &str, version: &str) -> String {
        let mut out = String::new();
        let mut banner_done = false;
        for d in &self.items {
            if !banner_done && d.level != Level::Notice {
                let _ = writeln!(
                    out,
                    "{}({pid}) : haproxy version is {version}",
                    Level::Notice.tag()
                );
                let _ = writeln!(
                    out,
                    "{}({pid}) : path to executable is {exe}",
                    Level::Notice.tag()
                );
                banner_done = true;
            }
            let ctx = if d.config_ctx { "config : " } else { "" };
            let _ = writeln!(out, "{}({pid}) : {ctx}{}", d.level.tag(), d.text);
        }
        out
    }

    /// Machine-readable form for `-c --format json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "diagnostics": self.items })
    }
}

/// Builders for the diagnostic shapes HAProxy uses.
impl Diagnostic {
    /// A message with no location (post-parse checks, global notes).
    pub fn plain(level: Level, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Diagnostic {
            level,
            config_ctx: true,
            code,
            file: None,
            line: None,
            col: None,
            text: message.clone(),
            message,
            suggestion: None,
        }
    }

    /// `parsing [file:line] : msg` (the common keyword form).
    pub fn at(
        level: Level,
        code: &'static str,
        file: &str,
        line: u32,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        Diagnostic {
            text: format!("parsing [{file}:{line}] : {message}"),
            ..Self::located(level, code, file, line, message)
        }
    }

    /// `parsing [file:line]: msg` (tokenizer and preprocessor form).
    pub fn at_tight(
        level: Level,
        code: &'static str,
        file: &str,
        line: u32,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        Diagnostic {
            text: format!("parsing [{file}:{line}]: {message}"),
            ..Self::located(level, code, file, line, message)
        }
    }

    /// `[file:line] : msg` (server lines and a few others).
    pub fn bracket(
        level: Level,
        code: &'static str,
        file: &str,
        line: u32,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        Diagnostic {
            text: format!("[{file}:{line}] : {message}"),
            ..Self::located(level, code, file, line, message)
        }
    }

    /// Any other shape: the caller gives the complete text.
    pub fn raw(
        level: Level,
        code: &'static str,
        file: &str,
        line: u32,
        message: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Diagnostic {
            text: text.into(),
            ..Self::located(level, code, file, line, message.into())
        }
    }

    fn located(level: Level, code: &'static str, file: &str, line: u32, message: String) -> Self {
        Diagnostic {
            level,
            config_ctx: true,
            code,
            file: Some(file.to_string()),
            line: Some(line),
            col: None,
            text: String::new(),
            message,
            suggestion: None,
        }
    }

    pub fn with_col(mut self, col: u32) -> Self {
        self.col = Some(col);
        self
    }

    pub fn with_suggestion(mut self, s: Option<&str>) -> Self {
        self.suggestion = s.map(str::to_string);
        self
    }

    pub fn no_ctx(mut self) -> Self {
        self.config_ctx = false;
        self
    }
}
