//! [`Drawing`]: an animated vector overlay — shapes and text drawn with tiny-skia on a
//! transparent canvas, meant to go over video through a [`Compositor`](super::Compositor).
//!
//! Every frame holds:
//!
//! - a rounded **panel** in the top-left ([`panel_rect`]), filled with the translucent
//!   [`PANEL_COLOR`] so what lies below shows through, with a title and a caption (frame number
//!   and clock time) in the 8×8 bitmap font of [`font`];
//! - right of it, a **star** turning a quarter turn per second and a **disc** orbiting it every
//!   3 seconds, both translucent and anti-aliased.
//!
//! Everything else is fully transparent. tiny-skia works in premultiplied alpha; the frame sent
//! is converted to straight alpha (by `fast_image_resize`), as every frame between the
//! reference actors is.
//!
//! Only what moves is drawn per frame: the panel and its title are drawn once; each tick puts
//! back, from that drawing, the rectangles the caption and the animation covered on the last
//! tick, draws them anew, and copies just those rectangles into a reused frame buffer
//! ([`FramePool`]) that already holds the rest. The frames are the same, pixel for pixel, as
//! [`draw_overlay`] drawing everything from scratch.

use std::f32::consts::TAU;

use fast_image_resize::images::{CroppedImageMut, Image};
use fast_image_resize::{MulDiv, PixelType};
use streamlib::prelude::*;
use streamlib::VideoFrame;
use tiny_skia::{
    Color, FillRule, IntRect, Paint, Path, PathBuilder, Pixmap, Rect, Stroke, Transform,
};

use super::canvas::{copy_rect, rgba_frame, Canvas, Rgba};
use super::clock_seconds;
use super::font;
use super::pool::FramePool;

/// Fill of the panel: a dark blue at 63 % alpha.
pub const PANEL_COLOR: Rgba = [16, 32, 96, 160];

/// Sends an animated overlay frame, `width × height`, on every tick.
#[actor]
pub struct Drawing {
    /// One RGBA8 frame per tick, transparent outside the shapes.
    #[output]
    pub video: Output<VideoFrame>,
    width: u32,
    height: u32,
    title: String,
    /// What is kept from frame to frame, made at the first tick.
    scene: Option<Scene>,
}

/// The overlay's drawing surfaces, kept from frame to frame.
struct Scene {
    /// Panel and title, premultiplied: everything that does not move.
    still: Pixmap,
    /// `still` plus this frame's caption and animation.
    work: Pixmap,
    /// Where `work` differs from `still`.
    moved: Vec<IntRect>,
    /// `still` in straight alpha: what a new frame buffer starts from.
    still_straight: Vec<u8>,
    /// The frame buffers, each noting where it differs from `still_straight`.
    pool: FramePool<Vec<IntRect>>,
}

impl Drawing {
    /// An overlay of `width × height` titled "streamlib".
    pub fn new(width: u32, height: u32) -> Drawing {
        Drawing {
            video: Output::new(),
            width,
            height,
            title: "streamlib".to_string(),
            scene: None,
        }
    }

    /// Shows `title` on the panel instead (printable ASCII; others show as `?`).
    pub fn with_title(mut self, title: impl Into<String>) -> Drawing {
        self.title = title.into();
        self.scene = None;
        self
    }
}

impl Process for Drawing {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let seconds = clock_seconds(tick);
        let caption = format!("#{}  {seconds:.2} s", tick.frame_number);
        let (width, height) = (self.width, self.height);
        let scene = match &mut self.scene {
            Some(scene) => scene,
            empty => empty.insert(Scene::new(width, height, &self.title)?),
        };
        let data = scene.draw(&caption, seconds);
        let frame = rgba_frame((width, height), data, tick)?;
        self.video.write(frame);
        Ok(())
    }
}

impl Scene {
    fn new(width: u32, height: u32, title: &str) -> Result<Scene, EmptyOverlay> {
        let mut still = Pixmap::new(width, height).ok_or(EmptyOverlay { width, height })?;
        draw_panel(&mut still, title);
        let mut still_straight = still.data().to_vec();
        demultiply(&mut still_straight, (width, height), whole(width, height));
        Ok(Scene {
            work: still.clone(),
            still,
            moved: Vec::new(),
            pool: FramePool::new(still_straight.len()),
            still_straight,
        })
    }

