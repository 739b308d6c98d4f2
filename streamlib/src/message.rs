//! Core messages: the payloads that travel between actors.
//!
//! [`VideoFrame`], [`AudioBuffer`], [`KeyEvent`], [`MouseEvent`] and [`DataMessage`] are what
//! the reference actors exchange; any `Send + Sync + 'static` type can be a payload, these are the
//! common vocabulary. Each is validated when built, so a receiver never re-checks: a frame's byte
//! length matches its size and pixel format, audio samples are finite and divide into whole
//! frames, pointer coordinates are finite, a topic is printable text. A constructor given
//! inconsistent fields returns [`Error::InvalidMessage`] naming the values.
//!
//! Messages are cheap to clone: bulk data sits behind an `Arc` (`Arc<[u8]>`, `Arc<[f32]>`,
//! `Arc<str>`), so a clone — and the fan-out of one value to many inputs — shares the bytes
//! instead of copying them. Their `Debug` output shows sizes, never the bytes themselves.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use streamlib::{AudioBuffer, PixelFormat, Timestamp, VideoFrame};
//!
//! let frame = VideoFrame::new(4, 2, PixelFormat::Rgba8, vec![0u8; 32], Timestamp::from_nanos(0), 0)?;
//! let copy = frame.clone();
//! assert!(Arc::ptr_eq(frame.data_arc(), copy.data_arc())); // shared, not copied
//! assert_eq!(frame.stride(), Some(16));
//! assert!(VideoFrame::new(4, 2, PixelFormat::Rgba8, vec![0u8; 31], Timestamp::from_nanos(0), 0).is_err());
//!
//! let stereo = AudioBuffer::new(vec![0.0f32; 2 * 480], 2, 48_000, Timestamp::from_nanos(0), 0)?;
//! assert_eq!(stereo.frames(), 480);
//! assert_eq!(stereo.duration(), Duration::from_millis(10));
//! # Ok::<(), streamlib::Error>(())
//! ```

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::sync::Arc;
use std::time::Duration;

use crate::{Error, Result, Timestamp};

const NANOS_PER_SECOND: u128 = 1_000_000_000;

fn invalid(kind: &'static str, reason: String) -> Error {
    Error::InvalidMessage { kind, reason }
}

/// Layout of a video frame's bytes. Rows are tightly packed (no padding between rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PixelFormat {
    /// Packed 8-bit red, green, blue, alpha; 4 bytes per pixel.
    Rgba8,
    /// Packed 8-bit blue, green, red, alpha; 4 bytes per pixel.
    Bgra8,
    /// Packed 8-bit red, green, blue; 3 bytes per pixel.
    Rgb8,
    /// 8-bit luminance; 1 byte per pixel.
    Gray8,
    /// Planar YUV 4:2:0: a full-size Y plane, then quarter-size U and V planes. Even sizes only.
    I420,
    /// YUV 4:2:0: a full-size Y plane, then one quarter-size plane of interleaved U, V pairs.
    /// Even sizes only.
    Nv12,
}

