//! [`StreamSource`]: Stream's task statuses as taskpoll phases, and what a wait ends
//! with: [`StreamOutput`], or a [`StreamFailure`]: the task failed
//! ([`StreamTaskFailure`]) or it completed with failed items ([`ItemsFailed`]).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;
use taskpoll::strategy::Fixed;
use taskpoll::{ErrorClass, Phase, PollPolicy, Progress, RateLimitHint, SourcePhase, TaskSource};

use crate::client::StreamClient;
use crate::error::StreamError;
use crate::models::{ItemResult, ItemResults, TaskResponse};

/// The SDKs' poll interval: 1 s, fixed.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The SDKs' wait timeout: 60 s.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Stream's tasks as a [`TaskSource`]: one `GET /api/v2/tasks/{id}` per poll.
///
/// | `status` (any case) | Phase |
/// |---|---|
/// | `waiting`, `pending` | `Pending` |
/// | `running` | `Running` |
/// | `completed` | `Succeeded(StreamOutput { result, task })` |
/// | `completed` with a per-item `result` in which an item failed | `Failed(StreamFailure::Items)` |
/// | `failed`, `error` | `Failed(StreamFailure::Task)` |
/// | anything else | `Running`, marked unrecognized (logged, shown in watch updates) |
///
/// The status word is kept as Stream spelled it.
#[derive(Debug, Clone)]
pub struct StreamSource {
    client: StreamClient,
}

impl StreamSource {
    /// A source over `client`.
    pub fn new(client: StreamClient) -> Self {
        StreamSource { client }
    }

    /// The client.
    pub fn client(&self) -> &StreamClient {
        &self.client
    }
}

/// Reads one status response (see [`StreamSource`]).
pub(crate) fn classify(task: TaskResponse) -> SourcePhase<StreamSource> {
    let word = task.status.to_ascii_lowercase();
    match word.as_str() {
        "waiting" | "pending" => Phase::Pending(Progress::new(task.status)),
        "running" => Phase::Running(Progress::new(task.status)),
        // A delete reports each item in `result`; one that failed fails the wait.
        "completed" => match ItemsFailed::from_task(&task) {
            Some(failed) => Phase::Failed(StreamFailure::Items(failed)),
            None => Phase::Succeeded(StreamOutput {
                result: task.result.clone().unwrap_or_default(),
                task,
            }),
        },
        "failed" | "error" => Phase::Failed(StreamTaskFailure::from_task(&task).into()),
        _ => Phase::Running(Progress::new(task.status).unrecognized()),
    }
}

#[async_trait]
impl TaskSource for StreamSource {
    type Id = String;
    type Status = TaskResponse;
    type Output = StreamOutput;
    type Partial = ();
    type Failure = StreamFailure;
    type Error = StreamError;

    async fn fetch(&self, id: &String) -> Result<TaskResponse, StreamError> {
        self.client.get_task(id).await
    }

    fn classify(&self, status: TaskResponse) -> SourcePhase<Self> {
        classify(status)
    }

    fn error_class(&self, error: &StreamError) -> ErrorClass {
        error.class()
    }

    fn name(&self) -> &str {
        "stream"
    }

    /// Stream's SDKs' defaults: the first poll at once, then every 1 s (fixed, no
    /// jitter), a 60 s deadline. Transient errors are retried under the core's default
    /// retry policy (the SDKs stop at the first error).
    fn default_policy(&self) -> PollPolicy {
        PollPolicy::with_strategy(Fixed::new(DEFAULT_POLL_INTERVAL))
            .initial_delay(Duration::ZERO)
            .deadline(DEFAULT_WAIT_TIMEOUT)
    }

    fn rate_limit(&self) -> Option<RateLimitHint> {
        self.client.rate_limit_hint()
    }
}

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

    /// The per-item results of a delete (channels, users, a call): each cid or user id
    /// and its `{status, error}`. `None` when the result is not such a map (an export).
    pub fn items(&self) -> Option<ItemResults> {
        ItemResults::from_result(&self.result)
    }

    /// The items that failed, with their results (empty when none did or the result
    /// is not a per-item map). A wait never succeeds with failed items (it ends with
    /// [`StreamFailure::Items`]); this is for results read by other means, such as
    /// [`StreamClient::get_task`](crate::StreamClient::get_task) and
    /// [`StreamSource`](crate::StreamSource)'s `classify`.
    pub fn failed_items(&self) -> Vec<(String, ItemResult)> {
        ItemResults::failed_of(self.items())
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

/// The `type` of an [`ItemsFailed`] failure.
pub const ITEMS_FAILED: &str = "items_failed";

/// A task that Stream reports `completed` but in which some items (channels, users, a
/// call) failed: its `result` maps an item to `{"status": "error", "error": "<why>"}`.
///
/// Keeps the whole per-item map, typed and as Stream sent it. Displays as
/// `items_failed: 1 of 2 items failed: messaging:frozen (channel is frozen)`; serializes
/// as `{"task_id", "type": "items_failed", "description", "failed_items": {item:
/// reason}, "result": <Stream's result>}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemsFailed {
    /// The task's id.
    pub task_id: String,
    /// Every item's result, those that succeeded included.
    pub items: ItemResults,
    /// The task's `result`, exactly as Stream sent it.
    pub result: Value,
}

