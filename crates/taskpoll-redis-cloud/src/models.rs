//! Redis Cloud's wire types: `TaskStateUpdate`, its `response`, links, the task list
//! and subscriptions. Every field is optional, unknown fields are ignored, and a field
//! of an unexpected type is dropped rather than failing the whole body.

use std::fmt;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};

use taskpoll_http::lenient::{integer as id, text};
use taskpoll_http::timestamp::Timestamp;

mod resource;

pub use resource::{Database, DatabaseRef, Plan, Subscription, SubscriptionRef};

/// A task's `status`: the five documented values, and anything else kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// `initialized`: created, not yet picked up.
    Initialized,
    /// `received`: queued (one operation per account is processed at a time).
    Received,
    /// `processing-in-progress`.
    ProcessingInProgress,
    /// `processing-completed`: done; the resource is now being provisioned.
    ProcessingCompleted,
    /// `processing-error`: failed; see `response.error`.
    ProcessingError,
    /// A value Redis Cloud does not document.
    Unknown(String),
}

impl TaskStatus {
    /// Reads a status word (the documented ones case-insensitively).
    pub fn parse(word: &str) -> Self {
        let w = word.trim();
        for known in [
            TaskStatus::Initialized,
            TaskStatus::Received,
            TaskStatus::ProcessingInProgress,
            TaskStatus::ProcessingCompleted,
            TaskStatus::ProcessingError,
        ] {
            if w.eq_ignore_ascii_case(known.as_str()) {
                return known;
            }
        }
        TaskStatus::Unknown(word.to_owned())
    }

    /// The word as Redis Cloud spells it.
    pub fn as_str(&self) -> &str {
        match self {
            TaskStatus::Initialized => "initialized",
            TaskStatus::Received => "received",
            TaskStatus::ProcessingInProgress => "processing-in-progress",
            TaskStatus::ProcessingCompleted => "processing-completed",
            TaskStatus::ProcessingError => "processing-error",
            TaskStatus::Unknown(w) => w,
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(match v {
            Value::String(s) => TaskStatus::parse(&s),
            other => TaskStatus::Unknown(other.to_string()),
        })
    }
}

/// `response.error` as an object: `{"type", "status", "description"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// The error code (`SUBSCRIPTION_NOT_ACTIVE`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// The HTTP status as text (`403 FORBIDDEN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `response.error`: usually an object, sometimes the bare error code string (the
/// OpenAPI spec types it as a string).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum TaskError {
    /// `{"type": ..., "status": ..., "description": ...}`.
    Details(ErrorDetails),
    /// `"SUBSCRIPTION_NOT_FOUND"`.
    Code(String),
}

impl TaskError {
    /// Reads `response.error`; `None` for `null`, `""` and `{}` (no error to report).
    pub fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(TaskError::Code(s.clone())),
            Value::Object(map) if map.is_empty() => None,
            Value::Object(map) => Some(TaskError::Details(ErrorDetails {
                error_type: text(map.get("type")),
                status: text(map.get("status")),
                description: text(map.get("description")),
            })),
            other => Some(TaskError::Code(other.to_string())),
        }
    }

    /// The error code (`type`, or the bare string).
    pub fn error_type(&self) -> Option<&str> {
        match self {
            TaskError::Details(d) => d.error_type.as_deref(),
            TaskError::Code(c) => Some(c),
        }
    }

    /// The HTTP status text (`400 BAD_REQUEST`), when given.
    pub fn status(&self) -> Option<&str> {
        match self {
            TaskError::Details(d) => d.status.as_deref(),
            TaskError::Code(_) => None,
        }
    }

    /// The description, when given.
    pub fn description(&self) -> Option<&str> {
        match self {
            TaskError::Details(d) => d.description.as_deref(),
            TaskError::Code(_) => None,
        }
    }
}

/// A task's `response`: the result once it is done, `{}` while it runs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProcessorResponse {
    /// Id of the resource made or changed (subscription, database, ACL user ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<i64>,
    /// Database tasks: the subscription id (with `resource_id` the database id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_resource_id: Option<i64>,
    /// The payload of read-like tasks (private-link config, dry-run pricing ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    /// Why the task failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TaskError>,
    /// A machine hint beside `error` (`cluster-user-password-wrong-pattern`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
}

