//! Clock lateness: how late each tick is delivered, p50 / p99 / max over N ticks, at 60 Hz and
//! 1 kHz, for `SoftwareClock` in sleep and precise mode, beside the plain alternative
//! (`std::thread::sleep` to an absolute deadline), with the CPU the waiting thread used.
//!
//! A bench binary, not criterion: criterion measures how long code takes, and here the quantity
//! is how late a wake-up is.
//!
//! Run: `cargo bench -p streamlib --bench clock` (2,000 ticks per row: about two minutes).
//! `STREAMLIB_CLOCK_TICKS=200` shortens it.

use std::time::{Duration, Instant};

use streamlib::stats::Histogram;
use streamlib::{Clock, Interrupt, Rate, SoftwareClock, SoftwareClockMode};

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; the clock id is supported on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

struct Row {
    name: String,
    lateness: Histogram,
    cpu: f64,
}

fn run_clock(name: &str, clock: SoftwareClock, ticks: usize) -> Row {
    let interrupt = Interrupt::new();
    clock.prepare_thread();
    let lateness = Histogram::default();
    let mut previous = clock.next_tick(None, &interrupt);
    let (cpu0, wall0) = (thread_cpu(), Instant::now());
    for _ in 0..ticks {
        let tick = clock
            .next_tick(previous.as_ref(), &interrupt)
            .expect("never interrupted");
        lateness.record(tick.lateness);
        previous = Some(tick);
    }
    let cpu = (thread_cpu() - cpu0).as_secs_f64() / wall0.elapsed().as_secs_f64();
    Row {
        name: name.to_string(),
        lateness,
        cpu,
    }
}

fn run_std_sleep(rate: Rate, ticks: usize) -> Row {
    let lateness = Histogram::default();
    let origin = Instant::now();
    let (cpu0, wall0) = (thread_cpu(), Instant::now());
    for frame in 1..=ticks as u64 {
        let deadline = origin + Duration::from_nanos(rate.nanos_at(frame) as u64);
        if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        lateness.record(Instant::now().saturating_duration_since(deadline));
    }
    let cpu = (thread_cpu() - cpu0).as_secs_f64() / wall0.elapsed().as_secs_f64();
    Row {
        name: "std::thread::sleep (peer)".into(),
        lateness,
        cpu,
    }
}

fn on_thread(run: impl FnOnce() -> Row + Send + 'static) -> Row {
    std::thread::spawn(run).join().expect("bench thread")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and `cargo test --benches` probe bench binaries.
    }
    let ticks: usize = std::env::var("STREAMLIB_CLOCK_TICKS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2_000);
    println!("| rate | waiter | p50 | p99 | max | CPU of one core |");
    println!("|---|---|---|---|---|---|");
    for fps in [60u32, 1_000] {
        let rate = Rate::fps(fps).expect("valid rate");
        let spin = Duration::from_micros(if fps >= 1_000 { 100 } else { 200 });
        // Each row on a fresh thread, so one row's timer slack does not carry into the next.
        let rows = [
            on_thread(move || run_std_sleep(rate, ticks)),
            on_thread(move || run_clock("SoftwareClock sleep", SoftwareClock::new(rate), ticks)),
            on_thread(move || {
                let clock = SoftwareClock::new(rate).with_mode(SoftwareClockMode::Precise { spin });
                run_clock("SoftwareClock precise", clock, ticks)
            }),
        ];
        for row in rows {
            let (p50, p99, max) = row.lateness.summary();
            println!(
                "| {fps} Hz | {} | {:.1} µs | {:.1} µs | {:.1} µs | {:.2} % |",
                row.name,
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6,
                max.as_secs_f64() * 1e6,
                row.cpu * 100.0
            );
        }
    }
}
