//! What the demos print: a live line per actor while they run, a summary table at the end, and
//! the pipeline graph as DOT (and SVG when Graphviz's `dot` is installed).
//!
//! Everything here reads the runtime's own counters ([`ActorRef::stats`],
//! [`ActorRef::port_stats`]); nothing is measured on the side.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use streamlib::{ActorRef, ActorStats};

/// One actor's counters, ready to print.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorRow {
    /// `Class/id`.
    pub actor: String,
    /// `process` calls.
    pub ticks: u64,
    /// Ticks per second over the period measured.
    pub fps: f64,
    /// Ticks that ran more than a period after their deadline.
    pub late: u64,
    /// Ticks the clock skipped because it ran late.
    pub skipped: u64,
    /// Errors and panics in `process`.
    pub faults: u64,
    /// Median `process` time.
    pub p50: Duration,
    /// 99th percentile `process` time.
    pub p99: Duration,
    /// Longest `process` time.
    pub max: Duration,
    /// Values that reached the actor's inputs but were overwritten before it read them (or, for
    /// a queued input, dropped because its queue was full).
    pub dropped: u64,
    /// Median wall time of a tick of the actor's clock (start of the tick to the end of its
    /// last actor); zero when not known.
    pub tick_p50: Duration,
}

impl ActorRow {
    /// The row of `actor`, its rate taken over `elapsed`.
    pub fn of(actor: &ActorRef, elapsed: Duration) -> ActorRow {
        let dropped = actor
            .port_stats()
            .inputs
            .iter()
            .map(|(_, port)| port.missed + port.dropped)
            .sum();
        let name = format!("{}/{}", actor.uri().class(), actor.uri().instance_id());
        ActorRow::from_stats(&name, actor.stats(), elapsed, dropped)
    }

    /// The row of counters `stats` (of an actor named `name`, e.g. one asked of another process).
    pub fn from_stats(name: &str, stats: ActorStats, elapsed: Duration, dropped: u64) -> ActorRow {
        ActorRow {
            actor: name.to_owned(),
            ticks: stats.ticks,
            fps: stats.ticks as f64 / elapsed.as_secs_f64().max(1e-9),
            late: stats.late_ticks,
            skipped: stats.skipped_ticks,
            faults: stats.errors + stats.panics,
            p50: stats.process_p50,
            p99: stats.process_p99,
            max: stats.process_max,
            dropped,
            tick_p50: stats.tick_p50,
        }
    }

    /// One line: `TestPattern/pattern   59.9 fps  late 0  skipped 0  p50 0.41 ms ...`.
    pub fn live_line(&self, width: usize) -> String {
        format!(
            "{:<width$} {:>6.1} fps  late {:<4} skipped {:<4} process p50 {} p99 {}  dropped {}",
            self.actor,
            self.fps,
            self.late,
            self.skipped,
            millis(self.p50),
            millis(self.p99),
            self.dropped
        )
    }
}

/// The summary table of `rows`, one line per actor under a header.
pub fn table(rows: &[ActorRow]) -> String {
    let width = rows.iter().map(|r| r.actor.len()).max().unwrap_or(5).max(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$} {:>7} {:>7} {:>5} {:>7} {:>6} {:>9} {:>9} {:>9} {:>7}",
        "actor", "ticks", "fps", "late", "skipped", "faults", "p50", "p99", "max", "dropped"
    );
    let _ = writeln!(out, "{}", "-".repeat(width + 76));
    for r in rows {
        let _ = writeln!(
            out,
            "{:<width$} {:>7} {:>7} {:>5} {:>7} {:>6} {:>9} {:>9} {:>9} {:>7}",
            r.actor,
            r.ticks,
            // Not known (an actor of another process, whose own summary gives its rate): a dash.
            if r.fps.is_finite() {
                format!("{:.1}", r.fps)
            } else {
                "—".to_owned()
            },
            r.late,
            r.skipped,
            r.faults,
            millis(r.p50),
            millis(r.p99),
            millis(r.max),
            r.dropped
        );
    }
    out
}

