//! The registry: every running actor of a runtime, by URI.
//!
//! Spawning an actor registers it at `actor://local/<Class>/<id>`; stopping it unregisters it.
//! Tools, agents and demos find actors here and wire them without knowing their Rust types:
//! [`ActorRef::output`] and [`ActorRef::input`] check the payload type at run time and fail with
//! an error naming the expected and the actual type.
//!
//! ```
//! use streamlib::{Runtime, Error};
//! # use streamlib::{Actor, Input, InputRef, Output, OutputRef, PortBinder, Process, ProcessResult, Tick};
//! # struct Probe { level: Output<f32> }
//! # impl Actor for Probe {
//! #     type Inputs = ();
//! #     type Outputs = OutputRef<f32>;
//! #     fn class_name() -> &'static str { "Probe" }
//! #     fn bind_ports(&self, ports: &mut PortBinder<'_>) -> ((), OutputRef<f32>) { ((), ports.output("level", &self.level)) }
//! # }
//! # impl Process for Probe { fn process(&mut self, _: &Tick) -> ProcessResult { self.level.write(0.5); Ok(()) } }
//! let rt = Runtime::new();
//! rt.spawn(Probe { level: Output::new() }, "mic")?;
//! let probe = rt.registry().lookup("actor://local/Probe/mic")?.expect("registered");
//! assert!(probe.output::<f32>("level").is_ok());
//! assert!(matches!(probe.output::<f64>("level"), Err(Error::PortTypeMismatch { .. })));
//! assert!(matches!(probe.output::<f32>("levl"), Err(Error::UnknownPort { .. })));
//! assert_eq!(rt.registry().find_by_class("Probe").len(), 1);
//! # Ok::<(), streamlib::Error>(())
//! ```

use std::any::{type_name, TypeId};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use crate::actor::{find_port, PortInfo};
use crate::error::{Error, Result};
use crate::graph::{GraphModel, Link};
use crate::port::{Direction, InputRef, OutputRef};
use crate::remote::{remote_port, Network, Peer};
use crate::stats::{ActorStats, ActorStatsCell, PortStatsList};
use crate::uri::{ActorUri, PortAddress};

/// What the registry knows of one actor (the registry side; see the map in `runtime`'s docs):
/// URI, ports, stats, `running`. Held by the runtime's cell (inside it), and shared through it
/// with the actor's handle and every [`ActorRef`] to it ([`EntryRef`]).
///
/// What every tick writes — `running` and the stats counters — is an [`EntryHot`], kept apart:
/// for a local actor in the runtime's dense arena beside the rest of what a tick touches
/// (`runtime/hot.rs`), for a remote one in a box of its own.
pub(crate) struct RegistryEntry {
    hot: Hot,
    pub(crate) uri: ActorUri,
    pub(crate) ports: Vec<PortInfo>,
    pub(crate) clock: String,
}

/// The part of an actor's entry that every tick touches.
///
/// `repr(C)`, `running` then the hot stats counters (`ticks`, the process-time histogram's `max`
/// and `window`) first: with the 64-byte alignment they lie in one cache line.
#[repr(C, align(64))]
pub(crate) struct EntryHot {
    pub(crate) running: AtomicBool,
    pub(crate) stats: ActorStatsCell,
}

impl EntryHot {
    /// A running actor's, counters at zero.
    pub(crate) fn running() -> EntryHot {
        EntryHot {
            running: AtomicBool::new(true),
            stats: ActorStatsCell::default(),
        }
    }
}

/// Where an entry's [`EntryHot`] lies.
enum Hot {
    Own(Box<EntryHot>),
    /// Kept by whoever holds the entry (the runtime's cell), for as long as the entry lives.
    Lent(std::ptr::NonNull<EntryHot>),
}

// SAFETY: `Hot` is a `Box<EntryHot>` or a shared reference to an `EntryHot` that outlives it
// (the contract of `RegistryEntry::with_hot`); `EntryHot` is atomics and `Sync` data, so
// sharing or sending either across threads is as safe as sharing `&EntryHot`.
unsafe impl Send for Hot {}
// SAFETY: as above.
unsafe impl Sync for Hot {}

impl RegistryEntry {
    /// An entry with its hot part in a box of its own.
    pub(crate) fn new(uri: ActorUri, ports: Vec<PortInfo>, clock: String) -> RegistryEntry {
        RegistryEntry {
            hot: Hot::Own(Box::new(EntryHot::running())),
            uri,
            ports,
            clock,
        }
    }

