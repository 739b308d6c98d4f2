//! Queued inputs, input-triggered actors and input sets, in a running runtime.
//!
//! Every wait is bounded: the tests poll for a condition for at most a few seconds and then
//! assert on what they saw, so a slow machine makes them slower, never wrong.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use streamlib::prelude::*;
use streamlib::{Rate, SoftwareClock};

/// Writes 0, 1, 2, … one per tick, up to `limit` values, then nothing.
#[actor(fps = 100)]
struct Sensor {
    #[output]
    alerts: Output<u64>,
    next: u64,
    limit: u64,
}

impl Process for Sensor {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        // Nothing is sent before anything reads: a new clock's first tick can come before the
        // test wired the dashboard.
        if self.next < self.limit && self.alerts.is_connected() {
            self.alerts.write(self.next);
            self.next += 1;
        }
        Ok(())
    }
}

/// A 10 Hz dashboard that must see every alert.
#[actor(fps = 10)]
struct Dashboard {
    #[input(queue = 256)]
    alerts: Input<u64>,
    seen: Arc<Mutex<Vec<u64>>>,
}

impl Process for Dashboard {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let mut seen = self.seen.lock();
        seen.extend(self.alerts.drain().map(|v| *v));
        Ok(())
    }
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    done()
}

#[test]
fn a_10_hz_reader_of_a_100_hz_queued_input_loses_nothing() {
    let rt = Runtime::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sensor = rt
        .spawn(
            Sensor {
                alerts: Output::new(),
                next: 0,
                limit: 150,
            },
            "sensor",
        )
        .unwrap();
    let dash = rt
        .spawn(
            Dashboard {
                alerts: Input::new(),
                seen: seen.clone(),
            },
            "dash",
        )
        .unwrap();
    pipeline! { sensor.alerts >> dash.alerts }.unwrap();
    let all_seen = wait_until(Duration::from_secs(10), || seen.lock().len() >= 150);
    let stats = dash.port_stats();
    rt.shutdown();
    let seen = seen.lock().clone();
    assert!(all_seen, "saw {} of 150", seen.len());
    assert_eq!(
        seen,
        (0..150).collect::<Vec<u64>>(),
        "every alert, in order"
    );
    let (_, alerts) = stats.inputs[0];
    assert_eq!(alerts.dropped, 0);
    // A latest-value reader at 10 Hz would have missed most of them: the queue is what kept them.
    assert!(dash.stats().ticks < 150);
}

#[test]
fn a_full_queue_drops_the_oldest_and_counts_each() {
    let out = Output::<u32>::new();
    let mut events = Input::<u32>::queued(8).unwrap();
    streamlib::connect(&out.to_ref(), &events.to_ref()).unwrap();
    for v in 0..50 {
        out.write(v);
    }
    assert_eq!(events.pending(), 8);
    let kept: Vec<u32> = events.drain().map(|v| *v).collect();
    assert_eq!(kept, (42..50).collect::<Vec<u32>>());
    assert_eq!(events.stats().dropped, 42);
    assert!(events.read_new().is_none());
    assert_eq!(
        *events.read_latest().unwrap(),
        49,
        "read_latest still sees the newest"
    );
}

#[test]
fn fan_out_gives_each_queued_reader_every_value_in_its_own_order() {
    let out = Output::<u32>::new();
    let mut a = Input::<u32>::queued(16).unwrap();
    let mut b = Input::<u32>::queued(16).unwrap();
    let latest = Input::<u32>::new();
    for input in [&a.to_ref(), &b.to_ref(), &latest.to_ref()] {
        streamlib::connect(&out.to_ref(), input).unwrap();
    }
    out.write(1);
    out.write(2);
    assert_eq!(*a.read_new().unwrap(), 1);
    out.write(3);
    let rest_a: Vec<u32> = a.drain().map(|v| *v).collect();
    let all_b: Vec<u32> = b.drain().map(|v| *v).collect();
    assert_eq!(rest_a, [2, 3]);
    assert_eq!(all_b, [1, 2, 3]);
    assert_eq!(*latest.read_latest().unwrap(), 3);
}

