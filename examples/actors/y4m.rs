//! Y4M (YUV4MPEG2) video files: [`Y4mWriter`], [`inspect`] / [`read_frame`], and the
//! [`Y4mRecorder`] sink.
//!
//! Y4M is raw video with a one-line text header (`YUV4MPEG2 W1280 H720 F60:1 Ip A1:1 C420jpeg`)
//! and a `FRAME` line before each picture: no codec, so writing it costs a colour conversion and
//! a `write`, and ffmpeg, mpv, VLC and GStreamer play it as it is. Pixels are converted to
//! limited-range BT.601 Y′CbCr (the levels of [`color`](super::color)) by the `yuv` crate and
//! written as planes, 4:2:0 (RGB averaged over 2×2 pixels before conversion, the default) or
//! 4:4:4. Alpha is dropped: the recorder is meant for the opaque output of a
//! [`Compositor`](super::Compositor).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use streamlib::prelude::*;
use streamlib::{PixelFormat, Rate, VideoFrame};

use yuv::{
    BufferStoreMut, YuvConversionMode, YuvPlanarImage, YuvPlanarImageMut, YuvRange,
    YuvStandardMatrix,
};

use super::canvas::Canvas;

/// Chroma subsampling of a Y4M file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Chroma {
    /// 4:2:0, chroma sited as JPEG does (`C420jpeg`): half the size of 4:4:4.
    #[default]
    C420jpeg,
    /// 4:4:4 (`C444`): full-resolution chroma.
    C444,
}

impl Chroma {
    /// The header's tag, e.g. `C420jpeg`.
    pub fn tag(self) -> &'static str {
        match self {
            Chroma::C420jpeg => "C420jpeg",
            Chroma::C444 => "C444",
        }
    }

    /// Width and height of each chroma plane of a `width × height` picture.
    fn plane_size(self, width: u32, height: u32) -> (usize, usize) {
        match self {
            Chroma::C420jpeg => (width.div_ceil(2) as usize, height.div_ceil(2) as usize),
            Chroma::C444 => (width as usize, height as usize),
        }
    }

    /// Bytes of one picture (all planes) of a `width × height` frame.
    pub fn frame_bytes(self, width: u32, height: u32) -> usize {
        let (cw, ch) = self.plane_size(width, height);
        width as usize * height as usize + 2 * cw * ch
    }
}

/// Writes RGBA pictures as a Y4M stream.
pub struct Y4mWriter<W: Write> {
    out: W,
    width: u32,
    height: u32,
    chroma: Chroma,
    frames: u64,
    bytes: u64,
    /// The planes of one picture, reused from frame to frame.
    planes: Vec<u8>,
}

impl<W: Write> Y4mWriter<W> {
    /// Writes the header of a `width × height` stream at `rate`.
    pub fn new(
        mut out: W,
        width: u32,
        height: u32,
        rate: Rate,
        chroma: Chroma,
    ) -> io::Result<Self> {
        let header = format!(
            "YUV4MPEG2 W{width} H{height} F{}:{} Ip A1:1 {} XCOLORRANGE=LIMITED\n",
            rate.num(),
            rate.den(),
            chroma.tag()
        );
        out.write_all(header.as_bytes())?;
        Ok(Y4mWriter {
            out,
            width,
            height,
            chroma,
            frames: 0,
            bytes: header.len() as u64,
            planes: vec![0; chroma.frame_bytes(width, height)],
        })
    }

    /// Appends one picture given as RGBA8 bytes of the stream's size.
    pub fn write_rgba(&mut self, rgba: &[u8]) -> io::Result<()> {
        let expected = self.width as usize * self.height as usize * 4;
        if rgba.len() != expected {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a {}x{} Y4M frame needs {expected} RGBA bytes, got {}",
                    self.width,
                    self.height,
                    rgba.len()
                ),
            ));
        }
        to_planes(
            rgba,
            (self.width, self.height),
            self.chroma,
            &mut self.planes,
        );
        for part in [&b"FRAME\n"[..], &self.planes] {
            self.out.write_all(part)?;
            self.bytes += part.len() as u64;
        }
        self.frames += 1;
        Ok(())
    }

    /// Pictures written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes written so far, header included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// RGBA8 to Y′, Cb and Cr planes, one after the other in `planes` (limited-range BT.601).
