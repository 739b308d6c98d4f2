//! Latest-value ring buffers: the wire between an output and its inputs.
//!
//! A [`RingBuffer`] holds a few slots of `Arc<T>`. [`write`](RingBuffer::write) puts a value in the
//! oldest free slot and publishes it as the newest; [`read_latest`](RingBuffer::read_latest)
//! returns a clone of the newest `Arc` without consuming it, so every reader of one buffer shares
//! the same allocation (fan-out never copies a payload). There is no queue and no backpressure: a
//! value that nobody read before the next write is simply superseded, and the sequence number
//! ([`seq`](RingBuffer::seq), [`read_latest_with_seq`](RingBuffer::read_latest_with_seq)) tells a
//! new value from one already seen.
//!
//! Guarantees:
//! - **Lock-free.** Neither side takes a lock. A reader retries only when a write was published
//!   during its few-instruction read, so some thread always makes progress; readers never wait
//!   for each other and never make the writer wait while a spare slot exists (see
//!   [When a write waits](RingBuffer#when-a-write-waits)).
//! - **Newest wins, never backwards.** A read returns the value of the newest published write at
//!   some instant during the call; successive reads by one thread never return an older value.
//! - **One writer per buffer** is the intended use (an output owns its buffer). Concurrent
//!   writers are memory-safe and every write is still published with its own sequence number;
//!   they may briefly wait for each other.
//!
//! The protocol is checked with [loom](https://docs.rs/loom) (`tests/loom_ring.rs`).
//!
//! ```
//! use std::sync::Arc;
//! use streamlib::RingBuffer;
//!
//! let ring = RingBuffer::<String>::new(3)?;
//! assert!(ring.read_latest().is_none());
//!
//! ring.write("frame 1".to_string());
//! ring.write("frame 2".to_string());
//! let (seq, frame) = ring.read_latest_with_seq().expect("written");
//! assert_eq!((seq, frame.as_str()), (2, "frame 2"));
//!
//! // Reads do not consume, and every reader shares one allocation.
//! let again = ring.read_latest().expect("written");
//! assert!(Arc::ptr_eq(&frame, &again));
//! # Ok::<(), streamlib::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use self::sync::{AtomicU64, AtomicUsize, Ordering, UnsafeCell};
use crate::{Error, Result};

/// Atomics and cells that are loom's under `cfg(loom)` and the standard library's otherwise.
///
/// Payloads stay in `std::sync::Arc` under loom too: the public API hands out `std::sync::Arc<T>`
/// and must be the same type in both builds. The refcount is `Arc`'s own (sound) business; what
/// loom must see is every access to a slot's cell, and those go through loom's `UnsafeCell`.
mod sync {
    #[cfg(loom)]
    pub(crate) use loom::{
        cell::UnsafeCell,
        sync::atomic::{AtomicU64, AtomicUsize, Ordering},
    };
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    /// Lets the thread a write waits for run: under loom, hand over to another modelled thread.
    #[cfg(loom)]
    pub(crate) fn backoff(_round: u32) {
        loom::thread::yield_now();
    }

