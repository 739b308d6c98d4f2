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
//! - **Zenoh config**, identical on both paths: the raw sessions open with
//!   [`NetConfig::zenoh_config`] of the same endpoints, what streamlib's runtime opens with.
//! - **Figures**: one-way latency p50 / p99 / max (receive − send), values received per second,
//!   values lost (a gap in the sequence numbers not explained by a newer value overwriting an
//!   unread one in the receiver's slot; the latter counted as `overwr.`).
//!
//! Run: `cargo bench -p streamlib --features net --bench remote [filter]` (about 90 s). The
//! filter, if any, keeps the cases whose name contains it (`8B`, `64KiB`, `1080p`, `@60`, ..).

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use streamlib::net::zenoh::{
    self,
    bytes::ZBytes,
    qos::{CongestionControl, Priority},
    Wait,
};
use streamlib::net::zenoh_ext::{
    AdvancedPublisherBuilderExt, AdvancedSubscriberBuilderExt, CacheConfig, HistoryConfig,
};
use streamlib::prelude::*;
use streamlib::{NetConfig, VideoFrame};

#[path = "support/hop.rs"]
mod hop;
use hop::{
    every_tick, first_value_and_warm_up, free_port, header, monotonic_ns, parse_header, ratio,
    receiver_holds_on, run_pub, template, window, Case, Figures, Job, Payload, Pub,
};

const ROLE: &str = "STREAMLIB_BENCH_REMOTE_ROLE";
const RAW_KEY: &str = "bench/remote/raw";
const PUB_URI: &str = "actor://bench-pub/Pub/p0";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    Raw,
    /// Raw Zenoh through zenoh-ext's advanced publisher (cache of one) and subscriber (history,
    /// late publishers detected): what streamlib's links are built on.
    RawExt,
    Streamlib,
}

impl Path {
    fn code(self) -> &'static str {
        match self {
            Path::Raw => "raw",
            Path::RawExt => "raw-ext",
            Path::Streamlib => "streamlib",
        }
    }
}

const CASES: &[Case] = &[
    Case::new(Payload::Small, 1000, 3),
    Case::new(Payload::Medium, 1000, 3),
    Case::new(Payload::Small, 60, 5),
    Case::new(Payload::Medium, 60, 5),
    Case::new(Payload::Frame, 60, 10),
];

// ---------------------------------------------------------------------------------------------
/// A raw Zenoh session at exactly the settings of streamlib's runtime with the same endpoints.
fn raw_session(listen: &str, connect: Option<&str>) -> zenoh::Session {
    let mut config = NetConfig::new().listen(listen);
    if let Some(endpoint) = connect {
        config = config.connect(endpoint);
    }
    let config = config.zenoh_config().expect("streamlib's zenoh config");
    zenoh::open(config).wait().expect("raw zenoh session")
}

// ---------------------------------------------------------------------------------------------
// The publisher process

/// The publisher role: runs until stdin closes (the receiver let go or died) or `CHILD_LIMIT`.
fn publisher_main(role: &str) {
    let job = Job::from_env();
    let listen = format!("tcp/127.0.0.1:{}", job.port);
    let running = receiver_holds_on();
    let template = template(job.payload);
    match role {
        "raw" | "raw-ext" => {
            let session = raw_session(&listen, None);
            let builder = session
                .declare_publisher(RAW_KEY)
                .congestion_control(CongestionControl::Drop)
                .priority(Priority::DataHigh)
                .express(true);
            let put: Box<dyn Fn(Vec<u8>)> = if role == "raw" {
                let publisher = builder.wait().expect("raw publisher");
                Box::new(move |value| drop(publisher.put(value).wait()))
            } else {
                let publisher = builder
                    .cache(CacheConfig::default().max_samples(1))
                    .publisher_detection()
                    .wait()
                    .expect("zenoh-ext publisher");
                Box::new(move |value| drop(publisher.put(value).wait()))
            };
            every_tick(job.hz, running, |seq| {
                let mut value = template.clone();
                value[..8].copy_from_slice(&header(seq, job.base));
                put(value);
            });
            drop(put);
            let _ = session.close().wait();
        }
        "streamlib" => {
            let rt = Runtime::builder()
                .host("bench-pub")
                .network(NetConfig::new().listen(&listen))
                .build()
                .expect("publisher runtime");
            run_pub(rt, &job, template, running);
        }
        other => panic!("unknown role {other}"),
    }
}

