//! Interleaved audio buffers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{invalid, NANOS_PER_SECOND};
use crate::error::Result;
use crate::timestamp::Timestamp;

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
    /// [`Error::InvalidMessage`](crate::Error::InvalidMessage) if `channels` or `sample_rate` is zero, the sample count is not a
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