impl ProcessorResponse {
    fn from_map(map: &Map<String, Value>) -> Self {
        ProcessorResponse {
            resource_id: id(map.get("resourceId")),
            additional_resource_id: id(map.get("additionalResourceId")),
            resource: map.get("resource").filter(|v| !v.is_null()).cloned(),
            error: map.get("error").and_then(TaskError::from_value),
            additional_info: text(map.get("additionalInfo")),
        }
    }
}

/// One link: from the `links` array (`{rel, href, title?, type}`, `type` being the
/// HTTP method) or from the legacy HAL `_links` object (`rel` is then the key).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Link {
    /// `task`, `self`, `resource`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// The URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// `getTaskStatusUpdates`, `getSubscriptionInformation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The HTTP method (`type` on the wire).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

impl Link {
    fn from_map(rel: Option<String>, map: &Map<String, Value>) -> Self {
        Link {
            rel: rel.or_else(|| text(map.get("rel"))),
            href: text(map.get("href")),
            title: text(map.get("title")),
            method: text(map.get("type")),
        }
    }
}

/// A task's state, as `GET /v1/tasks/{taskId}`, `GET /v1/tasks` and every start call
/// return it (`TaskStateUpdate`).
///
/// ```
/// use taskpoll_redis_cloud::{TaskStateUpdate, TaskStatus};
///
/// let t: TaskStateUpdate = serde_json::from_str(r#"{
///     "taskId": "784299af", "status": "processing-completed",
///     "response": {"resourceId": 51055029, "additionalResourceId": 111728},
///     "_links": {"self": {"href": "https://api.redislabs.com/v1/tasks/784299af"}}
/// }"#)?;
/// assert_eq!(t.status, Some(TaskStatus::ProcessingCompleted));
/// assert_eq!(t.response.unwrap().additional_resource_id, Some(111728));
/// assert_eq!(t.legacy_links[0].rel.as_deref(), Some("self"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskStateUpdate {
    /// The task id (a UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// `subscriptionCreateRequest`, `databaseCreateRequest`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_type: Option<String>,
    /// The status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskStatus>,
    /// A fixed text per status (absent for `initialized`, `processing-in-progress`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the status last changed, as sent (see [`timestamp`](TaskStateUpdate::timestamp)).
    #[serde(rename = "timestamp", skip_serializing_if = "Option::is_none")]
    pub timestamp_text: Option<String>,
    /// The result: absent in start replies, `{}` while running, filled when done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ProcessorResponse>,
    /// The `links` array.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// The legacy HAL `_links` object, as links.
    #[serde(rename = "_links", skip_serializing_if = "Vec::is_empty")]
    pub legacy_links: Vec<Link>,
    /// `progress`, when a number (not in the spec; never seen relied upon).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
}

impl TaskStateUpdate {
    /// Reads a task from JSON; `None` unless it is an object.
    pub fn from_value(v: &Value) -> Option<Self> {
        let map = v.as_object()?;
        let links = match map.get("links") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_object)
                .map(|m| Link::from_map(None, m))
                .collect(),
            _ => Vec::new(),
        };
        let legacy_links = match map.get("_links") {
            Some(Value::Object(hal)) => hal
                .iter()
                .filter_map(|(rel, l)| l.as_object().map(|m| Link::from_map(Some(rel.clone()), m)))
                .collect(),
            _ => Vec::new(),
        };
        Some(TaskStateUpdate {
            task_id: text(map.get("taskId")).or_else(|| text(map.get("task_id"))),
            command_type: text(map.get("commandType")),
            status: match map.get("status") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(TaskStatus::parse(s)),
                Some(other) => Some(TaskStatus::Unknown(other.to_string())),
            },
            description: text(map.get("description")),
            timestamp_text: text(map.get("timestamp")),
            response: map
                .get("response")
                .and_then(Value::as_object)
                .map(ProcessorResponse::from_map),
            links,
            legacy_links,
            progress: map.get("progress").and_then(Value::as_f64),
        })
    }

    /// The parsed `timestamp` (`None` when absent or unparsable).
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp_text
            .as_deref()
            .and_then(|t| Timestamp::parse(t).ok())
    }

    /// `response.error`, if any.
    pub fn error(&self) -> Option<&TaskError> {
        self.response.as_ref()?.error.as_ref()
    }

    /// Every link, from `links` then `_links`.
    pub fn all_links(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().chain(self.legacy_links.iter())
    }

    /// The first link with this `rel`, from either form.
    pub fn link(&self, rel: &str) -> Option<&Link> {
        self.all_links().find(|l| l.rel.as_deref() == Some(rel))
    }
}

