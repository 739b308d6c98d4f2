//! Frames drawn straight into the memory they are sent from.
//!
//! A camera or a renderer that fills a frame and writes it to an output published to other
//! processes would otherwise copy every frame once more, into the transport's shared memory.
//! [`Output::new_frame`] hands the actor a [`FrameBuffer`] to fill instead: while the output is
//! published over `ipc` (iceoryx2), its pixels are already a shared-memory sample of the
//! output's service, and writing the finished frame sends that sample as it is — no copy on
//! either side. Elsewhere (see [`FrameBuffer`]) it is an ordinary buffer of this process, and the
//! frame is sent as any other.
//!
//! ```
//! use streamlib::{Output, PixelFormat, Timestamp, VideoFrame};
//!
//! let out = Output::<VideoFrame>::new();
//! let mut buffer = out.new_frame(4, 2, PixelFormat::Gray8)?;
//! buffer.pixels_mut().copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
//! out.write(buffer.finish(Timestamp::from_nanos(0), 0));
//! assert_eq!(out.to_ref().read_latest().unwrap().data()[7], 8);
//! # Ok::<(), streamlib::Error>(())
//! ```
//!
//! **The pixels are not cleared.** A buffer lent by the transport holds whatever an earlier
//! frame left in that sample (a buffer of this process starts zeroed): write every pixel.

use std::fmt;
use std::sync::Arc;

use super::Output;
use crate::error::Result;
use crate::message::{MessageBytes, PixelFormat, SharedBytes, VideoFrame};
use crate::timestamp::Timestamp;

/// Memory an engine lends for the bytes of values an output is about to write (set on the
/// output with [`OutputShared::set_lender`](super::OutputShared::set_lender)).
pub(crate) trait Lender: Send + Sync {
    /// `len` writable bytes in the engine's memory, or `None` when it has none to lend now.
    fn lend(&self, len: usize) -> Option<Box<dyn Loan>>;
}

/// One lent buffer: written through [`bytes_mut`](Self::bytes_mut) while it is the actor's,
/// then [`share`](Self::share)d as the bytes of the value written.
pub(crate) trait Loan: Send {
    /// The lent bytes, exactly the `len` asked for.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// The bytes, now read-only, kept alive by whoever holds them.
    fn share(self: Box<Self>) -> SharedBytes;
}

/// A frame being drawn: its size and format are set, its pixels are the caller's to fill
/// ([`pixels_mut`](Self::pixels_mut)), and [`finish`](Self::finish) makes it a [`VideoFrame`]
/// to write. Made by [`Output::new_frame`].
///
/// While the output is published over `ipc` (iceoryx2), the pixels are already a shared-memory
/// sample of the output's service ([`is_lent`](Self::is_lent)), and writing the finished frame
/// sends that sample as it is: written once, by the actor, and read in place by every reader,
/// in this process and in others. Elsewhere it is an ordinary buffer of this process, zeroed,
/// and the frame is sent as any other: without `ipc`, before the actor is announced, for a
/// frame under 4 KiB or over `IpcConfig::max_message_size`, while the output's samples are all
/// in use, and for good once a send from a lent sample failed. A lent frame written a second
/// time, or while readers of this process hold several sent frames at once, goes out as a
/// copy (counted by `streamlib::ipc::lent_frames_copied`).
///
/// **A lent buffer is not cleared**: it holds whatever an earlier frame left in that sample.
/// Write every pixel.
pub struct FrameBuffer {
    width: u32,
    height: u32,
    format: PixelFormat,
    pixels: Pixels,
}

enum Pixels {
    /// This process's memory; the `Arc` is not shared before `finish`.
    Own(Arc<[u8]>),
    /// Lent by the engine that sends the output's values.
    Lent(Box<dyn Loan>),
}

impl FrameBuffer {
    fn own(width: u32, height: u32, format: PixelFormat, len: usize) -> FrameBuffer {
        FrameBuffer {
            width,
            height,
            format,
            // Zeroes written once, in place (an iterator of known length makes one allocation).
            pixels: Pixels::Own(std::iter::repeat_n(0, len).collect()),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Layout of the pixels.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// The pixels to fill, tightly packed, exactly
    /// [`format().bytes_for(width(), height())`](PixelFormat::bytes_for) of them. A lent buffer
    /// holds what an earlier frame left there: write them all.
    pub fn pixels_mut(&mut self) -> &mut [u8] {
        match &mut self.pixels {
            // Never shared before `finish`, so `get_mut` always finds it unique.
            Pixels::Own(bytes) => Arc::get_mut(bytes).map_or(&mut [], |b| b),
            Pixels::Lent(loan) => loan.bytes_mut(),
        }
    }

    /// Whether the pixels are the transport's shared memory (writing the frame then copies
    /// nothing); `false` for a buffer of this process.
    pub fn is_lent(&self) -> bool {
        matches!(self.pixels, Pixels::Lent(_))
    }

    /// The finished frame, stamped `timestamp` and numbered `frame_number`, to
    /// [`write`](Output::write). Its pixels are not copied.
    pub fn finish(self, timestamp: Timestamp, frame_number: u64) -> VideoFrame {
        let data = match self.pixels {
            Pixels::Own(bytes) => MessageBytes::Owned(bytes),
            Pixels::Lent(loan) => MessageBytes::borrowing(loan.share(), 0),
        };
        let size = (self.width, self.height, self.format);
        VideoFrame::from_checked(size, data, timestamp, frame_number)
    }
}

impl fmt::Debug for FrameBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameBuffer")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .field("lent", &self.is_lent())
            .finish()
    }
}

