//! Video frames and their pixel formats.

use std::fmt;
use std::sync::Arc;

use super::bytes::{MessageBytes, SharedBytes};
use super::invalid;
use crate::error::Result;
use crate::timestamp::Timestamp;

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
            None if width.is_multiple_of(2) && height.is_multiple_of(2) => {
                pixels.checked_add(pixels / 2)
            }
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
///
/// A frame received from another process borrows the buffer it arrived in (feature `ipc`: the
/// shared-memory sample; feature `net`: Zenoh's receive buffer, or the one copy that joined a
/// message's fragments) for as long as any clone of it lives: its bytes are not copied again,
/// unless [`data_arc`](Self::data_arc) is asked for (then once, on first call).
#[derive(Clone, PartialEq, Eq)]
pub struct VideoFrame {
    width: u32,
    height: u32,
    format: PixelFormat,
    data: MessageBytes,
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
    /// [`Error::InvalidMessage`](crate::Error::InvalidMessage) if width or height is zero, either is odd for a 4:2:0 format, the
    /// size exceeds `isize::MAX` bytes, or `data` does not hold exactly
    /// [`format.bytes_for(width, height)`](PixelFormat::bytes_for) bytes.
    pub fn new(
        width: u32,
        height: u32,
        format: PixelFormat,
        data: impl Into<Arc<[u8]>>,
        timestamp: Timestamp,
        frame_number: u64,
    ) -> Result<VideoFrame> {
        let data = MessageBytes::Owned(data.into());
        VideoFrame::with_bytes(width, height, format, data, timestamp, frame_number)
    }

    /// A frame whose bytes are `owner`'s bytes `start..start + len`, kept alive by `owner`
    /// (a received buffer); checked as [`new`](Self::new) does.
    pub(crate) fn borrowing(
        (width, height, format): (u32, u32, PixelFormat),
        owner: SharedBytes,
        start: usize,
        timestamp: Timestamp,
        frame_number: u64,
    ) -> Result<VideoFrame> {
        let data = MessageBytes::borrowing(owner, start);
        VideoFrame::with_bytes(width, height, format, data, timestamp, frame_number)
    }

    fn with_bytes(
        width: u32,
        height: u32,
        format: PixelFormat,
        data: MessageBytes,
        timestamp: Timestamp,
        frame_number: u64,
    ) -> Result<VideoFrame> {
        let expected = VideoFrame::checked_len(width, height, format)?;
        if data.len() != expected {
            return Err(invalid(
                "VideoFrame",
                format!(
                    "a {width}x{height} {format} frame needs {expected} bytes, got {}",
                    data.len()
                ),
            ));
        }
        Ok(VideoFrame::from_checked(
            (width, height, format),
            data,
            timestamp,
            frame_number,
        ))
    }

    /// The bytes a `width` x `height` frame in `format` holds, or why there is no such frame.
    pub(crate) fn checked_len(width: u32, height: u32, format: PixelFormat) -> Result<usize> {
        let fail = |reason| Err(invalid("VideoFrame", reason));
        if width == 0 || height == 0 {
            return fail(format!(
                "width and height must be non-zero, got {width}x{height}"
            ));
        }
        if format.is_planar() && (!width.is_multiple_of(2) || !height.is_multiple_of(2)) {
            return fail(format!(
                "{format} needs an even width and height, got {width}x{height}"
            ));
        }
        match format.bytes_for(width, height) {
            // No allocation holds more than `isize::MAX` bytes.
            Some(len) if isize::try_from(len).is_ok() => Ok(len),
            _ => fail(format!(
                "the size of a {width}x{height} {format} frame is more than memory can hold"
            )),
        }
    }

    /// A frame whose `data` already holds [`checked_len`](Self::checked_len) bytes.
    pub(crate) fn from_checked(
        (width, height, format): (u32, u32, PixelFormat),
        data: MessageBytes,
        timestamp: Timestamp,
        frame_number: u64,
    ) -> VideoFrame {
        debug_assert_eq!(
            VideoFrame::checked_len(width, height, format).ok(),
            Some(data.len())
        );
        VideoFrame {
            width,
            height,
            format,
            data,
            timestamp,
            frame_number,
        }
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
        self.data.as_slice()
    }

    /// The shared pixel bytes, to hand on without copying. A frame that borrows a
    /// received buffer copies its bytes into an `Arc` at the first call (prefer
    /// [`data`](Self::data), or clone the frame, which shares either kind).
    pub fn data_arc(&self) -> &Arc<[u8]> {
        self.data.arc()
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
            .field("data", &format_args!("[{} bytes]", self.data().len()))
            .field("timestamp", &self.timestamp)
            .field("frame_number", &self.frame_number)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Owner(Vec<u8>);

    impl AsRef<[u8]> for Owner {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }

    #[test]
    fn a_borrowing_frame_reads_its_owner_without_copying() {
        let owner: SharedBytes = Arc::new(Owner((0..10u8).collect()));
        let at = (*owner).as_ref()[6..].as_ptr();
        let frame = VideoFrame::borrowing(
            (2, 2, PixelFormat::Gray8),
            owner.clone(),
            6,
            Timestamp::from_nanos(1),
            7,
        )
        .unwrap();
        assert_eq!(frame.data(), &[6, 7, 8, 9]);
        assert_eq!(frame.data().as_ptr(), at, "the owner's bytes, not a copy");
        let owned = VideoFrame::new(
            2,
            2,
            PixelFormat::Gray8,
            vec![6, 7, 8, 9],
            Timestamp::from_nanos(1),
            7,
        )
        .unwrap();
        assert_eq!(frame, owned, "equal by content whatever holds the bytes");
        assert_eq!(&**frame.data_arc(), &[6, 7, 8, 9]);
        assert!(
            Arc::ptr_eq(frame.data_arc(), frame.data_arc()),
            "copied once"
        );
        assert_eq!(Arc::strong_count(&owner), 2, "the frame keeps the owner");
        drop(frame);
        assert_eq!(Arc::strong_count(&owner), 1);
        let short = VideoFrame::borrowing(
            (4, 4, PixelFormat::Gray8),
            owner.clone(),
            6,
            Timestamp::from_nanos(1),
            7,
        );
        assert!(short.is_err(), "4 bytes left for 16");
        let past_the_end = VideoFrame::borrowing(
            (1, 1, PixelFormat::Gray8),
            owner,
            99,
            Timestamp::from_nanos(1),
            7,
        );
        assert!(past_the_end.is_err());
    }
}
