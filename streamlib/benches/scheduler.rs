//! Scheduler cost: CPU time spent per 100 ms of wall time by N near-idle actors on one 60 Hz
//! clock, for N = 100, 1,000, 10,000, beside the naive design (one sleeping thread per actor).
//!
//! Each "iteration" sleeps 100 ms of wall time and reports the process CPU time consumed, so the
//! figure criterion prints as time per iteration is CPU per 100 ms: 10 ms means 10 % of one core.
//!
//! Run: `cargo bench -p streamlib --bench scheduler`

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use streamlib::{
    Actor, Output, OutputRef, PortBinder, Process, ProcessResult, Rate, Runtime, SoftwareClock,
    Tick,
};

const WINDOW: Duration = Duration::from_millis(100);

/// An actor with the least work a real one does: write one value per tick.
#[derive(Default)]
struct Idle {
    value: Output<u64>,
}

impl Actor for Idle {
    type Inputs = ();
    type Outputs = OutputRef<u64>;
    fn class_name() -> &'static str {
        "Idle"
    }
    fn bind_ports(&self, p: &mut PortBinder<'_>) -> ((), OutputRef<u64>) {
        ((), p.output("value", &self.value))
    }
}

impl Process for Idle {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number);
        Ok(())
    }
}

fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; the clock id is supported on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn cpu_per_window(iters: u64) -> Duration {
    let start = cpu_time();
    std::thread::sleep(WINDOW * iters as u32);
    cpu_time() - start
}

/// The naive alternative: one thread per actor, each sleeping to its own absolute deadline.
fn thread_per_actor(n: usize) -> (Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let period = Duration::from_nanos(16_666_667);
    let origin = Instant::now();
    let threads = (0..n)
        .map(|_| {
            let stop = stop.clone();
            let out = Arc::new(AtomicU64::new(0));
            std::thread::spawn(move || {
                let mut frame = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    frame += 1;
                    let deadline = origin + period * frame;
                    if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    out.store(u64::from(frame), Ordering::Relaxed);
                }
            })
        })
        .collect();
    (stop, threads)
}

fn scheduler_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("cpu_per_100ms_at_60hz");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for n in [100usize, 1_000, 10_000] {
        let rt = Runtime::new();
        let clock = SoftwareClock::new(Rate::fps(60).unwrap());
        let handles: Vec<_> = (0..n)
            .map(|i| {
                rt.spawn_on(Idle::default(), &format!("a{i}"), &clock)
                    .unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        group.bench_function(BenchmarkId::new("streamlib", n), |b| {
            b.iter_custom(cpu_per_window)
        });
        let ticks: u64 = handles.iter().map(|h| h.stats().ticks).sum();
        let skipped: u64 = handles.iter().map(|h| h.stats().skipped_ticks).sum();
        eprintln!("streamlib n={n}: {ticks} actor-ticks run, {skipped} skipped");
        rt.shutdown();
    }
    for n in [100usize, 1_000] {
        let (stop, threads) = thread_per_actor(n);
        std::thread::sleep(Duration::from_millis(200));
        group.bench_function(BenchmarkId::new("thread_per_actor", n), |b| {
            b.iter_custom(cpu_per_window)
        });
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            let _ = t.join();
        }
    }
    group.finish();
}

criterion_group!(benches, scheduler_cost);
criterion_main!(benches);
