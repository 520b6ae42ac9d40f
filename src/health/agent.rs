//! Agent check replies (`agent-check`): one line of words such as `75%`,
//! `up`, `down`, `drain`, `maint`, `ready`, `stopped`, `fail`, then an
//! optional `#comment`, applied like HAProxy 2.6's
//! `tcpcheck_agent_expect_reply`.
//!
//! Owns: parsing the line ([`parse`]), the weight rules of
//! `server_parse_weight_change_request` ([`weight_change`], always within
//! 0..=256) and turning a reply into the agent's [`CheckResult`]. Must not
//! touch the health-check counter: the agent side has its own.

use super::status::{CheckResult, CheckStatus};

/// HAProxy's `SRV_UWGHT_MAX`.
pub const MAX_WEIGHT: u32 = 256;

/// The words of one reply, last one of each kind winning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// `up`, `down`, `stopped`, `fail` as written.
    pub health: Option<String>,
    /// `ready`, `drain`, `maint` (lower-cased).
    pub admin: Option<String>,
    /// A word starting with a digit and containing `%`.
    pub weight: Option<String>,
    /// `maxconn:<n>` value.
    pub maxconn: Option<String>,
    /// The first word not understood.
    pub error: Option<String>,
    /// The text after `#`, leading blanks removed.
    pub desc: String,
}

/// Splits a reply line (without its CR/LF).
pub fn parse(line: &str) -> Reply {
    let mut r = Reply::default();
    let (words, desc) = match line.find('#') {
        Some(i) => (&line[..i], Some(&line[i + 1..])),
        None => (line, None),
    };
    for w in words.split([' ', '\t', ',']).filter(|w| !w.is_empty()) {
        let l = w.to_ascii_lowercase();
        match l.as_str() {
            "up" | "down" | "stopped" | "fail" => r.health = Some(w.to_string()),
            "ready" | "drain" | "maint" => r.admin = Some(l),
            _ if w.starts_with(|c: char| c.is_ascii_digit()) && w.contains('%') => {
                r.weight = Some(w.to_string())
            }
            _ if l.starts_with("maxconn:") => r.maxconn = Some(w["maxconn:".len()..].to_string()),
            _ => {
                if r.error.is_none() {
                    r.error = Some(w.to_string());
                }
            }
        }
    }
    r.desc = desc
        .map(|d| d.trim_start_matches([' ', '\t', '\n']).to_string())
        .unwrap_or_default();
    r
}

/// C's `strtol(s, &end, 0)`: the value (saturated) and the rest.
fn strtol(s: &str) -> (Option<i64>, &str) {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, body) = if let Some(r) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, r)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    let n = body.chars().take_while(|c| c.is_digit(radix)).count();
    if n == 0 {
        if radix == 8 {
            return (Some(0), &t[1..]);
        }
        return (None, s);
    }
    let mut v: i64 = 0;
    for c in body[..n].chars() {
        let d = c.to_digit(radix).map_or(0, i64::from);
        v = v.saturating_mul(i64::from(radix)).saturating_add(d);
    }
    (Some(if neg { -v } else { v }), &body[n..])
}

/// HAProxy's `server_parse_weight_change_request`: the new user weight
/// for a server configured with `iweight`, or the warning text.
pub fn weight_change(iweight: u32, s: &str) -> Result<u32, &'static str> {
    let (v, end) = strtol(s);
    let Some(mut w) = v else {
        return Err("Empty weight string empty or preceded by garbage");
    };
    if end == "%" {
        if w < 0 {
            return Err("Relative weight must be positive.");
        }
        w = w.min(25600);
        w = i64::from(iweight) * w / 100;
        w = w.min(i64::from(MAX_WEIGHT));
    } else if !(0..=i64::from(MAX_WEIGHT)).contains(&w) {
        return Err("Absolute weight can only be between 0 and 256 inclusive.");
    } else if !end.is_empty() {
        return Err("Trailing garbage in weight string");
    }
    // `w` is within 0..=256 here.
    Ok(u32::try_from(w).unwrap_or(0).min(MAX_WEIGHT))
}

/// HAProxy's `server_parse_maxconn_change_request`.
pub fn maxconn_change(s: &str) -> Result<u32, &'static str> {
    let (v, end) = strtol(s);
    match v {
        None => Err("maxconn string empty or preceded by garbage"),
        Some(_) if !end.is_empty() => Err("Trailing garbage in maxconn string"),
        Some(n) => Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX - 1)),
    }
}

/// The changes a reply asks for, in HAProxy's order of application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effects {
    /// `ready`, `drain` or `maint`.
    pub admin: Option<String>,
    /// The new user weight (already clamped to 0..=256).
    pub weight: Option<u32>,
    /// `maxconn:<n>` (0: no limit).
    pub maxconn: Option<u32>,
    /// The agent's check result.
    pub result: CheckResult,
}

