//! The scheduler: clock domains, their schedules, and the worker pool that runs them.
//!
//! How a tick runs is described once, in the [`runtime`](crate::runtime) module docs; this file
//! is that description in code: [`domain_loop`] waits for ticks, [`Schedule::build`] orders a
//! clock's actors, [`execute`] runs one tick as a DAG on the [`Pool`].

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::{Condvar, Mutex};

use crate::actor::{ActorConfig, FaultPolicy, Process};
use crate::clock::{Clock, Interrupt, Tick};
use crate::port::ActorKey;
use crate::registry::ActorEntry;
use crate::stats::Histogram;

use super::RuntimeInner;

/// One spawned actor as the scheduler sees it.
pub(crate) struct ActorCell {
    pub(crate) key: ActorKey,
    pub(crate) entry: Arc<ActorEntry>,
    pub(crate) config: ActorConfig,
    pub(crate) body: Mutex<Body>,
    /// For [`Dispatch::Dedicated`](crate::Dispatch::Dedicated): the actor's own thread.
    pub(crate) dedicated: Option<Dedicated>,
}

pub(crate) struct Body {
    pub(crate) actor: Box<dyn Process + Send>,
    pub(crate) started: bool,
    pub(crate) stopped: bool,
}

pub(crate) enum DedicatedMsg {
    Run(Arc<TickRun>, u32),
    Stop(Sender<()>),
}

pub(crate) struct Dedicated {
    pub(crate) sender: Sender<DedicatedMsg>,
}

impl ActorCell {
    pub(crate) fn is_running(&self) -> bool {
        self.entry.running.load(Ordering::Acquire)
    }

    /// Runs one tick of this actor: `on_start` first if needed, then `process`, catching errors
    /// and panics. `start` is now (the end of the actor run before on this thread: one clock read
    /// per actor, not two). Returns the fault policy to apply, if `process` failed, and the time
    /// it finished.
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
        let outcome = catch_unwind(AssertUnwindSafe(|| body.actor.process(tick)));
        let end = Instant::now();
        stats.record_tick(end.saturating_duration_since(start), tick.skipped);
        if tick.lateness > tick.rate.period() {
            stats.record_late();
        }
        (self.fault(outcome, "process"), end)
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

/// The actors of one clock in run order, with their same-clock dependencies.
#[derive(Default)]
pub(crate) struct Schedule {
    pub(crate) nodes: Vec<Arc<ActorCell>>,
    successors: Vec<Vec<u32>>,
    predecessors: Vec<u32>,
    roots: Vec<u32>,
}

impl Schedule {
    /// Orders `actors` (in spawn order) by the `edges` between them (Kahn's algorithm). When a
    /// cycle blocks progress, the earliest-spawned actor left goes next and its incoming edges
    /// from the cycle are dropped.
    pub(crate) fn build(actors: Vec<Arc<ActorCell>>, edges: &[(ActorKey, ActorKey)]) -> Schedule {
        let index: HashMap<ActorKey, usize> =
            actors.iter().enumerate().map(|(i, a)| (a.key, i)).collect();
        let n = actors.len();
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
        // Per actor: its upstreams not placed yet in the order (Kahn's algorithm).
        let mut remaining = vec![0u32; n];
        for (from, to) in edges {
            if let (Some(&f), Some(&t)) = (index.get(from), index.get(to)) {
                if f != t && !out[f].contains(&t) {
                    out[f].push(t);
                    remaining[t] += 1;
                }
            }
        }
        let mut placed = vec![false; n];
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|&i| remaining[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let next = match ready.pop_first() {
                Some(i) => i,
                // A cycle: break it at the earliest-spawned actor not yet placed.
                None => match (0..n).find(|&i| !placed[i]) {
                    Some(i) => i,
                    None => break,
                },
            };
            placed[next] = true;
            order.push(next);
            for &t in &out[next] {
                if !placed[t] {
                    remaining[t] -= 1;
                    if remaining[t] == 0 {
                        ready.insert(t);
                    }
                }
            }
        }
        // Re-index in run order; keep only edges that go forward in it (an edge backwards
        // closed a cycle: its reader sees the previous tick's value).
        let mut position = vec![0; n];
        for (pos, &i) in order.iter().enumerate() {
            position[i] = pos;
        }
        let mut successors = vec![Vec::new(); n];
        let mut predecessors = vec![0u32; n];
        for (from, targets) in out.iter().enumerate() {
            for &to in targets {
                if position[to] > position[from] {
                    successors[position[from]].push(position[to] as u32);
                    predecessors[position[to]] += 1;
                }
            }
        }
        let roots = (0..n as u32)
            .filter(|&i| predecessors[i as usize] == 0)
            .collect();
        let mut slots: Vec<Option<Arc<ActorCell>>> = actors.into_iter().map(Some).collect();
        let nodes = order.iter().filter_map(|&i| slots[i].take()).collect();
        Schedule {
            nodes,
            successors,
            predecessors,
            roots,
        }
    }

