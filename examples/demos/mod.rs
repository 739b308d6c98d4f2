//! The demos behind `cargo run --release --example <name>`, as library functions.
//!
//! Each module has an `Args` (its command-line flags, parsed by clap in the example's `main`)
//! and a `run(&Args)` that builds the pipeline, runs it for the requested duration, prints what
//! it did and returns a report of what it wrote, which the integration tests check.
//!
//! | example | what it shows |
//! | --- | --- |
//! | `demo` | [`demo`]: test pattern → compositor ← drawing, into a window, PNG snapshots and a Y4M recording; live stats, summary, pipeline graph |
//! | `demo_compositor` | [`demo_compositor`]: four layers of other sizes, positions, opacities and stacking order |
//! | `demo_drawing` | [`demo_drawing`]: the animated vector overlay alone, transparent PNGs |
//! | `demo_registry` | [`demo_registry`]: actors found and wired by URI at run time, with the payload type checked |
//! | `demo_record` | [`demo_record`]: the demo pipeline recorded into `out/demo.mcap`, replayed on a manual clock, compared frame for frame |
//! | `demo_audio` | [`demo_audio`]: a sine tone and a level meter on a 100 Hz clock of their own, recorded to WAV |

pub mod cli;
pub mod demo;
pub mod demo_audio;
pub mod demo_compositor;
pub mod demo_drawing;
pub mod demo_record;
pub mod demo_registry;
pub mod report;

/// What a demo returns on failure: any error, shown to the user as is.
pub type DemoError = Box<dyn std::error::Error + Send + Sync>;
