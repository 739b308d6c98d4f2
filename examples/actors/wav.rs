//! WAV files: [`WavWriter`], [`inspect`], and the [`WavRecorder`] sink.
//!
//! 16-bit PCM in a RIFF container, the format every audio tool opens. The header's sizes are
//! unknown until the end, so they are written as zero and patched by [`WavWriter::finish`].

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use streamlib::prelude::*;
use streamlib::{ActorError, AudioBuffer};

use super::y4m::RecordingProgress;

const HEADER_BYTES: u32 = 44;

/// Writes `f32` samples as a 16-bit PCM WAV stream.
pub struct WavWriter<W: Write + Seek> {
    out: W,
    channels: u16,
    sample_rate: u32,
    data_bytes: u32,
}

impl<W: Write + Seek> WavWriter<W> {
    /// Writes the header of a `channels`-channel stream at `sample_rate` Hz.
    pub fn new(mut out: W, channels: u16, sample_rate: u32) -> io::Result<Self> {
        write_header(&mut out, channels, sample_rate, 0)?;
        Ok(WavWriter {
            out,
            channels,
            sample_rate,
            data_bytes: 0,
        })
    }

    /// Appends interleaved samples (−1.0–1.0; beyond is clipped).
    pub fn write_samples(&mut self, samples: &[f32]) -> io::Result<()> {
        let bytes: Vec<u8> = samples
            .iter()
            .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes())
            .collect();
        self.out.write_all(&bytes)?;
        self.data_bytes = self.data_bytes.saturating_add(bytes.len() as u32);
        Ok(())
    }

    /// Bytes written so far, header included.
    pub fn bytes(&self) -> u64 {
        u64::from(HEADER_BYTES + self.data_bytes)
    }

    /// Patches the header's sizes, flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.seek(SeekFrom::Start(0))?;
        write_header(
            &mut self.out,
            self.channels,
            self.sample_rate,
            self.data_bytes,
        )?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_header(
    out: &mut impl Write,
    channels: u16,
    sample_rate: u32,
    data_bytes: u32,
) -> io::Result<()> {
    let block_align = channels * 2;
    let mut header = Vec::with_capacity(HEADER_BYTES as usize);
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&(HEADER_BYTES - 8 + data_bytes).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes()); // size of the fmt chunk
    header.extend_from_slice(&1u16.to_le_bytes()); // PCM
    header.extend_from_slice(&channels.to_le_bytes());
    header.extend_from_slice(&sample_rate.to_le_bytes());
    header.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
    header.extend_from_slice(&block_align.to_le_bytes());
    header.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_bytes.to_le_bytes());
    out.write_all(&header)
}

/// What the header of a WAV file written by [`WavWriter`] says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WavInfo {
    /// Channels.
    pub channels: u16,
    /// Sample frames per second.
    pub sample_rate: u32,
    /// Sample frames in the file.
    pub frames: u64,
    /// The samples, interleaved.
    pub samples: Vec<i16>,
}

/// Reads a 16-bit PCM WAV file with the canonical 44-byte header.
pub fn inspect(path: impl AsRef<Path>) -> io::Result<WavInfo> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    if bytes.len() < HEADER_BYTES as usize
        || &bytes[0..4] != b"RIFF"
        || &bytes[8..16] != b"WAVEfmt "
    {
        return Err(invalid("not a canonical WAV file"));
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let (channels, sample_rate, bits, data_bytes) =
        (u16_at(22), u32_at(24), u16_at(34), u32_at(40));
    if bits != 16 || channels == 0 || &bytes[36..40] != b"data" {
        return Err(invalid("not 16-bit PCM"));
    }
    let data = &bytes[HEADER_BYTES as usize..];
    if data.len() != data_bytes as usize {
        return Err(invalid(
            "the data size in the header does not match the file",
        ));
    }
    let samples: Vec<i16> = data
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    Ok(WavInfo {
        channels,
        sample_rate,
        frames: samples.len() as u64 / u64::from(channels),
        samples,
    })
}

