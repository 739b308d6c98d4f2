//! `demo_registry`: actors found and wired by URI at run time, as a tool or an agent would.
//!
//! The actors are spawned and their handles dropped: from then on the code knows them only by
//! their URIs. The wiring is data — `(from URI, output, to URI, input)` rows — and each row is
//! resolved through `rt.registry().lookup(uri)`, whose `output::<T>` / `input::<T>` check the
//! payload type at run time. The demo also asks for a port with the wrong payload type and for
//! a port that does not exist, and prints the errors the registry gives.

use std::path::PathBuf;

use clap::Parser;
use streamlib::prelude::*;
use streamlib::{connect, ActorRef, AudioBuffer, VideoFrame};

use crate::actors::{Compositor, Drawing, PngSnapshot, TestPattern};

use super::cli::{run_video, VideoArgs};
use super::report::{describe_file, table, write_graph, LiveView};
use super::DemoError;

/// Flags of `cargo run --release --example demo_registry -- [FLAGS]`.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "demo_registry",
    about = "Actors found and wired by URI at run time, payload types checked"
)]
pub struct Args {
    #[command(flatten)]
    pub video: VideoArgs,
}

/// The wiring, as a tool would send it: `(from, output, to, input)`.
pub const WIRING: [(&str, &str, &str, &str); 3] = [
    (
        "actor://local/TestPattern/bars",
        "video",
        "actor://local/Compositor/mix",
        "layers",
    ),
    (
        "actor://local/Drawing/overlay",
        "video",
        "actor://local/Compositor/mix",
        "layers",
    ),
    (
        "actor://local/Compositor/mix",
        "video",
        "actor://local/PngSnapshot/snapshot",
        "video",
    ),
];

/// What the demo did.
#[derive(Clone, Debug)]
pub struct Report {
    /// The URIs the registry listed after spawning.
    pub listed: Vec<String>,
    /// The connections made, as `output >> input (payload)`.
    pub connections: Vec<String>,
    /// The error for `output::<AudioBuffer>("video")` of the test pattern.
    pub wrong_type: String,
    /// The error for an output named `vidoe`.
    pub unknown_port: String,
    /// The last frame.
    pub png: PathBuf,
    /// The live graph, from the registry.
    pub dot: PathBuf,
}

/// Runs the demo.
pub fn run(args: &Args) -> Result<Report, DemoError> {
    let VideoArgs { width, height, .. } = args.video;
    let out = args.video.out_dir()?;
    let png = out.join("registry.png");
    let rt = super::cli::runtime()?;
    let clock = args.video.clock()?;

    // Spawned elsewhere, handles not kept: only the URIs are known from here on.
    rt.spawn_on(TestPattern::new(width, height), "bars", &clock)?;
    rt.spawn_on(
        Drawing::new(width, height).with_title("by URI"),
        "overlay",
        &clock,
    )?;
    rt.spawn_on(Compositor::new(width, height), "mix", &clock)?;
    rt.spawn_on(PngSnapshot::new(&png), "snapshot", &clock)?;

    let registry = rt.registry();
    println!("registry: {} actors", registry.len());
    let listed: Vec<String> = registry
        .list()
        .iter()
        .map(|a| a.uri().to_string())
        .collect();
    for actor in registry.list() {
        let ports: Vec<String> = actor.ports().iter().map(|p| format!("{p:?}")).collect();
        println!("  {}  [{}]", actor.uri(), ports.join(", "));
    }

    println!("wiring by URI:");
    let mut connections = Vec::new();
    for (from, output, to, input) in WIRING {
        let output = find(&rt, from)?.output::<VideoFrame>(output)?;
        let input = find(&rt, to)?.input::<VideoFrame>(input)?;
        let connection = connect(&output, &input)?;
        println!("  {connection:?}");
        connections.push(format!("{connection:?}"));
    }

    println!("payload types are checked at run time:");
    let bars = find(&rt, "actor://local/TestPattern/bars")?;
    let wrong_type = match bars.output::<AudioBuffer>("video") {
        Err(error) => error.to_string(),
        Ok(_) => return Err("the registry handed out a VideoFrame port as AudioBuffer".into()),
    };
    println!("  output::<AudioBuffer>(\"video\") → {wrong_type}");
    let unknown_port = match bars.output::<VideoFrame>("vidoe") {
        Err(error) => error.to_string(),
        Ok(_) => return Err("the registry found a port that does not exist".into()),
    };
    println!("  output::<VideoFrame>(\"vidoe\")  → {unknown_port}");
    let compositors = registry.find_by_class("Compositor");
    let overlays = registry.find_by_instance_id("overlay");
    println!(
        "  find_by_class(\"Compositor\") → {} actor, find_by_instance_id(\"overlay\") → {}",
        compositors.len(),
        overlays[0].uri()
    );

    let (dot, _) = write_graph(&registry.to_dot(), out, "registry")?;
    let mut live = LiveView::new(registry.list(), args.video.quiet);
    let ran_for = run_video(&args.video, &mut live, None, String::new);
    rt.shutdown();
    println!("\n{}", table(&live.rows(ran_for)));
    println!("outputs: {}, {}", describe_file(&png), describe_file(&dot));
    Ok(Report {
        listed,
        connections,
        wrong_type,
        unknown_port,
        png,
        dot,
    })
}

/// The actor registered at `uri`, or an error saying none is.
fn find(rt: &Runtime, uri: &str) -> Result<ActorRef, DemoError> {
    rt.registry()
        .lookup(uri)?
        .ok_or_else(|| format!("no actor at {uri}").into())
}
