//! A clock's schedule: its actors in topological order of their same-clock connections.
//!
//! Built by the domain's thread at the first tick after an actor or a connection of the clock
//! was added or removed (never per tick), from the actors in spawn order and the edges between
//! them (Kahn's algorithm; a cycle is broken at its earliest-spawned actor, so the reader that
//! closes it sees the previous tick's value).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use super::cell::{prefetch, Hot, RuntimeCell};
use crate::port::{ActorKey, PortLines};

/// Where an actor's [`Hot`] and its state lie.
struct HotPtr {
    hot: std::ptr::NonNull<Hot>,
    /// [`RuntimeCell::actor_lines`].
    actor: [usize; 2],
    /// Its range in `Schedule::lines`.
    lines: (u32, u32),
    /// Its first same-clock successors without a thread of their own (those the thread that
    /// runs it may run next: a chain's successor, a fan-out's branches it keeps,
    /// `tick::Later`), `u32::MAX` for none.
    next: [u32; PREFETCHED_SUCCESSORS],
}

/// How many successors of an actor are asked for with it: a writer with up to three readers
/// finds all of them in the cache.
const PREFETCHED_SUCCESSORS: usize = 3;

// SAFETY: a `HotPtr` is read only as `&Hot` (`Schedule::hot`), and `Hot` is `Sync`: sharing or
// sending the pointer is sharing `&Hot`.
unsafe impl Send for HotPtr {}
// SAFETY: as above.
unsafe impl Sync for HotPtr {}

/// The actors of one clock in run order, with their same-clock dependencies.
#[derive(Default)]
pub(crate) struct Schedule {
    pub(crate) nodes: Vec<Arc<RuntimeCell>>,
    /// Per actor, where its [`Hot`] lies (in `nodes`' order): what a tick reads instead of the
    /// cell, so that it walks the arena and nothing else.
    hot: Box<[HotPtr]>,
    /// Every actor's [`RuntimeCell::port_lines`], end to end.
    lines: Box<[PortLines]>,
    pub(crate) successors: Vec<Vec<u32>>,
    pub(crate) predecessors: Vec<u32>,
    pub(crate) roots: Vec<u32>,
    /// Per actor: what running it and what it led to on the same thread cost lately (ns, a
    /// moving average; see [`record_cost`](Self::record_cost)), contiguous so that splitting a
    /// tick reads one array. Kept across rebuilds for the actors that stay.
    costs: Box<[AtomicU32]>,
}

impl Schedule {
    /// Orders `actors` (in spawn order) by the `edges` between them (Kahn's algorithm). When a
    /// cycle blocks progress, the earliest-spawned actor left goes next and its incoming edges
    /// from the cycle are dropped.
    pub(crate) fn build(actors: Vec<Arc<RuntimeCell>>, edges: &[(ActorKey, ActorKey)]) -> Schedule {
        let index: HashMap<ActorKey, usize> = actors
            .iter()
            .enumerate()
            .map(|(i, a)| (a.key(), i))
            .collect();
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
        let mut slots: Vec<Option<Arc<RuntimeCell>>> = actors.into_iter().map(Some).collect();
        let nodes: Vec<_> = order.iter().filter_map(|&i| slots[i].take()).collect();
        let mut lines = Vec::new();
        let hot = nodes
            .iter()
            .zip(&successors)
            .map(|(cell, successors)| {
                let start = lines.len() as u32;
                lines.extend_from_slice(cell.port_lines());
                HotPtr {
                    hot: cell.hot_ptr(),
                    actor: cell.actor_lines(),
                    lines: (start, lines.len() as u32),
                    next: {
                        let mut next = [u32::MAX; PREFETCHED_SUCCESSORS];
                        let pooled = successors
                            .iter()
                            .copied()
                            .filter(|&s| !nodes[s as usize].hot().is_dedicated());
                        for (slot, successor) in next.iter_mut().zip(pooled) {
                            *slot = successor;
                        }
                        next
                    },
                }
            })
            .collect();
        Schedule {
            costs: (0..nodes.len()).map(|_| AtomicU32::new(0)).collect(),
            hot,
            lines: lines.into_boxed_slice(),
            nodes,
            successors,
            predecessors,
            roots,
        }
    }

    /// What a tick touches of `node`, the same as `nodes[node].hot()` without reading the cell.
    #[inline]
    pub(crate) fn hot(&self, node: u32) -> &Hot {
        // SAFETY: the pointer is the `Hot` of `nodes[node]`, which this schedule keeps alive and
        // whose `Hot` never moves while the cell lives (`RuntimeCell::hot_ptr`).
        unsafe { self.hot[node as usize].hot.as_ref() }
    }

    /// Asks the processor for what running `node` touches first: its two hot lines, the first
    /// lines of its state and of its ports' reads and writes (with thousands of actors, none of
    /// it is in the cache); the same for the successors its chain may run next on this thread.
    #[inline]
    pub(crate) fn prefetch(&self, node: u32) {
        self.prefetch_one(node);
        // The thread that runs it may run its successors next (a chain, a fan-out's branches
        // it keeps): ask for them too.
        for next in self.hot[node as usize].next {
            if next == u32::MAX {
                break;
            }
            self.prefetch_one(next);
        }
    }

