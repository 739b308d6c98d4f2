//! The PTP clock: ticks on IEEE 1588 time, in phase across processes and machines.
//!
//! [`PtpClock`] ticks on PTP time — TAI nanoseconds since the PTP epoch (1970-01-01 00:00:00 TAI)
//! — on the grid SMPTE ST 2059-1 uses: frame `N` is due at exactly `N × period` after the epoch,
//! computed from the exact rational [`Rate`]. Two processes, or two machines synchronised to one
//! grandmaster, running a `PtpClock` at the same rate therefore tick in phase, and the same
//! frame carries the same `frame_number` and the same `tick.timestamp` everywhere.
//!
//! # Where the time comes from
//!
//! In order of preference ([`PtpSource::detect`] picks the first that is available):
//!
//! 1. [`PtpSource::Hardware`]: a PTP hardware clock (`/dev/ptpN`) disciplined by `ptp4l`, read
//!    through the kernel's dynamic POSIX clock of that device.
//! 2. [`PtpSource::System`]: the system clock disciplined by linuxptp (`ptp4l` + `phc2sys`), read
//!    as `CLOCK_TAI`. Its lock state is the kernel's (`adjtimex`: synchronised or not).
//! 3. `PtpSource::Network` (cargo feature `ptp`): an in-process PTPv2 ordinary clock, slave only,
//!    on one interface (UDP 319/320, multicast 224.0.1.129, end-to-end delay mechanism, one- and
//!    two-step masters). It keeps its own offset to the grandmaster and never touches the
//!    machine's clock. Its protocol engine is the `statime` crate; see `PtpNetworkConfig`.
//!
//! # Guarantees
//!
//! - Deadlines are absolute on the PTP time line; a late tick never shifts the ones after it, and
//!   late ticks follow the [`LatePolicy`] (skip and count by default).
//! - Ticks never stop and never burst because of the time source: when the grandmaster is lost
//!   the in-process source goes to [`PtpState::Holdover`] and then [`PtpState::Lost`], and keeps
//!   ticking on its best estimate (last offset and frequency).
//! - A *step* of the time line (the first measurement of the grandmaster's time, or a new
//!   grandmaster) re-aligns the grid: the next tick is the next frame of the new time line, so the
//!   frame number jumps once (backwards if time stepped back; under either policy a jump forward
//!   of more than one second of frames is not caught up). [`PtpStatus::steps`] counts them.
//! - [`PtpClock::status`] is a cheap snapshot: state, offset, mean path delay, grandmaster identity.
//! - `tick.timestamp` is on the grandmaster's timescale: PTP (TAI) as a PTP-timescale grandmaster
//!   serves it; a grandmaster announcing the arbitrary timescale (`ptp4l` with software
//!   timestamping serves UTC that way) is followed as is, with a logged warning.
//!
//! # Accuracy
//!
//! The in-process slave uses kernel software timestamps. Against `ptp4l -S` across a veth pair
//! on a 2-core VM it locks within about 6 s (Announce every second, 8 Syncs per second) and
//! stays within a few microseconds of the grandmaster's clock, as checked against that clock
//! directly. Across real networks software timestamps typically give microseconds to tens of
//! microseconds; use a PHC for better.
//!
//! ```
//! use streamlib::clock::{PtpClock, PtpSource};
//! use streamlib::{Clock, Interrupt, Rate};
//!
//! // The system clock as PTP time (disciplined by ptp4l + phc2sys in production).
//! let clock = PtpClock::new(Rate::fps(50)?, PtpSource::System)?;
//! let stop = Interrupt::new();
//! let tick = clock.next_tick(None, &stop).expect("not interrupted");
//! // Frame N is due N periods (20 ms) after the PTP epoch.
//! assert_eq!(tick.timestamp.as_nanos(), tick.frame_number * 20_000_000);
//! let _state = clock.status().state; // Locked when the kernel reports the clock synchronised
//! # Ok::<(), streamlib::Error>(())
//! ```

pub(crate) mod timebase;

