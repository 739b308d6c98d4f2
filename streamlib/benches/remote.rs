//! One remote hop between two processes on loopback, over Zenoh (feature `net`): streamlib's
//! remote output → local input, beside raw Zenoh pub/sub with the same payloads, in the same run.
//!
//! The bench binary is the **receiver**; for each case it re-executes itself as the
//! **publisher** process (`STREAMLIB_BENCH_REMOTE_ROLE`), linked to it by TCP on 127.0.0.1 only,
//! and kills it when the case ends.
//!
//! - **Payloads**: 8 B and 64 KiB as `Vec<u8>`, and a 1920×1080 RGBA `VideoFrame` (8,294,400 B).
//!   The first 8 bytes of every payload carry the sequence number (high 24 bits) and the send time
//!   (low 40 bits: `CLOCK_MONOTONIC` nanoseconds since a base the receiver hands the publisher),
//!   written the same way on both paths, right before the value is handed over (streamlib:
//!   `output.write` in the actor's `process`; raw: `publisher.put`). One application copy of the
//!   payload per message on both paths (a fresh `Vec`/`Arc<[u8]>` cloned from a template).
//! - **Publisher**: streamlib — an actor on a software clock at the case's rate, in a runtime that
//!   listens on `tcp/127.0.0.1:<port>`; raw — a thread on absolute `CLOCK_MONOTONIC` deadlines
//!   putting on a plain publisher (`CongestionControl::Drop`, `Priority::DataHigh`, express).
//! - **Receiver**: streamlib — `rt.remote::<Pub>(..)`, a raw `Input` connected to its output;
//!   raw — `declare_subscriber(..).callback(..)` that stores the sample in a one-slot mailbox
//!   (latest value, as streamlib's buffer) and bumps a counter. One thread spins on
//!   `read_new()` / the counter (with `yield_now`, since the machine has two cores) and stamps the
//!   receive time when it sees a new value: the same hand-off on both paths. The raw callback's own
//!   receive time is recorded too (`raw callback`: Zenoh alone, no hand-off).
//! - **Zenoh config**, identical on both paths (streamlib's `NetConfig` defaults): peer mode,
//!   multicast scouting and gossip off, `tcp/127.0.0.1` endpoints, lease 1 s, keep-alive 4,
//!   timestamping on, `wait_before_drop` 0. For the 1080p case, raw Zenoh runs a second time with
//!   Zenoh's own default `wait_before_drop` (1 ms): with 0, a fragmented message is dropped as soon
//!   as one of its fragments finds the transmit queue full.
//! - **Figures**: one-way latency p50 / p99 / max (receive − send), values received per second,
//!   values lost (a gap in the sequence numbers not explained by a newer value overwriting an
//!   unread one in the receiver's slot; the latter counted as `overwr.`).
//!
//! Run: `cargo bench -p streamlib --features net --bench remote [filter]` (about 90 s). The
//! filter, if any, keeps the cases whose name contains it (`8B`, `64KiB`, `1080p`, `@60`, ..).

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use streamlib::net::zenoh::{
    self,
    bytes::ZBytes,
    qos::{CongestionControl, Priority},
    Wait,
};
use streamlib::prelude::*;
use streamlib::{NetConfig, PixelFormat, Rate, Timestamp, VideoFrame};

