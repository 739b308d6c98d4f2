//! Recording and replay (feature `record`):
//!
//! - `record_720p`: 60 frames of 1280×720 RGBA written through a [`Recorder`] (tap → queue →
//!   writer thread → MCAP file, finished) beside the floor: the same bytes written with
//!   `File::write_all` through the same 1 MiB `BufWriter`, flushed and closed (neither syncs). Throughput in bytes/s of frame data. Then, outside criterion,
//!   a 720p RGBA source recorded for 3 s at 60 fps on a software clock: frames recorded and
//!   dropped (the requirement: none dropped).
//! - `replay_1000_ticks`: a recording of 1,000 ticks replayed into a 10-actor chain (a `Replay`
//!   source and 9 stages) on a [`ManualClock`], beside the floor: the same 10 process calls per
//!   tick in a plain loop on one thread. Time per 1,000 ticks (ticks/s = 1,000 / that).
//!
//! Run: `cargo bench -p streamlib --features record --bench record`

use std::io::Write;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use streamlib::record::{Recorder, RecorderOptions, Recording};
use streamlib::{
    connect, Actor, Input, InputRef, ManualClock, Output, OutputRef, PixelFormat, PortBinder,
    Process, ProcessResult, Rate, Runtime, SoftwareClock, Tick, Timestamp, VideoFrame,
};

const W: u32 = 1280;
const H: u32 = 720;

fn frame(n: u64) -> VideoFrame {
    let bytes: Vec<u8> = (0..(W * H * 4) as usize)
        .map(|i| (i as u64 ^ n) as u8)
        .collect();
    VideoFrame::new(W, H, PixelFormat::Rgba8, bytes, Timestamp::from_nanos(n), n).unwrap()
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("streamlib-bench-{}-{name}", std::process::id()))
}

/// Writes a frame per tick.
struct Camera {
    video: Output<VideoFrame>,
    frame: VideoFrame,
}

impl Actor for Camera {
    type Inputs = ();
    type Outputs = OutputRef<VideoFrame>;
    fn class_name() -> &'static str {
        "Camera"
    }
    fn bind_ports(&self, p: &mut PortBinder<'_>) -> ((), OutputRef<VideoFrame>) {
        ((), p.output("video", &self.video))
    }
}

impl Process for Camera {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        self.video.write(self.frame.clone());
        Ok(())
    }
}

fn record_720p(c: &mut Criterion) {
    let frames: Vec<VideoFrame> = (0..60).map(frame).collect();
    let bytes = frames.len() as u64 * u64::from(W * H * 4);
    let mut group = c.benchmark_group("record_720p");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("recorder_60_frames", |b| {
        b.iter(|| {
            let path = temp("720p.mcap");
            let recorder = Recorder::with_options(
                &path,
                RecorderOptions {
                    queue: 64,
                    ..RecorderOptions::default()
                },
            )
            .unwrap();
            let output = Output::<VideoFrame>::new();
            recorder.record(&output.to_ref()).unwrap();
            for f in &frames {
                output.write(f.clone());
            }
            let stats = recorder.finish().unwrap();
            assert_eq!(stats.dropped, 0, "{stats:?}");
            std::fs::remove_file(&path).ok();
        })
    });
    group.bench_function("floor_file_write_all", |b| {
        b.iter(|| {
            let path = temp("720p.raw");
            let mut file =
                std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
            for f in &frames {
                file.write_all(f.data()).unwrap();
            }
            // Flushed and closed, not synced: the recorder does not fsync either.
            drop(file.into_inner().unwrap());
            std::fs::remove_file(&path).ok();
        })
    });
    group.finish();
    realtime_720p_at_60fps();
}

/// 720p RGBA at 60 fps for 3 s on a software clock, recorded with the default queue.
fn realtime_720p_at_60fps() {
    let rt = Runtime::new();
    let clock = SoftwareClock::new(Rate::fps(60).unwrap());
    let camera = rt
        .spawn_on(
            Camera {
                video: Output::new(),
                frame: frame(7),
            },
            "cam",
            &clock,
        )
        .unwrap();
    let path = temp("realtime.mcap");
    let recorder = Recorder::create(&path).unwrap();
    recorder.record(&camera.outputs).unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    rt.shutdown();
    let ticks = camera.stats().ticks;
    let stats = recorder.finish().unwrap();
    let elapsed = started.elapsed();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "record_720p/realtime_60fps_3s: {ticks} ticks, {} frames recorded, {} dropped, {:.0} MB/s of messages over {:.2} s (file {:.0} MB)",
        stats.recorded,
        stats.dropped,
        stats.bytes as f64 / elapsed.as_secs_f64() / 1e6,
        elapsed.as_secs_f64(),
        size as f64 / 1e6
    );
    std::fs::remove_file(&path).ok();
}

