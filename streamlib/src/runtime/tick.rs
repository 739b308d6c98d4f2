//! One tick of one clock domain in flight: which actors may run, which are done, and the jobs
//! that carry them to threads.
//!
//! A [`TickRun`] holds, per actor of the schedule, the number of its same-clock upstreams not
//! finished yet (`pending`; [`FINISHED`] once it ran) and a shared count of actors left
//! (`remaining`). A thread that finishes an actor decrements its successors' `pending`; a
//! successor reaching 0 is ready: a chain runs back to back on the same thread; of a fan-out's
//! branches, the costliest and those that cost little (measured, together under [`MIN_CHUNK`])
//! stay on the same thread ([`Later`]: waking another thread for them would cost more than
//! running them), the rest go to the run's own queue of work. Each item queued also puts a token
//! ([`Job::Run`]) in the pool, so idle workers join in; the domain's thread drains the same queue
//! while it waits, so a tick never waits for a worker busy with another clock, and the domain's
//! thread never runs another clock's work. The run is reused tick after tick while its schedule
//! does not change and no thread still holds it, so a steady tick allocates nothing.
//!
//! A run whose tick the domain gave up on (an actor stuck past its stop) is **abandoned**: jobs
//! of it still queued finish without running actors, so they never overlap the next tick.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Sender;
use crossbeam_deque::{Injector, Steal};
use parking_lot::{Condvar, Mutex};

use super::pool::{Pool, Push};
use super::schedule::Schedule;
use super::stopwatch::{self, Reading};
use crate::actor::FaultPolicy;
use crate::clock::Tick;
use crate::error::Error;
use crate::port::ActorKey;

use self::sync::{AtomicU32, AtomicUsize};

/// Loom's atomics under `cfg(loom)` (the counters' model below), the standard library's otherwise.
mod sync {
    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicU32, AtomicUsize};
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicU32, AtomicUsize};
}

/// How many roots ahead of the one it runs a thread asks the processor for a root's `Hot`, its
/// state and its ports' first lines (and those of the first three successors it may run next); at half
/// the distance, for the slot each output's write will claim (found in the header by then).
const PREFETCH_AHEAD: usize = 8;

/// `pending` of an actor that ran this tick.
pub(crate) const FINISHED: u32 = u32::MAX;

/// Work is worth another thread when it costs at least this much: a chunk of a tick's roots
/// (the domain's split), a branch of a fan-out ([`Later`]). Below it, waking a worker and
/// handing the work over costs more than it saves.
pub(crate) const MIN_CHUNK: Duration = Duration::from_micros(500);

/// The actors one thread runs next, last in first out: a chain's successor, and a fan-out's
/// branches that stay on this thread.
///
/// When an actor finishes and makes two or more successors without a thread of their own ready
/// at once (a fan-out), each is a **branch**: the costliest (by its measured cost, the branch's
/// whole run on one thread) stays on this thread and runs last; the others stay too while their
/// costs together are under [`MIN_CHUNK`], and run first, so the costliest branch waits less
/// than that and anything the cheap ones hand to other threads (a dedicated reader, a costly
/// grandchild) goes out at once; the rest go to the tick's queue for any thread, so costly
/// branches run side by side. A branch's run is measured here, from its start until this
/// thread is back to what it had before it. A branch never measured (a new actor) counts as
/// free and is measured on its first run. Successors beyond the stack's room are queued
/// whatever they cost, and so are all but the costliest branch of fan-outs nested deeper than
/// [`LATER`] (they could not be measured). Without this every branch beyond the first was
/// queued, one worker woken per branch: 10,000 actors as writers with three readers each cost
/// three to four times as much as in writer → reader pairs.
pub(crate) struct Later {
    /// Actors to run on this thread; [`BRANCH`] marks a branch.
    stack: [u32; LATER],
    len: u8,
    /// Branches running now, innermost last: the actor, when it started, and the stack's length
    /// under it (the branch is done when the stack is back to that).
    open: [(u32, Reading, u8); LATER],
    open_len: u8,
    /// How many actors this may hold: [`LATER`], or 0 where nothing may stay (a dedicated
    /// actor's thread: it runs its actor only).
    room: u8,
}

/// The most actors one thread keeps for itself at once.
const LATER: usize = 16;

