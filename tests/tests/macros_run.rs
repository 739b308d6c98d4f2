//! `#[actor]` and `pipeline!` at run time: real actors on a real runtime, values flowing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use streamlib::prelude::*;
use streamlib::{ActorConfig, Dispatch, Error, Rate};

/// Polls `done` every 2 ms for up to 10 s; whether it became true.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    done()
}

// ---------------------------------------------------------------------------------------------
// The actors of DESIGN.md's example, as written there.

/// Writes the frame number of every tick.
#[actor]
#[derive(Default)]
pub struct Counter {
    /// The frame number.
    #[output]
    pub value: Output<i64>,
}

impl Process for Counter {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number as i64);
        Ok(())
    }
}

#[actor] // class name = struct name; options: class = "..", fps = 30
pub struct Doubler {
    #[input]
    pub value: Input<i64>,
    #[output(name = "value")]
    pub doubled: Output<i64>, // port "value" in the outputs namespace
    pub factor: i64, // any other field is plain actor state
}

impl Process for Doubler {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            // Option<Arc<i64>>, never blocks
            self.doubled.write(*v * self.factor);
        }
        Ok(())
    }
}

static PRINTED: AtomicU64 = AtomicU64::new(0);

/// Prints every new value (and counts them, for the test).
#[actor]
#[derive(Default)]
pub struct Printer {
    #[input]
    pub value: Input<i64>,
}

impl Process for Printer {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_new() {
            println!("printer: {v}");
            PRINTED.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// DESIGN.md's `main`, as written, plus a bounded wait for values to reach the printer.
fn design_main() -> streamlib::Result<()> {
    let rt = Runtime::new(); // own registry + scheduler; Runtime::global() exists too
    let src = rt.spawn(Counter::default(), "src")?; // registered + running at once
    let dbl = rt.spawn(
        Doubler {
            value: Input::new(),
            doubled: Output::new(),
            factor: 2,
        },
        "dbl",
    )?;
    let sink = rt.spawn(Printer::default(), "sink")?;
    pipeline! { src.value >> dbl.value >> sink.value }?; // checked at compile time
    assert!(
        eventually(|| PRINTED.load(Ordering::Relaxed) >= 3),
        "values reach the printer"
    );
    let _ = (&src, &sink);
    dbl.stop()?; // or rt.shutdown()
    Ok(())
}

#[test]
fn design_example_compiles_and_runs() {
    design_main().expect("the example runs");
}

// ---------------------------------------------------------------------------------------------

#[test]
fn values_flow_through_a_chain_and_its_handles() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let src = rt.spawn(Counter::default(), "src")?;
    let dbl = rt.spawn(
        Doubler {
            value: Input::new(),
            doubled: Output::new(),
            factor: 3,
        },
        "dbl",
    )?;
    let pipeline = pipeline! { src.value >> dbl.value }?;
    assert_eq!(pipeline.len(), 1);
    assert_eq!(pipeline.connections()[0].payload_type(), "i64");
    assert!(dbl.inputs.value.is_connected());
    // The handle's outputs are the actor's ports: what `process` writes shows there.
    assert!(eventually(|| dbl
        .outputs
        .value
        .read_latest()
        .is_some_and(|v| *v > 0 && *v % 3 == 0)));
    let dot = pipeline.to_dot();
    assert!(dot.contains("src") && dot.contains("dbl"), "{dot}");
    pipeline.disconnect()?;
    assert!(!dbl.inputs.value.is_connected());
    rt.shutdown();
    Ok(())
}

#[test]
fn registry_finds_the_generated_ports_by_name() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let dbl = rt.spawn(
        Doubler {
            value: Input::new(),
            doubled: Output::new(),
            factor: 2,
        },
        "dbl",
    )?;
    assert_eq!(dbl.uri().to_string(), "actor://local/Doubler/dbl");
    let actor = rt.registry().lookup("actor://local/Doubler/dbl")?.unwrap();
    let input = actor.input::<i64>("value")?;
    let output = actor.output::<i64>("value")?;
    assert!(!input.is_connected());
    assert!(matches!(
        actor.input::<f32>("value"),
        Err(Error::PortTypeMismatch { .. })
    ));
    assert!(matches!(
        actor.input::<i64>("doubled"),
        Err(Error::UnknownPort { .. })
    ));
    // The registry's refs and the handle's are the same ports.
    let src = rt.spawn(Counter::default(), "src")?;
    pipeline! { src.value >> dbl.value }?;
    assert!(input.is_connected());
    assert!(eventually(|| output.read_latest().is_some()));
    // Port structs are `Clone + Debug`.
    let inputs = dbl.inputs.clone();
    assert!(format!("{inputs:?}").contains("DoublerInputs"));
    rt.shutdown();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Options.

#[actor(class = "Camera", fps = 30, dedicated)]
#[derive(Default)]
struct Cam {
    #[output]
    frame: Output<u64>,
}

impl Process for Cam {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.frame.write(tick.frame_number);
        Ok(())
    }
}

