//! Behaviour of the runtime with hand-written actors (no macros): scheduling order, broadcast
//! ticks, faults, lifecycle, registry, dynamic wiring.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use streamlib::{
    connect, Actor, ActorConfig, ActorError, Dispatch, Error, FaultPolicy, Input, InputRef,
    ManualClock, Output, OutputRef, PortBinder, Process, ProcessResult, Rate, Runtime,
    SoftwareClock, SpawnOptions, Tick,
};

/// Writes the tick's frame number.
#[derive(Default)]
struct Source {
    value: Output<u64>,
}

impl Actor for Source {
    type Inputs = ();
    type Outputs = OutputRef<u64>;
    fn class_name() -> &'static str {
        "Source"
    }
    fn bind_ports(&self, p: &mut PortBinder<'_>) -> ((), OutputRef<u64>) {
        ((), p.output("value", &self.value))
    }
}

impl Process for Source {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number);
        Ok(())
    }
}

/// Copies its input to its output.
#[derive(Default)]
struct Relay {
    value: Input<u64>,
    out: Output<u64>,
}

impl Actor for Relay {
    type Inputs = InputRef<u64>;
    type Outputs = OutputRef<u64>;
    fn class_name() -> &'static str {
        "Relay"
    }
    fn bind_ports(&self, p: &mut PortBinder<'_>) -> (InputRef<u64>, OutputRef<u64>) {
        (p.input("value", &self.value), p.output("value", &self.out))
    }
}

impl Process for Relay {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.out.write(*v);
        }
        Ok(())
    }
}

type Log = Arc<Mutex<Vec<(u64, Option<u64>, String)>>>;

/// Records `(frame, value read, thread name)` per tick.
#[derive(Default)]
struct Sink {
    value: Input<u64>,
    log: Log,
}

impl Actor for Sink {
    type Inputs = InputRef<u64>;
    type Outputs = ();
    fn class_name() -> &'static str {
        "Sink"
    }
    fn bind_ports(&self, p: &mut PortBinder<'_>) -> (InputRef<u64>, ()) {
        (p.input("value", &self.value), ())
    }
}

impl Process for Sink {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let value = self.value.read_latest().map(|v| *v);
        let name = thread::current().name().unwrap_or("").to_string();
        self.log.lock().push((tick.frame_number, value, name));
        Ok(())
    }
}

/// Fails on purpose: `Err` on even frames, panic on odd ones.
struct Faulty {
    calls: Arc<Mutex<u64>>,
}

impl Actor for Faulty {
    type Inputs = ();
    type Outputs = ();
    fn class_name() -> &'static str {
        "Faulty"
    }
    fn bind_ports(&self, _: &mut PortBinder<'_>) -> ((), ()) {
        ((), ())
    }
}

impl Process for Faulty {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let n = {
            let mut calls = self.calls.lock();
            *calls += 1;
            *calls
        };
        if n % 2 == 0 {
            Err(ActorError::msg(format!("call {n} failed")))
        } else {
            panic!("call {n} panicked");
        }
    }
}

/// Blocks in `process` for a long time; sets `entered` when a call begins.
struct Stuck {
    entered: Arc<AtomicBool>,
}

impl Actor for Stuck {
    type Inputs = ();
    type Outputs = ();
    fn class_name() -> &'static str {
        "Stuck"
    }
    fn config() -> ActorConfig {
        ActorConfig {
            rate: Some(Rate::fps(100).unwrap()),
            ..ActorConfig::default()
        }
    }
    fn bind_ports(&self, _: &mut PortBinder<'_>) -> ((), ()) {
        ((), ())
    }
}

impl Process for Stuck {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        self.entered.store(true, Ordering::Release);
        thread::sleep(Duration::from_secs(3));
        Ok(())
    }
}

/// Waits up to 10 s for `done`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

