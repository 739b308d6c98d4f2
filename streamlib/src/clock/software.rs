//! The software clock: ticks from the machine's monotonic clock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::sys::{monotonic_ns, set_realtime_priority, set_timer_slack_ns};
use super::{next_frame, Clock, ClockId, Interrupt, LatePolicy, Rate, Tick, Timestamp};

/// How a [`SoftwareClock`] waits for a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SoftwareClockMode {
    /// Sleep until the deadline (default): nearly free in CPU, late by the kernel's wake-up
    /// latency and timer slack (tens of µs on an idle machine).
    #[default]
    Sleep,
    /// Sleep until `spin` before the deadline, then spin on the monotonic clock: a few µs late at
    /// the cost of one core busy for `spin` per tick.
    Precise {
        /// How long before the deadline to stop sleeping and start spinning.
        spin: Duration,
    },
}

/// A clock that ticks on the machine's monotonic clock at an exact rational rate.
///
/// Frame `N` is due at `origin + N × period`, computed from the fraction (no accumulated rounding,
/// no drift over hours). Clones share one clock: same identity, same origin, same frame grid, so
/// actors on clones tick in phase. `tick.timestamp` is `CLOCK_MONOTONIC` time in nanoseconds.
///
/// **Frame numbers start at 0.** The origin is fixed when the clock is first used — its first
/// [`next_tick`](Clock::next_tick) or [`deadline`](SoftwareClock::deadline) — not when it is
/// created, and the first tick a new clock hands out is frame 0, due at the origin. So the
/// first tick an actor spawned on a fresh clock (or on a runtime's default clock) sees has
/// `frame_number == 0`, however long the clock waited between its creation and its first use.
/// A later first call (`previous == None`, as a second runtime sharing the clock makes) joins the
/// grid where it is: the next frame not yet due. Late ticks after that follow the clock's
/// [`LatePolicy`].
///
/// ```
/// use streamlib::{Clock, Interrupt, Rate, SoftwareClock};
/// let clock = SoftwareClock::new(Rate::fps(1000)?);
/// std::thread::sleep(std::time::Duration::from_millis(5)); // time before first use is not counted
/// let first = clock.next_tick(None, &Interrupt::new()).expect("not interrupted");
/// assert_eq!((first.frame_number, first.skipped), (0, 0));
/// # Ok::<(), streamlib::Error>(())
/// ```
///
/// ```
/// use streamlib::{Rate, SoftwareClock, SoftwareClockMode, LatePolicy, Clock};
/// let clock = SoftwareClock::new(Rate::new(30000, 1001)?)
///     .with_mode(SoftwareClockMode::Precise { spin: std::time::Duration::from_micros(200) })
///     .with_late_policy(LatePolicy::Skip);
/// assert_eq!(clock.rate(), Rate::new(30000, 1001)?);
/// assert_eq!(clock.clone().id(), clock.id());
/// # Ok::<(), streamlib::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SoftwareClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: ClockId,
    rate: Rate,
    /// Frame 0's deadline, on the `Instant` clock and as `CLOCK_MONOTONIC` nanoseconds; set at
    /// first use.
    origin: OnceLock<Origin>,
    /// Whether a first tick (frame 0) was handed out: set by the call that does.
    first_taken: AtomicBool,
    mode: SoftwareClockMode,
    late_policy: LatePolicy,
    realtime: bool,
}

/// The moment frame 0 is due.
#[derive(Clone, Copy, Debug)]
struct Origin {
    instant: Instant,
    monotonic_ns: u64,
}

impl Origin {
    fn now() -> Origin {
        Origin {
            monotonic_ns: monotonic_ns(),
            instant: Instant::now(),
        }
    }
}

impl SoftwareClock {
    /// A clock ticking at `rate`, sleeping between ticks, skipping late ticks.
    pub fn new(rate: Rate) -> SoftwareClock {
        SoftwareClock {
            inner: Arc::new(Inner {
                id: ClockId::unique(),
                rate,
                origin: OnceLock::new(),
                first_taken: AtomicBool::new(false),
                mode: SoftwareClockMode::Sleep,
                late_policy: LatePolicy::Skip,
                realtime: false,
            }),
        }
    }