    /// URIs in run order (for tests and the DOT export).
    #[cfg(test)]
    pub(crate) fn order(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.entry.uri.to_string()).collect()
    }
}

/// One tick of one domain in flight.
pub(crate) struct TickRun {
    schedule: Arc<Schedule>,
    tick: Tick,
    /// Per actor: upstreams of this tick not finished yet, then [`FINISHED`] once it ran.
    pending: Box<[AtomicU32]>,
    remaining: AtomicUsize,
    done: Mutex<bool>,
    done_signal: Condvar,
    pool: Arc<Pool>,
    faults: Mutex<Vec<(ActorKey, FaultPolicy)>>,
}

enum Job {
    Roots(Arc<TickRun>, Range<usize>),
    Node(Arc<TickRun>, u32),
    Exit,
}

/// The worker threads shared by all domains of a runtime.
pub(crate) struct Pool {
    threads: usize,
    sender: Sender<Job>,
    receiver: Receiver<Job>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    pub(crate) fn start(threads: usize) -> crate::Result<Arc<Pool>> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let pool = Arc::new(Pool {
            threads,
            sender,
            receiver,
            workers: Mutex::new(Vec::new()),
        });
        for i in 0..threads {
            let receiver = pool.receiver.clone();
            let handle = std::thread::Builder::new()
                .name(format!("streamlib-worker-{i}"))
                .spawn(move || {
                    while let Ok(job) = receiver.recv() {
                        if !run_job(job) {
                            break;
                        }
                    }
                })
                .map_err(|e| crate::Error::os("spawning a worker thread", e))?;
            pool.workers.lock().push(handle);
        }
        Ok(pool)
    }

    /// Stops the workers, waiting up to `timeout` for them to finish their current job.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        let workers: Vec<_> = self.workers.lock().drain(..).collect();
        for _ in &workers {
            let _ = self.sender.send(Job::Exit);
        }
        join_all(workers, timeout);
    }
}

/// Joins threads, giving up (detaching the rest) after `timeout`.
pub(crate) fn join_all(threads: Vec<JoinHandle<()>>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    for thread in threads {
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
    }
}

/// Runs a job; returns `false` for [`Job::Exit`].
fn run_job(job: Job) -> bool {
    match job {
        Job::Roots(run, range) => {
            let (mut now, mut completed) = (Instant::now(), 0);
            for &node in &run.schedule.roots[range] {
                let (end, n) = run_node(&run, node, now);
                (now, completed) = (end, completed + n);
            }
            complete(&run, completed);
        }
        Job::Node(run, node) => {
            let (_, completed) = run_node(&run, node, Instant::now());
            complete(&run, completed);
        }
        Job::Exit => return false,
    }
    true
}

/// Runs `node` and then, back to back on this thread, the first successor it made ready.
/// `now` is the current time; returns the time the last actor run finished and how many actors
/// this thread completed (a dedicated actor is completed by its own thread).
fn run_node(run: &Arc<TickRun>, node: u32, mut now: Instant) -> (Instant, usize) {
    let mut next = Some(node);
    let mut completed = 0;
    while let Some(node) = next.take() {
        let cell = &run.schedule.nodes[node as usize];
        if cell.dedicated.is_some() {
            if !hand_to_dedicated(run, node) {
                // Its thread is gone (the actor stopped): nothing to run.
                next = finish_node(run, node);
                completed += 1;
            }
            continue;
        }
        let (fault, end) = cell.run(&run.tick, now);
        now = end;
        if let Some(policy) = fault {
            run.faults.lock().push((cell.key, policy));
        }
        next = finish_node(run, node);
        completed += 1;
    }
    (now, completed)
}

