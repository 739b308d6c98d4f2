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

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

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
    /// Median lateness of the wake-ups of the actor's clock.
    pub lateness_p50: Duration,
    /// 99th percentile lateness.
    pub lateness_p99: Duration,
    /// Largest lateness.
    pub lateness_max: Duration,
}

/// Counters of one port. Output ports fill `writes` and `overwritten_unread`; input ports
/// `reads`, `stale_reads` and `missed`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortStats {
    /// Values written.
    pub writes: u64,
    /// Values overwritten before any input read them (every value but the newest, while no input
    /// is connected). Counted from the readers' side, so writing costs nothing extra.
    pub overwritten_unread: u64,
    /// Reads that found a connected upstream.
    pub reads: u64,
    /// Reads that returned the same value as the read before (nothing newer was written).
    pub stale_reads: u64,
    /// Values this input never saw because newer ones replaced them between two of its reads.
    pub missed: u64,
    /// Messages from another process or host that were dropped because their bytes did not
    /// decode (garbage, another payload type, another wire version).
    pub bad_values: u64,
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
/// Values up to 2^44 ns (about 4.9 hours) get their own buckets; longer ones share the last.
const BUCKETS: usize = 42 * SUB_BUCKETS;

/// The live counters behind [`ActorStats`].
///
/// `repr(C)`, hot counters first: a steady tick touches `ticks` and the histogram's `max` and
/// `window`, one cache line (`skipped` and `late` only when there is something to count).
#[derive(Default)]
#[repr(C)]
pub struct ActorStatsCell {
    ticks: AtomicU64,
    process_time: Histogram,
    skipped: AtomicU64,
    late: AtomicU64,
    errors: AtomicU64,
    panics: AtomicU64,
    /// The lateness of the actor's clock, shared by all actors of that clock (recorded once per
    /// tick by the clock's thread, not once per actor).
    lateness: OnceLock<Arc<Histogram>>,
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

    /// Counts a tick this actor ran more than a period after its deadline.
    pub fn record_late(&self) {
        add(&self.late, 1);
    }

    /// Shares the lateness histogram of the actor's clock (set once, when the actor joins it).
    pub fn share_lateness(&self, lateness: Arc<Histogram>) {
        let _ = self.lateness.set(lateness);
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
        let (lateness_p50, lateness_p99, lateness_max) = self
            .lateness
            .get()
            .map_or((Duration::ZERO, Duration::ZERO, Duration::ZERO), |h| {
                h.summary()
            });
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
///
/// Counts are 32-bit (a bucket saturates after 4 billion values) to keep the whole histogram in
/// 1.3 KiB: with thousands of actors, stats memory is what a tick touches most.
///
/// Values in the same power of two as the previous ones (the common case: an actor's process
/// time is steady) are counted in `window`, next to `max_nanos`, and added to their buckets only
/// when a value lands in another power of two: most records touch one cache line, not two.
#[repr(C)]
pub struct Histogram {
    max_nanos: AtomicU64,
    /// One power of two's 8 buckets not yet added to `buckets`: the octave + 1 in the top 8 bits
    /// (0: empty), then a 7-bit count per bucket.
    window: AtomicU64,
    buckets: [AtomicU32; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            max_nanos: AtomicU64::new(0),
            window: AtomicU64::new(0),
            buckets: [const { AtomicU32::new(0) }; BUCKETS],
        }
    }
}

impl Histogram {
    /// Adds one value.
    pub fn record(&self, value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        let bucket = bucket_of(nanos);
        let (octave, lane) = (bucket / SUB_BUCKETS, bucket % SUB_BUCKETS);
        let mut window = self.window.load(Ordering::Relaxed);
        let shift = LANE_BITS * lane as u32;
        if window_octave(window) != Some(octave) || (window >> shift) & LANE_MAX == LANE_MAX {
            self.flush(window);
            window = (octave as u64 + 1) << WINDOW_OCTAVE_SHIFT;
        }
        self.window.store(window + (1 << shift), Ordering::Relaxed);
        if nanos > self.max_nanos.load(Ordering::Relaxed) {
            self.max_nanos.store(nanos, Ordering::Relaxed);
        }
    }

    /// Adds the window's counts to their buckets.
    fn flush(&self, window: u64) {
        let Some(octave) = window_octave(window) else {
            return;
        };
        for (lane, count) in window_lanes(window) {
            let cell = &self.buckets[octave * SUB_BUCKETS + lane];
            let total = u64::from(cell.load(Ordering::Relaxed)) + count;
            cell.store(total.min(u64::from(u32::MAX)) as u32, Ordering::Relaxed);
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.counts().iter().sum()
    }

    /// Count per bucket, the pending run included.
    fn counts(&self) -> Vec<u64> {
        let mut counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| u64::from(b.load(Ordering::Relaxed)))
            .collect();
        let window = self.window.load(Ordering::Relaxed);
        if let Some(octave) = window_octave(window) {
            for (lane, count) in window_lanes(window) {
                counts[octave * SUB_BUCKETS + lane] += count;
            }
        }
        counts
    }

    /// The `p`-th percentile (0 to 100), within 12.5 %; zero when empty.
    pub fn percentile(&self, p: u64) -> Duration {
        let counts = self.counts();
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

/// Adds `n` to a counter that one thread at a time writes (the thread running the actor, the
/// actor reading its input): load + store is enough and avoids a locked instruction.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

const LANE_BITS: u32 = 7;
const LANE_MAX: u64 = (1 << LANE_BITS) - 1;
const WINDOW_OCTAVE_SHIFT: u32 = 56;

/// The octave a window counts, if any.
fn window_octave(window: u64) -> Option<usize> {
    ((window >> WINDOW_OCTAVE_SHIFT) as usize).checked_sub(1)
}

/// `(lane, count)` of a window's non-empty lanes.
fn window_lanes(window: u64) -> impl Iterator<Item = (usize, u64)> {
    (0..SUB_BUCKETS)
        .map(move |lane| (lane, (window >> (LANE_BITS * lane as u32)) & LANE_MAX))
        .filter(|&(_, count)| count > 0)
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
    if i >= BUCKETS - 1 {
        return u64::MAX; // the last bucket takes everything longer
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
    fn runs_of_one_bucket_count_like_single_records() {
        let h = Histogram::default();
        for _ in 0..1000 {
            h.record(Duration::from_micros(3));
        }
        h.record(Duration::from_millis(2));
        for _ in 0..5 {
            h.record(Duration::from_micros(3));
        }
        assert_eq!(h.count(), 1006);
        assert!(h.percentile(50) <= Duration::from_nanos(3_072));
        assert!(h.percentile(100) >= Duration::from_millis(2));
        assert_eq!(h.max(), Duration::from_millis(2));
    }

    #[test]
    fn empty_stats_are_zero() {
        assert_eq!(ActorStatsCell::default().snapshot(), ActorStats::default());
    }
}
