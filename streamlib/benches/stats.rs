//! `stats::Histogram::record` beside its floors, measured in one run.
//!
//! ```text
//! cargo bench --bench stats
//! ```
//!
//! - `histogram_record`: one thread records a steady duration (the common case: an actor's
//!   process time stays in one power of two, so a record touches the run window and the maximum).
//!   streamlib's `Histogram::record` (a compare-and-swap of the window, any number of writers)
//!   beside two floors: `fetch_add`, one locked read-modify-write of a counter (what any
//!   multi-writer count costs at least), and `load_store`, a relaxed load and store of a counter
//!   (what a count costs when only one thread may write).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use streamlib::stats::Histogram;

fn histogram_record(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram_record");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let value = Duration::from_micros(12);
    let histogram = Histogram::default();
    group.bench_function("streamlib", |b| {
        b.iter(|| histogram.record(black_box(value)))
    });
    let counter = AtomicU64::new(0);
    group.bench_function("fetch_add", |b| {
        b.iter(|| counter.fetch_add(black_box(1), Ordering::Relaxed))
    });
    let counter = AtomicU64::new(0);
    group.bench_function("load_store", |b| {
        b.iter(|| {
            let now = counter.load(Ordering::Relaxed);
            counter.store(now.wrapping_add(black_box(1)), Ordering::Relaxed)
        })
    });
    group.finish();
}

criterion_group!(benches, histogram_record);
criterion_main!(benches);
