//! Stage 1: files → [`Ast`]. Line splitting, the tokenizer, `no`/`default`
//! modifiers, conditional blocks and `.notice/.warning/.alert/.diag`.
//!
//! Owns: HAProxy's `parse_cfg` line loop semantics (missing final LF, stray
//! NUL, `.if` nesting, which errors abort). Must not know keywords beyond
//! the preprocessor directives.

use super::ast::{Ast, Kwm, Loc, Stmt};
use super::cond;
use super::diag::{Diagnostic, Level};
use super::lexer::{self, LexError};
use super::source::SourceFile;

const MAX_NESTED_CONDS: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum CondState {
    IfTake,
    IfDrop,
    IfSkip,
    ElifTake,
    ElifDrop,
    ElifSkip,
    ElseTake,
    ElseDrop,
}

impl CondState {
    fn masks(self) -> bool {
        matches!(
            self,
            CondState::IfDrop
                | CondState::IfSkip
                | CondState::ElifDrop
                | CondState::ElifSkip
                | CondState::ElseDrop
        )
    }
    fn taken_or_skipped(self) -> bool {
        matches!(
            self,
            CondState::IfTake | CondState::IfSkip | CondState::ElifTake | CondState::ElifSkip
        )
    }
}

/// Environment lookup used for `${VAR}` and `defined()`.
pub type GetEnv<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads all files into one AST. Stops early after an aborting error, as
/// HAProxy does.
pub fn read_all(files: &[SourceFile], getenv: GetEnv<'_>) -> Ast {
    let mut ast = Ast::default();
    for (idx, f) in files.iter().enumerate() {
        ast.files.push(f.name.clone());
        let aborted = read_file(idx, f, getenv, &mut ast.stmts);
        ast.stmts.push(Stmt::FileEnd { file: idx });
        if aborted {
            break;
        }
    }
    ast
}