/// Where a frame's time goes: each actor's median `process` time, their sum, the wall time of a
/// tick (the clock's median: below the sum when independent actors ran side by side), and the
/// CPU time of the whole process per frame (`cpu` over `frames`: the actors, the runtime, writer
/// threads), each beside the frame budget at `fps` (16.67 ms at 60 fps) and as a share of one
/// core (of the budget, for the tick's wall time).
pub fn frame_budget(rows: &[ActorRow], fps: u32, frames: u64, cpu: Option<Duration>) -> String {
    let budget = Duration::from_secs(1) / fps.max(1);
    let width = rows
        .iter()
        .map(|r| r.actor.len())
        .max()
        .unwrap_or(0)
        .max(26);
    let share = |d: Duration| 100.0 * d.as_secs_f64() / budget.as_secs_f64();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "per frame, against the budget of {} at {fps} fps (share of one core):",
        millis(budget)
    );
    let mut line = |what: &str, d: Duration| {
        let _ = writeln!(out, "  {what:<width$} {:>9} {:>6.1} %", millis(d), share(d));
    };
    for r in rows {
        line(&r.actor, r.p50);
    }
    line("actors (median process)", rows.iter().map(|r| r.p50).sum());
    let tick = rows.iter().map(|r| r.tick_p50).max().unwrap_or_default();
    if !tick.is_zero() {
        line("a tick (wall time, median)", tick);
    }
    match cpu {
        Some(cpu) if frames > 0 => line(
            "whole process (CPU time)",
            cpu / frames.min(u64::from(u32::MAX)) as u32,
        ),
        _ => {
            let _ = writeln!(
                out,
                "  {:<width$} not measured here",
                "whole process (CPU time)"
            );
        }
    }
    out
}

/// CPU time (user + system) this process has used so far, all its threads together; `None`
/// where `getrusage` is not available.
pub fn process_cpu_time() -> Option<Duration> {
    rusage(false)
}

/// CPU time (user + system) of this process's children that have ended and been waited for.
pub fn children_cpu_time() -> Option<Duration> {
    rusage(true)
}

