//! `retry-on` and `option redispatch [<interval>]`: which failures of an
//! HTTP exchange are retried, and when a retry may go to another server.
//!
//! Owns: the parsed policy ([`RetryOn`], [`redispatch_now`]). Must not
//! connect or send anything: the HTTP session asks it after each failure.

/// One failure of an attempt, as `retry-on` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    ConnFailure,
    EmptyResponse,
    JunkResponse,
    ResponseTimeout,
    Status(u16),
}

/// The `retry-on` set (default: `conn-failure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryOn {
    pub conn_failure: bool,
    pub empty_response: bool,
    pub junk_response: bool,
    pub response_timeout: bool,
    pub statuses: Vec<u16>,
}

impl Default for RetryOn {
    fn default() -> Self {
        RetryOn {
            conn_failure: true,
            empty_response: false,
            junk_response: false,
            response_timeout: false,
            statuses: Vec::new(),
        }
    }
}

impl RetryOn {
    /// Parses the words after `retry-on` (each line replaces the previous
    /// one). Unknown words were already refused by the config checker.
    pub fn parse(words: &[String]) -> RetryOn {
        let mut r = RetryOn {
            conn_failure: false,
            ..RetryOn::default()
        };
        for w in words {
            match w.as_str() {
                "conn-failure" => r.conn_failure = true,
                "empty-response" => r.empty_response = true,
                "junk-response" => r.junk_response = true,
                "response-timeout" => r.response_timeout = true,
                "all-retryable-errors" => {
                    r.conn_failure = true;
                    r.empty_response = true;
                    r.junk_response = true;
                    r.response_timeout = true;
                    r.statuses.extend([500, 502, 503, 504]);
                }
                s => {
                    if let Ok(code) = s.parse::<u16>() {
                        r.statuses.push(code);
                    }
                }
            }
        }
        r
    }

    /// From the proxy's last `retry-on` line (`None`: the default).
    pub fn from_directives(lines: &[crate::config::ir::RawRule]) -> RetryOn {
        lines
            .iter()
            .rev()
            .find(|d| d.words.first().is_some_and(|w| w == "retry-on"))
            .map_or_else(RetryOn::default, |d| RetryOn::parse(&d.words[1..]))
    }

    /// Anything beyond connection failures: such retries replay a request
    /// already sent (layer-7 retries).
    pub fn layer7(&self) -> bool {
        self.empty_response
            || self.junk_response
            || self.response_timeout
            || !self.statuses.is_empty()
    }

    pub fn matches(&self, f: Failure) -> bool {
        match f {
            Failure::ConnFailure => self.conn_failure,
            Failure::EmptyResponse => self.empty_response,
            Failure::JunkResponse => self.junk_response,
            Failure::ResponseTimeout => self.response_timeout,
            Failure::Status(s) => self.statuses.contains(&s),
        }
    }
}

/// `option redispatch [<interval>]` from the proxy's directives: `None`
/// without the option, else the interval (-1 when not given, 0 disables).
pub fn redispatch_interval(p: &crate::config::ir::Proxy) -> Option<i32> {
    if !p.option("redispatch") {
        return None;
    }
    let line = p.directives.iter().rev().find(|d| {
        d.words.first().is_some_and(|w| w == "option")
            && d.words.get(1).is_some_and(|w| w == "redispatch")
    });
    let v = line
        .and_then(|d| d.words.get(2))
        .map_or(-1, |w| crate::config::units::atoi(w));
    Some(v)
}

/// HAProxy's `stream_choose_redispatch`: whether retry number `retry`
/// (1-based) leaves its server. `interval` as [`redispatch_interval`];
/// `retries` the backend's `retries`; `server_down` the current server
/// left service; `free_choice` the request is not bound to its server
/// (no cookie/use-server, non-hash algorithm, several active servers).
pub fn redispatch_now(
    interval: Option<i32>,
    retries: u32,
    retry: u32,
    server_down: bool,
    force_persist: bool,
    free_choice: bool,
) -> bool {
    let Some(iv) = interval else { return false };
    if force_persist {
        return false;
    }
    let r = i64::from(retry);
    let every = if iv > 0 {
        r % i64::from(iv) == 0
    } else if iv < 0 {
        let m = i64::from(retries) + 1 + i64::from(iv);
        m != 0 && r % m == 0
    } else {
        false
    };
    server_down || every || free_choice
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_keywords() {
        let r = RetryOn::parse(&w("503 empty-response"));
        assert!(!r.conn_failure && r.empty_response && r.statuses == [503]);
        assert!(r.layer7());
        let a = RetryOn::parse(&w("all-retryable-errors"));
        assert!(a.conn_failure && a.junk_response && a.matches(Failure::Status(502)));
        assert!(!a.matches(Failure::Status(404)));
        assert!(!RetryOn::parse(&w("none")).matches(Failure::ConnFailure));
        assert!(RetryOn::default().matches(Failure::ConnFailure));
        assert!(!RetryOn::default().layer7());
    }

    #[test]
    fn redispatch_on_last_retry_by_default() {
        // retries 3, interval -1: the 3rd retry only.
        let at: Vec<bool> = (1..=3)
            .map(|r| redispatch_now(Some(-1), 3, r, false, false, false))
            .collect();
        assert_eq!(at, [false, false, true]);
        // interval 1: every retry; 0: never; no option: never.
        assert!(redispatch_now(Some(1), 3, 1, false, false, false));
        assert!(!redispatch_now(Some(0), 3, 3, false, false, false));
        assert!(!redispatch_now(None, 3, 3, true, false, true));
        // A down server or a free choice leaves at once, force-persist never.
        assert!(redispatch_now(Some(-1), 3, 1, true, false, false));
        assert!(redispatch_now(Some(-1), 3, 1, false, false, true));
        assert!(!redispatch_now(Some(-1), 3, 3, true, true, true));
    }
}
