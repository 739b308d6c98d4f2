//! Per-actor counters and process-time percentiles.
//!
//! Every actor keeps an [`ActorStats`]: ticks run, ticks skipped by its clock's late policy,
//! errors, panics, and the distribution of its `process` time (p50, p99, max). The counters are
//! plain relaxed atomics updated by whichever thread runs the actor, so reading them from a handle
//! or a tool costs the actor nothing. Percentiles (process time, and the clock's lateness for the
//! ticks the actor ran) come from a log-linear [`Histogram`] (8 buckets per power of two, so
//! within 12.5 %), not from stored samples.
//!
//! ```
//! use std::time::Duration;
//! use streamlib::stats::ActorStatsCell;
//!
//! let cell = ActorStatsCell::default();
//! for micros in 1..=100 {
//!     cell.record_tick(Duration::from_micros(micros), 0);
//! }
//! let stats = cell.snapshot();
//! assert_eq!(stats.ticks, 100);
//! assert!(stats.process_p50 >= Duration::from_micros(44) && stats.process_p50 <= Duration::from_micros(57));
//! assert_eq!(stats.process_max, Duration::from_micros(100));
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::port::PortStats;

/// A snapshot of one actor's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActorStats {
    /// `process` calls made.
    pub ticks: u64,
    /// Ticks of the actor's clock skipped because the clock (or the actor) ran late.
    pub skipped_ticks: u64,
    /// Ticks the clock delivered more than a period after their deadline (a subset of `ticks`).
    pub late_ticks: u64,
    /// `process` (or `on_start`) calls that returned `Err`.
    pub errors: u64,
    /// `process` (or `on_start`) calls that panicked.
    pub panics: u64,
    /// Median `process` time.
    pub process_p50: Duration,
    /// 99th percentile `process` time.
    pub process_p99: Duration,
    /// Longest `process` time.
    pub process_max: Duration,
    /// Median lateness of the clock's wake-up for the ticks this actor ran.
    pub lateness_p50: Duration,
    /// 99th percentile lateness.
    pub lateness_p99: Duration,
    /// Largest lateness.
    pub lateness_max: Duration,
}