#[cfg(unix)]
fn rusage(children: bool) -> Option<Duration> {
    let who = if children {
        libc::RUSAGE_CHILDREN
    } else {
        libc::RUSAGE_SELF
    };
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a writable `rusage`, and `who` is one of the two values above.
    if unsafe { libc::getrusage(who, usage.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: `getrusage` returned 0, so it filled the struct (zeroed before, in any case).
    let usage = unsafe { usage.assume_init() };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Some(time(usage.ru_utime) + time(usage.ru_stime))
}

#[cfg(not(unix))]
fn rusage(_children: bool) -> Option<Duration> {
    None
}

/// `1.234 ms`, or `123 µs` below a millisecond.
pub fn millis(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

/// Live lines, one per actor (plus one of the demo's own), redrawn in place on a terminal and
/// printed once a second otherwise (a log, a pipe, a test).
pub struct LiveView {
    actors: Vec<ActorRef>,
    previous: Vec<u64>,
    at: Instant,
    lines_on_screen: usize,
    terminal: bool,
    quiet: bool,
}

impl LiveView {
    /// A view of `actors` (take them from `rt.registry().list()` after spawning: a stopped
    /// actor leaves the registry but its `ActorRef` keeps its counters).
    pub fn new(actors: Vec<ActorRef>, quiet: bool) -> LiveView {
        let previous = actors.iter().map(|a| a.stats().ticks).collect();
        LiveView {
            actors,
            previous,
            at: Instant::now(),
            lines_on_screen: 0,
            terminal: std::io::stdout().is_terminal(),
            quiet,
        }
    }

    /// Prints the lines if it is time to (4 times a second on a terminal, once a second
    /// otherwise), with `note` as a last line when not empty.
    pub fn update(&mut self, note: &str) {
        let period = if self.terminal { 250 } else { 1000 };
        let elapsed = self.at.elapsed();
        if self.quiet || elapsed < Duration::from_millis(period) {
            return;
        }
        let mut lines: Vec<String> = Vec::new();
        let width = self
            .actors
            .iter()
            .map(|a| a.uri().class().len() + a.uri().instance_id().len() + 1)
            .max()
            .unwrap_or(0);
        for (actor, previous) in self.actors.iter().zip(&mut self.previous) {
            let mut row = ActorRow::of(actor, elapsed);
            row.fps = (row.ticks - *previous) as f64 / elapsed.as_secs_f64();
            *previous = row.ticks;
            lines.push(row.live_line(width));
        }
        if !note.is_empty() {
            lines.push(note.to_string());
        }
        self.at = Instant::now();
        let mut stdout = std::io::stdout().lock();
        if self.terminal {
            // Move up over the previous block and overwrite it line by line.
            if self.lines_on_screen > 0 {
                let _ = write!(stdout, "\x1b[{}A", self.lines_on_screen);
            }
            for line in &lines {
                let _ = writeln!(stdout, "\x1b[2K{line}");
            }
            self.lines_on_screen = lines.len();
        } else {
            for line in &lines {
                let _ = writeln!(stdout, "{line}");
            }
            let _ = writeln!(stdout);
        }
        let _ = stdout.flush();
    }

    /// The final rows, rates over `elapsed`.
    pub fn rows(&self, elapsed: Duration) -> Vec<ActorRow> {
        self.actors
            .iter()
            .map(|a| ActorRow::of(a, elapsed))
            .collect()
    }
}

/// Writes `dot` to `<dir>/<name>.dot` and, if Graphviz's `dot` runs, renders `<dir>/<name>.svg`.
pub fn write_graph(
    dot: &str,
    dir: &Path,
    name: &str,
) -> std::io::Result<(PathBuf, Option<PathBuf>)> {
    let dot_path = dir.join(format!("{name}.dot"));
    std::fs::write(&dot_path, dot)?;
    let svg_path = dir.join(format!("{name}.svg"));
    let rendered = Command::new("dot")
        .arg("-Tsvg")
        .arg(&dot_path)
        .arg("-o")
        .arg(&svg_path)
        .status()
        .is_ok_and(|status| status.success());
    Ok((dot_path, rendered.then_some(svg_path)))
}

/// `out/demo.png (1.2 MB)`.
pub fn describe_file(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(meta) => format!("{} ({})", path.display(), size(meta.len())),
        Err(_) => format!("{} (missing)", path.display()),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ActorRow {
        ActorRow {
            actor: "TestPattern/pattern".into(),
            ticks: 300,
            fps: 59.94,
            late: 1,
            skipped: 2,
            faults: 0,
            p50: Duration::from_micros(420),
            p99: Duration::from_micros(1_500),
            max: Duration::from_millis(3),
            dropped: 4,
            tick_p50: Duration::from_micros(500),
        }
    }

    #[test]
    fn the_table_has_a_header_and_aligned_rows() {
        let text = table(&[
            row(),
            ActorRow {
                actor: "Drawing/overlay".into(),
                ..row()
            },
        ]);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("actor") && lines[0].ends_with("dropped"));
        assert!(lines[2].starts_with("TestPattern/pattern"), "{}", lines[2]);
        assert!(
            lines[2].contains(" 59.9 ")
                && lines[2].contains("420 µs")
                && lines[2].contains("1.50 ms")
        );
        assert_eq!(lines[2].chars().count(), lines[3].chars().count());
    }

    #[test]
    fn an_unknown_rate_is_a_dash_in_its_column() {
        let unknown = ActorRow {
            fps: f64::NAN,
            ..row()
        };
        let text = table(&[row(), unknown]);
        let lines: Vec<_> = text.lines().collect();
        assert!(!lines[3].contains("NaN"), "{}", lines[3]);
        assert!(lines[3].contains("     — "), "{}", lines[3]);
        assert_eq!(lines[2].chars().count(), lines[3].chars().count());
    }

    #[test]
    fn the_frame_budget_lists_each_actor_their_sum_and_the_process() {
        let text = frame_budget(
            &[
                row(),
                ActorRow {
                    actor: "Compositor/mix".into(),
                    ..row()
                },
            ],
            60,
            300,
            Some(Duration::from_millis(1500)),
        );
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 6, "{text}");
        assert!(lines[0].contains("16.67 ms at 60 fps"), "{}", lines[0]);
        assert!(lines[1].contains("TestPattern/pattern") && lines[1].contains("420 µs"));
        assert!(lines[1].ends_with("2.5 %"), "{}", lines[1]);
        assert!(
            lines[3].contains("840 µs") && lines[3].ends_with("5.0 %"),
            "{}",
            lines[3]
        );
        // Both actors ran in 500 µs ticks: less than their 840 µs sum, side by side.
        assert!(
            lines[4].contains("a tick (wall time") && lines[4].contains("500 µs"),
            "{}",
            lines[4]
        );
        // 1.5 s of CPU over 300 frames: 5 ms a frame, 30 % of one core.
        assert!(
            lines[5].contains("5.00 ms") && lines[5].ends_with("30.0 %"),
            "{}",
            lines[5]
        );
        let unmeasured = frame_budget(&[row()], 60, 0, None);
        assert!(unmeasured.contains("not measured"), "{unmeasured}");
    }

    #[test]
    fn live_lines_and_sizes() {
        let line = row().live_line(22);
        assert!(
            line.starts_with("TestPattern/pattern      59.9 fps  late 1"),
            "{line}"
        );
        assert!(line.ends_with("dropped 4"));
        assert_eq!(size(512), "512 B");
        assert_eq!(size(3 << 20), "3.0 MB");
        assert_eq!(millis(Duration::from_micros(999)), "999 µs");
    }
}
