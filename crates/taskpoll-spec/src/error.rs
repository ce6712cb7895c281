//! [`LoadError`]: a mistake in a spec file; [`SpecError`]: what can go wrong fetching a
//! status, and how the poller should treat it ([`SpecError::class`]).

use std::fmt;
use std::time::Duration;

use taskpoll::ErrorClass;
use taskpoll_http::{ConfigError, InvalidTaskId, Transport};

/// A mistake in a spec file, found before any request is sent: where it is (the file, the
/// line and column when known, the field) and what is wrong.
///
/// Displayed as `FILE:LINE:COLUMN: FIELD: MESSAGE`, like a compiler's message. It never
/// holds the value of a secret: a variable is named, never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    file: String,
    line: Option<usize>,
    column: Option<usize>,
    field: Option<String>,
    message: String,
}

impl LoadError {
    pub(crate) fn new(file: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_owned(),
            line: None,
            column: None,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, position: Option<(usize, usize)>) -> Self {
        if let Some((line, column)) = position {
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }

    /// The spec file (as it was named when loaded).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The line of the mistake, from 1, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The column of the mistake, from 1, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The field, as a dotted path (`status.pointer`, `request.headers.authorization`),
    /// when the mistake is in one.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// What is wrong, and how to fix it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for LoadError {}

/// " (the API asked to wait 2s)" or nothing.
struct After(Option<Duration>);

impl fmt::Display for After {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, "; the API asked to wait {d:?} before the next request"),
            None => Ok(()),
        }
    }
}

/// What a status of an answer that is not 2xx means, by the spec's `[http]` rules.
fn meaning(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::RateLimited { .. } => "rate limited: retried after the delay",
        ErrorClass::Transient { .. } => "usually temporary: retried",
        ErrorClass::NotYetVisible => {
            "the task is not visible yet: tolerated within the spec's not_yet_visible_grace"
        }
        _ => "permanent: check the task id, the credentials and the spec's request",
    }
}

/// What can go wrong fetching a task's status through a spec.
///
/// None of these ever holds a secret: header values are never part of an error, transport
/// errors come through [`taskpoll_http::Transport`] (which drops the URL), and every text
/// taken from an answer has the spec's secrets replaced by `***` before it is read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The spec itself is wrong for this use (a base URL that is missing or refused).
    #[error(transparent)]
    Spec(#[from] LoadError),
    /// The client's settings are wrong (base URL, timeout, size cap).
    #[error("invalid client configuration: {0}")]
    Config(#[from] ConfigError),
    /// The task id cannot be sent as one path segment (empty, `.` or `..`).
    #[error("{0}; pass the task id exactly as the API returned it")]
    InvalidTaskId(#[from] InvalidTaskId),
    /// The request did not get an answer (connect, timeout, connection broken).
    #[error("request failed: {source}; this is usually temporary")]
    Transport {
        /// The failure, without the URL.
        #[source]
        source: Transport,
    },
    /// The body was larger than the client's cap.
    #[error(
        "the answer (HTTP {status}) is larger than the {cap}-byte cap; raise max_response_bytes if such answers are expected"
    )]
    BodyTooLarge {
        /// The HTTP status.
        status: u16,
        /// The cap in bytes.
        cap: usize,
    },
    /// A 3xx answer: redirects are not followed (a header with a credential would go to
    /// wherever the redirect points).
    #[error(
        "the API answered HTTP {status}, a redirect{to}; redirects are not followed: put the final URL in the spec's request.url"
    )]
    Redirect {
        /// The HTTP status.
        status: u16,
        /// ` to LOCATION`, or nothing.
        to: String,
    },
    /// A 2xx answer whose body is not JSON (empty, cut short, an HTML page).
    #[error(
        "the API answered HTTP {status} but the body is not JSON: {reason}; body starts: {excerpt:?}; a proxy may have cut or replaced it, so the next request may do better"
    )]
    Malformed {
        /// The HTTP status.
        status: u16,
        /// The parser's message.
        reason: String,
        /// The start of the body.
        excerpt: String,
    },
    /// Any other answer that is not 2xx, classified by the spec's `[http]` rules.
    #[error(
        "the API answered HTTP {status} ({what}){after}; body starts: {excerpt:?}",
        what = meaning(*class),
        after = After(*retry_after)
    )]
    Http {
        /// The HTTP status.
        status: u16,
        /// How the poller treats it.
        class: ErrorClass,
        /// The delay asked for: `Retry-After`, or for a 429 without it the time to the
        /// spec's rate-limit reset header.
        retry_after: Option<Duration>,
        /// The start of the body.
        excerpt: String,
    },
}

impl SpecError {
    /// How the poller treats this error.
    ///
    /// | Error | Class |
    /// |---|---|
    /// | `Http` | as the spec's `[http]` rules say (defaults: 429 rate limited; 408, 425, 5xx transient; a status in `not_yet_visible` not yet visible; others permanent), with the delay asked for |
    /// | `Transport` (connect, timeout, broken connection) | transient |
    /// | `Malformed` (2xx body not JSON) | transient |
    /// | `Spec`, `Config`, `InvalidTaskId`, `BodyTooLarge`, `Redirect` | permanent |
    pub fn class(&self) -> ErrorClass {
        match self {
            SpecError::Http { class, .. } => *class,
            SpecError::Transport { source } if source.is_transient() => ErrorClass::TRANSIENT,
            SpecError::Malformed { .. } => ErrorClass::TRANSIENT,
            _ => ErrorClass::Permanent,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            SpecError::Http { status, .. }
            | SpecError::BodyTooLarge { status, .. }
            | SpecError::Redirect { status, .. }
            | SpecError::Malformed { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The delay the API asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SpecError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_errors_read_like_compiler_messages() {
        let e = LoadError::new("specs/x.toml", Some("status.pointer"), "must start with /")
            .at(Some((7, 11)));
        assert_eq!(
            e.to_string(),
            "specs/x.toml:7:11: status.pointer: must start with /"
        );
        let e = LoadError::new("x.toml", None, "cannot read it");
        assert_eq!(e.to_string(), "x.toml: cannot read it");
    }

    #[test]
    fn classes() {
        let http = |class| SpecError::Http {
            status: 500,
            class,
            retry_after: None,
            excerpt: String::new(),
        };
        assert_eq!(http(ErrorClass::TRANSIENT).class(), ErrorClass::TRANSIENT);
        assert_eq!(http(ErrorClass::Permanent).class(), ErrorClass::Permanent);
        let malformed = SpecError::Malformed {
            status: 200,
            reason: "x".into(),
            excerpt: String::new(),
        };
        assert!(malformed.class().is_transient());
        let redirect = SpecError::Redirect {
            status: 302,
            to: String::new(),
        };
        assert_eq!(redirect.class(), ErrorClass::Permanent);
    }
}
