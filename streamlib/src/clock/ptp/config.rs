//! Settings of the in-process PTP slave.

use std::time::Duration;

use super::PtpClockIdentity;
#[allow(unused_imports)] // rustdoc links
use super::{PtpSource, PtpState};

/// Settings of the in-process PTP slave ([`PtpSource::Network`]).
///
/// Defaults follow the IEEE 1588 default profile as `ptp4l` ships it (domain 0, Announce every
/// 2 s, timeout after 3, a Delay_Req every second). For SMPTE ST 2059-2 set `domain = 127`,
/// `log_announce_interval = -2`, `log_delay_request_interval = -3`.
///
/// # Why statime
///
/// The protocol engine is the `statime` crate 0.4 (IEEE 1588-2019, Pendulum project): message
/// parsing, the best master clock algorithm, the end-to-end delay mechanism with one- and
/// two-step masters, and a Kalman-filter servo. It is sans-I/O (no async runtime), so streamlib
/// supplies the sockets, kernel timestamps, timers and a virtual clock for it to steer (the
/// time line of `ptp/timeline.rs`), and never gives it the machine's clock. A small header gate
/// of our own (`ptp/wire.rs`) rejects and counts malformed packets before statime sees them and
/// tells the lock state machine (Acquiring / Locked / Holdover / Lost, which statime does not
/// model) which messages come from the followed master. One defect of statime 0.4.0 is worked
/// around: a debug assertion that fires when a slave-only port's master goes silent (see the
/// engine's `run_bmca`; fixed upstream, pendulum-project/statime#876).
///
/// ```no_run
/// use std::time::Duration;
/// use streamlib::clock::{PtpClock, PtpNetworkConfig, PtpSource, PtpState};
/// use streamlib::Rate;
///
/// let mut config = PtpNetworkConfig::new("eth0");
/// config.domain = 127;
/// config.lost_after = Duration::from_secs(30);
/// let clock = PtpClock::new(Rate::new(60000, 1001)?, PtpSource::Network(config))?;
/// while clock.status().state != PtpState::Locked {
///     std::thread::sleep(Duration::from_millis(100));
/// }
/// let offset_nanos = clock.status().offset_nanos;
/// # Ok::<(), streamlib::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PtpNetworkConfig {
    /// Network interface to listen on, e.g. `eth0`.
    pub interface: String,
    /// PTP domain number.
    pub domain: u8,
    /// log₂ of the Announce interval in seconds expected from the master.
    pub log_announce_interval: i8,
    /// Announce intervals without an Announce before the master is dropped.
    pub announce_receipt_timeout: u8,
    /// log₂ of the interval between this slave's Delay_Req messages, in seconds.
    pub log_delay_request_interval: i8,
    /// This slave's clock identity; by default the interface's MAC address with two bytes in
    /// the middle that differ between processes and between slaves of one process.
    pub clock_identity: Option<PtpClockIdentity>,
    /// Offset bound for [`PtpState::Locked`].
    pub lock_threshold: Duration,
    /// Consecutive estimates within `lock_threshold` needed to lock.
    pub lock_samples: u32,
    /// Sync intervals without a Sync before [`PtpState::Holdover`].
    pub holdover_after_syncs: u32,
    /// Time without a Sync before [`PtpState::Lost`].
    pub lost_after: Duration,
}

impl PtpNetworkConfig {
    /// Defaults for `interface` (see the type's documentation).
    pub fn new(interface: impl Into<String>) -> PtpNetworkConfig {
        PtpNetworkConfig {
            interface: interface.into(),
            domain: 0,
            log_announce_interval: 1,
            announce_receipt_timeout: 3,
            log_delay_request_interval: 0,
            clock_identity: None,
            lock_threshold: Duration::from_micros(20),
            lock_samples: 8,
            holdover_after_syncs: 6,
            lost_after: Duration::from_secs(60),
        }
    }

    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        let intervals = [
            ("log_announce_interval", self.log_announce_interval),
            (
                "log_delay_request_interval",
                self.log_delay_request_interval,
            ),
        ];
        for (name, value) in intervals {
            if !(-7..=6).contains(&value) {
                return Err(format!("{name} {value} is outside [-7, 6]"));
            }
        }
        if self.announce_receipt_timeout < 2 {
            return Err(format!(
                "announce_receipt_timeout {} must be at least 2",
                self.announce_receipt_timeout
            ));
        }
        if self.lock_samples == 0 || self.holdover_after_syncs == 0 {
            return Err("lock_samples and holdover_after_syncs must be at least 1".to_string());
        }
        if self.lost_after.is_zero() {
            return Err("lost_after must not be zero".to_string());
        }
        Ok(())
    }
}
