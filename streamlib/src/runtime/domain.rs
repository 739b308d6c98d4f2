//! A clock domain: one clock, its actors, and the thread that runs its ticks.
//!
//! The domain's thread waits for the clock's next tick, rebuilds the schedule if an actor or a
//! connection of the clock changed, splits the tick's roots into chunks by their measured cost,
//! queues all chunks but the costliest for the pool and runs that one itself, then waits for the
//! tick to finish. It never runs jobs of other clocks. Work that fits on one thread (most ticks
//! of a light pipeline) runs entirely here, with no wake-up; heavy independent branches run
//! side by side.
//!
//! If the thread gets stuck in an actor whose stop timed out, the runtime gives the domain a
//! new thread ([`Domain::replace_thread`]) and the stuck one leaves when its call returns.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use parking_lot::Mutex;

use super::cell::{adopt_thread_token, new_thread_token, RuntimeCell};
use super::pool::Pool;
use super::schedule::Schedule;
use super::tick::{Fault, TickRun, Work, MIN_CHUNK};
use crate::clock::{Clock, Interrupt, Tick};
use crate::error::{Error, Result};
use crate::port::ActorKey;
use crate::stats::ClockCounters;
use crate::uri::ActorUri;

/// How often each domain reports its actors' stats as `tracing` events.
const STATS_REPORT_PERIOD: Duration = Duration::from_secs(5);

/// One clock and its actors.
pub(crate) struct Domain {
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) interrupt: Interrupt,
    /// Actors of this clock, by key (spawn order).
    pub(crate) actors: Mutex<BTreeMap<ActorKey, Arc<RuntimeCell>>>,
    /// Connections between two actors of this clock, by connection id.
    pub(crate) edges: Mutex<HashMap<u64, (ActorKey, ActorKey)>>,
    /// Bumped whenever the schedule must be rebuilt.
    generation: AtomicU64,
    /// The token of the thread that runs the loop now.
    owner: AtomicUsize,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// How late the clock's ticks arrive and how long they take, shared with the stats of every
    /// actor of the domain.
    pub(crate) counters: Arc<ClockCounters>,
    pool: Arc<Pool>,
    faults: Sender<Fault>,
}

impl Domain {
    /// A domain for `clock` with its `first` actor; its thread is not started yet
    /// ([`spawn_thread`](Self::spawn_thread)). The runtime starts it once the actor is
    /// registered, so that the actor gets the clock's first tick (frame 0 of a new clock) and
    /// no `process` runs before its spawn is complete.
    pub(crate) fn new(
        clock: Box<dyn Clock>,
        pool: Arc<Pool>,
        faults: Sender<Fault>,
        first: &Arc<RuntimeCell>,
    ) -> Arc<Domain> {
        let domain = Arc::new(Domain {
            clock,
            interrupt: Interrupt::new(),
            actors: Mutex::new(BTreeMap::from([(first.key(), first.clone())])),
            edges: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(1),
            owner: AtomicUsize::new(0),
            thread: Mutex::new(None),
            counters: Arc::new(ClockCounters::default()),
            pool,
            faults,
        });
        // Attached now, before the thread starts: a `ManualClock::step` meanwhile waits for
        // this domain's tick too.
        domain.clock.attach(&domain.interrupt);
        domain
    }

