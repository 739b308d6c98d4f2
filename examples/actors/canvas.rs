//! [`Canvas`]: an RGBA8 picture in memory, and the conversions and scaling every reference
//! actor that reads frames shares.
//!
//! A canvas is what tests, files and the simpler actors draw on between receiving a
//! [`VideoFrame`] and sending one: [`Canvas::from_frame`] reads any packed or 4:2:0 frame,
//! [`Canvas::into_frame`] stamps the result with the current tick. Alpha is **straight** (colour
//! values are not multiplied by alpha), as in PNG files. The pixel work is done by well-kept
//! SIMD crates: colour conversion by `yuv` ([`frame_to_rgba`]), scaling by `fast_image_resize`
//! ([`resize_rgba`]), alpha multiplication by `fast_image_resize`, blending by the `wide` kernel
//! of [`blend`](super::blend). The actors on a frame's hot path (test pattern, compositor,
//! overlay) draw into reused frame buffers ([`FramePool`](super::FramePool)) rather than a
//! canvas, so that sending a frame copies nothing.
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
use std::sync::Arc;

use fast_image_resize::images::{CroppedImageMut, Image, ImageRef};
use fast_image_resize::{FilterType, MulDiv, PixelType, ResizeAlg, ResizeOptions, Resizer};
use streamlib::{PixelFormat, Tick, Timestamp, VideoFrame};
use yuv::{YuvBiPlanarImage, YuvGrayImage, YuvPlanarImage, YuvRange, YuvStandardMatrix};

use super::blend::{clip, over_rect};
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
        let mut pixels = Vec::new();
        frame_to_rgba(frame, &mut pixels)?;
        Ok(Canvas {
            width: frame.width(),
            height: frame.height(),
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
        let size = (self.width, self.height);
        fill_rect((&mut self.pixels, size), (x, y, width, height), color);
    }

    /// Writes `text` with its top-left corner at `(x, y)`, each font pixel `scale` pixels wide.
    pub fn draw_text(&mut self, x: i64, y: i64, scale: u32, text: &str, color: Rgba) {
        let s = i64::from(scale);
        for (column, row) in font::pixels(text) {
            let (cx, cy) = (i64::from(column) * s, i64::from(row) * s);
            self.fill_rect(x + cx, y + cy, scale, scale, color);
        }
    }

    /// This picture scaled to `width × height` with [`resize_rgba`] (bilinear, colours weighted
    /// by alpha so that transparent pixels leave no fringe).
    pub fn resized(&self, width: u32, height: u32) -> Canvas {
        if (width, height) == (self.width, self.height) {
            return self.clone();
        }
        let mut pixels = Vec::new();
        resize_rgba(
            &mut Resizer::new(),
            (&self.pixels, self.width, self.height),
            (&mut pixels, width, height),
        );
        Canvas {
            width,
            height,
            pixels,
        }
    }

    /// Draws `layer` over this canvas with its top-left corner at `(x, y)`, with the "over"
    /// operator of [`blend_over`](super::blend_over) at `opacity` (0.0–1.0). Parts outside the
    /// canvas are clipped.
    pub fn draw_over(&mut self, layer: &Canvas, x: i64, y: i64, opacity: f32) {
        let Some((x0, y0, x1, y1)) =
            clip((self.width, self.height), x, y, layer.width, layer.height)
        else {
            return;
        };
        // The blend kernel draws straight pixels over premultiplied ones: premultiply the part
        // drawn on, blend, and divide again.
        let mut image =
            Image::from_slice_u8(self.width, self.height, &mut self.pixels, PixelType::U8x4)
                .expect("a canvas's own size");
        let mut part = CroppedImageMut::new(&mut image, x0, y0, x1 - x0, y1 - y0)
            .expect("clipped to the canvas");
        let alpha = MulDiv::new();
        alpha
            .multiply_alpha_inplace(&mut part)
            .expect("RGBA8 has alpha");
        over_rect(
            (&mut self.pixels, self.width, self.height),
            (&layer.pixels, layer.width, layer.height),
            (x, y),
            opacity_u8(opacity),
        );
        let mut image =
            Image::from_slice_u8(self.width, self.height, &mut self.pixels, PixelType::U8x4)
                .expect("a canvas's own size");
        let mut part = CroppedImageMut::new(&mut image, x0, y0, x1 - x0, y1 - y0)
            .expect("clipped to the canvas");
        alpha
            .divide_alpha_inplace(&mut part)
            .expect("RGBA8 has alpha");
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
}

impl fmt::Debug for Canvas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Canvas({}x{})", self.width, self.height)
    }
}

