//! [`FramePool`]: the pixel buffers of an actor's output frames, reused once no reader holds
//! them any more.
//!
//! A [`VideoFrame`](streamlib::VideoFrame) shares its bytes as an `Arc<[u8]>`, and an output's
//! ring buffer keeps the last few frames, so a frame's buffer is in use for a few ticks after it
//! was sent. The pool keeps its own `Arc` of every buffer it handed out; a buffer whose `Arc` is
//! unique again (every frame over it dropped) is written in place for the next frame, without an
//! allocation or a copy. A buffer comes back with what was drawn in it, and with a note of the
//! caller's (`M`: where the moving parts were), so an actor can redraw only what changed.
//!
//! ```
//! use streamlib_examples::actors::FramePool;
//!
//! let mut pool = FramePool::<u32>::new(4);
//! let first = pool.fill(|fresh| fresh.fill(9), |bytes, note| {
//!     bytes[0] = 1;
//!     *note = 1;
//! });
//! drop(first); // every frame over it gone: the next fill writes into the same buffer
//! let second = pool.fill(|fresh| fresh.fill(9), |bytes, note| {
//!     assert_eq!((bytes[0], *note), (1, 1)); // what the last fill left
//!     bytes[1] = 2;
//! });
//! assert_eq!(&second[..], &[1, 2, 9, 9]);
//! assert_eq!(pool.buffers(), 1);
//! ```

use std::sync::Arc;

/// Buffers beyond which a busy pool allocates frames it does not keep.
const MAX_BUFFERS: usize = 16;

/// Reusable byte buffers of one length, each with a note `M` of what it holds.
pub struct FramePool<M = ()> {
    len: usize,
    buffers: Vec<(Arc<[u8]>, M)>,
}

impl<M: Default> FramePool<M> {
    /// A pool of `len`-byte buffers; none is allocated before the first [`fill`](Self::fill).
    pub fn new(len: usize) -> FramePool<M> {
        FramePool {
            len,
            buffers: Vec::new(),
        }
    }

    /// The bytes of a frame: a buffer no frame holds any more, or a new one first set up by
    /// `fresh` (with a default note), handed to `draw` with its note, then shared.
    pub fn fill(
        &mut self,
        fresh: impl FnOnce(&mut [u8]),
        draw: impl FnOnce(&mut [u8], &mut M),
    ) -> Arc<[u8]> {
        let free = self
            .buffers
            .iter_mut()
            .position(|(bytes, _)| Arc::get_mut(bytes).is_some());
        let index = match free {
            Some(index) => index,
            None => {
                let mut bytes: Arc<[u8]> = vec![0; self.len].into();
                fresh(Arc::get_mut(&mut bytes).expect("just allocated"));
                if self.buffers.len() == MAX_BUFFERS {
                    // Readers hold every buffer (a slow sink, a long queue): this frame is one-off.
                    draw(
                        Arc::get_mut(&mut bytes).expect("unshared"),
                        &mut M::default(),
                    );
                    return bytes;
                }
                self.buffers.push((bytes, M::default()));
                self.buffers.len() - 1
            }
        };
        let (bytes, note) = &mut self.buffers[index];
        draw(Arc::get_mut(bytes).expect("checked unshared"), note);
        bytes.clone()
    }

    /// Buffers the pool keeps.
    pub fn buffers(&self) -> usize {
        self.buffers.len()
    }

    /// Length of each buffer.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffers are empty (a zero length).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_still_held_is_never_written() {
        let mut pool = FramePool::<()>::new(2);
        let held = pool.fill(|_| {}, |bytes, _| bytes.fill(1));
        let other = pool.fill(|_| {}, |bytes, _| bytes.fill(2));
        assert_eq!((&held[..], &other[..]), (&[1, 1][..], &[2, 2][..]));
        assert_eq!(pool.buffers(), 2);
        drop(other);
        let third = pool.fill(|_| {}, |bytes, _| bytes[0] = 3);
        assert_eq!((&held[..], &third[..]), (&[1, 1][..], &[3, 2][..]));
        assert_eq!(pool.buffers(), 2, "the second buffer came back");
    }

    #[test]
    fn a_pool_whose_buffers_are_all_held_stops_growing() {
        let mut pool = FramePool::<u8>::new(1);
        let held: Vec<_> = (0..MAX_BUFFERS + 3)
            .map(|i| pool.fill(|fresh| fresh[0] = 7, |bytes, _| bytes[0] += i as u8))
            .collect();
        assert_eq!(pool.buffers(), MAX_BUFFERS);
        assert_eq!(held.last().unwrap()[0], 7 + MAX_BUFFERS as u8 + 2);
    }
}