fn sink(rt: &Runtime, id: &str) -> (streamlib::ActorHandle<Sink>, Log) {
    let log = Log::default();
    let handle = rt
        .spawn(
            Sink {
                value: Input::new(),
                log: log.clone(),
            },
            id,
        )
        .unwrap();
    (handle, log)
}

#[test]
fn chain_propagates_within_one_tick_in_topological_order() {
    // A manual clock (this used to wait for 40 ticks of a 200 fps clock and skip the ticks
    // before the new schedule): the check is exact from the first step.
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(200).unwrap());
    // Spawned downstream first, so spawn order is the wrong order.
    let log = Log::default();
    let sink = rt
        .spawn_on(
            Sink {
                value: Input::new(),
                log: log.clone(),
            },
            "sink",
            &clock,
        )
        .unwrap();
    let relay = rt.spawn_on(Relay::default(), "relay", &clock).unwrap();
    let source = rt.spawn_on(Source::default(), "source", &clock).unwrap();
    connect(&source.outputs, &relay.inputs).unwrap();
    connect(&relay.outputs, &sink.inputs).unwrap();
    clock.step_n(40).unwrap();
    rt.shutdown();
    let log = log.lock();
    assert_eq!(log.len(), 40);
    for (i, (frame, value, _)) in log.iter().enumerate() {
        assert_eq!(*frame, i as u64);
        assert_eq!(
            Some(*frame),
            *value,
            "value written at tick N read at tick N"
        );
    }
}

#[test]
fn every_actor_of_a_clock_gets_every_tick() {
    // A manual clock (this used to wait for 100 ticks of a 500 fps clock and compare the
    // frames all sinks had seen): every sink sees exactly frames 0..100, each once.
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(500).unwrap());
    let logs: Vec<Log> = (0..4)
        .map(|i| {
            let log = Log::default();
            rt.spawn_on(
                Sink {
                    value: Input::new(),
                    log: log.clone(),
                },
                &format!("s{i}"),
                &clock,
            )
            .unwrap();
            log
        })
        .collect();
    clock.step_n(100).unwrap();
    rt.shutdown();
    for log in &logs {
        let frames: Vec<u64> = log.lock().iter().map(|(f, _, _)| *f).collect();
        assert_eq!(
            frames,
            (0..100).collect::<Vec<_>>(),
            "broadcast, never a share of the ticks"
        );
    }
}

#[test]
fn errors_and_panics_are_counted_and_the_actor_keeps_ticking() {
    let rt = Runtime::new();
    let calls = Arc::new(Mutex::new(0));
    // A stop timeout far beyond any stall, so that the `stop` below cannot time out.
    let faulty = rt
        .spawn_with(
            Faulty {
                calls: calls.clone(),
            },
            "f",
            SpawnOptions::new().stop_timeout(Duration::from_secs(10)),
        )
        .unwrap();
    wait_for("10 calls", || *calls.lock() >= 10);
    assert!(faulty.is_running());
    // Stopped before its counters are read: a running actor's tick is counted just before its
    // fault, so a snapshot taken meanwhile can hold one more tick than faults. Once `stop`
    // returns `Ok`, no call is under way and every call's tick and fault are both counted.
    faulty.stop().unwrap();
    let stats = faulty.stats();
    assert!(stats.errors >= 4, "{stats:?}");
    assert!(stats.panics >= 4, "{stats:?}");
    assert_eq!(
        stats.ticks,
        stats.errors + stats.panics,
        "every call failed"
    );
    rt.shutdown();
}

