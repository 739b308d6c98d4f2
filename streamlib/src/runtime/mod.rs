//! The runtime: spawning, scheduling and stopping actors.
//!
//! A [`Runtime`] owns a [`Registry`], a worker pool (one thread per core by default, started at
//! the first spawn) and one **clock domain** per clock in use (below: how a tick runs). Spawning an actor registers it at `actor://local/<Class>/<id>` and starts it at once:
//! it runs from its clock's next tick on. Actors spawned without a clock share the runtime's
//! default [`SoftwareClock`] for their rate (60 fps unless `#[actor(fps = ..)]` says otherwise),
//! so plain `rt.spawn` pipelines propagate a value through every stage within one tick.
//!
//! **How a tick runs.** A domain's thread waits for its clock's next tick, then runs the domain's
//! schedule — its actors in topological order of their connections — as a DAG: an actor becomes
//! ready when all its upstreams on the same clock have finished this tick, so a value written
//! upstream at tick N is read downstream at tick N. The roots are split into chunks of about
//! equal *measured* cost (each worth at least 0.5 ms, at most one per worker plus the clock's
//! thread); the clock's thread runs the costliest chunk and the pool's workers take the others, so
//! independent branches run side by side while a light pipeline runs entirely on the clock's
//! thread with no wake-up. A chain runs back to back on one thread. Of the branches of a fan-out
//! (an actor making several successors ready at once), the costliest stays on the thread and
//! runs last, those that cost little — measured, under 0.5 ms together — stay too and run first
//! (a writer with three cheap readers wakes no worker; waking one for a microsecond's work cost
//! more than the work), and the other costly ones go to the tick's own queue, which idle workers
//! steal from and the clock's thread drains while it waits — it never runs another clock's
//! work. Connections that close a cycle are left
//! out of the ordering (the reader sees the previous tick's value); connections between clocks
//! order nothing. The schedule is rebuilt at the next tick after an actor or a connection of the
//! clock was added or removed, never per tick, and a steady tick allocates nothing. Between ticks
//! every thread sleeps. A [`Dispatch::Dedicated`] actor runs on its own thread, still in its
//! place in the order. The files: `cell` (one actor and one `process` call), `actor_lock` (the
//! lock around an actor's state: released with a plain store), `hot` (the dense arena of what
//! ticks touch), `schedule`, `tick` (one tick in flight), `stopwatch` (the cheap
//! time reading that times actor runs), `pool`, `domain` (a clock and its thread), `dedicated`.
//!
//! **One actor, by side.** What users hold is public; the rest is crate-private and named after
//! the side that owns it:
//!
//! | name | side | file | what it is |
//! |---|---|---|---|
//! | [`ActorHandle`] | user | `runtime/mod.rs` | typed ports and lifecycle, returned by `spawn` |
//! | [`ActorRef`] | user, tools | `registry.rs` | the type-erased view the registry hands out |
//! | `RegistryEntry` | registry | `registry.rs` | URI, ports, stats, `running`: what handles, refs and tools read |
//! | `RuntimeCell` | runtime | `runtime/cell.rs` | the entry, config, `Hot` and dedicated thread; runs one `process` call |
//! | `Hot` | runtime | `runtime/cell.rs` | what a tick touches: the lock with `CellState`, flags, the entry's `running` and stats counters; in the arena of `runtime/hot.rs` |
//! | `CellState` | runtime | `runtime/cell.rs` | behind the cell's lock: the actor value and its start/stop marks |
//! | [`ActorKey`] | all | `port.rs` | the actor's id, unique in the process: what graphs and schedules key by |
//!
//! The runtime owns actors and connections: dropping an [`ActorHandle`], a
//! [`Connection`](crate::Connection) or a [`Pipeline`](crate::Pipeline) changes nothing;
//! [`ActorHandle::stop`], [`Runtime::shutdown`] or dropping the `Runtime` end them. A connection
//! never outlives either end: connecting a stopped actor is [`Error::ActorNotRunning`], and
//! actors of two runtimes cannot be connected ([`Error::DifferentRuntimes`]).
//!
//! **Many actors.** A tick touches, of every actor it runs, its lock and flags, `running` and
//! the stats counters (`Hot`, 192 bytes), and the actor's own state. The runtime keeps every
//! actor's `Hot` in one dense arena backed by huge pages where the kernel allows them, in spawn
//! order, and the thread running a tick asks for them and for each actor's state a few actors
//! ahead; allocated with the actor's other data they lay a 4 KiB page or two apart, and with
//! 10,000 actors each one paid a page walk. The actors' own data (their ports, the values they
//! write) stays where the global allocator puts it; the tick asks for the lines their ports'
//! reads and writes touch too (`port::PortLines`: an output's ring header and read marks and an
//! input's counters 8 actors ahead, with the first three successors it may run next; the slot a
//! write claims 4 ahead), and an allocator that backs the heap with huge pages (mimalloc, where
//! transparent huge pages are enabled) takes their page walks off as well
//! (`benches/scheduler_hugepages.rs`, BENCHMARKS.md).
//!
//! **Bounds the runtime keeps**:
//! - `stop()` interrupts the wait for the next tick at once; a `process` or `on_stop` that does
//!   not return within the actor's stop timeout (1 s by default; `Duration::MAX` saturates) makes
//!   it return [`Error::StopTimeout`], and the thread stuck in it is replaced (a worker, or the
//!   clock's own thread), so the actor's clock keeps ticking for the others.
//! - `stop()` of an actor from inside its own `process` returns at once; its `on_stop` runs right
//!   after `process` returns. `shutdown()` from inside an actor returns at once too and finishes
//!   on a thread of its own.
//! - `shutdown()` stops every actor at once with one deadline: the longest stop timeout (at most
//!   10 s), plus at most 1 s to join the threads — not the sum over stuck actors.
//! - A fault under [`FaultPolicy::Stop`] or [`FaultPolicy::StopRuntime`] is applied by one
//!   thread per runtime, never a thread per fault; the actor's `on_stop` runs on the pool.
//! - `process`, `on_start`, `on_stop` and the drop of an actor's state all run inside
//!   `catch_unwind`: no user code unwinds into a runtime thread.
//! - An actor spawned while the runtime shuts down is either stopped by that shutdown or not
//!   spawned ([`Error::RuntimeShutDown`]).
//! - An actor's own request to stop — `Err(ActorError::stop())` or
//!   `Err(ActorError::stop_runtime())` from `process` (see [`ActorError`](crate::ActorError)) —
//!   is no fault: not logged as one, not counted, whatever the fault policy. The actor gets no
//!   further `process` call; for `stop()` its `on_stop` runs right after, on the same thread.
//! - [`Runtime::run_until_stopped`] and [`Runtime::run_for`] block until the runtime has shut
//!   down (or has no actor left), and return the first `StopRuntime` fault if one ended it;
//!   they return at once on a runtime that is shut down already, and
//!   [`Error::CalledFromActor`] from inside an actor, never waiting for themselves.
//!
//! ```
//! use streamlib::{Runtime, Error};
//! # use streamlib::{Actor, Output, OutputRef, PortBinder, Process, ProcessResult, Tick};
//! # #[derive(Default)] struct Counter { value: Output<u64> }
//! # impl Actor for Counter {
//! #     type Inputs = (); type Outputs = OutputRef<u64>;
//! #     fn class_name() -> &'static str { "Counter" }
//! #     fn bind_ports(&self, p: &mut PortBinder<'_>) -> ((), OutputRef<u64>) { ((), p.output("value", &self.value)) }
//! # }
//! # impl Process for Counter { fn process(&mut self, t: &Tick) -> ProcessResult { self.value.write(t.frame_number); Ok(()) } }
//! let rt = Runtime::new();
//! let counter = rt.spawn(Counter::default(), "c0")?;
//! assert_eq!(counter.uri().to_string(), "actor://local/Counter/c0");
//! assert!(matches!(rt.spawn(Counter::default(), "c0"), Err(Error::DuplicateActor { .. })));
//! counter.stop()?;
//! counter.stop()?; // idempotent
//! assert!(!counter.is_running());
//! assert!(rt.registry().is_empty());
//! # Ok::<(), streamlib::Error>(())
//! ```

