//! Four video layers of different sizes, positions, opacities and stacking order, blended.
//!
//! `cargo run --release --example demo_compositor -- --help` lists the flags; the code is in
//! `streamlib_examples::demos::demo_compositor`.

use std::process::ExitCode;

use clap::Parser;
use streamlib_examples::demos::{cli, demo_compositor};

fn main() -> ExitCode {
    streamlib::log::init(); // the runtime's warnings on stderr; `RUST_LOG` filters
    cli::exit_code(
        "demo_compositor",
        demo_compositor::run(&demo_compositor::Args::parse()),
    )
}
