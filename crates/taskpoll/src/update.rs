//! What a wait reports as it goes ([`Update`]) and how it ends ([`Outcome`]).

use std::fmt;
use std::time::Duration;

use crate::error::WaitError;
use crate::phase::PhaseSummary;
use crate::source::{ErrorClass, TaskSource};

/// The error type of a wait on source `S`.
pub type SourceWaitError<S> = WaitError<<S as TaskSource>::Failure, <S as TaskSource>::Error>;

/// The result of a wait on source `S`: the task's output or why there is none.
pub type WaitResult<S> = Result<<S as TaskSource>::Output, SourceWaitError<S>>;

/// How a wait ended, with its accounting.
#[non_exhaustive]
pub struct Outcome<S: TaskSource> {
    /// The task waited on.
    pub id: S::Id,
    /// The task's output, or why there is none.
    pub result: WaitResult<S>,
    /// Polls (fetches) made.
    pub polls: u32,
    /// Time from the start of the wait to its end.
    pub elapsed: Duration,
}

impl<S: TaskSource> Outcome<S> {
    pub(crate) fn new(id: S::Id, result: WaitResult<S>, polls: u32, elapsed: Duration) -> Self {
        Outcome {
            id,
            result,
            polls,
            elapsed,
        }
    }
}

impl<S: TaskSource> fmt::Debug for Outcome<S>
where
    S::Output: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("id", &self.id)
            .field("result", &self.result)
            .field("polls", &self.polls)
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

/// One event of a [`watch`](crate::Poller::watch): the stream yields these in order and
/// ends right after [`Update::Finished`].
#[non_exhaustive]
pub enum Update<S: TaskSource> {
    /// A poll returned a status.
    Polled {
        /// Which poll (1 for the first).
        attempt: u32,
        /// Time since the wait started, when the answer arrived.
        elapsed: Duration,
        /// What the status said.
        phase: PhaseSummary,
    },
    /// A partial result finished (reported once, in order).
    Partial {
        /// Its position among the task's partial results (0 for the first).
        index: usize,
        /// The result.
        result: S::Partial,
    },
    /// A poll failed and the wait will retry.
    Retrying {
        /// Which poll failed.
        attempt: u32,
        /// Time since the wait started, when the error arrived.
        elapsed: Duration,
        /// The source's error.
        error: S::Error,
        /// How the source classified it.
        class: ErrorClass,
        /// The delay before the next poll (the strategy's, raised to any `Retry-After`).
        delay: Duration,
    },
    /// The wait ended.
    Finished(Outcome<S>),
}

impl<S: TaskSource> fmt::Debug for Update<S>
where
    S::Output: fmt::Debug,
    S::Partial: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Update::Polled {
                attempt,
                elapsed,
                phase,
            } => f
                .debug_struct("Polled")
                .field("attempt", attempt)
                .field("elapsed", elapsed)
                .field("phase", phase)
                .finish(),
            Update::Partial { index, result } => f
                .debug_struct("Partial")
                .field("index", index)
                .field("result", result)
                .finish(),
            Update::Retrying {
                attempt,
                elapsed,
                error,
                class,
                delay,
            } => f
                .debug_struct("Retrying")
                .field("attempt", attempt)
                .field("elapsed", elapsed)
                .field("error", error)
                .field("class", class)
                .field("delay", delay)
                .finish(),
            Update::Finished(outcome) => f.debug_tuple("Finished").field(outcome).finish(),
        }
    }
}