impl PixelFormat {
    /// The format's usual name (`"RGBA8"`, `"I420"`, …).
    pub const fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgba8 => "RGBA8",
            PixelFormat::Bgra8 => "BGRA8",
            PixelFormat::Rgb8 => "RGB8",
            PixelFormat::Gray8 => "GRAY8",
            PixelFormat::I420 => "I420",
            PixelFormat::Nv12 => "NV12",
        }
    }

    /// Bytes per pixel of a packed format; `None` for the planar 4:2:0 formats.
    pub const fn bytes_per_pixel(self) -> Option<usize> {
        match self {
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => Some(4),
            PixelFormat::Rgb8 => Some(3),
            PixelFormat::Gray8 => Some(1),
            PixelFormat::I420 | PixelFormat::Nv12 => None,
        }
    }

    /// Whether the format stores its chroma subsampled 4:2:0 (and so needs even sizes).
    pub const fn is_planar(self) -> bool {
        self.bytes_per_pixel().is_none()
    }

    /// Bytes of a `width` x `height` frame in this format, or `None` if that overflows `usize` or
    /// the size does not suit the format (an odd width or height for I420 and NV12).
    pub fn bytes_for(self, width: u32, height: u32) -> Option<usize> {
        let pixels = usize::try_from(width)
            .ok()?
            .checked_mul(usize::try_from(height).ok()?)?;
        match self.bytes_per_pixel() {
            Some(bytes) => pixels.checked_mul(bytes),
            None if width % 2 == 0 && height % 2 == 0 => pixels.checked_add(pixels / 2),
            None => None,
        }
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One video frame: size, pixel format, shared bytes, when it was taken and its number.
///
/// Cloning shares the bytes. Equality compares every field, the bytes included.
#[derive(Clone, PartialEq, Eq)]
pub struct VideoFrame {
    width: u32,
    height: u32,
    format: PixelFormat,
    data: Arc<[u8]>,
    timestamp: Timestamp,
    frame_number: u64,
}

impl VideoFrame {
    /// A frame of `width` x `height` pixels in `format`, its tightly packed bytes in `data`.
    ///
    /// Passing an `Arc<[u8]>` keeps it as is; a `Vec<u8>` or a slice is copied once into a new
    /// `Arc`.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if width or height is zero, either is odd for a 4:2:0 format, the
    /// size overflows `usize`, or `data` does not hold exactly
    /// [`format.bytes_for(width, height)`](PixelFormat::bytes_for) bytes.
    pub fn new(
        width: u32,
        height: u32,
        format: PixelFormat,
        data: impl Into<Arc<[u8]>>,
        timestamp: Timestamp,
        frame_number: u64,
    ) -> Result<VideoFrame> {
        let data = data.into();
        let fail = |reason| Err(invalid("VideoFrame", reason));
        if width == 0 || height == 0 {
            return fail(format!(
                "width and height must be non-zero, got {width}x{height}"
            ));
        }
        if format.is_planar() && (width % 2 != 0 || height % 2 != 0) {
            return fail(format!(
                "{format} needs an even width and height, got {width}x{height}"
            ));
        }
        let Some(expected) = format.bytes_for(width, height) else {
            return fail(format!(
                "the size of a {width}x{height} {format} frame overflows usize"
            ));
        };
        if data.len() != expected {
            return fail(format!(
                "a {width}x{height} {format} frame needs {expected} bytes, got {}",
                data.len()
            ));
        }
        Ok(VideoFrame {
            width,
            height,
            format,
            data,
            timestamp,
            frame_number,
        })
    }

    /// Width in pixels (non-zero).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (non-zero).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Layout of the bytes.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// The pixel bytes, exactly `format().bytes_for(width(), height())` of them.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The shared pixel bytes, to hand on without copying.
    pub fn data_arc(&self) -> &Arc<[u8]> {
        &self.data
    }

    /// Bytes per row of a packed format; `None` for planar formats, whose planes differ.
    pub fn stride(&self) -> Option<usize> {
        // Cannot overflow: the whole frame's size was checked at construction.
        let width = usize::try_from(self.width).ok()?;
        Some(width * self.format.bytes_per_pixel()?)
    }

    /// When the frame was taken, on the clock of its source.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The frame's number in its stream.
    pub fn frame_number(&self) -> u64 {
        self.frame_number
    }
}

impl fmt::Debug for VideoFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VideoFrame")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .field("data", &format_args!("[{} bytes]", self.data.len()))
            .field("timestamp", &self.timestamp)
            .field("frame_number", &self.frame_number)
            .finish()
    }
}

/// A run of audio: interleaved `f32` samples (`L R L R …` for stereo), channel count, sample rate.
///
/// A *frame* is one sample per channel. Cloning shares the samples. An empty buffer (no frames)
/// is allowed and lasts zero time.
#[derive(Clone, PartialEq)]
pub struct AudioBuffer {
    samples: Arc<[f32]>,
    channels: u16,
    sample_rate: u32,
    timestamp: Timestamp,
    frame_number: u64,
}

