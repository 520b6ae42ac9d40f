//! What one check found, and the per-server check state other parts of the
//! process (the stats page, the CLI) read.
//!
//! Owns: HAProxy's check status codes (`L4OK`, `L7STS`, ...) with their
//! exact description texts, and the shared [`CheckState`]. Must not run
//! checks nor change server state.

use std::sync::Mutex;
use std::time::Duration;

/// HAProxy's `check_status` column (a subset: the kinds Switchyard runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// No check has completed yet.
    Ini,
    /// Could not create the socket.
    SockErr,
    L4Ok,
    L4Tout,
    L4Con,
    L7Ok,
    L7Tout,
    L7Rsp,
    L7Sts,
}

impl CheckStatus {
    /// The short name shown in `show stat` (`check_status`).
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Ini => "INI",
            CheckStatus::SockErr => "SOCKERR",
            CheckStatus::L4Ok => "L4OK",
            CheckStatus::L4Tout => "L4TOUT",
            CheckStatus::L4Con => "L4CON",
            CheckStatus::L7Ok => "L7OK",
            CheckStatus::L7Tout => "L7TOUT",
            CheckStatus::L7Rsp => "L7RSP",
            CheckStatus::L7Sts => "L7STS",
        }
    }

    /// The long description (`check_desc`, the log's `reason:`).
    pub fn desc(self) -> &'static str {
        match self {
            CheckStatus::Ini => "Initializing",
            CheckStatus::SockErr => "Socket error",
            CheckStatus::L4Ok => "Layer4 check passed",
            CheckStatus::L4Tout => "Layer4 timeout",
            CheckStatus::L4Con => "Layer4 connection problem",
            CheckStatus::L7Ok => "Layer7 check passed",
            CheckStatus::L7Tout => "Layer7 timeout",
            CheckStatus::L7Rsp => "Layer7 invalid response",
            CheckStatus::L7Sts => "Layer7 wrong status",
        }
    }

    /// Whether this outcome counts as a passed check.
    pub fn passed(self) -> bool {
        matches!(self, CheckStatus::L4Ok | CheckStatus::L7Ok)
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub status: CheckStatus,
    /// HTTP status code (`check_code`), L7 checks only.
    pub code: Option<u16>,
    /// Time from the start of the check to its verdict (`check_duration`).
    pub duration: Option<Duration>,
    /// Extra text (`last_chk`): the OS error, the HTTP reason, ...
    pub info: String,
}

impl CheckResult {
    pub fn new(status: CheckStatus, code: Option<u16>, info: impl Into<String>) -> Self {
        CheckResult {
            status,
            code,
            duration: None,
            info: info.into(),
        }
    }

    /// The initial result before any check completed.
    pub fn initializing() -> Self {
        CheckResult::new(CheckStatus::Ini, None, "")
    }

    /// `reason: <desc>[, code: <n>][, info: "<info>"], check duration: <d>ms`
    /// as HAProxy writes it in its "Server x/y is DOWN" messages.
    pub fn reason_text(&self) -> String {
        let mut s = format!("reason: {}", self.status.desc());
        if let Some(c) = self.code {
            s.push_str(&format!(", code: {c}"));
        }
        if !self.info.is_empty() {
            s.push_str(&format!(", info: \"{}\"", self.info));
        }
        if let Some(d) = self.duration {
            s.push_str(&format!(", check duration: {}ms", d.as_millis()));
        }
        s
    }
}

/// A consistent copy of a server's check state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSnapshot {
    pub last: CheckResult,
    /// HAProxy's health counter: `0..rise` is DOWN, `rise..rise+fall` UP.
    pub health: u32,
    pub rise: u32,
    pub fall: u32,
}

impl CheckSnapshot {
    pub fn is_up(&self) -> bool {
        self.health >= self.rise
    }

    /// The `status` column of `show stat` for a checked server:
    /// `UP`, `UP 1/3` (going down), `DOWN`, `DOWN 1/2` (going up).
    pub fn stat_status(&self) -> String {
        if self.is_up() {
            let full = self.rise + self.fall - 1;
            if self.health == full {
                "UP".into()
            } else {
                format!("UP {}/{}", self.health - self.rise + 1, self.fall)
            }
        } else if self.health == 0 {
            "DOWN".into()
        } else {
            format!("DOWN {}/{}", self.health, self.rise)
        }
    }
}

/// The live check state of one server, shared with readers.
#[derive(Debug)]
pub struct CheckState {
    inner: Mutex<CheckSnapshot>,
}

impl CheckState {
    pub fn new(rise: u32, fall: u32, health: u32) -> Self {
        CheckState {
            inner: Mutex::new(CheckSnapshot {
                last: CheckResult::initializing(),
                health,
                rise,
                fall,
            }),
        }
    }

    pub fn snapshot(&self) -> CheckSnapshot {
        match self.inner.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub(crate) fn record(&self, last: CheckResult, health: u32) {
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.last = last;
        g.health = health;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_text_matches_haproxy_log() {
        // From haproxy 2.6.12: `Server http/e500 is DOWN, reason: Layer7
        // wrong status, code: 500, info: "Internal Server Error", check
        // duration: 3ms.`
        let mut r = CheckResult::new(CheckStatus::L7Sts, Some(500), "Internal Server Error");
        r.duration = Some(Duration::from_millis(3));
        assert_eq!(
            r.reason_text(),
            "reason: Layer7 wrong status, code: 500, info: \"Internal Server Error\", check duration: 3ms"
        );
        let mut r = CheckResult::new(CheckStatus::L7Rsp, None, "");
        r.duration = Some(Duration::ZERO);
        assert_eq!(
            r.reason_text(),
            "reason: Layer7 invalid response, check duration: 0ms"
        );
    }

    #[test]
    fn stat_status_like_show_stat() {
        // haproxy 2.6.12 shows a fresh `rise 2 fall 3` server as "UP 1/3".
        let s = CheckState::new(2, 3, 2).snapshot();
        assert_eq!(s.stat_status(), "UP 1/3");
        assert_eq!(s.last.status.name(), "INI");
        assert_eq!(s.last.status.desc(), "Initializing");
        let st = CheckState::new(2, 3, 2);
        st.record(CheckResult::initializing(), 4);
        assert_eq!(st.snapshot().stat_status(), "UP");
        st.record(CheckResult::initializing(), 0);
        assert_eq!(st.snapshot().stat_status(), "DOWN");
        st.record(CheckResult::initializing(), 1);
        assert_eq!(st.snapshot().stat_status(), "DOWN 1/2");
    }
}
