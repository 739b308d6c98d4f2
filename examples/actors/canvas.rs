//! [`Canvas`]: an RGBA8 picture in memory, and the "over" operator that stacks pictures.
//!
//! A canvas is what the reference actors draw on between receiving a
//! [`VideoFrame`] and sending one: [`Canvas::from_frame`] reads any packed or 4:2:0 frame,
//! [`Canvas::into_frame`] stamps the result with the current tick. Alpha is **straight** (colour
//! values are not multiplied by alpha), as in PNG files.
//!
//! ```
//! use streamlib_examples::actors::{blend_over, Canvas};
//!
//! let mut picture = Canvas::filled(4, 2, [0, 0, 255, 255]); // opaque blue
//! let red_half = Canvas::filled(2, 2, [255, 0, 0, 128]);
//! picture.draw_over(&red_half, 2, 0, 1.0);
//! assert_eq!(picture.pixel(0, 0), [0, 0, 255, 255]); // untouched
//! assert_eq!(picture.pixel(3, 1), [128, 0, 127, 255]); // half red over blue
//! assert_eq!(blend_over([0, 0, 255, 255], [255, 0, 0, 128], 255), [128, 0, 127, 255]);
//! ```

use std::fmt;

use streamlib::{PixelFormat, Tick, Timestamp, VideoFrame};

use super::color::ycbcr_to_rgb;
use super::font;

/// One pixel: red, green, blue, alpha (straight alpha, 255 = opaque).
pub type Rgba = [u8; 4];

/// An RGBA8 picture: `width × height` pixels, rows top to bottom, 4 bytes per pixel.
#[derive(Clone, PartialEq, Eq)]
pub struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

/// A frame in a pixel format [`Canvas::from_frame`] does not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedFormat(pub PixelFormat);

impl fmt::Display for UnsupportedFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {} frames into a canvas", self.0)
    }
}

impl std::error::Error for UnsupportedFormat {}

impl Canvas {
    /// A fully transparent canvas.
    pub fn new(width: u32, height: u32) -> Canvas {
        Canvas::filled(width, height, [0, 0, 0, 0])
    }

    /// A canvas of one colour.
    pub fn filled(width: u32, height: u32, color: Rgba) -> Canvas {
        let pixels = color.repeat(width as usize * height as usize);
        Canvas {
            width,
            height,
            pixels,
        }
    }

    /// A canvas over `pixels` (RGBA8, rows packed); `None` if the length does not match.
    pub fn from_rgba(width: u32, height: u32, pixels: Vec<u8>) -> Option<Canvas> {
        (pixels.len() == width as usize * height as usize * 4).then_some(Canvas {
            width,
            height,
            pixels,
        })
    }

    /// The picture of `frame`, converted to RGBA8 (RGB and grey frames become opaque; I420 and
    /// NV12 are read as limited-range BT.601).
    pub fn from_frame(frame: &VideoFrame) -> Result<Canvas, UnsupportedFormat> {
        let (width, height, data) = (frame.width(), frame.height(), frame.data());
        let pixels: Vec<u8> = match frame.format() {
            PixelFormat::Rgba8 => data.to_vec(),
            PixelFormat::Bgra8 => data
                .chunks_exact(4)
                .flat_map(|p| [p[2], p[1], p[0], p[3]])
                .collect(),
            PixelFormat::Rgb8 => data
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            PixelFormat::Gray8 => data.iter().flat_map(|&v| [v, v, v, 255]).collect(),
            PixelFormat::I420 => yuv420_to_rgba(width, height, data, false),
            PixelFormat::Nv12 => yuv420_to_rgba(width, height, data, true),
            other => return Err(UnsupportedFormat(other)),
        };
        Ok(Canvas {
            width,
            height,
            pixels,
        })
    }

    /// This picture as an RGBA8 frame numbered and timed from `tick`.
    pub fn into_frame(self, tick: &Tick) -> streamlib::Result<VideoFrame> {
        self.into_frame_at(tick.timestamp, tick.frame_number)
    }

