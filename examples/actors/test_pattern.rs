//! [`TestPattern`]: a synthetic video source to check a pipeline by eye and by test.
//!
//! The default [`Pattern::SmpteBars`] frame, top to bottom:
//!
//! - the top two thirds: the seven 75 % colour bars of SMPTE EG 1 ([`BARS_75`]: white, yellow,
//!   cyan, green, magenta, red, blue), each `width / 7` wide;
//! - down to three quarters: a grey ramp from black on the left to white on the right;
//! - the bottom quarter: six full-intensity patches ([`PATCHES`]: white, black, red, green,
//!   blue, black), and over them a marker, a white square in a black frame, that travels left to
//!   right and back every 4 seconds of the clock, so motion (and a stall) is visible.
//!
//! The static part is drawn once, when the actor is built, and shared: without the marker every
//! frame sends the same bytes (one `Arc`, no copy). With it, frames are drawn into reused
//! buffers ([`FramePool`]), each of which already holds the pattern and the marker where it was
//! a few frames ago: only that square is put back from the pattern and the marker drawn where
//! the tick's time puts it.
//!
//! Frames are RGBA8 by default; [`TestPattern::with_format`] makes them I420 (the pattern is
//! converted once, and the marker, black and white, is drawn into the planes on even
//! coordinates so that it covers whole chroma blocks): 1.5 bytes a pixel to move instead of 4,
//! for a pipeline that composites in I420 (see [`Compositor::with_format`](super::Compositor::with_format)).

use std::f64::consts::PI;
use std::sync::Arc;

use streamlib::prelude::*;
use streamlib::{PixelFormat, VideoFrame};

use super::canvas::{copy_rect, fill_rect, tick_frame, Canvas, Rgba};
use super::clock_seconds;
use super::i420::{self, check_output, even_rect, OutputFormatError};
use super::pool::FramePool;

/// The seven 75 % bars, left to right.
pub const BARS_75: [Rgba; 7] = [
    [191, 191, 191, 255], // white
    [191, 191, 0, 255],   // yellow
    [0, 191, 191, 255],   // cyan
    [0, 191, 0, 255],     // green
    [191, 0, 191, 255],   // magenta
    [191, 0, 0, 255],     // red
    [0, 0, 191, 255],     // blue
];

/// The six full-intensity patches of the bottom quarter, left to right.
pub const PATCHES: [Rgba; 6] = [
    [255, 255, 255, 255],
    [0, 0, 0, 255],
    [255, 0, 0, 255],
    [0, 255, 0, 255],
    [0, 0, 255, 255],
    [0, 0, 0, 255],
];

/// What a [`TestPattern`] shows under its marker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pattern {
    /// 75 % colour bars, a grey ramp and full-intensity patches.
    #[default]
    SmpteBars,
    /// A horizontal grey ramp over the whole frame.
    Ramp,
    /// One colour over the whole frame.
    Solid(Rgba),
}

/// Sends a test pattern frame of any size on every tick.
#[actor]
pub struct TestPattern {
    /// One frame per tick, RGBA8 unless [`with_format`](TestPattern::with_format) says I420.
    #[output]
    pub video: Output<VideoFrame>,
    width: u32,
    height: u32,
    pattern: Pattern,
    marker: bool,
    format: PixelFormat,
    /// The pattern without the marker, drawn once in `format`, shared by every frame.
    background: Arc<[u8]>,
    /// Buffers of the frames with a marker, each noting where its marker is.
    pool: FramePool<Option<MarkerRect>>,
}

/// Where a marker is: `(x, y, side)`.
type MarkerRect = (u32, u32, u32);

impl TestPattern {
    /// SMPTE bars with a moving marker, `width × height` pixels.
    pub fn new(width: u32, height: u32) -> TestPattern {
        TestPattern {
            video: Output::new(),
            width,
            height,
            pattern: Pattern::SmpteBars,
            marker: true,
            format: PixelFormat::Rgba8,
            background: smpte_bars(width, height).into_pixels().into(),
            pool: FramePool::new(width as usize * height as usize * 4),
        }
    }

