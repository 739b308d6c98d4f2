//! Text as pixels: the public-domain 8×8 bitmap font of the `font8x8` crate.
//!
//! tiny-skia draws no text, and a vector font would add a font file and a shaping crate to a
//! demo that needs a title and a counter. Each printable ASCII character is an 8×8 cell; a glyph
//! is drawn as one square per set bit, `scale` pixels wide, so text stays crisp at any size and
//! can be drawn by anything that fills rectangles ([`Canvas::fill_rect`](super::Canvas::fill_rect)
//! or a tiny-skia path).

/// Width and height of a glyph cell, in font units.
pub const CELL: u32 = 8;

/// The set pixels of `text`, as `(column, row)` in font units from the top-left of the first cell.
///
/// Characters outside printable ASCII are drawn as `?`.
pub fn pixels(text: &str) -> impl Iterator<Item = (u32, u32)> + '_ {
    text.chars().enumerate().flat_map(|(index, ch)| {
        let rows = glyph(ch);
        (0..CELL).flat_map(move |row| {
            (0..CELL)
                .filter(move |column| rows[row as usize] & (1 << column) != 0)
                .map(move |column| (index as u32 * CELL + column, row))
        })
    })
}

/// Width in pixels of `text` drawn at `scale`.
pub fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * CELL * scale
}

/// The 8 rows of `ch`, bit 0 the leftmost pixel.
fn glyph(ch: char) -> [u8; 8] {
    let code = if ch.is_ascii() && !ch.is_ascii_control() {
        ch as usize
    } else {
        '?' as usize
    };
    font8x8::legacy::BASIC_LEGACY[code]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_space_has_no_pixels_and_a_letter_has_some() {
        assert_eq!(pixels(" ").count(), 0);
        let h: Vec<_> = pixels("H").collect();
        assert!(h.len() > 10);
        assert!(h.iter().all(|&(x, y)| x < CELL && y < CELL));
    }

    #[test]
    fn characters_advance_one_cell() {
        let one = pixels("I").count();
        let two: Vec<_> = pixels(" I").collect();
        assert_eq!(two.len(), one);
        assert!(two.iter().all(|&(x, _)| (CELL..2 * CELL).contains(&x)));
        assert_eq!(text_width("abc", 2), 48);
    }

    #[test]
    fn unknown_characters_show_as_a_question_mark() {
        let question: Vec<_> = pixels("?").collect();
        assert_eq!(pixels("é").collect::<Vec<_>>(), question);
    }
}
