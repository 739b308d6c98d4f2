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

mod audio;
mod bytes;
mod data;
mod event;
mod video;

pub use audio::AudioBuffer;
pub(crate) use bytes::MessageBytes;
pub use bytes::SharedBytes;
pub use data::DataMessage;
pub use event::{Key, KeyEvent, KeyState, Modifiers, MouseButton, MouseEvent, MouseEventKind};
pub use video::{PixelFormat, VideoFrame};

use crate::error::Error;

const NANOS_PER_SECOND: u128 = 1_000_000_000;

fn invalid(kind: &'static str, reason: String) -> Error {
    Error::InvalidMessage { kind, reason }
}

#[cfg(test)]
mod tests;
