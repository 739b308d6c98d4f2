//! What the two one-hop benches (`remote`: Zenoh, `ipc`: iceoryx2) share: the time stamp in a
//! payload's first 8 bytes, the payload sizes and cases, the publisher process (how it is started
//! and handed its job, its lifetime, its tick loop, the actor it runs) and the receiver's
//! measuring window, figures and table cells.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use streamlib::prelude::*;
use streamlib::{DataMessage, PixelFormat, Rate, Timestamp, VideoFrame};

pub const FRAME_W: u32 = 1920;
pub const FRAME_H: u32 = 1080;
/// Values before this long after the first one are not measured (connection warm-up).
pub const WARMUP: Duration = Duration::from_millis(500);
/// The publisher process ends by itself after this long, whatever happens to the receiver.
pub const CHILD_LIMIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// Time and the 8-byte header

pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn sleep_until_ns(deadline: u64) {
    let ts = libc::timespec {
        tv_sec: (deadline / 1_000_000_000) as libc::time_t,
        tv_nsec: (deadline % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: a valid timespec; a null remainder is allowed with TIMER_ABSTIME.
    while unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        )
    } == libc::EINTR
    {}
}

const TIME_BITS: u32 = 40;
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;

/// `(seq << 40) | (now − base)`, little-endian: 24 bits of sequence, 40 bits (18 min) of time.
pub fn header(seq: u64, base: u64) -> [u8; 8] {
    let since = monotonic_ns() - base;
    assert!(since <= TIME_MASK, "the bench ran past 18 minutes");
    (((seq & 0xff_ffff) << TIME_BITS) | since).to_le_bytes()
}

/// `(seq, send time since base)` from a payload's first 8 bytes.
pub fn parse_header(bytes: &[u8]) -> (u64, u64) {
    let head = bytes[..8]
        .try_into()
        .expect("payloads are at least 8 bytes");
    let word = u64::from_le_bytes(head);
    (word >> TIME_BITS, word & TIME_MASK)
}

// ---------------------------------------------------------------------------------------------
// Payloads

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    Small,
    Medium,
    /// 64 KiB in a `DataMessage` (which borrows the buffer it arrives in).
    Message,
    /// The same message filled in the buffer the output lends (`Output::new_message`): over
    /// `ipc`, the sample that carries it.
    Filled,
    Frame,
    /// The same frame drawn in the buffer the output lends (`Output::new_frame`): over `ipc`,
    /// the sample that carries it.
    Drawn,
}

impl Payload {
    pub fn len(self) -> usize {
        match self {
            Payload::Small => 8,
            Payload::Medium | Payload::Message | Payload::Filled => 64 * 1024,
            Payload::Frame | Payload::Drawn => (FRAME_W * FRAME_H * 4) as usize,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Payload::Small => "8B",
            Payload::Medium => "64KiB",
            Payload::Message => "64KiB DataMessage",
            Payload::Filled => "64KiB DataMessage filled in place",
            Payload::Frame => "1080p RGBA",
            Payload::Drawn => "1080p RGBA drawn in place",
        }
    }

    /// How the payload is named to the publisher process.
    pub fn code(self) -> &'static str {
        match self {
            Payload::Small => "small",
            Payload::Medium => "medium",
            Payload::Message => "message",
            Payload::Filled => "filled",
            Payload::Frame => "frame",
            Payload::Drawn => "drawn",
        }
    }

    pub fn from_code(code: &str) -> Payload {
        match code {
            "small" => Payload::Small,
            "medium" => Payload::Medium,
            "message" => Payload::Message,
            "filled" => Payload::Filled,
            "frame" => Payload::Frame,
            "drawn" => Payload::Drawn,
            other => panic!("unknown payload {other}"),
        }
    }
}

/// One measured case: a payload at a rate, measured for `secs` after the warm-up.
pub struct Case {
    pub payload: Payload,
    pub hz: u32,
    pub secs: u64,
    /// Outputs of other actors of the publisher process that the receiver reads too, each
    /// written once a second: a receiving runtime that reads many keys.
    pub quiet: u32,
}

impl Case {
    pub const fn new(payload: Payload, hz: u32, secs: u64) -> Case {
        Case {
            payload,
            hz,
            secs,
            quiet: 0,
        }
    }

    /// As the table and the filter name it: `8B @1000 Hz`.
    pub fn name(&self) -> String {
        format!("{} @{} Hz", self.payload.name(), self.hz)
    }
}

// ---------------------------------------------------------------------------------------------
// The publisher process