mod actor_lock;
mod builder;
mod cell;
mod dedicated;
mod domain;
mod hot;
mod lifecycle;
mod pool;
mod schedule;
mod stopwatch;
mod tick;

pub use builder::RuntimeBuilder;
pub(crate) use builder::Service;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::actor::{find_port, Actor, ActorConfig, Dispatch, FaultPolicy, PortBinder};
use crate::clock::{Clock, ClockId, Rate, SoftwareClock};
use crate::error::{Error, Result};
use crate::port::{ActorKey, Detach, Graph};
use crate::registry::{port_stats, ActorRef, EntryRef, Registry};
use crate::remote::{Announcement, RemoteActor, RemoteHandle};
use crate::stats::{ActorStats, PortStatsList};
use crate::uri::{validate_instance_id, ActorUri};

use cell::{deadline, running_here, RuntimeCell};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use dedicated::{Dedicated, DedicatedStart};
use domain::Domain;
use lifecycle::{Lifecycle, Seen};
use pool::Pool;
use tick::{Fault, Job};

/// How long shutdown waits for threads (domains, workers) to finish.
const SHUTDOWN_JOIN: Duration = Duration::from_secs(1);

/// Owns actors, their clocks, the worker pool and the registry.
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

/// Options for [`Runtime::spawn_with`], overriding the actor's `#[actor(..)]` defaults.
#[derive(Default)]
pub struct SpawnOptions {
    clock: Option<Box<dyn Clock>>,
    dispatch: Option<Dispatch>,
    fault_policy: Option<FaultPolicy>,
    stop_timeout: Option<Duration>,
}

impl SpawnOptions {
    /// No overrides.
    pub fn new() -> SpawnOptions {
        SpawnOptions::default()
    }

    /// Run on `clock` (a clone of it: clones share one clock).
    pub fn clock<C: Clock + ?Sized>(mut self, clock: &C) -> SpawnOptions {
        self.clock = Some(clock.boxed_clone());
        self
    }

    /// Run on the worker pool or on a thread of its own.
    pub fn dispatch(mut self, dispatch: Dispatch) -> SpawnOptions {
        self.dispatch = Some(dispatch);
        self
    }

    /// What an error or panic in `process` leads to.
    pub fn fault_policy(mut self, policy: FaultPolicy) -> SpawnOptions {
        self.fault_policy = Some(policy);
        self
    }

    /// How long `stop()` waits for a running `process` call.
    pub fn stop_timeout(mut self, timeout: Duration) -> SpawnOptions {
        self.stop_timeout = Some(timeout);
        self
    }
}