/// An RGBA8 frame of `size` over `data` (shared, not copied), numbered and timed from `tick`.
pub fn rgba_frame(size: (u32, u32), data: Arc<[u8]>, tick: &Tick) -> streamlib::Result<VideoFrame> {
    tick_frame(PixelFormat::Rgba8, size, data, tick)
}

/// A `format` frame of `size` over `data` (shared, not copied), numbered and timed from `tick`.
pub fn tick_frame(
    format: PixelFormat,
    size: (u32, u32),
    data: Arc<[u8]>,
    tick: &Tick,
) -> streamlib::Result<VideoFrame> {
    let (timestamp, number) = (tick.timestamp, tick.frame_number);
    VideoFrame::new(size.0, size.1, format, data, timestamp, number)
}

/// Paints the rectangle `(x, y, width, height)` of the RGBA8 `picture` (of `size`) with
/// `color`, replacing what was there; what falls outside is clipped.
pub fn fill_rect(picture: (&mut [u8], (u32, u32)), rect: (i64, i64, u32, u32), color: Rgba) {
    let (pixels, size) = picture;
    let Some((x0, y0, x1, y1)) = clip(size, rect.0, rect.1, rect.2, rect.3) else {
        return;
    };
    let row_bytes = size.0 as usize * 4;
    for row in pixels
        .chunks_exact_mut(row_bytes)
        .take(y1 as usize)
        .skip(y0 as usize)
    {
        for pixel in row[x0 as usize * 4..x1 as usize * 4].chunks_exact_mut(4) {
            pixel.copy_from_slice(&color);
        }
    }
}

/// Copies the rectangle `(x, y, width, height)` of the RGBA8 picture `from` into the same place
/// of `to`, both of `size`; what falls outside is clipped.
pub fn copy_rect(to: &mut [u8], from: &[u8], size: (u32, u32), rect: (i64, i64, u32, u32)) {
    let Some((x0, y0, x1, y1)) = clip(size, rect.0, rect.1, rect.2, rect.3) else {
        return;
    };
    let row_bytes = size.0 as usize * 4;
    let columns = x0 as usize * 4..x1 as usize * 4;
    let rows = to
        .chunks_exact_mut(row_bytes)
        .zip(from.chunks_exact(row_bytes));
    for (to, from) in rows.take(y1 as usize).skip(y0 as usize) {
        to[columns.clone()].copy_from_slice(&from[columns.clone()]);
    }
}

