//! Opaque data messages on a topic.

use std::fmt;
use std::sync::Arc;

use super::bytes::{MessageBytes, SharedBytes};
use super::invalid;
use crate::error::quoted;
use crate::error::Result;
use crate::timestamp::Timestamp;

/// Opaque bytes under a topic (sensor readings, control commands, serialized structs).
///
/// The topic is non-empty text without control characters (Unicode category Cc), line or
/// paragraph separators (Zl, Zp) or invisible format characters (Cf: bidirectional overrides and
/// isolates, zero-width spaces and joiners, the byte order mark, tag characters, …), so it can be
/// logged and used as a key as is: it cannot break a log line, reorder the text around it on
/// screen or hide characters. Emoji ZWJ sequences are refused with the rest. It holds less than
/// 4 GiB (its length is 32 bits on the wire). Cloning shares topic and bytes.
///
/// A message received from another process borrows the buffer it arrived in (feature `ipc`: the
/// shared-memory sample; feature `net`: Zenoh's receive buffer) for as long as any clone of it
/// lives, and so does one filled in a buffer its output lent
/// ([`Output::new_message`](crate::Output::new_message)): its bytes are not copied, unless
/// [`bytes_arc`](Self::bytes_arc) is asked for (then once, on first call).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DataMessage {
    topic: Arc<str>,
    bytes: MessageBytes,
    timestamp: Timestamp,
}

impl DataMessage {
    /// A message of `bytes` under `topic`.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`](crate::Error::InvalidMessage) if `topic` is empty or holds a
    /// character refused above (the error gives its code point and byte offset).
    pub fn new(
        topic: impl Into<Arc<str>>,
        bytes: impl Into<Arc<[u8]>>,
        timestamp: Timestamp,
    ) -> Result<DataMessage> {
        DataMessage::with_bytes(topic, MessageBytes::Owned(bytes.into()), timestamp)
    }

    /// A message whose bytes are `owner`'s from `start` on, kept alive by `owner` (a received
    /// buffer); checked as [`new`](Self::new) does.
    pub(crate) fn borrowing(
        topic: &str,
        owner: SharedBytes,
        start: usize,
        timestamp: Timestamp,
    ) -> Result<DataMessage> {
        DataMessage::with_bytes(topic, MessageBytes::borrowing(owner, start), timestamp)
    }

    fn with_bytes(
        topic: impl Into<Arc<str>>,
        bytes: MessageBytes,
        timestamp: Timestamp,
    ) -> Result<DataMessage> {
        let topic = topic.into();
        DataMessage::check_topic(&topic)?;
        Ok(DataMessage::from_checked(topic, bytes, timestamp))
    }

    /// Why `topic` cannot be a message's topic, if it cannot (see the type's docs).
    pub(crate) fn check_topic(topic: &str) -> Result<()> {
        if topic.is_empty() {
            return Err(invalid("DataMessage", "topic is empty".to_owned()));
        }
        if u32::try_from(topic.len()).is_err() {
            // The wire format gives a topic's length in 32 bits.
            return Err(invalid(
                "DataMessage",
                format!("topic of {} bytes is over 4 GiB", topic.len()),
            ));
        }
        if let Some((at, c, what)) = topic
            .char_indices()
            .find_map(|(at, c)| unsafe_in_logs(c).map(|what| (at, c, what)))
        {
            return Err(invalid(
                "DataMessage",
                format!(
                    "topic {} contains {what} U+{:04X} at byte {at}",
                    quoted(topic),
                    u32::from(c)
                ),
            ));
        }
        Ok(())
    }

    /// A message under a topic [`check_topic`](Self::check_topic) accepted.
    pub(crate) fn from_checked(
        topic: Arc<str>,
        bytes: MessageBytes,
        timestamp: Timestamp,
    ) -> DataMessage {
        debug_assert!(DataMessage::check_topic(&topic).is_ok());
        DataMessage {
            topic,
            bytes,
            timestamp,
        }
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
        self.bytes.as_slice()
    }

    /// The shared payload bytes, to hand on without copying. For a message that borrows a
    /// received buffer (see the type's docs) this copies the bytes once, at the first call;
    /// [`bytes`](Self::bytes) never copies.
    pub fn bytes_arc(&self) -> &Arc<[u8]> {
        self.bytes.arc()
    }

    /// When it was produced, on the clock of its source.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
}

