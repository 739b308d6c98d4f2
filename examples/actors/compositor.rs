//! [`Compositor`]: stacks any number of video layers into one frame with real alpha blending.
//!
//! Its input `layers` is an input set ([`Inputs`]): every connection adds a layer, in connection
//! order (`a.video >> mix.layers; b.video >> mix.layers` makes `a` layer 0 and `b` layer 1).
//! Each tick the compositor starts from an opaque background, then draws the newest frame of each
//! connected layer with the "over" operator ([`blend_over`](super::blend_over)): a pixel of alpha
//! 128 shows half of itself and half of what lies below. Frames in and out carry straight alpha;
//! the picture is accumulated premultiplied (see [`blend`](super::blend)), which over an opaque
//! background is the same bytes, and divided back only when the background is not opaque. The
//! output frames are drawn into reused buffers ([`FramePool`]): a buffer is written again once
//! every reader has let go of the frame over it, so a steady pipeline allocates and copies
//! nothing per frame. Layers in another pixel format are converted with the `yuv` crate and
//! layers of another size scaled with `fast_image_resize` (bilinear), into buffers the
//! compositor keeps. Every layer has a [`Layer`] setting —
//! its place in the stack (`z`, lowest first; ties keep connection order), its `opacity` (multiplied
//! with the frame's own alpha) and its [`Placement`] — so a frame of another size than the output
//! is scaled to fit, stretched, or placed at a position, never rejected. The first time a layer
//! arrives at a size other than the output's, the compositor logs where it puts it.
//!
//! **I420 output.** [`Compositor::with_format`]`(PixelFormat::I420)` composites in 4:2:0
//! instead (1.5 bytes a pixel, as GStreamer's `compositor` does for I420): each plane of a layer
//! is mixed into the picture's with [`mix_row`](super::blend::mix_row). An I420 layer at its
//! drawn size is used as it arrives (no conversion, no copy) and is opaque, so its opacity is
//! all there is; a layer in another format or size is converted (and scaled) through RGBA8 and
//! keeps its per-pixel alpha, averaged over each 2×2 block for the chroma planes. The picture is
//! opaque (I420 has no alpha; the background's alpha is ignored), and a layer's rectangle is
//! moved to even coordinates and sides (whole chroma blocks).

use fast_image_resize::{MulDiv, PixelType, Resizer};
use streamlib::prelude::*;
use streamlib::{PixelFormat, VideoFrame};

use super::blend::{over_color_row, over_rect};
use super::canvas::{frame_to_rgba, opacity_u8, resize_rgba, tick_frame, Rgba, UnsupportedFormat};
use super::i420::{self, check_output, color_to_yuv, Converted, OutputFormatError};
use super::pool::FramePool;

/// Where a layer of another size than the output goes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Placement {
    /// Scaled to fit inside the output, keeping its aspect ratio, centred (default).
    #[default]
    Fit,
    /// Scaled to cover the whole output, aspect ratio ignored.
    Stretch,
    /// At its own size, top-left corner at `(x, y)` (clipped at the edges).
    At {
        /// Left edge, in output pixels (may be negative).
        x: i32,
        /// Top edge, in output pixels (may be negative).
        y: i32,
    },
    /// Scaled into this rectangle of the output (picture in picture).
    Rect {
        /// Left edge.
        x: i32,
        /// Top edge.
        y: i32,
        /// Width in output pixels.
        width: u32,
        /// Height in output pixels.
        height: u32,
    },
}

impl Placement {
    /// The rectangle `(x, y, width, height)` a `source`-sized frame covers in an `output`-sized
    /// picture.
    pub fn rect(self, source: (u32, u32), output: (u32, u32)) -> (i64, i64, u32, u32) {
        let ((sw, sh), (ow, oh)) = (source, output);
        match self {
            Placement::Fit => {
                let scale = (f64::from(ow) / f64::from(sw)).min(f64::from(oh) / f64::from(sh));
                let w = ((f64::from(sw) * scale).round() as u32).clamp(1, ow);
                let h = ((f64::from(sh) * scale).round() as u32).clamp(1, oh);
                (i64::from((ow - w) / 2), i64::from((oh - h) / 2), w, h)
            }
            Placement::Stretch => (0, 0, ow, oh),
            Placement::At { x, y } => (x.into(), y.into(), sw, sh),
            Placement::Rect {
                x,
                y,
                width,
                height,
            } => (x.into(), y.into(), width, height),
        }
    }
}

