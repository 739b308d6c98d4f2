//! The actor cell: one spawned actor as the scheduler sees it, and how one `process` call runs.
//!
//! `RuntimeCell`, its `Hot` (what a tick touches, in the dense arena of `hot.rs`) and `CellState`
//! are the runtime's side of an actor; the map of all the names one actor goes by is in the
//! `runtime` module's docs.
//!
//! Every `process` call runs inside `catch_unwind`; so do `on_start`, `on_stop` and the drop of
//! the actor's state at stop, so that no user code can unwind into a runtime thread.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::actor_lock::ActorLock;
use super::dedicated::Dedicated;
use super::hot::{Arena, Placed};
use super::stopwatch::{self, Reading};
use super::tick::Fault;
use crate::actor::{find_port, ActorConfig, Arrived, FaultPolicy, PortInfo, Process};
use crate::clock::Tick;
use crate::error::{Error, StopRequest};
use crate::port::{ActorKey, Direction, PortLines};
use crate::registry::{EntryHot, HoldsEntry, RegistryEntry};
use crate::uri::ActorUri;

/// Most inputs, and most outputs, of an actor whose lines a tick prefetches (two lines an input,
/// three an output and its next slot); an actor with more has the first ones fetched.
const PREFETCHED_PORTS: usize = 2;

/// Where the first two cache lines of a state of `size` bytes at `at` lie: `[at, the next
/// line]`, the second 0 if the state ends in its first line, both 0 for a state of no size.
fn state_lines(at: usize, size: usize) -> [usize; 2] {
    match size {
        0 => [0, 0],
        _ if at % 64 + size > 64 => [at, (at | 63) + 1],
        _ => [at, 0],
    }
}

/// A deferred end of a self-stop: what the runtime still has to do after `on_stop` ran.
pub(crate) type Finish = Box<dyn FnOnce() + Send>;

