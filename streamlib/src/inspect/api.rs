//! The JSON documents of the inspection API, built from registry snapshots.
//!
//! Everything here reads what the actors already publish — the registry's map (one read lock),
//! relaxed counters, histogram buckets, the newest slot of a ring buffer — so a request never
//! takes a lock an actor takes while it ticks, and never makes a writer wait.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use parking_lot::Mutex;

use serde_json::{json, Value};

use crate::actor::PortInfo;
use crate::port::{Direction, PortStats};
use crate::registry::{ActorRef, Registry};

/// Longest text a tap returns for one value; longer Debug text is cut (and says so).
pub(crate) const TAP_TEXT_LIMIT: usize = 4096;

fn micros(duration: Duration) -> f64 {
    duration.as_nanos() as f64 / 1000.0
}

fn port_names(actor: &ActorRef, direction: Direction) -> Vec<&'static str> {
    actor
        .ports()
        .iter()
        .filter(|p| p.direction == direction)
        .map(|p| p.name)
        .collect()
}

/// `GET /api/graph`: every actor with its ports, every connection into one.
pub(crate) fn graph(registry: &Registry) -> Value {
    let actors = registry.list();
    let mut connections = Vec::new();
    for actor in &actors {
        for input in actor
            .ports()
            .iter()
            .filter(|p| p.direction == Direction::Input)
        {
            let Some((from, output)) = input.upstream.as_ref().and_then(|up| up()) else {
                continue;
            };
            connections.push(json!({
                "from": format!("{from}.{output}"),
                "to": format!("{}.{}", actor.uri(), input.name),
                "payload": input.type_name,
            }));
        }
    }
    let actors: Vec<Value> = actors
        .iter()
        .map(|actor| {
            let ports: Vec<Value> = actor
                .ports()
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name,
                        "direction": p.direction.as_str(),
                        "payload": p.type_name,
                        "text": p.text.is_some(),
                    })
                })
                .collect();
            json!({
                "uri": actor.uri().to_string(),
                "class": actor.class_name(),
                "clock": actor.clock(),
                "inputs": port_names(actor, Direction::Input),
                "outputs": port_names(actor, Direction::Output),
                "ports": ports,
                "remote": actor.is_remote(),
            })
        })
        .collect();
    json!({ "actors": actors, "connections": connections })
}

fn port_json(port: &PortInfo, stats: PortStats) -> Value {
    json!({
        "name": port.name,
        "direction": port.direction.as_str(),
        "writes": stats.writes,
        "overwritten_unread": stats.overwritten_unread,
        "reads": stats.reads,
        "stale_reads": stats.stale_reads,
        "missed": stats.missed,
        "bad_values": stats.bad_values,
    })
}

/// Shortest interval the server measures rates over.
const RATE_MIN: Duration = Duration::from_millis(200);
/// Age at which the server takes a new baseline for its rates.
const RATE_BASELINE: Duration = Duration::from_secs(1);

/// The counters of an earlier `/api/stats` answer, so that each answer can carry rates
/// (`fps`, `writes_per_s`) measured since then — also for a client's first request. Kept by the
/// server, shared by all clients, replaced when a second old.
#[derive(Default)]
pub(crate) struct Baseline {
    /// Up to two snapshots, older first: `(elapsed, counter by key)`. Two, so that right after
    /// a new baseline was taken the one before still measures the rates.
    kept: Mutex<Vec<(Duration, HashMap<String, u64>)>>,
}

impl Baseline {
    /// Rates per counter key since the newest kept snapshot at least [`RATE_MIN`] old (none
    /// without one); keeps `now` when the newest is [`RATE_BASELINE`] old.
    fn rates(&self, elapsed: Duration, now: HashMap<String, u64>) -> HashMap<String, f64> {
        let mut kept = self.kept.lock();
        let mut rates = HashMap::new();
        let base = kept
            .iter()
            .rev()
            .find(|(then, _)| elapsed.saturating_sub(*then) >= RATE_MIN);
        if let Some((then, before)) = base {
            let seconds = elapsed.saturating_sub(*then).as_secs_f64();
            for (key, count) in &now {
                if let Some(earlier) = before.get(key) {
                    rates.insert(key.clone(), count.saturating_sub(*earlier) as f64 / seconds);
                }
            }
        }
        if kept
            .last()
            .is_none_or(|(then, _)| elapsed.saturating_sub(*then) >= RATE_BASELINE)
        {
            if kept.len() == 2 {
                kept.remove(0);
            }
            kept.push((elapsed, now));
        }
        rates
    }
}

