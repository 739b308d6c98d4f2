//! Actors found and wired by URI at run time, with the registry's payload type check.
//!
//! `cargo run --release --example demo_registry -- --help` lists the flags; the code is in
//! `streamlib_examples::demos::demo_registry`.

use std::process::ExitCode;

use clap::Parser;
use streamlib_examples::demos::{cli, demo_registry};

fn main() -> ExitCode {
    streamlib::log::init(); // the runtime's warnings on stderr; `RUST_LOG` filters
    cli::exit_code(
        "demo_registry",
        demo_registry::run(&demo_registry::Args::parse()),
    )
}
