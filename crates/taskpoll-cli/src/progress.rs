//! Progress on stderr: live and redrawn in place on a terminal (a row per task, or a
//! summary line and the latest changes when there are many), plain lines for logs, or
//! nothing.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use tokio::time::Instant;

use crate::args::ProgressMode;
use crate::board::{Board, Task};
use crate::report::{clip, human_duration, plural};

/// Up to this many tasks get a row each; more collapse into a summary.
const MAX_ROWS: usize = 10;
/// Up to this many tasks get a plain line per change; more get a summary now and then.
const MAX_PLAIN_TASKS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Live,
    Plain,
    Quiet,
}

/// Draws progress on stderr.
pub(crate) struct Display {
    mode: Mode,
    drawn: usize,
    last_draw: Option<Instant>,
}

fn width() -> usize {
    terminal_size::terminal_size_of(std::io::stderr())
        .map_or(80, |(w, _)| usize::from(w.0))
        .max(20)
}

fn short(id: &str) -> String {
    clip(id, 13)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Display {
    /// `auto` is live on a terminal and plain otherwise; `quiet` shows nothing.
    pub(crate) fn new(mode: ProgressMode, quiet: bool) -> Self {
        let mode = match (quiet, mode) {
            (true, _) | (_, ProgressMode::None) => Mode::Quiet,
            (_, ProgressMode::Plain) => Mode::Plain,
            (_, ProgressMode::Auto) if std::io::stderr().is_terminal() => Mode::Live,
            (_, ProgressMode::Auto) => Mode::Plain,
        };
        Display {
            mode,
            drawn: 0,
            last_draw: None,
        }
    }

    /// A line for people (not progress): shown unless quiet, above a live board.
    pub(crate) fn say(&mut self, line: &str) {
        if self.mode != Mode::Quiet {
            self.clear();
            eprintln!("{line}");
        }
    }

    /// Something changed in one task.
    pub(crate) fn note(&mut self, board: &Board, line: &str) {
        if self.mode == Mode::Plain && board.tasks().len() <= MAX_PLAIN_TASKS {
            eprintln!("[{}] {line}", human_duration(board.started.elapsed()));
        }
    }

    /// Erases a live board (before a line goes to stdout on the same terminal).
    pub(crate) fn clear(&mut self) {
        if self.mode == Mode::Live && self.drawn > 0 {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[{}A\x1b[J", self.drawn);
            let _ = err.flush();
            self.drawn = 0;
        }
    }

    /// Draws the board: at most ten times a second unless `force`.
    pub(crate) fn draw(&mut self, board: &Board, requests: u64, force: bool) {
        let now = Instant::now();
        let every = match self.mode {
            Mode::Quiet => return,
            Mode::Live => Duration::from_millis(100),
            Mode::Plain if board.tasks().len() > MAX_PLAIN_TASKS => Duration::from_secs(5),
            Mode::Plain => return,
        };
        if !force
            && self
                .last_draw
                .is_some_and(|t| now.duration_since(t) < every)
        {
            return;
        }
        self.last_draw = Some(now);
        let lines = self.lines(board, requests);
        if self.mode == Mode::Plain {
            if let Some(first) = lines.first() {
                eprintln!("[{}] {first}", human_duration(board.started.elapsed()));
            }
            return;
        }
        let cols = width().saturating_sub(1);
        let mut err = std::io::stderr().lock();
        if self.drawn > 0 {
            let _ = write!(err, "\r\x1b[{}A\x1b[J", self.drawn);
        }
        for line in &lines {
            let _ = writeln!(err, "{}", clip(line, cols));
        }
        let _ = err.flush();
        self.drawn = lines.len();
    }

    fn lines(&self, board: &Board, requests: u64) -> Vec<String> {
        let tasks = board.tasks();
        if tasks.len() <= MAX_ROWS && self.mode == Mode::Live {
            let cols = width();
            return tasks.iter().map(|t| row(board, t, cols)).collect();
        }
        let [completed, failed, timed_out, errors, interrupted] = board.counts();
        let done = completed + failed + timed_out + errors + interrupted;
        let mut summary = format!(
            "{} of {} done: {completed} completed, {failed} failed",
            done,
            plural(tasks.len(), "task"),
        );
        if timed_out > 0 {
            summary.push_str(&format!(", {timed_out} timed out"));
        }
        if errors > 0 {
            summary.push_str(&format!(", {errors} errors"));
        }
        summary.push_str(&format!(
            " | {} | {}",
            plural_u64(requests, "request"),
            human_duration(board.started.elapsed())
        ));
        let mut lines = vec![summary];
        if self.mode == Mode::Live {
            lines.extend(board.recent().map(|r| format!("  {r}")));
        }
        lines
    }
}

fn plural_u64(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{} {word}s", thousands(n))
    }
}

/// One task's row. On a wide terminal: vendor, label, id, status, polls, time,
/// results, note; on a narrow one the label stands for the id (or the id for itself)
/// and the results join the status, so that the row fits 80 columns.
fn row(board: &Board, t: &Task, cols: usize) -> String {
    let elapsed = match &t.finished {
        Some((_, e)) => *e,
        None => board.started.elapsed(),
    };
    let mut status = match &t.finished {
        Some((verdict, _)) => verdict.as_str().to_owned(),
        None => t.status.clone().unwrap_or_else(|| "starting".to_owned()),
    };
    let results = (t.results > 0).then(|| plural(t.results, "result"));
    let polls = crate::report::polls(t.polls);
    let time = human_duration(elapsed);
    let mut line = if cols >= 100 {
        let mut line = format!("{:<11} ", t.vendor);
        if !t.label.is_empty() {
            line.push_str(&format!("{:<21} ", clip(&t.label, 21)));
        }
        line.push_str(&format!(
            "{:<13} {:<22} {:>8} {:>6}",
            short(&t.id),
            clip(&status, 22),
            polls,
            time
        ));
        if let Some(r) = results {
            line.push_str(&format!("  {r}"));
        }
        line
    } else {
        let name = if t.label.is_empty() {
            short(&t.id)
        } else {
            clip(&t.label, 21)
        };
        if let Some(r) = results {
            status = format!("{status}, {r}");
        }
        format!(
            "{:<11} {:<21} {:<24} {:>8} {:>6}",
            t.vendor,
            name,
            clip(&status, 24),
            polls,
            time
        )
    };
    if !t.note.is_empty() {
        line.push_str(&format!("  {}", t.note));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(plural_u64(1, "request"), "1 request");
        assert_eq!(plural_u64(12_000, "request"), "12,000 requests");
    }
}
