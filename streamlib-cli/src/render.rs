//! Text, DOT and SVG renderings of the API's documents.

use std::collections::HashMap;
use std::fmt::Write;

use clap::ValueEnum;
use serde_json::Value;

/// One actor's line of `top`: counters, and rates between two snapshots.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub uri: String,
    pub fps: f64,
    pub late: u64,
    pub skipped: u64,
    pub errors: u64,
    pub panics: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Share of one core in `process`, in percent, estimated as fps × p50.
    pub core: f64,
}

/// Column `top` sorts by (largest first, except the URI).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortKey {
    Core,
    Fps,
    P99,
    Errors,
    Uri,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Core => SortKey::Fps,
            SortKey::Fps => SortKey::P99,
            SortKey::P99 => SortKey::Errors,
            SortKey::Errors => SortKey::Uri,
            SortKey::Uri => SortKey::Core,
        }
    }
}

fn u(value: &Value) -> u64 {
    value.as_u64().unwrap_or(0)
}

fn f(value: &Value) -> f64 {
    value.as_f64().unwrap_or(0.0)
}

/// Rows from two `/api/stats` snapshots, `before` taken first.
pub fn rows(before: &Value, now: &Value) -> Vec<Row> {
    let seconds = (f(&now["elapsed_ms"]) - f(&before["elapsed_ms"])) / 1000.0;
    let earlier: HashMap<&str, &Value> = before["actors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| Some((a["uri"].as_str()?, a)))
        .collect();
    now["actors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let uri = a["uri"].as_str().unwrap_or("?").to_owned();
            let ticks_before = earlier.get(uri.as_str()).map_or(0, |b| u(&b["ticks"]));
            let fps = if seconds > 0.0 && earlier.contains_key(uri.as_str()) {
                u(&a["ticks"]).saturating_sub(ticks_before) as f64 / seconds
            } else {
                0.0
            };
            let p50_us = f(&a["process_p50_us"]);
            Row {
                uri,
                fps,
                late: u(&a["late_ticks"]),
                skipped: u(&a["skipped_ticks"]),
                errors: u(&a["errors"]),
                panics: u(&a["panics"]),
                p50_us,
                p99_us: f(&a["process_p99_us"]),
                core: fps * p50_us / 1e4,
            }
        })
        .collect()
}

pub fn sort(rows: &mut [Row], key: SortKey) {
    let by = |r: &Row| match key {
        SortKey::Core => r.core,
        SortKey::Fps => r.fps,
        SortKey::P99 => r.p99_us,
        SortKey::Errors => (r.errors + r.panics) as f64,
        SortKey::Uri => 0.0,
    };
    rows.sort_by(|a, b| by(b).total_cmp(&by(a)).then_with(|| a.uri.cmp(&b.uri)));
}

/// The `top` table: a header line and one line per row (at most `limit`), plain text.
pub fn table(rows: &[Row], limit: usize) -> String {
    let width = rows.iter().map(|r| r.uri.len()).max().unwrap_or(5).max(5);
    let mut out = format!(
        "{:<width$} {:>8} {:>7} {:>8} {:>7} {:>7} {:>9} {:>9} {:>7}\n",
        "ACTOR", "FPS", "LATE", "SKIPPED", "ERRORS", "PANICS", "P50_US", "P99_US", "CORE%"
    );
    for r in rows.iter().take(limit) {
        let _ = writeln!(
            out,
            "{:<width$} {:>8.1} {:>7} {:>8} {:>7} {:>7} {:>9.1} {:>9.1} {:>7.2}",
            r.uri, r.fps, r.late, r.skipped, r.errors, r.panics, r.p50_us, r.p99_us, r.core
        );
    }
    if rows.len() > limit {
        let _ = writeln!(out, "… {} more", rows.len() - limit);
    }
    out
}

/// One line per clock: its actors and lateness.
pub fn clocks(stats: &Value) -> String {
    let mut out = String::new();
    for c in stats["clocks"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "clock {}: {} actors, lateness p50 {:.1} µs p99 {:.1} µs max {:.1} µs, {} late ticks",
            c["clock"].as_str().unwrap_or("?"),
            u(&c["actors"]),
            f(&c["lateness_p50_us"]),
            f(&c["lateness_p99_us"]),
            f(&c["lateness_max_us"]),
            u(&c["late_ticks"]),
        );
    }
    out
}

struct Edge<'a> {
    from: &'a str,
    from_port: &'a str,
    to: &'a str,
    to_port: &'a str,
    payload: &'a str,
}

fn split_port(end: &str) -> (&str, &str) {
    end.rsplit_once('.').unwrap_or((end, ""))
}

fn edges(graph: &Value) -> Vec<Edge<'_>> {
    graph["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let (from, from_port) = split_port(c["from"].as_str()?);
            let (to, to_port) = split_port(c["to"].as_str()?);
            Some(Edge {
                from,
                from_port,
                to,
                to_port,
                payload: c["payload"].as_str().unwrap_or("?"),
            })
        })
        .collect()
}

