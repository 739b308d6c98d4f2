//! `demo_compositor`: four layers of different sizes, places, opacities and stacking order.
//!
//! | layer (connection order into `mix.layers`) | source | size | drawn |
//! | --- | --- | --- | --- |
//! | layer 0 | SMPTE bars | the output's | as is, at the bottom |
//! | layer 1 | solid red | 64×64 | scaled into a quarter-size square left of centre, opacity 0.5 |
//! | layer 2 | grey ramp with marker | half size | scaled into a picture-in-picture, bottom right, on top (`z = 3`) |
//! | layer 3 | 4:3 bars | a quarter of the width | at its own size in the top-right corner, opacity 0.8 (`z = 2`) |
//!
//! The output goes to a window (if any) and to `compositor.png`.

use std::path::PathBuf;

use clap::Parser;
use streamlib::prelude::*;

use crate::actors::{Compositor, Layer, Pattern, Placement, PngSnapshot, Rgba, TestPattern};

use super::cli::{run_video, VideoArgs};
use super::report::{describe_file, table, LiveView};
use super::DemoError;

/// Flags of `cargo run --release --example demo_compositor -- [FLAGS]`.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "demo_compositor",
    about = "Four layers blended: sizes, positions, opacity, stacking order"
)]
pub struct Args {
    #[command(flatten)]
    pub video: VideoArgs,
}

/// The red of the translucent square.
pub const TINT: Rgba = [255, 0, 0, 255];
/// The square's opacity.
pub const TINT_OPACITY: f32 = 0.5;

/// Where each layer goes in a `width × height` output: `(tint, picture in picture, inset)`.
pub fn placements(width: u32, height: u32) -> (Placement, Placement, Placement) {
    let (w, h) = (width as i32, height as i32);
    let tint = Placement::Rect {
        x: w / 8,
        y: 3 * h / 8,
        width: width / 4,
        height: height / 4,
    };
    let pip = Placement::Rect {
        x: 5 * w / 8,
        y: 5 * h / 8,
        width: width / 3,
        height: height / 3,
    };
    let inset_width = width / 4;
    let inset = Placement::At {
        x: w - inset_width as i32 - w / 32,
        y: h / 32,
    };
    (tint, pip, inset)
}

/// The size of the 4:3 inset source.
pub fn inset_size(width: u32) -> (u32, u32) {
    (width / 4, (width / 4 * 3 / 4).max(1))
}

/// Runs the demo; returns the PNG written.
pub fn run(args: &Args) -> Result<PathBuf, DemoError> {
    let VideoArgs { width, height, .. } = args.video;
    let out = args.video.out_dir()?;
    let png = out.join("compositor.png");
    let (tint_place, pip_place, inset_place) = placements(width, height);
    let (inset_width, inset_height) = inset_size(width);

    let rt = super::cli::runtime()?;
    let clock = args.video.clock()?;
    let mix = Compositor::new(width, height)
        .with_layer(1, Layer::new(1).opacity(TINT_OPACITY).placement(tint_place))
        .with_layer(2, Layer::new(3).placement(pip_place))
        .with_layer(3, Layer::new(2).opacity(0.8).placement(inset_place));
    let display = args.video.display("streamlib compositor");

    let bars = rt.spawn_on(TestPattern::new(width, height), "bars", &clock)?;
    let tint = rt.spawn_on(
        TestPattern::new(64, 64)
            .with_pattern(Pattern::Solid(TINT))
            .with_marker(false),
        "tint",
        &clock,
    )?;
    let pip = rt.spawn_on(
        TestPattern::new(width / 2, height / 2).with_pattern(Pattern::Ramp),
        "pip",
        &clock,
    )?;
    let inset = rt.spawn_on(
        TestPattern::new(inset_width, inset_height).with_marker(false),
        "inset",
        &clock,
    )?;
    let mix = rt.spawn_on(mix, "mix", &clock)?;
    let window = rt.spawn_on(display, "window", &clock)?;
    let snapshot = rt.spawn_on(PngSnapshot::new(&png), "snapshot", &clock)?;

    pipeline! {
        bars.video >> mix.layers;
        tint.video >> mix.layers;
        pip.video >> mix.layers;
        inset.video >> mix.layers -> video >> window.video;
        mix.video >> snapshot.video;
    }?;

    let mut live = LiveView::new(rt.registry().list(), args.video.quiet);
    let ran_for = run_video(&args.video, &mut live, Some(&window), String::new);
    rt.shutdown();
    println!("\n{}", table(&live.rows(ran_for)));
    println!("output: {}", describe_file(&png));
    Ok(png)
}