impl fmt::Debug for SpawnOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnOptions")
            .field("clock", &self.clock.as_ref().map(|c| c.describe()))
            .field("dispatch", &self.dispatch)
            .field("fault_policy", &self.fault_policy)
            .field("stop_timeout", &self.stop_timeout)
            .finish()
    }
}

/// A running actor: its typed ports and its lifecycle.
///
/// `inputs` and `outputs` hold an [`InputRef`](crate::InputRef) / [`OutputRef`](crate::OutputRef)
/// per port, named as the ports are. Dropping the handle does not stop the actor.
pub struct ActorHandle<A: Actor> {
    /// The actor's input ports.
    pub inputs: A::Inputs,
    /// The actor's output ports.
    pub outputs: A::Outputs,
    entry: EntryRef,
    key: ActorKey,
    runtime: Weak<RuntimeInner>,
}

impl<A: Actor> ActorHandle<A> {
    /// Stops the actor: no more ticks, unregistered, its connections removed, `on_stop` run.
    /// Idempotent. Returns [`Error::StopTimeout`] if a running `process` did not return within
    /// the actor's stop timeout (its work is then detached).
    pub fn stop(&self) -> Result<()> {
        match self.runtime.upgrade() {
            Some(runtime) => runtime.stop_actor(self.key),
            None => Ok(()),
        }
    }

    /// The actor's URI.
    pub fn uri(&self) -> &ActorUri {
        &self.entry.uri
    }

    /// Whether the actor is running (spawned and not stopped).
    pub fn is_running(&self) -> bool {
        self.entry.running().load(Ordering::Acquire)
    }

    /// The actor's counters.
    pub fn stats(&self) -> ActorStats {
        self.entry.stats().snapshot()
    }

    /// The counters of each port.
    pub fn port_stats(&self) -> PortStatsList {
        port_stats(&self.entry.ports)
    }

    /// A type-erased reference, as the registry hands out.
    pub fn actor_ref(&self) -> ActorRef {
        ActorRef {
            entry: self.entry.clone(),
            remote: None,
        }
    }
}

impl<A: Actor> fmt::Debug for ActorHandle<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorHandle({})", self.entry.uri)
    }
}

/// Makes `actor.spawn("id")` spawn on [`Runtime::global`].
pub trait Spawn: Actor + Sized {
    /// Spawns `self` as `id` on the global runtime.
    fn spawn(self, id: &str) -> Result<ActorHandle<Self>> {
        Runtime::global().spawn(self, id)
    }
}

impl<A: Actor> Spawn for A {}

impl Runtime {
    /// A runtime with its own registry and scheduler, one worker per core.
    pub fn new() -> Runtime {
        Runtime::with_workers(pool::cores())
    }

    /// A builder for a runtime with options: worker count, host name, network.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// A runtime with `workers` pool threads (at least 1).
    pub fn with_workers(workers: usize) -> Runtime {
        Runtime {
            inner: RuntimeInner::new(workers),
        }
    }