#[cfg(feature = "ptp")]
mod config;
#[cfg(feature = "ptp")]
mod lock;
#[cfg(feature = "ptp")]
mod net;
#[cfg(feature = "ptp")]
mod socket;
#[cfg(feature = "ptp")]
mod timeline;
#[cfg(feature = "ptp")]
pub(crate) mod wire;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{next_frame, Clock, ClockId, Interrupt, LatePolicy, Rate, Tick, Timestamp};
use crate::error::{Error, Result};

#[cfg(feature = "ptp")]
pub use config::PtpNetworkConfig;
use timebase::TimeBase;

/// Where a [`PtpClock`] reads PTP time. See the [module documentation](self) for the order of
/// preference.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PtpSource {
    /// A PTP hardware clock device, e.g. `/dev/ptp0`, disciplined by `ptp4l`.
    Hardware(PathBuf),
    /// The system clock read as `CLOCK_TAI` (disciplined by `ptp4l` + `phc2sys`).
    System,
    /// An in-process PTPv2 slave on a network interface.
    #[cfg(feature = "ptp")]
    Network(PtpNetworkConfig),
}

impl PtpSource {
    /// The preferred available source: the hardware clock `phc` when given and readable; else
    /// the system clock when the kernel reports it synchronised (as `phc2sys` leaves it); else,
    /// with the `ptp` feature, an in-process slave on `interface`. An error names what was tried.
    pub fn detect(phc: Option<&Path>, interface: Option<&str>) -> Result<PtpSource> {
        let mut tried = Vec::new();
        if let Some(path) = phc {
            match timebase::Phc::open(path) {
                Ok(_) => return Ok(PtpSource::Hardware(path.to_path_buf())),
                Err(err) => tried.push(format!("{}: {err}", path.display())),
            }
        }
        if timebase::SystemTai::kernel_synchronised() {
            return Ok(PtpSource::System);
        }
        tried.push("system clock: the kernel reports it unsynchronised".to_string());
        match interface {
            #[cfg(feature = "ptp")]
            Some(name) => return Ok(PtpSource::Network(PtpNetworkConfig::new(name))),
            #[cfg(not(feature = "ptp"))]
            Some(name) => tried.push(format!(
                "interface {name}: the in-process PTP slave needs the `ptp` cargo feature"
            )),
            None => tried.push("no interface given for an in-process slave".to_string()),
        }
        Err(Error::Clock {
            clock: "ptp".to_string(),
            reason: format!("no PTP time source available ({})", tried.join("; ")),
        })
    }
}

/// Which kind of source a [`PtpClock`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PtpSourceKind {
    /// A PTP hardware clock device.
    Hardware,
    /// The system clock as `CLOCK_TAI`.
    System,
    /// The in-process slave.
    Network,
}

/// How well a [`PtpClock`] follows its grandmaster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PtpState {
    /// No estimate of the grandmaster's time yet, or the estimate is still converging. Ticks run
    /// on the best time known (the system's `CLOCK_TAI` before the first measurement).
    Acquiring,
    /// Following the grandmaster within the configured bound.
    Locked,
    /// The grandmaster went silent: ticks continue on the last offset and frequency.
    Holdover,
    /// Silent for longer than the holdover limit: ticks still continue on the last estimate,
    /// but it should no longer be trusted to align with other machines.
    Lost,
}

impl fmt::Display for PtpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PtpState::Acquiring => "acquiring",
            PtpState::Locked => "locked",
            PtpState::Holdover => "holdover",
            PtpState::Lost => "lost",
        })
    }
}

/// An IEEE 1588 clock identity (8 bytes, usually derived from a MAC address), displayed the way
/// linuxptp does: `001122.fffe.334455`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PtpClockIdentity(pub [u8; 8]);

impl PtpClockIdentity {
    /// The EUI-64 identity of a 48-bit MAC address (`FF FE` inserted in the middle).
    pub fn from_mac(mac: [u8; 6]) -> PtpClockIdentity {
        PtpClockIdentity([mac[0], mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]])
    }
}

impl fmt::Display for PtpClockIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
        )
    }
}