/// What `c` is, if a topic may not hold it: a control character (Cc), a line or paragraph
/// separator (Zl, Zp) or a format character (Cf).
fn unsafe_in_logs(c: char) -> Option<&'static str> {
    if c.is_control() {
        Some("control character")
    } else if c == '\u{2028}' {
        Some("line separator")
    } else if c == '\u{2029}' {
        Some("paragraph separator")
    } else if FORMAT_CHARACTERS
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
    {
        Some("format character")
    } else {
        None
    }
}

/// Unicode general category Cf (format characters) as inclusive ranges in ascending order
/// (`binary_search_by` relies on it), per Unicode 15–16 (Unicode 15 added U+13439–U+1343F).
/// The standard library has no category lookup and the core takes no dependency for one; the
/// set grows rarely, by a few code points that older terminals and log viewers do not know
/// either.
const FORMAT_CHARACTERS: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{0600}', '\u{0605}'),   // Arabic number signs
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark (bidirectional)
    ('\u{06DD}', '\u{06DD}'),   // Arabic end of ayah
    ('\u{070F}', '\u{070F}'),   // Syriac abbreviation mark
    ('\u{0890}', '\u{0891}'),   // Arabic pound and piastre marks above
    ('\u{08E2}', '\u{08E2}'),   // Arabic disputed end of ayah
    ('\u{180E}', '\u{180E}'),   // Mongolian vowel separator
    ('\u{200B}', '\u{200F}'),   // zero-width space, non-joiner, joiner; LRM, RLM
    ('\u{202A}', '\u{202E}'),   // bidirectional embeddings and overrides (LRE … RLO)
    ('\u{2060}', '\u{2064}'),   // word joiner, invisible operators
    ('\u{2066}', '\u{206F}'),   // bidirectional isolates; deprecated format characters
    ('\u{FEFF}', '\u{FEFF}'),   // zero-width no-break space (byte order mark)
    ('\u{FFF9}', '\u{FFFB}'),   // interlinear annotation
    ('\u{110BD}', '\u{110BD}'), // Kaithi number sign
    ('\u{110CD}', '\u{110CD}'), // Kaithi number sign above
    ('\u{13430}', '\u{1343F}'), // Egyptian hieroglyph format controls
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D173}', '\u{1D17A}'), // musical symbol beam and tie controls
    ('\u{E0001}', '\u{E0001}'), // language tag
    ('\u{E0020}', '\u{E007F}'), // tag characters
];

impl fmt::Debug for DataMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataMessage")
            .field("topic", &self.topic)
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn refused(topic: &str) -> String {
        match DataMessage::new(topic, vec![1u8], Timestamp::from_nanos(0)) {
            Err(Error::InvalidMessage { reason, .. }) => reason,
            other => panic!("{topic:?} was accepted: {other:?}"),
        }
    }

    #[test]
    fn topics_refuse_separators_and_format_characters() {
        assert_eq!(
            refused("a\u{2028}b"),
            r#"topic "a\u{2028}b" contains line separator U+2028 at byte 1"#
        );
        assert!(refused("p\u{2029}").ends_with("paragraph separator U+2029 at byte 1"));
        assert!(refused("cam/\u{202E}gpj.exe").ends_with("format character U+202E at byte 4"));
        for topic in [
            "\u{00AD}",
            "\u{061C}",
            "zero\u{200B}width",
            "\u{200D}",
            "\u{2066}isolate\u{2069}",
            "\u{FEFF}bom",
            "\u{FFFB}",
            "tag\u{E0001}",
            "tag\u{E007F}",
            "\u{1D173}",
            "\u{1343F}",
        ] {
            assert!(refused(topic).contains("format character"), "{topic:?}");
        }
        // Printable text around the refused ranges is accepted.
        for topic in [
            "caméra/日本/🎥",
            "\u{00AC}\u{00AE}",
            "\u{2027}\u{202F}",
            "\u{2065}\u{2070}",
            "\u{FFFC}",
        ] {
            assert!(
                DataMessage::new(topic, Vec::new(), Timestamp::from_nanos(0)).is_ok(),
                "{topic:?}"
            );
        }
    }

    #[test]
    fn format_character_ranges_are_sorted_and_disjoint() {
        for pair in FORMAT_CHARACTERS.windows(2) {
            assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:?}");
        }
    }

    #[test]
    fn a_huge_refused_topic_gives_a_short_message() {
        let topic = format!("{}\u{7}", "t".repeat(1 << 20));
        assert!(refused(&topic).len() < 400);
    }
}
