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

use fast_image_resize::{MulDiv, PixelType, Resizer};
use streamlib::prelude::*;
use streamlib::{PixelFormat, VideoFrame};

use super::blend::{over_color_row, over_rect};
use super::canvas::{frame_to_rgba, opacity_u8, resize_rgba, rgba_frame, Rgba, UnsupportedFormat};
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
    /// The composite, `width × height`, sent once any layer has a frame.
    #[output]
    pub video: Output<VideoFrame>,
    width: u32,
    height: u32,
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
}

impl Scratch {
    /// `frame` as straight RGBA8 at `size`: its own bytes when it already is, else a converted
    /// and scaled copy.
    fn prepare<'a>(
        &'a mut self,
        frame: &'a VideoFrame,
        (width, height): (u32, u32),
    ) -> Result<&'a [u8], UnsupportedFormat> {
        let native = (frame.width(), frame.height());
        let rgba = if frame.format() == PixelFormat::Rgba8 {
            frame.data()
        } else {
            frame_to_rgba(frame, &mut self.rgba)?;
            &self.rgba
        };
        if native == (width, height) {
            return Ok(rgba);
        }
        resize_rgba(
            &mut self.resizer,
            (rgba, native.0, native.1),
            (&mut self.scaled, width, height),
        );
        Ok(&self.scaled)
    }
}

impl Compositor {
    /// A `width × height` compositor over opaque black, layers stacked in connection order.
    pub fn new(width: u32, height: u32) -> Compositor {
        Compositor {
            layers: Inputs::new(),
            video: Output::new(),
            width,
            height,
            background: [0, 0, 0, 255],
            settings: Vec::new(),
            logged_size: Vec::new(),
            pool: FramePool::new(width as usize * height as usize * 4),
            scratch: Vec::new(),
            frames: Vec::new(),
        }
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
        // Each layer as straight RGBA8 at the size it is drawn, bottom to top.
        let order = self.stacking_order(frames.len());
        let settings: Vec<Layer> = (0..frames.len()).map(|i| self.setting(i)).collect();
        let mut scratch: Vec<Option<&mut Scratch>> = self.scratch.iter_mut().map(Some).collect();
        let mut drawn: Vec<Drawn> = Vec::with_capacity(frames.len());
        for index in order {
            let (Some(frame), Some(scratch)) = (&frames[index], scratch[index].take()) else {
                continue;
            };
            let layer = settings[index];
            let (x, y, w, h) = layer
                .placement
                .rect((frame.width(), frame.height()), output);
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
        let frame = rgba_frame(output, data, tick)?;
        self.video.write(frame);
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
