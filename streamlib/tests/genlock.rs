//! Genlock against synthetic references of known rate, jitter and drop-outs, through each kind
//! of pulse source. Bounds are generous: these run on a loaded 2-core VM.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use streamlib::clock::{FdPulses, GenlockClock, GenlockConfig, GenlockState, UdpPulses};
use streamlib::{Clock, Interrupt, Output, PortPulses, Rate, Tick, Timestamp};

/// `CLOCK_MONOTONIC` in nanoseconds (the time base of pulse times and genlock timestamps).
/// The tests here time real pulses against a real clock: run one at a time, so that they do not
/// add scheduling jitter to each other on a 2-core machine.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn sleep_until_mono(target: u64) {
    let now = monotonic_ns();
    if target > now {
        std::thread::sleep(Duration::from_nanos(target - now));
    }
}

/// Deterministic uniform noise in [-1, 1).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// A reference: pulse `k` ideally at `start + k × period`.
#[derive(Clone, Copy)]
struct Reference {
    start: u64,
    period: f64,
}

impl Reference {
    fn ideal(&self, k: u64) -> u64 {
        self.start + (k as f64 * self.period) as u64
    }

    /// Distance from `t` to the nearest ideal pulse, signed, in ns.
    fn phase_error(&self, t: u64) -> f64 {
        let position = (t as f64 - self.start as f64) / self.period;
        (position - position.round()) * self.period
    }
}

/// Runs `pulse(k, ideal_time)` at each ideal time for pulses `0..count`, except in `gaps`.
fn generator(
    reference: Reference,
    count: u64,
    gaps: Vec<std::ops::Range<u64>>,
    stop: Arc<AtomicBool>,
    mut pulse: impl FnMut(u64, u64) + Send + 'static,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for k in 0..count {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let ideal = reference.ideal(k);
            sleep_until_mono(ideal);
            if !gaps.iter().any(|gap| gap.contains(&k)) {
                pulse(k, ideal);
            }
        }
    })
}

