//! Records the demo pipeline (test pattern + overlay + composite) into `out/demo.mcap`, replays
//! the sources on a manual clock into a fresh compositor and checks that every composite matches
//! the recorded one, byte for byte.
//!
//! `cargo run --release --example demo_record -- --help` lists the flags; the code is in
//! `streamlib_examples::demos::demo_record`.

use std::process::ExitCode;

use clap::Parser;
use streamlib_examples::demos::{cli, demo_record};

fn main() -> ExitCode {
    streamlib::log::init(); // the runtime's warnings on stderr; `RUST_LOG` filters
    cli::exit_code("demo_record", demo_record::run(&demo_record::Args::parse()))
}
