//! The reference video actors beside GStreamer, measured in one run.
//!
//! The same pipeline shape on both sides: two test patterns → a compositor whose second layer
//! is drawn at opacity 0.6 → a sink that takes each frame and does nothing with it.
//!
//! ```text
//! streamlib:  TestPattern ×2 → Compositor (layer 1 opacity 0.6) → FrameSink
//! GStreamer:  videotestsrc ×2 → compositor (sink_1::alpha=0.6) → fakesink
//! ```
//!
//! For each size (720p and 1080p by default), each run measures:
//!
//! - **synced**: `--frames` frames at 60 fps (streamlib on a 60 fps `SoftwareClock`, GStreamer
//!   with `fakesink sync=true`), CPU time of the whole process (user + system, `getrusage`)
//!   divided by the frames that reached the sink;
//! - **unsynced**: the same frames as fast as they go (streamlib on a clock far faster than the
//!   pipeline, whose late ticks are skipped, so each tick starts as soon as the previous one is
//!   done; GStreamer with `sync=false`), frames per second of wall time.
//!
//! streamlib runs twice: in RGBA8 (the reference actors' default) and in I420
//! (`TestPattern::with_format` and `Compositor::with_format`), the format GStreamer's I420 row
//! uses too.
//!
//! GStreamer runs as a child `gst-launch-1.0` process (its CPU time read with
//! `getrusage(RUSAGE_CHILDREN)`, start-up included, as streamlib's includes building its
//! pipeline), once with `format=RGBA` (the pixel format of the reference actors) and once with
//! `format=I420` (GStreamer's cheapest). Without `gst-launch-1.0` on the `PATH` those rows are
//! skipped with the reason printed. Runs alternate between the two sides; the figures are
//! medians over `--runs` runs.
//!
//! Run: `cargo bench -p streamlib-examples --bench video [-- --runs 3 --frames 600 --sizes 720p,1080p]`

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use streamlib::prelude::*;
use streamlib::{PixelFormat, Rate, SoftwareClock, VideoFrame};
use streamlib_examples::actors::{Compositor, Layer, TestPattern};
use streamlib_examples::demos::report::{children_cpu_time, process_cpu_time};

/// The rate of the synced runs.
const FPS: u32 = 60;
/// The clock of the unsynced runs: every tick is late, so the next starts at once.
const UNSYNCED_FPS: u32 = 100_000;
/// Opacity of the second layer.
const OPACITY: f32 = 0.6;

/// Takes each new frame and counts it, as `fakesink` does.
#[actor]
struct FrameSink {
    #[input]
    video: Input<VideoFrame>,
    /// Frames received so far.
    #[output]
    received: Output<u64>,
    count: u64,
}

impl Process for FrameSink {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if self.video.read_new().is_some() {
            self.count += 1;
            self.received.write(self.count);
        }
        Ok(())
    }
}

/// What one run measured.
#[derive(Clone, Debug)]
struct Measured {
    /// CPU time per frame that reached the sink.
    cpu_per_frame: Duration,
    /// Frames per second of wall time.
    fps: f64,
    /// Median `process` time of each actor (streamlib only).
    actors: Vec<(String, Duration)>,
}

/// What one run asks for: the frame size, how many frames, at 60 fps or as fast as they go.
#[derive(Clone, Copy, Debug)]
struct Shape {
    size: (u32, u32),
    frames: u64,
    synced: bool,
}

/// One side of the comparison at one size.
trait Contender {
    fn name(&self) -> String;
    /// The pixel format it composites in.
    fn format(&self) -> PixelFormat;
    /// Whether it is the peer (GStreamer) the others are compared with.
    fn is_peer(&self) -> bool {
        false
    }
    fn run(&self, shape: Shape) -> Result<Measured, String>;
}

/// The format's name in GStreamer caps (and in the tables).
fn caps_name(format: PixelFormat) -> &'static str {
    match format {
        PixelFormat::Rgba8 => "RGBA",
        _ => format.name(),
    }
}

struct Streamlib {
    format: PixelFormat,
}

impl Contender for Streamlib {
    fn name(&self) -> String {
        format!("streamlib {}", caps_name(self.format))
    }

    fn format(&self) -> PixelFormat {
        self.format
    }