/// Marks a branch in [`Later`]'s stack (actor indices are far below it).
const BRANCH: u32 = 1 << 31;

impl Later {
    pub(crate) fn new() -> Later {
        Later {
            stack: [0; LATER],
            len: 0,
            open: [(0, Reading::ZERO, 0); LATER],
            open_len: 0,
            room: LATER as u8,
        }
    }

    /// For a thread that must keep nothing (a dedicated actor's): every successor is queued.
    pub(crate) fn none() -> Later {
        Later {
            room: 0,
            ..Later::new()
        }
    }

    /// Puts `node` on the stack; `false` when there is no room.
    #[inline]
    fn push(&mut self, node: u32) -> bool {
        if self.len >= self.room {
            return false;
        }
        self.stack[self.len as usize] = node;
        self.len += 1;
        true
    }

    /// The next actor to run and whether it is a branch. Branches whose run ended (the stack is
    /// back to what it was under them) are handed to `ended` with what they took, first.
    #[inline]
    fn pop(&mut self, now: Reading, mut ended: impl FnMut(u32, u64)) -> Option<(u32, bool)> {
        while self.open_len > 0 {
            let (branch, started, under) = self.open[self.open_len as usize - 1];
            if under < self.len {
                break;
            }
            ended(branch, now.nanos_since(started));
            self.open_len -= 1;
        }
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let entry = self.stack[self.len as usize];
        let branch = entry & BRANCH != 0;
        if branch && (self.open_len as usize) < LATER {
            self.open[self.open_len as usize] = (entry & !BRANCH, now, self.len);
            self.open_len += 1;
        }
        Some((entry & !BRANCH, branch))
    }

    /// The successors pushed since the stack's length was `from` were made ready together:
    /// with two or more, they are branches. The costliest (by `cost`) goes under the others,
    /// to run last; of the others, those past the budget are taken off and handed to `queue`.
    fn branch_out(&mut self, from: u8, cost: impl Fn(u32) -> u64, mut queue: impl FnMut(u32)) {
        let ready = &mut self.stack[from as usize..self.len as usize];
        if ready.len() < 2 {
            return;
        }
        let costliest = (0..ready.len())
            .max_by_key(|&i| cost(ready[i]))
            .unwrap_or(0);
        ready.swap(0, costliest);
        // With every branch slot taken (fan-outs nested 16 deep), more branches could not be
        // measured: all but the costliest are queued.
        let budget = if (self.open_len as usize) < LATER {
            MIN_CHUNK.as_nanos() as u64
        } else {
            0
        };
        let (mut kept, mut at) = (0u64, from as usize + 1);
        while at < self.len as usize {
            let node = self.stack[at];
            let took = cost(node);
            if kept + took < budget {
                kept += took;
                self.stack[at] = node | BRANCH;
                at += 1;
            } else {
                self.len -= 1;
                self.stack[at] = self.stack[self.len as usize];
                queue(node);
            }
        }
        self.stack[from as usize] |= BRANCH;
    }
}

/// The counters the threads of one tick share: per actor, its same-clock upstreams not finished
/// yet ([`FINISHED`] once it ran), and the actors left.
///
/// The protocol, checked by the loom model below: the thread that finishes an upstream
/// decrements its successors (`AcqRel`); the one whose decrement takes a successor to 0 runs it,
/// and sees every write its upstreams made before finishing. `remaining` is decremented once per
/// job by the number of actors the job completed; the decrement that reaches 0 ends the tick,
/// exactly once.
pub(crate) struct Counters {
    pending: Box<[AtomicU32]>,
    remaining: AtomicUsize,
}

impl Counters {
    pub(crate) fn new(predecessors: &[u32]) -> Counters {
        Counters {
            pending: predecessors.iter().map(|&p| AtomicU32::new(p)).collect(),
            remaining: AtomicUsize::new(predecessors.len()),
        }
    }

