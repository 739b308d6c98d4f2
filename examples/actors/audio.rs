//! Audio: [`AudioTone`], a sine source, and [`AudioMeter`], a level meter — a second media type
//! with a clock of its own.
//!
//! Audio actors tick at a buffer rate, not a picture rate: at 100 ticks per second and 48 kHz
//! each tick carries 480 sample frames (10 ms). The tone computes which samples a tick covers
//! from the tick's frame number on the clock's exact grid ([`samples_of_tick`]), so buffers join
//! without a gap or an overlap however the rate divides, and the phase of the sine never jumps.
//! A skipped tick (the machine stalled) is a gap in the audio, as it is with a real device.

use std::f64::consts::TAU;

use streamlib::prelude::*;
use streamlib::{AudioBuffer, Rate};

/// Sends a sine wave, one buffer per tick (100 ticks per second unless spawned on another clock).
#[actor(fps = 100)]
pub struct AudioTone {
    /// Interleaved `f32` samples, the same wave on every channel.
    #[output]
    pub audio: Output<AudioBuffer>,
    frequency: f64,
    amplitude: f32,
    sample_rate: u32,
    channels: u16,
}

impl AudioTone {
    /// A `frequency` Hz sine at half full scale (−6 dBFS peak), 48 kHz stereo.
    pub fn new(frequency: f64) -> AudioTone {
        AudioTone {
            audio: Output::new(),
            frequency,
            amplitude: 0.5,
            sample_rate: 48_000,
            channels: 2,
        }
    }

    /// Peak amplitude, 0.0–1.0 of full scale.
    pub fn with_amplitude(mut self, amplitude: f32) -> AudioTone {
        self.amplitude = amplitude;
        self
    }

    /// Sample rate and channel count.
    pub fn with_format(mut self, sample_rate: u32, channels: u16) -> AudioTone {
        self.sample_rate = sample_rate;
        self.channels = channels;
        self
    }
}

impl Process for AudioTone {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let span = samples_of_tick(tick.rate, tick.frame_number, self.sample_rate);
        let channels = usize::from(self.channels);
        let samples: Vec<f32> = span
            .flat_map(|n| std::iter::repeat_n(self.sample(n), channels))
            .collect();
        let buffer = AudioBuffer::new(
            samples,
            self.channels,
            self.sample_rate,
            tick.timestamp,
            tick.frame_number,
        )?;
        self.audio.write(buffer);
        Ok(())
    }
}

impl AudioTone {
    /// The value of sample frame `n` (counted from the clock's frame 0).
    fn sample(&self, n: u64) -> f32 {
        let t = n as f64 / f64::from(self.sample_rate);
        self.amplitude * (TAU * self.frequency * t).sin() as f32
    }
}

/// The sample frames `[start, end)` that tick `frame_number` of a clock at `rate` covers, at
/// `sample_rate`: from the sample due at the tick to the one due at the next.
pub fn samples_of_tick(rate: Rate, frame_number: u64, sample_rate: u32) -> std::ops::Range<u64> {
    let at = |frame: u64| {
        let samples = u128::from(frame) * u128::from(rate.den()) * u128::from(sample_rate)
            / u128::from(rate.num());
        u64::try_from(samples).unwrap_or(u64::MAX)
    };
    at(frame_number)..at(frame_number + 1)
}

/// The level of one buffer, over all its channels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AudioLevel {
    /// Root mean square, 0.0–1.0 of full scale.
    pub rms: f32,
    /// Largest absolute sample, 0.0–1.0 of full scale.
    pub peak: f32,
    /// Sample frames measured.
    pub frames: usize,
}

impl AudioLevel {
    /// Measures `buffer`.
    pub fn measure(buffer: &AudioBuffer) -> AudioLevel {
        let samples = buffer.samples();
        let peak = samples.iter().fold(0.0f32, |peak, s| peak.max(s.abs()));
        let power: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        let rms = (power / samples.len().max(1) as f64).sqrt() as f32;
        AudioLevel {
            rms,
            peak,
            frames: buffer.frames(),
        }
    }

    /// RMS in dB relative to full scale (−∞ for silence).
    pub fn rms_dbfs(&self) -> f32 {
        20.0 * self.rms.log10()
    }

    /// Peak in dB relative to full scale.
    pub fn peak_dbfs(&self) -> f32 {
        20.0 * self.peak.log10()
    }

    /// A text meter `width` characters wide, −60 to 0 dBFS: `#` up to the RMS, `|` at the peak.
    pub fn bar(&self, width: usize) -> String {
        let position = |db: f32| (((db + 60.0) / 60.0).clamp(0.0, 1.0) * width as f32) as usize;
        let (rms, peak) = (position(self.rms_dbfs()), position(self.peak_dbfs()));
        (0..width)
            .map(|i| match i {
                i if i < rms => '#',
                i if peak > 0 && i + 1 == peak => '|',
                _ => '.',
            })
            .collect()
    }
}

/// Measures each new buffer of its input; ticks with the audio (100 per second by default).
#[actor(fps = 100)]
#[derive(Default)]
pub struct AudioMeter {
    /// The audio to measure.
    #[input]
    pub audio: Input<AudioBuffer>,
    /// The level of the newest buffer.
    #[output]
    pub level: Output<AudioLevel>,
}

impl Process for AudioMeter {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(buffer) = self.audio.read_new() {
            self.level.write(AudioLevel::measure(&buffer));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamlib::Timestamp;

    #[test]
    fn ticks_cover_the_samples_without_gaps() {
        let rate = Rate::fps(100).unwrap();
        assert_eq!(samples_of_tick(rate, 0, 48_000), 0..480);
        assert_eq!(samples_of_tick(rate, 7, 48_000), 3360..3840);
        // 44.1 kHz at 29.97 ticks per second: uneven buffers that still join up.
        let ntsc = Rate::new(30000, 1001).unwrap();
        let mut end = 0;
        for frame in 0..1000 {
            let span = samples_of_tick(ntsc, frame, 44_100);
            assert_eq!(span.start, end);
            assert!((1471..=1472).contains(&(span.end - span.start)));
            end = span.end;
        }
    }

    #[test]
    fn a_sine_at_half_scale_measures_minus_6_and_minus_9_dbfs() {
        let samples: Vec<f32> = (0..4800)
            .map(|n| 0.5 * (TAU * 1000.0 * n as f64 / 48_000.0).sin() as f32)
            .collect();
        let buffer = AudioBuffer::new(samples, 1, 48_000, Timestamp::from_nanos(0), 0).unwrap();
        let level = AudioLevel::measure(&buffer);
        assert!((level.peak - 0.5).abs() < 1e-3);
        assert!((level.rms - 0.5 / 2f32.sqrt()).abs() < 1e-3);
        assert!((level.peak_dbfs() + 6.02).abs() < 0.05);
        assert!((level.rms_dbfs() + 9.03).abs() < 0.05);
        assert_eq!(level.frames, 4800);
        let bar = level.bar(20);
        assert_eq!(bar.len(), 20);
        assert!(bar.starts_with("##########"), "{bar}");
        assert_eq!(bar.find('|'), Some(16), "{bar}");
    }

    #[test]
    fn silence_is_an_empty_meter() {
        let buffer =
            AudioBuffer::new(vec![0.0; 10], 2, 48_000, Timestamp::from_nanos(0), 0).unwrap();
        let level = AudioLevel::measure(&buffer);
        assert_eq!((level.rms, level.peak), (0.0, 0.0));
        assert_eq!(level.bar(5), ".....");
    }
}