/// Reads one file, appending statements. Returns true when parsing aborted.
fn read_file(idx: usize, f: &SourceFile, getenv: GetEnv<'_>, out: &mut Vec<Stmt>) -> bool {
    let name = f.name.as_str();
    let mut conds: Vec<CondState> = Vec::new();
    let mut linenum: u32 = 0;
    let mut section: Option<String> = None;
    let content = &f.content;
    let mut pos = 0usize;
    let mut fatal_count = 0;
    let mut missing_lf: Option<usize> = None;

    let diag = |out: &mut Vec<Stmt>, d: Diagnostic, fatal: bool, abort: bool| {
        out.push(Stmt::Diag {
            diag: d,
            fatal,
            abort,
        });
    };

    while pos < content.len() {
        // fgets semantics: a line ends after '\n'; a NUL inside cuts what strlen sees.
        let end = match content[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => pos + i + 1,
            None => content.len(),
        };
        let raw_full = &content[pos..end];
        pos = end;
        if let Some(m) = missing_lf {
            diag(
                out,
                Diagnostic::at_tight(
                    Level::Alert,
                    "stray-nul",
                    name,
                    linenum,
                    format!("Stray NUL character at position {}.", m + 1),
                ),
                true,
                false,
            );
            return false;
        }
        linenum += 1;
        if fatal_count >= 50 {
            diag(
                out,
                Diagnostic::at_tight(
                    Level::Alert,
                    "too-many-errors",
                    name,
                    linenum,
                    format!("too many fatal errors ({fatal_count}), stopping now."),
                ),
                true,
                false,
            );
            return false;
        }
        let strlen = raw_full
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(raw_full.len());
        let raw = &raw_full[..strlen];
        let line: &[u8] = if raw.last() == Some(&b'\n') {
            &raw[..raw.len() - 1]
        } else {
            missing_lf = Some(raw.len());
            raw
        };
        let lead = line
            .iter()
            .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c))
            .count();
        let stripped = String::from_utf8_lossy(&line[lead..]).into_owned();

        let cur_line = linenum;
        let cur_section = section.clone();
        let env = |n: &str| -> Option<String> {
            match n {
                ".LINE" => Some(cur_line.to_string()),
                ".FILE" => Some(name.to_string()),
                ".SECTION" => cur_section.clone(),
                _ => getenv(n),
            }
        };
        let mut words = match lexer::tokenize(line, &env) {
            Ok(w) => w,
            Err(e) => {
                let too_many = matches!(e, LexError::TooManyWords { .. });
                let msg = e.render(&stripped, lead);
                let d = Diagnostic::at_tight(Level::Alert, lex_code(&e), name, linenum, msg);
                diag(out, d, true, false);
                fatal_count += 1;
                let _ = too_many;
                continue;
            }
        };
        // HAProxy skips a line whose first word is empty (`"" x` included).
        if words.first().is_none_or(|w| w.text.is_empty()) {
            continue;
        }
        let first = words[0].text.clone();

        if first.starts_with('.') {
            let joined = || {
                words[1..]
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            match first.as_str() {
                ".if" | ".elif" => {
                    let is_if = first == ".if";
                    if is_if {
                        if conds.len() + 1 >= MAX_NESTED_CONDS {
                            diag(
                                out,
                                Diagnostic::at_tight(
                                    Level::Alert,
                                    "cond-nesting",
                                    name,
                                    linenum,
                                    format!("too many nested '.if', max is {MAX_NESTED_CONDS}."),
                                ),
                                true,
                                true,
                            );
                            return true;
                        }
                        if conds.last().is_some_and(|c| c.masks()) {
                            conds.push(CondState::IfSkip);
                            continue;
                        }
                    } else {
                        let Some(top) = conds.last().copied() else {
                            diag(
                                out,
                                Diagnostic::at_tight(
                                    Level::Alert,
                                    "cond-lone",
                                    name,
                                    linenum,
                                    "lone '.elif' with no matching '.if'.",
                                ),
                                true,
                                true,
                            );
                            return true;
                        };
                        if matches!(top, CondState::ElseTake | CondState::ElseDrop) {
                            diag(
                                out,
                                Diagnostic::at_tight(
                                    Level::Alert,
                                    "cond-order",
                                    name,
                                    linenum,
                                    "'.elif' after '.else' is not permitted.",
                                ),
                                true,
                                true,
                            );
                            return true;
                        }
                        if top.taken_or_skipped() {
                            if let Some(t) = conds.last_mut() {
                                *t = CondState::ElifSkip;
                            }
                            continue;
                        }
                    }
                    let expr = joined();
                    match cond::eval(&expr, &env) {
                        Ok(v) => {
                            let st = match (is_if, v) {
                                (true, true) => CondState::IfTake,
                                (true, false) => CondState::IfDrop,
                                (false, true) => CondState::ElifTake,
                                (false, false) => CondState::ElifDrop,
                            };
                            if is_if {
                                conds.push(st);
                            } else if let Some(t) = conds.last_mut() {
                                *t = st;
                            }
                        }
                        Err(e) => {
                            let width = if is_if { 76 } else { 74 };
                            let (shown, caret) = lexer::sanitize_for_printing(&expr, e.pos, width);
                            let msg = format!(
                                "{} in '{first}' at position {}:\n  {first} {shown}\n  {:>w$}",
                                e.msg,
                                e.pos + 1,
                                "^",
                                w = caret + first.len() + 2
                            );
                            diag(
                                out,
                                Diagnostic::at_tight(Level::Alert, "cond-expr", name, linenum, msg),
                                true,
                                true,
                            );
                            return true;
                        }
                    }
                    continue;
                }
                ".else" | ".endif" => {
                    if words.len() > 1 {
                        diag(
                            out,
                            Diagnostic::at_tight(
                                Level::Alert,
                                "cond-arg",
                                name,
                                linenum,
                                format!("Unexpected argument '{}' for '{first}'.", words[1].text),
                            ),
                            true,
                            true,
                        );
                        return true;
                    }
                    let Some(top) = conds.last().copied() else {
                        diag(
                            out,
                            Diagnostic::at_tight(
                                Level::Alert,
                                "cond-lone",
                                name,
                                linenum,
                                format!("lone '{first}' with no matching '.if'."),
                            ),
                            true,
                            true,
                        );
                        return true;
                    };
                    if first == ".endif" {
                        conds.pop();
                    } else {
                        if matches!(top, CondState::ElseTake | CondState::ElseDrop) {
                            diag(
                                out,
                                Diagnostic::at_tight(
                                    Level::Alert,
                                    "cond-order",
                                    name,
                                    linenum,
                                    "'.else' after '.else' is not permitted.",
                                ),
                                true,
                                true,
                            );
                            return true;
                        }
                        if let Some(t) = conds.last_mut() {
                            *t = if top.taken_or_skipped() {
                                CondState::ElseDrop
                            } else {
                                CondState::ElseTake
                            };
                        }
                    }
                    continue;
                }
                _ => {}
            }
        }

        if conds.last().is_some_and(|c| c.masks()) {
            continue;
        }

        if first.starts_with('.') {
            let level = match first.as_str() {
                ".alert" => Some(Level::Alert),
                ".warning" => Some(Level::Warning),
                ".notice" => Some(Level::Notice),
                ".diag" => None,
                _ => {
                    diag(
                        out,
                        Diagnostic::at_tight(
                            Level::Alert,
                            "unknown-directive",
                            name,
                            linenum,
                            format!("unknown directive '{first}'."),
                        ),
                        true,
                        false,
                    );
                    return false;
                }
            };
            if words.len() > 2 {
                diag(
                    out,
                    Diagnostic::at_tight(
                        Level::Alert,
                        "directive-args",
                        name,
                        linenum,
                        format!(
                            "Unexpected argument '{}' for '{first}'. Use quotes if the message should contain spaces.",
                            words[2].text
                        ),
                    ),
                    true,
                    false,
                );
                continue;
            }
            let text = words.get(1).map(|w| w.text.clone()).unwrap_or_default();
            let msg = format!("'{text}'.");
            match level {
                Some(Level::Alert) => {
                    diag(
                        out,
                        Diagnostic::at_tight(Level::Alert, "alert-directive", name, linenum, msg),
                        true,
                        true,
                    );
                    return true;
                }
                Some(l) => diag(
                    out,
                    Diagnostic::at_tight(l, "message-directive", name, linenum, msg),
                    false,
                    false,
                ),
                None => {} // .diag: only shown in diagnostic mode (-dD)
            }
            continue;
        }

        let mut kwm = Kwm::Std;
        if first == "no" || first == "default" {
            kwm = if first == "no" { Kwm::No } else { Kwm::Default };
            words.remove(0);
            let kw = words.first().map(|w| w.text.as_str()).unwrap_or("");
            let allowed = [
                "option",
                "log",
                "busy-polling",
                "set-dumpable",
                "strict-limits",
                "insecure-fork-wanted",
                "numa-cpu-mapping",
            ];
            if !allowed.contains(&kw) {
                diag(
                    out,
                    Diagnostic::at_tight(
                        Level::Alert,
                        "bad-modifier",
                        name,
                        linenum,
                        "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
                    ),
                    true,
                    false,
                );
                fatal_count += 1;
            }
            if words.is_empty() {
                continue;
            }
        }
        if is_section_keyword(&words[0].text) {
            section = Some(
                words
                    .get(1)
                    .map(|w| w.text.clone())
                    .unwrap_or_else(|| words[0].text.clone()),
            );
        }
        out.push(Stmt::Line {
            loc: Loc {
                file: idx,
                line: linenum,
            },
            words,
            kwm,
        });
    }

    if let Some(m) = missing_lf {
        diag(
            out,
            Diagnostic::at_tight(
                Level::Alert,
                "missing-lf",
                name,
                linenum,
                format!(
                    "Missing LF on last line, file might have been truncated at position {}.",
                    m + 1
                ),
            ),
            true,
            false,
        );
    }
    if !conds.is_empty() {
        diag(
            out,
            Diagnostic::at_tight(
                Level::Alert,
                "cond-unterminated",
                name,
                linenum,
                "non-terminated '.if' block.",
            ),
            true,
            true,
        );
        return true;
    }
    false
}

