//! Actors: the units of a pipeline.
//!
//! An actor is a struct with [`Input`] and [`Output`] fields (its ports) and any other fields (its
//! state), implementing [`Process`]: `process` runs once per tick of the actor's clock, reads the
//! newest input values, and writes outputs. `#[actor]` implements [`Actor`] for the struct — the
//! class name, the port list and the typed port structs of its handle — so a user writes only the
//! struct and `process`.
//!
//! **Input-triggered actors.** `#[actor(on = "alerts")]` runs `process` only on the ticks of the
//! actor's clock where a value arrived on input `alerts` since the last run (a queued input runs
//! while values are pending; an input set when any member got one); on other ticks the actor is
//! skipped, costing an uncontended lock and a load per upstream, and no wake-up — nothing polls.
//! Faults and stats are as for any actor (`ticks` counts runs). Spawned on the clock of the actor
//! that writes `alerts` (`rt.spawn_on(.., &clock)`, or the same `fps` on the default clocks), it
//! runs in the very tick the value was written, right after its writer, as any chain on one clock
//! does; on another clock it runs at its own clock's next tick after the value arrived. `on` naming
//! no input is a compile error (and, for a hand-written [`ActorConfig`], an
//! [`Error::InvalidOption`](crate::Error::InvalidOption) at spawn).
//!
//! Written by hand (what `#[actor]` generates, minus the docs) an actor looks like this:
//!
//! ```
//! use streamlib::{Actor, ActorConfig, Input, InputRef, Output, OutputRef, PortBinder, Process,
//!                 ProcessResult, Tick};
//!
//! pub struct Doubler { value: Input<i64>, doubled: Output<i64> }
//! pub struct DoublerInputs { pub value: InputRef<i64> }
//! pub struct DoublerOutputs { pub value: OutputRef<i64> }
//!
//! impl Actor for Doubler {
//!     type Inputs = DoublerInputs;
//!     type Outputs = DoublerOutputs;
//!     fn class_name() -> &'static str { "Doubler" }
//!     fn config() -> ActorConfig { ActorConfig::default() }
//!     fn bind_ports(&self, ports: &mut PortBinder<'_>) -> (DoublerInputs, DoublerOutputs) {
//!         (DoublerInputs { value: ports.input("value", &self.value) },
//!          DoublerOutputs { value: ports.output("value", &self.doubled) })
//!     }
//! }
//!
//! impl Process for Doubler {
//!     fn process(&mut self, _tick: &Tick) -> ProcessResult {
//!         if let Some(v) = self.value.read_latest() {
//!             self.doubled.write(*v * 2);
//!         }
//!         Ok(())
//!     }
//! }
//! ```

use std::any::{type_name, Any, TypeId};
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::clock::{Rate, Tick};
use crate::error::ProcessResult;
use crate::port::{
    ActorKey, Binding, Direction, Graph, Input, InputRef, Inputs, InputsRef, Output, OutputRef,
    PortLines, PortStats,
};
use crate::remote::proxy::{intern, FoundCodec, WireOps};
use crate::remote::PortDesc;
use crate::uri::{ActorUri, PortAddress};

/// The code an actor runs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is an actor but does not implement `Process`",
    label = "add `impl Process for {Self} {{ fn process(&mut self, tick: &Tick) -> ProcessResult {{ .. }} }}`",
    note = "every `#[actor]` struct needs `impl streamlib::Process` with its `process` method"
)]
pub trait Process {
    /// Runs once per tick: read inputs, compute, write outputs. An `Err` or a panic is caught,
    /// logged and counted; what happens next is the actor's [`FaultPolicy`]. An actor that is
    /// done returns `Err(ActorError::stop())` (stop this actor) or
    /// `Err(ActorError::stop_runtime())` (shut the runtime down): requests, not faults (see
    /// [`ActorError`](crate::ActorError)). A unit test can call it directly with a
    /// [`Tick::for_test`].
    fn process(&mut self, tick: &Tick) -> ProcessResult;

    /// Runs once before the first `process`, on the thread that will run `process` (so a window
    /// or device opened here stays on its thread). An `Err` is handled like one from `process`.
    fn on_start(&mut self) -> ProcessResult {
        Ok(())
    }

    /// Runs once when the actor stops, after its last `process` and before its connections are
    /// removed (so a sink can still read its inputs here); not if `process` was stuck and had to
    /// be detached. For a dedicated actor it runs on the actor's own thread. It pairs with
    /// [`on_start`](Process::on_start): an actor stopped before its first tick never started, so
    /// neither runs.
    fn on_stop(&mut self) -> ProcessResult {
        Ok(())
    }
}

