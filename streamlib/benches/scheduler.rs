//! Scheduler cost: CPU time spent per 100 ms of wall time by N near-idle actors on one 60 Hz
//! clock, for N = 1,000, 10,000, 100,000, with 2, 4 and all workers, beside the floor (one thread
//! looping over N boxed trait objects that read the clock once and bump a counter) and the naive
//! design (one sleeping thread per actor); and B independent chains of L busy actors on one
//! 100 Hz clock, with the rate achieved.
//!
//! Two kinds of near-idle actor: `Idle` writes one value per tick (the least a real actor does:
//! an allocation, a ring buffer publication, the value it replaces freed), `Empty` has no ports
//! and returns at once — the scheduler's own cost per actor-tick, the floor's exact counterpart
//! (`streamlib_empty_2_workers`). And N actors as N/2 pairs, an `Idle` writer feeding a `Reader`
//! that reads the newest value each tick (`streamlib_pairs_2_workers`): half the actors are no
//! root of the tick but run right after their writer, the shape of a chain. And N actors as N/4
//! writers with three `Reader`s each (`streamlib_fan_out_2_workers`): the shape of a fan-out.
//!
//! Each "iteration" sleeps 100 ms of wall time and reports the process CPU time consumed, so the
//! figure criterion prints as time per iteration is CPU per 100 ms: 10 ms means 10 % of one core.
//!
//! Run: `cargo bench -p streamlib --bench scheduler`

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use streamlib::prelude::*;
use streamlib::{OutputRef, Rate, Runtime, SoftwareClock};

#[path = "support/cpu.rs"]
mod cpu;
use cpu::cpu_time;

const WINDOW: Duration = Duration::from_millis(100);

/// An actor with the least work a real one does: write one value per tick.
#[actor]
#[derive(Default)]
struct Idle {
    #[output]
    value: Output<u64>,
}

impl Process for Idle {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number);
        Ok(())
    }
}

/// An actor that does nothing: what scheduling one costs, and nothing else.
#[actor]
#[derive(Default)]
struct Empty {}

impl Process for Empty {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

/// Reads the newest value of its input each tick (the other half of a pair).
#[actor]
#[derive(Default)]
struct Reader {
    #[input]
    value: Input<u64>,
    sum: u64,
}

impl Process for Reader {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.sum = self.sum.wrapping_add(*v);
        }
        Ok(())
    }
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

/// The floor: one thread ticking at 60 Hz over N boxed trait objects, each reading the clock
/// once and bumping a counter — the least a scheduler of N actors can do per tick.
trait FloorActor: Send {
    fn tick(&mut self, now: Instant);
}

struct FloorCounter {
    ticks: u64,
    last: Option<Instant>,
}

impl FloorActor for FloorCounter {
    fn tick(&mut self, now: Instant) {
        self.ticks += 1;
        self.last = Some(now);
    }
}

fn floor_loop(n: usize) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let mut actors: Vec<Box<dyn FloorActor>> = (0..n)
            .map(|_| {
                Box::new(FloorCounter {
                    ticks: 0,
                    last: None,
                }) as Box<dyn FloorActor>
            })
            .collect();
        let period = Duration::from_nanos(16_666_667);
        let origin = Instant::now();
        let mut frame = 0u32;
        while !flag.load(Ordering::Relaxed) {
            frame += 1;
            if let Some(wait) = (origin + period * frame).checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            for actor in &mut actors {
                actor.tick(Instant::now());
            }
        }
        std::hint::black_box(&actors);
    });
    (stop, thread)
}

fn measure_runtime<A: Actor + Process + Default>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
    workers: usize,
    label: &str,
) {
    measure(group, n, workers, label, |rt, clock| {
        for i in 0..n {
            rt.spawn_on(A::default(), &format!("a{i}"), clock).unwrap();
        }
    });
}

/// N actors in groups of a writing `Idle` feeding `readers` `Reader`s on the same clock: the
/// readers are no roots of the tick, they run after their writer (one reader: a pair, the shape
/// of a chain; more: a fan-out).
fn measure_groups(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
    readers: usize,
    workers: usize,
    label: &str,
) {
    measure(group, n, workers, label, |rt, clock| {
        for i in 0..n / (1 + readers) {
            let writer = rt
                .spawn_on(Idle::default(), &format!("w{i}"), clock)
                .unwrap();
            for r in 0..readers {
                let reader = rt
                    .spawn_on(Reader::default(), &format!("r{i}-{r}"), clock)
                    .unwrap();
                streamlib::connect(&writer.outputs.value, &reader.inputs.value).unwrap();
            }
        }
    });
}

