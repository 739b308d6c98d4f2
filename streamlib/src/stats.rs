//! Per-actor counters and process-time percentiles.
//!
//! Every actor keeps an [`ActorStats`]: ticks run, ticks skipped by its clock's late policy,
//! errors, panics, and the distribution of its `process` time (p50, p99, max). The counters are
//! plain relaxed atomics updated by whichever thread runs the actor, so reading them from a handle
//! or a tool costs the actor nothing; the live counters themselves are the runtime's own, users
//! see snapshots. Percentiles (process time, and the clock's lateness for the ticks the actor ran)
//! come from a log-linear [`Histogram`] (8 buckets per power of two, so within 12.5 %), not from
//! stored samples; any number of threads may record into one histogram at once.
//!
//! ```
//! use std::time::Duration;
//! use streamlib::stats::Histogram;
//!
//! let histogram = Histogram::default();
//! for micros in 1..=100 {
//!     histogram.record(Duration::from_micros(micros));
//! }
//! assert_eq!(histogram.count(), 100);
//! let p50 = histogram.percentile(50);
//! assert!(p50 >= Duration::from_micros(44) && p50 <= Duration::from_micros(57));
//! assert_eq!(histogram.max(), Duration::from_micros(100));
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
    /// Median wall time of a tick of the actor's clock: from the start of the tick to the end of
    /// its last actor's `process`. Beside the sum of the actors' process times it shows how much
    /// of a tick ran in parallel; beside the period, how much room the tick leaves.
    pub tick_p50: Duration,
    /// 99th percentile wall time of a tick of the actor's clock.
    pub tick_p99: Duration,
}

/// What a clock's ticks measure, shared by every actor of the clock (recorded once per tick by
/// the clock's thread, not once per actor).
#[derive(Default)]
pub(crate) struct ClockCounters {
    /// How late the clock's wake-ups came.
    pub(crate) lateness: Histogram,
    /// Wall time of each tick, from its start to the end of its last actor.
    pub(crate) tick_time: Histogram,
}

impl ClockCounters {
    /// The clock's figures now (two histogram walks: take them once per clock, not per actor).
    pub(crate) fn figures(&self) -> ClockFigures {
        let (lateness_p50, lateness_p99, lateness_max) = self.lateness.summary();
        let (tick_p50, tick_p99, _) = self.tick_time.summary();
        ClockFigures {
            lateness_p50,
            lateness_p99,
            lateness_max,
            tick_p50,
            tick_p99,
        }
    }
}

/// The part of [`ActorStats`] that belongs to the actor's clock: the same for every actor of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClockFigures {
    pub(crate) lateness_p50: Duration,
    pub(crate) lateness_p99: Duration,
    pub(crate) lateness_max: Duration,
    pub(crate) tick_p50: Duration,
    pub(crate) tick_p99: Duration,
}

impl ClockFigures {
    /// The clock's figures as `stats` carries them.
    #[cfg(feature = "inspect")]
    pub(crate) fn of(stats: &ActorStats) -> ClockFigures {
        ClockFigures {
            lateness_p50: stats.lateness_p50,
            lateness_p99: stats.lateness_p99,
            lateness_max: stats.lateness_max,
            tick_p50: stats.tick_p50,
            tick_p99: stats.tick_p99,
        }
    }

    /// `stats` with these figures for its clock's.
    pub(crate) fn put_into(self, stats: &mut ActorStats) {
        stats.lateness_p50 = self.lateness_p50;
        stats.lateness_p99 = self.lateness_p99;
        stats.lateness_max = self.lateness_max;
        stats.tick_p50 = self.tick_p50;
        stats.tick_p99 = self.tick_p99;
    }

