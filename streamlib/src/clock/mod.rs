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
mod manual;
pub mod ptp;
mod rate;
mod software;
mod sys;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

pub use genlock::{
    FdPulses, GenlockClock, GenlockConfig, GenlockState, GenlockStatus, PulseSource, UdpPulses,
};
pub use manual::ManualClock;
#[cfg(feature = "ptp")]
pub use ptp::PtpNetworkConfig;
pub use ptp::{PtpClock, PtpClockIdentity, PtpSource, PtpSourceKind, PtpState, PtpStatus};
pub use rate::Rate;
pub use software::{SoftwareClock, SoftwareClockMode};
// Defined at the bottom layer, beside the messages that carry it.
pub use crate::timestamp::Timestamp;

/// Identity of a clock; clones of one clock share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockId(u64);

impl ClockId {
    /// The identity of the ticks [`Tick::for_test`] makes; [`ClockId::unique`] never returns it.
    pub const TEST: ClockId = ClockId(0);

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

impl Tick {
    /// A tick of frame `frame_number` at `rate`, as a clock would hand it out on time: for
    /// calling an actor's [`process`](crate::Process::process) directly in a unit test, with no
    /// runtime and no clock.
    ///
    /// Its `timestamp` is frame `frame_number`'s place on a grid that starts at 0 ns
    /// (`frame_number` periods of `rate`, saturating at `u64::MAX` ns), its `instant` is now,
    /// `skipped` and `lateness` are zero, and its `clock_id` is the test clock's
    /// ([`ClockId::TEST`]), which no real clock has.
    ///
    /// ```
    /// use streamlib::prelude::*;
    /// use streamlib::Rate;
    ///
    /// #[actor]
    /// #[derive(Default)]
    /// pub struct Counter {
    ///     #[output] pub value: Output<u64>,
    /// }
    ///
    /// impl Process for Counter {
    ///     fn process(&mut self, tick: &Tick) -> ProcessResult {
    ///         self.value.write(tick.frame_number * 10);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// // A unit test: no runtime, `process` called directly, the output read back.
    /// let mut counter = Counter::default();
    /// let out = counter.value.to_ref();
    /// let tick = Tick::for_test(3, Rate::fps(30)?);
    /// assert_eq!(tick.timestamp.as_nanos(), 100_000_000); // 3 frames at 30 fps
    /// assert!(counter.process(&tick).is_ok());
    /// assert_eq!(out.read_latest().as_deref(), Some(&30));
    /// # Ok::<(), streamlib::Error>(())
    /// ```
    pub fn for_test(frame_number: u64, rate: Rate) -> Tick {
        Tick {
            frame_number,
            timestamp: rate.timestamp_at(frame_number),
            instant: Instant::now(),
            clock_id: ClockId::TEST,
            rate,
            skipped: 0,
            lateness: Duration::ZERO,
        }
    }
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
///
/// The runtime gives each loop that runs a clock's ticks (a clock domain) its own interrupt for
/// that loop's whole life, so its [`id`](Interrupt::id) also tells a clock which loop calls it
/// (see [`Clock::attach`]).
#[derive(Debug)]
pub struct Interrupt {
    id: u64,
    fired: AtomicBool,
    lock: Mutex<()>,
    condvar: Condvar,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new()
    }
}

impl Interrupt {
    /// A new, unfired interrupt.
    pub fn new() -> Interrupt {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Interrupt {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            fired: AtomicBool::new(false),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// A number unique to this interrupt in this process.
    pub fn id(&self) -> u64 {
        self.id
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
/// Implementations: [`SoftwareClock`] (the machine's monotonic clock), PTP and genlock clocks,
/// [`ManualClock`] (ticks when told). A clock is shared: the runtime calls
/// [`next_tick`](Clock::next_tick) from one thread per clock and runtime (a clock domain) and
/// hands each tick to all of that clock's actors.
///
/// The runtime also tells the clock about each domain's life — [`attach`](Clock::attach),
/// [`tick_finished`](Clock::tick_finished), [`detach`](Clock::detach), each with the domain's
/// interrupt as its identity — which a clock that waits for its ticks to be done (the manual
/// clock) uses; the defaults do nothing.
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

    /// A runtime starts a loop (a clock domain) that will call [`next_tick`](Clock::next_tick)
    /// with `runner`; called before that loop's first call, on the thread that spawns an actor
    /// on this clock.
    fn attach(&self, runner: &Interrupt) {
        let _ = runner;
    }

    /// Every actor of `runner`'s loop finished `tick` (or the loop gave up on it: an actor stuck
    /// past its stop). Called on the loop's thread, once per tick, after the last actor.
    fn tick_finished(&self, tick: &Tick, runner: &Interrupt) {
        let _ = (tick, runner);
    }

    /// `runner`'s loop ends (its interrupt has fired): its last actor stopped, or its runtime
    /// shut down (`shutdown`).
    fn detach(&self, runner: &Interrupt, shutdown: bool) {
        let _ = (runner, shutdown);
    }
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
    fn a_test_tick_is_on_time_on_the_test_clock() {
        let rate = Rate::new(30000, 1001).unwrap();
        let tick = Tick::for_test(30, rate);
        assert_eq!(tick.frame_number, 30);
        assert_eq!(tick.rate, rate);
        assert_eq!(tick.timestamp.as_nanos(), 1_001_000_000);
        assert_eq!((tick.skipped, tick.lateness), (0, Duration::ZERO));
        assert_eq!(tick.clock_id, ClockId::TEST);
        assert_ne!(ClockId::unique(), ClockId::TEST);
        // Far frames saturate instead of wrapping.
        let far = Tick::for_test(u64::MAX, Rate::new(1, u32::MAX).unwrap());
        assert_eq!(far.timestamp.as_nanos(), u64::MAX);
    }
}
