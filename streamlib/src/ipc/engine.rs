//! The iceoryx2 engine: one node per runtime, announcements as event services, values as
//! `[u8]` samples, and the thread that receives for the runtime.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use iceoryx2::identifiers::{UniqueNodeId, UniqueSubscriberId};
use iceoryx2::port::listener::Listener;
use iceoryx2::port::notifier::Notifier;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;
use iceoryx2::sample::Sample;
use iceoryx2::service::attribute::AttributeKey;
use iceoryx2::service::port_factory::event;
use parking_lot::Mutex;

use super::loan::{Port, Sent, MAX_LOANS};
use super::{
    ipc_error, service_name, shm_available, DataService, IpcConfig, Svc, COPIED, IN_PLACE,
    MAX_BORROWED, MAX_PUBLISHERS, MAX_SUBSCRIBERS, OVERSIZE, SAMPLES_PER_OUTPUT, SCAN_PERIOD,
    TOKEN_CHUNK, TOKEN_SERVICE, WAKE_SERVICE,
};
use crate::error::{Error, Result};
use crate::port::{Lender, Loan};
use crate::remote::{
    Deliver, Guard, Message, Publisher, SharedBytes, TokenChanged, Transport, LEND_TAIL_FROM,
};

/// The engine: one node per runtime, the thread that receives for it and the one that scans.
pub(super) struct Iceoryx {
    shared: Arc<Shared>,
    /// The receiving thread and the scanning thread.
    threads: Mutex<Vec<JoinHandle<()>>>,
}

struct Shared {
    node: Node<Svc>,
    max_message: usize,
    /// Wakes this runtime's receiving thread (a subscription of its own, the close).
    own_wake: Arc<Notifier<Svc>>,
    /// This runtime's wake-up event, named by its node ([`wake_service`]), which publishers
    /// notify when it subscribes to them; its receiving thread listens to it alone.
    _wake: event::PortFactory<Svc>,
    /// Notifiers of other runtimes' wake-up events, by node, shared by the publishers whose
    /// subscribers they are (kept while one is).
    wakers: Mutex<BTreeMap<UniqueNodeId, Arc<Notifier<Svc>>>>,
    /// Nodes whose wake-up event could not be opened, and when.
    no_waker: Mutex<BTreeMap<UniqueNodeId, Instant>>,
    /// Replaced whole on change, so the receiving thread clones one `Arc` per wake-up.
    subscriptions: Mutex<Arc<Vec<Arc<Subscription>>>>,
    publishers: Mutex<Vec<Weak<IpcPublisher>>>,
    watchers: Mutex<Vec<Arc<Watcher>>>,
    scanning: Mutex<()>,
    /// What the last list of announcements was made from, and what it found.
    last_scan: Mutex<Option<LastScan>>,
    /// How often iceoryx2's list of nodes was asked which are alive ([`Shared::check_nodes`]).
    node_checks: AtomicU64,
    next_id: AtomicU64,
    stop: AtomicBool,
    /// How often the receiving thread woke (a wake-up drains the subscriptions it names).
    wakeups: AtomicU64,
    /// Wake-ups that drained every subscription ([`WakeIds::names_all`]).
    #[cfg(test)]
    drained_all: AtomicU64,
    /// Scans made ([`scan_loop`]).
    #[cfg(test)]
    scans: AtomicU64,
}

struct Subscription {
    id: u64,
    key: String,
    /// Its key's wake-up id ([`WakeId::of`]): the receiving thread drains it when a wake-up
    /// names that id.
    wake_id: WakeId,
    /// How often the receiving thread drained it.
    #[cfg(test)]
    drains: AtomicU64,
    /// Samples received and still kept by frames.
    held: Arc<AtomicUsize>,
    subscriber: Subscriber<Svc, [u8], ()>,
    _service: DataService,
    deliver: Deliver,
}

struct Watcher {
    prefix: String,
    changed: TokenChanged,
    alive: Mutex<HashSet<String>>,
}

impl Iceoryx {
    pub(super) fn open(config: &IpcConfig, host: &str) -> Result<Arc<Iceoryx>> {
        config.check()?;
        let needed = (SAMPLES_PER_OUTPUT * (config.max_message_size + 256)) as u64;
        if let Some(available) = shm_available() {
            if available < needed {
                return Err(Error::SharedMemoryTooSmall {
                    path: "/dev/shm".into(),
                    available,
                    needed,
                    max_message: config.max_message_size,
                });
            }
        }
        let mut iox = Config::default();
        iox.global.prefix =
            FileName::new(config.prefix.as_bytes()).map_err(|e| ipc_error("prefix", e))?;
        if let Some(directory) = &config.directory {
            let mut path = directory.clone();
            if !path.ends_with('/') {
                path.push('/');
            }
            let path = iceoryx2::prelude::Path::new(path.as_bytes())
                .map_err(|e| ipc_error(&format!("directory {directory}"), e))?;
            iox.global.set_root_path(&path);
        }
        let node = NodeBuilder::new()
            .config(&iox)
            .signal_handling_mode(SignalHandlingMode::Disabled)
            .create::<Svc>()
            .map_err(|e| ipc_error("node", e))?;
        let wake_name = wake_service(node.id());
        let wake = node
            .service_builder(&service_name(&wake_name)?)
            .event()
            .event_id_max_value(WakeId::MAX)
            .max_listeners(1)
            .max_notifiers(256)
            .max_nodes(256)
            .create()
            .map_err(|e| ipc_error(&wake_name, e))?;
        let own_wake = wake
            .notifier_builder()
            .create()
            .map_err(|e| ipc_error(&wake_name, e))?;
        let listener = wake
            .listener_builder()
            .create()
            .map_err(|e| ipc_error(&wake_name, e))?;
        let shared = Arc::new(Shared {
            node,
            max_message: config.max_message_size,
            own_wake: Arc::new(own_wake),
            _wake: wake,
            wakers: Mutex::new(BTreeMap::new()),
            no_waker: Mutex::new(BTreeMap::new()),
            subscriptions: Mutex::new(Arc::new(Vec::new())),
            publishers: Mutex::new(Vec::new()),
            watchers: Mutex::new(Vec::new()),
            scanning: Mutex::new(()),
            last_scan: Mutex::new(None),
            node_checks: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            stop: AtomicBool::new(false),
            wakeups: AtomicU64::new(0),
            #[cfg(test)]
            drained_all: AtomicU64::new(0),
            #[cfg(test)]
            scans: AtomicU64::new(0),
        });
        let host_prefix = format!("{}{host}/", crate::wire::LIVE_PREFIX);
        if let Some(key) = shared
            .alive_tokens()
            .into_iter()
            .find(|k| k.starts_with(&host_prefix))
        {
            tracing::warn!(host, key, "host name already announced on this machine");
            return Err(Error::InvalidOption {
                option: "host",
                value: host.to_owned(),
                reason: "another live process of this machine announces actors under this host name over ipc; give each runtime its own",
            });
        }
        let receiving = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("streamlib-ipc".into())
                .spawn(move || receive_loop(&shared, listener))
                .map_err(|e| ipc_error("receiving thread", e))?
        };
        let engine = Iceoryx {
            shared: shared.clone(),
            threads: Mutex::new(vec![receiving]),
        };
        let scanning = std::thread::Builder::new()
            .name("streamlib-ipc-scan".into())
            .spawn(move || scan_loop(&shared))
            .map_err(|e| ipc_error("scanning thread", e))?; // `engine` stops the other
        engine.threads.lock().push(scanning);
        tracing::info!(prefix = config.prefix, host, "iceoryx2 node open");
        Ok(Arc::new(engine))
    }
}