    /// The larger of each figure.
    #[cfg(feature = "inspect")]
    pub(crate) fn max(self, other: ClockFigures) -> ClockFigures {
        ClockFigures {
            lateness_p50: self.lateness_p50.max(other.lateness_p50),
            lateness_p99: self.lateness_p99.max(other.lateness_p99),
            lateness_max: self.lateness_max.max(other.lateness_max),
            tick_p50: self.tick_p50.max(other.tick_p50),
            tick_p99: self.tick_p99.max(other.tick_p99),
        }
    }
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
    /// Values a queued input dropped because it was full when they arrived (the oldest pending
    /// value goes); `0` for latest-value inputs and for outputs.
    pub dropped: u64,
}

/// Counter by counter (saturating): the counters of several ports as one, e.g. an input set's
/// members.
///
/// ```
/// use streamlib::PortStats;
/// let a = PortStats { reads: 2, dropped: 1, ..PortStats::default() };
/// let b = PortStats { reads: 3, ..PortStats::default() };
/// assert_eq!((a + b).reads, 5);
/// assert_eq!((a + b).dropped, 1);
/// ```
impl std::ops::Add for PortStats {
    type Output = PortStats;

    fn add(self, other: PortStats) -> PortStats {
        PortStats {
            writes: self.writes.saturating_add(other.writes),
            overwritten_unread: self
                .overwritten_unread
                .saturating_add(other.overwritten_unread),
            reads: self.reads.saturating_add(other.reads),
            stale_reads: self.stale_reads.saturating_add(other.stale_reads),
            missed: self.missed.saturating_add(other.missed),
            bad_values: self.bad_values.saturating_add(other.bad_values),
            dropped: self.dropped.saturating_add(other.dropped),
        }
    }
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
const BUCKETS: usize = OCTAVES * SUB_BUCKETS;
/// Powers of two with buckets of their own (the first holds the values below 8 ns).
const OCTAVES: usize = 42;

/// The live counters behind [`ActorStats`], kept by the runtime for each actor.
///
/// `repr(C)`, hot counters first: a steady tick touches `ticks` and the histogram's `max` and
/// windows, one cache line (`skipped` and `late` only when there is something to count).
#[derive(Default)]
#[repr(C)]
pub(crate) struct ActorStatsCell {
    ticks: AtomicU64,
    process_time: Histogram,
    skipped: AtomicU64,
    late: AtomicU64,
    errors: AtomicU64,
    panics: AtomicU64,
    /// The figures of the actor's clock, shared by all actors of that clock.
    clock: OnceLock<Arc<ClockCounters>>,
}

impl ActorStatsCell {
    /// Bytes from the start of the cell to the end of what a steady tick writes (`ticks`, the
    /// histogram's `max` and its two windows): the owner keeps them in one cache line.
    #[cfg(test)]
    pub(crate) const HOT_BYTES: usize = std::mem::offset_of!(ActorStatsCell, process_time)
        + std::mem::offset_of!(Histogram, older)
        + std::mem::size_of::<[AtomicU64; OLDER]>()
        - std::mem::size_of::<AtomicU64>()
        + std::mem::size_of::<AtomicU64>();

    /// Records one `process` call that took `took_nanos`, after `skipped` skipped ticks.
    #[inline]
    pub(crate) fn record_tick(&self, took_nanos: u64, skipped: u64) {
        add(&self.ticks, 1);
        if skipped > 0 {
            add(&self.skipped, skipped);
        }
        // One writer: the actor's cell runs one tick at a time, under its lock.
        self.process_time.record_nanos_one_writer(took_nanos);
    }

    /// Counts a tick this actor ran more than a period after its deadline.
    pub(crate) fn record_late(&self) {
        add(&self.late, 1);
    }

    /// Shares the figures of the actor's clock (set once, when the actor joins it).
    pub(crate) fn share_clock(&self, clock: Arc<ClockCounters>) {
        let _ = self.clock.set(clock);
    }

    /// Records an `Err` from `process`.
    pub(crate) fn record_error(&self) {
        add(&self.errors, 1);
    }

    /// Records a panic in `process`.
    pub(crate) fn record_panic(&self) {
        add(&self.panics, 1);
    }

