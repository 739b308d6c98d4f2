//! Lifecycle from inside and outside: an actor asks to stop itself or the runtime
//! (`Err(ActorError::stop())` / `Err(ActorError::stop_runtime())`, no fault), and a thread waits
//! for the runtime with `run_until_stopped` / `run_for`, including the misuses (waiting twice,
//! on a stopped or empty runtime, from inside an actor); and the first frame a new runtime hands
//! out (0). Every wait is bounded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use streamlib::prelude::*;
use streamlib::{ActorError, Dispatch, Error, FaultPolicy, Rate, SoftwareClock, SpawnOptions};

/// What a [`Scripted`] actor saw.
#[derive(Default)]
struct Seen {
    /// `process` calls.
    calls: AtomicU64,
    /// The thread of the last `process` call and of `on_stop`.
    process_thread: Mutex<Option<ThreadId>>,
    on_stop_thread: Mutex<Option<ThreadId>>,
    /// How many `process` calls had happened when `on_stop` ran.
    calls_at_stop: AtomicU64,
}

type Script = Box<dyn FnMut(&Tick) -> ProcessResult + Send>;

/// Runs its script in `process`, records what happens to it.
#[actor]
pub struct Scripted {
    #[output]
    pub value: Output<u64>,
    script: Script,
    on_start: Option<Script>,
    seen: Arc<Seen>,
}

impl Scripted {
    fn new(script: impl FnMut(&Tick) -> ProcessResult + Send + 'static) -> (Scripted, Arc<Seen>) {
        let seen = Arc::new(Seen::default());
        let actor = Scripted {
            value: Output::new(),
            script: Box::new(script),
            on_start: None,
            seen: seen.clone(),
        };
        (actor, seen)
    }
}

impl Process for Scripted {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.seen.calls.fetch_add(1, Ordering::SeqCst);
        *self.seen.process_thread.lock() = Some(thread::current().id());
        self.value.write(tick.frame_number);
        (self.script)(tick)
    }

    fn on_start(&mut self) -> ProcessResult {
        match &mut self.on_start {
            Some(script) => script(&Tick::for_test(0, Rate::fps(1).expect("1 fps"))),
            None => Ok(()),
        }
    }

    fn on_stop(&mut self) -> ProcessResult {
        *self.seen.on_stop_thread.lock() = Some(thread::current().id());
        let calls = self.seen.calls.load(Ordering::SeqCst);
        self.seen.calls_at_stop.store(calls, Ordering::SeqCst);
        Ok(())
    }
}

/// Ticks, counts and never stops.
#[actor]
#[derive(Default)]
pub struct Steady {
    #[output]
    pub value: Output<u64>,
}

impl Process for Steady {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number);
        Ok(())
    }
}

fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        thread::sleep(Duration::from_millis(2));
    }
    done()
}

/// Returns `Ok` `at` times, then `request` (counting calls, not frames: a loaded machine may
/// skip frames).
fn ask_at(at: u64, request: fn() -> ActorError) -> impl FnMut(&Tick) -> ProcessResult {
    let mut calls = 0;
    move |_| {
        calls += 1;
        if calls > at {
            Err(request())
        } else {
            Ok(())
        }
    }
}

/// On a clock of its own at 500 fps.
fn fast() -> SpawnOptions {
    SpawnOptions::new().clock(&SoftwareClock::new(Rate::fps(500).expect("500 fps")))
}

#[test]
fn an_actor_stops_itself_at_once_without_a_fault() {
    for dispatch in [Dispatch::Pool, Dispatch::Dedicated] {
        let rt = Runtime::new();
        let (actor, seen) = Scripted::new(ask_at(3, ActorError::stop));
        let options = fast().dispatch(dispatch);
        let stopping = rt.spawn_with(actor, "stopping", options).unwrap();
        let steady = rt.spawn(Steady::default(), "steady").unwrap();

        assert!(
            within(Duration::from_secs(10), || !stopping.is_running()),
            "{dispatch:?}: still running"
        );
        assert!(within(Duration::from_secs(10), || rt
            .registry()
            .lookup("actor://local/Scripted/stopping")
            .unwrap()
            .is_none()));
        // Four calls ran; `on_stop` ran right after the last, on the same thread. Checked only
        // now: the actor is marked stopped just before its `on_stop` runs, and is unregistered
        // after it.
        assert_eq!(seen.calls_at_stop.load(Ordering::SeqCst), 4, "{dispatch:?}");
        thread::sleep(Duration::from_millis(30));
        assert_eq!(
            seen.calls.load(Ordering::SeqCst),
            4,
            "{dispatch:?}: called again"
        );
        assert_eq!(
            *seen.on_stop_thread.lock(),
            *seen.process_thread.lock(),
            "{dispatch:?}: on_stop on the thread of the last process"
        );
        let stats = stopping.stats();
        assert_eq!(
            (stats.errors, stats.panics),
            (0, 0),
            "{dispatch:?}: no fault"
        );
        // The rest of the runtime runs on.
        assert!(steady.is_running() && !rt.is_shut_down());
        // Stopping it again is a no-op.
        stopping.stop().unwrap();
        stopping.stop().unwrap();
        rt.shutdown();
        rt.shutdown();
    }
}