/// A source written into the recording.
struct Source {
    value: Output<u64>,
}

impl Actor for Source {
    type Inputs = ();
    type Outputs = OutputRef<u64>;
    fn class_name() -> &'static str {
        "Source"
    }
    fn bind_ports(&self, p: &mut PortBinder<'_>) -> ((), OutputRef<u64>) {
        ((), p.output("value", &self.value))
    }
}

impl Process for Source {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value
            .write(tick.frame_number.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        Ok(())
    }
}

/// A stage: reads, mixes, writes.
#[derive(Default)]
struct Stage {
    value: Input<u64>,
    out: Output<u64>,
}

impl Actor for Stage {
    type Inputs = InputRef<u64>;
    type Outputs = OutputRef<u64>;
    fn class_name() -> &'static str {
        "Stage"
    }
    fn bind_ports(&self, p: &mut PortBinder<'_>) -> (InputRef<u64>, OutputRef<u64>) {
        (p.input("value", &self.value), p.output("value", &self.out))
    }
}

impl Process for Stage {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.out.write(v.rotate_left(7) ^ 0x5555);
        }
        Ok(())
    }
}

/// A recording of 1,000 ticks of a source (on a manual clock).
fn recording_of_1000_ticks() -> Recording {
    let path = temp("replay-src.mcap");
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(60).unwrap());
    let source = rt
        .spawn_on(
            Source {
                value: Output::new(),
            },
            "src",
            &clock,
        )
        .unwrap();
    let recorder = Recorder::with_options(
        &path,
        RecorderOptions {
            queue: 2048,
            ..RecorderOptions::default()
        },
    )
    .unwrap();
    recorder.record(&source.outputs).unwrap();
    clock.step_n(1000).unwrap();
    rt.shutdown();
    assert_eq!(recorder.finish().unwrap().recorded, 1000);
    let recording = Recording::open(&path).unwrap();
    std::fs::remove_file(&path).ok();
    recording
}

fn replay_1000_ticks(c: &mut Criterion) {
    let recording = recording_of_1000_ticks();
    let mut group = c.benchmark_group("replay_1000_ticks");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1000));
    group.bench_function("manual_clock_10_actors", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let rt = Runtime::new();
                let clock = ManualClock::new(Rate::fps(60).unwrap());
                let source = rt
                    .spawn_on(
                        recording
                            .replay::<u64>("actor://local/Source/src.value")
                            .unwrap(),
                        "src",
                        &clock,
                    )
                    .unwrap();
                let mut upstream = source.outputs.value.clone();
                let mut last = None;
                for i in 0..9 {
                    let stage = rt
                        .spawn_on(Stage::default(), &format!("s{i}"), &clock)
                        .unwrap();
                    connect(&upstream, &stage.inputs).unwrap();
                    upstream = stage.outputs.clone();
                    last = Some(stage);
                }
                let started = Instant::now();
                clock.step_n(1000).unwrap();
                total += started.elapsed();
                assert!(last.unwrap().outputs.read_latest().is_some());
                rt.shutdown();
            }
            total
        })
    });
    group.bench_function("floor_plain_loop_10_calls", |b| {
        // The same work without a scheduler: 10 process calls per tick on this thread.
        let values: Vec<u64> = recording
            .values::<u64>("actor://local/Source/src.value")
            .unwrap()
            .iter()
            .map(|r| *r.value)
            .collect();
        let stages: Vec<Output<u64>> = (0..10).map(|_| Output::new()).collect();
        let refs: Vec<OutputRef<u64>> = stages.iter().map(|o| o.to_ref()).collect();
        b.iter(|| {
            for &v in &values {
                stages[0].write(v);
                for i in 1..10 {
                    let read = refs[i - 1].read_latest().map_or(0, |x| *x);
                    stages[i].write(read.rotate_left(7) ^ 0x5555);
                }
            }
            std::hint::black_box(refs[9].read_latest())
        })
    });
    group.finish();
}

criterion_group!(benches, record_720p, replay_1000_ticks);
criterion_main!(benches);
