//! The in-process PTPv2 slave (cargo feature `ptp`): statime's protocol engine on our sockets,
//! steering a private time line (`timeline.rs`) instead of the machine's clock.
//!
//! One thread per clock runs the port: it polls the event (319) and general (320) sockets and
//! statime's timers, gates every packet through the header check of `wire.rs` (malformed ones
//! are counted and dropped), hands the rest to statime, and after each message from the followed
//! master feeds the lock state machine (`lock.rs`) and publishes a [`PtpStatus`] snapshot.
//!
//! Timestamps are the kernel's software timestamps (`SO_TIMESTAMPING`): on receive when the
//! packet reached the network stack, on transmit when the driver took it (read back from the
//! socket's error queue; the time before `sendto` if the driver gives none). That is what
//! `ptp4l -S` uses: microseconds of accuracy on a quiet machine, not the nanoseconds of hardware
//! timestamping (use a PHC with `ptp4l` for that, [`PtpSource::Hardware`](super::PtpSource::Hardware)).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use statime::config::{
    AcceptAnyMaster, ClockIdentity, DelayMechanism, InstanceConfig, PortConfig, PtpMinorVersion,
    SdoId, TimePropertiesDS, TimeSource,
};
use statime::filters::{KalmanConfiguration, KalmanFilter};
use statime::observability::port::PortState;
use statime::port::{
    NoForwardedTLVs, Port, PortAction, PortActionIterator, Running, TimestampContext,
};
use statime::time::{Interval, Time};
use statime::PtpInstance;

use super::config::PtpNetworkConfig;
use super::lock::{LockConfig, LockTracker, Transition};
use super::socket::{self, Interface, PtpSocket, EVENT_PORT, GENERAL_PORT};
use super::timeline::{EngineClock, Shared};
use super::wire::{Header, MessageType, FLAG_TWO_STEP};
use super::{PtpClockIdentity, PtpState, PtpStatus};
use crate::clock::sys::{monotonic_ns, read_clock, realtime_to_monotonic};
use crate::error::{Error, Result};

/// A SplitMix64 generator: statime only needs randomness to jitter its timers.
#[derive(Debug)]
struct SplitMix(u64);

impl rand::RngCore for SplitMix {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

type SlavePort<'a> = Port<'a, Running, AcceptAnyMaster, SplitMix, EngineClock, KalmanFilter>;

/// The running slave: its thread and what it publishes. Dropping it stops the thread.
#[derive(Debug)]
pub(super) struct Engine {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How long the engine sleeps at most between looks at its stop flag and timeouts.
const MAX_POLL: Duration = Duration::from_millis(50);

impl Engine {
    pub(super) fn start(config: PtpNetworkConfig) -> Result<Engine> {
        let clock_error = |reason: String| Error::Clock {
            clock: format!("ptp {}", config.interface),
            reason,
        };
        config.validate().map_err(clock_error)?;
        let interface = Interface::resolve(&config.interface)
            .map_err(|err| clock_error(format!("unknown network interface: {err}")))?;
        let open = |port| {
            PtpSocket::open(port, &interface)
                .map_err(|err| clock_error(format!("cannot open UDP port {port}: {err}")))
        };
        let sockets = Sockets {
            event: open(EVENT_PORT)?,
            general: open(GENERAL_PORT)?,
        };
        let identity = config
            .clock_identity
            .unwrap_or_else(|| default_identity(&interface));
        let start_ptp = read_clock(libc::CLOCK_TAI).unwrap_or(0);
        let shared = Arc::new(Shared::new(interface.name.clone(), i128::from(start_ptp)));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = shared.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(format!("ptp-{}", interface.name))
                .spawn(move || run(config, identity, sockets, shared, stop))
                .map_err(|err| Error::os("spawning the PTP engine thread", err))?
        };
        tracing::info!(interface = %interface.name, identity = %identity, "PTP slave started");
        Ok(Engine {
            shared,
            stop,
            thread: Some(thread),
        })
    }