    /// The frame's straight-alpha bytes with `caption` and the animation at `seconds`.
    fn draw(&mut self, caption: &str, seconds: f64) -> std::sync::Arc<[u8]> {
        let size = (self.work.width(), self.work.height());
        for rect in self.moved.drain(..) {
            copy_rect(self.work.data_mut(), self.still.data(), size, xywh(rect));
        }
        let (x, y, w, h) = panel_rect(size.0, size.1);
        let caption_area = draw_caption(&mut self.work, caption, (x, y, w, h));
        let animation_area = draw_animation(&mut self.work, seconds as f32);
        self.moved
            .extend(caption_area.into_iter().chain(animation_area));
        let (work, moved, still) = (&self.work, &self.moved, &self.still_straight);
        self.pool.fill(
            |fresh| fresh.copy_from_slice(still),
            |pixels, differs| {
                // Put back what this buffer had moved, and bring in what moved now.
                for &rect in differs.iter().chain(moved) {
                    copy_rect(pixels, work.data(), size, xywh(rect));
                    demultiply(pixels, size, rect);
                }
                differs.clone_from(moved);
            },
        )
    }
}

/// All of a `width × height` picture (both non-zero).
fn whole(width: u32, height: u32) -> IntRect {
    IntRect::from_xywh(0, 0, width, height).expect("a non-empty picture")
}

fn xywh(rect: IntRect) -> (i64, i64, u32, u32) {
    (
        rect.x().into(),
        rect.y().into(),
        rect.width(),
        rect.height(),
    )
}

/// The part `rect` of the premultiplied RGBA8 `pixels` (of `size`) to straight alpha.
fn demultiply(pixels: &mut [u8], (width, height): (u32, u32), rect: IntRect) {
    let Some(rect) = rect.intersect(&whole(width, height)) else {
        return;
    };
    let mut image =
        Image::from_slice_u8(width, height, pixels, PixelType::U8x4).expect("the pixmap's size");
    let (x, y) = (rect.x() as u32, rect.y() as u32);
    let mut part = CroppedImageMut::new(&mut image, x, y, rect.width(), rect.height())
        .expect("inside the picture");
    MulDiv::new()
        .divide_alpha_inplace(&mut part)
        .expect("RGBA8 has alpha");
}

/// [`draw_overlay`] was asked for a zero width or height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmptyOverlay {
    /// Width asked for.
    pub width: u32,
    /// Height asked for.
    pub height: u32,
}

impl std::fmt::Display for EmptyOverlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot draw a {}x{} overlay", self.width, self.height)
    }
}

impl std::error::Error for EmptyOverlay {}

/// The panel as `(x, y, width, height)` in pixels of a `width × height` overlay.
pub fn panel_rect(width: u32, height: u32) -> (f32, f32, f32, f32) {
    let (w, h) = (width as f32, height as f32);
    (0.04 * w, 0.06 * h, 0.44 * w, 0.2 * h)
}

/// A pixel inside the panel that only the panel's fill covers (left of the text, away from the
/// border): where a test finds [`PANEL_COLOR`] blended over what lies below.
pub fn panel_probe(width: u32, height: u32) -> (u32, u32) {
    let (x, y, _, h) = panel_rect(width, height);
    (
        (x + padding(h) / 2.0).round() as u32,
        (y + h / 2.0).round() as u32,
    )
}

/// The overlay at `seconds` into the clock's time, drawn from scratch.
pub fn draw_overlay(
    width: u32,
    height: u32,
    title: &str,
    caption: &str,
    seconds: f64,
) -> Result<Canvas, EmptyOverlay> {
    let mut pixmap = Pixmap::new(width, height).ok_or(EmptyOverlay { width, height })?;
    draw_panel(&mut pixmap, title);
    draw_caption(&mut pixmap, caption, panel_rect(width, height));
    draw_animation(&mut pixmap, seconds as f32);
    let mut pixels = pixmap.take();
    demultiply(&mut pixels, (width, height), whole(width, height));
    Ok(Canvas::from_rgba(width, height, pixels).expect("a pixmap's own size"))
}

fn padding(panel_height: f32) -> f32 {
    panel_height * 0.2
}

/// The panel, its border and its title: what does not move.
fn draw_panel(pixmap: &mut Pixmap, title: &str) {
    let (x, y, w, h) = panel_rect(pixmap.width(), pixmap.height());
    let pad = padding(h);
    let Some(panel) = rounded_rect(x, y, w, h, pad) else {
        return;
    };
    let [r, g, b, a] = PANEL_COLOR;
    pixmap.fill_path(
        &panel,
        &paint(r, g, b, a),
        FillRule::Winding,
        Transform::identity(),
        None,
    );
    let border = Stroke {
        width: (pixmap.height() as f32 / 360.0).max(1.0),
        ..Stroke::default()
    };
    pixmap.stroke_path(
        &panel,
        &paint(255, 255, 255, 200),
        &border,
        Transform::identity(),
        None,
    );
    let (title_scale, title_y, _) = text_lines(y, h);
    draw_text(
        pixmap,
        x + pad,
        title_y,
        title_scale,
        title,
        paint(255, 255, 255, 255),
    );
}

