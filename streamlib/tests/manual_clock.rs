//! `ManualClock`: a step returns once every actor (pool and dedicated) finished the tick, ticks
//! are deterministic, and the clock's life follows its runtime's.

use std::sync::Arc;

use parking_lot::Mutex;
use streamlib::prelude::*;
use streamlib::{Dispatch, Error, Rate, SpawnOptions};

/// A pseudo-random source (xorshift64*), seeded: the same values every run.
#[actor]
pub struct Noise {
    #[output]
    pub value: Output<u64>,
    pub state: u64,
}

impl Process for Noise {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let value = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        self.value.write(value ^ tick.timestamp.as_nanos());
        Ok(())
    }
}

/// Mixes each value with the tick it was read on.
#[actor]
pub struct Mix {
    #[input]
    pub value: Input<u64>,
    #[output]
    pub mixed: Output<u64>,
}

impl Process for Mix {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.mixed
                .write(v.rotate_left((tick.frame_number % 64) as u32) ^ tick.frame_number);
        }
        Ok(())
    }
}

/// `(frame, value read, running sum)` per tick.
type Log = Arc<Mutex<Vec<(u64, Option<u64>, u64)>>>;

/// Accumulates and logs `(frame, value read, running sum)`.
#[actor]
pub struct Accumulate {
    #[input]
    pub mixed: Input<u64>,
    pub sum: u64,
    pub log: Log,
}

impl Accumulate {
    /// A fresh sum that logs each tick into `log`.
    fn logging_to(log: &Log) -> Accumulate {
        Accumulate {
            mixed: Input::new(),
            sum: 0,
            log: log.clone(),
        }
    }
}

impl Process for Accumulate {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let v = self.mixed.read_latest().map(|v| *v);
        self.sum = self.sum.wrapping_add(v.unwrap_or(0));
        self.log.lock().push((tick.frame_number, v, self.sum));
        Ok(())
    }
}

/// Noise → Mix (pool) → Accumulate (dedicated thread), stepped `ticks` times; checks after every
/// step that the dedicated end already ran it; returns the log.
fn run_pipeline(ticks: u64) -> Vec<(u64, Option<u64>, u64)> {
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(60).unwrap());
    let noise = rt
        .spawn_on(
            Noise {
                value: Output::new(),
                state: 0x9e37_79b9_7f4a_7c15,
            },
            "noise",
            &clock,
        )
        .unwrap();
    let mix = rt
        .spawn_on(
            Mix {
                value: Input::new(),
                mixed: Output::new(),
            },
            "mix",
            &clock,
        )
        .unwrap();
    let log = Log::default();
    let acc = rt
        .spawn_with(
            Accumulate::logging_to(&log),
            "acc",
            SpawnOptions::new()
                .clock(&clock)
                .dispatch(Dispatch::Dedicated),
        )
        .unwrap();
    pipeline! { noise.value >> mix.value; mix.mixed >> acc.mixed }.unwrap();
    for frame in 0..ticks {
        let tick = clock.step().unwrap();
        assert_eq!(tick.frame_number, frame);
        assert_eq!(tick.timestamp.as_nanos(), frame * 1_000_000_000 / 60);
        let log = log.lock();
        assert_eq!(
            log.len() as u64,
            frame + 1,
            "the step returned before the tick finished"
        );
        assert_eq!(log[frame as usize].0, frame);
        // Same-tick propagation through the chain.
        assert!(
            log[frame as usize].1.is_some(),
            "frame {frame} read no value"
        );
    }
    rt.shutdown();
    let log = log.lock().clone();
    log
}

#[test]
fn a_step_returns_after_pool_and_dedicated_actors_ran_the_tick() {
    let log = run_pipeline(20);
    assert_eq!(log.len(), 20);
    let frames: Vec<u64> = log.iter().map(|e| e.0).collect();
    assert_eq!(frames, (0..20).collect::<Vec<_>>());
}

#[test]
fn a_pipeline_on_a_manual_clock_gives_identical_outputs_in_100_runs() {
    let first = run_pipeline(30);
    let distinct: std::collections::HashSet<_> = first.iter().map(|e| e.1).collect();
    assert!(distinct.len() > 25, "the source varies: {distinct:?}");
    for run in 1..100 {
        assert_eq!(run_pipeline(30), first, "run {run} differs from run 0");
    }
}