    /// This clock with another wait mode (a new clock with a new identity; configure before sharing).
    pub fn with_mode(self, mode: SoftwareClockMode) -> SoftwareClock {
        self.rebuild(|inner| inner.mode = mode)
    }

    /// This clock with another late-tick policy (a new clock with a new identity).
    pub fn with_late_policy(self, late_policy: LatePolicy) -> SoftwareClock {
        self.rebuild(|inner| inner.late_policy = late_policy)
    }

    /// This clock asking for real-time scheduling (`SCHED_FIFO`) of the thread that waits for
    /// its ticks. Where the process may not (no `CAP_SYS_NICE`, no rtprio limit), the clock logs
    /// a warning once and runs at normal priority.
    pub fn with_realtime_priority(self, realtime: bool) -> SoftwareClock {
        self.rebuild(|inner| inner.realtime = realtime)
    }

    /// The wait mode.
    pub fn mode(&self) -> SoftwareClockMode {
        self.inner.mode
    }

    /// The late-tick policy.
    pub fn late_policy(&self) -> LatePolicy {
        self.inner.late_policy
    }

    /// When frame `frame` is due on this machine's monotonic clock. Fixes the clock's origin if
    /// it was not used before (see the type's documentation).
    ///
    /// A deadline past what an `Instant` can hold (frame 3,000,000,000 at 1/u32::MAX fps, about
    /// 400 billion years away) saturates to the latest `Instant` after the origin: it is never
    /// reached, and the clock waits until interrupted.
    pub fn deadline(&self, frame: u64) -> Instant {
        saturating_add(
            self.origin().instant,
            duration_from_nanos(self.inner.rate.nanos_at(frame)),
        )
    }

    /// Frame 0's deadline, fixed now if the clock was not used before.
    fn origin(&self) -> Origin {
        *self.inner.origin.get_or_init(Origin::now)
    }

    /// A new clock (new identity, origin not fixed yet) with this one's settings, changed.
    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> SoftwareClock {
        let mut inner = Inner {
            id: ClockId::unique(),
            rate: self.inner.rate,
            origin: OnceLock::new(),
            first_taken: AtomicBool::new(false),
            mode: self.inner.mode,
            late_policy: self.inner.late_policy,
            realtime: self.inner.realtime,
        };
        change(&mut inner);
        SoftwareClock {
            inner: Arc::new(inner),
        }
    }

    fn wait_for(&self, deadline: Instant, interrupt: &Interrupt) -> bool {
        match self.inner.mode {
            SoftwareClockMode::Sleep => interrupt.wait_until(deadline),
            SoftwareClockMode::Precise { spin } => {
                if let Some(coarse) = deadline.checked_sub(spin) {
                    if interrupt.wait_until(coarse) {
                        return true;
                    }
                }
                while Instant::now() < deadline {
                    if interrupt.is_fired() {
                        return true;
                    }
                    std::hint::spin_loop();
                }
                interrupt.is_fired()
            }
        }
    }
}

impl Clock for SoftwareClock {
    fn id(&self) -> ClockId {
        self.inner.id
    }

    fn rate(&self) -> Rate {
        self.inner.rate
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(monotonic_ns())
    }

    fn describe(&self) -> String {
        match self.inner.mode {
            SoftwareClockMode::Sleep => format!("software {}", self.inner.rate),
            SoftwareClockMode::Precise { .. } => format!("software {} (precise)", self.inner.rate),
        }
    }