/// The caption under the title; returns the pixels it may have covered.
fn draw_caption(
    pixmap: &mut Pixmap,
    caption: &str,
    (x, y, _, h): (f32, f32, f32, f32),
) -> Option<IntRect> {
    let (title_scale, _, caption_y) = text_lines(y, h);
    let caption_scale = (title_scale / 2.0).floor().max(1.0);
    draw_text(
        pixmap,
        x + padding(h),
        caption_y,
        caption_scale,
        caption,
        paint(200, 220, 255, 255),
    )
}

/// The title's scale and the top of the title and of the caption, in a panel at `y` of height `h`.
fn text_lines(y: f32, h: f32) -> (f32, f32, f32) {
    let title_scale = ((h * 0.38) / font::CELL as f32).floor().max(1.0);
    let title_y = y + padding(h) * 0.7;
    let caption_y = title_y + (font::CELL as f32 + 3.0) * title_scale;
    (title_scale, title_y, caption_y)
}

/// The star and the disc; returns the pixels they may have covered.
fn draw_animation(pixmap: &mut Pixmap, seconds: f32) -> Option<IntRect> {
    let (w, h) = (pixmap.width() as f32, pixmap.height() as f32);
    let (cx, cy, radius) = (0.75 * w, 0.36 * h, 0.14 * h);
    let outline = Stroke {
        width: (h / 240.0).max(1.0),
        ..Stroke::default()
    };
    // A stroke reaches half its width past the path, and a mitred corner `miter_limit` times
    // that; anti-aliasing one pixel more.
    let reach = outline.width / 2.0 * outline.miter_limit + 1.0;
    let mut covered: Option<Rect> = None;
    let mut cover = |path: &Path| {
        let b = path.bounds();
        let area = Rect::from_ltrb(
            b.left() - reach,
            b.top() - reach,
            b.right() + reach,
            b.bottom() + reach,
        );
        covered = match (covered, area) {
            (Some(c), Some(a)) => Rect::from_ltrb(
                c.left().min(a.left()),
                c.top().min(a.top()),
                c.right().max(a.right()),
                c.bottom().max(a.bottom()),
            ),
            (c, a) => c.or(a),
        };
    };

    if let Some(star) = star(cx, cy, radius, radius * 0.45) {
        let turn = Transform::from_rotate_at(90.0 * seconds, cx, cy);
        pixmap.fill_path(
            &star,
            &paint(255, 140, 0, 170),
            FillRule::Winding,
            turn,
            None,
        );
        pixmap.stroke_path(&star, &paint(255, 255, 255, 230), &outline, turn, None);
        if let Some(turned) = star.transform(turn) {
            cover(&turned);
        }
    }

    let angle = TAU * seconds / 3.0;
    let (ox, oy) = (
        cx + 1.25 * radius * angle.cos(),
        cy + 1.25 * radius * angle.sin(),
    );
    if let Some(disc) = PathBuilder::from_circle(ox, oy, 0.25 * radius) {
        let identity = Transform::identity();
        pixmap.fill_path(
            &disc,
            &paint(0, 200, 255, 150),
            FillRule::Winding,
            identity,
            None,
        );
        pixmap.stroke_path(&disc, &paint(255, 255, 255, 230), &outline, identity, None);
        cover(&disc);
    }
    covered?.round_out()
}

/// Text as one path of font-pixel squares, filled without anti-aliasing so it stays crisp;
/// returns the pixels it covered.
fn draw_text(
    pixmap: &mut Pixmap,
    x: f32,
    y: f32,
    scale: f32,
    text: &str,
    mut paint: Paint<'_>,
) -> Option<IntRect> {
    let mut builder = PathBuilder::new();
    for (column, row) in font::pixels(text) {
        let (px, py) = (x + column as f32 * scale, y + row as f32 * scale);
        if let Some(square) = Rect::from_xywh(px.round(), py.round(), scale, scale) {
            builder.push_rect(square);
        }
    }
    paint.anti_alias = false;
    let path = builder.finish()?;
    pixmap.fill_path(
        &path,
        &paint,
        FillRule::Winding,
        Transform::identity(),
        None,
    );
    let b = path.bounds();
    Rect::from_ltrb(
        b.left() - 1.0,
        b.top() - 1.0,
        b.right() + 1.0,
        b.bottom() + 1.0,
    )?
    .round_out()
}

fn paint(r: u8, g: u8, b: u8, a: u8) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(Color::from_rgba8(r, g, b, a));
    paint.anti_alias = true;
    paint
}