/// A snapshot of a [`PtpClock`]'s synchronisation, from [`PtpClock::status`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PtpStatus {
    /// Which kind of source the clock reads.
    pub source: PtpSourceKind,
    /// Lock state. A hardware clock is reported [`Locked`](PtpState::Locked): its discipline
    /// belongs to `ptp4l` (query it with `pmc`); the system clock is `Locked` when the kernel
    /// reports it synchronised.
    pub state: PtpState,
    /// Offset of this clock from the grandmaster (local − master) in nanoseconds, as estimated
    /// by the servo (in-process source only).
    pub offset_nanos: Option<i64>,
    /// Mean one-way path delay to the master (in-process source only).
    pub mean_path_delay: Option<Duration>,
    /// The grandmaster followed (or last followed, in holdover) (in-process source only).
    pub grandmaster: Option<PtpClockIdentity>,
    /// Frequency correction applied to this machine's monotonic clock, in ppm (in-process).
    pub frequency_ppm: f64,
    /// Time since the last Sync from the master (in-process source only).
    pub since_last_sync: Option<Duration>,
    /// PTP packets received (in-process source only).
    pub packets: u64,
    /// Malformed or truncated packets received and ignored (in-process source only).
    pub malformed_packets: u64,
    /// Steps of the time line (offset corrected at once rather than slewed).
    pub steps: u64,
    /// Reads of the time source that failed (the clock then extrapolates its last reading).
    pub read_errors: u64,
}

impl PtpStatus {
    fn new(source: PtpSourceKind, state: PtpState) -> PtpStatus {
        PtpStatus {
            source,
            state,
            offset_nanos: None,
            mean_path_delay: None,
            grandmaster: None,
            frequency_ppm: 0.0,
            since_last_sync: None,
            packets: 0,
            malformed_packets: 0,
            steps: 0,
            read_errors: 0,
        }
    }
}

/// A clock that ticks on PTP (TAI) time, on a grid anchored at the PTP epoch (SMPTE ST 2059-1).
///
/// Clones share one clock: same identity, same time source. See the [module
/// documentation](self) for the sources and the guarantees.
///
/// ```
/// use streamlib::clock::{PtpClock, PtpSource};
/// use streamlib::{LatePolicy, Rate};
/// let a = PtpClock::new(Rate::new(30000, 1001)?, PtpSource::System)?;
/// let b = PtpClock::new(Rate::new(30000, 1001)?, PtpSource::System)?.with_late_policy(LatePolicy::Skip);
/// // Two clocks of one rate share one grid: the same frame is due at the same PTP time.
/// assert_eq!(a.deadline(1_000_000), b.deadline(1_000_000));
/// # Ok::<(), streamlib::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PtpClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: ClockId,
    rate: Rate,
    late_policy: LatePolicy,
    base: Arc<TimeBase>,
}

/// How long one wait may last before the clock re-reads its source, so that a step of the time
/// line (or a slewed frequency) is noticed within this bound.
const MAX_WAIT_CHUNK: Duration = Duration::from_millis(50);

impl PtpClock {
    /// A clock ticking at `rate` on `source`, skipping late ticks. For the in-process source
    /// this opens the sockets and starts the protocol engine (one thread, stopped when the last
    /// clone is dropped); errors name the interface and the failing call.
    pub fn new(rate: Rate, source: PtpSource) -> Result<PtpClock> {
        let base = TimeBase::open(source)?;
        Ok(PtpClock {
            inner: Arc::new(Inner {
                id: ClockId::unique(),
                rate,
                late_policy: LatePolicy::Skip,
                base: Arc::new(base),
            }),
        })
    }

    /// This clock with another late-tick policy (a new identity on the same time source).
    pub fn with_late_policy(self, late_policy: LatePolicy) -> PtpClock {
        PtpClock {
            inner: Arc::new(Inner {
                id: ClockId::unique(),
                rate: self.inner.rate,
                late_policy,
                base: self.inner.base.clone(),
            }),
        }
    }

    /// The late-tick policy.
    pub fn late_policy(&self) -> LatePolicy {
        self.inner.late_policy
    }

