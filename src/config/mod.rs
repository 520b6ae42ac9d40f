//! Configuration front end: text → tokens → AST (spanned) → checks → IR.
//!
//! Layout:
//! - [`source`]: `-f` files and directories → bytes.
//! - [`lexer`]: one line → words (quotes, escapes, `${VAR}`).
//! - [`reader`]: files → [`ast::Ast`] (conditional blocks, directives).
//! - [`check`]: AST → [`ir::Config`] with HAProxy's diagnostics ([`diag`]).
//! - helpers used by the checker: [`addr`], [`units`], [`external`],
//!   [`sample`], [`rules`], [`logcfg`], [`cond`].

pub mod addr;
pub mod ast;
pub mod check;
pub mod cond;
pub mod diag;
pub mod external;
pub mod ir;
pub mod lexer;
pub mod logcfg;
pub mod reader;
pub mod rules;
pub mod sample;
pub mod source;
pub mod units;

/// Environment lookup with the variables HAProxy defines before parsing.
pub fn haproxy_env(files: &[String]) -> impl Fn(&str) -> Option<String> + use<> {
    let cfgfiles = files.join(";");
    let localpeer = hostname();
    move |name: &str| match name {
        "HAPROXY_CFGFILES" => Some(cfgfiles.clone()),
        "HAPROXY_LOCALPEER" => std::env::var(name).ok().or_else(|| Some(localpeer.clone())),
        _ => std::env::var(name).ok(),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Reads and checks the given `-f` arguments.
pub fn load(
    args: &[String],
    getenv: &dyn Fn(&str) -> Option<String>,
    opts: check::Options,
) -> Result<check::CheckResult, source::SourceError> {
    let names = source::expand(args)?;
    let mut files = Vec::with_capacity(names.len());
    for n in &names {
        files.push(source::read(n)?);
    }
    Ok(check_files(&files, getenv, opts))
}

/// Reads and checks configuration text already in memory (tests, and the
/// future reload path that receives files from elsewhere).
pub fn check_files(
    files: &[source::SourceFile],
    getenv: &dyn Fn(&str) -> Option<String>,
    opts: check::Options,
) -> check::CheckResult {
    let ast = reader::read_all(files, getenv);
    check::check(&ast, getenv, opts)
}
