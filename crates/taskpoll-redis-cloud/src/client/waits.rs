//! The client's sources, the scheduler each shares with every clone of the client, its
//! pollers, and the waits made from them.

use std::sync::Arc;

use taskpoll::{
    Budget, Poller, RequestBudget, Scheduler, SchedulerBuilder, SourceWaitError, TaskSource,
};

use super::{COALESCE_WINDOW, RedisCloudClient};
use crate::models::{Database, DatabaseRef, Subscription, SubscriptionRef};
use crate::ready::{Ready, ReadySource};
use crate::resource::{DatabaseSource, SubscriptionSource};
use crate::source::{RedisCloudSource, TaskCompleted};

impl RedisCloudClient {
    /// The task source over this client.
    pub fn source(&self) -> RedisCloudSource {
        RedisCloudSource::new(self.clone())
    }

    /// The source that waits for a subscription to become `active`.
    pub fn subscription_source(&self) -> SubscriptionSource {
        SubscriptionSource::new(self.clone())
    }

    /// The source that waits for a database to become `active`.
    pub fn database_source(&self) -> DatabaseSource {
        DatabaseSource::new(self.clone())
    }

    /// A source that waits for a task, then for the resource it created or changed to
    /// become `active` (see [`ReadySource`]).
    pub fn ready_source(&self) -> ReadySource {
        ReadySource::new(self.clone())
    }

    /// The limits every wait made from this client draws under: by default
    /// [`requests_per_minute`] requests per minute, and a pause of
    /// [`rate_limit_floor`] after a bare 429.
    ///
    /// [`requests_per_minute`]: RedisCloudClient::requests_per_minute
    /// [`rate_limit_floor`]: RedisCloudClient::rate_limit_floor
    pub fn budget(&self) -> Budget {
        self.inner.limits
    }

    /// The request budget every wait of this client (and every client on the same key
    /// and limit in the process) draws from.
    pub fn request_budget(&self) -> &dyn RequestBudget {
        &*self.inner.budget
    }

    /// A scheduler over `source` under the client's limits and its one budget.
    fn on_budget<S: TaskSource>(&self, source: S) -> SchedulerBuilder<S> {
        Scheduler::builder(source)
            .budget(self.inner.limits)
            .request_budget(Arc::clone(&self.inner.budget))
    }

    /// The scheduler of every task wait made from this client and its clones: task
    /// waits due together share one `GET /v1/tasks`, and every request (task and
    /// subscription waits alike) draws from the account key's one budget.
    pub fn scheduler(&self) -> Scheduler<RedisCloudSource> {
        self.inner.tasks.get_or_init(|| {
            self.on_budget(self.source())
                .batched(COALESCE_WINDOW, Some(self.inner.settings.max_batch))
                .build()
        })
    }

    /// The scheduler of subscription waits, on the same budget as task waits.
    pub fn subscription_scheduler(&self) -> Scheduler<SubscriptionSource> {
        self.inner
            .subscriptions
            .get_or_init(|| self.on_budget(self.subscription_source()).build())
    }

    /// The scheduler of database waits, on the same budget as task waits.
    pub fn database_scheduler(&self) -> Scheduler<DatabaseSource> {
        self.inner
            .databases
            .get_or_init(|| self.on_budget(self.database_source()).build())
    }

    /// The scheduler of waits from a task to its resource's readiness, on the same
    /// budget as task waits; batched like [`scheduler`](RedisCloudClient::scheduler)
    /// while the tasks run.
    pub fn ready_scheduler(&self) -> Scheduler<ReadySource> {
        self.inner.ready.get_or_init(|| {
            self.on_budget(self.ready_source())
                .batched(COALESCE_WINDOW, Some(self.inner.settings.max_batch))
                .build()
        })
    }

    /// A poller over [`source`](RedisCloudClient::source) with Redis Cloud's defaults
    /// (see [`RedisCloudSource::default_policy`](taskpoll::TaskSource::default_policy)),
    /// on the client's [`scheduler`](RedisCloudClient::scheduler).
    pub fn poller(&self) -> Poller<RedisCloudSource> {
        self.scheduler().poller()
    }

    /// A poller over [`subscription_source`](RedisCloudClient::subscription_source), on
    /// the client's [`subscription_scheduler`](RedisCloudClient::subscription_scheduler).
    pub fn subscription_poller(&self) -> Poller<SubscriptionSource> {
        self.subscription_scheduler().poller()
    }

    /// A poller over [`database_source`](RedisCloudClient::database_source), on the
    /// client's [`database_scheduler`](RedisCloudClient::database_scheduler).
    pub fn database_poller(&self) -> Poller<DatabaseSource> {
        self.database_scheduler().poller()
    }

    /// A poller whose waits take a task id and end when the task completed and the
    /// resource it created or changed is `active` (see [`ReadySource`]), on the
    /// client's [`ready_scheduler`](RedisCloudClient::ready_scheduler). The policy's
    /// deadline covers the task and the resource together.
    pub fn ready_poller(&self) -> Poller<ReadySource> {
        self.ready_scheduler().poller()
    }

    /// Waits for a task with the default settings.
    pub async fn wait_for_task(
        &self,
        task_id: &str,
    ) -> Result<TaskCompleted, SourceWaitError<RedisCloudSource>> {
        self.poller().wait(task_id.to_owned()).await
    }

    /// Waits for a subscription to become `active` with the default settings.
    pub async fn wait_for_subscription(
        &self,
        subscription_id: i64,
    ) -> Result<Subscription, SourceWaitError<SubscriptionSource>> {
        self.subscription_poller()
            .wait(SubscriptionRef::pro(subscription_id))
            .await
    }

    /// Waits for a database to become `active` with the default settings.
    pub async fn wait_for_database(
        &self,
        database: DatabaseRef,
    ) -> Result<Database, SourceWaitError<DatabaseSource>> {
        self.database_poller().wait(database).await
    }

    /// Waits, after `task` completed, until the resource it created or changed is
    /// `active`: a database task's database, then its subscription (creating a
    /// database moves its subscription back to `pending`); a subscription task's
    /// subscription. Picks what to wait for from the task's `commandType`,
    /// `resourceId` and `additionalResourceId` ([`ReadyTarget::of`]); a task that
    /// leaves nothing to wait for is ready at once. Default settings: a 30 minute
    /// deadline from now; through [`ready_poller`](RedisCloudClient::ready_poller) (see
    /// [`ReadySource::start_after`]) for others.
    ///
    /// [`ReadyTarget::of`]: crate::ReadyTarget::of
    pub async fn wait_until_ready(
        &self,
        task: &TaskCompleted,
    ) -> Result<Ready, SourceWaitError<ReadySource>> {
        let poller = self.ready_poller();
        if crate::ReadyTarget::of(task).is_none() {
            return Ok(Ready::task_only(task.clone()));
        }
        poller.source().start_after(task);
        poller.wait(task.task_id.clone()).await
    }
}
