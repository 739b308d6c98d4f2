//! The replay actor: writes a recorded channel's values in place of the actor that made them.

use std::ops::Range;
use std::sync::Arc;

use super::reader::decode;
use crate::actor::{Actor, PortBinder, Process};
use crate::clock::Tick;
use crate::codec::Codec;
use crate::error::ProcessResult;
use crate::port::{Output, OutputRef};

/// A recorded value's place: the replay tick it belongs to and its bytes in the file.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Recorded frame minus the recording's first frame.
    pub(crate) tick: u64,
    /// Offset of the message record (for errors).
    pub(crate) offset: u64,
    pub(crate) data: Range<usize>,
}

/// An actor (class `Replay`) with one output, `value`, that writes a recorded channel's values:
/// made by [`Recording::replay`](crate::record::Recording::replay).
///
/// Its `k`-th tick (counting skipped ticks of its clock) writes, in recorded order, every value
/// recorded at frame `first_frame + k` of the recording; a frame with no value writes nothing,
/// so readers keep seeing the last one, as they did when it was recorded. Values are decoded on
/// the tick that writes them, so a long recording is never held decoded in memory. After the
/// last value the actor writes nothing more.
///
/// A replay waits for its first reader: ticks before anything takes `value` (a connected
/// input, a link, a recorder: [`Output::is_connected`]) write nothing and do not count, so
/// spawning it and wiring it after, as `pipeline!` does, loses no recorded value.
pub struct Replay<T> {
    /// The replayed values.
    pub value: Output<T>,
    path: String,
    topic: String,
    bytes: Arc<[u8]>,
    entries: Vec<Entry>,
    next: usize,
    /// The replay tick of the last `process` (`None` before the first).
    position: Option<u64>,
}

/// The handle-side ports of a [`Replay`]: `handle.outputs.value`.
pub struct ReplayOutputs<T> {
    /// The replayed values.
    pub value: OutputRef<T>,
}

impl<T: Codec> Replay<T> {
    pub(crate) fn new(path: String, topic: String, bytes: Arc<[u8]>, entries: Vec<Entry>) -> Self {
        Replay {
            value: Output::new(),
            path,
            topic,
            bytes,
            entries,
            next: 0,
            position: None,
        }
    }

    /// The channel replayed.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Values this actor will write in all.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the channel has no value to replay.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<T: Codec> Actor for Replay<T> {
    type Inputs = ();
    type Outputs = ReplayOutputs<T>;

    fn class_name() -> &'static str {
        "Replay"
    }

    fn bind_ports(&self, ports: &mut PortBinder<'_>) -> ((), ReplayOutputs<T>) {
        (
            (),
            ReplayOutputs {
                value: ports.output("value", &self.value),
            },
        )
    }
}

impl<T: Codec> Process for Replay<T> {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let position = match self.position {
            None if !self.value.is_connected() => return Ok(()),
            None => 0,
            Some(last) => last + 1 + tick.skipped,
        };
        self.position = Some(position);
        while let Some(entry) = self.entries.get(self.next) {
            if entry.tick > position {
                break;
            }
            self.next += 1;
            let value = decode::<T>(
                &self.path,
                &self.topic,
                &self.bytes,
                entry.offset,
                &entry.data,
            )?;
            self.value.write(value);
        }
        Ok(())
    }
}