/// Evaluates a reply for a server of configured weight `iweight`.
/// `prev` is the agent's previous status (kept for replies without a
/// health word or for an incomplete line).
pub fn evaluate(line: Option<&str>, iweight: u32, prev: CheckStatus) -> Effects {
    let Some(line) = line else {
        return Effects {
            admin: None,
            weight: None,
            maxconn: None,
            result: CheckResult::new(prev, None, "Ignoring incomplete line from agent"),
        };
    };
    let r = parse(line);
    let mut warn: Option<String> = None;
    let weight = match &r.weight {
        Some(w) => match weight_change(iweight, w) {
            Ok(v) => Some(v),
            Err(m) => {
                warn = Some(m.to_string());
                None
            }
        },
        None => None,
    };
    let maxconn = match &r.maxconn {
        Some(m) => match maxconn_change(m) {
            Ok(v) => Some(v),
            Err(msg) => {
                if warn.is_none() {
                    warn = Some(msg.to_string());
                }
                None
            }
        },
        None => None,
    };
    let result = if let Some(hs) = &r.health {
        let status = if hs.eq_ignore_ascii_case("up") {
            CheckStatus::L7Ok
        } else {
            CheckStatus::L7Sts
        };
        let mut msg = r.desc.clone();
        if msg.is_empty() || status == CheckStatus::L7Ok {
            if let Some(e) = &r.error {
                msg = e.clone();
            } else if let Some(w) = &warn {
                msg = w.clone();
            }
        }
        let info = if msg.is_empty() {
            format!("via agent : {hs}")
        } else {
            format!("via agent : {hs} ({msg})")
        };
        CheckResult::new(status, Some(0), info)
    } else if let Some(e) = &r.error {
        CheckResult::new(
            CheckStatus::Checked,
            None,
            format!("agent reports an error : {e}"),
        )
    } else if let Some(w) = &warn {
        CheckResult::new(CheckStatus::Checked, None, format!("agent warns : {w}"))
    } else {
        CheckResult::new(CheckStatus::Checked, None, "")
    };
    Effects {
        admin: r.admin,
        weight,
        maxconn,
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_like_haproxy() {
        // Values observed on haproxy 2.6.12 (`show stat` weight, agent
        // status, last_agt).
        let e = evaluate(Some("50%"), 10, CheckStatus::Ini);
        assert_eq!(e.weight, Some(5));
        assert_eq!(
            (e.result.status, e.result.info.as_str()),
            (CheckStatus::Checked, "")
        );
        let e = evaluate(Some("300%"), 100, CheckStatus::Ini);
        assert_eq!(e.weight, Some(256));
        let e = evaluate(Some("down #because of x"), 1, CheckStatus::Ini);
        assert_eq!(
            (e.result.status, e.result.info.as_str()),
            (CheckStatus::L7Sts, "via agent : down (because of x)")
        );
        let e = evaluate(Some("garbage words"), 1, CheckStatus::Ini);
        assert_eq!(e.result.info, "agent reports an error : garbage");
        assert_eq!(e.result.status, CheckStatus::Checked);
        let e = evaluate(Some("up 75% ready"), 20, CheckStatus::Ini);
        assert_eq!(e.weight, Some(15));
        assert_eq!(e.admin.as_deref(), Some("ready"));
        assert_eq!(e.result.info, "via agent : up");
        assert_eq!(e.result.shown_code(), Some(0));
        let e = evaluate(Some("fail #oops"), 1, CheckStatus::Ini);
        assert_eq!(e.result.info, "via agent : fail (oops)");
        let e = evaluate(Some("maint"), 1, CheckStatus::Ini);
        assert_eq!(e.admin.as_deref(), Some("maint"));
        let e = evaluate(Some("ready up 0%"), 1, CheckStatus::Ini);
        assert_eq!(e.weight, Some(0));
        let e = evaluate(None, 1, CheckStatus::L7Ok);
        assert_eq!(
            (e.result.status, e.result.info.as_str()),
            (CheckStatus::L7Ok, "Ignoring incomplete line from agent")
        );
    }

    #[test]
    fn weights_never_leave_0_256() {
        for s in [
            "99999999999999999999%",
            "-5%",
            "0x7fffffff%",
            "257%",
            "12%x",
            "%",
            "1e9%",
            "0%",
            "007%",
        ] {
            for iw in [0, 1, 100, 256, u32::MAX] {
                if let Ok(w) = weight_change(iw, s) {
                    assert!(w <= MAX_WEIGHT, "{s} {iw} -> {w}");
                }
            }
        }
        assert_eq!(
            weight_change(10, "12%x"),
            Err("Trailing garbage in weight string")
        );
        assert_eq!(
            weight_change(10, "-5%"),
            Err("Relative weight must be positive.")
        );
        assert_eq!(weight_change(10, "0x10%"), Ok(1));
    }

    proptest::proptest! {
        #[test]
        fn any_reply_keeps_weight_in_range(line in "\\PC{0,64}", iw in 0u32..1000) {
            let e = evaluate(Some(&line), iw, CheckStatus::Ini);
            if let Some(w) = e.weight {
                proptest::prop_assert!(w <= MAX_WEIGHT);
            }
        }
    }
}