    #[inline]
    fn prefetch_one(&self, node: u32) {
        self.hot(node).prefetch();
        prefetch_lines(&self.hot[node as usize].actor);
        for port in self.ports(node) {
            prefetch_lines(&port.first);
        }
    }

    /// Asks for the slot each output of `node` writes next: read from the ring's header, so
    /// asked a few actors after [`prefetch`](Self::prefetch) asked for the header.
    #[inline]
    pub(crate) fn prefetch_claims(&self, node: u32) {
        for port in self.ports(node) {
            // SAFETY: the port belongs to `nodes[node]`, which this schedule keeps alive, and its
            // registry entry holds the port (`RuntimeCell::port_lines`).
            if let Some(line) = unsafe { port.next_claim() } {
                prefetch(line as *const u8);
            }
        }
    }

    /// Where `node`'s ports' lines are (see [`RuntimeCell::port_lines`]).
    fn ports(&self, node: u32) -> &[PortLines] {
        let (start, end) = self.hot[node as usize].lines;
        &self.lines[start as usize..end as usize]
    }

    /// Takes from `previous` the measured cost of each actor both schedules hold (by key).
    pub(crate) fn keep_costs_of(&mut self, previous: &Schedule) {
        let old: HashMap<ActorKey, u32> = previous
            .nodes
            .iter()
            .zip(previous.costs.iter())
            .map(|(cell, cost)| (cell.key(), cost.load(Ordering::Relaxed)))
            .collect();
        for (cell, cost) in self.nodes.iter().zip(self.costs.iter_mut()) {
            if let Some(&measured) = old.get(&cell.key()) {
                *cost.get_mut() = measured;
            }
        }
    }

    /// Records what running `node` took this tick, in nanoseconds: for a root or an actor
    /// queued alone, everything its run ran on that thread; for a fan-out's branch that stayed
    /// on its thread, the branch's run ([`Later`](super::tick::Later)). A chain's successor
    /// that is no branch is not recorded (its cost is its upstream's).
    pub(crate) fn record_cost(&self, node: u32, took_nanos: u64) {
        let took = u32::try_from(took_nanos).unwrap_or(u32::MAX);
        let cost = &self.costs[node as usize];
        let old = cost.load(Ordering::Relaxed);
        // A quarter of the new value: steady within a few ticks, not thrown by one outlier.
        let new = if old == 0 {
            took
        } else {
            old - old / 4 + took / 4
        };
        cost.store(new, Ordering::Relaxed);
    }

    /// The recent cost of `node` with what it led to on its thread, in nanoseconds (0: never
    /// measured).
    pub(crate) fn cost(&self, node: u32) -> u64 {
        u64::from(self.costs[node as usize].load(Ordering::Relaxed))
    }

    /// URIs in run order (for tests and the DOT export).
    #[cfg(test)]
    pub(crate) fn order(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.entry.uri.to_string()).collect()
    }
}

/// Asks for each of `lines` (addresses; 0 stands for none).
#[inline]
fn prefetch_lines(lines: &[usize]) {
    for &line in lines {
        if line != 0 {
            prefetch(line as *const u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::{ActorConfig, Process};
    use crate::clock::Tick;
    use crate::uri::ActorUri;

    struct Nop;
    impl Process for Nop {
        fn process(&mut self, _: &Tick) -> crate::ProcessResult {
            Ok(())
        }
    }

    fn cell(key: u64, id: &str) -> Arc<RuntimeCell> {
        Arc::new(RuntimeCell::new(
            ActorKey(key),
            (ActorUri::local("A", id).unwrap(), Vec::new(), String::new()),
            ActorConfig::default(),
            Box::new(Nop),
            None,
        ))
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

    #[test]
    fn a_rebuilt_schedule_keeps_the_costs_of_the_actors_that_stay() {
        let old = Schedule::build(vec![cell(1, "a"), cell(2, "b")], &[]);
        old.record_cost(0, 7_000);
        old.record_cost(1, 9_000);
        // "a" left, "c" joined: "b" keeps its cost at its new place, "c" is unmeasured.
        let mut new = Schedule::build(vec![cell(3, "c"), cell(2, "b")], &[]);
        new.keep_costs_of(&old);
        let cost_of = |name: &str| {
            let at = new.order().iter().position(|u| u.ends_with(name)).unwrap();
            new.cost(at as u32)
        };
        assert_eq!((cost_of("/b"), cost_of("/c")), (9_000, 0));
    }
}

#[cfg(test)]
mod cost_tests {
    use super::*;

    #[test]
    fn costs_follow_a_moving_average() {
        let s = Schedule {
            costs: vec![AtomicU32::new(0)].into_boxed_slice(),
            ..Schedule::default()
        };
        s.record_cost(0, 100_000);
        assert_eq!(s.cost(0), 100_000);
        s.record_cost(0, 500_000);
        assert_eq!(s.cost(0), 200_000);
        s.record_cost(0, 10_000_000_000);
        assert_eq!(s.cost(0), 150_000 + u64::from(u32::MAX / 4));
    }
}
