//! What one check found, and the per-server check state other parts of the
//! process (the stats page, the CLI) read.
//!
//! Owns: HAProxy's check status codes (`L4OK`, `L7STS`, ...) with their
//! exact description texts and result class, and the shared
//! [`CheckState`] (health check side, agent side, operational state and
//! the `chkfail`/`chkdown`/downtime counters). Must not run checks nor
//! touch the server's flags: [`super::task`] applies transitions.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// HAProxy's `check_status` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CheckStatus {
    /// No check has completed yet.
    Ini,
    /// Agent: no status change (`CHECKED`).
    Checked,
    /// Health analyze (`observe`).
    Hana,
    /// Could not create the socket, or an I/O error after connecting.
    SockErr,
    L4Ok,
    L4Tout,
    L4Con,
    L6Ok,
    L6Tout,
    L6Rsp,
    L7Tout,
    L7Rsp,
    L7Ok,
    L7OkC,
    L7Sts,
}

/// HAProxy's `CHK_RES_*`: how a status counts in the rise/fall counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not counted (`INI`, `CHECKED`).
    Neutral,
    Failed,
    Passed,
    /// Passed, but the server goes NOLB (`disable-on-404`).
    CondPass,
}

impl CheckStatus {
    /// The short name shown in `show stat` (`check_status`).
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Ini => "INI",
            CheckStatus::Checked => "CHECKED",
            CheckStatus::Hana => "HANA",
            CheckStatus::SockErr => "SOCKERR",
            CheckStatus::L4Ok => "L4OK",
            CheckStatus::L4Tout => "L4TOUT",
            CheckStatus::L4Con => "L4CON",
            CheckStatus::L6Ok => "L6OK",
            CheckStatus::L6Tout => "L6TOUT",
            CheckStatus::L6Rsp => "L6RSP",
            CheckStatus::L7Tout => "L7TOUT",
            CheckStatus::L7Rsp => "L7RSP",
            CheckStatus::L7Ok => "L7OK",
            CheckStatus::L7OkC => "L7OKC",
            CheckStatus::L7Sts => "L7STS",
        }
    }

    /// The long description (`check_desc`, the log's `reason:`).
    pub fn desc(self) -> &'static str {
        match self {
            CheckStatus::Ini => "Initializing",
            CheckStatus::Checked => "No status change",
            CheckStatus::Hana => "Health analyze",
            CheckStatus::SockErr => "Socket error",
            CheckStatus::L4Ok => "Layer4 check passed",
            CheckStatus::L4Tout => "Layer4 timeout",
            CheckStatus::L4Con => "Layer4 connection problem",
            CheckStatus::L6Ok => "Layer6 check passed",
            CheckStatus::L6Tout => "Layer6 timeout",
            CheckStatus::L6Rsp => "Layer6 invalid response",
            CheckStatus::L7Tout => "Layer7 timeout",
            CheckStatus::L7Rsp => "Layer7 invalid response",
            CheckStatus::L7Ok => "Layer7 check passed",
            CheckStatus::L7OkC => "Layer7 check conditionally passed",
            CheckStatus::L7Sts => "Layer7 wrong status",
        }
    }

    pub fn outcome(self) -> Outcome {
        match self {
            CheckStatus::Ini | CheckStatus::Checked => Outcome::Neutral,
            CheckStatus::L4Ok | CheckStatus::L6Ok | CheckStatus::L7Ok => Outcome::Passed,
            CheckStatus::L7OkC => Outcome::CondPass,
            _ => Outcome::Failed,
        }
    }

    /// Whether this outcome counts as a passed check.
    pub fn passed(self) -> bool {
        matches!(self.outcome(), Outcome::Passed | Outcome::CondPass)
    }

    /// HAProxy shows a code only for statuses past `L57DATA`.
    pub fn has_code(self) -> bool {
        matches!(
            self,
            CheckStatus::L7Ok | CheckStatus::L7OkC | CheckStatus::L7Sts
        )
    }

    /// HAProxy shows a duration once a check finished (`>= CHECKED`).
    pub fn has_duration(self) -> bool {
        self != CheckStatus::Ini
    }

    /// `ok-status` / `error-status` / `tout-status` values of `expect`.
    pub fn from_name(s: &str) -> Option<CheckStatus> {
        Some(match s {
            "L4OK" => CheckStatus::L4Ok,
            "L4TOUT" => CheckStatus::L4Tout,
            "L4CON" => CheckStatus::L4Con,
            "L6OK" => CheckStatus::L6Ok,
            "L6TOUT" => CheckStatus::L6Tout,
            "L6RSP" => CheckStatus::L6Rsp,
            "L7OK" => CheckStatus::L7Ok,
            "L7OKC" => CheckStatus::L7OkC,
            "L7TOUT" => CheckStatus::L7Tout,
            "L7RSP" => CheckStatus::L7Rsp,
            "L7STS" => CheckStatus::L7Sts,
            _ => return None,
        })
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub status: CheckStatus,
    /// Status code (`check_code`): HTTP status, MySQL/LDAP error, ...
    /// Shown only for statuses that carry one (0 when unset).
    pub code: Option<u16>,
    /// Time from the start of the check to its verdict (`check_duration`).
    pub duration: Option<Duration>,
    /// Extra text (`last_chk`): the OS error, the HTTP reason, ...
    pub info: String,
}

