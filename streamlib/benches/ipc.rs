//! One hop between two processes of this host over shared memory (feature `ipc`): streamlib's
//! remote output → local input over iceoryx2, beside raw iceoryx2 publish/subscribe and beside
//! streamlib's Zenoh link (feature `net`), with the same payloads, in the same run.
//!
//! The bench binary is the **receiver**; for each case it re-executes itself as the
//! **publisher** process (`STREAMLIB_BENCH_IPC_ROLE`) and kills it when the case ends. Every run
//! has its own iceoryx2 prefix and directory, removed at the end.
//!
//! - **Payloads**: 8 B and 64 KiB as `Vec<u8>`, 64 KiB in a `DataMessage` (which the receiver
//!   reads in place: it borrows the sample), the same message filled in the buffer its output
//!   lends (`Output::new_message`), a 1920×1080 RGBA `VideoFrame` (8,294,400 B), and the same
//!   frame drawn in the buffer its output lends (`Output::new_frame`). Over iceoryx2 a lent
//!   buffer is the sample that carries the value, so the template is copied once, as raw
//!   iceoryx2 does.
//!   The first 8 bytes carry the sequence number and the send time (`CLOCK_MONOTONIC`), written
//!   right before the value is handed over.
//! - **Publisher**: streamlib: an actor on a software clock at the case's rate writing a value
//!   built from a template (one application copy; the transport then copies it into a
//!   shared-memory sample, or encodes it for Zenoh). Raw iceoryx2: a thread on absolute deadlines
//!   that loans a sample, copies the template into it, stamps it, sends, and notifies a wake-up
//!   event (iceoryx2's natural zero-copy use: one copy, made before the stamp). Same QoS on both
//!   (history 1, buffer 1, safe overflow).
//! - **Receiver**: streamlib: a raw `Input` connected to the remote output. Raw: a thread waiting
//!   on the event listener that takes each sample into a one-slot mailbox (the latest, as
//!   streamlib's buffer). One thread spins on `read_new()` / the mailbox (with `yield_now`: two
//!   cores) and stamps the receive time: the same hand-off on every path.
//! - **Rounds**: a case's time is cut into three rounds, the paths' order reversed every other
//!   round, and each path's values pooled; the last column gives each round's own p50 ÷ raw
//!   (this VM's conditions drift within a minute: their spread is the measurement's noise).
//! - **CPU** (1080p at 60 Hz, and 8 B at 1 kHz: cases of their own): the receiver reads every
//!   5 ms instead of spinning; CPU time of the publisher process (`/proc/<pid>/stat`) and of the
//!   receiver process over 5 s, in % of one core.
//! - **Idle** (`idle`): two runtimes of this process, five actors each at 1 Hz, each reading an
//!   output of the other over iceoryx2, beside the same runtimes connected in process: what an
//!   `ipc` runtime costs while nothing happens (its scans of announcements, its receiving
//!   thread's wake-ups).
//!
//! Run: `cargo bench -p streamlib --features ipc,net --bench ipc [filter]` (about 3 min).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use streamlib::ipc::iceoryx2::port::listener::Listener;
use streamlib::ipc::iceoryx2::port::subscriber::Subscriber;
use streamlib::ipc::iceoryx2::prelude::*;
use streamlib::ipc::iceoryx2::sample::Sample;
use streamlib::prelude::*;
use streamlib::{DataMessage, IpcConfig, NetConfig, VideoFrame};

#[path = "support/hop.rs"]
mod hop;
use hop::{
    env, every_tick, first_value_and_warm_up, free_port, header, monotonic_ns, parse_header, ratio,
    receiver_holds_on, run_pub, template, window, Case, Figures, Job, Payload, Pub, Publisher,
    WARMUP,
};

#[path = "support/cpu.rs"]
mod cpu;

type Svc = ipc_threadsafe::Service;
type RawSample = Sample<Svc, [u8], ()>;