/// Waits for wake-ups and drains the subscriptions; nothing else, so a value never waits for a
/// scan (which takes milliseconds: it lists files).
///
/// It waits on the runtime's own wake-up event, which a publisher notifies only when this
/// runtime subscribes to it ([`IpcPublisher::wake`]): values nobody here reads, and this
/// runtime's own writes, never wake it.
///
/// The wait has no timeout: [`Iceoryx::close`] notifies the wake-up event after setting `stop`,
/// so an idle runtime's thread sleeps until a value comes (a timed wait woke it 20 times a
/// second, and iceoryx2's timed wait sets the socket's timeout and formats an error text on
/// every call).
fn receive_loop(shared: &Arc<Shared>, listener: Listener<Svc>) {
    let queue = notifications_queued_at_most();
    while !shared.stop.load(Ordering::Acquire) {
        let mut named = WakeIds::default();
        let mut taken = 0;
        let waited = listener.blocking_wait_all(|id| {
            taken += 1;
            named.insert(id);
        });
        if let Err(error) = waited {
            tracing::debug!(?error, "ipc wake-up wait failed");
            std::thread::sleep(Duration::from_millis(50));
            named.insert(WakeId::ALL.0);
        }
        if taken >= queue {
            // The queue may have been full: a notification dropped named a key not seen here.
            named.insert(WakeId::ALL.0);
        }
        shared.wakeups.fetch_add(1, Ordering::Relaxed);
        #[cfg(test)]
        if named.names_all() {
            shared.drained_all.fetch_add(1, Ordering::Relaxed);
        }
        let subscriptions = shared.subscriptions.lock().clone();
        for subscription in subscriptions.iter() {
            if named.names(subscription.wake_id) {
                subscription.drain();
            }
        }
    }
}

/// How many notifications the kernel queues for a wake-up event before it drops the next:
/// iceoryx2's events between processes are unix datagrams, queued up to
/// `net.unix.max_dgram_qlen` (10 by default), and a notifier does not wait when the queue is
/// full. Whenever a wake-up takes this many, one may have been dropped, and everything is
/// drained.
fn notifications_queued_at_most() -> usize {
    std::fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(10)
        .clamp(1, 512)
}

/// The id a wake-up carries: which subscriptions the woken runtime drains. A value's wake-up
/// names its key's id, so a runtime reading many keys takes one subscription's values without
/// asking every other subscription (about 170 ns each here) whether it has one. Two keys may
/// share an id (then both are drained); `ALL` (iceoryx2's default id, what `notify()` sends:
/// a new subscription, the scan's backstop, `close`, a runtime of an older streamlib) drains
/// every subscription, and so does a wake-up that may have lost a notification
/// ([`notifications_queued_at_most`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct WakeId(EventId);

impl WakeId {
    /// The greatest id (iceoryx2's default for an event service).
    const MAX: usize = 255;
    const ALL: WakeId = WakeId(EventId::new(0));

    /// `key`'s id, `1..=MAX`: FNV-1a of its bytes (the same in every process and build).
    fn of(key: &str) -> WakeId {
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        WakeId(EventId::new(1 + (hash % WakeId::MAX as u64) as usize))
    }
}

/// The ids of one wake-up's notifications, a bit each.
#[derive(Default)]
struct WakeIds([u64; WAKE_ID_WORDS]);

const WAKE_ID_WORDS: usize = (WakeId::MAX + 1) / 64;

impl WakeIds {
    fn insert(&mut self, id: EventId) {
        // An id beyond the range (none is sent) drains everything, as `ALL` does.
        let id = if id.as_value() <= WakeId::MAX {
            id.as_value()
        } else {
            0
        };
        self.0[id / 64] |= 1 << (id % 64);
    }

    /// Whether a subscription of `id` is to be drained: its id was named, or `ALL` was, or
    /// nothing was (a wake-up without a notification drains everything, to be safe).
    fn names(&self, id: WakeId) -> bool {
        self.has(id.0.as_value()) || self.names_all()
    }

    /// Whether every subscription is to be drained (`ALL` named, or nothing).
    fn names_all(&self) -> bool {
        self.has(0) || self.0 == [0; WAKE_ID_WORDS]
    }

    fn has(&self, id: usize) -> bool {
        self.0[id / 64] & (1 << (id % 64)) != 0
    }
}

/// Every [`SCAN_PERIOD`] (or when unparked at close): checks the announcements (listing them
/// when something changed, [`Shared::alive_tokens`]) and hands history to new subscribers.
///
/// It also wakes the receiving thread when a subscription has a value waiting: a backstop, so
/// that a wake-up a writer did not send (it learns of a new reader's runtime at its own next
/// scan) delays a value by one scan period at most, never for good.
fn scan_loop(shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::Acquire) {
        shared.scan();
        let subscriptions = shared.subscriptions.lock().clone();
        shared.refresh_publishers(&subscriptions);
        if subscriptions
            .iter()
            .any(|s| s.subscriber.has_samples().unwrap_or(false))
        {
            let _ = shared.own_wake.notify();
        }
        #[cfg(test)]
        shared.scans.fetch_add(1, Ordering::Relaxed);
        std::thread::park_timeout(SCAN_PERIOD);
    }
}

/// A received sample kept by what was decoded from it (a frame borrowing its pixels).
struct HeldSample {
    sample: Sample<Svc, [u8], ()>,
    held: Arc<AtomicUsize>,
}

// SAFETY: through `&HeldSample` only `payload()` is called, which reads the sample's pointers
// and returns bytes of shared memory that nobody writes while the sample is held (a publisher
// reuses a sample only once every subscriber returned it, which happens when this drops). The
// sample's own bookkeeping runs only in `drop`, with exclusive access. `Sample` of the
// thread-safe service is `Send` (asserted below), so moving one between threads is sound too.
unsafe impl Sync for HeldSample {}

const _: () = {
    const fn is_send<T: Send>() {}
    is_send::<Sample<Svc, [u8], ()>>();
};

impl AsRef<[u8]> for HeldSample {
    fn as_ref(&self) -> &[u8] {
        self.sample.payload()
    }
}