#[test]
fn an_actor_stops_the_runtime_and_the_wait_returns_ok() {
    let rt = Runtime::new();
    let (actor, seen) = Scripted::new(ask_at(5, ActorError::stop_runtime));
    let asking = rt.spawn_with(actor, "asking", fast()).unwrap();
    let steady = rt.spawn(Steady::default(), "steady").unwrap();

    rt.run_until_stopped().unwrap();
    assert!(rt.is_shut_down());
    assert!(!asking.is_running() && !steady.is_running());
    assert!(rt.registry().is_empty());
    // Asked once, at frame 5; `on_stop` ran before the wait returned.
    assert_eq!(seen.calls.load(Ordering::SeqCst), 6);
    assert_eq!(seen.calls_at_stop.load(Ordering::SeqCst), 6);
    assert_eq!(asking.stats().errors, 0);
    // Waiting again gets the same answer at once.
    rt.run_until_stopped().unwrap();
    rt.run_for(Duration::MAX).unwrap();
}

#[test]
fn a_stop_runtime_fault_is_what_the_wait_returns() {
    for panics in [false, true] {
        let rt = Runtime::new();
        let mut calls = 0;
        let (actor, _) = Scripted::new(move |_| {
            calls += 1;
            if calls == 3 {
                if panics {
                    panic!("decoder exploded");
                }
                return Err(ActorError::msg("camera unplugged"));
            }
            Ok(())
        });
        let options = fast().fault_policy(FaultPolicy::StopRuntime);
        let failing = rt.spawn_with(actor, "cam0", options).unwrap();
        let _steady = rt.spawn(Steady::default(), "steady").unwrap();

        let expected_reason = if panics {
            "panicked: decoder exploded"
        } else {
            "camera unplugged"
        };
        let expected = Error::ActorFailed {
            uri: "actor://local/Scripted/cam0".into(),
            during: "process",
            reason: expected_reason.into(),
        };
        assert_eq!(rt.run_until_stopped(), Err(expected.clone()));
        assert!(rt.is_shut_down());
        let stats = failing.stats();
        assert_eq!(stats.errors + stats.panics, 1, "a fault is counted");
        // The outcome stays.
        assert_eq!(rt.run_for(Duration::from_secs(60)), Err(expected));
    }
}

#[test]
fn a_shutdown_that_began_first_is_no_fault() {
    let rt = Runtime::new();
    rt.spawn(Steady::default(), "steady").unwrap();
    rt.shutdown();
    assert_eq!(rt.run_until_stopped(), Ok(()));
}

#[test]
fn run_for_shuts_the_runtime_down_after_the_duration() {
    let rt = Runtime::new();
    let steady = rt.spawn(Steady::default(), "steady").unwrap();
    // Running before the wait begins: on a loaded machine the first tick can come later than
    // the 100 ms below.
    assert!(
        within(Duration::from_secs(10), || steady
            .outputs
            .value
            .read_latest()
            .is_some()),
        "it runs"
    );
    let start = Instant::now();
    rt.run_for(Duration::from_millis(100)).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert!(rt.is_shut_down() && !steady.is_running());
}