const ROLE: &str = "STREAMLIB_BENCH_IPC_ROLE";
const RAW_SERVICE: &str = "bench/ipc/raw";
const RAW_WAKE: &str = "bench/ipc/raw-wake";
const PUB_URI: &str = "actor://bench-pub/Pub/p0";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    RawIceoryx,
    StreamlibIpc,
    StreamlibZenoh,
}

impl Path {
    fn code(self) -> &'static str {
        match self {
            Path::RawIceoryx => "raw",
            Path::StreamlibIpc => "ipc",
            Path::StreamlibZenoh => "zenoh",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Path::RawIceoryx => "raw iceoryx2",
            Path::StreamlibIpc => "**streamlib ipc**",
            Path::StreamlibZenoh => "streamlib zenoh",
        }
    }
}

/// The paths of a case, in the order of its odd rounds (reversed in the even ones).
const PATHS: [Path; 3] = [Path::RawIceoryx, Path::StreamlibIpc, Path::StreamlibZenoh];
/// Rounds a case's time is cut into.
const ROUNDS: u64 = 3;

const CASES: &[Case] = &[
    Case::new(Payload::Small, 1000, 3),
    Case::new(Payload::Medium, 1000, 3),
    Case::new(Payload::Message, 1000, 3),
    Case::new(Payload::Filled, 1000, 3),
    Case::new(Payload::Frame, 60, 6),
    Case::new(Payload::Drawn, 60, 6),
];

/// What every process of one run shares: the iceoryx2 prefix and directory.
#[derive(Clone)]
struct Run {
    prefix: String,
    base: u64,
}