/// Records its input as a 16-bit WAV file; the format is taken from the first buffer.
///
/// Audio buffers are small (480 stereo frames are 1.9 kB), so they are written in `process`
/// through a buffered file; the header is completed when the actor stops.
#[actor(fps = 100)]
pub struct WavRecorder {
    /// The audio to record.
    #[input]
    pub audio: Input<AudioBuffer>,
    /// Counters (`received` and `written` count buffers), and a last `finished` one at stop.
    #[output]
    pub progress: Output<RecordingProgress>,
    path: PathBuf,
    writer: Option<WavWriter<BufWriter<File>>>,
    counts: RecordingProgress,
}

impl WavRecorder {
    /// Records to `path`.
    pub fn new(path: impl Into<PathBuf>) -> WavRecorder {
        WavRecorder {
            audio: Input::new(),
            progress: Output::new(),
            path: path.into(),
            writer: None,
            counts: RecordingProgress::default(),
        }
    }

    /// The file's writer, created with the format of the first buffer; later buffers must
    /// have the same format.
    fn writer(
        &mut self,
        buffer: &AudioBuffer,
    ) -> Result<&mut WavWriter<BufWriter<File>>, ActorError> {
        let format = (buffer.channels(), buffer.sample_rate());
        if self.writer.is_none() {
            let file = BufWriter::new(File::create(&self.path)?);
            self.writer = Some(WavWriter::new(file, format.0, format.1)?);
        }
        let writer = self.writer.as_mut().expect("created above");
        if format != (writer.channels, writer.sample_rate) {
            return Err(ActorError::msg(format!(
                "{} channels at {} Hz after a recording started with {} at {} Hz",
                format.0, format.1, writer.channels, writer.sample_rate
            )));
        }
        Ok(writer)
    }

    fn progress(&self, finished: bool) -> RecordingProgress {
        RecordingProgress {
            path: self.path.clone(),
            written: self.counts.received,
            bytes: self.writer.as_ref().map_or(0, WavWriter::bytes),
            finished,
            ..self.counts.clone()
        }
    }
}

impl Process for WavRecorder {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let Some(buffer) = self.audio.read_new() else {
            return Ok(());
        };
        self.writer(&buffer)?.write_samples(buffer.samples())?;
        self.counts.receive(buffer.frame_number());
        self.progress.write(self.progress(false));
        Ok(())
    }

    fn on_stop(&mut self) -> ProcessResult {
        let progress = self.progress(true);
        if let Some(writer) = self.writer.take() {
            writer.finish()?;
            tracing::info!(path = %self.path.display(), buffers = self.counts.received, "WAV recording complete");
        }
        self.progress.write(progress);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_round_trip_through_a_file() {
        let dir = std::env::temp_dir().join(format!("streamlib-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tone.wav");
        let mut writer =
            WavWriter::new(BufWriter::new(File::create(&path).unwrap()), 2, 48_000).unwrap();
        writer.write_samples(&[0.0, 0.5, -0.5, 1.0]).unwrap();
        writer.write_samples(&[2.0, -2.0]).unwrap();
        assert_eq!(writer.bytes(), 44 + 12);
        writer.finish().unwrap();
        let info = inspect(&path).unwrap();
        assert_eq!(
            (info.channels, info.sample_rate, info.frames),
            (2, 48_000, 3)
        );
        assert_eq!(info.samples, [0, 16384, -16384, 32767, 32767, -32767]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 56);
    }

    #[test]
    fn an_unfinished_header_is_refused() {
        let dir = std::env::temp_dir().join(format!("streamlib-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("unfinished.wav");
        let mut writer = WavWriter::new(std::io::Cursor::new(Vec::new()), 1, 8000).unwrap();
        writer.write_samples(&[0.1; 10]).unwrap();
        std::fs::write(&path, writer.out.into_inner()).unwrap();
        assert!(inspect(&path).is_err());
    }
}