    /// Shows `pattern` instead of the bars.
    pub fn with_pattern(mut self, pattern: Pattern) -> TestPattern {
        self.pattern = pattern;
        self.redraw_background();
        self
    }

    /// Sends `format` frames: [`PixelFormat::Rgba8`] (the default) or [`PixelFormat::I420`]
    /// (even sizes only).
    ///
    /// # Errors
    ///
    /// [`OutputFormatError`] for another format, or I420 at an odd size.
    pub fn with_format(mut self, format: PixelFormat) -> Result<TestPattern, OutputFormatError> {
        check_output(format, (self.width, self.height))?;
        self.format = format;
        self.redraw_background();
        Ok(self)
    }

    /// Draws the pattern without the marker in the output format, and empties the pool.
    fn redraw_background(&mut self) {
        let size = (self.width, self.height);
        let rgba = render(self.pattern, size.0, size.1).into_pixels();
        self.background = match self.format {
            PixelFormat::I420 => {
                let mut planes = Vec::new();
                i420::rgba_to_i420(&rgba, size, &mut planes);
                planes.into()
            }
            _ => rgba.into(),
        };
        self.pool = FramePool::new(self.background.len());
    }

    /// Draws the moving marker or not (default: drawn).
    pub fn with_marker(mut self, marker: bool) -> TestPattern {
        self.marker = marker;
        self
    }
}

impl Process for TestPattern {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let size = (self.width, self.height);
        let i420 = self.format == PixelFormat::I420;
        let (put_back, draw): (PutBack, DrawMarker) = if i420 {
            (put_back_i420, draw_marker_i420)
        } else {
            (copy_rect, draw_marker)
        };
        let data = if self.marker {
            let marker = marker_rect(size.0, size.1, clock_seconds(tick));
            let background = &self.background;
            self.pool.fill(
                |fresh| fresh.copy_from_slice(background),
                |pixels, drawn| {
                    if let Some((x, y, side)) = drawn.replace(marker) {
                        put_back(pixels, background, size, (x.into(), y.into(), side, side));
                    }
                    draw(pixels, size, marker);
                },
            )
        } else {
            self.background.clone()
        };
        self.video.write(tick_frame(self.format, size, data, tick)?);
        Ok(())
    }
}

/// The pattern without the marker.
pub fn render(pattern: Pattern, width: u32, height: u32) -> Canvas {
    match pattern {
        Pattern::SmpteBars => smpte_bars(width, height),
        Pattern::Ramp => {
            let mut canvas = Canvas::new(width, height);
            draw_ramp(&mut canvas, 0, height);
            canvas
        }
        Pattern::Solid(color) => Canvas::filled(width, height, color),
    }
}

/// Bars, ramp and patches (see the module docs for the layout).
pub fn smpte_bars(width: u32, height: u32) -> Canvas {
    let mut canvas = Canvas::new(width, height);
    let (ramp_top, patches_top) = (height * 2 / 3, height * 3 / 4);
    fill_columns(&mut canvas, &BARS_75, 0, ramp_top);
    draw_ramp(&mut canvas, ramp_top, patches_top);
    fill_columns(&mut canvas, &PATCHES, patches_top, height);
    canvas
}

/// The colour of bar `index` (0–6) is at `x` in `bar_center(width, index)`, any row of the top
/// two thirds.
pub fn bar_center(width: u32, index: u32) -> u32 {
    (2 * index + 1) * width / 14
}

/// Where the marker's top-left corner is at `seconds` into the clock's time, and its side.
pub fn marker_rect(width: u32, height: u32, seconds: f64) -> (u32, u32, u32) {
    let band_top = height * 3 / 4;
    let side = ((height - band_top) / 2).max(2);
    let travel = f64::from(width.saturating_sub(side));
    // Eased back and forth: left to right in 2 s, back in 2 s.
    let phase = (1.0 - (seconds * PI / 2.0).cos()) / 2.0;
    let x = (phase * travel).round() as u32;
    let y = band_top + (height - band_top - side) / 2;
    (x, y, side)
}

