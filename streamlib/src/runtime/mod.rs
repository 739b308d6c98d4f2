//! The runtime: spawning, scheduling and stopping actors.
//!
//! A [`Runtime`] owns a [`Registry`], a worker pool (one thread per core by default, started at
//! the first spawn) and one **clock domain** per clock in use (below: how a tick runs). Spawning an actor registers it at `actor://local/<Class>/<id>` and starts it at once:
//! it runs from its clock's next tick on. Actors spawned without a clock share the runtime's
//! default [`SoftwareClock`] for their rate (60 fps unless `#[actor(fps = ..)]` says otherwise),
//! so plain `rt.spawn` pipelines propagate a value through every stage within one tick.
//!
//! **How a tick runs.** A domain's thread waits for its clock's next tick, then runs the domain's
//! schedule — its actors in topological order of their connections — as a DAG on the worker
//! pool: an actor becomes ready when all its upstreams on the same clock have finished this tick,
//! so a value written upstream at tick N is read downstream at tick N, independent branches run
//! in parallel, and a chain runs back to back on one thread with no wake-up between stages.
//! Connections that close a cycle are left out of the ordering (the reader sees the previous
//! tick's value); connections between clocks order nothing. The schedule is rebuilt by the
//! domain's thread at its next tick after an actor or a connection was added or removed, never
//! per tick. Between ticks every thread sleeps: idle actors cost nothing. A
//! [`Dispatch::Dedicated`] actor runs on its own thread, still in its place in the order.
//!
//! The runtime owns actors and connections: dropping an [`ActorHandle`], a
//! [`Connection`](crate::Connection) or a [`Pipeline`](crate::Pipeline) changes nothing;
//! [`ActorHandle::stop`], [`Runtime::shutdown`] or dropping the `Runtime` end them. Stopping is
//! bounded: it interrupts the wait for the next tick at once, and if `process` itself is stuck
//! past the actor's stop timeout (1 s by default) it returns [`Error::StopTimeout`] and detaches
//! that work.
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

mod builder;
pub(crate) mod scheduler;

pub use builder::RuntimeBuilder;
pub(crate) use builder::Service;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::actor::{Actor, ActorConfig, Dispatch, FaultPolicy, PortBinder};
use crate::clock::{Clock, ClockId, Rate, SoftwareClock};
use crate::error::{Error, Result};
use crate::port::{ActorKey, Detach, Graph};
use crate::registry::{port_stats, ActorEntry, ActorRef, Registry};
use crate::remote::{Announcement, RemoteActor, RemoteHandle};
use crate::stats::{ActorStats, ActorStatsCell, PortStatsList};
use crate::uri::{validate_instance_id, ActorUri};

