//! The queue of a queued input: every value its upstream writes, in write order, up to a bound.
//!
//! An input declared `#[input(queue = N)]` (or built with [`Input::queued`](crate::Input::queued))
//! owns one [`ValueQueue`]. Connecting it installs a tap on the upstream output that pushes each
//! written value (one `Arc` clone, no copy of the payload) into the queue; the actor pops them with
//! `read_new` / `drain`. The queue is a bounded lock-free array (crossbeam's `ArrayQueue`): a
//! writer never waits — when the queue is full, the oldest pending value is dropped and counted.
//! Each queued reader of one output has a queue of its own, so fan-out gives every reader every
//! value in order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

use crate::error::{Error, Result};

/// The most values a queued input may hold pending: a queue allocates its slots up front, so a
/// mistyped size must not reserve gigabytes.
pub const MAX_QUEUE: usize = 1 << 20;

/// The pending values of one queued input.
pub(crate) struct ValueQueue<T> {
    values: ArrayQueue<Arc<T>>,
    /// Values dropped because the queue was full when they arrived (the oldest pending went).
    dropped: AtomicU64,
}

impl<T> ValueQueue<T> {
    /// A queue of `capacity` values, which [`check_capacity`] accepted (its one caller checks it
    /// before the size is kept for good).
    pub(crate) fn new(capacity: usize) -> ValueQueue<T> {
        debug_assert!(check_capacity(capacity).is_ok(), "{capacity}");
        ValueQueue {
            values: ArrayQueue::new(capacity),
            dropped: AtomicU64::new(0),
        }
    }

    /// Appends `value`; if the queue is full, drops the oldest pending value and counts it.
    /// Lock-free; never waits.
    pub(crate) fn push(&self, value: Arc<T>) {
        if let Some(oldest) = self.values.force_push(value) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            drop(oldest);
        }
    }

    /// The oldest pending value.
    pub(crate) fn pop(&self) -> Option<Arc<T>> {
        self.values.pop()
    }

    /// Values pending now.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// Values dropped so far because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// `Ok` for a queue size that can work: `1..=MAX_QUEUE`.
pub(crate) fn check_capacity(capacity: usize) -> Result<()> {
    if (1..=MAX_QUEUE).contains(&capacity) {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            option: "queue",
            value: capacity.to_string(),
            reason: "a queued input holds 1 to 1048576 (MAX_QUEUE) pending values",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_drops_the_oldest_when_full() {
        let queue = ValueQueue::new(3);
        for v in 0..5u32 {
            queue.push(Arc::new(v));
        }
        assert_eq!(queue.dropped(), 2);
        assert_eq!(queue.len(), 3);
        let got: Vec<u32> = std::iter::from_fn(|| queue.pop()).map(|v| *v).collect();
        assert_eq!(got, [2, 3, 4]);
    }

    #[test]
    fn refuses_sizes_that_cannot_work() {
        for bad in [0, MAX_QUEUE + 1] {
            let error = check_capacity(bad).expect_err("refused");
            let text = error.to_string();
            assert!(text.contains(&bad.to_string()), "{text}");
            assert!(text.contains("queue"), "{text}");
        }
        check_capacity(MAX_QUEUE).unwrap();
        assert_eq!(
            ValueQueue::<u8>::new(MAX_QUEUE).values.capacity(),
            MAX_QUEUE
        );
    }
}
