//! [`Step`]: what the next poll(s) of a scripted task answer.

use std::time::Duration;

use super::{ScriptError, ScriptStatus};

#[derive(Debug, Clone)]
enum Answer {
    Status(ScriptStatus),
    Error(ScriptError),
}

/// One step of a script: what the next poll(s) answer.
#[derive(Debug, Clone)]
pub struct Step {
    answer: Answer,
    pub(super) polls: u32,
    pub(super) latency: Duration,
}

impl Step {
    fn status(s: ScriptStatus) -> Self {
        Step {
            answer: Answer::Status(s),
            polls: 1,
            latency: Duration::ZERO,
        }
    }

    pub(super) fn error(e: ScriptError) -> Self {
        Step {
            answer: Answer::Error(e),
            polls: 1,
            latency: Duration::ZERO,
        }
    }

    /// Pending (`"pending"`).
    pub fn pending() -> Self {
        Step::status(ScriptStatus::Pending("pending".into()))
    }

    /// Running (`"running"`).
    pub fn running() -> Self {
        Step::running_with(None, Vec::<String>::new())
    }

    /// Running with a percentage and the partial results finished so far.
    pub fn running_with(
        percent: Option<f64>,
        partials: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Step::status(ScriptStatus::Running {
            status: "running".into(),
            percent,
            partials: partials.into_iter().map(Into::into).collect(),
        })
    }

    /// A status the source does not recognise.
    pub fn unrecognized(status: impl Into<String>) -> Self {
        Step::status(ScriptStatus::Unrecognized(status.into()))
    }

    /// Succeeded with `output`.
    pub fn succeed(output: impl Into<String>) -> Self {
        Step::status(ScriptStatus::Succeeded(output.into()))
    }

    /// Failed with `reason`.
    pub fn fail(reason: impl Into<String>) -> Self {
        Step::status(ScriptStatus::Failed(reason.into()))
    }

    /// A transient fetch error.
    pub fn transient(message: impl Into<String>) -> Self {
        Step::error(ScriptError::Transient {
            message: message.into(),
            retry_after: None,
        })
    }

    /// A transient fetch error whose server asks to retry after `delay`.
    pub fn retry_after(delay: Duration) -> Self {
        Step::error(ScriptError::Transient {
            message: "429 too many requests".into(),
            retry_after: Some(delay),
        })
    }

    /// A rate-limit refusal (429), with or without `Retry-After`.
    pub fn rate_limited(retry_after: Option<Duration>) -> Self {
        Step::error(ScriptError::RateLimited { retry_after })
    }

    /// No answer for this task in a batched response (a transient error when fetched
    /// alone).
    pub fn unanswered() -> Self {
        Step::error(ScriptError::Unanswered)
    }

    /// A permanent fetch error.
    pub fn permanent(message: impl Into<String>) -> Self {
        Step::error(ScriptError::Permanent {
            message: message.into(),
        })
    }

    /// A not-yet-visible error (the task is unknown for now).
    pub fn not_found() -> Self {
        Step::error(ScriptError::NotFound)
    }

    /// This step answers `n` polls (at least one).
    pub fn times(mut self, n: u32) -> Self {
        self.polls = n.max(1);
        self
    }

    /// Each fetch of this step takes `latency` (on tokio's clock).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
}

/// The status or error a step answers.
pub(super) fn resolve(step: Step) -> Result<ScriptStatus, ScriptError> {
    match step.answer {
        Answer::Status(s) => Ok(s),
        Answer::Error(e) => Err(e),
    }
}
