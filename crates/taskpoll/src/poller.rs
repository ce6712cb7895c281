//! [`Poller`]: waits on tasks of one source.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::group::budget::SharedBudget;
use crate::group::{Budget, FetchMode, WaitAll, WaitCheckpoint};
use crate::policy::{PollPolicy, RetryPolicy, VisibilityGrace};
use crate::source::BatchTaskSource;
use crate::source::TaskSource;
use crate::strategy::IntoStrategy;
use crate::update::{Outcome, WaitResult};
use crate::watch::Watch;

/// Waits on tasks of one [`TaskSource`], under one [`PollPolicy`].
///
/// It starts from the source's [`default_policy`](TaskSource::default_policy); the
/// builder methods override parts of it. A poller is cheap to clone and can run any
/// number of waits at once.
///
/// ```
/// use std::time::Duration;
/// use taskpoll::testing::{ScriptedSource, Step};
/// use taskpoll::{Poller, strategy::Fixed};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let source = ScriptedSource::new();
/// source.script("export-1", [Step::pending(), Step::running(), Step::succeed("s3://bucket/export.json")]);
///
/// let poller = Poller::new(source)
///     .interval(Fixed::new(Duration::from_secs(1)))
///     .deadline(Duration::from_secs(60));
/// let output = poller.wait("export-1".into()).await?;
/// assert_eq!(output, "s3://bucket/export.json");
/// # Ok(())
/// # }
/// ```
pub struct Poller<S: TaskSource> {
    source: Arc<S>,
    policy: PollPolicy,
    salts: Arc<AtomicU64>,
    budget: Arc<SharedBudget>,
    coalesce_window: Duration,
    max_batch: Option<usize>,
}

impl<S: TaskSource + std::fmt::Debug> std::fmt::Debug for Poller<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("source", &self.source)
            .field("policy", &self.policy)
            .field("budget", &self.budget.limits())
            .field("coalesce_window", &self.coalesce_window)
            .field("max_batch", &self.max_batch)
            .finish()
    }
}

impl<S: TaskSource> Clone for Poller<S> {
    fn clone(&self) -> Self {
        Poller {
            source: Arc::clone(&self.source),
            policy: self.policy.clone(),
            salts: Arc::clone(&self.salts),
            budget: Arc::clone(&self.budget),
            coalesce_window: self.coalesce_window,
            max_batch: self.max_batch,
        }
    }
}

impl<S: TaskSource> Poller<S> {
    /// A poller over `source`, with the source's default policy.
    pub fn new(source: S) -> Self {
        Poller::from_arc(Arc::new(source))
    }

    /// A poller over a shared source.
    pub fn from_arc(source: Arc<S>) -> Self {
        let policy = source.default_policy();
        Poller {
            source,
            policy,
            salts: Arc::new(AtomicU64::new(0)),
            budget: SharedBudget::new(Budget::default()),
            coalesce_window: Duration::from_millis(100),
            max_batch: None,
        }
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The shared source.
    pub fn source_arc(&self) -> &Arc<S> {
        &self.source
    }

    /// The policy waits use.
    pub fn policy(&self) -> &PollPolicy {
        &self.policy
    }

    /// Replaces the whole policy.
    pub fn with_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the interval strategy: any of [`strategy`](crate::strategy)'s, any
    /// `Iterator<Item = Duration> + Clone`, or (feature `backon`) a backon builder.
    pub fn interval<M>(mut self, strategy: impl IntoStrategy<M>) -> Self {
        self.policy = self.policy.interval(strategy);
        self
    }

    /// Sets the overall deadline of each wait.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.policy = self.policy.deadline(deadline);
        self
    }

    /// Waits without a deadline.
    pub fn no_deadline(mut self) -> Self {
        self.policy = self.policy.no_deadline();
        self
    }

