//! Actors of other processes and hosts: the seam between the runtime and a transport engine.
//!
//! A runtime built with a transport (cargo feature `net`: Zenoh, via
//! [`RuntimeBuilder::network`](crate::RuntimeBuilder)) **announces** each actor it spawns under
//! `actor://<host>/<Class>/<id>`, publishes the values written on its outputs, and (when
//! configured to) accepts values written into its inputs. It **sees** the actors other runtimes
//! announce: [`Registry::lookup`](crate::Registry::lookup) and
//! [`wait_for`](crate::Registry::wait_for) return them, and
//! [`Runtime::remote`](crate::Runtime::remote) gives a handle typed by the actor's own
//! declaration, so `pipeline!` checks a link across hosts at compile time.
//!
//! How values cross, and why the tick path does not change:
//! - a remote actor's **output** is a local output buffer that the engine's subscription writes
//!   into: a local input connects to it like to any output and reads it lock-free; nothing
//!   queues (a slow reader sees the newest), and a late joiner gets the newest value at once
//!   (the publisher keeps one). The input is [`is_stale`](crate::InputRef::is_stale) while the
//!   remote actor is not announced (its runtime left, was killed, or cannot be reached); its
//!   last value stays readable and the link resumes by itself when the actor is back;
//! - a remote actor's **input** is a local input: connecting a local output to it installs a tap
//!   on that output which encodes each value written (with the [`wire`] envelope)
//!   and hands it to the engine, which never blocks the writer (under congestion it drops the
//!   value after a bounded wait of about a millisecond);
//! - a local output with no remote reader costs one relaxed load per write more than before.
//!
//! Engines implement the crate-private `Transport` trait: one engine per link, chosen by the
//! runtime (Zenoh, feature `net`; iceoryx2 between processes of one host, feature `ipc`; with
//! both, a peer seen over iceoryx2 is linked over it and every other over Zenoh: the `both`
//! module). The key layout and the envelope are documented in [`wire`].
//!
//! [`wire`]: crate::wire

#[cfg(all(feature = "net", feature = "ipc"))]
pub(crate) mod both;
mod handle;
pub(crate) mod proxy;

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

pub use handle::{RemoteActor, RemoteBinder, RemoteHandle};
#[cfg(feature = "ipc")]
pub(crate) use proxy::LEND_TAIL_FROM;
pub use proxy::{FoundCodec, ViaCodec, ViaNothing, WireProbe};

use crate::actor::PortInfo;
use crate::codec::Codec;
use crate::error::{Error, Result};
pub(crate) use crate::message::SharedBytes;
use crate::port::{Direction, Lender};
use crate::registry::{ActorRef, EntryRef, RegistryEntry};
use crate::stats::ActorStats;
use crate::uri::ActorUri;
use crate::wire;

/// Whatever keeps a declaration alive (a token, a subscription); dropping it undeclares.
pub(crate) type Guard = Box<dyn Any + Send + Sync>;