/// HAProxy's `HCHK_DESC_LEN`: the info text keeps at most 127 bytes.
pub const DESC_LEN: usize = 127;

impl CheckResult {
    pub fn new(status: CheckStatus, code: Option<u16>, info: impl Into<String>) -> Self {
        let mut info: String = info.into();
        if info.len() > DESC_LEN {
            let mut cut = DESC_LEN;
            while !info.is_char_boundary(cut) {
                cut -= 1;
            }
            info.truncate(cut);
        }
        CheckResult {
            status,
            code,
            duration: None,
            info,
        }
    }

    /// The initial result before any check completed.
    pub fn initializing() -> Self {
        CheckResult::new(CheckStatus::Ini, None, "")
    }

    /// The code cell: `Some` only for statuses that show one.
    pub fn shown_code(&self) -> Option<u16> {
        self.status.has_code().then(|| self.code.unwrap_or(0))
    }

    /// `reason: <desc>[, code: <n>][, info: "<info>"], check duration: <d>ms`
    /// as HAProxy writes it in its "Server x/y is DOWN" messages.
    pub fn reason_text(&self) -> String {
        let mut s = format!("reason: {}", self.status.desc());
        if let Some(c) = self.shown_code() {
            s.push_str(&format!(", code: {c}"));
        }
        if !self.info.is_empty() {
            s.push_str(&format!(", info: \"{}\"", ascii_encode(&self.info)));
        }
        if let Some(d) = self.duration {
            s.push_str(&format!(", check duration: {}ms", d.as_millis()));
        }
        s
    }
}

/// HAProxy's `chunk_asciiencode(.., '"')`: non-printable bytes and the
/// quote become `\xHH`.
fn ascii_encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'"' {
            o.push(b as char);
        } else {
            o.push_str(&format!("\\x{b:02x}"));
        }
    }
    o
}

/// One side (health check or agent) of a server's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSnapshot {
    pub last: CheckResult,
    /// HAProxy's health counter: `0..rise` is DOWN, `rise..rise+fall` UP.
    pub health: u32,
    pub rise: u32,
    pub fall: u32,
    /// A check of this side is running now (`* ` prefix in `show stat`).
    pub in_progress: bool,
}

impl CheckSnapshot {
    pub fn new(rise: u32, fall: u32, health: u32) -> Self {
        CheckSnapshot {
            last: CheckResult::initializing(),
            health,
            rise: rise.max(1),
            fall: fall.max(1),
            in_progress: false,
        }
    }

    pub fn is_up(&self) -> bool {
        self.health >= self.rise
    }

    pub fn full(&self) -> u32 {
        self.rise + self.fall - 1
    }

    /// The `status` column of `show stat` for a checked, running server:
    /// `UP`, `UP 1/3` (going down), `DOWN`, `DOWN 1/2` (going up).
    pub fn stat_status(&self) -> String {
        if self.is_up() {
            if self.health == self.full() {
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

    /// HAProxy's `set_server_check_status` counter update. Returns whether
    /// a failure was counted (`chkfail`).
    pub fn apply(&mut self, r: &CheckResult) -> bool {
        let mut counted = false;
        match r.status.outcome() {
            Outcome::Failed => {
                if self.health > 0 {
                    counted = true;
                    self.health -= 1;
                    if self.health < self.rise {
                        self.health = 0;
                    }
                }
            }
            Outcome::Passed | Outcome::CondPass => {
                if self.health < self.full() {
                    self.health += 1;
                    if self.health >= self.rise {
                        self.health = self.full();
                    }
                }
            }
            Outcome::Neutral => {}
        }
        self.last = r.clone();
        self.in_progress = false;
        counted
    }
}

/// The server's operational state as the checks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpState {
    Running,
    /// NOLB: up, but takes no new load-balanced traffic.
    Stopping,
    Stopped,
}

/// Everything the checks of one server record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerChecks {
    /// The health check, when `check` is enabled.
    pub check: Option<CheckSnapshot>,
    /// The agent check, when `agent-check` is enabled.
    pub agent: Option<CheckSnapshot>,
    pub op: OpState,
    /// `chkfail`: failed health checks while not yet down.
    pub chkfail: u64,
    /// `chkdown`: UP to DOWN transitions.
    pub chkdown: u64,
    /// Accumulated time spent DOWN before the current period.
    pub downtime: Duration,
    /// When the server last went DOWN, while it still is.
    pub down_since: Option<Instant>,
}

/// The live check state of one server, shared with readers.
#[derive(Debug)]
pub struct CheckState {
    inner: Mutex<ServerChecks>,
    /// `track`: the state of the server this one follows.
    pub tracks: Option<Arc<CheckState>>,
}

impl CheckState {
    /// A server with only a health check; `health` is the initial counter.
    pub fn new(rise: u32, fall: u32, health: u32) -> Self {
        let mut c = CheckSnapshot::new(rise, fall, health);
        c.health = health;
        Self::with(Some(c), None, None)
    }

