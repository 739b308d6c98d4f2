//! Ports: how actors exchange values.
//!
//! An actor owns [`Output<T>`] fields it writes to and [`Input<T>`] fields it reads from. Each
//! output owns a [`RingBuffer`]; an input holds a replaceable pointer to its upstream output's
//! buffer (none while unconnected), so wiring a running actor is one pointer swap and the hot path
//! takes no lock. Reads are **latest-value**: an input sees the newest value written, never a
//! queue; writers never wait.
//!
//! [`InputRef<T>`] and [`OutputRef<T>`] are the handle-side views of the same ports, kept in
//! [`ActorHandle`](crate::ActorHandle)`.inputs` / `.outputs` and handed out by the registry; they
//! stay valid after the actor moved to its worker thread and are what [`connect`](crate::connect)
//! takes.
//!
//! ```
//! use streamlib::{connect, Input, Output};
//!
//! let out = Output::<i64>::new();
//! let mut inp = Input::<i64>::new();
//! assert!(inp.read_latest().is_none());
//! let connection = connect(&out.to_ref(), &inp.to_ref())?;
//! out.write(7);
//! assert_eq!(*inp.read_latest().unwrap(), 7);
//! assert_eq!(*inp.read_new().unwrap(), 7);
//! assert!(inp.read_new().is_none(), "7 was already returned");
//! assert_eq!(*inp.read_latest().unwrap(), 7, "read_latest does not consume");
//! connection.disconnect()?;
//! assert!(!inp.is_connected());
//! # Ok::<(), streamlib::Error>(())
//! ```

use std::any::type_name;
use std::cell::RefCell;
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use crate::ring::RingBuffer;
use crate::stats::add;
pub use crate::stats::PortStats;
use crate::uri::{ActorUri, PortAddress};
use crate::wire::Stamp;

mod loan;
mod queue;
mod set;

pub use loan::{FrameBuffer, MessageBuffer};
pub(crate) use loan::{Lender, Loan};
pub use queue::MAX_QUEUE;
use queue::{check_capacity, ValueQueue};
pub use set::{Inputs, InputsRef};

/// Which way a port carries values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The actor reads from it.
    Input,
    /// The actor writes to it.
    Output,
}

impl Direction {
    /// `"input"` or `"output"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }
}

/// Identity of a spawned actor, unique in the process; increasing in spawn order (which orders
/// the schedule where connections do not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorKey(pub(crate) u64);