#[test]
fn run_for_returns_early_when_an_actor_stops_the_runtime() {
    let rt = Runtime::new();
    let (actor, _) = Scripted::new(ask_at(1, ActorError::stop_runtime));
    rt.spawn_with(actor, "asking", fast()).unwrap();
    let start = Instant::now();
    rt.run_for(Duration::from_secs(600)).unwrap();
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn waiting_on_a_stopped_or_empty_runtime_returns_at_once() {
    let stopped = Runtime::new();
    stopped.spawn(Steady::default(), "steady").unwrap();
    stopped.shutdown();
    let start = Instant::now();
    assert_eq!(stopped.run_until_stopped(), Ok(()));
    assert_eq!(stopped.run_for(Duration::MAX), Ok(()));

    // Nothing to run: nothing to wait for; the runtime is shut down.
    let empty = Runtime::new();
    assert_eq!(empty.run_until_stopped(), Ok(()));
    assert!(empty.is_shut_down());
    assert!(matches!(
        empty.spawn(Steady::default(), "late"),
        Err(Error::RuntimeShutDown)
    ));
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn the_wait_ends_when_the_last_actor_stopped_itself() {
    let rt = Runtime::new();
    let (actor, seen) = Scripted::new(ask_at(2, ActorError::stop));
    rt.spawn_with(actor, "only", fast()).unwrap();
    rt.run_until_stopped().unwrap();
    assert!(rt.is_shut_down());
    assert_eq!(seen.calls_at_stop.load(Ordering::SeqCst), 3);
}

#[test]
fn another_threads_shutdown_ends_every_wait() {
    let rt = Arc::new(Runtime::new());
    rt.spawn(Steady::default(), "steady").unwrap();
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let rt = rt.clone();
            thread::spawn(move || rt.run_until_stopped())
        })
        .collect();
    thread::sleep(Duration::from_millis(30));
    rt.shutdown();
    for waiter in waiters {
        assert_eq!(waiter.join().unwrap(), Ok(()));
    }
}

#[test]
fn waiting_from_inside_an_actor_is_a_typed_error() {
    let rt = Arc::new(Runtime::new());
    let weak: Weak<Runtime> = Arc::downgrade(&rt);
    let answers = Arc::new(Mutex::new(Vec::new()));
    let record = answers.clone();
    let (actor, _) = Scripted::new(move |_| {
        if let Some(rt) = weak.upgrade() {
            record.lock().push(rt.run_until_stopped());
            record.lock().push(rt.run_for(Duration::from_secs(60)));
        }
        Err(ActorError::stop_runtime())
    });
    rt.spawn(actor, "inside").unwrap();
    rt.run_until_stopped().unwrap();
    let answers = answers.lock();
    assert_eq!(
        answers[0],
        Err(Error::CalledFromActor {
            call: "Runtime::run_until_stopped",
            uri: "actor://local/Scripted/inside".into(),
        })
    );
    assert!(matches!(
        answers[1],
        Err(Error::CalledFromActor {
            call: "Runtime::run_for",
            ..
        })
    ));
}

#[test]
fn a_stop_asked_for_in_on_start_means_no_process() {
    let rt = Runtime::new();
    let (mut actor, seen) = Scripted::new(|_| Ok(()));
    actor.on_start = Some(Box::new(|_| Err(ActorError::stop())));
    let handle = rt.spawn_with(actor, "early", fast()).unwrap();
    rt.run_until_stopped().unwrap();
    assert_eq!(seen.calls.load(Ordering::SeqCst), 0);
    assert_eq!(handle.stats().errors, 0);
}

#[test]
fn faults_under_stop_are_still_faults() {
    let rt = Runtime::new();
    let (actor, _) = Scripted::new(ask_at(1, || ActorError::msg("bad frame")));
    let options = fast().fault_policy(FaultPolicy::Stop);
    let failing = rt.spawn_with(actor, "bad", options).unwrap();
    assert!(within(Duration::from_secs(10), || !failing.is_running()));
    assert_eq!(failing.stats().errors, 1);
    rt.shutdown();
}

/// Records the frame number of every tick it gets.
#[actor]
#[derive(Default)]
pub struct Frames {
    #[output]
    pub first: Output<u64>,
    seen: Option<u64>,
}

impl Process for Frames {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        if self.seen.is_none() {
            self.seen = Some(tick.frame_number);
            self.first.write(tick.frame_number);
        }
        Ok(())
    }
}

#[test]
fn a_new_runtime_ticks_from_frame_zero() {
    let rt = Runtime::new();
    // Time between creating the runtime and the clock's first use is not counted.
    thread::sleep(Duration::from_millis(50));
    let frames = rt.spawn(Frames::default(), "frames").unwrap();
    let on_own_clock = rt.spawn_with(Frames::default(), "own", fast()).unwrap();
    assert!(within(Duration::from_secs(10), || {
        frames.outputs.first.read_latest().is_some()
            && on_own_clock.outputs.first.read_latest().is_some()
    }));
    assert_eq!(frames.outputs.first.read_latest().as_deref(), Some(&0));
    assert_eq!(
        on_own_clock.outputs.first.read_latest().as_deref(),
        Some(&0)
    );
    rt.shutdown();
}
