//! Reference actors and runnable demos of [streamlib].
//!
//! [`actors`] holds the reference actors — a test pattern, a compositor, a vector drawing
//! overlay, a window, PNG / Y4M / WAV sinks, an audio tone and a level meter — written the way a
//! streamlib user writes actors: a struct with `#[input]` / `#[output]` ports and a short
//! `process`. Copy them, change them; they are examples, not a library with stability promises.
//!
//! [`demos`] holds the demos behind `cargo run --release --example <name>`: each example's `main`
//! parses its flags and calls the `run` function of its module here, and the integration tests in
//! `tests/` call the same functions headless and check what they wrote.
//!
//! Frames between these actors are [`VideoFrame`](streamlib::VideoFrame)s in
//! [`PixelFormat::Rgba8`](streamlib::PixelFormat::Rgba8) with **straight** (not premultiplied)
//! alpha; [`actors::Canvas`] is the in-memory picture they draw on.

pub mod actors;
pub mod demos;