impl<'de> Deserialize<'de> for TaskStateUpdate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        TaskStateUpdate::from_value(&v)
            .ok_or_else(|| serde::de::Error::custom("a task must be a JSON object"))
    }
}

/// Reads `GET /v1/tasks`: `{"tasks": [...]}`, `{}` (no tasks), `null`, or a bare
/// array. Items that are not objects are skipped.
///
/// ```
/// use taskpoll_redis_cloud::parse_task_list;
///
/// assert!(parse_task_list(&serde_json::json!({})).unwrap().is_empty());
/// assert!(parse_task_list(&serde_json::json!(null)).unwrap().is_empty());
/// assert_eq!(parse_task_list(&serde_json::json!([{"taskId": "a"}])).unwrap().len(), 1);
/// assert_eq!(parse_task_list(&serde_json::json!({"tasks": [{"taskId": "a"}]})).unwrap().len(), 1);
/// assert!(parse_task_list(&serde_json::json!("tasks")).is_err());
/// ```
pub fn parse_task_list(v: &Value) -> Result<Vec<TaskStateUpdate>, String> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        Value::Object(map) => match map.get("tasks") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err("\"tasks\" is not an array".into()),
        },
        _ => return Err("expected {\"tasks\": [...]}, {}, null or an array".into()),
    };
    Ok(items
        .iter()
        .filter_map(TaskStateUpdate::from_value)
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(TaskStatus::parse("received"), TaskStatus::Received);
        assert_eq!(
            TaskStatus::parse("PROCESSING-ERROR"),
            TaskStatus::ProcessingError
        );
        assert_eq!(
            TaskStatus::parse("completed"),
            TaskStatus::Unknown("completed".into())
        );
        let t = TaskStateUpdate::from_value(&json!({"status": 3})).unwrap();
        assert_eq!(t.status, Some(TaskStatus::Unknown("3".into())));
    }

    #[test]
    fn wrong_types_are_dropped_not_fatal() {
        let t = TaskStateUpdate::from_value(&json!({
            "taskId": "t", "description": {"x": 1}, "links": "nope", "_links": [1],
            "response": {"resourceId": "77899", "additionalResourceId": [1], "error": null},
            "progress": "half",
        }))
        .unwrap();
        assert_eq!(t.task_id.as_deref(), Some("t"));
        assert_eq!(t.description, None);
        assert!(t.links.is_empty() && t.legacy_links.is_empty());
        let r = t.response.unwrap();
        assert_eq!(r.resource_id, Some(77899));
        assert_eq!(r.additional_resource_id, None);
        assert_eq!(r.error, None);
        assert_eq!(t.progress, None);
    }

    #[test]
    fn error_forms() {
        assert_eq!(TaskError::from_value(&json!("")), None);
        assert_eq!(TaskError::from_value(&json!({})), None);
        let e = TaskError::from_value(&json!({"type": "X", "status": "400 BAD_REQUEST"})).unwrap();
        assert_eq!(e.error_type(), Some("X"));
        assert_eq!(e.description(), None);
        let e = TaskError::from_value(&json!("SUBSCRIPTION_NOT_FOUND")).unwrap();
        assert_eq!(e.error_type(), Some("SUBSCRIPTION_NOT_FOUND"));
        assert_eq!(e.status(), None);
    }
}
