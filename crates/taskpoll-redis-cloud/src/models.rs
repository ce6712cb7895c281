//! Redis Cloud's wire types: `TaskStateUpdate`, its `response`, links, the task list
//! and subscriptions. Every field is optional, unknown fields are ignored, and a field
//! of an unexpected type is dropped rather than failing the whole body.

use std::fmt;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};

use taskpoll_http::timestamp::Timestamp;

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

/// A subscription, as `GET /v1/subscriptions/{id}` returns it: the fields the
/// provisioning wait reads, and the whole body.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Subscription {
    /// `id`.
    pub id: Option<i64>,
    /// `name`.
    pub name: Option<String>,
    /// `status`: `pending`, `active`, `deleting`, `error`.
    pub status: Option<String>,
    /// The body as sent (serialized back as is).
    pub body: Map<String, Value>,
}

impl Subscription {
    /// Reads a subscription; `None` unless it is an object.
    pub fn from_value(v: &Value) -> Option<Self> {
        let map = v.as_object()?;
        Some(Subscription {
            id: id(map.get("id")),
            name: text(map.get("name")),
            status: text(map.get("status")),
            body: map.clone(),
        })
    }
}

impl Serialize for Subscription {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(s)
    }
}

/// Which of Redis Cloud's two API families a resource belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// Pro subscriptions: `/v1/subscriptions/...`.
    #[default]
    Pro,
    /// Essentials (fixed) subscriptions: `/v1/fixed/subscriptions/...`, and
    /// `commandType`s starting with `fixed`.
    Essentials,
}

impl Plan {
    /// The path below the base URL that a plan's subscriptions live under
    /// (`subscriptions`, `fixed/subscriptions`).
    pub fn subscriptions_path(self) -> &'static str {
        match self {
            Plan::Pro => "subscriptions",
            Plan::Essentials => "fixed/subscriptions",
        }
    }
}

/// A subscription to wait on: its id, and whether it is a Pro or an Essentials one.
///
/// Shown as `77899` (Pro) or `fixed/111728` (Essentials). A bare `i64` converts to a
/// Pro subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionRef {
    /// The subscription id.
    pub id: i64,
    /// Its plan.
    pub plan: Plan,
}

impl SubscriptionRef {
    /// A Pro subscription (`/v1/subscriptions/{id}`).
    pub fn pro(id: i64) -> Self {
        SubscriptionRef {
            id,
            plan: Plan::Pro,
        }
    }

    /// An Essentials subscription (`/v1/fixed/subscriptions/{id}`).
    pub fn essentials(id: i64) -> Self {
        SubscriptionRef {
            id,
            plan: Plan::Essentials,
        }
    }

    /// Its path below the base URL (`subscriptions/77899`).
    pub fn path(&self) -> String {
        format!("{}/{}", self.plan.subscriptions_path(), self.id)
    }
}

impl From<i64> for SubscriptionRef {
    fn from(id: i64) -> Self {
        SubscriptionRef::pro(id)
    }
}

impl fmt::Display for SubscriptionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.plan {
            Plan::Pro => write!(f, "{}", self.id),
            Plan::Essentials => write!(f, "fixed/{}", self.id),
        }
    }
}

/// A database to wait on: its subscription, its id, and the plan.
///
/// Shown as `77899/51055029` (Pro) or `fixed/111728/51055029` (Essentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DatabaseRef {
    /// The subscription the database belongs to.
    pub subscription_id: i64,
    /// The database id.
    pub database_id: i64,
    /// The plan of its subscription.
    pub plan: Plan,
}

impl DatabaseRef {
    /// A database of a Pro subscription
    /// (`/v1/subscriptions/{subscriptionId}/databases/{databaseId}`).
    pub fn pro(subscription_id: i64, database_id: i64) -> Self {
        DatabaseRef {
            subscription_id,
            database_id,
            plan: Plan::Pro,
        }
    }

    /// A database of an Essentials subscription
    /// (`/v1/fixed/subscriptions/{subscriptionId}/databases/{databaseId}`).
    pub fn essentials(subscription_id: i64, database_id: i64) -> Self {
        DatabaseRef {
            subscription_id,
            database_id,
            plan: Plan::Essentials,
        }
    }

    /// Its subscription.
    pub fn subscription(&self) -> SubscriptionRef {
        SubscriptionRef {
            id: self.subscription_id,
            plan: self.plan,
        }
    }

    /// Its path below the base URL (`subscriptions/77899/databases/51055029`).
    pub fn path(&self) -> String {
        format!(
            "{}/{}/databases/{}",
            self.plan.subscriptions_path(),
            self.subscription_id,
            self.database_id
        )
    }
}

impl fmt::Display for DatabaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plan == Plan::Essentials {
            f.write_str("fixed/")?;
        }
        write!(f, "{}/{}", self.subscription_id, self.database_id)
    }
}

/// A database, as `GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}` (and
/// its `/v1/fixed/...` twin) returns it: the fields the readiness wait reads, and the
/// whole body.
///
/// Serialized as `databaseId`, `name`, `status`, `publicEndpoint` and `privateEndpoint`
/// only: the body is kept in [`body`](Database::body) but not written out, because it
/// can carry the database's password (`security.password` in the Go client's model).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Database {
    /// `databaseId` (or `id`).
    #[serde(rename = "databaseId", skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `status`: `pending`, `active`, `draft`, `active-change-pending`, `rcp-*`,
    /// `error`, `deleting`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `publicEndpoint` (`host:port`), once provisioned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_endpoint: Option<String>,
    /// `privateEndpoint`, once provisioned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_endpoint: Option<String>,
    /// The body as sent.
    #[serde(skip)]
    pub body: Map<String, Value>,
}

impl Database {
    /// Reads a database; `None` unless it is an object.
    pub fn from_value(v: &Value) -> Option<Self> {
        let map = v.as_object()?;
        Some(Database {
            id: id(map.get("databaseId")).or_else(|| id(map.get("id"))),
            name: text(map.get("name")),
            status: text(map.get("status")),
            public_endpoint: text(map.get("publicEndpoint")),
            private_endpoint: text(map.get("privateEndpoint")),
            body: map.clone(),
        })
    }
}

/// A string field; numbers and booleans are written out, anything else is dropped.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An id: an integer, or a string holding one.
fn id(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
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