    /// The counters now.
    pub(crate) fn snapshot(&self) -> ActorStats {
        let mut stats = self.snapshot_of_actor();
        if let Some(clock) = self.clock() {
            clock.figures().put_into(&mut stats);
        }
        stats
    }

    /// The figures of the actor's clock, once it joined one.
    pub(crate) fn clock(&self) -> Option<&Arc<ClockCounters>> {
        self.clock.get()
    }

    /// The counters now, without the clock's figures (zero): what a reader of many actors of
    /// one clock takes per actor, reading [`clock`](Self::clock) once per clock.
    pub(crate) fn snapshot_of_actor(&self) -> ActorStats {
        let (process_p50, process_p99, process_max) = self.process_time.summary();
        ActorStats {
            ticks: self.ticks.load(Ordering::Relaxed),
            skipped_ticks: self.skipped.load(Ordering::Relaxed),
            late_ticks: self.late.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            panics: self.panics.load(Ordering::Relaxed),
            process_p50,
            process_p99,
            process_max,
            ..ActorStats::default()
        }
    }
}

/// A log-linear histogram of durations, lock-free; any number of threads may record into it and
/// read it at once.
///
/// Counts are 32-bit (a bucket saturates after 4 billion values), in a box of 1.3 KiB apart from
/// the 40 bytes a record touches (`max`, the windows): the runtime keeps those of thousands of
/// actors side by side, and the buckets would spread them over a page each.
///
/// Values in the same power of two as the previous ones (the common case: an actor's process
/// time is steady) are counted in `window`, next to `max_nanos`, and added to their buckets only
/// when a value lands in another power of two: most records touch one cache line, not two. With
/// one writer (an actor's process times) three more windows keep other powers of two, so a time
/// moving among a few stays in that line too.
/// Every update is an atomic read-modify-write (a compare-and-swap of the window, atomic adds to
/// the buckets, an atomic maximum), so concurrent writers lose no value; a reader may see a
/// flush half done (a few values counted late), never a value counted twice for good.
#[repr(C)]
pub struct Histogram {
    max_nanos: AtomicU64,
    /// One power of two's 8 buckets not yet added to `buckets`: the octave + 1 in the top 8 bits
    /// (0: empty), then a 7-bit count per bucket.
    window: AtomicU64,
    /// More windows, of other powers of two, kept while values move among them (only by
    /// [`record_nanos_one_writer`](Self::record_nanos_one_writer); empty otherwise).
    older: [AtomicU64; OLDER],
    /// Bit `o` set once octave `o` has counts in `buckets`: a reader copies only those octaves
    /// (a steady actor's one or two cache lines, not the 1.3 KiB of all 42).
    octaves: AtomicU64,
    buckets: Box<[AtomicU32; BUCKETS]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            max_nanos: AtomicU64::new(0),
            window: AtomicU64::new(0),
            older: [const { AtomicU64::new(0) }; OLDER],
            octaves: AtomicU64::new(0),
            buckets: Box::new([const { AtomicU32::new(0) }; BUCKETS]),
        }
    }
}

impl Histogram {
    /// Adds one value; any number of threads may record at once.
    pub fn record(&self, value: Duration) {
        self.record_with(value, false);
    }

    /// [`record`](Self::record), of a value in nanoseconds, for a histogram only one thread
    /// records into at a time (an actor's process times, recorded under its cell's lock, like
    /// the [`add`] counters beside them): plain loads and stores instead of a compare-and-swap
    /// loop on every value. Two threads at once would lose counts, never corrupt memory.
    #[inline]
    pub(crate) fn record_nanos_one_writer(&self, nanos: u64) {
        self.record_nanos(nanos, true);
    }

    /// [`record_nanos_one_writer`](Self::record_nanos_one_writer) of a `Duration`.
    #[cfg(test)]
    fn record_one_writer(&self, value: Duration) {
        self.record_nanos_one_writer(duration_nanos(value));
    }

