//! 1080p frame fan-out: one output, 8 readers, each iteration writes one 1920×1080 RGBA frame
//! and every reader takes the newest. streamlib shares one `Arc` among the readers; beside it,
//! in the same group, the designs it replaces: a crossbeam channel per reader carrying an `Arc`
//! (queueing), and a copy of the bytes per reader (what a copying framework does).
//!
//! Run: `cargo bench -p streamlib --bench fanout`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use streamlib::{connect, Input, Output, PixelFormat, Timestamp, VideoFrame};

const READERS: usize = 8;

fn frame() -> VideoFrame {
    let bytes = vec![128u8; 1920 * 1080 * 4];
    VideoFrame::new(
        1920,
        1080,
        PixelFormat::Rgba8,
        bytes,
        Timestamp::from_nanos(0),
        0,
    )
    .expect("valid 1080p frame")
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_1080p_8_readers");
    group
        .throughput(Throughput::Elements(1))
        .sample_size(30)
        .measurement_time(Duration::from_secs(3));
    let source = frame();

    let output = Output::<VideoFrame>::new();
    let inputs: Vec<Input<VideoFrame>> = (0..READERS).map(|_| Input::new()).collect();
    for input in &inputs {
        connect(&output.to_ref(), &input.to_ref()).expect("connect");
    }
    group.bench_function("streamlib_shared_arc", |b| {
        b.iter(|| {
            output.write(source.clone());
            for input in &inputs {
                black_box(input.read_latest());
            }
        })
    });

    let channels: Vec<_> = (0..READERS)
        .map(|_| crossbeam_channel::bounded::<Arc<VideoFrame>>(1))
        .collect();
    group.bench_function("crossbeam_channel_per_reader", |b| {
        b.iter(|| {
            let shared = Arc::new(source.clone());
            for (tx, _) in &channels {
                let _ = tx.try_send(shared.clone());
            }
            for (_, rx) in &channels {
                black_box(rx.try_recv().ok());
            }
        })
    });

    group.bench_function("copy_per_reader", |b| {
        b.iter(|| {
            for _ in 0..READERS {
                black_box(source.data().to_vec());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
