//! HAProxy's sliding average over the last samples (`swrate`), used for
//! the `qtime`, `ctime`, `rtime` and `ttime` cells.
//!
//! Owns: the sum update and the average read. HAProxy keeps
//! `sum = sum - ceil(sum / N) + v` with N = [`SAMPLES`] once more than N
//! samples were counted, and a plain sum before that (N = 0 in its
//! `swrate_add_dynamic`); the average is `ceil(sum / n)` with `n` the
//! number of samples counted so far, capped at N. Atomics only (one
//! compare-and-swap loop). Must not know what the samples mean.

use std::sync::atomic::{AtomicU32, Ordering};

/// HAProxy's `TIME_STATS_SAMPLES` (512 in 2.6, whatever the docs say).
pub const SAMPLES: u64 = 512;

/// A sliding-window sum of millisecond samples.
#[derive(Debug, Default)]
pub struct SwRate(AtomicU32);

impl SwRate {
    /// Adds sample `v`; `seen` is how many samples the owner had counted
    /// when this one arrived (HAProxy's `cum_req` or `cum_lbconn`).
    pub fn add(&self, seen: u64, v: u32) {
        let n = if seen > SAMPLES { SAMPLES as u32 } else { 0 };
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                let decay = if n == 0 {
                    0
                } else {
                    u64::from(old).div_ceil(u64::from(n)) as u32
                };
                Some(old.wrapping_sub(decay).wrapping_add(v))
            });
    }

    /// The average for `seen` samples counted so far.
    pub fn avg(&self, seen: u64) -> u32 {
        let n = if seen > 0 && seen < SAMPLES {
            seen
        } else {
            SAMPLES
        };
        u64::from(self.0.load(Ordering::Relaxed)).div_ceil(n) as u32
    }

    pub fn clear(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_samples_give_the_rounded_up_mean() {
        let s = SwRate::default();
        assert_eq!(s.avg(0), 0);
        s.add(1, 10);
        s.add(2, 0);
        s.add(3, 1);
        // (10 + 0 + 1) / 3 rounded up.
        assert_eq!(s.avg(3), 4);
    }

    #[test]
    fn long_runs_converge_to_the_constant() {
        let s = SwRate::default();
        for i in 1..=5000u64 {
            s.add(i, 100);
        }
        let a = s.avg(5000);
        assert!((99..=101).contains(&a), "{a}");
    }

    #[test]
    fn old_samples_fade() {
        let s = SwRate::default();
        for i in 1..=600u64 {
            s.add(i, 1000);
        }
        for i in 601..=6000u64 {
            s.add(i, 0);
        }
        assert!(s.avg(6000) < 5, "{}", s.avg(6000));
    }
}