/// Counts `n` actors of the tick as done (once per job, not per actor: `remaining` is shared by
/// every thread of the tick) and wakes the domain when none remain.
fn complete(run: &TickRun, n: usize) {
    if n > 0 && run.remaining.fetch_sub(n, Ordering::AcqRel) == n {
        *run.done.lock() = true;
        run.done_signal.notify_all();
    }
}

/// Marks `node` done: releases its successors, returns one to run on this thread. The caller
/// counts it with [`complete`].
pub(crate) fn finish_node(run: &Arc<TickRun>, node: u32) -> Option<u32> {
    let mut inline = None;
    for &succ in &run.schedule.successors[node as usize] {
        if run.pending[succ as usize].fetch_sub(1, Ordering::AcqRel) == 1 {
            let dedicated = run.schedule.nodes[succ as usize].dedicated.is_some();
            if inline.is_none() && !dedicated {
                inline = Some(succ);
            } else {
                dispatch(run, succ);
            }
        }
    }
    run.pending[node as usize].store(FINISHED, Ordering::Release);
    inline
}

/// `pending` of an actor that ran this tick.
const FINISHED: u32 = u32::MAX;

/// Sends `node` to its dedicated thread; `false` if it has none or the thread is gone.
fn hand_to_dedicated(run: &Arc<TickRun>, node: u32) -> bool {
    run.schedule.nodes[node as usize]
        .dedicated
        .as_ref()
        .is_some_and(|d| d.sender.send(DedicatedMsg::Run(run.clone(), node)).is_ok())
}

/// Gets a ready actor run: by its dedicated thread, or by the pool.
fn dispatch(run: &Arc<TickRun>, node: u32) {
    if hand_to_dedicated(run, node) {
        return;
    }
    let job = Job::Node(run.clone(), node);
    if let Err(unsent) = run.pool.sender.send(job) {
        // The pool is shutting down: run it here rather than lose the tick.
        run_job(unsent.into_inner());
    }
}

/// The loop of a dedicated actor's thread.
pub(crate) fn dedicated_loop(cell: Weak<ActorCell>, receiver: Receiver<DedicatedMsg>) {
    while let Ok(msg) = receiver.recv() {
        let Some(cell) = cell.upgrade() else { return };
        match msg {
            DedicatedMsg::Run(run, node) => {
                if let (Some(policy), _) = cell.run(&run.tick, Instant::now()) {
                    run.faults.lock().push((cell.key, policy));
                }
                if let Some(n) = finish_node(&run, node) {
                    // Successors made ready here go to the pool, not this thread.
                    dispatch(&run, n);
                }
                complete(&run, 1);
            }
            DedicatedMsg::Stop(reply) => {
                stop_body(&cell);
                let _ = reply.send(());
                return;
            }
        }
    }
}

/// Marks the body stopped and runs `on_stop` if the actor had started.
pub(crate) fn stop_body(cell: &ActorCell) {
    let mut body = cell.body.lock();
    if body.stopped {
        return;
    }
    body.stopped = true;
    if body.started {
        let outcome = catch_unwind(AssertUnwindSafe(|| body.actor.on_stop()));
        let _ = cell.fault(outcome, "on_stop");
    }
}

/// One clock and its actors.
pub(crate) struct Domain {
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) interrupt: Interrupt,
    /// Actors of this clock, by key (spawn order).
    pub(crate) actors: Mutex<BTreeMap<ActorKey, Arc<ActorCell>>>,
    /// Bumped whenever the schedule must be rebuilt.
    pub(crate) generation: AtomicU64,
    pub(crate) thread: Mutex<Option<JoinHandle<()>>>,
    /// How late the clock's ticks arrive, shared with the stats of every actor of the domain.
    pub(crate) lateness: Arc<Histogram>,
}