/// What the runtime needs to know of an actor type; implemented by `#[actor]`.
pub trait Actor: Process + Send + 'static {
    /// Handle-side input ports, one [`InputRef`] field per input.
    type Inputs: Send + Sync + 'static;
    /// Handle-side output ports, one [`OutputRef`] field per output.
    type Outputs: Send + Sync + 'static;

    /// Class name: the `Class` part of `actor://host/Class/id`. `#[actor]` makes it the
    /// struct's name, and for a generic actor the name with its arguments mapped to an
    /// identifier (`Collector<Alert>` → `Collector_Alert`, see [`crate::class`]), so that two
    /// instantiations are two classes.
    fn class_name() -> &'static str;

    /// Defaults for the actor's rate, dispatch and fault handling.
    fn config() -> ActorConfig {
        ActorConfig::default()
    }

    /// Registers every port with `ports` and returns the handle-side port structs.
    fn bind_ports(&self, ports: &mut PortBinder<'_>) -> (Self::Inputs, Self::Outputs);
}

/// How an actor's `process` calls are run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dispatch {
    /// On the runtime's worker pool, with the other actors of its clock (default).
    #[default]
    Pool,
    /// On a thread of its own, for code that blocks (device I/O, a window's event loop) or must
    /// stay on one thread. The scheduler still runs it in order within each tick.
    Dedicated,
}

/// What happens after `process` returns an error or panics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FaultPolicy {
    /// Log, count and keep ticking (default).
    #[default]
    Continue,
    /// Log, count and stop this actor: the fault is its last `process` call (counted once,
    /// never repeated by the ticks before the stop completes); its `on_stop` runs after.
    Stop,
    /// Log, count and shut the whole runtime down; the failed actor gets no further `process`.
    StopRuntime,
}

/// An actor's defaults, from `#[actor(..)]` options, overridable at spawn with
/// [`SpawnOptions`](crate::SpawnOptions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActorConfig {
    /// Rate of the runtime's default clock this actor joins when spawned without a clock;
    /// `None` means 60 fps.
    pub rate: Option<Rate>,
    /// Where `process` runs.
    pub dispatch: Dispatch,
    /// What an error or panic in `process` leads to.
    pub fault_policy: FaultPolicy,
    /// How long `stop()` waits for a running `process` call before detaching it (default 1 s).
    pub stop_timeout: Duration,
    /// `#[actor(on = "input")]`: run only on ticks where a value arrived on this input (see
    /// the `actor` module's docs on input-triggered actors); `None`: run on every tick.
    pub on: Option<&'static str>,
}

impl Default for ActorConfig {
    fn default() -> Self {
        ActorConfig {
            rate: None,
            dispatch: Dispatch::Pool,
            fault_policy: FaultPolicy::Continue,
            stop_timeout: Duration::from_secs(1),
            on: None,
        }
    }
}

/// A port seen without its payload type, for the registry and for tools.
#[derive(Clone)]
pub struct PortInfo {
    /// Port name.
    pub name: &'static str,
    /// Input or output.
    pub direction: Direction,
    /// Payload type name, e.g. `i64` or `streamlib::message::VideoFrame`.
    pub type_name: &'static str,
    pub(crate) type_id: TypeId,
    /// An `InputRef<T>` or `OutputRef<T>`.
    pub(crate) port: Arc<dyn Any + Send + Sync>,
    pub(crate) stats: Arc<dyn Fn() -> PortStats + Send + Sync>,
    /// For inputs: the actor URI and port name of each output feeding it now.
    pub(crate) upstream: Option<Upstream>,
    /// For inputs: whether a value arrived since the last call (what `#[actor(on = ..)]` asks).
    pub(crate) arrived: Option<Arrived>,
    /// How the payload crosses a process boundary, if it has a codec.
    pub(crate) wire: Option<WireOps>,
    /// For outputs whose payload is `Debug`: the newest value as text (for taps).
    #[cfg_attr(not(feature = "inspect"), allow(dead_code))]
    pub(crate) text: Option<FoundText>,
    /// Where the lines a read or write touches lie (a tick prefetches them); `None` for a remote
    /// actor's ports.
    pub(crate) lines: Option<PortLines>,
}

impl PortInfo {
    /// The payload's name on the wire, if the payload has a [`Codec`](crate::Codec).
    pub fn wire_type(&self) -> Option<&'static str> {
        self.wire.map(|w| w.payload_type)
    }

    /// A port of a remote actor, as announced.
    pub(crate) fn remote(desc: &PortDesc) -> PortInfo {
        let payload_type = intern(&desc.payload_type);
        PortInfo {
            name: intern(&desc.name),
            direction: desc.direction,
            type_name: payload_type,
            type_id: TypeId::of::<PortDesc>(),
            port: Arc::new(()),
            stats: Arc::new(PortStats::default),
            upstream: None,
            arrived: None,
            wire: None,
            text: None,
            lines: None,
        }
    }
}