impl ActorKey {
    /// The next key.
    pub(crate) fn next() -> ActorKey {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ActorKey(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Hooks a runtime gives the ports of its actors, so that wiring reaches the scheduler.
///
/// Defined here, implemented by the runtime: ports sit below the runtime in the layering.
pub(crate) trait Graph: Send + Sync {
    /// Connection `id`, `from → to`, was made; `detach` undoes it (the runtime calls it when one
    /// of the two actors stops). The schedule must be rebuilt. `Err(key)`: actor `key` is not
    /// running (stopped, or stopping), and the connection must be undone.
    fn connected(
        &self,
        id: u64,
        from: ActorKey,
        to: ActorKey,
        detach: Detach,
    ) -> Result<(), ActorKey>;
    /// Connection `id` was removed.
    fn disconnected(&self, id: u64);
}

/// Undoes one connection; returns whether it was still in place.
pub(crate) type Detach = Arc<dyn Fn() -> bool + Send + Sync>;

/// Called with each value written to an output while installed (a queued input, what publishes
/// a local output to other processes, a recorder); see [`OutputShared::add_tap`]. It takes the
/// value's `Arc` by value: the last tap of a write gets the writer's own, the others a clone, so
/// a tap that keeps the value (a queue) costs no reference count of its own.
pub(crate) type Tap<T> = Arc<dyn Fn(Arc<T>) + Send + Sync>;

/// Hands `value` to every tap of `taps`: a clone to each but the last, the value itself to it.
fn call_taps<T>(taps: &[(u64, Tap<T>)], value: Arc<T>) {
    if let Some(((_, last), others)) = taps.split_last() {
        for (_, tap) in others {
            tap(value.clone());
        }
        last(value);
    }
}

/// What an output fed from another process tells its readers; implemented by `remote`, which
/// sits above ports.
pub(crate) trait Origin: Send + Sync {
    /// Whether the writer cannot be reached now (its last value stays readable).
    fn is_stale(&self) -> bool;
    /// An input was connected: start receiving if not yet.
    fn reader_attached(&self);
    /// Messages dropped because their bytes did not decode.
    fn bad_values(&self) -> u64;
    /// The tick stamp of the value with sequence number `seq` of this output, if still known.
    fn stamp(&self, seq: u64) -> Option<Stamp>;
    /// The remote output's actor URI and port name.
    fn address(&self) -> PortAddress;
}

/// An input standing for an input of another process: connecting an output to it publishes that
/// output's values there. Implemented by `remote`.
pub(crate) trait Target<T>: Send + Sync {
    /// Connection `connection` now feeds this input from `output`.
    fn attached(&self, connection: u64, output: &OutputRef<T>);
    /// Connection `connection` was removed.
    fn detached(&self, connection: u64);
    /// The remote input's actor URI and port name.
    fn address(&self) -> PortAddress;
}

/// Which actor a port belongs to, set when the actor is spawned.
#[derive(Clone)]
pub(crate) struct Binding {
    pub(crate) actor: ActorKey,
    pub(crate) uri: ActorUri,
    pub(crate) port: &'static str,
    pub(crate) graph: Weak<dyn Graph>,
}

/// The address of a port bound to a local actor.
fn bound_address(binding: &OnceLock<Binding>) -> Option<PortAddress> {
    binding
        .get()
        .map(|b| PortAddress::new(b.uri.clone(), b.port))
}

/// `actor://host/Class/id.port`, or `<unbound output>` / `<unbound input>`.
fn describe(address: Option<PortAddress>, direction: Direction) -> String {
    match address {
        Some(address) => address.to_string(),
        None => format!("<unbound {}>", direction.as_str()),
    }
}

// ---------------------------------------------------------------------------------------------
// What a tick prefetches of a port

/// Where the lines a port's read or write touches lie, taken once at spawn so that a tick can
/// ask the processor for them a few actors ahead: with thousands of actors none is in the cache.
#[derive(Clone, Copy)]
pub(crate) struct PortLines {
    /// Lines every access reads first (0: none): an output's ring header, taps' flag and read
    /// marks (its readers', which run right after it in a chain), an input's connection version
    /// and read counter.
    pub(crate) first: [usize; 3],
    /// For an output: the output (an `OutputShared<T>`) and `next_claim_line::<T>`.
    claim: Option<(NonNull<()>, NextClaim)>,
}

/// `next_claim_line::<T>`, with the output's type erased.
type NextClaim = unsafe fn(NonNull<()>) -> usize;

// SAFETY: the pointer is only read through `next_claim`, which loads the ring's atomic `latest`
// and works out an address in its slot array: no value of `T` and nothing unsynchronised is
// touched, so any thread may do it while the output lives.
unsafe impl Send for PortLines {}
// SAFETY: as above.
unsafe impl Sync for PortLines {}

impl PortLines {
    /// For an output, where the slot its next write claims lies (read from the ring's
    /// `latest`, so best asked once its header arrived).
    ///
    /// # Safety
    /// The port must be alive: its actor's registry entry, which holds it, must be.
    pub(crate) unsafe fn next_claim(&self) -> Option<usize> {
        let (shared, next) = self.claim?;
        // SAFETY: `shared` is the address of the `OutputShared<T>` these lines were taken from,
        // alive by the caller's contract, and `next` is `next_claim_line::<T>`.
        Some(unsafe { next(shared) })
    }
}

// ---------------------------------------------------------------------------------------------
// Outputs

/// [`RingBuffer::next_claim_line`] of the `OutputShared<T>` at `shared`.
///
/// # Safety
/// `shared` is the address of a live `OutputShared<T>`.
unsafe fn next_claim_line<T>(shared: NonNull<()>) -> usize {
    // SAFETY: by the caller's contract.
    unsafe { shared.cast::<OutputShared<T>>().as_ref() }
        .ring
        .next_claim_line()
}

/// Shared state of one output port: its ring buffer and counters.
pub(crate) struct OutputShared<T> {
    pub(crate) ring: RingBuffer<T>,
    pub(crate) binding: OnceLock<Binding>,
    /// What inputs have read, for "overwritten before any read", and how many inputs are
    /// connected; written by readers and by wiring only, so a write touches nothing but its
    /// ring buffer.
    reads: CachePadded<ReadMarks>,
    /// Set for an output that stands for another process's output.
    pub(crate) origin: Option<Arc<dyn Origin>>,
    taps: Taps<T>,
    /// Memory an engine lends for new values ([`Output::new_frame`],
    /// [`Output::new_message`]), with its id: set while the output is published over `ipc`.
    lender: Mutex<Option<(u64, Arc<dyn Lender>)>>,
}

/// The taps of one output; `active` keeps the write path to one relaxed load while there are
/// none.
struct Taps<T> {
    active: AtomicBool,
    /// The current list, replaced whole, under `change`, when a tap comes or goes. Its
    /// sequence number counts the changes, so an [`Output`] keeps its own copy of the list and
    /// re-reads it only when that number moved.
    list: RingBuffer<Vec<(u64, Tap<T>)>>,
    change: Mutex<()>,
}

/// Which values of one output some input has read, for [`PortStats::overwritten_unread`].
///
/// Several inputs read one output concurrently, and an input can be descheduled between taking
/// a value from the ring buffer and marking it here, while another input reads and marks a
/// newer one. Keeping only the newest sequence number read would then lose the older mark and
/// count that value as overwritten unread although it was read. So marks are kept per
/// sequence number in a small table: value `seq` marks `recent[seq % RECENT_MARKS]`, which
/// holds the newest sequence number marked among those falling on it, and a mark counts a
/// value the first time its sequence number gets there.
///
/// Exact unless one input is delayed between its take and its mark for `RECENT_MARKS` or more
/// further writes, one of which lands on the same entry and is read meanwhile: then its value
/// may still be counted as overwritten (a late mark never counts twice). The table fits in the
/// cache line(s) `CachePadded` gives the struct anyway, and a read that is not the first of its
/// value touches only one entry.
///
/// The sole connected input (the common case) marks with plain stores: no other input writes
/// the table then, and the two read-modify-writes of the shared path were a third of the cost of
/// reading a new value. While a second input connects, the first may still take the plain path
/// for a read or two (its count of readers is read without synchronising); a mark that races
/// then can be lost or counted twice, so `overwritten_unread` can be off by about one around a
/// connection. Marks never affect which values are delivered.
///
/// `repr(C)`, the counts first: a read touches them and one entry, and the first cache line
/// (the one a tick asks for ahead, see [`PortLines`]) holds them with six of the eight entries.
#[derive(Default)]
#[repr(C)]
struct ReadMarks {
    /// Inputs currently connected.
    readers: AtomicUsize,
    /// Distinct values read by at least one input.
    values: AtomicU64,
    /// Per entry, the newest sequence number read among those `≡ entry (mod RECENT_MARKS)`.
    recent: [AtomicU64; RECENT_MARKS],
}

/// Entries of [`ReadMarks::recent`].
const RECENT_MARKS: usize = 8;

impl ReadMarks {
    fn entry(&self, seq: u64) -> &AtomicU64 {
        &self.recent[(seq % RECENT_MARKS as u64) as usize]
    }

    /// An input read value `seq`: count it if no input had.
    fn mark(&self, seq: u64) {
        let entry = self.entry(seq);
        if entry.load(Ordering::Relaxed) >= seq {
            return;
        }
        if self.readers.load(Ordering::Relaxed) == 1 {
            // The sole reader: nobody else writes these words (see the type's docs).
            entry.store(seq, Ordering::Relaxed);
            add(&self.values, 1);
        } else if entry.fetch_max(seq, Ordering::Relaxed) < seq {
            self.values.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether some input read value `seq` (or, once newer ones fall on its entry, may have).
    fn was_read(&self, seq: u64) -> bool {
        self.entry(seq).load(Ordering::Relaxed) >= seq
    }
}

impl<T> OutputShared<T> {
    /// What a tick prefetches of this output (see [`PortLines`]).
    pub(crate) fn lines(&self) -> PortLines {
        PortLines {
            first: [
                self.ring.header_line(),
                &self.taps.active as *const AtomicBool as usize,
                &*self.reads as *const ReadMarks as usize,
            ],
            claim: Some((NonNull::from(self).cast(), next_claim_line::<T>)),
        }
    }

    pub(crate) fn new(ring: RingBuffer<T>, origin: Option<Arc<dyn Origin>>) -> Self {
        OutputShared {
            ring,
            binding: OnceLock::new(),
            reads: CachePadded::new(ReadMarks::default()),
            origin,
            taps: Taps {
                active: AtomicBool::new(false),
                list: RingBuffer::default(),
                change: Mutex::new(()),
            },
            lender: Mutex::new(None),
        }
    }

    /// The actor and port this output is: a local actor's, or a remote one's it stands for.
    pub(crate) fn address(&self) -> Option<PortAddress> {
        match &self.origin {
            Some(origin) if self.binding.get().is_none() => Some(origin.address()),
            _ => bound_address(&self.binding),
        }
    }

    pub(crate) fn describe(&self) -> String {
        describe(self.address(), Direction::Output)
    }

    /// A connected input reads it, or a tap (a link to another process, a recorder) takes
    /// its values.
    fn is_connected(&self) -> bool {
        self.reads.readers.load(Ordering::Relaxed) > 0 || self.taps.active.load(Ordering::Relaxed)
    }

    /// Publishes `value` to the ring buffer, then to every tap (queued inputs among them).
    pub(crate) fn write_arc(&self, value: Arc<T>) {
        if !self.taps.active.load(Ordering::Relaxed) {
            return self.ring.write_arc(value);
        }
        self.ring.write_arc(value.clone());
        if let Some(taps) = self.taps.list.read_latest() {
            call_taps(&taps, value);
        }
    }

    /// Lends memory for new values from `lender` (one at a time: a later one replaces it).
    pub(crate) fn set_lender(&self, id: u64, lender: Arc<dyn Lender>) {
        *self.lender.lock() = Some((id, lender));
    }

    /// Stops lending from the lender set with `id`, if it is still the one.
    pub(crate) fn remove_lender(&self, id: u64) {
        let mut lender = self.lender.lock();
        if lender.as_ref().is_some_and(|(set, _)| *set == id) {
            *lender = None;
        }
    }

    /// `len` bytes lent by the lender after `head` bytes kept free for the value's encoded
    /// head, if a lender is set and has them.
    pub(crate) fn lend(&self, head: usize, len: usize) -> Option<Box<dyn Loan>> {
        let lender = self.lender.lock().as_ref().map(|(_, l)| l.clone())?;
        lender.lend(head, len)
    }

    /// Installs `tap` under `id` (a connection id, or any id unique to this output).
    pub(crate) fn add_tap(&self, id: u64, tap: Tap<T>) {
        self.edit_taps(|list| list.push((id, tap)));
    }

    /// Removes the tap installed under `id`.
    pub(crate) fn remove_tap(&self, id: u64) {
        self.edit_taps(|list| list.retain(|(tap, _)| *tap != id));
    }

    /// Replaces the tap list by a copy changed by `edit` (one change at a time), and tells the
    /// writer: `active` for its one-load fast path, the list's new sequence number for its copy.
    fn edit_taps(&self, edit: impl FnOnce(&mut Vec<(u64, Tap<T>)>)) {
        let _change = self.taps.change.lock();
        let mut list = self
            .taps
            .list
            .read_latest()
            .map_or_else(Vec::new, |current| current.to_vec());
        edit(&mut list);
        self.taps.active.store(!list.is_empty(), Ordering::Relaxed);
        self.taps.list.write(list);
    }

    /// As [`write_arc`](Self::write_arc), for the output's one writer, which keeps its own copy
    /// of the tap list in `cache` (`(sequence number, list)`): while no tap comes or goes, a
    /// write reads the list's sequence number instead of the list; and the ring buffer takes the write on its
    /// one-writer path.
    ///
    /// # Safety
    ///
    /// No other write to this output's ring buffer runs at the same time: the caller is the
    /// [`Output`] (not `Sync`), and nothing else writes a ring buffer that an `Output` owns
    /// (`OutputShared::write_arc` serves only outputs that stand for another process's, which
    /// no `Output` owns).
    unsafe fn write_arc_cached(&self, value: Arc<T>, cache: &RefCell<TapCache<T>>) {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            // A tap that writes to its own output again, on this same thread (a `RefCell` is
            // borrowed by this thread only): the outer write has published already, so this
            // is still one writer at a time. Take the shared path for the tap list.
            return self.write_arc(value);
        };
        if !self.taps.active.load(Ordering::Relaxed) {
            if cache.1.is_some() {
                *cache = (0, None); // let go of taps that were removed
            }
            // SAFETY: the caller is the output's one writer (see `write_arc_cached`).
            drop(unsafe { self.ring.write_arc_single_writer(value) });
            return;
        }
        if cache.0 != self.taps.list.seq() {
            // The number and the list read together, so a change meanwhile is not missed.
            *cache = match self.taps.list.read_latest_with_seq() {
                Some((seq, list)) => (seq, Some(list)),
                None => (0, None),
            };
        }
        // SAFETY: as above.
        let displaced = unsafe { self.ring.write_arc_single_writer(value.clone()) };
        if let Some(taps) = &cache.1 {
            call_taps(taps, value);
        }
        // After the taps: its destructor (a frame giving back a shared-memory sample) does not
        // delay the new value on its way to other processes.
        drop(displaced);
    }
}

/// An output port: the actor writes values here; every connected input sees the newest.
///
/// `write` never blocks and never queues: a value not yet read when the next one is written is
/// overwritten (and counted in [`PortStats::overwritten_unread`]). Fan-out shares one `Arc` among
/// all readers; nothing is copied.
///
/// An output has one writer: it is `Send` (it moves with its actor) but not `Sync`, so no two
/// threads write through one `Output` at once. That lets a write keep its own copy of the
/// output's tap list (queued inputs, taps of inspection and of the network) and touch the
/// shared one only after a tap came or went.
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>() {}
/// shared_between_threads::<streamlib::Output<u8>>(); // one writer: not `Sync`
/// ```
pub struct Output<T> {
    shared: Arc<OutputShared<T>>,
    taps: RefCell<TapCache<T>>,
}

/// An output's copy of its tap list: the list's sequence number when read, and the list.
type TapCache<T> = (u64, Option<Arc<Vec<(u64, Tap<T>)>>>);

impl<T: Send + Sync + 'static> Output<T> {
    /// An output with the default 3-slot ring buffer.
    pub fn new() -> Output<T> {
        Output::with_ring(RingBuffer::default())
    }

    /// An output over a ring buffer of your choosing (e.g. more slots for many slow readers).
    pub fn with_ring(ring: RingBuffer<T>) -> Output<T> {
        Output {
            shared: Arc::new(OutputShared::new(ring, None)),
            taps: RefCell::new((0, None)),
        }
    }

    /// Publishes `value` as the newest; never blocks.
    pub fn write(&self, value: T) {
        self.write_arc(Arc::new(value));
    }

    /// Publishes an already shared value (no copy, no new allocation).
    pub fn write_arc(&self, value: Arc<T>) {
        // SAFETY: `Output` is not `Sync` and owns its ring buffer's writes, so this is the only
        // writer at any moment (see `write_arc_cached`).
        unsafe { self.shared.write_arc_cached(value, &self.taps) }
    }

    /// A handle to this port, for wiring.
    pub fn to_ref(&self) -> OutputRef<T> {
        OutputRef {
            shared: self.shared.clone(),
        }
    }

    /// Counters of this port.
    pub fn stats(&self) -> PortStats {
        self.to_ref().stats()
    }

    /// Whether anything takes this output's values now: a connected input (of this process,
    /// or of another one through a link) or a recorder. A source may skip work nobody reads.
    pub fn is_connected(&self) -> bool {
        self.shared.is_connected()
    }
}

impl<T: Send + Sync + 'static> Default for Output<T> {
    fn default() -> Self {
        Output::new()
    }
}

impl<T> fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("port", &self.shared.describe())
            .field("payload", &type_name::<T>())
            .finish()
    }
}