    /// A snapshot of the synchronisation state.
    pub fn status(&self) -> PtpStatus {
        self.inner.base.status()
    }

    /// The PTP time at which frame `frame` is due: `frame × period` after the PTP epoch.
    pub fn deadline(&self, frame: u64) -> Timestamp {
        self.inner.rate.timestamp_at(frame)
    }

    /// Waits until PTP time reaches `deadline`, re-reading the source at least every
    /// [`MAX_WAIT_CHUNK`]. Returns the reading that passed it, `Err(())` if fired, or `Ok(None)`
    /// if time stepped back so far that the deadline is more than `limit` away.
    fn wait_for(
        &self,
        deadline: u64,
        limit: u64,
        interrupt: &Interrupt,
    ) -> std::result::Result<Option<(u64, Instant)>, ()> {
        loop {
            let (ptp, now) = self.inner.base.sample();
            if ptp >= deadline {
                return Ok(Some((ptp, now)));
            }
            let remaining = deadline - ptp;
            if remaining > limit {
                return Ok(None);
            }
            let chunk = Duration::from_nanos(remaining).min(MAX_WAIT_CHUNK);
            if interrupt.wait_until(now + chunk) {
                return Err(());
            }
        }
    }
}

impl Clock for PtpClock {
    fn id(&self) -> ClockId {
        self.inner.id
    }

    fn rate(&self) -> Rate {
        self.inner.rate
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(self.inner.base.sample().0)
    }

    fn describe(&self) -> String {
        format!("ptp {} ({})", self.inner.rate, self.inner.base.describe())
    }

    fn next_tick(&self, previous: Option<&Tick>, interrupt: &Interrupt) -> Option<Tick> {
        let rate = self.inner.rate;
        let period = u64::try_from(rate.nanos_at(1)).unwrap_or(u64::MAX).max(1);
        // Frames in one second: a forward jump past this is a step of the time line, not lateness.
        let step_frames = u64::from(rate.num().div_ceil(rate.den())).max(2);
        let mut previous = previous.map(|tick| tick.frame_number);
        loop {
            if interrupt.is_fired() {
                return None;
            }
            let (ptp, _) = self.inner.base.sample();
            let due_now = rate.frame_at(u128::from(ptp));
            let (frame, skipped) = match previous {
                // Time stepped back: the previous frame lies in the future; re-align.
                Some(prev) if prev > due_now + 1 => (due_now + 1, 0),
                // Time stepped forward by more than a second: deliver the present, never a burst.
                Some(prev) if due_now > prev + step_frames => (due_now, due_now - prev - 1),
                _ => next_frame(previous, Some(due_now), self.inner.late_policy),
            };
            let deadline = u64::try_from(rate.nanos_at(frame)).unwrap_or(u64::MAX);
            let limit = deadline.saturating_sub(ptp).max(period) + period;
            match self.wait_for(deadline, limit, interrupt) {
                Err(()) => return None,
                // Stepped back while waiting: start over from the new present.
                Ok(None) => {
                    previous = None;
                    continue;
                }
                Ok(Some((ptp_now, now))) => {
                    let lateness = Duration::from_nanos(ptp_now - deadline);
                    return Some(Tick {
                        frame_number: frame,
                        timestamp: Timestamp::from_nanos(deadline),
                        instant: now.checked_sub(lateness).unwrap_or(now),
                        clock_id: self.inner.id,
                        rate,
                        skipped,
                        lateness,
                    });
                }
            }
        }
    }

    fn boxed_clone(&self) -> Box<dyn Clock> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_ticks_sit_on_the_epoch_grid() {
        let clock = PtpClock::new(Rate::fps(200).unwrap(), PtpSource::System).unwrap();
        let interrupt = Interrupt::new();
        let mut prev = clock.next_tick(None, &interrupt).unwrap();
        for _ in 0..10 {
            let tick = clock.next_tick(Some(&prev), &interrupt).unwrap();
            assert_eq!(tick.frame_number, prev.frame_number + 1 + tick.skipped);
            assert_eq!(tick.timestamp.as_nanos(), tick.frame_number * 5_000_000);
            assert!(clock.now() >= tick.timestamp);
            prev = tick;
        }
    }

