//! The manual clock: ticks only when told, for deterministic tests and replay.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::{Clock, ClockId, Interrupt, Rate, Tick, Timestamp};
use crate::error::{Error, Result};

/// How long [`ManualClock::step`] waits for a tick to finish by default.
const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a waiting [`next_tick`](Clock::next_tick) looks at its interrupt even when nobody
/// wakes it (the runtime does wake it on stop; this only bounds a wait by a caller that does not).
const INTERRUPT_POLL: Duration = Duration::from_millis(100);

/// A clock that ticks only when [`step`](ManualClock::step) is called: deterministic time for
/// tests and for replaying recordings as fast as the machine goes.
///
/// - `step()` releases one tick and returns it **once every actor on this clock finished it** —
///   actors on the worker pool and on dedicated threads alike, in every runtime that uses the
///   clock — so a test asserts right after it. [`step_n`](ManualClock::step_n) runs many.
/// - Frame numbers count from 0, one per step, and `tick.timestamp` is `frame × period` from 0
///   (`Rate::nanos_at`: exact, rounded down to the nanosecond for rates like 30000/1001), so a
///   run gives the same ticks every time, on any machine. `tick.lateness` and `tick.skipped`
///   are always 0; `tick.instant` is when the step released the tick.
/// - Stepping a clock no actor uses (yet, or any more) works: the tick is released to nobody.
///   An actor spawned on the clock takes part from the next step on.
/// - Once the runtime(s) running this clock's actors shut down, `step()` fails with
///   [`Error::RuntimeShutDown`] (until an actor is spawned on it again). An actor's own `stop()`
///   does not close the clock; stepping it with no actors left simply ticks nobody.
/// - A tick that does not finish within the step timeout (30 s by default,
///   [`with_step_timeout`](ManualClock::with_step_timeout)) makes `step()` return
///   [`Error::Timeout`] instead of hanging a test: an actor stuck in `process`.
/// - Steps are serialized: clones stepped from several threads release one tick at a time.
///
/// Clones share one clock (same identity, same frame count).
///
/// ```
/// use streamlib::prelude::*;
/// use streamlib::{ManualClock, Rate};
///
/// #[actor]
/// pub struct Count {
///     #[output] pub value: Output<u64>,
/// }
/// impl Process for Count {
///     fn process(&mut self, tick: &Tick) -> ProcessResult {
///         self.value.write(tick.frame_number * 10);
///         Ok(())
///     }
/// }
///
/// let rt = Runtime::new();
/// let clock = ManualClock::new(Rate::fps(30)?);
/// let count = rt.spawn_on(Count { value: Output::new() }, "count", &clock)?;
/// let tick = clock.step()?;
/// assert_eq!((tick.frame_number, tick.timestamp.as_nanos()), (0, 0));
/// assert_eq!(count.outputs.value.read_latest().as_deref(), Some(&0));
/// let tick = clock.step_n(3)?;
/// assert_eq!(tick.frame_number, 3);
/// assert_eq!(tick.timestamp.as_nanos(), 100_000_000); // 3 × 1/30 s
/// assert_eq!(count.outputs.value.read_latest().as_deref(), Some(&30));
/// rt.shutdown();
/// assert!(matches!(clock.step(), Err(streamlib::Error::RuntimeShutDown)));
/// # Ok::<(), streamlib::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: ClockId,
    rate: Rate,
    step_timeout: Duration,
    /// Held for a whole step: one tick in flight at a time.
    stepping: Mutex<()>,
    state: Mutex<State>,
    /// Signalled on every change of `state`.
    changed: Condvar,
}

#[derive(Debug)]
struct State {
    /// Frames `0..released` were released.
    released: u64,
    /// When the newest frame was released.
    released_at: Instant,
    /// The loops (clock domains) running this clock's ticks, one per runtime using it.
    runners: Vec<Runner>,
    /// The last runner left because its runtime shut down.
    shut_down: bool,
}

/// One loop that runs this clock's ticks, known by its interrupt's id.
#[derive(Debug)]
struct Runner {
    id: u64,
    /// The next frame it runs.
    next: u64,
    /// Frames `< finished` are done (or given up) by it.
    finished: u64,
}

impl State {
    fn runner(&mut self, id: u64) -> Option<&mut Runner> {
        self.runners.iter_mut().find(|r| r.id == id)
    }
}

impl ManualClock {
    /// A clock at `rate` that has not ticked yet.
    pub fn new(rate: Rate) -> ManualClock {
        ManualClock::with(rate, DEFAULT_STEP_TIMEOUT)
    }