/// How one layer is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layer {
    /// Stacking order: lower is further down. Defaults to the layer's index (connection order).
    pub z: i32,
    /// 0.0 (invisible) to 1.0 (as the frame's own alpha says); default 1.0.
    pub opacity: f32,
    /// Where a frame of another size goes; default [`Placement::Fit`].
    pub placement: Placement,
}

impl Layer {
    /// Opacity 1.0, fitted, at stacking position `z`.
    pub fn new(z: i32) -> Layer {
        Layer {
            z,
            opacity: 1.0,
            placement: Placement::Fit,
        }
    }

    /// The same layer at `opacity`.
    pub fn opacity(self, opacity: f32) -> Layer {
        Layer { opacity, ..self }
    }

    /// The same layer placed by `placement`.
    pub fn placement(self, placement: Placement) -> Layer {
        Layer { placement, ..self }
    }
}

/// Blends any number of video layers into one frame per tick.
#[actor]
pub struct Compositor {
    /// The layers, one per connection, in connection order (layer 0 is the bottom one unless
    /// `z` says otherwise).
    #[input]
    pub layers: Inputs<VideoFrame>,
    /// The composite, `width × height`, sent once any layer has a frame: RGBA8, or I420 after
    /// [`with_format`](Compositor::with_format).
    #[output]
    pub video: Output<VideoFrame>,
    width: u32,
    height: u32,
    format: PixelFormat,
    background: Rgba,
    /// How each layer is drawn, by index; a layer without a setting gets `Layer::new(index)`.
    settings: Vec<Layer>,
    /// The last size each layer was logged at, so a mismatch is logged once, not per frame.
    logged_size: Vec<Option<(u32, u32)>>,
    /// Buffers of the output frames.
    pool: FramePool,
    /// Per layer, where a frame of another format or size is converted and scaled.
    scratch: Vec<Scratch>,
    /// This tick's newest frame of each layer (kept for its memory).
    frames: Vec<Option<std::sync::Arc<VideoFrame>>>,
}

/// Converted and scaled copies of one layer's frame, kept from frame to frame for their memory.
#[derive(Default)]
struct Scratch {
    rgba: Vec<u8>,
    scaled: Vec<u8>,
    resizer: Resizer,
    /// For an I420 output: the layer converted from RGBA8, with its alpha.
    converted: Converted,
}

impl Scratch {
    /// `frame` as straight RGBA8 at `size`: its own bytes when it already is, else a converted
    /// and scaled copy.
    fn prepare<'a>(
        &'a mut self,
        frame: &'a VideoFrame,
        size: (u32, u32),
    ) -> Result<&'a [u8], UnsupportedFormat> {
        rgba_at(
            &mut self.rgba,
            &mut self.scaled,
            &mut self.resizer,
            frame,
            size,
        )
    }

    /// `frame` as I420 at `size` (even sides) and its alpha planes if it has any: its own
    /// bytes when it is I420 of that size, else converted (and scaled) through RGBA8.
    fn prepare_i420<'a>(
        &'a mut self,
        frame: &'a VideoFrame,
        size: (u32, u32),
    ) -> Result<(&'a [u8], i420::Alpha<'a>), UnsupportedFormat> {
        if frame.format() == PixelFormat::I420 && (frame.width(), frame.height()) == size {
            return Ok((frame.data(), None));
        }
        let rgba = rgba_at(
            &mut self.rgba,
            &mut self.scaled,
            &mut self.resizer,
            frame,
            size,
        )?;
        self.converted.convert(rgba, size);
        let c = &self.converted;
        let alpha = (!c.alpha.is_empty()).then_some((&c.alpha[..], &c.chroma_alpha[..]));
        Ok((&c.i420, alpha))
    }
}

