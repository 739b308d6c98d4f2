//! Codecs: how a payload crosses a process boundary.
//!
//! Within one process a value travels as an `Arc` and is never encoded. A link to another process
//! or host (cargo features `net`, `ipc`) needs bytes: a payload type that can travel implements
//! [`Codec`]. streamlib implements it for the core messages ([`VideoFrame`], [`AudioBuffer`],
//! [`DataMessage`], [`KeyEvent`], [`MouseEvent`]), the integers, `f32`, `f64`, `bool`, `String`
//! and `Vec<u8>`; with the `serde` feature, `serde_codec!` gives one to any
//! serde type (encoded with postcard). A port whose payload has no codec still works locally;
//! asking for it across processes (`rt.remote::<A>(..)`) is a compile error naming the type.
//!
//! Encodings are little-endian and documented per type below, so that a client in another
//! language can read them; the envelope around each value (sequence number, tick stamp) is
//! described in [`wire`](crate::wire).
//!
//! ```
//! use streamlib::{Codec, PixelFormat, Timestamp, VideoFrame};
//!
//! let frame = VideoFrame::new(2, 2, PixelFormat::Gray8, vec![1u8, 2, 3, 4], Timestamp::from_nanos(5), 7)?;
//! let mut bytes = Vec::new();
//! frame.encode(&mut bytes);
//! let back = VideoFrame::decode(&bytes).expect("what encode wrote");
//! assert_eq!((back.width(), back.data(), back.frame_number()), (2, &[1u8, 2, 3, 4][..], 7));
//! assert!(VideoFrame::decode(&bytes[..10]).is_err(), "truncated input is an error, not a panic");
//! # Ok::<(), streamlib::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;

use crate::message::{
    AudioBuffer, DataMessage, Key, KeyEvent, KeyState, Modifiers, MouseButton, MouseEvent,
    MouseEventKind, PixelFormat, SharedBytes, VideoFrame,
};
use crate::timestamp::Timestamp;

/// A payload type that can cross a process boundary.
///
/// `encode` appends the value's bytes to `out`; `decode` rebuilds a value from exactly those
/// bytes and returns a [`DecodeError`] (never panics) for anything else. [`PAYLOAD_TYPE`] names
/// the encoding on the wire: two processes connect a port only when both sides name the same
/// payload type.
///
/// [`PAYLOAD_TYPE`]: Codec::PAYLOAD_TYPE
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross a process boundary: it has no `streamlib::Codec`",
    label = "no `Codec` for `{Self}`",
    note = "implement `streamlib::Codec` for it, or (feature `serde`) derive serde's traits and write `streamlib::serde_codec!({Self});`"
)]
pub trait Codec: Send + Sync + Sized + 'static {
    /// The payload's name on the wire, the same in every process: letters, digits and `_ . : < > ,`
    /// (e.g. `"i64"`, `"streamlib.VideoFrame"`).
    const PAYLOAD_TYPE: &'static str;

    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Rebuilds a value from what [`encode`](Codec::encode) wrote.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError>;

    /// The bytes at the end of this value's encoding that the value already holds (a frame's
    /// pixels, a byte vector's bytes), so that an engine can send them from the value's own
    /// memory: Zenoh without copying them, iceoryx2 copying them once, straight into its
    /// shared-memory sample. Empty by default (everything is encoded).
    ///
    /// A type that returns a tail also writes [`encode_head`](Codec::encode_head): `encode_head`
    /// followed by `tail` is exactly what `encode` writes.
    fn tail(&self) -> &[u8] {
        &[]
    }

    /// The encoding without [`tail`](Codec::tail); [`encode`](Codec::encode) by default.
    fn encode_head(&self, out: &mut Vec<u8>) {
        self.encode(out);
    }

    /// [`decode`](Codec::decode) from bytes the caller gives away, with the same result: a value
    /// that holds its bytes (a `Vec<u8>`, a `String`, a frame's pixels) keeps the vector instead
    /// of copying it. Links use it for a message that arrived in fragments, which must be joined
    /// into one vector anyway. By default, `decode(&bytes)`.
    fn decode_owned(bytes: Vec<u8>) -> Result<Self, DecodeError> {
        Self::decode(&bytes)
    }

    /// [`decode`](Codec::decode) from `bytes[start..]`, bytes another owner keeps alive (an
    /// iceoryx2 shared-memory sample, a Zenoh buffer), with the same result: a value that holds
    /// bytes may keep the owner instead of copying them (a frame borrows its pixels). Links use
    /// it for every message that arrived in one piece. By default, `decode` of that range.
    fn decode_shared(bytes: &SharedBytes, start: usize) -> Result<Self, DecodeError> {
        Self::decode((**bytes).as_ref().get(start..).unwrap_or_default())
    }
}