/// A handle to an actor's output port, valid for as long as anyone holds it.
///
/// Connect it to an [`InputRef`] with [`connect`](crate::connect) or `&output >> &input`.
pub struct OutputRef<T> {
    pub(crate) shared: Arc<OutputShared<T>>,
}

impl<T> Clone for OutputRef<T> {
    fn clone(&self) -> Self {
        OutputRef {
            shared: self.shared.clone(),
        }
    }
}

impl<T: Send + Sync + 'static> OutputRef<T> {
    /// The newest value written to this port, if any (for tools and tests).
    pub fn read_latest(&self) -> Option<Arc<T>> {
        self.shared.ring.read_latest()
    }

    /// Counters of this port.
    pub fn stats(&self) -> PortStats {
        let s = &*self.shared;
        let writes = s.ring.seq();
        let read = s.reads.values.load(Ordering::Relaxed);
        // The newest value is not overwritten yet, read or not.
        let newest_unread = u64::from(!s.reads.was_read(writes));
        PortStats {
            writes,
            overwritten_unread: writes.saturating_sub(read + newest_unread),
            bad_values: s.origin.as_ref().map_or(0, |o| o.bad_values()),
            ..PortStats::default()
        }
    }

    /// Whether anything takes this output's values now (see [`Output::is_connected`]).
    pub fn is_connected(&self) -> bool {
        self.shared.is_connected()
    }

    /// Whether this output stands for another process's output that cannot be reached now.
    pub fn is_stale(&self) -> bool {
        self.shared.origin.as_ref().is_some_and(|o| o.is_stale())
    }

    /// The port's name, once its actor is spawned.
    pub fn name(&self) -> Option<&'static str> {
        self.shared.binding.get().map(|b| b.port)
    }

    /// The URI of the actor owning this port, once spawned.
    pub fn actor_uri(&self) -> Option<&ActorUri> {
        self.shared.binding.get().map(|b| &b.uri)
    }
}

