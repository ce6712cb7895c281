//! [`StreamError`]: everything that can go wrong talking to Stream, and how the poller
//! should treat it ([`StreamError::class`]).

use std::fmt;
use std::time::Duration;

use taskpoll::ErrorClass;
use taskpoll_http::{ConfigError, InvalidTaskId, Transport};

use crate::models::ApiError;

/// Stream's rate-limit headers (`X-RateLimit-Limit`, `-Remaining`, `-Reset`), read only
/// when all three are present (as Stream's Python SDK does). Comma-separated values
/// count by their first item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in the current window.
    pub remaining: u64,
    /// When the window resets, in Unix epoch seconds.
    pub reset: u64,
}

impl RateLimit {
    /// `limit` requests per window, `remaining` of them left, the window resetting at
    /// `reset` (Unix epoch seconds).
    pub fn new(limit: u64, remaining: u64, reset: u64) -> Self {
        RateLimit {
            limit,
            remaining,
            reset,
        }
    }
}

/// An HTTP error answer from Stream: the status, Stream's `APIError` body when it sent
/// one (otherwise an excerpt of what it sent), and the delay it asked for.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiFailure {
    /// Stream's name for the call (`GetTask`, `ExportChannels`, ...).
    pub operation: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The `APIError` body, when the body was one.
    pub error: Option<ApiError>,
    /// The start of the body, when it was not an `APIError` (an HTML page from a proxy,
    /// plain text, nothing).
    pub body_excerpt: Option<String>,
    /// The delay asked for: `Retry-After`, or for a 429 without it the time to
    /// `X-RateLimit-Reset`.
    pub retry_after: Option<Duration>,
    /// The rate-limit headers, when all three came.
    pub rate_limit: Option<RateLimit>,
}

impl ApiFailure {
    /// An HTTP `status` answered to `operation` (Stream's name for the call, such as
    /// `"GetTask"`) with no body, delay or rate-limit headers; set those fields
    /// afterwards as needed.
    pub fn new(operation: &'static str, status: u16) -> Self {
        ApiFailure {
            operation,
            status,
            error: None,
            body_excerpt: None,
            retry_after: None,
            rate_limit: None,
        }
    }

    /// Stream's error code, when the body was an `APIError`.
    pub fn code(&self) -> Option<i64> {
        self.error.as_ref().map(|e| e.code)
    }

    /// Whether Stream marked the error `unrecoverable: true`.
    pub fn is_unrecoverable(&self) -> bool {
        self.error.as_ref().is_some_and(ApiError::is_unrecoverable)
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        match (&self.error, self.body_excerpt.as_deref()) {
            (Some(e), _) => {
                write!(f, ", code {}: {}", e.code, e.message)?;
                if !e.exception_fields.is_empty() {
                    let fields: Vec<String> = e
                        .exception_fields
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect();
                    write!(f, " ({})", fields.join("; "))?;
                }
                if e.is_unrecoverable() {
                    f.write_str(" [unrecoverable]")?;
                }
            }
            (None, None | Some("")) => f.write_str(" with an empty body")?,
            (None, Some(text)) => write!(f, " with a body that is not Stream's JSON: {text}")?,
        }
        Ok(())
    }
}

/// " (retry after 2s)" or nothing.
struct After(Option<Duration>);

impl fmt::Display for After {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, "; Stream asked to wait {d:?} before the next request"),
            None => Ok(()),
        }
    }
}