impl AudioBuffer {
    /// A buffer of interleaved `samples` for `channels` channels at `sample_rate` Hz.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if `channels` or `sample_rate` is zero, the sample count is not a
    /// multiple of `channels`, or a sample is NaN or infinite (the error names the first one's
    /// index).
    pub fn new(
        samples: impl Into<Arc<[f32]>>,
        channels: u16,
        sample_rate: u32,
        timestamp: Timestamp,
        frame_number: u64,
    ) -> Result<AudioBuffer> {
        let samples = samples.into();
        let fail = |reason| Err(invalid("AudioBuffer", reason));
        if channels == 0 {
            return fail("channels must be at least 1, got 0".to_owned());
        }
        if sample_rate == 0 {
            return fail("sample rate must be non-zero, got 0".to_owned());
        }
        if samples.len() % usize::from(channels) != 0 {
            return fail(format!(
                "{} samples do not divide into whole frames of {channels} channels",
                samples.len()
            ));
        }
        if let Some(index) = samples.iter().position(|sample| !sample.is_finite()) {
            return fail(format!("sample {index} is not finite ({})", samples[index]));
        }
        Ok(AudioBuffer {
            samples,
            channels,
            sample_rate,
            timestamp,
            frame_number,
        })
    }

    /// The interleaved samples.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// The shared samples, to hand on without copying.
    pub fn samples_arc(&self) -> &Arc<[f32]> {
        &self.samples
    }

    /// Channels per frame (at least 1).
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Frames per second (non-zero).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Frames in the buffer: samples per channel.
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels)
    }

    /// How long the buffer plays: `frames * 1 s / sample_rate`, rounded down to the nanosecond.
    pub fn duration(&self) -> Duration {
        // `usize` fits in `u128` on every platform Rust supports.
        let frames = self.frames() as u128;
        let rate = u128::from(self.sample_rate);
        let seconds = frames / rate;
        let nanos = frames % rate * NANOS_PER_SECOND / rate;
        // `frames / rate <= usize::MAX` fits in u64, and `nanos < 1e9` fits in u32.
        Duration::new(
            u64::try_from(seconds).unwrap_or(u64::MAX),
            u32::try_from(nanos).unwrap_or(0),
        )
    }

    /// The samples of channel `channel` (0-based), in order; empty if there is no such channel.
    pub fn channel(&self, channel: u16) -> impl Iterator<Item = f32> + '_ {
        let skip = if channel < self.channels {
            usize::from(channel)
        } else {
            self.samples.len()
        };
        self.samples
            .iter()
            .skip(skip)
            .step_by(usize::from(self.channels))
            .copied()
    }

    /// When the first frame was captured, on the clock of its source.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The buffer's number in its stream.
    pub fn frame_number(&self) -> u64 {
        self.frame_number
    }
}

impl fmt::Debug for AudioBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioBuffer")
            .field("samples", &format_args!("[{} samples]", self.samples.len()))
            .field("channels", &self.channels)
            .field("sample_rate", &self.sample_rate)
            .field("timestamp", &self.timestamp)
            .field("frame_number", &self.frame_number)
            .finish()
    }
}

/// A key of a keyboard. Printable keys are [`Key::Character`] (the space bar is
/// `Character(' ')`); keys without a variant are [`Key::Other`] with the platform's key code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// A key that types this character, as typed with the current modifiers (`'a'`, `'A'`, `' '`).
    Character(char),
    /// Enter / Return.
    Enter,
    /// Escape.
    Escape,
    /// Backspace.
    Backspace,
    /// Tab.
    Tab,
    /// Delete (forward).
    Delete,
    /// Insert.
    Insert,
    /// Home.
    Home,
    /// End.
    End,
    /// Page Up.
    PageUp,
    /// Page Down.
    PageDown,
    /// Arrow up.
    ArrowUp,
    /// Arrow down.
    ArrowDown,
    /// Arrow left.
    ArrowLeft,
    /// Arrow right.
    ArrowRight,
    /// Function key: `Function(1)` is F1.
    Function(u8),
    /// Shift, left or right.
    Shift,
    /// Control, left or right.
    Control,
    /// Alt / Option, left or right.
    Alt,
    /// Meta: Command, Windows or Super, left or right.
    Meta,
    /// Caps Lock.
    CapsLock,
    /// Any other key, by the platform's key code.
    Other(u32),
}

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// The key went down.
    Pressed,
    /// The key went up.
    Released,
    /// The key is held and the system repeats it.
    Repeat,
}

