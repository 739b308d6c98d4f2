//! Loom models of the `RingBuffer` protocol (see `src/ring.rs`).
//!
//! Loom explores the interleavings of the modelled threads and the values each load may read
//! under its memory model; its `UnsafeCell` fails the model on any access to a slot's value that
//! races a write. Run from the `streamlib` directory:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release --test loom_ring
//! ```
//!
//! Models without an explicit bound are exhaustive (every interleaving); the two with three
//! threads bound preemptions to 4 themselves to finish in seconds. The whole file runs in about
//! 20 s on 2 cores. The library must be built with `--cfg loom` too, which is why `loom` is a
//! `cfg(loom)` dependency of the library and not only a dev-dependency.
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};

use loom::sync::Arc;
use loom::thread;
use streamlib::RingBuffer;

/// A payload that a torn read would show: both halves are always written equal.
#[derive(Debug)]
struct Pair {
    first: u64,
    second: u64,
}

impl Pair {
    fn new(value: u64) -> Self {
        Pair {
            first: value,
            second: value,
        }
    }

    /// The value, after checking the pair is whole.
    fn value(&self) -> u64 {
        assert_eq!(self.first, self.second, "torn value");
        self.first
    }
}

/// Reads twice; checks each value is one that was written (1..=writes, with its own seq) and
/// that the second read is not older than the first. Returns the seq last seen.
fn read_twice(ring: &RingBuffer<Pair>, writes: u64) -> u64 {
    let mut last = 0;
    for _ in 0..2 {
        if let Some((seq, pair)) = ring.read_latest_with_seq() {
            let value = pair.value();
            assert!((1..=writes).contains(&value), "{value} was never written");
            assert_eq!(seq, value, "seq of another value");
            assert!(seq >= last, "went back from {last} to {seq}");
            last = seq;
        } else {
            assert_eq!(last, 0, "empty after a value was seen");
        }
    }
    last
}

fn model(builder: loom::model::Builder, f: impl Fn() + Sync + Send + 'static) {
    builder.check(f);
}

fn bounded(preemptions: usize) -> loom::model::Builder {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder
}

/// One modelled thread reads twice (checking every value, see [`read_twice`]) while this one
/// writes 1, 2, 3 into a ring of `slots`; returns the ring and the last seq the reader saw.
fn write_three_while_reading(slots: usize) -> (Arc<RingBuffer<Pair>>, u64) {
    let ring = Arc::new(RingBuffer::new(slots).expect("valid size"));
    let reader = {
        let ring = Arc::clone(&ring);
        thread::spawn(move || read_twice(&ring, 3))
    };
    for value in 1..=3 {
        ring.write(Pair::new(value));
    }
    let seen = reader.join().expect("reader panicked");
    (ring, seen)
}

/// (a) One writer, one reader: no torn value, nothing invented, never backwards.
#[test]
fn one_writer_one_reader() {
    loom::model(|| {
        let (ring, seen) = write_three_while_reading(3);
        assert!(seen <= 3);
        assert_eq!(ring.read_latest().map(|pair| pair.value()), Some(3));
    });
}

/// (a) The same with the smallest buffer: one slot asked for, two used.
#[test]
fn one_writer_one_reader_one_slot() {
    loom::model(|| {
        let (ring, _) = write_three_while_reading(1);
        assert_eq!(ring.seq(), 3);
    });
}

/// (b) Two readers and one writer.
#[test]
fn one_writer_two_readers() {
    model(bounded(4), || {
        let ring = Arc::new(RingBuffer::new(3).expect("valid size"));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let ring = Arc::clone(&ring);
                thread::spawn(move || read_twice(&ring, 2))
            })
            .collect();
        for value in 1..=2 {
            ring.write(Pair::new(value));
        }
        for reader in readers {
            reader.join().expect("reader panicked");
        }
    });
}

/// (c) A reader stopped anywhere inside a read — the model includes every point where it can
/// be descheduled while the writer runs on — never makes the writer of a 3-slot buffer wait:
/// all three writes complete without a single wait, in every interleaving.
#[test]
fn a_stalled_reader_never_stops_the_writer() {
    loom::model(|| {
        let ring = Arc::new(RingBuffer::new(3).expect("valid size"));
        let reader = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || read_twice(&ring, 3))
        };
        for value in 1..=3 {
            ring.write(Pair::new(value));
        }
        assert_eq!(ring.writer_waits(), 0, "the writer waited for a reader");
        assert_eq!(ring.seq(), 3);
        reader.join().expect("reader panicked");
    });
}

/// (c) With too few slots for its readers (one slot, two used, and a reader) a write can wait,
/// but only for a read in progress: the model terminates, so the wait always ends, and the
/// writes all land.
#[test]
fn a_write_that_waits_for_a_reader_completes() {
    let waited = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&waited);
    loom::model(move || {
        let ring = Arc::new(RingBuffer::new(1).expect("valid size"));
        let reader = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || read_twice(&ring, 3))
        };
        for value in 1..=3 {
            ring.write(Pair::new(value));
        }
        assert_eq!(ring.seq(), 3);
        if ring.writer_waits() > 0 {
            counted.fetch_add(1, Ordering::Relaxed);
        }
        reader.join().expect("reader panicked");
    });
    assert!(
        waited.load(Ordering::Relaxed) > 0,
        "the model should include a write waiting for a reader"
    );
}

/// A payload that records its drop: a second drop of one value fails the model.
struct Tracked {
    id: usize,
    drops: std::sync::Arc<[AtomicUsize; 3]>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let before = self.drops[self.id].fetch_add(1, Ordering::SeqCst);
        assert_eq!(before, 0, "value {} dropped twice", self.id);
    }
}

/// (d) Every written value is dropped exactly once, wherever its last `Arc` ends up.
#[test]
fn every_value_is_dropped_exactly_once() {
    loom::model(|| {
        let drops = std::sync::Arc::new([const { AtomicUsize::new(0) }; 3]);
        let ring = Arc::new(RingBuffer::new(1).expect("valid size"));
        let reader = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || {
                let held = ring.read_latest();
                drop(ring.read_latest());
                held
            })
        };
        for id in 0..3 {
            ring.write(Tracked {
                id,
                drops: std::sync::Arc::clone(&drops),
            });
        }
        let held = reader.join().expect("reader panicked");
        drop(ring);
        drop(held);
        for (id, count) in drops.iter().enumerate() {
            assert_eq!(count.load(Ordering::SeqCst), 1, "value {id}");
        }
    });
}

/// Concurrent writers (not the intended use) stay sound: no torn or racy read, every write
/// published with its own seq, seq never backwards for the reader.
#[test]
fn two_writers_one_reader() {
    model(bounded(4), || {
        let ring = Arc::new(RingBuffer::new(2).expect("valid size"));
        let writer = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || {
                ring.write(Pair::new(1));
                ring.write(Pair::new(1));
            })
        };
        let reader = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || {
                let mut last = 0;
                for _ in 0..2 {
                    if let Some((seq, pair)) = ring.read_latest_with_seq() {
                        assert!((1..=2).contains(&pair.value()));
                        assert!(seq >= last);
                        last = seq;
                    }
                }
            })
        };
        ring.write(Pair::new(2));
        writer.join().expect("writer panicked");
        reader.join().expect("reader panicked");
        assert_eq!(ring.seq(), 3);
    });
}
