//! The [`TaskSource`] trait: how to fetch one task's status and how to read it.

use std::fmt::{Debug, Display};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::phase::Phase;
use crate::policy::PollPolicy;

/// How the poller should treat an error from [`TaskSource::fetch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// Retrying may help (connection reset, timeout, 429, 502/503/504). `retry_after` is
    /// the delay the server asked for (`Retry-After`, a rate-limit reset), if it gave one:
    /// the next poll happens no earlier than that.
    Transient {
        /// The server's requested delay before the next request.
        retry_after: Option<Duration>,
    },
    /// The service refused the request for its rate limit (429). Retried like
    /// [`Transient`](ErrorClass::Transient), and a many-tasks scheduler also pauses every
    /// wait of the source until `retry_after` (or a default pause) has passed.
    RateLimited {
        /// The server's requested delay before the next request.
        retry_after: Option<Duration>,
    },
    /// Retrying will not help (bad credentials, malformed request, unknown task): the
    /// wait ends at once.
    Permanent,
    /// The service does not know the task *yet* (a task id it returned a moment ago
    /// answers 404). Tolerated within the policy's
    /// [`VisibilityGrace`](crate::VisibilityGrace), then permanent.
    NotYetVisible,
}

impl ErrorClass {
    /// A transient error without a server-requested delay.
    pub const TRANSIENT: ErrorClass = ErrorClass::Transient { retry_after: None };

    /// A transient error whose server asked to wait `delay` before retrying.
    pub fn retry_after(delay: Duration) -> Self {
        ErrorClass::Transient {
            retry_after: Some(delay),
        }
    }

    /// Whether the poller may retry after this error (transient or rate limited).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorClass::Transient { .. } | ErrorClass::RateLimited { .. }
        )
    }

    /// The delay the server asked for, if any.
    pub fn retry_after_hint(self) -> Option<Duration> {
        match self {
            ErrorClass::Transient { retry_after } | ErrorClass::RateLimited { retry_after } => {
                retry_after
            }
            ErrorClass::Permanent | ErrorClass::NotYetVisible => None,
        }
    }
}

/// The phase type of a source.
pub type SourcePhase<S> =
    Phase<<S as TaskSource>::Output, <S as TaskSource>::Partial, <S as TaskSource>::Failure>;

/// A vendor's task API, as the poller needs it: fetch one task's status, and classify it.
///
/// Implementations keep the vendor's vocabulary typed through the associated types. The
/// trait is object safe (through `async-trait`), so `Box<dyn TaskSource<...>>` works.
///
/// ```
/// use async_trait::async_trait;
/// use taskpoll::{ErrorClass, Phase, TaskSource};
///
/// /// A source whose tasks are done on the third poll.
/// struct Countdown(std::sync::atomic::AtomicU32);
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("never happens")]
/// struct Never;
///
/// #[async_trait]
/// impl TaskSource for Countdown {
///     type Id = String;
///     type Status = u32;
///     type Output = &'static str;
///     type Partial = ();
///     type Failure = String;
///     type Error = Never;
///
///     async fn fetch(&self, _id: &String) -> Result<u32, Never> {
///         Ok(self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
///     }
///
///     fn classify(&self, status: u32) -> Phase<&'static str, (), String> {
///         if status >= 2 { Phase::Succeeded("done") } else { Phase::running("working") }
///     }
///
///     fn error_class(&self, _error: &Never) -> ErrorClass {
///         ErrorClass::Permanent
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let poller = taskpoll::Poller::new(Countdown(Default::default()));
/// assert_eq!(poller.wait("t-1".to_owned()).await.unwrap(), "done");
/// # }
/// ```
#[async_trait]
pub trait TaskSource: Send + Sync + 'static {
    /// A task's identifier (what the vendor's start call returned, plus anything the
    /// adapter needs to poll it, such as the number of results expected).
    type Id: Clone + Debug + Display + Send + Sync + 'static;
    /// One fetched status, as the vendor sent it.
    type Status: Send + 'static;
    /// What a task that succeeded produced.
    type Output: Send + 'static;
    /// One partial result (a finished piece of a task that produces several).
    type Partial: Send + 'static;
    /// The vendor's description of a failed task.
    type Failure: Debug + Display + Send + Sync + 'static;
    /// What can go wrong fetching a status.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Fetches the current status of one task: one request to the vendor.
    async fn fetch(&self, id: &Self::Id) -> Result<Self::Status, Self::Error>;

    /// Reads a fetched status. Pure: no I/O, no clock, no state.
    fn classify(&self, status: Self::Status) -> SourcePhase<Self>;

    /// Says whether a fetch error is worth retrying, and what delay the server asked for.
    fn error_class(&self, error: &Self::Error) -> ErrorClass;

    /// A short name for logs and spans (`"stream"`, `"redis-cloud"`).
    fn name(&self) -> &str {
        "task"
    }

    /// The poll settings a [`Poller`](crate::Poller) over this source starts from: the
    /// vendor's recommended interval strategy, deadline and retry policy.
    fn default_policy(&self) -> PollPolicy {
        PollPolicy::default()
    }

    /// How long to wait before the first poll of `id` when the policy does not set an
    /// initial delay (a video takes longer than an image to even start).
    fn initial_delay(&self, id: &Self::Id) -> Duration {
        let _ = id;
        Duration::ZERO
    }

    /// What the vendor's last response said about its rate limit (for example Stream's
    /// `X-RateLimit-Remaining` and `X-RateLimit-Reset`), if the source tracks it. A
    /// many-tasks scheduler pauses the source while nothing remains.
    fn rate_limit(&self) -> Option<RateLimitHint> {
        None
    }

    /// The partial results a terminal phase carries (none by default).
    ///
    /// A task's last pieces often finish in the very poll that ends it (the fourth of
    /// four results makes the task succeed), so a [`Phase::Succeeded`] or
    /// [`Phase::Failed`] can hold partials no earlier poll showed. Return every partial
    /// of `phase`, cumulative and in the same stable order as
    /// [`Progress::partials`](crate::Progress::partials): a
    /// [`watch`](crate::Poller::watch) reports those past the ones it already reported
    /// as [`Update::Partial`](crate::Update::Partial) before the final update.
    fn terminal_partials(&self, phase: &SourcePhase<Self>) -> Vec<Self::Partial> {
        let _ = phase;
        Vec::new()
    }
}

