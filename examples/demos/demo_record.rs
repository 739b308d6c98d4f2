//! `demo_record`: record a pipeline into an MCAP file, replay it on a manual clock, compare.
//!
//! ```text
//! record (software clock, --fps):   TestPattern ─video→ layers┐
//!                                                             Compositor ─video→   (4 channels → out/demo.mcap)
//!                                   Drawing     ─video→ layers┘
//!                                   KeyScript   ─keys→ (key events, some ticks two at once)
//! replay (manual clock, flat out):  Replay(pattern) → layers┐
//!                                                            fresh Compositor ─video→ compared with the recorded composite
//!                                   Replay(overlay) → layers┘
//!                                   Replay(keys) ─→ KeyLog (#[input(queue = 64)]) → compared with the recorded events
//! ```
//!
//! The key events stand for a keyboard (the demo has no window): a scripted source presses and
//! releases keys, two events in one tick every tenth frame (the release of one, the press of the
//! next). Their channel is recorded like the video; replayed, a tick can carry several events,
//! which a queued input delivers in order where a latest-value input would keep only the last.
//!
//! The three video outputs are recorded for `--duration` seconds of a real clock (the composite
//! also as `sensor_msgs/msg/Image` on `<its URI>/image`, for Foxglove's Image panel); then the two
//! sources are replayed from the file into a fresh compositor on a [`ManualClock`], as fast as
//! the machine goes, and every composite is compared with the recorded one, byte for byte
//! (size, pixel format and pixels; the frame number and timestamp inside a replayed frame are
//! the replay clock's). The recorder's taps are installed while the pipeline already runs, so
//! the frames up to the first one where all three channels have a value, that one included (its
//! tick may have run while the pipeline was still being wired: a warm-up of a tick or two), are
//! left out of the comparison and counted.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use streamlib::prelude::*;
use streamlib::record::{Recorder, RecorderOptions, Recording};
use streamlib::{Key, KeyEvent, KeyState, Modifiers, Rate, SoftwareClock, VideoFrame};

use crate::actors::{Compositor, Drawing, TestPattern};

use super::DemoError;

/// Flags of `cargo run --release --example demo_record -- [FLAGS]`.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "demo_record",
    about = "record test pattern + overlay + composite into out/demo.mcap, replay on a manual clock, compare frame for frame"
)]
pub struct Args {
    /// Frame width.
    #[arg(long, default_value_t = 640)]
    pub width: u32,
    /// Frame height.
    #[arg(long, default_value_t = 360)]
    pub height: u32,
    /// Frames per second of the recording clock.
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// Seconds to record.
    #[arg(long, default_value_t = 3.0)]
    pub duration: f64,
    /// Output folder.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

/// What the demo recorded, replayed and compared.
#[derive(Clone, Debug)]
pub struct Report {
    /// The recording.
    pub mcap: PathBuf,
    /// Values written to the file (all channels).
    pub recorded: u64,
    /// Values the recorder dropped (the disk did not keep up).
    pub dropped: u64,
    /// Message bytes written.
    pub bytes: u64,
    /// Message bytes per second of recording.
    pub write_throughput: f64,
    /// Composites recorded.
    pub composites: usize,
    /// Composites compared (those after the warm-up).
    pub compared: usize,
    /// Of those, equal byte for byte.
    pub matched: usize,
    /// Recorded composites left out: those of the ticks until all three channels were recorded.
    pub warm_up: usize,
    /// Key events recorded.
    pub keys_recorded: usize,
    /// Key events the replay delivered, in the recorded order, through a queued input.
    pub keys_replayed: usize,
    /// Ticks the replay ran.
    pub replay_ticks: u64,
    /// Time the replay took.
    pub replay_time: Duration,
}

const PATTERN: &str = "actor://local/TestPattern/pattern.video";
const OVERLAY: &str = "actor://local/Drawing/overlay.video";
const MIX: &str = "actor://local/Compositor/mix.video";
const KEYS: &str = "actor://local/KeyScript/keys.keys";

/// Presses a key every tenth frame and releases it ten frames later, in the same tick as the
/// next press: two events in one tick.
#[actor]
#[derive(Default)]
pub struct KeyScript {
    /// The key events.
    #[output]
    pub keys: Output<KeyEvent>,
}

impl Process for KeyScript {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        if !tick.frame_number.is_multiple_of(10) {
            return Ok(());
        }
        let n = tick.frame_number / 10;
        let key = Key::Character(char::from(b'a' + (n % 26) as u8));
        let event = |key, state| KeyEvent::new(key, state, Modifiers::NONE, tick.timestamp);
        if n > 0 {
            let previous = Key::Character(char::from(b'a' + ((n - 1) % 26) as u8));
            self.keys.write(event(previous, KeyState::Released));
        }
        self.keys.write(event(key, KeyState::Pressed));
        Ok(())
    }
}