/// The `(actor URI, port name)` of each output feeding an input, in connection order.
type Upstream = Arc<dyn Fn() -> Vec<PortAddress> + Send + Sync>;

/// `arrived(&mut seen)`: whether a value arrived on an input since `seen` was last updated.
pub(crate) type Arrived = Arc<dyn Fn(&mut u64) -> bool + Send + Sync>;

impl std::fmt::Debug for PortInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.direction.as_str(),
            self.name,
            self.type_name
        )
    }
}

/// Collects an actor's ports while it is spawned; handed to [`Actor::bind_ports`].
pub struct PortBinder<'a> {
    pub(crate) actor: ActorKey,
    pub(crate) uri: &'a ActorUri,
    pub(crate) graph: Weak<dyn Graph>,
    pub(crate) ports: Vec<PortInfo>,
}

impl PortBinder<'_> {
    /// Registers `input` under `name` and returns its handle.
    pub fn input<T: Send + Sync + 'static>(
        &mut self,
        name: &'static str,
        input: &Input<T>,
    ) -> InputRef<T> {
        let port = input.to_ref();
        self.register_input(name, &port);
        port
    }

    /// Binds `port` (a single input or a set) to this actor under `name` and records it.
    fn register_input<T: Send + Sync + 'static>(&mut self, name: &'static str, port: &InputRef<T>) {
        let _ = port.shared.binding.set(self.binding(name));
        let shared = port.shared.clone();
        let stats = port.clone();
        self.ports.push(PortInfo {
            name,
            direction: Direction::Input,
            type_name: type_name::<T>(),
            type_id: TypeId::of::<T>(),
            port: Arc::new(port.clone()),
            stats: Arc::new(move || stats.stats()),
            upstream: Some(Arc::new(move || shared.upstream_ports())),
            arrived: Some({
                let shared = port.shared.clone();
                Arc::new(move |seen: &mut u64| shared.arrived(seen))
            }),
            wire: None,
            text: None,
            lines: Some(port.shared.lines()),
        });
    }

    /// Registers `input` under `name` as a queued input of `capacity` values (what
    /// `#[input(queue = N)]` generates; see [`Input::queued`]) and returns its handle. An input
    /// built queued already keeps the size it was built with.
    pub fn queued_input<T: Send + Sync + 'static>(
        &mut self,
        name: &'static str,
        input: &Input<T>,
        capacity: usize,
    ) -> InputRef<T> {
        let port = self.input(name, input);
        queue(&port, capacity);
        port
    }

    /// Registers the input set `inputs` under `name` and returns its handle.
    pub fn inputs<T: Send + Sync + 'static>(
        &mut self,
        name: &'static str,
        inputs: &Inputs<T>,
    ) -> InputsRef<T> {
        let set = inputs.to_ref();
        self.register_input(name, &set);
        set
    }

    /// Registers the input set `inputs` under `name`, each member a queued input of `capacity`
    /// values, and returns its handle.
    pub fn queued_inputs<T: Send + Sync + 'static>(
        &mut self,
        name: &'static str,
        inputs: &Inputs<T>,
        capacity: usize,
    ) -> InputsRef<T> {
        let set = self.inputs(name, inputs);
        queue(&set, capacity);
        set
    }

    /// Registers `output` under `name` and returns its handle.
    pub fn output<T: Send + Sync + 'static>(
        &mut self,
        name: &'static str,
        output: &Output<T>,
    ) -> OutputRef<T> {
        let port = output.to_ref();
        let _ = port.shared.binding.set(self.binding(name));
        self.ports.push(PortInfo {
            name,
            direction: Direction::Output,
            type_name: type_name::<T>(),
            type_id: TypeId::of::<T>(),
            port: Arc::new(port.clone()),
            stats: {
                let port = port.clone();
                Arc::new(move || port.stats())
            },
            upstream: None,
            arrived: None,
            wire: None,
            text: None,
            lines: Some(port.shared.lines()),
        });
        port
    }

    /// Records how the payload of the port registered last crosses a process boundary (what
    /// `#[actor]` finds with [`WireProbe`](crate::remote::WireProbe)); `None` keeps it local.
    #[doc(hidden)]
    pub fn codec(&mut self, codec: Option<FoundCodec>) {
        if let Some(port) = self.ports.last_mut() {
            port.wire = codec.map(|c| c.0);
        }
    }

    /// Records how a tap shows the payload of the port registered last as text (what `#[actor]`
    /// finds with [`TextProbe`]); `None`: not `Debug`, a tap shows only that a value arrived.
    #[doc(hidden)]
    pub fn text(&mut self, text: Option<FoundText>) {
        if let Some(port) = self.ports.last_mut() {
            port.text = text;
        }
    }

    fn binding(&self, port: &'static str) -> Binding {
        Binding {
            actor: self.actor,
            uri: self.uri.clone(),
            port,
            graph: self.graph.clone(),
        }
    }
}

