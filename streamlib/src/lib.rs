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

#![deny(missing_docs)]
#![warn(rust_2018_idioms)]

pub mod actor;
pub mod clock;
pub mod codec;
pub mod error;
#[cfg(feature = "inspect")]
pub mod inspect;
pub mod message;
#[cfg(feature = "net")]
pub mod net;
pub mod pipeline;
pub mod port;
pub mod port_allocator;
pub mod registry;
pub mod remote;
pub mod ring;
pub mod runtime;
pub mod stats;
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
    LatePolicy, PortPulses, PtpClock, PtpClockIdentity, PtpSource, PtpSourceKind, PtpState,
    PtpStatus, PulseSource, Rate, SoftwareClock, SoftwareClockMode, Tick, Timestamp, UdpPulses,
};
pub use codec::{Codec, DecodeError};
pub use error::{ActorError, Error, ProcessResult, Result};
pub use message::*;
#[cfg(feature = "net")]
pub use net::{NetConfig, TlsConfig};
pub use pipeline::{connect, Connection, Pipeline};
pub use port::{Direction, Input, InputRef, Output, OutputRef, PortStats};
pub use port_allocator::PortAllocator;
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
        actor, pipeline, Actor, ActorHandle, Input, InputRef, Output, OutputRef, Process,
        ProcessResult, Runtime, Spawn, Tick,
    };
}
