//! The `show stat` cells a server's checks own (`status`, `check_status`,
//! `check_code`, `check_duration`, `check_desc`, `last_chk`, `chkfail`,
//! `chkdown`, `downtime`, the agent columns...), by HAProxy column name,
//! following HAProxy 2.6's `stats_fill_sv_stats`.
//!
//! Owns: turning a server's [`super::CheckState`] into cell values. The
//! CSV writer (`stats::csv`) sets these cells by name (after its own) and
//! must not interpret check state itself. Must not change state. Cells
//! HAProxy leaves empty are simply not returned.

use super::status::{CheckSnapshot, OpState, ServerChecks};
use crate::upstream::server::{AdminState, ServerState};

/// `check_status`/`agent_status`: `* ` prefix while a check runs.
fn status_cell(s: &CheckSnapshot) -> String {
    if s.in_progress {
        format!("* {}", s.last.status.name())
    } else {
        s.last.status.name().to_string()
    }
}

/// HAProxy's `status` cell for a server that is not in maintenance.
fn status_text(sv: &ServerState, r: &ServerChecks) -> String {
    let check = r.check.as_ref();
    match r.op {
        OpState::Running => {
            let going_down = check.filter(|c| c.health < c.full());
            if sv.admin_state() == AdminState::Drain {
                if r.agent.is_some() {
                    return "DRAIN (agent)".into();
                }
                return match going_down {
                    Some(c) => format!("DRAIN {}/{}", c.health - c.rise + 1, c.fall),
                    None => "DRAIN".into(),
                };
            }
            match (check, going_down) {
                (_, Some(c)) => format!("UP {}/{}", c.health - c.rise + 1, c.fall),
                (Some(_), None) => "UP".into(),
                (None, None) => "no check".into(),
            }
        }
        OpState::Stopping => match check {
            Some(c) if c.health != c.full() => {
                format!("NOLB {}/{}", c.health - c.rise + 1, c.fall)
            }
            _ => "NOLB".into(),
        },
        OpState::Stopped => {
            if r.agent.as_ref().is_some_and(|a| a.health == 0) {
                "DOWN (agent)".into()
            } else if let Some(c) = check.filter(|c| c.health > 0) {
                format!("DOWN {}/{}", c.health, c.rise)
            } else if check.is_none() && r.agent.is_some() {
                "DOWN 1/1".into()
            } else {
                "DOWN".into()
            }
        }
    }
}