/// The set of modifier keys held during an event: combine the constants with `|`.
///
/// ```
/// use streamlib::Modifiers;
/// let held = Modifiers::SHIFT | Modifiers::CTRL;
/// assert!(held.shift() && held.ctrl() && !held.alt());
/// assert!(held.contains(Modifiers::CTRL));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Modifiers(u8);

impl Modifiers {
    /// No modifier held.
    pub const NONE: Modifiers = Modifiers(0);
    /// Shift.
    pub const SHIFT: Modifiers = Modifiers(1);
    /// Control.
    pub const CTRL: Modifiers = Modifiers(1 << 1);
    /// Alt / Option.
    pub const ALT: Modifiers = Modifiers(1 << 2);
    /// Meta: Command, Windows or Super.
    pub const META: Modifiers = Modifiers(1 << 3);
    const ALL: [(Modifiers, &'static str); 4] = [
        (Modifiers::SHIFT, "SHIFT"),
        (Modifiers::CTRL, "CTRL"),
        (Modifiers::ALT, "ALT"),
        (Modifiers::META, "META"),
    ];

    /// The raw bits: SHIFT = 1, CTRL = 2, ALT = 4, META = 8.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The set of the given bits; unknown bits are dropped.
    pub const fn from_bits_truncate(bits: u8) -> Modifiers {
        Modifiers(bits & 0b1111)
    }

    /// Whether every modifier of `other` is held.
    pub const fn contains(self, other: Modifiers) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no modifier is held.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether Shift is held.
    pub const fn shift(self) -> bool {
        self.contains(Modifiers::SHIFT)
    }

    /// Whether Control is held.
    pub const fn ctrl(self) -> bool {
        self.contains(Modifiers::CTRL)
    }

    /// Whether Alt / Option is held.
    pub const fn alt(self) -> bool {
        self.contains(Modifiers::ALT)
    }

    /// Whether Meta (Command, Windows, Super) is held.
    pub const fn meta(self) -> bool {
        self.contains(Modifiers::META)
    }
}

impl BitOr for Modifiers {
    type Output = Modifiers;

    fn bitor(self, other: Modifiers) -> Modifiers {
        Modifiers(self.0 | other.0)
    }
}

impl BitOrAssign for Modifiers {
    fn bitor_assign(&mut self, other: Modifiers) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for Modifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut held = Modifiers::ALL
            .iter()
            .filter(|(modifier, _)| self.contains(*modifier))
            .map(|(_, name)| *name);
        f.write_str("Modifiers(")?;
        match held.next() {
            None => f.write_str("NONE")?,
            Some(first) => {
                f.write_str(first)?;
                held.try_for_each(|name| write!(f, " | {name}"))?;
            }
        }
        f.write_str(")")
    }
}

/// A key went down, up, or repeats. Every combination of fields is valid, so the fields are public.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyEvent {
    /// Which key.
    pub key: Key,
    /// What happened to it.
    pub state: KeyState,
    /// Modifiers held at the time.
    pub modifiers: Modifiers,
    /// When it happened, on the clock of its source.
    pub timestamp: Timestamp,
}

impl KeyEvent {
    /// A key event.
    pub const fn new(
        key: Key,
        state: KeyState,
        modifiers: Modifiers,
        timestamp: Timestamp,
    ) -> Self {
        KeyEvent {
            key,
            state,
            modifiers,
            timestamp,
        }
    }
}

/// A mouse button.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MouseButton {
    /// Primary button.
    Left,
    /// Secondary button.
    Right,
    /// Middle button / wheel click.
    Middle,
    /// "Back" side button.
    Back,
    /// "Forward" side button.
    Forward,
    /// Any other button, by the platform's number.
    Other(u16),
}

/// What the pointer did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MouseEventKind {
    /// The pointer moved to the event's position.
    Moved,
    /// A button went down.
    Pressed(MouseButton),
    /// A button went up.
    Released(MouseButton),
    /// The wheel or touchpad scrolled: positive `dx` to the right, positive `dy` down (the
    /// content moves up), like a browser's `WheelEvent`; units are those of the source.
    Scrolled {
        /// Horizontal amount.
        dx: f32,
        /// Vertical amount.
        dy: f32,
    },
}

