//! `RingBuffer` beside well-kept alternatives, measured in one run.
//!
//! ```text
//! cargo bench --bench ring
//! ```
//!
//! - `write_read_latest`: one thread writes a fresh `Arc<u64>` and reads an owned `Arc<u64>` of
//!   the latest value back, per iteration: streamlib's `RingBuffer` (its shared path), the same
//!   behind a connected `Output`/`Input` (the output's one-writer path), `triple_buffer` carrying
//!   `Arc<u64>` (write, read, clone the `Arc`), `arc_swap::ArcSwap` (`store` + `load_full`) and a
//!   `parking_lot::Mutex` around three slots and an index.
//! - `handoff_latency`: a writer thread publishes an `Instant` every ~10 µs (spin-paced); the
//!   reader spins until it sees a new value and records `now - instant`. Criterion reports the
//!   median of each sample; the p50/p99 of all recorded handoffs are printed to stderr. Same
//!   four designs (the mutex guards a seq and one `Arc`), plus the floor `ping_pong`: half the
//!   round trip of a value bounced between two threads through one cache line.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use crossbeam_utils::CachePadded;
use parking_lot::Mutex;
use streamlib::RingBuffer;

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group
}

/// The lock-based baseline: three slots and the index of the newest.
struct MutexRing {
    inner: Mutex<([Option<Arc<u64>>; 3], usize)>,
}

impl MutexRing {
    fn write(&self, value: Arc<u64>) {
        let replaced = {
            let mut guard = self.inner.lock();
            let (slots, newest) = &mut *guard;
            *newest = (*newest + 1) % slots.len();
            slots[*newest].replace(value)
        };
        drop(replaced);
    }

    fn read_latest(&self) -> Option<Arc<u64>> {
        let guard = self.inner.lock();
        guard.0[guard.1].clone()
    }
}

fn write_read_latest(c: &mut Criterion) {
    let mut group = configure(c, "write_read_latest");

    let ring = RingBuffer::<u64>::new(3).expect("3 slots");
    let mut value = 0u64;
    group.bench_function("streamlib_ring", |b| {
        b.iter(|| {
            value += 1;
            ring.write(value);
            black_box(ring.read_latest())
        })
    });

    // The same buffer behind an output and an input: the output is the buffer's one writer
    // and takes the one-writer path (no re-check, a plain store to publish); the input reads
    // through its cached upstream and counts the read.
    let port = streamlib::Output::<u64>::new();
    let reader = streamlib::Input::<u64>::new();
    streamlib::connect(&port.to_ref(), &reader.to_ref()).expect("fresh ports");
    group.bench_function("streamlib_output_input", |b| {
        b.iter(|| {
            value += 1;
            port.write(value);
            black_box(reader.read_latest())
        })
    });

    let (mut input, mut output) = triple_buffer::triple_buffer(&Arc::new(0u64));
    group.bench_function("triple_buffer", |b| {
        b.iter(|| {
            value += 1;
            input.write(Arc::new(value));
            black_box(Arc::clone(output.read()))
        })
    });

    let swap = ArcSwap::from_pointee(0u64);
    group.bench_function("arc_swap", |b| {
        b.iter(|| {
            value += 1;
            swap.store(Arc::new(value));
            black_box(swap.load_full())
        })
    });

    let mutex = MutexRing {
        inner: Mutex::new(([None, None, None], 0)),
    };
    group.bench_function("parking_lot_mutex", |b| {
        b.iter(|| {
            value += 1;
            mutex.write(Arc::new(value));
            black_box(mutex.read_latest())
        })
    });

    group.finish();
}

/// Spins until `deadline`, then returns the next one, `PERIOD` later.
fn pace(deadline: Instant) -> Instant {
    const PERIOD: Duration = Duration::from_micros(10);
    while Instant::now() < deadline {
        std::hint::spin_loop();
    }
    deadline + PERIOD
}

/// Latencies recorded by every `iter_custom` call of one benchmark, warm-up included.
#[derive(Default)]
struct Latencies(Vec<Duration>);

impl Latencies {
    /// Keeps `samples` and returns their median scaled to `iters`, as `iter_custom` expects.
    ///
    /// The median, not the mean: on a 2-core machine both cores spin here, and a single
    /// preemption of either thread (milliseconds) would dominate a mean of ~100 ns handoffs.
    /// The tail is in the p99 printed by `report`.
    fn record(&mut self, iters: u64, samples: &[Duration]) -> Duration {
        self.0.extend_from_slice(samples);
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
        Duration::from_nanos((median.as_nanos() * u128::from(iters)) as u64)
    }

    fn report(mut self, name: &str) {
        if self.0.is_empty() {
            return;
        }
        self.0.sort_unstable();
        let at = |q: f64| self.0[((self.0.len() - 1) as f64 * q) as usize];
        eprintln!(
            "handoff_latency/{name}: p50 {:?}  p99 {:?}  ({} handoffs seen)",
            at(0.50),
            at(0.99),
            self.0.len()
        );
    }
}