fn rounded_rect(x: f32, y: f32, w: f32, h: f32, r: f32) -> Option<Path> {
    let r = r.min(w / 2.0).min(h / 2.0);
    let mut pb = PathBuilder::new();
    pb.move_to(x + r, y);
    pb.line_to(x + w - r, y);
    pb.quad_to(x + w, y, x + w, y + r);
    pb.line_to(x + w, y + h - r);
    pb.quad_to(x + w, y + h, x + w - r, y + h);
    pb.line_to(x + r, y + h);
    pb.quad_to(x, y + h, x, y + h - r);
    pb.line_to(x, y + r);
    pb.quad_to(x, y, x + r, y);
    pb.close();
    pb.finish()
}

/// A five-pointed star, first point straight up.
fn star(cx: f32, cy: f32, outer: f32, inner: f32) -> Option<Path> {
    let mut pb = PathBuilder::new();
    for i in 0..10 {
        let radius = if i % 2 == 0 { outer } else { inner };
        let angle = TAU * i as f32 / 10.0 - TAU / 4.0;
        let (px, py) = (cx + radius * angle.cos(), cy + radius * angle.sin());
        if i == 0 {
            pb.move_to(px, py);
        } else {
            pb.line_to(px, py);
        }
    }
    pb.close();
    pb.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panel_is_translucent_and_the_corners_transparent() {
        for (w, h) in [(320, 180), (1280, 720), (640, 480)] {
            let overlay = draw_overlay(w, h, "streamlib", "#1  0.02 s", 0.0).unwrap();
            let (x, y) = panel_probe(w, h);
            let p = overlay.pixel(x, y);
            assert_eq!(p[3], PANEL_COLOR[3], "{w}x{h} at ({x}, {y}): {p:?}");
            for (got, want) in p[..3].iter().zip(&PANEL_COLOR[..3]) {
                assert!(got.abs_diff(*want) <= 1, "{p:?}");
            }
            assert_eq!(overlay.pixel(0, 0), [0, 0, 0, 0]);
            assert_eq!(overlay.pixel(w - 1, h - 1), [0, 0, 0, 0]);
        }
    }

    #[test]
    fn the_title_is_drawn_in_white() {
        let overlay = draw_overlay(640, 360, "streamlib", "", 0.0).unwrap();
        let (x, y, w, h) = panel_rect(640, 360);
        let white = (x as u32..(x + w) as u32)
            .flat_map(|px| (y as u32..(y + h) as u32).map(move |py| (px, py)))
            .filter(|&(px, py)| overlay.pixel(px, py) == [255, 255, 255, 255])
            .count();
        assert!(white > 100, "{white} white pixels");
    }

    #[test]
    fn the_animation_moves_right_of_the_panel_and_above_the_bottom_third() {
        let (w, h) = (320, 180);
        let (px, _, pw, _) = panel_rect(w, h);
        let first = draw_overlay(w, h, "", "", 0.0).unwrap();
        for seconds in [0.5, 1.4, 2.1, 2.9] {
            let later = draw_overlay(w, h, "", "", seconds).unwrap();
            let mut changed = 0;
            for y in 0..h {
                for x in 0..w {
                    if later.pixel(x, y) != first.pixel(x, y) {
                        changed += 1;
                        assert!(x as f32 > px + pw, "({x}, {y}) at {seconds} s");
                    }
                    if y > h * 60 / 100 {
                        assert_eq!(later.pixel(x, y)[3], 0, "({x}, {y}) at {seconds} s");
                    }
                }
            }
            assert!(changed > 0, "nothing moved at {seconds} s");
        }
    }

    #[test]
    fn redrawing_only_what_moved_gives_the_frames_drawn_from_scratch() {
        let (w, h) = (320, 180);
        let mut scene = Scene::new(w, h, "streamlib").unwrap();
        let mut held = Vec::new(); // frames kept alive, so the pool cycles through buffers
        for (n, seconds) in [0.0, 0.4, 0.41, 1.7, 2.9, 3.0, 0.2, 5.5]
            .into_iter()
            .enumerate()
        {
            let caption = format!("#{n}  {seconds:.2} s");
            let frame = scene.draw(&caption, seconds);
            let fresh = draw_overlay(w, h, "streamlib", &caption, seconds).unwrap();
            assert!(
                &frame[..] == fresh.pixels(),
                "frame {n} at {seconds} s differs"
            );
            if n % 3 != 0 {
                held.push(frame);
            }
        }
        assert!(scene.pool.buffers() > 1);
    }

    #[test]
    fn a_zero_size_is_refused() {
        let error = draw_overlay(0, 10, "", "", 0.0).unwrap_err();
        assert_eq!(error.to_string(), "cannot draw a 0x10 overlay");
    }
}
