//! Reading PTP time: a PTP hardware clock, the system's `CLOCK_TAI`, or the in-process slave.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use super::{PtpSource, PtpSourceKind, PtpState, PtpStatus};
use crate::clock::sys::read_clock;
use crate::error::{Error, Result};

/// The source behind a `PtpClock`, shared by its clones.
#[derive(Debug)]
pub(super) enum TimeBase {
    Hardware(Phc),
    System(SystemTai),
    #[cfg(feature = "ptp")]
    Network(super::net::Engine),
}

impl TimeBase {
    pub(super) fn open(source: PtpSource) -> Result<TimeBase> {
        match source {
            PtpSource::Hardware(path) => {
                Ok(TimeBase::Hardware(Phc::open(&path).map_err(|reason| {
                    Error::Clock {
                        clock: format!("ptp {}", path.display()),
                        reason,
                    }
                })?))
            }
            PtpSource::System => Ok(TimeBase::System(SystemTai::new())),
            #[cfg(feature = "ptp")]
            PtpSource::Network(config) => Ok(TimeBase::Network(super::net::Engine::start(config)?)),
        }
    }

    /// PTP time in nanoseconds, and the monotonic instant it was read at.
    pub(super) fn sample(&self) -> (u64, Instant) {
        match self {
            TimeBase::Hardware(phc) => phc.sample(),
            TimeBase::System(system) => system.sample(),
            #[cfg(feature = "ptp")]
            TimeBase::Network(engine) => engine.sample(),
        }
    }

    pub(super) fn status(&self) -> PtpStatus {
        match self {
            TimeBase::Hardware(phc) => {
                let mut status = PtpStatus::new(PtpSourceKind::Hardware, PtpState::Locked);
                status.read_errors = phc.fallback.errors();
                status
            }
            TimeBase::System(_) => {
                let state = if SystemTai::kernel_synchronised() {
                    PtpState::Locked
                } else {
                    PtpState::Acquiring
                };
                PtpStatus::new(PtpSourceKind::System, state)
            }
            #[cfg(feature = "ptp")]
            TimeBase::Network(engine) => engine.status(),
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            TimeBase::Hardware(phc) => format!("hardware clock {}", phc.path.display()),
            TimeBase::System(_) => "system CLOCK_TAI".to_string(),
            #[cfg(feature = "ptp")]
            TimeBase::Network(engine) => engine.describe(),
        }
    }
}

/// The dynamic POSIX clock id of an open PTP clock device (the kernel's `FD_TO_CLOCKID`).
pub(super) fn fd_to_clockid(fd: i32) -> libc::clockid_t {
    ((!(fd as u32) << 3) | 3) as libc::clockid_t
}

/// The last good reading of a source, extrapolated on the monotonic clock when a read fails.
#[derive(Debug)]
pub(super) struct Fallback {
    last: Mutex<(u64, Instant)>,
    errors: AtomicU64,
    warned: AtomicBool,
}

impl Fallback {
    fn new(first: (u64, Instant)) -> Fallback {
        Fallback {
            last: Mutex::new(first),
            errors: AtomicU64::new(0),
            warned: AtomicBool::new(false),
        }
    }

    fn good(&self, reading: (u64, Instant)) -> (u64, Instant) {
        *self.last.lock() = reading;
        reading
    }

    fn failed(&self, what: &str, err: &std::io::Error) -> (u64, Instant) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(source = what, error = %err, "reading the PTP time source failed; extrapolating its last reading");
        }
        let (ptp, at) = *self.last.lock();
        let now = Instant::now();
        let elapsed =
            u64::try_from(now.saturating_duration_since(at).as_nanos()).unwrap_or(u64::MAX);
        (ptp.saturating_add(elapsed), now)
    }

    fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}

/// A PTP hardware clock device, read through its dynamic clock id.
#[derive(Debug)]
pub(super) struct Phc {
    path: PathBuf,
    // Keeps the descriptor (and so the clock id) valid.
    _file: File,
    clock: libc::clockid_t,
    fallback: Fallback,
}