/// `GET /api/stats`: every actor's counters and its ports' counters, and each clock's lateness.
/// `elapsed_ms` (since the server started) lets a client turn two snapshots into rates; `fps`
/// and `writes_per_s` are the server's own, over the last second or so (`null` until it has an
/// earlier snapshot at least 200 ms old).
pub(crate) fn stats(registry: &Registry, elapsed: Duration, baseline: &Baseline) -> Value {
    let actors = registry.list();
    let mut counts = HashMap::with_capacity(actors.len() * 2);
    let snapshots: Vec<_> = actors
        .iter()
        .map(|actor| {
            let uri = actor.uri().to_string();
            let stats = actor.stats();
            let ports: Vec<_> = actor.ports().iter().map(|p| (p, (p.stats)())).collect();
            counts.insert(uri.clone(), stats.ticks);
            for (port, s) in &ports {
                if port.direction == Direction::Output {
                    counts.insert(format!("{uri}.{}", port.name), s.writes);
                }
            }
            (actor, uri, stats, ports)
        })
        .collect();
    let rates = baseline.rates(elapsed, counts);
    let mut clocks: BTreeMap<String, (usize, u64, Duration, Duration, Duration)> = BTreeMap::new();
    let actors: Vec<Value> = snapshots
        .into_iter()
        .map(|(actor, uri, s, ports)| {
            let clock = clocks.entry(actor.clock().to_owned()).or_default();
            clock.0 += 1;
            clock.1 += s.late_ticks;
            clock.2 = clock.2.max(s.lateness_p50);
            clock.3 = clock.3.max(s.lateness_p99);
            clock.4 = clock.4.max(s.lateness_max);
            let ports: Vec<Value> = ports
                .into_iter()
                .map(|(p, stats)| {
                    let mut port = port_json(p, stats);
                    if p.direction == Direction::Output {
                        port["writes_per_s"] = json!(rates.get(&format!("{uri}.{}", p.name)));
                    }
                    port
                })
                .collect();
            json!({
                "fps": rates.get(&uri),
                "uri": uri,
                "ticks": s.ticks,
                "skipped_ticks": s.skipped_ticks,
                "late_ticks": s.late_ticks,
                "errors": s.errors,
                "panics": s.panics,
                "process_p50_us": micros(s.process_p50),
                "process_p99_us": micros(s.process_p99),
                "process_max_us": micros(s.process_max),
                "clock": actor.clock(),
                "ports": ports,
            })
        })
        .collect();
    let clocks: Vec<Value> = clocks
        .into_iter()
        .map(|(clock, (actors, late, p50, p99, max))| {
            json!({
                "clock": clock,
                "actors": actors,
                "late_ticks": late,
                "lateness_p50_us": micros(p50),
                "lateness_p99_us": micros(p99),
                "lateness_max_us": micros(max),
            })
        })
        .collect();
    json!({
        "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
        "actors": actors,
        "clocks": clocks,
    })
}

/// Why a tap could not be set.
#[derive(Debug)]
pub(crate) enum TapError {
    /// Not `<actor URI>.<port>`, or no such actor or port.
    NotFound(String),
}

/// `GET /api/tap?port=<uri>.<port>&after=<seq>`: the newest value of an output port (for an
/// input: of the output feeding it) as Debug text, if it is newer than `after`.
pub(crate) fn tap(registry: &Registry, port: &str, after: u64) -> Result<Value, TapError> {
    let not_found = |why: String| TapError::NotFound(why);
    let slash = port.rfind('/').unwrap_or(0);
    let dot = port[slash..]
        .rfind('.')
        .map(|i| slash + i)
        .ok_or_else(|| not_found(format!("{port:?} is not <actor URI>.<port>")))?;
    let (uri, name) = (&port[..dot], &port[dot + 1..]);
    let actor = registry
        .lookup(uri)
        .ok()
        .flatten()
        .ok_or_else(|| not_found(format!("no actor {uri}")))?;
    let find = |actor: &ActorRef, name: &str, direction| {
        actor
            .ports()
            .iter()
            .find(|p| p.name == name && p.direction == direction)
            .cloned()
    };
    let (output, via) = match find(&actor, name, Direction::Output) {
        Some(output) => (output, None),
        None => {
            let input = find(&actor, name, Direction::Input)
                .ok_or_else(|| not_found(format!("{uri} has no port {name:?}")))?;
            match input.upstream.as_ref().and_then(|up| up()) {
                Some((from, output_name)) => {
                    let upstream = registry
                        .lookup(&from)
                        .ok()
                        .flatten()
                        .and_then(|a| find(&a, output_name, Direction::Output))
                        .ok_or_else(|| not_found(format!("upstream {from}.{output_name} gone")))?;
                    (upstream, Some(format!("{from}.{output_name}")))
                }
                None => {
                    return Ok(json!({
                        "port": port, "payload": input.type_name, "seq": 0,
                        "text": Value::Null, "connected": false,
                    }))
                }
            }
        }
    };
    let writes = (output.stats)().writes;
    let (seq, text) = match output.text {
        Some(read) if writes > after => match (read.0)(&*output.port) {
            Some((seq, text)) if seq > after => (seq, Some(text)),
            _ => (writes, None),
        },
        _ => (writes, None),
    };
    let truncated = text.as_ref().is_some_and(|t| t.len() > TAP_TEXT_LIMIT);
    let text = text.map(|mut t| {
        if truncated {
            let mut end = TAP_TEXT_LIMIT;
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            t.truncate(end);
        }
        t
    });
    Ok(json!({
        "port": port,
        "via": via,
        "payload": output.type_name,
        "debug": output.text.is_some(),
        "seq": seq,
        "text": text,
        "truncated": truncated,
        "connected": true,
    }))
}