/// Bytes that are not a valid encoding of the payload type expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The payload type being decoded.
    pub payload_type: &'static str,
    /// What is wrong, with the offending values.
    pub reason: String,
}

impl DecodeError {
    /// An error decoding `payload_type`.
    pub fn new(payload_type: &'static str, reason: impl Into<String>) -> DecodeError {
        DecodeError {
            payload_type,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a valid {}: {}", self.payload_type, self.reason)
    }
}

impl std::error::Error for DecodeError {}

/// Reads little-endian fields from a byte slice, failing (not panicking) when it runs out.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    payload_type: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader of `bytes`, which encode a `payload_type`.
    pub fn new(bytes: &'a [u8], payload_type: &'static str) -> Reader<'a> {
        Reader {
            bytes,
            payload_type,
        }
    }

    /// An error naming this reader's payload type.
    pub fn error(&self, reason: impl Into<String>) -> DecodeError {
        DecodeError::new(self.payload_type, reason)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() < n {
            return Err(self.error(format!("needs {n} more bytes, {} left", self.bytes.len())));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    /// A `u8`.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A little-endian IEEE 754 `f32`.
    pub fn f32(&mut self) -> Result<f32, DecodeError> {
        Ok(f32::from_le_bytes(self.array()?))
    }

    /// A `u32` length, then that many bytes.
    pub fn sized(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }

    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(self.error(format!("{n} bytes left over"))),
        }
    }
}

fn put_sized(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("a field of over 4 GiB cannot be encoded");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

macro_rules! number_codec {
    ($($ty:ty),*) => {$(
        /// Its little-endian bytes.
        impl Codec for $ty {
            const PAYLOAD_TYPE: &'static str = stringify!($ty);
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
                let array = bytes.try_into().map_err(|_| {
                    DecodeError::new(
                        Self::PAYLOAD_TYPE,
                        format!("needs {} bytes, got {}", size_of::<$ty>(), bytes.len()),
                    )
                })?;
                Ok(<$ty>::from_le_bytes(array))
            }
        }
    )*};
}

number_codec!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

/// One byte, 0 or 1.
impl Codec for bool {
    const PAYLOAD_TYPE: &'static str = "bool";
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        match bytes {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(DecodeError::new(
                "bool",
                format!("expected [0] or [1], got {bytes:?}"),
            )),
        }
    }
}

/// Its UTF-8 bytes.
impl Codec for String {
    const PAYLOAD_TYPE: &'static str = "String";
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_owned(bytes.to_vec())
    }
    fn tail(&self) -> &[u8] {
        self.as_bytes()
    }
    fn encode_head(&self, _: &mut Vec<u8>) {}
    fn decode_owned(bytes: Vec<u8>) -> Result<Self, DecodeError> {
        String::from_utf8(bytes).map_err(|e| DecodeError::new("String", format!("not UTF-8: {e}")))
    }
}

/// The bytes as they are.
impl Codec for Vec<u8> {
    const PAYLOAD_TYPE: &'static str = "Vec<u8>";
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(bytes.to_vec())
    }
    fn tail(&self) -> &[u8] {
        self
    }
    fn encode_head(&self, _: &mut Vec<u8>) {}
    fn decode_owned(bytes: Vec<u8>) -> Result<Self, DecodeError> {
        Ok(bytes)
    }
}

/// Bytes of a [`VideoFrame`]'s encoding before its pixels.
pub(crate) const VIDEO_HEADER_LEN: usize = 25;

