//! The bytes a message carries: its own `Arc<[u8]>`, or a range of a buffer another owner keeps
//! alive (a shared-memory sample, a Zenoh buffer) that a received message borrows instead of
//! copying.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

/// Bytes another owner keeps alive (a shared-memory sample, a Zenoh buffer), which a value
/// decoded from them may keep instead of copying them ([`Codec::decode_shared`](crate::Codec::decode_shared)).
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// A message's bytes: its own `Arc`, or a range of a [`SharedBytes`]. Compared and hashed by
/// content, whichever it is.
#[derive(Clone)]
pub(crate) enum MessageBytes {
    Owned(Arc<[u8]>),
    Borrowed(Arc<Borrowed>),
}

pub(crate) struct Borrowed {
    owner: SharedBytes,
    start: usize,
    len: usize,
    /// The bytes copied out, made at the first [`MessageBytes::arc`].
    copied: OnceLock<Arc<[u8]>>,
}

impl MessageBytes {
    /// `owner`'s bytes from `start` to the end (none if `start` is past it), kept alive by it.
    pub(crate) fn borrowing(owner: SharedBytes, start: usize) -> MessageBytes {
        let total = (*owner).as_ref().len();
        MessageBytes::Borrowed(Arc::new(Borrowed {
            owner,
            start: start.min(total),
            len: total.saturating_sub(start),
            copied: OnceLock::new(),
        }))
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            MessageBytes::Owned(bytes) => bytes,
            MessageBytes::Borrowed(b) => &(*b.owner).as_ref()[b.start..b.start + b.len],
        }
    }

    /// The bytes as an `Arc<[u8]>`: its own, or for borrowed bytes a copy made once, at the
    /// first call.
    pub(crate) fn arc(&self) -> &Arc<[u8]> {
        match self {
            MessageBytes::Owned(bytes) => bytes,
            MessageBytes::Borrowed(b) => b.copied.get_or_init(|| Arc::from(self.as_slice())),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }
}

impl PartialEq for MessageBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for MessageBytes {}

impl Hash for MessageBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}
