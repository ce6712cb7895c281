//! [`FleetOutcome`]: how a wait ended, as stored in Redis and published.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use taskpoll::{ErrorKind, Outcome, TaskSource, WaitError};

/// Milliseconds since the Unix epoch, now (the clock of wait starts and of
/// [`FleetOutcome::finished_unix_ms`]).
pub(crate) fn now_ms() -> u64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// How a wait ended, in the words of `taskpoll wait --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutcomeKind {
    /// The task completed.
    Completed,
    /// The task failed (the vendor said so).
    Failed,
    /// The wait's deadline or attempt limit ran out first.
    TimedOut,
    /// The task's status could not be fetched.
    Error,
}

impl OutcomeKind {
    /// `completed`, `failed`, `timed_out` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Completed => "completed",
            OutcomeKind::Failed => "failed",
            OutcomeKind::TimedOut => "timed_out",
            OutcomeKind::Error => "error",
        }
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finished wait: stored under its task id for the outcome TTL, and published on its
/// vendor's channel, exactly once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FleetOutcome {
    /// The vendor.
    pub vendor: String,
    /// The task id.
    pub task_id: String,
    /// How it ended.
    pub outcome: OutcomeKind,
    /// Polls made, by every worker that held the wait.
    pub polls: u32,
    /// From the enqueue to the end, in milliseconds.
    pub elapsed_ms: u64,
    /// The task's result (completed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The vendor's failure fields, or what is known of the error (every other
    /// outcome).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// A sentence for people (every outcome but completed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The worker that published it.
    #[serde(default)]
    pub worker: String,
    /// When it was published (the worker's clock, Unix ms).
    #[serde(default)]
    pub finished_unix_ms: u64,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| json!({ "unserializable": e.to_string() }))
}

impl FleetOutcome {
    /// An outcome with nothing but its kind; set the rest with the fields.
    pub fn new(vendor: &str, task_id: &str, outcome: OutcomeKind) -> Self {
        FleetOutcome {
            vendor: vendor.to_owned(),
            task_id: task_id.to_owned(),
            outcome,
            polls: 0,
            elapsed_ms: 0,
            result: None,
            error: None,
            message: None,
            worker: String::new(),
            finished_unix_ms: 0,
        }
    }

    /// The default reading of a wait's outcome: the output as `result`, the vendor's
    /// failure as `error`, other errors as `{kind, message}`.
    pub fn from_outcome<S>(vendor: &str, task_id: &str, outcome: &Outcome<S>) -> Self
    where
        S: TaskSource,
        S::Output: Serialize,
        S::Failure: Serialize,
    {
        let mut out = FleetOutcome::new(vendor, task_id, OutcomeKind::Completed);
        out.polls = outcome.polls;
        out.elapsed_ms = ms(outcome.elapsed);
        match &outcome.result {
            Ok(output) => out.result = Some(to_json(output)),
            Err(e) => {
                out.outcome = match e.kind() {
                    ErrorKind::Failed => OutcomeKind::Failed,
                    ErrorKind::TimedOut | ErrorKind::Exhausted => OutcomeKind::TimedOut,
                    _ => OutcomeKind::Error,
                };
                out.error = Some(match e {
                    WaitError::Failed { failure, .. } => to_json(failure),
                    _ => json!({ "kind": e.kind().as_str(), "message": e.to_string() }),
                });
                out.message = Some(e.to_string());
            }
        }
        out
    }
}
