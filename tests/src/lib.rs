//! Workspace-level tests of streamlib; everything is under `tests/`:
//!
//! - `tests/macros_ui.rs` runs the `ui/fail` (each must fail to compile, with the error in its
//!   `.stderr` snapshot) and `ui/pass` (each must compile) cases of `#[actor]` and `pipeline!`
//!   through trybuild. Regenerate snapshots with `TRYBUILD=overwrite cargo test -p
//!   streamlib-tests --test macros_ui`, then read every one.
//! - `tests/macros_run.rs` spawns actors made with `#[actor]`, wires them with `pipeline!` and
//!   checks that values flow.
