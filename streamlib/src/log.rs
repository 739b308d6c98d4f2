//! Logging in one line (cargo feature `log`): `streamlib::log::init()`.
//!
//! streamlib reports through [`tracing`] — faults, panics, late clocks, stops that timed out,
//! network peers lost — and, like any library, installs nothing to print them. A program that
//! has no subscriber of its own calls [`init`] first thing in `main`:
//!
//! ```
//! streamlib::log::init(); // stderr; `RUST_LOG` filters, `info` when unset
//! ```
//!
//! Each line of the runtime about an actor carries its URI as the `actor` field:
//!
//! ```text
//! 2026-11-30T23:49:01.223535Z  WARN process returned an error actor=actor://local/Camera/cam0 error=camera unplugged
//! ```
//!
//! `RUST_LOG` takes [`EnvFilter`](tracing_subscriber::EnvFilter) directives, e.g.
//! `RUST_LOG=warn`, or `RUST_LOG=info,streamlib=debug` to also see actors spawn and stop.
//! A program that sets up `tracing-subscriber` (or any subscriber) itself does not need this
//! module; `init` leaves an installed global subscriber alone.

use crate::error::{Error, Result};

/// The filter when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info";

/// Installs a global subscriber that writes to stderr (with colours when stderr is a terminal),
/// filtered by `RUST_LOG` — [`DEFAULT_FILTER`] when it is unset or cannot be parsed (then a
/// warning says so). Returns `false`, changing nothing, when a global subscriber is installed
/// already (by an earlier call or by the program).
pub fn init() -> bool {
    let (filter, bad) = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => match text.parse() {
            Ok(filter) => (filter, None),
            Err(error) => (default_filter(), Some((text, error))),
        },
        _ => (default_filter(), None),
    };
    let installed = install(filter);
    if let (true, Some((text, error))) = (installed, bad) {
        tracing::warn!(rust_log = %text, %error, "RUST_LOG is not a valid filter; logging at `{DEFAULT_FILTER}`");
    }
    installed
}

/// Like [`init`], with `filter` (the [`EnvFilter`](tracing_subscriber::EnvFilter) syntax:
/// `"warn"`, `"info,streamlib=debug"`) in place of `RUST_LOG`.
///
/// Returns [`Error::InvalidOption`] for a filter that cannot be parsed, `Ok(false)` when a global
/// subscriber is installed already.
pub fn init_with(filter: &str) -> Result<bool> {
    let parsed = filter.parse().map_err(|_| Error::InvalidOption {
        option: "log filter",
        value: filter.to_owned(),
        reason: "not a tracing-subscriber EnvFilter (e.g. \"warn\" or \"info,streamlib=debug\")",
    })?;
    Ok(install(parsed))
}

fn default_filter() -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::new(DEFAULT_FILTER)
}

fn install(filter: tracing_subscriber::EnvFilter) -> bool {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init()
        .is_ok()
}
