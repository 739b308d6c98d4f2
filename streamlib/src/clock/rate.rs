//! Exact rational frame rates.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// A frame rate as an exact fraction `num / den` frames per second, e.g. `30000/1001` for NTSC.
///
/// Rates are normalised by their greatest common divisor (`Rate::new(60, 2)` is `30/1`), so two
/// equal rates compare equal. Deadlines are computed from the fraction itself ([`Rate::nanos_at`]),
/// never from a rounded period, so a clock never accumulates rounding error.
///
/// ```
/// use streamlib::Rate;
/// let ntsc = Rate::new(30000, 1001)?;
/// assert_eq!((ntsc.num(), ntsc.den()), (30000, 1001));
/// // Frame 30000 of 29.97 fps is due exactly 1001 s after frame 0.
/// assert_eq!(ntsc.nanos_at(30000), 1001 * 1_000_000_000);
/// assert!(Rate::new(0, 1).is_err());
/// # Ok::<(), streamlib::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Rate {
    num: u32,
    den: u32,
}

/// Why `num / den` is not a rate, if it is not one; shared by [`Rate::new`] and
/// [`Rate::new_const`] so the two cannot disagree.
const fn invalid_reason(num: u32, den: u32) -> Option<&'static str> {
    if den == 0 {
        Some("the denominator must not be zero")
    } else if num == 0 {
        Some("the numerator must not be zero (a clock must tick)")
    } else if (num as u64) > (den as u64) * NANOS_PER_SECOND {
        // A period under 1 ns rounds down to 0: deadlines would not advance, every tick would
        // be late and the clock would spin.
        Some("more than 1,000,000,000 frames per second: the period rounds down to 0 ns")
    } else {
        None
    }
}

const NANOS_PER_SECOND: u64 = 1_000_000_000;

impl Rate {
    /// `num / den` frames per second.
    ///
    /// # Errors
    /// [`Error::InvalidRate`] with `num`, `den` and the reason if either is zero, or if the
    /// rate is above 1,000,000,000 fps (`num > den × 10⁹`): its period would round down to
    /// 0 ns. The slowest rate, `1 / u32::MAX` (one frame every 136 years), is accepted.
    pub fn new(num: u32, den: u32) -> Result<Rate> {
        if let Some(reason) = invalid_reason(num, den) {
            return Err(Error::InvalidRate { num, den, reason });
        }
        let g = gcd(num, den);
        Ok(Rate {
            num: num / g,
            den: den / g,
        })
    }

    /// `num / den` in a constant context; `None` where [`Rate::new`] would fail.
    pub(crate) const fn new_const(num: u32, den: u32) -> Option<Rate> {
        if invalid_reason(num, den).is_some() {
            return None;
        }
        let (mut a, mut b) = (num, den);
        while b != 0 {
            let r = a % b;
            a = b;
            b = r;
        }
        Some(Rate {
            num: num / a,
            den: den / a,
        })
    }

    /// Whole frames per second: `Rate::fps(60)` is `60/1`.
    pub fn fps(frames_per_second: u32) -> Result<Rate> {
        Rate::new(frames_per_second, 1)
    }

    /// Numerator (normalised).
    pub fn num(&self) -> u32 {
        self.num
    }

    /// Denominator (normalised).
    pub fn den(&self) -> u32 {
        self.den
    }