/// The part of a frame's encoding before its pixels.
fn encode_video_header(frame: &VideoFrame, out: &mut Vec<u8>) {
    out.extend_from_slice(&frame.width().to_le_bytes());
    out.extend_from_slice(&frame.height().to_le_bytes());
    let format = PIXEL_FORMATS.iter().position(|f| *f == frame.format());
    out.push(format.expect("every pixel format has a wire number") as u8);
    out.extend_from_slice(&frame.timestamp().as_nanos().to_le_bytes());
    out.extend_from_slice(&frame.frame_number().to_le_bytes());
}

/// `(width, height, format, timestamp ns, frame number)`: what [`encode_video_header`] wrote.
fn decode_video_header(
    r: &mut Reader<'_>,
) -> Result<(u32, u32, PixelFormat, u64, u64), DecodeError> {
    let (width, height) = (r.u32()?, r.u32()?);
    let format = r.u8()?;
    let format = *PIXEL_FORMATS
        .get(usize::from(format))
        .ok_or_else(|| r.error(format!("unknown pixel format number {format}")))?;
    Ok((width, height, format, r.u64()?, r.u64()?))
}

const PIXEL_FORMATS: [PixelFormat; 6] = [
    PixelFormat::Rgba8,
    PixelFormat::Bgra8,
    PixelFormat::Rgb8,
    PixelFormat::Gray8,
    PixelFormat::I420,
    PixelFormat::Nv12,
];

/// `width u32, height u32, format u8 (0 RGBA8, 1 BGRA8, 2 RGB8, 3 GRAY8, 4 I420, 5 NV12),
/// timestamp u64 ns, frame_number u64`, then the pixel bytes to the end. A link sends the pixels
/// from the frame's own memory (its [`tail`](Codec::tail)), and the received frame borrows them
/// from the message the engine received (a Zenoh buffer, an iceoryx2 sample) instead of copying
/// them into an `Arc<[u8]>` of its own (see [`VideoFrame`]); `decode` from a plain slice copies.
impl Codec for VideoFrame {
    const PAYLOAD_TYPE: &'static str = "streamlib.VideoFrame";
    fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(VIDEO_HEADER_LEN + self.data().len());
        encode_video_header(self, out);
        out.extend_from_slice(self.data());
    }
    fn tail(&self) -> &[u8] {
        self.data()
    }
    fn encode_head(&self, out: &mut Vec<u8>) {
        encode_video_header(self, out);
    }
    /// The frame borrows its pixels from `bytes` (no copy).
    fn decode_owned(bytes: Vec<u8>) -> Result<Self, DecodeError> {
        Self::decode_shared(&(Arc::new(bytes) as SharedBytes), 0)
    }
    /// The frame borrows its pixels from `bytes` (no copy).
    fn decode_shared(bytes: &SharedBytes, start: usize) -> Result<Self, DecodeError> {
        let header = (**bytes).as_ref().get(start..).unwrap_or_default();
        let mut r = Reader::new(header, Self::PAYLOAD_TYPE);
        let (width, height, format, timestamp, frame_number) = decode_video_header(&mut r)?;
        VideoFrame::borrowing(
            (width, height, format),
            bytes.clone(),
            start + VIDEO_HEADER_LEN,
            Timestamp::from_nanos(timestamp),
            frame_number,
        )
        .map_err(|e| DecodeError::new(Self::PAYLOAD_TYPE, e.to_string()))
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, Self::PAYLOAD_TYPE);
        let (width, height, format, timestamp, frame_number) = decode_video_header(&mut r)?;
        let pixels = r.rest();
        VideoFrame::new(
            width,
            height,
            format,
            pixels,
            Timestamp::from_nanos(timestamp),
            frame_number,
        )
        .map_err(|e| DecodeError::new(Self::PAYLOAD_TYPE, e.to_string()))
    }
}