/// A pointer event at `(x, y)`, in pixels of the source surface from its top-left corner.
///
/// Coordinates may lie outside the surface (a drag that leaves the window) but are always finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MouseEvent {
    x: f32,
    y: f32,
    kind: MouseEventKind,
    modifiers: Modifiers,
    timestamp: Timestamp,
}

impl MouseEvent {
    /// A pointer event.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if `x`, `y`, or a scroll amount is NaN or infinite.
    pub fn new(
        x: f32,
        y: f32,
        kind: MouseEventKind,
        modifiers: Modifiers,
        timestamp: Timestamp,
    ) -> Result<MouseEvent> {
        let mut values = vec![("x", x), ("y", y)];
        if let MouseEventKind::Scrolled { dx, dy } = kind {
            values.extend([("dx", dx), ("dy", dy)]);
        }
        if let Some((name, value)) = values.into_iter().find(|(_, value)| !value.is_finite()) {
            return Err(invalid(
                "MouseEvent",
                format!("{name} must be finite, got {value}"),
            ));
        }
        Ok(MouseEvent {
            x,
            y,
            kind,
            modifiers,
            timestamp,
        })
    }

    /// Horizontal position in pixels from the left edge.
    pub fn x(&self) -> f32 {
        self.x
    }

    /// Vertical position in pixels from the top edge.
    pub fn y(&self) -> f32 {
        self.y
    }

    /// What the pointer did.
    pub fn kind(&self) -> MouseEventKind {
        self.kind
    }

    /// Modifiers held at the time.
    pub fn modifiers(&self) -> Modifiers {
        self.modifiers
    }

    /// When it happened, on the clock of its source.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
}

/// Opaque bytes under a topic (sensor readings, control commands, serialized structs).
///
/// The topic is non-empty text without control characters, so it can be logged and used as a key
/// as is. Cloning shares topic and bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DataMessage {
    topic: Arc<str>,
    bytes: Arc<[u8]>,
    timestamp: Timestamp,
}

impl DataMessage {
    /// A message of `bytes` under `topic`.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if `topic` is empty or holds a control character (the error
    /// gives its code point and byte offset).
    pub fn new(
        topic: impl Into<Arc<str>>,
        bytes: impl Into<Arc<[u8]>>,
        timestamp: Timestamp,
    ) -> Result<DataMessage> {
        let topic = topic.into();
        if topic.is_empty() {
            return Err(invalid("DataMessage", "topic is empty".to_owned()));
        }
        if let Some((at, c)) = topic.char_indices().find(|(_, c)| c.is_control()) {
            return Err(invalid(
                "DataMessage",
                format!(
                    "topic {topic:?} contains control character U+{:04X} at byte {at}",
                    u32::from(c)
                ),
            ));
        }
        Ok(DataMessage {
            topic,
            bytes: bytes.into(),
            timestamp,
        })
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The shared topic.
    pub fn topic_arc(&self) -> &Arc<str> {
        &self.topic
    }

    /// The payload bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The shared payload bytes, to hand on without copying.
    pub fn bytes_arc(&self) -> &Arc<[u8]> {
        &self.bytes
    }

    /// When it was produced, on the clock of its source.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
}

impl fmt::Debug for DataMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataMessage")
            .field("topic", &self.topic)
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A function, not a const: `Timestamp::from_nanos` need not be a `const fn`.
    fn t0() -> Timestamp {
        Timestamp::from_nanos(0)
    }

    fn reason<T: fmt::Debug>(result: Result<T>, expected_kind: &str) -> String {
        match result {
            Err(Error::InvalidMessage { kind, reason }) => {
                assert_eq!(kind, expected_kind);
                reason
            }
            other => panic!("expected InvalidMessage, got {other:?}"),
        }
    }

    fn frame(width: u32, height: u32, format: PixelFormat, len: usize) -> Result<VideoFrame> {
        VideoFrame::new(width, height, format, vec![7u8; len], t0(), 1)
    }

