//! What a wait is about and what it ends with: [`RunwareTaskId`], [`RunwareResult`],
//! [`RunwareOutput`], [`RunwareFailure`], and the fetched [`RunwareStatus`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::models::{DataItem, Envelope, ErrorItem, Parameter};

/// What kind of task an id names: it decides the first poll's delay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    /// `videoInference`.
    Video,
    /// `imageInference`.
    Image,
    /// Any other task type.
    #[default]
    Other,
}

impl TaskKind {
    /// The kind of a Runware `taskType`.
    pub fn of_task_type(task_type: &str) -> Self {
        match task_type {
            "videoInference" => TaskKind::Video,
            "imageInference" => TaskKind::Image,
            _ => TaskKind::Other,
        }
    }
}

/// A submitted task: its `taskUUID`, the number of results it produces
/// (`numberResults`), and its kind. Displays as the UUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunwareTaskId {
    /// The `taskUUID`.
    pub uuid: String,
    /// How many results the task produces (`numberResults`; 0 is read as 1).
    pub expected_results: u32,
    /// Video, image or other.
    pub kind: TaskKind,
}

impl RunwareTaskId {
    /// A task of unknown kind (`TaskKind::Other`) with `expected_results` results.
    pub fn new(uuid: impl Into<String>, expected_results: u32) -> Self {
        RunwareTaskId {
            uuid: uuid.into(),
            expected_results,
            kind: TaskKind::Other,
        }
    }

    /// A `videoInference` task.
    pub fn video(uuid: impl Into<String>, expected_results: u32) -> Self {
        RunwareTaskId::new(uuid, expected_results).with_kind(TaskKind::Video)
    }

    /// An `imageInference` task.
    pub fn image(uuid: impl Into<String>, expected_results: u32) -> Self {
        RunwareTaskId::new(uuid, expected_results).with_kind(TaskKind::Image)
    }

    /// Sets the kind.
    pub fn with_kind(mut self, kind: TaskKind) -> Self {
        self.kind = kind;
        self
    }

    /// The number of results to wait for (at least 1).
    pub fn expected(&self) -> usize {
        self.expected_results.max(1) as usize
    }
}

impl fmt::Display for RunwareTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uuid)
    }
}

/// One finished result of a task: the `data` item as Runware sent it, and the key
/// that tells it apart from the task's other results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunwareResult {
    #[serde(skip)]
    key: String,
    /// The item (`videoUUID`/`videoURL`, `imageUUID`/`imageURL`, `seed`, `cost`, ...).
    #[serde(flatten)]
    pub item: DataItem,
}

impl RunwareResult {
    /// A result with its dedup key.
    pub fn new(key: String, item: DataItem) -> Self {
        RunwareResult { key, item }
    }

    /// The key that tells it apart (`resultIndex:1`, `videoUUID:…`, ...).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Its media UUID (`imageUUID`, `videoUUID`, `audioUUID` or `mediaUUID`).
    pub fn media_uuid(&self) -> Option<&str> {
        self.item.media_uuid()
    }

    /// Its URL (`videoURL`, `imageURL`, `audioURL` or `mediaURL`).
    pub fn url(&self) -> Option<&str> {
        self.item.url()
    }

    /// Its cost, when the task was submitted with `includeCost`.
    pub fn cost(&self) -> Option<f64> {
        self.item.cost
    }
}

impl fmt::Display for RunwareResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.media_uuid(), self.url()) {
            (Some(id), Some(url)) => write!(f, "{id} {url}"),
            (Some(id), None) => f.write_str(id),
            (None, Some(url)) => f.write_str(url),
            // A model upload's result is the model's AIR.
            (None, None) => match self.item.extra.get("air").and_then(|a| a.as_str()) {
                Some(air) => f.write_str(air),
                None => f.write_str(&self.key),
            },
        }
    }
}

/// "1 result", "2 results".
fn results(n: usize) -> String {
    if n == 1 {
        "1 result".to_owned()
    } else {
        format!("{n} results")
    }
}

fn total_cost(results: &[RunwareResult]) -> Option<f64> {
    results
        .iter()
        .filter_map(RunwareResult::cost)
        .reduce(|a, b| a + b)
}

/// A task that produced all its results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunwareOutput {
    /// The task.
    #[serde(rename = "taskUUID")]
    pub task_uuid: String,
    /// Its results, in the order they were first seen.
    pub results: Vec<RunwareResult>,
}

impl RunwareOutput {
    /// The sum of the results' `cost`, when any carries one.
    pub fn total_cost(&self) -> Option<f64> {
        total_cost(&self.results)
    }
}

impl fmt::Display for RunwareOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task {}: {}",
            self.task_uuid,
            results(self.results.len())
        )?;
        for r in &self.results {
            write!(f, "; {r}")?;
        }
        Ok(())
    }
}

/// A task Runware reported as failed. The results that had finished before the
/// failure are kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunwareFailure {
    /// The task.
    #[serde(rename = "taskUUID")]
    pub task_uuid: String,
    /// The first error's code (`timeoutProvider`, `providerContentPolicyViolation`, ...).
    pub code: String,
    /// The first error's message.
    pub message: String,
    /// The parameter involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<Parameter>,
    /// The documentation link, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    /// The results that had finished.
    pub results: Vec<RunwareResult>,
    /// How many results the task was to produce.
    #[serde(rename = "numberResults")]
    pub expected_results: u32,
    /// Every error reported for the task, as sent.
    pub errors: Vec<ErrorItem>,
}

impl RunwareFailure {
    /// The sum of the finished results' `cost`, when any carries one.
    pub fn total_cost(&self) -> Option<f64> {
        total_cost(&self.results)
    }
}

impl fmt::Display for RunwareFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(p) = &self.parameter {
            write!(f, " (parameter {p})")?;
        }
        write!(
            f,
            " ({} of {} had finished)",
            self.results.len(),
            results(self.expected_results.max(1) as usize)
        )
    }
}

/// One fetched status: the task asked about, the HTTP status, the part of the
/// response that concerns the task, and the order its results were first seen in.
#[derive(Debug, Clone, PartialEq)]
pub struct RunwareStatus {
    /// The task.
    pub id: RunwareTaskId,
    /// The HTTP status of the response (task failures may come under 200 or 4xx).
    pub http_status: u16,
    /// The response (in a batch, only the items and errors for this task).
    pub envelope: Envelope,
    pub(crate) order: Vec<String>,
}

impl RunwareStatus {
    /// A status read from `envelope` (HTTP 200), with no memory of earlier polls.
    pub fn new(id: RunwareTaskId, envelope: Envelope) -> Self {
        RunwareStatus {
            id,
            http_status: 200,
            envelope,
            order: Vec::new(),
        }
    }

    /// The same, with the HTTP status it came with.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = status;
        self
    }
}
