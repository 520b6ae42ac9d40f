//! The `show stat` cells a server's health check owns (`check_status`,
//! `check_code`, `check_duration`, `check_desc`, `last_chk`, `chkfail`,
//! `chkdown`, agent columns...), by HAProxy column name.
//!
//! Owns: turning a [`super::CheckSnapshot`] into cell values. The CSV
//! writer (`stats::csv`) sets these cells by name and must not interpret
//! check state itself. Must not change state.

use crate::upstream::server::ServerState;

/// Column name and value for every check-related cell of a server row.
/// Empty when the server has no check task.
pub fn stat_columns(sv: &ServerState) -> Vec<(&'static str, String)> {
    let Some(check) = sv.check.get() else {
        return Vec::new();
    };
    let snap = check.snapshot();
    let mut out = vec![
        ("check_status", snap.last.status.name().to_string()),
        ("check_desc", snap.last.status.desc().to_string()),
        ("check_rise", snap.rise.to_string()),
        ("check_fall", snap.fall.to_string()),
        ("check_health", snap.health.to_string()),
    ];
    if let Some(code) = snap.last.code {
        out.push(("check_code", code.to_string()));
    }
    if let Some(d) = snap.last.duration {
        out.push(("check_duration", d.as_millis().to_string()));
    }
    out
}