    fn next_tick(&self, previous: Option<&Tick>, interrupt: &Interrupt) -> Option<Tick> {
        let rate = self.inner.rate;
        let origin = self.origin();
        // The first tick of a new clock is frame 0, whatever is due by now; any other first call
        // joins the grid at the next frame not yet due.
        let first = previous.is_none() && !self.inner.first_taken.swap(true, Ordering::AcqRel);
        let elapsed = Instant::now().saturating_duration_since(origin.instant);
        let due_now = (!first).then(|| rate.frame_at(elapsed.as_nanos()));
        let (frame, skipped) = next_frame(
            previous.map(|t| t.frame_number),
            due_now,
            self.inner.late_policy,
        );
        let deadline = self.deadline(frame);
        if self.wait_for(deadline, interrupt) {
            return None;
        }
        let offset = u64::try_from(rate.nanos_at(frame)).unwrap_or(u64::MAX);
        Some(Tick {
            frame_number: frame,
            timestamp: Timestamp::from_nanos(origin.monotonic_ns.saturating_add(offset)),
            instant: deadline,
            clock_id: self.inner.id,
            rate,
            skipped,
            lateness: Instant::now().saturating_duration_since(deadline),
        })
    }

    fn boxed_clone(&self) -> Box<dyn Clock> {
        Box::new(self.clone())
    }

    /// Sets the thread's timer slack to 1 µs (the kernel's default of 50 µs would make every
    /// wake-up up to 50 µs late) and, if asked for, real-time priority.
    fn prepare_thread(&self) {
        set_timer_slack_ns(1_000);
        if self.inner.realtime {
            if let Err(err) = set_realtime_priority() {
                tracing::warn!(clock = %self.describe(), %err,
                    "real-time priority not permitted; ticking at normal priority");
            }
        }
    }
}

/// `instant + offset`, or the latest `Instant` after `instant` (to the nanosecond) where that
/// overflows; `Instant`'s range depends on the platform, so it is found by halving steps.
fn saturating_add(instant: Instant, offset: Duration) -> Instant {
    if let Some(sum) = instant.checked_add(offset) {
        return sum;
    }
    let (mut latest, mut step) = (instant, offset);
    while !step.is_zero() {
        match latest.checked_add(step) {
            Some(later) => latest = later,
            None => step /= 2,
        }
    }
    latest
}