/// Called with each message received on a key.
pub(crate) type Deliver = Box<dyn Fn(Message<'_>) + Send + Sync>;

/// A message as an engine received it (engines are features: without one, nothing makes it).
#[derive(Clone, Copy)]
#[cfg_attr(not(any(feature = "net", feature = "ipc")), allow(dead_code))]
pub(crate) enum Message<'a> {
    /// In one piece, in a buffer that can outlive the call (iceoryx2's shared-memory sample,
    /// Zenoh's buffer): a value may keep it instead of copying its bytes
    /// ([`Codec::decode_shared`]).
    Kept(&'a SharedBytes),
    /// In one piece, in memory valid only during the call (a sample the engine must have back).
    #[cfg_attr(not(feature = "ipc"), allow(dead_code))]
    Lent(&'a [u8]),
    /// In pieces, in order (a Zenoh message that arrived in fragments): joined once, straight
    /// into the bytes the value keeps ([`Codec::decode_owned`]).
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    Pieces(&'a [&'a [u8]]),
}
/// Called with `(key, alive)` when a liveliness token appears or vanishes.
pub(crate) type TokenChanged = Box<dyn Fn(&str, bool) + Send + Sync>;
/// A typed port (`OutputRef<T>` / `InputRef<T>`) without its type.
pub(crate) type AnyPort = Arc<dyn Any + Send + Sync>;

/// Sends messages on one key; never blocks (drops under congestion).
pub(crate) trait Publisher: Send + Sync {
    /// Publishes one message: `head`, then the bytes of `tail` if there is one (a value's own
    /// memory, [`Codec::tail`]): Zenoh sends them from there, iceoryx2 copies both parts
    /// straight into its shared-memory sample.
    fn put(&self, head: Vec<u8>, tail: Option<SharedBytes>);

    /// Memory to draw values' tails in before they are written (iceoryx2: samples of this
    /// publisher, with `envelope` bytes kept free in front, then the codec's head that each
    /// loan names); a tail [`put`](Self::put) later from there is sent without a copy. `None`
    /// (Zenoh): the engine lends nothing.
    fn lender(self: Arc<Self>, _envelope: usize) -> Option<Arc<dyn Lender>> {
        None
    }
}

/// A transport engine: what the runtime needs of Zenoh (or of iceoryx2).
pub(crate) trait Transport: Send + Sync {
    /// The engine's name, for logs.
    fn name(&self) -> &'static str;
    /// Declares a liveliness token on `key` until the guard is dropped.
    fn declare_token(&self, key: &str) -> Result<Guard>;
    /// Calls `changed(key, alive)` for each token under `prefix`, those already declared first.
    fn watch_tokens(&self, prefix: &str, changed: TokenChanged) -> Result<Guard>;
    /// A publisher on `key`; with `cache`, it keeps its newest message for late subscribers.
    fn publisher(&self, key: &str, cache: bool) -> Result<Arc<dyn Publisher>>;
    /// Calls `deliver` with each message on `key`, a publisher's cached newest one included.
    fn subscribe(&self, key: &str, deliver: Deliver) -> Result<Guard>;
    /// Answers queries on `key` with `answer()`.
    fn serve(&self, key: &str, answer: Box<dyn Fn() -> Vec<u8> + Send + Sync>) -> Result<Guard>;
    /// The first answer to a query on `key`, within `timeout`.
    fn query(&self, key: &str, timeout: Duration) -> Result<Vec<u8>>;
    /// Closes the engine's session; bounded in time.
    fn close(&self);
}

/// A runtime's view of the network: its transport, its host name, the actors of others.
pub(crate) struct Network {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) host: String,
    pub(crate) accept_writes: bool,
    peers: Mutex<HashMap<ActorUri, Arc<Peer>>>,
    changed: Condvar,
    watch: Mutex<Option<Guard>>,
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("engine", &self.transport.name())
            .field("host", &self.host)
            .finish()
    }
}

/// A port of a remote actor as its announcement declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PortDesc {
    pub(crate) name: String,
    pub(crate) direction: Direction,
    pub(crate) accepts_writes: bool,
    pub(crate) payload_type: String,
}

/// An actor of another runtime, seen or asked for.
pub(crate) struct Peer {
    pub(crate) uri: ActorUri,
    /// `<host>/<Class>/<id>`, the middle of its keys.
    pub(crate) path: String,
    alive: AtomicBool,
    ports: Mutex<Vec<PortDesc>>,
    /// Ports handed out, by (name, is output, payload type): one subscription per remote port.
    proxies: Mutex<HashMap<(String, bool, &'static str), AnyPort>>,
    pub(crate) network: Weak<Network>,
}

impl Peer {
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    pub(crate) fn ports(&self) -> Vec<PortDesc> {
        self.ports.lock().clone()
    }

    /// The proxy port `(name, output?)` for payload `payload_type`, made by `make` the first time.
    pub(crate) fn proxy(
        self: &Arc<Self>,
        name: &str,
        output: bool,
        payload_type: &'static str,
        make: impl FnOnce(&Arc<Peer>, &str) -> AnyPort,
    ) -> AnyPort {
        let key = (name.to_owned(), output, payload_type);
        self.proxies
            .lock()
            .entry(key)
            .or_insert_with(|| make(self, name))
            .clone()
    }

