//! I420 pictures: the 4:2:0 pixel format the test pattern and the compositor can work in instead
//! of RGBA8, to move 1.5 bytes a pixel instead of 4 (as GStreamer's `videotestsrc` and
//! `compositor` do by default).
//!
//! An I420 picture of `width × height` (both even) is a full-size Y′ plane, then a
//! `width/2 × height/2` Cb plane and a Cr plane of the same size, rows packed. Colours are
//! limited-range BT.601, the same matrix [`frame_to_rgba`](super::canvas::frame_to_rgba) reads
//! them with; the conversion from RGBA8 is the `yuv` crate's. I420 has no alpha: a picture is
//! opaque, and a layer drawn over one mixes in at its opacity (and, for a layer converted from
//! RGBA8, at its own per-pixel alpha: see [`Converted`]).
//!
//! Rectangles here are in luma pixels. One chroma sample covers a 2×2 block, so a rectangle
//! touches the chroma samples of every block it overlaps; a rectangle on even coordinates with
//! even sides (what [`even_rect`] makes) covers whole blocks and nothing more.
//!
//! ```
//! use streamlib_examples::actors::i420::{color_to_yuv, planes};
//!
//! assert_eq!(color_to_yuv([255, 255, 255, 255]), [235, 128, 128]); // limited-range white
//! assert_eq!(color_to_yuv([0, 0, 0, 255]), [16, 128, 128]);
//! let picture = vec![0u8; 4 * 2 * 3 / 2];
//! let [y, u, v] = planes(&picture, (4, 2));
//! assert_eq!((y.len(), u.len(), v.len()), (8, 2, 2));
//! ```

use std::fmt;

use streamlib::PixelFormat;

use super::blend::{clip, mix_row};
use super::canvas::Rgba;
use super::y4m::{to_planes, Chroma};

/// A rectangle as `(x0, y0, x1, y1)`, exclusive ends, inside a picture or a plane.
type Area = (u32, u32, u32, u32);

/// The Y′, Cb and Cr planes of the I420 picture `data` of `size`.
pub fn planes(data: &[u8], (width, height): (u32, u32)) -> [&[u8]; 3] {
    let luma = width as usize * height as usize;
    let (y, chroma) = data.split_at(luma);
    let (u, v) = chroma.split_at(luma / 4);
    [y, u, &v[..luma / 4]]
}

/// The Y′, Cb and Cr planes of the I420 picture `data` of `size`, to write.
pub fn planes_mut(data: &mut [u8], (width, height): (u32, u32)) -> [&mut [u8]; 3] {
    let luma = width as usize * height as usize;
    let (y, chroma) = data.split_at_mut(luma);
    let (u, v) = chroma.split_at_mut(luma / 4);
    [y, u, &mut v[..luma / 4]]
}

/// The straight RGBA8 picture `rgba` of `size` (even sides) as I420 in `out` (resized to fit,
/// its allocation reused); alpha is ignored.
pub fn rgba_to_i420(rgba: &[u8], size: (u32, u32), out: &mut Vec<u8>) {
    let len = PixelFormat::I420.bytes_for(size.0, size.1);
    out.resize(len.expect("an I420 picture has even sides"), 0);
    to_planes(rgba, size, Chroma::C420jpeg, out);
}

/// The Y′, Cb, Cr of `color` (alpha ignored), as [`rgba_to_i420`] converts a picture of it.
pub fn color_to_yuv(color: Rgba) -> [u8; 3] {
    let mut block = Vec::new();
    rgba_to_i420(&color.repeat(4), (2, 2), &mut block);
    [block[0], block[4], block[5]]
}

/// `rect` grown outwards to even coordinates and even sides, so that it covers whole 2×2
/// chroma blocks.
pub fn even_rect((x, y, width, height): (i64, i64, u32, u32)) -> (i64, i64, u32, u32) {
    let (x0, y0) = (x & !1, y & !1);
    let x1 = (x + i64::from(width) + 1) & !1;
    let y1 = (y + i64::from(height) + 1) & !1;
    (x0, y0, (x1 - x0) as u32, (y1 - y0) as u32)
}

/// Per plane (Y′, Cb, Cr) of a picture of `size`: its bytes a row, and the part of it that the
/// luma rectangle `luma` touches (for chroma, every 2×2 block it overlaps).
fn plane_areas(size: (u32, u32), luma: Area) -> [(usize, Area); 3] {
    let (x0, y0, x1, y1) = luma;
    let chroma = (x0 / 2, y0 / 2, x1.div_ceil(2), y1.div_ceil(2));
    let (width, chroma_width) = (size.0 as usize, size.0 as usize / 2);
    [
        (width, luma),
        (chroma_width, chroma),
        (chroma_width, chroma),
    ]
}

/// Paints the rectangle `rect` of the I420 picture `data` of `size` with `yuv`; what falls
/// outside is clipped. Chroma is painted on every 2×2 block the rectangle touches.
pub fn fill_rect(data: &mut [u8], size: (u32, u32), rect: (i64, i64, u32, u32), yuv: [u8; 3]) {
    let Some(luma) = clip(size, rect.0, rect.1, rect.2, rect.3) else {
        return;
    };
    for ((plane, value), (width, area)) in planes_mut(data, size)
        .into_iter()
        .zip(yuv)
        .zip(plane_areas(size, luma))
    {
        for row in rows_mut(plane, width, area) {
            row.fill(value);
        }
    }
}

