//! The reference actors, and the plain code they are built on.
//!
//! | actor | ports | what it does |
//! | --- | --- | --- |
//! | [`TestPattern`] | out `video` | SMPTE 75 % bars, grey ramp, solid colours, a moving marker; RGBA8 or I420 |
//! | [`Drawing`] | out `video` | an animated vector overlay (shapes and text) on a transparent canvas |
//! | [`Compositor`] | in `layers` (an input set: any number), out `video` | per-pixel alpha blending, layer order and opacity, scaling or positioning; composites in RGBA8 or I420 |
//! | [`Display`] | in `video`, out `closed` | a window on a dedicated thread; headless without a display |
//! | [`PngSnapshot`] | in `video` | writes a frame as PNG now and then, and the last one at stop |
//! | [`Y4mRecorder`] | in `video`, out `progress` | records the stream as a `.y4m` file any player opens |
//! | [`AudioTone`] | out `audio` | a sine wave, in buffers stamped from its clock |
//! | [`AudioMeter`] | in `audio`, out `level` | RMS and peak level of each buffer |
//! | [`WavRecorder`] | in `audio`, out `progress` | records audio as a 16-bit `.wav` file |
//!
//! The pixel work lives in plain functions and types ([`Canvas`], [`blend`], [`i420`], [`FramePool`],
//! [`font`], [`color`], [`y4m`], [`wav`]) with unit tests of their own, so each `process` stays
//! short. Conversion, scaling and blending run on well-kept SIMD crates (`yuv`,
//! `fast_image_resize`, `wide`, tiny-skia), and the actors on a frame's path draw into reused
//! buffers, redrawing only what moved.

pub mod audio;
pub mod blend;
pub mod canvas;
pub mod color;
pub mod compositor;
pub mod display;
pub mod drawing;
pub mod font;
pub mod i420;
pub mod png_snapshot;
pub mod pool;
pub mod test_pattern;
pub mod wav;
pub mod y4m;

pub use audio::{AudioLevel, AudioMeter, AudioTone};
pub use blend::blend_over;
pub use canvas::{Canvas, Rgba, UnsupportedFormat};
pub use compositor::{Compositor, Layer, Placement};
pub use display::Display;
pub use drawing::Drawing;
pub use png_snapshot::PngSnapshot;
pub use pool::FramePool;
pub use test_pattern::{Pattern, TestPattern};
pub use wav::WavRecorder;
pub use y4m::{Chroma, RecordingProgress, Y4mRecorder};

/// Seconds from frame 0 of the tick's clock to the tick, on the clock's exact grid: what the
/// animated actors move by, so that a picture depends on the tick only.
pub fn clock_seconds(tick: &streamlib::Tick) -> f64 {
    tick.rate.nanos_at(tick.frame_number) as f64 / 1e9
}
