//! What a wait on a Stream task ends with: [`StreamOutput`] or [`StreamTaskFailure`].

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::models::TaskResponse;

/// A completed task: its `result`, and the whole response it came in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamOutput {
    /// The task's `result` (`null` when Stream sent none): an export's
    /// `{url, path, s3_bucket_name}`, a delete's map of cid or user id to `{status}`.
    pub result: Value,
    /// The whole status response.
    pub task: TaskResponse,
}

impl StreamOutput {
    /// The task's id.
    pub fn task_id(&self) -> &str {
        &self.task.task_id
    }
}

/// A failed task, with the fields of Stream's SDKs' task error (`task_id`,
/// `error_type`, `description`, `stack_trace`, `version`). Serialized with Stream's wire
/// names: `task_id`, `type`, `description`, `stacktrace`, `version`.
///
/// When Stream sent no `error` at all, the type is `"unknown"` and the description
/// empty, as in Stream's Python SDK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamTaskFailure {
    /// The task's id.
    pub task_id: String,
    /// Stream's `error.type` (`"export_failed"`, `"ValidationError"`, `"unknown"`).
    #[serde(rename = "type")]
    pub error_type: String,
    /// Stream's `error.description`.
    pub description: String,
    /// Stream's `error.stacktrace`.
    #[serde(rename = "stacktrace", skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<String>,
    /// Stream's `error.version` (the server build).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl StreamTaskFailure {
    /// The failure a `failed` response describes.
    pub fn from_task(task: &TaskResponse) -> Self {
        let error = task.error.clone().unwrap_or_default();
        let error_type = if error.error_type.is_empty() {
            "unknown".to_owned()
        } else {
            error.error_type
        };
        StreamTaskFailure {
            task_id: task.task_id.clone(),
            error_type,
            description: error.description,
            stack_trace: error.stack_trace,
            version: error.version,
        }
    }
}

impl fmt::Display for StreamTaskFailure {
    /// `type: description` (the stack trace is left to `Debug` and serialization).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.description.is_empty() {
            write!(f, "{} (no description)", self.error_type)
        } else {
            write!(f, "{}: {}", self.error_type, self.description)
        }
    }
}
