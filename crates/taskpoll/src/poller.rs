//! [`Poller`]: waits on tasks of one source, under one policy.

use std::sync::Arc;

use crate::group::WaitAll;
use crate::policy::PollPolicy;
use crate::scheduler::Scheduler;
use crate::source::TaskSource;
use crate::update::WaitResult;
use crate::watch::Watch;

/// Waits on tasks of one [`TaskSource`] under one [`PollPolicy`], through the source's
/// [`Scheduler`].
///
/// Three ways to wait: [`wait`](Poller::wait) for one task's output,
/// [`watch`](Poller::watch) for one task's updates as they happen, and
/// [`wait_all`](Poller::wait_all) for many tasks at once. All of them share the
/// scheduler's request budget, batching and pause after a 429, with every other poller
/// of the same scheduler.
///
/// A poller starts from the source's [`default_policy`](TaskSource::default_policy);
/// [`configure`](Poller::configure) changes it. It is cheap to clone.
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
/// let poller = Poller::new(source).configure(|p| {
///     p.interval(Fixed::new(Duration::from_secs(1)))
///         .deadline(Duration::from_secs(60))
/// });
/// let output = poller.wait("export-1".into()).await?;
/// assert_eq!(output, "s3://bucket/export.json");
/// # Ok(())
/// # }
/// ```
pub struct Poller<S: TaskSource> {
    scheduler: Scheduler<S>,
    policy: Arc<PollPolicy>,
}

impl<S: TaskSource> std::fmt::Debug for Poller<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("scheduler", &self.scheduler)
            .field("policy", &self.policy)
            .finish()
    }
}

impl<S: TaskSource> Clone for Poller<S> {
    fn clone(&self) -> Self {
        Poller {
            scheduler: self.scheduler.clone(),
            policy: Arc::clone(&self.policy),
        }
    }
}

impl<S: TaskSource> Poller<S> {
    /// A poller over `source` on a scheduler of its own (default [`Budget`], one id per
    /// request). Vendor clients hand out pollers on their shared scheduler instead.
    ///
    /// [`Budget`]: crate::Budget
    pub fn new(source: S) -> Self {
        Scheduler::new(source).poller()
    }

    pub(crate) fn from_scheduler(scheduler: Scheduler<S>) -> Self {
        let policy = Arc::new(scheduler.source().default_policy());
        Poller { scheduler, policy }
    }

    /// The source.
    pub fn source(&self) -> &S {
        self.scheduler.source()
    }

    /// The scheduler every wait of this poller goes through.
    pub fn scheduler(&self) -> &Scheduler<S> {
        &self.scheduler
    }

    /// The policy waits use.
    pub fn policy(&self) -> &PollPolicy {
        &self.policy
    }

    /// Changes the policy: `f` gets the current one and returns the new one.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let poller = taskpoll::Poller::new(taskpoll::testing::ScriptedSource::new());
    /// let patient = poller.configure(|p| p.deadline(Duration::from_secs(3600)).max_attempts(500));
    /// assert_eq!(patient.policy().deadline, Some(Duration::from_secs(3600)));
    /// ```
    pub fn configure(mut self, f: impl FnOnce(PollPolicy) -> PollPolicy) -> Self {
        self.policy = Arc::new(f(PollPolicy::clone(&self.policy)));
        self
    }

    /// Waits for the task to finish: its output, or why there is none. For the polls
    /// made and the time spent too, use [`watch`](Poller::watch) and
    /// [`Watch::outcome`].
    pub async fn wait(&self, id: S::Id) -> WaitResult<S> {
        self.watch(id).outcome().await.result
    }

    /// Watches the task: a stream of [`Update`](crate::Update)s (each poll's phase, each
    /// new partial result, each retry) that ends with the outcome.
    pub fn watch(&self, id: S::Id) -> Watch<S> {
        Watch::new(self.scheduler.clone(), Arc::clone(&self.policy), id)
    }

    /// Waits on many tasks at once: a stream of `(id, update)` for every wait, each
    /// one's outcome the moment it ends; more waits can be added while it runs.
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
    ///     .outcomes()
    ///     .map(|o| o.result.unwrap())
    ///     .collect()
    ///     .await;
    /// assert_eq!(outcomes, ["fast done", "slow done"]);
    /// # }
    /// ```
    pub fn wait_all(&self, ids: impl IntoIterator<Item = S::Id>) -> WaitAll<S> {
        WaitAll::new(self.scheduler.clone(), Arc::clone(&self.policy), ids)
    }
}
