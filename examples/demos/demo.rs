//! `demo`: the first thing to run.
//!
//! ```text
//! TestPattern ─video→ layers ┐
//!                            Compositor ─video→ Display, PngSnapshot, Y4mRecorder
//! Drawing     ─video→ layers ┘
//! ```
//!
//! All six actors share one video clock at `--fps`. While the pipeline runs, a live line per
//! actor shows its rate, late and skipped ticks, `process` time and dropped frames; at the end
//! the demo prints a summary table, the files it wrote, and the pipeline graph as DOT (and SVG
//! when Graphviz is installed). With `--docs` it also refreshes the README's pictures.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use streamlib::prelude::*;
use streamlib::ActorStats;

use crate::actors::png_snapshot::numbered_path;
use crate::actors::{
    Compositor, Drawing, PngSnapshot, RecordingProgress, TestPattern, Y4mRecorder,
};

use super::cli::{run_video, VideoArgs};
use super::report::{
    describe_file, frame_budget, process_cpu_time, table, write_graph, ActorRow, LiveView,
};
use super::DemoError;

/// Flags of `cargo run --release --example demo -- [FLAGS]`.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "demo",
    about = "streamlib's main demo: bars, an animated overlay, a compositor, a window, PNG and Y4M outputs"
)]
pub struct Args {
    #[command(flatten)]
    pub video: VideoArgs,
    /// Seconds of clock time between PNG snapshots.
    #[arg(long, default_value_t = 1.0)]
    pub snapshot_every: f64,
    /// Also copy the last frame and the graph to the repository's docs/ (README pictures).
    #[arg(long)]
    pub docs: bool,
}

/// What the demo wrote and measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// The last frame, as PNG.
    pub png: PathBuf,
    /// The periodic snapshots, oldest first.
    pub snapshots: Vec<PathBuf>,
    /// The recording.
    pub y4m: PathBuf,
    /// The recorder's final counters.
    pub recording: RecordingProgress,
    /// The recorder's actor counters (ticks, skipped ticks).
    pub recorder_stats: ActorStats,
    /// The pipeline graph.
    pub dot: PathBuf,
    /// The graph rendered, when `dot` is installed.
    pub svg: Option<PathBuf>,
    /// Time from wiring to the start of shutdown.
    pub ran_for: Duration,
    /// Time from wiring to the end of shutdown.
    pub ran_until_stopped: Duration,
    /// The summary, one row per actor.
    pub rows: Vec<ActorRow>,
    /// CPU time of the whole process (all threads) per frame the compositor sent, from start to
    /// shutdown; `None` where it cannot be measured.
    pub cpu_per_frame: Option<Duration>,
}

/// Runs the demo; see the module docs.
pub fn run(args: &Args) -> Result<Report, DemoError> {
    let VideoArgs {
        width, height, fps, ..
    } = args.video;
    let out = args.video.out_dir()?;
    let png = out.join("demo.png");
    let y4m = out.join("demo.y4m");

    let cpu_at_start = process_cpu_time();
    let rt = super::cli::runtime()?;
    let clock = args.video.clock()?;
    let display = args.video.display("streamlib demo");
    let snapshot_every = Duration::from_secs_f64(args.snapshot_every.max(0.01));

    let pattern = rt.spawn_on(TestPattern::new(width, height), "pattern", &clock)?;
    let overlay = rt.spawn_on(Drawing::new(width, height), "overlay", &clock)?;
    let mix = rt.spawn_on(Compositor::new(width, height), "mix", &clock)?;
    let window = rt.spawn_on(display, "window", &clock)?;
    let snapshot = rt.spawn_on(
        PngSnapshot::new(&png).every(snapshot_every).numbered(),
        "snapshot",
        &clock,
    )?;
    let recorder = rt.spawn_on(Y4mRecorder::new(&y4m), "recorder", &clock)?;

    let pipeline = pipeline! {
        pattern.video >> mix.layers -> video >> window.video;
        overlay.video >> mix.layers;
        mix.video >> snapshot.video;
        mix.video >> recorder.video;
    }?;
    println!(
        "streamlib demo: {width}x{height} at {fps} fps for {} s, {} actors, {} connections",
        args.video.duration,
        rt.registry().len(),
        pipeline.len()
    );

    let mut live = LiveView::new(rt.registry().list(), args.video.quiet);
    let ran_for = run_video(&args.video, &mut live, Some(&window), || {
        let recording = recorder.outputs.progress.read_latest().unwrap_or_default();
        format!(
            "recording: {} frames written, {} dropped, {:.1} MB",
            recording.written,
            recording.dropped,
            recording.bytes as f64 / 1e6
        )
    });
    let dot = pipeline.to_dot();
    let stopping = Instant::now();
    rt.shutdown();
    let ran_until_stopped = ran_for + stopping.elapsed();
    let cpu = process_cpu_time()
        .zip(cpu_at_start)
        .map(|(end, start)| end - start);
    let frames = mix.stats().ticks;

    let rows = live.rows(ran_for);
    let recording = recorder
        .outputs
        .progress
        .read_latest()
        .map(|p| (*p).clone())
        .unwrap_or_default();
    let (dot_path, svg) = write_graph(&dot, out, "demo")?;
    let snapshots = (1..)
        .map(|n| numbered_path(&png, n))
        .take_while(|p| p.exists())
        .collect::<Vec<_>>();

    println!("\n{}", table(&rows));
    println!("{}", frame_budget(&rows, fps, frames, cpu));
    println!("outputs:");
    println!("  last frame   {}", describe_file(&png));
    println!("  snapshots    {}", describe_series(&snapshots));
    println!(
        "  recording    {} — {} frames, {} dropped",
        describe_file(&y4m),
        recording.written,
        recording.dropped
    );
    println!(
        "               play it: mpv {0}  or  ffplay {0}",
        y4m.display()
    );
    println!("  graph        {}", describe_file(&dot_path));
    match &svg {
        Some(svg) => println!("  graph (SVG)  {}", describe_file(svg)),
        None => println!("  graph (SVG)  not rendered: Graphviz's `dot` is not installed"),
    }
    if args.docs {
        refresh_docs(&png, &dot_path, svg.as_deref())?;
    }
    Ok(Report {
        png,
        snapshots,
        y4m,
        recording,
        recorder_stats: recorder.stats(),
        dot: dot_path,
        svg,
        ran_for,
        ran_until_stopped,
        rows,
        cpu_per_frame: cpu.filter(|_| frames > 0).map(|c| c / frames as u32),
    })
}

/// Copies the README pictures into the repository's `docs/`: the last frame, and the graph as
/// SVG (or as DOT when Graphviz is not installed).
fn refresh_docs(png: &Path, dot: &Path, svg: Option<&Path>) -> std::io::Result<()> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = examples.parent().unwrap_or(examples).join("docs");
    std::fs::create_dir_all(&docs)?;
    std::fs::copy(png, docs.join("demo.png"))?;
    match svg {
        Some(svg) => std::fs::copy(svg, docs.join("pipeline.svg"))?,
        None => std::fs::copy(dot, docs.join("pipeline.dot"))?,
    };
    println!("  docs         refreshed {}", docs.display());
    Ok(())
}

/// `3 files: out/demo-001.png … out/demo-003.png`.
fn describe_series(paths: &[PathBuf]) -> String {
    match paths {
        [] => "none".to_string(),
        [only] => format!("1 file: {}", only.display()),
        [first, .., last] => format!(
            "{} files: {} … {}",
            paths.len(),
            first.display(),
            last.display()
        ),
    }
}
