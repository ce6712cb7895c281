//! What a wait is about: [`RunwareTaskId`] (and its [`TaskKind`]), and the fetched
//! [`RunwareStatus`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::models::Envelope;

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