pub(crate) fn to_planes(
    rgba: &[u8],
    (width, height): (u32, u32),
    chroma: Chroma,
    planes: &mut [u8],
) {
    let (cw, ch) = chroma.plane_size(width, height);
    let (y_plane, chroma_planes) = planes.split_at_mut(width as usize * height as usize);
    let (u_plane, v_plane) = chroma_planes.split_at_mut(cw * ch);
    let mut image = YuvPlanarImageMut {
        y_plane: BufferStoreMut::Borrowed(y_plane),
        y_stride: width,
        u_plane: BufferStoreMut::Borrowed(u_plane),
        u_stride: cw as u32,
        v_plane: BufferStoreMut::Borrowed(v_plane),
        v_stride: cw as u32,
        width,
        height,
    };
    let (range, matrix, mode) = (
        YuvRange::Limited,
        YuvStandardMatrix::Bt601,
        YuvConversionMode::Balanced,
    );
    let stride = width * 4;
    match chroma {
        Chroma::C420jpeg => yuv::rgba_to_yuv420(&mut image, rgba, stride, range, matrix, mode),
        Chroma::C444 => yuv::rgba_to_yuv444(&mut image, rgba, stride, range, matrix, mode),
    }
    .expect("planes sized for the picture");
}

/// What the header and the frame count of a Y4M file say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Y4mInfo {
    /// The header line, without its newline.
    pub header: String,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// Frame rate as `(num, den)`.
    pub rate: (u32, u32),
    /// Chroma subsampling.
    pub chroma: Chroma,
    /// Complete frames in the file.
    pub frames: u64,
}

/// Reads the header of the Y4M file at `path` and counts its frames (checking each `FRAME`
/// marker, skipping the pictures).
pub fn inspect(path: impl AsRef<Path>) -> io::Result<Y4mInfo> {
    let mut file = BufReader::new(File::open(path)?);
    let mut info = read_header(&mut file)?;
    let picture = info.chroma.frame_bytes(info.width, info.height) as i64;
    let mut line = Vec::new();
    loop {
        line.clear();
        if file.read_until(b'\n', &mut line)? == 0 {
            return Ok(info);
        }
        if !line.starts_with(b"FRAME") {
            return Err(invalid(format!(
                "frame {} has no FRAME marker",
                info.frames
            )));
        }
        let here = file.stream_position()?;
        let end = file.seek(SeekFrom::End(0))?;
        if end - here < picture as u64 {
            return Ok(info); // a truncated last frame does not count
        }
        file.seek(SeekFrom::Start(here + picture as u64))?;
        info.frames += 1;
    }
}

/// Frame `index` (from 0) of the Y4M file at `path`, converted back to RGBA.
pub fn read_frame(path: impl AsRef<Path>, index: u64) -> io::Result<Canvas> {
    let mut file = BufReader::new(File::open(path)?);
    let info = read_header(&mut file)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let (cw, ch) = info.chroma.plane_size(info.width, info.height);
    let mut line = Vec::new();
    let mut picture = vec![0u8; info.chroma.frame_bytes(info.width, info.height)];
    for _ in 0..=index {
        line.clear();
        file.read_until(b'\n', &mut line)?;
        if !line.starts_with(b"FRAME") {
            return Err(invalid(format!("no frame {index}")));
        }
        file.read_exact(&mut picture)?;
    }
    let (y_plane, chroma) = picture.split_at(w * h);
    let (u_plane, v_plane) = chroma.split_at(cw * ch);
    let image = YuvPlanarImage {
        y_plane,
        y_stride: info.width,
        u_plane,
        u_stride: cw as u32,
        v_plane,
        v_stride: cw as u32,
        width: info.width,
        height: info.height,
    };
    let mut rgba = vec![0; w * h * 4];
    let (range, matrix, stride) = (YuvRange::Limited, YuvStandardMatrix::Bt601, info.width * 4);
    match info.chroma {
        Chroma::C420jpeg => yuv::yuv420_to_rgba(&image, &mut rgba, stride, range, matrix),
        Chroma::C444 => yuv::yuv444_to_rgba(&image, &mut rgba, stride, range, matrix),
    }
    .map_err(|e| invalid(format!("frame {index}: {e}")))?;
    Ok(Canvas::from_rgba(info.width, info.height, rgba).expect("sized from the header"))
}