    /// Starts a thread running the domain's loop (the first, or one replacing a stuck one).
    pub(crate) fn spawn_thread(self: &Arc<Self>) -> Result<()> {
        let token = new_thread_token();
        self.owner.store(token, Ordering::Release);
        let domain = self.clone();
        let name = format!("streamlib-clock-{}", self.clock.id().as_u64());
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                adopt_thread_token(token);
                domain.run_loop(token);
            })
            .map_err(|e| Error::os("spawning a clock thread", e))?;
        *self.thread.lock() = Some(handle);
        Ok(())
    }

    /// Gives the domain a new thread if `token` names its current one (stuck in a detached
    /// actor, `actor`, named in the logs); returns whether it did.
    pub(crate) fn replace_thread(self: &Arc<Self>, token: usize, actor: &ActorUri) -> bool {
        if token == 0 || self.owner.load(Ordering::Acquire) != token {
            return false;
        }
        tracing::warn!(%actor, clock = %self.clock.describe(), "the clock's thread is stuck in a detached actor; starting another");
        self.invalidate();
        if let Err(error) = self.spawn_thread() {
            tracing::error!(%actor, %error, "cannot replace a stuck clock thread; the clock stops");
            return false;
        }
        true
    }

    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    fn owns(&self, token: usize) -> bool {
        self.owner.load(Ordering::Acquire) == token
    }

    /// Stops the loop (`shutdown`: because the runtime shuts down); returns its thread to join,
    /// unless that is this thread.
    pub(crate) fn stop_thread(&self, shutdown: bool) -> Option<JoinHandle<()>> {
        self.interrupt.fire();
        self.clock.detach(&self.interrupt, shutdown);
        let thread = self.thread.lock().take()?;
        (thread.thread().id() != std::thread::current().id()).then_some(thread)
    }

    fn build_schedule(&self) -> Schedule {
        let actors: Vec<_> = self.actors.lock().values().cloned().collect();
        let edges: Vec<_> = self.edges.lock().values().copied().collect();
        Schedule::build(actors, &edges)
    }

    /// The loop of the domain's thread: wait for a tick, run the schedule, repeat until
    /// interrupted or replaced.
    fn run_loop(self: Arc<Self>, me: usize) {
        let mut previous: Option<Tick> = None;
        let mut built = 0;
        let mut run: Option<Arc<TickRun>> = None;
        let mut next_report = Instant::now() + STATS_REPORT_PERIOD;
        self.clock.prepare_thread();
        while self.owns(me) {
            let Some(tick) = self.clock.next_tick(previous.as_ref(), &self.interrupt) else {
                break;
            };
            previous = Some(tick);
            self.counters.lateness.record(tick.lateness);
            let generation = self.generation.load(Ordering::Acquire);
            let current = match run.take() {
                // Reused only when no thread still holds it: a steady tick allocates nothing.
                Some(mut held) if generation == built => match Arc::get_mut(&mut held) {
                    Some(reset) => {
                        reset.reset(tick);
                        held
                    }
                    None => self.new_run(held.schedule.clone(), tick),
                },
                old => {
                    built = generation;
                    let mut schedule = self.build_schedule();
                    // The actors that stay keep what they were measured to cost: the tick after
                    // a change splits and keeps branches as the one before it did.
                    if let Some(old) = &old {
                        schedule.keep_costs_of(&old.schedule);
                    }
                    self.new_run(Arc::new(schedule), tick)
                }
            };
            if current.schedule.nodes.is_empty() {
                self.clock.tick_finished(&tick, &self.interrupt);
                run = Some(current);
                continue;
            }
            let started = Instant::now();
            self.execute(&current, me);
            self.counters.tick_time.record(started.elapsed());
            self.clock.tick_finished(&tick, &self.interrupt);
            if tick.instant >= next_report {
                report_stats(&current.schedule);
                next_report = tick.instant + STATS_REPORT_PERIOD;
            }
            run = Some(current);
        }
    }

    fn new_run(&self, schedule: Arc<Schedule>, tick: Tick) -> Arc<TickRun> {
        Arc::new(TickRun::new(
            schedule,
            tick,
            self.pool.clone(),
            self.faults.clone(),
        ))
    }

    /// Runs one tick: chunks of roots by cost, all but the costliest queued for the pool; then
    /// this thread helps with the tick's queued work until it is done.
    fn execute(&self, run: &Arc<TickRun>, me: usize) {
        let push = self.pool.outside();
        run.enter();
        let kept = self.queue_chunks(run);
        run.run_roots(kept, &push);
        let completed = run.help_until_done(&push, |run| {
            self.interrupt.is_fired() || !self.owns(me) || run.stuck_on_stopped_actor()
        });
        if !completed {
            run.abandon();
        }
    }

    /// Splits the roots into chunks of about equal measured cost (as many as the total is
    /// [`MIN_CHUNK`]s, at most the pool's [`parallel_chunks`](Pool::parallel_chunks)), queues
    /// all but the costliest and returns that one, for this thread: when branches cost unevenly
    /// (a 30 µs test pattern beside a 3 ms overlay and its compositor), the long one starts at
    /// once and the short ones wait for a worker to wake, not the other way round.
    fn queue_chunks(&self, run: &Arc<TickRun>) -> std::ops::Range<u32> {
        let schedule = &run.schedule;
        let costs = || schedule.roots.iter().map(|&r| schedule.cost(r));
        let total: u64 = costs().sum();
        let most = self.pool.parallel_chunks.max(1) as u64;
        let chunks = (total / MIN_CHUNK.as_nanos() as u64).clamp(1, most);
        let mut kept: Option<(std::ops::Range<u32>, u64)> = None;
        split_by_cost(costs(), total, chunks, |chunk, cost| {
            if let Some(queued) = keep_costliest(&mut kept, chunk, cost) {
                run.offer(Work::Roots(queued), &self.pool.outside());
            }
        });
        kept.map_or(0..0, |(chunk, _)| chunk)
    }
}