    fn audio(samples: Vec<f32>, channels: u16, rate: u32) -> Result<AudioBuffer> {
        AudioBuffer::new(samples, channels, rate, t0(), 0)
    }

    #[test]
    fn every_message_is_a_shareable_payload() {
        fn payload<T: Clone + fmt::Debug + Send + Sync + 'static>() {}
        payload::<VideoFrame>();
        payload::<AudioBuffer>();
        payload::<KeyEvent>();
        payload::<MouseEvent>();
        payload::<DataMessage>();
    }

    #[test]
    fn pixel_format_sizes() {
        assert_eq!(
            PixelFormat::Rgba8.bytes_for(1920, 1080),
            Some(1920 * 1080 * 4)
        );
        assert_eq!(PixelFormat::Bgra8.bytes_for(2, 2), Some(16));
        assert_eq!(PixelFormat::Rgb8.bytes_for(3, 1), Some(9));
        assert_eq!(PixelFormat::Gray8.bytes_for(5, 3), Some(15));
        assert_eq!(PixelFormat::I420.bytes_for(4, 2), Some(12));
        assert_eq!(
            PixelFormat::Nv12.bytes_for(1920, 1080),
            Some(1920 * 1080 * 3 / 2)
        );
        assert_eq!(PixelFormat::I420.bytes_for(3, 2), None);
        assert_eq!(PixelFormat::Nv12.bytes_for(2, 3), None);
        assert_eq!(PixelFormat::Rgba8.bytes_for(0, 10), Some(0));
        assert_eq!(
            PixelFormat::Rgba8.bytes_for(u32::MAX, u32::MAX),
            None,
            "overflow"
        );
        assert_eq!(
            PixelFormat::I420.bytes_for(u32::MAX - 1, u32::MAX - 1),
            None
        );
        assert_eq!(PixelFormat::I420.name(), "I420");
        assert_eq!(PixelFormat::Rgba8.to_string(), "RGBA8");
        assert!(PixelFormat::Nv12.is_planar() && !PixelFormat::Gray8.is_planar());
    }

    #[test]
    fn video_frame_keeps_its_fields() {
        let frame = frame(4, 2, PixelFormat::Rgb8, 24).unwrap();
        assert_eq!((frame.width(), frame.height()), (4, 2));
        assert_eq!(frame.format(), PixelFormat::Rgb8);
        assert_eq!(frame.data(), &[7u8; 24][..]);
        assert_eq!(frame.stride(), Some(12));
        assert_eq!((frame.timestamp(), frame.frame_number()), (t0(), 1));
        let planar = self::frame(4, 2, PixelFormat::I420, 12).unwrap();
        assert_eq!(planar.stride(), None);
    }

    #[test]
    fn video_frame_clone_shares_the_bytes() {
        let data: Arc<[u8]> = vec![1u8; 16].into();
        let frame = VideoFrame::new(2, 2, PixelFormat::Rgba8, Arc::clone(&data), t0(), 0).unwrap();
        let copy = frame.clone();
        assert!(
            Arc::ptr_eq(frame.data_arc(), &data),
            "an Arc is kept, not copied"
        );
        assert!(Arc::ptr_eq(frame.data_arc(), copy.data_arc()));
        assert_eq!(frame, copy);
    }

    #[test]
    fn video_frame_rejects_zero_sizes() {
        let text = reason(frame(0, 480, PixelFormat::Rgba8, 0), "VideoFrame");
        assert_eq!(text, "width and height must be non-zero, got 0x480");
        assert!(reason(frame(640, 0, PixelFormat::Gray8, 0), "VideoFrame").contains("640x0"));
    }

    #[test]
    fn video_frame_rejects_odd_sizes_for_4_2_0() {
        let text = reason(frame(641, 480, PixelFormat::I420, 0), "VideoFrame");
        assert_eq!(text, "I420 needs an even width and height, got 641x480");
        let text = reason(frame(640, 481, PixelFormat::Nv12, 0), "VideoFrame");
        assert!(text.contains("NV12") && text.contains("640x481"), "{text}");
        assert!(
            frame(3, 3, PixelFormat::Gray8, 9).is_ok(),
            "packed formats take odd sizes"
        );
    }

