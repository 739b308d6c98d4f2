//! [`Timestamp`]: a point in a clock's own time, in nanoseconds.
//!
//! It belongs to the bottom layer (with `error`, `message`, `uri`, `stats`): messages carry it and
//! clocks produce it, and neither of those may depend on the other. It is exported as
//! `streamlib::Timestamp` and `streamlib::clock::Timestamp`.

use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_order_and_subtract() {
        let a = Timestamp::from_nanos(5);
        let b = Timestamp::from_nanos(12);
        assert!(a < b);
        assert_eq!(b.saturating_duration_since(a), Duration::from_nanos(7));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    }
}