/// Writes one payload per tick on `bytes` (8 B, 64 KiB), `message` (64 KiB, built in memory of
/// its own or filled in the buffer the output lends) or `frame` (1080p, the same two ways).
#[actor]
pub struct Pub {
    #[output]
    pub bytes: Output<Vec<u8>>,
    #[output]
    pub message: Output<DataMessage>,
    #[output]
    pub frame: Output<VideoFrame>,
    pub payload: Payload,
    pub template: Vec<u8>,
    pub seq: u64,
    pub base: u64,
}

impl Pub {
    /// A publisher of `payload` built from `template`, its send times counted from `base`.
    pub fn new(payload: Payload, template: Vec<u8>, base: u64) -> Pub {
        Pub {
            bytes: Output::new(),
            message: Output::new(),
            frame: Output::new(),
            payload,
            template,
            seq: 0,
            base,
        }
    }
}

impl Process for Pub {
    fn process(&mut self, _: &Tick) -> ProcessResult {
        self.seq += 1;
        if self.payload == Payload::Drawn {
            // As raw iceoryx2 does: the template copied into the buffer lent, then the stamp.
            let mut buffer = self
                .frame
                .new_frame(FRAME_W, FRAME_H, PixelFormat::Rgba8)
                .expect("a valid 1080p size");
            let pixels = buffer.pixels_mut();
            pixels.copy_from_slice(&self.template);
            pixels[..8].copy_from_slice(&header(self.seq, self.base));
            let frame = buffer.finish(Timestamp::from_nanos(0), self.seq);
            self.frame.write(frame);
        } else if self.payload == Payload::Filled {
            // The same for a message: the template copied into the buffer lent, then the stamp.
            let mut buffer = self.message.new_message("bench", self.template.len())?;
            let bytes = buffer.bytes_mut();
            bytes.copy_from_slice(&self.template);
            bytes[..8].copy_from_slice(&header(self.seq, self.base));
            self.message.write(buffer.finish(Timestamp::from_nanos(0)));
        } else if self.payload == Payload::Frame {
            let mut data: Arc<[u8]> = Arc::from(&self.template[..]);
            let pixels = Arc::get_mut(&mut data).expect("a fresh Arc is unique");
            pixels[..8].copy_from_slice(&header(self.seq, self.base));
            let frame = VideoFrame::new(
                FRAME_W,
                FRAME_H,
                PixelFormat::Rgba8,
                data,
                Timestamp::from_nanos(0),
                self.seq,
            )
            .expect("a valid 1080p frame");
            self.frame.write(frame);
        } else {
            let mut value = self.template.clone();
            value[..8].copy_from_slice(&header(self.seq, self.base));
            if self.payload == Payload::Message {
                let message = DataMessage::new("bench", value, Timestamp::from_nanos(0));
                self.message.write(message.expect("a valid topic"));
            } else {
                self.bytes.write(value);
            }
        }
        Ok(())
    }
}

/// A variable the receiver sets for the publisher process.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for the publisher process"))
}

/// What the receiver hands the publisher process of one case, in its environment.
pub struct Job {
    pub payload: Payload,
    pub hz: u32,
    /// The `CLOCK_MONOTONIC` time (ns) that send and receive times count from.
    pub base: u64,
    /// The port on 127.0.0.1 of the Zenoh link.
    pub port: u16,
    /// Quiet actors (`q0`, `q1`, …) beside the publisher ([`Case::quiet`]).
    pub quiet: u32,
}

impl Job {
    /// In the publisher process: the job the receiver handed it.
    pub fn from_env() -> Job {
        Job {
            payload: Payload::from_code(&env("STREAMLIB_BENCH_PAYLOAD")),
            hz: env("STREAMLIB_BENCH_HZ").parse().unwrap(),
            base: env("STREAMLIB_BENCH_BASE").parse().unwrap(),
            port: env("STREAMLIB_BENCH_PORT").parse().unwrap(),
            quiet: env("STREAMLIB_BENCH_QUIET").parse().unwrap(),
        }
    }

