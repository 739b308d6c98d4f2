//! The JSON documents of the inspection API, built from registry snapshots.
//!
//! Everything here reads what the actors already publish — the registry's map (one read lock),
//! relaxed counters, histogram buckets, the newest slot of a ring buffer — so a request never
//! takes a lock an actor takes while it ticks, and never makes a writer wait.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use serde_json::{json, Value};

use crate::actor::{find_port, PortInfo};
use crate::port::Direction;
use crate::registry::{ActorRef, EntryRef, Registry};
use crate::stats::{ActorStats, ClockCounters, ClockFigures, PortStats};
use crate::uri::PortAddress;

/// Longest text a tap returns for one value; longer Debug text is cut (and says so).
pub(crate) const TAP_TEXT_LIMIT: usize = 4096;

fn port_names(actor: &ActorRef, direction: Direction) -> Vec<&'static str> {
    actor
        .ports()
        .iter()
        .filter(|p| p.direction == direction)
        .map(|p| p.name)
        .collect()
}

/// `GET /api/graph`: every actor with its ports, every connection into one — the registry's
/// graph model, as `Registry::to_dot` draws it.
///
/// A connection's ends are given as `"from"` / `"to"` (`<actor URI>.<port>`, as documented) and,
/// so that no client splits that text again, as typed parts: `"from_actor"`, `"from_port"`,
/// `"to_actor"`, `"to_port"`.
pub(crate) fn graph(registry: &Registry) -> Value {
    let actors = registry.list();
    let model = Registry::graph_of(&actors);
    let connections: Vec<Value> = model
        .links()
        .iter()
        .map(|link| {
            let actor = |end: &Option<PortAddress>| end.as_ref().map(|a| a.actor().to_string());
            let port = |end: &Option<PortAddress>| end.as_ref().map(|a| a.port().to_owned());
            json!({
                "from": link.output_text(),
                "to": link.input_text(),
                "payload": link.payload,
                "from_actor": actor(&link.from),
                "from_port": port(&link.from),
                "to_actor": actor(&link.to),
                "to_port": port(&link.to),
            })
        })
        .collect();
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
struct Count {
    /// Held so that no other actor's entry takes this address while the snapshot is kept.
    _entry: EntryRef,
    ticks: u64,
    writes: Vec<u64>,
}

/// Counters of each actor, by the address of its registry entry (a cheap, unique key).
type Counts = HashMap<usize, Count>;

/// Earlier `/api/stats` counters, so that each answer can carry rates (`fps`, `writes_per_s`)
/// measured since then — also a client's first request. Kept by the server, shared by all
/// clients.
#[derive(Default)]
pub(crate) struct Baseline {
    /// Up to two snapshots, older first. Two, so that right after a new one was taken the one
    /// before still measures the rates.
    kept: Mutex<Vec<(Duration, Arc<Counts>)>>,
}

/// What rates are measured against: a kept snapshot and the seconds since it.
struct Base {
    counts: Arc<Counts>,
    seconds: f64,
}

impl Base {
    /// Per second since the snapshot, from a counter that was `then` and is `now`.
    fn per_second(&self, now: u64, then: u64) -> f64 {
        now.saturating_sub(then) as f64 / self.seconds
    }
}

impl Baseline {
    /// The newest kept snapshot at least [`RATE_MIN`] old (none without one); keeps `now` when
    /// the newest kept one is [`RATE_BASELINE`] old.
    fn base(&self, elapsed: Duration, now: Counts) -> Option<Base> {
        let mut kept = self.kept.lock();
        let base = kept
            .iter()
            .rev()
            .find(|(then, _)| elapsed.saturating_sub(*then) >= RATE_MIN)
            .map(|(then, counts)| Base {
                counts: counts.clone(),
                seconds: elapsed.saturating_sub(*then).as_secs_f64(),
            });
        if kept
            .last()
            .is_none_or(|(then, _)| elapsed.saturating_sub(*then) >= RATE_BASELINE)
        {
            if kept.len() == 2 {
                kept.remove(0);
            }
            kept.push((elapsed, Arc::new(now)));
        }
        base
    }
}

/// Appends `text` as a JSON string, escaped in place (no intermediate value).
fn push_str(out: &mut String, text: &str) {
    out.push('"');
    // URIs and clock names need no escaping: one scan, one copy.
    if !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(text);
        out.push('"');
        return;
    }
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `key` and `duration` in microseconds with three decimals (exact: integer maths).
fn push_micros(out: &mut String, key: &str, duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    let _ = write!(out, "{key}{}.{:03}", nanos / 1000, nanos % 1000);
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

/// Column a `/api/stats` answer is sorted by (`?sort=`), largest first except `uri`; the
/// names are those of `streamlib top --sort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortBy {
    /// Share of one core in `process` (`fps` × median process time).
    Core,
    Fps,
    P99,
    /// Errors and panics.
    Errors,
    Uri,
}

impl SortBy {
    const NAMES: &'static str = "core, fps, p99, errors or uri";

    /// `name` as a sort column, or what is wrong with it.
    pub(crate) fn parse(name: &str) -> Result<SortBy, String> {
        Ok(match name {
            "core" => SortBy::Core,
            "fps" => SortBy::Fps,
            "p99" => SortBy::P99,
            "errors" => SortBy::Errors,
            "uri" => SortBy::Uri,
            other => return Err(format!("sort must be {}, not {other:?}", SortBy::NAMES)),
        })
    }
}

/// What a `/api/stats` request asks for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StatsQuery {
    /// Each actor's ports' counters too (`?ports=0` leaves them out).
    pub(crate) ports: bool,
    /// Order of the actors (`?sort=`); registry order without.
    pub(crate) sort: Option<SortBy>,
    /// At most this many actors, the first in `sort` order (`?limit=`): what a terminal shows.
    pub(crate) limit: Option<usize>,
}

