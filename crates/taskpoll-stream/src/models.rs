//! Stream's wire types: the task status body, its timestamps and `error`, the
//! `APIError` envelope, and the start endpoints' requests and replies.
//!
//! Every type tolerates unknown fields. Field names are Stream's (`stacktrace` is one
//! word on the wire, `StatusCode` is capitalised).

use std::collections::BTreeMap;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod start;
mod timestamp;

pub use start::{
    ChannelRef, DeleteCallRequest, DeleteChannelsRequest, DeleteMode, DeleteUsersRequest,
    ExportChannelsRequest, ImportBlockListRequest, StartResponse, Started, UserIdsRequest,
};
pub use timestamp::Timestamp;

/// The `error` of a failed task (Stream's `ErrorResult`).
///
/// `type` and `description` are required by Stream's schema but default to empty
/// strings here; `stacktrace` (one word on the wire) and `version` are optional. A bare
/// string in place of the object is read as the description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorResult {
    /// The kind of failure (`"export_failed"`, `"ValidationError"`): not a documented
    /// vocabulary.
    #[serde(rename = "type", default)]
    pub error_type: String,
    /// What went wrong.
    #[serde(default)]
    pub description: String,
    /// The server's stack trace (wire name `stacktrace`).
    #[serde(
        rename = "stacktrace",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stack_trace: Option<String>,
    /// The server build that ran the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl ErrorResult {
    /// An error of kind `error_type` described by `description`, without stack trace or
    /// version (set those fields afterwards if needed).
    pub fn new(error_type: impl Into<String>, description: impl Into<String>) -> Self {
        ErrorResult {
            error_type: error_type.into(),
            description: description.into(),
            stack_trace: None,
            version: None,
        }
    }
}

/// A string field, or any other JSON value written out as text.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `error`: an object (fields of any type tolerated), a bare string, or null.
fn lenient_error<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorResult>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(ErrorResult {
            error_type: text(map.get("type")).unwrap_or_default(),
            description: text(map.get("description")).unwrap_or_default(),
            stack_trace: text(map.get("stacktrace")),
            version: text(map.get("version")),
        }),
        Some(Value::String(s)) => Some(ErrorResult {
            description: s,
            ..ErrorResult::default()
        }),
        Some(other) => Some(ErrorResult {
            description: other.to_string(),
            ..ErrorResult::default()
        }),
    })
}

/// The body of `GET /api/v2/tasks/{id}` (Stream's `GetTaskResponse`), also sent by the
/// legacy `GET /tasks/{id}`.
///
/// Only `status` is needed to read it; everything else Stream documents as required
/// is tolerated when missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskResponse {
    /// The task's id.
    #[serde(default)]
    pub task_id: String,
    /// `waiting`, `pending`, `running`, `completed` or `failed` (not an enum in
    /// Stream's schema: other words are kept and treated as still in progress).
    pub status: String,
    /// When the task was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// When its status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// What the task produced, present once it completed; free-form, per operation
    /// (an export: `{url, path, s3_bucket_name}`; a delete: a map of cid or user id to
    /// `{status}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why the task failed, present once it failed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_error"
    )]
    pub error: Option<ErrorResult>,
    /// How long the server took to answer this request (`"0.42ms"`); opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

impl TaskResponse {
    /// A task `task_id` in `status` (`"waiting"`, `"running"`, `"completed"`, ...), with
    /// no timestamps, result or error: set those fields afterwards as needed. For tests
    /// of code that reads tasks; [`decode`](TaskResponse::decode) reads real answers.
    ///
    /// ```
    /// use taskpoll_stream::{ErrorResult, TaskResponse};
    ///
    /// let mut task = TaskResponse::new("t-1", "failed");
    /// task.error = Some(ErrorResult::new("export_failed", "bucket not found"));
    /// assert_eq!(task.error.map(|e| e.description).as_deref(), Some("bucket not found"));
    /// ```
    pub fn new(task_id: impl Into<String>, status: impl Into<String>) -> Self {
        TaskResponse {
            task_id: task_id.into(),
            status: status.into(),
            created_at: None,
            updated_at: None,
            result: None,
            error: None,
            duration: None,
        }
    }

    /// Reads an HTTP answer of `GET /api/v2/tasks/{id}` exactly as
    /// [`StreamClient::get_task`](crate::StreamClient::get_task) does: a 2xx body as a
    /// task response, any other status as the matching [`StreamError`](crate::StreamError)
    /// (with the `Retry-After` / `X-RateLimit-Reset` delay read from `headers`).
    ///
    /// ```
    /// use reqwest::header::HeaderMap;
    /// use taskpoll_stream::{StreamError, TaskResponse};
    ///
    /// let body = br#"{"task_id":"t-1","status":"running","created_at":1767225600123456789,"updated_at":1767225601987654321,"duration":"0.41ms"}"#;
    /// let task = TaskResponse::decode(200, &HeaderMap::new(), body).unwrap();
    /// assert_eq!(task.status, "running");
    ///
    /// let body = br#"{"code":16,"message":"GetTask failed with error: \"Can't find task with id t-2\"","StatusCode":404,"duration":"0.35ms","more_info":"","details":[]}"#;
    /// let err = TaskResponse::decode(404, &HeaderMap::new(), body).unwrap_err();
    /// assert!(matches!(err, StreamError::NotFound(_)));
    /// assert_eq!(err.code(), Some(16));
    /// ```
    pub fn decode(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Result<TaskResponse, crate::StreamError> {
        let status =
            reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
        let answer = taskpoll_http::exchange::Answer::new(status, headers.clone(), body.to_vec());
        crate::decode::decode(crate::decode::GET_TASK, &answer, "a task response", &[])
    }
}

/// Stream's error envelope (`APIError`), sent with every error status.
///
/// `code` and `message` are needed to read a body as an `APIError`; the other keys
/// Stream requires (`StatusCode`, `duration`, `more_info`, `details`) are tolerated when
/// missing. A body that is not one is kept as an excerpt instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// Stream's error code: 2 and 5, 40 to 43 auth; 4 input; 9 rate limit; 16 not
    /// found; 17 not allowed; 99 app suspended; -1 internal.
    pub code: i64,
    /// `<Operation> failed with error: "<detail>"`.
    pub message: String,
    /// The HTTP status, repeated (capitalised on the wire).
    #[serde(
        rename = "StatusCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub status_code: Option<i64>,
    /// Server processing time (`"0.35ms"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// A link to Stream's documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_info: Option<String>,
    /// Extra numeric details, usually empty.
    #[serde(default)]
    pub details: Vec<i64>,
    /// Per-field validation messages.
    #[serde(default)]
    pub exception_fields: BTreeMap<String, String>,
    /// `true` when Stream says retrying will not help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unrecoverable: Option<bool>,
}

