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
//! Not implemented (refused at start-up by name, never ignored): check
//! SSL (`check-ssl`, `tcp-check connect ssl`), log-format strings in
//! checks (`send-lf` with `%` tags, `string-lf`, `on-error %[...]`,
//! `status-code`), `option spop-check`, `external-check`, `http-check send
//! body`, `on-marked-down`/`on-marked-up`, `slowstart`.
//! Passive health (`observe`, `on-error`, `error-limit`) lives in
//! [`observe`]: the data path reports into a lock-free per-server hook the
//! check task drains.
//! First checks are spread evenly over the smallest interval (bounded by
//! `max-spread-checks`) like HAProxy; `spread-checks` adds random jitter.

pub mod agent;
pub mod columns;
pub mod engine;
pub mod fsm;
pub mod http;
pub mod observe;
pub mod probe;
pub mod protocols;
pub mod spec;
pub mod status;
pub mod task;
pub mod tcpcheck;

pub use spec::{BackendPlan, CheckKind, CheckSpec, plan};
pub use status::{CheckResult, CheckSnapshot, CheckState, CheckStatus, OpState, ServerChecks};
pub use task::spawn_all;
