//! Clocks: what tells actors when to run.
//!
//! A [`Clock`] produces [`Tick`]s at a [`Rate`]. Every actor spawned on a clock receives **every**
//! tick of it (broadcast, never a share), in the order of its connections (see
//! [`runtime`](crate::runtime)). Deadlines are absolute — frame `N` is due at `origin + N × period`,
//! computed exactly from the rational rate — so a clock never drifts, and a late tick never shifts
//! the ones after it. When ticks are missed (a slow `process`, a stalled machine) the
//! [`LatePolicy`] decides: skip to the newest due frame (the default; the skipped ticks are counted
//! in [`Tick::skipped`] and in the actors' stats) or deliver every missed frame at once
//! ([`LatePolicy::CatchUp`]).
//!
//! `tick.timestamp` is the clock's own time — `CLOCK_MONOTONIC` for [`SoftwareClock`] — never the
//! wall clock, so it never jumps.
//!
//! ```
//! use std::time::Instant;
//! use streamlib::{Clock, Interrupt, Rate, SoftwareClock};
//!
//! let clock = SoftwareClock::new(Rate::fps(1000)?);
//! let stop = Interrupt::new();
//! let first = clock.next_tick(None, &stop).expect("not interrupted");
//! let second = clock.next_tick(Some(&first), &stop).expect("not interrupted");
//! assert!(second.frame_number > first.frame_number);
//! assert!(second.timestamp > first.timestamp);
//! assert!(Instant::now() >= second.instant);
//! # Ok::<(), streamlib::Error>(())
//! ```

pub mod genlock;
pub mod ptp;
mod rate;
mod software;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

pub use genlock::{
    FdPulses, GenlockClock, GenlockConfig, GenlockState, GenlockStatus, PortPulses, PulseSource,
    UdpPulses,
};
#[cfg(feature = "ptp")]
pub use ptp::PtpNetworkConfig;
pub use ptp::{PtpClock, PtpClockIdentity, PtpSource, PtpSourceKind, PtpState, PtpStatus};
pub use rate::Rate;
pub use software::{SoftwareClock, SoftwareClockMode};

/// A point in a clock's own time, in nanoseconds since that clock's epoch.
///
/// Software clocks count from the machine's `CLOCK_MONOTONIC` origin; PTP clocks from the PTP
/// epoch (TAI). Two timestamps are comparable only when they come from the same time base.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Timestamp {
        Timestamp(nanos)
    }

    /// Nanoseconds since the time base's epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// Identity of a clock; clones of one clock share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockId(u64);

impl ClockId {
    /// A new identity, never handed out before in this process.
    pub fn unique() -> ClockId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ClockId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number behind the identity (for logs).
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// One tick of a clock, handed to every actor of that clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tick {
    /// Frame number on the clock's grid: frame `N` is due at the clock's origin plus `N` periods.
    pub frame_number: u64,
    /// When the frame was due, in the clock's own time.
    pub timestamp: Timestamp,
    /// When the frame was due, on this machine's monotonic clock.
    pub instant: Instant,
    /// The clock that ticked.
    pub clock_id: ClockId,
    /// The clock's rate.
    pub rate: Rate,
    /// Frames skipped right before this one under [`LatePolicy::Skip`].
    pub skipped: u64,
    /// How late the clock woke for this frame.
    pub lateness: Duration,
}

/// What a clock does when it wakes after one or more deadlines have passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LatePolicy {
    /// Deliver only the newest due frame and count the ones skipped (default): a real-time
    /// pipeline wants the present, not a burst of the past.
    #[default]
    Skip,
    /// Deliver every missed frame, back to back, until the clock has caught up.
    CatchUp,
}

/// Wakes a waiting clock at once, e.g. when its actors are stopped.
///
/// Once fired it stays fired. Clocks wait through [`Interrupt::wait_until`] so that `stop()`
/// never waits out a tick period.
#[derive(Debug, Default)]
pub struct Interrupt {
    fired: AtomicBool,
    lock: Mutex<()>,
    condvar: Condvar,
}

