//! The genlock clock: ticks locked to an external reference pulse.
//!
//! [`GenlockClock`] reads reference pulses from a [`PulseSource`] — another streamlib output
//! carrying pulse times ([`PortPulses`](crate::PortPulses)), a file descriptor that becomes readable per pulse such
//! as a GPIO line or an `eventfd` ([`FdPulses`]), or UDP datagrams ([`UdpPulses`]) — and runs a
//! phase-locked loop on them on its own thread. Its ticks follow the loop's smoothed model of the
//! reference, not the raw pulses, so reference jitter is filtered out of the tick grid.
//!
//! # Guarantees
//!
//! - **Rate detection**: the reference rate is measured from the pulses (no configuration) and
//!   recognised as a standard rate (24, 25, 29.97, 30, 50, 59.94, 60 Hz, 1 PPS, …) when close
//!   enough (400 ppm, or three standard errors of a jittery measurement), else taken as
//!   measured; it is named again as the measurement improves while locked. [`GenlockStatus`]
//!   reports it with the measured frequency (a least-squares fit over the last 256 pulses).
//! - **Locking**: the clock ticks at its configured [`Rate`], phase-aligned with the reference:
//!   at equal rates every tick falls on a pulse; with a ratio `p/q` (tick rate / reference rate,
//!   e.g. 60 fps on 1 PPS) every `p`th tick falls on every `q`th pulse. The tick period follows
//!   the reference's measured frequency, so a reference 50 ppm fast makes ticks 50 ppm fast.
//! - **Lock state** ([`GenlockState`]): Unlocked (detecting; ticks free-run at the configured
//!   rate until a reference was first seen, later on the last model of it) → Locking → Locked;
//!   Holdover when the reference disappears (ticks free-run on the last
//!   phase and period); back to Locking then Locked when it returns, on the same frame grid if
//!   its phase is still within a quarter period, else after a new detection.
//! - **No bursts**: when the loop re-anchors (first lock, a new reference) the frame numbering
//!   continues from the last tick; the next tick moves by less than one tick period once.
//!   Missed ticks follow the [`LatePolicy`].
//! - `tick.timestamp` is `CLOCK_MONOTONIC` time in nanoseconds (as for
//!   [`SoftwareClock`](crate::SoftwareClock)), the time base of pulse times.
//!
//! The loop itself (detection, gains, lock criteria) is documented in its module, `pll.rs`.
//!
//! ```
//! use std::time::Duration;
//! use streamlib::clock::{GenlockClock, GenlockConfig, GenlockState};
//! use streamlib::{Clock, Interrupt, Output, PortPulses, Rate, Timestamp};
//!
//! let pulses = Output::<Timestamp>::new();
//! let clock = GenlockClock::new(PortPulses::connect(&pulses.to_ref())?, GenlockConfig::new(Rate::fps(50)?))?;
//! // No reference yet: the clock free-runs at 50 fps and says so.
//! assert_eq!(clock.status().state, GenlockState::Unlocked);
//! let stop = Interrupt::new();
//! let tick = clock.next_tick(None, &stop).expect("not interrupted");
//! assert_eq!(tick.rate, Rate::fps(50)?);
//! # Ok::<(), streamlib::Error>(())
//! ```

mod pll;
mod source;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::sys::monotonic_ns;
use super::{next_frame, Clock, ClockId, Interrupt, LatePolicy, Rate, Tick, Timestamp};
use crate::error::{Error, Result};
use pll::{Model, Pll, PllConfig, Transition};

pub use pll::GenlockState;
pub use source::{FdPulses, PulseSource, UdpPulses};

/// Settings of a [`GenlockClock`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct GenlockConfig {
    /// The tick rate; it need not equal the reference's (see the module documentation).
    pub rate: Rate,
    /// What happens to late ticks.
    pub late_policy: LatePolicy,
    /// Pulses used to detect the reference rate (at least 3).
    pub detect_pulses: u32,
    /// Consecutive pulses within the tolerance needed to lock.
    pub lock_pulses: u32,
    /// Filtered phase error allowed when locked; `None` is 2 % of the reference period.
    pub lock_tolerance: Option<Duration>,
    /// Reference periods without a pulse before holdover.
    pub holdover_after_pulses: u32,
}