    fn run(&self, shape: Shape) -> Result<Measured, String> {
        let ((width, height), frames, synced) = (shape.size, shape.frames, shape.synced);
        let cpu_before = process_cpu_time().ok_or("getrusage failed")?;
        let started = Instant::now();
        let rate = if synced { FPS } else { UNSYNCED_FPS };
        let clock = SoftwareClock::new(Rate::fps(rate).map_err(|e| e.to_string())?);
        let rt = Runtime::new();
        let format = self.format;
        let invalid = |e: streamlib_examples::actors::i420::OutputFormatError| e.to_string();
        let pattern = || TestPattern::new(width, height).with_format(format);
        let (a, b) = (pattern().map_err(invalid)?, pattern().map_err(invalid)?);
        let mix = Compositor::new(width, height)
            .with_format(format)
            .map_err(invalid)?
            .with_layer(1, Layer::new(1).opacity(OPACITY));
        let spawn = || -> streamlib::Result<_> {
            let a = rt.spawn_on(a, "a", &clock)?;
            let b = rt.spawn_on(b, "b", &clock)?;
            let mix = rt.spawn_on(mix, "mix", &clock)?;
            let sink = FrameSink {
                video: Input::new(),
                received: Output::new(),
                count: 0,
            };
            let sink = rt.spawn_on(sink, "sink", &clock)?;
            pipeline! {
                a.video >> mix.layers -> video >> sink.video;
                b.video >> mix.layers;
            }?;
            Ok(sink)
        };
        let sink = spawn().map_err(|e| e.to_string())?;
        let received = || sink.outputs.received.read_latest().map_or(0, |n| *n);
        let deadline = started + Duration::from_secs(60 + 2 * frames / u64::from(FPS));
        while received() < frames && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        let got = received();
        let actors = rt
            .registry()
            .list()
            .iter()
            .map(|a| (a.uri().class().to_string(), a.stats().process_p50))
            .collect();
        rt.shutdown();
        let wall = started.elapsed();
        let cpu = process_cpu_time().ok_or("getrusage failed")? - cpu_before;
        if got < frames {
            return Err(format!("only {got} of {frames} frames within a minute"));
        }
        Ok(Measured {
            cpu_per_frame: cpu / got as u32,
            fps: got as f64 / wall.as_secs_f64(),
            actors,
        })
    }
}

struct GStreamer {
    format: PixelFormat,
}

impl Contender for GStreamer {
    fn name(&self) -> String {
        format!("GStreamer {}", caps_name(self.format))
    }

    fn format(&self) -> PixelFormat {
        self.format
    }

    fn is_peer(&self) -> bool {
        true
    }

    fn run(&self, shape: Shape) -> Result<Measured, String> {
        let ((width, height), frames, synced) = (shape.size, shape.frames, shape.synced);
        let caps = format!(
            "video/x-raw,format={},width={width},height={height},framerate={FPS}/1",
            caps_name(self.format)
        );
        let source = format!("videotestsrc num-buffers={frames} ! {caps}");
        let launch = format!(
            "compositor name=mix sink_1::alpha={OPACITY} ! {caps} ! fakesink sync={synced} \
             {source} ! mix.sink_0 {source} ! mix.sink_1"
        );
        let cpu_before = children_cpu_time().ok_or("getrusage failed")?;
        let started = Instant::now();
        let status = Command::new("gst-launch-1.0")
            .arg("-q")
            .args(launch.split_whitespace())
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("gst-launch-1.0: {e}"))?;
        let wall = started.elapsed();
        let cpu = children_cpu_time().ok_or("getrusage failed")? - cpu_before;
        if !status.success() {
            return Err(format!("gst-launch-1.0 {launch}: {status}"));
        }
        Ok(Measured {
            cpu_per_frame: cpu / frames as u32,
            fps: frames as f64 / wall.as_secs_f64(),
            actors: Vec::new(),
        })
    }
}

