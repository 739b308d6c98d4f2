//! Flags shared by the video demos, and the little each `main` does before calling `run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use streamlib::{ActorHandle, Rate, Runtime, SoftwareClock};

use super::report::LiveView;
use crate::actors::Display;

/// Size, rate, duration and output folder of a video demo.
#[derive(Clone, Debug, Args)]
pub struct VideoArgs {
    /// Frame width in pixels.
    #[arg(long, default_value_t = 1280)]
    pub width: u32,
    /// Frame height in pixels.
    #[arg(long, default_value_t = 720)]
    pub height: u32,
    /// Frames per second of the video clock.
    #[arg(long, default_value_t = 60)]
    pub fps: u32,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Folder the outputs are written to (created if missing).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Never open a window, even when a display is available.
    #[arg(long)]
    pub headless: bool,
    /// Print the summary only, not the live lines.
    #[arg(long)]
    pub quiet: bool,
}

impl VideoArgs {
    /// The window sink: headless with `--headless`, else a window titled `title` (which itself
    /// falls back to headless where no display is available).
    pub fn display(&self, title: &str) -> Display {
        if self.headless {
            Display::headless()
        } else {
            Display::new(title)
        }
    }

    /// The output folder, created if missing.
    pub fn out_dir(&self) -> std::io::Result<&Path> {
        std::fs::create_dir_all(&self.out)?;
        Ok(&self.out)
    }

    /// A software clock at `--fps`.
    pub fn clock(&self) -> streamlib::Result<SoftwareClock> {
        Ok(SoftwareClock::new(Rate::fps(self.fps)?))
    }

    /// The run time as a `Duration` (negative or NaN counts as zero).
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.0))
    }
}

/// A runtime with live inspection on a free loopback port, its address printed, so that the
/// demo can be watched from a second terminal (`cargo run -p streamlib-cli -- top`) or a browser.
pub fn runtime() -> streamlib::Result<Runtime> {
    let rt = Runtime::builder().inspect("127.0.0.1:0").build()?;
    if let Some(address) = rt.inspect_addr() {
        println!(
            "inspect: http://{address}/ (or `cargo run -p streamlib-cli -- top` in another terminal)"
        );
    }
    Ok(rt)
}

/// Success, or the error printed to stderr and a failure exit code.
pub fn exit_code<T>(demo: &str, outcome: Result<T, super::DemoError>) -> ExitCode {
    match outcome {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{demo}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a video demo for `--duration`, refreshing the live view every 50 ms with `status()`,
/// until the time is up or the window was closed; returns how long it ran.
pub fn run_video(
    video: &VideoArgs,
    live: &mut LiveView,
    window: Option<&ActorHandle<Display>>,
    mut status: impl FnMut() -> String,
) -> Duration {
    run_for(video.duration(), Duration::from_millis(50), || {
        live.update(&status());
        let closed = window.is_some_and(|w| w.outputs.closed.read_latest().is_some_and(|c| *c));
        !closed
    })
}

/// Calls `step` every `period` until `duration` has passed or `step` returns `false`; returns
/// the time actually spent.
pub fn run_for(duration: Duration, period: Duration, mut step: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::thread::sleep(period.min(duration.saturating_sub(start.elapsed())));
        if !step() {
            break;
        }
    }
    start.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Demo {
        #[command(flatten)]
        video: VideoArgs,
    }

    #[test]
    fn defaults_are_720p60_for_5_seconds_into_out() {
        let args = Demo::parse_from(["demo"]).video;
        assert_eq!((args.width, args.height, args.fps), (1280, 720, 60));
        assert_eq!(args.duration(), Duration::from_secs(5));
        assert_eq!(args.out, PathBuf::from("out"));
        assert!(!args.headless && !args.quiet);
        let args =
            Demo::parse_from(["demo", "--width", "320", "--duration", "0.5", "--headless"]).video;
        assert_eq!(
            (args.width, args.duration()),
            (320, Duration::from_millis(500))
        );
        assert!(args.headless);
    }

    #[test]
    fn run_for_stops_when_told() {
        let mut calls = 0;
        let spent = run_for(Duration::from_secs(10), Duration::from_millis(1), || {
            calls += 1;
            calls < 3
        });
        assert_eq!(calls, 3);
        assert!(spent < Duration::from_secs(5));
    }
}
