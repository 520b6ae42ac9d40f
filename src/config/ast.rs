//! The configuration AST: every statement with its location, in file order.
//!
//! Owns: the shape produced by [`crate::config::reader`] and consumed by the
//! checker. It keeps line-level diagnostics (tokenizer, `.if`, `.alert` ...)
//! in place so the checker can emit everything in HAProxy's order. Must not
//! carry any semantic interpretation.

use super::diag::Diagnostic;
use super::lexer::Word;
use std::fmt::Write as _;

/// Where a statement comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Loc {
    /// Index into [`Ast::files`].
    pub file: usize,
    pub line: u32,
}

/// `no` / `default` keyword modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Kwm {
    Std,
    No,
    Default,
}

/// One statement.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// A configuration line (section header or keyword line). For `no`/
    /// `default` lines the modifier is removed from `words` and kept in `kwm`.
    Line {
        loc: Loc,
        words: Vec<Word>,
        kwm: Kwm,
    },
    /// A line-level diagnostic produced while reading. `fatal` marks errors
    /// that fail the configuration; `abort` stops everything after it.
    Diag {
        diag: Diagnostic,
        fatal: bool,
        abort: bool,
    },
    /// End of one file (per-file error summary happens here).
    FileEnd { file: usize },
}

/// The whole parsed configuration.
#[derive(Debug, Clone, Default)]
pub struct Ast {
    pub files: Vec<String>,
    pub stmts: Vec<Stmt>,
}

impl Ast {
    /// Prints the statements back as configuration text (one line per
    /// statement, words quoted so that reading them again yields the same
    /// words). Used by the round-trip property test and `--dump-ast`.
    pub fn to_config_text(&self) -> String {
        let mut out = String::new();
        for s in &self.stmts {
            if let Stmt::Line { words, kwm, .. } = s {
                match kwm {
                    Kwm::No => out.push_str("no "),
                    Kwm::Default => out.push_str("default "),
                    Kwm::Std => {}
                }
                let mut first = true;
                for w in words {
                    if !first {
                        out.push(' ');
                    }
                    first = false;
                    let _ = write!(out, "{}", quote_word(&w.text));
                }
                out.push('\n');
            }
        }
        out
    }
}

/// Quotes a word so the tokenizer reads it back unchanged.
pub fn quote_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\' | b'#' | b'$'));
    if plain {
        return w.to_string();
    }
    // single quotes keep everything literal except the quote itself
    let mut s = String::from("'");
    for ch in w.chars() {
        match ch {
            '\'' => s.push_str("'\\''"),
            '\n' => s.push_str("'\\n'"),
            '\r' => s.push_str("'\\r'"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(s, "'\\x{:02x}'", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('\'');
    s
}
