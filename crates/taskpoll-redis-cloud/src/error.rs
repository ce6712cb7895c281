//! [`RedisCloudError`]: what can go wrong talking to Redis Cloud, and how the poller
//! should treat it ([`RedisCloudError::class`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use taskpoll::ErrorClass;
use taskpoll_http::{ConfigError, InvalidTaskId, Transport, excerpt};

use crate::models::DatabaseRef;

/// Which call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `GET /v1/tasks/{taskId}`.
    GetTask,
    /// `GET /v1/tasks`.
    ListTasks,
    /// `POST /v1/subscriptions`.
    CreateSubscription,
    /// `POST /v1/subscriptions/{subscriptionId}/databases`.
    CreateDatabase,
    /// `DELETE /v1/subscriptions/{subscriptionId}`.
    DeleteSubscription,
    /// `GET /v1/subscriptions/{subscriptionId}` (or `/v1/fixed/...`).
    GetSubscription,
    /// `GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}` (or
    /// `/v1/fixed/...`).
    GetDatabase,
    /// `POST /v1/fixed/subscriptions`.
    CreateFixedSubscription,
    /// `POST /v1/fixed/subscriptions/{subscriptionId}/databases`.
    CreateFixedDatabase,
}

impl Operation {
    /// `get task`, `list tasks`, `create subscription`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::GetTask => "get task",
            Operation::ListTasks => "list tasks",
            Operation::CreateSubscription => "create subscription",
            Operation::CreateDatabase => "create database",
            Operation::DeleteSubscription => "delete subscription",
            Operation::GetSubscription => "get subscription",
            Operation::GetDatabase => "get database",
            Operation::CreateFixedSubscription => "create Essentials subscription",
            Operation::CreateFixedDatabase => "create Essentials database",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error response's body, read as opaque text, with the fields of Spring Boot's
/// default error body (`{timestamp, status, error, message, path}`) when it is one.
///
/// ```
/// use taskpoll_redis_cloud::ErrorBody;
///
/// let spring = ErrorBody::parse(br#"{"status":404,"error":"Not Found","message":"Task x was not found","path":"/v1/tasks/x"}"#);
/// assert_eq!(spring.message.as_deref(), Some("Task x was not found"));
/// assert_eq!(spring.to_string(), "Not Found: Task x was not found");
///
/// let html = ErrorBody::parse(b"<html><head><title>401 Authorization Required</title></head></html>");
/// assert!(html.error.is_none());
/// assert!(html.to_string().starts_with("<html>"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ErrorBody {
    /// Spring's `status` (the HTTP status code again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Spring's `error` (the reason phrase, `"Not Found"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Spring's `message`, when the service gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Spring's `path`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A printable excerpt of the raw body (at most 200 characters; empty for no body).
    pub text: String,
}

impl ErrorBody {
    /// Reads an error body: Spring's fields when it is Spring JSON, else only the text.
    pub fn parse(body: &[u8]) -> Self {
        let text = excerpt(body);
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return ErrorBody {
                text,
                ..ErrorBody::default()
            };
        };
        let string = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        ErrorBody {
            status: map
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok()),
            error: string("error"),
            message: string("message"),
            path: string("path"),
            text,
        }
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.error, &self.message) {
            (Some(e), Some(m)) => write!(f, "{e}: {m}"),
            (None, Some(m)) => f.write_str(m),
            (Some(e), None) => f.write_str(e),
            (None, None) if self.text.is_empty() => f.write_str("empty body"),
            (None, None) => f.write_str(&self.text),
        }
    }
}

/// `": <what the body says>"` for an error message, without repeating the reason
/// phrase Spring puts in `error`; empty when the body says nothing more.
fn detail(body: &ErrorBody, status: u16) -> String {
    let spring_error = body
        .error
        .as_deref()
        .filter(|e| !e.eq_ignore_ascii_case(reason(status)));
    let said = match (spring_error, &body.message) {
        (Some(e), Some(m)) => format!("{e}: {m}"),
        (None, Some(m)) => m.clone(),
        (Some(e), None) => e.to_owned(),
        (None, None) if body.error.is_some() => String::new(),
        (None, None) => body.text.clone(),
    };
    if said.is_empty() {
        String::new()
    } else {
        format!(": {said}")
    }
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// What to do about an HTTP error status.
fn advice(status: u16) -> &'static str {
    match status {
        400 | 422 => "the request was refused as malformed: check the request body",
        401 => "check the account key (x-api-key) and the user secret key (x-api-secret-key)",
        403 => {
            "the secret key may be restricted to other source IPs, or the resource is not active"
        }
        404 => "check the id and that it belongs to this account",
        408 => "the request timed out at Redis Cloud: retry later",
        409 => "the resource conflicts with an existing one (a name already used?)",
        412 => "the feature flag for this flow is off for the account",
        429 => {
            "rate limited (400 requests per minute per key, or too many concurrent changes): wait at least 30 s and poll less often"
        }
        500..=599 => "Redis Cloud had a server-side problem: retry later",
        _ => "unexpected answer",
    }
}

