//! RGB ↔ Y′CbCr, as video files and YUV frames carry colour.
//!
//! BT.601 coefficients, **limited range** (Y′ 16–235, Cb/Cr 16–240): what players assume for a
//! `.y4m` file that does not say otherwise, and what [`VideoFrame`](streamlib::VideoFrame)s in
//! I420 / NV12 are taken to hold. Integer arithmetic with 16-bit fixed-point coefficients,
//! rounded, so a round trip is within 2 levels.

/// Converts one RGB pixel to limited-range BT.601 `(y, cb, cr)`.
pub fn rgb_to_ycbcr(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    // Coefficients × 65536, scaled to 219 (luma) and 224 (chroma) levels out of 255.
    let y = (16_829 * r + 33_039 * g + 6_416 * b + (16 << 16) + 32_768) >> 16;
    let cb = (-9_714 * r - 19_070 * g + 28_784 * b + (128 << 16) + 32_768) >> 16;
    let cr = (28_784 * r - 24_103 * g - 4_681 * b + (128 << 16) + 32_768) >> 16;
    (clamp(y), clamp(cb), clamp(cr))
}

/// Converts one limited-range BT.601 `(y, cb, cr)` pixel to RGB.
pub fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> (u8, u8, u8) {
    let y = (i32::from(y) - 16) * 76_309;
    let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
    let r = (y + 104_597 * cr + 32_768) >> 16;
    let g = (y - 25_675 * cb - 53_279 * cr + 32_768) >> 16;
    let b = (y + 132_201 * cb + 32_768) >> 16;
    (clamp(r), clamp(g), clamp(b))
}

fn clamp(value: i32) -> u8 {
    value.clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_colours_land_on_the_standard_levels() {
        assert_eq!(rgb_to_ycbcr(0, 0, 0), (16, 128, 128));
        assert_eq!(rgb_to_ycbcr(255, 255, 255), (235, 128, 128));
        // 75 % white of SMPTE bars: 16 + 219 × 0.75 ≈ 180.
        assert_eq!(rgb_to_ycbcr(191, 191, 191), (180, 128, 128));
        let (y, cb, cr) = rgb_to_ycbcr(255, 0, 0);
        assert_eq!((y, cb, cr), (81, 90, 240)); // 16 + 219 × 0.299 = 81.48
    }

    #[test]
    fn a_round_trip_is_within_two_levels() {
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(15) {
                for b in (0..=255).step_by(15) {
                    let (y, cb, cr) = rgb_to_ycbcr(r, g, b);
                    let (r2, g2, b2) = ycbcr_to_rgb(y, cb, cr);
                    for (a, z) in [(r, r2), (g, g2), (b, b2)] {
                        assert!(a.abs_diff(z) <= 2, "{r},{g},{b} -> {r2},{g2},{b2}");
                    }
                }
            }
        }
    }
}
