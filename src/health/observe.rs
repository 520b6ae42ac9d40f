//! Passive health ("health analyze"): the server keywords `observe
//! layer4|layer7`, `on-error` and `error-limit`, HAProxy 2.6's
//! `__health_adjust`.
//!
//! Owns: the per-server [`Observer`] the data path reports into (lock
//! free: atomics plus a [`Notify`] the check task waits on), the table of
//! which traffic events count as errors (`analyze_statuses`), and the
//! parsing of the three keywords. Must not touch the check state itself:
//! [`super::task`] drains [`Observer::take`] and applies the action.

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use tokio::sync::Notify;

const R: Ordering = Ordering::Relaxed;

/// HAProxy's default `error-limit`.
pub const DEFAULT_ERROR_LIMIT: u32 = 10;

/// `observe layer4|layer7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    L4 = 1,
    L7 = 2,
}

/// `on-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    FastInter = 1,
    FailCheck = 2,
    SuddenDeath = 3,
    MarkDown = 4,
}

impl OnError {
    fn from_u8(v: u8) -> OnError {
        match v {
            2 => OnError::FailCheck,
            3 => OnError::SuddenDeath,
            4 => OnError::MarkDown,
            _ => OnError::FastInter,
        }
    }
}

/// The observe settings of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObserveSpec {
    pub layer: Layer,
    pub on_error: OnError,
    pub limit: u32,
}

/// What the data path saw (HAProxy's `HANA_STATUS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HanaStatus {
    L4Ok = 1,
    L4Err,
    HttpOk,
    HttpSts,
    HttpHdrRsp,
    HttpRsp,
    ReadError,
    ReadTimeout,
    BrokenPipe,
}

/// How a status counts for each layer: 0 ignored, 1 error, 2 success.
struct Analyze {
    desc: &'static str,
    l4: u8,
    l7: u8,
}

impl HanaStatus {
    const ALL: [HanaStatus; 9] = [
        HanaStatus::L4Ok,
        HanaStatus::L4Err,
        HanaStatus::HttpOk,
        HanaStatus::HttpSts,
        HanaStatus::HttpHdrRsp,
        HanaStatus::HttpRsp,
        HanaStatus::ReadError,
        HanaStatus::ReadTimeout,
        HanaStatus::BrokenPipe,
    ];

    fn analyze(self) -> Analyze {
        let (desc, l4, l7) = match self {
            HanaStatus::L4Ok => ("L4 successful connection", 2, 0),
            HanaStatus::L4Err => ("L4 unsuccessful connection", 1, 1),
            HanaStatus::HttpOk => ("Correct http response", 0, 2),
            HanaStatus::HttpSts => ("Wrong http response", 0, 1),
            HanaStatus::HttpHdrRsp => ("Invalid http response (headers)", 0, 1),
            HanaStatus::HttpRsp => ("Invalid http response", 0, 1),
            HanaStatus::ReadError => ("Read error (http)", 0, 1),
            HanaStatus::ReadTimeout => ("Read timeout (http)", 0, 1),
            HanaStatus::BrokenPipe => ("Close from server (http)", 0, 1),
        };
        Analyze { desc, l4, l7 }
    }

    /// HAProxy's description (`get_analyze_status`).
    pub fn desc(self) -> &'static str {
        self.analyze().desc
    }

    /// A final HTTP status: 5xx (but 501 and 505, which clients cause) and
    /// out-of-range codes are server errors.
    pub fn of_http_status(status: u16) -> HanaStatus {
        if status >= 100 && (status < 500 || status == 501 || status == 505) {
            HanaStatus::HttpOk
        } else {
            HanaStatus::HttpSts
        }
    }

    fn from_u8(v: u8) -> Option<HanaStatus> {
        HanaStatus::ALL.into_iter().find(|s| *s as u8 == v)
    }
}

/// The limit was reached: what the check task must apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub on_error: OnError,
    /// `Detected N consecutive errors, last one was: ...`.
    pub info: String,
}

/// The per-server passive health hook. Disabled (mode 0) unless the
/// server has `observe`; reporting into a disabled one is one load.
#[derive(Debug, Default)]
pub struct Observer {
    /// 0 off, 1 layer4, 2 layer7.
    mode: AtomicU8,
    on_error: AtomicU8,
    limit: AtomicU32,
    consecutive: AtomicU32,
    /// Pending firing: error count (0: none) and last status.
    fired_count: AtomicU32,
    fired_status: AtomicU8,
    /// `hanafail`.
    failed_hana: AtomicU64,
    notify: Notify,
}

