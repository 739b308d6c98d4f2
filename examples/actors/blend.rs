//! The "over" operator: [`blend_over`] defines it for one pixel, [`over_row`] applies it to a
//! row of pixels four at a time with the SIMD vectors of the `wide` crate, and [`mix_row`] to
//! one plane of an opaque picture (I420), sixteen samples at a time.
//!
//! Frames between the reference actors carry **straight** alpha (as PNG files do); the picture
//! a compositor accumulates is **premultiplied** (each colour already scaled by its alpha), so
//! that drawing a straight layer over it needs no division:
//!
//! ```text
//! a   = a_src × opacity / 255
//! out = src × a / 255 + dst × (255 − a) / 255      (colour; src alpha taken as 255 for alpha)
//! ```
//!
//! Over an opaque picture, premultiplied and straight are the same bytes, and [`over_row`] gives
//! exactly the result of [`blend_over`]: each `/ 255` is rounded to nearest, once per product
//! sum, with Blinn's exact `((v + 128) + ((v + 128) >> 8)) >> 8`.
//!
//! Why not tiny-skia, which the overlay is drawn with: its `draw_pixmap` samples the source
//! through its `f32` pipeline (its 16-bit one has no image sampling stage) and took 7.9 ms for a
//! 1280×720 layer at opacity 0.6 on the benchmark machine, against 0.3 ms here
//! (see `BENCHMARKS.md`).
//!
//! ```
//! use streamlib_examples::actors::blend::{blend_over, over_row};
//!
//! let mut row = [0, 0, 255, 255].repeat(5); // opaque blue, premultiplied = straight
//! over_row(&mut row, &[255, 0, 0, 128].repeat(5), 255); // red at half alpha
//! assert_eq!(&row[..4], &[128, 0, 127, 255]);
//! assert_eq!(blend_over([0, 0, 255, 255], [255, 0, 0, 128], 255), [128, 0, 127, 255]);
//! ```

use wide::{u16x8, u32x4, u8x16};

use super::canvas::Rgba;

/// Porter–Duff "over": `src` (straight alpha, further scaled by `opacity` 0–255) on top of `dst`
/// (straight alpha).
///
/// The result's alpha is `a_s + a_d (1 − a_s)` and its colour the alpha-weighted mix, so a
/// half-transparent layer over an opaque one gives an opaque half-and-half colour, and over a
/// transparent one keeps its own colour at half alpha. This is the definition the row kernel
/// [`over_row`] is tested against.
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

/// Draws the straight-alpha RGBA8 pixels of `src` over the premultiplied RGBA8 pixels of `dst`
/// at `opacity` (0–255), in place. Both rows hold the same number of pixels.
pub fn over_row(dst: &mut [u8], src: &[u8], opacity: u8) {
    if opacity != 0 {
        blend_row(dst, src, opacity, None);
    }
}

/// Writes into `dst` the straight-alpha RGBA8 pixels of `src` drawn at `opacity` over a plain
/// premultiplied `background`, whatever `dst` held: the bottom layer of a picture in one pass,
/// without filling the background first.
pub fn over_color_row(dst: &mut [u8], src: &[u8], background: Rgba, opacity: u8) {
    let below = u8x16::from(bytemuck::cast::<[Rgba; 4], [u8; 16]>([background; 4]));
    blend_row(dst, src, opacity, Some(below));
}

/// The alpha bytes of four RGBA8 pixels.
const ALPHAS: u128 = 0xFF00_0000_FF00_0000_FF00_0000_FF00_0000;

/// `src` over `background` (or over `dst` itself), written to `dst`, four pixels at a time.
/// Four fully transparent pixels leave what is below, four opaque ones drawn at full opacity
/// replace it: both without arithmetic (video and overlays are mostly one or the other).
fn blend_row(dst: &mut [u8], src: &[u8], opacity: u8, background: Option<u8x16>) {
    assert_eq!(dst.len(), src.len(), "rows of different lengths");
    assert_eq!(dst.len() % 4, 0, "RGBA8 rows hold 4 bytes per pixel");
    let mut dst_blocks = dst.chunks_exact_mut(16);
    let mut src_blocks = src.chunks_exact(16);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        let block = <[u8; 16]>::try_from(s).expect("16-byte blocks");
        let alphas = u128::from_ne_bytes(block) & ALPHAS;
        if alphas == 0 || opacity == 0 {
            if let Some(below) = background {
                d.copy_from_slice(&below.to_array());
            }
        } else if alphas == ALPHAS && opacity == 255 {
            d.copy_from_slice(s);
        } else {
            let below = background.unwrap_or_else(|| load(d));
            d.copy_from_slice(&over_block(below, u8x16::from(block), opacity).to_array());
        }
    }
    // The last 1–3 pixels, through the same kernel on a padded copy.
    let (d, s) = (dst_blocks.into_remainder(), src_blocks.remainder());
    if !d.is_empty() {
        let below = background.unwrap_or(padded(d));
        let out = over_block(below, padded(s), opacity).to_array();
        d.copy_from_slice(&out[..d.len()]);
    }
}