fn read_header(file: &mut impl BufRead) -> io::Result<Y4mInfo> {
    let mut line = String::new();
    file.read_line(&mut line)?;
    let header = line.trim_end_matches('\n').to_string();
    let mut parts = header.split(' ');
    if parts.next() != Some("YUV4MPEG2") {
        return Err(invalid(format!("not a Y4M header: {header:?}")));
    }
    let (mut width, mut height, mut rate, mut chroma) = (None, None, None, Chroma::C420jpeg);
    for part in parts {
        let (tag, value) = part.split_at(part.len().min(1));
        match tag {
            "W" => width = value.parse().ok(),
            "H" => height = value.parse().ok(),
            "F" => {
                rate = value
                    .split_once(':')
                    .and_then(|(n, d)| Some((n.parse().ok()?, d.parse().ok()?)))
            }
            "C" if value == "444" => chroma = Chroma::C444,
            "C" if value.starts_with("420") => chroma = Chroma::C420jpeg,
            "C" => return Err(invalid(format!("unsupported chroma C{value}"))),
            _ => {}
        }
    }
    match (width, height, rate) {
        (Some(width), Some(height), Some(rate)) => Ok(Y4mInfo {
            header,
            width,
            height,
            rate,
            chroma,
            frames: 0,
        }),
        _ => Err(invalid(format!("header lacks W, H or F: {header:?}"))),
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Counters of a recording, sent on [`Y4mRecorder`]'s `progress` port (and by
/// [`WavRecorder`](super::WavRecorder)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordingProgress {
    /// The file written.
    pub path: PathBuf,
    /// Frames (or audio buffers) the recorder received.
    pub received: u64,
    /// Frames written to the file so far.
    pub written: u64,
    /// Frames dropped because the writer thread was behind (or had failed).
    pub dropped: u64,
    /// Bytes in the file so far.
    pub bytes: u64,
    /// Whether the file is complete (the recorder stopped and flushed it).
    pub finished: bool,
    /// Frame number (tick of the sender's clock) of the first frame received.
    pub first_frame: Option<u64>,
    /// Frame number of the newest frame received. From `first_frame` to here the clock ticked
    /// `last_frame - first_frame + 1` times; frames it skipped are missing from the file.
    pub last_frame: Option<u64>,
}

impl RecordingProgress {
    /// Counts a received item with frame number `frame_number`.
    pub fn receive(&mut self, frame_number: u64) {
        self.received += 1;
        self.first_frame.get_or_insert(frame_number);
        self.last_frame = Some(frame_number);
    }
}

/// Records its input as a Y4M file, at the rate of its clock.
///
/// Each new frame is handed to a writer thread through a short queue, so `process` never waits
/// for the disk; when the queue is full the frame is dropped and counted in
/// [`RecordingProgress::dropped`]. The file is created at the first frame, sized from it; later
/// frames of another size are scaled to it. Stopping the actor flushes and closes the file.
#[actor]
pub struct Y4mRecorder {
    /// The frames to record.
    #[input]
    pub video: Input<VideoFrame>,
    /// Counters, after every frame and once more, `finished`, at stop.
    #[output]
    pub progress: Output<RecordingProgress>,
    path: PathBuf,
    chroma: Chroma,
    writer: Option<FrameWriter>,
}

impl Y4mRecorder {
    /// Records to `path` in 4:2:0.
    pub fn new(path: impl Into<PathBuf>) -> Y4mRecorder {
        Y4mRecorder {
            video: Input::new(),
            progress: Output::new(),
            path: path.into(),
            chroma: Chroma::C420jpeg,
            writer: None,
        }
    }

    /// Records with `chroma` subsampling instead.
    pub fn with_chroma(mut self, chroma: Chroma) -> Y4mRecorder {
        self.chroma = chroma;
        self
    }

    /// The writer thread, started (and the file created) at the first frame.
    fn writer(&mut self, first: &VideoFrame, rate: Rate) -> io::Result<&mut FrameWriter> {
        if self.writer.is_none() {
            let size = (first.width(), first.height());
            self.writer = Some(FrameWriter::start(&self.path, size, rate, self.chroma)?);
        }
        Ok(self.writer.as_mut().expect("started above"))
    }
}

impl Process for Y4mRecorder {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let Some(frame) = self.video.read_new() else {
            return Ok(());
        };
        let writer = self.writer(&frame, tick.rate)?;
        writer.send(frame);
        let progress = writer.progress();
        self.progress.write(progress);
        Ok(())
    }

    fn on_stop(&mut self) -> ProcessResult {
        if let Some(writer) = self.writer.take() {
            let progress = writer.finish()?;
            tracing::info!(path = %progress.path.display(), frames = progress.written, dropped = progress.dropped, "Y4M recording complete");
            self.progress.write(progress);
        }
        Ok(())
    }
}

/// The writer thread of a [`Y4mRecorder`] and its counters.
struct FrameWriter {
    queue: SyncSender<Arc<VideoFrame>>,
    thread: JoinHandle<io::Result<()>>,
    written: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    /// Counters kept on the actor's side (received, dropped, frame numbers).
    counts: RecordingProgress,
}

/// Frames the writer thread may be behind before frames are dropped.
const QUEUE: usize = 8;