/// `channels u16, sample_rate u32, timestamp u64 ns, frame_number u64`, then the interleaved
/// samples as little-endian `f32` to the end.
impl Codec for AudioBuffer {
    const PAYLOAD_TYPE: &'static str = "streamlib.AudioBuffer";
    fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(22 + 4 * self.samples().len());
        out.extend_from_slice(&self.channels().to_le_bytes());
        out.extend_from_slice(&self.sample_rate().to_le_bytes());
        out.extend_from_slice(&self.timestamp().as_nanos().to_le_bytes());
        out.extend_from_slice(&self.frame_number().to_le_bytes());
        for sample in self.samples() {
            out.extend_from_slice(&sample.to_le_bytes());
        }
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, Self::PAYLOAD_TYPE);
        let (channels, sample_rate) = (r.u16()?, r.u32()?);
        let (timestamp, frame_number) = (r.u64()?, r.u64()?);
        let rest = r.rest();
        if !rest.len().is_multiple_of(4) {
            return Err(DecodeError::new(
                Self::PAYLOAD_TYPE,
                format!("{} sample bytes are not whole f32s", rest.len()),
            ));
        }
        let samples: Arc<[f32]> = rest
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        AudioBuffer::new(
            samples,
            channels,
            sample_rate,
            Timestamp::from_nanos(timestamp),
            frame_number,
        )
        .map_err(|e| DecodeError::new(Self::PAYLOAD_TYPE, e.to_string()))
    }
}

/// `timestamp u64 ns, topic (u32 length + UTF-8)`, then the bytes to the end.
impl Codec for DataMessage {
    const PAYLOAD_TYPE: &'static str = "streamlib.DataMessage";
    fn encode(&self, out: &mut Vec<u8>) {
        self.encode_head(out);
        out.extend_from_slice(self.bytes());
    }
    fn tail(&self) -> &[u8] {
        self.bytes()
    }
    fn encode_head(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.timestamp().as_nanos().to_le_bytes());
        put_sized(out, self.topic().as_bytes());
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, Self::PAYLOAD_TYPE);
        let (timestamp, topic) = decode_data_head(&mut r)?;
        DataMessage::new(topic, r.rest(), timestamp)
            .map_err(|e| DecodeError::new(Self::PAYLOAD_TYPE, e.to_string()))
    }
    /// The message keeps `bytes` and reads its payload from them (no copy).
    fn decode_owned(bytes: Vec<u8>) -> Result<Self, DecodeError> {
        Self::decode_shared(&(Arc::new(bytes) as SharedBytes), 0)
    }
    /// The message borrows its payload from `bytes` (no copy).
    fn decode_shared(bytes: &SharedBytes, start: usize) -> Result<Self, DecodeError> {
        let encoded = (**bytes).as_ref().get(start..).unwrap_or_default();
        let mut r = Reader::new(encoded, Self::PAYLOAD_TYPE);
        let (timestamp, topic) = decode_data_head(&mut r)?;
        let payload = start + encoded.len() - r.rest().len();
        DataMessage::borrowing(topic, bytes.clone(), payload, timestamp)
            .map_err(|e| DecodeError::new(Self::PAYLOAD_TYPE, e.to_string()))
    }
}

/// Bytes of a [`DataMessage`]'s encoding before its payload, under `topic`: the timestamp, the
/// topic's length and the topic (what its `encode_head` writes).
pub(crate) fn data_head_len(topic: &str) -> usize {
    8 + 4 + topic.len()
}

/// What [`DataMessage`]'s `encode_head` wrote: its timestamp and topic.
fn decode_data_head<'a>(r: &mut Reader<'a>) -> Result<(Timestamp, &'a str), DecodeError> {
    let timestamp = Timestamp::from_nanos(r.u64()?);
    let topic =
        std::str::from_utf8(r.sized()?).map_err(|e| r.error(format!("topic is not UTF-8: {e}")))?;
    Ok((timestamp, topic))
}

/// `(tag u8, value u32)`: 0 `Character` (the scalar value), 1–19 the named keys in declaration
/// order, 20 `Function(n)`, 21 `Other(code)`.
fn key_to_wire(key: Key) -> (u8, u32) {
    const NAMED: [Key; 19] = NAMED_KEYS;
    match key {
        Key::Character(c) => (0, u32::from(c)),
        Key::Function(n) => (20, u32::from(n)),
        Key::Other(code) => (21, code),
        named => match NAMED.iter().position(|k| *k == named) {
            Some(i) => (i as u8 + 1, 0),
            None => (21, 0),
        },
    }
}