impl Drop for HeldSample {
    fn drop(&mut self) {
        self.held.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Subscription {
    fn drain(&self) {
        #[cfg(test)]
        self.drains.fetch_add(1, Ordering::Relaxed);
        // Bounded: at most the buffered sample and the history arrive per wake-up.
        for _ in 0..8 {
            match self.subscriber.receive() {
                // Lent only while one borrow stays free for the next receive; beyond that the
                // receiver copies what it keeps.
                Ok(Some(sample)) if self.held.load(Ordering::Relaxed) + 2 <= MAX_BORROWED => {
                    self.held.fetch_add(1, Ordering::Relaxed);
                    let shared: SharedBytes = Arc::new(HeldSample {
                        sample,
                        held: self.held.clone(),
                    });
                    (self.deliver)(Message::Kept(&shared));
                }
                Ok(Some(sample)) => (self.deliver)(Message::Lent(sample.payload())),
                Ok(None) => return,
                Err(error) => {
                    tracing::debug!(?error, "ipc receive failed");
                    return;
                }
            }
        }
    }
}

/// What the service files and the node files were at a scan. Two costs are kept off most
/// scans: a list of announcements parses every service's file (milliseconds: a few hundred KB
/// of TOML a second at five scans a second), so it is redone only when this changed, when a
/// node died, or every [`FULL_SCAN_EVERY`]th scan; and iceoryx2's list of nodes reads and
/// parses every node's details to say which are alive (about 0.2 ms a node here), so it is
/// asked only when the node files changed or every [`CHECK_NODES_EVERY`]th scan — a process
/// killed leaves its files as they were, only that check sees it dead.
#[derive(Clone, PartialEq, Eq)]
struct Fingerprint {
    /// This prefix's files in iceoryx2's service directory, sorted (iceoryx2 writes a
    /// service's file under its final name, then its content, then its final permissions: a
    /// file still being made changes after it is first seen).
    services: Vec<FileSeen>,
    /// The nodes' monitor files in iceoryx2's node directory (`<prefix><id>.node_monitor`),
    /// sorted: a node of this prefix that came or went. (Their directories of details change
    /// with every port a node opens, and other prefixes' nodes are none of this runtime's.)
    nodes: Vec<FileSeen>,
}

/// A file's name, length, permissions and modification time (ns).
type FileSeen = (std::ffi::OsString, u64, u32, i128);

/// Scans between two full lists whatever the fingerprint says: a backstop (10 s), for a change
/// a fingerprint could miss (a file rewritten to the same length within one clock tick of the
/// file system; an announcing node's state that changes without a file changing, which is
/// listed again at the next scans anyway when it was undefined or dead).
const FULL_SCAN_EVERY: u32 = 50;

/// Scans between two checks of which nodes are alive while no node file changes: a process
/// killed with SIGKILL is seen dead within this many scans (600 ms), well inside the 2 s in
/// which its readers must turn stale.
const CHECK_NODES_EVERY: u32 = 3;

impl Fingerprint {
    /// The files now, or `None` if a directory could not be read (a list follows).
    fn now(config: &Config) -> Option<Fingerprint> {
        let (global, prefix) = (&config.global, config.global.prefix.to_string());
        let monitor = global.node.monitor_suffix.to_string();
        let services = files_in(&global.service_dir().to_string(), |name| {
            name.starts_with(&prefix)
        })?;
        let nodes = files_in(&global.node_dir().to_string(), |name| {
            name.starts_with(&prefix) && name.ends_with(&monitor)
        })?;
        Some(Fingerprint { services, nodes })
    }
}

/// The entries of `directory` whose names are `wanted`, sorted; `None` if it cannot be read or
/// an entry vanished while read (something is changing: a list follows).
fn files_in(directory: &str, wanted: impl Fn(&str) -> bool) -> Option<Vec<FileSeen>> {
    use std::os::unix::fs::MetadataExt;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name();
        if !wanted(&name.to_string_lossy()) {
            continue;
        }
        let meta = entry.metadata().ok()?;
        let modified = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
        files.push((name, meta.len(), meta.mode(), modified));
    }
    files.sort_unstable();
    Some(files)
}

/// The last list of announcements: what it was made from, what it found, the scans since, and
/// the scans since the nodes were last checked.
struct LastScan {
    fingerprint: Fingerprint,
    alive: HashSet<String>,
    skipped: u32,
    nodes_unchecked: u32,
}

/// What iceoryx2's list of nodes said.
#[derive(PartialEq)]
enum Nodes {
    /// None is dead (some may be another user's, or unreadable: nothing this runtime can clean).
    Alive,
    /// A node died: its leftovers must go, and a list follows.
    Dead,
    /// The list failed: a list of announcements follows.
    Unreadable,
}

impl Shared {
    /// The keys of every announcement some live process holds; cleans up after dead ones. Lists
    /// them again only when service or node files changed, a node died or could not be checked
    /// since the last complete list, or when it is [`FULL_SCAN_EVERY`] scans old (see
    /// [`Fingerprint`]).
    fn alive_tokens(&self) -> HashSet<String> {
        let seen = Fingerprint::now(self.node.config());
        let mut last = self.last_scan.lock();
        let nodes_due = match (&seen, &*last) {
            (Some(now), Some(last)) => {
                now.nodes != last.fingerprint.nodes || last.nodes_unchecked + 1 >= CHECK_NODES_EVERY
            }
            _ => true,
        };
        let (nodes, nodes_unchecked) = match (&*last, nodes_due) {
            (Some(kept), false) => (Nodes::Alive, kept.nodes_unchecked + 1),
            _ => (self.check_nodes(), 0),
        };
        if let (Some(now), Some(kept), Nodes::Alive) = (&seen, &mut *last, &nodes) {
            if *now == kept.fingerprint && kept.skipped + 1 < FULL_SCAN_EVERY {
                kept.skipped += 1;
                kept.nodes_unchecked = nodes_unchecked;
                return kept.alive.clone();
            }
        }
        if nodes == Nodes::Dead {
            self.clean_up_dead_nodes();
        }
        let (alive, complete) = self.list_tokens();
        *last = match seen {
            Some(fingerprint) if complete && nodes == Nodes::Alive => Some(LastScan {
                fingerprint,
                alive: alive.clone(),
                skipped: 0,
                nodes_unchecked,
            }),
            _ => None,
        };
        alive
    }

    /// Whether every node iceoryx2 lists is alive (or not this process's to judge: another
    /// user's). Counted in [`Shared::node_checks`].
    fn check_nodes(&self) -> Nodes {
        self.node_checks.fetch_add(1, Ordering::Relaxed);
        let mut dead = false;
        let listed = Node::<Svc>::list(self.node.config(), |state| {
            dead |= matches!(state, NodeState::Dead(_));
            CallbackProgression::Continue
        });
        match (listed, dead) {
            (Err(_), _) => Nodes::Unreadable,
            (Ok(()), true) => Nodes::Dead,
            (Ok(()), false) => Nodes::Alive,
        }
    }

    fn clean_up_dead_nodes(&self) {
        let state = Node::<Svc>::try_cleanup_dead_nodes(self.node.config());
        tracing::info!(
            removed = state.cleanups,
            failed = state.failed_cleanups,
            "removed what dead processes left in shared memory"
        );
    }

    /// The keys of every announcement some live process holds, from the list of services, and
    /// whether the list was complete; cleans up after dead processes.
    fn list_tokens(&self) -> (HashSet<String>, bool) {
        let mut alive = HashSet::new();
        let (mut dead, mut undefined) = (false, false);
        let listed = <Svc as iceoryx2::service::Service>::list(self.node.config(), |details| {
            let config = &details.static_details;
            if matches!(
                config.messaging_pattern(),
                iceoryx2::service::static_config::messaging_pattern::MessagingPattern::Event(_)
            ) && config.name().as_str().starts_with(TOKEN_SERVICE)
            {
                let nodes = details
                    .dynamic_details
                    .as_ref()
                    .map_or(&[][..], |d| &d.nodes[..]);
                dead |= nodes.iter().any(|n| matches!(n, NodeState::Dead(_)));
                // A node whose state could not be read now may be alive at the next scan,
                // which no file would show: the list is incomplete, and made again.
                undefined |= nodes.iter().any(|n| matches!(n, NodeState::Undefined(_)));
                if nodes.iter().any(|n| matches!(n, NodeState::Alive(_))) {
                    if let Some(key) = token_key(config.attributes()) {
                        alive.insert(key);
                    }
                }
            }
            CallbackProgression::Continue
        });
        if let Err(error) = &listed {
            tracing::debug!(?error, "cannot list ipc services");
        }
        if dead {
            self.clean_up_dead_nodes();
        }
        (alive, listed.is_ok() && !dead && !undefined)
    }

    /// Reports announcements that appeared or vanished to every watcher.
    fn scan(&self) {
        let _one_at_a_time = self.scanning.lock();
        let watchers = self.watchers.lock().clone();
        if watchers.is_empty() {
            return;
        }
        let alive = self.alive_tokens();
        for watcher in watchers {
            let mut known = watcher.alive.lock();
            let now: HashSet<String> = alive
                .iter()
                .filter(|k| k.starts_with(&watcher.prefix))
                .cloned()
                .collect();
            let gone: Vec<String> = known.difference(&now).cloned().collect();
            let came: Vec<String> = now.difference(&known).cloned().collect();
            *known = now;
            drop(known);
            for key in gone {
                (watcher.changed)(&key, false);
            }
            for key in came {
                (watcher.changed)(&key, true);
            }
        }
    }

