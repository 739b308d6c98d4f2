//! The in-process slave's private time line: PTP time as a frequency-adjusted affine map of
//! this machine's `CLOCK_MONOTONIC`, `ptp = base_ptp + (mono − base_mono) × (1 + ppm·10⁻⁶)`.
//!
//! statime's servo steers it through [`EngineClock`] (steps over 1 ms, frequency otherwise);
//! the machine's clocks are only read.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use statime::config::TimePropertiesDS;
use statime::time::Time;

use super::{PtpSourceKind, PtpState, PtpStatus};
use crate::clock::sys::monotonic_ns;

/// The private PTP time line: a frequency-adjusted affine map from `CLOCK_MONOTONIC`.
#[derive(Clone, Copy, Debug)]
pub(super) struct TimeLine {
    pub(super) base_mono: u64,
    pub(super) base_ptp: i128,
    pub(super) ppm: f64,
}

impl TimeLine {
    pub(super) fn ptp_at(&self, mono: u64) -> i128 {
        let elapsed = i128::from(mono) - i128::from(self.base_mono);
        self.base_ptp + elapsed + (elapsed as f64 * self.ppm * 1e-6).round() as i128
    }

    pub(super) fn rebase(&mut self, mono: u64) {
        self.base_ptp = self.ptp_at(mono);
        self.base_mono = mono;
    }
}

/// What the engine thread publishes.
#[derive(Debug)]
pub(super) struct Snapshot {
    pub(super) status: PtpStatus,
    pub(super) last_sync_mono: Option<u64>,
}

/// State shared by the engine thread, statime's clock handle and the ticking side.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) interface: String,
    pub(super) timeline: Mutex<TimeLine>,
    pub(super) snapshot: Mutex<Snapshot>,
    pub(super) steps: AtomicU64,
    pub(super) ptp_timescale: AtomicBool,
}

impl Shared {
    /// The state of an engine on `interface` that starts its time line at `base_ptp`, now:
    /// acquiring, no step yet, on the PTP timescale until an Announce says otherwise.
    pub(super) fn new(interface: String, base_ptp: i128) -> Shared {
        Shared {
            interface,
            timeline: Mutex::new(TimeLine {
                base_mono: monotonic_ns(),
                base_ptp,
                ppm: 0.0,
            }),
            snapshot: Mutex::new(Snapshot {
                status: PtpStatus::new(PtpSourceKind::Network, PtpState::Acquiring),
                last_sync_mono: None,
            }),
            steps: AtomicU64::new(0),
            ptp_timescale: AtomicBool::new(true),
        }
    }

    pub(super) fn time_at(&self, mono: u64) -> Time {
        let ptp = self.timeline.lock().ptp_at(mono);
        Time::from_nanos(u64::try_from(ptp.max(0)).unwrap_or(u64::MAX))
    }
}

/// statime's handle on the time line: it steps and slews this, never the machine's clock.
#[derive(Clone, Debug)]
pub(super) struct EngineClock(pub(super) Arc<Shared>);

impl statime::Clock for EngineClock {
    type Error = std::convert::Infallible;

    fn now(&self) -> Time {
        self.0.time_at(monotonic_ns())
    }

    fn step_clock(
        &mut self,
        offset: statime::time::Duration,
    ) -> std::result::Result<Time, Self::Error> {
        let mono = monotonic_ns();
        let nanos = offset.nanos_rounded();
        {
            let mut line = self.0.timeline.lock();
            line.rebase(mono);
            line.base_ptp += nanos;
        }
        self.0.steps.fetch_add(1, Ordering::Relaxed);
        tracing::info!(interface = %self.0.interface, step_ns = nanos as i64, "PTP time line stepped");
        Ok(self.0.time_at(mono))
    }

    fn set_frequency(&mut self, ppm: f64) -> std::result::Result<Time, Self::Error> {
        let mono = monotonic_ns();
        {
            let mut line = self.0.timeline.lock();
            line.rebase(mono);
            line.ppm = if ppm.is_finite() {
                ppm.clamp(-1000.0, 1000.0)
            } else {
                0.0
            };
        }
        Ok(self.0.time_at(mono))
    }

    fn set_properties(
        &mut self,
        properties: &TimePropertiesDS,
    ) -> std::result::Result<(), Self::Error> {
        let ptp = properties.is_ptp();
        if self.0.ptp_timescale.swap(ptp, Ordering::Relaxed) != ptp && !ptp {
            tracing::warn!(interface = %self.0.interface, "the grandmaster announces an arbitrary timescale, not PTP (TAI): ticks follow it as is");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_line_slews_and_steps_without_jumping_at_rebase() {
        let mut line = TimeLine {
            base_mono: 1_000,
            base_ptp: 5_000_000,
            ppm: 0.0,
        };
        assert_eq!(line.ptp_at(2_000), 5_001_000);
        line.rebase(2_000);
        line.ppm = 100.0;
        assert_eq!(line.ptp_at(2_000), 5_001_000);
        // 1 s later at +100 ppm: 100 µs gained.
        assert_eq!(
            line.ptp_at(1_000_002_000),
            5_001_000 + 1_000_000_000 + 100_000
        );
    }

    #[test]
    fn engine_clock_steps_and_counts() {
        let shared = Arc::new(Shared::new("test".into(), 0));
        let mut clock = EngineClock(shared.clone());
        use statime::Clock as _;
        let before = clock.now();
        let after = clock
            .step_clock(statime::time::Duration::from_secs(37))
            .unwrap();
        assert!(after.secs() >= before.secs() + 37);
        assert_eq!(shared.steps.load(Ordering::Relaxed), 1);
        clock.set_frequency(f64::NAN).unwrap();
        assert_eq!(shared.timeline.lock().ppm, 0.0);
        clock.set_frequency(1e9).unwrap();
        assert_eq!(shared.timeline.lock().ppm, 1000.0);
    }
}