/// `frame` as straight RGBA8 at `(width, height)`: its own bytes when it already is, else
/// converted into `rgba` and, at another size, scaled into `scaled`.
fn rgba_at<'a>(
    rgba: &'a mut Vec<u8>,
    scaled: &'a mut Vec<u8>,
    resizer: &mut Resizer,
    frame: &'a VideoFrame,
    (width, height): (u32, u32),
) -> Result<&'a [u8], UnsupportedFormat> {
    let native = (frame.width(), frame.height());
    let rgba = if frame.format() == PixelFormat::Rgba8 {
        frame.data()
    } else {
        frame_to_rgba(frame, rgba)?;
        rgba
    };
    if native == (width, height) {
        return Ok(rgba);
    }
    resize_rgba(resizer, (rgba, native.0, native.1), (scaled, width, height));
    Ok(scaled)
}

impl Compositor {
    /// A `width × height` compositor over opaque black, layers stacked in connection order.
    pub fn new(width: u32, height: u32) -> Compositor {
        Compositor {
            layers: Inputs::new(),
            video: Output::new(),
            width,
            height,
            format: PixelFormat::Rgba8,
            background: [0, 0, 0, 255],
            settings: Vec::new(),
            logged_size: Vec::new(),
            pool: FramePool::new(width as usize * height as usize * 4),
            scratch: Vec::new(),
            frames: Vec::new(),
        }
    }

    /// Composites and sends `format` frames: [`PixelFormat::Rgba8`] (the default) or
    /// [`PixelFormat::I420`] (even sizes only; see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// [`OutputFormatError`] for another format, or I420 at an odd size.
    pub fn with_format(mut self, format: PixelFormat) -> Result<Compositor, OutputFormatError> {
        self.pool = FramePool::new(check_output(format, (self.width, self.height))?);
        self.format = format;
        Ok(self)
    }

    /// Sets how layer `index` (the `index`-th connection, from 0) is drawn; any index works,
    /// layers not connected yet keep their setting for when they are.
    pub fn with_layer(mut self, index: usize, layer: Layer) -> Compositor {
        while self.settings.len() <= index {
            self.settings.push(Layer::new(self.settings.len() as i32));
        }
        self.settings[index] = layer;
        self
    }

    /// How layer `index` is drawn.
    fn setting(&self, index: usize) -> Layer {
        self.settings
            .get(index)
            .copied()
            .unwrap_or(Layer::new(index as i32))
    }

    /// Starts every frame from `color` instead of opaque black.
    pub fn with_background(mut self, color: Rgba) -> Compositor {
        self.background = color;
        self
    }

    /// Indices of `count` layers, bottom to top.
    fn stacking_order(&self, count: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..count).collect();
        order.sort_by_key(|&i| self.setting(i).z); // stable: ties keep connection order
        order
    }

    fn log_size_once(&mut self, index: usize, frame: &VideoFrame) {
        let size = (frame.width(), frame.height());
        if self.logged_size.len() <= index {
            self.logged_size.resize(index + 1, None);
        }
        if size != (self.width, self.height) && self.logged_size[index] != Some(size) {
            let placement = self.setting(index).placement;
            let (x, y, w, h) = placement.rect(size, (self.width, self.height));
            tracing::info!(
                "layer {index} is {}x{}, output {}x{}: drawn {placement:?} as {w}x{h} at ({x}, {y})",
                size.0,
                size.1,
                self.width,
                self.height
            );
        }
        self.logged_size[index] = Some(size);
    }
}

impl Process for Compositor {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let mut frames = std::mem::take(&mut self.frames);
        frames.clear();
        frames.extend(self.layers.iter().map(Input::read_latest));
        let result = self.composite(&frames, tick);
        frames.clear(); // let go of the frames until the next tick
        self.frames = frames;
        result
    }
}

