//! `demo_net`: a test pattern in one process, composited and saved as PNG in another, linked
//! over Zenoh (streamlib's `net` feature).
//!
//! `cargo run --release --example demo_net` runs both halves on this machine in one command: it
//! starts the pattern process itself (the same binary, `--role pattern`) and acts as the viewer.
//! On two machines, one half each (the viewer dials the pattern host; open TCP 7447 there):
//!
//! ```text
//! cam-box$  cargo run --release --example demo_net -- --role pattern --listen tcp/0.0.0.0:7447
//! view-box$ cargo run --release --example demo_net -- --role viewer --connect tcp/<cam-box address>:7447
//! ```
//!
//! With `--ipc` both processes also link over shared memory (iceoryx2, streamlib's `ipc`
//! feature): the viewer reads the pattern over iceoryx2 (the rule: a process of this host is
//! reached over shared memory) and, through a second, Zenoh-only runtime, over Zenoh too, and
//! prints the per-frame transport time of both side by side.
//!
//! `--help` lists the flags (size, rate, duration, output folder).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use streamlib::prelude::*;
use streamlib::{Clock, NetConfig, OutputRef, RuntimeBuilder, VideoFrame};
use streamlib_examples::actors::{Compositor, Layer, Pattern, Placement, PngSnapshot, TestPattern};
use streamlib_examples::demos::cli::{self, VideoArgs};
use streamlib_examples::demos::report::{describe_file, table, ActorRow};

/// Where the pattern process listens when both halves run here.
const LOCAL_ENDPOINT: &str = "tcp/127.0.0.1:7447";
const PATTERN: &str = "actor://cam-box/TestPattern/bars";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Role {
    /// Both halves on this machine: starts the pattern process, runs the viewer.
    Both,
    /// The test pattern, announced as `actor://cam-box/TestPattern/bars`.
    Pattern,
    /// Compositor + PNG snapshot, reading the remote pattern.
    Viewer,
}

/// Flags of `cargo run --release --example demo_net -- [FLAGS]`.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "demo_net",
    about = "Test pattern in one process, compositor and PNG in another, over Zenoh"
)]
struct Args {
    #[command(flatten)]
    video: VideoArgs,
    /// Which half to run.
    #[arg(long, value_enum, default_value = "both")]
    role: Role,
    /// Zenoh endpoint the pattern process listens on.
    #[arg(long, default_value = LOCAL_ENDPOINT)]
    listen: String,
    /// Zenoh endpoint the viewer dials (the pattern host's).
    #[arg(long, default_value = LOCAL_ENDPOINT)]
    connect: String,
    /// Link the two processes over shared memory too (iceoryx2), and compare with Zenoh.
    #[arg(long)]
    ipc: bool,
}

impl Args {
    /// `builder` with shared memory too when `--ipc` says so.
    fn engines(&self, builder: RuntimeBuilder) -> RuntimeBuilder {
        if self.ipc {
            builder.ipc()
        } else {
            builder
        }
    }
}

/// Frame numbers and stamps of one remote output as read here: how long after the pattern's
/// tick each frame is here (one clock on one machine; across machines only with PTP clocks).
struct Transit {
    engine: &'static str,
    frames: Input<VideoFrame>,
    _link: streamlib::Connection,
    nanos: Vec<u64>,
    received: u64,
}

impl Transit {
    fn new(engine: &'static str, output: &OutputRef<VideoFrame>) -> streamlib::Result<Transit> {
        let frames = Input::new();
        let link = streamlib::connect(output, &frames.to_ref())?;
        Ok(Transit {
            engine,
            frames,
            _link: link,
            nanos: Vec::new(),
            received: 0,
        })
    }

    fn poll(&mut self, now: u64) {
        if self.frames.read_new().is_some() {
            self.received += 1;
            if let Some(stamp) = self.frames.stamp() {
                self.nanos
                    .push(now.saturating_sub(stamp.timestamp.as_nanos()));
            }
        }
    }

    fn report(&mut self, expected: f64, how: &str) {
        self.nanos.sort_unstable();
        if self.nanos.is_empty() {
            println!("{}: no frames received", self.engine);
            return;
        }
        let at = |q: usize| self.nanos[(self.nanos.len() - 1) * q / 100] as f64 / 1e6;
        println!(
            "{:>8}: frames received {} of {expected:.0} expected; tick → here p50 {:.3} ms, p99 {:.3} ms over {} stamped frames ({how})",
            self.engine,
            self.received,
            at(50),
            at(99),
            self.nanos.len()
        );
    }
}

fn main() -> ExitCode {
    streamlib::log::init(); // the runtime's warnings on stderr; `RUST_LOG` filters
    let args = Args::parse();
    let outcome = match args.role {
        Role::Pattern => pattern(&args),
        Role::Viewer => viewer(&args).map(|_| ()),
        Role::Both => both(&args),
    };
    cli::exit_code("demo_net", outcome)
}

type DemoResult<T> = Result<T, streamlib_examples::demos::DemoError>;