impl<T> fmt::Debug for OutputRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OutputRef({} : {})",
            self.shared.describe(),
            type_name::<T>()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// One output feeding an input, with the id of the connection that made it.
pub(crate) struct Feed<T> {
    connection: u64,
    output: Arc<OutputShared<T>>,
    /// For an input set: the member input that reads this output (an input of its own, with
    /// its own read state, queue and counters).
    member: Option<Arc<InputShared<T>>>,
}

/// Shared state of one input port: its upstream(s) and counters.
pub(crate) struct InputShared<T> {
    /// The outputs this input reads, in connection order: at most one, except for an input set.
    feeds: Mutex<Vec<Feed<T>>>,
    /// Whether this is an input set ([`Inputs`]), which takes any number of upstreams.
    many: bool,
    /// Bumped on every connect and disconnect; readers refresh their cached upstream when it moves.
    pub(crate) version: AtomicU64,
    pub(crate) binding: OnceLock<Binding>,
    /// Queue size of a queued input (of each member, for a set); set once.
    queue_capacity: OnceLock<usize>,
    /// The queue of a queued single input.
    queue: OnceLock<Arc<ValueQueue<T>>>,
    reads: AtomicU64,
    stale_reads: AtomicU64,
    missed: AtomicU64,
    /// Messages for this input from the network that did not decode.
    pub(crate) bad_values: AtomicU64,
    /// Set for an input that stands for another process's input.
    target: Option<Arc<dyn Target<T>>>,
}

/// The tap a queued input installs on its upstream: each value written goes into its queue.
fn queue_tap<T: Send + Sync + 'static>(queue: Arc<ValueQueue<T>>) -> Tap<T> {
    Arc::new(move |value: Arc<T>| queue.push(value))
}

impl<T> InputShared<T> {
    /// What a tick prefetches of this input (see [`PortLines`]): every read of a single input
    /// checks `version` and counts in `reads` (a queued input reads its queue instead, and an
    /// input set counts in its members, made at connect: for those the lines are hints that
    /// may miss).
    pub(crate) fn lines(&self) -> PortLines {
        PortLines {
            first: [
                &self.version as *const AtomicU64 as usize,
                &self.reads as *const AtomicU64 as usize,
                0,
            ],
            claim: None,
        }
    }

    /// The actor and port this input is: a local actor's, or a remote one's it stands for.
    pub(crate) fn address(&self) -> Option<PortAddress> {
        match &self.target {
            Some(target) if self.binding.get().is_none() => Some(target.address()),
            _ => bound_address(&self.binding),
        }
    }

    pub(crate) fn describe(&self) -> String {
        describe(self.address(), Direction::Input)
    }
}

