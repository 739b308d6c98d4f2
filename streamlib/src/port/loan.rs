//! Frames and byte messages drawn straight into the memory they are sent from.
//!
//! A camera or a renderer that fills a frame and writes it to an output published to other
//! processes would otherwise copy every frame once more, into the transport's shared memory.
//! [`Output::new_frame`] hands the actor a [`FrameBuffer`] to fill instead: while the output is
//! published over `ipc` (iceoryx2), its pixels are already a shared-memory sample of the
//! output's service, and writing the finished frame sends that sample as it is — no copy on
//! either side. Elsewhere (see [`FrameBuffer`]) it is an ordinary buffer of this process, and the
//! frame is sent as any other. [`Output::new_message`] and [`MessageBuffer`] do the same for a
//! [`DataMessage`]'s bytes (a point cloud, a tensor, an encoded packet).
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
//! **The bytes are not cleared.** A buffer lent by the transport holds whatever an earlier
//! value left in that sample (a buffer of this process starts zeroed): write every byte.

use std::fmt;
use std::sync::Arc;

use super::{Output, OutputShared};
use crate::codec::{data_head_len, VIDEO_HEADER_LEN};
use crate::error::{Error, Result};
use crate::message::{DataMessage, MessageBytes, PixelFormat, SharedBytes, VideoFrame};
use crate::timestamp::Timestamp;

/// Memory an engine lends for the bytes of values an output is about to write (set on the
/// output with [`OutputShared::set_lender`]).
pub(crate) trait Lender: Send + Sync {
    /// `len` writable bytes in the engine's memory, after `head` bytes it keeps free for the
    /// value's encoded head (what the value's codec writes before these bytes: its
    /// `encode_head`), or `None` when it has none to lend now.
    fn lend(&self, head: usize, len: usize) -> Option<Box<dyn Loan>>;
}

/// One lent buffer: written through [`bytes_mut`](Self::bytes_mut) while it is the actor's,
/// then [`share`](Self::share)d as the bytes of the value written.
pub(crate) trait Loan: Send {
    /// The lent bytes, exactly the `len` asked for.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// The bytes, now read-only, kept alive by whoever holds them.
    fn share(self: Box<Self>) -> SharedBytes;
}

/// The memory a buffer is drawn or filled in: lent by the output's lender, or this process's.
enum Memory {
    /// This process's memory; the `Arc` is not shared before `finish`.
    Own(Arc<[u8]>),
    /// Lent by the engine that sends the output's values.
    Lent(Box<dyn Loan>),
}

/// From this length on, memory of the process is asked of the allocator fallibly first.
const ASK_FIRST_FROM: usize = 1 << 20;

impl Memory {
    /// `len` bytes lent by `output`'s lender with `head` bytes kept free in front, else zeroes
    /// of this process.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] (for `kind`, naming the value `what`) when the process cannot
    /// allocate `len` bytes: a length the allocator refuses (as Linux does for one beyond what
    /// memory and swap could ever hold) is an error here, not an abort. Lengths of 1 MiB and
    /// more are asked for fallibly first, then allocated (one `mmap` and `munmap` more, beside
    /// writing a megabyte of zeroes).
    fn for_value<T>(
        output: &OutputShared<T>,
        (kind, what): (&'static str, impl FnOnce() -> String),
        head: usize,
        len: usize,
    ) -> Result<Memory> {
        if let Some(loan) = output.lend(head, len) {
            return Ok(Memory::Lent(loan));
        }
        if len >= ASK_FIRST_FROM && Vec::<u8>::new().try_reserve_exact(len).is_err() {
            return Err(Error::InvalidMessage {
                kind,
                reason: format!(
                    "{} needs {len} bytes, which this process cannot allocate",
                    what()
                ),
            });
        }
        // Zeroes written once, in place (an iterator of known length makes one allocation).
        Ok(Memory::Own(std::iter::repeat_n(0, len).collect()))
    }

    fn as_mut(&mut self) -> &mut [u8] {
        match self {
            // Never shared before `finish`, so `get_mut` always finds it unique.
            Memory::Own(bytes) => Arc::get_mut(bytes).map_or(&mut [], |b| b),
            Memory::Lent(loan) => loan.bytes_mut(),
        }
    }

    fn is_lent(&self) -> bool {
        matches!(self, Memory::Lent(_))
    }

    /// The bytes for the finished value; not copied.
    fn finish(self) -> MessageBytes {
        match self {
            Memory::Own(bytes) => MessageBytes::Owned(bytes),
            Memory::Lent(loan) => MessageBytes::borrowing(loan.share(), 0),
        }
    }
}

/// A frame being drawn: its size and format are set, its pixels are the caller's to fill
/// ([`pixels_mut`](Self::pixels_mut)), and [`finish`](Self::finish) makes it a [`VideoFrame`]
/// to write. Made by [`Output::new_frame`].
///
/// While the output is published over `ipc` (iceoryx2), the pixels are already a shared-memory
/// sample of the output's service ([`is_lent`](Self::is_lent)), and writing the finished frame
/// sends that sample as it is: written once, by the actor, and read in place by every reader,
/// in this process and in others. Elsewhere it is an ordinary buffer of this process, zeroed
/// (a size the allocator refuses is an error, not an abort), and the frame is sent as any other: without `ipc`, before the actor is announced, for a
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
    pixels: Memory,
}

