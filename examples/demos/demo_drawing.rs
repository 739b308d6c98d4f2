//! `demo_drawing`: the [`Drawing`] overlay on its own, as transparent PNGs.
//!
//! The overlay's frames go to a window (over black) and to `drawing.png` plus a numbered
//! snapshot every half second, so the animation can be followed frame by frame. Open a PNG in
//! an image viewer: everything but the panel and the shapes is transparent.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use streamlib::prelude::*;

use crate::actors::png_snapshot::numbered_path;
use crate::actors::{Drawing, PngSnapshot};

use super::cli::{run_video, VideoArgs};
use super::report::{describe_file, table, LiveView};
use super::DemoError;

/// Flags of `cargo run --release --example demo_drawing -- [FLAGS]`.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "demo_drawing",
    about = "The animated vector overlay alone, written as transparent PNGs"
)]
pub struct Args {
    #[command(flatten)]
    pub video: VideoArgs,
    /// Title on the overlay's panel.
    #[arg(long, default_value = "streamlib")]
    pub title: String,
}

/// What the demo wrote: the last frame, then the snapshots oldest first.
#[derive(Clone, Debug)]
pub struct Report {
    /// The last frame.
    pub png: PathBuf,
    /// The snapshots taken every half second.
    pub snapshots: Vec<PathBuf>,
}

/// Runs the demo.
pub fn run(args: &Args) -> Result<Report, DemoError> {
    let VideoArgs { width, height, .. } = args.video;
    let out = args.video.out_dir()?;
    let png = out.join("drawing.png");

    let rt = super::cli::runtime()?;
    let clock = args.video.clock()?;
    let display = args.video.display("streamlib drawing");
    let overlay = rt.spawn_on(
        Drawing::new(width, height).with_title(&args.title),
        "overlay",
        &clock,
    )?;
    let window = rt.spawn_on(display, "window", &clock)?;
    let snapshot = PngSnapshot::new(&png)
        .every(Duration::from_millis(500))
        .numbered();
    let snapshot = rt.spawn_on(snapshot, "snapshot", &clock)?;

    pipeline! {
        overlay.video >> window.video;
        overlay.video >> snapshot.video;
    }?;

    let mut live = LiveView::new(rt.registry().list(), args.video.quiet);
    let ran_for = run_video(&args.video, &mut live, Some(&window), String::new);
    rt.shutdown();
    let snapshots: Vec<PathBuf> = (1..)
        .map(|n| numbered_path(&png, n))
        .take_while(|p| p.exists())
        .collect();
    println!("\n{}", table(&live.rows(ran_for)));
    println!("last frame: {}", describe_file(&png));
    for path in &snapshots {
        println!("snapshot:   {}", describe_file(path));
    }
    Ok(Report { png, snapshots })
}
