//! Recording port values into MCAP files and replaying them (feature `record`).
//!
//! [MCAP](https://mcap.dev) is the open container format of robotics logs: Foxglove, the `mcap`
//! command-line tool and the `mcap` libraries of several languages open the files written here.
//!
//! - A [`Recorder`] taps chosen outputs ([`Recorder::record`]): every value written on them is
//!   stored with the frame number and timestamp of the tick that wrote it. Recording never makes
//!   an actor late: the tap only hands an `Arc` of the value to a bounded queue (no copy, no
//!   allocation, no lock but the output's tap list); a writer thread encodes and writes. When the
//!   disk cannot keep up and the queue is full, values are **dropped and counted**
//!   ([`RecorderStats::dropped`]), never waited for.
//! - A [`Recording`] reads a file back ([`Recording::open`], or [`Recording::open_prefix`] for
//!   the readable part of a damaged one); [`Recording::values`] decodes a channel and
//!   [`Recording::replay`] gives a [`Replay`] actor that writes a channel's values into a
//!   pipeline in place of the actor that produced them: tick `k` of the replay writes the values
//!   recorded at frame `first_frame + k`. On a [`ManualClock`](crate::ManualClock) that runs as
//!   fast as the machine goes and deterministically; on a clock of the recorded rate it plays in
//!   real time. Actors that are deterministic functions of their inputs reproduce their recorded
//!   outputs bit for bit.
//!
//! # File layout
//!
//! | MCAP record | streamlib's use |
//! |---|---|
//! | Header | profile `""`, library `streamlib <version>` |
//! | Schema | one per payload type: name = [`Codec::PAYLOAD_TYPE`](crate::Codec::PAYLOAD_TYPE) (e.g. `i64`, `streamlib.VideoFrame`), encoding [`SCHEMA_ENCODING`], data: a UTF-8 line naming the codec |
//! | Channel | one per recorded port: topic = the port's URI (`actor://local/Camera/cam0.video`), message encoding [`MESSAGE_ENCODING`], metadata `payload_type` |
//! | Message | log time = publish time = the writing tick's timestamp (ns of its clock); sequence = the port's value count from 1 (a gap is a dropped value); data = frame number (`u64` little-endian) then the value's [`Codec`](crate::Codec) encoding |
//! | Chunk | uncompressed (no C library in the build), each with its CRC; indexes and summary as the `mcap` crate writes them |
//!
//! **Video in Foxglove.** A `VideoFrame` channel uses the same streamlib encoding (the codec's
//! `VideoFrame` layout: width, height, pixel format, timestamp, frame number, then the pixel
//! bytes), so replay reproduces every field exactly; Foxglove lists such a channel but cannot
//! draw it. [`Recorder::record_image`] adds a second channel, `<port URI>/image`, in the
//! standard schema Foxglove's Image panel draws: ROS 2 **`sensor_msgs/msg/Image`** (schema
//! encoding `ros2msg`, message encoding `cdr`; `header.stamp` = the tick's timestamp, encodings
//! `rgba8`, `bgra8`, `rgb8`, `mono8`). It was chosen over `foxglove.RawImage` because that
//! schema needs a protobuf descriptor or JSON (base64 pixels), while `ros2msg`/CDR is plain text
//! and a few aligned integers, decoded by every ROS 2 MCAP reader. I420 and NV12 frames have no
//! `sensor_msgs` encoding and are not mirrored.
//!
//! # Damaged files
//!
//! The reader frames every record itself, so an error names the byte offset where the damage
//! starts and, when it concerns one, the channel: a truncated file (a record running past the
//! end, a missing footer), a chunk whose CRC does not match, a compressed chunk, a channel of an
//! unknown schema, a message of an unknown channel, a channel replayed as another payload type.
//! [`Recording::open`] fails with that [`Error::Recording`](crate::Error::Recording);
//! [`Recording::open_prefix`] keeps every record before the damage (whole chunks) and reports
//! the damage beside it, so the readable part still replays. Nothing in a file can make the
//! reader panic (a property test feeds it corrupted files).

mod image;
mod reader;
mod replay;
mod writer;

pub use reader::{Recorded, RecordedChannel, Recording};
pub use replay::{Replay, ReplayOutputs};
pub use writer::{Recorder, RecorderOptions, RecorderStats};

/// Schema encoding of streamlib's channels: the payload is a [`Codec`](crate::Codec) encoding.
pub const SCHEMA_ENCODING: &str = "streamlib.codec";

/// Message encoding of streamlib's channels: frame number (`u64` LE), then the codec bytes.
pub const MESSAGE_ENCODING: &str = "streamlib.codec.v1";

/// Bytes before the codec encoding in a message: the frame number.
pub(crate) const FRAME_PREFIX: usize = 8;