impl GenlockConfig {
    /// Ticks at `rate`; defaults: skip late ticks, detect over 12 pulses, lock after 8 pulses
    /// within 2 % of a period, holdover after 4 silent periods.
    pub fn new(rate: Rate) -> GenlockConfig {
        GenlockConfig {
            rate,
            late_policy: LatePolicy::Skip,
            detect_pulses: 12,
            lock_pulses: 8,
            lock_tolerance: None,
            holdover_after_pulses: 4,
        }
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.detect_pulses < 3 {
            return Err(format!(
                "detect_pulses {} must be at least 3",
                self.detect_pulses
            ));
        }
        if self.lock_pulses == 0 || self.holdover_after_pulses == 0 {
            return Err("lock_pulses and holdover_after_pulses must be at least 1".to_string());
        }
        Ok(())
    }
}

/// A snapshot of a [`GenlockClock`]'s lock, from [`GenlockClock::status`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GenlockStatus {
    /// Lock state.
    pub state: GenlockState,
    /// The reference's rate as recognised (a standard rate, or measured to the millihertz).
    pub reference_rate: Option<Rate>,
    /// The reference's frequency as the loop measures it, in Hz.
    pub measured_rate: Option<f64>,
    /// Filtered phase error (pulse − loop prediction), in nanoseconds.
    pub phase_error_nanos: Option<i64>,
    /// RMS of the raw phase errors: the reference's jitter as seen here.
    pub jitter: Option<Duration>,
    /// Pulses received.
    pub pulses: u64,
    /// Pulses that never came (drop-outs inside a lock), not counting holdover.
    pub missed_pulses: u64,
    /// Pulses ignored: off by more than a quarter period, duplicated or out of order.
    pub outliers: u64,
    /// Time since the last pulse.
    pub since_last_pulse: Option<Duration>,
    /// Errors reported by the pulse source.
    pub source_errors: u64,
}

/// A clock locked to a reference pulse. Clones share one clock; the loop thread stops when the
/// last clone is dropped. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct GenlockClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: ClockId,
    rate: Rate,
    late_policy: LatePolicy,
    engine: Arc<Engine>,
}

/// The loop thread and what it publishes, shared by every clock made from one source.
#[derive(Debug)]
struct Engine {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
    description: String,
    origin: u64,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.lock().take() {
            if thread.join().is_err() {
                tracing::error!(source = %self.description, "the genlock loop thread panicked");
            }
        }
    }
}

#[derive(Debug)]
struct Shared {
    published: Mutex<Published>,
    anchor: Mutex<Option<Anchor>>,
    last_tick: Mutex<Option<(u64, i64)>>,
    source_errors: AtomicU64,
}

#[derive(Debug)]
struct Published {
    model: Option<Model>,
    status: GenlockStatus,
    last_pulse: Option<i64>,
}

/// Which frame sits on which pulse position: frame `frame` is due at pulse `pulse` of
/// `generation`'s numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Anchor {
    generation: u64,
    frame: i64,
    pulse: i64,
}

/// The tick grid at one moment: free-running, or on the loop's model of the reference.
#[derive(Clone, Copy, Debug)]
enum Grid {
    Free {
        origin: u64,
        rate: Rate,
    },
    Locked {
        model: Model,
        anchor: Anchor,
        p: i128,
        q: i128,
    },
}

impl Grid {
    /// When `frame` is due, in monotonic nanoseconds.
    fn deadline(&self, frame: u64) -> i64 {
        match *self {
            Grid::Free { origin, rate } => {
                let offset = i64::try_from(rate.nanos_at(frame)).unwrap_or(i64::MAX);
                (origin as i64).saturating_add(offset)
            }
            Grid::Locked {
                model,
                anchor,
                p,
                q,
            } => {
                let scaled = (i128::from(frame) - i128::from(anchor.frame)) * q;
                let whole = i64::try_from(scaled.div_euclid(p)).unwrap_or(i64::MAX);
                let fraction = scaled.rem_euclid(p) as f64 / p as f64;
                model.time_of(anchor.pulse.saturating_add(whole), fraction) as i64
            }
        }
    }

    /// The last frame due at or before `now`, if any.
    fn due_now(&self, now: i64) -> Option<u64> {
        if self.deadline(0) > now {
            return None;
        }
        let estimate = match *self {
            Grid::Free { origin, rate } => {
                return Some(rate.frame_at((now - origin as i64).max(0) as u128))
            }
            Grid::Locked {
                model,
                anchor,
                p,
                q,
            } => {
                let pulses = model.position_at(now) - anchor.pulse as f64;
                (anchor.frame as f64 + (pulses * p as f64 / q as f64).floor()).max(0.0) as u64
            }
        };
        // The float estimate can be off by one either way.
        let mut frame = estimate;
        while frame > 0 && self.deadline(frame) > now {
            frame -= 1;
        }
        while self.deadline(frame + 1) <= now {
            frame += 1;
        }
        Some(frame)
    }
}