impl ItemsFailed {
    /// The failure of a completed task whose result has failed items; `None` when none
    /// failed or the result is not a per-item map.
    pub fn from_task(task: &TaskResponse) -> Option<Self> {
        let result = task.result.as_ref()?;
        let items = ItemResults::from_result(result)?;
        items.any_failed().then(|| ItemsFailed {
            task_id: task.task_id.clone(),
            items,
            result: result.clone(),
        })
    }

    /// The failed items and why each failed, in item order.
    pub fn failed(&self) -> impl Iterator<Item = (&str, &str)> {
        self.items
            .failed()
            .map(|(item, r)| (item, r.reason().unwrap_or_default()))
    }

    /// `"1 of 2 items failed: messaging:frozen (channel is frozen)"`.
    pub fn description(&self) -> String {
        let failed: Vec<String> = self
            .failed()
            .map(|(item, why)| format!("{item} ({why})"))
            .collect();
        format!(
            "{} of {} items failed: {}",
            failed.len(),
            self.items.len(),
            failed.join(", ")
        )
    }
}

impl fmt::Display for ItemsFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ITEMS_FAILED}: {}", self.description())
    }
}

impl Serialize for ItemsFailed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Failed<'a>(&'a ItemsFailed);
        impl Serialize for Failed<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.failed())
            }
        }
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("task_id", &self.task_id)?;
        map.serialize_entry("type", ITEMS_FAILED)?;
        map.serialize_entry("description", &self.description())?;
        map.serialize_entry("failed_items", &Failed(self))?;
        map.serialize_entry("result", &self.result)?;
        map.end()
    }
}

/// Why a wait on a Stream task ended as failed: Stream reported the task `failed`, or
/// it reported it `completed` with failed items (a delete that could not delete some
/// channels or users).
///
/// Displays and serializes as its variant does. Compares equal to a
/// [`StreamTaskFailure`] when it is that task failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum StreamFailure {
    /// The task ended `failed` (or `error`), with Stream's error fields.
    Task(StreamTaskFailure),
    /// The task ended `completed`, but some items failed.
    Items(ItemsFailed),
}

impl StreamFailure {
    /// The task's id.
    pub fn task_id(&self) -> &str {
        match self {
            StreamFailure::Task(f) => &f.task_id,
            StreamFailure::Items(f) => &f.task_id,
        }
    }

    /// Stream's `error.type`, or `"items_failed"`.
    pub fn error_type(&self) -> &str {
        match self {
            StreamFailure::Task(f) => &f.error_type,
            StreamFailure::Items(_) => ITEMS_FAILED,
        }
    }

    /// Stream's `error.description`, or which items failed and why.
    pub fn description(&self) -> String {
        match self {
            StreamFailure::Task(f) => f.description.clone(),
            StreamFailure::Items(f) => f.description(),
        }
    }

    /// The task failure Stream reported, if that is what this is.
    pub fn as_task(&self) -> Option<&StreamTaskFailure> {
        match self {
            StreamFailure::Task(f) => Some(f),
            StreamFailure::Items(_) => None,
        }
    }

    /// The per-item failure, if that is what this is.
    pub fn as_items(&self) -> Option<&ItemsFailed> {
        match self {
            StreamFailure::Task(_) => None,
            StreamFailure::Items(f) => Some(f),
        }
    }

    /// The failed items and why each failed (empty for a task failure).
    pub fn failed_items(&self) -> Vec<(&str, &str)> {
        self.as_items()
            .map(|f| f.failed().collect())
            .unwrap_or_default()
    }
}

impl fmt::Display for StreamFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamFailure::Task(t) => t.fmt(f),
            StreamFailure::Items(i) => i.fmt(f),
        }
    }
}

impl From<StreamTaskFailure> for StreamFailure {
    fn from(f: StreamTaskFailure) -> Self {
        StreamFailure::Task(f)
    }
}

impl From<ItemsFailed> for StreamFailure {
    fn from(f: ItemsFailed) -> Self {
        StreamFailure::Items(f)
    }
}

impl PartialEq<StreamTaskFailure> for StreamFailure {
    fn eq(&self, other: &StreamTaskFailure) -> bool {
        self.as_task() == Some(other)
    }
}