    #[test]
    fn two_clocks_of_one_rate_tick_the_same_frames() {
        let rate = Rate::new(30000, 1001).unwrap();
        let a = PtpClock::new(rate, PtpSource::System).unwrap();
        let b = PtpClock::new(rate, PtpSource::System).unwrap();
        let interrupt = Interrupt::new();
        // `a`, `b`, then `a` again, each asked for a first tick (the next frame not yet due) once
        // the one before was delivered: on one frame grid, `b`'s frame lies strictly between
        // `a`'s two, however long the machine stalls between the calls (a bound on the frames'
        // difference fails on a stall of one period, 33 ms).
        let ta = a.next_tick(None, &interrupt).unwrap();
        let tb = b.next_tick(None, &interrupt).unwrap();
        let tc = a.next_tick(None, &interrupt).unwrap();
        assert!(
            ta.frame_number < tb.frame_number && tb.frame_number < tc.frame_number,
            "{ta:?} {tb:?} {tc:?}"
        );
        // Each frame is due at the same moment on either clock.
        assert_eq!(a.deadline(tb.frame_number), tb.timestamp);
        assert_eq!(ta.timestamp, b.deadline(ta.frame_number));
        assert_eq!(tc.timestamp, b.deadline(tc.frame_number));
    }

    #[test]
    fn a_previous_tick_far_in_the_future_realigns_instead_of_stalling() {
        let clock = PtpClock::new(Rate::fps(100).unwrap(), PtpSource::System).unwrap();
        let interrupt = Interrupt::new();
        let now = clock.next_tick(None, &interrupt).unwrap();
        // As if the time line had stepped back by an hour since `future` was delivered.
        let future = Tick {
            frame_number: now.frame_number + 360_000,
            ..now
        };
        let start = Instant::now();
        let tick = clock.next_tick(Some(&future), &interrupt).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(tick.frame_number <= now.frame_number + 100);
        // And a jump forward by an hour delivers the present at once, counting the gap.
        let past = Tick {
            frame_number: now.frame_number - 360_000,
            ..now
        };
        let tick = clock.next_tick(Some(&past), &interrupt).unwrap();
        assert!(tick.skipped >= 359_999);
    }

    #[test]
    fn interrupt_stops_a_slow_wait_at_once() {
        let clock = PtpClock::new(Rate::new(1, 10).unwrap(), PtpSource::System).unwrap();
        let interrupt = Arc::new(Interrupt::new());
        let waiter = {
            let interrupt = interrupt.clone();
            std::thread::spawn(move || clock.next_tick(None, &interrupt))
        };
        std::thread::sleep(Duration::from_millis(20));
        let start = Instant::now();
        interrupt.fire();
        assert!(waiter.join().unwrap().is_none());
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn clock_identity_displays_like_linuxptp() {
        let id = PtpClockIdentity::from_mac([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_eq!(id.to_string(), "001122.fffe.334455");
    }

    #[test]
    fn a_missing_hardware_clock_is_a_clock_error_naming_it() {
        let err = PtpClock::new(
            Rate::fps(25).unwrap(),
            PtpSource::Hardware("/dev/ptp-does-not-exist".into()),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Clock { .. }));
        assert!(err.to_string().contains("/dev/ptp-does-not-exist"), "{err}");
        // A file that is not a PTP clock opens but cannot be read as one.
        let err = PtpClock::new(
            Rate::fps(25).unwrap(),
            PtpSource::Hardware("/dev/null".into()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("/dev/null"), "{err}");
    }

    #[test]
    fn describe_names_rate_and_source() {
        let clock = PtpClock::new(Rate::fps(60).unwrap(), PtpSource::System).unwrap();
        assert_eq!(clock.describe(), "ptp 60 fps (system CLOCK_TAI)");
        assert_eq!(clock.status().source, PtpSourceKind::System);
        let other = clock.clone().with_late_policy(LatePolicy::CatchUp);
        assert_ne!(other.id(), clock.id());
        assert_eq!(clock.clone().id(), clock.id());
    }
}