const NAMED_KEYS: [Key; 19] = [
    Key::Enter,
    Key::Escape,
    Key::Backspace,
    Key::Tab,
    Key::Delete,
    Key::Insert,
    Key::Home,
    Key::End,
    Key::PageUp,
    Key::PageDown,
    Key::ArrowUp,
    Key::ArrowDown,
    Key::ArrowLeft,
    Key::ArrowRight,
    Key::Shift,
    Key::Control,
    Key::Alt,
    Key::Meta,
    Key::CapsLock,
];

fn key_from_wire(r: &Reader<'_>, tag: u8, value: u32) -> Result<Key, DecodeError> {
    Ok(match tag {
        0 => Key::Character(
            char::from_u32(value).ok_or_else(|| r.error(format!("{value:#x} is not a char")))?,
        ),
        1..=19 => NAMED_KEYS[usize::from(tag - 1)],
        20 => Key::Function(
            u8::try_from(value).map_err(|_| r.error(format!("function key {value}")))?,
        ),
        21 => Key::Other(value),
        _ => return Err(r.error(format!("unknown key tag {tag}"))),
    })
}

/// `key tag u8, key value u32, state u8 (0 pressed, 1 released, 2 repeat), modifiers u8,
/// timestamp u64 ns`.
impl Codec for KeyEvent {
    const PAYLOAD_TYPE: &'static str = "streamlib.KeyEvent";
    fn encode(&self, out: &mut Vec<u8>) {
        let (tag, value) = key_to_wire(self.key);
        out.push(tag);
        out.extend_from_slice(&value.to_le_bytes());
        out.push(match self.state {
            KeyState::Pressed => 0,
            KeyState::Released => 1,
            KeyState::Repeat => 2,
        });
        out.push(self.modifiers.bits());
        out.extend_from_slice(&self.timestamp.as_nanos().to_le_bytes());
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, Self::PAYLOAD_TYPE);
        let (tag, value) = (r.u8()?, r.u32()?);
        let key = key_from_wire(&r, tag, value)?;
        let state = match r.u8()? {
            0 => KeyState::Pressed,
            1 => KeyState::Released,
            2 => KeyState::Repeat,
            other => return Err(r.error(format!("unknown key state {other}"))),
        };
        let modifiers = Modifiers::from_bits_truncate(r.u8()?);
        let timestamp = Timestamp::from_nanos(r.u64()?);
        r.finish()?;
        Ok(KeyEvent::new(key, state, modifiers, timestamp))
    }
}

const MOUSE_BUTTONS: [MouseButton; 5] = [
    MouseButton::Left,
    MouseButton::Right,
    MouseButton::Middle,
    MouseButton::Back,
    MouseButton::Forward,
];

fn button_to_wire(button: MouseButton) -> u16 {
    match button {
        MouseButton::Other(code) => 0x100 + code.min(0xfeff),
        named => MOUSE_BUTTONS.iter().position(|b| *b == named).unwrap_or(0) as u16,
    }
}

fn button_from_wire(r: &Reader<'_>, value: u16) -> Result<MouseButton, DecodeError> {
    match value {
        0..=4 => Ok(MOUSE_BUTTONS[usize::from(value)]),
        0x100.. => Ok(MouseButton::Other(value - 0x100)),
        _ => Err(r.error(format!("unknown mouse button {value}"))),
    }
}