    /// An entry whose hot part is `hot`, placed by its holder.
    ///
    /// # Safety
    /// `hot` points to a valid `EntryHot` that stays in place, alive and not mutably borrowed, for
    /// as long as the returned entry lives.
    pub(crate) unsafe fn with_hot(
        hot: std::ptr::NonNull<EntryHot>,
        uri: ActorUri,
        ports: Vec<PortInfo>,
        clock: String,
    ) -> RegistryEntry {
        RegistryEntry {
            hot: Hot::Lent(hot),
            uri,
            ports,
            clock,
        }
    }

    /// `running` and the stats.
    #[inline]
    pub(crate) fn hot(&self) -> &EntryHot {
        match &self.hot {
            Hot::Own(hot) => hot,
            // SAFETY: the contract of `with_hot`: the pointee outlives `self`.
            Hot::Lent(hot) => unsafe { hot.as_ref() },
        }
    }

    /// The actor's live counters.
    #[inline]
    pub(crate) fn stats(&self) -> &ActorStatsCell {
        &self.hot().stats
    }

    /// Whether the actor runs (cleared when it stops).
    #[inline]
    pub(crate) fn running(&self) -> &AtomicBool {
        &self.hot().running
    }
}

/// What holds an actor's [`RegistryEntry`]: the entry alone (a remote actor's), or the runtime's
/// cell of the actor, which keeps the entry's hot part in the arena beside its own.
pub(crate) trait HoldsEntry: Send + Sync {
    fn entry(&self) -> &RegistryEntry;
}

impl HoldsEntry for RegistryEntry {
    fn entry(&self) -> &RegistryEntry {
        self
    }
}

/// A shared reference to a [`RegistryEntry`], whatever holds it; reads as the entry.
#[derive(Clone)]
pub(crate) struct EntryRef(Arc<dyn HoldsEntry>);

impl EntryRef {
    pub(crate) fn new(holder: Arc<dyn HoldsEntry>) -> EntryRef {
        EntryRef(holder)
    }

    #[cfg(feature = "inspect")]
    /// The entry's address: the same for every reference to it, and taken by no other entry
    /// while one is held.
    pub(crate) fn address(&self) -> usize {
        self.0.entry() as *const RegistryEntry as usize
    }
}

impl From<RegistryEntry> for EntryRef {
    fn from(entry: RegistryEntry) -> EntryRef {
        EntryRef(Arc::new(entry))
    }
}

impl std::ops::Deref for EntryRef {
    type Target = RegistryEntry;

    fn deref(&self) -> &RegistryEntry {
        self.0.entry()
    }
}

/// A type-erased reference to a registered actor, of this runtime or (with a network) of
/// another process or host.
#[derive(Clone)]
pub struct ActorRef {
    pub(crate) entry: EntryRef,
    /// Set for an actor of another process.
    pub(crate) remote: Option<Arc<Peer>>,
}

impl ActorRef {
    /// The actor's URI.
    pub fn uri(&self) -> &ActorUri {
        &self.entry.uri
    }

    /// The actor's class name.
    pub fn class_name(&self) -> &str {
        self.entry.uri.class()
    }

    /// Whether the actor still runs (for a remote actor: whether it is announced now).
    pub fn is_running(&self) -> bool {
        match &self.remote {
            Some(peer) => peer.is_alive(),
            None => self.entry.running().load(Ordering::Acquire),
        }
    }

    /// Whether the actor runs in another process or on another host.
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// The actor's ports, inputs first, in declaration order.
    pub fn ports(&self) -> &[PortInfo] {
        &self.entry.ports
    }

    /// A description of the clock the actor runs on.
    pub fn clock(&self) -> &str {
        &self.entry.clock
    }