/// Starts the publisher process of one case on `path`, listening on `port`.
fn start_publisher(path: Path, case: &Case, port: u16, base: u64) -> hop::Publisher {
    let job = Job {
        payload: case.payload,
        hz: case.hz,
        base,
        port,
        quiet: case.quiet,
    };
    job.start((ROLE, path.code()), &[])
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

/// What one path measured: the hop, the raw callback's own figures, and the losses.
struct Measured {
    hop: Figures,
    callback: Option<Figures>,
    lost: u64,
    overwritten: u64,
}

/// Spins on `poll` through the warm-up and `secs` of measurement; `overwritten()` counts values
/// replaced unread in the receiver's own slot so far.
fn measure(
    case: &Case,
    mut poll: impl FnMut() -> Option<Seen>,
    overwritten: impl Fn() -> u64,
) -> Option<Measured> {
    if !first_value_and_warm_up(&mut poll) {
        eprintln!("  {}: no value within 20 s", case.name());
        return None;
    }
    let overwritten_before = overwritten();
    let capacity = case.hz as usize * case.secs as usize + 16;
    let seen = window(&mut poll, case.secs, capacity);
    let overwritten = overwritten() - overwritten_before;
    if seen.len() < 2 {
        eprintln!("  {}: {} values in the window", case.name(), seen.len());
        return None;
    }
    let span = seen.last().unwrap().seq - seen[0].seq + 1;
    let received = seen.last().unwrap().received - seen[0].received;
    let lost = span.saturating_sub(seen.len() as u64 + overwritten);
    let hop = Figures::new(seen.iter().map(|s| s.received - s.sent).collect(), received);
    let callback = seen[0].callback.is_some().then(|| {
        Figures::new(
            seen.iter().map(|s| s.callback.unwrap() - s.sent).collect(),
            received,
        )
    });
    Some(Measured {
        hop,
        callback,
        lost,
        overwritten,
    })
}

/// Raw Zenoh on `path` (`Raw` or `RawExt`).
fn run_raw(case: &Case, base: u64, path: Path) -> Option<Measured> {
    let port = free_port();
    let _publisher = start_publisher(path, case, port, base);
    let session = raw_session("tcp/127.0.0.1:0", Some(&format!("tcp/127.0.0.1:{port}")));
    let slot = Arc::new(Slot::default());
    let in_callback = slot.clone();
    let callback = move |sample: zenoh::sample::Sample| {
        let at = monotonic_ns() - base;
        *in_callback.latest.lock() = Some((at, sample.payload().clone()));
        in_callback.delivered.fetch_add(1, Ordering::Release);
    };
    let builder = session.declare_subscriber(RAW_KEY);
    let subscriber: Box<dyn std::any::Any> = if path == Path::Raw {
        Box::new(builder.callback(callback).wait().expect("raw subscriber"))
    } else {
        let history = HistoryConfig::default()
            .detect_late_publishers()
            .max_samples(1);
        let subscriber = builder.history(history).callback(callback).wait();
        Box::new(subscriber.expect("zenoh-ext subscriber"))
    };
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
            let (seq, sent) = parse_header(&head);
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

fn run_streamlib(case: &Case, base: u64) -> Option<Measured> {
    let port = free_port();
    let _publisher = start_publisher(Path::Streamlib, case, port, base);
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
        measure_input(case, base, &remote.outputs.frame, VideoFrame::data)
    } else {
        measure_input(case, base, &remote.outputs.bytes, Vec::as_slice)
    };
    rt.shutdown();
    figures
}

/// Measures what a raw `Input` connected to `output` reads; `data` gives a value's bytes.
fn measure_input<T: Send + Sync + 'static>(
    case: &Case,
    base: u64,
    output: &OutputRef<T>,
    data: impl Fn(&T) -> &[u8],
) -> Option<Measured> {
    let mut input = Input::<T>::new();
    let _link = streamlib::connect(output, &input.to_ref()).expect("connect");
    let missed = input.to_ref();
    measure(
        case,
        || {
            let value = input.read_new()?;
            let received = monotonic_ns() - base;
            let (seq, sent) = parse_header(data(&value));
            Some(Seen {
                seq,
                sent,
                received,
                callback: None,
            })
        },
        || missed.stats().missed,
    )
}

// ---------------------------------------------------------------------------------------------
// Report

/// One table row: `f` (the hop or the raw callback of `m`) and the losses of `m`.
fn row(case: &str, path: &str, m: &Measured, f: &Figures, raw: Option<&Figures>) {
    println!(
        "| {case} | {path} | {} | {} | {} | {} | {} |",
        f.cells(),
        m.lost,
        m.overwritten,
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
        let raw = run_raw(case, base, Path::Raw);
        eprintln!("{name}: raw zenoh-ext ({} s) ...", case.secs);
        let raw_ext = run_raw(case, base, Path::RawExt);
        eprintln!("{name}: streamlib ({} s) ...", case.secs);
        let streamlib = run_streamlib(case, base);
        rows.push((name, raw, raw_ext, streamlib));
    }
    println!();
    println!("| case | path | samples | p50 | p99 | max | received/s | lost | overwr. | p50 ÷ raw | p99 ÷ raw |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, raw, raw_ext, streamlib) in &rows {
        if let Some(
            m @ Measured {
                callback: Some(callback),
                ..
            },
        ) = raw
        {
            row(name, "raw zenoh, in callback", m, callback, None);
        }
        match raw {
            Some(m) => row(name, "raw zenoh", m, &m.hop, None),
            None => println!("| {name} | raw zenoh | nothing received in 20 s | | | | | | | | |"),
        }
        let reference = raw.as_ref().map(|m| &m.hop);
        match raw_ext {
            Some(m) => row(name, "raw zenoh-ext", m, &m.hop, reference),
            None => {
                println!("| {name} | raw zenoh-ext | nothing received in 20 s | | | | | | | | |")
            }
        }
        match streamlib {
            Some(m) => row(name, "**streamlib**", m, &m.hop, reference),
            None => println!("| {name} | **streamlib** | failed | | | | | | | | |"),
        }
    }
}