impl FrameWriter {
    fn start(path: &Path, size: (u32, u32), rate: Rate, chroma: Chroma) -> io::Result<FrameWriter> {
        let file = BufWriter::new(File::create(path)?);
        let y4m = Y4mWriter::new(file, size.0, size.1, rate, chroma)?;
        let (queue, frames) = mpsc::sync_channel(QUEUE);
        let written = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(y4m.bytes()));
        let thread = {
            let (written, bytes) = (written.clone(), bytes.clone());
            std::thread::Builder::new()
                .name("y4m-writer".into())
                .spawn(move || write_frames(y4m, frames, &written, &bytes))?
        };
        Ok(FrameWriter {
            queue,
            thread,
            written,
            bytes,
            counts: RecordingProgress {
                path: path.to_path_buf(),
                ..RecordingProgress::default()
            },
        })
    }

    fn send(&mut self, frame: Arc<VideoFrame>) {
        self.counts.receive(frame.frame_number());
        // Full (the disk is behind) or disconnected (the writer failed): never wait.
        if self.queue.try_send(frame).is_err() {
            self.counts.dropped += 1;
        }
    }

    fn progress(&self) -> RecordingProgress {
        RecordingProgress {
            written: self.written.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            ..self.counts.clone()
        }
    }

    /// Closes the queue, waits for the thread to write what is queued, and flushes.
    fn finish(self) -> io::Result<RecordingProgress> {
        drop(self.queue);
        let outcome = self
            .thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the Y4M writer thread panicked")));
        outcome?;
        Ok(RecordingProgress {
            written: self.written.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            finished: true,
            ..self.counts
        })
    }
}

fn write_frames(
    mut y4m: Y4mWriter<BufWriter<File>>,
    frames: Receiver<Arc<VideoFrame>>,
    written: &AtomicU64,
    bytes: &AtomicU64,
) -> io::Result<()> {
    let size = (y4m.width, y4m.height);
    for frame in frames {
        if frame.format() == PixelFormat::Rgba8 && (frame.width(), frame.height()) == size {
            y4m.write_rgba(frame.data())?;
        } else {
            let canvas = Canvas::from_frame(&frame).map_err(io::Error::other)?;
            y4m.write_rgba(canvas.resized(size.0, size.1).pixels())?;
        }
        written.store(y4m.frames(), Ordering::Relaxed);
        bytes.store(y4m.bytes(), Ordering::Relaxed);
    }
    y4m.finish()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::test_pattern::{bar_center, smpte_bars, BARS_75};

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("streamlib-y4m-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn header_frames_and_colours_round_trip() {
        for chroma in [Chroma::C420jpeg, Chroma::C444] {
            let path = temp(&format!("bars-{}.y4m", chroma.tag()));
            let bars = smpte_bars(70, 41);
            let file = BufWriter::new(File::create(&path).unwrap());
            let mut writer =
                Y4mWriter::new(file, 70, 41, Rate::new(30000, 1001).unwrap(), chroma).unwrap();
            for _ in 0..3 {
                writer.write_rgba(bars.pixels()).unwrap();
            }
            let bytes = writer.bytes();
            writer.finish().unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().len(), bytes);

            let info = inspect(&path).unwrap();
            assert_eq!(
                (info.width, info.height, info.rate, info.frames),
                (70, 41, (30000, 1001), 3)
            );
            assert_eq!(info.chroma, chroma);
            assert_eq!(
                info.header,
                format!(
                    "YUV4MPEG2 W70 H41 F30000:1001 Ip A1:1 {} XCOLORRANGE=LIMITED",
                    chroma.tag()
                )
            );
            let frame = read_frame(&path, 2).unwrap();
            for (i, want) in BARS_75.iter().enumerate() {
                let got = frame.pixel(bar_center(70, i as u32), 5);
                for c in 0..3 {
                    assert!(
                        got[c].abs_diff(want[c]) <= 3,
                        "bar {i}: {got:?} vs {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_wrong_size_is_an_error_and_a_truncated_frame_does_not_count() {
        let path = temp("short.y4m");
        let mut writer =
            Y4mWriter::new(Vec::new(), 4, 4, Rate::fps(25).unwrap(), Chroma::C420jpeg).unwrap();
        assert!(writer.write_rgba(&[0; 8]).is_err());
        writer.write_rgba(&[0; 64]).unwrap();
        writer.write_rgba(&[0; 64]).unwrap();
        let mut bytes = writer.finish().unwrap();
        bytes.truncate(bytes.len() - 1);
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(inspect(&path).unwrap().frames, 1);
        assert_eq!(Chroma::C420jpeg.frame_bytes(5, 3), 15 + 2 * 3 * 2);
    }

    #[test]
    fn not_a_y4m_file() {
        let path = temp("not.y4m");
        std::fs::write(&path, b"RIFF....").unwrap();
        assert!(inspect(&path)
            .unwrap_err()
            .to_string()
            .contains("not a Y4M header"));
    }
}