    /// The remote actor's counters, asked of its runtime.
    pub(crate) fn stats(&self, timeout: Duration) -> Result<ActorStats> {
        let network = self.network.upgrade().ok_or(Error::RuntimeShutDown)?;
        let answer = network
            .transport
            .query(&wire::stats_key(&self.path), timeout)?;
        decode_stats(&answer).ok_or_else(|| Error::Remote {
            uri: self.uri.to_string(),
            reason: "its stats answer does not parse".into(),
        })
    }
}

impl Network {
    pub(crate) fn new(
        transport: Arc<dyn Transport>,
        host: String,
        accept_writes: bool,
    ) -> Result<Arc<Network>> {
        proxy::register_builtin_codecs();
        let network = Arc::new(Network {
            transport,
            host,
            accept_writes,
            peers: Mutex::new(HashMap::new()),
            changed: Condvar::new(),
            watch: Mutex::new(None),
        });
        let weak = Arc::downgrade(&network);
        let watch = network.transport.watch_tokens(
            wire::LIVE_PREFIX,
            Box::new(move |key, alive| {
                if let Some(network) = weak.upgrade() {
                    network.token_changed(key, alive);
                }
            }),
        )?;
        *network.watch.lock() = Some(watch);
        Ok(network)
    }

    /// A liveliness token appeared or vanished.
    fn token_changed(self: &Arc<Self>, key: &str, alive: bool) {
        let Some((uri, ports)) = parse_token(key) else {
            tracing::debug!(
                key,
                "ignoring a liveliness token that is not a streamlib actor"
            );
            return;
        };
        if uri.host() == self.host {
            return; // our own actors are in the local registry
        }
        let peer = self.peer(&uri);
        if alive {
            *peer.ports.lock() = ports;
            peer.alive.store(true, Ordering::Release);
            tracing::info!(actor = %uri, engine = self.transport.name(), "remote actor reachable");
        } else if peer.alive.swap(false, Ordering::AcqRel) {
            tracing::warn!(actor = %uri, engine = self.transport.name(), "remote actor lost: its outputs are stale until it returns");
        }
        let _guard = self.peers.lock();
        self.changed.notify_all();
    }

    /// The peer at `uri`, known or not yet (then not alive until announced).
    pub(crate) fn peer(self: &Arc<Self>, uri: &ActorUri) -> Arc<Peer> {
        self.peers
            .lock()
            .entry(uri.clone())
            .or_insert_with(|| {
                Arc::new(Peer {
                    uri: uri.clone(),
                    path: wire::actor_path(uri.host(), uri.class(), uri.instance_id()),
                    alive: AtomicBool::new(false),
                    ports: Mutex::new(Vec::new()),
                    proxies: Mutex::new(HashMap::new()),
                    network: Arc::downgrade(self),
                })
            })
            .clone()
    }

    /// The reachable remote actor at `uri`.
    pub(crate) fn lookup(&self, uri: &ActorUri) -> Option<ActorRef> {
        let peer = self.peers.lock().get(uri).cloned()?;
        peer.is_alive().then(|| remote_ref(peer))
    }

    /// Every reachable remote actor.
    pub(crate) fn list(&self) -> Vec<ActorRef> {
        let peers: Vec<Arc<Peer>> = self.peers.lock().values().cloned().collect();
        peers
            .into_iter()
            .filter(|p| p.is_alive())
            .map(remote_ref)
            .collect()
    }

    /// Stops watching and closes the engine (bounded); idempotent.
    pub(crate) fn close(&self) {
        let watch = self.watch.lock().take();
        if watch.is_some() {
            drop(watch);
            self.transport.close();
            // A proxy port holds its peer and the peer its proxies: break the cycle, so what
            // they hold of the engine (subscriptions, shared-memory samples) goes now.
            let peers: Vec<Arc<Peer>> = self.peers.lock().values().cloned().collect();
            for peer in peers {
                peer.proxies.lock().clear();
            }
        }
    }

    /// Waits until a token changes, at most until `deadline`.
    pub(crate) fn wait_change(&self, deadline: Instant) {
        let mut peers = self.peers.lock();
        self.changed.wait_until(&mut peers, deadline);
    }

