//! Text, DOT and SVG renderings of the API's documents.

use std::collections::HashMap;
use std::fmt::Write;

use clap::ValueEnum;
use serde_json::Value;

/// One actor's line of `top`: counters, and the server's rates.
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
    /// Share of one core in `process`, in percent: fps × p50.
    pub core: f64,
}

/// Column `top` sorts by (largest first, except the URI). The server sorts: `top` asks for the
/// rows it shows, in this order.
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

    /// The name `/api/stats?sort=` takes: the one `--sort` takes (clap's value name).
    pub fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |value| value.get_name().to_owned())
    }
}

fn u(value: &Value) -> u64 {
    value.as_u64().unwrap_or(0)
}

fn f(value: &Value) -> f64 {
    value.as_f64().unwrap_or(0.0)
}

/// The rows of one `/api/stats` answer, in its order. Rates are the server's, measured since
/// its baseline of about a second before (0 while it has none).
pub fn rows(stats: &Value) -> Vec<Row> {
    stats["actors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| Row {
            uri: a["uri"].as_str().unwrap_or("?").to_owned(),
            fps: f(&a["fps"]),
            late: u(&a["late_ticks"]),
            skipped: u(&a["skipped_ticks"]),
            errors: u(&a["errors"]),
            panics: u(&a["panics"]),
            p50_us: f(&a["process_p50_us"]),
            p99_us: f(&a["process_p99_us"]),
            core: f(&a["core_percent"]),
        })
        .collect()
}

/// The `top` table: a header line and one line per row (at most `limit`), plain text, and how
/// many of the `total` actors it leaves out.
pub fn table(rows: &[Row], limit: usize, total: usize) -> String {
    let width = rows.iter().map(|r| r.uri.len()).max().unwrap_or(5).max(5);
    let mut out = format!(
        "{:<width$} {:>8} {:>7} {:>8} {:>7} {:>7} {:>9} {:>9} {:>7}\n",
        "ACTOR", "FPS", "LATE", "SKIPPED", "ERRORS", "PANICS", "P50_US", "P99_US", "CORE%"
    );
    let shown = rows.len().min(limit);
    for r in &rows[..shown] {
        let _ = writeln!(
            out,
            "{:<width$} {:>8.1} {:>7} {:>8} {:>7} {:>7} {:>9.1} {:>9.1} {:>7.2}",
            r.uri, r.fps, r.late, r.skipped, r.errors, r.panics, r.p50_us, r.p99_us, r.core
        );
    }
    if total > shown {
        let _ = writeln!(out, "… {} more", total - shown);
    }
    out
}

/// One line per clock: its actors, the wall time of a tick, and the lateness of its wake-ups.
pub fn clocks(stats: &Value) -> String {
    let mut out = String::new();
    for c in stats["clocks"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "clock {}: {} actors, tick p50 {:.1} µs p99 {:.1} µs, lateness p50 {:.1} µs p99 {:.1} µs max {:.1} µs, {} late ticks",
            c["clock"].as_str().unwrap_or("?"),
            u(&c["actors"]),
            f(&c["tick_p50_us"]),
            f(&c["tick_p99_us"]),
            f(&c["lateness_p50_us"]),
            f(&c["lateness_p99_us"]),
            f(&c["lateness_max_us"]),
            u(&c["late_ticks"]),
        );
    }
    out
}

/// One connection of the graph document, its ends as the server gives them apart (actor URI and
/// port name), so nothing is split out of `"from"` / `"to"` again.
struct Connection<'a> {
    from: &'a str,
    from_port: &'a str,
    to: &'a str,
    to_port: &'a str,
    payload: &'a str,
}

fn connections(graph: &Value) -> Vec<Connection<'_>> {
    graph["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some(Connection {
                from: c["from_actor"].as_str()?,
                from_port: c["from_port"].as_str()?,
                to: c["to_actor"].as_str()?,
                to_port: c["to_port"].as_str()?,
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
    for e in connections(graph) {
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
    let edges = connections(graph);
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
            "connections": [{"from": "actor://local/A/a.value", "to": "actor://local/B/b.value", "payload": "i64",
                "from_actor": "actor://local/A/a", "from_port": "value",
                "to_actor": "actor://local/B/b", "to_port": "value"}],
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
    fn rows_take_the_servers_rates_in_its_order() {
        let stats = json!({"actors_total": 3, "actors": [
            {"uri": "x", "fps": 60.0, "core_percent": 0.6, "process_p50_us": 100.0},
            {"uri": "y", "fps": null, "core_percent": null},
        ]});
        let rows = rows(&stats);
        assert_eq!((rows[0].fps, rows[0].core), (60.0, 0.6));
        assert_eq!((rows[1].fps, rows[1].core), (0.0, 0.0), "no baseline yet");
        let table = table(&rows, 1, 3);
        let lines: Vec<_> = table.lines().collect();
        assert!(lines[1].starts_with("x "), "{table}");
        assert_eq!(lines[2], "… 2 more", "{table}");
        // The server knows the columns by the names `--sort` takes.
        assert_eq!(SortKey::Core.name(), "core");
        assert_eq!(SortKey::P99.name(), "p99");
    }
}