impl<T: Send + Sync + 'static> InputShared<T> {
    fn new(target: Option<Arc<dyn Target<T>>>, many: bool) -> Self {
        InputShared {
            feeds: Mutex::new(Vec::new()),
            many,
            version: AtomicU64::new(0),
            binding: OnceLock::new(),
            queue_capacity: OnceLock::new(),
            queue: OnceLock::new(),
            reads: AtomicU64::new(0),
            stale_reads: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            bad_values: AtomicU64::new(0),
            target,
        }
    }

    /// Makes this a queued input of `capacity` values, or says why that size cannot work
    /// ([`Error::InvalidOption`](crate::Error::InvalidOption)). The first size set stays:
    /// returns the size in force.
    pub(crate) fn set_queue(&self, capacity: usize) -> crate::Result<usize> {
        check_capacity(capacity)?;
        let feeds = self.feeds.lock();
        let capacity = *self.queue_capacity.get_or_init(|| capacity);
        if !self.many && self.queue.get().is_none() {
            let queue = Arc::new(ValueQueue::new(capacity));
            let _ = self.queue.set(queue.clone());
            // Connected before it became queued: values from now on are queued.
            for feed in feeds.iter() {
                feed.output
                    .add_tap(feed.connection, queue_tap(queue.clone()));
            }
        }
        Ok(capacity)
    }

    /// Sets an upstream (adds one, for a set); fails with the current upstream's description if
    /// a single input has one.
    pub(crate) fn attach(&self, id: u64, output: Arc<OutputShared<T>>) -> Result<(), String> {
        {
            let mut feeds = self.feeds.lock();
            if let (false, Some(current)) = (self.many, feeds.first()) {
                return Err(current.output.describe());
            }
            let member = match self.many {
                true => Some(Arc::new(self.member(id, &output))),
                false => {
                    self.feed_starts(id, &output);
                    None
                }
            };
            feeds.push(Feed {
                connection: id,
                output: output.clone(),
                member,
            });
            self.version.fetch_add(1, Ordering::Release);
        }
        if let Some(origin) = &output.origin {
            origin.reader_attached();
        }
        if let Some(target) = &self.target {
            target.attached(id, &OutputRef { shared: output });
        }
        Ok(())
    }

    /// `output` starts feeding this (single) input through connection `id`.
    fn feed_starts(&self, id: u64, output: &Arc<OutputShared<T>>) {
        output.reads.readers.fetch_add(1, Ordering::Relaxed);
        if let Some(queue) = self.queue.get() {
            output.add_tap(id, queue_tap(queue.clone()));
        }
    }

    /// `output` stops feeding this (single) input.
    fn feed_ends(&self, id: u64, output: &OutputShared<T>) {
        output.reads.readers.fetch_sub(1, Ordering::Relaxed);
        if self.queue.get().is_some() {
            output.remove_tap(id);
        }
    }

    /// The member of a set that reads `output` through connection `id`: a single input of the
    /// set's name and queue size, attached to `output`.
    fn member(&self, id: u64, output: &Arc<OutputShared<T>>) -> InputShared<T> {
        let member = InputShared::new(None, false);
        if let Some(binding) = self.binding.get() {
            let _ = member.binding.set(binding.clone());
        }
        if let Some(&capacity) = self.queue_capacity.get() {
            // The set's own size, checked when it was set: it cannot fail here.
            let _ = member.set_queue(capacity);
        }
        // A fresh single input takes its first upstream.
        let _ = member.attach(id, output.clone());
        member
    }

    /// Removes the upstream set by connection `id`; returns whether it was there.
    pub(crate) fn detach(&self, id: u64) -> bool {
        let feed = {
            let mut feeds = self.feeds.lock();
            let Some(at) = feeds.iter().position(|f| f.connection == id) else {
                return false;
            };
            let feed = feeds.remove(at);
            self.version.fetch_add(1, Ordering::Release);
            feed
        };
        match &feed.member {
            Some(member) => {
                member.detach(id);
            }
            None => self.feed_ends(id, &feed.output),
        }
        if let Some(target) = &self.target {
            target.detached(id);
        }
        true
    }

    /// Whether an upstream stands for an output of another process that cannot be reached.
    fn is_stale(&self) -> bool {
        self.feeds
            .lock()
            .iter()
            .filter_map(|f| f.output.origin.as_ref())
            .any(|o| o.is_stale())
    }

    /// The address of each bound output feeding this input, in connection order.
    pub(crate) fn upstream_ports(&self) -> Vec<PortAddress> {
        let feeds = self.feeds.lock();
        feeds
            .iter()
            .filter_map(|f| bound_address(&f.output.binding))
            .collect()
    }

    /// Whether connection `id` feeds this input now.
    pub(crate) fn has_connection(&self, id: u64) -> bool {
        self.feeds.lock().iter().any(|f| f.connection == id)
    }

    /// Whether a value arrived since the last call (`seen` is this method's memory): a queued
    /// input (or set member) has values pending, or a latest-value upstream wrote since. Takes
    /// the connection lock, which only connects and disconnects contend for.
    pub(crate) fn arrived(&self, seen: &mut u64) -> bool {
        let feeds = self.feeds.lock();
        let (mut pending, mut writes) = (false, 0u64);
        for feed in feeds.iter() {
            let input = feed.member.as_deref().unwrap_or(self);
            match input.queue.get() {
                Some(queue) => pending |= queue.len() > 0,
                None => writes = writes.wrapping_add(feed.output.ring.seq()),
            }
        }
        let wrote = writes != *seen;
        *seen = writes;
        pending || wrote
    }

    /// How many outputs feed this input.
    fn upstream_count(&self) -> usize {
        self.feeds.lock().len()
    }

    /// The first upstream, for a single input.
    fn first_upstream(&self) -> Option<Arc<OutputShared<T>>> {
        self.feeds.lock().first().map(|f| f.output.clone())
    }

    /// The members of a set, in connection order.
    fn members(&self) -> Vec<Arc<InputShared<T>>> {
        let feeds = self.feeds.lock();
        feeds.iter().filter_map(|f| f.member.clone()).collect()
    }

    /// Counters of this input (summed over the members of a set, which count their own
    /// upstreams' bad values).
    fn stats(&self) -> PortStats {
        let upstream_bad: u64 = self
            .feeds
            .lock()
            .iter()
            .filter(|f| f.member.is_none())
            .filter_map(|f| f.output.origin.as_ref().map(|o| o.bad_values()))
            .sum();
        let own = PortStats {
            reads: self.reads.load(Ordering::Relaxed),
            stale_reads: self.stale_reads.load(Ordering::Relaxed),
            missed: self.missed.load(Ordering::Relaxed),
            bad_values: self.bad_values.load(Ordering::Relaxed) + upstream_bad,
            dropped: self.queue.get().map_or(0, |q| q.dropped()),
            ..PortStats::default()
        };
        self.members()
            .iter()
            .fold(own, |sum, member| sum + member.stats())
    }
}

/// What an input remembers between reads; touched only by the actor that owns the input.
struct ReadCache<T> {
    version: u64,
    upstream: Option<Arc<OutputShared<T>>>,
    /// Sequence number of the newest value read from `upstream`; 0 for none.
    latest_seq: u64,
    /// That value, kept from its second read on, so that further reads of an unchanged value
    /// skip the ring buffer. A first read keeps nothing: when every read finds a new value (the
    /// common case of a reader as fast as its writer), keeping it would cost a reference count
    /// taken and given back per read.
    latest: Option<Arc<T>>,
    /// The output `returned` counts in: the last upstream, kept through a disconnected gap so
    /// that reconnecting the same output does not return its values again. Weak, so that a
    /// disconnected input keeps no output alive; compared only after an upgrade, so an output
    /// freed meanwhile never matches whatever is allocated at its address later.
    returned_from: Weak<OutputShared<T>>,
    /// Sequence number of the newest value `read_new` returned from `returned_from`.
    returned: u64,
}