    #[inline]
    fn record_with(&self, value: Duration, one_writer: bool) {
        self.record_nanos(duration_nanos(value), one_writer);
    }

    #[inline]
    fn record_nanos(&self, nanos: u64, one_writer: bool) {
        let bucket = bucket_of(nanos);
        let (octave, lane) = (bucket / SUB_BUCKETS, bucket % SUB_BUCKETS);
        let shift = LANE_BITS * lane as u32;
        if one_writer {
            self.record_in_windows(octave, shift);
        } else {
            self.record_in_window(octave, shift);
        }
        if nanos > self.max_nanos.load(Ordering::Relaxed) {
            if one_writer {
                self.max_nanos.store(nanos, Ordering::Relaxed);
            } else {
                self.max_nanos.fetch_max(nanos, Ordering::Relaxed);
            }
        }
    }

    /// One writer: counts the value in `window` or an `older` window, whichever holds its power
    /// of two with room in its lane; else the window with the fewest counts (an empty one first)
    /// is flushed and starts anew with the value. A time that moves among three powers of two
    /// (an empty actor's, around 256 ns) touches the buckets once a lane fills (127 values), and
    /// a rare outlier in a fifth evicts another outlier from the fourth window, not the steady
    /// ones: with thousands of actors each flush is a cache miss.
    #[inline]
    fn record_in_windows(&self, octave: usize, shift: u32) {
        // The common case first: a window of this power of two with room in the lane.
        for slot in std::iter::once(&self.window).chain(&self.older) {
            let counts = slot.load(Ordering::Relaxed);
            if has_room(counts, octave, shift) {
                slot.store(counts + (1 << shift), Ordering::Relaxed);
                return;
            }
        }
        self.evict_a_window(octave, shift);
    }

    /// [`record_in_windows`](Self::record_in_windows) when no window has room: the one with the
    /// fewest counts (an empty one first) is flushed and starts anew with the value.
    #[cold]
    fn evict_a_window(&self, octave: usize, shift: u32) {
        let windows = std::iter::once(&self.window).chain(&self.older);
        let mut fewest: Option<(&AtomicU64, u64, u64)> = None;
        for slot in windows {
            let counts = slot.load(Ordering::Relaxed);
            let total = window_lanes(counts).map(|(_, n)| n).sum::<u64>();
            if fewest.is_none_or(|(_, _, least)| total < least) {
                fewest = Some((slot, counts, total));
            }
        }
        let (slot, counts, _) = fewest.expect("there are windows");
        // A reader between this store and the flush's may miss the counts moving out (counted
        // late, as with any flush), never count one twice for good.
        slot.store(new_window(octave, shift), Ordering::Relaxed);
        self.flush(counts, true);
    }

