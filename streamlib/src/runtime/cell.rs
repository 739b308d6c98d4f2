//! The actor cell: one spawned actor as the scheduler sees it, and how one `process` call runs.
//!
//! The names of one actor across the crate, by side:
//!
//! | name | side | what it is |
//! |---|---|---|
//! | [`ActorHandle`](crate::ActorHandle) | user | typed ports + lifecycle, returned by `spawn` |
//! | [`ActorRef`](crate::ActorRef) | user, tools | type-erased view the registry hands out |
//! | `ActorEntry` (registry) | shared | URI, ports, stats, `running`: what handles and tools read |
//! | `ActorCell` (here) | scheduler | the entry plus the actor's state, config, dedicated thread |
//! | `Body` (here) | scheduler | the actor's state behind its lock, with its start/stop marks |
//! | `ActorKey` (port) | scheduler | the actor's number, unique in the process |
//!
//! Every `process` call runs inside `catch_unwind`; so do `on_start`, `on_stop` and the drop of
//! the actor's state at stop, so that no user code can unwind into a runtime thread.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::dedicated::Dedicated;
use crate::actor::{ActorConfig, FaultPolicy, Process};
use crate::clock::Tick;
use crate::port::ActorKey;
use crate::registry::ActorEntry;

/// A deferred end of a self-stop: what the runtime still has to do after `on_stop` ran.
pub(crate) type Finish = Box<dyn FnOnce() + Send>;

/// One spawned actor as the scheduler sees it.
pub(crate) struct ActorCell {
    pub(crate) key: ActorKey,
    pub(crate) entry: Arc<ActorEntry>,
    pub(crate) config: ActorConfig,
    pub(crate) body: Mutex<Body>,
    /// For [`Dispatch::Dedicated`](crate::Dispatch::Dedicated): the actor's own thread.
    pub(crate) dedicated: Option<Dedicated>,
    /// The runtime thread running this actor's `process` now (its [`thread_token`]), 0 if none:
    /// what a stop that times out replaces.
    pub(crate) running_on: AtomicUsize,
    /// Set when the actor stopped itself from inside `process`: `on_stop` runs right after it.
    stop_requested: AtomicBool,
    finish: Mutex<Option<Finish>>,
}

/// The actor's state and its start/stop marks, behind the cell's lock.
pub(crate) struct Body {
    pub(crate) actor: Box<dyn Process + Send>,
    pub(crate) started: bool,
    pub(crate) stopped: bool,
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

impl ActorCell {
    pub(crate) fn new(
        key: ActorKey,
        entry: Arc<ActorEntry>,
        config: ActorConfig,
        actor: Box<dyn Process + Send>,
        dedicated: Option<Dedicated>,
    ) -> ActorCell {
        ActorCell {
            key,
            entry,
            config,
            body: Mutex::new(Body {
                actor,
                started: false,
                stopped: false,
            }),
            dedicated,
            running_on: AtomicUsize::new(0),
            stop_requested: AtomicBool::new(false),
            finish: Mutex::new(None),
        }
    }

    pub(crate) fn is_running(&self) -> bool {
        self.entry.running.load(Ordering::Acquire)
    }

    /// Runs one tick of this actor: `on_start` first if needed, then `process`, catching errors
    /// and panics. `start` is now (the end of the actor run before on this thread: one clock read
    /// per actor, not two). Returns the fault policy to apply, if it failed, the time it finished
    /// and how long `process` took.
    pub(crate) fn run(&self, tick: &Tick, start: Instant) -> (Option<FaultPolicy>, Instant) {
        if !self.is_running() {
            return (None, start);
        }
        let mut body = self.body.lock();
        if body.stopped {
            return (None, start);
        }
        let stats = &self.entry.stats;
        if !body.started {
            body.started = true;
            let outcome = catch_unwind(AssertUnwindSafe(|| body.actor.on_start()));
            if let Some(policy) = self.fault(outcome, "on_start") {
                return (Some(policy), Instant::now());
            }
        }
        // Values written now travel to other processes stamped with this tick.
        crate::wire::set_current_stamp(crate::wire::Stamp {
            frame_number: tick.frame_number,
            timestamp: tick.timestamp,
        });
        self.running_on.store(thread_token(), Ordering::Relaxed);
        RUNNING.with(|r| r.set(Some(self.key)));
        let outcome = catch_unwind(AssertUnwindSafe(|| body.actor.process(tick)));
        RUNNING.with(|r| r.set(None));
        self.running_on.store(0, Ordering::Relaxed);
        let end = Instant::now();
        stats.record_tick(end.saturating_duration_since(start), tick.skipped);
        if tick.lateness > tick.rate.period() {
            stats.record_late();
        }
        let fault = self.fault(outcome, "process");
        if self.stop_requested.load(Ordering::Acquire) {
            self.stop_locked(&mut body);
            drop(body);
            if let Some(finish) = self.finish.lock().take() {
                finish();
            }
        }
        (fault, end)
    }

    /// Asks an actor running `process` on this very thread to stop once it returns: `on_stop`
    /// runs then, followed by `finish` (what the runtime still has to undo).
    pub(crate) fn request_stop_after_process(&self, finish: Finish) {
        *self.finish.lock() = Some(finish);
        self.stop_requested.store(true, Ordering::Release);
    }

    /// Runs `on_stop` (if the actor started) and drops the actor's state, both caught; idempotent.
    /// Waits for a running `process` at most until `until`; returns whether it stopped.
    pub(crate) fn stop_until(&self, until: Instant) -> bool {
        match self.body.try_lock_until(until) {
            Some(mut body) => {
                self.stop_locked(&mut body);
                true
            }
            None => false,
        }
    }

    fn stop_locked(&self, body: &mut Body) {
        if body.stopped {
            return;
        }
        body.stopped = true;
        if body.started {
            let outcome = catch_unwind(AssertUnwindSafe(|| body.actor.on_stop()));
            let _ = self.fault(outcome, "on_stop");
        }
        // The state's `Drop` is user code too: a panic there must not reach a runtime thread.
        let actor = std::mem::replace(&mut body.actor, Box::new(Stopped));
        if catch_unwind(AssertUnwindSafe(move || drop(actor))).is_err() {
            self.entry.stats.record_panic();
            tracing::error!(actor = %self.entry.uri, "dropping the actor's state panicked");
        }
    }

    fn fault(
        &self,
        outcome: std::thread::Result<crate::ProcessResult>,
        what: &'static str,
    ) -> Option<FaultPolicy> {
        let uri = &self.entry.uri;
        match outcome {
            Ok(Ok(())) => return None,
            Ok(Err(error)) => {
                self.entry.stats.record_error();
                tracing::warn!(actor = %uri, %error, "{what} returned an error");
            }
            Err(panic) => {
                self.entry.stats.record_panic();
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "<non-text panic payload>".to_string());
                tracing::error!(actor = %uri, panic = %message, "{what} panicked");
            }
        }
        Some(self.config.fault_policy)
    }
}
