//! A sine tone and a level meter on a 100 Hz clock of their own, recorded to WAV.
//!
//! `cargo run --release --example demo_audio -- --help` lists the flags; the code is in
//! `streamlib_examples::demos::demo_audio`.

use std::process::ExitCode;

use clap::Parser;
use streamlib_examples::demos::{cli, demo_audio};

fn main() -> ExitCode {
    streamlib::log::init(); // the runtime's warnings on stderr; `RUST_LOG` filters
    cli::exit_code("demo_audio", demo_audio::run(&demo_audio::Args::parse()))
}