#[test]
fn values_pending_at_a_disconnect_stay_readable() {
    let out = Output::<u32>::new();
    let mut events = Input::<u32>::queued(4).unwrap();
    let link = streamlib::connect(&out.to_ref(), &events.to_ref()).unwrap();
    out.write(1);
    out.write(2);
    link.disconnect().unwrap();
    out.write(3);
    let got: Vec<u32> = events.drain().map(|v| *v).collect();
    assert_eq!(got, [1, 2], "3 was written after the disconnect");
}

#[test]
fn a_queued_input_set_keeps_each_writer_thread_in_order() {
    // An `Output` has one writer; four threads with an output each feed one queued set.
    let outputs: Vec<Output<u64>> = (0..4).map(|_| Output::new()).collect();
    let mut events = Inputs::<u64>::queued(1000).unwrap();
    for out in &outputs {
        streamlib::connect(&out.to_ref(), &events.to_ref()).unwrap();
    }
    std::thread::scope(|s| {
        for (t, out) in outputs.into_iter().enumerate() {
            s.spawn(move || {
                for i in 0..1000 {
                    out.write(t as u64 * 1000 + i);
                }
            });
        }
    });
    for (t, member) in events.iter_mut().enumerate() {
        let got: Vec<u64> = member.drain().map(|v| *v).collect();
        let t = t as u64;
        assert_eq!(got, (t * 1000..t * 1000 + 1000).collect::<Vec<u64>>());
    }
}

#[actor(on = "value")]
struct Triggered {
    #[input]
    value: Input<u64>,
    runs: Arc<Mutex<Vec<(u64, u64)>>>,
}

impl Process for Triggered {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let value = self.value.read_new().map_or(u64::MAX, |v| *v);
        self.runs.lock().push((tick.frame_number, value));
        Ok(())
    }
}

/// Writes its tick's frame number on every third tick, 20 times.
#[actor]
struct SparseActor {
    #[output]
    value: Output<u64>,
    written: Arc<AtomicU64>,
    /// Set once the pipeline is wired: nothing is written before.
    go: Arc<AtomicBool>,
}