fn duration_from_nanos(nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % 1_000_000_000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_consecutive_and_on_the_grid() {
        let clock = SoftwareClock::new(Rate::fps(500).unwrap());
        let interrupt = Interrupt::new();
        let mut prev = clock.next_tick(None, &interrupt).unwrap();
        for _ in 0..20 {
            let tick = clock.next_tick(Some(&prev), &interrupt).unwrap();
            assert_eq!(tick.frame_number, prev.frame_number + 1 + tick.skipped);
            assert_eq!(tick.instant, clock.deadline(tick.frame_number));
            assert!(Instant::now() >= tick.instant);
            let step = tick.timestamp.as_nanos() - prev.timestamp.as_nanos();
            assert_eq!(step, 2_000_000 * (1 + tick.skipped));
            prev = tick;
        }
    }

    #[test]
    fn late_ticks_are_skipped_and_counted() {
        let clock = SoftwareClock::new(Rate::fps(1000).unwrap());
        let interrupt = Interrupt::new();
        let first = clock.next_tick(None, &interrupt).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        let next = clock.next_tick(Some(&first), &interrupt).unwrap();
        assert!(next.skipped >= 20, "skipped {}", next.skipped);
        assert_eq!(next.frame_number, first.frame_number + 1 + next.skipped);
    }

    #[test]
    fn catch_up_delivers_every_frame() {
        let clock =
            SoftwareClock::new(Rate::fps(1000).unwrap()).with_late_policy(LatePolicy::CatchUp);
        let interrupt = Interrupt::new();
        let first = clock.next_tick(None, &interrupt).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let mut prev = first;
        for _ in 0..10 {
            let tick = clock.next_tick(Some(&prev), &interrupt).unwrap();
            assert_eq!(tick.frame_number, prev.frame_number + 1);
            assert_eq!(tick.skipped, 0);
            prev = tick;
        }
    }

    #[test]
    fn interrupt_stops_a_one_fps_wait_at_once() {
        let clock = SoftwareClock::new(Rate::new(1, 10).unwrap());
        let interrupt = Arc::new(Interrupt::new());
        // Frame 0 is due at once; frame 1 is 10 s away.
        let first = clock.next_tick(None, &interrupt).unwrap();
        let waiter = {
            let interrupt = interrupt.clone();
            std::thread::spawn(move || clock.next_tick(Some(&first), &interrupt))
        };
        std::thread::sleep(Duration::from_millis(20));
        let start = Instant::now();
        interrupt.fire();
        assert!(waiter.join().unwrap().is_none());
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn precise_mode_ticks() {
        let clock =
            SoftwareClock::new(Rate::fps(1000).unwrap()).with_mode(SoftwareClockMode::Precise {
                spin: Duration::from_micros(100),
            });
        let interrupt = Interrupt::new();
        let mut prev = clock.next_tick(None, &interrupt).unwrap();
        for _ in 0..5 {
            let tick = clock.next_tick(Some(&prev), &interrupt).unwrap();
            assert!(Instant::now() >= tick.instant);
            assert!(tick.frame_number > prev.frame_number);
            prev = tick;
        }
        assert_eq!(clock.describe(), "software 1000 fps (precise)");
    }

    #[test]
    fn far_deadlines_saturate_instead_of_panicking() {
        let slowest = SoftwareClock::new(Rate::new(1, u32::MAX).unwrap());
        assert_eq!(
            slowest.deadline(1) - slowest.deadline(0),
            Duration::from_secs(u64::from(u32::MAX))
        );
        let never = slowest.deadline(u64::MAX);
        assert!(never > slowest.deadline(1));
        assert_eq!(never, slowest.deadline(u64::MAX - 1), "both saturated");

        // The next tick after a far frame: its deadline saturates; the wait is interrupted.
        let interrupt = Interrupt::new();
        interrupt.fire();
        let far = Tick {
            frame_number: u64::MAX - 1,
            timestamp: Timestamp::from_nanos(0),
            instant: Instant::now(),
            clock_id: slowest.id(),
            rate: slowest.rate(),
            skipped: 0,
            lateness: Duration::ZERO,
        };
        assert!(slowest.next_tick(Some(&far), &interrupt).is_none());
        assert!(slowest.next_tick(None, &interrupt).is_none());
    }

    #[test]
    fn a_new_clock_starts_at_frame_zero_on_time() {
        let clock = SoftwareClock::new(Rate::fps(1000).unwrap());
        // Time between creation and first use is not counted against the clock.
        std::thread::sleep(Duration::from_millis(20));
        let interrupt = Interrupt::new();
        let first = clock.next_tick(None, &interrupt).unwrap();
        assert_eq!((first.frame_number, first.skipped), (0, 0));
        assert_eq!(first.instant, clock.deadline(0));
        let second = clock.next_tick(Some(&first), &interrupt).unwrap();
        assert_eq!(second.frame_number, 1 + second.skipped);
    }

    #[test]
    fn a_second_first_call_joins_the_grid_where_it_is() {
        let clock = SoftwareClock::new(Rate::fps(1000).unwrap());
        let interrupt = Interrupt::new();
        assert_eq!(clock.next_tick(None, &interrupt).unwrap().frame_number, 0);
        std::thread::sleep(Duration::from_millis(10));
        // Another domain on a clone (say, a second runtime) starts at the next frame not due.
        let joined = clock.clone().next_tick(None, &interrupt).unwrap();
        assert!(joined.frame_number >= 10, "frame {}", joined.frame_number);
        assert_eq!(joined.skipped, 0);
    }

    #[test]
    fn a_reconfigured_clock_is_new_and_starts_at_zero() {
        let clock = SoftwareClock::new(Rate::fps(1000).unwrap());
        let interrupt = Interrupt::new();
        clock.next_tick(None, &interrupt).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let rebuilt = clock.with_late_policy(LatePolicy::CatchUp);
        assert_eq!(rebuilt.next_tick(None, &interrupt).unwrap().frame_number, 0);
    }

    #[test]
    fn clones_share_one_grid() {
        let a = SoftwareClock::new(Rate::fps(100).unwrap());
        let b = a.clone();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.deadline(7), b.deadline(7));
        let c = a.clone().with_late_policy(LatePolicy::CatchUp);
        assert_ne!(c.id(), a.id());
    }
}
