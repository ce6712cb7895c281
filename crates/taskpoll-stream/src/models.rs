//! Stream's wire types: the task status body, its timestamps and `error`, the
//! `APIError` envelope, and the start endpoints' requests and replies.
//!
//! Every type tolerates unknown fields. Field names are Stream's (`stacktrace` is one
//! word on the wire, `StatusCode` is capitalised).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// A task's `created_at` / `updated_at`, in whichever form Stream sent it.
///
/// The v2 endpoints (`/api/v2/tasks/{id}`) send integer Unix nanoseconds; the legacy chat
/// endpoints send RFC 3339 strings. Both are accepted on any path. Nanoseconds are
/// decoded as `i64` directly (values around 1.77e18 do not survive a trip through
/// `f64`); a fractional or exponent number is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Timestamp {
    /// Nanoseconds since the Unix epoch.
    UnixNanos(i64),
    /// An RFC 3339 string, kept exactly as sent (it is not validated when parsed; see
    /// [`unix_nanos`](Timestamp::unix_nanos)).
    Rfc3339(String),
}

impl Timestamp {
    /// Nanoseconds since the Unix epoch: the number itself, or the RFC 3339 string
    /// read (`None` when the string is not valid RFC 3339 or out of range).
    pub fn unix_nanos(&self) -> Option<i64> {
        match self {
            Timestamp::UnixNanos(ns) => Some(*ns),
            Timestamp::Rfc3339(s) => taskpoll_http::timestamp::Timestamp::parse_rfc3339(s)
                .ok()?
                .unix_nanos(),
        }
    }

    /// The instant as a [`SystemTime`], when it can be read.
    pub fn to_system_time(&self) -> Option<SystemTime> {
        let ns = self.unix_nanos()?;
        let magnitude = Duration::from_nanos(ns.unsigned_abs());
        if ns >= 0 {
            SystemTime::UNIX_EPOCH.checked_add(magnitude)
        } else {
            SystemTime::UNIX_EPOCH.checked_sub(magnitude)
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timestamp::UnixNanos(ns) => write!(f, "{ns}"),
            Timestamp::Rfc3339(s) => f.write_str(s),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Timestamp::UnixNanos(ns) => s.serialize_i64(*ns),
            Timestamp::Rfc3339(text) => s.serialize_str(text),
        }
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("integer Unix nanoseconds or an RFC 3339 string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
        Ok(Timestamp::UnixNanos(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        i64::try_from(v)
            .map(Timestamp::UnixNanos)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
        Err(E::invalid_type(Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        Ok(Timestamp::Rfc3339(v.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

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

/// The reply of a start endpoint: the id of the task it started or, for a call Stream
/// did at once, its `result`.
///
/// Keys other than `task_id`, `duration` and `result` (a call delete's `call`, ...) are
/// kept in [`other`](StartResponse::other).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StartResponse {
    /// The task's id (absent or `null` for some operations that started no task: a soft
    /// call delete, a channel delete Stream did at once).
    #[serde(default)]
    pub task_id: Option<String>,
    /// Server processing time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// The operation's result, when Stream answered with it at once (a channel delete:
    /// a map of cid to `{"status": "ok"}` or `{"status": "error", "error": ...}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Every other key of the reply.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl StartResponse {
    /// The reply of a start call that started task `task_id`.
    pub fn started(task_id: impl Into<String>) -> Self {
        StartResponse {
            task_id: Some(task_id.into()),
            duration: None,
            result: None,
            other: BTreeMap::new(),
        }
    }

    /// The per-item results of [`result`](StartResponse::result), when it is a map of
    /// item to `{status, error}` (see [`ItemResults::from_result`]).
    pub fn items(&self) -> Option<ItemResults> {
        self.result.as_ref().and_then(ItemResults::from_result)
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

/// One channel to export: by type and id, or by cid (`"messaging:general"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChannelRef {
    /// `{"type": ..., "id": ...}`.
    TypeId {
        /// The channel type (`"messaging"`).
        #[serde(rename = "type")]
        channel_type: String,
        /// The channel id.
        id: String,
    },
    /// `{"cid": "type:id"}`.
    Cid {
        /// The channel's cid.
        cid: String,
    },
}

impl ChannelRef {
    /// A channel by type and id.
    pub fn new(channel_type: impl Into<String>, id: impl Into<String>) -> Self {
        ChannelRef::TypeId {
            channel_type: channel_type.into(),
            id: id.into(),
        }
    }

    /// A channel by cid (`"messaging:general"`).
    pub fn cid(cid: impl Into<String>) -> Self {
        ChannelRef::Cid { cid: cid.into() }
    }
}

impl fmt::Display for ChannelRef {
    /// The cid: `type:id`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelRef::TypeId { channel_type, id } => write!(f, "{channel_type}:{id}"),
            ChannelRef::Cid { cid } => f.write_str(cid),
        }
    }
}

/// The body of `POST /api/v2/chat/export_channels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportChannelsRequest {
    /// The channels (Stream accepts at most 25 per request).
    pub channels: Vec<ChannelRef>,
}

/// The body of `POST /api/v2/chat/channels/delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteChannelsRequest {
    /// The channels' cids.
    pub cids: Vec<String>,
    /// Delete for good (`true`) rather than soft-delete.
    #[serde(default)]
    pub hard_delete: bool,
}

/// The body of `POST /api/v2/export/users`, `POST /api/v2/users/deactivate` and
/// `POST /api/v2/users/reactivate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserIdsRequest {
    /// The users' ids.
    pub user_ids: Vec<String>,
}

impl UserIdsRequest {
    /// The request for these users.
    pub fn new(user_ids: &[String]) -> Self {
        UserIdsRequest {
            user_ids: user_ids.to_vec(),
        }
    }
}

/// The body of `POST /api/v2/blocklists/{id}/import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportBlockListRequest {
    /// The words to add to the blocklist.
    pub items: Vec<String>,
}

/// The body of `POST /api/v2/video/call/{type}/{id}/delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteCallRequest {
    /// Delete for good (`true`: the only form that starts a task).
    pub hard: bool,
}

/// How [`DeleteUsersRequest`] deletes each kind of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteMode {
    /// Marked deleted, recoverable.
    Soft,
    /// Soft delete that also clears personal data (users only).
    Pruning,
    /// Gone for good.
    Hard,
}

/// The body of `POST /api/v2/users/delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteUsersRequest {
    /// The users' ids.
    pub user_ids: Vec<String>,
    /// How the users themselves are deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<DeleteMode>,
    /// How their messages are deleted (not at all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<DeleteMode>,
    /// How their conversations are deleted (not at all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversations: Option<DeleteMode>,
}