impl Compositor {
    /// Draws `frames` (the newest of each layer, by index) and writes the composite.
    fn composite(
        &mut self,
        frames: &[Option<std::sync::Arc<VideoFrame>>],
        tick: &Tick,
    ) -> ProcessResult {
        if frames.iter().all(Option::is_none) {
            return Ok(());
        }
        let output = (self.width, self.height);
        for (index, frame) in frames.iter().enumerate() {
            if let Some(frame) = frame {
                self.log_size_once(index, frame);
            }
        }
        if self.scratch.len() < frames.len() {
            self.scratch.resize_with(frames.len(), Scratch::default);
        }
        if self.format == PixelFormat::I420 {
            return self.composite_i420(frames, tick);
        }
        // Each layer as straight RGBA8 at the size it is drawn, bottom to top.
        let order = self.layers_bottom_up(frames.len());
        let mut drawn: Vec<Drawn> = Vec::with_capacity(frames.len());
        for (frame, scratch, layer, (x, y, w, h)) in
            stacked(&order, frames, &mut self.scratch, output)
        {
            let pixels = scratch.prepare(frame, (w, h))?;
            drawn.push((pixels, (w, h), (x, y), opacity_u8(layer.opacity)));
        }
        let background = premultiplied(self.background);
        let data = self.pool.fill(
            |_| {},
            |picture, ()| {
                let mut layers = drawn.iter();
                // A bottom layer over the whole picture is drawn over the background in one pass.
                let covers = |&&(_, size, at, _): &&Drawn| size == output && at == (0, 0);
                match layers.clone().next().filter(covers) {
                    Some(&(pixels, _, _, opacity)) => {
                        over_color_row(picture, pixels, background, opacity);
                        layers.next();
                    }
                    None => fill(picture, background),
                }
                for &(pixels, (w, h), at, opacity) in layers {
                    over_rect(
                        (&mut *picture, output.0, output.1),
                        (pixels, w, h),
                        at,
                        opacity,
                    );
                }
                if background[3] != 255 {
                    demultiply(picture, output);
                }
            },
        );
        let frame = tick_frame(self.format, output, data, tick)?;
        self.video.write(frame);
        Ok(())
    }
}

/// A layer to draw: its frame, its scratch buffers, its setting, the rectangle it covers.
type Stacked<'a> = (&'a VideoFrame, &'a mut Scratch, Layer, (i64, i64, u32, u32));

/// The layers of `frames` that have a frame, bottom to top in `order` (index and setting of
/// each), with the scratch buffers of each (`scratch` has one per frame) and the rectangle it
/// covers in an `output`-sized picture.
fn stacked<'a>(
    order: &[(usize, Layer)],
    frames: &'a [Option<std::sync::Arc<VideoFrame>>],
    scratch: &'a mut [Scratch],
    output: (u32, u32),
) -> Vec<Stacked<'a>> {
    let mut scratch: Vec<Option<&mut Scratch>> = scratch.iter_mut().map(Some).collect();
    let mut stacked = Vec::with_capacity(order.len());
    for &(index, layer) in order {
        let (Some(frame), Some(scratch)) = (&frames[index], scratch[index].take()) else {
            continue;
        };
        let rect = layer
            .placement
            .rect((frame.width(), frame.height()), output);
        stacked.push((&**frame, scratch, layer, rect));
    }
    stacked
}

impl Compositor {
    /// Index and setting of each of `count` layers, bottom to top.
    fn layers_bottom_up(&self, count: usize) -> Vec<(usize, Layer)> {
        let order = self.stacking_order(count);
        order.into_iter().map(|i| (i, self.setting(i))).collect()
    }

    /// [`composite`](Self::composite) for an I420 output: each layer as I420 planes (and alpha
    /// planes when it has alpha) on even coordinates, mixed in bottom to top.
    fn composite_i420(
        &mut self,
        frames: &[Option<std::sync::Arc<VideoFrame>>],
        tick: &Tick,
    ) -> ProcessResult {
        let output = (self.width, self.height);
        let order = self.layers_bottom_up(frames.len());
        let mut drawn: Vec<i420::Source<'_>> = Vec::with_capacity(frames.len());
        for (frame, scratch, layer, (x, y, w, h)) in
            stacked(&order, frames, &mut self.scratch, output)
        {
            let size = ((w & !1).max(2), (h & !1).max(2));
            let (i420, alpha) = scratch.prepare_i420(frame, size)?;
            drawn.push(i420::Source {
                i420,
                size,
                alpha,
                at: (x & !1, y & !1),
                opacity: opacity_u8(layer.opacity),
            });
        }
        let background = color_to_yuv(self.background);
        let data = self.pool.fill(
            |_| {},
            |picture, ()| {
                // An opaque bottom layer over the whole picture leaves no background to fill.
                let covers = drawn.first().is_some_and(|s| {
                    s.size == output && s.at == (0, 0) && s.alpha.is_none() && s.opacity == 255
                });
                if !covers {
                    i420::fill_rect(picture, output, (0, 0, output.0, output.1), background);
                }
                for source in &drawn {
                    i420::draw(picture, output, source);
                }
            },
        );
        self.video
            .write(tick_frame(self.format, output, data, tick)?);
        Ok(())
    }
}