/// `x f32, y f32, kind u8 (0 moved, 1 pressed, 2 released, 3 scrolled), button u16 (0–4 left,
/// right, middle, back, forward; 0x100 + n `Other(n)`), dx f32, dy f32, modifiers u8,
/// timestamp u64 ns`.
impl Codec for MouseEvent {
    const PAYLOAD_TYPE: &'static str = "streamlib.MouseEvent";
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.x().to_le_bytes());
        out.extend_from_slice(&self.y().to_le_bytes());
        let (kind, button, dx, dy) = match self.kind() {
            MouseEventKind::Moved => (0u8, 0, 0.0f32, 0.0f32),
            MouseEventKind::Pressed(b) => (1, button_to_wire(b), 0.0, 0.0),
            MouseEventKind::Released(b) => (2, button_to_wire(b), 0.0, 0.0),
            MouseEventKind::Scrolled { dx, dy } => (3, 0, dx, dy),
        };
        out.push(kind);
        out.extend_from_slice(&button.to_le_bytes());
        out.extend_from_slice(&dx.to_le_bytes());
        out.extend_from_slice(&dy.to_le_bytes());
        out.push(self.modifiers().bits());
        out.extend_from_slice(&self.timestamp().as_nanos().to_le_bytes());
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, Self::PAYLOAD_TYPE);
        let (x, y) = (r.f32()?, r.f32()?);
        let (kind, button) = (r.u8()?, r.u16()?);
        let (dx, dy) = (r.f32()?, r.f32()?);
        let kind = match kind {
            0 => MouseEventKind::Moved,
            1 => MouseEventKind::Pressed(button_from_wire(&r, button)?),
            2 => MouseEventKind::Released(button_from_wire(&r, button)?),
            3 => MouseEventKind::Scrolled { dx, dy },
            other => return Err(r.error(format!("unknown mouse event kind {other}"))),
        };
        let modifiers = Modifiers::from_bits_truncate(r.u8()?);
        let timestamp = Timestamp::from_nanos(r.u64()?);
        r.finish()?;
        MouseEvent::new(x, y, kind, modifiers, timestamp)
            .map_err(|e| DecodeError::new(Self::PAYLOAD_TYPE, e.to_string()))
    }
}