impl DeleteUsersRequest {
    /// Soft-deletes the users and nothing else: what
    /// [`StreamClient::delete_users`](crate::StreamClient::delete_users) sends.
    pub fn soft(user_ids: &[String]) -> Self {
        DeleteUsersRequest {
            user_ids: user_ids.to_vec(),
            user: Some(DeleteMode::Soft),
            messages: None,
            conversations: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Option<i64> {
        Timestamp::Rfc3339(s.into()).unix_nanos()
    }

    /// Read exactly, by taskpoll-http's timestamp module (its tests have every form).
    #[test]
    fn rfc3339_forms() {
        assert_eq!(ts("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            ts("2026-01-01T01:00:00.123456789+01:00"),
            Some(1_767_225_600_123_456_789)
        );
        for bad in [
            "2025-02-29T00:00:00Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01",
        ] {
            assert_eq!(ts(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn nanosecond_integers_are_exact() {
        let t: Timestamp = serde_json::from_str("1767225601987654321").unwrap();
        assert_eq!(t, Timestamp::UnixNanos(1_767_225_601_987_654_321));
        assert_eq!(serde_json::to_string(&t).unwrap(), "1767225601987654321");
        assert!(serde_json::from_str::<Timestamp>("1.767225601987654e18").is_err());
        assert!(serde_json::from_str::<Timestamp>("18446744073709551615").is_err());
        assert_eq!(
            serde_json::from_str::<Timestamp>("-5").unwrap(),
            Timestamp::UnixNanos(-5)
        );
        let t = Timestamp::UnixNanos(1_500_000_000);
        assert_eq!(
            t.to_system_time(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1500))
        );
    }

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

    #[test]
    fn channel_refs_serialize_in_both_forms() {
        let body = ExportChannelsRequest {
            channels: vec![
                ChannelRef::new("messaging", "general"),
                ChannelRef::cid("messaging:random"),
            ],
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"channels": [{"type": "messaging", "id": "general"}, {"cid": "messaging:random"}]})
        );
        assert_eq!(body.channels[0].to_string(), "messaging:general");
    }
}