/// A hint to fetch the line of `address` into the cache; does nothing where there is no such
/// instruction.
#[inline]
pub(crate) fn prefetch(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and reads nothing the program can observe,
    // whatever the address; SSE, which it needs, is part of every x86-64 processor.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// One spawned actor as the runtime holds it (the runtime side; see the map in `runtime`): the
/// registry's entry, the config, the actor behind its lock (in [`Hot`]), the dedicated thread.
pub(crate) struct RuntimeCell {
    /// Its `running` and stats lie in `hot`; declared first, so dropped before `hot`, which it
    /// borrows from.
    pub(crate) entry: RegistryEntry,
    hot: Placed<Hot>,
    pub(crate) config: ActorConfig,
    /// For [`Dispatch::Dedicated`](crate::Dispatch::Dedicated): the actor's own thread.
    pub(crate) dedicated: Option<Dedicated>,
    finish: Mutex<Option<Finish>>,
    /// For `#[actor(on = "input")]`: whether a value arrived on that input.
    trigger: Option<Arrived>,
    /// Where the actor's state (the user's struct) starts and where its second line lies, if it
    /// spans one (0: none): what a tick asks the processor for ahead of running it.
    actor_at: [usize; 2],
    /// Where the lines its ports' reads and writes touch lie: with thousands of writing actors,
    /// a tick that asks for them a few actors ahead costs almost half less (BENCHMARKS.md).
    port_lines: Box<[PortLines]>,
}

/// What a tick reads and writes of an actor, placed in the dense arena of `hot.rs` beside the
/// other actors' (a tick walks them in spawn order, through memory in order).
///
/// `repr(C)`: the first cache line holds the lock with the actor's state, the flags and the
/// running thread; the second (the type's alignment is the entry's, 64) starts with the entry's
/// `running` and the stats counters a tick writes. The layout test below keeps it so.
#[repr(C)]
pub(crate) struct Hot {
    pub(crate) state: ActorLock<CellState>,
    /// The runtime thread running this actor's user code now (`on_start`, `process`, `on_stop`,
    /// its state's `Drop`; its [`thread_token`]), 0 if none: what a stop that times out
    /// replaces.
    pub(crate) running_on: AtomicUsize,
    key: ActorKey,
    /// Set once the spawn registered the actor in the runtime's graph: a schedule rebuilt in
    /// between (another actor joined the clock) must not run it before, or a stop it asks for
    /// in that first `process` would find nothing to stop.
    ready: AtomicBool,
    /// Set when the actor stopped itself from inside `process`: `on_stop` runs right after it.
    stop_requested: AtomicBool,
    /// The cell's `dedicated.is_some()`.
    dedicated: bool,
    /// The cell's `trigger.is_some()`.
    triggered: bool,
    entry: EntryHot,
}

/// Every actor's [`Hot`], side by side.
static HOT: Arena<Hot> = Arena::new();

impl Hot {
    /// Asks the processor to fetch the two lines a tick touches.
    #[inline]
    pub(crate) fn prefetch(&self) {
        prefetch(self as *const Hot as *const u8);
        prefetch(&self.entry as *const EntryHot as *const u8);
    }

    /// Whether the actor runs on a thread of its own.
    #[inline]
    pub(crate) fn is_dedicated(&self) -> bool {
        self.dedicated
    }

    /// Whether the actor runs (cleared at its stop).
    #[inline]
    pub(crate) fn is_running(&self) -> bool {
        self.entry.running.load(Ordering::Acquire)
    }

    /// Runs user code of this actor (`on_start`, `process`, `on_stop`, its state's `Drop`) on
    /// this thread, a panic caught: meanwhile `running_on` names this thread, so a stop that
    /// times out waiting for it replaces the thread.
    #[inline]
    fn user_code<R>(&self, code: impl FnOnce() -> R) -> std::thread::Result<R> {
        self.running_on.store(thread_token(), Ordering::Relaxed);
        let outcome = catch_unwind(AssertUnwindSafe(code));
        self.running_on.store(0, Ordering::Relaxed);
        outcome
    }
}

impl HoldsEntry for RuntimeCell {
    fn entry(&self) -> &RegistryEntry {
        &self.entry
    }
}

/// What the actor's lock (in its [`Hot`]) guards: the actor value (the user's struct) and its
/// start/stop marks.
pub(crate) struct CellState {
    pub(crate) actor: Box<dyn Process + Send>,
    pub(crate) started: bool,
    pub(crate) stopped: bool,
    /// The trigger's memory of what it saw (see [`Arrived`]).
    seen: u64,
}

thread_local! {
    /// The actor whose `process` runs on this thread, if any.
    static RUNNING: Cell<Option<ActorKey>> = const { Cell::new(None) };
    /// A number naming this thread among the runtime's threads (0: not yet asked).
    static TOKEN: Cell<usize> = const { Cell::new(0) };
}

/// A new thread token: unique in the process, never 0.
pub(crate) fn new_thread_token() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Gives this thread `token` (made by its parent, which keeps it to tell the thread apart).
pub(crate) fn adopt_thread_token(token: usize) {
    TOKEN.with(|t| t.set(token));
}

/// This thread's token, made on first use if its parent gave it none.
pub(crate) fn thread_token() -> usize {
    TOKEN.with(|t| {
        if t.get() == 0 {
            t.set(new_thread_token());
        }
        t.get()
    })
}

/// The actor running `process` on this thread, if any.
pub(crate) fn running_here() -> Option<ActorKey> {
    RUNNING.with(Cell::get)
}

/// A deadline `timeout` from now, saturating far in the future instead of overflowing.
pub(crate) fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// What an actor whose state was dropped at stop runs in its place (nothing).
struct Stopped;

impl Process for Stopped {
    fn process(&mut self, _: &Tick) -> crate::ProcessResult {
        Ok(())
    }
}

impl RuntimeCell {
    /// The cell of a new actor: its entry (its hot part placed in the arena with the cell's).
    pub(crate) fn new(
        key: ActorKey,
        (uri, ports, clock): (ActorUri, Vec<PortInfo>, String),
        config: ActorConfig,
        actor: Box<dyn Process + Send>,
        dedicated: Option<Dedicated>,
    ) -> RuntimeCell {
        let trigger = config
            .on
            .and_then(|name| find_port(&ports, name, Direction::Input))
            .and_then(|p| p.arrived.clone());
        let at = &*actor as *const (dyn Process + Send) as *const u8 as usize;
        let actor_at = state_lines(at, std::mem::size_of_val(&*actor));
        let lines_of = |direction| {
            ports
                .iter()
                .filter(move |p| p.direction == direction)
                .filter_map(|p| p.lines)
                .take(PREFETCHED_PORTS)
        };
        let port_lines = lines_of(Direction::Input)
            .chain(lines_of(Direction::Output))
            .collect();
        let hot = HOT.place(Hot {
            state: ActorLock::new(CellState {
                actor,
                started: false,
                stopped: false,
                seen: 0,
            }),
            running_on: AtomicUsize::new(0),
            key,
            ready: AtomicBool::new(false),
            stop_requested: AtomicBool::new(false),
            dedicated: dedicated.is_some(),
            triggered: trigger.is_some(),
            entry: EntryHot::running(),
        });
        // SAFETY: the entry's hot part lies in `hot`, which this cell owns beside the entry and
        // never moves (an arena slot): it lives exactly as long as the entry.
        let entry = unsafe {
            let lent = NonNull::from(&hot.entry);
            RegistryEntry::with_hot(lent, uri, ports, clock)
        };
        RuntimeCell {
            hot,
            entry,
            config,
            dedicated,
            finish: Mutex::new(None),
            trigger,
            actor_at,
            port_lines,
        }
    }

    /// Where the first two lines of the actor's state lay at spawn (0: none); after a stop,
    /// addresses of nothing in particular: only ever prefetch hints.
    pub(crate) fn actor_lines(&self) -> [usize; 2] {
        self.actor_at
    }

    /// Where the lines its ports' reads and writes touch lie: only ever prefetch hints. Each port
    /// alive while this cell is (its registry entry holds it).
    pub(crate) fn port_lines(&self) -> &[PortLines] {
        &self.port_lines
    }

    /// The actor's id.
    pub(crate) fn key(&self) -> ActorKey {
        self.hot.key
    }

    /// What a tick touches of this actor.
    #[inline]
    pub(crate) fn hot(&self) -> &Hot {
        &self.hot
    }

    /// Where [`hot`](Self::hot) lies: valid, and not moved, while this cell lives.
    pub(crate) fn hot_ptr(&self) -> NonNull<Hot> {
        self.hot.as_ptr()
    }

    pub(crate) fn is_running(&self) -> bool {
        self.hot.is_running()
    }

    /// The spawn is complete: the actor may run from now on.
    pub(crate) fn set_ready(&self) {
        self.hot.ready.store(true, Ordering::Release);
    }

    /// Runs one tick of this actor: `on_start` first if needed, then `process`, catching errors
    /// and panics. `start` is now (the end of the actor run before on this thread: one clock read
    /// per actor, not two). Hands `report` what the runtime has to apply — a fault's policy, or
    /// the actor's own request to stop — once the actor's lock is released, and returns the time
    /// it finished. (A callback, not a returned `Option<Fault>`: copying that out of every run
    /// read its tag back through memory just after writing it, a stall a tenth of an empty
    /// actor's run long.)
    ///
    /// A request to stop ([`ActorError::stop`](crate::ActorError::stop)) is honoured here, at
    /// once: the actor gets no further `process` call, and for a stop of the actor itself its
    /// `on_stop` runs right now on this thread; the runtime removes it from the graph after.
    ///
    /// `hot` is this cell's [`Hot`], passed by a caller that has it at hand (a schedule keeps
    /// them in order), so that a steady tick touches nothing else of the actor. `late`: the tick
    /// came more than a period after its deadline (worked out once per tick, not per actor).
    pub(crate) fn run(
        &self,
        hot: &Hot,
        tick: &Tick,
        late: bool,
        start: Reading,
        report: impl FnOnce(Fault),
    ) -> Reading {
        debug_assert!(std::ptr::eq(hot, self.hot()));
        if !hot.is_running() || !hot.ready.load(Ordering::Acquire) {
            return start;
        }
        let mut state = hot.state.lock();
        if state.stopped {
            return start;
        }
        let stats = &hot.entry.stats;
        if !state.started {
            state.started = true;
            let outcome = hot.user_code(|| state.actor.on_start());
            if let Some(fault) = self.fault(outcome, "on_start") {
                self.stop_at_once(&fault, &mut state);
                report(fault);
                return stopwatch::now();
            }
        }
        // An input-triggered actor sits this tick out unless a value arrived (an uncontended lock and a load per upstream).
        if hot.triggered {
            if let Some(arrived) = &self.trigger {
                if !arrived(&mut state.seen) {
                    return start;
                }
            }
        }
        RUNNING.with(|r| r.set(Some(hot.key)));
        let outcome = hot.user_code(|| state.actor.process(tick));
        RUNNING.with(|r| r.set(None));
        let end = stopwatch::now();
        stats.record_tick(end.nanos_since(start), tick.skipped);
        if late {
            stats.record_late();
        }
        let fault = match outcome {
            Ok(Ok(())) => None,
            outcome => self.fault(outcome, "process"),
        };
        if let Some(fault) = &fault {
            self.stop_at_once(fault, &mut state);
        }
        let stop_requested = hot.stop_requested.load(Ordering::Acquire);
        if stop_requested {
            self.stop_locked(&mut state);
        }
        drop(state);
        if stop_requested {
            if let Some(finish) = self.finish.lock().take() {
                finish();
            }
        }
        if let Some(fault) = fault {
            report(fault);
        }
        end
    }

    /// Asks an actor running `process` on this very thread to stop once it returns: `on_stop`
    /// runs then, followed by `finish` (what the runtime still has to undo).
    pub(crate) fn request_stop_after_process(&self, finish: Finish) {
        *self.finish.lock() = Some(finish);
        self.hot.stop_requested.store(true, Ordering::Release);
    }

    /// Runs `on_stop` (if the actor started) and drops the actor's state, both caught; idempotent.
    /// Waits for a running `process` at most until `until`; returns whether it stopped.
    pub(crate) fn stop_until(&self, until: Instant) -> bool {
        match self.hot.state.try_lock_until(until) {
            Some(mut state) => {
                self.stop_locked(&mut state);
                true
            }
            None => false,
        }
    }

    fn stop_locked(&self, state: &mut CellState) {
        if state.stopped {
            return;
        }
        state.stopped = true;
        if state.started {
            let outcome = self.hot.user_code(|| state.actor.on_stop());
            let _ = self.fault(outcome, "on_stop");
        }
        // The state's `Drop` is user code too: a panic there must not reach a runtime thread.
        let actor = std::mem::replace(&mut state.actor, Box::new(Stopped));
        if self.hot.user_code(move || drop(actor)).is_err() {
            self.entry.stats().record_panic();
            tracing::error!(actor = %self.entry.uri, "dropping the actor's state panicked");
        }
    }

    /// What an outcome of user code asks of the runtime: nothing (success, or a fault under
    /// [`FaultPolicy::Continue`], logged and counted here all the same), the actor's fault policy
    /// with the fault, or the actor's own request to stop (neither).
    #[cold]
    fn fault(
        &self,
        outcome: std::thread::Result<crate::ProcessResult>,
        what: &'static str,
    ) -> Option<Fault> {
        let uri = &self.entry.uri;
        let reason = match outcome {
            Ok(Ok(())) => return None,
            Ok(Err(error)) => {
                if let Some(request) = error.stop_request() {
                    tracing::debug!(actor = %uri, ?request, "{what} asked to stop");
                    let policy = match request {
                        StopRequest::Actor => FaultPolicy::Stop,
                        StopRequest::Runtime => FaultPolicy::StopRuntime,
                    };
                    return Some(Fault {
                        key: self.key(),
                        policy,
                        error: None,
                    });
                }
                self.entry.stats().record_error();
                tracing::warn!(actor = %uri, %error, "{what} returned an error");
                error.to_string()
            }
            Err(panic) => {
                self.entry.stats().record_panic();
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "<non-text panic payload>".to_string());
                tracing::error!(actor = %uri, panic = %message, "{what} panicked");
                format!("panicked: {message}")
            }
        };
        if self.config.fault_policy == FaultPolicy::Continue {
            return None;
        }
        Some(Fault {
            key: self.key(),
            policy: self.config.fault_policy,
            error: Some(Box::new(Error::ActorFailed {
                uri: uri.to_string(),
                during: what,
                reason,
            })),
        })
    }

    /// A stop takes effect at once: under [`FaultPolicy::Stop`] or `StopRuntime` (a fault's
    /// policy, or the actor's own request) the actor gets no further `process`, even before the
    /// fault thread gets to it. For the actor's own request to stop itself, `on_stop` runs now,
    /// on this thread; after a fault, the fault thread runs it with the rest of the stop.
    fn stop_at_once(&self, fault: &Fault, state: &mut CellState) {
        self.entry.running().store(false, Ordering::Release);
        if fault.error.is_none() && fault.policy == FaultPolicy::Stop {
            self.stop_locked(state);
        }
    }
}

