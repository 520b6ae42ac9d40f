//! The check tasks: one per checked server, forever (they end with the
//! runtime).
//!
//! Owns: scheduling (first checks spread evenly over the smallest interval
//! like HAProxy's `start_checks`, then the interval the state machine
//! asks for), applying transitions to the server's up flag, and HAProxy's
//! "Server x/y is DOWN/UP" messages on stderr. Must not pick servers.

use super::fsm::{Fsm, Transition};
use super::probe;
use super::spec::{BackendPlan, CheckSpec};
use super::status::{CheckResult, CheckState};
use crate::upstream::Backend;
use crate::upstream::server::ServerState;
use std::sync::Arc;
use std::time::Duration;

/// Spawns the check task of every planned server whose live backend is in
/// `backends` (matched by name). Must be called inside a tokio runtime.
/// Returns how many tasks were started.
pub fn spawn_all(plans: &[BackendPlan], backends: &[Arc<Backend>]) -> usize {
    let mut jobs: Vec<(Arc<Backend>, Arc<ServerState>, CheckSpec)> = Vec::new();
    for p in plans {
        let Some(be) = backends.iter().find(|b| b.name == p.name) else {
            continue;
        };
        for c in &p.checks {
            let Some(srv) = be.servers.get(c.server) else {
                continue;
            };
            if srv.name != c.server_name || srv.addr.is_none() {
                continue;
            }
            jobs.push((be.clone(), srv.clone(), c.clone()));
        }
    }
    let n = jobs.len() as u32;
    let min_inter = jobs
        .iter()
        .map(|(_, _, c)| Fsm::new(c.rise, c.fall).interval(&c.intervals))
        .min()
        .unwrap_or(Duration::ZERO);
    for (pos, (be, srv, spec)) in jobs.into_iter().enumerate() {
        let first = min_inter * pos as u32 / n.max(1);
        let state = Arc::new(CheckState::new(spec.rise, spec.fall, spec.rise.max(1)));
        let _ = srv.check.set(state.clone());
        tokio::spawn(run(be, srv, spec, state, first));
    }
    n as usize
}

async fn run(
    be: Arc<Backend>,
    srv: Arc<ServerState>,
    spec: CheckSpec,
    state: Arc<CheckState>,
    first: Duration,
) {
    let mut fsm = Fsm::new(spec.rise, spec.fall);
    tokio::time::sleep(first).await;
    loop {
        let Some(target) = spec.target(srv.addr) else {
            return;
        };
        let res = probe::run(&spec, target).await;
        let tr = fsm.record(res.status.passed());
        state.record(res.clone(), fsm.health());
        match tr {
            Some(Transition::Down) => {
                srv.set_up(false);
                report_down(&be, &srv, &res);
            }
            Some(Transition::Up) => {
                srv.set_up(true);
                report_up(&be, &srv, &res);
            }
            None => {}
        }
        tokio::time::sleep(fsm.interval(&spec.intervals)).await;
    }
}

/// (active, backup) servers currently up in `be`.
fn counts(be: &Backend) -> (usize, usize) {
    let up = |b: bool| {
        be.servers
            .iter()
            .filter(|s| s.backup == b && s.is_up())
            .count()
    };
    (up(false), up(true))
}

fn who(be: &Backend, srv: &ServerState) -> String {
    format!(
        "{}Server {}/{}",
        if srv.backup { "Backup " } else { "" },
        be.name,
        srv.name
    )
}

/// HAProxy: `Server b/s1 is DOWN, reason: ..., check duration: 0ms. 1
/// active and 0 backup servers left. 0 sessions active, 0 requeued, 0
/// remaining in queue.` then an alert when the backend is empty.
pub fn down_message(be: &Backend, srv: &ServerState, res: &CheckResult) -> String {
    let (act, bck) = counts(be);
    format!(
        "{} is DOWN, {}. {act} active and {bck} backup servers left.{} {} sessions active, 0 requeued, 0 remaining in queue.",
        who(be, srv),
        res.reason_text(),
        if act == 0 && bck > 0 {
            " Running on backup."
        } else {
            ""
        },
        srv.conns()
    )
}

/// HAProxy: `Server b/s1 is UP, reason: ..., check duration: 0ms. 2 active
/// and 0 backup servers online. 0 sessions requeued, 0 total in queue.`
pub fn up_message(be: &Backend, srv: &ServerState, res: &CheckResult) -> String {
    let (act, bck) = counts(be);
    format!(
        "{} is UP, {}. {act} active and {bck} backup servers online.{} 0 sessions requeued, 0 total in queue.",
        who(be, srv),
        res.reason_text(),
        if act == 0 && bck > 0 {
            " Running on backup."
        } else {
            ""
        },
    )
}

fn report_down(be: &Backend, srv: &ServerState, res: &CheckResult) {
    let pid = std::process::id();
    eprintln!("[WARNING]  ({pid}) : {}", down_message(be, srv, res));
    if counts(be) == (0, 0) {
        eprintln!(
            "[ALERT]    ({pid}) : backend '{}' has no server available!",
            be.name
        );
    }
}

fn report_up(be: &Backend, srv: &ServerState, res: &CheckResult) {
    let pid = std::process::id();
    eprintln!("[WARNING]  ({pid}) : {}", up_message(be, srv, res));
}
