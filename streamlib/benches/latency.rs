//! End-to-end latency of a chain of actors: from a tick's deadline to the moment the last stage
//! has read the value the first stage wrote at that tick, for chains of 3 and 17 actors on one
//! clock (1 kHz, precise mode), beside the classic alternative measured in the same run: one
//! thread per stage joined by crossbeam channels.
//!
//! A bench binary, not criterion: the quantity is a latency distribution (p50 / p99 / max).
//!
//! Run: `cargo bench -p streamlib --bench latency`

use std::sync::Arc;
use std::time::{Duration, Instant};

use streamlib::prelude::*;
use streamlib::stats::Histogram;
use streamlib::{connect, Rate, SoftwareClock, SoftwareClockMode};

const RUN: Duration = Duration::from_secs(3);

#[actor]
#[derive(Default)]
struct Stamp {
    #[output]
    time: Output<Instant>,
}

impl Process for Stamp {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.time.write(tick.instant);
        Ok(())
    }
}

#[actor]
#[derive(Default)]
struct Relay {
    #[input]
    time: Input<Instant>,
    #[output(name = "time")]
    out: Output<Instant>,
}

impl Process for Relay {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(t) = self.time.read_latest() {
            self.out.write_arc(t);
        }
        Ok(())
    }
}

#[actor]
struct Measure {
    #[input]
    time: Input<Instant>,
    latency: Arc<Histogram>,
}

impl Process for Measure {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(t) = self.time.read_new() {
            self.latency.record(t.elapsed());
        }
        Ok(())
    }
}

fn streamlib_chain(stages: usize) -> Arc<Histogram> {
    let rt = Runtime::new();
    let clock =
        SoftwareClock::new(Rate::fps(1000).expect("valid")).with_mode(SoftwareClockMode::Precise {
            spin: Duration::from_micros(100),
        });
    let latency = Arc::new(Histogram::default());
    let source = rt
        .spawn_on(Stamp::default(), "stamp", &clock)
        .expect("spawn");
    let mut upstream = source.outputs.time.clone();
    for i in 0..stages - 2 {
        let relay = rt
            .spawn_on(Relay::default(), &format!("relay{i}"), &clock)
            .expect("spawn");
        connect(&upstream, &relay.inputs.time).expect("connect");
        upstream = relay.outputs.time.clone();
    }
    let sink = Measure {
        time: Input::new(),
        latency: latency.clone(),
    };
    let sink = rt.spawn_on(sink, "measure", &clock).expect("spawn");
    connect(&upstream, &sink.inputs.time).expect("connect");
    std::thread::sleep(RUN);
    rt.shutdown();
    latency
}

fn channel_chain(stages: usize) -> Arc<Histogram> {
    let latency = Arc::new(Histogram::default());
    let (first_tx, mut rx) = crossbeam_channel::bounded::<Instant>(1);
    let mut threads = Vec::new();
    for _ in 0..stages - 2 {
        let (tx, next_rx) = crossbeam_channel::bounded::<Instant>(1);
        let input = rx;
        threads.push(std::thread::spawn(move || {
            while let Ok(t) = input.recv() {
                let _ = tx.try_send(t);
            }
        }));
        rx = next_rx;
    }
    let sink_latency = latency.clone();
    threads.push(std::thread::spawn(move || {
        while let Ok(t) = rx.recv() {
            sink_latency.record(t.elapsed());
        }
    }));
    // The source: 1 kHz absolute deadlines, spinning the last 100 µs like the precise clock.
    let origin = Instant::now();
    let mut frame = 0u32;
    while origin.elapsed() < RUN {
        frame += 1;
        let deadline = origin + Duration::from_millis(1) * frame;
        if let Some(coarse) = deadline.checked_sub(Duration::from_micros(100)) {
            if let Some(wait) = coarse.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        while Instant::now() < deadline {
            std::hint::spin_loop();
        }
        let _ = first_tx.try_send(deadline);
    }
    drop(first_tx);
    for t in threads {
        let _ = t.join();
    }
    latency
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("| chain | design | samples | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    for stages in [3usize, 17] {
        let rows = [
            ("thread per stage + channels (peer)", channel_chain(stages)),
            ("streamlib, one clock", streamlib_chain(stages)),
        ];
        for (name, h) in rows {
            let (p50, p99, max) = h.summary();
            println!(
                "| {stages} actors | {name} | {} | {:.1} µs | {:.1} µs | {:.1} µs |",
                h.count(),
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6,
                max.as_secs_f64() * 1e6
            );
        }
    }
}