#[test]
fn fault_policy_stop_stops_only_that_actor() {
    let rt = Runtime::new();
    let calls = Arc::new(Mutex::new(0));
    let faulty = rt
        .spawn_with(
            Faulty {
                calls: calls.clone(),
            },
            "f",
            SpawnOptions::new().fault_policy(FaultPolicy::Stop),
        )
        .unwrap();
    let (other, log) = sink(&rt, "other");
    wait_for("the faulty actor to stop and unregister", || {
        !faulty.is_running()
            && rt
                .registry()
                .lookup("actor://local/Faulty/f")
                .unwrap()
                .is_none()
    });
    let seen = log.lock().len();
    wait_for("the other actor to keep ticking", || {
        log.lock().len() > seen + 3
    });
    assert!(other.is_running());
    assert_eq!(*calls.lock(), 1, "stopped after its first fault");
    rt.shutdown();
}

#[test]
fn fault_policy_stop_runtime_shuts_everything_down() {
    let rt = Runtime::new();
    let (other, _log) = sink(&rt, "other");
    rt.spawn_with(
        Faulty {
            calls: Arc::default(),
        },
        "f",
        SpawnOptions::new().fault_policy(FaultPolicy::StopRuntime),
    )
    .unwrap();
    wait_for("the runtime to shut down", || !other.is_running());
    assert!(rt.is_shut_down());
    assert!(matches!(
        rt.spawn(Source::default(), "late"),
        Err(Error::RuntimeShutDown)
    ));
}

#[test]
fn stop_is_idempotent_bounded_and_unregisters() {
    let rt = Runtime::new();
    // One tick every 10 s: stop must not wait it out.
    let slow = SoftwareClock::new(Rate::new(1, 10).unwrap());
    let source = rt.spawn_on(Source::default(), "slow", &slow).unwrap();
    assert_eq!(rt.registry().len(), 1);
    let start = Instant::now();
    source.stop().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    source.stop().unwrap();
    assert!(!source.is_running());
    assert!(rt.registry().is_empty());
    // The id is free again.
    rt.spawn_on(Source::default(), "slow", &slow).unwrap();
}

#[test]
fn stop_of_a_stuck_process_times_out_and_detaches() {
    let rt = Runtime::new();
    let entered = Arc::new(AtomicBool::new(false));
    let stuck = rt
        .spawn_with(
            Stuck {
                entered: entered.clone(),
            },
            "stuck",
            SpawnOptions::new().stop_timeout(Duration::from_millis(100)),
        )
        .unwrap();
    let (other, log) = sink(&rt, "other");
    // Stopped only once it is inside its 3 s `process` call (a fixed sleep here could stop it
    // before its first tick on a loaded machine, and then the stop would not time out).
    wait_for("the stuck actor to enter process", || {
        entered.load(Ordering::Acquire)
    });
    let err = stuck.stop().unwrap_err();
    assert!(matches!(err, Error::StopTimeout { .. }), "{err}");
    assert!(err.to_string().contains("actor://local/Stuck/stuck"));
    assert!(!stuck.is_running());
    // Actors of other clocks keep ticking.
    let seen = log.lock().len();
    wait_for("the other actor to keep ticking", || {
        log.lock().len() > seen + 3
    });
    other.stop().unwrap();
}

#[test]
fn dropping_the_runtime_stops_its_actors() {
    let (handle, log) = {
        let rt = Runtime::new();
        let (handle, log) = sink(&rt, "s");
        wait_for("a tick", || !log.lock().is_empty());
        (handle, log)
    };
    assert!(!handle.is_running());
    let seen = log.lock().len();
    thread::sleep(Duration::from_millis(100));
    assert_eq!(
        log.lock().len(),
        seen,
        "no tick after the runtime was dropped"
    );
    handle.stop().unwrap();
}

