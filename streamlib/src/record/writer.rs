//! The recorder: output taps feed a bounded queue, a writer thread writes the MCAP file.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;

use super::{FRAME_PREFIX, MESSAGE_ENCODING, SCHEMA_ENCODING};
use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::message::VideoFrame;
use crate::port::{OutputRef, OutputShared};
use crate::wire::{current_stamp, Stamp};

/// How a [`Recorder`] buffers and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecorderOptions {
    /// Values queued for the writer thread at most (default 128); beyond that, values are
    /// dropped and counted. Each holds an `Arc` of a value, so a queue of video frames holds
    /// that many frames alive.
    pub queue: usize,
    /// Target size of an MCAP chunk in bytes (default 1 MiB). Smaller chunks lose less when a
    /// recording is cut short (a crash, a full disk).
    pub chunk_size: u64,
}

impl Default for RecorderOptions {
    fn default() -> Self {
        RecorderOptions {
            queue: 128,
            chunk_size: 1 << 20,
        }
    }
}

/// What a recorder did so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecorderStats {
    /// Values written to the file.
    pub recorded: u64,
    /// Values dropped because the queue was full (the disk did not keep up) or the file failed.
    pub dropped: u64,
    /// Bytes of message data written (frame prefix and codec encoding, before MCAP framing).
    pub bytes: u64,
}

/// Records values written on chosen outputs into an MCAP file (see [the module](crate::record)).
///
/// ```
/// # fn main() -> streamlib::Result<()> {
/// use streamlib::prelude::*;
/// use streamlib::record::{Recorder, Recording};
/// use streamlib::Rate;
///
/// #[actor]
/// pub struct Count { #[output] pub value: Output<u64> }
/// impl Process for Count {
///     fn process(&mut self, tick: &Tick) -> ProcessResult {
///         self.value.write(tick.frame_number * 3);
///         Ok(())
///     }
/// }
///
/// let path = std::env::temp_dir().join(format!("streamlib-doc-{}.mcap", std::process::id()));
/// let rt = Runtime::new();
/// let clock = ManualClock::new(Rate::fps(30)?);
/// let count = rt.spawn_on(Count { value: Output::new() }, "count", &clock)?;
/// let recorder = Recorder::create(&path)?;
/// recorder.record(&count.outputs.value)?;
/// clock.step_n(5)?;
/// let stats = recorder.finish()?;
/// assert_eq!((stats.recorded, stats.dropped), (5, 0));
///
/// let recording = Recording::open(&path)?;
/// let values = recording.values::<u64>("actor://local/Count/count.value")?;
/// assert_eq!(values.iter().map(|v| *v.value).collect::<Vec<_>>(), [0, 3, 6, 9, 12]);
/// # std::fs::remove_file(&path).ok();
/// # Ok(()) }
/// ```
pub struct Recorder {
    path: PathBuf,
    shared: Arc<Shared>,
    queue: Sender<Job>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Undoes each tap installed.
    taps: Mutex<Vec<Box<dyn FnOnce() + Send>>>,
    /// Channel ids by topic, schema ids by payload type.
    ids: Mutex<Ids>,
}

#[derive(Default)]
struct Ids {
    channels: HashMap<String, u16>,
    schemas: HashMap<&'static str, u16>,
}

type McapWriter = mcap::Writer<BufWriter<File>>;

/// What the tap and the writer thread share.
struct Shared {
    writer: Mutex<Option<McapWriter>>,
    recorded: AtomicU64,
    dropped: AtomicU64,
    bytes: AtomicU64,
    /// The first write error; later values are dropped.
    failed: Mutex<Option<Error>>,
}

/// One value to write, type-erased without allocating: the `Arc` of the value itself.
struct Item {
    channel: u16,
    sequence: u32,
    stamp: Stamp,
    value: Arc<dyn Any + Send + Sync>,
    encode: Encode,
}

/// Writes one message's bytes for a value (nothing: the value is not written on that channel).
pub(super) type Encode = fn(&(dyn Any + Send + Sync), Stamp, &mut Vec<u8>);

/// What a channel is called and how it is encoded.
struct ChannelSpec<'a> {
    topic: String,
    schema: &'static str,
    schema_encoding: &'static str,
    schema_data: &'a [u8],
    message_encoding: &'static str,
    payload_type: &'static str,
}

enum Job {
    Value(Item),
    Finish,
}

/// A streamlib message: the frame number, then the codec's encoding.
fn encode_as<T: Codec>(value: &(dyn Any + Send + Sync), stamp: Stamp, out: &mut Vec<u8>) {
    if let Some(value) = value.downcast_ref::<T>() {
        out.extend_from_slice(&stamp.frame_number.to_le_bytes());
        debug_assert_eq!(out.len(), FRAME_PREFIX);
        value.encode(out);
    }
}

impl Recorder {
    /// A recorder writing to `path` (created or truncated) with default options.
    pub fn create(path: impl AsRef<Path>) -> Result<Recorder> {
        Recorder::with_options(path, RecorderOptions::default())
    }