/// Keeps every key event it receives, in order: a queued input, so two in one tick are two.
#[actor]
pub struct KeyLog {
    /// The key events.
    #[input(queue = 64)]
    pub keys: Input<KeyEvent>,
    /// What arrived, shared with the demo.
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<KeyEvent>>>,
}

impl Process for KeyLog {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let events: Vec<KeyEvent> = self.keys.drain().map(|e| *e).collect();
        if let Ok(mut seen) = self.seen.lock() {
            seen.extend(events);
        }
        Ok(())
    }
}

/// Runs the demo; see the module docs.
pub fn run(args: &Args) -> Result<Report, DemoError> {
    let (width, height, fps) = (args.width, args.height, args.fps);
    std::fs::create_dir_all(&args.out)?;
    let mcap = args.out.join("demo.mcap");

    // 1. Record on a real clock.
    let rt = Runtime::new();
    let clock = SoftwareClock::new(Rate::fps(fps)?);
    let pattern = rt.spawn_on(TestPattern::new(width, height), "pattern", &clock)?;
    let overlay = rt.spawn_on(Drawing::new(width, height), "overlay", &clock)?;
    let mix = rt.spawn_on(Compositor::new(width, height), "mix", &clock)?;
    pipeline! {
        pattern.video >> mix.layers;
        overlay.video >> mix.layers;
    }?;
    let keys = rt.spawn_on(KeyScript::default(), "keys", &clock)?;
    let recorder = Recorder::with_options(
        &mcap,
        RecorderOptions {
            queue: 256,
            ..RecorderOptions::default()
        },
    )?;
    recorder.record(&pattern.outputs.video)?;
    recorder.record(&overlay.outputs.video)?;
    // The composite also as `sensor_msgs/msg/Image`, which Foxglove's Image panel draws.
    recorder.record_image(&mix.outputs.video)?;
    recorder.record(&keys.outputs.keys)?;
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(args.duration.max(0.0)));
    rt.shutdown();
    let recorded_for = started.elapsed();
    let stats = recorder.finish()?;
    let written_in = started.elapsed();
    let file_size = std::fs::metadata(&mcap)?.len();
    let write_throughput = stats.bytes as f64 / written_in.as_secs_f64();
    println!(
        "recorded {:.2} s of {width}x{height} RGBA at {fps} fps: {} values, {} dropped, {:.1} MB of messages, file {} ({:.1} MB), written at {:.1} MB/s",
        recorded_for.as_secs_f64(),
        stats.recorded,
        stats.dropped,
        stats.bytes as f64 / 1e6,
        mcap.display(),
        file_size as f64 / 1e6,
        write_throughput / 1e6,
    );

    // 2. Read it back.
    let opened = Instant::now();
    let recording = Recording::open(&mcap)?;
    let recorded_mix: HashMap<u64, VideoFrame> = recording
        .values::<VideoFrame>(MIX)?
        .into_iter()
        .map(|r| (r.frame_number, (*r.value).clone()))
        .collect();
    println!(
        "opened in {:.1} ms: {}",
        opened.elapsed().as_secs_f64() * 1e3,
        recording
            .channels()
            .iter()
            .map(|c| format!("{} ({}, {} values)", c.topic, c.payload_type, c.messages))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let first = recording.first_frame().unwrap_or(0);
    let complete = first_complete_frame(&recording)?;

    // 3. Replay the sources into a fresh compositor on a manual clock, compare each composite.
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(fps)?);
    let pattern = rt.spawn_on(recording.replay::<VideoFrame>(PATTERN)?, "pattern", &clock)?;
    let overlay = rt.spawn_on(recording.replay::<VideoFrame>(OVERLAY)?, "overlay", &clock)?;
    let mix = rt.spawn_on(Compositor::new(width, height), "mix", &clock)?;
    pipeline! {
        pattern.value >> mix.layers;
        overlay.value >> mix.layers;
    }?;
    let recorded_keys: Vec<KeyEvent> = recording
        .values::<KeyEvent>(KEYS)?
        .iter()
        .map(|r| *r.value)
        .collect();
    let key_log = KeyLog {
        keys: Input::new(), // queued by its attribute when spawned
        seen: Default::default(),
    };
    let seen_keys = key_log.seen.clone();
    let replayed_keys = rt.spawn_on(recording.replay::<KeyEvent>(KEYS)?, "keys", &clock)?;
    let key_log = rt.spawn_on(key_log, "log", &clock)?;
    pipeline! { replayed_keys.value >> key_log.keys }?;
    let (mut compared, mut matched, mut first_mismatch) = (0, 0, None);
    let replay_started = Instant::now();
    let ticks = recording.frames();
    for _ in 0..ticks {
        let tick = clock.step()?;
        let frame = first + tick.frame_number;
        let Some(expected) = recorded_mix.get(&frame) else {
            continue; // a tick the recording clock skipped
        };
        if complete.is_none_or(|c| frame < c) {
            continue;
        }
        compared += 1;
        let replayed = mix.outputs.video.read_latest();
        if replayed
            .as_deref()
            .is_some_and(|r| same_picture(r, expected))
        {
            matched += 1;
        } else if first_mismatch.is_none() {
            first_mismatch = Some(frame);
        }
    }
    let replay_time = replay_started.elapsed();
    rt.shutdown();
    let replayed_keys = seen_keys.lock().map(|k| k.clone()).unwrap_or_default();
    let dropped_keys = key_log.inputs.keys.stats().dropped;
    let warm_up = recorded_mix.len() - compared;
    println!(
        "replayed {ticks} ticks on a manual clock in {:.1} ms ({:.0} ticks/s, {:.1}x real time)",
        replay_time.as_secs_f64() * 1e3,
        ticks as f64 / replay_time.as_secs_f64(),
        (ticks as f64 / f64::from(fps)) / replay_time.as_secs_f64()
    );
    println!(
        "composite: {matched} of {compared} recorded frames match the replay byte for byte ({width}x{height} RGBA, {} bytes each){}",
        width as usize * height as usize * 4,
        if warm_up > 0 {
            format!("; {warm_up} warm-up frame(s) left out, until the tick after all channels were being recorded")
        } else {
            String::new()
        }
    );
    println!(
        "keys: {} of {} recorded key events replayed in order through a queued input ({} dropped)",
        replayed_keys.len(),
        recorded_keys.len(),
        dropped_keys
    );
    if replayed_keys != recorded_keys {
        return Err(format!(
            "the replayed key events differ from the recorded ones: {} replayed, {} recorded",
            replayed_keys.len(),
            recorded_keys.len()
        )
        .into());
    }
    if let Some(frame) = first_mismatch {
        return Err(format!(
            "the replayed composite differs from the recorded one at frame {frame}"
        )
        .into());
    }
    if compared == 0 {
        return Err("no composite was recorded to compare".into());
    }
    println!(
        "open it with: mcap info {0}  (or in Foxglove: File → Open {0}, an Image panel on {MIX}/image)",
        mcap.display()
    );
    Ok(Report {
        mcap,
        recorded: stats.recorded,
        dropped: stats.dropped,
        bytes: stats.bytes,
        write_throughput,
        composites: recorded_mix.len(),
        compared,
        matched,
        warm_up,
        keys_recorded: recorded_keys.len(),
        keys_replayed: replayed_keys.len(),
        replay_ticks: ticks,
        replay_time,
    })
}

/// The first frame that began after every channel was being recorded: the tick after the
/// latest first value of a channel. The tick in which recording began is left out: it may have
/// run while the pipeline was still being wired (a new clock ticks at once), e.g. the compositor
/// reading its layers before the second one was connected and writing after its recording
/// began, which no replay of the finished wiring reproduces.
fn first_complete_frame(recording: &Recording) -> streamlib::Result<Option<u64>> {
    let mut firsts = Vec::new();
    for topic in [PATTERN, OVERLAY, MIX] {
        match recording.frame_numbers(topic)?.first() {
            Some(&frame) => firsts.push(frame),
            None => return Ok(None),
        }
    }
    Ok(firsts.into_iter().max().map(|frame| frame + 1))
}

/// Same size, pixel format and pixels.
fn same_picture(a: &VideoFrame, b: &VideoFrame) -> bool {
    (a.width(), a.height(), a.format()) == (b.width(), b.height(), b.format())
        && a.data() == b.data()
}