    /// Connects publishers to new subscribers (handing them the history) and wakes them.
    fn refresh_publishers(&self, subscriptions: &[Arc<Subscription>]) {
        let publishers: Vec<Arc<IpcPublisher>> = {
            let mut list = self.publishers.lock();
            list.retain(|p| p.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        for publisher in publishers {
            // A subscriber can show up before it is fully registered, so connections are
            // updated at every scan and subscribers woken for a few scans after a change.
            let Some(port) = publisher.port.lock().clone() else {
                continue;
            };
            if let Err(error) = port.publisher.update_connections() {
                tracing::debug!(?error, key = publisher.key, "ipc update_connections failed");
            }
            let here = subscriptions.iter().any(|s| s.key == publisher.key);
            // Not under the port's lock: opening another runtime's wake-up event is file work,
            // and writes on this key must not wait for it.
            self.find_wakers(&publisher, &port, here);
            let pending = publisher.wake_scans.load(Ordering::Relaxed);
            if pending > 0 {
                publisher.wake_scans.store(pending - 1, Ordering::Relaxed);
                publisher.wake();
            }
        }
        // Notifiers no publisher names any more (their runtime unsubscribed, or died) go.
        self.wakers
            .lock()
            .retain(|_, notifier| Arc::strong_count(notifier) > 1);
    }

    /// Points `publisher`'s wake-ups at the runtimes its subscribers belong to: other nodes
    /// (not the writer's own reader, [`Port`]), and this one if it subscribes to the key itself.
    ///
    /// When the subscribers changed (not only their number: one may have left and another
    /// come between two scans), they are woken at this and the next scans: the history the
    /// scan handed a new one waits in its buffer, and nothing else would wake its runtime.
    fn find_wakers(&self, publisher: &IpcPublisher, port: &Port, here: bool) {
        let own = *self.node.id();
        let (mut nodes, mut ids) = (Vec::new(), Vec::new());
        port.service.dynamic_config().list_subscribers(|details| {
            ids.push(details.subscriber_id);
            if details.node_id != own || here {
                nodes.push(details.node_id);
            }
            CallbackProgression::Continue
        });
        nodes.sort();
        nodes.dedup();
        ids.sort();
        {
            let mut seen = publisher.subscriber_ids.lock();
            if *seen != ids {
                tracing::debug!(
                    key = publisher.key,
                    subscribers = ids.len(),
                    "ipc subscribers changed"
                );
                *seen = ids;
                publisher.wake_scans.store(3, Ordering::Relaxed);
            }
        }
        // From the cache, or opened; a node whose event cannot be opened (yet) is left out, and
        // tried again at a later scan.
        let targets: Vec<(UniqueNodeId, Arc<Notifier<Svc>>)> = {
            let mut wakers = self.wakers.lock();
            nodes
                .into_iter()
                .filter_map(|node| {
                    let notifier = if node == own {
                        self.own_wake.clone()
                    } else if let Some(notifier) = wakers.get(&node) {
                        notifier.clone()
                    } else {
                        let notifier = self.waker(node)?;
                        wakers.insert(node, notifier.clone());
                        notifier
                    };
                    Some((node, notifier))
                })
                .collect()
        };
        let mut wake = publisher.wake.lock();
        let unchanged = wake
            .iter()
            .map(|(node, _)| node)
            .eq(targets.iter().map(|(node, _)| node));
        if !unchanged {
            tracing::debug!(
                key = publisher.key,
                runtimes = targets.len(),
                "ipc wake-up targets"
            );
            *wake = targets;
            publisher.wake_scans.store(3, Ordering::Relaxed);
        }
    }

    /// A notifier of `node`'s wake-up event; `None` while it cannot be opened (the node is
    /// still starting, or died, or is no streamlib runtime of this version): tried again after
    /// [`RETRY_WAKER`], not at every scan.
    fn waker(&self, node: UniqueNodeId) -> Option<Arc<Notifier<Svc>>> {
        if let Some(failed) = self.no_waker.lock().get(&node) {
            if failed.elapsed() < RETRY_WAKER {
                return None;
            }
        }
        let name = wake_service(&node);
        let opened = service_name(&name).ok().and_then(|service| {
            let event = self.node.service_builder(&service).event().open().ok()?;
            event.notifier_builder().create().ok()
        });
        let mut no_waker = self.no_waker.lock();
        match opened {
            Some(_) => no_waker.remove(&node),
            None => {
                tracing::debug!(node = %node, "ipc: no wake-up event of that node yet");
                no_waker.insert(node, Instant::now())
            }
        };
        no_waker.retain(|_, failed| failed.elapsed() < RETRY_WAKER * 10);
        opened.map(Arc::new)
    }
}

/// The key a token service carries in attributes `k0`, `k1`, ...
fn token_key(attributes: &AttributeSet) -> Option<String> {
    let mut key = String::new();
    for i in 0..AttributeSet::capacity() {
        let name = AttributeKey::try_from(format!("k{i}").as_str()).ok()?;
        match attributes.key_value(&name, 0) {
            Some(value) => key.push_str(&value.to_string()),
            None => break,
        }
    }
    (!key.is_empty()).then_some(key)
}

struct TokenGuard {
    _notifier: Notifier<Svc>,
    _service: event::PortFactory<Svc>,
}

struct SubscriptionGuard {
    id: u64,
    shared: Weak<Shared>,
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            let mut list = shared.subscriptions.lock();
            let kept: Vec<Arc<Subscription>> =
                list.iter().filter(|s| s.id != self.id).cloned().collect();
            *list = Arc::new(kept);
        }
    }
}

struct WatchGuard {
    watcher: Weak<Watcher>,
    shared: Weak<Shared>,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared
                .watchers
                .lock()
                .retain(|w| !std::ptr::eq(Arc::as_ptr(w), self.watcher.as_ptr()));
        }
    }
}

/// Publishes on one key; never blocks.
struct IpcPublisher {
    key: String,
    /// Taken when the engine closes, so the node goes even if a publisher outlives it (frames
    /// drawn in its samples keep it until they go).
    port: Mutex<Option<Arc<Port>>>,
    /// Whether frames and messages may be made in samples: cleared for good once a port retired.
    lends: AtomicBool,
    /// Scans that still wake subscribers after they changed ([`Shared::find_wakers`]).
    wake_scans: AtomicUsize,
    /// The id its wake-ups carry, so a woken runtime drains this key's subscription only.
    wake_id: WakeId,
    /// The wake-up events of the runtimes subscribing to this key, by node (set at each scan:
    /// [`Shared::find_wakers`]).
    wake: Mutex<Vec<(UniqueNodeId, Arc<Notifier<Svc>>)>>,
    /// The subscribers seen at the last scan, to notice one replaced by another.
    subscriber_ids: Mutex<Vec<UniqueSubscriberId>>,
    shared: Weak<Shared>,
}

impl IpcPublisher {
    /// Wakes the runtimes that subscribe to this key, and only them, naming the key's wake-up
    /// id.
    fn wake(&self) {
        for (_, notifier) in self.wake.lock().iter() {
            let _ = notifier.notify_with_custom_event_id(self.wake_id.0);
        }
    }