/// Puts the pattern `from` back into the rectangle of `to` (both pictures of `size`).
type PutBack = fn(&mut [u8], &[u8], (u32, u32), (i64, i64, u32, u32));
/// Draws the marker at a place on a picture of `size`.
type DrawMarker = fn(&mut [u8], (u32, u32), MarkerRect);

/// The marker's two squares, drawn in this order: black over the whole marker, white inside it.
fn marker_squares((x, y, side): MarkerRect) -> [((i64, i64, u32, u32), Rgba); 2] {
    let border = (side / 6).max(1);
    let inner = side - 2 * border;
    let (x, y, border) = (i64::from(x), i64::from(y), i64::from(border));
    [
        ((x, y, side, side), [0, 0, 0, 255]),
        ((x + border, y + border, inner, inner), [255, 255, 255, 255]),
    ]
}

/// Draws the marker at `(x, y, side)` on the RGBA8 `pixels` of a picture of `size`.
fn draw_marker(pixels: &mut [u8], size: (u32, u32), marker: MarkerRect) {
    for (rect, color) in marker_squares(marker) {
        fill_rect((&mut *pixels, size), rect, color);
    }
}

/// Draws the marker on the I420 picture `pixels` of `size`: the black square grown to even
/// coordinates (whole chroma blocks; black and white share their chroma), the white one exactly
/// where [`draw_marker`] puts it.
fn draw_marker_i420(pixels: &mut [u8], size: (u32, u32), marker: MarkerRect) {
    let [(outer, black), (inner, white)] = marker_squares(marker);
    i420::fill_rect(pixels, size, even_rect(outer), i420::color_to_yuv(black));
    i420::fill_rect(pixels, size, inner, i420::color_to_yuv(white));
}

/// [`PutBack`] on I420 pictures: the rectangle grown as [`draw_marker_i420`] grows it.
fn put_back_i420(to: &mut [u8], from: &[u8], size: (u32, u32), rect: (i64, i64, u32, u32)) {
    i420::copy_rect(to, from, size, even_rect(rect));
}

/// Equal-width columns of `colors` between rows `top` and `bottom`.
fn fill_columns(canvas: &mut Canvas, colors: &[Rgba], top: u32, bottom: u32) {
    let (width, n) = (canvas.width(), colors.len() as u32);
    for (i, color) in (0..n).zip(colors) {
        let (left, right) = (i * width / n, (i + 1) * width / n);
        canvas.fill_rect(left.into(), top.into(), right - left, bottom - top, *color);
    }
}