impl Domain {
    pub(crate) fn new(clock: Box<dyn Clock>) -> Domain {
        Domain {
            clock,
            interrupt: Interrupt::new(),
            actors: Mutex::new(BTreeMap::new()),
            generation: AtomicU64::new(1),
            thread: Mutex::new(None),
            lateness: Arc::new(Histogram::default()),
        }
    }

    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }
}

/// The loop of a domain's thread: wait for a tick, run the schedule, repeat until interrupted.
pub(crate) fn domain_loop(domain: Arc<Domain>, runtime: Weak<RuntimeInner>, pool: Arc<Pool>) {
    let mut previous: Option<Tick> = None;
    let mut schedule = Arc::new(Schedule::default());
    let mut built = 0;
    let mut next_report = Instant::now() + STATS_REPORT_PERIOD;
    domain.clock.prepare_thread();
    while let Some(tick) = domain.clock.next_tick(previous.as_ref(), &domain.interrupt) {
        previous = Some(tick);
        domain.lateness.record(tick.lateness);
        let generation = domain.generation.load(Ordering::Acquire);
        if generation != built {
            let Some(runtime) = runtime.upgrade() else {
                return;
            };
            schedule = Arc::new(runtime.build_schedule(&domain));
            built = generation;
        }
        if schedule.nodes.is_empty() {
            continue;
        }
        let faults = execute(&schedule, tick, &pool, &domain);
        if tick.instant >= next_report {
            report_stats(&schedule);
            next_report = tick.instant + STATS_REPORT_PERIOD;
        }
        if !faults.is_empty() {
            if let Some(runtime) = runtime.upgrade() {
                runtime.apply_faults(faults);
            }
        }
    }
}

/// How often each domain reports its actors' stats as `tracing` events.
const STATS_REPORT_PERIOD: Duration = Duration::from_secs(5);

/// Emits one `streamlib::stats` debug event per actor, if anyone listens.
fn report_stats(schedule: &Schedule) {
    if !tracing::enabled!(target: "streamlib::stats", tracing::Level::DEBUG) {
        return;
    }
    for cell in &schedule.nodes {
        let s = cell.entry.stats.snapshot();
        tracing::debug!(
            target: "streamlib::stats",
            actor = %cell.entry.uri,
            ticks = s.ticks,
            skipped_ticks = s.skipped_ticks,
            late_ticks = s.late_ticks,
            errors = s.errors,
            panics = s.panics,
            process_p50_us = s.process_p50.as_micros() as u64,
            process_p99_us = s.process_p99.as_micros() as u64,
            process_max_us = s.process_max.as_micros() as u64,
            "actor stats"
        );
    }
}

/// Runs one tick of `schedule`; returns the fault policies to apply.
fn execute(
    schedule: &Arc<Schedule>,
    tick: Tick,
    pool: &Arc<Pool>,
    domain: &Domain,
) -> Vec<(ActorKey, FaultPolicy)> {
    let n = schedule.nodes.len();
    let run = Arc::new(TickRun {
        schedule: schedule.clone(),
        tick,
        pending: schedule
            .predecessors
            .iter()
            .map(|&p| AtomicU32::new(p))
            .collect(),
        remaining: AtomicUsize::new(n),
        done: Mutex::new(false),
        done_signal: Condvar::new(),
        pool: pool.clone(),
        faults: Mutex::new(Vec::new()),
    });
    // Split the roots into a few chunks: the pool takes all but the first, this thread runs it.
    let roots = schedule.roots.len();
    let chunks = if roots >= 64 {
        (pool.threads + 1) * 4
    } else {
        1
    };
    let size = roots.div_ceil(chunks).max(1);
    let mut ranges = (0..roots).step_by(size).map(|s| s..(s + size).min(roots));
    let first = ranges.next();
    for range in ranges {
        let _ = pool.sender.send(Job::Roots(run.clone(), range));
    }
    if let Some(range) = first {
        run_job(Job::Roots(run.clone(), range));
    }
    // Help with whatever is queued, then wait for the rest.
    while run.remaining.load(Ordering::Acquire) > 0 {
        match pool.receiver.try_recv() {
            Ok(Job::Exit) => {
                let _ = pool.sender.send(Job::Exit);
                break;
            }
            Ok(job) => {
                run_job(job);
            }
            Err(_) => break,
        }
    }
    let mut done = run.done.lock();
    while !*done {
        if run
            .done_signal
            .wait_for(&mut done, Duration::from_millis(50))
            .timed_out()
            && (domain.interrupt.is_fired() || run.stuck_on_stopped_actor())
        {
            break;
        }
    }
    drop(done);
    let faults = std::mem::take(&mut *run.faults.lock());
    faults
}