use scheduler::{ActorCell, Body, Dedicated, DedicatedMsg, Domain, Pool, Schedule};

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
    entry: Arc<ActorEntry>,
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
        self.entry.running.load(Ordering::Acquire)
    }

    /// The actor's counters.
    pub fn stats(&self) -> ActorStats {
        self.entry.stats.snapshot()
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
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Runtime::with_workers(workers)
    }

    /// A builder for a runtime with options: worker count, host name, network.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// A runtime with `workers` pool threads (at least 1).
    pub fn with_workers(workers: usize) -> Runtime {
        Runtime {
            inner: Arc::new_cyclic(|weak| RuntimeInner {
                this: weak.clone(),
                registry: Registry::default(),
                workers: workers.max(1),
                pool: Mutex::new(None),
                domains: Mutex::new(HashMap::new()),
                default_clocks: Mutex::new(HashMap::new()),
                graph: Mutex::new(GraphState::default()),
                next_key: AtomicU64::new(1),
                shut_down: AtomicBool::new(false),
                announcements: Mutex::new(HashMap::new()),
                services: Mutex::new(Vec::new()),
            }),
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

    /// The address of the first service started at `build()` that listens on one.
    #[cfg_attr(not(feature = "inspect"), allow(dead_code))]
    pub(crate) fn service_address(&self) -> Option<std::net::SocketAddr> {
        self.inner.services.lock().iter().find_map(|s| s.address())
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

struct Edge {
    from: ActorKey,
    to: ActorKey,
    detach: Detach,
}

#[derive(Default)]
struct GraphState {
    cells: HashMap<ActorKey, (Arc<ActorCell>, Arc<Domain>)>,
    edges: HashMap<u64, Edge>,
}

impl GraphState {
    /// Marks for rebuilding the schedules of the domains `from` and `to` belong to.
    fn invalidate(&self, from: ActorKey, to: ActorKey) {
        for key in [from, to] {
            if let Some((_, domain)) = self.cells.get(&key) {
                domain.invalidate();
            }
        }
    }

    /// Removes every edge from or to `key` (the schedules concerned are marked for rebuilding);
    /// the caller detaches the inputs.
    fn remove_edges_of(&mut self, key: ActorKey) -> Vec<Edge> {
        let ids: Vec<u64> = self
            .edges
            .iter()
            .filter(|(_, e)| e.from == key || e.to == key)
            .map(|(id, _)| *id)
            .collect();
        let edges: Vec<Edge> = ids.iter().filter_map(|id| self.edges.remove(id)).collect();
        for edge in &edges {
            self.invalidate(edge.from, edge.to);
        }
        edges
    }
}

pub(crate) struct RuntimeInner {
    this: Weak<RuntimeInner>,
    registry: Registry,
    workers: usize,
    pool: Mutex<Option<Arc<Pool>>>,
    domains: Mutex<HashMap<ClockId, Arc<Domain>>>,
    default_clocks: Mutex<HashMap<Rate, SoftwareClock>>,
    graph: Mutex<GraphState>,
    next_key: AtomicU64,
    shut_down: AtomicBool,
    /// What each actor announced to other processes (with a network).
    announcements: Mutex<HashMap<ActorKey, Announcement>>,
    /// Servers started at `build()` (inspection); stopped at shutdown.
    services: Mutex<Vec<Box<dyn Service>>>,
}

impl RuntimeInner {
    fn spawn<A: Actor>(&self, actor: A, id: &str, options: SpawnOptions) -> Result<ActorHandle<A>> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(Error::RuntimeShutDown);
        }
        validate_instance_id(id)?;
        let uri = ActorUri::local(A::class_name(), id)?;
        let key = ActorKey(self.next_key.fetch_add(1, Ordering::Relaxed));
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
        };
        let clock = match options.clock {
            Some(clock) => clock,
            None => Box::new(self.default_clock(defaults.rate.unwrap_or(DEFAULT_RATE))),
        };
        let entry = Arc::new(ActorEntry {
            uri: uri.clone(),
            ports,
            stats: ActorStatsCell::default(),
            running: AtomicBool::new(true),
            clock: clock.describe(),
        });
        self.registry.insert(ActorRef {
            entry: entry.clone(),
            remote: None,
        })?;
        let started = self
            .start(key, entry.clone(), config, clock, Box::new(actor))
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
                entry.running.store(false, Ordering::Release);
                self.registry.remove(&uri);
                Err(e)
            }
        }
    }

    /// Announces a spawned actor to other processes, when the runtime has a network.
    fn announce(&self, key: ActorKey, entry: &Arc<ActorEntry>) -> Result<()> {
        if let Some(network) = self.registry.network.get() {
            let announcement = network.announce(entry)?;
            self.announcements.lock().insert(key, announcement);
        }
        Ok(())
    }

    /// Creates the actor's cell (and thread, if dedicated) and adds it to its clock's domain.
    fn start(
        &self,
        key: ActorKey,
        entry: Arc<ActorEntry>,
        config: ActorConfig,
        clock: Box<dyn Clock>,
        actor: Box<dyn crate::Process + Send>,
    ) -> Result<()> {
        let pool = self.pool()?;
        let (dedicated, receiver) = match config.dispatch {
            Dispatch::Pool => (None, None),
            Dispatch::Dedicated => {
                let (sender, receiver) = crossbeam_channel::bounded(1);
                (Some(Dedicated { sender }), Some(receiver))
            }
        };
        let cell = Arc::new(ActorCell {
            key,
            entry,
            config,
            body: Mutex::new(Body {
                actor,
                started: false,
                stopped: false,
            }),
            dedicated,
        });
        if let Some(receiver) = receiver {
            let weak = Arc::downgrade(&cell);
            std::thread::Builder::new()
                .name(format!("streamlib-{}", cell.entry.uri.instance_id()))
                .spawn(move || scheduler::dedicated_loop(weak, receiver))
                .map_err(|e| Error::os("spawning a dedicated actor thread", e))?;
        }
        let domain = self.join_domain(clock, &cell, &pool)?;
        cell.entry.stats.share_lateness(domain.lateness.clone());
        self.graph.lock().cells.insert(key, (cell, domain.clone()));
        domain.invalidate();
        Ok(())
    }

    fn pool(&self) -> Result<Arc<Pool>> {
        let mut pool = self.pool.lock();
        if let Some(pool) = pool.as_ref() {
            return Ok(pool.clone());
        }
        let started = Pool::start(self.workers)?;
        *pool = Some(started.clone());
        Ok(started)
    }

    /// Adds `cell` to the domain of `clock`, started if new. Both happen under the domains lock,
    /// so a concurrent stop of that domain's last actor cannot retire it in between (it checks
    /// for actors under the same lock).
    fn join_domain(
        &self,
        clock: Box<dyn Clock>,
        cell: &Arc<ActorCell>,
        pool: &Arc<Pool>,
    ) -> Result<Arc<Domain>> {
        let mut domains = self.domains.lock();
        if let Some(domain) = domains.get(&clock.id()) {
            domain.actors.lock().insert(cell.key, cell.clone());
            return Ok(domain.clone());
        }
        let id = clock.id();
        let name = format!("streamlib-clock-{}", id.as_u64());
        let domain = Arc::new(Domain::new(clock));
        let thread = {
            let (domain, runtime, pool) = (domain.clone(), self.this.clone(), pool.clone());
            std::thread::Builder::new()
                .name(name)
                .spawn(move || scheduler::domain_loop(domain, runtime, pool))
                .map_err(|e| Error::os("spawning a clock thread", e))?
        };
        *domain.thread.lock() = Some(thread);
        domain.actors.lock().insert(cell.key, cell.clone());
        domains.insert(id, domain.clone());
        Ok(domain)
    }

    fn default_clock(&self, rate: Rate) -> SoftwareClock {
        self.default_clocks
            .lock()
            .entry(rate)
            .or_insert_with(|| SoftwareClock::new(rate))
            .clone()
    }

    /// The current schedule of `domain` (called by its thread when the generation moved).
    pub(crate) fn build_schedule(&self, domain: &Domain) -> Schedule {
        let graph = self.graph.lock();
        let actors: Vec<_> = domain.actors.lock().values().cloned().collect();
        let edges: Vec<_> = graph.edges.values().map(|e| (e.from, e.to)).collect();
        Schedule::build(actors, &edges)
    }

    /// Stops one actor: no more ticks, `on_stop` (its inputs still connected, so a sink can
    /// read a last value), then its connections and its registration are removed.
    pub(crate) fn stop_actor(&self, key: ActorKey) -> Result<()> {
        let Some((cell, domain)) = self.graph.lock().cells.remove(&key) else {
            return Ok(());
        };
        cell.entry.running.store(false, Ordering::Release);
        // Withdrawn first: other processes see the actor leave before its last values.
        let announcement = self.announcements.lock().remove(&key);
        drop(announcement);
        let last = {
            let mut actors = domain.actors.lock();
            actors.remove(&key);
            actors.is_empty()
        };
        domain.invalidate();
        let result = self.stop_body(&cell);
        let edges = self.graph.lock().remove_edges_of(key);
        for edge in &edges {
            (edge.detach)();
        }
        self.registry.remove(&cell.entry.uri);
        if last {
            self.stop_domain(&domain);
        }
        tracing::debug!(actor = %cell.entry.uri, "stopped");
        result
    }

    /// Waits (bounded) for a running `process` to finish, then runs `on_stop`.
    fn stop_body(&self, cell: &ActorCell) -> Result<()> {
        let timeout = cell.config.stop_timeout;
        let timed_out = || Error::StopTimeout {
            uri: cell.entry.uri.to_string(),
            timeout,
        };
        match &cell.dedicated {
            Some(dedicated) => {
                let (reply, replied) = crossbeam_channel::bounded(1);
                let deadline = Instant::now() + timeout;
                dedicated
                    .sender
                    .send_deadline(DedicatedMsg::Stop(reply), deadline)
                    .map_err(|_| timed_out())?;
                replied.recv_deadline(deadline).map_err(|_| timed_out())
            }
            None => match cell.body.try_lock_for(timeout) {
                Some(guard) => {
                    drop(guard);
                    scheduler::stop_body(cell);
                    Ok(())
                }
                None => {
                    tracing::warn!(actor = %cell.entry.uri, ?timeout, "process did not return; detached");
                    Err(timed_out())
                }
            },
        }
    }

    fn stop_domain(&self, domain: &Arc<Domain>) {
        {
            let mut domains = self.domains.lock();
            if !domain.actors.lock().is_empty() {
                return; // an actor joined meanwhile
            }
            domains.remove(&domain.clock.id());
        }
        domain.interrupt.fire();
        let thread = domain.thread.lock().take();
        if let Some(thread) = thread {
            if thread.thread().id() != std::thread::current().id() {
                scheduler::join_all(vec![thread], SHUTDOWN_JOIN);
            }
        }
    }

    /// Applies fault policies reported by a tick, off the scheduler's threads.
    pub(crate) fn apply_faults(&self, faults: Vec<(ActorKey, FaultPolicy)>) {
        for (key, policy) in faults {
            let action = match policy {
                FaultPolicy::Continue => continue,
                FaultPolicy::Stop => {
                    if let Some((cell, _)) = self.graph.lock().cells.get(&key) {
                        cell.entry.running.store(false, Ordering::Release);
                        tracing::warn!(actor = %cell.entry.uri, "stopping after a fault (FaultPolicy::Stop)");
                    }
                    Some(key)
                }
                FaultPolicy::StopRuntime => {
                    tracing::warn!(
                        "shutting the runtime down after a fault (FaultPolicy::StopRuntime)"
                    );
                    self.shut_down.store(true, Ordering::Release);
                    None
                }
            };
            let runtime = self.this.clone();
            let _ = std::thread::Builder::new()
                .name("streamlib-fault".into())
                .spawn(move || {
                    if let Some(runtime) = runtime.upgrade() {
                        match action {
                            Some(key) => {
                                let _ = runtime.stop_actor(key);
                            }
                            None => runtime.shutdown(),
                        }
                    }
                });
        }
    }

    fn shutdown(&self) {
        self.shut_down.store(true, Ordering::Release);
        let keys: Vec<ActorKey> = {
            let graph = self.graph.lock();
            for (cell, _) in graph.cells.values() {
                cell.entry.running.store(false, Ordering::Release);
            }
            graph.cells.keys().copied().collect()
        };
        let domains: Vec<Arc<Domain>> = self.domains.lock().values().cloned().collect();
        for domain in &domains {
            domain.interrupt.fire();
        }
        for key in keys {
            let _ = self.stop_actor(key);
        }
        for domain in &domains {
            self.stop_domain(domain);
        }
        let pool = self.pool.lock().take();
        if let Some(pool) = pool {
            pool.shutdown(SHUTDOWN_JOIN);
        }
        if let Some(network) = self.registry.network.get() {
            network.close();
        }
        let services = std::mem::take(&mut *self.services.lock());
        for service in services {
            service.stop();
        }
    }

    /// The registry, for services that read the runtime from their own threads.
    #[cfg_attr(not(feature = "inspect"), allow(dead_code))]
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }
}

impl Graph for RuntimeInner {
    fn connected(&self, id: u64, from: ActorKey, to: ActorKey, detach: Detach) {
        let mut graph = self.graph.lock();
        graph.edges.insert(id, Edge { from, to, detach });
        graph.invalidate(from, to);
    }

    fn disconnected(&self, id: u64) {
        let mut graph = self.graph.lock();
        if let Some(edge) = graph.edges.remove(&id) {
            graph.invalidate(edge.from, edge.to);
        }
    }
}

/// Rate of the default clock for actors that name none.
pub const DEFAULT_RATE: Rate = match Rate::new_const(60, 1) {
    Some(rate) => rate,
    None => panic!("60/1 is a valid rate"),
};
