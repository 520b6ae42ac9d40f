//! HAProxy's per-second event rate (`freq_ctr`): the count of the current
//! period plus the previous period's count weighted by the part of the
//! current period still to come.
//!
//! Owns: [`FreqCtr`] (update and read) and [`Max`] (a "highest value
//! seen" cell, used for `*_rate_max`, `smax`, `qmax`...). Atomics only:
//! the common update is one relaxed add; rotating to a new period (at most
//! once per period) takes a short-lived flag in the tick word, exactly as
//! HAProxy does. Must not read the clock itself: callers pass `now` in ms.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The rate period in milliseconds (HAProxy reports rates per second).
pub const PERIOD_MS: u32 = 1000;

/// Events in the current and the previous period.
#[derive(Debug, Default)]
pub struct FreqCtr {
    /// Start of the current period in ms (even; bit 0 = rotation in
    /// progress).
    tick: AtomicU32,
    curr: AtomicU32,
    prev: AtomicU32,
}

impl FreqCtr {
    pub const fn new() -> FreqCtr {
        FreqCtr {
            tick: AtomicU32::new(0),
            curr: AtomicU32::new(0),
            prev: AtomicU32::new(0),
        }
    }

    /// Adds `inc` events at `now` (ms); returns the current period's count
    /// after the add (what HAProxy feeds to the `*_max` cells).
    pub fn add(&self, now: u64, inc: u32) -> u32 {
        let now = now as u32;
        let mut tick = self.tick.load(Ordering::Relaxed);
        loop {
            if now.wrapping_sub(tick) < PERIOD_MS {
                return self
                    .curr
                    .fetch_add(inc, Ordering::Relaxed)
                    .wrapping_add(inc);
            }
            tick &= !1;
            match self.tick.compare_exchange_weak(
                tick,
                tick | 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(t) => {
                    tick = t;
                    std::hint::spin_loop();
                }
            }
        }
        // We own the rotation: the previous period becomes `prev`.
        let mut new_tick = tick;
        if now.wrapping_sub(tick) >= PERIOD_MS {
            let old = self.curr.swap(0, Ordering::Relaxed);
            new_tick = tick.wrapping_add(PERIOD_MS);
            let mut prev = old;
            if now.wrapping_sub(new_tick) >= PERIOD_MS {
                // At least two periods went by without an event.
                prev = 0;
                new_tick = now;
            }
            self.prev.store(prev, Ordering::Relaxed);
        }
        self.tick.store(new_tick & !1, Ordering::Release);
        self.curr
            .fetch_add(inc, Ordering::Relaxed)
            .wrapping_add(inc)
    }

    /// Events per period at `now`, HAProxy's `read_freq_ctr()`.
    pub fn read(&self, now: u64) -> u32 {
        let (mut curr, mut past, tick) = loop {
            let tick = self.tick.load(Ordering::Acquire);
            let curr = self.curr.load(Ordering::Relaxed);
            let past = self.prev.load(Ordering::Relaxed);
            if tick & 1 == 0 && tick == self.tick.load(Ordering::Acquire) {
                break (u64::from(curr), u64::from(past), tick);
            }
            std::hint::spin_loop();
        };
        let period = i64::from(PERIOD_MS);
        let mut remain = i64::from(tick.wrapping_add(PERIOD_MS).wrapping_sub(now as u32) as i32);
        if remain < 0 {
            // Past the current period: part of it may still count as the
            // previous one, or it is too old.
            remain += period;
            past = if remain >= 0 { curr } else { 0 };
            curr = 0;
        }
        // HAProxy's flapping correction at very low rates.
        if curr == 0 && past <= 1 {
            return past as u32;
        }
        let total = past as i64 * remain.max(0) + curr as i64 * period;
        (total / period) as u32
    }

    /// Forgets everything (`clear counters`).
    pub fn clear(&self) {
        self.curr.store(0, Ordering::Relaxed);
        self.prev.store(0, Ordering::Relaxed);
    }
}

/// The highest value seen.
#[derive(Debug, Default)]
pub struct Max(AtomicU64);

impl Max {
    pub const fn new() -> Max {
        Max(AtomicU64::new(0))
    }

    pub fn note(&self, v: u64) {
        // Read first: the common case (no new maximum) stays a plain load.
        if v > self.0.load(Ordering::Relaxed) {
            self.0.fetch_max(v, Ordering::Relaxed);
        }
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    pub fn clear(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_one_period() {
        let f = FreqCtr::default();
        let t0 = 10_000;
        assert_eq!(f.add(t0, 1), 1);
        assert_eq!(f.add(t0 + 10, 1), 2);
        assert_eq!(f.add(t0 + 999, 3), 5);
        assert_eq!(f.read(t0 + 999), 5);
    }

    #[test]
    fn previous_period_weighted_by_what_remains() {
        let f = FreqCtr::default();
        let t0 = 50_000;
        f.add(t0, 10);
        // The first add started a fresh period at t0 (two periods missed).
        // 250 ms into the next period: 10 * 750/1000 + 0.
        assert_eq!(f.read(t0 + 1250), 7);
        f.add(t0 + 1250, 4);
        // curr=4, past=10, remain=750: (10*750 + 4*1000)/1000 = 11.
        assert_eq!(f.read(t0 + 1250), 11);
        // Two periods later everything is gone.
        assert_eq!(f.read(t0 + 3100), 0);
    }

    #[test]
    fn low_rates_do_not_flap() {
        let f = FreqCtr::default();
        f.add(100_000, 1);
        // A single event last period reads as 1 for the whole next period.
        assert_eq!(f.read(101_900), 1);
        assert_eq!(f.read(100_500), 1);
    }

    #[test]
    fn max_keeps_the_highest() {
        let m = Max::default();
        m.note(3);
        m.note(1);
        m.note(7);
        assert_eq!(m.get(), 7);
        m.clear();
        assert_eq!(m.get(), 0);
    }
}