    pub fn with(
        check: Option<CheckSnapshot>,
        agent: Option<CheckSnapshot>,
        tracks: Option<Arc<CheckState>>,
    ) -> Self {
        CheckState {
            inner: Mutex::new(ServerChecks {
                check,
                agent,
                op: OpState::Running,
                chkfail: 0,
                chkdown: 0,
                downtime: Duration::ZERO,
                down_since: None,
            }),
            tracks,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, ServerChecks> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// A copy of everything.
    pub fn all(&self) -> ServerChecks {
        self.lock().clone()
    }

    /// The health-check side (the agent's when there is no health check).
    pub fn snapshot(&self) -> CheckSnapshot {
        let g = self.lock();
        g.check
            .clone()
            .or_else(|| g.agent.clone())
            .unwrap_or_else(|| CheckSnapshot::new(1, 1, 1))
    }

    /// The state that decides this server's status: its own, or the one
    /// of the server it tracks (followed to the end of the chain).
    pub fn reference(self: &Arc<Self>) -> Arc<CheckState> {
        let mut r = self.clone();
        for _ in 0..64 {
            match &r.tracks {
                Some(t) => r = t.clone(),
                None => break,
            }
        }
        r
    }

    /// Total downtime so far (`downtime`).
    pub fn downtime(&self) -> Duration {
        let g = self.lock();
        g.downtime + g.down_since.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Marks the start of a check of one side (`* ` prefix).
    pub(crate) fn set_in_progress(&self, agent: bool, v: bool) {
        let mut g = self.lock();
        let side = if agent { &mut g.agent } else { &mut g.check };
        if let Some(s) = side {
            s.in_progress = v;
        }
    }

    /// Test helper: records a health-check result with a given counter.
    #[cfg(test)]
    pub(crate) fn record(&self, last: CheckResult, health: u32) {
        let mut g = self.lock();
        if let Some(c) = &mut g.check {
            c.last = last;
            c.health = health;
        }
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
        // haproxy 2.6.12, redis-check against `-ERR foo bar`: a code of 0
        // is printed for L7STS even when nothing set it.
        let mut r = CheckResult::new(CheckStatus::L7Sts, None, "-ERR foo bar");
        r.duration = Some(Duration::ZERO);
        assert_eq!(
            r.reason_text(),
            "reason: Layer7 wrong status, code: 0, info: \"-ERR foo bar\", check duration: 0ms"
        );
        // The leading blank of tcp-check timeouts is kept.
        let r = CheckResult::new(
            CheckStatus::L7Tout,
            None,
            " at step 1 of tcp-check (expect string 'PONG')",
        );
        assert_eq!(
            r.reason_text(),
            "reason: Layer7 timeout, info: \" at step 1 of tcp-check (expect string 'PONG')\""
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

    #[test]
    fn counter_follows_set_server_check_status() {
        let fail = CheckResult::new(CheckStatus::L4Con, None, "");
        let ok = CheckResult::new(CheckStatus::L4Ok, None, "");
        let mut s = CheckSnapshot::new(2, 3, 2);
        // A fresh server goes down at the first failure, counted once.
        assert!(s.apply(&fail));
        assert_eq!(s.health, 0);
        // Failures while down are not counted (`chkfail`).
        assert!(!s.apply(&fail));
        s.apply(&ok);
        s.apply(&ok);
        assert_eq!(s.health, 4);
        assert!(s.apply(&fail));
        assert_eq!(s.health, 3);
        // Neutral results change nothing but the last result.
        let n = CheckResult::new(CheckStatus::Checked, None, "");
        assert!(!s.apply(&n));
        assert_eq!(s.health, 3);
    }

    #[test]
    fn info_is_bounded_like_hchk_desc_len() {
        let r = CheckResult::new(CheckStatus::L7Rsp, None, "é".repeat(200));
        assert!(r.info.len() <= DESC_LEN);
        assert!(CheckStatus::L7Sts.has_code() && !CheckStatus::L7Rsp.has_code());
        assert_eq!(CheckStatus::from_name("L6RSP"), Some(CheckStatus::L6Rsp));
        assert_eq!(CheckStatus::from_name("bogus"), None);
    }
}
