//! The animated vector overlay (tiny-skia shapes and text) alone, written as transparent PNGs.
//!
//! `cargo run --release --example demo_drawing -- --help` lists the flags; the code is in
//! `streamlib_examples::demos::demo_drawing`.

use std::process::ExitCode;

use clap::Parser;
use streamlib_examples::demos::{cli, demo_drawing};

fn main() -> ExitCode {
    streamlib::log::init(); // the runtime's warnings on stderr; `RUST_LOG` filters
    cli::exit_code(
        "demo_drawing",
        demo_drawing::run(&demo_drawing::Args::parse()),
    )
}
