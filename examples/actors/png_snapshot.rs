//! [`PngSnapshot`]: a sink that writes frames of a stream as PNG files.
//!
//! Encoding a 1280×720 PNG takes tens of milliseconds, longer than a 60 fps tick, so snapshots
//! are encoded on a short-lived thread each and `process` only keeps the newest frame (an
//! `Arc`, no copy). Files are written beside their final name and renamed into place, so a
//! reader never sees half a picture.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use streamlib::prelude::*;
use streamlib::{ActorError, PixelFormat, Timestamp, VideoFrame};

use super::canvas::Canvas;

/// Writes the newest frame as a PNG every so often, and the last one when stopped.
///
/// With [`numbered`](PngSnapshot::numbered), each periodic snapshot gets a file of its own
/// (`demo-001.png`, `demo-002.png`, … beside `demo.png`; see [`numbered_path`]) and the
/// last frame goes to the path itself at stop; otherwise every snapshot overwrites the path.
/// A numbered series left by an earlier run is removed when the actor starts.
#[actor]
pub struct PngSnapshot {
    /// The frames to snapshot.
    #[input]
    pub video: Input<VideoFrame>,
    path: PathBuf,
    every: Duration,
    numbered: bool,
    taken: u32,
    next_at: Option<Timestamp>,
    last: Option<Arc<VideoFrame>>,
    writers: Vec<JoinHandle<io::Result<()>>>,
}

impl PngSnapshot {
    /// Snapshots to `path` once a second of clock time, and at stop.
    pub fn new(path: impl Into<PathBuf>) -> PngSnapshot {
        PngSnapshot {
            video: Input::new(),
            path: path.into(),
            every: Duration::from_secs(1),
            numbered: false,
            taken: 0,
            next_at: None,
            last: None,
            writers: Vec::new(),
        }
    }

    /// Snapshots every `interval` of clock time instead.
    pub fn every(mut self, interval: Duration) -> PngSnapshot {
        self.every = interval;
        self
    }

    /// Keeps each periodic snapshot in a numbered file of its own.
    pub fn numbered(mut self) -> PngSnapshot {
        self.numbered = true;
        self
    }
}

impl Process for PngSnapshot {
    fn on_start(&mut self) -> ProcessResult {
        if self.numbered {
            remove_series(&self.path)?;
        }
        Ok(())
    }

    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let Some(frame) = self.video.read_latest() else {
            return Ok(());
        };
        self.last = Some(frame.clone());
        let due = self.next_at.is_none_or(|at| tick.timestamp >= at);
        if due {
            self.taken += 1;
            self.next_at = Some(later(tick.timestamp, self.every));
            let path = if self.numbered {
                numbered_path(&self.path, self.taken)
            } else {
                self.path.clone()
            };
            self.writers
                .push(std::thread::spawn(move || save_png(&frame, &path)));
        }
        reap_finished(&mut self.writers);
        Ok(())
    }

    fn on_stop(&mut self) -> ProcessResult {
        for writer in self.writers.drain(..) {
            writer
                .join()
                .map_err(|_| ActorError::msg("a PNG writer thread panicked"))??;
        }
        if let Some(frame) = self.last.take() {
            save_png(&frame, &self.path)?;
            tracing::info!(path = %self.path.display(), frame = frame.frame_number(), "PNG snapshot written");
        }
        Ok(())
    }
}

/// `out/demo.png`, 3 → `out/demo-003.png`.
pub fn numbered_path(path: &Path, number: u32) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let extension = path.extension().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!("{stem}-{number:03}.{extension}"))
}

/// Removes `demo-001.png`, `demo-002.png`, … left by an earlier run, so that the numbered
/// files on disk are this run's only.
pub fn remove_series(path: &Path) -> io::Result<()> {
    for number in 1.. {
        match std::fs::remove_file(numbered_path(path, number)) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Encodes `frame` as an 8-bit RGBA PNG at `path` (written beside it, then renamed).
pub fn save_png(frame: &VideoFrame, path: &Path) -> io::Result<()> {
    let converted;
    let rgba = if frame.format() == PixelFormat::Rgba8 {
        frame.data()
    } else {
        converted = Canvas::from_frame(frame).map_err(io::Error::other)?;
        converted.pixels()
    };
    let partial = path.with_extension("png.partial");
    let file = BufWriter::new(File::create(&partial)?);
    PngEncoder::new_with_quality(file, CompressionType::Fast, FilterType::Adaptive)
        .write_image(
            rgba,
            frame.width(),
            frame.height(),
            ExtendedColorType::Rgba8,
        )
        .map_err(io::Error::other)?;
    std::fs::rename(&partial, path)
}

/// Joins the writer threads that are done, logging any failure.
fn reap_finished(writers: &mut Vec<JoinHandle<io::Result<()>>>) {
    let (done, running): (Vec<_>, Vec<_>) = writers.drain(..).partition(|w| w.is_finished());
    *writers = running;
    for writer in done {
        match writer.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "a PNG snapshot failed"),
            Err(_) => tracing::warn!("a PNG writer thread panicked"),
        }
    }
}

fn later(at: Timestamp, by: Duration) -> Timestamp {
    let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
    Timestamp::from_nanos(at.as_nanos().saturating_add(by))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_paths_sit_beside_the_path() {
        let path = Path::new("out/demo.png");
        assert_eq!(numbered_path(path, 3), Path::new("out/demo-003.png"));
        assert_eq!(numbered_path(path, 1234), Path::new("out/demo-1234.png"));
    }

    #[test]
    fn an_earlier_series_is_removed() {
        let dir = std::env::temp_dir().join(format!("streamlib-series-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("demo.png");
        for n in 1..=3 {
            std::fs::write(numbered_path(&path, n), b"old").unwrap();
        }
        remove_series(&path).unwrap();
        assert!((1..=3).all(|n| !numbered_path(&path, n).exists()));
        remove_series(&path).unwrap();
    }

    #[test]
    fn a_png_reads_back_with_its_pixels() {
        let dir = std::env::temp_dir().join(format!("streamlib-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("two.png");
        let mut canvas = Canvas::filled(3, 2, [10, 20, 30, 255]);
        canvas.set_pixel(2, 1, [200, 100, 0, 128]);
        let frame = canvas.into_frame_at(Timestamp::from_nanos(0), 0).unwrap();
        save_png(&frame, &path).unwrap();
        let image = image::open(&path).unwrap().to_rgba8();
        assert_eq!(image.dimensions(), (3, 2));
        assert_eq!(image.get_pixel(0, 0).0, [10, 20, 30, 255]);
        assert_eq!(image.get_pixel(2, 1).0, [200, 100, 0, 128]);
        assert!(!path.with_extension("png.partial").exists());
    }
}