/// Measures the CPU a runtime of `workers` costs with the actors `spawn` makes on a 60 Hz clock.
fn measure(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
    workers: usize,
    label: &str,
    spawn: impl FnOnce(&Runtime, &SoftwareClock),
) {
    let rt = Runtime::builder().workers(workers).build().unwrap();
    let clock = SoftwareClock::new(Rate::fps(60).unwrap());
    spawn(&rt, &clock);
    let handles = rt.registry().list();
    std::thread::sleep(Duration::from_millis(500));
    let skipped_before: u64 = handles.iter().map(|h| h.stats().skipped_ticks).sum();
    // Criterion skips the closure for a case the filter leaves out: say nothing of it then.
    let mut measured = false;
    group.bench_function(BenchmarkId::new(label, n), |b| {
        measured = true;
        b.iter_custom(cpu_per_window)
    });
    let ticks: u64 = handles.iter().map(|h| h.stats().ticks).sum();
    let skipped: u64 =
        handles.iter().map(|h| h.stats().skipped_ticks).sum::<u64>() - skipped_before;
    if measured {
        eprintln!("{label} n={n}: {ticks} actor-ticks run, {skipped} skipped while measured");
    }
    rt.shutdown();
}

/// A group of CPU-per-window measurements: flat sampling, 10 samples over about 2 s.
fn cpu_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    group
}

fn scheduler_cost(c: &mut Criterion) {
    let mut group = cpu_group(c, "cpu_per_100ms_at_60hz");
    let all = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut worker_counts = vec![2, 4, all];
    worker_counts.sort_unstable();
    worker_counts.dedup();
    for n in [1_000usize, 10_000, 100_000] {
        let (stop, thread) = floor_loop(n);
        std::thread::sleep(Duration::from_millis(200));
        group.bench_function(BenchmarkId::new("floor_loop", n), |b| {
            b.iter_custom(cpu_per_window)
        });
        stop.store(true, Ordering::Relaxed);
        let _ = thread.join();
        measure_runtime::<Empty>(&mut group, n, 2, "streamlib_empty_2_workers");
        measure_groups(&mut group, n, 1, 2, "streamlib_pairs_2_workers");
        measure_groups(&mut group, n, 3, 2, "streamlib_fan_out_2_workers");
        for &workers in &worker_counts {
            measure_runtime::<Idle>(
                &mut group,
                n,
                workers,
                &format!("streamlib_{workers}_workers"),
            );
        }
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

/// One link of a chain: spins `work` per tick, passes a value on.
#[actor]
struct Busy {
    #[input]
    value: Input<u64>,
    #[output(name = "value")]
    output: Output<u64>,
    work: Duration,
}

impl Process for Busy {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let start = Instant::now();
        while start.elapsed() < self.work {
            std::hint::spin_loop();
        }
        let v = self
            .value
            .read_latest()
            .map_or(tick.frame_number, |v| *v + 1);
        self.output.write(v);
        Ok(())
    }
}

/// B independent chains of L actors, S of work each, on one 100 Hz clock: achieved rate and
/// skipped ticks (a serial schedule of B·L·S over 10 ms cannot keep up; a parallel one can,
/// up to the core count).
fn parallel_chains(c: &mut Criterion) {
    let mut group = cpu_group(c, "parallel_chains_at_100hz");
    let all = std::thread::available_parallelism().map_or(2, |n| n.get());
    let cases = [(2usize, 1usize, 6_000u64), (all, 4, 200), (2 * all, 4, 200)];
    for (branches, length, work_us) in cases {
        let rt = Runtime::builder().workers(all).build().unwrap();
        let clock = SoftwareClock::new(Rate::fps(100).unwrap());
        let mut heads = Vec::new();
        for b in 0..branches {
            let mut previous: Option<OutputRef<u64>> = None;
            for l in 0..length {
                let actor = Busy {
                    value: Input::new(),
                    output: Output::new(),
                    work: Duration::from_micros(work_us),
                };
                let handle = rt.spawn_on(actor, &format!("b{b}-{l}"), &clock).unwrap();
                if let Some(previous) = previous.take() {
                    streamlib::connect(&previous, &handle.inputs.value).unwrap();
                }
                previous = Some(handle.outputs.value.clone());
                if l == 0 {
                    heads.push(handle);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(500));
        let before: (u64, u64) = heads.iter().fold((0, 0), |(t, s), h| {
            (t + h.stats().ticks, s + h.stats().skipped_ticks)
        });
        let started = Instant::now();
        let label = format!("{branches}x{length}x{work_us}us");
        let mut measured = false;
        group.bench_function(BenchmarkId::new("streamlib", &label), |b| {
            measured = true;
            b.iter_custom(cpu_per_window)
        });
        let elapsed = started.elapsed().as_secs_f64();
        let after: (u64, u64) = heads.iter().fold((0, 0), |(t, s), h| {
            (t + h.stats().ticks, s + h.stats().skipped_ticks)
        });
        let rate = (after.0 - before.0) as f64 / branches as f64 / elapsed;
        rt.shutdown();
        if !measured {
            continue;
        }
        eprintln!(
            "parallel {label} on {all} workers: {rate:.1} Hz achieved of 100, {} ticks skipped, work {:.2} cores",
            (after.1 - before.1) / branches as u64,
            (branches * length) as f64 * work_us as f64 / 10_000.0
        );
    }
    group.finish();
}

criterion_group!(benches, scheduler_cost, parallel_chains);
criterion_main!(benches);