impl Observer {
    /// Turns observation on (at start-up, before traffic).
    pub fn enable(&self, spec: ObserveSpec) {
        self.on_error.store(spec.on_error as u8, R);
        self.limit.store(spec.limit.max(1), R);
        self.mode.store(spec.layer as u8, R);
    }

    pub fn enabled(&self) -> bool {
        self.mode.load(R) != 0
    }

    /// The data path saw `st` on this server. Never blocks nor locks.
    pub fn report(&self, st: HanaStatus) {
        let mode = self.mode.load(R);
        if mode == 0 {
            return;
        }
        let a = st.analyze();
        let verdict = if mode == 1 { a.l4 } else { a.l7 };
        match verdict {
            2 => self.consecutive.store(0, R),
            1 => {
                let n = self.consecutive.fetch_add(1, R) + 1;
                if n >= self.limit.load(R) {
                    self.consecutive.store(0, R);
                    self.failed_hana.fetch_add(1, R);
                    self.fired_status.store(st as u8, R);
                    self.fired_count.store(n, Ordering::Release);
                    self.notify.notify_one();
                }
            }
            _ => {}
        }
    }

    /// A connection to the server failed (`HANA_STATUS_L4_ERR`).
    pub fn conn_failed(&self) {
        self.report(HanaStatus::L4Err);
    }

    /// A connection to the server was established.
    pub fn conn_ok(&self) {
        self.report(HanaStatus::L4Ok);
    }

    /// The server's final response status.
    pub fn http_status(&self, status: u16) {
        self.report(HanaStatus::of_http_status(status));
    }

    /// `hanafail`: how many times the limit was reached.
    pub fn failed_hana(&self) -> u64 {
        self.failed_hana.load(R)
    }

    /// Takes the pending firing, if any.
    pub fn take(&self) -> Option<Fired> {
        let n = self.fired_count.swap(0, Ordering::Acquire);
        if n == 0 {
            return None;
        }
        let st = HanaStatus::from_u8(self.fired_status.load(R))?;
        Some(Fired {
            on_error: OnError::from_u8(self.on_error.load(R)),
            info: format!(
                "Detected {n} consecutive errors, last one was: {}",
                st.desc()
            ),
        })
    }

    /// Resolves when the limit is reached (or was since the last call).
    pub async fn fired(&self) {
        self.notify.notified().await;
    }
}

/// The health counter to set before counting one failed check (HAProxy's
/// `__health_adjust` actions); `None` for `fastinter`, which only speeds
/// up the next check.
pub fn health_before_failure(on: OnError, health: u32, rise: u32) -> Option<u32> {
    match on {
        OnError::FastInter => None,
        OnError::FailCheck => Some(health),
        // A pre-fatal failed check: the next failure takes it down.
        OnError::SuddenDeath if health > rise => Some(rise + 1),
        OnError::SuddenDeath => Some(health),
        // The failure counted next drops the counter below `rise`.
        OnError::MarkDown => Some(rise),
    }
}

