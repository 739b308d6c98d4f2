//! Opaque data messages on a topic.

use std::fmt;
use std::sync::Arc;

use super::invalid;
use crate::{Result, Timestamp};

/// Opaque bytes under a topic (sensor readings, control commands, serialized structs).
///
/// The topic is non-empty text without control characters, so it can be logged and used as a key
/// as is. Cloning shares topic and bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DataMessage {
    topic: Arc<str>,
    bytes: Arc<[u8]>,
    timestamp: Timestamp,
}

impl DataMessage {
    /// A message of `bytes` under `topic`.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`](crate::Error::InvalidMessage) if `topic` is empty or holds a control character (the error
    /// gives its code point and byte offset).
    pub fn new(
        topic: impl Into<Arc<str>>,
        bytes: impl Into<Arc<[u8]>>,
        timestamp: Timestamp,
    ) -> Result<DataMessage> {
        let topic = topic.into();
        if topic.is_empty() {
            return Err(invalid("DataMessage", "topic is empty".to_owned()));
        }
        if let Some((at, c)) = topic.char_indices().find(|(_, c)| c.is_control()) {
            return Err(invalid(
                "DataMessage",
                format!(
                    "topic {topic:?} contains control character U+{:04X} at byte {at}",
                    u32::from(c)
                ),
            ));
        }
        Ok(DataMessage {
            topic,
            bytes: bytes.into(),
            timestamp,
        })
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The shared topic.
    pub fn topic_arc(&self) -> &Arc<str> {
        &self.topic
    }

    /// The payload bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The shared payload bytes, to hand on without copying.
    pub fn bytes_arc(&self) -> &Arc<[u8]> {
        &self.bytes
    }

    /// When it was produced, on the clock of its source.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
}

impl fmt::Debug for DataMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataMessage")
            .field("topic", &self.topic)
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("timestamp", &self.timestamp)
            .finish()
    }
}