impl Phc {
    pub(super) fn open(path: &Path) -> std::result::Result<Phc, String> {
        let file =
            File::open(path).map_err(|err| format!("cannot open {}: {err}", path.display()))?;
        let clock = fd_to_clockid(file.as_raw_fd());
        let first = read_clock(clock).map_err(|err| {
            format!(
                "{} is not a readable PTP hardware clock: {err}",
                path.display()
            )
        })?;
        Ok(Phc {
            path: path.to_path_buf(),
            _file: file,
            clock,
            fallback: Fallback::new((first, Instant::now())),
        })
    }

    fn sample(&self) -> (u64, Instant) {
        // Bracket the device read (a PCIe round trip) with monotonic reads; take the middle.
        let before = Instant::now();
        let read = read_clock(self.clock);
        let after = Instant::now();
        match read {
            Ok(ptp) => self.fallback.good((ptp, before + (after - before) / 2)),
            Err(err) => self.fallback.failed("hardware clock", &err),
        }
    }
}

/// The system clock read as `CLOCK_TAI`.
#[derive(Debug)]
pub(super) struct SystemTai {
    fallback: Fallback,
}

impl SystemTai {
    fn new() -> SystemTai {
        let first = read_clock(libc::CLOCK_TAI).unwrap_or(0);
        let (offset, synced) = Self::kernel_state();
        if synced && offset == 0 {
            tracing::warn!("the kernel's TAI offset is 0: CLOCK_TAI reads UTC (phc2sys sets it from ptp4l's currentUtcOffset)");
        }
        SystemTai {
            fallback: Fallback::new((first, Instant::now())),
        }
    }

    fn sample(&self) -> (u64, Instant) {
        match read_clock(libc::CLOCK_TAI) {
            Ok(ptp) => self.fallback.good((ptp, Instant::now())),
            Err(err) => self.fallback.failed("CLOCK_TAI", &err),
        }
    }

    /// Whether the kernel reports the system clock synchronised (`STA_UNSYNC` clear, as phc2sys
    /// and NTP daemons leave it).
    pub(super) fn kernel_synchronised() -> bool {
        Self::kernel_state().1
    }

    /// The kernel's TAI − UTC offset in seconds, and whether the clock is synchronised.
    fn kernel_state() -> (i32, bool) {
        // SAFETY: an all-zero `timex` is a valid value (modes = 0: read only).
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        // SAFETY: `tx` is a valid, writable timex; with `modes == 0` adjtimex only reads the
        // kernel's state into it and changes nothing.
        let state = unsafe { libc::adjtimex(&mut tx) };
        let synced = state >= 0 && state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0;
        (tx.tai, synced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_to_clockid_matches_the_kernel_macro() {
        // ((~fd) << 3) | 3 in 32-bit two's complement, e.g. fd 3 -> -29.
        assert_eq!(fd_to_clockid(3), -29);
        assert_eq!(fd_to_clockid(0), -5);
        assert_eq!(fd_to_clockid(10) & 7, 3);
    }

    #[test]
    fn system_tai_reads_near_realtime() {
        let tai = read_clock(libc::CLOCK_TAI).unwrap();
        let utc = read_clock(libc::CLOCK_REALTIME).unwrap();
        // TAI − UTC is 0 (offset unset) or 37 s (since 2017), never more than a minute.
        let difference = i128::from(tai) - i128::from(utc);
        assert!(
            (-1_000_000..60_000_000_000).contains(&difference),
            "{difference}"
        );
    }

    #[test]
    fn fallback_extrapolates_the_last_reading() {
        let start = Instant::now();
        let fallback = Fallback::new((1_000, start));
        let err = std::io::Error::from_raw_os_error(libc::ENODEV);
        let (ptp, at) = fallback.failed("test", &err);
        let elapsed = at.duration_since(start).as_nanos() as u64;
        assert_eq!(ptp, 1_000 + elapsed);
        assert_eq!(fallback.errors(), 1);
    }
}