/// Column name and value for every check-related cell of a server row.
/// Empty when the server has no check, agent nor `track`.
pub fn stat_columns(sv: &ServerState) -> Vec<(&'static str, String)> {
    let Some(own) = sv.check.get() else {
        return Vec::new();
    };
    let reference = own.reference();
    let r = reference.all();
    let mine = own.all();
    let mut out = Vec::new();
    if sv.admin_state() != AdminState::Maint {
        out.push(("status", status_text(sv, &r)));
    }
    if let Some(c) = &mine.check {
        out.push(("chkfail", mine.chkfail.to_string()));
        out.push(("chkdown", mine.chkdown.to_string()));
        // HAProxy shows `hanafail` only for servers with `observe`.
        if sv.counters.observe.enabled() {
            out.push(("hanafail", sv.counters.observe.failed_hana().to_string()));
        }
        out.push(("downtime", own.downtime().as_secs().to_string()));
        // Checks are paused in maintenance: HAProxy hides their cells.
        if sv.admin_state() != AdminState::Maint {
            out.push(("check_status", status_cell(c)));
            if let Some(code) = c.last.shown_code() {
                out.push(("check_code", code.to_string()));
            }
            if c.last.status.has_duration()
                && let Some(d) = c.last.duration
            {
                out.push(("check_duration", d.as_millis().to_string()));
            }
            out.push(("check_desc", c.last.status.desc().to_string()));
            out.push(("last_chk", c.last.info.clone()));
            out.push(("check_rise", c.rise.to_string()));
            out.push(("check_fall", c.fall.to_string()));
            out.push(("check_health", c.health.to_string()));
        }
    }
    if let Some(a) = &mine.agent {
        out.push(("agent_status", status_cell(a)));
        if let Some(code) = a.last.shown_code() {
            out.push(("agent_code", code.to_string()));
        }
        if a.last.status.has_duration()
            && let Some(d) = a.last.duration
        {
            out.push(("agent_duration", d.as_millis().to_string()));
        }
        out.push(("agent_desc", a.last.status.desc().to_string()));
        out.push(("last_agt", a.last.info.clone()));
        out.push(("agent_rise", a.rise.to_string()));
        out.push(("agent_fall", a.fall.to_string()));
        out.push(("agent_health", a.health.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::status::{CheckResult, CheckState, CheckStatus};
    use std::sync::Arc;

    fn cell<'a>(c: &'a [(&'static str, String)], k: &str) -> Option<&'a str> {
        c.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn fresh_and_failed_server_like_haproxy() {
        let sv = ServerState::new("s", Some("127.0.0.1:1".parse().unwrap()), 1, false);
        let st = Arc::new(CheckState::new(2, 3, 2));
        let _ = sv.check.set(st.clone());
        let c = stat_columns(&sv);
        // haproxy 2.6.12 before the first check: `UP 1/3`, `INI`.
        assert_eq!(cell(&c, "status"), Some("UP 1/3"));
        assert_eq!(cell(&c, "check_status"), Some("INI"));
        assert_eq!(cell(&c, "check_duration"), None);
        assert_eq!(cell(&c, "check_code"), None);
        {
            let mut g = st.lock();
            let mut r = CheckResult::new(
                CheckStatus::L4Con,
                None,
                "Connection refused at step 1 of tcp-check (connect)",
            );
            r.duration = Some(std::time::Duration::ZERO);
            let cs = g.check.as_mut().unwrap();
            cs.apply(&r);
            cs.in_progress = true;
            g.op = OpState::Stopped;
            g.chkfail = 1;
            g.chkdown = 1;
        }
        let c = stat_columns(&sv);
        assert_eq!(cell(&c, "status"), Some("DOWN"));
        assert_eq!(cell(&c, "check_status"), Some("* L4CON"));
        assert_eq!(cell(&c, "check_duration"), Some("0"));
        assert_eq!(
            cell(&c, "last_chk"),
            Some("Connection refused at step 1 of tcp-check (connect)")
        );
        assert_eq!(cell(&c, "check_desc"), Some("Layer4 connection problem"));
        assert_eq!(cell(&c, "chkfail"), Some("1"));
        assert_eq!(cell(&c, "check_health"), Some("0"));
        assert_eq!(cell(&c, "agent_status"), None);
    }

    #[test]
    fn agent_only_and_drain() {
        let sv = ServerState::new("s", Some("127.0.0.1:1".parse().unwrap()), 1, false);
        let st = Arc::new(CheckState::with(
            None,
            Some(CheckSnapshot::new(1, 1, 1)),
            None,
        ));
        let _ = sv.check.set(st.clone());
        let c = stat_columns(&sv);
        // haproxy 2.6.12: an agent-only server is `no check`, agent 1/1/1,
        // and has no chkfail cell.
        assert_eq!(cell(&c, "status"), Some("no check"));
        assert_eq!(cell(&c, "agent_rise"), Some("1"));
        assert_eq!(cell(&c, "chkfail"), None);
        sv.set_admin_state(AdminState::Drain);
        assert_eq!(cell(&stat_columns(&sv), "status"), Some("DRAIN (agent)"));
        st.lock().agent.as_mut().unwrap().health = 0;
        st.lock().op = OpState::Stopped;
        sv.set_admin_state(AdminState::Ready);
        assert_eq!(cell(&stat_columns(&sv), "status"), Some("DOWN (agent)"));
    }
}
