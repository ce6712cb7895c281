//! [`RunwareError`] and how the poller treats it.

use std::fmt;
use std::time::Duration;

use taskpoll::ErrorClass;
use taskpoll_http::{ConfigError, Transport};

use crate::models::{ErrorItem, Parameter, write_detail};

/// An error answer from Runware: the HTTP status and the first error item's fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The error code, when the body had one.
    pub code: Option<String>,
    /// The message (or an excerpt of a body that was not an error envelope).
    pub message: String,
    /// The parameter involved, if any.
    pub parameter: Option<Parameter>,
    /// The task type named by the error, if any.
    pub task_type: Option<String>,
    /// The task UUID named by the error, if any.
    pub task_uuid: Option<String>,
    /// The documentation link, if any.
    pub documentation: Option<String>,
    /// `Retry-After`, when the response carried one.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error from a status and the first error item of the body, if any.
    pub fn from_item(status: u16, item: Option<&ErrorItem>, fallback: String) -> Self {
        ApiError {
            status,
            code: item.map(ErrorItem::code),
            message: item.map_or(fallback, |e| e.message().to_owned()),
            parameter: item.and_then(|e| e.parameter.clone()),
            task_type: item.and_then(|e| e.task_type.clone()),
            task_uuid: item.and_then(|e| e.task_uuid.clone()),
            documentation: item.and_then(|e| e.documentation.clone()),
            retry_after: None,
        }
    }

    /// How the poller treats it: 429 is rate limited, 408 and 5xx are transient, a
    /// 2xx answer whose code names a temporary condition is transient, anything else
    /// (401, 402, 403, other 4xx) is permanent.
    pub fn class(&self) -> ErrorClass {
        let retry_after = self.retry_after;
        match self.status {
            200..=299 if self.code.as_deref().is_some_and(code_is_temporary) => {
                ErrorClass::Transient { retry_after }
            }
            status => taskpoll_http::exchange::status_class(status, retry_after),
        }
    }

    fn hint(&self) -> &'static str {
        match self.status {
            401 => "check the API key (RUNWARE_API_KEY); retrying will not help",
            402 => "the account lacks credits; retrying will not help",
            403 => "the API key lacks permission for this request; retrying will not help",
            408 | 429 | 500..=599 => "a temporary condition at Runware; it is retried",
            400..=499 => "the request was refused; fix it before trying again",
            _ if self.class().is_transient() => "a temporary condition at Runware; it is retried",
            _ => "unexpected answer; retrying will not help",
        }
    }
}

/// Codes that name a temporary condition (as Runware's SDKs classify them: rate
/// limits, timeouts, server errors, no capacity).
pub(crate) fn code_is_temporary(code: &str) -> bool {
    let c = code.to_ascii_lowercase();
    c.contains("ratelimit")
        || c.starts_with("timeout")
        || c.ends_with("timeout")
        || c.contains("servererror")
        || c.contains("unavailable")
        || c.contains("noavailableserver")
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Runware answered HTTP {}", self.status)?;
        match &self.code {
            Some(code) => write!(f, " {code}")?,
            None => f.write_str(" (no error code)")?,
        }
        write_detail(f, &self.message, self.parameter.as_ref())?;
        if let Some(uuid) = &self.task_uuid {
            write!(f, " [task {uuid}]")?;
        }
        write!(f, "; {}", self.hint())
    }
}

