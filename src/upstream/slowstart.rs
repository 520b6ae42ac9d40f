//! Effective weights (HAProxy's `eweight`) and the `slowstart` ramp.
//!
//! Owns: the arithmetic of `server_recalc_eweight` in HAProxy 2.6: the
//! user weight scaled by the algorithm's `wdiv`/`wmult`, reduced while a
//! server revived by its checks warms up (`slowstart`, whole seconds, a
//! new step every second). Must not change server state or pick servers.

/// HAProxy's `BE_WEIGHT_SCALE`: effective weight per unit of user weight
/// for the dynamic algorithms.
pub const WEIGHT_SCALE: u32 = 16;

/// Milliseconds on a process-wide monotonic clock (whole seconds of it
/// are the steps of the warm-up).
pub fn clock_ms() -> u64 {
    static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let base = BASE.get_or_init(std::time::Instant::now);
    u64::try_from(base.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
}

/// The `slowstart` argument (milliseconds) as HAProxy keeps it: whole
/// seconds, rounded up.
pub fn slowstart_secs(ms: u32) -> u32 {
    ms.div_ceil(1000)
}

/// The effective weight of a server with user weight `uweight`:
/// `(uweight * w + wmult - 1) / wmult`, where `w` is `wdiv`, or while
/// warming up (`warm = Some((elapsed_s, slowstart_s))`, dynamic
/// algorithms only) `(wdiv * elapsed + slowstart) / slowstart`.
pub fn eweight(uweight: u32, wdiv: u32, wmult: u32, warm: Option<(u64, u32)>) -> u32 {
    let wmult = u64::from(wmult.max(1));
    let w = match warm {
        Some((elapsed, ss)) if ss > 0 && elapsed < u64::from(ss) => {
            (u64::from(wdiv) * elapsed + u64::from(ss)) / u64::from(ss)
        }
        _ => u64::from(wdiv),
    };
    let e = (u64::from(uweight) * w).div_ceil(wmult);
    u32::try_from(e).unwrap_or(u32::MAX)
}

/// The `maxconn` in force while warming up (HAProxy's
/// `srv_dynamic_maxconn`): `max` times the elapsed share of the
/// slowstart period, in whole percents, never below 1.
pub fn ramp_maxconn(max: u32, elapsed: u64, slowstart: u32) -> u32 {
    if slowstart == 0 || elapsed >= u64::from(slowstart) {
        return max;
    }
    let ratio = 100 * elapsed / u64::from(slowstart);
    ((u64::from(max) * ratio / 100) as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_weight_is_scaled() {
        assert_eq!(eweight(3, WEIGHT_SCALE, 1, None), 48);
        assert_eq!(eweight(0, WEIGHT_SCALE, 1, None), 0);
        // map-based: user weight over the GCD, rounded up.
        assert_eq!(eweight(3, 1, 2, None), 2);
    }

    #[test]
    fn slowstart_ramps_each_second_from_one_step() {
        // slowstart 2s, weight 1: 1/2 + 16/2*0 -> w = 1, then 9, then 16.
        assert_eq!(eweight(1, 16, 1, Some((0, 2))), 1);
        assert_eq!(eweight(1, 16, 1, Some((1, 2))), 9);
        assert_eq!(eweight(1, 16, 1, Some((2, 2))), 16);
        assert_eq!(eweight(10, 16, 1, Some((5, 20))), 10 * ((16 * 5 + 20) / 20));
        assert_eq!(slowstart_secs(1500), 2);
        assert_eq!(slowstart_secs(0), 0);
    }

    #[test]
    fn maxconn_follows_the_ramp() {
        assert_eq!(ramp_maxconn(100, 1, 2), 50);
        assert_eq!(ramp_maxconn(100, 0, 2), 1);
        assert_eq!(ramp_maxconn(100, 2, 2), 100);
        assert_eq!(ramp_maxconn(7, 1, 3), 2);
    }
}