#[test]
fn dedicated_actor_runs_on_its_own_thread_in_order() {
    // A manual clock: each step returns once the dedicated sink ran, so the checks are exact
    // (this used to wait for 30 ticks of a 200 fps software clock).
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(200).unwrap());
    let source = rt.spawn_on(Source::default(), "src", &clock).unwrap();
    let log = Log::default();
    let sink = rt
        .spawn_with(
            Sink {
                value: Input::new(),
                log: log.clone(),
            },
            "window",
            SpawnOptions::new()
                .clock(&clock)
                .dispatch(Dispatch::Dedicated),
        )
        .unwrap();
    connect(&source.outputs, &sink.inputs).unwrap();
    for frame in 0..30u64 {
        assert_eq!(clock.step().unwrap().frame_number, frame);
        let log = log.lock();
        assert_eq!(log.len() as u64, frame + 1, "the sink ran frame {frame}");
        let (f, v, thread) = &log[frame as usize];
        // Same tick: the value written upstream at frame N is read at frame N.
        assert_eq!((*f, *v), (frame, Some(frame)));
        assert_eq!(thread, "streamlib-window");
    }
    rt.shutdown();
}

#[test]
fn connecting_while_running_and_rewiring() {
    let rt = Runtime::new();
    let a = rt.spawn(Source::default(), "a").unwrap();
    let b = rt.spawn(Source::default(), "b").unwrap();
    let (sink, log) = sink(&rt, "sink");
    wait_for("ticks before wiring", || log.lock().len() >= 3);
    assert!(
        log.lock().iter().all(|(_, v, _)| v.is_none()),
        "unconnected input reads None"
    );
    let link = connect(&a.outputs, &sink.inputs).unwrap();
    let err = connect(&b.outputs, &sink.inputs).unwrap_err();
    assert!(matches!(err, Error::InputAlreadyConnected { .. }));
    assert!(
        err.to_string().contains("actor://local/Sink/sink.value"),
        "{err}"
    );
    wait_for("a value", || log.lock().iter().any(|(_, v, _)| v.is_some()));
    link.disconnect().unwrap();
    let _ = (&b.outputs >> &sink.inputs).unwrap();
    assert!(sink.inputs.is_connected());
    rt.shutdown();
}

#[test]
fn stopping_an_actor_removes_its_connections() {
    let rt = Runtime::new();
    let a = rt.spawn(Source::default(), "a").unwrap();
    let (sink, _log) = sink(&rt, "sink");
    let link = connect(&a.outputs, &sink.inputs).unwrap();
    a.stop().unwrap();
    assert!(!link.is_connected());
    assert!(!sink.inputs.is_connected());
    assert!(matches!(link.disconnect(), Err(Error::NotConnected { .. })));
    // The input can be rewired to a replacement.
    let a2 = rt.spawn(Source::default(), "a2").unwrap();
    connect(&a2.outputs, &sink.inputs).unwrap();
    rt.shutdown();
}

#[test]
fn a_cycle_on_one_clock_reads_the_previous_tick() {
    let rt = Runtime::new();
    let clock = SoftwareClock::new(Rate::fps(200).unwrap());
    let x = rt.spawn_on(Relay::default(), "x", &clock).unwrap();
    let y = rt.spawn_on(Relay::default(), "y", &clock).unwrap();
    let (sink, log) = sink(&rt, "watch");
    connect(&x.outputs, &y.inputs).unwrap();
    connect(&y.outputs, &x.inputs).unwrap();
    connect(&y.outputs, &sink.inputs).unwrap();
    wait_for("ticks through the cycle", || log.lock().len() >= 10);
    assert!(x.is_running() && y.is_running());
    rt.shutdown();
}