    #[test]
    fn video_frame_byte_length_must_match() {
        let text = reason(frame(640, 480, PixelFormat::Rgba8, 1000), "VideoFrame");
        assert_eq!(text, "a 640x480 RGBA8 frame needs 1228800 bytes, got 1000");
        assert!(frame(2, 2, PixelFormat::I420, 7).is_err());
        assert!(frame(2, 2, PixelFormat::I420, 6).is_ok());
        assert!(frame(2, 2, PixelFormat::Rgba8, 17).is_err());
    }

    #[test]
    fn video_frame_debug_shows_sizes_not_bytes() {
        let text = format!("{:?}", frame(2, 2, PixelFormat::Rgba8, 16).unwrap());
        assert!(
            text.contains("[16 bytes]") && !text.contains("7, 7"),
            "{text}"
        );
    }

    #[test]
    fn audio_buffer_keeps_its_fields_and_splits_channels() {
        let stereo = audio(vec![0.1, -0.1, 0.2, -0.2, 0.3, -0.3], 2, 48_000).unwrap();
        assert_eq!(
            (stereo.channels(), stereo.sample_rate(), stereo.frames()),
            (2, 48_000, 3)
        );
        assert_eq!(stereo.channel(0).collect::<Vec<_>>(), [0.1, 0.2, 0.3]);
        assert_eq!(stereo.channel(1).collect::<Vec<_>>(), [-0.1, -0.2, -0.3]);
        assert_eq!(stereo.channel(2).count(), 0, "no such channel");
        assert_eq!(stereo.samples().len(), 6);
        let copy = stereo.clone();
        assert!(Arc::ptr_eq(stereo.samples_arc(), copy.samples_arc()));
        assert_eq!(stereo, copy);
        assert!(format!("{stereo:?}").contains("[6 samples]"));
    }

    #[test]
    fn audio_buffer_rejects_inconsistent_fields() {
        let text = reason(audio(vec![0.0; 4], 0, 48_000), "AudioBuffer");
        assert_eq!(text, "channels must be at least 1, got 0");
        let text = reason(audio(vec![0.0; 4], 2, 0), "AudioBuffer");
        assert_eq!(text, "sample rate must be non-zero, got 0");
        let text = reason(audio(vec![0.0; 5], 2, 48_000), "AudioBuffer");
        assert_eq!(
            text,
            "5 samples do not divide into whole frames of 2 channels"
        );
        let text = reason(
            audio(vec![0.0, 1.0, f32::NAN, f32::INFINITY], 1, 8),
            "AudioBuffer",
        );
        assert_eq!(text, "sample 2 is not finite (NaN)");
        let text = reason(audio(vec![f32::NEG_INFINITY], 1, 8), "AudioBuffer");
        assert_eq!(text, "sample 0 is not finite (-inf)");
    }

    #[test]
    fn audio_duration_is_exact_to_the_nanosecond() {
        let duration =
            |frames: usize, rate: u32| audio(vec![0.0; frames], 1, rate).unwrap().duration();
        assert_eq!(duration(48_000, 48_000), Duration::from_secs(1));
        // 1001 / 48000 s = 20_854_166.66… ns, rounded down.
        assert_eq!(duration(1001, 48_000), Duration::from_nanos(20_854_166));
        assert_eq!(duration(44_100 * 3 + 1, 44_100), Duration::new(3, 22_675));
        assert_eq!(duration(0, 48_000), Duration::ZERO);
        assert_eq!(duration(1, u32::MAX), Duration::from_nanos(0));
        assert_eq!(duration(7, 1), Duration::from_secs(7));
        let stereo = audio(vec![0.0; 2 * 48_000], 2, 48_000).unwrap();
        assert_eq!(
            stereo.duration(),
            Duration::from_secs(1),
            "frames, not samples"
        );
    }