impl Interrupt {
    /// A new, unfired interrupt.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Fires: every current and future wait returns at once.
    pub fn fire(&self) {
        let _guard = self.lock.lock();
        self.fired.store(true, Ordering::SeqCst);
        self.condvar.notify_all();
    }

    /// Whether [`fire`](Self::fire) was called.
    pub fn is_fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Sleeps until `deadline` or until fired; returns `true` if fired.
    pub fn wait_until(&self, deadline: Instant) -> bool {
        let mut guard = self.lock.lock();
        while !self.is_fired() {
            if self.condvar.wait_until(&mut guard, deadline).timed_out() {
                break;
            }
        }
        self.is_fired()
    }
}

/// A source of ticks.
///
/// Implementations: [`SoftwareClock`] (the machine's monotonic clock), PTP and genlock clocks.
/// A clock is shared: the runtime calls [`next_tick`](Clock::next_tick) from one thread per clock
/// and hands each tick to all of that clock's actors.
pub trait Clock: Send + Sync + 'static {
    /// Identity shared by all clones of this clock.
    fn id(&self) -> ClockId;

    /// The rate the clock ticks at.
    fn rate(&self) -> Rate;

    /// The clock's current time.
    fn now(&self) -> Timestamp;

    /// A short human-readable description, e.g. `software 60 fps`.
    fn describe(&self) -> String;

    /// Waits for the tick after `previous` (`None`: the next frame due from now) and returns it,
    /// or returns `None` as soon as `interrupt` fires.
    fn next_tick(&self, previous: Option<&Tick>, interrupt: &Interrupt) -> Option<Tick>;

    /// A clone of this clock behind a box (clones share one clock).
    fn boxed_clone(&self) -> Box<dyn Clock>;

    /// Called once on the thread that will call [`next_tick`](Clock::next_tick), before the
    /// first call: the place to set the thread's timer slack or real-time priority.
    fn prepare_thread(&self) {}
}

/// Which frame comes after `previous` when the newest due frame is `due_now` (the last frame whose
/// deadline has passed, if any): returns `(frame, skipped)`.
pub(crate) fn next_frame(
    previous: Option<u64>,
    due_now: Option<u64>,
    policy: LatePolicy,
) -> (u64, u64) {
    match (previous, due_now) {
        // First tick: the next frame not yet due, so that the first tick is on time.
        (None, Some(due)) => (due + 1, 0),
        (None, None) => (0, 0),
        (Some(prev), Some(due)) if due > prev + 1 && policy == LatePolicy::Skip => {
            (due, due - prev - 1)
        }
        (Some(prev), _) => (prev + 1, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_frame_skips_to_newest_due_and_counts() {
        assert_eq!(next_frame(None, None, LatePolicy::Skip), (0, 0));
        assert_eq!(next_frame(None, Some(41), LatePolicy::Skip), (42, 0));
        assert_eq!(next_frame(Some(10), Some(10), LatePolicy::Skip), (11, 0));
        assert_eq!(next_frame(Some(10), Some(11), LatePolicy::Skip), (11, 0));
        assert_eq!(next_frame(Some(10), Some(15), LatePolicy::Skip), (15, 4));
        assert_eq!(next_frame(Some(10), Some(15), LatePolicy::CatchUp), (11, 0));
    }

    #[test]
    fn interrupt_wakes_a_wait_at_once() {
        let interrupt = std::sync::Arc::new(Interrupt::new());
        let waiter = {
            let interrupt = interrupt.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                let fired = interrupt.wait_until(start + Duration::from_secs(60));
                (fired, start.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        interrupt.fire();
        let (fired, waited) = waiter.join().unwrap();
        assert!(fired);
        assert!(waited < Duration::from_secs(30), "waited {waited:?}");
        assert!(interrupt.wait_until(Instant::now() + Duration::from_secs(60)));
    }

    #[test]
    fn timestamps_order_and_subtract() {
        let a = Timestamp::from_nanos(5);
        let b = Timestamp::from_nanos(12);
        assert!(a < b);
        assert_eq!(b.saturating_duration_since(a), Duration::from_nanos(7));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    }
}