    /// An upstream of `node` finished; `true` when that made `node` ready (once per tick).
    pub(crate) fn release(&self, node: u32) -> bool {
        self.pending[node as usize].fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// `node` ran this tick.
    pub(crate) fn finished(&self, node: u32) {
        self.pending[node as usize].store(FINISHED, Ordering::Release);
    }

    /// Whether `node` is ready (no upstream left) but has not finished.
    pub(crate) fn ready_unfinished(&self, node: u32) -> bool {
        self.pending[node as usize].load(Ordering::Acquire) == 0
    }

    /// `n` more actors are done; `true` for the call that completed the tick (once).
    pub(crate) fn complete(&self, n: usize) -> bool {
        n > 0 && self.remaining.fetch_sub(n, Ordering::AcqRel) == n
    }
}

/// What the runtime's fault thread applies (never lost with an abandoned tick): the
/// [`FaultPolicy`] of an actor that failed, or what an actor asked for with
/// [`ActorError::stop`](crate::ActorError::stop) / `stop_runtime`.
#[derive(Debug)]
pub(crate) struct Fault {
    pub(crate) key: ActorKey,
    /// `Stop` or `StopRuntime` (a fault under `Continue` is counted and logged, never sent).
    pub(crate) policy: FaultPolicy,
    /// What failed, for a fault; `None` for an actor's own request, which is no fault. Boxed:
    /// every actor run returns an `Option<Fault>`, which stays three words.
    pub(crate) error: Option<Box<Error>>,
}

/// One tick of one domain in flight.
pub(crate) struct TickRun {
    pub(crate) schedule: Arc<Schedule>,
    pub(crate) tick: Tick,
    /// The tick came more than a period after its deadline: each actor counts it late.
    pub(crate) late: bool,
    counters: Counters,
    /// Work of this tick waiting for a thread: chunks of roots, actors made ready.
    queue: Injector<Work>,
    abandoned: AtomicBool,
    /// Set when the tick completed; the signal also wakes the domain's thread for new work.
    done: Mutex<bool>,
    done_signal: Condvar,
    pub(crate) pool: Arc<Pool>,
    faults: Sender<Fault>,
}

/// Work for a pool thread.
pub(crate) enum Job {
    /// A tick has work queued: take some.
    Run(Arc<TickRun>),
    /// Something to run outside any tick (an actor's `on_stop`).
    Task(Box<dyn FnOnce() + Send>),
}

/// An item of a tick's own queue.
pub(crate) enum Work {
    /// Roots `start..end` of the schedule, each with the chain it makes ready.
    Roots(Range<u32>),
    /// One actor made ready.
    Node(u32),
}

impl TickRun {
    pub(crate) fn new(
        schedule: Arc<Schedule>,
        tick: Tick,
        pool: Arc<Pool>,
        faults: Sender<Fault>,
    ) -> TickRun {
        TickRun {
            late: is_late(&tick),
            counters: Counters::new(&schedule.predecessors),
            queue: Injector::new(),
            schedule,
            tick,
            abandoned: AtomicBool::new(false),
            done: Mutex::new(false),
            done_signal: Condvar::new(),
            pool,
            faults,
        }
    }

    /// Makes this run ready for another tick of the same schedule (no allocation: it is not
    /// shared, the caller holds the only reference).
    pub(crate) fn reset(&mut self, tick: Tick) {
        self.late = is_late(&tick);
        self.tick = tick;
        let counters = &mut self.counters;
        // Plain stores through `&mut` (a copy the compiler vectorises; loom's atomics have no
        // `get_mut`).
        for (pending, &p) in counters.pending.iter_mut().zip(&self.schedule.predecessors) {
            #[cfg(not(loom))]
            {
                *pending.get_mut() = p;
            }
            #[cfg(loom)]
            pending.store(p, Ordering::Relaxed);
        }
        counters
            .remaining
            .store(self.schedule.nodes.len(), Ordering::Relaxed);
        *self.done.get_mut() = false;
    }