impl ApiError {
    /// Stream's error `code` with its `message`; every other field empty.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            status_code: None,
            duration: None,
            more_info: None,
            details: Vec::new(),
            exception_fields: BTreeMap::new(),
            unrecoverable: None,
        }
    }

    /// Whether Stream marked the error as not worth retrying.
    pub fn is_unrecoverable(&self) -> bool {
        self.unrecoverable == Some(true)
    }
}

/// One item's line in a delete's `result` (Stream's `DeleteChannelsResult`): `{"status":
/// "ok"}`, or `{"status": "error", "error": "<why>"}` for an item that was not deleted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemResult {
    /// `"ok"`, or another word (`"error"`) for a failed item.
    pub status: String,
    /// Why the item failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ItemResult {
    /// An item that succeeded (`{"status": "ok"}`).
    pub fn ok() -> Self {
        ItemResult {
            status: "ok".to_owned(),
            error: None,
        }
    }

    /// An item that failed (`{"status": "error", "error": reason}`).
    pub fn failed(reason: impl Into<String>) -> Self {
        ItemResult {
            status: "error".to_owned(),
            error: Some(reason.into()),
        }
    }

    /// Whether the item succeeded: its status is `ok` (in any letter case). Any other
    /// word is a failure, with or without an `error`.
    pub fn is_ok(&self) -> bool {
        self.status.eq_ignore_ascii_case("ok")
    }

    /// Why the item failed: its `error`, else its status word (`None` when it is ok).
    pub fn reason(&self) -> Option<&str> {
        if self.is_ok() {
            return None;
        }
        Some(match self.error.as_deref() {
            Some(e) if !e.is_empty() => e,
            _ => &self.status,
        })
    }
}

/// The per-item results of a delete (channels, users, a call): each item (cid or user
/// id) and its [`ItemResult`], in item order. Serializes as Stream's map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemResults(BTreeMap<String, ItemResult>);

impl ItemResults {
    /// Reads a task's `result` as per-item results, when it is one: a non-empty object
    /// whose every value is an object with a string `status` (an `error` that is not a
    /// string is written out as JSON text). Anything else (an export's `{url, path,
    /// s3_bucket_name}`, `{}`, `null`) is `None`.
    pub fn from_result(result: &Value) -> Option<ItemResults> {
        let map = result.as_object().filter(|m| !m.is_empty())?;
        map.iter()
            .map(|(item, v)| {
                let entry = v.as_object()?;
                let status = entry.get("status")?.as_str()?.to_owned();
                Some((
                    item.clone(),
                    ItemResult {
                        status,
                        error: text(entry.get("error")),
                    },
                ))
            })
            .collect::<Option<BTreeMap<_, _>>>()
            .map(ItemResults)
    }

    /// Every item and its result.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ItemResult)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The items that failed, with their results.
    pub fn failed(&self) -> impl Iterator<Item = (&str, &ItemResult)> {
        self.iter().filter(|(_, r)| !r.is_ok())
    }

    /// The items of `items` (when there are any) that failed, with their results.
    pub(crate) fn failed_of(items: Option<ItemResults>) -> Vec<(String, ItemResult)> {
        items
            .map(|items| {
                items
                    .failed()
                    .map(|(k, v)| (k.to_owned(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether any item failed.
    pub fn any_failed(&self) -> bool {
        self.failed().next().is_some()
    }

    /// The result of one item.
    pub fn get(&self, item: &str) -> Option<&ItemResult> {
        self.0.get(item)
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The map itself.
    pub fn as_map(&self) -> &BTreeMap<String, ItemResult> {
        &self.0
    }
}

impl From<BTreeMap<String, ItemResult>> for ItemResults {
    fn from(map: BTreeMap<String, ItemResult>) -> Self {
        ItemResults(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn error_is_read_leniently() {
        let read = |v: Value| -> Option<ErrorResult> {
            serde_json::from_value::<TaskResponse>(
                serde_json::json!({"status": "failed", "error": v}),
            )
            .unwrap()
            .error
        };
        assert_eq!(read(Value::Null), None);
        assert_eq!(
            read("boom".into()).unwrap(),
            ErrorResult {
                description: "boom".into(),
                ..ErrorResult::default()
            }
        );
        let e =
            read(serde_json::json!({"type": 7, "description": "d", "stacktrace": null})).unwrap();
        assert_eq!(e.error_type, "7");
        assert_eq!(e.stack_trace, None);
    }
}