    /// Announces a local actor: its token, a publisher per output, a subscription per input
    /// that accepts writes, and its stats. Dropping the guard withdraws all of it.
    pub(crate) fn announce(&self, entry: &EntryRef) -> Result<Announcement> {
        let uri = &entry.uri;
        let path = wire::actor_path(&self.host, uri.class(), uri.instance_id());
        let mut guards = Vec::new();
        let mut undo = Vec::new();
        let mut ports = Vec::new();
        for port in &entry.ports {
            let Some(ops) = port.wire else { continue };
            let output = port.direction == Direction::Output;
            let key = wire::data_key(&path, output, port.name);
            if output {
                let publisher = self.transport.publisher(&key, true)?;
                undo.push((ops.publish)(port.port.as_ref(), publisher));
                ports.push(format!("o:{}:{}", port.name, ops.payload_type));
            } else if self.accept_writes {
                let deliver = (ops.accept)(port.port.as_ref(), format!("{uri}.{}", port.name));
                guards.push(self.transport.subscribe(&key, deliver)?);
                ports.push(format!("w:{}:{}", port.name, ops.payload_type));
            } else {
                ports.push(format!("i:{}:{}", port.name, ops.payload_type));
            }
        }
        let stats = {
            let entry = entry.clone();
            Box::new(move || encode_stats(&entry.stats().snapshot()))
        };
        guards.push(self.transport.serve(&wire::stats_key(&path), stats)?);
        let ports = if ports.is_empty() {
            "-".to_owned()
        } else {
            ports.join(";")
        };
        let token = format!("{}{path}/{ports}", wire::LIVE_PREFIX);
        // The token last: when others see it, the publishers are in place.
        guards.push(self.transport.declare_token(&token)?);
        Ok(Announcement { guards, undo })
    }
}

/// What announcing an actor declared; dropped when the actor stops.
pub(crate) struct Announcement {
    guards: Vec<Guard>,
    undo: Vec<Box<dyn FnOnce() + Send>>,
}

impl Drop for Announcement {
    fn drop(&mut self) {
        // The token first (it is the last guard), so peers see the actor leave before its
        // publishers go.
        while let Some(guard) = self.guards.pop() {
            drop(guard);
        }
        for undo in self.undo.drain(..) {
            undo();
        }
    }
}

/// `<LIVE_PREFIX><host>/<Class>/<id>/<ports>` → the actor's URI and ports.
fn parse_token(key: &str) -> Option<(ActorUri, Vec<PortDesc>)> {
    let rest = key.strip_prefix(wire::LIVE_PREFIX)?;
    let mut parts = rest.splitn(4, '/');
    let (host, class, id, ports) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let uri = ActorUri::parse(&format!("actor://{host}/{class}/{id}")).ok()?;
    let mut descs = Vec::new();
    for port in ports.split(';').filter(|p| *p != "-") {
        let mut fields = port.splitn(3, ':');
        let (dir, name, payload_type) = (fields.next()?, fields.next()?, fields.next()?);
        let (direction, accepts_writes) = match dir {
            "o" => (Direction::Output, false),
            "i" => (Direction::Input, false),
            "w" => (Direction::Input, true),
            _ => return None,
        };
        descs.push(PortDesc {
            name: name.to_owned(),
            direction,
            accepts_writes,
            payload_type: payload_type.to_owned(),
        });
    }
    Some((uri, descs))
}

/// A registry entry for a remote actor: its ports as announced.
fn remote_ref(peer: Arc<Peer>) -> ActorRef {
    let ports = peer
        .ports()
        .into_iter()
        .map(|desc| PortInfo::remote(&desc))
        .collect();
    let entry = RegistryEntry::new(peer.uri.clone(), ports, format!("remote ({})", peer.path));
    ActorRef {
        entry: entry.into(),
        remote: Some(peer),
    }
}

/// The remote port `name` of `peer`, typed `T` as the caller asks: checked against the
/// announcement, and against the codecs this process knows.
pub(crate) fn remote_port<T: 'static>(
    peer: &Arc<Peer>,
    name: &str,
    direction: Direction,
) -> Result<AnyPort> {
    let ports = peer.ports();
    let desc = ports
        .iter()
        .find(|p| p.name == name && p.direction == direction)
        .ok_or_else(|| Error::UnknownPort {
            actor: peer.uri.to_string(),
            port: name.to_owned(),
            direction: direction.as_str(),
            available: {
                let names: Vec<&str> = ports
                    .iter()
                    .filter(|p| p.direction == direction)
                    .map(|p| p.name.as_str())
                    .collect();
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            },
        })?;
    let ops = proxy::registered::<T>()?;
    if ops.payload_type != desc.payload_type {
        return Err(Error::PortTypeMismatch {
            actor: peer.uri.to_string(),
            port: name.to_owned(),
            direction: direction.as_str(),
            expected: ops.payload_type,
            actual: proxy::intern(&desc.payload_type),
        });
    }
    Ok(match direction {
        Direction::Output => peer.proxy(name, true, ops.payload_type, ops.remote_output),
        Direction::Input => peer.proxy(name, false, ops.payload_type, ops.remote_input),
    })
}