    /// A recorder writing to `path` (created or truncated).
    pub fn with_options(path: impl AsRef<Path>, options: RecorderOptions) -> Result<Recorder> {
        let path = path.as_ref().to_path_buf();
        let display = path.display().to_string();
        if options.queue == 0 {
            return Err(Error::InvalidOption {
                option: "RecorderOptions::queue",
                value: "0".into(),
                reason: "the queue needs at least one slot",
            });
        }
        let file = File::create(&path).map_err(|e| {
            Error::recording(&display, None, None, format!("cannot create the file: {e}"))
        })?;
        let writer = mcap::WriteOptions::new()
            .compression(None)
            .profile("")
            .library(format!("streamlib {}", env!("CARGO_PKG_VERSION")))
            .chunk_size(Some(options.chunk_size.max(1)))
            .create(BufWriter::with_capacity(1 << 20, file))
            .map_err(|e| mcap_error(&display, None, e))?;
        let shared = Arc::new(Shared {
            writer: Mutex::new(Some(writer)),
            recorded: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            failed: Mutex::new(None),
        });
        let (queue, jobs) = crossbeam_channel::bounded(options.queue);
        let thread = {
            let shared = shared.clone();
            let display = display.clone();
            std::thread::Builder::new()
                .name("streamlib-recorder".into())
                .spawn(move || write_loop(&shared, &jobs, &display))
                .map_err(|e| Error::os("spawning the recorder's thread", e))?
        };
        Ok(Recorder {
            path,
            shared,
            queue,
            thread: Mutex::new(Some(thread)),
            taps: Mutex::new(Vec::new()),
            ids: Mutex::new(Ids::default()),
        })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records every value written on `output` from now on, on the channel named by the port's
    /// URI (`actor://local/Class/id.port`). Recording the same port twice changes nothing.
    ///
    /// Values written outside a tick (by a test writing to an output directly) carry the stamp
    /// of the last tick run on that thread.
    pub fn record<T: Codec>(&self, output: &OutputRef<T>) -> Result<()> {
        let description = format!(
            "streamlib Codec encoding of payload type {} (see streamlib::Codec)\n",
            T::PAYLOAD_TYPE
        );
        let channel = ChannelSpec {
            topic: output.shared.describe(),
            schema: T::PAYLOAD_TYPE,
            schema_encoding: SCHEMA_ENCODING,
            schema_data: description.as_bytes(),
            message_encoding: MESSAGE_ENCODING,
            payload_type: T::PAYLOAD_TYPE,
        };
        self.add(output, channel, encode_as::<T>)
    }

    /// Records `output` as [`record`](Self::record) does and also, on a second channel
    /// `<port URI>/image`, as ROS 2 `sensor_msgs/msg/Image` messages (schema encoding
    /// `ros2msg`, message encoding `cdr`), which Foxglove's Image panel draws. `rgba8`, `bgra8`,
    /// `rgb8` and `mono8` frames are mirrored; I420 and NV12 frames have no `sensor_msgs`
    /// encoding and are left out of the image channel (they stay on the replayable one).
    /// Replay uses the streamlib channel; the image channel costs one more copy of each frame.
    pub fn record_image(&self, output: &OutputRef<VideoFrame>) -> Result<()> {
        self.record(output)?;
        let channel = ChannelSpec {
            topic: format!("{}/image", output.shared.describe()),
            schema: "sensor_msgs/msg/Image",
            schema_encoding: "ros2msg",
            schema_data: super::image::SCHEMA.as_bytes(),
            message_encoding: "cdr",
            payload_type: <VideoFrame as Codec>::PAYLOAD_TYPE,
        };
        self.add(output, channel, super::image::encode)
    }

    /// Adds a channel and taps `output` into it; `encode` writes each message's bytes.
    fn add<T: Send + Sync + 'static>(
        &self,
        output: &OutputRef<T>,
        spec: ChannelSpec<'_>,
        encode: Encode,
    ) -> Result<()> {
        let topic = spec.topic;
        let channel = {
            let mut ids = self.ids.lock();
            if ids.channels.contains_key(&topic) {
                return Ok(());
            }
            let mut guard = self.shared.writer.lock();
            let Some(writer) = guard.as_mut() else {
                return Err(self.error(Some(&topic), "the recorder is finished".into()));
            };
            let schema = match ids.schemas.get(spec.schema) {
                Some(&id) => id,
                None => {
                    let id = writer
                        .add_schema(spec.schema, spec.schema_encoding, spec.schema_data)
                        .map_err(|e| mcap_error(&self.display(), Some(&topic), e))?;
                    ids.schemas.insert(spec.schema, id);
                    id
                }
            };
            let metadata = BTreeMap::from([("payload_type".to_owned(), spec.payload_type.into())]);
            let channel = writer
                .add_channel(schema, &topic, spec.message_encoding, &metadata)
                .map_err(|e| mcap_error(&self.display(), Some(&topic), e))?;
            ids.channels.insert(topic, channel);
            channel
        };
        let queue = self.queue.clone();
        let shared = Arc::downgrade(&self.shared);
        let sequence = AtomicU32::new(0);
        let tap = move |value: Arc<T>| {
            let item = Item {
                channel,
                sequence: sequence.fetch_add(1, Ordering::Relaxed).wrapping_add(1),
                stamp: current_stamp(),
                value,
                encode,
            };
            if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
                queue.try_send(Job::Value(item))
            {
                if let Some(shared) = shared.upgrade() {
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        };
        let id = crate::pipeline::next_connection_id();
        output.shared.add_tap(id, Arc::new(tap));
        let output: Weak<OutputShared<T>> = Arc::downgrade(&output.shared);
        self.taps.lock().push(Box::new(move || {
            if let Some(output) = output.upgrade() {
                output.remove_tap(id);
            }
        }));
        Ok(())
    }

    /// What the recorder did so far.
    pub fn stats(&self) -> RecorderStats {
        RecorderStats {
            recorded: self.shared.recorded.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            bytes: self.shared.bytes.load(Ordering::Relaxed),
        }
    }

    /// Stops recording, writes what is queued, closes the file (summary and footer) and returns
    /// the final counts, or the first error writing the file.
    pub fn finish(self) -> Result<RecorderStats> {
        self.close()
    }

    fn close(&self) -> Result<RecorderStats> {
        for untap in self.taps.lock().drain(..) {
            untap();
        }
        if let Some(thread) = self.thread.lock().take() {
            // Not on a tick path: waiting for room in the queue is fine here.
            let _ = self.queue.send(Job::Finish);
            let _ = thread.join();
        }
        let writer = self.shared.writer.lock().take();
        if let Some(mut writer) = writer {
            if let Err(error) = writer.finish() {
                self.shared
                    .failed
                    .lock()
                    .get_or_insert(mcap_error(&self.display(), None, error));
            }
        }
        match self.shared.failed.lock().clone() {
            Some(error) => Err(error),
            None => Ok(self.stats()),
        }
    }

    fn display(&self) -> String {
        self.path.display().to_string()
    }

    fn error(&self, channel: Option<&str>, reason: String) -> Error {
        Error::recording(&self.display(), channel, None, reason)
    }
}

impl Drop for Recorder {
    /// Finishes the file as [`finish`](Recorder::finish) does; an error is logged.
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::error!(%error, "finishing a recording");
        }
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("stats", &self.stats())
            .finish()
    }
}