/// How long one wait may last before the clock re-reads the loop's model.
const MAX_WAIT_CHUNK: Duration = Duration::from_millis(20);
/// How long the loop thread waits for a pulse before checking for silence and its stop flag.
const PULSE_WAIT: Duration = Duration::from_millis(20);

impl GenlockClock {
    /// A clock ticking at `config.rate`, locked to the pulses of `source` (read on a new thread).
    pub fn new(source: impl PulseSource, config: GenlockConfig) -> Result<GenlockClock> {
        let description = source.describe();
        config.validate().map_err(|reason| Error::Clock {
            clock: format!("genlock {description}"),
            reason,
        })?;
        let shared = Arc::new(Shared {
            published: Mutex::new(Published {
                model: None,
                status: GenlockStatus {
                    state: GenlockState::Unlocked,
                    reference_rate: None,
                    measured_rate: None,
                    phase_error_nanos: None,
                    jitter: None,
                    pulses: 0,
                    missed_pulses: 0,
                    outliers: 0,
                    since_last_pulse: None,
                    source_errors: 0,
                },
                last_pulse: None,
            }),
            anchor: Mutex::new(None),
            last_tick: Mutex::new(None),
            source_errors: AtomicU64::new(0),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let pll = Pll::new(PllConfig {
            detect_pulses: config.detect_pulses,
            lock_pulses: config.lock_pulses,
            lock_tolerance: config.lock_tolerance,
            holdover_after_pulses: config.holdover_after_pulses,
        });
        let thread = {
            let (shared, stop, rate) = (shared.clone(), stop.clone(), config.rate);
            std::thread::Builder::new()
                .name("genlock".to_string())
                .spawn(move || run(source, pll, rate, shared, stop))
                .map_err(|err| Error::os("spawning the genlock loop thread", err))?
        };
        Ok(GenlockClock {
            inner: Arc::new(Inner {
                id: ClockId::unique(),
                rate: config.rate,
                late_policy: config.late_policy,
                engine: Arc::new(Engine {
                    shared,
                    stop,
                    thread: Mutex::new(Some(thread)),
                    description,
                    origin: monotonic_ns(),
                }),
            }),
        })
    }

    /// This clock with another late-tick policy (a new identity on the same loop).
    pub fn with_late_policy(self, late_policy: LatePolicy) -> GenlockClock {
        GenlockClock {
            inner: Arc::new(Inner {
                id: ClockId::unique(),
                rate: self.inner.rate,
                late_policy,
                engine: self.inner.engine.clone(),
            }),
        }
    }

    /// A snapshot of the lock.
    pub fn status(&self) -> GenlockStatus {
        let published = self.inner.engine.shared.published.lock();
        let mut status = published.status.clone();
        status.since_last_pulse = published.last_pulse.map(|last| {
            Duration::from_nanos((monotonic_ns() as i64).saturating_sub(last).max(0) as u64)
        });
        status
    }

    /// When `frame` is due on the current grid, in `CLOCK_MONOTONIC` nanoseconds.
    pub fn deadline(&self, frame: u64) -> Timestamp {
        Timestamp::from_nanos(self.grid().deadline(frame).max(0) as u64)
    }

    /// The current grid, re-anchoring when the loop started a new pulse numbering.
    fn grid(&self) -> Grid {
        let engine = &self.inner.engine;
        let model = engine.shared.published.lock().model;
        let Some(model) = model else {
            return Grid::Free {
                origin: engine.origin,
                rate: self.inner.rate,
            };
        };
        let (p, q) = ratio(self.inner.rate, model.reference_rate);
        let mut anchor = engine.shared.anchor.lock();
        let current = match *anchor {
            Some(current) if current.generation == model.generation => current,
            _ => {
                let last_tick = *engine.shared.last_tick.lock();
                let fresh = anchor_for(&model, p, q, last_tick);
                *anchor = Some(fresh);
                fresh
            }
        };
        Grid::Locked {
            model,
            anchor: current,
            p,
            q,
        }
    }
}

/// `tick rate / reference rate` as a reduced fraction `p / q`.
fn ratio(rate: Rate, reference: Rate) -> (i128, i128) {
    let p = i128::from(rate.num()) * i128::from(reference.den());
    let q = i128::from(rate.den()) * i128::from(reference.num());
    let (mut a, mut b) = (p, q);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    (p / a.max(1), q / a.max(1))
}

/// Anchors the grid so that the last delivered frame sits on the grid point nearest its time.
fn anchor_for(model: &Model, p: i128, q: i128, last_tick: Option<(u64, i64)>) -> Anchor {
    match last_tick {
        None => Anchor {
            generation: model.generation,
            frame: 0,
            pulse: model.next_index,
        },
        Some((frame, at)) => {
            let position = model.position_at(at);
            let pulse = position.floor();
            let ticks_after_pulse = ((position - pulse) * p as f64 / q as f64).round() as i64;
            Anchor {
                generation: model.generation,
                frame: i64::try_from(frame).unwrap_or(i64::MAX) - ticks_after_pulse,
                pulse: pulse as i64,
            }
        }
    }
}

/// Monotonic nanoseconds to an `Instant`.
fn instant_at(mono: i64) -> Instant {
    let now = Instant::now();
    let now_mono = monotonic_ns() as i64;
    let delta = Duration::from_nanos(mono.abs_diff(now_mono));
    if mono >= now_mono {
        now + delta
    } else {
        now.checked_sub(delta).unwrap_or(now)
    }
}

impl Clock for GenlockClock {
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
        format!(
            "genlock {} ({})",
            self.inner.rate, self.inner.engine.description
        )
    }

    fn next_tick(&self, previous: Option<&Tick>, interrupt: &Interrupt) -> Option<Tick> {
        let period = i64::try_from(self.inner.rate.nanos_at(1)).unwrap_or(i64::MAX);
        // A deadline further than this is a grid that moved, not a frame to wait for.
        let limit = period.saturating_mul(2).saturating_add(1_000_000_000);
        let mut previous = previous.map(|tick| tick.frame_number);
        'choose: loop {
            let now = monotonic_ns() as i64;
            let due_now = self.grid().due_now(now);
            let (frame, skipped) = next_frame(previous, due_now, self.inner.late_policy);
            loop {
                if interrupt.is_fired() {
                    return None;
                }
                let deadline = self.grid().deadline(frame);
                let now = monotonic_ns() as i64;
                if now >= deadline {
                    *self.inner.engine.shared.last_tick.lock() = Some((frame, deadline));
                    return Some(Tick {
                        frame_number: frame,
                        timestamp: Timestamp::from_nanos(deadline.max(0) as u64),
                        instant: instant_at(deadline),
                        clock_id: self.inner.id,
                        rate: self.inner.rate,
                        skipped,
                        lateness: Duration::from_nanos((now - deadline) as u64),
                    });
                }
                if deadline - now > limit {
                    previous = None;
                    continue 'choose;
                }
                let chunk = Duration::from_nanos((deadline - now) as u64).min(MAX_WAIT_CHUNK);
                if interrupt.wait_until(Instant::now() + chunk) {
                    return None;
                }
            }
        }
    }