    pub(super) fn sample(&self) -> (u64, Instant) {
        let now = Instant::now();
        let mono = monotonic_ns();
        let ptp = self.shared.timeline.lock().ptp_at(mono);
        (u64::try_from(ptp.max(0)).unwrap_or(u64::MAX), now)
    }

    pub(super) fn status(&self) -> PtpStatus {
        let snapshot = self.shared.snapshot.lock();
        let mut status = snapshot.status.clone();
        status.since_last_sync = snapshot
            .last_sync_mono
            .map(|last| Duration::from_nanos(monotonic_ns().saturating_sub(last)));
        status
    }

    pub(super) fn describe(&self) -> String {
        format!("in-process slave on {}", self.shared.interface)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!(interface = %self.shared.interface, "the PTP engine thread panicked");
            }
        }
    }
}

/// The interface's MAC with two bytes in the middle that differ between processes (the pid)
/// and between slaves of one process (a counter), so that no two slaves on one host share an
/// identity (Delay_Resp messages are matched on it).
fn default_identity(interface: &Interface) -> PtpClockIdentity {
    static SLAVES: AtomicU64 = AtomicU64::new(0);
    let nth = SLAVES.fetch_add(1, Ordering::Relaxed);
    let tag =
        (u64::from(std::process::id()).wrapping_add(nth.wrapping_mul(7919)) as u16).to_be_bytes();
    match interface.mac {
        Some(m) => PtpClockIdentity([m[0], m[1], m[2], tag[0], tag[1], m[3], m[4], m[5]]),
        None => {
            let mut seed = SplitMix(monotonic_ns() ^ u64::from(std::process::id()));
            let mut bytes = [0u8; 8];
            rand::RngCore::fill_bytes(&mut seed, &mut bytes);
            PtpClockIdentity(bytes)
        }
    }
}

#[derive(Debug)]
struct Sockets {
    event: PtpSocket,
    general: PtpSocket,
}

#[derive(Debug)]
struct Timers {
    announce: Option<Instant>,
    sync: Option<Instant>,
    delay_request: Option<Instant>,
    announce_receipt: Option<Instant>,
    filter_update: Option<Instant>,
    bmca: Instant,
}

impl Timers {
    fn next(&self) -> Instant {
        [
            self.announce,
            self.sync,
            self.delay_request,
            self.announce_receipt,
            self.filter_update,
        ]
        .into_iter()
        .flatten()
        .fold(self.bmca, Instant::min)
    }
}

/// What the port asks for: packets to send, timers to arm, transmit timestamps to return.
struct Effects {
    sockets: Sockets,
    timers: Timers,
    pending: Vec<(TimestampContext, Time)>,
    shared: Arc<Shared>,
    send_errors: u64,
}

impl Effects {
    fn apply(&mut self, actions: PortActionIterator<'_>) {
        let due = |duration: Duration| Some(Instant::now() + duration);
        for action in actions {
            match action {
                PortAction::SendEvent {
                    context,
                    data,
                    link_local,
                } => {
                    let before = monotonic_ns();
                    match self.sockets.event.send(data, link_local) {
                        Ok(Some(realtime)) => {
                            let at = realtime_to_monotonic(realtime);
                            self.pending.push((context, self.shared.time_at(at)));
                        }
                        // No kernel timestamp: the moment the send began is the best guess.
                        Ok(None) => self.pending.push((context, self.shared.time_at(before))),
                        Err(err) => self.send_failed(&err),
                    }
                }
                PortAction::SendGeneral { data, link_local } => {
                    if let Err(err) = self.sockets.general.send(data, link_local) {
                        self.send_failed(&err);
                    }
                    self.sockets.general.drain_error_queue();
                }
                PortAction::ResetAnnounceTimer { duration } => self.timers.announce = due(duration),
                PortAction::ResetSyncTimer { duration } => self.timers.sync = due(duration),
                PortAction::ResetDelayRequestTimer { duration } => {
                    self.timers.delay_request = due(duration)
                }
                PortAction::ResetAnnounceReceiptTimer { duration } => {
                    self.timers.announce_receipt = due(duration)
                }
                PortAction::ResetFilterUpdateTimer { duration } => {
                    self.timers.filter_update = due(duration)
                }
                PortAction::ForwardTLV { .. } => {}
            }
        }
    }