impl Run {
    fn directory(&self) -> String {
        format!(
            "{}/streamlib-ipc-bench/{}",
            std::env::temp_dir().display(),
            self.prefix
        )
    }
    fn config(&self) -> IpcConfig {
        IpcConfig::new()
            .prefix(&self.prefix)
            .directory(&self.directory())
    }
    fn iceoryx_config(&self) -> Config {
        let mut config = Config::default();
        config.global.prefix = FileName::new(self.prefix.as_bytes()).expect("prefix");
        let root = format!("{}/", self.directory());
        config.global.set_root_path(
            &streamlib::ipc::iceoryx2::prelude::Path::new(root.as_bytes()).expect("root"),
        );
        config
    }
    fn clean(&self) {
        if let Ok(entries) = std::fs::read_dir("/dev/shm") {
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(&self.prefix)
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let _ = std::fs::remove_dir_all(self.directory());
    }
}

fn raw_node(run: &Run) -> Node<Svc> {
    NodeBuilder::new()
        .config(&run.iceoryx_config())
        .signal_handling_mode(SignalHandlingMode::Disabled)
        .create::<Svc>()
        .expect("raw node")
}

/// The QoS streamlib uses: history 1, one buffered sample, safe overflow.
fn raw_service(
    node: &Node<Svc>,
) -> streamlib::ipc::iceoryx2::service::port_factory::publish_subscribe::PortFactory<Svc, [u8], ()>
{
    node.service_builder(&RAW_SERVICE.try_into().expect("name"))
        .publish_subscribe::<[u8]>()
        .history_size(1)
        .subscriber_max_buffer_size(1)
        .subscriber_max_borrowed_samples(5)
        .enable_safe_overflow(true)
        .max_subscribers(4)
        .max_publishers(4)
        .max_nodes(8)
        .open_or_create()
        .expect("raw service")
}

fn raw_wake(
    node: &Node<Svc>,
) -> streamlib::ipc::iceoryx2::service::port_factory::event::PortFactory<Svc> {
    node.service_builder(&RAW_WAKE.try_into().expect("name"))
        .event()
        .open_or_create()
        .expect("raw wake-up event")
}

// ---------------------------------------------------------------------------------------------
// The publisher process

fn publisher_main(role: &str) {
    let job = Job::from_env();
    let run = Run {
        prefix: env("STREAMLIB_BENCH_PREFIX"),
        base: job.base,
    };
    let running = receiver_holds_on();
    let template = template(job.payload);
    match role {
        "raw" => {
            let node = raw_node(&run);
            let service = raw_service(&node);
            let publisher = service
                .publisher_builder()
                .initial_max_slice_len(job.payload.len())
                .create()
                .expect("raw publisher");
            let wake = raw_wake(&node);
            let notifier = wake.notifier_builder().create().expect("raw notifier");
            every_tick(job.hz, running, |seq| {
                let Ok(sample) = publisher.loan_slice_uninit(job.payload.len()) else {
                    return;
                };
                let mut sample = sample.write_from_slice(&template);
                sample.payload_mut()[..8].copy_from_slice(&header(seq, run.base));
                let _ = sample.send();
                let _ = notifier.notify();
            });
        }
        "ipc" | "zenoh" => {
            let builder = Runtime::builder().host("bench-pub");
            let builder = if role == "ipc" {
                builder.ipc_config(run.config())
            } else {
                builder.network(NetConfig::new().listen(&format!("tcp/127.0.0.1:{}", job.port)))
            };
            let rt = builder.build().expect("publisher runtime");
            run_pub(rt, &job, template, running);
        }
        other => panic!("unknown role {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The receiver

struct Seen {
    sent: u64,
    received: u64,
}

/// What a path gives the measuring thread: the next new value, if any.
type Poll<'a> = Box<dyn FnMut() -> Option<Seen> + 'a>;

/// One path's values of one round: each one's latency (ns), and the time from the first's
/// arrival to the last's.
struct Window {
    latencies: Vec<u64>,
    span: u64,
}

fn measure(case: &Case, mut poll: Poll<'_>) -> Option<Window> {
    if !first_value_and_warm_up(&mut poll) {
        eprintln!("  no value within 20 s");
        return None;
    }
    let seen = window(&mut poll, case.secs, 0);
    if seen.len() < 2 {
        return None;
    }
    Some(Window {
        span: seen.last().unwrap().received - seen[0].received,
        latencies: seen.iter().map(|s| s.received - s.sent).collect(),
    })
}

/// The CPU use (% of one core) of the publisher process and of this one over 5 s while `poll`
/// reads every 5 ms (after a first value and the warm-up).
fn cpu_of(publisher: &Publisher, poll: &mut Poll<'_>) -> (f64, f64) {
    let start = Instant::now();
    while poll().is_none() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(WARMUP);
    let (pub0, me0, t0) = (
        cpu::process_cpu_time(publisher.0.id()),
        cpu::cpu_time(),
        Instant::now(),
    );
    while t0.elapsed() < Duration::from_secs(5) {
        let _ = poll();
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = t0.elapsed().as_secs_f64();
    let pct = |d: Duration| 100.0 * d.as_secs_f64() / wall;
    (
        pct(cpu::process_cpu_time(publisher.0.id()) - pub0),
        pct(cpu::cpu_time() - me0),
    )
}

/// What a path measured: its values (unless CPU was measured), the CPU use of the publisher
/// process and of this one (when asked for).
type Outcome = (Option<Window>, Option<(f64, f64)>);

/// With `cpu` (the publisher): the CPU use and no latencies; else the latencies.
fn figures_or_cpu(case: &Case, cpu: Option<&Publisher>, mut poll: Poll<'_>) -> Outcome {
    let cpu = cpu.map(|publisher| cpu_of(publisher, &mut poll));
    let window = if cpu.is_some() {
        None
    } else {
        measure(case, poll)
    };
    (window, cpu)
}

/// The raw receiver: a thread waits on the listener and keeps the newest sample.
struct RawReceiver {
    latest: Arc<Mutex<Option<RawSample>>>,
    delivered: Arc<AtomicU64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RawReceiver {
    fn start(run: &Run) -> RawReceiver {
        let latest: Arc<Mutex<Option<RawSample>>> = Arc::default();
        let delivered = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let (latest, delivered, stop, run) =
                (latest.clone(), delivered.clone(), stop.clone(), run.clone());
            std::thread::spawn(move || {
                let node = raw_node(&run);
                let service = raw_service(&node);
                let subscriber: Subscriber<Svc, [u8], ()> = service
                    .subscriber_builder()
                    .buffer_size(1)
                    .create()
                    .expect("raw subscriber");
                let wake = raw_wake(&node);
                let listener: Listener<Svc> = wake.listener_builder().create().expect("listener");
                while !stop.load(Ordering::Relaxed) {
                    let _ = listener.timed_wait_all(|_| {}, Duration::from_millis(10));
                    while let Ok(Some(sample)) = subscriber.receive() {
                        *latest.lock() = Some(sample);
                        delivered.fetch_add(1, Ordering::Release);
                    }
                }
                *latest.lock() = None;
            })
        };
        RawReceiver {
            latest,
            delivered,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for RawReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs one path of one case: latency figures, or (with `cpu`) the % of a core of the
/// publisher and receiver processes while the receiver reads every 5 ms.
fn run_path(path: Path, case: &Case, run: &Run, cpu: bool) -> Option<Outcome> {
    let port = free_port();
    let job = Job {
        payload: case.payload,
        hz: case.hz,
        base: run.base,
        port,
        quiet: case.quiet,
    };
    let publisher = job.start(
        (ROLE, path.code()),
        &[("STREAMLIB_BENCH_PREFIX", run.prefix.clone())],
    );
    let cpu = cpu.then_some(&publisher);
    let base = run.base;
    let parse = |bytes: &[u8]| {
        let received = monotonic_ns() - base;
        let (_seq, sent) = parse_header(bytes);
        Seen { sent, received }
    };
    match path {
        Path::RawIceoryx => {
            let receiver = RawReceiver::start(run);
            let mut taken = 0u64;
            let poll: Poll<'_> = Box::new(|| {
                let delivered = receiver.delivered.load(Ordering::Acquire);
                if delivered == taken {
                    return None;
                }
                taken = delivered;
                let latest = receiver.latest.lock();
                latest.as_ref().map(|s| parse(s.payload()))
            });
            Some(figures_or_cpu(case, cpu, poll))
        }
        Path::StreamlibIpc | Path::StreamlibZenoh => {
            let builder = Runtime::builder().host("bench-sub");
            let builder = if path == Path::StreamlibIpc {
                builder.ipc_config(run.config())
            } else {
                builder.network(NetConfig::new().connect(&format!("tcp/127.0.0.1:{port}")))
            };
            let rt = builder.build().expect("receiver runtime");
            let remote = rt.remote::<Pub>(PUB_URI).expect("remote handle");
            remote.wait_until_running(Duration::from_secs(20)).ok()?;
            let mut frames = Input::<VideoFrame>::new();
            let mut bytes = Input::<Vec<u8>>::new();
            let mut messages = Input::<DataMessage>::new();
            let _links = (
                streamlib::connect(&remote.outputs.frame, &frames.to_ref()).expect("connect"),
                streamlib::connect(&remote.outputs.bytes, &bytes.to_ref()).expect("connect"),
                streamlib::connect(&remote.outputs.message, &messages.to_ref()).expect("connect"),
            );
            let _quiet = read_quiet(&rt, case.quiet)?;
            let payload = case.payload;
            let poll: Poll<'_> = Box::new(move || match payload {
                Payload::Frame | Payload::Drawn => frames.read_new().map(|f| parse(f.data())),
                Payload::Message | Payload::Filled => messages.read_new().map(|m| parse(m.bytes())),
                _ => bytes.read_new().map(|b| parse(&b)),
            });
            let result = figures_or_cpu(case, cpu, poll);
            rt.shutdown();
            Some(result)
        }
    }
}

/// Connects an input of `rt` to each of the publisher process's `quiet` actors' `bytes` (raw
/// iceoryx2 reads its one service only); `None` if one does not show up.
fn read_quiet(rt: &Runtime, quiet: u32) -> Option<Vec<(Input<Vec<u8>>, streamlib::Connection)>> {
    (0..quiet)
        .map(|i| {
            let remote = rt
                .remote::<Pub>(&format!("actor://bench-pub/Pub/q{i}"))
                .ok()?;
            remote.wait_until_running(Duration::from_secs(20)).ok()?;
            let input = Input::<Vec<u8>>::new();
            let link = streamlib::connect(&remote.outputs.bytes, &input.to_ref()).ok()?;
            Some((input, link))
        })
        .collect()
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        publisher_main(&role);
        return;
    }
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let run = Run {
        prefix: format!("slbench{}_", std::process::id()),
        base: monotonic_ns(),
    };
    println!("one hop between two processes of this host: iceoryx2 0.9 shared memory, Zenoh 1.10 over loopback TCP");
    println!();
    println!("| case | path | samples | p50 | p99 | max | received/s | p50 ÷ raw | p99 ÷ raw | rounds' p50 ÷ raw |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for case in CASES {
        let name = case.name();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        // The case's time in ROUNDS rounds, the paths' order reversed every other round: this
        // VM's conditions drift within a minute, and a path measured in one stretch alone
        // caught whatever its stretch had (8 B: 1.3–2.2× raw from run to run).
        let round = Case::new(case.payload, case.hz, case.secs.div_ceil(ROUNDS));
        // Per path (as in `PATHS`): its latencies over all rounds and their spans' sum.
        let mut pooled: Vec<(Vec<u64>, u64)> = vec![(Vec::new(), 0); PATHS.len()];
        let mut round_p50 = vec![[None::<u64>; 3]; ROUNDS as usize];
        for (r, p50s) in round_p50.iter_mut().enumerate() {
            let mut order = PATHS;
            if r % 2 == 1 {
                order.reverse();
            }
            for path in order {
                eprintln!(
                    "{name}: {} (round {} of {ROUNDS}, {} s) ...",
                    path.label(),
                    r + 1,
                    round.secs
                );
                let index = PATHS.iter().position(|&p| p == path).unwrap();
                if let Some((Some(window), _)) = run_path(path, &round, &run, false) {
                    p50s[index] = Some(Figures::new(window.latencies.clone(), window.span).p50);
                    let (latencies, span) = &mut pooled[index];
                    latencies.extend(window.latencies);
                    *span += window.span;
                }
            }
        }
        let mut raw: Option<(u64, u64)> = None;
        for (index, (&path, (latencies, span))) in PATHS.iter().zip(pooled).enumerate() {
            if latencies.len() < 2 {
                println!("| {name} | {} | failed | | | | | | | |", path.label());
                continue;
            }
            let f = Figures::new(latencies, span);
            if path == Path::RawIceoryx {
                raw = Some((f.p50, f.p99));
            }
            let theirs = raw.filter(|_| path != Path::RawIceoryx);
            // Each round's p50 ÷ the raw p50 of the same round: how far the rounds agree.
            let rounds: Vec<f64> = round_p50
                .iter()
                .filter_map(|p| Some(p[index]? as f64 / p[0]?.max(1) as f64))
                .collect();
            let spread = match (path, rounds.iter().copied().reduce(f64::min)) {
                (Path::RawIceoryx, _) | (_, None) => "—".to_owned(),
                (_, Some(low)) => {
                    let high = rounds.iter().copied().fold(low, f64::max);
                    format!("{low:.2}–{high:.2}×")
                }
            };
            println!(
                "| {name} | {} | {} | {} | {} | {spread} |",
                path.label(),
                f.cells(),
                ratio(f.p50, theirs.map(|r| r.0)),
                ratio(f.p99, theirs.map(|r| r.1)),
            );
        }
    }
    if filter.as_ref().is_none_or(|f| "cpu".contains(f.as_str())) {
        // A frame stream, where copies cost; and a small message at a high rate, where each
        // value's hand-offs and wake-ups do.
        let groups = [
            (
                "1080p RGBA at 60 Hz",
                60,
                &[
                    (Path::RawIceoryx, Payload::Frame),
                    (Path::StreamlibIpc, Payload::Frame),
                    (Path::StreamlibIpc, Payload::Drawn),
                    (Path::StreamlibZenoh, Payload::Frame),
                ][..],
                0,
            ),
            (
                "8 B at 1 kHz",
                1000,
                &[
                    (Path::RawIceoryx, Payload::Small),
                    (Path::StreamlibIpc, Payload::Small),
                    (Path::StreamlibZenoh, Payload::Small),
                ][..],
                0,
            ),
            (
                "8 B at 1 kHz, the receiver reading 31 more outputs (1 Hz each)",
                1000,
                &[
                    (Path::RawIceoryx, Payload::Small),
                    (Path::StreamlibIpc, Payload::Small),
                ][..],
                31,
            ),
        ];
        for (title, hz, paths, quiet) in groups {
            println!();
            println!("CPU of {title} (receiver reads every 5 ms), % of one core over 5 s:");
            println!();
            println!("| path | publisher process | receiver process |");
            println!("|---|---|---|");
            for &(path, payload) in paths {
                let label = match payload {
                    Payload::Drawn => format!("{}, drawn in place", path.label()),
                    _ => path.label().to_owned(),
                };
                eprintln!("cpu, {title}: {label} ...");
                let cpu_case = Case {
                    quiet,
                    ..Case::new(payload, hz, 5)
                };
                match run_path(path, &cpu_case, &run, true).and_then(|(_, cpu)| cpu) {
                    Some((publisher, receiver)) => {
                        println!("| {label} | {publisher:.1} % | {receiver:.1} % |")
                    }
                    None => println!("| {label} | failed | |"),
                }
            }
        }
    }
    if filter.as_ref().is_none_or(|f| "idle".contains(f.as_str())) {
        println!();
        println!("Idle: two runtimes of this process, five actors each at 1 Hz, each reading an output of the other, % of one core over 5 s:");
        println!();
        println!("| runtimes linked | whole process |");
        println!("|---|---|");
        for ipc in [false, true] {
            let label = if ipc {
                "**over iceoryx2** (`ipc`)"
            } else {
                "in this process (no engine: the floor)"
            };
            eprintln!("idle: {label} ...");
            println!("| {label} | {:.2} % |", idle_cpu(&run, ipc));
        }
    }
    run.clean();
}

/// Does nothing, once a second: an announced actor with one output.
#[actor(fps = 1)]
#[derive(Default)]
pub struct Quiet {
    #[output]
    pub value: Output<i64>,
}

impl Process for Quiet {
    fn process(&mut self, _: &Tick) -> ProcessResult {
        Ok(())
    }
}

/// % of one core this process spends over 5 s with two runtimes of five [`Quiet`] actors, each
/// reading one output of the other: over iceoryx2 (`ipc`), or connected in process.
fn idle_cpu(run: &Run, ipc: bool) -> f64 {
    let runtimes: Vec<Runtime> = (0..2)
        .map(|i| {
            let builder = Runtime::builder().host(&format!("idle-{i}"));
            let builder = if ipc {
                builder.ipc_config(run.config())
            } else {
                builder
            };
            builder.build().expect("idle runtime")
        })
        .collect();
    let mut firsts = Vec::new();
    for rt in &runtimes {
        for j in 0..5 {
            let actor = rt.spawn(Quiet::default(), &format!("q{j}")).expect("actor");
            if j == 0 {
                firsts.push(actor.outputs.value.clone());
            }
        }
    }
    let mut links = Vec::new();
    for (i, rt) in runtimes.iter().enumerate() {
        let input = Input::<i64>::new();
        let output = if ipc {
            let remote = rt
                .remote::<Quiet>(&format!("actor://idle-{}/Quiet/q0", 1 - i))
                .expect("remote handle");
            remote
                .wait_until_running(Duration::from_secs(20))
                .expect("the other runtime's actor");
            remote.outputs.value.clone()
        } else {
            firsts[1 - i].clone()
        };
        links.push((
            streamlib::connect(&output, &input.to_ref()).expect("connect"),
            input,
        ));
    }
    std::thread::sleep(Duration::from_secs(1));
    let (cpu0, wall0) = (cpu::cpu_time(), Instant::now());
    std::thread::sleep(Duration::from_secs(5));
    let used = cpu::cpu_time() - cpu0;
    drop(links);
    for rt in runtimes {
        rt.shutdown();
    }
    100.0 * used.as_secs_f64() / wall0.elapsed().as_secs_f64()
}