#[test]
fn registry_lookup_and_typed_ports() {
    let rt = Runtime::new();
    rt.spawn(Source::default(), "cam0").unwrap();
    let (_sink, log) = sink(&rt, "cam0-view");
    assert!(matches!(
        rt.spawn(Source::default(), "bad id"),
        Err(Error::InvalidInstanceId { .. })
    ));
    let registry = rt.registry();
    assert_eq!(registry.list().len(), 2);
    assert_eq!(registry.find_by_class("Source").len(), 1);
    assert_eq!(registry.find_by_instance_id("cam0").len(), 1);
    let source = registry
        .lookup("actor://localhost/Source/cam0")
        .unwrap()
        .unwrap();
    assert_eq!(source.uri().to_string(), "actor://local/Source/cam0");
    assert!(registry
        .lookup("actor://local/Source/nope")
        .unwrap()
        .is_none());
    assert!(matches!(
        registry.lookup("actr://x"),
        Err(Error::InvalidUri { .. })
    ));
    let view = registry
        .lookup("actor://local/Sink/cam0-view")
        .unwrap()
        .unwrap();
    match source.output::<f32>("value") {
        Err(Error::PortTypeMismatch {
            expected, actual, ..
        }) => {
            assert_eq!((expected, actual), ("f32", "u64"));
        }
        other => panic!("expected a type mismatch, got {other:?}"),
    }
    match view.input::<u64>("vale") {
        Err(e @ Error::UnknownPort { .. }) => assert!(e.to_string().contains("value"), "{e}"),
        other => panic!("expected an unknown port, got {other:?}"),
    }
    assert!(
        source.input::<u64>("value").is_err(),
        "value is an output of Source"
    );
    let out = source.output::<u64>("value").unwrap();
    let inp = view.input::<u64>("value").unwrap();
    connect(&out, &inp).unwrap();
    wait_for("a value through dynamic wiring", || {
        log.lock().iter().any(|(_, v, _)| v.is_some())
    });
    let dot = registry.to_dot();
    assert!(
        dot.contains("\"actor://local/Source/cam0\" -> \"actor://local/Sink/cam0-view\""),
        "{dot}"
    );
    let stats = view.port_stats();
    assert_eq!(stats.inputs[0].0, "value");
    assert!(stats.inputs[0].1.reads > 0);
    assert!(source.stats().ticks > 0);
    rt.shutdown();
}

#[test]
fn a_thousand_actors_all_tick() {
    let rt = Runtime::new();
    let clock = SoftwareClock::new(Rate::fps(100).unwrap());
    let handles: Vec<_> = (0..1000)
        .map(|i| {
            rt.spawn_on(Source::default(), &format!("s{i}"), &clock)
                .unwrap()
        })
        .collect();
    wait_for("every actor to tick 3 times", || {
        handles.iter().all(|h| h.stats().ticks >= 3)
    });
    rt.shutdown();
    assert!(rt.registry().is_empty());
}

/// Records, in `on_stop`, the last value its input holds.
#[derive(Default)]
struct LastValue {
    value: Input<u64>,
    at_stop: Arc<Mutex<Option<u64>>>,
}

impl Actor for LastValue {
    type Inputs = InputRef<u64>;
    type Outputs = ();
    fn class_name() -> &'static str {
        "LastValue"
    }
    fn bind_ports(&self, p: &mut PortBinder<'_>) -> (InputRef<u64>, ()) {
        (p.input("value", &self.value), ())
    }
}

impl Process for LastValue {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
    fn on_stop(&mut self) -> ProcessResult {
        *self.at_stop.lock() = self.value.read_latest().map(|v| *v);
        Ok(())
    }
}

#[test]
fn on_stop_still_reads_the_inputs() {
    let rt = Runtime::new();
    let source = rt.spawn(Source::default(), "src").unwrap();
    let at_stop = Arc::new(Mutex::new(None));
    let sink = rt
        .spawn(
            LastValue {
                value: Input::new(),
                at_stop: at_stop.clone(),
            },
            "last",
        )
        .unwrap();
    connect(&source.outputs, &sink.inputs).unwrap();
    // `on_stop` pairs with `on_start`, which runs at the sink's first tick: stop after it.
    wait_for("a value and a started sink", || {
        source.outputs.read_latest().is_some() && sink.stats().ticks >= 1
    });
    sink.stop().unwrap();
    assert!(
        at_stop.lock().is_some(),
        "on_stop saw the upstream's last value"
    );
    assert!(
        !sink.inputs.is_connected(),
        "and the connection is gone after stop"
    );
    rt.shutdown();
}