/// The server's earlier counters for its rates: one baseline per kind of answer, so that a
/// `top` asking without ports and the web page asking with them do not take turns replacing a
/// baseline the other needs (only answers with ports read the outputs' write counters).
#[derive(Default)]
pub(crate) struct Baselines {
    actors: Baseline,
    ports: Baseline,
}

/// One actor's line of a `/api/stats` answer, before it is written.
struct Line<'a> {
    actor: &'a ActorRef,
    stats: ActorStats,
    ports: Vec<(&'a PortInfo, PortStats)>,
    /// Ticks per second since the baseline, if there is one.
    fps: Option<f64>,
}

impl Line<'_> {
    /// Percent of one core in `process`: `fps` × the median process time.
    fn core(&self) -> Option<f64> {
        let p50 = self.stats.process_p50.as_secs_f64();
        self.fps.map(|fps| fps * p50 * 100.0)
    }

    /// The value `sort` orders by, largest first.
    fn key(&self, sort: SortBy) -> f64 {
        match sort {
            SortBy::Core => self.core().unwrap_or(0.0),
            SortBy::Fps => self.fps.unwrap_or(0.0),
            SortBy::P99 => self.stats.process_p99.as_secs_f64(),
            SortBy::Errors => (self.stats.errors + self.stats.panics) as f64,
            SortBy::Uri => 0.0,
        }
    }
}