    /// The output port `name`, checked to carry `T`.
    ///
    /// For a remote actor the check is against the payload type its runtime announced, and `T`
    /// must have a [`Codec`](crate::Codec) known to this process (else [`Error::NoCodec`]).
    pub fn output<T: Send + Sync + 'static>(&self, name: &str) -> Result<OutputRef<T>> {
        if let Some(peer) = &self.remote {
            let port = remote_port::<T>(peer, name, Direction::Output)?;
            return Ok(port
                .downcast_ref::<OutputRef<T>>()
                .cloned()
                .expect("the codec registered for T makes OutputRef<T>"));
        }
        let port = self.port::<T>(name, Direction::Output)?;
        port.port
            .downcast_ref::<OutputRef<T>>()
            .cloned()
            .ok_or_else(|| self.mismatch::<T>(port))
    }

    /// The input port `name`, checked to carry `T` (for a remote actor, as
    /// [`output`](Self::output) says).
    pub fn input<T: Send + Sync + 'static>(&self, name: &str) -> Result<InputRef<T>> {
        if let Some(peer) = &self.remote {
            let port = remote_port::<T>(peer, name, Direction::Input)?;
            return Ok(port
                .downcast_ref::<InputRef<T>>()
                .cloned()
                .expect("the codec registered for T makes InputRef<T>"));
        }
        let port = self.port::<T>(name, Direction::Input)?;
        port.port
            .downcast_ref::<InputRef<T>>()
            .cloned()
            .ok_or_else(|| self.mismatch::<T>(port))
    }

    /// The actor's counters (for a remote actor: zero; see [`remote_stats`](Self::remote_stats)).
    pub fn stats(&self) -> ActorStats {
        self.entry.stats().snapshot()
    }

    /// The counters of a remote actor, asked of its runtime within `timeout`; a local actor's
    /// counters at once.
    pub fn remote_stats(&self, timeout: Duration) -> Result<ActorStats> {
        match &self.remote {
            Some(peer) => peer.stats(timeout),
            None => Ok(self.stats()),
        }
    }

    /// The counters of each port.
    pub fn port_stats(&self) -> PortStatsList {
        port_stats(&self.entry.ports)
    }

    fn port<T: 'static>(&self, name: &str, direction: Direction) -> Result<&PortInfo> {
        let port =
            find_port(&self.entry.ports, name, direction).ok_or_else(|| Error::UnknownPort {
                actor: self.entry.uri.to_string(),
                port: name.to_string(),
                direction: direction.as_str(),
                available: self.port_names(direction),
            })?;
        if port.type_id != TypeId::of::<T>() {
            return Err(self.mismatch::<T>(port));
        }
        Ok(port)
    }

    fn mismatch<T>(&self, port: &PortInfo) -> Error {
        Error::PortTypeMismatch {
            actor: self.entry.uri.to_string(),
            port: port.name.to_string(),
            direction: port.direction.as_str(),
            expected: type_name::<T>(),
            actual: port.type_name,
        }
    }

    fn port_names(&self, direction: Direction) -> String {
        let names: Vec<_> = self
            .entry
            .ports
            .iter()
            .filter(|p| p.direction == direction)
            .map(|p| p.name)
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    }
}

impl fmt::Debug for ActorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorRef")
            .field("uri", &self.entry.uri.to_string())
            .field("ports", &self.entry.ports)
            .field("running", &self.is_running())
            .finish()
    }
}

/// Counters of every port in `ports`.
pub(crate) fn port_stats(ports: &[PortInfo]) -> PortStatsList {
    let mut list = PortStatsList::default();
    for port in ports {
        let stats = (port.stats)();
        match port.direction {
            Direction::Input => list.inputs.push((port.name, stats)),
            Direction::Output => list.outputs.push((port.name, stats)),
        }
    }
    list
}

/// The actors of one runtime, by URI, and (with a network) those other runtimes announce.
#[derive(Default)]
pub struct Registry {
    actors: RwLock<BTreeMap<ActorUri, ActorRef>>,
    pub(crate) network: OnceLock<Arc<Network>>,
}

impl Registry {
    /// The actor at `uri`, if registered here or (with a network) announced by another runtime
    /// and reachable now. Errors only if `uri` is not a valid actor URI.
    ///
    /// `actor://local/..`, `actor://localhost/..`, `actor://127.0.0.1/..`, `actor://[::1]/..` and
    /// this runtime's own host name all name this runtime's actors.
    pub fn lookup(&self, uri: &str) -> Result<Option<ActorRef>> {
        self.lookup_uri(&ActorUri::parse(uri)?)
    }

    /// [`lookup`](Self::lookup) of a URI already parsed.
    pub(crate) fn lookup_uri(&self, uri: &ActorUri) -> Result<Option<ActorRef>> {
        let own_host = self.network.get().is_some_and(|n| n.host == uri.host());
        {
            let actors = self.actors.read();
            if let Some(found) = actors.get(uri) {
                return Ok(Some(found.clone()));
            }
            if uri.is_local() || own_host {
                let local = ActorUri::local(uri.class(), uri.instance_id())?;
                return Ok(actors.get(&local).cloned());
            }
        }
        Ok(self.network.get().and_then(|n| n.lookup(uri)))
    }

