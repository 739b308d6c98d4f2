//! `demo_audio`: a second media type on a clock of its own.
//!
//! An [`AudioTone`] sends 10 ms buffers (480 stereo frames at 48 kHz) on a 100 Hz clock; an
//! [`AudioMeter`] on the same clock measures each buffer within the same tick, and a
//! [`WavRecorder`] writes them to `tone.wav`. The main thread reads the meter's latest level ten
//! times a second — reading a port from outside the clock never waits — and draws a text meter.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use streamlib::prelude::*;
use streamlib::{ActorStats, Rate, SoftwareClock};

use crate::actors::{AudioLevel, AudioMeter, AudioTone, RecordingProgress, WavRecorder};

use super::cli::run_for;
use super::report::{describe_file, table, LiveView};
use super::DemoError;

/// Flags of `cargo run --release --example demo_audio -- [FLAGS]`.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "demo_audio",
    about = "A sine tone and a level meter on their own 100 Hz clock, recorded to WAV"
)]
pub struct Args {
    /// Tone frequency in Hz.
    #[arg(long, default_value_t = 440.0)]
    pub frequency: f64,
    /// Peak amplitude, 0–1 of full scale.
    #[arg(long, default_value_t = 0.5)]
    pub amplitude: f32,
    /// Sample rate in Hz.
    #[arg(long, default_value_t = 48_000)]
    pub sample_rate: u32,
    /// Audio buffers per second (the audio clock's rate).
    #[arg(long, default_value_t = 100)]
    pub buffers_per_second: u32,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Folder the outputs are written to (created if missing).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Print the summary only, not the live lines.
    #[arg(long)]
    pub quiet: bool,
}

/// What the demo wrote and measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// The recording.
    pub wav: PathBuf,
    /// The recorder's final counters.
    pub recording: RecordingProgress,
    /// The tone's actor counters.
    pub tone_stats: ActorStats,
    /// The last level the meter sent.
    pub level: AudioLevel,
    /// Time from wiring to the start of shutdown.
    pub ran_for: Duration,
    /// Time from wiring to the end of shutdown.
    pub ran_until_stopped: Duration,
}

/// Runs the demo.
pub fn run(args: &Args) -> Result<Report, DemoError> {
    std::fs::create_dir_all(&args.out)?;
    let wav = args.out.join("tone.wav");
    let rt = super::cli::runtime()?;
    let audio_clock = SoftwareClock::new(Rate::fps(args.buffers_per_second)?);

    let tone = AudioTone::new(args.frequency)
        .with_amplitude(args.amplitude)
        .with_format(args.sample_rate, 2);
    let tone = rt.spawn_on(tone, "tone", &audio_clock)?;
    let meter = rt.spawn_on(AudioMeter::default(), "meter", &audio_clock)?;
    let recorder = rt.spawn_on(WavRecorder::new(&wav), "recorder", &audio_clock)?;
    pipeline! {
        tone.audio >> meter.audio;
        tone.audio >> recorder.audio;
    }?;
    println!(
        "streamlib audio demo: {} Hz sine at {} dBFS peak, {} Hz stereo, {} buffers/s on {}",
        args.frequency,
        (20.0 * args.amplitude.log10()).round(),
        args.sample_rate,
        args.buffers_per_second,
        tone.actor_ref().clock()
    );

    let level = || {
        meter
            .outputs
            .level
            .read_latest()
            .map(|l| *l)
            .unwrap_or_default()
    };
    let mut live = LiveView::new(rt.registry().list(), args.quiet);
    let duration = Duration::from_secs_f64(args.duration.max(0.0));
    let ran_for = run_for(duration, Duration::from_millis(100), || {
        let level = level();
        live.update(&format!(
            "level: RMS {:6.1} dBFS  peak {:6.1} dBFS  [{}]",
            level.rms_dbfs(),
            level.peak_dbfs(),
            level.bar(40)
        ));
        true
    });
    let level = level();
    let stopping = Instant::now();
    rt.shutdown();
    let ran_until_stopped = ran_for + stopping.elapsed();

    let recording = recorder
        .outputs
        .progress
        .read_latest()
        .map(|p| (*p).clone())
        .unwrap_or_default();
    println!("\n{}", table(&live.rows(ran_for)));
    println!(
        "level: RMS {:.1} dBFS, peak {:.1} dBFS",
        level.rms_dbfs(),
        level.peak_dbfs()
    );
    println!(
        "output: {} — {} buffers",
        describe_file(&wav),
        recording.written
    );
    Ok(Report {
        wav,
        recording,
        tone_stats: tone.stats(),
        level,
        ran_for,
        ran_until_stopped,
    })
}