/// `gst-launch-1.0` and the plugins of the pipeline, or why not.
fn gstreamer_missing() -> Option<String> {
    let inspect = |plugin: &str| {
        Command::new("gst-inspect-1.0")
            .arg(plugin)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
    };
    match Command::new("gst-launch-1.0").arg("--version").output() {
        Err(e) => return Some(format!("gst-launch-1.0 cannot run ({e})")),
        Ok(out) if !out.status.success() => return Some("gst-launch-1.0 --version failed".into()),
        Ok(_) => {}
    }
    for plugin in ["videotestsrc", "compositor", "fakesink"] {
        if !inspect(plugin).is_ok_and(|s| s.success()) {
            return Some(format!("the GStreamer element `{plugin}` is not installed"));
        }
    }
    None
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

struct Options {
    runs: usize,
    frames: u64,
    sizes: Vec<(String, (u32, u32))>,
}

/// `--runs N`, `--frames N`, `--sizes 720p,1080p`; anything else (`--bench` from cargo) ignored.
fn options() -> Options {
    let mut options = Options {
        runs: 3,
        frames: 600,
        sizes: vec![("720p".into(), (1280, 720)), ("1080p".into(), (1920, 1080))],
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--runs" => options.runs = pair[1].parse().expect("--runs N"),
            "--frames" => options.frames = pair[1].parse().expect("--frames N"),
            "--sizes" => {
                options.sizes = pair[1]
                    .split(',')
                    .map(|name| {
                        let size = match name {
                            "720p" => (1280, 720),
                            "1080p" => (1920, 1080),
                            "360p" => (640, 360),
                            other => panic!("unknown size {other}: 360p, 720p or 1080p"),
                        };
                        (name.to_string(), size)
                    })
                    .collect()
            }
            _ => {}
        }
    }
    options
}

fn main() {
    let options = options();
    let mut contenders: Vec<Box<dyn Contender>> = vec![
        Box::new(Streamlib {
            format: PixelFormat::Rgba8,
        }),
        Box::new(Streamlib {
            format: PixelFormat::I420,
        }),
    ];
    match gstreamer_missing() {
        None => {
            contenders.push(Box::new(GStreamer {
                format: PixelFormat::Rgba8,
            }));
            contenders.push(Box::new(GStreamer {
                format: PixelFormat::I420,
            }));
        }
        Some(reason) => println!("GStreamer skipped: {reason}"),
    }
    println!(
        "two test patterns -> compositor (layer 1 at opacity {OPACITY}) -> sink; {} frames, median of {} runs",
        options.frames, options.runs
    );
    for (name, size) in &options.sizes {
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); contenders.len()];
        let mut fps: Vec<Vec<f64>> = vec![Vec::new(); contenders.len()];
        let mut actors = vec![Vec::new(); contenders.len()];
        for _ in 0..options.runs {
            for (i, contender) in contenders.iter().enumerate() {
                for synced in [true, false] {
                    let shape = Shape {
                        size: *size,
                        frames: options.frames,
                        synced,
                    };
                    match contender.run(shape) {
                        Ok(m) if synced => {
                            cpu[i].push(m.cpu_per_frame.as_secs_f64() * 1e3);
                            if !m.actors.is_empty() {
                                actors[i] = m.actors;
                            }
                        }
                        Ok(m) => fps[i].push(m.fps),
                        Err(e) => println!("{} {name}: {e}", contender.name()),
                    }
                }
            }
        }
        println!(
            "\n{name} ({}x{})  {:<16} {:>16} {:>14} {:>18} {:>16}",
            size.0,
            size.1,
            "",
            "CPU/frame @60",
            "share of core",
            "÷ GStreamer, same format",
            "unsynced fps"
        );
        let medians: Vec<Option<f64>> = cpu
            .iter()
            .zip(&fps)
            .map(|(cpu, fps)| (!cpu.is_empty() && !fps.is_empty()).then(|| median(cpu.clone())))
            .collect();
        for (i, contender) in contenders.iter().enumerate() {
            let Some(ms) = medians[i] else { continue };
            // A streamlib row against the GStreamer row of its pixel format.
            let peer = contenders.iter().zip(&medians).find_map(|(other, ms)| {
                let same = other.is_peer() && other.format() == contender.format();
                (same && !contender.is_peer()).then_some(*ms).flatten()
            });
            let ratio = peer.map_or("—".to_owned(), |peer| format!("{:.2}x", ms / peer));
            println!(
                "  {:<28} {:>13.2} ms {:>13.1} % {:>24} {:>16.0}",
                contender.name(),
                ms,
                ms * f64::from(FPS) / 10.0,
                ratio,
                median(fps[i].clone())
            );
        }
        for (contender, actors) in contenders.iter().zip(&actors) {
            if actors.is_empty() {
                continue;
            }
            println!(
                "  {} process p50 per actor (last synced run): {}",
                contender.name(),
                actors
                    .iter()
                    .map(|(class, p50)| format!("{class} {:.2} ms", p50.as_secs_f64() * 1e3))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        println!(
            "  runs (CPU ms/frame): {}",
            contenders
                .iter()
                .zip(&cpu)
                .map(|(c, v)| format!("{} {:.2?}", c.name(), v))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
}
