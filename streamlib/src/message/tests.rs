//! Tests of the message types.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

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
    let duration = |frames: usize, rate: u32| audio(vec![0.0; frames], 1, rate).unwrap().duration();
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
