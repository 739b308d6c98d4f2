//! The lock state machine of the in-process slave: Acquiring → Locked → Holdover → Lost.
//!
//! Pure logic on monotonic nanoseconds, so every transition is tested without a network:
//!
//! - **Acquiring → Locked**: `samples` consecutive offset estimates within `threshold` while the
//!   port follows a master.
//! - **Locked → Acquiring**: 3 consecutive estimates beyond 4 × `threshold` (hysteresis), or a
//!   step of the time line.
//! - **any → Holdover**: no Sync from the master for `holdover_after_syncs` Sync intervals (the
//!   interval the master announces in its Sync headers), once an estimate exists.
//! - **Holdover → Lost**: no Sync for `lost_after`.
//! - **Holdover / Lost → Acquiring**: Syncs again.

use std::time::Duration;

use super::PtpState;

/// Consecutive out-of-bound estimates that unlock a locked clock.
const UNLOCK_SAMPLES: u32 = 3;
/// An unlock needs estimates beyond this multiple of the lock threshold.
const UNLOCK_FACTOR: u64 = 4;

#[derive(Clone, Copy, Debug)]
pub(super) struct LockConfig {
    pub(super) threshold: Duration,
    pub(super) samples: u32,
    pub(super) holdover_after_syncs: u32,
    pub(super) lost_after: Duration,
}

/// A state change, for logging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Transition {
    pub(super) from: PtpState,
    pub(super) to: PtpState,
}

#[derive(Debug)]
pub(super) struct LockTracker {
    config: LockConfig,
    state: PtpState,
    in_bound: u32,
    out_of_bound: u32,
    has_estimate: bool,
    last_sync: Option<u64>,
    sync_interval_ns: u64,
}

impl LockTracker {
    pub(super) fn new(config: LockConfig) -> LockTracker {
        LockTracker {
            config,
            state: PtpState::Acquiring,
            in_bound: 0,
            out_of_bound: 0,
            has_estimate: false,
            last_sync: None,
            sync_interval_ns: 1_000_000_000,
        }
    }

    pub(super) fn state(&self) -> PtpState {
        self.state
    }

    pub(super) fn last_sync(&self) -> Option<u64> {
        self.last_sync
    }

    fn go(&mut self, to: PtpState) -> Option<Transition> {
        let from = self.state;
        self.in_bound = 0;
        self.out_of_bound = 0;
        if from == to {
            return None;
        }
        self.state = to;
        Some(Transition { from, to })
    }

    /// A Sync from the followed master arrived at `now`, announcing `log_interval`.
    pub(super) fn on_sync(&mut self, now: u64, log_interval: i8) -> Option<Transition> {
        self.last_sync = Some(now);
        // 0x7F means "not specified" (unicast); keep what we had. Clamp to sane intervals.
        if log_interval != 0x7f {
            let log = log_interval.clamp(-7, 6);
            self.sync_interval_ns = if log >= 0 {
                1_000_000_000 << log
            } else {
                1_000_000_000 >> -log
            };
        }
        match self.state {
            PtpState::Holdover | PtpState::Lost => self.go(PtpState::Acquiring),
            _ => None,
        }
    }

    /// A new offset estimate (local − master) while following a master.
    pub(super) fn on_estimate(&mut self, offset_nanos: i64) -> Option<Transition> {
        self.has_estimate = true;
        let magnitude = offset_nanos.unsigned_abs();
        let threshold = u64::try_from(self.config.threshold.as_nanos()).unwrap_or(u64::MAX);
        match self.state {
            PtpState::Acquiring => {
                if magnitude <= threshold {
                    self.in_bound += 1;
                    if self.in_bound >= self.config.samples {
                        return self.go(PtpState::Locked);
                    }
                } else {
                    self.in_bound = 0;
                }
                None
            }
            PtpState::Locked => {
                if magnitude > threshold.saturating_mul(UNLOCK_FACTOR) {
                    self.out_of_bound += 1;
                    if self.out_of_bound >= UNLOCK_SAMPLES {
                        return self.go(PtpState::Acquiring);
                    }
                } else {
                    self.out_of_bound = 0;
                }
                None
            }
            PtpState::Holdover | PtpState::Lost => None,
        }
    }

