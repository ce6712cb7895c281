//! [`WaitError`]: why a wait ended without the task's output.

use std::fmt;
use std::time::Duration;

use crate::phase::PhaseSummary;

/// A stable, machine-readable name for each way a wait can fail (compare the
/// `error_type` of Stream's SDKs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The task finished with a failure (`failed`).
    Failed,
    /// The deadline passed first (`timed_out`, the command's outcome too).
    TimedOut,
    /// The interval strategy or the attempt limit ran out (`exhausted`).
    Exhausted,
    /// The status could not be fetched (`fetch`).
    Fetch,
}

impl ErrorKind {
    /// `failed`, `timed_out`, `exhausted` or `fetch`: the names of [`WaitError`]'s
    /// variants, and (but for `fetch`, `error` there, and `exhausted`, `timed_out`
    /// there) the command's JSON outcomes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Failed => "failed",
            ErrorKind::TimedOut => "timed_out",
            ErrorKind::Exhausted => "exhausted",
            ErrorKind::Fetch => "fetch",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which limit ran out in [`WaitError::Exhausted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExhaustedReason {
    /// The policy's `max_attempts` polls were made.
    MaxAttempts(u32),
    /// The interval strategy yielded no further delay.
    StrategyEnded,
}

impl fmt::Display for ExhaustedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExhaustedReason::MaxAttempts(n) => write!(f, "the limit of {n} polls was reached"),
            ExhaustedReason::StrategyEnded => {
                f.write_str("the interval strategy ran out of delays")
            }
        }
    }
}

/// Why the poller stopped fetching in [`WaitError::Fetch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchGiveUp {
    /// The source called the error permanent.
    Permanent,
    /// Transient errors went on past the retry policy.
    RetriesExhausted {
        /// Transient errors in a row, the last included.
        consecutive: u32,
    },
    /// The service still did not know the task after the visibility grace.
    NotVisible {
        /// Not-yet-visible answers over the wait, the last included.
        count: u32,
    },
}

impl fmt::Display for FetchGiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchGiveUp::Permanent => f.write_str(
                "the error is permanent: check the credentials, the base URL and the task id",
            ),
            FetchGiveUp::RetriesExhausted { consecutive } => write!(
                f,
                "it failed {consecutive} times in a row, past the retry policy: the service may be down; wait again later"
            ),
            FetchGiveUp::NotVisible { count } => write!(
                f,
                "the service still did not know the task after {count} answers over the grace window: check the task id and that it belongs to these credentials"
            ),
        }
    }
}

struct LastSeen<'a>(&'a Option<PhaseSummary>);

impl fmt::Display for LastSeen<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, "{p}"),
            None => f.write_str("no status yet"),
        }
    }
}

fn last_seen(p: &Option<PhaseSummary>) -> LastSeen<'_> {
    LastSeen(p)
}

/// "1 poll", "2 polls".
struct Polls(u32);

impl fmt::Display for Polls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 poll"),
            n => write!(f, "{n} polls"),
        }
    }
}

/// Why a wait ended without the task's output. `F` is the source's failure type, `E`
/// its fetch error type.
///
/// Every variant carries the task id, the number of polls made and the time spent;
/// [`kind`](WaitError::kind) gives a stable machine-readable name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError<F, E>
where
    F: fmt::Debug + fmt::Display,
    E: std::error::Error + 'static,
{
    /// The task finished with a failure the vendor reported.
    #[error(
        "task {task_id} failed: {failure} (reported after {}, {elapsed:?}); the task itself failed, so waiting again will not help: fix the cause and start a new task",
        Polls(*polls)
    )]
    Failed {
        /// The task's id.
        task_id: String,
        /// The vendor's failure.
        failure: F,
        /// Polls made.
        polls: u32,
        /// Time since the wait started.
        elapsed: Duration,
    },
    /// The deadline passed before the task finished. The task may still be running.
    #[error(
        "timed out waiting for task {task_id} after {elapsed:?} and {}; last seen: {}; the task may still be running: wait again with a longer deadline",
        Polls(*polls),
        last_seen(.last_phase)
    )]
    TimedOut {
        /// The task's id.
        task_id: String,
        /// Time since the wait started.
        elapsed: Duration,
        /// Polls made.
        polls: u32,
        /// The last phase seen, if any poll succeeded.
        last_phase: Option<PhaseSummary>,
    },
    /// The interval strategy or the attempt limit ran out before the task finished.
    #[error(
        "gave up waiting for task {task_id}: {reason} after {elapsed:?}; last seen: {}; the task may still be running: wait again with a longer strategy or more attempts",
        last_seen(.last_phase)
    )]
    Exhausted {
        /// The task's id.
        task_id: String,
        /// Which limit ran out.
        reason: ExhaustedReason,
        /// Polls made.
        polls: u32,
        /// Time since the wait started.
        elapsed: Duration,
        /// The last phase seen, if any poll succeeded.
        last_phase: Option<PhaseSummary>,
    },
    /// The task's status could not be fetched.
    #[error(
        "could not fetch the status of task {task_id} (after {}, {elapsed:?}): {error}; {give_up}",
        Polls(*polls)
    )]
    Fetch {
        /// The task's id.
        task_id: String,
        /// The source's error from the last fetch.
        #[source]
        error: E,
        /// Why the poller stopped retrying.
        give_up: FetchGiveUp,
        /// Polls made.
        polls: u32,
        /// Time since the wait started.
        elapsed: Duration,
    },
}

impl<F, E> WaitError<F, E>
where
    F: fmt::Debug + fmt::Display,
    E: std::error::Error + 'static,
{
    /// The machine-readable kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            WaitError::Failed { .. } => ErrorKind::Failed,
            WaitError::TimedOut { .. } => ErrorKind::TimedOut,
            WaitError::Exhausted { .. } => ErrorKind::Exhausted,
            WaitError::Fetch { .. } => ErrorKind::Fetch,
        }
    }

    /// The task's id.
    pub fn task_id(&self) -> &str {
        match self {
            WaitError::Failed { task_id, .. }
            | WaitError::TimedOut { task_id, .. }
            | WaitError::Exhausted { task_id, .. }
            | WaitError::Fetch { task_id, .. } => task_id,
        }
    }

    /// Polls made before the wait ended.
    pub fn polls(&self) -> u32 {
        match self {
            WaitError::Failed { polls, .. }
            | WaitError::TimedOut { polls, .. }
            | WaitError::Exhausted { polls, .. }
            | WaitError::Fetch { polls, .. } => *polls,
        }
    }

    /// Time from the start of the wait to its end.
    pub fn elapsed(&self) -> Duration {
        match self {
            WaitError::Failed { elapsed, .. }
            | WaitError::TimedOut { elapsed, .. }
            | WaitError::Exhausted { elapsed, .. }
            | WaitError::Fetch { elapsed, .. } => *elapsed,
        }
    }

    /// The vendor's failure, when the task failed.
    pub fn failure(&self) -> Option<&F> {
        match self {
            WaitError::Failed { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// The source's fetch error, when the status could not be fetched.
    pub fn fetch_error(&self) -> Option<&E> {
        match self {
            WaitError::Fetch { error, .. } => Some(error),
            _ => None,
        }
    }
}