fn lex_code(e: &LexError) -> &'static str {
    match e {
        LexError::UnmatchedQuote { .. } => "unmatched-quote",
        LexError::UnmatchedBrace { .. } => "unmatched-brace",
        LexError::BadVarName { .. } => "bad-var-name",
        LexError::BadHex { .. } => "bad-hex",
        LexError::BadWordExpand { .. } => "bad-word-expand",
        LexError::TooManyWords { .. } => "too-many-words",
    }
}

/// Section keywords HAProxy 2.6 registers.
pub const SECTION_KEYWORDS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "peers",
    "mailers",
    "resolvers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "log-forward",
    "fcgi-app",
    "namespace_list",
];

pub fn is_section_keyword(w: &str) -> bool {
    SECTION_KEYWORDS.contains(&w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ast::Stmt;
    use proptest::prelude::*;

    fn read(text: &[u8]) -> Ast {
        let f = SourceFile {
            name: "t.cfg".into(),
            content: text.to_vec(),
        };
        read_all(&[f], &|_| None)
    }

    fn lines(a: &Ast) -> Vec<(Vec<String>, Kwm)> {
        a.stmts
            .iter()
            .filter_map(|s| match s {
                Stmt::Line { words, kwm, .. } => {
                    Some((words.iter().map(|w| w.text.clone()).collect(), *kwm))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn conditional_blocks() {
        let a = read(b".if 1\nglobal\n.elif 1\nfrontend x\n.else\nbackend y\n.endif\n");
        assert_eq!(lines(&a), vec![(vec!["global".to_string()], Kwm::Std)]);
        let a = read(b".if 0\n .if 1\n  a\n .endif\n.else\n b\n.endif\n");
        assert_eq!(lines(&a), vec![(vec!["b".to_string()], Kwm::Std)]);
    }

    #[test]
    fn missing_lf_and_modifiers() {
        let a = read(b"defaults\n  no option httplog");
        assert_eq!(
            lines(&a)[1],
            (vec!["option".into(), "httplog".into()], Kwm::No)
        );
        assert!(a.stmts.iter().any(|s| matches!(s, Stmt::Diag { diag, .. }
            if diag.text.contains("Missing LF on last line, file might have been truncated at position 20."))));
    }

    proptest! {
        /// Arbitrary bytes never panic or hang the reader.
        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = read(&bytes);
        }

        /// Printing the AST and reading it again gives the same statements.
        #[test]
        fn print_then_read_is_identity(
            text in proptest::collection::vec(
                prop_oneof![
                    Just("global".to_string()),
                    Just("  no option httplog".to_string()),
                    "[ -~]{0,40}",
                    "\"[a-z \\\\$]{0,10}\" [a-z#]{0,5}",
                ],
                0..20,
            )
        ) {
            let src = text.join("\n") + "\n";
            let a = read(src.as_bytes());
            let printed = a.to_config_text();
            let b = read(printed.as_bytes());
            prop_assert_eq!(lines(&a), lines(&b));
        }
    }
}