    /// The process-wide runtime used by `actor.spawn("id")`; created at first use, never dropped.
    pub fn global() -> &'static Runtime {
        static GLOBAL: OnceLock<Runtime> = OnceLock::new();
        GLOBAL.get_or_init(Runtime::new)
    }

    /// Spawns `actor` as `id` on the default clock for its rate.
    pub fn spawn<A: Actor>(&self, actor: A, id: &str) -> Result<ActorHandle<A>> {
        self.spawn_with(actor, id, SpawnOptions::new())
    }

    /// Spawns `actor` as `id` on `clock`.
    pub fn spawn_on<A: Actor, C: Clock + ?Sized>(
        &self,
        actor: A,
        id: &str,
        clock: &C,
    ) -> Result<ActorHandle<A>> {
        self.spawn_with(actor, id, SpawnOptions::new().clock(clock))
    }

    /// Spawns `actor` as `id` with `options`.
    pub fn spawn_with<A: Actor>(
        &self,
        actor: A,
        id: &str,
        options: SpawnOptions,
    ) -> Result<ActorHandle<A>> {
        self.inner.spawn(actor, id, options)
    }

    /// The registry of this runtime's actors.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// A handle to the actor at `uri` in another process or on another host, its ports typed as
    /// `A` declares them, so `pipeline!` checks links to it at compile time. Returns at once;
    /// values flow once the remote actor is reachable (see
    /// [`RemoteHandle::wait_until_running`]). Every payload of `A` must have a
    /// [`Codec`](crate::Codec): otherwise this call does not compile, naming the payload type.
    ///
    /// Errors: [`Error::NoNetwork`] on a runtime without a network, [`Error::InvalidUri`], and
    /// [`Error::Remote`] when the URI's class is not `A`'s.
    pub fn remote<A: RemoteActor>(&self, uri: &str) -> Result<RemoteHandle<A>> {
        let network = self
            .inner
            .registry
            .network
            .get()
            .ok_or_else(|| Error::NoNetwork {
                what: format!("a remote handle to {uri}"),
            })?;
        let uri = ActorUri::parse(uri)?;
        if uri.class() != A::class_name() {
            return Err(Error::Remote {
                uri: uri.to_string(),
                reason: format!(
                    "the URI names class {}, the handle is typed {}",
                    uri.class(),
                    A::class_name()
                ),
            });
        }
        Ok(RemoteHandle::new(network.peer(&uri)))
    }

    /// The host name this runtime announces its actors under, when it has a network.
    pub fn host(&self) -> Option<&str> {
        self.inner.registry.network.get().map(|n| n.host.as_str())
    }

    /// The runtime's default clock for `rate` (created on first use).
    pub fn default_clock(&self, rate: Rate) -> SoftwareClock {
        self.inner.default_clock(rate)
    }

    /// Stops every actor and thread of the runtime. Idempotent; bounded in time.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }

    /// Blocks the calling thread while the runtime runs; returns once it has shut down.
    ///
    /// The runtime shuts down when an actor asks for it (`Err(ActorError::stop_runtime())` from
    /// `process`, see [`ActorError`](crate::ActorError)), when a fault under
    /// [`FaultPolicy::StopRuntime`] happens, when another thread calls
    /// [`shutdown`](Self::shutdown) — or when no actor is left running (every actor stopped
    /// itself or was stopped), in which case this call shuts it down. It returns after the
    /// shutdown finished: every actor's `on_stop` ran, so sinks can be read.
    ///
    /// Returns `Ok(())`, or [`Error::ActorFailed`] naming the actor and its error when a
    /// `StopRuntime` fault ended the runtime (the first such fault; not one that happened
    /// while a shutdown was already under way).
    ///
    /// Misuse, and what it gets: on a runtime already shut down (or with no actor) it returns
    /// at once, with the outcome of that shutdown (so a program does not depend on whether
    /// its actors finished before it started waiting); called twice, or from several threads,
    /// every call gets the same outcome; from inside an actor's `process`, where it could only
    /// wait for itself, it returns [`Error::CalledFromActor`] at once.
    ///
    /// ```
    /// use streamlib::{prelude::*, ActorError, Error, FaultPolicy, SpawnOptions};
    ///
    /// #[actor]
    /// #[derive(Default)]
    /// pub struct Fails {
    ///     #[output] pub value: Output<u64>,
    /// }
    ///
    /// impl Process for Fails {
    ///     fn process(&mut self, tick: &Tick) -> ProcessResult {
    ///         match tick.frame_number {
    ///             2 => Err(ActorError::msg("sensor unplugged")),
    ///             n => Ok(self.value.write(n)),
    ///         }
    ///     }
    /// }
    ///
    /// let rt = Runtime::new();
    /// let options = SpawnOptions::new().fault_policy(FaultPolicy::StopRuntime);
    /// rt.spawn_with(Fails::default(), "s0", options)?;
    /// match rt.run_until_stopped() {
    ///     Err(Error::ActorFailed { uri, reason, .. }) => {
    ///         assert_eq!(uri, "actor://local/Fails/s0");
    ///         assert_eq!(reason, "sensor unplugged");
    ///     }
    ///     other => panic!("expected the fault, got {other:?}"),
    /// }
    /// assert!(rt.is_shut_down());
    /// assert!(rt.run_until_stopped().is_err(), "the same outcome again, at once");
    /// # Ok::<(), streamlib::Error>(())
    /// ```
    pub fn run_until_stopped(&self) -> Result<()> {
        self.inner.run_until("Runtime::run_until_stopped", None)
    }

    /// Like [`run_until_stopped`](Self::run_until_stopped), but shuts the runtime down itself
    /// once `duration` has passed (a `Duration::MAX` saturates: it never does). Returns
    /// `Ok(())` then, and what `run_until_stopped` returns if the runtime shut down before.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamlib::prelude::*;
    /// # #[actor] #[derive(Default)] pub struct Counter { #[output] pub value: Output<u64> }
    /// # impl Process for Counter {
    /// #     fn process(&mut self, tick: &Tick) -> ProcessResult { self.value.write(tick.frame_number); Ok(()) }
    /// # }
    /// let rt = Runtime::new();
    /// let counter = rt.spawn(Counter::default(), "c")?;
    /// rt.run_for(Duration::from_millis(50))?;
    /// assert!(rt.is_shut_down() && !counter.is_running());
    /// # Ok::<(), streamlib::Error>(())
    /// ```
    pub fn run_for(&self, duration: Duration) -> Result<()> {
        self.inner
            .run_until("Runtime::run_for", Some(deadline(duration)))
    }

    /// The address of the first service started at `build()` that listens on one.
    #[cfg_attr(not(feature = "inspect"), allow(dead_code))]
    pub(crate) fn service_address(&self) -> Option<std::net::SocketAddr> {
        self.inner.servers.lock().iter().find_map(|s| s.address())
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.inner.shut_down.load(Ordering::Acquire)
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("actors", &self.inner.registry)
            .finish()
    }
}

/// The runtime's record of a connection between two of its actors.
struct ConnectionRecord {
    from: ActorKey,
    to: ActorKey,
    detach: Detach,
    /// The domain of both ends, when they share a clock (the edge orders its schedule).
    domain: Option<Arc<Domain>>,
}

/// Which actors run, on which domain, and the connections between them.
#[derive(Default)]
struct GraphState {
    cells: HashMap<ActorKey, (Arc<RuntimeCell>, Arc<Domain>)>,
    edges: HashMap<u64, ConnectionRecord>,
}

impl GraphState {
    /// Removes every edge from or to `key` (their schedules are marked for rebuilding); the
    /// caller detaches the inputs, outside the lock.
    fn remove_edges_of(&mut self, key: ActorKey) -> Vec<ConnectionRecord> {
        let ids: Vec<u64> = self
            .edges
            .iter()
            .filter(|(_, e)| e.from == key || e.to == key)
            .map(|(id, _)| *id)
            .collect();
        ids.iter()
            .filter_map(|id| {
                let edge = self.edges.remove(id)?;
                if let Some(domain) = &edge.domain {
                    domain.edges.lock().remove(id);
                    domain.invalidate();
                }
                Some(edge)
            })
            .collect()
    }
}