    pub(crate) fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Acquire)
    }

    /// Gives up on this tick: queued jobs of it will not run actors.
    pub(crate) fn abandon(&self) {
        self.abandoned.store(true, Ordering::Release);
    }

    /// Runs this tick's queued work on this thread until every actor finished, checking
    /// `give_up` every 50 ms of waiting; returns whether the tick completed.
    pub(crate) fn help_until_done(
        self: &Arc<Self>,
        push: &Push<'_>,
        mut give_up: impl FnMut(&TickRun) -> bool,
    ) -> bool {
        loop {
            self.drain(push);
            let mut done = self.done.lock();
            if *done {
                return true;
            }
            if !self.queue.is_empty() {
                continue;
            }
            if self
                .done_signal
                .wait_for(&mut done, Duration::from_millis(50))
                .timed_out()
                && !*done
                && give_up(self)
            {
                return false;
            }
        }
    }

    /// Queues `work` of this tick and tells the pool (and the domain's thread, if it waits).
    pub(crate) fn offer(self: &Arc<Self>, work: Work, push: &Push<'_>) {
        self.queue.push(work);
        push.push(Job::Run(self.clone()));
        let _done = self.done.lock();
        self.done_signal.notify_all();
    }

    /// Marks this thread as running actors of this tick: values they write travel to other
    /// processes stamped with it. Called where a thread takes up work of this tick (`drain`,
    /// the domain's `execute`, a dedicated thread), not per actor: a job runs actors of one tick.
    pub(crate) fn enter(&self) {
        crate::wire::set_current_stamp(crate::wire::Stamp {
            frame_number: self.tick.frame_number,
            timestamp: self.tick.timestamp,
        });
    }

    /// Runs queued work of this tick until the queue is empty.
    pub(crate) fn drain(self: &Arc<Self>, push: &Push<'_>) {
        self.enter();
        let mut later = Later::new();
        loop {
            match self.queue.steal() {
                Steal::Success(Work::Roots(range)) => self.run_roots(range, push),
                Steal::Success(Work::Node(node)) => {
                    let (_, completed) = self.run_node(node, stopwatch::now(), push, &mut later);
                    self.complete(completed);
                }
                Steal::Retry => continue,
                Steal::Empty => return,
            }
        }
    }

    /// Whether an unfinished actor of this tick was stopped and is held in user code
    /// (`on_start`, `process`, `on_stop`: its lock is taken), or a thread of the tick waits for
    /// it: the tick may never complete, so the domain moves on. A stopped actor that is only
    /// waiting for a thread (queued, or kept by a thread busy with other actors) is not stuck:
    /// its run returns at once.
    pub(crate) fn stuck_on_stopped_actor(&self) -> bool {
        self.schedule.nodes.iter().enumerate().any(|(i, cell)| {
            self.counters.ready_unfinished(i as u32)
                && !cell.is_running()
                && cell.hot().state.is_locked()
        })
    }

    /// Counts `n` actors of the tick as done (once per job, not per actor: `remaining` is shared
    /// by every thread of the tick) and wakes the domain when none remain.
    pub(crate) fn complete(&self, n: usize) {
        if self.counters.complete(n) {
            *self.done.lock() = true;
            self.done_signal.notify_all();
        }
    }

    /// Marks `node` done and releases its successors: those made ready without a thread of
    /// their own go on `later` for this thread (a fan-out's branches as [`Later`] says), the
    /// others to their thread or the tick's queue. The caller counts `node` with
    /// [`complete`](Self::complete).
    pub(crate) fn finish_node(self: &Arc<Self>, node: u32, push: &Push<'_>, later: &mut Later) {
        let from = later.len;
        for &succ in &self.schedule.successors[node as usize] {
            if self.counters.release(succ) {
                let dedicated = self.schedule.hot(succ).is_dedicated();
                if dedicated || !later.push(succ) {
                    self.dispatch(succ, push);
                }
            }
        }
        if later.len - from >= 2 {
            later.branch_out(from, |n| self.schedule.cost(n), |n| self.dispatch(n, push));
        }
        self.counters.finished(node);
    }

    /// Gets a ready actor run: by its dedicated thread, or as a job others may steal.
    pub(crate) fn dispatch(self: &Arc<Self>, node: u32, push: &Push<'_>) {
        if self.hand_to_dedicated(node) {
            return;
        }
        self.offer(Work::Node(node), push);
    }

    /// Sends `node` to its dedicated thread; `false` if it has none or the thread is gone.
    fn hand_to_dedicated(self: &Arc<Self>, node: u32) -> bool {
        self.schedule.nodes[node as usize]
            .dedicated
            .as_ref()
            .is_some_and(|d| d.run(self.clone(), node))
    }

    /// Runs `node` and then, on this thread, what it makes ready for this thread ([`Later`]):
    /// a chain back to back, a fan-out's cheap branches and its costliest. `now` is the current
    /// time; returns the time the last actor run finished and how many actors this thread
    /// completed (a dedicated actor is completed by its own thread).
    pub(crate) fn run_node(
        self: &Arc<Self>,
        node: u32,
        mut now: Reading,
        push: &Push<'_>,
        later: &mut Later,
    ) -> (Reading, usize) {
        let started = now;
        let mut completed = 0;
        // `later` is empty here (every run leaves it so) and has room: `none()` never runs nodes.
        let pushed = later.push(node);
        debug_assert!(pushed, "a run_node's Later has room");
        let record = |branch, took| self.schedule.record_cost(branch, took);
        while let Some((next, _)) = later.pop(now, record) {
            let done;
            (now, done) = self.run_one(next, now, push, later);
            completed += usize::from(done);
        }
        // What this node and all it ran cost, for splitting the next ticks.
        self.schedule.record_cost(node, now.nanos_since(started));
        (now, completed)
    }

    /// Runs `node` and marks it done, or hands it to its own thread: returns the time the run
    /// finished and whether this thread completed it.
    #[inline]
    fn run_one(
        self: &Arc<Self>,
        node: u32,
        mut now: Reading,
        push: &Push<'_>,
        later: &mut Later,
    ) -> (Reading, bool) {
        let hot = self.schedule.hot(node);
        if hot.is_dedicated() {
            if self.hand_to_dedicated(node) {
                // Its thread finishes it and counts it.
                return (now, false);
            }
            // Its thread is gone (the actor stopped): nothing to run.
        } else if !self.is_abandoned() {
            let cell = &self.schedule.nodes[node as usize];
            now = cell.run(hot, &self.tick, self.late, now, |fault| self.fault(fault));
        }
        self.finish_node(node, push, later);
        (now, true)
    }

    /// Runs the roots `range`, each with the chain it makes ready.
    pub(crate) fn run_roots(self: &Arc<Self>, range: Range<u32>, push: &Push<'_>) {
        let (mut now, mut completed) = (stopwatch::now(), 0);
        let mut later = Later::new();
        let roots = &self.schedule.roots[..range.end as usize];
        for index in range.start as usize..roots.len() {
            // With thousands of actors a tick's cells are not in the cache any more; asking for
            // those a few roots ahead overlaps their fetch with this actor's run (10,000 empty
            // actors: a quarter less CPU, BENCHMARKS.md).
            if let Some(&ahead) = roots.get(index + PREFETCH_AHEAD) {
                self.schedule.prefetch(ahead);
            }
            if let Some(&ahead) = roots.get(index + PREFETCH_AHEAD / 2) {
                self.schedule.prefetch_claims(ahead);
            }
            let (end, n) = self.run_node(roots[index], now, push, &mut later);
            (now, completed) = (end, completed + n);
        }
        self.complete(completed);
    }

    pub(crate) fn fault(&self, fault: Fault) {
        let _ = self.faults.send(fault);
    }
}

