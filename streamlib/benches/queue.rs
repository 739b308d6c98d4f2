//! A queued input beside crossbeam's `ArrayQueue` (the floor: the same bounded lock-free queue
//! with nothing around it), measured in one run.
//!
//! ```text
//! cargo bench --bench queue
//! ```
//!
//! - `one_by_one`: write one value, read it back. streamlib: `Output::write` + `Input::read_new`
//!   on a queued input (`queue = 1024`); floor: `force_push(Arc::new(v))` + `pop` on an
//!   `ArrayQueue<Arc<u64>>` of 1024. Both allocate the `Arc` a value travels in. A second floor,
//!   `ring_plus_array_queue`, does the same work as the port: an output's write also publishes
//!   the value as the newest (a `RingBuffer` write) for latest-value readers and tools.
//! - `burst_of_64`: write 64 values, then drain them (the 10 Hz reader of a 100 Hz writer, in
//!   small): `drain()` against 64 `pop`s. Reported per burst.
//! - `fan_out_to_4`: one write reaching four queued readers, each reading it: against four
//!   `ArrayQueue`s, each pushed a clone of one `Arc`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use crossbeam_queue::ArrayQueue;
use streamlib::{connect, Input, Output, RingBuffer};

const CAPACITY: usize = 1024;

fn queued_pair() -> (Output<u64>, Input<u64>) {
    let output = Output::new();
    let input = Input::queued(CAPACITY).expect("a valid size");
    connect(&output.to_ref(), &input.to_ref()).expect("fresh ports connect");
    (output, input)
}

fn configure<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group
}

fn one_by_one(c: &mut Criterion) {
    let mut group = configure(c, "queue/one_by_one");
    let floor = ArrayQueue::<Arc<u64>>::new(CAPACITY);
    let mut v = 0u64;
    group.bench_function("array_queue", |b| {
        b.iter(|| {
            v += 1;
            let _ = floor.force_push(Arc::new(black_box(v)));
            black_box(floor.pop())
        })
    });
    // The same work without the port around it: every write of an output also publishes the
    // newest value for latest-value readers (a ring buffer write) before it is queued.
    let ring = RingBuffer::<u64>::default();
    group.bench_function("ring_plus_array_queue", |b| {
        b.iter(|| {
            v += 1;
            let value = Arc::new(black_box(v));
            ring.write_arc(value.clone());
            let _ = floor.force_push(value);
            black_box(floor.pop())
        })
    });
    let (output, mut input) = queued_pair();
    group.bench_function("streamlib", |b| {
        b.iter(|| {
            v += 1;
            output.write(black_box(v));
            black_box(input.read_new())
        })
    });
    group.finish();
}

fn burst_of_64(c: &mut Criterion) {
    let mut group = configure(c, "queue/burst_of_64");
    let floor = ArrayQueue::<Arc<u64>>::new(CAPACITY);
    group.bench_function("array_queue", |b| {
        b.iter(|| {
            for v in 0..64u64 {
                let _ = floor.force_push(Arc::new(black_box(v)));
            }
            let mut sum = 0;
            while let Some(v) = floor.pop() {
                sum += *v;
            }
            black_box(sum)
        })
    });
    let (output, mut input) = queued_pair();
    group.bench_function("streamlib", |b| {
        b.iter(|| {
            for v in 0..64u64 {
                output.write(black_box(v));
            }
            black_box(input.drain().map(|v| *v).sum::<u64>())
        })
    });
    group.finish();
}

fn fan_out_to_4(c: &mut Criterion) {
    let mut group = configure(c, "queue/fan_out_to_4");
    let floors: Vec<ArrayQueue<Arc<u64>>> = (0..4).map(|_| ArrayQueue::new(CAPACITY)).collect();
    let mut v = 0u64;
    group.bench_function("array_queue", |b| {
        b.iter(|| {
            v += 1;
            let value = Arc::new(black_box(v));
            for q in &floors {
                let _ = q.force_push(value.clone());
            }
            for q in &floors {
                black_box(q.pop());
            }
        })
    });
    let output = Output::new();
    let mut inputs: Vec<Input<u64>> = (0..4)
        .map(|_| {
            let input = Input::queued(CAPACITY).expect("a valid size");
            connect(&output.to_ref(), &input.to_ref()).expect("fresh ports connect");
            input
        })
        .collect();
    group.bench_function("streamlib", |b| {
        b.iter(|| {
            v += 1;
            output.write(black_box(v));
            for input in &mut inputs {
                black_box(input.read_new());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, one_by_one, burst_of_64, fan_out_to_4);
criterion_main!(benches);
