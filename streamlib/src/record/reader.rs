//! Reading a recording: frames every MCAP record itself, so damage is reported with its offset.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use mcap::records::{op, Record};

use super::replay::{Entry, Replay};
use super::{FRAME_PREFIX, MESSAGE_ENCODING, SCHEMA_ENCODING};
use crate::clock::Timestamp;
use crate::codec::Codec;
use crate::error::{Error, Result};

/// The magic bytes that open and close an MCAP file.
const MAGIC: &[u8; 8] = b"\x89MCAP0\r\n";

/// Opcode and length before every record body.
const RECORD_HEADER: usize = 9;

/// A recording read from an MCAP file (see [the module](crate::record)).
#[derive(Clone, Debug)]
pub struct Recording {
    path: String,
    bytes: Arc<[u8]>,
    channels: Vec<RecordedChannel>,
    messages: Vec<Message>,
    damage: Option<Error>,
}

/// One channel of a recording: one recorded port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedChannel {
    /// The channel's id in the file.
    pub id: u16,
    /// The topic: for streamlib's channels, the port's URI (`actor://local/Class/id.port`).
    pub topic: String,
    /// The schema's name: for streamlib's channels, the payload type (`Codec::PAYLOAD_TYPE`).
    pub payload_type: String,
    /// The schema's encoding (`streamlib.codec` for streamlib's channels; empty: no schema).
    pub schema_encoding: String,
    /// The messages' encoding (`streamlib.codec.v1` for streamlib's channels).
    pub message_encoding: String,
    /// Messages of the channel read.
    pub messages: u64,
}

/// One recorded value with the tick that wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded<T> {
    /// Frame number of the writing tick (on the recording clock's grid).
    pub frame_number: u64,
    /// Timestamp of the writing tick (the recording clock's time).
    pub timestamp: Timestamp,
    /// The port's value count from 1; a gap is a value the recorder dropped.
    pub sequence: u32,
    /// The value.
    pub value: Arc<T>,
}

#[derive(Clone, Debug)]
struct Message {
    channel: usize,
    sequence: u32,
    log_time: u64,
    /// Offset of the message record in the file.
    offset: u64,
    /// The message's data in the file.
    data: Range<usize>,
}

impl Recording {
    /// Reads the file at `path`; any damage is an error ([`Error::Recording`] naming the offset
    /// and, when it concerns one, the channel).
    pub fn open(path: impl AsRef<Path>) -> Result<Recording> {
        Recording::open_prefix(path)?.undamaged()
    }

    /// Reads what is readable of the file at `path`: every record before the first damage
    /// (whole chunks), with the damage in [`damage`](Recording::damage). Fails only when the
    /// file cannot be read or is not an MCAP file at all.
    pub fn open_prefix(path: impl AsRef<Path>) -> Result<Recording> {
        let name = path.as_ref().display().to_string();
        let bytes = std::fs::read(path.as_ref()).map_err(|e| {
            Error::recording(&name, None, None, format!("cannot read the file: {e}"))
        })?;
        Recording::from_bytes_prefix(&name, bytes)
    }