/// Draws the straight RGBA8 picture `src` (`width × height`) with its top-left corner at `at`
/// over the premultiplied RGBA8 picture `dst`, row by row with [`over_row`]; what falls outside
/// `dst` is clipped.
pub fn over_rect(dst: (&mut [u8], u32, u32), src: (&[u8], u32, u32), at: (i64, i64), opacity: u8) {
    let ((dst, dst_width, dst_height), (src, width, height)) = (dst, src);
    let Some((x0, y0, x1, y1)) = clip((dst_width, dst_height), at.0, at.1, width, height) else {
        return;
    };
    let bytes = (x1 - x0) as usize * 4;
    let (sx, sy) = (
        (i64::from(x0) - at.0) as usize,
        (i64::from(y0) - at.1) as usize,
    );
    let dst_rows = dst.chunks_exact_mut(dst_width as usize * 4);
    let src_rows = src.chunks_exact(width as usize * 4).skip(sy);
    for (d, s) in dst_rows
        .skip(y0 as usize)
        .take((y1 - y0) as usize)
        .zip(src_rows)
    {
        let start = x0 as usize * 4;
        over_row(
            &mut d[start..start + bytes],
            &s[sx * 4..sx * 4 + bytes],
            opacity,
        );
    }
}

/// The part of the rectangle `(x, y, width, height)` inside a picture of `size`, as
/// `(x0, y0, x1, y1)` with exclusive ends; `None` when nothing is inside.
pub fn clip(
    size: (u32, u32),
    x: i64,
    y: i64,
    width: u32,
    height: u32,
) -> Option<(u32, u32, u32, u32)> {
    let x0 = x.max(0);
    let y0 = y.max(0);
    let x1 = (x + i64::from(width)).min(i64::from(size.0));
    let y1 = (y + i64::from(height)).min(i64::from(size.1));
    (x0 < x1 && y0 < y1).then_some((x0 as u32, y0 as u32, x1 as u32, y1 as u32))
}

fn load(block: &[u8]) -> u8x16 {
    u8x16::from(<[u8; 16]>::try_from(block).expect("16-byte blocks"))
}

/// Four pixels: `out = div255(src' × a + dst × (255 − a))` per channel, where `a` is the
/// pixel's alpha times `opacity` and `src'` is `src` with its alpha channel set to 255 (so the
/// alpha channel comes out as `a + dst_a (255 − a) / 255`). The sums stay within `u16`.
fn over_block(dst: u8x16, src: u8x16, opacity: u8) -> u8x16 {
    let src_words: u32x4 = bytemuck::cast(src);
    let mut alpha = src_words >> 24;
    if opacity != 255 {
        // Once per pixel, in the low half of each 32-bit lane (the high halves stay 0).
        let scaled = bytemuck::cast::<u32x4, u16x8>(alpha) * u16x8::splat(u16::from(opacity));
        alpha = bytemuck::cast(div255(scaled));
    }
    let alpha = alpha | (alpha << 8) | (alpha << 16) | (alpha << 24);
    let src: u8x16 = bytemuck::cast(src_words | u32x4::splat(0xFF00_0000));
    let alpha: u8x16 = bytemuck::cast(alpha);
    let half = |v: u8x16, high: bool| {
        if high {
            u16x8::from_u8x16_high(v)
        } else {
            u16x8::from_u8x16_low(v)
        }
    };
    let blend = |high: bool| {
        let a = half(alpha, high);
        let inverse = u16x8::splat(255) - a;
        div255(half(src, high) * a + half(dst, high) * inverse)
    };
    let (low, high) = (blend(false), blend(true));
    u8x16::narrow_i16x8(bytemuck::cast(low), bytemuck::cast(high))
}

