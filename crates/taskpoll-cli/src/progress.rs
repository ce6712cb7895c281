//! Live progress: many watches merged into one stream of events, drawn as one line per
//! task on a terminal.

use std::io::Write;
use std::pin::Pin;
use std::time::Duration;

use futures_util::stream::{Stream, StreamExt, select_all};
use serde::Serialize;
use taskpoll::{TaskSource, Update, Watch};
use tokio::time::Instant;

use crate::report::{TaskReport, human_duration};

/// Something that happened to the task in one row.
pub(crate) enum Event {
    Polled {
        row: usize,
        attempt: u32,
        status: String,
        partials: usize,
    },
    Partial {
        row: usize,
    },
    Retrying {
        row: usize,
        attempt: u32,
        delay: Duration,
        error: String,
    },
    Finished {
        row: usize,
        report: TaskReport,
    },
}

pub(crate) type Events = Pin<Box<dyn Stream<Item = Event> + Send>>;

/// The events of one watch, for row `row`.
pub(crate) fn events<S>(row: usize, vendor: &'static str, watch: Watch<S>) -> Events
where
    S: TaskSource,
    S::Output: Serialize,
    S::Failure: Serialize,
{
    Box::pin(watch.filter_map(move |update| {
        let event = match update {
            Update::Polled { attempt, phase, .. } => Some(Event::Polled {
                row,
                attempt,
                status: phase.status,
                partials: phase.partials,
            }),
            Update::Partial { .. } => Some(Event::Partial { row }),
            Update::Retrying {
                attempt,
                error,
                delay,
                ..
            } => Some(Event::Retrying {
                row,
                attempt,
                delay,
                error: error.to_string(),
            }),
            Update::Finished(outcome) => Some(Event::Finished {
                row,
                report: TaskReport::of(vendor, outcome),
            }),
            _ => None,
        };
        std::future::ready(event)
    }))
}

/// One task's line.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) vendor: &'static str,
    pub(crate) label: String,
    pub(crate) task_id: String,
    status: String,
    polls: u32,
    results: usize,
    note: String,
    finished: Option<(String, Duration)>,
}

impl Row {
    pub(crate) fn new(
        vendor: &'static str,
        label: impl Into<String>,
        task_id: impl Into<String>,
    ) -> Self {
        Row {
            vendor,
            label: label.into(),
            task_id: task_id.into(),
            status: "starting".into(),
            polls: 0,
            results: 0,
            note: String::new(),
            finished: None,
        }
    }
}

/// The board of rows, drawn on stderr when it is a terminal.
pub(crate) struct Board {
    rows: Vec<Row>,
    started: Instant,
    live: bool,
    drawn: usize,
    last_draw: Option<Instant>,
}

fn short(id: &str) -> String {
    if id.chars().count() > 13 {
        let head: String = id.chars().take(12).collect();
        format!("{head}…")
    } else {
        id.to_owned()
    }
}

impl Board {
    pub(crate) fn new(rows: Vec<Row>, live: bool) -> Self {
        Board {
            rows,
            started: Instant::now(),
            live,
            drawn: 0,
            last_draw: None,
        }
    }

    fn apply(&mut self, event: &Event) {
        let row = match event {
            Event::Polled { row, .. }
            | Event::Partial { row }
            | Event::Retrying { row, .. }
            | Event::Finished { row, .. } => *row,
        };
        let Some(r) = self.rows.get_mut(row) else {
            return;
        };
        match event {
            Event::Polled {
                attempt,
                status,
                partials,
                ..
            } => {
                r.polls = *attempt;
                r.status = status.clone();
                r.results = r.results.max(*partials);
                r.note.clear();
            }
            Event::Partial { .. } => r.results += 1,
            Event::Retrying {
                attempt,
                delay,
                error,
                ..
            } => {
                r.polls = *attempt;
                r.note = format!(
                    "retry in {}: {}",
                    human_duration(*delay),
                    first_line(error, 60)
                );
            }
            Event::Finished { report, .. } => {
                r.polls = report.polls;
                r.status = report.verdict.as_str().to_owned();
                r.finished = Some((r.status.clone(), report.elapsed));
                r.note.clear();
            }
        }
    }

    fn line(&self, r: &Row) -> String {
        let elapsed = match &r.finished {
            Some((_, e)) => *e,
            None => self.started.elapsed(),
        };
        let results = if r.results > 0 {
            format!("{} results", r.results)
        } else {
            String::new()
        };
        format!(
            "{:<12} {:<22} {:<14} {:<24} {:>3} polls {:>7}  {:<11} {}",
            r.vendor,
            r.label,
            short(&r.task_id),
            r.status,
            r.polls,
            human_duration(elapsed),
            results,
            r.note
        )
    }

    fn draw(&mut self, force: bool) {
        if !self.live {
            return;
        }
        let now = Instant::now();
        if !force
            && self
                .last_draw
                .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100))
        {
            return;
        }
        self.last_draw = Some(now);
        let mut err = std::io::stderr().lock();
        if self.drawn > 0 {
            let _ = write!(err, "\x1b[{}A", self.drawn);
        }
        for r in &self.rows {
            let _ = writeln!(err, "\x1b[2K{}", self.line(r));
        }
        self.drawn = self.rows.len();
        let _ = err.flush();
    }
}

fn first_line(text: &str, max: usize) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(max)
        .collect()
}

/// Runs every stream to its end, drawing the board; returns the reports in row order.
pub(crate) async fn drive(board: &mut Board, streams: Vec<Events>) -> Vec<TaskReport> {
    let mut reports: Vec<Option<TaskReport>> = vec![None; board.rows.len()];
    let mut merged = select_all(streams);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    board.draw(true);
    loop {
        tokio::select! {
            event = merged.next() => match event {
                Some(event) => {
                    board.apply(&event);
                    let finished = matches!(event, Event::Finished { .. });
                    if let Event::Finished { row, report } = event
                        && let Some(slot) = reports.get_mut(row)
                    {
                        *slot = Some(report);
                    }
                    board.draw(finished);
                }
                None => break,
            },
            _ = tick.tick() => board.draw(false),
        }
    }
    board.draw(true);
    reports.into_iter().flatten().collect()
}
