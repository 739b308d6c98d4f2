//! The actors' hot data, side by side: a process-wide arena that places one value per actor in
//! dense 2 MiB chunks backed by huge pages where the kernel allows them.
//!
//! A tick walks every actor of its clock and touches, of each, its lock and flags, `running` and
//! its stats counters (`cell::Hot`). Allocated one by one with the actor's other data, those
//! lines lie a 4 KiB page or two apart per actor: 10,000 actors are over 5,000 pages a tick,
//! more than the processor's translation cache holds, and every actor paid a page walk — a third
//! of the scheduler's CPU (BENCHMARKS.md). Here they lie back to back in spawn order (the order a
//! schedule of independent actors walks), 10,000 actors in one huge page or 470 small ones.
//!
//! Slots are handed out lowest address first and taken back when their [`Placed`] drops (its
//! value dropped in place); chunks are never returned to the system (the arena is as large as
//! the most actors the process ever had at once, rounded up to a chunk). Where the kernel backs
//! the chunk with a huge page, the first actor brings its 2 MiB into memory at once: the price of
//! one translation for the next 10,000.

use std::alloc::{alloc, handle_alloc_error, Layout};
use std::ops::Deref;
use std::ptr::NonNull;

use parking_lot::Mutex;

/// Bytes of one chunk: a huge page on x86-64 and most aarch64 kernels.
const CHUNK: usize = 2 << 20;

/// An arena of `T` slots (a `static` per type).
pub(crate) struct Arena<T> {
    /// Free slots, the lowest address last (taken first).
    free: Mutex<Vec<Slot<T>>>,
}

/// An uninitialised slot of an arena.
struct Slot<T>(NonNull<T>);

// SAFETY: a free slot is memory no one reads or writes; only the arena's lock hands it out.
unsafe impl<T> Send for Slot<T> {}

impl<T> Arena<T> {
    pub(crate) const fn new() -> Arena<T> {
        Arena {
            free: Mutex::new(Vec::new()),
        }
    }

    /// Moves `value` into a slot of the arena.
    pub(crate) fn place(&'static self, value: T) -> Placed<T> {
        let slot = {
            let mut free = self.free.lock();
            if free.is_empty() {
                carve(&mut free);
            }
            free.pop().expect("a new chunk has free slots")
        };
        // SAFETY: the slot is valid, aligned, unused memory for one `T` (carved below) that this
        // thread alone holds now.
        unsafe { slot.0.as_ptr().write(value) };
        Placed {
            value: slot.0,
            arena: self,
        }
    }
}

/// Allocates a chunk and adds its slots to `free`, the lowest address last.
fn carve<T>(free: &mut Vec<Slot<T>>) {
    let size = std::mem::size_of::<T>().max(1);
    let layout = Layout::from_size_align(CHUNK.max(size), CHUNK.max(std::mem::align_of::<T>()))
        .expect("a 2 MiB chunk is a valid layout");
    // SAFETY: the layout's size is not zero.
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        handle_alloc_error(layout);
    }
    advise_huge_pages(base, layout.size());
    let count = layout.size() / size;
    free.reserve(count);
    for i in (0..count).rev() {
        // SAFETY: `i * size` is within the chunk, and a multiple of `size`, itself a multiple of
        // `T`'s alignment, from a base aligned to at least that: the slot is aligned and in
        // bounds; `base` is not null, so neither is the slot.
        let slot = unsafe { NonNull::new_unchecked(base.add(i * size).cast::<T>()) };
        free.push(Slot(slot));
    }
}

/// Asks the kernel to back `len` bytes at `base` with transparent huge pages (Linux, where
/// `/sys/kernel/mm/transparent_hugepage/enabled` is `madvise` or `always`); a hint, ignored
/// elsewhere or on failure.
fn advise_huge_pages(base: *mut u8, len: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: `base..base + len` is one allocation of this process; the advice changes how the
    // kernel backs it, never its contents.
    unsafe {
        libc::madvise(base.cast(), len, libc::MADV_HUGEPAGE);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (base, len);
}

/// A value in an arena slot; the slot goes back when it drops.
pub(crate) struct Placed<T: 'static> {
    value: NonNull<T>,
    arena: &'static Arena<T>,
}

// SAFETY: a `Placed<T>` owns its `T` as a `Box<T>` does.
unsafe impl<T: Send> Send for Placed<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for Placed<T> {}

impl<T> Placed<T> {
    /// Where the value lies: valid, and not moved, for as long as this `Placed` lives.
    pub(crate) fn as_ptr(&self) -> NonNull<T> {
        self.value
    }
}

impl<T> Deref for Placed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the slot holds the value written by `place` until `drop` below.
        unsafe { self.value.as_ref() }
    }
}

impl<T> Drop for Placed<T> {
    fn drop(&mut self) {
        // SAFETY: the value is initialised and owned by this `Placed`, dropped exactly once.
        unsafe { self.value.as_ptr().drop_in_place() };
        self.arena.free.lock().push(Slot(self.value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[repr(align(64))]
    struct Line(u64, Arc<AtomicUsize>);

    impl Drop for Line {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    static LINES: Arena<Line> = Arena::new();

    #[test]
    fn values_lie_back_to_back_and_slots_come_back() {
        let drops = Arc::new(AtomicUsize::new(0));
        let placed: Vec<_> = (0..100)
            .map(|i| LINES.place(Line(i, drops.clone())))
            .collect();
        for (i, p) in placed.iter().enumerate() {
            assert_eq!(p.0, i as u64);
            assert_eq!(p.as_ptr().as_ptr() as usize % 64, 0, "aligned");
        }
        // Only this test uses `LINES`: every value follows the one before.
        for pair in placed.windows(2) {
            let gap = pair[1].as_ptr().as_ptr() as usize - pair[0].as_ptr().as_ptr() as usize;
            assert_eq!(gap, 64);
        }
        let last = placed[99].as_ptr();
        drop(placed);
        assert_eq!(
            drops.load(Ordering::Relaxed),
            100,
            "each value dropped once"
        );
        // The freed slots are reused, the last freed first.
        let again = LINES.place(Line(7, drops.clone()));
        assert_eq!(again.0, 7);
        assert_eq!(again.as_ptr(), last);
        drop(again);
        assert_eq!(drops.load(Ordering::Relaxed), 101);
    }

    #[test]
    fn a_chunk_runs_out_into_the_next() {
        static BIG: Arena<[u8; 1 << 18]> = Arena::new();
        // Eight fit a chunk; the ninth comes from a new one, and nothing overlaps.
        let placed: Vec<_> = (0..9u8).map(|i| BIG.place([i; 1 << 18])).collect();
        for (i, p) in placed.iter().enumerate() {
            assert!(p.iter().all(|&b| b == i as u8));
        }
        let mut starts: Vec<usize> = placed
            .iter()
            .map(|p| p.as_ptr().as_ptr() as usize)
            .collect();
        starts.sort_unstable();
        assert!(starts.windows(2).all(|w| w[1] - w[0] >= 1 << 18));
    }
}
