//! Task scripts: a task is a sequence of statuses, each lasting a duration or a number
//! of polls, ending in success or failure.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// How long one step of a script lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lasting {
    /// This many milliseconds after the step began.
    Millis(u64),
    /// This many status polls of the task (the poll that ends the step counts).
    Polls(u32),
}

impl Lasting {
    /// A step lasting `d`.
    pub fn time(d: Duration) -> Self {
        Lasting::Millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// One step: the vendor status word shown, and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptStep {
    /// The status word (vendor vocabulary, e.g. `"running"`, `"processing-in-progress"`).
    pub status: String,
    /// How long it lasts.
    pub lasts: Lasting,
}

impl ScriptStep {
    /// A step shown for `d`.
    pub fn for_time(status: impl Into<String>, d: Duration) -> Self {
        ScriptStep {
            status: status.into(),
            lasts: Lasting::time(d),
        }
    }

    /// A step shown for `n` polls.
    pub fn for_polls(status: impl Into<String>, n: u32) -> Self {
        ScriptStep {
            status: status.into(),
            lasts: Lasting::Polls(n),
        }
    }
}

/// A task's progress through its script: which step it is in, measured against the
/// clock and the polls it has received.
#[derive(Debug, Clone)]
pub struct Timeline {
    steps: Vec<ScriptStep>,
    current: usize,
    step_began: Instant,
    polls_in_step: u32,
    finished_at: Option<Instant>,
}

/// Where a [`Timeline`] stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position<'a> {
    /// In a step, showing this status.
    Step(&'a str),
    /// Past the last step: the task has finished (at this instant).
    Finished(Instant),
}

impl Timeline {
    /// A timeline starting now.
    pub fn new(steps: Vec<ScriptStep>, now: Instant) -> Self {
        Timeline {
            steps,
            current: 0,
            step_began: now,
            polls_in_step: 0,
            finished_at: None,
        }
    }

    /// Advances time-based steps up to `now` (no poll counted).
    pub fn advance(&mut self, now: Instant) {
        while self.finished_at.is_none() {
            let Some(step) = self.steps.get(self.current) else {
                self.finished_at = Some(self.step_began);
                break;
            };
            match step.lasts {
                Lasting::Millis(ms) => {
                    let ends = self.step_began + Duration::from_millis(ms);
                    if now >= ends {
                        self.next_step(ends);
                    } else {
                        break;
                    }
                }
                Lasting::Polls(_) => break,
            }
        }
    }

    fn next_step(&mut self, at: Instant) {
        self.current += 1;
        self.step_began = at;
        self.polls_in_step = 0;
        if self.current >= self.steps.len() {
            self.finished_at = Some(at);
        }
    }

    /// Where the task stands at `now`, without counting a poll.
    pub fn peek(&mut self, now: Instant) -> Position<'_> {
        self.advance(now);
        match (self.finished_at, self.steps.get(self.current)) {
            (Some(at), _) => Position::Finished(at),
            (None, Some(step)) => Position::Step(&step.status),
            (None, None) => Position::Finished(now),
        }
    }

    /// Counts one status poll at `now` and says what it shows. A poll-counted step
    /// ends with its last poll, so the poll after it shows the next step.
    pub fn poll(&mut self, now: Instant) -> Position<'_> {
        self.advance(now);
        if self.finished_at.is_some() {
            return self.peek(now);
        }
        let current = self.current;
        let limit = match self.steps.get(current).map(|s| s.lasts) {
            Some(Lasting::Polls(n)) => n.max(1),
            _ => return self.peek(now),
        };
        self.polls_in_step += 1;
        if self.polls_in_step >= limit {
            self.next_step(now);
        }
        match self.steps.get(current) {
            Some(step) => Position::Step(&step.status),
            None => Position::Finished(now),
        }
    }

    /// When the task finished, if it has.
    pub fn finished_at(&self) -> Option<Instant> {
        self.finished_at
    }

    /// Forces the task to the end of its script now.
    pub fn finish_now(&mut self, now: Instant) {
        if self.finished_at.is_none() {
            self.current = self.steps.len();
            self.finished_at = Some(now);
        }
    }
}

/// How a scripted task ends, in the vendor's own JSON vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ScriptOutcome {
    /// Success with this result (Stream: the `result` object; Redis Cloud: the
    /// `response` object; Runware: see its simulator).
    Success {
        /// The vendor-shaped result.
        #[serde(default)]
        result: serde_json::Value,
    },
    /// Failure with this error (Stream: `{type, description, stacktrace?, version?}`;
    /// Redis Cloud: `{type, status, description}` or a string; Runware: `{code, message}`).
    Failure {
        /// The vendor-shaped error.
        #[serde(default)]
        error: serde_json::Value,
    },
}

/// A whole script: the statuses shown, then how the task ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskScript {
    /// Non-terminal steps, in order.
    pub steps: Vec<ScriptStep>,
    /// The end.
    pub outcome: ScriptOutcome,
}

/// What start endpoints do when no script is given: how long tasks take, and which fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Defaults {
    /// Time from start to the end of processing.
    pub task_time: Duration,
    /// Every n-th started task fails (`None`: none fail).
    pub fail_every: Option<u64>,
}

impl Default for Defaults {
    /// Tasks take 3 s; none fail.
    fn default() -> Self {
        Defaults {
            task_time: Duration::from_secs(3),
            fail_every: None,
        }
    }
}

impl Defaults {
    /// Whether the `n`-th started task (from 1) fails.
    pub fn fails(&self, n: u64) -> bool {
        self.fail_every
            .is_some_and(|k| k > 0 && n.is_multiple_of(k))
    }

    /// Splits [`task_time`](Defaults::task_time) over statuses by weight.
    pub fn steps(&self, weighted: &[(&str, u32)]) -> Vec<ScriptStep> {
        let total: u32 = weighted.iter().map(|(_, w)| *w).sum::<u32>().max(1);
        weighted
            .iter()
            .map(|(status, w)| ScriptStep::for_time(*status, self.task_time * *w / total))
            .collect()
    }
}