/// Whether `tick` came more than a period after its deadline.
fn is_late(tick: &Tick) -> bool {
    tick.lateness > tick.rate.period()
}

/// Runs a job on this thread.
pub(crate) fn run_job(job: Job, push: &Push<'_>) {
    match job {
        Job::Run(run) => run.drain(push),
        Job::Task(task) => task(),
    }
}

/// Loom model of [`Counters`]: `RUSTFLAGS="--cfg loom" cargo test -p streamlib --release --lib
/// loom_counters`.
#[cfg(all(test, loom))]
mod loom_counters {
    use super::Counters;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::Arc;
    use loom::thread;

    /// A diamond `0 → {1, 2} → 3`: 1 and 2 finish on two threads; exactly one of them runs 3,
    /// which sees both their writes; exactly one `complete` ends the tick.
    #[test]
    fn a_join_runs_once_after_both_branches_and_the_tick_ends_once() {
        loom::model(|| {
            let counters = Arc::new(Counters::new(&[0, 1, 1, 2]));
            let written = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
            let ends = Arc::new(AtomicUsize::new(0));
            counters.finished(0);
            assert!(counters.release(1) && counters.release(2));
            assert!(!counters.complete(1));
            let branches: Vec<_> = [1u32, 2]
                .into_iter()
                .map(|node| {
                    let (counters, written, ends) =
                        (counters.clone(), written.clone(), ends.clone());
                    thread::spawn(move || {
                        written[node as usize - 1].store(node as usize, Ordering::Relaxed);
                        counters.finished(node);
                        let mut completed = 1;
                        if counters.release(3) {
                            // The join: both upstreams' writes are visible.
                            assert_eq!(written[0].load(Ordering::Relaxed), 1);
                            assert_eq!(written[1].load(Ordering::Relaxed), 2);
                            counters.finished(3);
                            completed += 1;
                        }
                        if counters.complete(completed) {
                            ends.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            for branch in branches {
                branch.join().unwrap();
            }
            assert_eq!(
                ends.load(Ordering::Relaxed),
                1,
                "the tick ends exactly once"
            );
            assert!(!counters.ready_unfinished(3));
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Later, LATER, MIN_CHUNK};
    use crate::runtime::stopwatch::Reading;

    const BUDGET: u64 = MIN_CHUNK.as_nanos() as u64;

    /// Pops everything, noting each actor and the branches that ended before it.
    fn run_all(later: &mut Later) -> (Vec<(u32, bool)>, Vec<u32>) {
        let (mut ran, mut ended) = (Vec::new(), Vec::new());
        while let Some(next) = later.pop(Reading::ZERO, |branch, _| ended.push(branch)) {
            ran.push(next);
        }
        (ran, ended)
    }

    #[test]
    fn a_lone_successor_is_a_chain_not_a_branch() {
        let mut later = Later::new();
        assert!(later.push(4));
        later.branch_out(0, |_| 0, |n| panic!("{n} queued"));
        assert_eq!(run_all(&mut later), (vec![(4, false)], vec![]));
    }

    #[test]
    fn the_costliest_branch_runs_last_and_cheap_ones_first_within_the_budget() {
        let costs =
            |n: u32| [0, BUDGET / 2, 5 * BUDGET, BUDGET / 4, BUDGET, BUDGET / 8][n as usize];
        let mut later = Later::new();
        for node in 1..=5 {
            assert!(later.push(node));
        }
        let mut queued = Vec::new();
        later.branch_out(0, costs, |n| queued.push(n));
        // 2 is the costliest: it stays, under the others. 1, 3 and 5 fit the budget together
        // (7/8 of it); 4 alone fills it: queued.
        assert_eq!(queued, [4]);
        let (ran, ended) = run_all(&mut later);
        assert_eq!(ran.last(), Some(&(2, true)), "{ran:?}");
        let mut first: Vec<u32> = ran[..3]
            .iter()
            .map(|&(n, branch)| {
                assert!(branch);
                n
            })
            .collect();
        first.sort_unstable();
        assert_eq!(first, [1, 3, 5]);
        assert_eq!(ended.len(), 4, "every branch's run ends once: {ended:?}");
    }

    #[test]
    fn a_branch_ends_when_what_it_made_ready_has_run() {
        let mut later = Later::new();
        assert!(later.push(1) && later.push(2));
        later.branch_out(0, |_| 0, |n| panic!("{n} queued"));
        let mut ended = Vec::new();
        // The first branch out makes 7 ready: its chain, inside its branch.
        let (first, _) = later.pop(Reading::ZERO, |b, _| ended.push(b)).unwrap();
        assert!(later.push(7));
        later.branch_out(1, |_| 0, |n| panic!("{n} queued"));
        assert_eq!(
            later.pop(Reading::ZERO, |b, _| ended.push(b)),
            Some((7, false))
        );
        assert!(ended.is_empty(), "{first}'s branch is still running 7");
        let (second, _) = later.pop(Reading::ZERO, |b, _| ended.push(b)).unwrap();
        assert_eq!(
            ended,
            [first],
            "{first}'s branch ended before {second} starts"
        );
        assert_eq!(later.pop(Reading::ZERO, |b, _| ended.push(b)), None);
        assert_eq!(ended, [first, second]);
    }

    #[test]
    fn a_full_stack_and_a_dedicated_threads_later_refuse() {
        let mut later = Later::new();
        for node in 0..LATER as u32 {
            assert!(later.push(node), "{node}");
        }
        assert!(!later.push(99), "full");
        let mut none = Later::none();
        assert!(!none.push(1));
        assert_eq!(none.pop(Reading::ZERO, |_, _| {}), None);
    }
}