/// Runs `iters` handoffs: `publish` on a paced writer thread, `poll` on this thread until it
/// returns a new instant. Returns one latency per value seen: a value superseded before the
/// reader polled (rare at this pace) is not seen, as a latest-value reader would not see it.
fn handoffs<W, R>(iters: u64, mut publish: W, mut poll: R) -> Vec<Duration>
where
    W: FnMut(Instant) + Send,
    R: FnMut() -> Option<Instant>,
{
    let mut samples = Vec::with_capacity(iters as usize);
    let finished = AtomicBool::new(false);
    thread::scope(|scope| {
        scope.spawn(|| {
            let mut deadline = Instant::now() + Duration::from_micros(50);
            for _ in 0..iters {
                deadline = pace(deadline);
                publish(Instant::now());
            }
            finished.store(true, Ordering::Release);
        });
        loop {
            let writer_done = finished.load(Ordering::Acquire);
            if let Some(sent) = poll() {
                samples.push(sent.elapsed());
            } else if writer_done {
                break;
            }
        }
    });
    samples
}

fn handoff_latency(c: &mut Criterion) {
    let mut group = configure(c, "handoff_latency");

    let mut latencies = Latencies::default();
    group.bench_function("streamlib_ring", |b| {
        b.iter_custom(|iters| {
            let ring = RingBuffer::<Instant>::new(3).expect("3 slots");
            let mut seen = 0;
            let samples = handoffs(
                iters,
                |now| ring.write(now),
                || match ring.read_latest_with_seq() {
                    Some((seq, sent)) if seq != seen => {
                        seen = seq;
                        Some(*sent)
                    }
                    _ => None,
                },
            );
            latencies.record(iters, &samples)
        })
    });
    latencies.report("streamlib_ring");

    let mut latencies = Latencies::default();
    group.bench_function("triple_buffer", |b| {
        b.iter_custom(|iters| {
            let start = Arc::new(Instant::now());
            let (mut input, mut output) = triple_buffer::triple_buffer(&start);
            let samples = handoffs(
                iters,
                |now| input.write(Arc::new(now)),
                || output.update().then(|| *Arc::clone(output.output_buffer())),
            );
            latencies.record(iters, &samples)
        })
    });
    latencies.report("triple_buffer");

    let mut latencies = Latencies::default();
    group.bench_function("arc_swap", |b| {
        b.iter_custom(|iters| {
            let swap = ArcSwap::from_pointee(Instant::now());
            let mut last = swap.load_full();
            let samples = handoffs(
                iters,
                |now| swap.store(Arc::new(now)),
                || {
                    let current = swap.load_full();
                    if Arc::ptr_eq(&current, &last) {
                        return None;
                    }
                    last = current;
                    Some(*last)
                },
            );
            latencies.record(iters, &samples)
        })
    });
    latencies.report("arc_swap");

    let mut latencies = Latencies::default();
    group.bench_function("parking_lot_mutex", |b| {
        b.iter_custom(|iters| {
            let mutex = Mutex::new((0u64, Arc::new(Instant::now())));
            let mut seen = 0;
            let samples = handoffs(
                iters,
                |now| {
                    let value = Arc::new(now);
                    let replaced = {
                        let mut guard = mutex.lock();
                        guard.0 += 1;
                        std::mem::replace(&mut guard.1, value)
                    };
                    drop(replaced);
                },
                || {
                    let (seq, sent) = {
                        let guard = mutex.lock();
                        (guard.0, Arc::clone(&guard.1))
                    };
                    (seq != seen).then(|| {
                        seen = seq;
                        *sent
                    })
                },
            );
            latencies.record(iters, &samples)
        })
    });
    latencies.report("parking_lot_mutex");

    let mut latencies = Latencies::default();
    group.bench_function("ping_pong", |b| {
        b.iter_custom(|iters| {
            let line = CachePadded::new(AtomicU64::new(0));
            let done = AtomicBool::new(false);
            let mut samples = Vec::with_capacity(iters as usize);
            thread::scope(|scope| {
                scope.spawn(|| {
                    // Echo every odd value back as the next even one.
                    while !done.load(Ordering::Relaxed) {
                        let seen = line.load(Ordering::Acquire);
                        if seen % 2 == 1 {
                            line.store(seen + 1, Ordering::Release);
                        }
                        std::hint::spin_loop();
                    }
                });
                for trip in 0..iters {
                    let ball = 2 * trip + 1;
                    let sent = Instant::now();
                    line.store(ball, Ordering::Release);
                    while line.load(Ordering::Acquire) != ball + 1 {
                        std::hint::spin_loop();
                    }
                    samples.push(sent.elapsed() / 2);
                }
                done.store(true, Ordering::Relaxed);
            });
            latencies.record(iters, &samples)
        })
    });
    latencies.report("ping_pong (round trip / 2)");

    group.finish();
}

criterion_group!(benches, write_read_latest, handoff_latency);
criterion_main!(benches);
