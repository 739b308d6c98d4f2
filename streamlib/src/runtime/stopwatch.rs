//! Cheap time readings for timing actor runs: a tick reads the time once per actor (the end of
//! one run is the start of the next), so the reading is part of the scheduler's cost per actor.
//!
//! On x86-64 Linux whose kernel keeps time with the processor's time-stamp counter
//! (`/sys/devices/system/clocksource/clocksource0/current_clocksource` is `tsc`: the kernel found
//! it invariant and in step across cores), a reading is one `rdtsc` and a difference one
//! multiplication, where `Instant::now()` is a call into the vDSO and a difference `Timespec`
//! arithmetic (together a quarter of a tick of 10,000 empty actors). The counter's rate is
//! measured once against `Instant`, over 2 ms, at the first reading. Elsewhere a reading is an
//! `Instant`'s nanoseconds since the first.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A point in time, comparable only with readings of the same process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Reading(u64);

impl Reading {
    /// The earliest reading: a placeholder, before any real one.
    pub(crate) const ZERO: Reading = Reading(0);
}

enum Source {
    /// Time-stamp counter ticks; nanoseconds per tick in 32.32 fixed point.
    Counter { nanos_per_tick: u64 },
    /// Nanoseconds since `origin`.
    Instant { origin: Instant },
}

static SOURCE: OnceLock<Source> = OnceLock::new();

fn source() -> &'static Source {
    SOURCE.get_or_init(|| {
        counter_rate().map_or(
            Source::Instant {
                origin: Instant::now(),
            },
            |nanos_per_tick| Source::Counter { nanos_per_tick },
        )
    })
}

/// The time now.
#[inline]
pub(crate) fn now() -> Reading {
    match source() {
        Source::Counter { .. } => Reading(counter()),
        Source::Instant { origin } => Reading(origin.elapsed().as_nanos() as u64),
    }
}

impl Reading {
    /// Nanoseconds from `earlier` to `self`; 0 if `earlier` is later.
    #[inline]
    pub(crate) fn nanos_since(self, earlier: Reading) -> u64 {
        let delta = self.0.saturating_sub(earlier.0);
        match source() {
            Source::Counter { nanos_per_tick } => {
                ((u128::from(delta) * u128::from(*nanos_per_tick)) >> 32) as u64
            }
            Source::Instant { .. } => delta,
        }
    }

    /// The time from `earlier` to `self`; zero if `earlier` is later.
    #[cfg(test)]
    pub(crate) fn since(self, earlier: Reading) -> Duration {
        Duration::from_nanos(self.nanos_since(earlier))
    }
}

/// The time-stamp counter.
#[inline]
fn counter() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rdtsc` reads a register; it exists on every x86-64 processor and has no effect
    // the program can observe.
    unsafe {
        std::arch::x86_64::_rdtsc()
    }
    #[cfg(not(target_arch = "x86_64"))]
    0
}

/// Nanoseconds per counter tick (32.32 fixed point), if the kernel keeps time with the counter
/// and its measured rate is plausible (100 MHz to 10 GHz).
fn counter_rate() -> Option<u64> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    let clocksource =
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .ok()?;
    if clocksource.trim() != "tsc" {
        return None;
    }
    let (ticks0, start) = (counter(), Instant::now());
    while start.elapsed() < Duration::from_millis(2) {
        std::hint::spin_loop();
    }
    let (ticks1, nanos) = (counter(), start.elapsed().as_nanos());
    let ticks = u128::from(ticks1.checked_sub(ticks0)?);
    // 100 MHz to 10 GHz: 10 to 0.1 nanoseconds a tick.
    if ticks < nanos / 10 || ticks > nanos * 10 {
        return None;
    }
    u64::try_from((nanos << 32) / ticks).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_measure_what_instant_measures() {
        let mut tries = Vec::new();
        for _ in 0..3 {
            let (r0, i0) = (now(), Instant::now());
            std::thread::sleep(Duration::from_millis(20));
            let (r1, i1) = (now(), Instant::now());
            let (measured, expected) = (r1.since(r0), i1 - i0);
            // Each pair of readings is taken back to back; a preemption between them is the
            // only error, so allow 2 ms beside 2 %.
            if measured.abs_diff(expected) <= Duration::from_millis(2) + expected / 50 {
                return;
            }
            tries.push((measured, expected));
        }
        panic!("three intervals off by more than 2 ms + 2 % (measured, Instant): {tries:?}");
    }

    #[test]
    fn readings_never_go_back_on_one_thread_and_reversed_intervals_are_zero() {
        let mut last = now();
        for _ in 0..10_000 {
            let reading = now();
            assert!(reading >= last);
            last = reading;
        }
        let (early, late) = (now(), {
            std::thread::sleep(Duration::from_millis(1));
            now()
        });
        assert!(late.since(early) >= Duration::from_micros(500));
        assert_eq!(early.since(late), Duration::ZERO);
    }
}