/// Makes `T` known to run-time lookups of remote ports
/// ([`ActorRef::output`](crate::ActorRef::output) on an actor of another process), when no local
/// actor and no `rt.remote::<A>()` of this process uses it yet.
pub fn register_codec<T: Codec>() {
    proxy::WireOps::of::<T>();
}

/// `ticks=..;skipped_ticks=..;...` in nanoseconds for durations.
fn encode_stats(stats: &ActorStats) -> Vec<u8> {
    let ns = |d: Duration| d.as_nanos() as u64;
    format!(
        "ticks={};skipped_ticks={};late_ticks={};errors={};panics={};process_p50_ns={};process_p99_ns={};process_max_ns={};lateness_p50_ns={};lateness_p99_ns={};lateness_max_ns={};tick_p50_ns={};tick_p99_ns={}",
        stats.ticks, stats.skipped_ticks, stats.late_ticks, stats.errors, stats.panics,
        ns(stats.process_p50), ns(stats.process_p99), ns(stats.process_max),
        ns(stats.lateness_p50), ns(stats.lateness_p99), ns(stats.lateness_max),
        ns(stats.tick_p50), ns(stats.tick_p99),
    )
    .into_bytes()
}

fn decode_stats(bytes: &[u8]) -> Option<ActorStats> {
    let text = std::str::from_utf8(bytes).ok()?;
    let fields: HashMap<&str, u64> = text
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
        .collect();
    let get = |k: &str| fields.get(k).copied();
    let ns = |k: &str| get(k).map(Duration::from_nanos);
    Some(ActorStats {
        ticks: get("ticks")?,
        skipped_ticks: get("skipped_ticks")?,
        late_ticks: get("late_ticks")?,
        errors: get("errors")?,
        panics: get("panics")?,
        process_p50: ns("process_p50_ns")?,
        process_p99: ns("process_p99_ns")?,
        process_max: ns("process_max_ns")?,
        lateness_p50: ns("lateness_p50_ns")?,
        lateness_p99: ns("lateness_p99_ns")?,
        lateness_max: ns("lateness_max_ns")?,
        // Newer fields: absent from older peers, zero then.
        tick_p50: ns("tick_p50_ns").unwrap_or_default(),
        tick_p99: ns("tick_p99_ns").unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_back() {
        let key = "streamlib/v1/live/cam-box/Camera/cam0/o:video:streamlib.VideoFrame;w:gain:f32";
        let (uri, ports) = parse_token(key).unwrap();
        assert_eq!(uri.to_string(), "actor://cam-box/Camera/cam0");
        assert_eq!(ports.len(), 2);
        assert!(ports[1].accepts_writes && ports[1].direction == Direction::Input);
        assert!(parse_token("streamlib/v1/live/h/Cam/x/-")
            .unwrap()
            .1
            .is_empty());
        assert!(parse_token("streamlib/v1/live/h/Cam").is_none());
        assert!(parse_token("streamlib/v1/live/h/Cam/x/q:a:b").is_none());
        assert!(parse_token("other/h/Cam/x/-").is_none());
        let v6 = parse_token("streamlib/v1/live/::1/Cam/x/-").unwrap().0;
        assert_eq!(v6.to_string(), "actor://[::1]/Cam/x");
    }

    #[test]
    fn stats_round_trip() {
        let stats = ActorStats {
            ticks: 5,
            errors: 1,
            process_p99: Duration::from_micros(7),
            ..ActorStats::default()
        };
        assert_eq!(decode_stats(&encode_stats(&stats)), Some(stats));
        assert_eq!(decode_stats(b"ticks=x"), None);
    }
}
