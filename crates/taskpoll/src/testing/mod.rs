//! An in-memory, scripted [`TaskSource`] for tests (feature `testing`).
//!
//! Each task follows a script: a list of [`Step`]s, each answering one or more polls,
//! the last one repeating forever. Every fetch is recorded with its instant on
//! tokio's clock, so tests under `tokio::time::pause` can assert exact poll times.
//!
//! ```
//! use std::time::Duration;
//! use taskpoll::testing::{ScriptedSource, Step};
//! use taskpoll::{Poller, strategy::Fixed};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let source = ScriptedSource::new();
//! source.script("t", [Step::pending().times(2), Step::transient("503"), Step::succeed("ok")]);
//! let poller = Poller::new(source).configure(|p| p.interval(Fixed::new(Duration::from_secs(2))));
//! let start = tokio::time::Instant::now();
//! assert_eq!(poller.wait("t".into()).await.unwrap(), "ok");
//! let offsets = poller.source().poll_offsets("t", start);
//! assert_eq!(offsets, [0, 2, 4, 6].map(Duration::from_secs));
//! # }
//! ```

mod source;
mod step;

use std::time::Duration;

pub use source::ScriptedSource;
pub use step::Step;

/// A scripted status.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ScriptStatus {
    /// Pending, with this status word.
    Pending(String),
    /// Running, with this status word, percentage and partial results so far.
    Running {
        /// Status word.
        status: String,
        /// Completion percentage.
        percent: Option<f64>,
        /// Partial results so far (cumulative).
        partials: Vec<String>,
    },
    /// A status word the source does not recognise (kept non-terminal).
    Unrecognized(String),
    /// Succeeded with this output.
    Succeeded(String),
    /// Failed with this reason.
    Failed(String),
}

/// A scripted fetch error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// A transient error (retried), optionally with a server-requested delay.
    #[error("transient error: {message}")]
    Transient {
        /// What went wrong.
        message: String,
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// A permanent error (ends the wait).
    #[error("permanent error: {message}")]
    Permanent {
        /// What went wrong.
        message: String,
    },
    /// The service refused the request for its rate limit (429).
    #[error("429 too many requests")]
    RateLimited {
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The task is not known yet (tolerated within the visibility grace).
    #[error("task not found")]
    NotFound,
    /// A batched response said nothing about this task (in a single fetch: a transient
    /// error).
    #[error("no answer for this task")]
    Unanswered,
    /// No script exists for this task id.
    #[error("no script for task {0}")]
    UnknownTask(String),
}

/// A scripted task failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFailure(pub String);

impl std::fmt::Display for ScriptFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