/// Implements [`Codec`] for serde types, encoded with [postcard](https://docs.rs/postcard)
/// (feature `serde`). The payload type on the wire is the type's path as written.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// pub struct Alert { level: u8, text: String }
/// streamlib::serde_codec!(Alert);
///
/// use streamlib::Codec;
/// let mut bytes = Vec::new();
/// Alert { level: 3, text: "hot".into() }.encode(&mut bytes);
/// assert_eq!(Alert::decode(&bytes).unwrap(), Alert { level: 3, text: "hot".into() });
/// # }
/// ```
#[cfg(feature = "serde")]
#[macro_export]
macro_rules! serde_codec {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::Codec for $ty {
            const PAYLOAD_TYPE: &'static str = stringify!($ty);
            fn encode(&self, out: &mut ::std::vec::Vec<u8>) {
                $crate::__private::postcard_encode(self, out)
            }
            fn decode(bytes: &[u8]) -> ::std::result::Result<Self, $crate::DecodeError> {
                $crate::__private::postcard_decode(bytes, <Self as $crate::Codec>::PAYLOAD_TYPE)
            }
        }
    )+};
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes and decodes `value`; a fixed-size encoding must also refuse one byte less.
    fn round_trip<T: Codec + fmt::Debug + PartialEq>(value: T) {
        let bytes = encoded_both_ways(&value);
        assert_eq!(T::decode(&bytes).unwrap(), value, "{}", T::PAYLOAD_TYPE);
        let open_ended = ["Vec<u8>", "String", "streamlib.DataMessage"];
        if !open_ended.contains(&T::PAYLOAD_TYPE) {
            assert!(
                T::decode(&bytes[..bytes.len() - 1]).is_err(),
                "{}",
                T::PAYLOAD_TYPE
            );
        }
    }

    /// `encode`'s bytes, checked to be `encode_head`'s followed by `tail`.
    fn encoded_both_ways<T: Codec>(value: &T) -> Vec<u8> {
        let mut whole = Vec::new();
        value.encode(&mut whole);
        let mut split = Vec::new();
        value.encode_head(&mut split);
        split.extend_from_slice(value.tail());
        assert_eq!(split, whole, "head + tail of a {}", T::PAYLOAD_TYPE);
        whole
    }

    #[test]
    fn values_holding_their_bytes_lend_them_as_the_tail() {
        let ts = Timestamp::from_nanos(1);
        let frame = VideoFrame::new(2, 2, PixelFormat::Gray8, vec![1u8, 2, 3, 4], ts, 0).unwrap();
        assert_eq!(
            frame.tail().as_ptr(),
            frame.data().as_ptr(),
            "the frame's own pixels"
        );
        let bytes = vec![7u8; 3];
        assert_eq!(bytes.tail().as_ptr(), bytes.as_ptr());
        let data = DataMessage::new("t", vec![5u8, 6], ts).unwrap();
        assert_eq!(data.tail(), &[5, 6]);
        assert!(7i64.tail().is_empty(), "a number is encoded whole");
    }

    #[test]
    fn the_head_lengths_lenders_keep_free_are_the_heads_encoded() {
        let ts = Timestamp::from_nanos(1);
        let frame = VideoFrame::new(2, 2, PixelFormat::Gray8, vec![1u8, 2, 3, 4], ts, 0).unwrap();
        let mut head = Vec::new();
        frame.encode_head(&mut head);
        assert_eq!(head.len(), VIDEO_HEADER_LEN);
        for topic in ["t", "lidar/front", "Zürich ✓"] {
            let message = DataMessage::new(topic, vec![5u8; 9], ts).unwrap();
            let mut head = Vec::new();
            message.encode_head(&mut head);
            assert_eq!(head.len(), data_head_len(topic), "{topic}");
        }
    }

    #[test]
    fn owned_bytes_decode_as_borrowed_ones_and_are_kept() {
        let ts = Timestamp::from_nanos(1);
        let bytes = vec![1u8, 2, 3];
        let at = bytes.as_ptr();
        let back = Vec::<u8>::decode_owned(bytes).unwrap();
        assert_eq!(
            (back.as_ptr(), &back[..]),
            (at, &[1u8, 2, 3][..]),
            "the same vector"
        );
        assert_eq!(String::decode_owned(b"hi".to_vec()).unwrap(), "hi");
        assert!(String::decode_owned(vec![0xff]).is_err());
        let frame = VideoFrame::new(2, 1, PixelFormat::Gray8, vec![4u8, 5], ts, 2).unwrap();
        let mut encoded = Vec::new();
        frame.encode(&mut encoded);
        let pixels_at = encoded.as_ptr() as usize + VIDEO_HEADER_LEN;
        let back = VideoFrame::decode_owned(encoded).unwrap();
        assert_eq!(back, frame);
        assert_eq!(
            back.data().as_ptr() as usize,
            pixels_at,
            "pixels borrowed, not copied"
        );
        assert_eq!(i64::decode_owned(5i64.to_le_bytes().to_vec()).unwrap(), 5);
        // From bytes another owner keeps, after a prefix (an envelope): the same values.
        let mut kept = b"env".to_vec();
        frame.encode(&mut kept);
        let kept: SharedBytes = Arc::new(kept);
        let back = VideoFrame::decode_shared(&kept, 3).unwrap();
        assert_eq!(back, frame);
        let at = (*kept).as_ref().as_ptr() as usize + 3 + VIDEO_HEADER_LEN;
        assert_eq!(
            back.data().as_ptr() as usize,
            at,
            "pixels borrowed from the owner"
        );
        let number: SharedBytes = Arc::new([0u8, 7, 0, 0, 0, 0, 0, 0, 0].to_vec());
        assert_eq!(i64::decode_shared(&number, 1).unwrap(), 7);
        assert!(VideoFrame::decode_owned(vec![0; 3]).is_err());
    }

    #[test]
    fn a_data_message_borrows_its_payload_from_the_bytes_it_arrived_in() {
        let message = DataMessage::new("lidar/a", vec![9u8; 64], Timestamp::from_nanos(5)).unwrap();
        let mut kept = b"env".to_vec();
        message.encode(&mut kept);
        let head = kept.len() - 64;
        let kept: SharedBytes = Arc::new(kept);
        let back = DataMessage::decode_shared(&kept, 3).unwrap();
        assert_eq!(back, message);
        assert_eq!(
            (back.topic(), back.timestamp()),
            ("lidar/a", message.timestamp())
        );
        let payload_at = (*kept).as_ref().as_ptr() as usize + head;
        assert_eq!(
            back.bytes().as_ptr() as usize,
            payload_at,
            "borrowed, not copied"
        );
        // An `Arc<[u8]>` of it is a copy, made once.
        let arc = back.bytes_arc().clone();
        assert_ne!(arc.as_ptr() as usize, payload_at);
        assert!(Arc::ptr_eq(&arc, back.bytes_arc()));
        assert_eq!(&arc[..], message.bytes());

        let mut encoded = Vec::new();
        message.encode(&mut encoded);
        let at = encoded.as_ptr() as usize + head - 3;
        let owned = DataMessage::decode_owned(encoded).unwrap();
        assert_eq!(
            (owned.bytes().as_ptr() as usize, &owned),
            (at, &message),
            "the same vector"
        );

        // Cut inside the topic, or a topic that is not valid: errors naming the type.
        let short: SharedBytes = Arc::new(vec![0u8; 10]);
        let error = DataMessage::decode_shared(&short, 0).unwrap_err();
        assert_eq!(error.payload_type, "streamlib.DataMessage");
        let mut bad = Vec::new();
        message.encode(&mut bad);
        bad[12] = 0xff; // the topic's first byte
        assert!(DataMessage::decode_owned(bad)
            .unwrap_err()
            .reason
            .contains("UTF-8"));
    }

    #[test]
    fn primitives_round_trip() {
        round_trip(-5i64);
        round_trip(u64::MAX);
        round_trip(1.5f32);
        round_trip(-0.25f64);
        round_trip(true);
        round_trip(String::from("héllo"));
        round_trip(vec![1u8, 2, 3]);
        assert!(bool::decode(&[2]).is_err());
        assert!(String::decode(&[0xff]).is_err());
    }

    #[test]
    fn messages_round_trip() {
        let ts = Timestamp::from_nanos(123);
        let frame = VideoFrame::new(2, 2, PixelFormat::I420, vec![9u8; 6], ts, 4).unwrap();
        let bytes = encoded_both_ways(&frame);
        let back = VideoFrame::decode(&bytes).unwrap();
        assert_eq!(
            (back.format(), back.data(), back.timestamp()),
            (PixelFormat::I420, frame.data(), ts)
        );
        let audio = AudioBuffer::new(vec![0.5f32, -0.5], 2, 48_000, ts, 1).unwrap();
        let mut bytes = Vec::new();
        audio.encode(&mut bytes);
        assert_eq!(AudioBuffer::decode(&bytes).unwrap().samples(), &[0.5, -0.5]);
        round_trip(DataMessage::new("cfg", vec![1u8], ts).unwrap());
        for key in [
            Key::Character('é'),
            Key::Function(12),
            Key::Other(7),
            Key::CapsLock,
        ] {
            round_trip(KeyEvent::new(key, KeyState::Repeat, Modifiers::SHIFT, ts));
        }
        for kind in [
            MouseEventKind::Moved,
            MouseEventKind::Pressed(MouseButton::Other(3)),
            MouseEventKind::Released(MouseButton::Middle),
            MouseEventKind::Scrolled { dx: 1.0, dy: -2.0 },
        ] {
            round_trip(MouseEvent::new(1.0, 2.0, kind, Modifiers::NONE, ts).unwrap());
        }
    }

    #[test]
    fn bad_bytes_are_errors_naming_the_type() {
        let error = VideoFrame::decode(&[0; 25]).unwrap_err();
        assert_eq!(error.payload_type, "streamlib.VideoFrame");
        let mut bytes = Vec::new();
        VideoFrame::new(
            2,
            2,
            PixelFormat::Rgba8,
            vec![0u8; 16],
            Timestamp::from_nanos(0),
            0,
        )
        .unwrap()
        .encode(&mut bytes);
        bytes[8] = 200; // pixel format
        assert!(VideoFrame::decode(&bytes)
            .unwrap_err()
            .reason
            .contains("200"));
        let unknown_key_tag = [99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(KeyEvent::decode(&unknown_key_tag)
            .unwrap_err()
            .reason
            .contains("99"));
    }
}
