//! `VideoFrame`s as ROS 2 `sensor_msgs/msg/Image` in CDR, for Foxglove's Image panel.
//!
//! CDR (OMG XCDR1, little-endian): a 4-byte encapsulation header `00 01 00 00`, then the fields
//! in order, each aligned to its size counted from after the header; strings are a `u32` length
//! including the terminating NUL, the bytes and the NUL; `uint8[]` is a `u32` count and the bytes.

use std::any::Any;

use crate::message::{PixelFormat, VideoFrame};
use crate::wire::Stamp;

/// The `ros2msg` schema of `sensor_msgs/msg/Image`, with its dependencies, as Foxglove and the
/// ROS 2 MCAP tools expect it.
pub(super) const SCHEMA: &str = "std_msgs/Header header
uint32 height
uint32 width
string encoding
uint8 is_bigendian
uint32 step
uint8[] data
================================================================================
MSG: std_msgs/Header
builtin_interfaces/Time stamp
string frame_id
================================================================================
MSG: builtin_interfaces/Time
int32 sec
uint32 nanosec
";

/// The `sensor_msgs` encoding of a packed format.
fn encoding(format: PixelFormat) -> Option<&'static str> {
    match format {
        PixelFormat::Rgba8 => Some("rgba8"),
        PixelFormat::Bgra8 => Some("bgra8"),
        PixelFormat::Rgb8 => Some("rgb8"),
        PixelFormat::Gray8 => Some("mono8"),
        PixelFormat::I420 | PixelFormat::Nv12 => None,
    }
}

/// Writes a `sensor_msgs/msg/Image` of the frame in `value`, stamped with the writing tick's
/// timestamp; nothing for a planar frame.
pub(super) fn encode(value: &(dyn Any + Send + Sync), stamp: Stamp, out: &mut Vec<u8>) {
    let Some(frame) = value.downcast_ref::<VideoFrame>() else {
        return;
    };
    let (Some(name), Some(step)) = (encoding(frame.format()), frame.stride()) else {
        return;
    };
    let nanos = stamp.timestamp.as_nanos();
    out.extend_from_slice(&[0, 1, 0, 0]);
    let mut cdr = Cdr { out, base: 4 };
    cdr.u32((nanos / 1_000_000_000).min(i32::MAX as u64) as u32); // sec (int32)
    cdr.u32((nanos % 1_000_000_000) as u32);
    cdr.string("");
    cdr.u32(frame.height());
    cdr.u32(frame.width());
    cdr.string(name);
    cdr.out.push(0); // is_bigendian
    cdr.u32(step as u32);
    cdr.u32(frame.data().len() as u32);
    cdr.out.extend_from_slice(frame.data());
}

struct Cdr<'a> {
    out: &'a mut Vec<u8>,
    /// Where alignment counts from (after the encapsulation header).
    base: usize,
}

impl Cdr<'_> {
    fn u32(&mut self, value: u32) {
        while !(self.out.len() - self.base).is_multiple_of(4) {
            self.out.push(0);
        }
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    fn string(&mut self, text: &str) {
        self.u32(text.len() as u32 + 1);
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;

    #[test]
    fn an_rgba_frame_encodes_field_by_field_with_cdr_alignment() {
        let frame = VideoFrame::new(
            2,
            1,
            PixelFormat::Rgba8,
            vec![1, 2, 3, 4, 5, 6, 7, 8],
            Timestamp::from_nanos(0),
            0,
        )
        .unwrap();
        let stamp = Stamp {
            frame_number: 3,
            timestamp: Timestamp::from_nanos(2_000_000_005),
        };
        let mut out = Vec::new();
        encode(&frame, stamp, &mut out);
        #[rustfmt::skip]
        let expected: Vec<u8> = [
            &[0u8, 1, 0, 0][..],          // encapsulation: CDR little-endian
            &2u32.to_le_bytes(), &5u32.to_le_bytes(), // stamp: 2 s 5 ns
            &1u32.to_le_bytes(), &[0, 0, 0, 0],       // frame_id "" (NUL), padded to 4
            &1u32.to_le_bytes(), &2u32.to_le_bytes(), // height, width
            &6u32.to_le_bytes(), b"rgba8\0",          // encoding
            &[0, 0],                                  // is_bigendian, 1 byte to align step
            &8u32.to_le_bytes(),                      // step: width × 4
            &8u32.to_le_bytes(), &[1, 2, 3, 4, 5, 6, 7, 8],
        ]
        .concat();
        assert_eq!(out, expected);

        let planar = VideoFrame::new(
            2,
            2,
            PixelFormat::I420,
            vec![0; 6],
            Timestamp::from_nanos(0),
            0,
        )
        .unwrap();
        let mut out = Vec::new();
        encode(&planar, stamp, &mut out);
        assert!(out.is_empty(), "I420 has no sensor_msgs encoding");
    }
}