/// What can go wrong talking to Runware. Never carries the API key. `Clone`, so
/// that a failed batched poll can be reported to every task in it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RunwareError {
    /// The client's configuration is invalid.
    #[error("invalid Runware client configuration: {0}")]
    Config(#[from] ConfigError),
    /// The request is invalid before it is sent.
    #[error("invalid Runware request: {0}")]
    InvalidRequest(String),
    /// The request could not be sent or the answer not received.
    #[error("could not reach Runware: {0}")]
    Transport(#[from] Transport),
    /// The answer is larger than the client's cap.
    #[error(
        "Runware's answer is larger than the {cap}-byte cap: raise the client's max_response_bytes if such answers are expected"
    )]
    TooLarge {
        /// The cap.
        cap: usize,
    },
    /// Runware answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// Runware does not know the task (`taskFailedOrNotFound`, `*NotFound`,
    /// `*Expired`): whether it ever ran and how it ended cannot be told.
    ///
    /// A task no poll of the wait has shown yet is
    /// [`ErrorClass::NotYetVisible`]: right after a submission Runware may not show
    /// it, so it is asked for again within the visibility grace. A task earlier polls
    /// showed (`seen`) is gone: it may have failed, or finished and had its results
    /// expire; the wait ends at once.
    #[error(
        "{}",
        not_found_text(task_uuid, &format!("{code}: {message}"), *seen)
    )]
    TaskNotFound {
        /// The task.
        task_uuid: String,
        /// The code sent.
        code: String,
        /// The message sent.
        message: String,
        /// The HTTP status it came with.
        status: u16,
        /// Whether an earlier poll of the wait had shown the task.
        seen: bool,
    },
    /// The answer to `getResponse` said nothing about the task: no item and no error
    /// for it (`{"data": []}`). Read like an unknown task
    /// ([`TaskNotFound`](RunwareError::TaskNotFound)): not yet visible unless an
    /// earlier poll showed it.
    #[error(
        "{}",
        not_found_text(task_uuid, &format!("HTTP {status} with no item and no error for it"), *seen)
    )]
    Unanswered {
        /// The task.
        task_uuid: String,
        /// The HTTP status of the answer.
        status: u16,
        /// Whether an earlier poll of the wait had shown the task.
        seen: bool,
    },
    /// A success status whose body could not be read as Runware's envelope.
    #[error(
        "could not read Runware's answer (HTTP {status}): {reason}; it starts with {excerpt:?}; a success status with a broken body is retried as transient"
    )]
    Decode {
        /// HTTP status.
        status: u16,
        /// What is wrong.
        reason: String,
        /// The start of the body.
        excerpt: String,
    },
}

impl RunwareError {
    /// How the poller treats it: transport failures (but a request that could not be
    /// built), 408, 429 (rate limited), 5xx and broken success bodies are transient;
    /// 401, 403 and other 4xx, configuration errors and over-cap bodies are permanent;
    /// an unknown or unanswered task is [`ErrorClass::NotYetVisible`] (tolerated within
    /// the policy's visibility grace) until a poll has shown it, and permanent after.
    pub fn class(&self) -> ErrorClass {
        match self {
            RunwareError::Transport(t) if t.is_transient() => ErrorClass::TRANSIENT,
            RunwareError::Api(e) => e.class(),
            RunwareError::TaskNotFound { seen: false, .. }
            | RunwareError::Unanswered { seen: false, .. } => ErrorClass::NotYetVisible,
            RunwareError::Decode { status, .. } if (200..300).contains(status) => {
                ErrorClass::TRANSIENT
            }
            _ => ErrorClass::Permanent,
        }
    }

    /// Whether retrying may help.
    pub fn is_transient(&self) -> bool {
        self.class().is_transient()
    }

    /// Runware's error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            RunwareError::Api(e) => e.code.as_deref(),
            RunwareError::TaskNotFound { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, when an answer arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            RunwareError::Api(e) => Some(e.status),
            RunwareError::TaskNotFound { status, .. }
            | RunwareError::Unanswered { status, .. }
            | RunwareError::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The delay the server asked for, when it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            RunwareError::Api(e) => e.retry_after,
            _ => None,
        }
    }

    /// Whether it says Runware does not know the task (or said nothing about it).
    pub fn is_unknown_task(&self) -> bool {
        matches!(
            self,
            RunwareError::TaskNotFound { .. } | RunwareError::Unanswered { .. }
        )
    }

    /// The same error, saying whether an earlier poll had shown the task (unknown and
    /// unanswered tasks only).
    pub(crate) fn seen(mut self, was_seen: bool) -> Self {
        if let RunwareError::TaskNotFound { seen, .. } | RunwareError::Unanswered { seen, .. } =
            &mut self
        {
            *seen = was_seen;
        }
        self
    }

    pub(crate) fn api(e: ApiError) -> Self {
        RunwareError::Api(Box::new(e))
    }

    /// An answer with HTTP `status` that said nothing about task `task_uuid` (not yet
    /// seen).
    pub(crate) fn unanswered(task_uuid: &str, status: u16) -> Self {
        RunwareError::Unanswered {
            task_uuid: task_uuid.to_owned(),
            status,
            seen: false,
        }
    }
}

/// What an unknown-task error says: `what` is the answer.
fn not_found_text(task_uuid: &str, what: &str, seen: bool) -> String {
    if seen {
        format!(
            "Runware no longer knows task {task_uuid} ({what}), which earlier polls showed: it may have failed, or finished and had its results expire; look it up with getTaskDetails"
        )
    } else {
        format!(
            "Runware does not know task {task_uuid} ({what}): it was not submitted with deliveryMethod \"async\", it belongs to another API key, or its results are no longer kept; look it up with getTaskDetails or submit it again"
        )
    }
}