/// `GET /api/stats`: every actor's counters (with `ports`: its ports' counters too), and each
/// clock's lateness. `elapsed_ms` (since the server started) lets a client turn two snapshots
/// into rates; `fps` and `writes_per_s` are the server's own, over the last second or so
/// (`null` until it has an earlier snapshot at least 200 ms old), and `core_percent` is `fps`
/// × the median process time. `actors_total` and `core_percent_total` cover every actor, also
/// when `limit` leaves most of them out.
///
/// Written straight into the response text, not through a `serde_json::Value` tree: with
/// 10,000 actors this answer is what a `top` attached costs the runtime every second. A `top`
/// asks with `sort` and `limit`, so only the rows it shows are named and written.
pub(crate) fn stats(
    registry: &Registry,
    elapsed: Duration,
    baselines: &Baselines,
    query: StatsQuery,
) -> String {
    let actors = registry.list();
    let mut counts = Counts::with_capacity(actors.len());
    // A clock's figures (lateness, tick time) are shared by its actors: summed up once per
    // clock (by their address), not once per actor.
    let mut clock_figures: HashMap<*const ClockCounters, ClockFigures> = HashMap::new();
    let mut lines: Vec<Line<'_>> = actors
        .iter()
        .map(|actor| {
            let mut stats = actor.entry.stats().snapshot_of_actor();
            if let Some(clock) = actor.entry.stats().clock() {
                clock_figures
                    .entry(Arc::as_ptr(clock))
                    .or_insert_with(|| clock.figures())
                    .put_into(&mut stats);
            }
            // The outputs' write counters only when ports are listed (for `writes_per_s`).
            let ports: Vec<_> = match query.ports {
                true => actor.ports().iter().map(|p| (p, (p.stats)())).collect(),
                false => Vec::new(),
            };
            let writes = ports
                .iter()
                .filter(|(p, _)| p.direction == Direction::Output)
                .map(|(_, s)| s.writes)
                .collect();
            let count = Count {
                _entry: actor.entry.clone(),
                ticks: stats.ticks,
                writes,
            };
            counts.insert(actor.entry.address(), count);
            Line {
                actor,
                stats,
                ports,
                fps: None,
            }
        })
        .collect();
    let baseline = match query.ports {
        true => &baselines.ports,
        false => &baselines.actors,
    };
    let base = baseline.base(elapsed, counts);
    let then = |line: &Line<'_>| {
        let base = base.as_ref()?;
        Some((base, base.counts.get(&(line.actor.entry.address()))?))
    };
    // Per clock name: its actors, their late ticks summed, and the clock's figures (the
    // largest, should two clocks share a name).
    let mut clocks: BTreeMap<&str, (usize, u64, ClockFigures)> = BTreeMap::new();
    let mut core_total = None::<f64>;
    for line in &mut lines {
        line.fps = then(line).map(|(b, t)| b.per_second(line.stats.ticks, t.ticks));
        if let Some(core) = line.core() {
            *core_total.get_or_insert(0.0) += core;
        }
        let (actors, late, figures) = clocks.entry(line.actor.clock()).or_default();
        *actors += 1;
        *late += line.stats.late_ticks;
        *figures = figures.max(ClockFigures::of(&line.stats));
    }
    let total = lines.len();
    if let Some(sort) = query.sort {
        let order = |a: &Line<'_>, b: &Line<'_>| {
            b.key(sort)
                .total_cmp(&a.key(sort))
                .then_with(|| a.actor.uri().cmp(b.actor.uri()))
        };
        // Only the rows shown need an order: select them first, then sort those.
        if let Some(limit) = query.limit.filter(|&l| l > 0 && l < lines.len()) {
            lines.select_nth_unstable_by(limit - 1, order);
            lines.truncate(limit);
        }
        lines.sort_unstable_by(order);
    }
    if let Some(limit) = query.limit {
        lines.truncate(limit);
    }
    let mut out = String::with_capacity(lines.len() * if query.ports { 400 } else { 300 } + 512);
    let _ = write!(
        out,
        "{{\"elapsed_ms\":{:.3},\"actors_total\":{total},\"core_percent_total\":",
        elapsed.as_secs_f64() * 1000.0
    );
    push_rate(&mut out, core_total);
    out.push_str(",\"actors\":[");
    let mut uri = String::new();
    for (i, line) in lines.iter().enumerate() {
        let (actor, s) = (line.actor, &line.stats);
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"uri\":");
        uri.clear();
        let _ = write!(uri, "{}", actor.uri());
        push_str(&mut out, &uri);
        out.push_str(",\"fps\":");
        push_rate(&mut out, line.fps);
        out.push_str(",\"core_percent\":");
        push_rate(&mut out, line.core());
        let _ = write!(
            out,
            ",\"ticks\":{},\"skipped_ticks\":{},\"late_ticks\":{},\"errors\":{},\"panics\":{}",
            s.ticks, s.skipped_ticks, s.late_ticks, s.errors, s.panics,
        );
        push_micros(&mut out, ",\"process_p50_us\":", s.process_p50);
        push_micros(&mut out, ",\"process_p99_us\":", s.process_p99);
        push_micros(&mut out, ",\"process_max_us\":", s.process_max);
        out.push_str(",\"clock\":");
        push_str(&mut out, actor.clock());
        if query.ports {
            let then = then(line);
            out.push_str(",\"ports\":[");
            let mut output = 0;
            for (j, (port, p)) in line.ports.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                let _ = write!(
                    out,
                    "{{\"name\":\"{}\",\"direction\":\"{}\",\"writes\":{},\"overwritten_unread\":{},\"reads\":{},\"stale_reads\":{},\"missed\":{},\"bad_values\":{},\"dropped\":{}",
                    port.name, port.direction.as_str(), p.writes, p.overwritten_unread,
                    p.reads, p.stale_reads, p.missed, p.bad_values, p.dropped
                );
                if port.direction == Direction::Output {
                    out.push_str(",\"writes_per_s\":");
                    let rate = then
                        .and_then(|(b, t)| Some(b.per_second(p.writes, *t.writes.get(output)?)));
                    push_rate(&mut out, rate);
                    output += 1;
                }
                out.push('}');
            }
            out.push(']');
        }
        out.push('}');
    }
    out.push_str("],\"clocks\":[");
    for (i, (clock, (actors, late, figures))) in clocks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"clock\":");
        push_str(&mut out, clock);
        let _ = write!(out, ",\"actors\":{actors},\"late_ticks\":{late}");
        push_micros(&mut out, ",\"lateness_p50_us\":", figures.lateness_p50);
        push_micros(&mut out, ",\"lateness_p99_us\":", figures.lateness_p99);
        push_micros(&mut out, ",\"lateness_max_us\":", figures.lateness_max);
        push_micros(&mut out, ",\"tick_p50_us\":", figures.tick_p50);
        push_micros(&mut out, ",\"tick_p99_us\":", figures.tick_p99);
        out.push('}');
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
        find_port(actor.ports(), name, direction).cloned()
    };
    let (output, via) = match find(&actor, name, Direction::Output) {
        Some(output) => (output, None),
        None => {
            let input = find(&actor, name, Direction::Input)
                .ok_or_else(|| not_found(format!("{uri} has no port {name:?}")))?;
            match input
                .upstream
                .as_ref()
                .and_then(|up| up().into_iter().next())
            {
                Some(from) => {
                    let upstream = registry
                        .lookup_uri(from.actor())
                        .ok()
                        .flatten()
                        .and_then(|a| find(&a, from.port(), Direction::Output))
                        .ok_or_else(|| not_found(format!("upstream {from} gone")))?;
                    (upstream, Some(from.to_string()))
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
        "json": output.text.is_some_and(|t| t.1),
        "seq": seq,
        "text": text,
        "truncated": truncated,
        "connected": true,
    }))
}