    /// Any number of writers: one window, swapped by compare-and-swap.
    fn record_in_window(&self, octave: usize, shift: u32) {
        let mut window = self.window.load(Ordering::Relaxed);
        loop {
            // A value of another power of two, or a full lane, starts a new window; the thread
            // whose swap succeeds owns the old window's counts and adds them to the buckets.
            let starts_anew = !has_room(window, octave, shift);
            let next = if starts_anew {
                new_window(octave, shift)
            } else {
                window + (1 << shift)
            };
            match self.window.compare_exchange_weak(
                window,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    if starts_anew {
                        self.flush(window, false);
                    }
                    return;
                }
                Err(actual) => window = actual,
            }
        }
    }

    /// Adds the counts of a window taken out of `window` to their buckets (saturating). With
    /// `one_writer` (see [`record_nanos_one_writer`](Self::record_nanos_one_writer)) with plain
    /// loads and stores: an empty actor's times straddle two powers of two, so it flushes on
    /// most ticks, and eight locked updates there were a third of the scheduler's cost per
    /// actor.
    fn flush(&self, window: u64, one_writer: bool) {
        let Some(octave) = window_octave(window) else {
            return;
        };
        // Marked before the counts land, so a reader that sees them reads their octave; the load
        // spares the write after an octave's first flush.
        let bit = 1 << octave;
        let octaves = self.octaves.load(Ordering::Relaxed);
        if octaves & bit == 0 {
            if one_writer {
                self.octaves.store(octaves | bit, Ordering::Relaxed);
            } else {
                self.octaves.fetch_or(bit, Ordering::Relaxed);
            }
        }
        for (lane, count) in window_lanes(window) {
            let cell = &self.buckets[octave * SUB_BUCKETS + lane];
            // `count` is at most LANE_MAX, so it fits a u32.
            let count = count as u32;
            if one_writer {
                let total = cell.load(Ordering::Relaxed);
                cell.store(total.saturating_add(count), Ordering::Relaxed);
            } else {
                let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |total| {
                    Some(total.saturating_add(count))
                });
            }
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.total(self.in_use())
    }

    /// Values recorded in the octaves of `in_use`.
    fn total(&self, in_use: InUse) -> u64 {
        let mut total = 0;
        self.each_octave(in_use, |_, counts| {
            total += counts.iter().sum::<u64>();
            true
        });
        total
    }

    /// The octaves with counts (bit `o` for octave `o`) and the pending windows, read once.
    fn in_use(&self) -> InUse {
        let mut windows = [0; 1 + OLDER];
        windows[0] = self.window.load(Ordering::Relaxed);
        for (window, older) in windows[1..].iter_mut().zip(&self.older) {
            *window = older.load(Ordering::Relaxed);
        }
        let pending = windows
            .iter()
            .filter_map(|&w| window_octave(w))
            .fold(0, |bits, o| bits | 1 << o);
        InUse {
            octaves: self.octaves.load(Ordering::Relaxed) | pending,
            windows,
        }
    }

    /// Calls `visit` with the counts of each octave of `in_use`, in ascending order, the
    /// pending window's included, until it returns `false`. Only the buckets in use are read,
    /// and nothing is allocated: reading thousands of histograms stays cheap.
    fn each_octave(&self, in_use: InUse, mut visit: impl FnMut(usize, [u64; 8]) -> bool) {
        let InUse {
            mut octaves,
            windows,
        } = in_use;
        while octaves != 0 {
            let octave = octaves.trailing_zeros() as usize;
            octaves &= octaves - 1;
            let lanes = &self.buckets[octave * SUB_BUCKETS..(octave + 1) * SUB_BUCKETS];
            let mut counts = [0; SUB_BUCKETS];
            for (count, bucket) in counts.iter_mut().zip(lanes) {
                *count = u64::from(bucket.load(Ordering::Relaxed));
            }
            for &window in windows
                .iter()
                .filter(|&&w| window_octave(w) == Some(octave))
            {
                for (lane, count) in window_lanes(window) {
                    counts[lane] += count;
                }
            }
            if !visit(octave, counts) {
                return;
            }
        }
    }

    /// The percentiles `ps` (each 0 to 100, ascending), within 12.5 %, from two walks over the
    /// buckets in use (the total, then the ranks); zero when empty. Values recorded between the
    /// walks can only bring a rank earlier; one not reached takes the maximum.
    fn percentiles<const N: usize>(&self, ps: [u64; N]) -> [Duration; N] {
        let in_use = self.in_use();
        let total = self.total(in_use);
        let max = self.max_nanos.load(Ordering::Relaxed);
        let mut found = [Duration::from_nanos(max); N];
        if total == 0 {
            return [Duration::ZERO; N];
        }
        let (mut next, mut seen) = (0, 0);
        self.each_octave(in_use, |octave, counts| {
            for (lane, count) in counts.iter().enumerate() {
                seen += count;
                while next < N && seen >= (total * ps[next].min(100)).div_ceil(100).max(1) {
                    let upper = bucket_upper(octave * SUB_BUCKETS + lane);
                    found[next] = Duration::from_nanos(upper.min(max));
                    next += 1;
                }
            }
            next < N
        });
        found
    }

    /// The `p`-th percentile (0 to 100), within 12.5 %; zero when empty.
    pub fn percentile(&self, p: u64) -> Duration {
        self.percentiles([p])[0]
    }

    /// The largest value recorded.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_nanos.load(Ordering::Relaxed))
    }

    /// `(p50, p99, max)`, from one copy of the counts.
    pub fn summary(&self) -> (Duration, Duration, Duration) {
        let [p50, p99] = self.percentiles([50, 99]);
        (p50, p99, self.max())
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

/// What a reader takes of a histogram at once: the octaves with counts, and the windows.
#[derive(Clone, Copy)]
struct InUse {
    octaves: u64,
    windows: [u64; 1 + OLDER],
}

/// Windows a one-writer histogram keeps beside `window`.
const OLDER: usize = 3;

const LANE_BITS: u32 = 7;
const LANE_MAX: u64 = (1 << LANE_BITS) - 1;
const WINDOW_OCTAVE_SHIFT: u32 = 56;
/// The bits of a window that name its octave.
const WINDOW_TAG: u64 = !0 << WINDOW_OCTAVE_SHIFT;

/// Whether `window` counts `octave` and the lane at `shift` can take one more value.
#[inline]
fn has_room(window: u64, octave: usize, shift: u32) -> bool {
    window & WINDOW_TAG == window_tag(octave) && (window >> shift) & LANE_MAX != LANE_MAX
}

/// A window of `octave` holding one value, in the lane at `shift`.
fn new_window(octave: usize, shift: u32) -> u64 {
    window_tag(octave) + (1 << shift)
}

/// The top bits of a window that counts `octave` (the octave + 1; 0 is an empty window).
#[inline]
fn window_tag(octave: usize) -> u64 {
    (octave as u64 + 1) << WINDOW_OCTAVE_SHIFT
}

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

/// `value` in nanoseconds, saturating.
fn duration_nanos(value: Duration) -> u64 {
    u64::try_from(value.as_nanos()).unwrap_or(u64::MAX)
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
            cell.record_tick(10_000, 0);
        }
        for _ in 0..10 {
            cell.record_tick(5_000_000, 2);
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
    fn the_one_writer_path_counts_like_the_shared_one() {
        let (shared, one) = (Histogram::default(), Histogram::default());
        for i in 0..3_000u64 {
            let value = Duration::from_nanos((i * 7_919) % 2_000_000 + i % 3);
            shared.record(value);
            one.record_one_writer(value);
        }
        assert_eq!(one.count(), shared.count());
        assert_eq!(one.max(), shared.max());
        for p in [1, 50, 90, 99, 100] {
            assert_eq!(one.percentile(p), shared.percentile(p), "p{p}");
        }
    }

    #[test]
    fn one_writer_values_among_three_powers_of_two_stay_in_the_windows() {
        let (one, shared) = (Histogram::default(), Histogram::default());
        let values = [200u64, 300, 600].map(Duration::from_nanos);
        for i in 0..300 {
            one.record_one_writer(values[i % 3]);
            shared.record(values[i % 3]);
        }
        // 100 values a power of two, under a lane's 127: no flush, the buckets untouched.
        assert_eq!(one.octaves.load(Ordering::Relaxed), 0);
        assert_eq!(one.count(), 300);
        for p in [1, 34, 50, 67, 100] {
            assert_eq!(one.percentile(p), shared.percentile(p), "p{p}");
        }
        // A fourth power of two takes the last window; a fifth flushes the window with the
        // fewest counts, the fourth's, counts intact.
        for nanos in [5_000, 50_000] {
            one.record_one_writer(Duration::from_nanos(nanos));
            shared.record(Duration::from_nanos(nanos));
        }
        assert_eq!(
            one.octaves.load(Ordering::Relaxed),
            1 << (bucket_of(5_000) / SUB_BUCKETS)
        );
        // Full lanes flush too: 200 more of one value go through the buckets, none lost.
        for _ in 0..200 {
            one.record_one_writer(values[1]);
            shared.record(values[1]);
        }
        assert_eq!(one.count(), 502);
        for p in [1, 34, 50, 67, 99, 100] {
            assert_eq!(one.percentile(p), shared.percentile(p), "p{p}");
        }
    }

    #[test]
    fn one_writer_outliers_evict_each_other_not_the_steady_windows() {
        let (one, shared) = (Histogram::default(), Histogram::default());
        let steady = [150u64, 300, 600].map(Duration::from_nanos);
        let outliers = [3_000u64, 40_000].map(Duration::from_nanos);
        for i in 0..90 {
            for value in steady {
                one.record_one_writer(value);
                shared.record(value);
            }
            if i % 9 == 8 {
                let value = outliers[i / 9 % 2];
                one.record_one_writer(value);
                shared.record(value);
            }
        }
        let octave_of = |d: Duration| bucket_of(d.as_nanos() as u64) / SUB_BUCKETS;
        // Only outliers went through the buckets (each evicting the one before from the fourth
        // window): the three steady powers of two never left theirs.
        let flushed = one.octaves.load(Ordering::Relaxed);
        for value in steady {
            assert_eq!(flushed & 1 << octave_of(value), 0, "{value:?} was flushed");
        }
        assert_ne!(flushed, 0);
        assert_eq!(one.count(), 280);
        for p in [1, 50, 97, 99, 100] {
            assert_eq!(one.percentile(p), shared.percentile(p), "p{p}");
        }
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
    fn concurrent_writers_lose_no_value() {
        let h = Arc::new(Histogram::default());
        let writers: Vec<_> = (0..4u64)
            .map(|t| {
                let h = h.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000u64 {
                        // Each thread moves between powers of two, so windows are flushed often.
                        h.record(Duration::from_nanos((i % 7 + 1) << (t * 3 + i % 5)));
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(h.count(), 20_000);
        assert_eq!(h.max(), Duration::from_nanos(7 << 13));
    }

    #[test]
    fn the_summary_walk_finds_what_percentile_finds_alone() {
        let h = Histogram::default();
        // Every rank lands somewhere else: 1..=500 ns, then a long tail.
        for nanos in 1..=500u64 {
            h.record(Duration::from_nanos(nanos));
        }
        for micros in [40, 900, 7_000] {
            h.record(Duration::from_micros(micros));
        }
        let (p50, p99, max) = h.summary();
        assert_eq!((p50, p99), (h.percentile(50), h.percentile(99)));
        assert_eq!(max, Duration::from_micros(7_000));
        assert!(p50 >= Duration::from_nanos(250) && p50 <= Duration::from_nanos(288));
        assert_eq!(h.percentiles([0, 100]), [Duration::from_nanos(1), max]);
        let cell = ActorStatsCell::default();
        cell.record_tick(5_000, 0);
        let clock = Arc::new(ClockCounters::default());
        clock.lateness.record(Duration::from_micros(30));
        clock.tick_time.record(Duration::from_micros(900));
        cell.share_clock(clock);
        let (counters, full) = (cell.snapshot_of_actor(), cell.snapshot());
        assert_eq!(counters.lateness_max, Duration::ZERO);
        assert_eq!(full.lateness_max, Duration::from_micros(30));
        assert!(full.tick_p50 >= Duration::from_micros(800) && full.tick_p50 <= full.tick_p99);
        assert_eq!(
            ActorStats {
                lateness_p50: Duration::ZERO,
                lateness_p99: Duration::ZERO,
                lateness_max: Duration::ZERO,
                tick_p50: Duration::ZERO,
                tick_p99: Duration::ZERO,
                ..full
            },
            counters
        );
    }

    #[test]
    fn empty_stats_are_zero() {
        assert_eq!(ActorStatsCell::default().snapshot(), ActorStats::default());
    }
}