    fn boxed_clone(&self) -> Box<dyn Clock> {
        Box::new(self.clone())
    }
}

/// The loop thread: pulses in, model and status out.
fn run(
    mut source: impl PulseSource,
    mut pll: Pll,
    rate: Rate,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
) {
    let description = source.describe();
    let mut reference = None;
    // While detecting again, ticks keep following the last model (frozen, extrapolated), so
    // that they continue from the last tick instead of jumping back to the free-run grid.
    let mut frozen: Option<Model> = None;
    while !stop.load(Ordering::Acquire) {
        let transition = match source.next_pulse(PULSE_WAIT) {
            Ok(Some(pulse)) => pll.on_pulse(i64::try_from(pulse.as_nanos()).unwrap_or(i64::MAX)),
            Ok(None) => pll.on_silence(monotonic_ns() as i64),
            Err(err) => {
                let errors = shared.source_errors.fetch_add(1, Ordering::Relaxed) + 1;
                if errors.is_power_of_two() {
                    tracing::warn!(source = %description, error = %err, count = errors, "genlock pulse source failed");
                }
                std::thread::sleep(Duration::from_millis(10));
                pll.on_silence(monotonic_ns() as i64)
            }
        };
        let model = pll.model();
        let reference_now = model.map(|m| m.reference_rate);
        if reference_now != reference {
            if let Some(detected) = reference_now {
                let (p, q) = ratio(rate, detected);
                if p > 1 && q > 1 {
                    tracing::warn!(source = %description, reference = %detected, %rate, "genlock reference and tick rate align only every {q} pulses");
                }
            }
            reference = reference_now;
        }
        log(&description, &pll, transition);
        let mut published = shared.published.lock();
        if model.is_some() {
            frozen = model;
        }
        published.model = model.or(frozen);
        published.last_pulse = pll.last_pulse();
        let status = &mut published.status;
        status.state = pll.state();
        status.reference_rate = reference_now;
        status.measured_rate = pll.measured_period().map(|period| 1e9 / period);
        status.phase_error_nanos = pll.phase_error().map(|e| e.round() as i64);
        status.jitter = pll.jitter().map(|j| Duration::from_nanos(j.round() as u64));
        status.pulses = pll.pulses;
        status.missed_pulses = pll.missed;
        status.outliers = pll.outliers;
        status.source_errors = shared.source_errors.load(Ordering::Relaxed);
    }
}