const ROLE: &str = "STREAMLIB_BENCH_REMOTE_ROLE";
const RAW_KEY: &str = "bench/remote/raw";
const PUB_URI: &str = "actor://bench-pub/Pub/p0";
const FRAME_W: u32 = 1920;
const FRAME_H: u32 = 1080;
/// Values before this long after the first one are not measured (connection warm-up).
const WARMUP: Duration = Duration::from_millis(500);
/// The publisher process ends by itself after this long, whatever happens to the receiver.
const CHILD_LIMIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// Time and the 8-byte header

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn sleep_until_ns(deadline: u64) {
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
fn header(seq: u64, base: u64) -> [u8; 8] {
    let since = monotonic_ns() - base;
    assert!(since <= TIME_MASK, "the bench ran past 18 minutes");
    (((seq & 0xff_ffff) << TIME_BITS) | since).to_le_bytes()
}

/// `(seq, send time since base)`.
fn parse_header(bytes: [u8; 8]) -> (u64, u64) {
    let word = u64::from_le_bytes(bytes);
    (word >> TIME_BITS, word & TIME_MASK)
}

fn first8(bytes: &[u8]) -> [u8; 8] {
    bytes[..8]
        .try_into()
        .expect("payloads are at least 8 bytes")
}

// ---------------------------------------------------------------------------------------------
// Cases

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Payload {
    Small,
    Medium,
    Frame,
}

impl Payload {
    fn len(self) -> usize {
        match self {
            Payload::Small => 8,
            Payload::Medium => 64 * 1024,
            Payload::Frame => (FRAME_W * FRAME_H * 4) as usize,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Payload::Small => "8B",
            Payload::Medium => "64KiB",
            Payload::Frame => "1080p RGBA",
        }
    }

    fn code(self) -> &'static str {
        match self {
            Payload::Small => "small",
            Payload::Medium => "medium",
            Payload::Frame => "frame",
        }
    }

    fn from_code(code: &str) -> Payload {
        match code {
            "small" => Payload::Small,
            "medium" => Payload::Medium,
            "frame" => Payload::Frame,
            other => panic!("unknown payload {other}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    Raw,
    Streamlib,
}

impl Path {
    fn code(self) -> &'static str {
        match self {
            Path::Raw => "raw",
            Path::Streamlib => "streamlib",
        }
    }
}

struct Case {
    payload: Payload,
    hz: u32,
    secs: u64,
}

impl Case {
    fn name(&self) -> String {
        format!("{} @{} Hz", self.payload.name(), self.hz)
    }
}

const CASES: &[Case] = &[
    Case {
        payload: Payload::Small,
        hz: 1000,
        secs: 3,
    },
    Case {
        payload: Payload::Medium,
        hz: 1000,
        secs: 3,
    },
    Case {
        payload: Payload::Small,
        hz: 60,
        secs: 5,
    },
    Case {
        payload: Payload::Medium,
        hz: 60,
        secs: 5,
    },
    Case {
        payload: Payload::Frame,
        hz: 60,
        secs: 10,
    },
];

// ---------------------------------------------------------------------------------------------
// Zenoh configuration: what streamlib's `NetConfig` sets, for the raw path

/// `wait_before_drop_us`: 0 as streamlib sets it; Zenoh's own default is 1000.
fn raw_session(listen: &[String], connect: &[String], wait_before_drop_us: u32) -> zenoh::Session {
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
        format!("[{}]", quoted.join(","))
    };
    let mut config = zenoh::Config::default();
    for (key, value) in [
        ("mode", "\"peer\"".to_owned()),
        ("listen/endpoints", list(listen)),
        ("connect/endpoints", list(connect)),
        ("scouting/multicast/enabled", "false".into()),
        ("scouting/gossip/enabled", "false".into()),
        ("transport/link/tx/lease", "1000".into()),
        ("transport/link/tx/keep_alive", "4".into()),
        ("timestamping/enabled", "true".into()),
        (
            "connect/retry",
            "{period_init_ms: 100, period_max_ms: 1000, period_increase_factor: 2}".into(),
        ),
        ("open/return_conditions", "{connect_scouted: false}".into()),
        (
            "transport/link/tx/queue/congestion_control/drop/wait_before_drop",
            wait_before_drop_us.to_string(),
        ),
    ] {
        config
            .insert_json5(key, &value)
            .unwrap_or_else(|e| panic!("zenoh config {key}: {e}"));
    }
    zenoh::open(config).wait().expect("raw zenoh session")
}

// ---------------------------------------------------------------------------------------------
// The publisher process

/// Writes one payload per tick on `bytes` (8 B, 64 KiB) or `frame` (1080p).
#[actor]
pub struct Pub {
    #[output]
    pub bytes: Output<Vec<u8>>,
    #[output]
    pub frame: Output<VideoFrame>,
    pub video: bool,
    pub template: Vec<u8>,
    pub seq: u64,
    pub base: u64,
}

impl Process for Pub {
    fn process(&mut self, _: &Tick) -> ProcessResult {
        self.seq += 1;
        if self.video {
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
            self.bytes.write(value);
        }
        Ok(())
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for the publisher process"))
}

/// The publisher role: runs until stdin closes (the receiver let go or died) or `CHILD_LIMIT`.
fn publisher_main(role: &str) {
    let payload = Payload::from_code(&env("STREAMLIB_BENCH_PAYLOAD"));
    let hz: u32 = env("STREAMLIB_BENCH_HZ").parse().unwrap();
    let port = env("STREAMLIB_BENCH_PORT");
    let base: u64 = env("STREAMLIB_BENCH_BASE").parse().unwrap();
    let listen = format!("tcp/127.0.0.1:{port}");
    let started = Instant::now();
    let stdin_closed = std::thread::spawn(|| {
        let mut byte = [0u8];
        let _ = std::io::stdin().read(&mut byte);
    });
    let running = || !stdin_closed.is_finished() && started.elapsed() < CHILD_LIMIT;
    let mut template = vec![0x5au8; payload.len()];
    for (i, byte) in template.iter_mut().enumerate() {
        *byte = (i % 251) as u8;
    }
    match role {
        "raw" => {
            let wait: u32 = env("STREAMLIB_BENCH_WAIT_BEFORE_DROP").parse().unwrap();
            let session = raw_session(&[listen], &[], wait);
            let publisher = session
                .declare_publisher(RAW_KEY)
                .congestion_control(CongestionControl::Drop)
                .priority(Priority::DataHigh)
                .express(true)
                .wait()
                .expect("raw publisher");
            let period = 1_000_000_000 / u64::from(hz);
            let mut next = monotonic_ns();
            let mut seq = 0u64;
            while running() {
                next += period;
                sleep_until_ns(next);
                seq += 1;
                let mut value = template.clone();
                value[..8].copy_from_slice(&header(seq, base));
                let _ = publisher.put(value).wait();
            }
            drop(publisher);
            let _ = session.close().wait();
        }
        "streamlib" => {
            let rt = Runtime::builder()
                .host("bench-pub")
                .network(NetConfig::new().listen(&listen))
                .build()
                .expect("publisher runtime");
            let clock = rt.default_clock(Rate::new(hz, 1).unwrap());
            let actor = Pub {
                bytes: Output::new(),
                frame: Output::new(),
                video: payload == Payload::Frame,
                template,
                seq: 0,
                base,
            };
            rt.spawn_on(actor, "p0", &clock).expect("publisher actor");
            while running() {
                std::thread::sleep(Duration::from_millis(20));
            }
            rt.shutdown();
        }
        other => panic!("unknown role {other}"),
    }
}

/// The publisher process of one case; killed on drop.
struct Publisher(Child);

impl Publisher {
    fn start(path: Path, case: &Case, port: u16, base: u64, wait_before_drop_us: u32) -> Publisher {
        let child = Command::new(std::env::current_exe().expect("the bench binary"))
            .env(ROLE, path.code())
            .env(
                "STREAMLIB_BENCH_WAIT_BEFORE_DROP",
                wait_before_drop_us.to_string(),
            )
            .env("STREAMLIB_BENCH_PAYLOAD", case.payload.code())
            .env("STREAMLIB_BENCH_HZ", case.hz.to_string())
            .env("STREAMLIB_BENCH_PORT", port.to_string())
            .env("STREAMLIB_BENCH_BASE", base.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("re-executing the bench binary as the publisher");
        Publisher(child)
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The receiver: one spinning thread sees each new value

/// One value seen by the receiver.
struct Seen {
    seq: u64,
    sent: u64,
    received: u64,
    /// Raw path only: when the Zenoh callback ran.
    callback: Option<u64>,
}

/// The raw path's mailbox: the newest sample and a count of deliveries.
#[derive(Default)]
struct Slot {
    delivered: AtomicU64,
    latest: Mutex<Option<(u64, ZBytes)>>,
}

struct Figures {
    samples: usize,
    p50: u64,
    p99: u64,
    max: u64,
    per_sec: f64,
    lost: u64,
    overwritten: u64,
}

fn percentiles(mut latencies: Vec<u64>) -> (u64, u64, u64) {
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), *latencies.last().unwrap())
}

/// Spins on `poll` through the warm-up and `secs` of measurement; `overwritten()` counts values
/// replaced unread in the receiver's own slot so far.
fn measure(
    case: &Case,
    mut poll: impl FnMut() -> Option<Seen>,
    overwritten: impl Fn() -> u64,
) -> Option<(Figures, Option<Figures>)> {
    let wait_first = Instant::now();
    loop {
        if poll().is_some() {
            break;
        }
        if wait_first.elapsed() > Duration::from_secs(20) {
            eprintln!("  {}: no value within 20 s", case.name());
            return None;
        }
        std::thread::yield_now();
    }
    let warm = Instant::now();
    while warm.elapsed() < WARMUP {
        if poll().is_none() {
            std::thread::yield_now();
        }
    }
    let overwritten_before = overwritten();
    let mut seen = Vec::with_capacity(case.hz as usize * case.secs as usize + 16);
    let window = Instant::now();
    let length = Duration::from_secs(case.secs);
    while window.elapsed() < length {
        match poll() {
            Some(value) => seen.push(value),
            None => std::thread::yield_now(),
        }
    }
    let overwritten = overwritten() - overwritten_before;
    if seen.len() < 2 {
        eprintln!("  {}: {} values in the window", case.name(), seen.len());
        return None;
    }
    let span = seen.last().unwrap().seq - seen[0].seq + 1;
    let elapsed = (seen.last().unwrap().received - seen[0].received) as f64 / 1e9;
    let lost = span.saturating_sub(seen.len() as u64 + overwritten);
    let figures = |latencies: Vec<u64>| {
        let (p50, p99, max) = percentiles(latencies);
        Figures {
            samples: seen.len(),
            p50,
            p99,
            max,
            per_sec: (seen.len() - 1) as f64 / elapsed,
            lost,
            overwritten,
        }
    };
    let hop = figures(seen.iter().map(|s| s.received - s.sent).collect());
    let callback = seen[0]
        .callback
        .is_some()
        .then(|| figures(seen.iter().map(|s| s.callback.unwrap() - s.sent).collect()));
    Some((hop, callback))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

fn run_raw(case: &Case, base: u64, wait_before_drop_us: u32) -> Option<(Figures, Option<Figures>)> {
    let port = free_port();
    let _publisher = Publisher::start(Path::Raw, case, port, base, wait_before_drop_us);
    let session = raw_session(
        &["tcp/127.0.0.1:0".to_owned()],
        &[format!("tcp/127.0.0.1:{port}")],
        wait_before_drop_us,
    );
    let slot = Arc::new(Slot::default());
    let in_callback = slot.clone();
    let subscriber = session
        .declare_subscriber(RAW_KEY)
        .callback(move |sample| {
            let at = monotonic_ns() - base;
            *in_callback.latest.lock() = Some((at, sample.payload().clone()));
            in_callback.delivered.fetch_add(1, Ordering::Release);
        })
        .wait()
        .expect("raw subscriber");
    let mut taken = 0u64;
    let overwritten = AtomicU64::new(0);
    let figures = measure(
        case,
        || {
            let delivered = slot.delivered.load(Ordering::Acquire);
            if delivered == taken {
                return None;
            }
            let received = monotonic_ns() - base;
            let before = std::mem::replace(&mut taken, delivered);
            let (callback, payload) = slot.latest.lock().take()?;
            overwritten.fetch_add(delivered - before - 1, Ordering::Relaxed);
            let mut head = [0u8; 8];
            payload.reader().read_exact(&mut head).expect("8 bytes");
            let (seq, sent) = parse_header(head);
            Some(Seen {
                seq,
                sent,
                received,
                callback: Some(callback),
            })
        },
        || overwritten.load(Ordering::Relaxed),
    );
    drop(subscriber);
    let _ = session.close().wait();
    figures
}

fn run_streamlib(case: &Case, base: u64) -> Option<(Figures, Option<Figures>)> {
    let port = free_port();
    let _publisher = Publisher::start(Path::Streamlib, case, port, base, 0);
    let rt = Runtime::builder()
        .host("bench-sub")
        .network(NetConfig::new().connect(&format!("tcp/127.0.0.1:{port}")))
        .build()
        .expect("receiver runtime");
    let remote = rt.remote::<Pub>(PUB_URI).expect("remote handle");
    if let Err(error) = remote.wait_until_running(Duration::from_secs(20)) {
        eprintln!(
            "  {}: the publisher never announced itself: {error}",
            case.name()
        );
        return None;
    }
    let figures = if case.payload == Payload::Frame {
        let mut input = Input::<VideoFrame>::new();
        let _link = streamlib::connect(&remote.outputs.frame, &input.to_ref()).expect("connect");
        let missed = input.to_ref();
        measure(
            case,
            || {
                let frame = input.read_new()?;
                let received = monotonic_ns() - base;
                let (seq, sent) = parse_header(first8(frame.data()));
                Some(Seen {
                    seq,
                    sent,
                    received,
                    callback: None,
                })
            },
            || missed.stats().missed,
        )
    } else {
        let mut input = Input::<Vec<u8>>::new();
        let _link = streamlib::connect(&remote.outputs.bytes, &input.to_ref()).expect("connect");
        let missed = input.to_ref();
        measure(
            case,
            || {
                let value = input.read_new()?;
                let received = monotonic_ns() - base;
                let (seq, sent) = parse_header(first8(&value));
                Some(Seen {
                    seq,
                    sent,
                    received,
                    callback: None,
                })
            },
            || missed.stats().missed,
        )
    };
    rt.shutdown();
    figures
}

// ---------------------------------------------------------------------------------------------
// Report

fn us(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1e3)
}

fn row(case: &str, path: &str, f: &Figures, raw: Option<&Figures>) {
    let ratio = |a: u64, b: Option<u64>| {
        b.map_or("—".to_owned(), |b| format!("{:.2}×", a as f64 / b as f64))
    };
    println!(
        "| {case} | {path} | {} | {} | {} | {} | {:.1} | {} | {} | {} | {} |",
        f.samples,
        us(f.p50),
        us(f.p99),
        us(f.max),
        f.per_sec,
        f.lost,
        f.overwritten,
        ratio(f.p50, raw.map(|r| r.p50)),
        ratio(f.p99, raw.map(|r| r.p99)),
    );
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        publisher_main(&role);
        return;
    }
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let base = monotonic_ns();
    println!("one remote hop, two processes on 127.0.0.1, Zenoh 1.10, tcp");
    let mut rows = Vec::new();
    for case in CASES {
        let name = case.name();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        eprintln!("{name}: raw zenoh ({} s) ...", case.secs);
        let raw = run_raw(case, base, 0);
        // Big payloads: also raw Zenoh with its own default wait_before_drop (1 ms), since with
        // 0 a fragmented message is dropped whenever one fragment finds the queue full.
        let raw_default = (case.payload == Payload::Frame).then(|| {
            eprintln!(
                "{name}: raw zenoh, wait_before_drop 1 ms ({} s) ...",
                case.secs
            );
            run_raw(case, base, 1000)
        });
        eprintln!("{name}: streamlib ({} s) ...", case.secs);
        let streamlib = run_streamlib(case, base);
        rows.push((name, raw, raw_default, streamlib));
    }
    println!();
    println!("| case | path | samples | p50 | p99 | max | received/s | lost | overwr. | p50 ÷ raw | p99 ÷ raw |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, raw, raw_default, streamlib) in &rows {
        let raw_hop = raw.as_ref().map(|(hop, _)| hop);
        if let Some((_, Some(callback))) = raw {
            row(name, "raw zenoh, in callback", callback, None);
        }
        match raw_hop {
            Some(hop) => row(name, "raw zenoh", hop, None),
            None => println!("| {name} | raw zenoh | nothing received in 20 s | | | | | | | | |"),
        }
        let mut reference = raw_hop;
        match raw_default {
            Some(Some((hop, _))) => {
                row(name, "raw zenoh, wait_before_drop 1 ms", hop, None);
                reference = reference.or(Some(hop));
            }
            Some(None) => println!("| {name} | raw zenoh, wait_before_drop 1 ms | nothing received in 20 s | | | | | | | | |"),
            None => {}
        }
        match streamlib {
            Some((hop, _)) => row(name, "**streamlib**", hop, reference),
            None => println!("| {name} | **streamlib** | failed | | | | | | | | |"),
        }
    }
}
