//! # streamlib
//!
//! Real-time streaming pipelines built from **actors**: independent components that wake on the
//! ticks of a clock, read the **latest** value of their inputs and write their outputs. Wiring is
//! typed and checked at compile time (`pipeline!`), buffers are lock-free and never queue, and
//! thousands of actors share a small worker pool.
//!
//! ```
//! use streamlib::prelude::*;
//!
//! #[actor]
//! #[derive(Default)]
//! pub struct Counter {
//!     #[output] pub value: Output<i64>,
//! }
//!
//! impl Process for Counter {
//!     fn process(&mut self, tick: &Tick) -> ProcessResult {
//!         self.value.write(tick.frame_number as i64);
//!         Ok(())
//!     }
//! }
//!
//! #[actor]
//! pub struct Doubler {
//!     #[input]  pub value: Input<i64>,
//!     #[output(name = "value")] pub doubled: Output<i64>,
//!     pub factor: i64,
//! }
//!
//! impl Process for Doubler {
//!     fn process(&mut self, _tick: &Tick) -> ProcessResult {
//!         if let Some(v) = self.value.read_latest() {
//!             self.doubled.write(*v * self.factor);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let rt = Runtime::new();
//! let src = rt.spawn(Counter::default(), "src")?;
//! let dbl = rt.spawn(Doubler { value: Input::new(), doubled: Output::new(), factor: 2 }, "dbl")?;
//! pipeline! { src.value >> dbl.value }?;
//! # let start = std::time::Instant::now();
//! # while dbl.outputs.value.read_latest().is_none() && start.elapsed().as_secs() < 10 {
//! #     std::thread::sleep(std::time::Duration::from_millis(5));
//! # }
//! let doubled = dbl.outputs.value.read_latest().expect("a value within a few ticks");
//! assert_eq!(*doubled % 2, 0);
//! rt.shutdown();
//! # Ok::<(), streamlib::Error>(())
//! ```
//!
//! Concepts, each in the module of its name: [`mod@actor`] (the `Process` trait and what `#[actor]`
//! implements), [`port`] (inputs, outputs, latest-value reads), [`ring`] (the lock-free buffer
//! behind every output), [`mod@pipeline`] (connections), [`clock`] (rates, ticks, clocks),
//! [`runtime`] (spawning, scheduling, stopping), [`registry`] and [`uri`] (finding actors),
//! [`message`] (video, audio and event payloads), [`stats`] (counters), [`port_allocator`]
//! (RTP/RTCP port pairs).
//!
//! # Layering
//!
//! Modules depend downward only; no module imports one of a layer above it:
//!
//! 1. The bottom: [`error`], [`message`], [`uri`], [`stats`], [`codec`], [`wire`] and
//!    [`Timestamp`]. They import nothing of the layers above (not even through the crate root).
//! 2. [`ring`]; then [`port`] on it.
//! 3. [`clock`] on its own (its system calls in one place, `clock/sys.rs`): it imports nothing of
//!    ports, actors or the runtime.
//! 4. [`mod@actor`] (the traits) on ports and clocks; [`mod@pipeline`] (connections) on ports.
//! 5. [`runtime`] (the scheduler, split by concept), [`registry`] and the remote seam
//!    ([`remote`]) on top.
//! 6. Adapters that bridge two layers live above both: [`PortPulses`] joins ports to the clocks'
//!    pulse sources.
//! 7. Engines and servers above everything, each behind its cargo feature: `net` (Zenoh),
//!    `inspect` (HTTP/JSON). The macros reach the runtime only through the hidden `__private`
//!    module.
//!
//! The graph description (`graph.rs`: actors and links with typed ends, and their DOT text)
//! depends on [`uri`] only; [`Pipeline::to_dot`], [`Registry::to_dot`] and the inspection API
//! fill it from what they hold, so all three describe the graph alike.

#![deny(missing_docs)]
#![warn(rust_2018_idioms)]

pub mod actor;
pub mod class;
pub mod clock;
pub mod codec;
pub mod error;
mod graph;
#[cfg(feature = "inspect")]
pub mod inspect;
#[cfg(feature = "ipc")]
pub mod ipc;
#[cfg(feature = "log")]
pub mod log;
pub mod message;
#[cfg(feature = "net")]
pub mod net;
pub mod pipeline;
pub mod port;
pub mod port_allocator;
mod port_pulses;
#[cfg(feature = "record")]
pub mod record;
pub mod registry;
pub mod remote;
pub mod ring;
pub mod runtime;
pub mod stats;
mod timestamp;
pub mod uri;
pub mod wire;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use actor::{Actor, ActorConfig, Dispatch, FaultPolicy, PortBinder, PortInfo, Process};
#[cfg(feature = "ptp")]
pub use clock::PtpNetworkConfig;
pub use clock::{
    Clock, ClockId, FdPulses, GenlockClock, GenlockConfig, GenlockState, GenlockStatus, Interrupt,
    LatePolicy, ManualClock, PtpClock, PtpClockIdentity, PtpSource, PtpSourceKind, PtpState,
    PtpStatus, PulseSource, Rate, SoftwareClock, SoftwareClockMode, Tick, Timestamp, UdpPulses,
};
pub use codec::{Codec, DecodeError};
pub use error::{ActorError, Error, ProcessResult, Result};
#[cfg(feature = "ipc")]
pub use ipc::IpcConfig;
pub use message::*;
#[cfg(feature = "net")]
pub use net::{NetConfig, TlsConfig};
pub use pipeline::{connect, Connection, Pipeline};
pub use port::{
    Direction, FrameBuffer, Input, InputRef, Inputs, InputsRef, MessageBuffer, Output, OutputRef,
    PortStats, MAX_QUEUE,
};
pub use port_allocator::PortAllocator;
pub use port_pulses::PortPulses;
#[cfg(feature = "record")]
pub use record::{Recorder, Recording, Replay};
pub use registry::{ActorRef, Registry};
pub use remote::{register_codec, RemoteActor, RemoteBinder, RemoteHandle};
pub use ring::RingBuffer;
pub use runtime::{ActorHandle, Runtime, RuntimeBuilder, Spawn, SpawnOptions, DEFAULT_RATE};
pub use stats::{ActorStats, PortStatsList};
pub use uri::ActorUri;
pub use wire::Stamp;

#[doc = include_str!("../../streamlib-macros/doc/actor.md")]
pub use streamlib_macros::actor;
#[doc = include_str!("../../streamlib-macros/doc/pipeline.md")]
pub use streamlib_macros::pipeline;

/// Everything a pipeline author needs: `use streamlib::prelude::*;`.
pub mod prelude {
    pub use crate::{
        actor, pipeline, Actor, ActorError, ActorHandle, Input, InputRef, Inputs, InputsRef,
        ManualClock, Output, OutputRef, Process, ProcessResult, Runtime, Spawn, Tick,
    };
}

/// The README's Rust blocks, compiled and run as doctests (`cargo test -p streamlib --doc`), so
/// that its first example keeps compiling as pasted.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
