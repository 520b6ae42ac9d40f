//! `http-request wait-for-body time <time> [at-least <bytes>]` and the
//! rule `option http-buffer-request` stands for.
//!
//! Owns: the action's arguments and where a rule list stops to wait for
//! the body ([`WaitBody`] with the index of the next rule). Must not do
//! I/O: the exchange waits (see `crate::session::http::waitbody`).

use std::time::Duration;

/// Wait for the request body for at most `time` (`None`: until the
/// client timeout), or until `at_least` bytes of it are there (0: no such
/// limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitBody {
    pub time: Option<Duration>,
    pub at_least: u64,
}

/// Where a request rule list stopped to wait: the wait, and the index of
/// the rule to resume at once the body is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitAt {
    pub wait: WaitBody,
    pub next: usize,
}

/// Parses the words after `wait-for-body` (condition excluded), with
/// HAProxy's messages; words left over are an error.
pub fn parse(a: &[String]) -> Result<WaitBody, String> {
    let (w, used) = parse_prefix(a)?;
    match a.get(used) {
        None => Ok(w),
        Some(x) => Err(format!(
            "expects either 'if' or 'unless' followed by a condition but found '{x}'"
        )),
    }
}

/// The `time`/`at-least` arguments at the start of `a` and how many
/// words they took (`-c` reports the words after them with the generic
/// rule message). `time 0` means no timer of its own.
pub fn parse_prefix(a: &[String]) -> Result<(WaitBody, usize), String> {
    use crate::config::units::{TimeError, parse_size, parse_time};
    let mut w = WaitBody {
        time: None,
        at_least: 0,
    };
    let mut seen_time = false;
    let mut i = 0;
    while let Some(kw) = a.get(i).map(String::as_str) {
        if kw != "time" && kw != "at-least" {
            break;
        }
        let v = a
            .get(i + 1)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("missing argument for '{kw}'"))?;
        if kw == "time" {
            let ms = parse_time(v).map_err(|e| match e {
                TimeError::Overflow => {
                    "time overflow (maximum value is 2147483647 ms or ~24.8 days)".to_string()
                }
                TimeError::Underflow => {
                    "time underflow (minimum non-null value is 1 ms)".to_string()
                }
                e => e.to_string(),
            })?;
            w.time = (ms > 0).then(|| Duration::from_millis(u64::from(ms)));
            seen_time = true;
        } else {
            w.at_least = parse_size(v).map_err(|e| e.to_string())?;
        }
        i += 2;
    }
    if !seen_time {
        return Err("expects time <time> [ at-least <bytes> ]".into());
    }
    Ok((w, i))
}

/// The wait `option http-buffer-request` adds in front of a proxy's
/// request rules: up to `timeout http-request`, no `at-least`.
pub fn buffer_request(http_request_timeout: Option<Duration>) -> WaitBody {
    WaitBody {
        time: http_request_timeout.filter(|d| !d.is_zero()),
        at_least: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Result<WaitBody, String> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn arguments() {
        assert_eq!(
            w("time 1s at-least 1k"),
            Ok(WaitBody {
                time: Some(Duration::from_secs(1)),
                at_least: 1024
            })
        );
        assert_eq!(w("time 0").map(|x| x.time), Ok(None));
        // HAProxy 2.6.12's messages.
        let e = |s| w(s).err().unwrap_or_default();
        assert_eq!(e("at-least 10"), "expects time <time> [ at-least <bytes> ]");
        assert_eq!(e("time"), "missing argument for 'time'");
        assert_eq!(e("time 5x"), "unexpected character 'x'");
        assert_eq!(
            e("time 99999999999"),
            "time overflow (maximum value is 2147483647 ms or ~24.8 days)"
        );
        assert_eq!(e("time 1s at-least 5000000000"), "unexpected character '0'");
        assert_eq!(
            parse_prefix(&["time".into(), "1s".into(), "foo".into()]).map(|x| x.1),
            Ok(2)
        );
    }
}
