//! What the command knows of each task it waits on, fed by the scheduler's updates.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::time::Duration;

use futures_util::stream::{Stream, StreamExt};
use serde::Serialize;
use taskpoll::{TaskSource, Update, WaitAll};
use tokio::time::Instant;

use crate::report::{TaskReport, Verdict, clip, human_duration};

/// Builds a finished task's report once the board has said what it last saw.
type Finish = Box<dyn FnOnce(Option<&str>) -> TaskReport + Send>;

/// Something that happened to one task.
pub(crate) enum Change {
    Polled {
        attempt: u32,
        status: String,
        partials: usize,
    },
    Partial {
        index: usize,
    },
    Retrying {
        attempt: u32,
        delay: Duration,
        error: String,
    },
    Finished(Finish),
}

/// A change to the task `key` of `vendor`.
pub(crate) struct Event {
    pub(crate) vendor: &'static str,
    pub(crate) key: String,
    pub(crate) change: Change,
}

/// The events of waits, merged.
pub(crate) type Events = Pin<Box<dyn Stream<Item = Event> + Send>>;

/// A group's updates as events.
pub(crate) fn events<S>(vendor: &'static str, group: WaitAll<S>) -> Events
where
    S: TaskSource,
    S::Output: Serialize,
    S::Failure: Serialize,
{
    Box::pin(group.filter_map(move |(id, update)| {
        let change = match update {
            // The poll that ends a task is told by its end.
            Update::Polled { phase, .. } if phase.kind.is_terminal() => None,
            Update::Polled { attempt, phase, .. } => Some(Change::Polled {
                attempt,
                status: phase.status,
                partials: phase.partials,
            }),
            Update::Partial { index, .. } => Some(Change::Partial { index }),
            Update::Retrying {
                attempt,
                error,
                delay,
                ..
            } => Some(Change::Retrying {
                attempt,
                delay,
                error: error.to_string(),
            }),
            Update::Finished(outcome) => Some(Change::Finished(Box::new(move |last_error| {
                TaskReport::of(vendor, outcome, last_error)
            }))),
            _ => None,
        };
        std::future::ready(change.map(|change| Event {
            vendor,
            key: id.to_string(),
            change,
        }))
    }))
}

/// One task's line of the board.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) vendor: &'static str,
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) status: Option<String>,
    pub(crate) polls: u32,
    pub(crate) results: usize,
    pub(crate) note: String,
    pub(crate) last_error: Option<String>,
    pub(crate) finished: Option<(Verdict, Duration)>,
}

/// Every task, by vendor and id; counts by outcome; the latest changes.
pub(crate) struct Board {
    tasks: Vec<Task>,
    index: HashMap<(&'static str, String), usize>,
    pub(crate) started: Instant,
    counts: [usize; 5],
    recent: VecDeque<String>,
}

fn slot(verdict: Verdict) -> usize {
    match verdict {
        Verdict::Completed => 0,
        Verdict::Failed => 1,
        Verdict::TimedOut => 2,
        Verdict::Error => 3,
        Verdict::Interrupted => 4,
    }
}

impl Board {
    pub(crate) fn new() -> Self {
        Board {
            tasks: Vec::new(),
            index: HashMap::new(),
            started: Instant::now(),
            counts: [0; 5],
            recent: VecDeque::new(),
        }
    }

    /// Adds a task; false when the board has it already.
    pub(crate) fn add(&mut self, vendor: &'static str, id: String, label: String) -> bool {
        let key = (vendor, id.clone());
        if self.index.contains_key(&key) {
            return false;
        }
        self.index.insert(key, self.tasks.len());
        self.tasks.push(Task {
            vendor,
            id,
            label,
            status: None,
            polls: 0,
            results: 0,
            note: String::new(),
            last_error: None,
            finished: None,
        });
        true
    }

    pub(crate) fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// Tasks not finished yet.
    pub(crate) fn unfinished(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.finished.is_none())
    }

    /// Finished tasks, by outcome: completed, failed, timed out, error, interrupted.
    pub(crate) fn counts(&self) -> [usize; 5] {
        self.counts
    }

    /// The latest changes, newest last.
    pub(crate) fn recent(&self) -> impl Iterator<Item = &String> {
        self.recent.iter()
    }

    fn remember(&mut self, line: String) {
        if self.recent.len() == 5 {
            self.recent.pop_front();
        }
        self.recent.push_back(line);
    }

    /// Applies a change; returns the task's report when it finished, and a line that
    /// says what changed when it is worth a line of its own.
    pub(crate) fn apply(&mut self, event: Event) -> (Option<TaskReport>, Option<String>) {
        let Some(&i) = self.index.get(&(event.vendor, event.key)) else {
            return (None, None);
        };
        let Some(t) = self.tasks.get_mut(i) else {
            return (None, None);
        };
        let mut note = None;
        let mut report = None;
        match event.change {
            Change::Polled {
                attempt,
                status,
                partials,
            } => {
                t.polls = attempt;
                t.results = t.results.max(partials);
                t.note.clear();
                if t.status.as_deref() != Some(status.as_str()) {
                    note = Some(format!("{} {} {status}", t.vendor, t.id));
                }
                t.status = Some(status);
            }
            Change::Partial { index } => {
                t.results = t.results.max(index + 1);
                note = Some(format!("{} {} result {}", t.vendor, t.id, index + 1));
            }
            Change::Retrying {
                attempt,
                delay,
                error,
            } => {
                t.polls = attempt;
                let first = error.lines().next().unwrap_or_default();
                t.note = format!("retry in {}: {}", human_duration(delay), clip(first, 60));
                t.last_error = Some(error);
                note = Some(format!("{} {} {}", t.vendor, t.id, t.note));
            }
            Change::Finished(finish) => {
                let r = finish(t.last_error.as_deref());
                t.polls = r.polls;
                t.finished = Some((r.verdict, r.elapsed));
                t.note.clear();
                self.counts[slot(r.verdict)] += 1;
                let line = format!("{} {} {}", r.verdict.as_str(), r.vendor, r.task_id);
                report = Some(r);
                self.remember(line);
                return (report, None);
            }
        }
        if let Some(n) = &note {
            self.remember(n.clone());
        }
        (report, note)
    }

    /// Reports for every unfinished task, as interrupted, and counts them.
    pub(crate) fn interrupt(&mut self) -> Vec<TaskReport> {
        let elapsed = self.started.elapsed();
        let reports: Vec<TaskReport> = self
            .unfinished()
            .map(|t| {
                TaskReport::interrupted(
                    t.vendor,
                    t.id.clone(),
                    t.polls,
                    elapsed,
                    t.status.as_deref(),
                    t.last_error.as_deref(),
                )
            })
            .collect();
        self.counts[slot(Verdict::Interrupted)] += reports.len();
        for t in self.tasks.iter_mut().filter(|t| t.finished.is_none()) {
            t.finished = Some((Verdict::Interrupted, elapsed));
        }
        reports
    }
}
