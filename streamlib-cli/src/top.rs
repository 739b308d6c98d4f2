//! `streamlib top`: a table refreshed in place (or printed once).

use std::io::Write;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, queue, terminal};
use serde_json::Value;

use crate::client::Client;
use crate::render::{self, SortKey};

/// What `top` asks: counters without the per-port ones, sorted by the server, the first
/// `limit` rows (all without).
fn stats_path(sort: SortKey, limit: Option<usize>) -> String {
    let mut path = format!("/api/stats?ports=0&sort={}", sort.name());
    if let Some(limit) = limit {
        path.push_str(&format!("&limit={limit}"));
    }
    path
}

/// All actors, sorted, with rates over `interval`, as plain text. The first request (no rows)
/// gives the server a baseline to measure the rates of the second from.
pub fn once(client: &Client, sort: SortKey, interval: Duration) -> Result<(), String> {
    client.get(&stats_path(sort, Some(0)))?;
    std::thread::sleep(interval);
    let now = client.get(&stats_path(sort, None))?;
    crate::print(&snapshot(&now, sort, usize::MAX))
}

fn snapshot(stats: &Value, sort: SortKey, limit: usize) -> String {
    let rows = render::rows(stats);
    let total = stats["actors_total"]
        .as_u64()
        .map_or(rows.len(), |t| t as usize);
    format!(
        "{total} actors, {:.1} % of a core in process (sorted by {sort:?})\n{}{}",
        stats["core_percent_total"].as_f64().unwrap_or(0.0),
        render::clocks(stats),
        render::table(&rows, limit, total)
    )
}

/// Restores the terminal however `live` ends.
struct Screen;

impl Screen {
    fn enter() -> std::io::Result<Screen> {
        terminal::enable_raw_mode()?;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )?;
        Ok(Screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }
}

/// Refreshes every `interval` until `q`, Esc or Ctrl-C; `s` changes the sort column. Each
/// refresh asks for only the rows the terminal shows.
pub fn live(client: &Client, mut sort: SortKey, interval: Duration) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    // The server's rates need a baseline: ask once now, draw the first table shortly after.
    client.get(&stats_path(sort, Some(0)))?;
    let _screen = Screen::enter().map_err(io)?;
    let mut next = Instant::now() + interval.min(Duration::from_millis(300));
    let mut now = Value::Null;
    let mut error = String::new();
    loop {
        if Instant::now() >= next {
            match client.get(&stats_path(sort, Some(visible_rows()))) {
                Ok(fresh) => {
                    now = fresh;
                    error.clear();
                }
                Err(e) => error = e,
            }
            next = Instant::now() + interval;
            draw(client, &now, sort, &error).map_err(io)?;
        }
        let wait = next.saturating_duration_since(Instant::now());
        if event::poll(wait).map_err(io)? {
            if let Event::Key(key) = event::read().map_err(io)? {
                if key.kind != KeyEventKind::Press {
                    continue;
                }
                match key.code {
                    KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        return Ok(())
                    }
                    KeyCode::Char('s') => {
                        // The server sorts: ask again at once in the new order.
                        sort = sort.next();
                        next = Instant::now();
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Table rows that fit the terminal under the header lines.
fn visible_rows() -> usize {
    let (_, rows) = terminal::size().unwrap_or((80, 24));
    usize::from(rows).saturating_sub(6).max(1)
}

fn draw(client: &Client, now: &Value, sort: SortKey, error: &str) -> std::io::Result<()> {
    let mut text = format!(
        "streamlib top: {} (pid {})   q quit, s sort   {error}\n",
        client.address,
        client.pid.map_or("?".to_owned(), |p| p.to_string())
    );
    text.push_str(&snapshot(now, sort, visible_rows()));
    let mut out = std::io::stdout().lock();
    queue!(
        out,
        cursor::MoveTo(0, 0),
        terminal::Clear(terminal::ClearType::All)
    )?;
    for line in text.lines() {
        // Raw mode: a line feed does not return the carriage.
        write!(out, "{line}\r\n")?;
    }
    out.flush()
}