    /// This picture as an RGBA8 frame with the given time and number.
    pub fn into_frame_at(
        self,
        timestamp: Timestamp,
        frame_number: u64,
    ) -> streamlib::Result<VideoFrame> {
        VideoFrame::new(
            self.width,
            self.height,
            PixelFormat::Rgba8,
            self.pixels,
            timestamp,
            frame_number,
        )
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The RGBA8 bytes, rows packed.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The RGBA8 bytes, to draw on directly.
    pub fn pixels_mut(&mut self) -> &mut [u8] {
        &mut self.pixels
    }

    /// The bytes, giving up the canvas.
    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    /// The pixel at `(x, y)`. Panics outside the canvas.
    pub fn pixel(&self, x: u32, y: u32) -> Rgba {
        let i = self.offset(x, y);
        [
            self.pixels[i],
            self.pixels[i + 1],
            self.pixels[i + 2],
            self.pixels[i + 3],
        ]
    }

    /// Sets the pixel at `(x, y)`. Panics outside the canvas.
    pub fn set_pixel(&mut self, x: u32, y: u32, color: Rgba) {
        let i = self.offset(x, y);
        self.pixels[i..i + 4].copy_from_slice(&color);
    }

    /// Paints a rectangle with `color` (replacing, not blending), clipped to the canvas.
    pub fn fill_rect(&mut self, x: i64, y: i64, width: u32, height: u32, color: Rgba) {
        let Some((x0, y0, x1, y1)) = self.clip(x, y, width, height) else {
            return;
        };
        for row in y0..y1 {
            let start = self.offset(x0, row);
            let end = self.offset(x1 - 1, row) + 4;
            for pixel in self.pixels[start..end].chunks_exact_mut(4) {
                pixel.copy_from_slice(&color);
            }
        }
    }

    /// Writes `text` with its top-left corner at `(x, y)`, each font pixel `scale` pixels wide.
    pub fn draw_text(&mut self, x: i64, y: i64, scale: u32, text: &str, color: Rgba) {
        let s = i64::from(scale);
        for (column, row) in font::pixels(text) {
            let (cx, cy) = (i64::from(column) * s, i64::from(row) * s);
            self.fill_rect(x + cx, y + cy, scale, scale, color);
        }
    }

    /// This picture scaled to `width × height` (nearest neighbour: sharp edges, no colour
    /// fringes at alpha edges, cheap enough for every frame).
    pub fn resized(&self, width: u32, height: u32) -> Canvas {
        if (width, height) == (self.width, self.height) {
            return self.clone();
        }
        let mut out = Vec::with_capacity(width as usize * height as usize * 4);
        for y in 0..height {
            let sy = (u64::from(y) * u64::from(self.height) / u64::from(height.max(1))) as u32;
            for x in 0..width {
                let sx = (u64::from(x) * u64::from(self.width) / u64::from(width.max(1))) as u32;
                out.extend_from_slice(&self.pixel(sx, sy));
            }
        }
        Canvas {
            width,
            height,
            pixels: out,
        }
    }

    /// Draws `layer` over this canvas with its top-left corner at `(x, y)`, with the "over"
    /// operator of [`blend_over`] at `opacity` (0.0–1.0). Parts outside the canvas are clipped.
    pub fn draw_over(&mut self, layer: &Canvas, x: i64, y: i64, opacity: f32) {
        self.blend_rgba(&layer.pixels, layer.width, layer.height, x, y, opacity);
    }

    /// Draws `frame` over this canvas, scaled to `width × height` with its top-left corner at
    /// `(x, y)`, as [`draw_over`](Self::draw_over) does. An RGBA8 frame at its own size is read
    /// in place, without a copy.
    pub fn draw_frame_over(
        &mut self,
        frame: &VideoFrame,
        (x, y, width, height): (i64, i64, u32, u32),
        opacity: f32,
    ) -> Result<(), UnsupportedFormat> {
        let native = (width, height) == (frame.width(), frame.height());
        if native && frame.format() == PixelFormat::Rgba8 {
            self.blend_rgba(frame.data(), width, height, x, y, opacity);
        } else {
            let layer = Canvas::from_frame(frame)?.resized(width, height);
            self.draw_over(&layer, x, y, opacity);
        }
        Ok(())
    }

    fn blend_rgba(&mut self, src: &[u8], width: u32, height: u32, x: i64, y: i64, opacity: f32) {
        let opacity = (opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
        let Some((x0, y0, x1, y1)) = self.clip(x, y, width, height) else {
            return;
        };
        if opacity == 0 {
            return;
        }
        let columns = (x1 - x0) as usize * 4;
        for row in y0..y1 {
            let dst_start = self.offset(x0, row);
            let (sx, sy) = ((i64::from(x0) - x) as usize, (i64::from(row) - y) as usize);
            let src_start = (sy * width as usize + sx) * 4;
            let dst = &mut self.pixels[dst_start..dst_start + columns];
            let src = &src[src_start..src_start + columns];
            for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                let blended =
                    blend_over([d[0], d[1], d[2], d[3]], [s[0], s[1], s[2], s[3]], opacity);
                d.copy_from_slice(&blended);
            }
        }
    }

    fn offset(&self, x: u32, y: u32) -> usize {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) outside a {}x{} canvas",
            self.width,
            self.height
        );
        (y as usize * self.width as usize + x as usize) * 4
    }

    /// The part of a rectangle inside the canvas, as `(x0, y0, x1, y1)` with exclusive ends.
    fn clip(&self, x: i64, y: i64, width: u32, height: u32) -> Option<(u32, u32, u32, u32)> {
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = (x + i64::from(width)).min(i64::from(self.width));
        let y1 = (y + i64::from(height)).min(i64::from(self.height));
        (x0 < x1 && y0 < y1).then_some((x0 as u32, y0 as u32, x1 as u32, y1 as u32))
    }
}