    fn with(rate: Rate, step_timeout: Duration) -> ManualClock {
        ManualClock {
            inner: Arc::new(Inner {
                id: ClockId::unique(),
                rate,
                step_timeout,
                stepping: Mutex::new(()),
                state: Mutex::new(State {
                    released: 0,
                    released_at: Instant::now(),
                    runners: Vec::new(),
                    shut_down: false,
                }),
                changed: Condvar::new(),
            }),
        }
    }

    /// This clock with another limit on how long [`step`](Self::step) waits for a tick to
    /// finish (a new clock with a new identity: configure before sharing).
    pub fn with_step_timeout(self, timeout: Duration) -> ManualClock {
        ManualClock::with(self.inner.rate, timeout)
    }

    /// Releases the next tick and returns it once every actor on this clock finished it.
    ///
    /// Errors: [`Error::RuntimeShutDown`] when the runtime that ran this clock's actors shut
    /// down (before or during the step); [`Error::Timeout`] when the tick did not finish within
    /// the step timeout.
    pub fn step(&self) -> Result<Tick> {
        let inner = &*self.inner;
        let _one_at_a_time = inner.stepping.lock();
        let mut state = inner.state.lock();
        if state.shut_down && state.runners.is_empty() {
            return Err(Error::RuntimeShutDown);
        }
        let frame = state.released;
        state.released += 1;
        state.released_at = Instant::now();
        let released_at = state.released_at;
        inner.changed.notify_all();
        let deadline = released_at + inner.step_timeout;
        while state.runners.iter().any(|r| r.finished <= frame) {
            if inner.changed.wait_until(&mut state, deadline).timed_out()
                && state.runners.iter().any(|r| r.finished <= frame)
            {
                return Err(Error::Timeout {
                    waiting_for: format!(
                        "frame {frame} of {} to finish on every actor",
                        self.describe()
                    ),
                    timeout: inner.step_timeout,
                });
            }
        }
        if state.shut_down && state.runners.is_empty() {
            return Err(Error::RuntimeShutDown);
        }
        Ok(self.tick(frame, released_at))
    }

    /// Runs `n` ticks with [`step`](Self::step) and returns the last (`n` ≥ 1), stopping at the
    /// first error.
    pub fn step_n(&self, n: u64) -> Result<Tick> {
        if n == 0 {
            return Err(Error::InvalidOption {
                option: "ManualClock::step_n count",
                value: "0".into(),
                reason: "at least one tick is needed to return one",
            });
        }
        let mut last = self.step()?;
        for _ in 1..n {
            last = self.step()?;
        }
        Ok(last)
    }

    /// Ticks released so far (the frame number the next step releases).
    pub fn ticks(&self) -> u64 {
        self.inner.state.lock().released
    }

    fn tick(&self, frame: u64, instant: Instant) -> Tick {
        Tick {
            frame_number: frame,
            timestamp: self.timestamp(frame),
            instant,
            clock_id: self.inner.id,
            rate: self.inner.rate,
            skipped: 0,
            lateness: Duration::ZERO,
        }
    }

    fn timestamp(&self, frame: u64) -> Timestamp {
        self.inner.rate.timestamp_at(frame)
    }
}

impl Clock for ManualClock {
    fn id(&self) -> ClockId {
        self.inner.id
    }

    fn rate(&self) -> Rate {
        self.inner.rate
    }

    /// The timestamp of the newest released tick (0 before the first).
    fn now(&self) -> Timestamp {
        let released = self.inner.state.lock().released;
        self.timestamp(released.saturating_sub(1))
    }

    fn describe(&self) -> String {
        format!("manual {}", self.inner.rate)
    }

    /// Waits until a step releases the next frame for this runner. A caller the runtime did not
    /// [`attach`](Clock::attach) (a test calling the clock directly) gets the frame after
    /// `previous`, or the next one released; steps do not wait for it.
    fn next_tick(&self, previous: Option<&Tick>, interrupt: &Interrupt) -> Option<Tick> {
        let inner = &*self.inner;
        let id = interrupt.id();
        let mut state = inner.state.lock();
        let mut unattached_next = None;
        loop {
            if interrupt.is_fired() {
                return None;
            }
            let released = state.released;
            let released_at = state.released_at;
            let frame = match state.runner(id) {
                Some(runner) => {
                    if previous.is_none() && runner.finished < runner.next {
                        // A new thread of the runner (the old one is stuck in a detached actor):
                        // the tick the old one was running is given up.
                        runner.finished = runner.next;
                        inner.changed.notify_all();
                    }
                    (runner.next < released).then(|| {
                        runner.next += 1;
                        runner.next - 1
                    })
                }
                None => {
                    let next = *unattached_next
                        .get_or_insert_with(|| previous.map_or(released, |t| t.frame_number + 1));
                    (next < released).then_some(next)
                }
            };
            if let Some(frame) = frame {
                return Some(self.tick(frame, released_at));
            }
            inner.changed.wait_for(&mut state, INTERRUPT_POLL);
        }
    }

