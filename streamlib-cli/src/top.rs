//! `streamlib top`: a table refreshed in place (or printed once).

use std::io::Write;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, queue, terminal};
use serde_json::Value;

use crate::client::Client;
use crate::render::{self, SortKey};

/// What `top` asks: counters without the per-port ones.
const STATS: &str = "/api/stats?ports=0";

/// Two samples `interval` apart, printed as plain text.
pub fn once(client: &Client, sort: SortKey, interval: Duration) -> Result<(), String> {
    let before = client.get(STATS)?;
    std::thread::sleep(interval);
    let now = client.get(STATS)?;
    crate::print(&snapshot(&before, &now, sort, usize::MAX))
}

fn snapshot(before: &Value, now: &Value, sort: SortKey, limit: usize) -> String {
    let mut rows = render::rows(before, now);
    render::sort(&mut rows, sort);
    let total: f64 = rows.iter().map(|r| r.core).sum();
    format!(
        "{} actors, {:.1} % of a core in process (sorted by {sort:?})\n{}{}",
        rows.len(),
        total,
        render::clocks(now),
        render::table(&rows, limit)
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

/// Refreshes every `interval` until `q`, Esc or Ctrl-C; `s` changes the sort column.
pub fn live(client: &Client, mut sort: SortKey, interval: Duration) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    let mut before = client.get(STATS)?;
    let _screen = Screen::enter().map_err(io)?;
    let mut next = Instant::now() + interval.min(Duration::from_millis(300));
    let mut now = before.clone();
    let mut error = String::new();
    loop {
        if Instant::now() >= next {
            match client.get(STATS) {
                Ok(fresh) => {
                    before = std::mem::replace(&mut now, fresh);
                    error.clear();
                }
                Err(e) => error = e,
            }
            next = Instant::now() + interval;
            draw(client, &before, &now, sort, &error).map_err(io)?;
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
                        sort = sort.next();
                        draw(client, &before, &now, sort, &error).map_err(io)?;
                    }
                    _ => {}
                }
            }
        }
    }
}

fn draw(
    client: &Client,
    before: &Value,
    now: &Value,
    sort: SortKey,
    error: &str,
) -> std::io::Result<()> {
    let (_, rows) = terminal::size().unwrap_or((80, 24));
    let limit = usize::from(rows).saturating_sub(6).max(1);
    let mut text = format!(
        "streamlib top: {} (pid {})   q quit, s sort   {error}\n",
        client.address,
        client.pid.map_or("?".to_owned(), |p| p.to_string())
    );
    text.push_str(&snapshot(before, now, sort, limit));
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