fn log(source: &str, pll: &Pll, transition: Option<Transition>) {
    let Some(Transition { from, to }) = transition else {
        return;
    };
    let model = pll.model();
    let reference = model
        .map(|m| m.reference_rate.to_string())
        .unwrap_or_default();
    let measured_hz = pll.measured_period().map(|period| 1e9 / period);
    let phase_error_ns = pll.phase_error().map(|e| e.round() as i64);
    match to {
        GenlockState::Locking | GenlockState::Locked => tracing::info!(
            %source, %from, %to, %reference, ?measured_hz, ?phase_error_ns, "genlock state changed"
        ),
        GenlockState::Holdover | GenlockState::Unlocked => tracing::warn!(
            %source, %from, %to, %reference, ?measured_hz, "genlock reference lost or changed"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(generation: u64, next_pulse: i64, next_index: i64, hz: u32) -> Model {
        Model {
            generation,
            next_pulse,
            next_index,
            period: 1e9 / f64::from(hz),
            reference_rate: Rate::fps(hz).unwrap(),
        }
    }

    #[test]
    fn ratios_reduce() {
        let fps = |n| Rate::fps(n).unwrap();
        assert_eq!(ratio(fps(60), fps(60)), (1, 1));
        assert_eq!(ratio(fps(60), fps(1)), (60, 1));
        assert_eq!(ratio(fps(30), fps(25)), (6, 5));
        assert_eq!(ratio(fps(25), fps(50)), (1, 2));
    }

    #[test]
    fn locked_grid_puts_every_pth_frame_on_every_qth_pulse() {
        // 1 PPS reference, 60 fps ticks: frame 60·k on pulse k.
        let m = model(1, 10_000_000_000, 10, 1);
        let anchor = Anchor {
            generation: 1,
            frame: 0,
            pulse: 10,
        };
        let grid = Grid::Locked {
            model: m,
            anchor,
            p: 60,
            q: 1,
        };
        assert_eq!(grid.deadline(0), 10_000_000_000);
        assert_eq!(grid.deadline(60), 11_000_000_000);
        assert_eq!(grid.deadline(1), 10_016_666_666);
        assert_eq!(grid.due_now(10_016_666_666), Some(1));
        assert_eq!(grid.due_now(10_016_666_665), Some(0));
        assert_eq!(grid.due_now(9_000_000_000), None);
    }

    #[test]
    fn re_anchoring_continues_the_frame_numbers() {
        // The last tick, frame 500, was due at t = 5.003 s; a new 50 Hz model appears.
        let m = model(2, 5_010_000_000, 1, 50);
        let anchor = anchor_for(&m, 1, 1, Some((500, 5_003_000_000)));
        let grid = Grid::Locked {
            model: m,
            anchor,
            p: 1,
            q: 1,
        };
        // Frame 500 lands on the pulse nearest 5.003 s (5.010 s), frame 501 on the next one.
        assert_eq!(grid.deadline(500), 5_010_000_000);
        assert_eq!(grid.deadline(501), 5_030_000_000);
        let first = anchor_for(&m, 1, 1, None);
        assert_eq!((first.frame, first.pulse), (0, 1));
    }

    #[test]
    fn free_grid_counts_from_the_origin() {
        let grid = Grid::Free {
            origin: 1_000,
            rate: Rate::fps(100).unwrap(),
        };
        assert_eq!(grid.deadline(3), 30_001_000);
        assert_eq!(grid.due_now(30_000_999), Some(2));
        assert_eq!(grid.due_now(999), None);
    }

    #[test]
    fn invalid_configs_are_clock_errors() {
        let mut config = GenlockConfig::new(Rate::fps(25).unwrap());
        config.detect_pulses = 2;
        let source = UdpPulses::bind("127.0.0.1:0").unwrap();
        let err = GenlockClock::new(source, config).unwrap_err();
        assert!(matches!(err, Error::Clock { .. }));
        assert!(err.to_string().contains("detect_pulses"), "{err}");
    }
}
