//! Switchyard: a proxy that reads HAProxy's configuration language and does
//! HAProxy's job.
//!
//! # Layout
//!
//! The data path reads top to bottom:
//!
//! - [`cli`]: the HAProxy-compatible command line (`-f`, `-c`, `-dK`, ...).
//! - [`grammar`]: the keyword registry loaded from `grammar/*.tsv`: which
//!   keyword is valid where, its status (supported / no-op / unsupported),
//!   did-you-mean suggestions. The parser, `-c`, `-dK` and the docs read it.
//! - [`config`]: text → tokens → AST with spans → checks → resolved IR, with
//!   HAProxy-identical diagnostics.
//!
//! Later stages (listener → session → rules → upstream → connection) consume
//! the IR produced by [`config`] and never re-read configuration text.

pub mod cli;
pub mod config;
pub mod grammar;
pub mod health;
pub mod listener;
pub mod metrics;
pub mod runtime;
pub mod session;
pub mod stats;
pub mod tls;
pub mod upstream;