/// Copies the rectangle `rect` of the I420 picture `from` into the same place of `to`, both of
/// `size`; what falls outside is clipped. Chroma is copied on every 2×2 block the rectangle
/// touches.
pub fn copy_rect(to: &mut [u8], from: &[u8], size: (u32, u32), rect: (i64, i64, u32, u32)) {
    let Some(luma) = clip(size, rect.0, rect.1, rect.2, rect.3) else {
        return;
    };
    for ((to, from), (width, area)) in planes_mut(to, size)
        .into_iter()
        .zip(planes(from, size))
        .zip(plane_areas(size, luma))
    {
        let (x0, y0, x1, _) = area;
        let source = from.chunks_exact(width).skip(y0 as usize);
        for (to, from) in rows_mut(to, width, area).zip(source) {
            to.copy_from_slice(&from[x0 as usize..x1 as usize]);
        }
    }
}

/// The rows of `area` in a plane of `width` bytes a row.
fn rows_mut(
    plane: &mut [u8],
    width: usize,
    (x0, y0, x1, y1): Area,
) -> impl Iterator<Item = &mut [u8]> {
    plane
        .chunks_exact_mut(width)
        .skip(y0 as usize)
        .take((y1 - y0) as usize)
        .map(move |row| &mut row[x0 as usize..x1 as usize])
}

/// A layer ready to draw on an I420 picture: its planes, and where it came from RGBA8 its alpha
/// at luma and at chroma resolution (each chroma alpha the rounded mean of its 2×2 block).
#[derive(Default)]
pub struct Converted {
    /// The layer as I420.
    pub i420: Vec<u8>,
    /// Alpha per luma sample; empty for an opaque layer.
    pub alpha: Vec<u8>,
    /// Alpha per chroma sample; empty for an opaque layer.
    pub chroma_alpha: Vec<u8>,
}

impl Converted {
    /// Converts the straight RGBA8 picture `rgba` of `size` (even sides), keeping its alpha
    /// unless every pixel is opaque.
    pub fn convert(&mut self, rgba: &[u8], size: (u32, u32)) {
        rgba_to_i420(rgba, size, &mut self.i420);
        self.alpha.clear();
        self.chroma_alpha.clear();
        if rgba.chunks_exact(4).all(|pixel| pixel[3] == 255) {
            return;
        }
        self.alpha
            .extend(rgba.chunks_exact(4).map(|pixel| pixel[3]));
        let width = size.0 as usize;
        for pair in self.alpha.chunks_exact(2 * width) {
            let (top, bottom) = pair.split_at(width);
            let blocks = top.chunks_exact(2).zip(bottom.chunks_exact(2));
            self.chroma_alpha.extend(blocks.map(|(t, b)| {
                let sum = u32::from(t[0]) + u32::from(t[1]) + u32::from(b[0]) + u32::from(b[1]);
                ((sum + 2) / 4) as u8
            }));
        }
    }
}

/// A layer's alpha at luma and at chroma resolution, or `None` for an opaque layer.
pub type Alpha<'a> = Option<(&'a [u8], &'a [u8])>;

/// One layer to draw on an I420 picture: its planes (of `size`), its alpha planes if it has any
/// (luma, chroma), where its top-left corner goes (even coordinates) and its opacity.
pub struct Source<'a> {
    /// The layer's I420 bytes.
    pub i420: &'a [u8],
    /// Its size (even sides).
    pub size: (u32, u32),
    /// Per-sample alpha at luma and chroma resolution, or `None` for an opaque layer.
    pub alpha: Alpha<'a>,
    /// Where its top-left corner goes, in the picture's luma pixels (even).
    pub at: (i64, i64),
    /// 0–255, multiplied with the alpha.
    pub opacity: u8,
}

/// Draws `source` over the I420 picture `picture` of `size`, plane by plane with
/// [`mix_row`]; what falls outside is clipped.
pub fn draw(picture: &mut [u8], size: (u32, u32), source: &Source<'_>) {
    let (w, h) = source.size;
    let Some(luma) = clip(size, source.at.0, source.at.1, w, h) else {
        return;
    };
    // The same rectangle in the source's own pixels (even, as `at` is).
    let (sx, sy) = (
        (i64::from(luma.0) - source.at.0) as u32,
        (i64::from(luma.1) - source.at.1) as u32,
    );
    let in_source = (sx, sy, sx + luma.2 - luma.0, sy + luma.3 - luma.1);
    let planes_in = planes(source.i420, source.size);
    let areas = plane_areas(size, luma).into_iter();
    let areas_in = plane_areas(source.size, in_source);
    for (i, (plane, (width, area))) in planes_mut(picture, size).into_iter().zip(areas).enumerate()
    {
        let (src_width, (x0, y0, x1, _)) = areas_in[i];
        let alpha = source
            .alpha
            .map(|(luma, chroma)| if i == 0 { luma } else { chroma });
        for (row, dst) in rows_mut(plane, width, area).enumerate() {
            let start = (y0 as usize + row) * src_width + x0 as usize;
            let span = start..start + (x1 - x0) as usize;
            let alpha = alpha.map(|alpha| &alpha[span.clone()]);
            mix_row(dst, &planes_in[i][span], alpha, source.opacity);
        }
    }
}