/// What can go wrong talking to Stream.
///
/// None of these ever contains the API key, the secret or the token: transport errors
/// come through [`taskpoll_http::Transport`] (which drops the URL and so the `api_key`
/// query parameter), and Stream's messages are scrubbed of both credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The client's configuration is wrong (empty credential, bad base URL).
    #[error("invalid Stream client configuration: {0}")]
    Config(#[from] ConfigError),
    /// The task id cannot be sent as one path segment (empty, `.` or `..`).
    #[error("{0}; pass the task_id exactly as Stream returned it")]
    InvalidTaskId(#[from] InvalidTaskId),
    /// A name sent in a start call's path (a blocklist's name, a call's type or id)
    /// cannot be sent as one path segment (empty, `.` or `..`).
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidPathParameter {
        /// What it names (`"blocklist name"`, `"call type"`, `"call id"`).
        what: &'static str,
        /// The value given.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The server token could not be signed.
    #[error("could not sign the Stream server token: {reason}")]
    Token {
        /// Why.
        reason: String,
    },
    /// The request did not get an answer (connect, timeout, connection broken).
    #[error("request to Stream ({operation}) failed: {source}; this is usually temporary")]
    Transport {
        /// Stream's name for the call.
        operation: &'static str,
        /// The failure, without the URL.
        #[source]
        source: Transport,
    },
    /// The body was larger than the client's cap.
    #[error(
        "Stream's answer to {operation} (HTTP {status}) is larger than the {cap}-byte cap; raise max_response_bytes if such answers are expected"
    )]
    BodyTooLarge {
        /// Stream's name for the call.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The cap in bytes.
        cap: usize,
    },
    /// A 2xx answer whose body is not what the call returns (not JSON, cut short, a
    /// field of the wrong type).
    #[error(
        "Stream answered {operation} with HTTP {status} but the body is not {expected}: {what}; body starts: {excerpt:?}; a proxy may have cut or replaced it, so the next request may do better"
    )]
    Malformed {
        /// Stream's name for the call.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// What was expected (`"a task response"`).
        expected: &'static str,
        /// What was wrong: the parser's message with its line and column, and the JSON
        /// path of the bad value.
        what: String,
        /// The start of the body.
        excerpt: String,
    },
    /// A start endpoint answered 2xx without a task id.
    #[error(
        "Stream answered {operation} without a task_id (it was missing or null): no task was started to wait on"
    )]
    MissingTaskId {
        /// Stream's name for the call.
        operation: &'static str,
    },
    /// 429: too many requests in the rate-limit window (code 9).
    #[error(
        "Stream rate limit reached ({op}): {0}{after}",
        op = .0.operation,
        after = After(.0.retry_after)
    )]
    RateLimited(Box<ApiFailure>),
    /// 401: the API key, the secret or the token was refused (codes 2, 5, 40 to 43).
    #[error(
        "Stream refused the credentials ({op}): {0}; check the API key and secret (and the clock: server tokens carry an issued-at time)",
        op = .0.operation
    )]
    Unauthorized(Box<ApiFailure>),
    /// 403: not allowed (code 17) or app suspended (code 99).
    #[error(
        "Stream did not allow {op}: {0}; check the app's permissions and that it is not suspended",
        op = .0.operation
    )]
    Forbidden(Box<ApiFailure>),
    /// 404: no such task (code 16).
    #[error(
        "Stream does not know it ({op}): {0}; check the task id and that it belongs to this app (tasks are per API key)",
        op = .0.operation
    )]
    NotFound(Box<ApiFailure>),
    /// 5xx: Stream (or a gateway in front of it) failed.
    #[error(
        "Stream server error ({op}): {0}; this is usually temporary{after}",
        op = .0.operation,
        after = After(.0.retry_after)
    )]
    Server(Box<ApiFailure>),
    /// Any other non-2xx answer: the request itself was refused (400 code 4, 408, 413,
    /// ...), or a status Stream does not send (1xx, 3xx).
    #[error("Stream rejected {op}: {0}; fix the request before retrying", op = .0.operation)]
    Rejected(Box<ApiFailure>),
}

impl StreamError {
    /// How the poller treats this error.
    ///
    /// | Error | Class |
    /// |---|---|
    /// | `RateLimited` (429) | rate limited, after `Retry-After`, else `X-RateLimit-Reset` |
    /// | `Server` (5xx) | transient, after `Retry-After` when sent |
    /// | `Transport` (connect, timeout, broken connection) | transient |
    /// | `Malformed` (2xx body not readable) | transient |
    /// | any of the above with `unrecoverable: true` | permanent |
    /// | `Unauthorized`, `Forbidden`, `NotFound`, `Rejected` | permanent |
    /// | `Config`, `InvalidTaskId`, `InvalidPathParameter`, `Token`, `BodyTooLarge`, `MissingTaskId` | permanent |
    pub fn class(&self) -> ErrorClass {
        match self {
            StreamError::RateLimited(f) if !f.is_unrecoverable() => ErrorClass::RateLimited {
                retry_after: f.retry_after,
            },
            StreamError::Server(f) if !f.is_unrecoverable() => ErrorClass::Transient {
                retry_after: f.retry_after,
            },
            StreamError::Transport { source, .. } if source.is_transient() => ErrorClass::TRANSIENT,
            StreamError::Malformed { .. } => ErrorClass::TRANSIENT,
            _ => ErrorClass::Permanent,
        }
    }

    /// Whether retrying may help.
    pub fn is_transient(&self) -> bool {
        self.class().is_transient()
    }

    /// The HTTP error answer, for the variants that carry one.
    pub fn api_failure(&self) -> Option<&ApiFailure> {
        match self {
            StreamError::RateLimited(f)
            | StreamError::Unauthorized(f)
            | StreamError::Forbidden(f)
            | StreamError::NotFound(f)
            | StreamError::Server(f)
            | StreamError::Rejected(f) => Some(f),
            _ => None,
        }
    }

    /// Stream's `APIError` body, when the answer carried one.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.api_failure().and_then(|f| f.error.as_ref())
    }

    /// Stream's error code (`16` for an unknown task, `9` for the rate limit, ...).
    pub fn code(&self) -> Option<i64> {
        self.api_failure().and_then(ApiFailure::code)
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            StreamError::BodyTooLarge { status, .. } | StreamError::Malformed { status, .. } => {
                Some(*status)
            }
            other => other.api_failure().map(|f| f.status),
        }
    }

    /// The delay Stream asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api_failure().and_then(|f| f.retry_after)
    }
}