/// What the runtime starts at its first spawn: the worker pool and the thread that applies
/// fault policies.
struct Services {
    pool: Arc<Pool>,
    faults: Sender<Fault>,
}

/// The shared state of a [`Runtime`].
///
/// **Lock order** (a thread holding one may take only those after it): `graph` → `domains` →
/// a domain's `actors` / `edges` → an actor's `state` (in its `Hot`); `services`, `servers`,
/// `default_clocks` and `announcements` are taken alone. The tick path takes none of them but the
/// actors' `state`.
pub(crate) struct RuntimeInner {
    this: Weak<RuntimeInner>,
    registry: Registry,
    workers: usize,
    graph: Mutex<GraphState>,
    domains: Mutex<HashMap<ClockId, Arc<Domain>>>,
    services: Mutex<Option<Services>>,
    default_clocks: Mutex<HashMap<Rate, SoftwareClock>>,
    /// Set under the `graph` lock, so a spawn either lands before it (and is stopped) or fails.
    shut_down: AtomicBool,
    /// What each actor announced to other processes (with a network).
    announcements: Mutex<HashMap<ActorKey, Announcement>>,
    /// Servers started at `build()` (inspection); stopped at shutdown.
    servers: Mutex<Vec<Box<dyn Service>>>,
    /// What `run_until_stopped` waits on.
    lifecycle: Lifecycle,
}

impl RuntimeInner {
    fn new(workers: usize) -> Arc<RuntimeInner> {
        Arc::new_cyclic(|weak| RuntimeInner {
            this: weak.clone(),
            registry: Registry::default(),
            workers: workers.max(1),
            graph: Mutex::new(GraphState::default()),
            domains: Mutex::new(HashMap::new()),
            services: Mutex::new(None),
            default_clocks: Mutex::new(HashMap::new()),
            shut_down: AtomicBool::new(false),
            announcements: Mutex::new(HashMap::new()),
            servers: Mutex::new(Vec::new()),
            lifecycle: Lifecycle::default(),
        })
    }

    /// The URI of a running actor, for messages (`?` once it is gone).
    fn uri_of(&self, key: ActorKey) -> String {
        self.graph
            .lock()
            .cells
            .get(&key)
            .map_or_else(|| "?".to_string(), |(cell, _)| cell.entry.uri.to_string())
    }

    /// Waits for the runtime to end (see `Runtime::run_until_stopped`); shuts it down itself
    /// when no actor is left, or at `until`.
    fn run_until(&self, call: &'static str, until: Option<Instant>) -> Result<()> {
        if let Some(key) = running_here() {
            let uri = self.uri_of(key);
            return Err(Error::CalledFromActor { call, uri });
        }
        loop {
            // Read before checking, so an actor that stops in between wakes the wait below.
            let generation = self.lifecycle.generation();
            if !self.lifecycle.begun() {
                let idle = self.graph.lock().cells.is_empty();
                let due = until.is_some_and(|until| Instant::now() >= until);
                if idle || due {
                    self.shutdown();
                }
            }
            let wait_until = if self.lifecycle.begun() { None } else { until };
            if let Seen::Ended(outcome) = self.lifecycle.wait(generation, wait_until) {
                return outcome;
            }
        }
    }