impl fmt::Debug for Canvas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Canvas({}x{})", self.width, self.height)
    }
}

/// Porter–Duff "over": `src` (straight alpha, further scaled by `opacity` 0–255) on top of `dst`.
///
/// The result's alpha is `a_s + a_d (1 − a_s)` and its colour the alpha-weighted mix, so a
/// half-transparent layer over an opaque one gives an opaque half-and-half colour, and over a
/// transparent one keeps its own colour at half alpha.
pub fn blend_over(dst: Rgba, src: Rgba, opacity: u8) -> Rgba {
    let src_alpha = mul_255(src[3], opacity);
    if src_alpha == 0 {
        return dst;
    }
    if src_alpha == 255 {
        return [src[0], src[1], src[2], 255];
    }
    // How much of `dst` shows through `src`.
    let dst_alpha = mul_255(dst[3], 255 - src_alpha as u8);
    let out_alpha = src_alpha + dst_alpha;
    let mix = |s: u8, d: u8| {
        let weighted = u32::from(s) * src_alpha + u32::from(d) * dst_alpha;
        ((weighted + out_alpha / 2) / out_alpha) as u8
    };
    [
        mix(src[0], dst[0]),
        mix(src[1], dst[1]),
        mix(src[2], dst[2]),
        out_alpha as u8,
    ]
}

/// `a × b / 255`, rounded.
fn mul_255(a: u8, b: u8) -> u32 {
    (u32::from(a) * u32::from(b) + 127) / 255
}

