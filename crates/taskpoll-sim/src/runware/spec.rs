//! [`RunwareTaskSpec`]: how a simulated Runware task produces its results.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::script::{Defaults, Lasting};

/// What a task generates: it decides the `taskType` and the result fields
/// (`videoUUID`/`videoURL` or `imageUUID`/`imageURL`). The other task types the
/// simulator serves are [`TaskType`]s, set with [`RunwareTaskSpec::task_type`].
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

    /// The kind of a `taskType`, if it is video or image.
    pub fn from_task_type(task_type: &str) -> Option<Self> {
        match task_type {
            "videoInference" => Some(MediaKind::Video),
            "imageInference" => Some(MediaKind::Image),
            _ => None,
        }
    }
}

fn video() -> MediaKind {
    MediaKind::Video
}

/// Every task type the simulator serves, named as Runware names them.
///
/// | Type | Result fields | Statuses while running | Done |
/// |---|---|---|---|
/// | `videoInference` | `videoUUID`, `videoURL`, `seed`, `NSFWContent`, `cost` | `processing` | `success` |
/// | `imageInference` | `imageUUID`, `imageURL`, `seed`, `NSFWContent`, `cost` | `processing` | `success` |
/// | `audioInference` | `audioUUID`, `audioURL`, `seed`, `cost` | `processing` | `success` |
/// | `upscale`, `removeBackground` | `mediaUUID`, `mediaURL`, `cost` (`imageUUID`/`imageURL` for a legacy `inputImage` submission) | `processing` | `success` |
/// | `modelUpload` | `air` | `validated`, `downloaded`, `optimized`, `stored` | `ready` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskType {
    /// `videoInference`.
    #[serde(rename = "videoInference", alias = "video")]
    VideoInference,
    /// `imageInference`.
    #[serde(rename = "imageInference", alias = "image")]
    ImageInference,
    /// `audioInference`.
    #[serde(rename = "audioInference", alias = "audio")]
    AudioInference,
    /// `upscale`.
    #[serde(rename = "upscale")]
    Upscale,
    /// `removeBackground`.
    #[serde(rename = "removeBackground")]
    RemoveBackground,
    /// `modelUpload`.
    #[serde(rename = "modelUpload")]
    ModelUpload,
}

impl TaskType {
    /// Every type, in the table's order.
    pub const ALL: [TaskType; 6] = [
        TaskType::VideoInference,
        TaskType::ImageInference,
        TaskType::AudioInference,
        TaskType::Upscale,
        TaskType::RemoveBackground,
        TaskType::ModelUpload,
    ];

    /// The Runware `taskType`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskType::VideoInference => "videoInference",
            TaskType::ImageInference => "imageInference",
            TaskType::AudioInference => "audioInference",
            TaskType::Upscale => "upscale",
            TaskType::RemoveBackground => "removeBackground",
            TaskType::ModelUpload => "modelUpload",
        }
    }

    /// The type of a Runware `taskType`, if the simulator serves it.
    pub fn from_task_type(task_type: &str) -> Option<Self> {
        TaskType::ALL.into_iter().find(|t| t.as_str() == task_type)
    }

    /// Whether the task takes `numberResults` (upscale, background removal and model
    /// uploads make one result and have no such parameter).
    pub fn takes_number_results(self) -> bool {
        matches!(
            self,
            TaskType::VideoInference | TaskType::ImageInference | TaskType::AudioInference
        )
    }
}

impl From<MediaKind> for TaskType {
    fn from(kind: MediaKind) -> Self {
        match kind {
            MediaKind::Video => TaskType::VideoInference,
            MediaKind::Image => TaskType::ImageInference,
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
    /// Video or image (video when absent; [`task_type`](Self::task_type) wins over it).
    #[serde(default = "video")]
    pub kind: MediaKind,
    /// Any task type the simulator serves; `None`: the one of [`kind`](Self::kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<TaskType>,
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
    /// How many `getResponse` polls answer the task as unknown before it shows (0 for
    /// a scripted task: it already exists; submissions get the config's
    /// `not_found_polls`).
    #[serde(default)]
    pub not_found_polls: u32,
}

fn yes() -> bool {
    true
}

impl RunwareTaskSpec {
    /// `results` results of `kind`, all done at the first poll, with cost, no failure.
    pub fn new(kind: MediaKind, results: u32) -> Self {
        RunwareTaskSpec {
            kind,
            task_type: None,
            results: results.max(1),
            finish: Vec::new(),
            failure: None,
            include_cost: true,
            progress: false,
            task_uuid: None,
            not_found_polls: 0,
        }
    }

    /// A task of any type the simulator serves, with `results` results (1 for the
    /// types without `numberResults`), all done at the first poll, with cost.
    ///
    /// ```
    /// use taskpoll_sim::runware::{RunwareTaskSpec, TaskType};
    /// let spec = RunwareTaskSpec::of(TaskType::ModelUpload, 3).finish_after_polls([4]);
    /// assert_eq!((spec.results, spec.task()), (1, TaskType::ModelUpload));
    /// ```
    pub fn of(task_type: TaskType, results: u32) -> Self {
        let kind = match task_type {
            TaskType::VideoInference => MediaKind::Video,
            _ => MediaKind::Image,
        };
        let results = if task_type.takes_number_results() {
            results
        } else {
            1
        };
        let mut spec = RunwareTaskSpec::new(kind, results);
        spec.task_type = Some(task_type);
        spec
    }

    /// The task's type: [`task_type`](Self::task_type), else the one of
    /// [`kind`](Self::kind).
    pub fn task(&self) -> TaskType {
        self.task_type.unwrap_or_else(|| self.kind.into())
    }

    /// The first `n` polls answer the task as unknown (`taskFailedOrNotFound`), as
    /// right after a submission.
    pub fn not_found_polls(mut self, n: u32) -> Self {
        self.not_found_polls = n;
        self
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
    pub fn from_defaults(
        defaults: &Defaults,
        task_type: impl Into<TaskType>,
        results: u32,
        fails: bool,
    ) -> Self {
        let n = results.max(1);
        let finish = (1..=n).map(|i| defaults.task_time * i / n);
        let mut spec = RunwareTaskSpec::of(task_type.into(), n).finish_after(finish);
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