fn wait_for(clock: &GenlockClock, state: GenlockState, within: Duration) -> Duration {
    let start = Instant::now();
    while clock.status().state != state {
        assert!(
            start.elapsed() < within,
            "no {state} within {within:?}: {:?}",
            clock.status()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

/// Ticks for `duration`, checking that ticks neither stop nor burst.
fn tick_for(clock: &GenlockClock, duration: Duration, previous: &mut Option<Tick>) -> Vec<Tick> {
    let interrupt = Interrupt::new();
    let end = Instant::now() + duration;
    let mut ticks = Vec::new();
    while Instant::now() < end {
        let tick = clock
            .next_tick(previous.as_ref(), &interrupt)
            .expect("ticks");
        if let Some(prev) = previous {
            assert_eq!(tick.frame_number, prev.frame_number + 1 + tick.skipped);
            // The first tick after a pause of the caller legitimately skips what it missed.
            let paused = ticks.is_empty();
            assert!(tick.timestamp > prev.timestamp, "time goes forward");
            assert!(
                paused || tick.skipped < 10,
                "a burst of {} skipped ticks",
                tick.skipped
            );
        }
        *previous = Some(tick);
        ticks.push(tick);
    }
    ticks
}

#[test]
fn port_reference_with_jitter_drop_outs_and_holdover() {
    let _serial = serial();
    // 50 Hz, 40 ppm fast, ±400 µs uniform jitter carried in the pulse times themselves.
    let period = 20_000_000.0 * (1.0 + 40e-6);
    let reference = Reference {
        start: monotonic_ns() + 50_000_000,
        period,
    };
    let jitter = 400_000.0;
    let pulses = Output::<Timestamp>::new();
    let source = PortPulses::connect(&pulses.to_ref()).unwrap();
    let clock = GenlockClock::new(source, GenlockConfig::new(Rate::fps(50).unwrap())).unwrap();
    assert_eq!(clock.status().state, GenlockState::Unlocked);

    let stop = Arc::new(AtomicBool::new(false));
    // A drop-out of 3 pulses at 150 (shorter than the 4-period holdover timeout), then
    // silence for 1.5 s (pulses 250..325).
    let gaps = vec![150..153, 250..325];
    let writer = {
        let mut noise = Noise(11);
        generator(reference, 700, gaps, stop.clone(), move |_, ideal| {
            let t = (ideal as f64 + jitter * noise.next()) as u64;
            pulses.write(Timestamp::from_nanos(t));
        })
    };

    let mut previous = None;
    // Ticks run (free) while unlocked, then lock within a bounded number of pulses.
    tick_for(&clock, Duration::from_millis(100), &mut previous);
    wait_for(&clock, GenlockState::Locked, Duration::from_secs(20));
    let status = clock.status();
    let lock_pulses = status.pulses;
    assert!(lock_pulses <= 80, "locked only after {lock_pulses} pulses");
    assert_eq!(status.reference_rate, Some(Rate::fps(50).unwrap()));

    // Locked: tick phase against the ideal reference stays within 1 ms (5 % of a period).
    let ticks = tick_for(&clock, Duration::from_millis(1500), &mut previous);
    let settled = &ticks[ticks.len() / 3..];
    let worst = settled
        .iter()
        .map(|t| reference.phase_error(t.timestamp.as_nanos()).abs())
        .fold(0.0, f64::max);
    let status = clock.status();
    eprintln!(
        "port: locked after {lock_pulses} pulses, worst tick phase error {:.0} µs, jitter {:?}, measured {:?} Hz",
        worst / 1000.0,
        status.jitter,
        status.measured_rate
    );
    assert!(worst < 1_000_000.0, "phase error {worst} ns");
    let measured = status.measured_rate.unwrap();
    assert!(
        (measured / (1e9 / period) - 1.0).abs() < 200e-6,
        "measured {measured} Hz"
    );

    // Through the drop-out at 150..153 and into the silence at 250: holdover, ticks go on.
    let until_silence = reference.ideal(252).saturating_sub(monotonic_ns());
    tick_for(&clock, Duration::from_nanos(until_silence), &mut previous);
    wait_for(&clock, GenlockState::Holdover, Duration::from_secs(5));
    assert!(clock.status().missed_pulses >= 3, "{:?}", clock.status());
    let holdover_ticks = tick_for(&clock, Duration::from_millis(500), &mut previous);
    assert!(
        holdover_ticks.len() >= 15,
        "{} ticks in 500 ms of holdover",
        holdover_ticks.len()
    );
    // Free-running on the last period and phase: still near the ideal grid.
    let drift = holdover_ticks
        .iter()
        .map(|t| reference.phase_error(t.timestamp.as_nanos()).abs())
        .fold(0.0, f64::max);
    assert!(drift < 2_000_000.0, "holdover drift {drift} ns");

    // The reference returns at pulse 325: relock on the same grid.
    let relock = wait_for(&clock, GenlockState::Locked, Duration::from_secs(20));
    let ticks = tick_for(&clock, Duration::from_millis(800), &mut previous);
    let worst = ticks
        .iter()
        .skip(10)
        .map(|t| reference.phase_error(t.timestamp.as_nanos()).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "port: relocked {relock:?} after holdover, worst phase error {:.0} µs",
        worst / 1000.0
    );
    assert!(worst < 1_000_000.0, "phase error after relock {worst} ns");
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
}

#[test]
fn fd_reference_detects_its_rate_and_locks() {
    let _serial = serial();
    // 100 Hz pulses written to a socket pair; the pulse time is when poll returned, so the
    // machine's scheduling latency is the jitter here.
    let reference = Reference {
        start: monotonic_ns() + 50_000_000,
        period: 10_000_000.0,
    };
    let (reader, mut writer_end) = UnixStream::pair().unwrap();
    let source = FdPulses::new(OwnedFd::from(reader)).unwrap();
    let clock = GenlockClock::new(source, GenlockConfig::new(Rate::fps(100).unwrap())).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = generator(reference, 900, vec![], stop.clone(), move |_, _| {
        let _ = writer_end.write_all(b"!");
    });
    wait_for(&clock, GenlockState::Locked, Duration::from_secs(20));
    // The rate named at lock comes from the detection's short fit; a busy host's wake-up jitter
    // can leave it off the standard rate for a moment. Locked, the clock names it again every
    // 64 pulses from a fit over 256: it must settle on 100 Hz.
    let settled = Instant::now();
    while clock.status().reference_rate != Some(Rate::fps(100).unwrap()) {
        assert!(
            settled.elapsed() < Duration::from_secs(3),
            "the reference rate did not settle on 100 Hz: {:?}",
            clock.status()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = clock.status();
    let mut previous = None;
    let ticks = tick_for(&clock, Duration::from_millis(800), &mut previous);
    let worst = ticks
        .iter()
        .map(|t| reference.phase_error(t.timestamp.as_nanos()).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "fd: locked after {} pulses, worst tick phase error {:.0} µs, jitter {:?}",
        status.pulses,
        worst / 1000.0,
        clock.status().jitter
    );
    // Wake-up latency biases every pulse late by the same small amount; allow 2 ms.
    assert!(worst < 2_000_000.0, "phase error {worst} ns");
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    // The writer is gone: end of file reads as silence, so holdover follows.
    wait_for(&clock, GenlockState::Holdover, Duration::from_secs(5));
}

#[test]
fn udp_reference_at_half_the_tick_rate() {
    let _serial = serial();
    // 25 Hz UDP pulses, ticks at 50 fps: every second tick sits on a pulse.
    let reference = Reference {
        start: monotonic_ns() + 50_000_000,
        period: 40_000_000.0,
    };
    let source = UdpPulses::bind("127.0.0.1:0").unwrap();
    let address = source.local_addr().unwrap();
    let clock = GenlockClock::new(source, GenlockConfig::new(Rate::fps(50).unwrap())).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let writer = generator(reference, 300, vec![], stop.clone(), move |k, _| {
        let _ = sender.send_to(&k.to_be_bytes(), address);
    });
    wait_for(&clock, GenlockState::Locked, Duration::from_secs(20));
    assert_eq!(clock.status().reference_rate, Some(Rate::fps(25).unwrap()));
    let mut previous = None;
    let ticks = tick_for(&clock, Duration::from_millis(800), &mut previous);
    // Half of the ticks land on pulses, the others half-way between (within 10 % of the pulse
    // period: the sender's own wake-ups are the reference's jitter on a loaded machine).
    let on_pulse = ticks
        .iter()
        .filter(|t| reference.phase_error(t.timestamp.as_nanos()).abs() < 4_000_000.0)
        .count();
    let between = ticks
        .iter()
        .filter(|t| {
            (reference.phase_error(t.timestamp.as_nanos()).abs() - 20_000_000.0).abs() < 4_000_000.0
        })
        .count();
    eprintln!(
        "udp: {} ticks, {on_pulse} on pulses, {between} half-way",
        ticks.len()
    );
    assert!(on_pulse + between == ticks.len(), "ticks off the grid");
    assert!(on_pulse * 3 >= ticks.len() && between * 3 >= ticks.len());
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
}

#[test]
fn a_reference_that_jumps_is_detected_again_without_time_going_back() {
    let _serial = serial();
    // 50 Hz; from pulse 60 on, the reference jumps by half a period (another source).
    let period = 20_000_000.0;
    let first = Reference {
        start: monotonic_ns() + 50_000_000,
        period,
    };
    let second = Reference {
        start: first.start + 10_000_000,
        period,
    };
    let pulses = Output::<Timestamp>::new();
    let source = PortPulses::connect(&pulses.to_ref()).unwrap();
    let clock = GenlockClock::new(source, GenlockConfig::new(Rate::fps(50).unwrap())).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            for k in 0..220 {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let t = if k < 60 {
                    first.ideal(k)
                } else {
                    second.ideal(k)
                };
                sleep_until_mono(t);
                pulses.write(Timestamp::from_nanos(t));
            }
        })
    };
    wait_for(&clock, GenlockState::Locked, Duration::from_secs(20));
    // Tick straight through the jump: ticks go forward and never burst.
    let mut previous = None;
    let until_after_jump = second.ideal(150).saturating_sub(monotonic_ns());
    tick_for(
        &clock,
        Duration::from_nanos(until_after_jump),
        &mut previous,
    );
    wait_for(&clock, GenlockState::Locked, Duration::from_secs(20));
    let ticks = tick_for(&clock, Duration::from_millis(600), &mut previous);
    let worst = ticks
        .iter()
        .map(|t| second.phase_error(t.timestamp.as_nanos()).abs())
        .fold(0.0, f64::max);
    let status = clock.status();
    eprintln!(
        "jump: {} outliers, relocked on the new phase, worst error {:.0} µs",
        status.outliers,
        worst / 1000.0
    );
    assert!(status.outliers >= 4, "the jump was seen: {status:?}");
    assert!(worst < 1_000_000.0, "phase error {worst} ns after the jump");
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
}

#[test]
fn dropping_the_clock_stops_its_thread_promptly() {
    let _serial = serial();
    let source = UdpPulses::bind("127.0.0.1:0").unwrap();
    let clock = GenlockClock::new(source, GenlockConfig::new(Rate::fps(30).unwrap())).unwrap();
    let clone = clock.clone();
    assert_eq!(clone.id(), clock.id());
    assert!(clock
        .describe()
        .starts_with("genlock 30 fps (udp 127.0.0.1:"));
    let start = Instant::now();
    drop(clock);
    drop(clone);
    assert!(start.elapsed() < Duration::from_secs(2));
}