/// The writer thread: writes values as they come, in batches under one lock, until `Finish`.
fn write_loop(shared: &Shared, jobs: &Receiver<Job>, path: &str) {
    let mut buffer = Vec::new();
    while let Ok(job) = jobs.recv() {
        let mut guard = shared.writer.lock();
        let mut next = Some(job);
        while let Some(job) = next.take() {
            let Job::Value(item) = job else {
                return;
            };
            write_one(shared, guard.as_mut(), &item, &mut buffer, path);
            drop(item); // the value's Arc, as soon as it is written
            next = jobs.try_recv().ok();
        }
        drop(guard);
    }
}

fn write_one(
    shared: &Shared,
    writer: Option<&mut McapWriter>,
    item: &Item,
    buffer: &mut Vec<u8>,
    path: &str,
) {
    let Some(writer) = writer.filter(|_| shared.failed.lock().is_none()) else {
        shared.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    };
    buffer.clear();
    (item.encode)(&*item.value, item.stamp, buffer);
    if buffer.is_empty() {
        return; // not for this channel (an image channel's I420 frame)
    }
    let time = item.stamp.timestamp.as_nanos();
    let header = mcap::records::MessageHeader {
        channel_id: item.channel,
        sequence: item.sequence,
        log_time: time,
        publish_time: time,
    };
    match writer.write_to_known_channel(&header, buffer) {
        Ok(()) => {
            shared.recorded.fetch_add(1, Ordering::Relaxed);
            shared
                .bytes
                .fetch_add(buffer.len() as u64, Ordering::Relaxed);
        }
        Err(error) => {
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            shared
                .failed
                .lock()
                .get_or_insert(mcap_error(path, None, error));
        }
    }
}

fn mcap_error(path: &str, channel: Option<&str>, error: mcap::McapError) -> Error {
    Error::recording(path, channel, None, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::Output;

    /// While the writer is held up (here: its file lock held by the test), writes beyond the
    /// queue are dropped and counted at once; nothing waits.
    #[test]
    fn a_full_queue_drops_and_counts_without_blocking_the_writer() {
        let path = std::env::temp_dir().join(format!("streamlib-drop-{}.mcap", std::process::id()));
        let recorder = Recorder::with_options(
            &path,
            RecorderOptions {
                queue: 2,
                ..RecorderOptions::default()
            },
        )
        .unwrap();
        let output = Output::<u64>::new();
        recorder.record(&output.to_ref()).unwrap();
        let held = recorder.shared.writer.lock();
        let started = std::time::Instant::now();
        for v in 0..100 {
            output.write(v);
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // At most the queue plus the one value the writer thread took before blocking.
        let dropped = recorder.stats().dropped;
        assert!((97..=98).contains(&dropped), "dropped {dropped}");
        drop(held);
        let stats = recorder.finish().unwrap();
        assert_eq!(stats.recorded + stats.dropped, 100, "{stats:?}");
        std::fs::remove_file(&path).ok();
    }
}
