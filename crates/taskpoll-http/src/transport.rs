//! [`Transport`]: a request that got no answer, without its URL.

use std::fmt;

/// A transport failure, with the request URL removed (it may carry credentials).
/// `Clone`, so that one failed batched request can be reported to every wait in it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Transport {
    /// What kind of failure.
    pub kind: TransportKind,
    message: String,
}

/// The kind of a [`Transport`] failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The per-request timeout passed.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection broke while sending the request or reading the response.
    Broken,
    /// The request could not be built (a bug or bad input: not worth retrying).
    Request,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "request timed out",
            TransportKind::Connect => "could not connect",
            TransportKind::Broken => "connection failed",
            TransportKind::Request => "could not build the request",
        })
    }
}

impl Transport {
    /// Whether retrying may help.
    pub fn is_transient(&self) -> bool {
        !matches!(self.kind, TransportKind::Request)
    }
}

impl From<reqwest::Error> for Transport {
    fn from(e: reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else if e.is_builder() {
            TransportKind::Request
        } else {
            TransportKind::Broken
        };
        let e = e.without_url();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        Transport { kind, message }
    }
}
