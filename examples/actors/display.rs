//! [`Display`]: shows a stream in a window, or says once that there is no display.
//!
//! The actor asks for a dedicated thread (`#[actor(dedicated)]`): a window belongs to the thread
//! that opened it, and its event handling must not hold up the worker pool. The window itself
//! (a `minifb` window, X11) is not `Send`, so it cannot be a field of the actor, which is built on
//! one thread and moved to its own; it lives in a thread-local of that dedicated thread instead,
//! opened at the first frame and closed in `on_stop`, both of which run there.
//!
//! Without a display — `$DISPLAY` unset, or the window cannot be opened (no X server, no libX11)
//! — the actor logs one warning and from then on only reads its input, so a pipeline runs the
//! same headless. Closing the window (or pressing Escape) sends `true` on the `closed` port, which
//! a demo watches to end early.

use std::cell::RefCell;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{MulDiv, PixelType};
use minifb::{Key, Scale, ScaleMode, Window, WindowOptions};
use streamlib::prelude::*;
use streamlib::{PixelFormat, VideoFrame};

use super::canvas::frame_to_rgba;

thread_local! {
    /// The window of the [`Display`] running on this thread, if open.
    static WINDOW: RefCell<Option<Window>> = const { RefCell::new(None) };
}

/// Where a [`Display`] is at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Screen {
    /// No frame yet; the window opens at the first one.
    Waiting,
    /// The window is open.
    Showing,
    /// No display (or asked to run without one): frames are read and dropped.
    Headless,
    /// The user closed the window.
    Closed,
}

/// Shows its input in a window, on a dedicated thread; headless when there is no display.
#[actor(dedicated)]
pub struct Display {
    /// The frames to show (any packed or 4:2:0 format; alpha is shown over black).
    #[input]
    pub video: Input<VideoFrame>,
    /// `true` once the user closed the window.
    #[output]
    pub closed: Output<bool>,
    title: String,
    screen: Screen,
    /// The frame as minifb wants it: one `0RGB` word per pixel.
    buffer: Vec<u32>,
    /// The frame as RGBA8, converted and multiplied by its alpha (over black).
    scratch: Vec<u8>,
}

impl Display {
    /// A window titled `title`, opened at the first frame, at that frame's size.
    pub fn new(title: impl Into<String>) -> Display {
        Display {
            video: Input::new(),
            closed: Output::new(),
            title: title.into(),
            screen: Screen::Waiting,
            buffer: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// A display that never opens a window (tests, servers): it reads its input and drops it.
    pub fn headless() -> Display {
        Display {
            screen: Screen::Headless,
            ..Display::new("headless")
        }
    }
}

impl Process for Display {
    fn on_start(&mut self) -> ProcessResult {
        if self.screen == Screen::Waiting && std::env::var_os("DISPLAY").is_none() {
            tracing::warn!("no display ($DISPLAY is not set): running headless, no window");
            self.screen = Screen::Headless;
        }
        Ok(())
    }

    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let frame = self.video.read_new();
        if matches!(self.screen, Screen::Headless | Screen::Closed) {
            return Ok(());
        }
        let Some(frame) = frame else {
            // No new frame: still let the window handle its events (moves, close button).
            WINDOW.with_borrow_mut(|window| {
                if let Some(window) = window {
                    window.update();
                }
            });
            return Ok(());
        };
        if self.screen == Screen::Waiting {
            self.screen = open_window(&self.title, frame.width(), frame.height());
        }
        to_0rgb(&frame, &mut self.buffer, &mut self.scratch)?;
        let (width, height) = (frame.width() as usize, frame.height() as usize);
        let still_open = WINDOW.with_borrow_mut(|window| {
            let Some(window) = window.as_mut() else {
                return false;
            };
            let shown = window.update_with_buffer(&self.buffer, width, height);
            shown.is_ok() && window.is_open() && !window.is_key_down(Key::Escape)
        });
        if self.screen == Screen::Showing && !still_open {
            tracing::info!("window closed");
            self.close();
            self.screen = Screen::Closed;
            self.closed.write(true);
        }
        Ok(())
    }

    fn on_stop(&mut self) -> ProcessResult {
        self.close();
        Ok(())
    }
}

impl Display {
    fn close(&mut self) {
        WINDOW.with_borrow_mut(|window| *window = None);
    }
}

/// Opens the window on this thread; logs once and goes headless if it cannot.
fn open_window(title: &str, width: u32, height: u32) -> Screen {
    let options = WindowOptions {
        resize: true,
        scale: if width > 1920 {
            Scale::FitScreen
        } else {
            Scale::X1
        },
        scale_mode: ScaleMode::AspectRatioStretch,
        ..WindowOptions::default()
    };
    match Window::new(title, width as usize, height as usize, options) {
        Ok(mut window) => {
            window.set_target_fps(0); // the clock paces us; minifb must not sleep too
            WINDOW.with_borrow_mut(|slot| *slot = Some(window));
            Screen::Showing
        }
        Err(error) => {
            tracing::warn!(%error, "cannot open a window: running headless");
            Screen::Headless
        }
    }
}

/// `frame` as `0RGB` words, alpha blended over black (colours multiplied by alpha by
/// `fast_image_resize`), with `scratch` for the RGBA8 bytes on the way.
fn to_0rgb(
    frame: &VideoFrame,
    buffer: &mut Vec<u32>,
    scratch: &mut Vec<u8>,
) -> Result<(), super::UnsupportedFormat> {
    let (width, height) = (frame.width(), frame.height());
    if frame.format() == PixelFormat::Rgba8 {
        scratch.resize(frame.data().len(), 0);
        let rgba = ImageRef::new(width, height, frame.data(), PixelType::U8x4);
        let over_black = Image::from_slice_u8(width, height, scratch, PixelType::U8x4);
        MulDiv::new()
            .multiply_alpha(&rgba.expect("RGBA8"), &mut over_black.expect("sized above"))
            .expect("RGBA8 has alpha");
    } else {
        frame_to_rgba(frame, scratch)?;
        let image = Image::from_slice_u8(width, height, scratch, PixelType::U8x4);
        MulDiv::new()
            .multiply_alpha_inplace(&mut image.expect("sized by the conversion"))
            .expect("RGBA8 has alpha");
    }
    buffer.clear();
    buffer.extend(
        scratch
            .chunks_exact(4)
            .map(|p| u32::from_be_bytes([0, p[0], p[1], p[2]])),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::Canvas;
    use streamlib::Timestamp;

    #[test]
    fn pixels_become_0rgb_words_over_black() {
        let mut canvas = Canvas::filled(2, 1, [255, 128, 1, 255]);
        canvas.set_pixel(1, 0, [255, 255, 255, 128]);
        let frame = canvas.into_frame_at(Timestamp::from_nanos(0), 0).unwrap();
        let mut buffer = Vec::new();
        to_0rgb(&frame, &mut buffer, &mut Vec::new()).unwrap();
        assert_eq!(buffer, [0x00FF_8001, 0x0080_8080]);
    }
}