#[test]
fn stepping_with_no_actors_ticks_nobody() {
    let clock = ManualClock::new(Rate::fps(25).unwrap());
    assert_eq!(clock.step().unwrap().frame_number, 0);
    let tick = clock.step_n(4).unwrap();
    assert_eq!(
        (tick.frame_number, tick.timestamp.as_nanos()),
        (4, 160_000_000)
    );

    // A runtime whose only actor stopped: the clock keeps stepping.
    let rt = Runtime::new();
    let log = Log::default();
    let acc = rt
        .spawn_on(Accumulate::logging_to(&log), "acc", &clock)
        .unwrap();
    assert_eq!(clock.step().unwrap().frame_number, 5);
    acc.stop().unwrap();
    assert_eq!(clock.step().unwrap().frame_number, 6);
    assert_eq!(
        *log.lock(),
        vec![(5, None, 0)],
        "an actor runs from the next step on"
    );
}

#[test]
fn stepping_after_the_runtime_shut_down_is_an_error() {
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(30).unwrap());
    let log = Log::default();
    rt.spawn_on(Accumulate::logging_to(&log), "acc", &clock)
        .unwrap();
    clock.step_n(3).unwrap();
    rt.shutdown();
    let err = clock.step().unwrap_err();
    assert_eq!(err, Error::RuntimeShutDown);
    assert_eq!(clock.step_n(2).unwrap_err(), Error::RuntimeShutDown);
    assert_eq!(log.lock().len(), 3);

    // Dropping a runtime shuts it down too.
    let clock = ManualClock::new(Rate::fps(30).unwrap());
    {
        let rt = Runtime::new();
        rt.spawn_on(Accumulate::logging_to(&Log::default()), "acc", &clock)
            .unwrap();
        clock.step().unwrap();
    }
    assert_eq!(clock.step().unwrap_err(), Error::RuntimeShutDown);
}

#[test]
fn one_clock_in_two_runtimes_steps_both() {
    let clock = ManualClock::new(Rate::fps(30).unwrap());
    let (rt_a, rt_b) = (Runtime::new(), Runtime::new());
    let (log_a, log_b) = (Log::default(), Log::default());
    for (rt, log) in [(&rt_a, &log_a), (&rt_b, &log_b)] {
        rt.spawn_with(
            Accumulate::logging_to(log),
            "acc",
            SpawnOptions::new()
                .clock(&clock.clone())
                .dispatch(Dispatch::Dedicated),
        )
        .unwrap();
    }
    for n in 1..=10 {
        clock.step().unwrap();
        assert_eq!((log_a.lock().len(), log_b.lock().len()), (n, n));
    }
    rt_a.shutdown();
    // The other runtime still runs the clock.
    clock.step().unwrap();
    assert_eq!(log_b.lock().len(), 11);
    rt_b.shutdown();
    assert_eq!(clock.step().unwrap_err(), Error::RuntimeShutDown);
}

/// Busy for `micros` µs each tick.
#[actor]
pub struct Spin {
    pub micros: u64,
}

impl Process for Spin {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let until = std::time::Instant::now() + std::time::Duration::from_micros(self.micros);
        while std::time::Instant::now() < until {
            std::hint::spin_loop();
        }
        Ok(())
    }
}

/// A clock's tick time spans its actors: every tick lasts at least as long as the `process` of
/// each actor in it, and all actors of the clock report the same figure.
#[test]
fn a_tick_lasts_at_least_its_slowest_actor() {
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(100).unwrap());
    let slow = rt.spawn_on(Spin { micros: 2_000 }, "slow", &clock).unwrap();
    let fast = rt.spawn_on(Spin { micros: 10 }, "fast", &clock).unwrap();
    clock.step_n(20).unwrap();
    let (slow, fast) = (slow.stats(), fast.stats());
    assert_eq!(slow.ticks, 20);
    assert!(
        slow.process_p50 >= std::time::Duration::from_micros(1_500),
        "{slow:?}"
    );
    assert!(slow.tick_p50 >= slow.process_p50, "{slow:?}");
    assert!(slow.tick_p99 >= slow.tick_p50, "{slow:?}");
    assert_eq!(
        (fast.tick_p50, fast.tick_p99),
        (slow.tick_p50, slow.tick_p99)
    );
    rt.shutdown();
}