    /// The port to use: the one in `slot`, replaced first if it was retired (see `loan.rs`;
    /// while no new one can be made, values are dropped and the next one tries again); `None`
    /// once the engine closed.
    fn current<'a>(
        &self,
        slot: &'a mut Option<Arc<Port>>,
        shared: &Shared,
    ) -> Option<&'a Arc<Port>> {
        if slot.as_ref()?.is_retired() {
            match shared.port(&self.key) {
                Ok(port) => *slot = Some(Arc::new(port)),
                Err(error) => {
                    tracing::warn!(%error, key = self.key, "ipc publisher not replaced yet; value dropped");
                    return None;
                }
            }
        }
        slot.as_ref()
    }

    /// Writes `parts` one after the other straight into a loaned sample: the only copy.
    fn put_parts(&self, parts: &[&[u8]]) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > shared.max_message {
            let count = OVERSIZE.fetch_add(1, Ordering::Relaxed) + 1;
            if count == 1 || count.is_multiple_of(1000) {
                let error = Error::MessageTooLarge {
                    key: self.key.clone(),
                    size: len,
                    max: shared.max_message,
                };
                tracing::warn!(%error, dropped = count, "value not sent");
            }
            return;
        }
        let mut slot = self.port.lock();
        let Some(port) = self.current(&mut slot, &shared) else {
            return; // the engine closed
        };
        if let [head, tail] = parts {
            if let Some(frame) = port.lent_frame(tail) {
                match port.send_lent(&frame, head, || self.wake()) {
                    Sent::Lent => {
                        IN_PLACE.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Sent::Retired => {
                        self.lends.store(false, Ordering::Relaxed);
                        return;
                    }
                    Sent::Copy => COPIED.fetch_add(1, Ordering::Relaxed),
                };
            }
        }
        match port.spare(len) {
            Ok(mut sample) => {
                let payload = sample.payload_mut();
                let mut at = 0;
                for part in parts {
                    let dest = &mut payload[at..at + part.len()];
                    // SAFETY: `dest` is exactly `part.len()` writable bytes of the loaned sample
                    // (`MaybeUninit<u8>` has u8's layout), and a loaned sample never overlaps
                    // memory the caller can hand us.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            part.as_ptr(),
                            dest.as_mut_ptr().cast::<u8>(),
                            part.len(),
                        );
                    }
                    at += part.len();
                }
                // SAFETY: the loop above wrote all `len` bytes of the payload (the parts' lengths
                // sum to `len`), so every element is initialised.
                let sample = unsafe { sample.assume_init() };
                if let Err(error) = sample.send() {
                    tracing::debug!(?error, key = self.key, "ipc send failed");
                }
            }
            Err(error) => {
                tracing::debug!(?error, key = self.key, "ipc loan failed; value dropped");
                return;
            }
        }
        self.wake();
        port.loan_ahead(len);
    }
}

impl Publisher for IpcPublisher {
    fn put(&self, head: Vec<u8>, tail: Option<SharedBytes>) {
        let tail = tail.as_deref().map_or(&[][..], |tail| tail.as_ref());
        self.put_parts(&[&head, tail]);
    }

    fn lender(self: Arc<Self>, envelope: usize) -> Option<Arc<dyn Lender>> {
        Some(Arc::new(SampleLender {
            publisher: Arc::downgrade(&self),
            envelope,
        }))
    }
}

/// Lends a frame or byte-message output the samples of its publisher, the envelope and the
/// codec's head kept free in front.
struct SampleLender {
    publisher: Weak<IpcPublisher>,
    envelope: usize,
}

impl Lender for SampleLender {
    fn lend(&self, head: usize, len: usize) -> Option<Box<dyn Loan>> {
        let publisher = self.publisher.upgrade()?;
        let shared = publisher.shared.upgrade()?;
        if len < LEND_TAIL_FROM || !publisher.lends.load(Ordering::Relaxed) {
            return None; // a small value is encoded whole: copied all the same
        }
        let head = self.envelope.checked_add(head)?;
        if head.checked_add(len)? > shared.max_message {
            return None; // made in memory of its own, and refused at write as too large
        }
        let mut slot = publisher.port.lock();
        publisher.current(&mut slot, &shared)?.lend(head, len)
    }
}

impl Shared {
    /// A publisher on `key`'s service.
    fn port(&self, key: &str) -> Result<Port> {
        let service = self.data_service(key)?;
        let publisher = service
            .publisher_builder()
            .initial_max_slice_len(4096)
            .allocation_strategy(AllocationStrategy::BestFit)
            .max_loaned_samples(MAX_LOANS)
            .create()
            .map_err(|e| ipc_error(key, e))?;
        Ok(Port::new(publisher, service))
    }

    fn data_service(&self, key: &str) -> Result<DataService> {
        self.node
            .service_builder(&service_name(key)?)
            .publish_subscribe::<[u8]>()
            .history_size(1)
            .subscriber_max_buffer_size(1)
            .subscriber_max_borrowed_samples(MAX_BORROWED)
            .enable_safe_overflow(true)
            .max_subscribers(MAX_SUBSCRIBERS)
            .max_publishers(MAX_PUBLISHERS)
            .max_nodes(MAX_SUBSCRIBERS + MAX_PUBLISHERS)
            .open_or_create()
            .map_err(|e| ipc_error(key, e))
    }
}