fn draw_ramp(canvas: &mut Canvas, top: u32, bottom: u32) {
    let width = canvas.width();
    for x in 0..width {
        let level = (x * 255 / width.saturating_sub(1).max(1)) as u8;
        canvas.fill_rect(
            x.into(),
            top.into(),
            1,
            bottom - top,
            [level, level, level, 255],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_sit_in_the_top_two_thirds() {
        for (width, height) in [(1280, 720), (320, 180), (7, 4), (641, 361)] {
            let canvas = smpte_bars(width, height);
            for (i, color) in BARS_75.iter().enumerate() {
                let x = bar_center(width, i as u32);
                assert_eq!(canvas.pixel(x, 0), *color, "{width}x{height} bar {i}");
                assert_eq!(canvas.pixel(x, height * 2 / 3 - 1), *color);
            }
        }
    }

    #[test]
    fn ramp_and_patches_below() {
        let canvas = smpte_bars(320, 180);
        let ramp_row = 180 * 2 / 3 + 2;
        assert_eq!(canvas.pixel(0, ramp_row), [0, 0, 0, 255]);
        assert_eq!(canvas.pixel(319, ramp_row), [255, 255, 255, 255]);
        let mid = canvas.pixel(160, ramp_row)[0];
        assert!((125..=130).contains(&mid), "{mid}");
        for (i, color) in PATCHES.iter().enumerate() {
            let x = (2 * i as u32 + 1) * 320 / 12;
            assert_eq!(canvas.pixel(x, 179), *color, "patch {i}");
        }
    }

    #[test]
    fn marker_moves_across_the_bottom_band_and_back() {
        let (w, h) = (320, 180);
        let (x0, y, side) = marker_rect(w, h, 0.0);
        assert_eq!(x0, 0);
        assert!(y >= h * 3 / 4 && y + side <= h);
        assert_eq!(marker_rect(w, h, 2.0).0, w - side, "right edge after 2 s");
        assert_eq!(marker_rect(w, h, 4.0).0, 0, "back after 4 s");
        assert!(marker_rect(w, h, 1.0).0 > marker_rect(w, h, 0.5).0);
    }

    #[test]
    fn marker_is_drawn_white_in_black() {
        let mut canvas = smpte_bars(320, 180);
        let (x, y, side) = marker_rect(320, 180, 1.0);
        draw_marker(canvas.pixels_mut(), (320, 180), (x, y, side));
        assert_eq!(canvas.pixel(x, y), [0, 0, 0, 255]);
        assert_eq!(
            canvas.pixel(x + side / 2, y + side / 2),
            [255, 255, 255, 255]
        );
    }

    #[test]
    fn i420_frames_show_the_same_picture() {
        use crate::actors::canvas::frame_to_rgba;
        use streamlib::Rate;

        let (w, h) = (320, 180);
        let mut pattern = TestPattern::new(w, h)
            .with_format(PixelFormat::I420)
            .expect("even size");
        let tick = Tick::for_test(30, Rate::fps(60).unwrap()); // 0.5 s into the clock
        pattern.process(&tick).expect("drawn");
        let frame = pattern.video.to_ref().read_latest().expect("sent");
        assert_eq!(frame.format(), PixelFormat::I420);
        let mut rgba = Vec::new();
        frame_to_rgba(&frame, &mut rgba).expect("I420 reads");
        let pixel = |x: u32, y: u32| -> Rgba {
            let at = (y * w + x) as usize * 4;
            rgba[at..at + 4].try_into().unwrap()
        };
        let near = |got: Rgba, want: Rgba| got.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 3);
        for (i, color) in BARS_75.iter().enumerate() {
            let got = pixel(bar_center(w, i as u32), 10);
            assert!(near(got, *color), "bar {i}: {got:?} for {color:?}");
        }
        let (x, y, side) = marker_rect(w, h, 0.5);
        assert!(
            near(pixel(x + side / 2, y + side / 2), [255; 4]),
            "marker centre"
        );
        assert!(near(pixel(x + 1, y + 1), [0, 0, 0, 255]), "marker border");
        assert_eq!(Some(frame.data().len()), PixelFormat::I420.bytes_for(w, h));

        // Later frames reuse buffers once the output lets go of them: each old square is put
        // back, so outside the newest marker every byte is the pattern's.
        drop(frame);
        for n in 31..=60 {
            pattern
                .process(&Tick::for_test(n, tick.rate))
                .expect("drawn");
        }
        assert!(
            pattern.pool.buffers() <= 5,
            "{} buffers",
            pattern.pool.buffers()
        );
        let frame = pattern.video.to_ref().read_latest().expect("sent");
        let (nx, ny, nside) = marker_rect(w, h, 1.0);
        let (mx, my, mw, mh) = even_rect((nx.into(), ny.into(), nside, nside));
        let inside = |x: u32, y: u32| {
            (mx..mx + i64::from(mw)).contains(&i64::from(x))
                && (my..my + i64::from(mh)).contains(&i64::from(y))
        };
        for (i, (got, want)) in frame.data()[..(w * h) as usize]
            .iter()
            .zip(&pattern.background[..])
            .enumerate()
        {
            let (x, y) = (i as u32 % w, i as u32 / w);
            if !inside(x, y) {
                assert_eq!(got, want, "luma at ({x}, {y})");
            }
        }
        assert!(TestPattern::new(7, 4)
            .with_format(PixelFormat::I420)
            .is_err());
    }

    #[test]
    fn other_patterns() {
        assert_eq!(
            render(Pattern::Solid([1, 2, 3, 4]), 2, 2).pixel(1, 1),
            [1, 2, 3, 4]
        );
        let ramp = render(Pattern::Ramp, 256, 2);
        assert_eq!(ramp.pixel(255, 1), [255, 255, 255, 255]);
        assert_eq!(ramp.pixel(100, 0), [100, 100, 100, 255]);
    }
}