/// Mixes the samples `src` into `dst`, one plane of an opaque picture (a Y′, Cb or Cr plane of
/// I420): `dst = div255(src × a + dst × (255 − a))` with `a = opacity`, or with `alpha`, each
/// sample's `div255(alpha × opacity)`. Rounded as [`blend_over`] rounds, sixteen samples at a
/// time; a block whose `a` is all 0 is left, all 255 copied. All slices have one length.
///
/// ```
/// use streamlib_examples::actors::blend::mix_row;
///
/// let mut row = [100; 3];
/// mix_row(&mut row, &[200; 3], None, 153); // opacity 0.6
/// assert_eq!(row, [160; 3]);
/// mix_row(&mut row, &[0; 3], Some(&[0, 255, 128]), 255);
/// assert_eq!(row, [160, 0, 80]);
/// ```
pub fn mix_row(dst: &mut [u8], src: &[u8], alpha: Option<&[u8]>, opacity: u8) {
    assert_eq!(dst.len(), src.len(), "rows of different lengths");
    if let Some(alpha) = alpha {
        assert_eq!(alpha.len(), src.len(), "an alpha per sample");
    }
    if opacity == 0 {
        return;
    }
    if alpha.is_none() && opacity == 255 {
        return dst.copy_from_slice(src);
    }
    let whole = dst.len() / 16 * 16;
    let (dst_blocks, dst_tail) = dst.split_at_mut(whole);
    let (src_blocks, src_tail) = src.split_at(whole);
    for (i, (d, s)) in dst_blocks
        .chunks_exact_mut(16)
        .zip(src_blocks.chunks_exact(16))
        .enumerate()
    {
        let a = match alpha {
            None => u8x16::splat(opacity),
            Some(alpha) => scale_alphas(load(&alpha[i * 16..i * 16 + 16]), opacity),
        };
        let bytes = a.to_array();
        if bytes == [0; 16] {
            continue;
        }
        if bytes == [255; 16] {
            d.copy_from_slice(s);
            continue;
        }
        d.copy_from_slice(&mix_block(load(d), load(s), a).to_array());
    }
    // The last 1–15 samples, through the same kernel on padded copies.
    if !dst_tail.is_empty() {
        let a = match alpha {
            None => u8x16::splat(opacity),
            Some(alpha) => scale_alphas(padded(&alpha[whole..]), opacity),
        };
        let mixed = mix_block(padded(dst_tail), padded(src_tail), a).to_array();
        dst_tail.copy_from_slice(&mixed[..dst_tail.len()]);
    }
}

/// Up to 16 bytes, zeros after them.
fn padded(bytes: &[u8]) -> u8x16 {
    let mut block = [0u8; 16];
    block[..bytes.len()].copy_from_slice(bytes);
    u8x16::from(block)
}

/// Sixteen alphas times `opacity`, each `div255`-rounded.
fn scale_alphas(alpha: u8x16, opacity: u8) -> u8x16 {
    if opacity == 255 {
        return alpha;
    }
    let opacity = u16x8::splat(u16::from(opacity));
    let low = div255(u16x8::from_u8x16_low(alpha) * opacity);
    let high = div255(u16x8::from_u8x16_high(alpha) * opacity);
    u8x16::narrow_i16x8(bytemuck::cast(low), bytemuck::cast(high))
}

/// Sixteen samples: `div255(src × a + dst × (255 − a))`.
fn mix_block(dst: u8x16, src: u8x16, a: u8x16) -> u8x16 {
    let mix = |d: u16x8, s: u16x8, a: u16x8| div255(s * a + d * (u16x8::splat(255) - a));
    let low = mix(
        u16x8::from_u8x16_low(dst),
        u16x8::from_u8x16_low(src),
        u16x8::from_u8x16_low(a),
    );
    let high = mix(
        u16x8::from_u8x16_high(dst),
        u16x8::from_u8x16_high(src),
        u16x8::from_u8x16_high(a),
    );
    u8x16::narrow_i16x8(bytemuck::cast(low), bytemuck::cast(high))
}