    fn spawn<A: Actor>(&self, actor: A, id: &str, options: SpawnOptions) -> Result<ActorHandle<A>> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(Error::RuntimeShutDown);
        }
        validate_instance_id(id)?;
        let uri = ActorUri::local(A::class_name(), id)?;
        let key = ActorKey::next();
        let graph: Weak<dyn Graph> = self.this.clone();
        let mut binder = PortBinder {
            actor: key,
            uri: &uri,
            graph,
            ports: Vec::new(),
        };
        let (inputs, outputs) = actor.bind_ports(&mut binder);
        let mut ports = binder.ports;
        ports.sort_by_key(|p| p.direction == crate::port::Direction::Output);

        let defaults = A::config();
        let config = ActorConfig {
            rate: defaults.rate,
            dispatch: options.dispatch.unwrap_or(defaults.dispatch),
            fault_policy: options.fault_policy.unwrap_or(defaults.fault_policy),
            stop_timeout: options.stop_timeout.unwrap_or(defaults.stop_timeout),
            on: defaults.on,
        };
        if let Some(on) = config.on {
            if find_port(&ports, on, crate::port::Direction::Input).is_none() {
                return Err(Error::InvalidOption {
                    option: "on",
                    value: on.to_string(),
                    reason: "an input-triggered actor names one of its own input ports",
                });
            }
        }
        let clock = match options.clock {
            Some(clock) => clock,
            None => Box::new(self.default_clock(defaults.rate.unwrap_or(DEFAULT_RATE))),
        };
        let (dedicated, thread) = match config.dispatch {
            Dispatch::Pool => (None, None),
            Dispatch::Dedicated => {
                let (dedicated, thread) = Dedicated::new();
                (Some(dedicated), Some(thread))
            }
        };
        let cell = Arc::new(RuntimeCell::new(
            key,
            (uri.clone(), ports, clock.describe()),
            config,
            Box::new(actor),
            dedicated,
        ));
        let entry = EntryRef::new(cell.clone());
        self.registry.insert(ActorRef {
            entry: entry.clone(),
            remote: None,
        })?;
        let started = self
            .start(&cell, thread, clock)
            .and_then(|()| self.announce(key, &entry));
        match started {
            Ok(()) => {
                tracing::debug!(actor = %uri, "spawned");
                Ok(ActorHandle {
                    inputs,
                    outputs,
                    entry,
                    key,
                    runtime: self.this.clone(),
                })
            }
            Err(e) => {
                let _ = self.stop_actor(key);
                entry.running().store(false, Ordering::Release);
                self.registry.remove(&uri);
                Err(e)
            }
        }
    }

    /// Announces a spawned actor to other processes, when the runtime has a network.
    fn announce(&self, key: ActorKey, entry: &EntryRef) -> Result<()> {
        if let Some(network) = self.registry.network.get() {
            let announcement = network.announce(entry)?;
            self.announcements.lock().insert(key, announcement);
        }
        Ok(())
    }

    /// Starts the actor's dedicated thread, if it has one, and adds its cell to its clock's
    /// domain.
    fn start(
        &self,
        cell: &Arc<RuntimeCell>,
        thread: Option<DedicatedStart>,
        clock: Box<dyn Clock>,
    ) -> Result<()> {
        let (pool, faults) = self.services()?;
        let key = cell.key();
        if let Some(thread) = thread {
            thread.spawn(cell)?;
        }
        let (domain, new) = self.join_domain(clock, cell, pool, faults)?;
        cell.entry.stats().share_clock(domain.counters.clone());
        {
            let mut graph = self.graph.lock();
            if self.shut_down.load(Ordering::Acquire) {
                drop(graph);
                domain.actors.lock().remove(&key);
                if new {
                    domain.clock.detach(&domain.interrupt, false);
                }
                if let Some(dedicated) = &cell.dedicated {
                    let _ = dedicated.stop();
                }
                return Err(Error::RuntimeShutDown);
            }
            graph.cells.insert(key, (cell.clone(), domain.clone()));
        }
        cell.set_ready();
        if new {
            // Only now: no `process` runs before the actor is in the graph (a stop from its
            // first tick finds it), and the new clock's first tick is the actor's too.
            if let Err(error) = domain.spawn_thread() {
                domain.clock.detach(&domain.interrupt, false);
                return Err(error);
            }
        }
        domain.invalidate();
        Ok(())
    }

    /// The pool and the fault channel, started at the first spawn.
    fn services(&self) -> Result<(Arc<Pool>, Sender<Fault>)> {
        let mut services = self.services.lock();
        if let Some(s) = services.as_ref() {
            return Ok((s.pool.clone(), s.faults.clone()));
        }
        let pool = Pool::start(self.workers)?;
        let (faults, received) = crossbeam_channel::unbounded();
        let runtime = self.this.clone();
        std::thread::Builder::new()
            .name("streamlib-faults".into())
            .spawn(move || apply_faults(runtime, received))
            .map_err(|e| Error::os("spawning the fault thread", e))?;
        *services = Some(Services {
            pool: pool.clone(),
            faults: faults.clone(),
        });
        Ok((pool, faults))
    }

    /// Adds `cell` to the domain of `clock`, made if new (then `true`: the caller starts its
    /// thread once the actor is registered). Both happen under the domains lock, so a
    /// concurrent stop of that domain's last actor cannot retire it in between (it checks for
    /// actors under the same lock).
    fn join_domain(
        &self,
        clock: Box<dyn Clock>,
        cell: &Arc<RuntimeCell>,
        pool: Arc<Pool>,
        faults: Sender<Fault>,
    ) -> Result<(Arc<Domain>, bool)> {
        let mut domains = self.domains.lock();
        if let Some(domain) = domains.get(&clock.id()) {
            domain.actors.lock().insert(cell.key(), cell.clone());
            return Ok((domain.clone(), false));
        }
        let id = clock.id();
        let domain = Domain::new(clock, pool, faults, cell);
        domains.insert(id, domain.clone());
        Ok((domain, true))
    }

    fn default_clock(&self, rate: Rate) -> SoftwareClock {
        self.default_clocks
            .lock()
            .entry(rate)
            .or_insert_with(|| SoftwareClock::new(rate))
            .clone()
    }

    /// Stops one actor: no more ticks, `on_stop` (its inputs still connected, so a sink can
    /// read a last value), then its connections and its registration are removed.
    ///
    /// Bounded by the actor's stop timeout: a `process` or `on_stop` that does not return in
    /// time is detached ([`Error::StopTimeout`]) and the thread stuck in it is replaced. Called
    /// from inside the actor's own `process`, it returns at once and `on_stop` runs right after
    /// `process` returns.
    pub(crate) fn stop_actor(&self, key: ActorKey) -> Result<()> {
        if running_here() == Some(key) {
            self.stop_self(key);
            return Ok(());
        }
        let Some((cell, domain)) = self.begin_stop(key) else {
            return Ok(());
        };
        let until = deadline(cell.config.stop_timeout);
        let stopped = match self.request_on_stop(&cell, until) {
            Some(replied) => matches!(replied.recv_deadline(until), Ok(true)),
            None => true,
        };
        let retired = self.finish_stop(&cell, &domain);
        pool::join_all(retired.into_iter().collect(), SHUTDOWN_JOIN);
        if stopped {
            tracing::debug!(actor = %cell.entry.uri, "stopped");
            return Ok(());
        }
        let timeout = cell.config.stop_timeout;
        tracing::warn!(actor = %cell.entry.uri, ?timeout, "process or on_stop did not return; detached");
        self.replace_stuck_thread(&cell, &domain);
        Err(Error::StopTimeout {
            uri: cell.entry.uri.to_string(),
            timeout,
        })
    }

    /// Takes the actor out of its schedule and the graph; `None` if it was not running.
    fn begin_stop(&self, key: ActorKey) -> Option<(Arc<RuntimeCell>, Arc<Domain>)> {
        let (cell, domain) = self.graph.lock().cells.remove(&key)?;
        cell.entry.running().store(false, Ordering::Release);
        // Withdrawn first: other processes see the actor leave before its last values.
        let announcement = self.announcements.lock().remove(&key);
        drop(announcement);
        domain.actors.lock().remove(&key);
        domain.invalidate();
        Some((cell, domain))
    }

    /// Has `on_stop` run where it can be bounded: the actor's own thread if dedicated, else a
    /// pool thread (or this thread, if it is a runtime thread, which must not wait on the pool).
    /// The receiver says `true` once it ran, `false` if the actor's `process` held on past
    /// `until`; `None` when there is nothing to wait for.
    fn request_on_stop(&self, cell: &Arc<RuntimeCell>, until: Instant) -> Option<Receiver<bool>> {
        if let Some(dedicated) = &cell.dedicated {
            return dedicated.stop();
        }
        let (reply, replied) = crossbeam_channel::bounded(1);
        let task_cell = cell.clone();
        let task = move || {
            let _ = reply.send(task_cell.stop_until(until));
        };
        match self.services.lock().as_ref() {
            Some(services) if running_here().is_none() => {
                services.pool.inject([Job::Task(Box::new(task))]);
            }
            _ => task(),
        }
        Some(replied)
    }

    /// Removes a stopped actor's connections and registration; retires its domain if empty,
    /// returning the domain's thread for the caller to join.
    fn finish_stop(&self, cell: &RuntimeCell, domain: &Arc<Domain>) -> Option<JoinHandle<()>> {
        let edges = self.graph.lock().remove_edges_of(cell.key());
        for edge in &edges {
            (edge.detach)();
        }
        self.registry.remove(&cell.entry.uri);
        let retired = self.retire_domain_if_empty(domain);
        self.lifecycle.actor_stopped();
        retired
    }

    /// A stop from inside the actor's own `process`: out of the schedule now, `on_stop` and the
    /// rest right after `process` returns, on the same thread.
    fn stop_self(&self, key: ActorKey) {
        let Some((cell, domain)) = self.begin_stop(key) else {
            return;
        };
        let runtime = self.this.clone();
        let stopped = cell.clone();
        cell.request_stop_after_process(Box::new(move || {
            if let Some(runtime) = runtime.upgrade() {
                // Not joined: this may be that domain's own thread.
                drop(runtime.finish_stop(&stopped, &domain));
            }
        }));
    }

    /// A stop that nobody waits for (a fault's policy, or the actor's own request, after which
    /// its `on_stop` already ran): `on_stop` and the rest on a pool thread.
    fn stop_detached(&self, key: ActorKey, after_fault: bool) {
        let Some((cell, domain)) = self.begin_stop(key) else {
            return;
        };
        if after_fault {
            tracing::warn!(actor = %cell.entry.uri, "stopping after a fault (FaultPolicy::Stop)");
        } else {
            tracing::debug!(actor = %cell.entry.uri, "stopping: the actor asked to (ActorError::stop)");
        }
        let runtime = self.this.clone();
        let task = move || {
            cell.stop_until(deadline(cell.config.stop_timeout));
            if let Some(runtime) = runtime.upgrade() {
                let retired = runtime.finish_stop(&cell, &domain);
                pool::join_all(retired.into_iter().collect(), SHUTDOWN_JOIN);
            }
        };
        match self.services.lock().as_ref() {
            Some(services) => services.pool.inject([Job::Task(Box::new(task))]),
            None => task(),
        }
    }

    /// After a stop timed out: the thread stuck in the actor (a worker, or its clock's own
    /// thread) is replaced, so the clock and the pool keep their capacity.
    fn replace_stuck_thread(&self, cell: &RuntimeCell, domain: &Arc<Domain>) {
        let token = cell.hot().running_on.load(Ordering::Relaxed);
        if token == 0 || domain.replace_thread(token, &cell.entry.uri) {
            return;
        }
        if let Some(services) = self.services.lock().as_ref() {
            services.pool.replace(token, &cell.entry.uri);
        }
    }

    fn retire_domain_if_empty(&self, domain: &Arc<Domain>) -> Option<JoinHandle<()>> {
        {
            let mut domains = self.domains.lock();
            if !domain.actors.lock().is_empty() {
                return None; // an actor joined meanwhile
            }
            if !domains
                .get(&domain.clock.id())
                .is_some_and(|d| Arc::ptr_eq(d, domain))
            {
                return None;
            }
            domains.remove(&domain.clock.id());
        }
        domain.stop_thread(self.shut_down.load(Ordering::Acquire))
    }

    /// Stops every actor at once, with one deadline for all (the longest stop timeout, at most
    /// [`MAX_SHUTDOWN`]), then every thread. From inside an actor it returns at once and the
    /// rest happens on a thread of its own.
    fn shutdown(&self) {
        self.lifecycle.shutdown_started();
        let keys: Vec<ActorKey> = {
            let graph = self.graph.lock();
            self.shut_down.store(true, Ordering::Release);
            for (cell, _) in graph.cells.values() {
                cell.entry.running().store(false, Ordering::Release);
            }
            graph.cells.keys().copied().collect()
        };
        for domain in self.domains.lock().values() {
            domain.interrupt.fire();
        }
        if running_here().is_some() {
            let runtime = self.this.clone();
            let spawned = std::thread::Builder::new()
                .name("streamlib-shutdown".into())
                .spawn(move || {
                    if let Some(runtime) = runtime.upgrade() {
                        runtime.shutdown_now(keys);
                    }
                });
            if spawned.is_ok() {
                return;
            }
            tracing::error!("cannot spawn the shutdown thread; shutting down on this one");
            return self.shutdown_now(Vec::new());
        }
        self.shutdown_now(keys);
    }

    fn shutdown_now(&self, keys: Vec<ActorKey>) {
        let stopping: Vec<_> = keys
            .into_iter()
            .filter_map(|k| self.begin_stop(k))
            .collect();
        let longest = stopping
            .iter()
            .map(|(cell, _)| cell.config.stop_timeout)
            .max()
            .unwrap_or_default();
        let until = deadline(longest.min(MAX_SHUTDOWN));
        let replies: Vec<_> = stopping
            .iter()
            .map(|(cell, _)| self.request_on_stop(cell, until))
            .collect();
        let mut threads = Vec::new();
        for ((cell, domain), reply) in stopping.iter().zip(replies) {
            let stopped = reply.is_none_or(|r| matches!(r.recv_deadline(until), Ok(true)));
            if !stopped {
                tracing::warn!(actor = %cell.entry.uri, "did not stop in time at shutdown; detached");
            }
            threads.extend(self.finish_stop(cell, domain));
        }
        // Every thread is told first, then all are joined against one deadline.
        let domains: Vec<Arc<Domain>> = self.domains.lock().drain().map(|(_, d)| d).collect();
        threads.extend(domains.iter().filter_map(|d| d.stop_thread(true)));
        let services = self.services.lock().take();
        let join_until = deadline(SHUTDOWN_JOIN);
        pool::join_all(threads, SHUTDOWN_JOIN);
        if let Some(services) = services {
            services
                .pool
                .shutdown(join_until.saturating_duration_since(Instant::now()));
        }
        if let Some(network) = self.registry.network.get() {
            network.close();
        }
        let servers = std::mem::take(&mut *self.servers.lock());
        for service in servers {
            service.stop();
        }
        self.lifecycle.shutdown_finished();
    }

    /// The registry, for services that read the runtime from their own threads.
    #[cfg_attr(not(feature = "inspect"), allow(dead_code))]
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }
}