    fn send_failed(&mut self, err: &std::io::Error) {
        self.send_errors += 1;
        if self.send_errors.is_power_of_two() {
            tracing::warn!(interface = %self.shared.interface, error = %err, count = self.send_errors, "sending a PTP packet failed");
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Event,
    General,
}

/// The slave: statime's port plus what streamlib keeps around it.
struct Slave<'a> {
    instance: &'a PtpInstance<KalmanFilter>,
    port: Option<SlavePort<'a>>,
    fx: Effects,
    tracker: LockTracker,
    stop: Arc<AtomicBool>,
    packets: u64,
    malformed: u64,
    steps_seen: u64,
    port_state: PortState,
    grandmaster: Option<PtpClockIdentity>,
    offset_nanos: Option<i64>,
    mean_path_delay: Option<Duration>,
    poll_errors: u64,
    announces_since_bmca: u32,
}

fn run(
    config: PtpNetworkConfig,
    identity: PtpClockIdentity,
    sockets: Sockets,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
) {
    let instance = PtpInstance::<KalmanFilter>::new(
        InstanceConfig {
            clock_identity: ClockIdentity(identity.0),
            priority_1: 255,
            priority_2: 255,
            domain_number: config.domain,
            sdo_id: SdoId::default(),
            slave_only: true,
            path_trace: false,
        },
        TimePropertiesDS::new_arbitrary_time(false, false, TimeSource::InternalOscillator),
    );
    let port_config = PortConfig {
        acceptable_master_list: AcceptAnyMaster,
        delay_mechanism: DelayMechanism::E2E {
            interval: Interval::from_log_2(config.log_delay_request_interval),
        },
        announce_interval: Interval::from_log_2(config.log_announce_interval),
        announce_receipt_timeout: config.announce_receipt_timeout,
        sync_interval: Interval::from_log_2(0),
        master_only: false,
        delay_asymmetry: statime::time::Duration::ZERO,
        minor_ptp_version: PtpMinorVersion::One,
    };
    let seed = monotonic_ns() ^ u64::from_le_bytes(identity.0);
    let port = instance.add_port(
        port_config,
        KalmanConfiguration::default(),
        EngineClock(shared.clone()),
        SplitMix(seed),
    );
    let (port, actions) = port.end_bmca();
    let mut slave = Slave {
        instance: &instance,
        port: Some(port),
        fx: Effects {
            sockets,
            timers: Timers {
                announce: None,
                sync: None,
                delay_request: None,
                announce_receipt: None,
                filter_update: None,
                bmca: Instant::now() + instance.bmca_interval(),
            },
            pending: Vec::new(),
            shared,
            send_errors: 0,
        },
        tracker: LockTracker::new(LockConfig {
            threshold: config.lock_threshold,
            samples: config.lock_samples,
            holdover_after_syncs: config.holdover_after_syncs,
            lost_after: config.lost_after,
        }),
        stop,
        packets: 0,
        malformed: 0,
        steps_seen: 0,
        port_state: PortState::Listening,
        grandmaster: None,
        offset_nanos: None,
        mean_path_delay: None,
        poll_errors: 0,
        announces_since_bmca: 0,
    };
    slave.fx.apply(actions);
    slave.run();
}

impl Slave<'_> {
    fn run(&mut self) {
        let mut buf = [0u8; 2048];
        while !self.stop.load(Ordering::Acquire) {
            self.fire_timers();
            self.observe();
            let timeout = self
                .fx
                .timers
                .next()
                .saturating_duration_since(Instant::now())
                .min(MAX_POLL);
            let fds = [self.fx.sockets.event.fd(), self.fx.sockets.general.fd()];
            match socket::poll_readable(fds, timeout) {
                Ok([event, general]) => {
                    if event {
                        self.receive(Channel::Event, &mut buf);
                    }
                    if general {
                        self.receive(Channel::General, &mut buf);
                    }
                }
                Err(err) => {
                    self.poll_errors += 1;
                    if self.poll_errors.is_power_of_two() {
                        tracing::warn!(interface = %self.fx.shared.interface, error = %err, "poll on the PTP sockets failed");
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        tracing::info!(interface = %self.fx.shared.interface, "PTP slave stopped");
    }

    /// Hands statime the transmit timestamps of what it just sent.
    fn drain(&mut self) {
        while let Some((context, timestamp)) = self.fx.pending.pop() {
            if let Some(port) = self.port.as_mut() {
                let actions = port.handle_send_timestamp(context, timestamp);
                self.fx.apply(actions);
            }
        }
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        let expired = |timer: &mut Option<Instant>| match *timer {
            Some(at) if at <= now => {
                *timer = None;
                true
            }
            _ => false,
        };
        if let Some(port) = self.port.as_mut() {
            let timers = &mut self.fx.timers;
            let actions = if expired(&mut timers.announce) {
                Some(port.handle_announce_timer(&mut NoForwardedTLVs))
            } else if expired(&mut timers.sync) {
                Some(port.handle_sync_timer())
            } else if expired(&mut timers.delay_request) {
                Some(port.handle_delay_request_timer())
            } else if expired(&mut timers.announce_receipt) {
                Some(port.handle_announce_receipt_timer())
            } else if expired(&mut timers.filter_update) {
                Some(port.handle_filter_update_timer())
            } else {
                None
            };
            if let Some(actions) = actions {
                self.fx.apply(actions);
            }
        }
        self.drain();
        if self.fx.timers.bmca <= now {
            // Only when a master announced itself since the last run: see `run_bmca`.
            if self.announces_since_bmca > 0 {
                self.announces_since_bmca = 0;
                self.run_bmca();
            }
            self.fx.timers.bmca = now + self.instance.bmca_interval();
        }
    }

    /// Runs statime's best master clock algorithm.
    ///
    /// statime 0.4.0 carries a debug assertion that a slave-only port is never recommended the
    /// master state, yet recommends it when the followed master's Announces age out while the
    /// port is still a slave (fixed upstream after 0.4.0: pendulum-project/statime#876; release
    /// builds are unaffected). The engine therefore runs the algorithm only when an Announce
    /// arrived since the previous run — a silent master is then dropped by the announce receipt
    /// timeout, which moves a slave-only port to listening without that path — and contains a
    /// panic of the algorithm should the assertion still fire, so that the clock keeps its
    /// engine: the port is left listening, which is the state the standard wants.
    fn run_bmca(&mut self) {
        let Some(port) = self.port.take() else {
            return;
        };
        let mut in_bmca = port.start_bmca();
        let instance = self.instance;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            instance.bmca(&mut [&mut in_bmca]);
        }));
        if outcome.is_err() {
            tracing::error!(interface = %self.fx.shared.interface, "statime's BMCA panicked (a known debug assertion of statime 0.4.0); the port stays listening");
        }
        let (port, actions) = in_bmca.end_bmca();
        self.port = Some(port);
        self.fx.apply(actions);
    }

    fn receive(&mut self, channel: Channel, buf: &mut [u8]) {
        let socket = match channel {
            Channel::Event => &self.fx.sockets.event,
            Channel::General => &self.fx.sockets.general,
        };
        // A transmit timestamp that came too late for its send would keep poll() ready.
        socket.drain_error_queue();
        let received = match socket.recv(buf) {
            Ok(Some(received)) => received,
            Ok(None) => return,
            Err(err) => {
                tracing::debug!(interface = %self.fx.shared.interface, error = %err, "PTP receive failed");
                return;
            }
        };
        let mono_rx = match received.realtime_ns {
            Some(rx) => realtime_to_monotonic(rx),
            None => monotonic_ns(),
        };
        self.packets += 1;
        let data = &buf[..received.len.min(buf.len())];
        let header = match Header::parse(data) {
            Ok(header) => header,
            Err(why) => {
                self.malformed += 1;
                tracing::debug!(interface = %self.fx.shared.interface, %why, "malformed PTP packet ignored");
                return;
            }
        };
        if header.message_type == MessageType::Announce {
            self.announces_since_bmca += 1;
        }
        let from_parent = self.is_from_parent(&header);
        let timestamp = self.fx.shared.time_at(mono_rx);
        if let Some(port) = self.port.as_mut() {
            let actions = match channel {
                Channel::Event => port.handle_event_receive(data, timestamp),
                Channel::General => port.handle_general_receive(data),
            };
            self.fx.apply(actions);
        }
        self.drain();
        if from_parent {
            self.on_parent_message(&header, mono_rx);
        }
    }

    fn is_from_parent(&self, header: &Header) -> bool {
        matches!(self.port_state, PortState::Slave | PortState::Uncalibrated)
            && self
                .instance
                .parent_ds()
                .parent_port_identity
                .clock_identity
                .0
                == header.source_clock
    }

    fn on_parent_message(&mut self, header: &Header, mono_rx: u64) {
        if header.message_type == MessageType::Sync {
            let transition = self.tracker.on_sync(mono_rx, header.log_message_interval);
            self.log(transition);
        }
        let steps = self.fx.shared.steps.load(Ordering::Relaxed);
        if steps != self.steps_seen {
            self.steps_seen = steps;
            let transition = self.tracker.on_step();
            self.log(transition);
        }
        let completes_measurement = match header.message_type {
            MessageType::Sync => header.flags & FLAG_TWO_STEP == 0,
            MessageType::FollowUp => true,
            _ => false,
        };
        if completes_measurement {
            if let Some(estimate) = self
                .port
                .as_ref()
                .and_then(|p| p.port_current_ds_contribution())
            {
                let offset =
                    i64::try_from(estimate.offset_from_master.nanos_rounded()).unwrap_or(i64::MAX);
                self.offset_nanos = Some(offset);
                let delay = estimate.mean_delay.nanos_rounded().max(0);
                self.mean_path_delay = Some(Duration::from_nanos(
                    u64::try_from(delay).unwrap_or(u64::MAX),
                ));
                let transition = self.tracker.on_estimate(offset);
                self.log(transition);
            }
        }
    }

    /// Tracks the port state and timeouts, and publishes a snapshot.
    fn observe(&mut self) {
        if let Some(port) = self.port.as_ref() {
            let state = port.port_ds().port_state;
            if state != self.port_state {
                tracing::debug!(interface = %self.fx.shared.interface, from = ?self.port_state, to = ?state, "PTP port state");
                self.port_state = state;
            }
            if state == PortState::Slave {
                let gm = PtpClockIdentity(self.instance.parent_ds().grandmaster_identity.0);
                if self.grandmaster != Some(gm) {
                    tracing::info!(interface = %self.fx.shared.interface, grandmaster = %gm, "following PTP grandmaster");
                    self.grandmaster = Some(gm);
                }
            }
        }
        let transition = self.tracker.on_time(monotonic_ns());
        self.log(transition);
        let frequency_ppm = self.fx.shared.timeline.lock().ppm;
        let mut snapshot = self.fx.shared.snapshot.lock();
        let status = &mut snapshot.status;
        status.state = self.tracker.state();
        status.offset_nanos = self.offset_nanos;
        status.mean_path_delay = self.mean_path_delay;
        status.grandmaster = self.grandmaster;
        status.frequency_ppm = frequency_ppm;
        status.packets = self.packets;
        status.malformed_packets = self.malformed;
        status.steps = self.fx.shared.steps.load(Ordering::Relaxed);
        snapshot.last_sync_mono = self.tracker.last_sync();
    }

    fn log(&self, transition: Option<Transition>) {
        let Some(Transition { from, to }) = transition else {
            return;
        };
        let interface = &self.fx.shared.interface;
        let grandmaster = self
            .grandmaster
            .map(|gm| gm.to_string())
            .unwrap_or_default();
        match to {
            PtpState::Locked | PtpState::Acquiring => tracing::info!(
                %interface, %from, %to, %grandmaster, offset_ns = self.offset_nanos,
                "PTP state changed"
            ),
            PtpState::Holdover | PtpState::Lost => tracing::warn!(
                %interface, %from, %to, %grandmaster, offset_ns = self.offset_nanos,
                "PTP state changed: the grandmaster is silent; ticking on the last offset and frequency"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ptp::wire::tests::{message, TYPES};
    use proptest::prelude::*;

    #[test]
    fn invalid_configs_are_clock_errors() {
        let mut config = PtpNetworkConfig::new("lo");
        config.log_announce_interval = 9;
        let err = Engine::start(config).unwrap_err();
        assert!(err.to_string().contains("log_announce_interval"), "{err}");
        let err = Engine::start(PtpNetworkConfig::new("no-such-if0")).unwrap_err();
        assert!(err.to_string().contains("no-such-if0"), "{err}");
    }

    /// Feeds statime's real port (with our clock) whatever bytes proptest makes, through the
    /// same gate the engine uses: nothing may panic.
    fn fuzz_port(packets: &[(bool, Vec<u8>)]) {
        let shared = Arc::new(Shared::new("fuzz".into(), 1_700_000_000_000_000_000));
        let instance = PtpInstance::<KalmanFilter>::new(
            InstanceConfig {
                clock_identity: ClockIdentity([9; 8]),
                priority_1: 255,
                priority_2: 255,
                domain_number: 0,
                sdo_id: SdoId::default(),
                slave_only: true,
                path_trace: false,
            },
            TimePropertiesDS::new_arbitrary_time(false, false, TimeSource::InternalOscillator),
        );
        let port = instance.add_port(
            PortConfig {
                acceptable_master_list: AcceptAnyMaster,
                delay_mechanism: DelayMechanism::E2E {
                    interval: Interval::from_log_2(0),
                },
                announce_interval: Interval::from_log_2(0),
                announce_receipt_timeout: 3,
                sync_interval: Interval::from_log_2(0),
                master_only: false,
                delay_asymmetry: statime::time::Duration::ZERO,
                minor_ptp_version: PtpMinorVersion::One,
            },
            KalmanConfiguration::default(),
            EngineClock(shared.clone()),
            SplitMix(1),
        );
        let (mut port, _) = port.end_bmca();
        for (event, bytes) in packets {
            if Header::parse(bytes).is_err() {
                continue;
            }
            let now = shared.time_at(monotonic_ns());
            let actions = if *event {
                port.handle_event_receive(bytes, now)
            } else {
                port.handle_general_receive(bytes)
            };
            for action in actions {
                let _ = format!("{action:?}");
            }
        }
        let mut in_bmca = port.start_bmca();
        instance.bmca(&mut [&mut in_bmca]);
        let _ = in_bmca.end_bmca();
    }

    fn packet() -> impl Strategy<Value = (bool, Vec<u8>)> {
        let mutated = (
            0usize..10,
            any::<u16>(),
            proptest::collection::vec((0usize..128, any::<u8>()), 0..8),
            0usize..40,
        )
            .prop_map(|(kind, seq, edits, extra)| {
                let kind = TYPES[kind];
                let mut bytes = message(kind, seq);
                bytes.resize(bytes.len() + extra, 0);
                for (at, value) in edits {
                    let at = at % bytes.len();
                    bytes[at] = value;
                }
                (kind.is_event(), bytes)
            });
        let random = (
            any::<bool>(),
            proptest::collection::vec(any::<u8>(), 0..120),
        );
        prop_oneof![mutated, random]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn the_engine_never_panics_on_hostile_packets(packets in proptest::collection::vec(packet(), 1..24)) {
            fuzz_port(&packets);
        }
    }
}