/// Everything that can go wrong talking to Redis Cloud. Cheap to clone. Never shows the
/// keys: neither `Display` nor `Debug` has them.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RedisCloudError {
    /// The client configuration is wrong (base URL, empty key).
    #[error("invalid Redis Cloud client configuration: {0}")]
    Config(#[from] ConfigError),
    /// A key cannot be sent as an HTTP header value.
    #[error(
        "the {name} contains characters that cannot be sent in an HTTP header: check it was copied whole"
    )]
    InvalidCredential {
        /// Which key.
        name: &'static str,
    },
    /// The task id cannot be sent as one path segment (empty, `.` or `..`).
    #[error("{0}")]
    InvalidTaskId(#[from] InvalidTaskId),
    /// The request did not complete (connect, timeout, reset).
    #[error("could not {operation}: {source}")]
    Transport {
        /// The call.
        operation: Operation,
        /// The transport failure (URL removed).
        #[source]
        source: Arc<Transport>,
    },
    /// The response body passed the size cap.
    #[error(
        "could not {operation}: the response body is larger than the {cap}-byte cap (raise max_response_bytes if this is expected)"
    )]
    TooLarge {
        /// The call.
        operation: Operation,
        /// The cap.
        cap: usize,
    },
    /// Redis Cloud does not know this task id (HTTP 404). Just after a task is created
    /// this is normal for a few seconds; the poller tolerates it for its visibility
    /// grace window.
    #[error(
        "task {task_id} is unknown to Redis Cloud (HTTP 404 Not Found{}); a task just created can answer 404 for a few seconds, past that check the task id and that it belongs to this account",
        detail(.body, 404)
    )]
    UnknownTask {
        /// The task id asked for.
        task_id: String,
        /// The 404 body.
        body: Box<ErrorBody>,
    },
    /// Redis Cloud does not know this subscription (HTTP 404).
    #[error(
        "subscription {subscription_id} is unknown to Redis Cloud (HTTP 404 Not Found{}); check the id and that it belongs to this account",
        detail(.body, 404)
    )]
    UnknownSubscription {
        /// The subscription id asked for.
        subscription_id: i64,
        /// The 404 body.
        body: Box<ErrorBody>,
    },
    /// Redis Cloud does not know this database (HTTP 404).
    #[error(
        "database {database} is unknown to Redis Cloud (HTTP 404 Not Found{}); check the subscription and database ids and that they belong to this account",
        detail(.body, 404)
    )]
    UnknownDatabase {
        /// The database asked for.
        database: DatabaseRef,
        /// The 404 body.
        body: Box<ErrorBody>,
    },
    /// Any other HTTP error status.
    #[error(
        "could not {operation}: HTTP {status} {}{}; {}",
        reason(*.status),
        detail(.body, *.status),
        advice(*.status)
    )]
    Http {
        /// The call.
        operation: Operation,
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, when the response carried one.
        retry_after: Option<Duration>,
        /// The error body.
        body: Box<ErrorBody>,
    },
    /// A success status with a body that is not the expected JSON (cut off, HTML from
    /// a proxy, ...). Retried: the next answer is usually whole.
    #[error(
        "could not {operation}: the response is not the expected JSON ({reason}); body: {excerpt:?}"
    )]
    Decode {
        /// The call.
        operation: Operation,
        /// What is wrong with it.
        reason: String,
        /// The start of the body.
        excerpt: String,
    },
    /// A start call succeeded but its reply names no task.
    #[error(
        "{operation} answered HTTP {status} without a taskId (body: {excerpt:?}); the operation may have been accepted: check the account before retrying"
    )]
    NoTaskId {
        /// The call.
        operation: Operation,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        excerpt: String,
    },
}

