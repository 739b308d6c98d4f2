//! The main demo: test pattern and animated overlay through a compositor into a window (if
//! any), PNG snapshots and a Y4M recording, with live stats, a summary and the pipeline graph.
//!
//! `cargo run --release --example demo -- --help` lists the flags; the code is in
//! `streamlib_examples::demos::demo`.

use std::process::ExitCode;

use clap::Parser;
use streamlib_examples::demos::{cli, demo};

fn main() -> ExitCode {
    streamlib::log::init(); // the runtime's warnings on stderr; `RUST_LOG` filters
    cli::exit_code("demo", demo::run(&demo::Args::parse()))
}