/// Cuts items of the given `costs` (summing to `total`) into `chunks` consecutive ranges of
/// about equal cost and hands each to `chunk` with its cost, in order; with one chunk, or
/// nothing to cut, the whole range. An item goes to the chunk its middle falls in, so two items
/// of nearly equal cost split in two whichever is the larger.
fn split_by_cost(
    costs: impl Iterator<Item = u64>,
    total: u64,
    chunks: u64,
    mut chunk: impl FnMut(std::ops::Range<u32>, u64),
) {
    let target = total / chunks.max(1);
    let (mut start, mut before, mut boundary) = (0u32, 0u64, target);
    let (mut count, mut cuts, mut started_at) = (0u32, 0u64, 0u64);
    for (i, cost) in costs.enumerate() {
        let i = i as u32;
        // Item `i` starts a new chunk when its middle lies past the boundary.
        if i > start && target > 0 && cuts + 1 < chunks && before + cost / 2 >= boundary {
            chunk(start..i, before - started_at);
            (start, boundary, cuts, started_at) = (i, boundary + target, cuts + 1, before);
        }
        before += cost;
        count = i + 1;
    }
    chunk(start..count, before - started_at);
}

/// Of `kept` (the costliest chunk so far, with its cost) and `chunk`, keeps the costlier (the
/// earlier on a tie) and returns the other, if any.
fn keep_costliest(
    kept: &mut Option<(std::ops::Range<u32>, u64)>,
    chunk: std::ops::Range<u32>,
    cost: u64,
) -> Option<std::ops::Range<u32>> {
    match kept {
        Some((best, best_cost)) if cost > *best_cost => {
            *best_cost = cost;
            Some(std::mem::replace(best, chunk))
        }
        Some(_) => Some(chunk),
        None => {
            *kept = Some((chunk, cost));
            None
        }
    }
}

/// Emits one `streamlib::stats` debug event per actor, if anyone listens.
fn report_stats(schedule: &Schedule) {
    if !tracing::enabled!(target: "streamlib::stats", tracing::Level::DEBUG) {
        return;
    }
    for cell in &schedule.nodes {
        let s = cell.entry.stats().snapshot();
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

#[cfg(test)]
mod tests {
    use super::{keep_costliest, split_by_cost};

    fn split(costs: &[u64], chunks: u64) -> Vec<std::ops::Range<u32>> {
        let mut out = Vec::new();
        let total = costs.iter().sum();
        split_by_cost(costs.iter().copied(), total, chunks, |c, cost| {
            let items = &costs[c.start as usize..c.end as usize];
            assert_eq!(cost, items.iter().sum::<u64>(), "the cost of {c:?}");
            out.push(c)
        });
        out
    }

    #[test]
    fn two_nearly_equal_items_split_in_two_whichever_is_larger() {
        assert_eq!(split(&[5_900, 6_100], 2), [0..1, 1..2]);
        assert_eq!(split(&[6_100, 5_900], 2), [0..1, 1..2]);
        assert_eq!(split(&[6_000, 6_000], 3), [0..1, 1..2], "no empty chunk");
    }

    #[test]
    fn many_cheap_items_split_evenly_and_cover_everything() {
        let costs = vec![10; 1000];
        assert_eq!(split(&costs, 2), [0..500, 500..1000]);
        assert_eq!(split(&costs, 4), [0..250, 250..500, 500..750, 750..1000]);
        assert_eq!(split(&costs, 1), vec![(0..1000)]);
        // A total that does not divide: still at most `chunks` chunks.
        assert_eq!(split(&[3, 3, 3, 1], 3).len(), 3);
    }

    #[test]
    fn the_splitting_thread_keeps_the_costliest_chunk_and_queues_the_others() {
        // A 30 µs test pattern, a 3 ms overlay with its chain, a 1 ms third branch.
        let costs = [30_000, 3_000_000, 1_000_000];
        let (mut kept, mut queued) = (None, Vec::new());
        let total = costs.iter().sum();
        split_by_cost(costs.iter().copied(), total, 3, |chunk, cost| {
            queued.extend(keep_costliest(&mut kept, chunk, cost));
        });
        assert_eq!(kept, Some((1..2, 3_000_000)));
        assert_eq!(queued, [0..1, 2..3]);
        let mut tie = None;
        assert_eq!(keep_costliest(&mut tie, 0..1, 5), None);
        assert_eq!(
            keep_costliest(&mut tie, 1..2, 5),
            Some(1..2),
            "the earlier stays on a tie"
        );
    }

    #[test]
    fn one_heavy_item_stands_alone() {
        assert_eq!(split(&[1, 1, 100, 1, 1], 2), [0..2, 2..5]);
        assert_eq!(
            split(&[0, 0, 0], 2),
            vec![(0..3)],
            "nothing measured yet: one chunk"
        );
        assert_eq!(split(&[], 2), vec![(0..0)]);
    }
}