/// `opacity` 0.0–1.0 as 0–255, rounded (out-of-range values clamped).
pub fn opacity_u8(opacity: f32) -> u8 {
    (opacity.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// The picture of `frame` as straight RGBA8 bytes in `rgba` (resized to fit, its allocation
/// reused): RGBA8 copied, BGRA8 and RGB8 shuffled, GRAY8 expanded, I420 and NV12 converted as
/// limited-range BT.601, all by the `yuv` crate.
pub fn frame_to_rgba(frame: &VideoFrame, rgba: &mut Vec<u8>) -> Result<(), UnsupportedFormat> {
    let (width, height, data) = (frame.width(), frame.height(), frame.data());
    rgba.resize(width as usize * height as usize * 4, 0);
    let stride = width * 4;
    let (range, matrix) = (YuvRange::Limited, YuvStandardMatrix::Bt601);
    let luma = width as usize * height as usize;
    let converted = match frame.format() {
        PixelFormat::Rgba8 => {
            rgba.copy_from_slice(data);
            Ok(())
        }
        PixelFormat::Bgra8 => yuv::bgra_to_rgba(data, stride, rgba, stride, width, height),
        PixelFormat::Rgb8 => yuv::rgb_to_rgba(data, width * 3, rgba, stride, width, height),
        PixelFormat::Gray8 => {
            let gray = YuvGrayImage {
                y_plane: data,
                y_stride: width,
                width,
                height,
            };
            yuv::yuv400_to_rgba(&gray, rgba, stride, YuvRange::Full, matrix)
        }
        PixelFormat::I420 => {
            let (y_plane, chroma) = data.split_at(luma);
            let (u_plane, v_plane) = chroma.split_at(luma / 4);
            let planar = YuvPlanarImage {
                y_plane,
                y_stride: width,
                u_plane,
                u_stride: width / 2,
                v_plane,
                v_stride: width / 2,
                width,
                height,
            };
            yuv::yuv420_to_rgba(&planar, rgba, stride, range, matrix)
        }
        PixelFormat::Nv12 => {
            let (y_plane, uv_plane) = data.split_at(luma);
            let bi_planar = YuvBiPlanarImage {
                y_plane,
                y_stride: width,
                uv_plane,
                uv_stride: width,
                width,
                height,
            };
            let mode = yuv::YuvConversionMode::Balanced;
            yuv::yuv_nv12_to_rgba(&bi_planar, rgba, stride, range, matrix, mode)
        }
        other => return Err(UnsupportedFormat(other)),
    };
    converted.expect("sizes checked when the frame was made");
    Ok(())
}

/// Scales the straight RGBA8 picture `src` into `dst` (resized to fit, its allocation reused)
/// with `fast_image_resize`: bilinear, colours multiplied by alpha while filtering so that
/// transparent pixels leave no fringe.
pub fn resize_rgba(resizer: &mut Resizer, src: (&[u8], u32, u32), dst: (&mut Vec<u8>, u32, u32)) {
    let ((src, src_width, src_height), (dst, width, height)) = (src, dst);
    dst.resize(width as usize * height as usize * 4, 0);
    let from = ImageRef::new(src_width, src_height, src, PixelType::U8x4).expect("RGBA8 bytes");
    let mut to = Image::from_slice_u8(width, height, dst, PixelType::U8x4).expect("sized above");
    let bilinear = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    resizer
        .resize(&from, &mut to, &bilinear)
        .expect("same pixel type on both sides");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::blend_over;
    use crate::actors::color::rgb_to_ycbcr;

    #[test]
    fn draw_over_matches_the_definition_on_any_background() {
        let mut picture = Canvas::filled(3, 1, [0, 0, 255, 255]);
        picture.set_pixel(1, 0, [0, 0, 255, 128]);
        picture.set_pixel(2, 0, [0, 0, 0, 0]);
        let layer = Canvas::filled(3, 1, [255, 0, 0, 128]);
        let before = picture.clone();
        picture.draw_over(&layer, 0, 0, 1.0);
        for x in 0..3 {
            let want = blend_over(before.pixel(x, 0), layer.pixel(x, 0), 255);
            let got = picture.pixel(x, 0);
            let close = got.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 1);
            assert!(close, "pixel {x}: {got:?}, the definition says {want:?}");
        }
        assert_eq!(picture.pixel(0, 0), [128, 0, 127, 255], "exact over opaque");
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
    fn resize_is_bilinear_and_keeps_flat_colours_flat() {
        let red = Canvas::filled(4, 4, [200, 10, 10, 255]);
        let big = red.resized(10, 6);
        assert_eq!((big.width(), big.height()), (10, 6));
        assert!(big.pixels().chunks(4).all(|p| p == [200, 10, 10, 255]));
        // Black to white across: the ends stay, the middle is in between.
        let mut ramp = Canvas::filled(2, 1, [0, 0, 0, 255]);
        ramp.set_pixel(1, 0, [255; 4]);
        let wide = ramp.resized(8, 1);
        assert_eq!(wide.pixel(0, 0), [0, 0, 0, 255]);
        assert_eq!(wide.pixel(7, 0), [255; 4]);
        assert!(
            (60..200).contains(&wide.pixel(4, 0)[0]),
            "{:?}",
            wide.pixel(4, 0)
        );
        // A transparent neighbour does not darken an opaque colour (alpha-weighted filtering).
        let mut edge = Canvas::new(2, 1);
        edge.set_pixel(0, 0, [255, 255, 255, 255]);
        let edge = edge.resized(4, 1);
        assert_eq!(&edge.pixel(1, 0)[..3], &[255, 255, 255]);
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
        let mut rgba = vec![1; 3];
        frame_to_rgba(&frame, &mut rgba).unwrap();
        assert_eq!(rgba, c.pixels(), "the buffer is resized and overwritten");
    }
}
