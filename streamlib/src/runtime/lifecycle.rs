//! The end of a runtime, as a thread waiting for it sees it: what
//! [`Runtime::run_until_stopped`](crate::Runtime::run_until_stopped) and
//! [`Runtime::run_for`](crate::Runtime::run_for) wait on.
//!
//! A runtime ends when a shutdown — by [`Runtime::shutdown`](crate::Runtime::shutdown) from any
//! thread, an actor's `Err(ActorError::stop_runtime())`, or a
//! [`FaultPolicy::StopRuntime`](crate::FaultPolicy::StopRuntime) fault — has finished: every
//! actor stopped, its `on_stop` run, the runtime's threads joined. Its outcome is the first
//! fault that started the shutdown, if a fault did; the outcome stays, so every later wait
//! returns it at once.

use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, Result};

/// The shared state behind the waits.
#[derive(Default)]
pub(crate) struct Lifecycle {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Whether a shutdown began (`Runtime::shutdown` was called, by anyone).
    begun: bool,
    /// Shutdowns in progress (concurrent calls each run one).
    in_progress: usize,
    /// Set when the last shutdown in progress finished: the runtime ended.
    ended: bool,
    /// The fault that started the shutdown, under `FaultPolicy::StopRuntime`.
    fault: Option<Error>,
    /// Bumped when an actor stopped, so a waiter re-checks whether any is left.
    generation: u64,
}

/// What a wait saw.
pub(crate) enum Seen {
    /// The runtime ended, with this outcome.
    Ended(Result<()>),
    /// Something changed (an actor stopped) or the deadline passed: check again.
    Changed,
}

impl Lifecycle {
    /// A fault under `StopRuntime` is about to shut the runtime down: it is the outcome, unless
    /// a shutdown began before (then the fault did not end the runtime).
    pub(crate) fn record(&self, fault: Option<Error>) {
        let mut state = self.state.lock();
        if !state.begun && state.fault.is_none() {
            state.fault = fault;
        }
    }

    /// A shutdown begins.
    pub(crate) fn shutdown_started(&self) {
        let mut state = self.state.lock();
        state.begun = true;
        state.in_progress += 1;
    }

    /// A shutdown finished; the last one in progress ends the runtime.
    pub(crate) fn shutdown_finished(&self) {
        let mut state = self.state.lock();
        state.in_progress = state.in_progress.saturating_sub(1);
        if state.in_progress == 0 {
            state.ended = true;
            self.changed.notify_all();
        }
    }

    /// An actor stopped: waiters check whether any is left.
    pub(crate) fn actor_stopped(&self) {
        let mut state = self.state.lock();
        state.generation += 1;
        self.changed.notify_all();
    }

    /// Whether a shutdown began.
    pub(crate) fn begun(&self) -> bool {
        self.state.lock().begun
    }

    /// The current generation, to pass to [`wait`](Self::wait) after checking for actors.
    pub(crate) fn generation(&self) -> u64 {
        self.state.lock().generation
    }

    /// Waits until the runtime ended, an actor stopped after `generation` was read, or `until`.
    pub(crate) fn wait(&self, generation: u64, until: Option<Instant>) -> Seen {
        let mut state = self.state.lock();
        loop {
            if state.ended {
                return Seen::Ended(match &state.fault {
                    Some(fault) => Err(fault.clone()),
                    None => Ok(()),
                });
            }
            if state.generation != generation {
                return Seen::Changed;
            }
            match until {
                Some(until) => {
                    if self.changed.wait_until(&mut state, until).timed_out() {
                        return Seen::Changed;
                    }
                }
                None => self.changed.wait(&mut state),
            }
        }
    }
}