/// The pattern half: until stdin closes (when started by `--role both`) or the duration (plus
/// a grace for the viewer to start) passes.
fn pattern(args: &Args) -> DemoResult<()> {
    let rt = args
        .engines(Runtime::builder().host("cam-box"))
        .network(NetConfig::new().listen(&args.listen))
        .build()?;
    let clock = args.video.clock()?;
    let bars = rt.spawn_on(
        TestPattern::new(args.video.width, args.video.height),
        "bars",
        &clock,
    )?;
    let over = if args.ipc { " and shared memory" } else { "" };
    println!("pattern: {PATTERN} announced on {}{over}", args.listen);
    let until = args.video.duration() + Duration::from_secs(10);
    let started = Instant::now();
    let stdin_closed = std::thread::spawn(|| {
        let _ = std::io::stdin().read(&mut [0u8]);
    });
    while started.elapsed() < until && !stdin_closed.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let row = ActorRow::of(&bars.actor_ref(), started.elapsed());
    rt.shutdown();
    println!("\npattern process (cam-box):\n{}", table(&[row]));
    Ok(())
}

/// The viewer half: the remote pattern under a local translucent square, into a PNG.
fn viewer(args: &Args) -> DemoResult<PathBuf> {
    let VideoArgs { width, height, .. } = args.video;
    let png = args.video.out_dir()?.join("net.png");
    let rt = args
        .engines(Runtime::builder().host("view-box"))
        .network(NetConfig::new().connect(&args.connect))
        .build()?;
    let clock = args.video.clock()?;
    let bars = rt.remote::<TestPattern>(PATTERN)?;
    // With --ipc, a second runtime of this process reads the pattern over Zenoh only.
    let zenoh_rt = if args.ipc {
        Some(
            Runtime::builder()
                .host("view-box-zenoh")
                .network(NetConfig::new().connect(&args.connect))
                .build()?,
        )
    } else {
        None
    };
    print!("viewer: waiting for {PATTERN} via {} ... ", args.connect);
    bars.wait_until_running(Duration::from_secs(20))?;
    println!("reachable");

    let square = Placement::Rect {
        x: width as i32 / 3,
        y: height as i32 / 3,
        width: width / 3,
        height: height / 3,
    };
    let mix =
        Compositor::new(width, height).with_layer(1, Layer::new(1).opacity(0.5).placement(square));
    let tint = rt.spawn_on(
        TestPattern::new(64, 64)
            .with_pattern(Pattern::Solid([0, 90, 255, 255]))
            .with_marker(false),
        "tint",
        &clock,
    )?;
    let mix = rt.spawn_on(mix, "mix", &clock)?;
    let snapshot = rt.spawn_on(PngSnapshot::new(&png), "snapshot", &clock)?;
    pipeline! {
        bars.video >> mix.layers;
        tint.video >> mix.layers;
        mix.video >> snapshot.video;
    }?;

    // Transport time of each engine.
    let mut transits = vec![Transit::new(
        if args.ipc { "iceoryx2" } else { "zenoh" },
        &bars.outputs.video,
    )?];
    if let Some(zenoh_rt) = &zenoh_rt {
        let bars = zenoh_rt.remote::<TestPattern>(PATTERN)?;
        bars.wait_until_running(Duration::from_secs(20))?;
        transits.push(Transit::new("zenoh", &bars.outputs.video)?);
    }
    let started = Instant::now();
    while started.elapsed() < args.video.duration() {
        std::thread::sleep(Duration::from_millis(1));
        for transit in &mut transits {
            transit.poll(clock.now().as_nanos());
        }
    }
    let elapsed = started.elapsed();
    let mut rows: Vec<ActorRow> = rt
        .registry()
        .list()
        .iter()
        .filter(|a| !a.is_remote())
        .map(|a| ActorRow::of(a, elapsed))
        .collect();
    if let Ok(remote) = bars.stats(Duration::from_secs(1)) {
        let mut row = ActorRow::from_stats("TestPattern/bars @cam-box", remote, elapsed, 0);
        row.fps = f64::NAN; // its own rate is printed by its process; ticks counted since it started
        rows.insert(0, row);
    }
    rt.shutdown();
    if let Some(zenoh_rt) = zenoh_rt {
        zenoh_rt.shutdown();
    }
    println!("\nviewer process (view-box), with the remote pattern's counters asked over Zenoh:");
    println!("{}", table(&rows));
    let expected = elapsed.as_secs_f64() * f64::from(args.video.fps);
    println!("transport time per frame (read here every 1 ms, so up to 1 ms of it is polling):");
    for transit in &mut transits {
        let how = match transit.engine {
            "zenoh" => "encode, Zenoh over loopback TCP, decode",
            _ => "one copy into shared memory, the reader borrows the sample",
        };
        transit.report(expected, how);
    }
    println!("output: {}", describe_file(&png));
    Ok(png)
}

/// Both halves: the pattern as a child process of this one.
fn both(args: &Args) -> DemoResult<()> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(
            std::env::args()
                .skip(1)
                .filter(|a| a != "--role" && a != "both"),
        )
        .args(["--role", "pattern"])
        .stdin(Stdio::piped())
        .spawn()?;
    let outcome = viewer(args);
    drop(child.stdin.take()); // the pattern process ends when its stdin closes
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait()?.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if child.try_wait()?.is_none() {
        child.kill()?;
    }
    outcome.map(|_| ())
}