#[actor(rate = (30000, 1001))]
#[derive(Default)]
struct Ntsc {}

impl Process for Ntsc {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

#[test]
fn options_reach_the_config() -> streamlib::Result<()> {
    assert_eq!(Cam::class_name(), "Camera");
    let config = Cam::config();
    assert_eq!(config.rate, Some(Rate::new(30, 1)?));
    assert_eq!(config.dispatch, Dispatch::Dedicated);
    assert_eq!(Ntsc::config().rate, Some(Rate::new(30000, 1001)?));
    assert_eq!(Ntsc::config().dispatch, Dispatch::Pool);
    assert_eq!(Printer::config(), ActorConfig::default());

    let rt = Runtime::new();
    let cam = rt.spawn(Cam::default(), "front")?;
    assert_eq!(cam.uri().to_string(), "actor://local/Camera/front");
    assert!(eventually(|| cam.outputs.frame.read_latest().is_some()));
    assert_eq!(rt.registry().find_by_class("Camera").len(), 1);
    rt.shutdown();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Renamed middle hops, fan-out, generic actors, all-or-nothing.

/// Input `raw`, output `cooked`: a middle hop whose ports differ in name.
#[actor]
#[derive(Default)]
struct Negate {
    #[input]
    raw: Input<i64>,
    #[output]
    cooked: Output<i64>,
}

impl Process for Negate {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.raw.read_latest() {
            self.cooked.write(-*v);
        }
        Ok(())
    }
}

/// A generic actor: no bound needed for the payload, `#[actor]` adds `Send + Sync + 'static`.
#[actor]
struct Gain<T: std::ops::Mul<Output = T> + Copy> {
    #[input]
    value: Input<T>,
    #[output]
    value_out: Output<T>,
    gain: T,
}

impl<T: std::ops::Mul<Output = T> + Copy + Send + Sync + 'static> Process for Gain<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.value_out.write(*v * self.gain);
        }
        Ok(())
    }
}

/// Remembers the newest value it read, for the test to look at.
#[actor]
#[derive(Default)]
struct Probe {
    #[input]
    value: Input<i64>,
    seen: Arc<AtomicU64>,
}

impl Process for Probe {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.seen.store(v.unsigned_abs(), Ordering::Relaxed);
        }
        Ok(())
    }
}

#[test]
fn renamed_middle_hop_fan_out_and_generic_actor() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let src = rt.spawn(Counter::default(), "src")?;
    let neg = rt.spawn(Negate::default(), "neg")?;
    let gain = rt.spawn(
        Gain {
            value: Input::new(),
            value_out: Output::new(),
            gain: 10i64,
        },
        "gain",
    )?;
    let seen_direct = Arc::new(AtomicU64::new(0));
    let direct = rt.spawn(
        Probe {
            value: Input::new(),
            seen: seen_direct.clone(),
        },
        "direct",
    )?;
    let seen_negated = Arc::new(AtomicU64::new(0));
    let negated = rt.spawn(
        Probe {
            value: Input::new(),
            seen: seen_negated.clone(),
        },
        "negated",
    )?;
    let pipeline = pipeline! {
        src.value >> neg.raw -> cooked >> negated.value;
        src.value >> gain.value -> value_out >> direct.value;  // fan-out of src.value
    }?;
    assert_eq!(pipeline.len(), 4);
    assert!(eventually(|| seen_negated.load(Ordering::Relaxed) > 0));
    assert!(eventually(|| {
        let v = seen_direct.load(Ordering::Relaxed);
        v > 0 && v.is_multiple_of(10)
    }));
    assert_eq!(gain.uri().class(), "Gain_i64");
    rt.shutdown();
    Ok(())
}

#[test]
fn a_failing_edge_undoes_the_whole_pipeline() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let a = rt.spawn(Counter::default(), "a")?;
    let b = rt.spawn(Counter::default(), "b")?;
    let x = rt.spawn(Printer::default(), "x")?;
    let y = rt.spawn(Printer::default(), "y")?;
    let _taken = pipeline! { b.value >> y.value }?;
    // The first edge connects, the second fails: the first is undone.
    let result = pipeline! { a.value >> x.value; a.value >> y.value };
    assert!(
        matches!(result, Err(Error::InputAlreadyConnected { .. })),
        "{result:?}"
    );
    assert!(!x.inputs.value.is_connected(), "rolled back");
    assert!(
        y.inputs.value.is_connected(),
        "the earlier connection stays"
    );
    // An empty `pipeline!` is an empty pipeline.
    assert!(pipeline! {}?.is_empty());
    rt.shutdown();
    Ok(())
}

#[test]
fn spawn_on_the_global_runtime() -> streamlib::Result<()> {
    let counter = Counter::default().spawn("macros-run-global")?;
    assert_eq!(
        counter.uri().to_string(),
        "actor://local/Counter/macros-run-global"
    );
    counter.stop()?;
    Ok(())
}