/// `v / 255` rounded to nearest, exact for `v ≤ 255 × 255`.
fn div255(v: u16x8) -> u16x8 {
    let v = v + u16x8::splat(128);
    (v + (v >> 8_u16)) >> 8_u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over_one(dst: Rgba, src: Rgba, opacity: u8) -> Rgba {
        let mut row = dst.to_vec();
        over_row(&mut row, &src, opacity);
        row.try_into().unwrap()
    }

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
    fn the_row_kernel_equals_the_definition_over_opaque_pixels() {
        // Every source alpha and a spread of colours and opacities, over opaque pixels.
        for alpha in 0..=255u8 {
            for (i, opacity) in [255u8, 254, 204, 153, 128, 1].into_iter().enumerate() {
                let src = [alpha, 255 - alpha, (alpha / 3).wrapping_mul(7), alpha];
                let dst = [(i * 40) as u8, 255 - alpha / 2, alpha / 5, 255];
                assert_eq!(
                    over_one(dst, src, opacity),
                    blend_over(dst, src, opacity),
                    "{src:?} over {dst:?} at {opacity}"
                );
            }
        }
    }

    #[test]
    fn whole_blocks_transparent_opaque_or_mixed_equal_the_definition() {
        // Runs of four pixels: transparent, opaque, mixed, each at several opacities.
        let alphas = [
            0, 0, 0, 0, 255, 255, 255, 255, 0, 255, 128, 7, 255, 255, 255, 254,
        ];
        let src: Vec<u8> = alphas.iter().flat_map(|&a| [200, a, 255 - a, a]).collect();
        let dst: Vec<u8> = (0..16).flat_map(|i| [i * 9, 50, 255 - i, 255]).collect();
        for opacity in [255, 153, 0] {
            let mut row = dst.clone();
            over_row(&mut row, &src, opacity);
            let mut over_black = vec![1; src.len()];
            over_color_row(&mut over_black, &src, [0, 0, 0, 255], opacity);
            for i in 0..16 {
                let pixel = |bytes: &[u8]| -> Rgba { bytes[i * 4..i * 4 + 4].try_into().unwrap() };
                let want = blend_over(pixel(&dst), pixel(&src), opacity);
                assert_eq!(pixel(&row), want, "pixel {i} at {opacity}");
                let want = blend_over([0, 0, 0, 255], pixel(&src), opacity);
                assert_eq!(
                    pixel(&over_black),
                    want,
                    "pixel {i} over black at {opacity}"
                );
            }
        }
    }

    #[test]
    fn the_row_kernel_accumulates_premultiplied_alpha() {
        // Over transparent black, the result is the layer premultiplied by its alpha.
        assert_eq!(
            over_one([0; 4], [200, 100, 50, 128], 255),
            [100, 50, 25, 128]
        );
        // Two half layers: alpha .75, as the definition says.
        let once = over_one([0; 4], [0, 0, 255, 128], 255);
        let twice = over_one(once, [255, 0, 0, 128], 255);
        assert_eq!(twice[3], 192);
        let straight = blend_over([0, 0, 255, 128], [255, 0, 0, 128], 255);
        let demultiplied = |c: u8| (u32::from(c) * 255 + 96) / 192;
        assert!(demultiplied(twice[0]).abs_diff(u32::from(straight[0])) <= 1);
        assert!(demultiplied(twice[2]).abs_diff(u32::from(straight[2])) <= 1);
    }

    #[test]
    fn rows_of_any_length_including_a_tail() {
        for pixels in [1, 3, 4, 5, 17] {
            let mut row = [10, 20, 30, 255].repeat(pixels);
            over_row(&mut row, &[250, 0, 0, 255].repeat(pixels), 255);
            assert_eq!(row, [250, 0, 0, 255].repeat(pixels), "{pixels} pixels");
        }
        let mut row = [1, 2, 3, 255].repeat(3);
        over_row(&mut row, &[9, 9, 9, 255].repeat(3), 0);
        assert_eq!(row, [1, 2, 3, 255].repeat(3), "opacity 0 leaves it");
    }

    #[test]
    fn the_plane_kernel_equals_the_definition_for_every_alpha_and_length() {
        let definition = |d: u8, s: u8, a: u32| {
            ((u32::from(s) * a + u32::from(d) * (255 - a)) as f64 / 255.0).round() as u8
        };
        for len in [1, 15, 16, 17, 40] {
            let src: Vec<u8> = (0..len).map(|i| (i * 97 % 256) as u8).collect();
            let dst: Vec<u8> = (0..len).map(|i| (255 - i * 31 % 256) as u8).collect();
            for opacity in [255u8, 254, 153, 128, 1, 0] {
                let mut row = dst.clone();
                mix_row(&mut row, &src, None, opacity);
                for i in 0..len {
                    let want = definition(dst[i], src[i], u32::from(opacity));
                    assert_eq!(row[i], want, "sample {i} of {len} at {opacity}");
                }
                for alpha_seed in [0usize, 255, 7] {
                    let alpha: Vec<u8> = (0..len)
                        .map(|i| match alpha_seed {
                            0 => 0,
                            255 => 255,
                            seed => (i * seed * 13 % 256) as u8,
                        })
                        .collect();
                    let mut row = dst.clone();
                    mix_row(&mut row, &src, Some(&alpha), opacity);
                    for i in 0..len {
                        let a = mul_255(alpha[i], opacity);
                        let want = definition(dst[i], src[i], a);
                        assert_eq!(row[i], want, "sample {i} of {len}, alpha {}", alpha[i]);
                    }
                }
            }
        }
    }

    #[test]
    fn over_a_colour_is_over_a_row_filled_with_it() {
        let src: Vec<u8> = (0..7 * 4).map(|i| (i * 37 % 256) as u8).collect();
        for (background, opacity) in [([0, 0, 0, 255], 255), ([10, 20, 30, 128], 153)] {
            let mut filled = background.repeat(7);
            over_row(&mut filled, &src, opacity);
            let mut direct = vec![99; src.len()];
            over_color_row(&mut direct, &src, background, opacity);
            assert_eq!(direct, filled, "{background:?} at {opacity}");
        }
        let mut row = vec![0; 8];
        over_color_row(&mut row, &[9; 8], [1, 2, 3, 4], 0);
        assert_eq!(
            row,
            [1, 2, 3, 4].repeat(2),
            "opacity 0 leaves the background"
        );
    }
}
