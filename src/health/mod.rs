//! Health checks: one tokio task per server with `check` and one per
//! `agent-check`, running HAProxy 2.6's rise/fall state machine and
//! flipping the server's up / NOLB flags the balancer reads.
//!
//! Owns: the check configuration ([`spec`]), the tcp-check rulesets
//! ([`tcpcheck`]) and the protocol checks built on them ([`protocols`]:
//! redis, mysql, pgsql, smtp, ldap, ssl-hello, agent), the ruleset runner
//! ([`engine`]), HTTP checks ([`http`], [`probe`]), agent replies
//! ([`agent`]), passive health ([`observe`]), the results other parts read ([`status`], [`columns`] for
//! `show stat`) and the scheduling / state-change loop ([`task`]).
//! Must not pick servers (that is `upstream::lb`) nor parse configuration
//! text: it reads the resolved IR.
//!
//! TLS for checks (`check-ssl`, `check-sni`, `check-alpn`, `verify`,
//! `ca-file`, `crt`, `connect ssl`) goes through [`crate::tls`] and is
//! planned per server in [`ssl`]; connections are opened by [`conn`].
//! `option spop-check` is [`spop`]; log-format strings and check-scope
//! variables (`send-lf`, `string-lf`, `set-var`, `uri-lf`, `body-lf`,
//! log-format `on-success`/`on-error`, `status-code <expr>`) are [`lf`].
//!
//! Not implemented (refused at start-up by name, never ignored): fetches
//! that need a client stream inside check log-formats, `txn.`/`req.`/
//! `res.` variables, `external-check`, `check-proto` other than `h1`,
//! `connect proto`/`via-socks4`, HTTP checks over an ALPN other than
//! HTTP/1.x.
//! Passive health (`observe`, `on-error`, `error-limit`) lives in
//! [`observe`]: the data path reports into a lock-free per-server hook the
//! check task drains.
//! First checks are spread evenly over the smallest interval (bounded by
//! `max-spread-checks`) like HAProxy; `spread-checks` adds random jitter.
//! Check tasks run on one dedicated thread with its own event loop
//! ([`task`]), apart from the traffic workers.

pub mod agent;
pub mod columns;
pub mod conn;
pub mod engine;
pub mod fsm;
pub mod http;
pub mod lf;
pub mod observe;
pub mod probe;
pub mod protocols;
pub mod spec;
pub mod spop;
pub mod ssl;
pub mod status;
pub mod task;
pub mod tcpcheck;

pub use spec::{BackendPlan, CheckKind, CheckSpec, plan};
pub use status::{CheckResult, CheckSnapshot, CheckState, CheckStatus, OpState, ServerChecks};
pub use task::spawn_all;
