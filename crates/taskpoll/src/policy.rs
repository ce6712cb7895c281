//! [`PollPolicy`]: when to poll, for how long, and how to treat errors.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::strategy::{Exponential, IntervalStrategy, IntoStrategy, Jitter};

/// How many transient fetch errors a wait tolerates before it gives up.
///
/// Both limits apply when set; the wait's deadline bounds retries in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Most transient errors in a row (a successful fetch resets the count).
    pub max_consecutive: Option<u32>,
    /// Longest time since the first of the current run of transient errors.
    pub max_duration: Option<Duration>,
}

impl RetryPolicy {
    /// Retries at most `n` transient errors in a row.
    pub fn consecutive(n: u32) -> Self {
        RetryPolicy {
            max_consecutive: Some(n),
            max_duration: None,
        }
    }

    /// Retries transient errors for at most `d` since the first of a run.
    pub fn for_duration(d: Duration) -> Self {
        RetryPolicy {
            max_consecutive: None,
            max_duration: Some(d),
        }
    }

    /// Retries transient errors until the deadline, however many.
    pub fn until_deadline() -> Self {
        RetryPolicy {
            max_consecutive: None,
            max_duration: None,
        }
    }

    /// Never retries: the first transient error ends the wait.
    pub fn never() -> Self {
        RetryPolicy::consecutive(0)
    }

    /// Adds a limit on the time since the first error of a run.
    pub fn with_max_duration(mut self, d: Duration) -> Self {
        self.max_duration = Some(d);
        self
    }
}

impl Default for RetryPolicy {
    /// 20 transient errors in a row.
    fn default() -> Self {
        RetryPolicy::consecutive(20)
    }
}

/// How long a task id the service does not know yet (an
/// [`ErrorClass::NotYetVisible`](crate::ErrorClass::NotYetVisible) error) is tolerated.
///
/// Counts are cumulative over the wait; time is measured from the start of the wait.
/// Once either limit is passed, the next such error ends the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct VisibilityGrace {
    /// Most not-yet-visible errors over the wait.
    pub max_count: Option<u32>,
    /// Longest time since the start of the wait during which they are tolerated.
    pub max_elapsed: Option<Duration>,
}

impl VisibilityGrace {
    /// No grace: a task the service does not know ends the wait at once.
    pub fn none() -> Self {
        VisibilityGrace {
            max_count: Some(0),
            max_elapsed: None,
        }
    }

    /// Tolerated during the first `d` of the wait.
    pub fn for_duration(d: Duration) -> Self {
        VisibilityGrace {
            max_count: None,
            max_elapsed: Some(d),
        }
    }

    /// Tolerated `n` times over the wait.
    pub fn count(n: u32) -> Self {
        VisibilityGrace {
            max_count: Some(n),
            max_elapsed: None,
        }
    }

    /// Adds a count limit.
    pub fn with_max_count(mut self, n: u32) -> Self {
        self.max_count = Some(n);
        self
    }
}

impl Default for VisibilityGrace {
    fn default() -> Self {
        VisibilityGrace::none()
    }
}

/// Everything that decides when a wait polls and when it gives up.
///
/// Sources give their vendor's defaults through
/// [`TaskSource::default_policy`](crate::TaskSource::default_policy); a
/// [`Poller`](crate::Poller) starts from those and can override any of them.
#[derive(Clone)]
#[non_exhaustive]
pub struct PollPolicy {
    /// The delays between polls.
    pub strategy: Arc<dyn IntervalStrategy>,
    /// Delay before the first poll; `None` lets the source decide per task
    /// ([`TaskSource::initial_delay`](crate::TaskSource::initial_delay), zero by default).
    pub initial_delay: Option<Duration>,
    /// The overall deadline, measured from the start of the wait; `None` waits forever.
    pub deadline: Option<Duration>,
    /// Most polls (fetches) in all; `None` for no limit.
    pub max_attempts: Option<u32>,
    /// The longest `Retry-After` honoured: longer requests are clamped to this.
    pub retry_after_ceiling: Duration,
    /// How long the final poll, made at the deadline, may take before it is cut off.
    pub final_poll_timeout: Duration,
    /// How transient fetch errors are retried.
    pub transient: RetryPolicy,
    /// How long a not-yet-visible task is tolerated.
    pub visibility: VisibilityGrace,
}

impl PollPolicy {
    /// A policy with the given strategy and the defaults for everything else.
    pub fn with_strategy<M>(strategy: impl IntoStrategy<M>) -> Self {
        PollPolicy {
            strategy: strategy.into_strategy(),
            ..PollPolicy::default()
        }
    }

    /// Sets the interval strategy.
    pub fn interval<M>(mut self, strategy: impl IntoStrategy<M>) -> Self {
        self.strategy = strategy.into_strategy();
        self
    }

    /// Sets the overall deadline.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Removes the deadline: the wait lasts until the task ends or a limit runs out.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// Sets the delay before the first poll (overrides the source's per-task choice).
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = Some(delay);
        self
    }

    /// Limits the number of polls.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Sets the longest `Retry-After` honoured.
    pub fn retry_after_ceiling(mut self, ceiling: Duration) -> Self {
        self.retry_after_ceiling = ceiling;
        self
    }

    /// Sets how long the final poll at the deadline may take.
    pub fn final_poll_timeout(mut self, timeout: Duration) -> Self {
        self.final_poll_timeout = timeout;
        self
    }

    /// Sets the transient-error retry policy.
    pub fn transient(mut self, retry: RetryPolicy) -> Self {
        self.transient = retry;
        self
    }

    /// Sets the grace for tasks the service does not know yet.
    pub fn visibility(mut self, grace: VisibilityGrace) -> Self {
        self.visibility = grace;
        self
    }
}

impl Default for PollPolicy {
    /// Exponential 1 s doubling to 30 s with equal jitter, no initial delay, a 10 minute
    /// deadline, no attempt limit, `Retry-After` honoured up to 5 minutes, a 10 second
    /// final poll, 20 transient errors in a row, no visibility grace.
    fn default() -> Self {
        PollPolicy {
            strategy: Jitter::equal(Exponential::new(
                Duration::from_secs(1),
                2.0,
                Duration::from_secs(30),
            ))
            .into_strategy(),
            initial_delay: None,
            deadline: Some(Duration::from_secs(600)),
            max_attempts: None,
            retry_after_ceiling: Duration::from_secs(300),
            final_poll_timeout: Duration::from_secs(10),
            transient: RetryPolicy::default(),
            visibility: VisibilityGrace::default(),
        }
    }
}

impl fmt::Debug for PollPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollPolicy")
            .field("strategy", &self.strategy)
            .field("initial_delay", &self.initial_delay)
            .field("deadline", &self.deadline)
            .field("max_attempts", &self.max_attempts)
            .field("retry_after_ceiling", &self.retry_after_ceiling)
            .field("final_poll_timeout", &self.final_poll_timeout)
            .field("transient", &self.transient)
            .field("visibility", &self.visibility)
            .finish()
    }
}
