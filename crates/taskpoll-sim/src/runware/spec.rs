//! [`RunwareTaskSpec`]: how a simulated Runware task produces its results.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::script::{Defaults, Lasting};

/// What a task generates: it decides the `taskType` and the result fields
/// (`videoUUID`/`videoURL` or `imageUUID`/`imageURL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// `videoInference`.
    #[serde(alias = "videoInference")]
    Video,
    /// `imageInference`.
    #[serde(alias = "imageInference")]
    Image,
}

impl MediaKind {
    /// The Runware `taskType`.
    pub fn task_type(self) -> &'static str {
        match self {
            MediaKind::Video => "videoInference",
            MediaKind::Image => "imageInference",
        }
    }

    /// The kind of a `taskType`, if it is one the simulator generates.
    pub fn from_task_type(task_type: &str) -> Option<Self> {
        match task_type {
            "videoInference" => Some(MediaKind::Video),
            "imageInference" => Some(MediaKind::Image),
            _ => None,
        }
    }
}

/// How a task fails: after `after` results have succeeded, result number `after`
/// (from 0) fails with this `code` and `message`, and the task ends there (later
/// results never appear).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecFailure {
    /// How many results succeed before the failure (clamped to `results - 1`).
    pub after: u32,
    /// The Runware error code (`timeoutProvider`, `providerContentPolicyViolation`, ...).
    pub code: String,
    /// The error message.
    pub message: String,
}

/// A scripted Runware task: its kind, how many results it produces, when each one
/// finishes and whether it fails. The body of `POST /_sim/tasks`.
///
/// Result `i` is `processing` until `finish[i]` has passed: a [`Lasting::Millis`]
/// counts from the task's creation, a [`Lasting::Polls`] counts the `getResponse`
/// polls of the task (`Polls(2)`: the first two polls show it processing, the third
/// shows it done). Results past the end of `finish` use its last entry; an empty
/// `finish` means every result is done at the first poll.
///
/// ```
/// use taskpoll_sim::runware::{MediaKind, RunwareTaskSpec};
/// let spec = RunwareTaskSpec::new(MediaKind::Video, 4)
///     .finish_after_polls([1, 2, 3, 4])
///     .fail_after(2, "timeoutProvider", "The provider did not respond in time.");
/// let json = serde_json::to_value(&spec).unwrap();
/// assert_eq!(json["kind"], "video");
/// assert_eq!(json["finish"][1], serde_json::json!({"polls": 2}));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunwareTaskSpec {
    /// Video or image.
    pub kind: MediaKind,
    /// `numberResults` (at least 1).
    pub results: u32,
    /// When each result finishes.
    #[serde(default)]
    pub finish: Vec<Lasting>,
    /// How the task fails, if it does.
    #[serde(default)]
    pub failure: Option<SpecFailure>,
    /// Whether results carry `cost` (the request's `includeCost`).
    #[serde(default = "yes")]
    pub include_cost: bool,
    /// Whether `processing` items carry `progress` (0 to 99).
    #[serde(default)]
    pub progress: bool,
    /// The `taskUUID` to use (a fresh UUID v4 when absent).
    #[serde(default)]
    pub task_uuid: Option<String>,
}

fn yes() -> bool {
    true
}

impl RunwareTaskSpec {
    /// `results` results of `kind`, all done at the first poll, with cost, no failure.
    pub fn new(kind: MediaKind, results: u32) -> Self {
        RunwareTaskSpec {
            kind,
            results: results.max(1),
            finish: Vec::new(),
            failure: None,
            include_cost: true,
            progress: false,
            task_uuid: None,
        }
    }

    /// Result `i` is done after `polls[i]` polls (the next poll shows it).
    pub fn finish_after_polls(mut self, polls: impl IntoIterator<Item = u32>) -> Self {
        self.finish = polls.into_iter().map(Lasting::Polls).collect();
        self
    }

    /// Result `i` is done `times[i]` after the task was created.
    pub fn finish_after(mut self, times: impl IntoIterator<Item = Duration>) -> Self {
        self.finish = times.into_iter().map(Lasting::time).collect();
        self
    }

    /// The task fails after `after` results, with this code and message.
    pub fn fail_after(
        mut self,
        after: u32,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.failure = Some(SpecFailure {
            after,
            code: code.into(),
            message: message.into(),
        });
        self
    }

    /// Sets whether results carry `cost`.
    pub fn include_cost(mut self, on: bool) -> Self {
        self.include_cost = on;
        self
    }

    /// `processing` items carry `progress`.
    pub fn with_progress(mut self) -> Self {
        self.progress = true;
        self
    }

    /// Uses this `taskUUID`.
    pub fn task_uuid(mut self, uuid: impl Into<String>) -> Self {
        self.task_uuid = Some(uuid.into());
        self
    }

    /// The spec a submission gets: `results` results spread evenly over
    /// [`Defaults::task_time`] (result `i` done at `task_time * (i + 1) / results`), and,
    /// when `fails` (the [`Defaults::fail_every`] rule picked this task), a
    /// `timeoutProvider` failure after half of the results.
    pub fn from_defaults(defaults: &Defaults, kind: MediaKind, results: u32, fails: bool) -> Self {
        let n = results.max(1);
        let finish = (1..=n).map(|i| defaults.task_time * i / n);
        let mut spec = RunwareTaskSpec::new(kind, n).finish_after(finish);
        if fails {
            spec = spec.fail_after(
                n / 2,
                "timeoutProvider",
                "The provider did not respond in time; the generation was stopped.",
            );
        }
        spec
    }

    /// When result `i` finishes.
    pub(crate) fn lasting(&self, i: usize) -> Lasting {
        match self.finish.get(i).or(self.finish.last()).copied() {
            // Zero polls means done at once (a poll-counted step always lasts one poll).
            None | Some(Lasting::Polls(0)) => Lasting::Millis(0),
            Some(l) => l,
        }
    }
}