fn actor_uris(graph: &Value) -> Vec<&str> {
    graph["actors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["uri"].as_str())
        .collect()
}

fn escape_dot(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT: actors as boxes, edges labelled `output -> input: payload`.
pub fn dot(graph: &Value) -> String {
    let mut out = String::from("digraph streamlib {\n  rankdir=LR;\n  node [shape=box];\n");
    for uri in actor_uris(graph) {
        let _ = writeln!(out, "  \"{}\";", escape_dot(uri));
    }
    for e in edges(graph) {
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{} -> {}: {}\"];",
            escape_dot(e.from),
            escape_dot(e.to),
            escape_dot(e.from_port),
            escape_dot(e.to_port),
            escape_dot(e.payload)
        );
    }
    out.push_str("}\n");
    out
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A standalone SVG: actors in columns by their longest path from a source, edges as curves
/// labelled with their payload type.
pub fn svg(graph: &Value) -> String {
    const W: usize = 220;
    const H: usize = 40;
    const GAP_X: usize = 90;
    const GAP_Y: usize = 20;
    let uris = actor_uris(graph);
    let edges = edges(graph);
    let index: HashMap<&str, usize> = uris.iter().enumerate().map(|(i, u)| (*u, i)).collect();
    let mut depth = vec![0usize; uris.len()];
    // Longest path; at most `uris.len()` rounds, so a cycle stops growing.
    for _ in 0..uris.len() {
        let mut changed = false;
        for e in &edges {
            if let (Some(&a), Some(&b)) = (index.get(e.from), index.get(e.to)) {
                if a != b && depth[b] < depth[a] + 1 && depth[a] < uris.len() {
                    depth[b] = depth[a] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut row_of = vec![0usize; uris.len()];
    let mut rows_in: HashMap<usize, usize> = HashMap::new();
    for (i, d) in depth.iter().enumerate() {
        let rows = rows_in.entry(*d).or_default();
        row_of[i] = *rows;
        *rows += 1;
    }
    let columns = depth.iter().max().map_or(0, |d| d + 1);
    let rows = rows_in.values().max().copied().unwrap_or(0);
    let at = |i: usize| (10 + depth[i] * (W + GAP_X), 10 + row_of[i] * (H + GAP_Y));
    let (width, height) = (20 + columns * (W + GAP_X), 20 + rows.max(1) * (H + GAP_Y));
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#78909c\"/></marker></defs>\n"
    );
    for e in &edges {
        let (Some(&a), Some(&b)) = (index.get(e.from), index.get(e.to)) else {
            continue;
        };
        let ((ax, ay), (bx, by)) = (at(a), at(b));
        let (x1, y1, x2, y2) = (ax + W, ay + H / 2, bx, by + H / 2);
        let mx = (x1 + x2) / 2;
        let _ = writeln!(
            out,
            "<path d=\"M{x1},{y1} C{mx},{y1} {mx},{y2} {x2},{y2}\" fill=\"none\" stroke=\"#78909c\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>\n\
             <text x=\"{mx}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{} → {}: {}</text>",
            (y1 + y2) / 2 - 4,
            escape_xml(e.from_port),
            escape_xml(e.to_port),
            escape_xml(e.payload.rsplit("::").next().unwrap_or(e.payload)),
        );
    }
    for (i, uri) in uris.iter().enumerate() {
        let (x, y) = at(i);
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"6\" fill=\"#e3f2fd\" stroke=\"#455a64\"/>\n\
             <text x=\"{}\" y=\"{}\">{}</text>",
            x + 8,
            y + H / 2 + 4,
            escape_xml(uri.strip_prefix("actor://").unwrap_or(uri)),
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph() -> Value {
        json!({
            "actors": [{"uri": "actor://local/A/a"}, {"uri": "actor://local/B/b"}],
            "connections": [{"from": "actor://local/A/a.value", "to": "actor://local/B/b.value", "payload": "i64"}],
        })
    }

    #[test]
    fn dot_and_svg_name_actors_and_payloads() {
        let dot = dot(&graph());
        assert!(dot.contains(
            "\"actor://local/A/a\" -> \"actor://local/B/b\" [label=\"value -> value: i64\"]"
        ));
        let svg = svg(&graph());
        assert!(
            svg.starts_with("<svg")
                && svg.contains("local/B/b")
                && svg.contains("value → value: i64")
        );
    }

    #[test]
    fn rates_come_from_two_snapshots() {
        let before = json!({"elapsed_ms": 1000.0, "actors": [{"uri": "x", "ticks": 10, "process_p50_us": 100.0}]});
        let now = json!({"elapsed_ms": 2000.0, "actors": [{"uri": "x", "ticks": 70, "process_p50_us": 100.0}]});
        let rows = rows(&before, &now);
        assert_eq!(rows[0].fps, 60.0);
        assert!((rows[0].core - 0.6).abs() < 1e-9);
        assert!(table(&rows, 10)
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("x ")));
    }
}