impl Process for SparseActor {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let go = self.go.load(Ordering::Acquire);
        if go && tick.frame_number.is_multiple_of(3) && self.written.load(Ordering::Relaxed) < 20 {
            self.value.write(tick.frame_number);
            self.written.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[test]
fn an_input_triggered_actor_runs_once_per_value_in_the_tick_it_was_written() {
    let rt = Runtime::new();
    let clock = SoftwareClock::new(Rate::fps(200).unwrap());
    let written = Arc::new(AtomicU64::new(0));
    let go = Arc::new(AtomicBool::new(false));
    let runs = Arc::new(Mutex::new(Vec::new()));
    let src = rt
        .spawn_on(
            SparseActor {
                value: Output::new(),
                written: written.clone(),
                go: go.clone(),
            },
            "src",
            &clock,
        )
        .unwrap();
    let react = rt
        .spawn_on(
            Triggered {
                value: Input::new(),
                runs: runs.clone(),
            },
            "react",
            &clock,
        )
        .unwrap();
    pipeline! { src.value >> react.value }.unwrap();
    // A tick already under way when the connection was made may still run the two in any
    // order (the schedule takes the connection at the next tick): start writing two ticks on.
    let connected_at = src.stats().ticks;
    assert!(wait_until(Duration::from_secs(10), || src.stats().ticks
        >= connected_at + 2));
    go.store(true, Ordering::Release);
    let done = wait_until(Duration::from_secs(10), || {
        written.load(Ordering::Relaxed) >= 20 && runs.lock().len() >= 20
    });
    // A few more ticks with nothing written: the actor must not run on them.
    std::thread::sleep(Duration::from_millis(50));
    // The frames of the source's clock so far: those it ran and those its clock skipped (a
    // loaded machine skips some, and they count as frames all the same).
    let src_stats = src.stats();
    let frames_of_src = src_stats.ticks + src_stats.skipped_ticks;
    rt.shutdown();
    let runs = runs.lock().clone();
    assert!(done, "{} runs", runs.len());
    assert_eq!(runs.len(), 20, "{runs:?}");
    for (frame, value) in &runs {
        assert_eq!(
            frame, value,
            "same-tick delivery: read in the tick that wrote it"
        );
    }
    // The 20 values went out on every third frame from frame 3 at the earliest, the last on
    // frame 60 or later: the source's clock went through more than 60 frames, while the
    // triggered actor ran only 20 times.
    assert!(
        frames_of_src > 60,
        "the source's clock ticked {frames_of_src} frames: {src_stats:?}"
    );
}

#[test]
fn on_naming_no_input_is_refused_at_spawn() {
    use streamlib::{Actor, ActorConfig, PortBinder};
    struct Handmade {
        value: Input<u8>,
    }
    impl Actor for Handmade {
        type Inputs = InputRef<u8>;
        type Outputs = ();
        fn class_name() -> &'static str {
            "Handmade"
        }
        fn config() -> ActorConfig {
            ActorConfig {
                on: Some("valeu"),
                ..ActorConfig::default()
            }
        }
        fn bind_ports(&self, ports: &mut PortBinder<'_>) -> (InputRef<u8>, ()) {
            (ports.input("value", &self.value), ())
        }
    }
    impl Process for Handmade {
        fn process(&mut self, _tick: &Tick) -> ProcessResult {
            Ok(())
        }
    }
    let rt = Runtime::new();
    let error = rt
        .spawn(
            Handmade {
                value: Input::new(),
            },
            "h",
        )
        .expect_err("refused");
    assert!(matches!(
        error,
        streamlib::Error::InvalidOption { option: "on", .. }
    ));
    assert!(error.to_string().contains("valeu"), "{error}");
    assert!(rt.registry().is_empty());
}

/// Sums the newest value of every layer.
#[actor]
struct Sum {
    #[input]
    layers: Inputs<u64>,
    #[output]
    total: Output<u64>,
}

impl Process for Sum {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let total = self
            .layers
            .iter()
            .filter_map(|l| l.read_latest())
            .map(|v| *v)
            .sum();
        self.total.write(total);
        Ok(())
    }
}

#[actor]
struct Constant {
    #[output]
    value: Output<u64>,
    of: u64,
}

impl Process for Constant {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        self.value.write(self.of);
        Ok(())
    }
}

#[test]
fn an_input_set_reads_every_upstream_and_follows_disconnects() {
    let rt = Runtime::new();
    let constant = |of| Constant {
        value: Output::new(),
        of,
    };
    let a = rt.spawn(constant(1), "a").unwrap();
    let b = rt.spawn(constant(10), "b").unwrap();
    let c = rt.spawn(constant(100), "c").unwrap();
    let sum = rt
        .spawn(
            Sum {
                layers: Inputs::new(),
                total: Output::new(),
            },
            "sum",
        )
        .unwrap();
    let links = pipeline! {
        a.value >> sum.layers;
        b.value >> sum.layers;
        c.value >> sum.layers;
    }
    .unwrap();
    assert_eq!(
        sum.inputs.layers.upstreams(),
        [
            "actor://local/Constant/a.value",
            "actor://local/Constant/b.value",
            "actor://local/Constant/c.value"
        ]
    );
    let total = |expected: u64| {
        wait_until(Duration::from_secs(5), || {
            sum.outputs.total.read_latest().map(|v| *v) == Some(expected)
        })
    };
    assert!(total(111));
    links.connections()[1].disconnect().unwrap();
    assert!(total(101), "b's layer is gone");
    assert!(rt.registry().to_dot().contains("sum"));
    let dot = rt.registry().to_dot();
    assert_eq!(dot.matches("-> ").count(), 2, "{dot}");
    rt.shutdown();
}