    /// Re-executes this bench binary as the publisher of this job: `role` is the variable that
    /// selects the publisher's role and its value, `extra` more variables of the bench's own.
    pub fn start(&self, role: (&str, &str), extra: &[(&str, String)]) -> Publisher {
        let child = Command::new(std::env::current_exe().expect("the bench binary"))
            .env(role.0, role.1)
            .env("STREAMLIB_BENCH_PAYLOAD", self.payload.code())
            .env("STREAMLIB_BENCH_HZ", self.hz.to_string())
            .env("STREAMLIB_BENCH_BASE", self.base.to_string())
            .env("STREAMLIB_BENCH_PORT", self.port.to_string())
            .env("STREAMLIB_BENCH_QUIET", self.quiet.to_string())
            .envs(extra.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("re-executing the bench binary as the publisher");
        Publisher(child)
    }
}

/// The publisher process of one case; killed on drop.
pub struct Publisher(pub Child);

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// In the publisher process: a test that holds until stdin closes (the receiver let go or died)
/// or `CHILD_LIMIT` passes.
pub fn receiver_holds_on() -> impl Fn() -> bool {
    let started = Instant::now();
    let stdin_closed = std::thread::spawn(|| {
        let _ = std::io::stdin().read(&mut [0u8]);
    });
    move || !stdin_closed.is_finished() && started.elapsed() < CHILD_LIMIT
}

/// What every value is built from: `payload.len()` bytes, byte `i` being `i % 251`.
pub fn template(payload: Payload) -> Vec<u8> {
    (0..payload.len()).map(|i| (i % 251) as u8).collect()
}

/// The raw publishers' loop: `send(seq)` on absolute `CLOCK_MONOTONIC` deadlines at `hz`, `seq`
/// counting from 1, while `running()`.
pub fn every_tick(hz: u32, running: impl Fn() -> bool, mut send: impl FnMut(u64)) {
    let period = 1_000_000_000 / u64::from(hz);
    let mut next = monotonic_ns();
    let mut seq = 0u64;
    while running() {
        next += period;
        sleep_until_ns(next);
        seq += 1;
        send(seq);
    }
}

/// The streamlib publishers: `Pub` (as `p0`) on a software clock of `rt` at the job's rate while
/// `running()`; then `rt` shuts down.
pub fn run_pub(rt: Runtime, job: &Job, template: Vec<u8>, running: impl Fn() -> bool) {
    let clock = rt.default_clock(Rate::new(job.hz, 1).unwrap());
    let actor = Pub::new(job.payload, template, job.base);
    rt.spawn_on(actor, "p0", &clock).expect("publisher actor");
    let once_a_second = rt.default_clock(Rate::new(1, 1).unwrap());
    for i in 0..job.quiet {
        let quiet = Pub::new(Payload::Small, vec![0; Payload::Small.len()], job.base);
        rt.spawn_on(quiet, &format!("q{i}"), &once_a_second)
            .expect("a quiet actor");
    }
    while running() {
        std::thread::sleep(Duration::from_millis(20));
    }
    rt.shutdown();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

// ---------------------------------------------------------------------------------------------
// The receiver

/// Spins on `poll` (yielding when it has nothing new) until a first value comes, then through
/// `WARMUP`, dropping what it reads; false if no value came within 20 s.
pub fn first_value_and_warm_up<T>(poll: &mut impl FnMut() -> Option<T>) -> bool {
    let wait_first = Instant::now();
    while poll().is_none() {
        if wait_first.elapsed() > Duration::from_secs(20) {
            return false;
        }
        std::thread::yield_now();
    }
    let warm = Instant::now();
    while warm.elapsed() < WARMUP {
        if poll().is_none() {
            std::thread::yield_now();
        }
    }
    true
}

/// Spins on `poll` (yielding when it has nothing new) for `secs`, keeping every value, in a
/// vector made with `capacity`.
pub fn window<T>(poll: &mut impl FnMut() -> Option<T>, secs: u64, capacity: usize) -> Vec<T> {
    let mut seen = Vec::with_capacity(capacity);
    let window = Instant::now();
    let length = Duration::from_secs(secs);
    while window.elapsed() < length {
        match poll() {
            Some(value) => seen.push(value),
            None => std::thread::yield_now(),
        }
    }
    seen
}

/// One path's latency figures (ns); all zero where nothing was measured.
#[derive(Default)]
pub struct Figures {
    pub samples: usize,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
    pub per_sec: f64,
}

impl Figures {
    /// The figures of `latencies`, one per value (at least one), of values whose receive times
    /// span `span` ns from the first to the last.
    pub fn new(mut latencies: Vec<u64>, span: u64) -> Figures {
        let elapsed = span as f64 / 1e9;
        latencies.sort_unstable();
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        Figures {
            samples: latencies.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: *latencies.last().unwrap(),
            per_sec: (latencies.len() - 1) as f64 / elapsed,
        }
    }

    /// The table cells `samples | p50 | p99 | max | received/s`.
    pub fn cells(&self) -> String {
        format!(
            "{} | {} | {} | {} | {:.1}",
            self.samples,
            us(self.p50),
            us(self.p99),
            us(self.max),
            self.per_sec
        )
    }
}

/// `a ÷ b` as a table cell (`1.23×`), `—` without `b`.
pub fn ratio(a: u64, b: Option<u64>) -> String {
    b.map_or("—".to_owned(), |b| {
        format!("{:.2}×", a as f64 / b.max(1) as f64)
    })
}

pub fn us(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1e3)
}