impl FrameBuffer {
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
        self.pixels.as_mut()
    }

    /// Whether the pixels are the transport's shared memory (writing the frame then copies
    /// nothing); `false` for a buffer of this process.
    pub fn is_lent(&self) -> bool {
        self.pixels.is_lent()
    }

    /// The finished frame, stamped `timestamp` and numbered `frame_number`, to
    /// [`write`](Output::write). Its pixels are not copied.
    pub fn finish(self, timestamp: Timestamp, frame_number: u64) -> VideoFrame {
        let size = (self.width, self.height, self.format);
        VideoFrame::from_checked(size, self.pixels.finish(), timestamp, frame_number)
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
    /// [`Error::InvalidMessage`] for a size no frame has: a zero width or height, an odd one
    /// for a 4:2:0 format, or one of more than `isize::MAX` bytes (as [`VideoFrame::new`]);
    /// and for one whose pixels this process cannot allocate (see [`FrameBuffer`]).
    pub fn new_frame(&self, width: u32, height: u32, format: PixelFormat) -> Result<FrameBuffer> {
        let len = VideoFrame::checked_len(width, height, format)?;
        Ok(FrameBuffer {
            width,
            height,
            format,
            pixels: Memory::for_value(
                &self.shared,
                ("VideoFrame", || {
                    format!("a {width}x{height} {format} frame")
                }),
                VIDEO_HEADER_LEN,
                len,
            )?,
        })
    }
}

/// A [`DataMessage`] being filled: its topic and length are set, its bytes are the caller's to
/// write ([`bytes_mut`](Self::bytes_mut)), and [`finish`](Self::finish) makes it the message to
/// write. Made by [`Output::new_message`].
///
/// It lends and falls back exactly as [`FrameBuffer`] does: while the output is published over
/// `ipc`, a message of 4 KiB or more is filled in the shared-memory sample that carries it and
/// read in place by every reader, in this process and in others
/// ([`is_lent`](Self::is_lent)); otherwise its bytes are zeroed memory of this process, copied
/// into a sample at `write` as any message's. The same counters
/// (`streamlib::ipc::frames_sent_in_place`, `lent_frames_copied`) count lent messages too. A
/// finished message borrows the memory it was filled in, as a received one borrows its sample:
/// [`DataMessage::bytes_arc`] copies the bytes of a lent one (once).
///
/// **A lent buffer is not cleared**: it holds whatever an earlier message left in that sample.
/// Write every byte.
pub struct MessageBuffer {
    topic: Arc<str>,
    bytes: Memory,
}

impl MessageBuffer {
    /// The message's topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The bytes to fill, exactly the length asked for. A lent buffer holds what an earlier
    /// message left there: write them all.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.bytes.as_mut()
    }

    /// Whether the bytes are the transport's shared memory (writing the message then copies
    /// nothing); `false` for a buffer of this process.
    pub fn is_lent(&self) -> bool {
        self.bytes.is_lent()
    }

    /// The finished message, stamped `timestamp`, to [`write`](Output::write). Its bytes are
    /// not copied.
    pub fn finish(self, timestamp: Timestamp) -> DataMessage {
        DataMessage::from_checked(self.topic, self.bytes.finish(), timestamp)
    }
}

impl fmt::Debug for MessageBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageBuffer")
            .field("topic", &self.topic)
            .field("lent", &self.is_lent())
            .finish()
    }
}