/// The fault thread: applies `Stop` and `StopRuntime` policies off the tick path, one at a
/// time, without a thread per fault. Ends with the runtime.
fn apply_faults(runtime: Weak<RuntimeInner>, faults: Receiver<Fault>) {
    loop {
        match faults.recv_timeout(Duration::from_secs(1)) {
            Ok(Fault { key, policy, error }) => {
                let Some(runtime) = runtime.upgrade() else {
                    return;
                };
                match policy {
                    FaultPolicy::Continue => {}
                    FaultPolicy::Stop => runtime.stop_detached(key, error.is_some()),
                    FaultPolicy::StopRuntime => {
                        match error.as_deref() {
                            Some(Error::ActorFailed { uri, .. }) => tracing::warn!(
                                actor = %uri,
                                "shutting the runtime down after a fault (FaultPolicy::StopRuntime)"
                            ),
                            _ => tracing::debug!(
                                actor = %runtime.uri_of(key),
                                "shutting the runtime down: the actor asked to (ActorError::stop_runtime)"
                            ),
                        }
                        runtime.lifecycle.record(error.map(|error| *error));
                        runtime.shutdown();
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) if runtime.strong_count() > 0 => {}
            Err(_) => return,
        }
    }
}

impl Graph for RuntimeInner {
    fn connected(
        &self,
        id: u64,
        from: ActorKey,
        to: ActorKey,
        detach: Detach,
    ) -> std::result::Result<(), ActorKey> {
        let mut graph = self.graph.lock();
        let (from_domain, to_domain) = match (graph.cells.get(&from), graph.cells.get(&to)) {
            (Some((_, f)), Some((_, t))) => (f.clone(), t.clone()),
            (None, _) => return Err(from),
            (_, None) => return Err(to),
        };
        let domain = Arc::ptr_eq(&from_domain, &to_domain).then_some(from_domain);
        if let Some(domain) = &domain {
            domain.edges.lock().insert(id, (from, to));
            domain.invalidate();
        }
        graph.edges.insert(
            id,
            ConnectionRecord {
                from,
                to,
                detach,
                domain,
            },
        );
        Ok(())
    }

    fn disconnected(&self, id: u64) {
        let mut graph = self.graph.lock();
        if let Some(edge) = graph.edges.remove(&id) {
            if let Some(domain) = edge.domain {
                domain.edges.lock().remove(&id);
                domain.invalidate();
            }
        }
    }
}

/// The longest a shutdown waits for actors to stop, whatever their stop timeouts say.
const MAX_SHUTDOWN: Duration = Duration::from_secs(10);

/// Rate of the default clock for actors that name none.
pub const DEFAULT_RATE: Rate = match Rate::new_const(60, 1) {
    Some(rate) => rate,
    None => panic!("60/1 is a valid rate"),
};