    /// [`open`](Recording::open) for bytes in memory; `name` stands for the path in errors.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Recording> {
        Recording::from_bytes_prefix(name, bytes)?.undamaged()
    }

    /// This recording, or its damage as the error.
    fn undamaged(self) -> Result<Recording> {
        match self.damage {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }

    /// [`open_prefix`](Recording::open_prefix) for bytes in memory.
    pub fn from_bytes_prefix(name: &str, bytes: Vec<u8>) -> Result<Recording> {
        let bytes: Arc<[u8]> = bytes.into();
        let mut parser = Parser {
            path: name,
            bytes: &bytes,
            schemas: HashMap::new(),
            channel_ids: HashMap::new(),
            channels: Vec::new(),
            messages: Vec::new(),
        };
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(parser.error(
                None,
                Some(0),
                "not an MCAP file: no MCAP magic at its start",
            ));
        }
        let damage = parser.parse().err();
        let Parser {
            mut channels,
            messages,
            ..
        } = parser;
        for message in &messages {
            channels[message.channel].messages += 1;
        }
        if let Some(error) = &damage {
            tracing::warn!(%error, "a damaged recording; its readable part is kept");
        }
        Ok(Recording {
            path: name.to_owned(),
            bytes,
            channels,
            messages,
            damage,
        })
    }

    /// The file's path (or the name given for bytes in memory).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What made the rest of the file unreadable, when opened with
    /// [`open_prefix`](Recording::open_prefix).
    pub fn damage(&self) -> Option<&Error> {
        self.damage.as_ref()
    }

    /// The channels read, in the order the file defines them.
    pub fn channels(&self) -> &[RecordedChannel] {
        &self.channels
    }

    /// The channel of `topic`, if the file has it.
    pub fn channel(&self, topic: &str) -> Option<&RecordedChannel> {
        self.channels.iter().find(|c| c.topic == topic)
    }

    /// The lowest frame number of any streamlib message: frame `first_frame() + k` replays on
    /// the `k`-th tick of a [`Replay`].
    pub fn first_frame(&self) -> Option<u64> {
        self.streamlib_messages().map(|(frame, _)| frame).min()
    }

    /// Frames from the first to the last recorded one (the ticks a replay of the whole
    /// recording takes).
    pub fn frames(&self) -> u64 {
        let frames = || self.streamlib_messages().map(|(frame, _)| frame);
        match (frames().min(), frames().max()) {
            (Some(first), Some(last)) => last - first + 1,
            _ => 0,
        }
    }

    /// The frame numbers of channel `topic`'s values, in recorded order, without decoding them.
    pub fn frame_numbers(&self, topic: &str) -> Result<Vec<u64>> {
        let channel = self.streamlib_channel(topic)?;
        Ok(self
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .map(|m| frame_of(&self.bytes, m))
            .collect())
    }

    fn streamlib_messages(&self) -> impl Iterator<Item = (u64, &Message)> {
        self.messages.iter().filter_map(|m| {
            let channel = &self.channels[m.channel];
            (channel.message_encoding == MESSAGE_ENCODING).then(|| (frame_of(&self.bytes, m), m))
        })
    }

    /// Every value of channel `topic`, decoded as `T`, in the order recorded.
    ///
    /// Errors name the channel: no such topic, not a streamlib channel (an unknown schema),
    /// another payload type than `T`, bytes that do not decode (with their offset).
    pub fn values<T: Codec>(&self, topic: &str) -> Result<Vec<Recorded<T>>> {
        let channel = self.typed_channel::<T>(topic)?;
        self.messages
            .iter()
            .filter(|m| m.channel == channel)
            .map(|m| {
                Ok(Recorded {
                    frame_number: frame_of(&self.bytes, m),
                    timestamp: Timestamp::from_nanos(m.log_time),
                    sequence: m.sequence,
                    value: Arc::new(decode::<T>(
                        &self.path,
                        topic,
                        &self.bytes,
                        m.offset,
                        &m.data,
                    )?),
                })
            })
            .collect()
    }

    /// An actor that writes the values of channel `topic` on its output `value`, in place of the
    /// actor that recorded them: its `k`-th tick writes the values recorded at frame
    /// [`first_frame`](Recording::first_frame)` + k` (a tick that skipped frames writes theirs
    /// too, in order). Spawn it on a [`ManualClock`](crate::ManualClock) to replay as fast as
    /// possible, or on a clock of the recorded rate to play in real time.
    ///
    /// Fails like [`values`](Recording::values) on a channel that is not a streamlib channel of
    /// payload type `T`. A value that does not decode is an error of that tick (counted in the
    /// actor's stats, naming channel and offset); the others still play.
    pub fn replay<T: Codec>(&self, topic: &str) -> Result<Replay<T>> {
        let channel = self.typed_channel::<T>(topic)?;
        let first = self.first_frame().unwrap_or(0);
        let entries = self
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .map(|m| Entry {
                tick: frame_of(&self.bytes, m).saturating_sub(first),
                offset: m.offset,
                data: m.data.clone(),
            })
            .collect();
        Ok(Replay::new(
            self.path.clone(),
            topic.to_owned(),
            self.bytes.clone(),
            entries,
        ))
    }

    fn typed_channel<T: Codec>(&self, topic: &str) -> Result<usize> {
        let index = self.streamlib_channel(topic)?;
        let channel = &self.channels[index];
        if channel.payload_type != T::PAYLOAD_TYPE {
            return Err(Error::recording(
                &self.path,
                Some(topic),
                None,
                format!(
                    "the channel carries payload type {}, not {} as asked",
                    channel.payload_type,
                    T::PAYLOAD_TYPE
                ),
            ));
        }
        Ok(index)
    }

    /// The index of `topic`, a channel in streamlib's encoding.
    fn streamlib_channel(&self, topic: &str) -> Result<usize> {
        let error = |reason: String| Error::recording(&self.path, Some(topic), None, reason);
        let Some(index) = self.channels.iter().position(|c| c.topic == topic) else {
            let known: Vec<&str> = self.channels.iter().map(|c| c.topic.as_str()).collect();
            return Err(error(format!(
                "no such channel (the recording has: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        };
        let channel = &self.channels[index];
        if channel.schema_encoding != SCHEMA_ENCODING
            || channel.message_encoding != MESSAGE_ENCODING
        {
            return Err(error(format!(
                "unknown schema {:?} (schema encoding {:?}, message encoding {:?}); streamlib replays only its own {SCHEMA_ENCODING:?} channels",
                channel.payload_type, channel.schema_encoding, channel.message_encoding
            )));
        }
        Ok(index)
    }
}

/// The frame number a streamlib message starts with (checked present when read).
fn frame_of(bytes: &[u8], message: &Message) -> u64 {
    let mut frame = [0u8; 8];
    if let Some(prefix) = bytes.get(message.data.start..message.data.start + FRAME_PREFIX) {
        frame.copy_from_slice(prefix);
    }
    u64::from_le_bytes(frame)
}

/// Decodes the value of a streamlib message whose record starts at `offset`.
pub(crate) fn decode<T: Codec>(
    path: &str,
    topic: &str,
    bytes: &[u8],
    offset: u64,
    data: &Range<usize>,
) -> Result<T> {
    let payload = bytes
        .get(data.start + FRAME_PREFIX..data.end)
        .unwrap_or_default();
    T::decode(payload).map_err(|e| {
        let reason = format!("the message does not decode: {e}");
        Error::recording(path, Some(topic), Some(offset), reason)
    })
}

struct Parser<'a> {
    path: &'a str,
    bytes: &'a [u8],
    /// Schema id → (name, encoding).
    schemas: HashMap<u16, (String, String)>,
    /// Channel id → index in `channels`.
    channel_ids: HashMap<u16, usize>,
    channels: Vec<RecordedChannel>,
    messages: Vec<Message>,
}

impl<'a> Parser<'a> {
    fn error(
        &self,
        channel: Option<&str>,
        offset: Option<u64>,
        reason: impl Into<String>,
    ) -> Error {
        Error::recording(self.path, channel, offset, reason)
    }

    /// Reads every record after the magic up to the footer and the closing magic.
    fn parse(&mut self) -> Result<()> {
        let bytes = self.bytes;
        let mut pos = MAGIC.len();
        loop {
            let (opcode, body) = self.frame(pos, bytes.len(), "the file")?;
            let next = pos + RECORD_HEADER + body.len();
            match opcode {
                op::FOOTER => {
                    return match bytes.get(next..) {
                        Some(rest) if rest == MAGIC => Ok(()),
                        _ => Err(self.error(
                            None,
                            Some(next as u64),
                            format!(
                                "after the footer: {} bytes instead of the closing MCAP magic",
                                bytes.len().saturating_sub(next)
                            ),
                        )),
                    };
                }
                op::CHUNK => {
                    let kept = self.messages.len();
                    if let Err(error) = self.chunk(pos, body) {
                        // A chunk counts whole or not at all.
                        self.messages.truncate(kept);
                        return Err(error);
                    }
                }
                _ => self.record(opcode, body, pos)?,
            }
            pos = next;
        }
    }

    /// The record at `pos` (before `end`): its opcode and body, or the damage.
    fn frame(&self, pos: usize, end: usize, within: &str) -> Result<(u8, &'a [u8])> {
        let bytes = self.bytes;
        let left = end.saturating_sub(pos);
        if left == 0 {
            return Err(self.error(
                None,
                Some(pos as u64),
                format!("{within} ends without a footer: truncated"),
            ));
        }
        if left < RECORD_HEADER {
            return Err(self.error(
                None,
                Some(pos as u64),
                format!("truncated: a record header needs {RECORD_HEADER} bytes, {left} left in {within}"),
            ));
        }
        let opcode = bytes[pos];
        let mut length = [0u8; 8];
        length.copy_from_slice(&bytes[pos + 1..pos + RECORD_HEADER]);
        let length = u64::from_le_bytes(length);
        let room = (left - RECORD_HEADER) as u64;
        if length > room {
            return Err(self.error(
                None,
                Some(pos as u64),
                format!("truncated: a record (opcode {opcode:#04x}) of {length} bytes, only {room} left in {within}"),
            ));
        }
        let start = pos + RECORD_HEADER;
        Ok((opcode, &bytes[start..start + length as usize]))
    }

    /// A chunk record at `pos`: checks it, then reads the records inside.
    fn chunk(&mut self, pos: usize, body: &'a [u8]) -> Result<()> {
        let (header, data) = match mcap::read::parse_record(op::CHUNK, body) {
            Ok(Record::Chunk { header, data }) => (header, data),
            Ok(_) => unreachable!("parse_record returns the record of the opcode asked"),
            Err(e) => {
                return Err(self.error(
                    None,
                    Some(pos as u64),
                    format!("a chunk does not parse: {e}"),
                ))
            }
        };
        let Cow::Borrowed(data) = data else {
            return Err(self.error(None, Some(pos as u64), "a chunk's data is not in the file"));
        };
        if !header.compression.is_empty() {
            return Err(self.error(
                None,
                Some(pos as u64),
                format!(
                    "a chunk compressed with {:?}: this build reads uncompressed chunks only (streamlib writes those)",
                    header.compression
                ),
            ));
        }
        if header.uncompressed_size != data.len() as u64 {
            return Err(self.error(
                None,
                Some(pos as u64),
                format!(
                    "a corrupt chunk: its header says {} bytes, it holds {}",
                    header.uncompressed_size,
                    data.len()
                ),
            ));
        }
        if header.uncompressed_crc != 0 {
            let crc = crc32fast::hash(data);
            if crc != header.uncompressed_crc {
                return Err(self.error(
                    None,
                    Some(pos as u64),
                    format!(
                        "a corrupt chunk: CRC {crc:08x} of its {} bytes, {:08x} recorded",
                        data.len(),
                        header.uncompressed_crc
                    ),
                ));
            }
        }
        // The data borrows from the file: inner offsets are file offsets.
        let start = data.as_ptr() as usize - self.bytes.as_ptr() as usize;
        let end = start + data.len();
        let mut inner = start;
        while inner < end {
            let (opcode, body) = self.frame(inner, end, "a chunk")?;
            self.record(opcode, body, inner)?;
            inner += RECORD_HEADER + body.len();
        }
        Ok(())
    }

    /// A schema, channel or message record at `pos`; others are skipped.
    fn record(&mut self, opcode: u8, body: &'a [u8], pos: usize) -> Result<()> {
        if !matches!(opcode, op::SCHEMA | op::CHANNEL | op::MESSAGE) {
            return Ok(());
        }
        let record = mcap::read::parse_record(opcode, body).map_err(|e| {
            self.error(
                None,
                Some(pos as u64),
                format!("a record (opcode {opcode:#04x}) does not parse: {e}"),
            )
        })?;
        match record {
            Record::Schema { header, .. } => {
                if header.id == 0 {
                    return Err(self.error(
                        None,
                        Some(pos as u64),
                        "a schema with id 0 (reserved: no schema)",
                    ));
                }
                self.schemas
                    .entry(header.id)
                    .or_insert((header.name, header.encoding));
            }
            Record::Channel(channel) => {
                if self.channel_ids.contains_key(&channel.id) {
                    return Ok(()); // repeated in the summary
                }
                let (payload_type, schema_encoding) = if channel.schema_id == 0 {
                    (String::new(), String::new())
                } else {
                    match self.schemas.get(&channel.schema_id) {
                        Some(schema) => schema.clone(),
                        None => {
                            return Err(self.error(
                                Some(&channel.topic),
                                Some(pos as u64),
                                format!(
                                    "unknown schema: the channel refers to schema {}, which the file does not define before it",
                                    channel.schema_id
                                ),
                            ))
                        }
                    }
                };
                self.channel_ids.insert(channel.id, self.channels.len());
                self.channels.push(RecordedChannel {
                    id: channel.id,
                    topic: channel.topic,
                    payload_type,
                    schema_encoding,
                    message_encoding: channel.message_encoding,
                    messages: 0,
                });
            }
            Record::Message { header, data } => {
                let Cow::Borrowed(data) = data else {
                    return Err(self.error(
                        None,
                        Some(pos as u64),
                        "a message's data is not in the file",
                    ));
                };
                let Some(&channel) = self.channel_ids.get(&header.channel_id) else {
                    return Err(self.error(
                        None,
                        Some(pos as u64),
                        format!(
                            "a message of channel {}, which the file does not define before it",
                            header.channel_id
                        ),
                    ));
                };
                let topic = &self.channels[channel].topic;
                if self.channels[channel].message_encoding == MESSAGE_ENCODING
                    && data.len() < FRAME_PREFIX
                {
                    return Err(self.error(
                        Some(topic),
                        Some(pos as u64),
                        format!(
                            "a message of {} bytes, shorter than its {FRAME_PREFIX}-byte frame number",
                            data.len()
                        ),
                    ));
                }
                let start = data.as_ptr() as usize - self.bytes.as_ptr() as usize;
                self.messages.push(Message {
                    channel,
                    sequence: header.sequence,
                    log_time: header.log_time,
                    offset: pos as u64,
                    data: start..start + data.len(),
                });
            }
            _ => {}
        }
        Ok(())
    }
}
