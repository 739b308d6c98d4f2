//! Compile-time behaviour of `#[actor]` and `pipeline!`, through trybuild.
//!
//! `ui/fail/*.rs` must each fail to compile with exactly the errors of their `.stderr` snapshot
//! (each snapshot was read to check that its spans point at the user's offending token);
//! `ui/pass/*.rs` must each compile, with `#![deny(warnings)]`, and run.
//!
//! After changing a message: `TRYBUILD=overwrite cargo test -p streamlib-tests --test macros_ui`,
//! then read the diff of every `.stderr`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
