//! Health checks: one tokio task per server with `check`, running
//! HAProxy 2.6's rise/fall state machine and flipping the server's
//! up/down flag the balancer reads.
//!
//! Owns: the check configuration ([`spec`]), the state machine ([`fsm`]),
//! a single probe ([`probe`]: TCP connect or HTTP request), the results
//! other parts read ([`status`]) and the scheduling loop ([`task`]).
//! Must not pick servers (that is `upstream::lb`) nor parse configuration
//! text: it reads the resolved IR.
//!
//! Not implemented (refused at start-up by name, never ignored): agent
//! checks, `tcp-check`, `http-check` forms other than `send meth/uri/ver/hdr`
//! and `expect [!] status|rstatus|string`, check SSL/proxy-protocol.
//! `spread-checks` is ignored: first checks are spread evenly over the
//! smallest interval like HAProxy does without it.

pub mod columns;
pub mod fsm;
pub mod http;
pub mod probe;
pub mod spec;
pub mod status;
pub mod task;

pub use spec::{BackendPlan, CheckKind, CheckSpec, plan};
pub use status::{CheckResult, CheckSnapshot, CheckState, CheckStatus};
pub use task::spawn_all;