impl RedisCloudError {
    /// The HTTP status of the response, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            RedisCloudError::Http { status, .. } | RedisCloudError::NoTaskId { status, .. } => {
                Some(*status)
            }
            RedisCloudError::UnknownTask { .. }
            | RedisCloudError::UnknownSubscription { .. }
            | RedisCloudError::UnknownDatabase { .. } => Some(404),
            _ => None,
        }
    }

    /// The error body of an HTTP error.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            RedisCloudError::Http { body, .. }
            | RedisCloudError::UnknownTask { body, .. }
            | RedisCloudError::UnknownSubscription { body, .. }
            | RedisCloudError::UnknownDatabase { body, .. } => Some(body.as_ref()),
            _ => None,
        }
    }

    /// How a poller should treat this error. `rate_limit_floor` is the least wait
    /// after a 429 without `Retry-After` (Redis Cloud support advises 30 s).
    ///
    /// | Error | Class |
    /// |---|---|
    /// | 429 | rate limited, `Retry-After` or else `rate_limit_floor` |
    /// | 408, 500, 502, 503, 504 | transient (`Retry-After` if sent) |
    /// | connect, timeout, reset | transient |
    /// | malformed 2xx body | transient |
    /// | 404 for a task, subscription or database | not yet visible (grace window) |
    /// | 401, 403, other 4xx, other 5xx, over-cap body, bad config or id | permanent |
    pub fn class(&self, rate_limit_floor: Duration) -> ErrorClass {
        match self {
            RedisCloudError::Transport { source, .. } if source.is_transient() => {
                ErrorClass::TRANSIENT
            }
            // Redis Cloud's other 5xx (501, 505, ...) are not temporary.
            RedisCloudError::Http {
                status: 501 | 505..,
                ..
            } => ErrorClass::Permanent,
            RedisCloudError::Http {
                status,
                retry_after,
                ..
            } => match taskpoll_http::exchange::status_class(*status, *retry_after) {
                ErrorClass::RateLimited { retry_after } => ErrorClass::RateLimited {
                    retry_after: Some(retry_after.unwrap_or(rate_limit_floor)),
                },
                class => class,
            },
            RedisCloudError::Decode { .. } => ErrorClass::TRANSIENT,
            RedisCloudError::UnknownTask { .. }
            | RedisCloudError::UnknownSubscription { .. }
            | RedisCloudError::UnknownDatabase { .. } => ErrorClass::NotYetVisible,
            _ => ErrorClass::Permanent,
        }
    }

    /// Whether retrying may help (see [`class`](RedisCloudError::class)).
    pub fn is_transient(&self) -> bool {
        self.class(Duration::ZERO).is_transient()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, retry_after: Option<Duration>) -> RedisCloudError {
        RedisCloudError::Http {
            operation: Operation::GetTask,
            status,
            retry_after,
            body: Box::default(),
        }
    }

    #[test]
    fn classes() {
        let floor = Duration::from_secs(30);
        assert_eq!(
            http(429, None).class(floor),
            ErrorClass::RateLimited {
                retry_after: Some(floor)
            }
        );
        assert_eq!(
            http(429, Some(Duration::from_secs(2))).class(floor),
            ErrorClass::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        for s in [408, 500, 502, 503, 504] {
            assert!(http(s, None).class(floor).is_transient(), "{s}");
        }
        for s in [400, 401, 403, 405, 409, 412, 422, 501] {
            assert_eq!(http(s, None).class(floor), ErrorClass::Permanent, "{s}");
        }
        let unknown = RedisCloudError::UnknownTask {
            task_id: "t".into(),
            body: Box::default(),
        };
        assert_eq!(unknown.class(floor), ErrorClass::NotYetVisible);
        let decode = RedisCloudError::Decode {
            operation: Operation::GetTask,
            reason: "x".into(),
            excerpt: String::new(),
        };
        assert!(decode.is_transient());
        let big = RedisCloudError::TooLarge {
            operation: Operation::ListTasks,
            cap: 10,
        };
        assert_eq!(big.class(floor), ErrorClass::Permanent);
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = http(401, None);
        assert_eq!(
            e.to_string(),
            "could not get task: HTTP 401 Unauthorized; check the account key (x-api-key) and the user secret key (x-api-secret-key)"
        );
        let e = RedisCloudError::UnknownTask {
            task_id: "t-1".into(),
            body: Box::new(ErrorBody::parse(b"")),
        };
        assert!(
            e.to_string()
                .starts_with("task t-1 is unknown to Redis Cloud (HTTP 404 Not Found); ")
        );
    }

    #[test]
    fn spring_bodies_without_message() {
        let b = ErrorBody::parse(
            br#"{"timestamp":"2025-01-17T09:34:25.803+00:00","status":404,"error":"Not Found","path":"/v1/x"}"#,
        );
        assert_eq!(b.status, Some(404));
        assert_eq!(b.to_string(), "Not Found");
        assert_eq!(ErrorBody::parse(b"[1,2]").to_string(), "[1,2]");
    }
}
