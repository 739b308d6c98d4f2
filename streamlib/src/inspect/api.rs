//! The JSON documents of the inspection API, built from registry snapshots.
//!
//! Everything here reads what the actors already publish — the registry's map (one read lock),
//! relaxed counters, histogram buckets, the newest slot of a ring buffer — so a request never
//! takes a lock an actor takes while it ticks, and never makes a writer wait.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::time::Duration;

use parking_lot::Mutex;

use serde_json::{json, Value};

use crate::port::Direction;
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

/// Shortest interval the server measures rates over.
const RATE_MIN: Duration = Duration::from_millis(200);
/// Age at which the server takes a new baseline for its rates.
const RATE_BASELINE: Duration = Duration::from_secs(1);

/// An actor's counters in an earlier `/api/stats` answer: ticks, and writes of each output.
type Counts = HashMap<String, (u64, Vec<u64>)>;

/// Earlier `/api/stats` counters, so that each answer can carry rates (`fps`, `writes_per_s`)
/// measured since then — also a client's first request. Kept by the server, shared by all
/// clients.
#[derive(Default)]
pub(crate) struct Baseline {
    /// Up to two snapshots, older first. Two, so that right after a new one was taken the one
    /// before still measures the rates.
    kept: Mutex<Vec<(Duration, Counts)>>,
}

impl Baseline {
    /// Rates since the newest kept snapshot at least [`RATE_MIN`] old (none without one): an
    /// actor's fps and its outputs' writes per second; keeps `now` when the newest kept one is
    /// [`RATE_BASELINE`] old.
    fn rates(&self, elapsed: Duration, now: Counts) -> HashMap<String, (f64, Vec<f64>)> {
        let mut kept = self.kept.lock();
        let mut rates = HashMap::new();
        let base = kept
            .iter()
            .rev()
            .find(|(then, _)| elapsed.saturating_sub(*then) >= RATE_MIN);
        if let Some((then, before)) = base {
            let seconds = elapsed.saturating_sub(*then).as_secs_f64();
            let per_second = |now: u64, then: u64| now.saturating_sub(then) as f64 / seconds;
            for (uri, (ticks, writes)) in &now {
                if let Some((ticks_then, writes_then)) = before.get(uri) {
                    let writes = writes
                        .iter()
                        .zip(writes_then)
                        .map(|(w, t)| per_second(*w, *t))
                        .collect();
                    rates.insert(uri.clone(), (per_second(*ticks, *ticks_then), writes));
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

/// Writes `text` as a JSON string.
fn push_str(out: &mut String, text: &str) {
    out.push_str(&Value::from(text).to_string());
}

/// Writes a rate, or `null`.
fn push_rate(out: &mut String, rate: Option<f64>) {
    match rate {
        Some(rate) => {
            let _ = write!(out, "{rate:.3}");
        }
        None => out.push_str("null"),
    }
}

/// `GET /api/stats`: every actor's counters (with `ports`: its ports' counters too), and each
/// clock's lateness. `elapsed_ms` (since the server started) lets a client turn two snapshots
/// into rates; `fps` and `writes_per_s` are the server's own, over the last second or so
/// (`null` until it has an earlier snapshot at least 200 ms old).
///
/// Written straight into the response text, not through a `serde_json::Value` tree: with
/// 10,000 actors this answer is what a `top` attached costs the runtime every second.
pub(crate) fn stats(
    registry: &Registry,
    elapsed: Duration,
    baseline: &Baseline,
    with_ports: bool,
) -> String {
    let actors = registry.list();
    let mut counts = Counts::with_capacity(actors.len());
    let snapshots: Vec<_> = actors
        .iter()
        .map(|actor| {
            let stats = actor.stats();
            let ports: Vec<_> = actor.ports().iter().map(|p| (p, (p.stats)())).collect();
            let writes = ports
                .iter()
                .filter(|(p, _)| p.direction == Direction::Output)
                .map(|(_, s)| s.writes)
                .collect();
            let uri = actor.uri().to_string();
            counts.insert(uri.clone(), (stats.ticks, writes));
            (actor, uri, stats, ports)
        })
        .collect();
    let rates = baseline.rates(elapsed, counts);
    let mut clocks: BTreeMap<&str, (usize, u64, Duration, Duration, Duration)> = BTreeMap::new();
    let mut out = String::with_capacity(snapshots.len() * if with_ports { 400 } else { 260 });
    let _ = write!(
        out,
        "{{\"elapsed_ms\":{:.3},\"actors\":[",
        elapsed.as_secs_f64() * 1000.0
    );
    for (i, (actor, uri, s, ports)) in snapshots.iter().enumerate() {
        let clock = clocks.entry(actor.clock()).or_default();
        clock.0 += 1;
        clock.1 += s.late_ticks;
        clock.2 = clock.2.max(s.lateness_p50);
        clock.3 = clock.3.max(s.lateness_p99);
        clock.4 = clock.4.max(s.lateness_max);
        let rate = rates.get(uri);
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"uri\":");
        push_str(&mut out, uri);
        out.push_str(",\"fps\":");
        push_rate(&mut out, rate.map(|r| r.0));
        let _ = write!(
            out,
            ",\"ticks\":{},\"skipped_ticks\":{},\"late_ticks\":{},\"errors\":{},\"panics\":{},\"process_p50_us\":{:.3},\"process_p99_us\":{:.3},\"process_max_us\":{:.3},\"clock\":",
            s.ticks, s.skipped_ticks, s.late_ticks, s.errors, s.panics,
            micros(s.process_p50), micros(s.process_p99), micros(s.process_max)
        );
        push_str(&mut out, actor.clock());
        if with_ports {
            out.push_str(",\"ports\":[");
            let mut output = 0;
            for (j, (port, p)) in ports.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                let _ = write!(
                    out,
                    "{{\"name\":\"{}\",\"direction\":\"{}\",\"writes\":{},\"overwritten_unread\":{},\"reads\":{},\"stale_reads\":{},\"missed\":{},\"bad_values\":{}",
                    port.name, port.direction.as_str(), p.writes, p.overwritten_unread,
                    p.reads, p.stale_reads, p.missed, p.bad_values
                );
                if port.direction == Direction::Output {
                    out.push_str(",\"writes_per_s\":");
                    push_rate(&mut out, rate.and_then(|r| r.1.get(output).copied()));
                    output += 1;
                }
                out.push('}');
            }
            out.push(']');
        }
        out.push('}');
    }
    out.push_str("],\"clocks\":[");
    for (i, (clock, (actors, late, p50, p99, max))) in clocks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"clock\":");
        push_str(&mut out, clock);
        let _ = write!(
            out,
            ",\"actors\":{actors},\"late_ticks\":{late},\"lateness_p50_us\":{:.3},\"lateness_p99_us\":{:.3},\"lateness_max_us\":{:.3}}}",
            micros(*p50), micros(*p99), micros(*max)
        );
    }
    out.push_str("]}");
    out
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