/// A pixel format and size a reference actor cannot draw in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputFormatError {
    /// The format asked for.
    pub format: PixelFormat,
    /// The picture's size.
    pub size: (u32, u32),
}

impl fmt::Display for OutputFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (w, h) = self.size;
        write!(
            f,
            "cannot draw {w}x{h} {} frames: RGBA8 works at any size, I420 at even sizes",
            self.format
        )
    }
}

impl std::error::Error for OutputFormatError {}

/// The bytes of one frame, for the formats the test pattern and the compositor draw in: RGBA8
/// at any size, I420 at even sizes ([`PixelFormat::bytes_for`] refuses odd ones).
pub fn check_output(format: PixelFormat, size: (u32, u32)) -> Result<usize, OutputFormatError> {
    match format {
        PixelFormat::Rgba8 | PixelFormat::I420 => format.bytes_for(size.0, size.1),
        _ => None,
    }
    .ok_or(OutputFormatError { format, size })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of an I420 picture of `size`.
    fn len((width, height): (u32, u32)) -> usize {
        PixelFormat::I420.bytes_for(width, height).unwrap()
    }

    /// A 4×2 I420 picture whose every byte says which plane and sample it is.
    fn numbered() -> Vec<u8> {
        (0..len((4, 2)) as u8).collect()
    }

    #[test]
    fn rectangles_touch_the_chroma_blocks_they_overlap() {
        let mut picture = vec![0; len((4, 2))];
        fill_rect(&mut picture, (4, 2), (1, 0, 1, 1), [9, 8, 7]);
        // Luma: pixel (1, 0) only; chroma: the block of pixels 0–1.
        assert_eq!(picture, [0, 9, 0, 0, 0, 0, 0, 0, 8, 0, 7, 0]);
        assert_eq!(even_rect((1, 3, 2, 1)), (0, 2, 4, 2));
        assert_eq!(even_rect((-3, 0, 3, 2)), (-4, 0, 4, 2));

        let mut copy = vec![0; len((4, 2))];
        copy_rect(&mut copy, &numbered(), (4, 2), (2, 0, 5, 5)); // clipped to x 2..4
        assert_eq!(copy, [0, 0, 2, 3, 0, 0, 6, 7, 0, 9, 0, 11]);
    }

    #[test]
    fn drawing_mixes_each_plane_clipped() {
        let mut picture = vec![100; len((4, 4))];
        let layer = vec![200; len((2, 2))];
        let source = |at, opacity| Source {
            i420: &layer,
            size: (2, 2),
            alpha: None,
            at,
            opacity,
        };
        draw(&mut picture, (4, 4), &source((2, 2), 255));
        let [y, u, v] = planes(&picture, (4, 4));
        assert_eq!(
            y,
            [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 200, 200, 100, 100, 200, 200]
        );
        assert_eq!(
            (u, v),
            (&[100, 100, 100, 200][..], &[100, 100, 100, 200][..])
        );
        // Half off the picture's left edge, at opacity 0.6 (153): 100 + (200 - 100) × 0.6.
        draw(&mut picture, (4, 4), &source((-2, 0), 153));
        assert_eq!(planes(&picture, (4, 4))[0][..4], [100; 4]);
        draw(&mut picture, (4, 4), &source((0, 0), 153));
        assert_eq!(planes(&picture, (4, 4))[0][..4], [160, 160, 100, 100]);
        assert_eq!(planes(&picture, (4, 4))[1][0], 160);
    }

    #[test]
    fn a_converted_layer_keeps_its_alpha_at_both_resolutions() {
        let mut converted = Converted::default();
        converted.convert(&[255, 0, 0, 255].repeat(4), (2, 2));
        assert!(
            converted.alpha.is_empty(),
            "an opaque layer carries no alpha"
        );
        let mut rgba = [0, 0, 255, 255].repeat(4);
        rgba[3] = 0; // one transparent pixel of the block
        converted.convert(&rgba, (2, 2));
        assert_eq!(converted.alpha, [0, 255, 255, 255]);
        assert_eq!(converted.chroma_alpha, [191]);
        assert_eq!(&converted.i420[4..], &color_to_yuv([0, 0, 255, 255])[1..]);
    }

    #[test]
    fn only_rgba_and_even_i420_are_drawn() {
        assert!(check_output(PixelFormat::Rgba8, (3, 3)).is_ok());
        assert!(check_output(PixelFormat::I420, (4, 2)).is_ok());
        let odd = check_output(PixelFormat::I420, (5, 2)).unwrap_err();
        assert!(odd.to_string().contains("5x2 I420"), "{odd}");
        assert!(check_output(PixelFormat::Nv12, (4, 2)).is_err());
    }
}