    /// Waits until [`lookup`](Self::lookup) finds `uri` (an actor of this runtime, or one another
    /// runtime announces); [`Error::Timeout`] after `timeout`.
    pub fn wait_for(&self, uri: &str, timeout: Duration) -> Result<ActorRef> {
        let deadline = Instant::now() + timeout.min(Duration::from_secs(3600 * 24));
        loop {
            if let Some(found) = self.lookup(uri)? {
                return Ok(found);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    waiting_for: uri.to_owned(),
                    timeout,
                });
            }
            // Local spawns do not signal; remote announcements do.
            let step = deadline.min(now + Duration::from_millis(10));
            match self.network.get() {
                Some(network) => network.wait_change(step),
                None => std::thread::sleep(step - now),
            }
        }
    }

    /// Every registered actor, ordered by URI, then (with a network) every reachable remote one
    /// ([`ActorRef::is_remote`]).
    pub fn list(&self) -> Vec<ActorRef> {
        let mut list: Vec<ActorRef> = self.actors.read().values().cloned().collect();
        if let Some(network) = self.network.get() {
            let mut remote = network.list();
            remote.sort_by(|a, b| a.uri().cmp(b.uri()));
            list.extend(remote);
        }
        list
    }

    /// Every actor of class `class`.
    pub fn find_by_class(&self, class: &str) -> Vec<ActorRef> {
        self.filter(|uri| uri.class() == class)
    }

    /// Every actor whose instance id is `id` (one per class at most).
    pub fn find_by_instance_id(&self, id: &str) -> Vec<ActorRef> {
        self.filter(|uri| uri.instance_id() == id)
    }

    /// Number of registered actors.
    pub fn len(&self) -> usize {
        self.actors.read().len()
    }

    /// Whether no actor is registered.
    pub fn is_empty(&self) -> bool {
        self.actors.read().is_empty()
    }

    /// The live graph as Graphviz DOT: every registered actor, and every connection into one
    /// (described by the same model as [`Pipeline::to_dot`](crate::Pipeline::to_dot) and the
    /// inspection API's graph).
    pub fn to_dot(&self) -> String {
        Registry::graph_of(&self.list()).to_dot()
    }

    /// The graph of `actors`: each of them, and every connection into one of their inputs (from
    /// a bound output), in the order of the actors, their inputs and each input's upstreams.
    pub(crate) fn graph_of(actors: &[ActorRef]) -> GraphModel {
        let links = actors
            .iter()
            .flat_map(|actor| {
                actor
                    .ports()
                    .iter()
                    .filter(|port| port.direction == Direction::Input)
                    .map(move |input| (actor, input))
            })
            .flat_map(|(actor, input)| {
                let upstreams = input.upstream.as_ref().map(|up| up()).unwrap_or_default();
                upstreams.into_iter().map(move |from| Link {
                    from: Some(from),
                    to: Some(PortAddress::new(actor.uri().clone(), input.name)),
                    payload: input.type_name,
                })
            })
            .collect();
        GraphModel::new(actors.iter().map(|a| a.uri().clone()).collect(), links)
    }

    pub(crate) fn insert(&self, actor: ActorRef) -> Result<()> {
        let mut actors = self.actors.write();
        if actors.contains_key(&actor.entry.uri) {
            return Err(Error::DuplicateActor {
                uri: actor.entry.uri.to_string(),
            });
        }
        actors.insert(actor.entry.uri.clone(), actor);
        Ok(())
    }

    pub(crate) fn remove(&self, uri: &ActorUri) {
        self.actors.write().remove(uri);
    }

    fn filter(&self, keep: impl Fn(&ActorUri) -> bool) -> Vec<ActorRef> {
        self.list().into_iter().filter(|a| keep(a.uri())).collect()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.actors.read().keys().map(|u| u.to_string()))
            .finish()
    }
}

#[cfg(test)]
mod layout {
    use super::EntryHot;
    use crate::stats::ActorStatsCell;
    use std::mem::{align_of, offset_of};

    /// What every tick touches — `running` and the hot stats counters — lies in the first 64
    /// bytes, on a cache line of its own.
    #[test]
    fn the_tick_touches_one_cache_line_of_the_entry() {
        assert_eq!(align_of::<EntryHot>(), 64);
        assert_eq!(offset_of!(EntryHot, running), 0);
        assert!(offset_of!(EntryHot, stats) + ActorStatsCell::HOT_BYTES <= 64);
    }
}