impl Output<DataMessage> {
    /// A buffer for the next message of this output: `len` bytes under `topic`, in the sample
    /// that will carry them to other processes when the output is published over `ipc`, else
    /// memory of this process (see [`MessageBuffer`]). Fill it,
    /// [`finish`](MessageBuffer::finish) it, write it:
    ///
    /// ```
    /// # use streamlib::{DataMessage, Output, Timestamp};
    /// # let out = Output::<DataMessage>::new();
    /// let mut buffer = out.new_message("lidar/front", 64 * 1024)?;
    /// buffer.bytes_mut().fill(7); // fill every byte here
    /// out.write(buffer.finish(Timestamp::from_nanos(0)));
    /// # Ok::<(), streamlib::Error>(())
    /// ```
    ///
    /// A topic kept as an `Arc<str>` by the actor is shared, not copied, by every message.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for a topic no message may have (as [`DataMessage::new`]),
    /// before anything is lent, and for a length this process cannot allocate when the buffer
    /// is not lent (any over `isize::MAX` bytes among them; the transport lends none larger than
    /// its maximum message size).
    pub fn new_message(&self, topic: impl Into<Arc<str>>, len: usize) -> Result<MessageBuffer> {
        let topic = topic.into();
        DataMessage::check_topic(&topic)?;
        let head = data_head_len(&topic);
        let what = || format!("a message on {}", crate::error::quoted(&topic));
        let bytes = Memory::for_value(&self.shared, ("DataMessage", what), head, len)?;
        Ok(MessageBuffer { topic, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    /// Lends `Vec`s and records each loan's `(head, len)`.
    #[derive(Default)]
    struct Lends {
        lent: Mutex<Vec<(usize, usize)>>,
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
        /// Refuses over 1 MiB, as the ipc engine refuses over its maximum message size.
        fn lend(&self, head: usize, len: usize) -> Option<Box<dyn Loan>> {
            if len > 1 << 20 {
                return None;
            }
            self.lent.lock().push((head, len));
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
        assert_eq!(*lends.lent.lock(), [(VIDEO_HEADER_LEN, 12)]);
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
            (1 << 24, 1 << 24, PixelFormat::Gray8),        // 2^48 bytes: no process's address space
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

    #[test]
    fn a_message_buffer_is_lent_after_room_for_the_encoded_topic() {
        let out = Output::<DataMessage>::new();
        let mut own = out.new_message("imu", 3).unwrap();
        assert!(!own.is_lent());
        assert_eq!(own.bytes_mut(), &[0; 3][..], "memory of its own is zeroed");
        own.bytes_mut().copy_from_slice(b"abc");
        let message = own.finish(Timestamp::from_nanos(4));
        assert_eq!(
            (message.topic(), message.bytes(), message.timestamp()),
            ("imu", &b"abc"[..], Timestamp::from_nanos(4))
        );

        let lends = Arc::new(Lends::default());
        out.shared.set_lender(1, lends.clone());
        let mut buffer = out.new_message("lidar/front", 5).unwrap();
        assert!(buffer.is_lent());
        assert_eq!(buffer.topic(), "lidar/front");
        assert_eq!(*lends.lent.lock(), [(data_head_len("lidar/front"), 5)]);
        assert_eq!(buffer.bytes_mut(), &[0xEE; 5][..], "not cleared");
        buffer.bytes_mut().copy_from_slice(b"12345");
        let lent_at = buffer.bytes_mut().as_ptr();
        out.write(buffer.finish(Timestamp::from_nanos(9)));
        let read = out.to_ref().read_latest().unwrap();
        assert_eq!(
            read.bytes().as_ptr(),
            lent_at,
            "the message reads the lent bytes"
        );
        assert_eq!((read.topic(), read.bytes()), ("lidar/front", &b"12345"[..]));
    }

    #[test]
    fn a_topic_or_length_no_message_has_is_a_typed_error_before_anything_is_lent() {
        let out = Output::<DataMessage>::new();
        let lends = Arc::new(Lends::default());
        out.shared.set_lender(1, lends.clone());
        for (topic, len, names) in [
            ("", 8, "topic is empty"),
            ("a\u{202E}b", 8, "U+202E"),
            ("ok", usize::MAX, &*usize::MAX.to_string()),
            ("ok", isize::MAX as usize, &*isize::MAX.to_string()),
            // Beyond any process's address space (47 bits), whatever the kernel's overcommit.
            (
                "ok",
                1 << 48,
                "message on \"ok\" needs 281474976710656 bytes",
            ),
        ] {
            let error = out.new_message(topic, len).unwrap_err();
            assert!(
                matches!(error, crate::Error::InvalidMessage { .. }),
                "{topic:?} {len}: {error}"
            );
            assert!(error.to_string().contains(names), "{error}");
        }
        assert!(lends.lent.lock().is_empty());
    }
}