impl Transport for Iceoryx {
    fn name(&self) -> &'static str {
        "iceoryx2"
    }

    fn declare_token(&self, key: &str) -> Result<Guard> {
        let chunks: Vec<&str> = split_chunks(key, TOKEN_CHUNK);
        if chunks.len() > AttributeSet::capacity() {
            return Err(ipc_error(
                key,
                format!(
                    "an announcement over ipc holds at most {} bytes",
                    TOKEN_CHUNK * AttributeSet::capacity()
                ),
            ));
        }
        let mut attributes = AttributeSpecifier::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let name =
                AttributeKey::try_from(format!("k{i}").as_str()).map_err(|e| ipc_error(key, e))?;
            let value = (*chunk).try_into().map_err(|e| ipc_error(key, e))?;
            attributes = attributes
                .define(&name, &value)
                .map_err(|e| ipc_error(key, e))?;
        }
        let unique = format!(
            "{TOKEN_SERVICE}{}-{}",
            self.shared.node.id(),
            self.shared.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let service = self
            .shared
            .node
            .service_builder(&service_name(&unique)?)
            .event()
            .create_with_attributes(&attributes)
            .map_err(|e| ipc_error(key, e))?;
        let notifier = service
            .notifier_builder()
            .create()
            .map_err(|e| ipc_error(key, e))?;
        Ok(Box::new(TokenGuard {
            _notifier: notifier,
            _service: service,
        }))
    }

    fn watch_tokens(&self, prefix: &str, changed: TokenChanged) -> Result<Guard> {
        let watcher = Arc::new(Watcher {
            prefix: prefix.to_owned(),
            changed,
            alive: Mutex::new(HashSet::new()),
        });
        self.shared.watchers.lock().push(watcher.clone());
        self.shared.scan(); // those already declared first
        Ok(Box::new(WatchGuard {
            watcher: Arc::downgrade(&watcher),
            shared: Arc::downgrade(&self.shared),
        }))
    }

    fn publisher(&self, key: &str, _cache: bool) -> Result<Arc<dyn Publisher>> {
        let port = self.shared.port(key)?;
        let publisher = Arc::new(IpcPublisher {
            key: key.to_owned(),
            port: Mutex::new(Some(Arc::new(port))),
            lends: AtomicBool::new(true),
            wake_scans: AtomicUsize::new(0),
            wake_id: WakeId::of(key),
            wake: Mutex::new(Vec::new()),
            subscriber_ids: Mutex::new(Vec::new()),
            shared: Arc::downgrade(&self.shared),
        });
        self.shared
            .publishers
            .lock()
            .push(Arc::downgrade(&publisher));
        Ok(publisher)
    }

    fn subscribe(&self, key: &str, deliver: Deliver) -> Result<Guard> {
        let service = self.shared.data_service(key)?;
        let subscriber = service
            .subscriber_builder()
            .buffer_size(1)
            .create()
            .map_err(|e| ipc_error(key, e))?;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let subscription = Arc::new(Subscription {
            id,
            key: key.to_owned(),
            wake_id: WakeId::of(key),
            #[cfg(test)]
            drains: AtomicU64::new(0),
            held: Arc::new(AtomicUsize::new(0)),
            subscriber,
            _service: service,
            deliver,
        });
        {
            let mut list = self.shared.subscriptions.lock();
            let mut grown: Vec<Arc<Subscription>> = list.iter().cloned().collect();
            grown.push(subscription);
            *list = Arc::new(grown);
        }
        // Publishers already there hand over their history at their next scan; wake ourselves
        // so a value already buffered is taken now.
        let _ = self.shared.own_wake.notify();
        Ok(Box::new(SubscriptionGuard {
            id,
            shared: Arc::downgrade(&self.shared),
        }))
    }

    fn serve(&self, _key: &str, _answer: Box<dyn Fn() -> Vec<u8> + Send + Sync>) -> Result<Guard> {
        Ok(Box::new(())) // stats are served over Zenoh only
    }

    fn query(&self, key: &str, _timeout: Duration) -> Result<Vec<u8>> {
        Err(ipc_error(
            key,
            "a remote actor's stats are asked over Zenoh (feature net); ipc does not serve them",
        ))
    }

    fn close(&self) {
        self.shared.stop.store(true, Ordering::Release);
        let threads: Vec<JoinHandle<()>> = self.threads.lock().drain(..).collect();
        // Bounded: the receiving thread sleeps until notified, so it is notified again until it
        // ends (a notification lost, a spurious wake-up just before `stop` was set); a thread
        // still running after `CLOSE_LIMIT` is left to end by itself, with a warning.
        let deadline = Instant::now() + CLOSE_LIMIT;
        for thread in threads {
            if thread.thread().id() == std::thread::current().id() {
                continue; // closed from a callback on the receiving thread: it ends after it
            }
            let mut woken: Option<Instant> = None;
            while !thread.is_finished() && Instant::now() < deadline {
                if woken.is_none_or(|at| at.elapsed() >= Duration::from_millis(50)) {
                    let _ = self.shared.own_wake.notify();
                    thread.thread().unpark();
                    woken = Some(Instant::now());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            if !thread.is_finished() {
                tracing::warn!(thread = ?thread.thread().name(), "an ipc thread did not end within {CLOSE_LIMIT:?}; left to end by itself");
            } else if thread.join().is_err() {
                tracing::warn!("an ipc thread panicked");
            }
        }
        *self.shared.subscriptions.lock() = Arc::new(Vec::new());
        self.shared.watchers.lock().clear();
        let publishers: Vec<Weak<IpcPublisher>> = self.shared.publishers.lock().drain(..).collect();
        for publisher in publishers.iter().filter_map(Weak::upgrade) {
            drop(publisher.port.lock().take());
            // Notifiers keep the node (and this runtime's own wake-up event) alive too.
            publisher.wake.lock().clear();
        }
        self.shared.wakers.lock().clear();
        tracing::debug!("iceoryx2 engine closed");
    }
}

/// The name of the wake-up event of the runtime whose node is `node`.
fn wake_service(node: &UniqueNodeId) -> String {
    format!("{WAKE_SERVICE}/{node}")
}

/// How long a node whose wake-up event could not be opened is not asked again.
const RETRY_WAKER: Duration = Duration::from_secs(2);

/// How long [`Iceoryx::close`] waits for its threads.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

impl Drop for Iceoryx {
    fn drop(&mut self) {
        self.close();
    }
}

/// `text` in pieces of at most `size` bytes, cut at character boundaries.
fn split_chunks(text: &str, size: usize) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(size);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (chunk, tail) = rest.split_at(end);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cut_at_character_boundaries() {
        assert_eq!(split_chunks("abcdef", 4), vec!["abcd", "ef"]);
        assert_eq!(split_chunks("ééé", 3), vec!["é", "é", "é"]);
        assert!(split_chunks("", 4).is_empty());
    }

    /// What a subscription was handed, as bytes.
    fn bytes_of(message: Message<'_>) -> Vec<u8> {
        match message {
            Message::Kept(shared) => shared.as_ref().as_ref().to_vec(),
            Message::Lent(bytes) => bytes.to_vec(),
            Message::Pieces(pieces) => pieces.concat(),
        }
    }

    /// A subscription of `engine` to `key`, and the count of what it was handed.
    fn counting(engine: &Iceoryx, key: &str) -> (Guard, Arc<AtomicUsize>) {
        let count = Arc::new(AtomicUsize::new(0));
        let handed = count.clone();
        let deliver: Deliver = Box::new(move |_| {
            handed.fetch_add(1, Ordering::Relaxed);
        });
        (engine.subscribe(key, deliver).unwrap(), count)
    }

    /// Calls `done` until it returns `true` (a call may also act: write a value), pausing
    /// `pause` between calls; fails naming `what` after 10 s.
    fn within_10s(what: &str, pause: Duration, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(pause);
        }
    }

    /// A config of its own for a unit test (prefix and directory), and what removes its files.
    fn own_config(name: &str) -> (IpcConfig, impl Fn()) {
        let prefix = format!("sl{name}{}_", std::process::id());
        let directory = std::env::temp_dir().join(format!("streamlib-{name}-{prefix}"));
        let config = IpcConfig::new()
            .prefix(&prefix)
            .directory(&directory.to_string_lossy());
        let clean = move || {
            let _ = std::fs::remove_dir_all(&directory);
            for entry in std::fs::read_dir("/dev/shm")
                .into_iter()
                .flatten()
                .flatten()
            {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        };
        (config, clean)
    }

    /// An idle engine's receiving thread sleeps until a value is published (it woke 20 times a
    /// second), wakes for each one, and ends at close although nothing else wakes it.
    #[test]
    fn the_receiving_thread_sleeps_until_something_is_published() {
        let (config, clean) = own_config("wake");
        let engine = Iceoryx::open(&config, "wake-host").unwrap();
        let shared = engine.shared.clone();
        let (guard, deliveries) = counting(&engine, "streamlib/v1/data/wake-host/A/a/out");
        std::thread::sleep(Duration::from_millis(300));
        let idle = shared.wakeups.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            shared.wakeups.load(Ordering::Relaxed),
            idle,
            "no wake-up while nothing is published"
        );
        let publisher = engine
            .publisher("streamlib/v1/data/wake-host/A/a/out", false)
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut sent = 0;
        while deliveries.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
            publisher.put(vec![1, 2, 3], None);
            sent += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            deliveries.load(Ordering::Relaxed) > 0,
            "a value came through ({sent} sent)"
        );
        assert!(shared.wakeups.load(Ordering::Relaxed) > idle);
        drop((guard, publisher));
        engine.close();
        assert!(
            engine.threads.lock().is_empty(),
            "both threads were joined or left"
        );
        assert_eq!(
            Arc::strong_count(&shared),
            2,
            "the threads ended and let go of the engine's state (held here and by the engine)"
        );
        drop(engine);
        clean();
    }

    /// A value wakes the runtimes that subscribe to it, not the writer's own (whose reader of
    /// lent frames is a subscriber too) nor one that reads nothing of it.
    #[test]
    fn a_value_wakes_only_the_runtimes_that_subscribe_to_it() {
        let (config, clean) = own_config("target");
        let writer = Iceoryx::open(&config, "target-writer").unwrap();
        let reader = Iceoryx::open(&config, "target-reader").unwrap();
        let bystander = Iceoryx::open(&config, "target-bystander").unwrap();
        let key = "streamlib/v1/data/target-writer/A/a/out";
        // The first byte of the newest value the reader took (latest-value QoS: it may skip).
        let newest = Arc::new(AtomicUsize::new(usize::MAX));
        let guard = {
            let newest = newest.clone();
            reader
                .subscribe(
                    key,
                    Box::new(move |message| {
                        newest.store(usize::from(bytes_of(message)[0]), Ordering::Relaxed);
                    }),
                )
                .unwrap()
        };
        let publisher = writer.publisher(key, false).unwrap();
        // Writes `value` until the reader took it (bounded): the writer's scan first has to find
        // the reader's runtime among its subscribers.
        let until_read = |value: u8| {
            let what = format!("value {value} did not reach the reader");
            within_10s(&what, Duration::from_millis(20), || {
                newest.load(Ordering::Relaxed) == usize::from(value) || {
                    publisher.put(vec![value; 8], None);
                    false
                }
            });
        };
        until_read(0);
        std::thread::sleep(Duration::from_millis(100)); // the wake-ups of those writes are over
        let wakeups = |engine: &Iceoryx| engine.shared.wakeups.load(Ordering::Relaxed);
        let before = [wakeups(&writer), wakeups(&reader), wakeups(&bystander)];
        for value in 1..=20 {
            publisher.put(vec![value; 8], None);
            std::thread::sleep(Duration::from_millis(10));
        }
        until_read(20);
        let after = [wakeups(&writer), wakeups(&reader), wakeups(&bystander)];
        assert!(
            after[1] > before[1],
            "the reader woke: {before:?} → {after:?}"
        );
        assert_eq!(after[0], before[0], "the writer's own thread slept");
        assert_eq!(after[2], before[2], "the bystander slept");
        drop((guard, publisher));
        for engine in [writer, reader, bystander] {
            engine.close();
        }
        clean();
    }

    /// A reader that unsubscribes and subscribes again between two of the writer's scans (the
    /// count of subscribers the same) still gets the newest value, with nothing written after:
    /// the writer notices the new subscriber, and the reader's own scan wakes it for a value
    /// waiting in its buffer.
    #[test]
    fn a_reader_that_subscribes_again_gets_the_newest_value_without_another_write() {
        let (config, clean) = own_config("again");
        let writer = Iceoryx::open(&config, "again-writer").unwrap();
        let reader = Iceoryx::open(&config, "again-reader").unwrap();
        let key = "streamlib/v1/data/again-writer/A/a/out";
        let (guard, first) = counting(&reader, key);
        let publisher = writer.publisher(key, false).unwrap();
        within_10s("no first value", Duration::from_millis(20), || {
            first.load(Ordering::Relaxed) > 0 || {
                publisher.put(vec![1; 8], None);
                false
            }
        });
        // Past the scans that wake subscribers after they changed.
        std::thread::sleep(SCAN_PERIOD * 5);
        drop(guard);
        let (_again, second) = counting(&reader, key);
        within_10s(
            "the newest value never reached the new subscription",
            Duration::from_millis(10),
            || second.load(Ordering::Relaxed) > 0,
        );
        drop((_again, publisher));
        writer.close();
        reader.close();
        clean();
    }

    /// A value is copied into a sample loaned ahead after the send before it once two values in
    /// a row had its length; a value of another length gets a new loan. Each arrives intact.
    #[test]
    fn values_are_copied_into_a_sample_loaned_ahead_of_the_same_length() {
        let (config, clean) = own_config("spare");
        let engine = Iceoryx::open(&config, "spare-host").unwrap();
        let key = "streamlib/v1/data/spare-host/A/a/out";
        let received = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
        let guard = {
            let received = received.clone();
            engine
                .subscribe(
                    key,
                    Box::new(move |message| received.lock().push(bytes_of(message))),
                )
                .unwrap()
        };
        let publisher = engine.publisher(key, false).unwrap();
        let spare_len = || {
            let publishers = engine.shared.publishers.lock();
            let ours = publishers[0].upgrade().expect("the publisher lives");
            let port = ours.port.lock();
            let ahead = port.as_ref().expect("a port").loaned_ahead.lock();
            ahead.as_ref().map(|sample| sample.payload().len())
        };
        assert_eq!(spare_len(), None, "nothing loaned before a first send");
        // The subscription connects at the writer's next scan: until a first value arrived,
        // writes may go to nobody (the spare's bookkeeping is the same).
        within_10s("no value arrived", Duration::from_millis(5), || {
            !received.lock().is_empty() || {
                publisher.put(vec![0xee; 8], None);
                false
            }
        });
        let mut sent = vec![vec![0xee; 8]];
        let steps = [
            (8usize, Some(8)),
            (100, None),
            (100, Some(100)),
            (8, None),
            (8, Some(8)),
        ];
        for (i, (len, spare)) in steps.into_iter().enumerate() {
            let value: Vec<u8> = (0..len).map(|b| (b + i) as u8).collect();
            publisher.put(value.clone(), None);
            sent.push(value);
            assert_eq!(spare_len(), spare, "after {len} bytes (step {i})");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The last one arrives (bounded); every value that arrived is one that was written, whole.
        let last = sent.last().unwrap().clone();
        within_10s(
            "the last value did not arrive",
            Duration::from_millis(5),
            || received.lock().last() == Some(&last),
        );
        for value in received.lock().iter() {
            assert!(
                sent.contains(value),
                "{} bytes arrived that were not written as such",
                value.len()
            );
        }
        drop((guard, publisher));
        engine.close();
        clean();
    }

    /// A scan lists the announcements again only after service (or node) files changed (or
    /// every `FULL_SCAN_EVERY` scans); what it reports follows every change.
    #[test]
    fn a_scan_lists_again_only_when_services_came_or_went() {
        let (config, clean) = own_config("scan");
        let engine = Iceoryx::open(&config, "scan-host").unwrap();
        let shared = &engine.shared;
        let fingerprint = || Fingerprint::now(shared.node.config()).expect("readable directories");
        // Marks the last list's answer: it comes back only while no list is made.
        let mark = || {
            let mut last = shared.last_scan.lock();
            last.as_mut()
                .expect("a complete list was kept")
                .alive
                .insert("marked".into());
        };
        let before = fingerprint();
        assert!(before == fingerprint(), "nothing changed, nothing to list");
        assert!(shared.alive_tokens().is_empty());

        let key = "streamlib/v1/live/scan-host/A/a";
        let token = engine.declare_token(key).unwrap();
        assert!(
            before.services != fingerprint().services,
            "a new announcement's service file is seen"
        );
        mark();
        let alive = shared.alive_tokens();
        assert!(
            alive.contains(key) && !alive.contains("marked"),
            "listed: {alive:?}"
        );
        let after = fingerprint();
        assert!(after == fingerprint());
        mark();
        for _ in 1..FULL_SCAN_EVERY {
            assert!(
                shared.alive_tokens().contains("marked"),
                "unchanged: not listed"
            );
        }
        assert_eq!(shared.alive_tokens(), alive, "the backstop lists again");

        mark();
        drop(token);
        assert!(
            after.services != fingerprint().services,
            "a withdrawn announcement's file is gone"
        );
        assert!(shared.alive_tokens().is_empty(), "listed again, without it");
        engine.close();
        clean();
    }

    /// Which nodes are alive is asked of iceoryx2 (which parses every node's details) only
    /// every `CHECK_NODES_EVERY` scans while no node file changes, and at once when a node
    /// comes. (That a killed process is seen dead in time: `tests/ipc.rs`.)
    #[test]
    fn nodes_are_checked_every_few_scans_and_when_a_node_comes() {
        let (config, clean) = own_config("nodes");
        let engine = Iceoryx::open(&config, "nodes-host").unwrap();
        let shared = &engine.shared;
        let checks = || shared.node_checks.load(Ordering::Relaxed);
        // Up to the scan right after a check (wherever `open`'s own scans left the count).
        let before = checks();
        for _ in 0..CHECK_NODES_EVERY {
            shared.alive_tokens();
            if checks() > before {
                break;
            }
        }
        let start = checks();
        assert_eq!(
            start,
            before + 1,
            "a check within {CHECK_NODES_EVERY} scans"
        );
        for _ in 0..3 * CHECK_NODES_EVERY {
            shared.alive_tokens();
        }
        assert_eq!(
            checks() - start,
            3,
            "one check every {CHECK_NODES_EVERY} scans"
        );

        // The last call checked: the next one is not due, unless a node came.
        let other = Iceoryx::open(&config, "other-host").unwrap();
        let before = checks();
        shared.alive_tokens();
        assert_eq!(
            checks(),
            before + 1,
            "a new node's files are seen at the next scan"
        );
        other.close();
        engine.close();
        clean();
    }

    /// A value's wake-up drains the subscription of its key, not the runtime's others (each
    /// asked costs about 170 ns, and a runtime may read hundreds of keys).
    #[test]
    fn a_wake_up_drains_only_the_subscription_of_the_key_written() {
        let (config, clean) = own_config("drain");
        let reader = Iceoryx::open(&config, "drain-reader").unwrap();
        let writer = Iceoryx::open(&config, "drain-writer").unwrap();
        let (written, other) = ("streamlib/v1/data/w/A/a.out", "streamlib/v1/data/w/A/b.out");
        assert_ne!(
            WakeId::of(written),
            WakeId::of(other),
            "keys of different ids"
        );
        let publisher = writer.publisher(written, true).unwrap();
        let _quiet = writer.publisher(other, true).unwrap();
        let (_a, arrived) = counting(&reader, written);
        let (_b, _) = counting(&reader, other);
        let subscription = |key: &str| {
            let list = reader.shared.subscriptions.lock().clone();
            list.iter().find(|s| s.key == key).unwrap().clone()
        };
        let (a, b) = (subscription(written), subscription(other));
        // The writer's scans point its wake-ups at the reader's runtime.
        let mut sent = 0u64;
        within_10s("values arrive", Duration::from_millis(20), || {
            sent += 1;
            publisher.put(sent.to_le_bytes().to_vec(), None);
            arrived.load(Ordering::Relaxed) > 2
        });
        let all = || reader.shared.drained_all.load(Ordering::Relaxed);
        let (a_before, b_before, all_before) = (
            a.drains.load(Ordering::Relaxed),
            b.drains.load(Ordering::Relaxed),
            all(),
        );
        let started = Instant::now();
        for n in 0..50u64 {
            publisher.put(n.to_le_bytes().to_vec(), None);
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(20)); // the last value's wake-up
        let a_drains = a.drains.load(Ordering::Relaxed) - a_before;
        let b_drains = b.drains.load(Ordering::Relaxed) - b_before;
        // The other key's subscription is drained by wake-ups that drain everything (the
        // scans' backstop, a burst that may have lost a notification) and by its own key's
        // wake-ups: its publisher's, at the writer's scans after its subscribers changed.
        let drained_all = all() - all_before;
        let own_key =
            3 * (1 + started.elapsed().as_millis() as u64 / SCAN_PERIOD.as_millis() as u64);
        assert!(
            a_drains >= 10,
            "the written key's subscription drained {a_drains} times"
        );
        assert!(
            b_drains <= drained_all + own_key,
            "the other subscription drained {b_drains} times ({drained_all} wake-ups drained all)"
        );
        assert!(
            drained_all < a_drains,
            "values wake the key's subscription, not all"
        );
        drop((publisher, _quiet));
        reader.close();
        writer.close();
        clean();
    }

    #[test]
    fn wake_ids_are_stable_in_range_and_all_drains_every_subscription() {
        // FNV-1a: fixed values, the same in every process and build.
        assert_eq!(WakeId::of("").0.as_value(), 1 + 0xcbf2_9ce4_8422_2325 % 255);
        let id = WakeId::of("streamlib/v1/data/cam/Camera/cam0.video");
        assert_eq!(id, WakeId::of("streamlib/v1/data/cam/Camera/cam0.video"));
        assert!((1..=WakeId::MAX).contains(&id.0.as_value()));
        let other = WakeId::of("streamlib/v1/data/cam/Camera/cam0.audio");
        let mut named = WakeIds::default();
        assert!(
            named.names(id),
            "a wake-up naming nothing drains everything"
        );
        named.insert(id.0);
        assert!(named.names(id) && (other == id || !named.names(other)));
        named.insert(WakeId::ALL.0);
        assert!(named.names(other), "ALL drains everything");
        let mut beyond = WakeIds::default();
        beyond.insert(EventId::new(WakeId::MAX + 1));
        assert!(
            beyond.names(other),
            "an id beyond the range drains everything"
        );
    }

    /// When more keys' values come at once than the kernel queues notifications for (iceoryx2's
    /// events are unix datagrams, `net.unix.max_dgram_qlen`, 10 by default), the dropped ones'
    /// keys are drained all the same, not left for the next scan's backstop.
    #[test]
    fn a_burst_beyond_the_notification_queue_loses_no_wake_up() {
        const KEYS: usize = 21;
        let (config, clean) = own_config("burst");
        let reader = Iceoryx::open(&config, "burst-reader").unwrap();
        let writer = Iceoryx::open(&config, "burst-writer").unwrap();
        let key = |i: usize| format!("streamlib/v1/data/w/A/a.out{i}");
        // Key 0's delivery can be held, which holds the receiving thread.
        let gate = Arc::new((Mutex::new((false, false)), parking_lot::Condvar::new())); // (armed, held)
        let arrived: Arc<Vec<AtomicUsize>> =
            Arc::new((0..KEYS).map(|_| AtomicUsize::new(0)).collect());
        let mut guards = Vec::new();
        for i in 0..KEYS {
            let (gate, arrived) = (gate.clone(), arrived.clone());
            let deliver: Deliver = Box::new(move |_| {
                arrived[i].fetch_add(1, Ordering::Relaxed);
                let (state, changed) = &*gate;
                let mut state = state.lock();
                if i == 0 && state.0 {
                    state.1 = true;
                    changed.notify_all();
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while state.0 && !changed.wait_until(&mut state, deadline).timed_out() {}
                    state.1 = false;
                }
            });
            guards.push(reader.subscribe(&key(i), deliver).unwrap());
        }
        let publishers: Vec<_> = (0..KEYS)
            .map(|i| writer.publisher(&key(i), true).unwrap())
            .collect();
        // Until every key's value arrives (the writer's scans point its wake-ups at the reader).
        within_10s(
            "every key's values arrive",
            Duration::from_millis(50),
            || {
                arrived.iter().all(|a| a.load(Ordering::Relaxed) > 0) || {
                    for publisher in &publishers {
                        publisher.put(vec![1], None);
                    }
                    false
                }
            },
        );
        std::thread::sleep(Duration::from_millis(300)); // the writer's wake-ups of new subscribers end
        let counts: Vec<usize> = arrived.iter().map(|a| a.load(Ordering::Relaxed)).collect();

        // Hold the receiving thread in key 0's delivery, then write every other key once.
        gate.0.lock().0 = true;
        publishers[0].put(vec![2], None);
        {
            let (state, changed) = &*gate;
            let mut state = state.lock();
            let deadline = Instant::now() + Duration::from_secs(10);
            while !state.1 && !changed.wait_until(&mut state, deadline).timed_out() {}
            assert!(state.1, "the receiving thread is held");
        }
        for publisher in &publishers[1..] {
            publisher.put(vec![3], None);
        }
        // Let it go right after a scan: the next is a scan period away.
        let scans = || reader.shared.scans.load(Ordering::Relaxed);
        let seen = scans();
        within_10s("the scans go on", Duration::from_millis(1), || {
            scans() != seen
        });
        let released_after = scans();
        {
            let (state, changed) = &*gate;
            state.lock().0 = false;
            changed.notify_all();
        }
        within_10s(
            "every key's new value arrives",
            Duration::from_millis(1),
            || (1..KEYS).all(|i| arrived[i].load(Ordering::Relaxed) > counts[i]),
        );
        assert_eq!(
            scans(),
            released_after,
            "every key's value arrived before the next scan"
        );
        drop((guards, publishers));
        reader.close();
        writer.close();
        clean();
    }
}