impl<T> ReadCache<T> {
    fn new() -> ReadCache<T> {
        ReadCache {
            version: 0,
            upstream: None,
            latest_seq: 0,
            latest: None,
            returned_from: Weak::new(),
            returned: 0,
        }
    }

    /// The upstream is now `upstream` (`None`: disconnected).
    ///
    /// `read_new` remembers what it returned from the last output it read, across any number of
    /// disconnects in between: reconnecting that same output goes on from there, so a value is
    /// never returned twice; connecting another output starts afresh (its sequence numbers are
    /// its own). Only the last output is remembered: after `a`, then `b`, then `a` again, `a`
    /// starts afresh.
    fn reconnected(&mut self, upstream: Option<Arc<OutputShared<T>>>) {
        let unchanged = match (&upstream, &self.upstream) {
            (Some(new), Some(old)) => Arc::ptr_eq(new, old),
            _ => false,
        };
        if unchanged {
            // Disconnected and reconnected between two reads: nothing to forget.
            return;
        }
        // Values of another output, or from before a gap, say nothing about what comes next
        // (and a disconnected input must not keep a payload alive).
        self.latest = None;
        self.latest_seq = 0;
        if let Some(new) = &upstream {
            let same_as_before = self
                .returned_from
                .upgrade()
                .is_some_and(|old| Arc::ptr_eq(&old, new));
            if !same_as_before {
                self.returned_from = Arc::downgrade(new);
                self.returned = 0;
            }
        }
        self.upstream = upstream;
    }
}

/// An input port: the actor reads the newest value of its upstream output here.
///
/// Reads never block and never consume: [`read_latest`](Input::read_latest) returns the newest
/// value again and again until a newer one arrives; [`read_new`](Input::read_new) returns a value
/// only once, even across a disconnect and a reconnect of the same output. A disconnected input
/// reads `None`. Reconnecting to another output starts afresh.
///
/// **Queued inputs.** An input declared `#[input(queue = N)]` (or built with
/// [`Input::queued`]) also keeps every value its upstream writes, in write order, up to `N`
/// pending: [`read_new`](Input::read_new) and [`drain`](Input::drain) then return each value
/// exactly once, oldest first, so events, commands and key presses written between two ticks of
/// the reader are not lost. When `N` values are pending, a new one drops the oldest, counted in
/// [`PortStats::dropped`]. Writers never wait (each write pushes one `Arc` into a lock-free
/// bounded queue per queued reader). [`read_latest`](Input::read_latest) still returns the
/// upstream's newest value and consumes nothing. Values pending when the input is disconnected
/// stay readable; values written while it is disconnected are not queued. The queue works
/// across clocks (values are queued when written, not when a tick runs) and across processes:
/// every value that reaches this process from a remote output is queued — the link itself stays
/// latest-value, so a value the network drops under congestion never arrives.
pub struct Input<T> {
    shared: Arc<InputShared<T>>,
    cache: RefCell<ReadCache<T>>,
}

impl<T: Send + Sync + 'static> Input<T> {
    /// An unconnected input.
    pub fn new() -> Input<T> {
        Input::over(Arc::new(InputShared::new(None, false)))
    }

    /// An unconnected queued input that keeps up to `capacity` values pending (see [the type's
    /// docs](Input#queued-inputs)); `#[input(queue = N)]` makes one when the actor is spawned.
    ///
    /// Errors with [`Error::InvalidOption`](crate::Error::InvalidOption) unless
    /// `1 <= capacity <= MAX_QUEUE`.
    ///
    /// ```
    /// use streamlib::{connect, Input, Output};
    ///
    /// let out = Output::<u32>::new();
    /// let mut events = Input::<u32>::queued(4)?;
    /// connect(&out.to_ref(), &events.to_ref())?;
    /// for key in 0..6 {
    ///     out.write(key);
    /// }
    /// let pending: Vec<u32> = events.drain().map(|v| *v).collect();
    /// assert_eq!(pending, [2, 3, 4, 5], "the oldest two were dropped");
    /// assert_eq!(events.stats().dropped, 2);
    /// # Ok::<(), streamlib::Error>(())
    /// ```
    pub fn queued(capacity: usize) -> crate::Result<Input<T>> {
        let input = Input::new();
        input.shared.set_queue(capacity)?;
        Ok(input)
    }

    fn over(shared: Arc<InputShared<T>>) -> Input<T> {
        Input {
            shared,
            cache: RefCell::new(ReadCache::new()),
        }
    }

    /// The newest value of the upstream output, or `None` if nothing was written or the input is
    /// not connected. Never blocks; does not consume.
    pub fn read_latest(&self) -> Option<Arc<T>> {
        self.read().map(|(_, value)| value)
    }

    /// The newest value, only if it is newer than the last one this method returned; for a
    /// queued input, the oldest pending value.
    pub fn read_new(&mut self) -> Option<Arc<T>> {
        if let Some(queue) = self.shared.queue.get() {
            let value = queue.pop();
            add(&self.shared.reads, u64::from(value.is_some()));
            return value;
        }
        let (seq, value) = self.read()?;
        let cache = self.cache.get_mut();
        if seq > cache.returned {
            cache.returned = seq;
            Some(value)
        } else {
            None
        }
    }

    /// Every value not returned yet, oldest first: for a queued input the values pending now
    /// (those arriving meanwhile are left for the next call), otherwise at most the one
    /// [`read_new`](Input::read_new) would return.
    pub fn drain(&mut self) -> impl Iterator<Item = Arc<T>> + '_ {
        let pending = match self.shared.queue.get() {
            Some(queue) => queue.len(),
            None => 1,
        };
        (0..pending).map_while(move |_| self.read_new())
    }

    /// For a queued input: how many values are pending (`0` for a latest-value input).
    pub fn pending(&self) -> usize {
        self.shared.queue.get().map_or(0, |q| q.len())
    }

    /// Whether an output is connected to this input.
    pub fn is_connected(&self) -> bool {
        self.refresh();
        self.cache.borrow().upstream.is_some()
    }

    /// Whether there is nothing to read (unconnected, or nothing written yet).
    pub fn is_empty(&self) -> bool {
        self.refresh();
        match &self.cache.borrow().upstream {
            Some(up) => up.ring.is_empty(),
            None => true,
        }
    }

    /// A handle to this port, for wiring.
    pub fn to_ref(&self) -> InputRef<T> {
        InputRef {
            shared: self.shared.clone(),
        }
    }

    /// `actor://host/Class/id.port` of the output feeding this input, if it is bound to an actor.
    pub fn upstream(&self) -> Option<String> {
        self.shared
            .upstream_ports()
            .into_iter()
            .next()
            .map(|address| address.to_string())
    }

    /// Whether the upstream is an output of another process or host that cannot be reached now
    /// (the peer left or the link is down). Its last value stays readable; the link resumes by
    /// itself when the peer returns.
    pub fn is_stale(&self) -> bool {
        self.shared.is_stale()
    }

    /// The tick that wrote the newest value this input read, when that value came from another
    /// process or host: the writer's frame number and its clock's timestamp (see
    /// [`wire`](crate::wire) for when two hosts' timestamps compare). `None` for local values.
    pub fn stamp(&self) -> Option<Stamp> {
        let cache = self.cache.borrow();
        let seq = Some(cache.latest_seq).filter(|&seq| seq != 0)?;
        cache.upstream.as_ref()?.origin.as_ref()?.stamp(seq)
    }

    /// Counters of this port.
    pub fn stats(&self) -> PortStats {
        self.shared.stats()
    }

    /// Picks up a connect or disconnect since the last read: one atomic load when there was none.
    fn refresh(&self) {
        let version = self.shared.version.load(Ordering::Acquire);
        let mut cache = self.cache.borrow_mut();
        if cache.version != version {
            cache.reconnected(self.shared.first_upstream());
            cache.version = version;
        }
    }

    fn read(&self) -> Option<(u64, Arc<T>)> {
        self.refresh();
        let mut cache = self.cache.borrow_mut();
        // Borrow the cached upstream rather than clone its `Arc`: a read takes no locked
        // instruction of its own when nothing new was written.
        let ReadCache {
            upstream,
            latest_seq,
            latest,
            ..
        } = &mut *cache;
        let upstream = upstream.as_ref()?;
        let stats = &*self.shared;
        add(&stats.reads, 1);
        if let Some(value) = latest
            .as_ref()
            .filter(|_| upstream.ring.seq() == *latest_seq)
        {
            add(&stats.stale_reads, 1);
            return Some((*latest_seq, value.clone()));
        }
        let (seq, value) = upstream.ring.read_latest_with_seq()?;
        if seq == *latest_seq {
            // Read again, unchanged: keep it for the reads after this one.
            add(&stats.stale_reads, 1);
            *latest = Some(value.clone());
            return Some((seq, value));
        }
        let previous = *latest_seq;
        if previous != 0 && seq > previous + 1 && stats.queue.get().is_none() {
            add(&stats.missed, seq - previous - 1);
        }
        upstream.reads.mark(seq);
        *latest_seq = seq;
        *latest = None;
        Some((seq, value))
    }
}