    fn boxed_clone(&self) -> Box<dyn Clock> {
        Box::new(self.clone())
    }

    fn attach(&self, runner: &Interrupt) {
        let mut state = self.inner.state.lock();
        let released = state.released;
        if state.runner(runner.id()).is_none() {
            state.runners.push(Runner {
                id: runner.id(),
                next: released,
                finished: released,
            });
        }
        state.shut_down = false;
        self.inner.changed.notify_all();
    }

    fn tick_finished(&self, tick: &Tick, runner: &Interrupt) {
        let mut state = self.inner.state.lock();
        if let Some(r) = state.runner(runner.id()) {
            r.finished = r.finished.max(tick.frame_number + 1);
            self.inner.changed.notify_all();
        }
    }

    fn detach(&self, runner: &Interrupt, shutdown: bool) {
        let mut state = self.inner.state.lock();
        let before = state.runners.len();
        state.runners.retain(|r| r.id != runner.id());
        if shutdown && state.runners.len() < before {
            state.shut_down = true;
        }
        self.inner.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> ManualClock {
        ManualClock::new(Rate::fps(50).unwrap()).with_step_timeout(Duration::from_secs(5))
    }

    #[test]
    fn steps_with_no_runner_count_frames_and_time_from_zero() {
        let clock = clock();
        for frame in 0..5 {
            let tick = clock.step().unwrap();
            assert_eq!(tick.frame_number, frame);
            assert_eq!(tick.timestamp.as_nanos(), frame * 20_000_000);
            assert_eq!((tick.skipped, tick.lateness), (0, Duration::ZERO));
        }
        assert_eq!(clock.ticks(), 5);
        assert_eq!(clock.clone().step_n(3).unwrap().frame_number, 7);
        assert!(clock.step_n(0).is_err());
    }

    #[test]
    fn a_step_waits_for_every_attached_runner_to_finish() {
        let clock = clock();
        let runner = Arc::new(Interrupt::new());
        clock.attach(&runner);
        let worker = {
            let (clock, runner) = (clock.clone(), runner.clone());
            std::thread::spawn(move || {
                let mut previous = None;
                let mut frames = Vec::new();
                while let Some(tick) = clock.next_tick(previous.as_ref(), &runner) {
                    frames.push(tick.frame_number);
                    clock.tick_finished(&tick, &runner);
                    previous = Some(tick);
                }
                frames
            })
        };
        assert_eq!(clock.step().unwrap().frame_number, 0);
        assert_eq!(clock.step_n(2).unwrap().frame_number, 2);
        runner.fire();
        clock.detach(&runner, false);
        assert_eq!(worker.join().unwrap(), vec![0, 1, 2]);
        // Detached without a shutdown: the clock keeps stepping.
        assert_eq!(clock.step().unwrap().frame_number, 3);
    }

    #[test]
    fn an_unfinished_tick_times_out_and_a_shutdown_closes_the_clock() {
        let clock =
            ManualClock::new(Rate::fps(50).unwrap()).with_step_timeout(Duration::from_millis(50));
        let runner = Interrupt::new();
        clock.attach(&runner);
        assert!(matches!(clock.step(), Err(Error::Timeout { .. })));
        clock.detach(&runner, true);
        assert_eq!(clock.step(), Err(Error::RuntimeShutDown));
        clock.attach(&Interrupt::new());
        assert!(matches!(clock.step(), Err(Error::Timeout { .. })));
    }

    #[test]
    fn a_direct_caller_gets_the_frames_after_its_previous() {
        let clock = clock();
        let one = clock.step_n(2).unwrap();
        let stop = Arc::new(Interrupt::new());
        // Whichever runs first, the step or the wait, the caller gets frame 2: it asks for the
        // frame after `one`. (Asking with no previous tick would race the step for frame 2 or 3.)
        let stepper = {
            let clock = clock.clone();
            std::thread::spawn(move || clock.step().unwrap())
        };
        // Bounded: a wrong answer must fail the test, not hang it.
        let watchdog = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(10));
                stop.fire();
            })
        };
        let tick = clock
            .next_tick(Some(&one), &stop)
            .expect("frame 2 within 10 s");
        assert_eq!(tick.frame_number, 2);
        assert_eq!(stepper.join().unwrap().frame_number, 2);
        // Frames already released come at once, in order, from any previous tick.
        clock.step().unwrap();
        assert_eq!(clock.next_tick(Some(&one), &stop).unwrap().frame_number, 2);
        assert_eq!(clock.next_tick(Some(&tick), &stop).unwrap().frame_number, 3);
        stop.fire();
        assert_eq!(clock.next_tick(Some(&tick), &stop), None);
        drop(watchdog); // detached; it only fires an interrupt nobody waits on any more
    }
}