/// A vendor's rate-limit state, as its last response reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitHint {
    /// Requests left in the current window.
    pub remaining: u64,
    /// When the window resets (on tokio's clock).
    pub resets_at: tokio::time::Instant,
}

impl RateLimitHint {
    /// A hint: `remaining` requests until `resets_at`.
    pub fn new(remaining: u64, resets_at: tokio::time::Instant) -> Self {
        RateLimitHint {
            remaining,
            resets_at,
        }
    }
}

/// The result of one batched fetch for one id: `None` when the response did not answer
/// for that id (it is polled again later, not failed).
pub type BatchEntry<S> = Option<Result<<S as TaskSource>::Status, <S as TaskSource>::Error>>;

/// A source that can fetch many tasks' statuses in one request (Runware: several
/// `getResponse` objects in one POST; Redis Cloud: `GET /v1/tasks`).
///
/// The many-tasks scheduler polls due waits of a batch source with one request per
/// batch of at most [`max_batch`](BatchTaskSource::max_batch) ids.
#[async_trait]
pub trait BatchTaskSource: TaskSource {
    /// The most ids one request may carry.
    fn max_batch(&self) -> usize;

    /// Fetches the statuses of `ids` in one request (or as few as the API allows).
    ///
    /// On success the result has exactly one entry per id, in the same order. An `Err`
    /// means the whole request failed and applies to every id.
    async fn fetch_batch(&self, ids: &[Self::Id]) -> Result<Vec<BatchEntry<Self>>, Self::Error>;
}

/// Forwards every method of [`TaskSource`] through a pointer, so shared and boxed
/// sources (a `Box<dyn TaskSource<...>>` too) can be polled.
macro_rules! forward_task_source {
    ($($ptr:ident),*) => {$(
        #[async_trait]
        impl<T: TaskSource + ?Sized> TaskSource for $ptr<T> {
            type Id = T::Id;
            type Status = T::Status;
            type Output = T::Output;
            type Partial = T::Partial;
            type Failure = T::Failure;
            type Error = T::Error;

            async fn fetch(&self, id: &Self::Id) -> Result<Self::Status, Self::Error> {
                (**self).fetch(id).await
            }

            fn classify(&self, status: Self::Status) -> SourcePhase<Self> {
                (**self).classify(status)
            }

            fn error_class(&self, error: &Self::Error) -> ErrorClass {
                (**self).error_class(error)
            }

            fn name(&self) -> &str {
                (**self).name()
            }

            fn default_policy(&self) -> PollPolicy {
                (**self).default_policy()
            }

            fn initial_delay(&self, id: &Self::Id) -> Duration {
                (**self).initial_delay(id)
            }

            fn rate_limit(&self) -> Option<RateLimitHint> {
                (**self).rate_limit()
            }

            fn terminal_partials(&self, phase: &SourcePhase<Self>) -> Vec<Self::Partial> {
                (**self).terminal_partials(phase)
            }
        }

        #[async_trait]
        impl<T: BatchTaskSource + ?Sized> BatchTaskSource for $ptr<T> {
            fn max_batch(&self) -> usize {
                (**self).max_batch()
            }

            async fn fetch_batch(
                &self,
                ids: &[Self::Id],
            ) -> Result<Vec<BatchEntry<Self>>, Self::Error> {
                (**self).fetch_batch(ids).await
            }
        }
    )*};
}

forward_task_source!(Arc, Box);