    /// Lets the thread a write waits for run: spin briefly (it is mid-read, a few instructions),
    /// then yield the processor in case it was descheduled there.
    #[cfg(not(loom))]
    pub(crate) fn backoff(round: u32) {
        const SPIN_ROUNDS: u32 = 6;
        if round < SPIN_ROUNDS {
            for _ in 0..1u32 << round {
                std::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
    }

    /// `std::cell::UnsafeCell` with loom's closure-based access API.
    #[cfg(not(loom))]
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Runs `f` with a shared pointer to the contents.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a mutable pointer to the contents.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// `Slot::state` bit held by the writer that owns the slot's value.
const CLAIMED: usize = 1;
/// One reader inside its read of a slot, counted in `Slot::state` above the claim bit.
const READER: usize = 2;

/// One slot: the value and who is using it.
struct Slot<T> {
    /// Bit 0: [`CLAIMED`] by a writer; above it the number of readers, in units of [`READER`].
    state: AtomicUsize,
    /// Written only by the holder of the claim; read only by a counted reader that confirmed
    /// this slot is the published one.
    value: UnsafeCell<Option<Arc<T>>>,
}

/// A lock-free ring buffer whose readers see the latest value; see the [module docs](crate::ring).
///
/// # Protocol
///
/// `latest` packs the sequence number of the newest write and the index of its slot,
/// `(seq << shift) | index`, so one atomic load tells a reader both; `seq == 0` means nothing
/// was written yet. Each slot has a `state` word (bit 0: claimed by a writer; above it, a count
/// of readers inside a read of that slot) and a cell holding `Option<Arc<T>>`.
///
/// *Read.* Load `latest` (index `i`); count yourself in on slot `i` (`fetch_add`, Acquire);
/// load `latest` again. If it names another slot, count yourself out without touching the value
/// and retry with that slot (only a published write causes a retry). Otherwise clone the `Arc`
/// out of slot `i`, count yourself out (Release) and return it with the second load's `seq`.
///
/// *Write.* Load `latest` = `p`. Claim a slot `j != index(p)` whose state is exactly 0 (no
/// reader, no writer) by CAS 0 → claimed (AcqRel), trying the oldest first. Load `latest`
/// again: if it is no longer exactly `p`, another writer published meanwhile, so release the
/// claim and start over from the new value. Otherwise swap the new `Arc` into slot `j`, publish
/// `(seq + 1, j)` with a CAS (Release; with concurrent writers it retries on top of the newer
/// value, so every write is published and `seq` only grows), release the claim and drop the
/// replaced `Arc` outside the slot.
///
/// *One writer* ([`write_arc_single_writer`](RingBuffer::write_arc_single_writer), an output's
/// path). Nobody else publishes, so `latest` stays `p` without a re-check and a plain store
/// (Release) publishes. The claim is a CAS 0 → 0 (AcqRel): it still proves no reader is inside
/// slot `j` and is still the Release that a later reader's count-in synchronises with (the
/// argument below holds as it is), but it sets no bit, so nothing is released afterwards: one
/// read-modify-write per write instead of two. The shared paths' claim bit still keeps two
/// writers apart; the two paths never run at once (the one-writer method's safety contract).
///
/// *Why a reader never reads a slot while a writer writes it.* A writer touches slot `j` only
/// while holding its claim, which it got when no reader was counted there. A reader counted in
/// before the claim had counted out first, and its Release synchronises with the claim. A reader
/// counted in after the claim synchronises with the claim's Release, so its second load of
/// `latest` happens after the writer's first load `p` and reads `p` or a newer value. Every
/// publication of `j` newer than `p` is either by this writer, after its value is in place
/// (Release/Acquire on `latest`), or by an earlier claim holder of `j`, which happens before
/// this claim and therefore before the writer's second load — which would then not have found
/// `p` unchanged. So the reader either sees another index and backs off, or sees this writer's
/// finished value. Only Acquire/Release is needed, which is what loom checks (loom models
/// `SeqCst` accesses as AcqRel only).
///
/// A weaker re-check, "after claiming, `index(latest) != j`", is not enough once two threads
/// write: the claimer's first load can be stale while another writer publishes `j`; a reader
/// then counts in on `j` after the claim and confirms `j`; the other writer publishes once
/// more, so the claimer's re-check passes and it overwrites `j` while the reader clones it.
/// This holds even with `SeqCst` everywhere, and the loom model `two_writers_one_reader`
/// fails on it. Comparing the whole packed word with `p` (its `seq` makes it unique) closes it.
///
/// Physical slots are `max(slots, 2)`: with one slot the writer would have to overwrite the
/// value readers are cloning, so a second one is always there for the writer to fill while the
/// first stays readable.
///
/// # When a write waits
///
/// A write needs one slot that is neither the latest nor inside a read. A reader occupies a
/// slot only between its `fetch_add` and `fetch_sub`: two loads and an `Arc` clone, no waiting.
/// So with `n` physical slots, a write waits only if `n - 1` readers are all inside that window
/// on distinct old slots at once, and only until one of them finishes it: it spins briefly and
/// then yields the processor, in case a reader was descheduled inside the window. With the
/// default 3 slots one reader can never delay the writer; give a buffer at least `readers + 1`
/// slots (counting only readers that may run at the same moment) to rule waits out entirely.
/// [`writer_waits`](RingBuffer::writer_waits) counts how often it happened.
///
/// # Sequence numbers
///
/// `seq` has `64 - shift` bits, where `shift` is the number of bits of the largest slot index:
/// 62 bits for 3 slots, at least 54 bits for [`MAX_SLOTS`](RingBuffer::MAX_SLOTS). That is
/// more than five years of writes at 100 million per second.
pub struct RingBuffer<T> {
    /// Everything a read or a write touches first, in one cache line: with thousands of
    /// buffers, lines touched per write is what a tick costs.
    header: CachePadded<Header<T>>,
}

struct Header<T> {
    /// `(seq << shift) | index` of the newest published write; 0 before the first.
    latest: AtomicU64,
    slots: Box<[CachePadded<Slot<T>>]>,
    /// Slots asked for (the physical count is at least 2).
    requested: usize,
    /// Bits of `latest` that hold the slot index.
    shift: u32,
    /// Writes that found no free slot and had to wait (slow path only).
    waits: AtomicU64,
}

// SAFETY: `RingBuffer` is `!Sync` only because of the slots' `UnsafeCell`s. Shared access to them
// follows the protocol above: a cell is written only by the one thread holding its slot's claim,
// while no reader that could read it is counted in, and read only by counted-in readers of the
// published slot, which no writer can claim. What crosses threads is `Arc<T>` (stored by one
// thread, cloned and dropped by others), which is `Send + Sync` exactly when `T: Send + Sync`.
unsafe impl<T: Send + Sync> Sync for RingBuffer<T> {}

impl<T> RingBuffer<T> {
    /// Where the header lies (the line every read and write touches first): stable for the
    /// buffer's life; a hint for a prefetch, nothing more.
    pub(crate) fn header_line(&self) -> usize {
        &*self.header as *const Header<T> as usize
    }

    /// Where the state of the slot the next one-writer write claims lies: the one after the
    /// published slot (the oldest), unless a reader is still inside it. A hint for a prefetch.
    pub(crate) fn next_claim_line(&self) -> usize {
        let published = self.index(self.header.latest.load(Ordering::Relaxed));
        &self.header.slots[self.after(published, 1)].state as *const _ as usize
    }

    /// Slots of a [`RingBuffer::default`].
    pub const DEFAULT_SLOTS: usize = 3;

    /// Most slots a buffer can have; more would only shorten the sequence number (see
    /// [Sequence numbers](RingBuffer#sequence-numbers)).
    pub const MAX_SLOTS: usize = 1024;

    /// A buffer of `slots` slots, empty.
    ///
    /// One slot is as good as two: a buffer always has a spare slot for the writer. More slots
    /// let more readers be mid-read at the same instant without the writer waiting for one
    /// (see [When a write waits](RingBuffer#when-a-write-waits)). The buffer keeps the last
    /// `max(slots, 2)` values alive, as their slots are reused in turn; size it with large
    /// payloads (video frames) in mind.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSlots`] if `slots` is 0 or more than [`MAX_SLOTS`](Self::MAX_SLOTS).
    pub fn new(slots: usize) -> Result<Self> {
        if slots == 0 || slots > Self::MAX_SLOTS {
            return Err(Error::InvalidSlots {
                slots,
                max: Self::MAX_SLOTS,
            });
        }
        Ok(Self::with_slots(slots))
    }

    fn with_slots(requested: usize) -> Self {
        let physical = requested.max(2);
        let shift = usize::BITS - (physical - 1).leading_zeros();
        let slots = (0..physical)
            .map(|_| {
                CachePadded::new(Slot {
                    state: AtomicUsize::new(0),
                    value: UnsafeCell::new(None),
                })
            })
            .collect();
        RingBuffer {
            header: CachePadded::new(Header {
                latest: AtomicU64::new(0),
                slots,
                requested,
                shift,
                waits: AtomicU64::new(0),
            }),
        }
    }

    /// Publishes `value` as the newest; never blocks on readers while a spare slot exists.
    ///
    /// The older value this write displaces from its slot is released here: dropped, unless a
    /// reader still holds its `Arc`.
    pub fn write(&self, value: T) {
        self.write_arc(Arc::new(value));
    }

    /// Publishes an `Arc` already shared elsewhere; readers get clones of this very `Arc`.
    pub fn write_arc(&self, value: Arc<T>) {
        drop(self.write_with(value, false));
    }

    /// Publishes `value` as [`write_arc`](Self::write_arc) does, for a buffer whose writes all
    /// come from one thread at a time (an [`Output`](crate::Output), which is not `Sync`, owns
    /// its buffer's writes): no other writer can publish, so the claim needs no re-check of
    /// `latest`, sets no bit that must be released again, and the publication is a plain store
    /// instead of a compare-and-swap (see *One writer* in the type's docs).
    ///
    /// # Safety
    ///
    /// No other write to this buffer (through any write method) may run at the same time.
    /// (With two such writers at once, one could claim the slot the other just published,
    /// with a stale view of `latest`, and overwrite it under a reader; see the type's docs.)
    ///
    /// Returns the value the write displaced from its slot (see [`write`](Self::write)), for
    /// the caller to drop when it suits: an output drops it after its taps have the new value,
    /// so a destructor that does work (a frame giving its shared-memory sample back, about
    /// 2–6 µs after a 1080p frame was drawn) is not on the new value's way to other processes.
    #[must_use = "the displaced value: drop it where its destructor costs least"]
    pub(crate) unsafe fn write_arc_single_writer(&self, value: Arc<T>) -> Option<Arc<T>> {
        self.write_with(value, true)
    }

    /// The write protocol (see the type's docs). `one_writer` is set only by
    /// [`write_arc_single_writer`](Self::write_arc_single_writer), whose caller promises that no
    /// other write runs meanwhile: then `latest` moves only here, so a claim needs no re-check
    /// and a store publishes. Returns the value displaced from the slot claimed.
    #[inline]
    fn write_with(&self, value: Arc<T>, one_writer: bool) -> Option<Arc<T>> {
        let mut expected = self.header.latest.load(Ordering::Acquire);
        let mut round = 0;
        let slot = loop {
            match self.claim_spare(expected, one_writer) {
                Ok(index) => break index,
                Err(Some(newer)) => expected = newer,
                Err(None) => {
                    if round == 0 {
                        self.header.waits.fetch_add(1, Ordering::Relaxed);
                    }
                    sync::backoff(round);
                    round = round.saturating_add(1);
                    expected = self.header.latest.load(Ordering::Acquire);
                }
            }
        };
        let cell = &self.header.slots[slot].value;
        // SAFETY: this thread holds slot `slot`'s claim (with one writer, the CAS 0 → 0 that
        // stands for it), taken when no reader was counted in and
        // with `latest` still at `expected` (re-checked, or unmoved with one writer), which names
        // another slot (see the type's docs). No reader reads the cell until `slot` is published
        // below, and no other writer can claim it, so this is the only access.
        let replaced = cell.with_mut(|value_ptr| unsafe { (*value_ptr).replace(value) });
        if one_writer {
            let next = self.next_latest(expected, slot);
            self.header.latest.store(next, Ordering::Release);
        } else {
            self.publish(expected, slot);
            self.header.slots[slot]
                .state
                .fetch_sub(CLAIMED, Ordering::Release);
        }
        replaced
    }

    /// Claims a slot other than the one `expected` names, oldest first.
    ///
    /// `Err(Some(newer))`: another writer published meanwhile; start over from `newer` (never
    /// with `one_writer`, where nobody else publishes).
    /// `Err(None)`: every other slot is claimed or inside a read; wait and start over.
    fn claim_spare(
        &self,
        expected: u64,
        one_writer: bool,
    ) -> std::result::Result<usize, Option<u64>> {
        let count = self.header.slots.len();
        let published = self.index(expected);
        for offset in 1..count {
            let candidate = self.after(published, offset);
            let state = &self.header.slots[candidate].state;
            // The one writer's claim leaves the word at 0: it only has to learn, with a
            // read-modify-write that readers' counts synchronise with, that no reader is inside
            // the slot; no other writer exists to keep out, so there is no claim to release.
            let claimed = if one_writer { 0 } else { CLAIMED };
            if state
                .compare_exchange(0, claimed, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            if one_writer {
                return Ok(candidate);
            }
            let now = self.header.latest.load(Ordering::Acquire);
            if now == expected {
                return Ok(candidate);
            }
            state.fetch_sub(CLAIMED, Ordering::Release);
            return Err(Some(now));
        }
        Err(None)
    }

    /// Makes `slot` the latest with the next sequence number.
    fn publish(&self, mut expected: u64, slot: usize) {
        loop {
            let next = self.next_latest(expected, slot);
            // Only another writer can have moved `latest` since `expected` was read; publishing
            // on top of its value keeps `seq` increasing and publishes every write.
            match self.header.latest.compare_exchange_weak(
                expected,
                next,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => expected = actual,
            }
        }
    }

    /// The newest value, or `None` before the first write. Does not consume it.
    pub fn read_latest(&self) -> Option<Arc<T>> {
        self.read_latest_with_seq().map(|(_, value)| value)
    }

    /// The newest value and its sequence number (the number of writes published up to and
    /// including it), or `None` before the first write.
    pub fn read_latest_with_seq(&self) -> Option<(u64, Arc<T>)> {
        let mut current = self.header.latest.load(Ordering::Acquire);
        loop {
            if current >> self.header.shift == 0 {
                return None;
            }
            let slot = &self.header.slots[self.index(current)];
            slot.state.fetch_add(READER, Ordering::Acquire);
            let confirmed = self.header.latest.load(Ordering::Acquire);
            if self.index(confirmed) != self.index(current) {
                slot.state.fetch_sub(READER, Ordering::Release);
                current = confirmed;
                continue;
            }
            // SAFETY: this thread is counted in on the slot that `latest` named after the count
            // was taken, so no writer holds or can take its claim until the count is released
            // (see the type's docs); writers only touch the cell under the claim. The published
            // value was written before `confirmed` was stored (Release) and is visible here
            // (Acquire). Cloning an `Arc` cannot unwind, so the count is always released.
            let value = slot.value.with(|value_ptr| unsafe { (*value_ptr).clone() });
            slot.state.fetch_sub(READER, Ordering::Release);
            return value.map(|value| (confirmed >> self.header.shift, value));
        }
    }

    /// True before the first write.
    pub fn is_empty(&self) -> bool {
        self.seq() == 0
    }

    /// Number of writes published so far: the sequence number of the newest value, 0 if none.
    pub fn seq(&self) -> u64 {
        self.header.latest.load(Ordering::Acquire) >> self.header.shift
    }

    /// Slots this buffer was created with (it uses at least 2 internally).
    pub fn slots(&self) -> usize {
        self.header.requested
    }

    /// How many writes had to wait because every spare slot was inside a read (see
    /// [When a write waits](RingBuffer#when-a-write-waits)); if it keeps growing, give the buffer
    /// more slots.
    pub fn writer_waits(&self) -> u64 {
        self.header.waits.load(Ordering::Relaxed)
    }

    /// The `latest` word that publishes `slot` as the write after `expected`: the next sequence
    /// number above the slot bits.
    #[inline]
    fn next_latest(&self, expected: u64, slot: usize) -> u64 {
        (((expected >> self.header.shift) + 1) << self.header.shift) | slot as u64
    }

    /// The slot `offset` (below the slot count) after `slot`, wrapped, without a division.
    #[inline]
    fn after(&self, slot: usize, offset: usize) -> usize {
        match slot + offset {
            wrapped if wrapped >= self.header.slots.len() => wrapped - self.header.slots.len(),
            next => next,
        }
    }

    fn index(&self, latest: u64) -> usize {
        // The mask keeps the value below `slots.len()` (at most MAX_SLOTS), so it fits a usize.
        (latest & ((1 << self.header.shift) - 1)) as usize
    }
}

impl<T> Default for RingBuffer<T> {
    /// An empty buffer of [`DEFAULT_SLOTS`](RingBuffer::DEFAULT_SLOTS) slots.
    fn default() -> Self {
        Self::with_slots(Self::DEFAULT_SLOTS)
    }
}

impl<T> fmt::Debug for RingBuffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingBuffer")
            .field("slots", &self.header.requested)
            .field("seq", &self.seq())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as Counter;
    use std::sync::Barrier;
    use std::thread;

    #[test]
    fn empty_until_the_first_write() {
        let ring = RingBuffer::<u32>::default();
        assert!(ring.is_empty());
        assert_eq!(ring.seq(), 0);
        assert!(ring.read_latest().is_none());
        assert!(ring.read_latest_with_seq().is_none());
        assert_eq!(ring.slots(), RingBuffer::<u32>::DEFAULT_SLOTS);
        ring.write(7);
        assert!(!ring.is_empty());
    }

    #[test]
    fn zero_or_too_many_slots_is_an_error() {
        assert_eq!(
            RingBuffer::<u8>::new(0).err(),
            Some(Error::InvalidSlots {
                slots: 0,
                max: RingBuffer::<u8>::MAX_SLOTS
            })
        );
        let too_many = RingBuffer::<u8>::MAX_SLOTS + 1;
        assert_eq!(
            RingBuffer::<u8>::new(too_many).err(),
            Some(Error::InvalidSlots {
                slots: too_many,
                max: RingBuffer::<u8>::MAX_SLOTS
            })
        );
        assert!(RingBuffer::<u8>::new(RingBuffer::<u8>::MAX_SLOTS).is_ok());
    }

    #[test]
    fn the_latest_write_wins_and_seq_counts_writes() {
        for slots in [1, 2, 3, 4, 5, 8, 1024] {
            let ring = RingBuffer::new(slots).expect("valid size");
            for value in 1..=20u64 {
                ring.write(value);
                assert_eq!(ring.seq(), value);
                let (seq, latest) = ring.read_latest_with_seq().expect("written");
                assert_eq!((seq, *latest), (value, value), "{slots} slots");
            }
        }
    }

    #[test]
    fn reads_do_not_consume() {
        let ring = RingBuffer::new(1).expect("valid size");
        ring.write("a");
        for _ in 0..5 {
            assert_eq!(
                ring.read_latest_with_seq().map(|(s, v)| (s, *v)),
                Some((1, "a"))
            );
        }
    }

    #[test]
    fn fan_out_shares_one_arc() {
        let ring = RingBuffer::default();
        let frame = Arc::new(vec![0u8; 1024]);
        ring.write_arc(Arc::clone(&frame));
        let first = ring.read_latest().expect("written");
        let second = ring.read_latest().expect("written");
        assert!(Arc::ptr_eq(&first, &frame) && Arc::ptr_eq(&second, &frame));
    }

    #[test]
    fn debug_names_slots_and_seq() {
        let ring = RingBuffer::new(4).expect("valid size");
        ring.write(1);
        assert_eq!(format!("{ring:?}"), "RingBuffer { slots: 4, seq: 1, .. }");
    }

    #[test]
    fn the_next_claim_line_is_the_slot_the_next_write_takes() {
        let ring = RingBuffer::<u64>::new(3).unwrap();
        let state = |slot: usize| &ring.header.slots[slot].state as *const _ as usize;
        for value in 0..10u64 {
            let predicted = ring.next_claim_line();
            // SAFETY (test): this thread is the buffer's only writer.
            drop(unsafe { ring.write_arc_single_writer(Arc::new(value)) });
            let published = ring.index(ring.header.latest.load(Ordering::Relaxed));
            assert_eq!(predicted, state(published), "write {value}");
        }
    }

    #[test]
    fn ring_buffer_is_send_and_sync() {
        fn assert_send_sync<S: Send + Sync>() {}
        assert_send_sync::<RingBuffer<Vec<u8>>>();
    }

    /// Readers on many threads while one thread writes 1, 2, 3…: each read is a written value,
    /// carries its own seq, and never goes backwards.
    #[test]
    fn concurrent_readers_see_written_values_in_order() {
        const WRITES: u64 = 100_000;
        for slots in [1, 3] {
            let ring = RingBuffer::new(slots).expect("valid size");
            thread::scope(|scope| {
                for _ in 0..4 {
                    scope.spawn(|| {
                        let mut last = 0;
                        while last < WRITES {
                            if let Some((seq, value)) = ring.read_latest_with_seq() {
                                assert_eq!(seq, *value, "value carries its own seq");
                                assert!(seq >= last, "went back from {last} to {seq}");
                                last = seq;
                            }
                        }
                    });
                }
                scope.spawn(|| (1..=WRITES).for_each(|value| ring.write(value)));
            });
            assert_eq!(ring.seq(), WRITES);
        }
    }

    /// Not the intended use, but it must stay sound: every write is published once, and
    /// readers never see `seq` go backwards.
    #[test]
    fn concurrent_writers_are_safe() {
        const WRITERS: u64 = 3;
        const WRITES: u64 = 30_000;
        let ring = RingBuffer::new(2).expect("valid size");
        let done = Counter::new(0);
        thread::scope(|scope| {
            for writer in 0..WRITERS {
                let (ring, done) = (&ring, &done);
                scope.spawn(move || {
                    for n in 0..WRITES {
                        ring.write((writer, n));
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
            scope.spawn(|| {
                let mut last_seq = 0;
                let mut last_of = [None; WRITERS as usize];
                while done.load(Ordering::SeqCst) < WRITERS as usize {
                    if let Some((seq, value)) = ring.read_latest_with_seq() {
                        let (writer, n) = *value;
                        assert!(seq >= last_seq);
                        let previous = &mut last_of[writer as usize];
                        assert!(previous.is_none_or(|p| n >= p), "writer {writer} went back");
                        *previous = Some(n);
                        last_seq = seq;
                    }
                }
            });
        });
        assert_eq!(ring.seq(), WRITERS * WRITES);
    }

    struct Counted<'a>(&'a [Counter]);

    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0[0].fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn every_value_is_dropped_exactly_once() {
        const WRITES: usize = 10_000;
        let drops = [Counter::new(0)];
        let ring = RingBuffer::new(3).expect("valid size");
        let start = Barrier::new(3);
        thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    start.wait();
                    for _ in 0..WRITES {
                        drop(ring.read_latest());
                    }
                });
            }
            start.wait();
            for _ in 0..WRITES {
                ring.write(Counted(&drops));
            }
        });
        // Every value but those still in the 3 slots was dropped when overwritten.
        let dropped = drops[0].load(Ordering::SeqCst);
        assert!(WRITES - dropped <= 3, "{dropped} dropped of {WRITES}");
        let held = ring.read_latest();
        drop(ring);
        assert_eq!(
            drops[0].load(Ordering::SeqCst),
            WRITES - 1,
            "a reader holds one"
        );
        drop(held);
        assert_eq!(drops[0].load(Ordering::SeqCst), WRITES);
    }

    #[test]
    fn a_dropped_empty_buffer_drops_nothing() {
        let drops = [Counter::new(0)];
        let ring = RingBuffer::<Counted<'_>>::new(5).expect("valid size");
        drop(ring);
        assert_eq!(drops[0].load(Ordering::SeqCst), 0);
    }
}

/// Loom models of the one-writer path (the shared paths' models are in `tests/loom_ring.rs`).
/// Run: `RUSTFLAGS="--cfg loom" cargo test -p streamlib --release --lib loom_`.
#[cfg(all(test, loom))]
mod loom_single_writer {
    use super::RingBuffer;
    use loom::thread;
    use std::sync::Arc;