impl TickRun {
    /// Whether an unfinished actor of this tick was stopped (its `process` detached after a stop
    /// timeout): the tick would never complete, so the domain moves on.
    fn stuck_on_stopped_actor(&self) -> bool {
        self.schedule
            .nodes
            .iter()
            .enumerate()
            .any(|(i, cell)| self.pending[i].load(Ordering::Acquire) == 0 && !cell.is_running())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::ActorEntry;
    use crate::stats::ActorStatsCell;
    use crate::uri::ActorUri;
    use std::sync::atomic::AtomicBool;

    struct Nop;
    impl Process for Nop {
        fn process(&mut self, _: &Tick) -> crate::ProcessResult {
            Ok(())
        }
    }

    fn cell(key: u64, id: &str) -> Arc<ActorCell> {
        Arc::new(ActorCell {
            key: ActorKey(key),
            entry: Arc::new(ActorEntry {
                uri: ActorUri::local("A", id).unwrap(),
                ports: Vec::new(),
                stats: ActorStatsCell::default(),
                running: AtomicBool::new(true),
                clock: String::new(),
            }),
            config: ActorConfig::default(),
            body: Mutex::new(Body {
                actor: Box::new(Nop),
                started: false,
                stopped: false,
            }),
            dedicated: None,
        })
    }

    fn ids(schedule: &Schedule) -> Vec<String> {
        schedule
            .order()
            .iter()
            .map(|u| u.rsplit('/').next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn orders_by_connections_not_spawn_order() {
        let actors = vec![cell(1, "sink"), cell(2, "mid"), cell(3, "src")];
        let edges = [(ActorKey(3), ActorKey(2)), (ActorKey(2), ActorKey(1))];
        let s = Schedule::build(actors, &edges);
        assert_eq!(ids(&s), ["src", "mid", "sink"]);
        assert_eq!(s.roots, [0]);
        assert_eq!(s.predecessors, [0, 1, 1]);
    }

    #[test]
    fn independent_actors_keep_spawn_order_and_are_all_roots() {
        let s = Schedule::build(vec![cell(1, "a"), cell(2, "b"), cell(3, "c")], &[]);
        assert_eq!(ids(&s), ["a", "b", "c"]);
        assert_eq!(s.roots, [0, 1, 2]);
    }

    #[test]
    fn a_cycle_is_broken_at_the_earliest_spawned_actor() {
        let actors = vec![cell(1, "x"), cell(2, "y"), cell(3, "z")];
        let edges = [
            (ActorKey(1), ActorKey(2)),
            (ActorKey(2), ActorKey(1)),
            (ActorKey(2), ActorKey(3)),
        ];
        let s = Schedule::build(actors, &edges);
        assert_eq!(ids(&s), ["x", "y", "z"]);
        // Only forward edges are kept: y → x closed the cycle and is dropped.
        assert_eq!(s.predecessors, [0, 1, 1]);
    }

    #[test]
    fn edges_to_other_clocks_are_ignored() {
        let s = Schedule::build(vec![cell(1, "a")], &[(ActorKey(9), ActorKey(1))]);
        assert_eq!(s.roots, [0]);
    }

    #[test]
    fn diamond_joins_wait_for_both_branches() {
        let actors = vec![cell(1, "src"), cell(2, "l"), cell(3, "r"), cell(4, "join")];
        let edges = [
            (ActorKey(1), ActorKey(2)),
            (ActorKey(1), ActorKey(3)),
            (ActorKey(2), ActorKey(4)),
            (ActorKey(3), ActorKey(4)),
        ];
        let s = Schedule::build(actors, &edges);
        assert_eq!(ids(&s), ["src", "l", "r", "join"]);
        assert_eq!(s.predecessors[3], 2);
    }
}