impl<T: Send + Sync + 'static> Default for Input<T> {
    fn default() -> Self {
        Input::new()
    }
}

impl<T: Send + Sync + 'static> fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("port", &self.shared.describe())
            .field("payload", &type_name::<T>())
            .finish()
    }
}

/// A handle to an actor's input port, valid for as long as anyone holds it.
pub struct InputRef<T> {
    pub(crate) shared: Arc<InputShared<T>>,
}

impl<T> Clone for InputRef<T> {
    fn clone(&self) -> Self {
        InputRef {
            shared: self.shared.clone(),
        }
    }
}

impl<T: Send + Sync + 'static> InputRef<T> {
    /// An input standing for another process's input (built by `remote`).
    pub(crate) fn remote(target: Arc<dyn Target<T>>) -> InputRef<T> {
        InputRef {
            shared: Arc::new(InputShared::new(Some(target), false)),
        }
    }

    /// Whether an output is connected to this input.
    pub fn is_connected(&self) -> bool {
        self.shared.upstream_count() > 0
    }

    /// Whether the upstream is an output of another process or host that cannot be reached now;
    /// see [`Input::is_stale`].
    pub fn is_stale(&self) -> bool {
        self.shared.is_stale()
    }

    /// Counters of this port.
    pub fn stats(&self) -> PortStats {
        self.shared.stats()
    }

    /// The port's name, once its actor is spawned.
    pub fn name(&self) -> Option<&'static str> {
        self.shared.binding.get().map(|b| b.port)
    }

    /// The URI of the actor owning this port, once spawned.
    pub fn actor_uri(&self) -> Option<&ActorUri> {
        self.shared.binding.get().map(|b| &b.uri)
    }

    /// The queue size of a queued input; `None` for a latest-value input.
    pub fn queue(&self) -> Option<usize> {
        self.shared.queue_capacity.get().copied()
    }
}