/// Makes `port` queued with `capacity` values; an input built queued keeps its own size (said
/// in the log when it differs), and a size that cannot work leaves it latest-value (said as an
/// error: `#[input(queue = N)]` rejects such sizes at compile time, a hand-written
/// `bind_ports` at run time).
fn queue<T: Send + Sync + 'static>(port: &InputRef<T>, capacity: usize) {
    match port.shared.set_queue(capacity) {
        Ok(kept) if kept != capacity => {
            tracing::warn!(port = %port.shared.describe(), kept, capacity, "input was built with another queue size; it keeps it");
        }
        Ok(_) => {}
        Err(error) => {
            tracing::error!(port = %port.shared.describe(), %error, "input stays latest-value");
        }
    }
}

/// The port of `ports` named `name` in `direction`.
pub(crate) fn find_port<'a>(
    ports: &'a [PortInfo],
    name: &str,
    direction: Direction,
) -> Option<&'a PortInfo> {
    ports
        .iter()
        .find(|p| p.name == name && p.direction == direction)
}

/// `(&&TextProbe::<T>::new()).text_ops()` is JSON text when `T: serde::Serialize` (features
/// `serde` and `inspect`), else Debug text when `T: Debug`, else `None` (autoref
/// specialisation, as [`WireProbe`](crate::remote::WireProbe) does for codecs: method lookup
/// on `&&TextProbe` tries `ViaSerde`'s impl for `&TextProbe` first, then `ViaDebug`'s for
/// `&&TextProbe` by autoref, then `ViaNoText`'s for `TextProbe` after a deref).
#[doc(hidden)]
pub struct TextProbe<T>(PhantomData<fn() -> T>);

impl<T> TextProbe<T> {
    /// A probe for `T`.
    pub fn new() -> TextProbe<T> {
        TextProbe(PhantomData)
    }
}

impl<T> Default for TextProbe<T> {
    fn default() -> Self {
        TextProbe::new()
    }
}

/// Reads the newest value of an output port (an `OutputRef<T>` behind `dyn Any`) as its
/// sequence number and text (JSON when `json`, else `Debug`); `None` before the first write or
/// for another port type.
#[doc(hidden)]
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "inspect"), allow(dead_code))]
pub struct FoundText(
    pub(crate) fn(&(dyn Any + Send + Sync)) -> Option<(u64, String)>,
    /// Whether the text is JSON.
    pub(crate) bool,
);

/// The newest value of the `OutputRef<T>` behind `port`, straight from its ring buffer: no
/// input's read marks move, the writer never waits.
#[cfg_attr(not(feature = "inspect"), allow(dead_code))]
fn newest<T: Send + Sync + 'static>(port: &(dyn Any + Send + Sync)) -> Option<(u64, Arc<T>)> {
    let output = port.downcast_ref::<OutputRef<T>>()?;
    output.shared.ring.read_latest_with_seq()
}

/// The probe's answer when the payload is `serde::Serialize` (features `serde` and `inspect`).
#[doc(hidden)]
pub trait ViaSerde {
    /// `Some`: how to show the newest value as JSON.
    fn text_ops(&self) -> Option<FoundText>;
}

#[cfg(all(feature = "serde", feature = "inspect"))]
impl<T: serde::Serialize + Send + Sync + 'static> ViaSerde for &TextProbe<T> {
    fn text_ops(&self) -> Option<FoundText> {
        let json = |port: &(dyn Any + Send + Sync)| {
            let (seq, value) = newest::<T>(port)?;
            let text = serde_json::to_string(&*value).unwrap_or_else(|error| {
                serde_json::json!({ "unserializable": error.to_string() }).to_string()
            });
            Some((seq, text))
        };
        Some(FoundText(json, true))
    }
}

/// The probe's answer when the payload is `Debug`.
#[doc(hidden)]
pub trait ViaDebug {
    /// `Some`: how to show the newest value.
    fn text_ops(&self) -> Option<FoundText>;
}

impl<T: fmt::Debug + Send + Sync + 'static> ViaDebug for &&TextProbe<T> {
    fn text_ops(&self) -> Option<FoundText> {
        let debug = |port: &(dyn Any + Send + Sync)| {
            let (seq, value) = newest::<T>(port)?;
            Some((seq, format!("{:?}", &*value)))
        };
        Some(FoundText(debug, false))
    }
}

/// The probe's answer otherwise.
#[doc(hidden)]
pub trait ViaNoText {
    /// `None`: the payload has no text form.
    fn text_ops(&self) -> Option<FoundText>;
}

impl<T> ViaNoText for TextProbe<T> {
    fn text_ops(&self) -> Option<FoundText> {
        None
    }
}