/// The named ports of an actor with their counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortStatsList {
    /// `(port name, counters)` of each input.
    pub inputs: Vec<(&'static str, PortStats)>,
    /// `(port name, counters)` of each output.
    pub outputs: Vec<(&'static str, PortStats)>,
}

const SUB_BUCKETS: usize = 8;
const BUCKETS: usize = 64 * SUB_BUCKETS;

/// The live counters behind [`ActorStats`].
#[derive(Default)]
pub struct ActorStatsCell {
    ticks: AtomicU64,
    skipped: AtomicU64,
    late: AtomicU64,
    errors: AtomicU64,
    panics: AtomicU64,
    process_time: Histogram,
    lateness: Histogram,
}

impl ActorStatsCell {
    /// Records one `process` call that took `took`, after `skipped` skipped ticks.
    pub fn record_tick(&self, took: Duration, skipped: u64) {
        add(&self.ticks, 1);
        if skipped > 0 {
            add(&self.skipped, skipped);
        }
        self.process_time.record(took);
    }

    /// Records how late the clock woke for the tick this actor ran; counts it as late when that
    /// is more than one `period`.
    pub fn record_lateness(&self, lateness: Duration, period: Duration) {
        self.lateness.record(lateness);
        if lateness > period {
            add(&self.late, 1);
        }
    }

    /// Records an `Err` from `process`.
    pub fn record_error(&self) {
        add(&self.errors, 1);
    }

    /// Records a panic in `process`.
    pub fn record_panic(&self) {
        add(&self.panics, 1);
    }

    /// The counters now.
    pub fn snapshot(&self) -> ActorStats {
        let (process_p50, process_p99, process_max) = self.process_time.summary();
        let (lateness_p50, lateness_p99, lateness_max) = self.lateness.summary();
        ActorStats {
            ticks: self.ticks.load(Ordering::Relaxed),
            skipped_ticks: self.skipped.load(Ordering::Relaxed),
            late_ticks: self.late.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            panics: self.panics.load(Ordering::Relaxed),
            process_p50,
            process_p99,
            process_max,
            lateness_p50,
            lateness_p99,
            lateness_max,
        }
    }
}

/// A log-linear histogram of durations, lock-free, written by one thread at a time.
pub struct Histogram {
    max_nanos: AtomicU64,
    buckets: Box<[AtomicU64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            max_nanos: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Histogram {
    /// Adds one value.
    pub fn record(&self, value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        add(&self.buckets[bucket_of(nanos)], 1);
        if nanos > self.max_nanos.load(Ordering::Relaxed) {
            self.max_nanos.store(nanos, Ordering::Relaxed);
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The `p`-th percentile (0 to 100), within 12.5 %; zero when empty.
    pub fn percentile(&self, p: u64) -> Duration {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        let max = self.max_nanos.load(Ordering::Relaxed);
        if total == 0 {
            return Duration::ZERO;
        }
        let rank = (total * p.min(100)).div_ceil(100).max(1);
        let mut seen = 0;
        for (i, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_nanos(bucket_upper(i).min(max));
            }
        }
        Duration::from_nanos(max)
    }

    /// The largest value recorded.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_nanos.load(Ordering::Relaxed))
    }

    /// `(p50, p99, max)`.
    pub fn summary(&self) -> (Duration, Duration, Duration) {
        (self.percentile(50), self.percentile(99), self.max())
    }
}

/// Counters are written by the one thread running the actor at a time: load + store is enough
/// and avoids a locked instruction per tick.
fn add(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

/// Log-linear bucket: values below 8 ns get a bucket each; above, 8 sub-buckets per power of two.
fn bucket_of(nanos: u64) -> usize {
    if nanos < SUB_BUCKETS as u64 {
        return nanos as usize;
    }
    let power = 63 - nanos.leading_zeros() as usize; // >= 3
    let sub = ((nanos >> (power - 3)) & 7) as usize;
    ((power - 2) * SUB_BUCKETS + sub).min(BUCKETS - 1)
}

/// Largest value that falls into bucket `i`.
fn bucket_upper(i: usize) -> u64 {
    if i < SUB_BUCKETS {
        return i as u64;
    }
    let power = i / SUB_BUCKETS + 2;
    let sub = (i % SUB_BUCKETS) as u64;
    let base = (8 + sub) << (power - 3);
    base.saturating_add((1u64 << (power - 3)) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bracket_their_values() {
        for v in [
            0u64,
            1,
            7,
            8,
            9,
            15,
            16,
            100,
            1_000,
            123_456,
            16_666_667,
            u64::MAX / 2,
        ] {
            let b = bucket_of(v);
            assert!(bucket_upper(b) >= v, "{v} in bucket {b}");
            if b > 0 {
                assert!(bucket_upper(b - 1) < v, "{v} above bucket {}", b - 1);
            }
        }
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let cell = ActorStatsCell::default();
        for _ in 0..990 {
            cell.record_tick(Duration::from_micros(10), 0);
        }
        for _ in 0..10 {
            cell.record_tick(Duration::from_millis(5), 2);
        }
        let s = cell.snapshot();
        assert_eq!(s.ticks, 1000);
        assert_eq!(s.skipped_ticks, 20);
        assert!(s.process_p50 >= Duration::from_micros(10));
        assert!(s.process_p50 <= Duration::from_micros(12));
        assert!(
            s.process_p99 <= Duration::from_micros(12),
            "{:?}",
            s.process_p99
        );
        assert_eq!(s.process_max, Duration::from_millis(5));
    }

    #[test]
    fn empty_stats_are_zero() {
        assert_eq!(ActorStatsCell::default().snapshot(), ActorStats::default());
    }
}