    /// The time line was stepped: whatever lock there was is void.
    pub(super) fn on_step(&mut self) -> Option<Transition> {
        match self.state {
            PtpState::Locked => self.go(PtpState::Acquiring),
            _ => {
                self.in_bound = 0;
                None
            }
        }
    }

    /// Time passes: checks the holdover and lost timeouts.
    pub(super) fn on_time(&mut self, now: u64) -> Option<Transition> {
        let last = self.last_sync?;
        if !self.has_estimate {
            return None;
        }
        let silent = now.saturating_sub(last);
        let lost = u64::try_from(self.config.lost_after.as_nanos()).unwrap_or(u64::MAX);
        let holdover = self
            .sync_interval_ns
            .saturating_mul(u64::from(self.config.holdover_after_syncs.max(1)));
        match self.state {
            PtpState::Acquiring | PtpState::Locked if silent >= holdover => {
                self.go(PtpState::Holdover)
            }
            PtpState::Holdover if silent >= lost => self.go(PtpState::Lost),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn tracker() -> LockTracker {
        LockTracker::new(LockConfig {
            threshold: Duration::from_micros(20),
            samples: 4,
            holdover_after_syncs: 4,
            lost_after: Duration::from_secs(10),
        })
    }

    #[test]
    fn locks_after_consecutive_good_estimates_only() {
        let mut t = tracker();
        for offset in [5_000, -3_000, 90_000, 1_000, 2_000, -19_000] {
            assert_eq!(t.on_estimate(offset), None);
        }
        assert_eq!(t.state(), PtpState::Acquiring);
        assert_eq!(
            t.on_estimate(0),
            Some(Transition {
                from: PtpState::Acquiring,
                to: PtpState::Locked
            })
        );
    }

    #[test]
    fn unlocks_with_hysteresis_and_on_a_step() {
        let mut t = tracker();
        (0..4).for_each(|_| {
            t.on_estimate(0);
        });
        assert_eq!(t.state(), PtpState::Locked);
        // 60 µs is beyond the lock threshold but within the 80 µs unlock bound.
        (0..10).for_each(|_| assert_eq!(t.on_estimate(60_000), None));
        assert_eq!(t.on_estimate(100_000), None);
        assert_eq!(t.on_estimate(100_000), None);
        assert_eq!(
            t.on_estimate(-100_000).map(|tr| tr.to),
            Some(PtpState::Acquiring)
        );
        (0..4).for_each(|_| {
            t.on_estimate(0);
        });
        assert_eq!(t.on_step().map(|tr| tr.to), Some(PtpState::Acquiring));
    }

    #[test]
    fn silence_means_holdover_then_lost_then_reacquire() {
        let mut t = tracker();
        // No timeout before any Sync or estimate.
        assert_eq!(t.on_time(100_000 * MS), None);
        t.on_sync(0, -3); // 125 ms interval: holdover after 500 ms
        (0..4).for_each(|_| {
            t.on_estimate(0);
        });
        assert_eq!(t.on_time(499 * MS), None);
        assert_eq!(
            t.on_time(500 * MS).map(|tr| tr.to),
            Some(PtpState::Holdover)
        );
        assert_eq!(t.on_estimate(0), None, "estimates do not end holdover");
        assert_eq!(t.on_time(9_999 * MS), None);
        assert_eq!(t.on_time(10_000 * MS).map(|tr| tr.to), Some(PtpState::Lost));
        assert_eq!(t.on_time(20_000 * MS), None);
        assert_eq!(
            t.on_sync(20_001 * MS, -3).map(|tr| tr.to),
            Some(PtpState::Acquiring)
        );
        assert_eq!(t.last_sync(), Some(20_001 * MS));
    }

    #[test]
    fn unspecified_and_absurd_intervals_are_tolerated() {
        let mut t = tracker();
        t.on_sync(0, 0x7f); // keeps the 1 s default
        t.on_estimate(0);
        assert_eq!(t.on_time(3_999 * MS), None);
        assert_eq!(
            t.on_time(4_000 * MS).map(|tr| tr.to),
            Some(PtpState::Holdover)
        );
        let mut t = tracker();
        t.on_sync(0, i8::MIN);
        t.on_estimate(0);
        assert!(t.on_time(1).is_none());
        let mut t = tracker();
        t.on_sync(0, i8::MAX - 1);
        t.on_estimate(0);
        assert!(t.on_time(u64::MAX).is_some());
    }
}