#[cfg(test)]
mod state_lines {
    use super::state_lines;

    #[test]
    fn a_state_is_fetched_by_the_lines_it_starts_on_and_spans_into() {
        assert_eq!(
            state_lines(0x1000, 0),
            [0, 0],
            "no memory, nothing to fetch"
        );
        assert_eq!(state_lines(0x1000, 64), [0x1000, 0]);
        assert_eq!(
            state_lines(0x1010, 48),
            [0x1010, 0],
            "ends at the line's last byte"
        );
        assert_eq!(state_lines(0x1010, 49), [0x1010, 0x1040]);
        assert_eq!(
            state_lines(0x1030, 200),
            [0x1030, 0x1040],
            "a large state: its first two lines"
        );
    }
}

#[cfg(test)]
mod layout {
    use super::Hot;
    use std::mem::{align_of, offset_of, size_of};

    /// The cell's hot fields fill the first cache line, the entry's hot part starts the next;
    /// three lines in all.
    #[test]
    fn a_tick_touches_two_adjacent_cache_lines() {
        assert_eq!(align_of::<Hot>(), 64);
        assert_eq!(offset_of!(Hot, state), 0);
        assert_eq!(offset_of!(Hot, entry), 64);
        assert_eq!(size_of::<Hot>(), 192);
    }
}