    /// A value whose two halves must match: a torn read shows.
    struct Pair(u64, u64);

    /// Reads twice: each value whole, one that was written, with its own seq, never older.
    fn read_twice(ring: &RingBuffer<Pair>, writes: u64) {
        let mut last = 0;
        for _ in 0..2 {
            if let Some((seq, pair)) = ring.read_latest_with_seq() {
                assert_eq!(pair.0, pair.1, "torn value");
                assert!(
                    (1..=writes).contains(&pair.0),
                    "{} was never written",
                    pair.0
                );
                assert_eq!(seq, pair.0, "seq of another value");
                assert!(seq >= last, "went back from {last} to {seq}");
                last = seq;
            }
        }
    }

    /// `writes` values written on the one-writer path while `readers` threads read twice; with
    /// two readers the model is bounded to 4 preemptions, as `tests/loom_ring.rs` does.
    fn write_while_readers_read(slots: usize, readers: usize, writes: u64) {
        let mut builder = loom::model::Builder::new();
        if readers > 1 {
            builder.preemption_bound = Some(4);
        }
        builder.check(move || {
            let ring = Arc::new(RingBuffer::new(slots).expect("valid size"));
            let readers: Vec<_> = (0..readers)
                .map(|_| {
                    let ring = Arc::clone(&ring);
                    thread::spawn(move || read_twice(&ring, writes))
                })
                .collect();
            for value in 1..=writes {
                // SAFETY: this thread is the only writer.
                drop(unsafe { ring.write_arc_single_writer(Arc::new(Pair(value, value))) });
            }
            for reader in readers {
                reader.join().expect("reader panicked");
            }
            let newest = ring.read_latest_with_seq().expect("written");
            assert_eq!((newest.0, newest.1 .0), (writes, writes));
        });
    }

    #[test]
    fn loom_one_writer_path_with_one_reader() {
        write_while_readers_read(3, 1, 3);
    }

    #[test]
    fn loom_one_writer_path_with_one_reader_and_the_smallest_buffer() {
        write_while_readers_read(1, 1, 3);
    }

    #[test]
    fn loom_one_writer_path_with_two_readers() {
        write_while_readers_read(3, 2, 2);
    }
}