    /// Sets the delay before the first poll.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.policy = self.policy.initial_delay(delay);
        self
    }

    /// Limits the number of polls per wait.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.policy = self.policy.max_attempts(attempts);
        self
    }

    /// Sets the longest `Retry-After` honoured.
    pub fn retry_after_ceiling(mut self, ceiling: Duration) -> Self {
        self.policy = self.policy.retry_after_ceiling(ceiling);
        self
    }

    /// Sets how long the final poll at the deadline may take.
    pub fn final_poll_timeout(mut self, timeout: Duration) -> Self {
        self.policy = self.policy.final_poll_timeout(timeout);
        self
    }

    /// Sets the transient-error retry policy.
    pub fn transient_retries(mut self, retry: RetryPolicy) -> Self {
        self.policy = self.policy.transient(retry);
        self
    }

    /// Sets the grace for tasks the service does not know yet.
    pub fn visibility_grace(mut self, grace: VisibilityGrace) -> Self {
        self.policy = self.policy.visibility(grace);
        self
    }

    /// Waits for the task to finish: its output, or why there is none.
    pub async fn wait(&self, id: S::Id) -> WaitResult<S> {
        self.wait_outcome(id).await.result
    }

    /// Waits for the task to finish, and also reports the polls made and the time spent.
    pub async fn wait_outcome(&self, id: S::Id) -> Outcome<S> {
        self.make_watch(id, false).finish().await
    }

    /// Watches the task: a stream of [`Update`](crate::Update)s (each poll's phase, each
    /// new partial result, each retry) that ends with the outcome.
    pub fn watch(&self, id: S::Id) -> Watch<S> {
        self.make_watch(id, true)
    }

    /// Sets the request budget every [`wait_all`](Poller::wait_all) group of this poller
    /// (and of its clones made afterwards) draws from.
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = SharedBudget::new(budget);
        self
    }

    /// How far ahead a batched group looks for waits to fetch together (100 ms by default).
    pub fn coalesce_window(mut self, window: Duration) -> Self {
        self.coalesce_window = window;
        self
    }

    /// Caps batches below the source's own `max_batch`.
    pub fn max_batch(mut self, max: usize) -> Self {
        self.max_batch = Some(max.max(1));
        self
    }

    /// Waits on many tasks at once, one request per task per poll, under the poller's
    /// budget. The stream yields each outcome as its task finishes.
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use taskpoll::testing::{ScriptedSource, Step};
    /// use taskpoll::Poller;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let source = ScriptedSource::new();
    /// source.script("slow", [Step::running().times(3), Step::succeed("slow done")]);
    /// source.script("fast", [Step::succeed("fast done")]);
    /// let poller = Poller::new(source);
    /// let outcomes: Vec<String> = poller
    ///     .wait_all(["slow".to_string(), "fast".to_string()])
    ///     .map(|o| o.result.unwrap())
    ///     .collect()
    ///     .await;
    /// assert_eq!(outcomes, ["fast done", "slow done"]);
    /// # }
    /// ```
    pub fn wait_all(&self, ids: impl IntoIterator<Item = S::Id>) -> WaitAll<S> {
        self.group(FetchMode::single(), ids.into_iter().collect(), Vec::new())
    }

    /// Resumes checkpointed waits (see [`WaitAll::checkpoint`]) with their original
    /// deadlines, one request per task per poll.
    pub fn resume_all(
        &self,
        checkpoints: impl IntoIterator<Item = WaitCheckpoint<S::Id>>,
    ) -> WaitAll<S> {
        self.group(
            FetchMode::single(),
            Vec::new(),
            checkpoints.into_iter().collect(),
        )
    }

    fn group(
        &self,
        mode: FetchMode<S>,
        ids: Vec<S::Id>,
        resumed: Vec<WaitCheckpoint<S::Id>>,
    ) -> WaitAll<S> {
        WaitAll::new(
            Arc::clone(&self.source),
            self.policy.clone(),
            Arc::clone(&self.salts),
            Arc::clone(&self.budget),
            mode,
            ids,
            resumed,
        )
    }

    fn make_watch(&self, id: S::Id, report: bool) -> Watch<S> {
        let salt = self.salts.fetch_add(1, Ordering::Relaxed);
        Watch::new(
            Arc::clone(&self.source),
            self.policy.clone(),
            salt,
            id,
            report,
        )
    }
}

impl<S> Poller<S>
where
    S: BatchTaskSource,
    S::Error: Clone,
{
    /// Waits on many tasks at once, fetching the waits that fall due within the
    /// coalescing window together, up to the source's `max_batch` per request.
    pub fn wait_all_batched(&self, ids: impl IntoIterator<Item = S::Id>) -> WaitAll<S> {
        self.group(self.batch_mode(), ids.into_iter().collect(), Vec::new())
    }

    /// Resumes checkpointed waits, batched.
    pub fn resume_all_batched(
        &self,
        checkpoints: impl IntoIterator<Item = WaitCheckpoint<S::Id>>,
    ) -> WaitAll<S> {
        self.group(
            self.batch_mode(),
            Vec::new(),
            checkpoints.into_iter().collect(),
        )
    }

    fn batch_mode(&self) -> FetchMode<S> {
        let max = self.source.max_batch().max(1);
        let max = self.max_batch.map_or(max, |m| m.min(max));
        FetchMode::batched(max, self.coalesce_window)
    }
}