    #[test]
    fn modifiers_form_a_set() {
        let mut held = Modifiers::SHIFT | Modifiers::META;
        assert!(held.shift() && held.meta() && !held.ctrl() && !held.alt());
        assert!(held.contains(Modifiers::SHIFT | Modifiers::META));
        assert!(!held.contains(Modifiers::ALT));
        held |= Modifiers::ALT;
        assert_eq!(held.bits(), 0b1101);
        assert!(Modifiers::default().is_empty() && Modifiers::NONE.is_empty());
        assert_eq!(Modifiers::from_bits_truncate(0xFF).bits(), 0b1111);
        assert_eq!(format!("{held:?}"), "Modifiers(SHIFT | ALT | META)");
        assert_eq!(format!("{:?}", Modifiers::NONE), "Modifiers(NONE)");
    }

    #[test]
    fn key_event_holds_what_it_was_given() {
        let event = KeyEvent::new(
            Key::Character('a'),
            KeyState::Pressed,
            Modifiers::CTRL,
            t0(),
        );
        assert_eq!(event.key, Key::Character('a'));
        assert_eq!(event.state, KeyState::Pressed);
        assert!(event.modifiers.ctrl());
        let repeat = KeyEvent {
            state: KeyState::Repeat,
            ..event
        };
        assert_ne!(event, repeat);
        assert_ne!(Key::Function(1), Key::Other(1));
    }

    #[test]
    fn mouse_event_requires_finite_values() {
        let at = |x, y, kind| MouseEvent::new(x, y, kind, Modifiers::NONE, t0());
        let event = at(-3.5, 20.0, MouseEventKind::Pressed(MouseButton::Left)).unwrap();
        assert_eq!((event.x(), event.y()), (-3.5, 20.0));
        assert_eq!(event.kind(), MouseEventKind::Pressed(MouseButton::Left));
        assert_eq!(
            (event.modifiers(), event.timestamp()),
            (Modifiers::NONE, t0())
        );
        assert!(at(0.0, 0.0, MouseEventKind::Scrolled { dx: 0.0, dy: -3.0 }).is_ok());
        let moved = MouseEventKind::Moved;
        let text = reason(at(f32::NAN, 0.0, moved), "MouseEvent");
        assert_eq!(text, "x must be finite, got NaN");
        assert_eq!(
            reason(at(0.0, f32::INFINITY, moved), "MouseEvent"),
            "y must be finite, got inf"
        );
        let scroll = MouseEventKind::Scrolled {
            dx: 1.0,
            dy: f32::NAN,
        };
        assert_eq!(
            reason(at(0.0, 0.0, scroll), "MouseEvent"),
            "dy must be finite, got NaN"
        );
        let scroll = MouseEventKind::Scrolled {
            dx: f32::NEG_INFINITY,
            dy: 0.0,
        };
        assert!(reason(at(0.0, 0.0, scroll), "MouseEvent").starts_with("dx"));
    }

    #[test]
    fn data_message_validates_its_topic_and_shares_bytes() {
        let bytes: Arc<[u8]> = Arc::from(&b"{\"t\":21.5}"[..]);
        let message = DataMessage::new("sensors/temp", Arc::clone(&bytes), t0()).unwrap();
        assert_eq!(message.topic(), "sensors/temp");
        assert_eq!(message.bytes(), b"{\"t\":21.5}");
        assert_eq!(message.timestamp(), t0());
        let copy = message.clone();
        assert!(Arc::ptr_eq(message.bytes_arc(), &bytes));
        assert!(Arc::ptr_eq(message.topic_arc(), copy.topic_arc()));
        assert_eq!(message, copy);
        assert!(format!("{message:?}").contains("[10 bytes]"));
        assert!(DataMessage::new("émission ✓", Vec::new(), t0()).is_ok());
    }

    #[test]
    fn data_message_rejects_empty_or_control_character_topics() {
        let text = reason(DataMessage::new("", vec![1u8], t0()), "DataMessage");
        assert_eq!(text, "topic is empty");
        let text = reason(DataMessage::new("a\u{7}b", vec![1u8], t0()), "DataMessage");
        assert_eq!(
            text,
            "topic \"a\\u{7}b\" contains control character U+0007 at byte 1"
        );
        for topic in ["line\n", "\ttab", "del\u{7f}", "c1\u{85}"] {
            assert!(
                DataMessage::new(topic, vec![1u8], t0()).is_err(),
                "{topic:?}"
            );
        }
    }
}