impl<T> fmt::Debug for InputRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "InputRef({} : {})",
            self.shared.describe(),
            type_name::<T>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire<T: Send + Sync + 'static>(out: &Output<T>, inp: &Input<T>, id: u64) {
        inp.shared.attach(id, out.shared.clone()).unwrap();
    }

    /// A value a write displaces from the ring is dropped after the taps have the new value
    /// (its destructor may give back shared memory: it must not delay the new value's way to
    /// other processes), and dropped all the same.
    #[test]
    fn a_displaced_value_is_dropped_after_the_taps() {
        struct Noted(Arc<AtomicU64>);
        impl Drop for Noted {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicU64::new(0));
        let seen_by_tap = Arc::new(Mutex::new(Vec::new()));
        let out = Output::<Noted>::new();
        let (d, seen) = (dropped.clone(), seen_by_tap.clone());
        out.shared.add_tap(
            1,
            Arc::new(move |_value: Arc<Noted>| seen.lock().push(d.load(Ordering::SeqCst))),
        );
        let (slots, displacing) = (out.shared.ring.slots() as u64, 3);
        for write in 0..slots + displacing {
            let before = dropped.load(Ordering::SeqCst);
            out.write(Noted(dropped.clone()));
            let at_tap = *seen_by_tap.lock().last().unwrap();
            assert_eq!(
                at_tap, before,
                "write {write}: the displaced value was dropped before the tap ran"
            );
        }
        // The ring holds the newest `slots` values; every older one was displaced and dropped.
        assert_eq!(dropped.load(Ordering::SeqCst), displacing);
        drop(out);
        assert_eq!(dropped.load(Ordering::SeqCst), slots + displacing);
    }

    #[test]
    fn unconnected_input_reads_nothing() {
        let mut inp = Input::<u8>::new();
        assert!(!inp.is_connected());
        assert!(inp.is_empty());
        assert!(inp.read_latest().is_none());
        assert!(inp.read_new().is_none());
    }

    #[test]
    fn read_latest_repeats_read_new_does_not() {
        let out = Output::new();
        let mut inp = Input::new();
        wire(&out, &inp, 1);
        assert!(inp.is_connected());
        assert!(inp.is_empty());
        out.write(1u32);
        out.write(2);
        assert_eq!(*inp.read_new().unwrap(), 2);
        assert!(inp.read_new().is_none());
        assert_eq!(*inp.read_latest().unwrap(), 2);
        out.write(3);
        assert_eq!(*inp.read_new().unwrap(), 3);
        let stats = inp.stats();
        assert_eq!(stats.reads, 4);
        assert_eq!(stats.stale_reads, 2);
    }

    #[test]
    fn fan_out_shares_one_arc() {
        let out = Output::new();
        let a = Input::new();
        let b = Input::new();
        wire(&out, &a, 1);
        wire(&out, &b, 2);
        out.write(vec![0u8; 1024]);
        assert!(Arc::ptr_eq(
            &a.read_latest().unwrap(),
            &b.read_latest().unwrap()
        ));
    }

    #[test]
    fn second_upstream_is_refused() {
        let out1 = Output::<u8>::new();
        let out2 = Output::<u8>::new();
        let inp = Input::new();
        wire(&out1, &inp, 1);
        assert!(inp.shared.attach(2, out2.shared.clone()).is_err());
    }

    #[test]
    fn reconnecting_elsewhere_starts_afresh() {
        let out1 = Output::new();
        let out2 = Output::new();
        let mut inp = Input::new();
        wire(&out1, &inp, 1);
        for v in 0..5u32 {
            out1.write(v);
        }
        assert_eq!(*inp.read_new().unwrap(), 4);
        assert!(inp.shared.detach(1));
        assert!(inp.read_latest().is_none());
        wire(&out2, &inp, 2);
        out2.write(100);
        assert_eq!(
            *inp.read_new().unwrap(),
            100,
            "seq 1 of out2 is new to this input"
        );
    }

    #[test]
    fn read_new_does_not_repeat_after_reconnecting_the_same_output() {
        let out = Output::new();
        let mut inp = Input::new();
        wire(&out, &inp, 1);
        out.write(7u32);
        assert_eq!(*inp.read_new().unwrap(), 7);
        assert!(inp.shared.detach(1));
        assert!(inp.read_new().is_none(), "disconnected");
        assert!(!inp.is_connected());
        wire(&out, &inp, 2);
        assert_eq!(
            *inp.read_latest().unwrap(),
            7,
            "read_latest does not consume"
        );
        assert!(inp.read_new().is_none(), "7 was already returned");
        out.write(8);
        assert_eq!(*inp.read_new().unwrap(), 8);
        assert!(inp.read_new().is_none());
    }

    #[test]
    fn read_new_forgets_an_output_freed_while_disconnected() {
        let mut inp = Input::new();
        let first = Output::new();
        wire(&first, &inp, 1);
        first.write(1u32);
        assert_eq!(*inp.read_new().unwrap(), 1);
        assert!(inp.shared.detach(1));
        assert!(inp.read_new().is_none());
        drop(first);
        // Whatever output comes next is another one, even at a reused address.
        let second = Output::new();
        wire(&second, &inp, 2);
        second.write(5);
        assert_eq!(*inp.read_new().unwrap(), 5, "seq 1 of a new output is new");
    }

    #[test]
    fn detach_with_another_id_changes_nothing() {
        let out = Output::<u8>::new();
        let inp = Input::new();
        wire(&out, &inp, 1);
        assert!(!inp.shared.detach(2));
        assert!(inp.is_connected());
    }

    #[test]
    fn a_value_only_a_slower_reader_read_is_not_counted_overwritten() {
        let out = Output::new();
        let fast = Input::new();
        wire(&out, &fast, 1);
        out.write(1u64);
        out.write(2);
        // A second input's read, split where its thread can be descheduled: it has taken value
        // 2 from the ring buffer but not marked it read yet...
        let (slow_seq, slow_value) = out.shared.ring.read_latest_with_seq().unwrap();
        assert_eq!((slow_seq, *slow_value), (2, 2));
        // ...while the first input reads a newer value...
        out.write(3);
        assert_eq!(*fast.read_latest().unwrap(), 3);
        // ...then the second input resumes.
        out.shared.reads.mark(slow_seq);
        let stats = out.stats();
        assert_eq!(stats.writes, 3);
        assert_eq!(stats.overwritten_unread, 1, "only 1 was never read");
    }

    #[test]
    fn an_unchanged_value_is_kept_from_its_second_read_on() {
        let out = Output::new();
        let inp = Input::new();
        wire(&out, &inp, 1);
        out.write(7u32);
        let first = inp.read_latest().unwrap();
        assert!(
            inp.cache.borrow().latest.is_none(),
            "a first read keeps nothing"
        );
        let second = inp.read_latest().unwrap();
        assert!(
            inp.cache.borrow().latest.is_some(),
            "a repeat keeps the value"
        );
        let third = inp.read_latest().unwrap();
        assert!(Arc::ptr_eq(&first, &second) && Arc::ptr_eq(&second, &third));
        out.write(8);
        assert_eq!(*inp.read_latest().unwrap(), 8);
        assert!(
            inp.cache.borrow().latest.is_none(),
            "a new value drops the kept one"
        );
        // Ours three and the ring buffer's (it keeps its last values): the input keeps none.
        assert_eq!(Arc::strong_count(&first), 4);
        assert_eq!(inp.stats().stale_reads, 2);
    }

    #[test]
    fn with_two_readers_a_value_read_by_either_is_read() {
        let out = Output::new();
        let (a, b) = (Input::new(), Input::new());
        wire(&out, &a, 1);
        wire(&out, &b, 2);
        out.write(1u64);
        assert_eq!(*a.read_latest().unwrap(), 1);
        out.write(2);
        assert_eq!(*b.read_latest().unwrap(), 2);
        assert_eq!(*a.read_latest().unwrap(), 2, "read by both: counted once");
        out.write(3);
        out.write(4);
        assert_eq!(*a.read_latest().unwrap(), 4);
        let stats = out.stats();
        assert_eq!(stats.writes, 4);
        assert_eq!(stats.overwritten_unread, 1, "only 3 was never read");
        assert_eq!(out.shared.reads.values.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn counts_missed_and_overwritten_values() {
        let out = Output::new();
        let inp = Input::new();
        wire(&out, &inp, 1);
        out.write(1u64);
        assert_eq!(*inp.read_latest().unwrap(), 1);
        out.write(2);
        out.write(3);
        out.write(4);
        assert_eq!(*inp.read_latest().unwrap(), 4);
        assert_eq!(inp.stats().missed, 2);
        let stats = out.stats();
        assert_eq!(stats.writes, 4);
        assert_eq!(stats.overwritten_unread, 2, "2 and 3 were never read");
    }
}