    /// Frames per second as a float, for display.
    pub fn as_f64(&self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Nanoseconds from frame 0 to frame `frame`, exact (rounded down to the nanosecond).
    pub fn nanos_at(&self, frame: u64) -> u128 {
        u128::from(frame) * u128::from(self.den) * 1_000_000_000 / u128::from(self.num)
    }

    /// The time of frame `frame` counted from a zero time stamp (`frame × period`; far frames
    /// saturate at the largest time stamp).
    pub fn timestamp_at(&self, frame: u64) -> Timestamp {
        Timestamp::from_nanos(u64::try_from(self.nanos_at(frame)).unwrap_or(u64::MAX))
    }

    /// The last frame due at or before `nanos` after frame 0 (the inverse of
    /// [`nanos_at`](Self::nanos_at), which rounds down).
    pub fn frame_at(&self, nanos: u128) -> u64 {
        let frame = nanos * u128::from(self.num) / (u128::from(self.den) * 1_000_000_000);
        let frame = u64::try_from(frame).unwrap_or(u64::MAX);
        // `nanos_at` rounds down, so frame + 1 may already be due.
        if frame < u64::MAX && self.nanos_at(frame + 1) <= nanos {
            frame + 1
        } else {
            frame
        }
    }

    /// The period, rounded down to the nanosecond (for display and timeouts, not for deadlines).
    pub fn period(&self) -> Duration {
        let nanos = self.nanos_at(1);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.den == 1 {
            write!(f, "{} fps", self.num)
        } else {
            write!(f, "{}/{} fps", self.num, self.den)
        }
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_by_gcd() {
        let r = Rate::new(60, 2).unwrap();
        assert_eq!((r.num(), r.den()), (30, 1));
        assert_eq!(r, Rate::fps(30).unwrap());
    }

    #[test]
    fn rejects_zero_parts_naming_them() {
        let err = Rate::new(30, 0).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidRate {
                num: 30,
                den: 0,
                ..
            }
        ));
        assert!(err.to_string().contains("denominator"));
        let err = Rate::new(0, 1001).unwrap_err();
        assert!(err.to_string().contains("numerator"));
    }

    #[test]
    fn rejects_rates_whose_period_rounds_to_zero() {
        for (num, den) in [(u32::MAX, 1), (1_000_000_001, 1), (u32::MAX, 4)] {
            let err = Rate::new(num, den).unwrap_err();
            assert_eq!(
                err,
                Error::InvalidRate {
                    num,
                    den,
                    reason:
                        "more than 1,000,000,000 frames per second: the period rounds down to 0 ns",
                }
            );
            assert!(err.to_string().contains(&format!("{num}/{den}")), "{err}");
            assert!(Rate::new_const(num, den).is_none());
        }
        // The fastest accepted rates have a period of at least 1 ns.
        for (num, den) in [(1_000_000_000, 1), (u32::MAX, 5), (u32::MAX, u32::MAX)] {
            let rate = Rate::new(num, den).unwrap();
            assert!(rate.nanos_at(1) >= 1, "{rate}");
            assert_eq!(Rate::new_const(num, den), Some(rate));
        }
        assert_eq!(
            Rate::new(1, u32::MAX).unwrap().nanos_at(1),
            u128::from(u32::MAX) * 1_000_000_000
        );
    }

    #[test]
    fn deadlines_are_exact_over_long_runs() {
        let r = Rate::new(30000, 1001).unwrap();
        // 24 hours of NTSC frames: exact, no drift.
        let frames = 30000u64 * 24 * 3600 / 1001 * 1001 / 1001;
        let ns = r.nanos_at(frames);
        assert_eq!(ns, u128::from(frames) * 1001 * 1_000_000_000 / 30000);
        assert_eq!(r.frame_at(r.nanos_at(123_456)), 123_456);
    }

    #[test]
    fn frame_at_inverts_nanos_at() {
        for rate in [Rate::fps(60).unwrap(), Rate::new(48000, 1001).unwrap()] {
            for frame in [0u64, 1, 2, 59, 60, 1_000_003] {
                let t = rate.nanos_at(frame);
                assert_eq!(rate.frame_at(t), frame);
                assert_eq!(rate.frame_at(rate.nanos_at(frame + 1) - 1), frame);
            }
        }
    }

    #[test]
    fn display() {
        assert_eq!(Rate::fps(60).unwrap().to_string(), "60 fps");
        assert_eq!(
            Rate::new(30000, 1001).unwrap().to_string(),
            "30000/1001 fps"
        );
    }
}