/// Parses `observe`, `on-error` and `error-limit` values (last wins).
/// `Ok(None)` without `observe`; `Err` is HAProxy's reason text (seen on
/// haproxy 2.6.12 `-c`).
pub fn parse(
    observe: Option<&str>,
    on_error: Option<&str>,
    error_limit: Option<&str>,
) -> Result<Option<ObserveSpec>, String> {
    let on_error = match on_error {
        None => OnError::FailCheck,
        Some("fastinter") => OnError::FastInter,
        Some("fail-check") => OnError::FailCheck,
        Some("sudden-death") => OnError::SuddenDeath,
        Some("mark-down") => OnError::MarkDown,
        Some(v) => {
            return Err(format!(
                "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{v}'"
            ));
        }
    };
    let limit = match error_limit {
        None => DEFAULT_ERROR_LIMIT,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| "error-limit has to be > 0.".to_string())?,
    };
    let layer = match observe {
        None | Some("none") => return Ok(None),
        Some("layer4") => Layer::L4,
        Some("layer7") => Layer::L7,
        Some(v) => {
            return Err(format!(
                "'observe' expects one of 'none', 'layer4', 'layer7' but got '{v}'"
            ));
        }
    };
    Ok(Some(ObserveSpec {
        layer,
        on_error,
        limit,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(layer: Layer, limit: u32) -> Observer {
        let o = Observer::default();
        o.enable(ObserveSpec {
            layer,
            on_error: OnError::MarkDown,
            limit,
        });
        o
    }

    #[test]
    fn statuses_that_count_follow_haproxy() {
        assert_eq!(HanaStatus::of_http_status(200), HanaStatus::HttpOk);
        assert_eq!(HanaStatus::of_http_status(404), HanaStatus::HttpOk);
        assert_eq!(HanaStatus::of_http_status(501), HanaStatus::HttpOk);
        assert_eq!(HanaStatus::of_http_status(505), HanaStatus::HttpOk);
        assert_eq!(HanaStatus::of_http_status(500), HanaStatus::HttpSts);
        assert_eq!(HanaStatus::of_http_status(503), HanaStatus::HttpSts);
        assert_eq!(HanaStatus::of_http_status(99), HanaStatus::HttpSts);
    }

    #[test]
    fn layer7_fires_at_limit_and_resets_on_success() {
        let o = obs(Layer::L7, 3);
        o.http_status(503);
        o.http_status(503);
        o.http_status(200);
        o.http_status(503);
        o.http_status(502);
        assert_eq!(o.take(), None);
        o.http_status(500);
        let f = o.take().expect("fired");
        assert_eq!(f.on_error, OnError::MarkDown);
        assert_eq!(
            f.info,
            "Detected 3 consecutive errors, last one was: Wrong http response"
        );
        assert_eq!(o.failed_hana(), 1);
        assert_eq!(o.take(), None);
    }

    #[test]
    fn layer4_ignores_http_and_counts_connect_errors() {
        let o = obs(Layer::L4, 2);
        o.http_status(503);
        o.http_status(503);
        assert_eq!(o.take(), None);
        o.conn_failed();
        o.conn_ok();
        o.conn_failed();
        assert_eq!(o.take(), None);
        o.conn_failed();
        assert_eq!(
            o.take().map(|f| f.info),
            Some("Detected 2 consecutive errors, last one was: L4 unsuccessful connection".into())
        );
        // Layer 7 also counts connect errors, and L4 successes are ignored.
        let o = obs(Layer::L7, 2);
        o.conn_failed();
        o.conn_ok();
        o.conn_failed();
        assert!(o.take().is_some());
    }

    #[test]
    fn disabled_observer_does_nothing() {
        let o = Observer::default();
        for _ in 0..20 {
            o.conn_failed();
        }
        assert_eq!(o.take(), None);
        assert_eq!(o.failed_hana(), 0);
    }

    #[test]
    fn actions_preset_the_health_counter() {
        // rise 2 fall 3: fully up is health 4.
        assert_eq!(health_before_failure(OnError::FastInter, 4, 2), None);
        assert_eq!(health_before_failure(OnError::FailCheck, 4, 2), Some(4));
        assert_eq!(health_before_failure(OnError::SuddenDeath, 4, 2), Some(3));
        assert_eq!(health_before_failure(OnError::SuddenDeath, 2, 2), Some(2));
        assert_eq!(health_before_failure(OnError::MarkDown, 4, 2), Some(2));
        // One failed check after the preset, as the check task counts it.
        let mut c = crate::health::CheckSnapshot::new(2, 3, 4);
        let r = crate::health::CheckResult::new(crate::health::CheckStatus::Hana, None, "x");
        c.health = 3;
        c.apply(&r);
        assert!(c.is_up(), "sudden-death leaves it up one more time");
        c.apply(&r);
        assert!(!c.is_up());
        let mut c = crate::health::CheckSnapshot::new(2, 3, 2);
        c.apply(&r);
        assert_eq!(c.health, 0, "mark-down goes down at once");
    }

    #[test]
    fn parses_keywords_with_defaults() {
        assert_eq!(parse(None, Some("mark-down"), Some("3")), Ok(None));
        assert_eq!(
            parse(Some("layer7"), None, None),
            Ok(Some(ObserveSpec {
                layer: Layer::L7,
                on_error: OnError::FailCheck,
                limit: 10
            }))
        );
        assert!(parse(Some("layer9"), None, None).is_err());
        assert!(parse(Some("layer4"), Some("boom"), None).is_err());
        assert!(parse(Some("layer4"), None, Some("0")).is_err());
    }
}
