//! A cheap millisecond clock for counters (rates, `lastsess`).
//!
//! Owns: reading `CLOCK_MONOTONIC_COARSE` (a vDSO read, no syscall, a few
//! milliseconds of resolution, which is what per-second rates need). Must
//! not be used for the per-request timings (`qtime`..`ttime`): those use
//! [`std::time::Instant`].

/// Milliseconds on a monotonic clock (arbitrary origin, never 0 in
/// practice: the origin is the boot time).
pub fn now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if rc != 0 {
        // SAFETY: as above; CLOCK_MONOTONIC always exists on Linux.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    }
    (ts.tv_sec as u64)
        .wrapping_mul(1000)
        .wrapping_add(ts.tv_nsec as u64 / 1_000_000)
}