/// I420 (`nv12 == false`) or NV12 bytes of a `width × height` frame to RGBA8.
fn yuv420_to_rgba(width: u32, height: u32, data: &[u8], nv12: bool) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w / 2, h / 2);
    let (luma, chroma) = data.split_at(w * h);
    let mut out = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            let c = (y / 2) * cw + x / 2;
            let (cb, cr) = if nv12 {
                (chroma[2 * c], chroma[2 * c + 1])
            } else {
                (chroma[c], chroma[cw * ch + c])
            };
            let (r, g, b) = ycbcr_to_rgb(luma[y * w + x], cb, cr);
            out.extend_from_slice(&[r, g, b, 255]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::color::rgb_to_ycbcr;

    #[test]
    fn over_an_opaque_background_mixes_by_alpha() {
        let blue = [0, 0, 255, 255];
        assert_eq!(blend_over(blue, [255, 0, 0, 255], 255), [255, 0, 0, 255]);
        assert_eq!(blend_over(blue, [255, 0, 0, 0], 255), blue);
        assert_eq!(blend_over(blue, [255, 0, 0, 128], 255), [128, 0, 127, 255]);
        // Opacity scales the layer's own alpha: 50 % of opaque red is half red.
        assert_eq!(blend_over(blue, [255, 0, 0, 255], 128), [128, 0, 127, 255]);
        assert_eq!(blend_over(blue, [255, 0, 0, 255], 0), blue);
    }

    #[test]
    fn over_a_transparent_background_keeps_the_layer() {
        let clear = [0, 0, 0, 0];
        assert_eq!(
            blend_over(clear, [200, 100, 50, 128], 255),
            [200, 100, 50, 128]
        );
        // Two half layers: alpha 1 - (1 - .5)² = .75, colour weighted 2:1 toward the top one.
        let two = blend_over([0, 0, 255, 128], [255, 0, 0, 128], 255);
        assert_eq!(two[3], 192);
        assert!(
            (169..=171).contains(&two[0]) && (84..=86).contains(&two[2]),
            "{two:?}"
        );
    }

    #[test]
    fn draw_over_clips_and_positions() {
        let mut base = Canvas::filled(4, 4, [0, 0, 0, 255]);
        let white = Canvas::filled(3, 3, [255, 255, 255, 255]);
        base.draw_over(&white, -1, 2, 1.0);
        let expected_white = [(0, 2), (1, 2), (0, 3), (1, 3)];
        for y in 0..4 {
            for x in 0..4 {
                let white = expected_white.contains(&(x, y));
                let want = if white { [255; 4] } else { [0, 0, 0, 255] };
                assert_eq!(base.pixel(x, y), want, "({x}, {y})");
            }
        }
        base.draw_over(&white, 10, 10, 1.0); // entirely outside: nothing, no panic
    }

    #[test]
    fn fill_rect_and_text_stay_inside() {
        let mut c = Canvas::new(10, 10);
        c.fill_rect(-5, 8, 100, 100, [1, 2, 3, 4]);
        assert_eq!(c.pixel(9, 9), [1, 2, 3, 4]);
        assert_eq!(c.pixel(0, 7), [0, 0, 0, 0]);
        c.draw_text(4, 0, 1, "HI", [255; 4]);
        assert!(c.pixels().chunks(4).any(|p| p == [255; 4]));
    }

    #[test]
    fn resize_by_nearest_neighbour() {
        let mut c = Canvas::new(2, 1);
        c.set_pixel(1, 0, [9, 9, 9, 9]);
        let big = c.resized(4, 2);
        assert_eq!(big.pixel(0, 1), [0, 0, 0, 0]);
        assert_eq!(big.pixel(2, 0), [9, 9, 9, 9]);
        assert_eq!(big.pixel(3, 1), [9, 9, 9, 9]);
    }

    #[test]
    fn frames_of_every_packed_and_planar_format_read_back() {
        let t = Timestamp::from_nanos(0);
        let frame = |format, data: Vec<u8>| VideoFrame::new(2, 2, format, data, t, 0).unwrap();
        let bgra = frame(PixelFormat::Bgra8, [3, 2, 1, 4].repeat(4));
        assert_eq!(Canvas::from_frame(&bgra).unwrap().pixel(1, 1), [1, 2, 3, 4]);
        let rgb = frame(PixelFormat::Rgb8, [1, 2, 3].repeat(4));
        assert_eq!(
            Canvas::from_frame(&rgb).unwrap().pixel(0, 1),
            [1, 2, 3, 255]
        );
        let gray = frame(PixelFormat::Gray8, vec![7; 4]);
        assert_eq!(
            Canvas::from_frame(&gray).unwrap().pixel(1, 0),
            [7, 7, 7, 255]
        );
        let (y, cb, cr) = rgb_to_ycbcr(191, 0, 0);
        let i420 = frame(PixelFormat::I420, vec![y, y, y, y, cb, cr]);
        let nv12 = frame(PixelFormat::Nv12, vec![y, y, y, y, cb, cr]);
        for frame in [i420, nv12] {
            let p = Canvas::from_frame(&frame).unwrap().pixel(1, 1);
            assert!(p[0].abs_diff(191) <= 2 && p[1] <= 2 && p[2] <= 2, "{p:?}");
        }
    }

    #[test]
    fn into_frame_and_back_is_lossless() {
        let mut c = Canvas::filled(3, 2, [10, 20, 30, 40]);
        c.set_pixel(2, 1, [1, 2, 3, 4]);
        let frame = c
            .clone()
            .into_frame_at(Timestamp::from_nanos(5), 7)
            .unwrap();
        assert_eq!((frame.frame_number(), frame.timestamp().as_nanos()), (7, 5));
        assert_eq!(Canvas::from_frame(&frame).unwrap(), c);
        // Drawn in place (RGBA8, own size) and through a scaled copy: the same pixels.
        let mut direct = Canvas::filled(3, 2, [0, 0, 0, 255]);
        direct.draw_frame_over(&frame, (0, 0, 3, 2), 0.5).unwrap();
        let mut copied = Canvas::filled(3, 2, [0, 0, 0, 255]);
        copied.draw_over(&c, 0, 0, 0.5);
        assert_eq!(direct, copied);
        let mut scaled = Canvas::new(6, 4);
        scaled.draw_frame_over(&frame, (0, 0, 6, 4), 1.0).unwrap();
        assert_eq!(scaled.pixel(5, 3), [1, 2, 3, 4]);
    }
}