/// A layer ready to draw: straight RGBA8 pixels, their size, where they go, the opacity.
type Drawn<'a> = (&'a [u8], (u32, u32), (i64, i64), u8);

/// `color` with its colour channels multiplied by its alpha.
fn premultiplied([r, g, b, a]: Rgba) -> Rgba {
    let scale = |c: u8| ((u32::from(c) * u32::from(a) + 127) / 255) as u8;
    [scale(r), scale(g), scale(b), a]
}

/// Every pixel of the RGBA8 `picture` set to `color`.
fn fill(picture: &mut [u8], color: Rgba) {
    match bytemuck::try_cast_slice_mut::<u8, u32>(picture) {
        Ok(words) => words.fill(u32::from_ne_bytes(color)),
        Err(_) => picture
            .chunks_exact_mut(4)
            .for_each(|pixel| pixel.copy_from_slice(&color)),
    }
}

/// The premultiplied RGBA8 `picture` back to straight alpha, by `fast_image_resize`.
fn demultiply(picture: &mut [u8], (width, height): (u32, u32)) {
    let mut image =
        fast_image_resize::images::Image::from_slice_u8(width, height, picture, PixelType::U8x4)
            .expect("the output's own size");
    MulDiv::new()
        .divide_alpha_inplace(&mut image)
        .expect("RGBA8 has alpha");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_the_aspect_ratio_and_centres() {
        assert_eq!(
            Placement::Fit.rect((640, 360), (1280, 720)),
            (0, 0, 1280, 720)
        );
        // A 4:3 picture in a 16:9 output: pillarboxed.
        assert_eq!(
            Placement::Fit.rect((640, 480), (1280, 720)),
            (160, 0, 960, 720)
        );
        // A tall picture: letterboxed sideways.
        assert_eq!(
            Placement::Fit.rect((100, 400), (400, 200)),
            (175, 0, 50, 200)
        );
    }

    #[test]
    fn other_placements() {
        assert_eq!(Placement::Stretch.rect((10, 10), (40, 20)), (0, 0, 40, 20));
        let at = Placement::At { x: -5, y: 7 };
        assert_eq!(at.rect((10, 10), (40, 20)), (-5, 7, 10, 10));
        let rect = Placement::Rect {
            x: 1,
            y: 2,
            width: 3,
            height: 4,
        };
        assert_eq!(rect.rect((10, 10), (40, 20)), (1, 2, 3, 4));
    }

    use crate::actors::{Pattern, TestPattern};
    use streamlib::{connect, Rate};

    /// `mix` composites one tick of `layers` (connected in order); returns its frame.
    fn composite(mut mix: Compositor, layers: &[VideoFrame]) -> std::sync::Arc<VideoFrame> {
        let outputs: Vec<Output<VideoFrame>> = layers.iter().map(|_| Output::new()).collect();
        for (output, frame) in outputs.iter().zip(layers) {
            connect(&output.to_ref(), &mix.layers.to_ref()).expect("connects");
            output.write(frame.clone());
        }
        mix.process(&Tick::for_test(0, Rate::fps(30).unwrap()))
            .expect("composited");
        mix.video.to_ref().read_latest().expect("sent")
    }

    /// One frame of `pattern` without the marker, `size`, in `format`.
    fn pattern_frame(pattern: Pattern, size: (u32, u32), format: PixelFormat) -> VideoFrame {
        let mut source = TestPattern::new(size.0, size.1)
            .with_pattern(pattern)
            .with_marker(false)
            .with_format(format)
            .expect("a drawable format");
        source
            .process(&Tick::for_test(0, Rate::fps(30).unwrap()))
            .expect("drawn");
        let frame = source.video.to_ref().read_latest().expect("sent");
        (*frame).clone()
    }

    #[test]
    fn i420_layers_mix_plane_by_plane_at_their_opacity() {
        let size = (8, 4);
        let blue = pattern_frame(Pattern::Solid([0, 0, 255, 255]), size, PixelFormat::I420);
        let red = pattern_frame(Pattern::Solid([255, 0, 0, 255]), size, PixelFormat::I420);
        let mix = Compositor::new(8, 4)
            .with_format(PixelFormat::I420)
            .expect("even")
            .with_layer(1, Layer::new(1).opacity(0.6));
        let out = composite(mix, &[blue.clone(), red.clone()]);
        assert_eq!(out.format(), PixelFormat::I420);
        let (b, r) = (
            i420::planes(blue.data(), size),
            i420::planes(red.data(), size),
        );
        for (plane, got) in i420::planes(out.data(), size).into_iter().enumerate() {
            let want = (u32::from(r[plane][0]) * 153 + u32::from(b[plane][0]) * 102) as f64;
            let want = (want / 255.0).round() as u8;
            assert!(
                got.iter().all(|&v| v == want),
                "plane {plane}: {got:?}, want {want}"
            );
        }
    }

    #[test]
    fn an_rgba_layer_on_an_i420_picture_keeps_its_alpha_and_place() {
        let size = (8, 4);
        let blue = pattern_frame(Pattern::Solid([0, 0, 255, 255]), size, PixelFormat::I420);
        let half_red = pattern_frame(Pattern::Solid([255, 0, 0, 128]), (2, 2), PixelFormat::Rgba8);
        let at = Placement::At { x: 4, y: 2 };
        let mix = Compositor::new(8, 4)
            .with_format(PixelFormat::I420)
            .expect("even")
            .with_layer(1, Layer::new(1).placement(at));
        let out = composite(mix, &[blue.clone(), half_red]);
        let [y, u, _] = i420::planes(out.data(), size);
        let [blue_y, blue_u, _] = i420::planes(blue.data(), size);
        let red_y = color_to_yuv([255, 0, 0, 255])[0];
        let half = ((u32::from(red_y) * 128 + u32::from(blue_y[0]) * 127) as f64 / 255.0).round();
        for row in 0..4 {
            for x in 0..8 {
                let got = y[row * 8 + x];
                let want = if row >= 2 && (4..6).contains(&x) {
                    half as u8
                } else {
                    blue_y[0]
                };
                assert_eq!(got, want, "luma ({x}, {row})");
            }
        }
        assert_eq!(u[..2], blue_u[..2], "the top chroma row is untouched");
        assert_ne!(u[6], blue_u[6], "the block under the layer is mixed");
    }

    #[test]
    fn i420_composite_matches_the_rgba_one() {
        let size = (64, 36);
        let layers = |format| {
            let bars = pattern_frame(Pattern::SmpteBars, size, format);
            let ramp = pattern_frame(Pattern::Ramp, size, format);
            [bars, ramp]
        };
        let compositor = || Compositor::new(64, 36).with_layer(1, Layer::new(1).opacity(0.6));
        let rgba = composite(compositor(), &layers(PixelFormat::Rgba8));
        let i420 = composite(
            compositor().with_format(PixelFormat::I420).expect("even"),
            &layers(PixelFormat::I420),
        );
        let mut want = Vec::new();
        i420::rgba_to_i420(rgba.data(), size, &mut want);
        for (plane, (got, want)) in i420::planes(i420.data(), size)
            .into_iter()
            .zip(i420::planes(&want, size))
            .enumerate()
        {
            let worst = got.iter().zip(want).map(|(g, w)| g.abs_diff(*w)).max();
            assert!(worst <= Some(3), "plane {plane} differs by up to {worst:?}");
        }
    }

    #[test]
    fn formats_it_cannot_draw_are_refused() {
        assert!(Compositor::new(5, 4)
            .with_format(PixelFormat::I420)
            .is_err());
        let error = Compositor::new(4, 4)
            .with_format(PixelFormat::Bgra8)
            .err()
            .unwrap();
        assert!(error.to_string().contains("BGRA8"), "{error}");
    }

    #[test]
    fn stacking_follows_z_then_connection_order() {
        let c = Compositor::new(4, 4)
            .with_layer(0, Layer::new(5))
            .with_layer(2, Layer::new(1));
        assert_eq!(c.stacking_order(4), [1, 2, 3, 0]);
        assert_eq!(
            c.stacking_order(6),
            [1, 2, 3, 4, 0, 5],
            "later layers stack by index"
        );
    }
}