impl Output<VideoFrame> {
    /// A buffer for the next frame of this output, `width` x `height` pixels in `format`: the
    /// sample that will carry it to other processes when the output is published over `ipc`,
    /// else memory of this process (see [`FrameBuffer`]). Fill it,
    /// [`finish`](FrameBuffer::finish) it, write it:
    ///
    /// ```
    /// # use streamlib::{Output, PixelFormat, Timestamp, VideoFrame};
    /// # let out = Output::<VideoFrame>::new();
    /// let mut buffer = out.new_frame(1280, 720, PixelFormat::Rgba8)?;
    /// buffer.pixels_mut().fill(0x80); // draw here
    /// out.write(buffer.finish(Timestamp::from_nanos(0), 1));
    /// # Ok::<(), streamlib::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidMessage`](crate::Error::InvalidMessage) for a size no frame has: a zero
    /// width or height, an odd one for a 4:2:0 format, or one of more than `isize::MAX` bytes
    /// (as [`VideoFrame::new`]).
    pub fn new_frame(&self, width: u32, height: u32, format: PixelFormat) -> Result<FrameBuffer> {
        let len = VideoFrame::checked_len(width, height, format)?;
        Ok(match self.shared.lend(len) {
            Some(loan) => FrameBuffer {
                width,
                height,
                format,
                pixels: Pixels::Lent(loan),
            },
            None => FrameBuffer::own(width, height, format, len),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    /// Lends `Vec`s and counts what it lent and what came back shared.
    #[derive(Default)]
    struct Lends {
        lent: Mutex<Vec<usize>>,
    }

    struct VecLoan(Vec<u8>);

    impl Loan for VecLoan {
        fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.0
        }
        fn share(self: Box<Self>) -> SharedBytes {
            Arc::new(self.0)
        }
    }

    impl Lender for Lends {
        fn lend(&self, len: usize) -> Option<Box<dyn Loan>> {
            self.lent.lock().push(len);
            Some(Box::new(VecLoan(vec![0xEE; len])))
        }
    }

    #[test]
    fn without_a_lender_a_buffer_is_zeroed_memory_of_its_own() {
        let out = Output::<VideoFrame>::new();
        let mut buffer = out.new_frame(2, 2, PixelFormat::Rgb8).unwrap();
        assert!(!buffer.is_lent());
        assert_eq!(buffer.pixels_mut(), &[0; 12][..]);
        buffer.pixels_mut()[11] = 9;
        let frame = buffer.finish(Timestamp::from_nanos(5), 3);
        assert_eq!((frame.width(), frame.height()), (2, 2));
        assert_eq!(frame.format(), PixelFormat::Rgb8);
        assert_eq!(frame.data()[11], 9);
        assert_eq!(frame.timestamp(), Timestamp::from_nanos(5));
        assert_eq!(frame.frame_number(), 3);
    }

    #[test]
    fn a_lender_supplies_the_pixels_and_the_frame_keeps_them() {
        let out = Output::<VideoFrame>::new();
        let lends = Arc::new(Lends::default());
        out.shared.set_lender(1, lends.clone());
        let mut buffer = out.new_frame(4, 2, PixelFormat::I420).unwrap();
        assert!(buffer.is_lent());
        assert_eq!(*lends.lent.lock(), [12]);
        assert_eq!(
            buffer.pixels_mut(),
            &[0xEE; 12][..],
            "not cleared: the loan's bytes"
        );
        buffer.pixels_mut()[0] = 1;
        let lent_at = buffer.pixels_mut().as_ptr();
        let frame = buffer.finish(Timestamp::from_nanos(0), 0);
        assert_eq!(
            frame.data().as_ptr(),
            lent_at,
            "the frame reads the lent bytes"
        );
        assert_eq!(frame.data()[0], 1);

        out.shared.remove_lender(1);
        assert!(!out.new_frame(4, 2, PixelFormat::I420).unwrap().is_lent());
        assert_eq!(lends.lent.lock().len(), 1, "a removed lender is not asked");
    }

    #[test]
    fn a_size_no_frame_has_is_a_typed_error_before_anything_is_lent() {
        let out = Output::<VideoFrame>::new();
        let lends = Arc::new(Lends::default());
        out.shared.set_lender(1, lends.clone());
        for (w, h, format) in [
            (0, 4, PixelFormat::Rgba8),
            (3, 2, PixelFormat::I420),
            (u32::MAX, u32::MAX, PixelFormat::Rgba8),
            (u32::MAX, (1 << 31) + 1, PixelFormat::Gray8), // fits usize, not an allocation
        ] {
            let error = out.new_frame(w, h, format).unwrap_err();
            assert!(
                matches!(error, crate::Error::InvalidMessage { .. }),
                "{w}x{h} {format}: {error}"
            );
            assert!(error.to_string().contains(&format!("{w}x{h}")), "{error}");
        }
        assert!(lends.lent.lock().is_empty());
    }
}
