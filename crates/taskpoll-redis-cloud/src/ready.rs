//! Readiness after the task: `processing-completed` means Redis Cloud processed the
//! request and is now provisioning the resource. [`ReadyTarget::of`] says what to wait
//! for after a completed task, and [`ReadySource`] waits on a task and then on the
//! resource it created or changed, until that resource is `active`, as one wait.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use taskpoll::{
    BatchEntry, BatchTaskSource, ErrorClass, Phase, PollPolicy, Progress, RateLimitHint,
    SourcePhase, TaskSource,
};

use crate::client::RedisCloudClient;
use crate::error::RedisCloudError;
use crate::models::{
    Database, DatabaseRef, Subscription, SubscriptionRef, TaskStateUpdate, TaskStatus,
};
use crate::resource::{DatabaseFailed, DatabaseStatus, Resource, SubscriptionFailed};
use crate::source::{RedisCloudSource, TaskCompleted, TaskFailed, policy};

mod target;

pub use target::ReadyTarget;

/// A task that completed and the resource it made or changed, now `active`.
///
/// Serialized as the task's fields (`taskId`, `commandType`, `resourceId`,
/// `additionalResourceId`) with `database` (`databaseId`, `name`, `status`,
/// `publicEndpoint`, `privateEndpoint`) and `subscription` (its body as sent) when they
/// were waited on. Neither is there when the task left nothing to wait for (see
/// [`ReadyTarget`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Ready {
    /// The completed task.
    #[serde(flatten)]
    pub task: TaskCompleted,
    /// The database, once `active` (database tasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<Database>,
    /// The subscription, once `active` (subscription and database tasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
}

impl Ready {
    /// A ready result with nothing waited on after the task.
    pub(crate) fn task_only(task: TaskCompleted) -> Self {
        Ready {
            task,
            database: None,
            subscription: None,
        }
    }

    /// Whether a resource was waited on after the task.
    pub fn waited(&self) -> bool {
        self.database.is_some() || self.subscription.is_some()
    }
}

/// Why a task did not lead to an active resource: the task failed, or the database or
/// subscription it made or changed went to `error` (or `deleting`).
///
/// Serialized as the inner failure's fields ([`TaskFailed`], [`DatabaseFailed`] with
/// `databaseId`, or [`SubscriptionFailed`] with `subscriptionId`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ReadyFailed {
    /// The task failed (`processing-error`).
    Task(TaskFailed),
    /// The task completed, but the database will not become active.
    Database(DatabaseFailed),
    /// The task completed, but the subscription will not become active.
    Subscription(SubscriptionFailed),
}

impl fmt::Display for ReadyFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadyFailed::Task(t) => write!(f, "{t}"),
            ReadyFailed::Database(d) => write!(f, "the task completed, but {d}"),
            ReadyFailed::Subscription(s) => write!(f, "the task completed, but {s}"),
        }
    }
}

/// One answer of a readiness wait: the task's, then the database's, then the
/// subscription's.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReadyStatus {
    /// `GET /v1/tasks/{taskId}` (or the task's row of `GET /v1/tasks`).
    Task(TaskStateUpdate),
    /// The database of a completed database task.
    Database {
        /// The completed task.
        task: TaskCompleted,
        /// The database's answer.
        database: DatabaseStatus,
    },
    /// The subscription of a completed task (after its database, for database tasks).
    Subscription {
        /// The completed task.
        task: TaskCompleted,
        /// The database, already `active` (database tasks).
        database: Option<Database>,
        /// The subscription's answer.
        subscription: Subscription,
    },
}

/// Where a wait on a task stands once the task has completed.
#[derive(Debug, Clone)]
enum Stage {
    Database {
        task: TaskCompleted,
        database: DatabaseRef,
    },
    Subscription {
        task: TaskCompleted,
        database: Option<Database>,
        subscription: SubscriptionRef,
    },
}

impl Stage {
    fn first(task: TaskCompleted, target: ReadyTarget) -> Stage {
        match target {
            ReadyTarget::Subscription(subscription) => Stage::Subscription {
                task,
                database: None,
                subscription,
            },
            ReadyTarget::Database(database) => Stage::Database { task, database },
        }
    }
}

/// A task, then the resource it created or changed, until `active`: one wait per task
/// id, from `received` to a usable database or subscription.
///
/// Each poll makes one request: the task (`GET /v1/tasks/{taskId}`, or the task list
/// when waits are batched) until `processing-completed`; then, per [`ReadyTarget`], the
/// database (`GET .../subscriptions/{id}/databases/{id}`) until `active`, then the
/// subscription (`GET .../subscriptions/{id}`) until `active`. The deadline and the
/// policy are those of the whole wait.
///
/// | Answer | Phase |
/// |---|---|
/// | the task, not done | as [`RedisCloudSource`] (`Pending`, `Running`) |
/// | the task failed | `Failed(ReadyFailed::Task)` |
/// | the task completed, nothing to wait for | `Succeeded(Ready)` (task only) |
/// | the task completed, a resource to wait for | `Running` (`processing-completed`) |
/// | the database changing or `active` | `Running` (`database pending`, ..., `database active`) |
/// | the database `error` or `deleting` | `Failed(ReadyFailed::Database)` |
/// | the subscription changing | `Running` (`subscription pending`) |
/// | the subscription `active` | `Succeeded(Ready)` |
/// | the subscription `error` or `deleting` | `Failed(ReadyFailed::Subscription)` |
///
/// The source remembers, per task id, the completed task and which resource comes next
/// (the only state it keeps: what a completed task produced never changes), so the
/// next poll of that id reads the resource. Clones share it.
#[derive(Clone)]
pub struct ReadySource {
    client: RedisCloudClient,
    tasks: RedisCloudSource,
    stages: Arc<Mutex<HashMap<String, Stage>>>,
}

impl fmt::Debug for ReadySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadySource")
            .field("client", &self.client)
            .field("in_readiness", &self.stages().len())
            .finish()
    }
}

impl ReadySource {
    /// A source over `client`.
    pub fn new(client: RedisCloudClient) -> Self {
        ReadySource {
            tasks: RedisCloudSource::new(client.clone()),
            client,
            stages: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn stages(&self) -> std::sync::MutexGuard<'_, HashMap<String, Stage>> {
        self.stages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the wait on `task.task_id` past the task: the next poll of that id reads
    /// the resource the task made (nothing is left to poll when [`ReadyTarget::of`]
    /// finds nothing: the wait then ends at the next poll of the task).
    pub fn start_after(&self, task: &TaskCompleted) {
        if let Some(target) = ReadyTarget::of(task) {
            self.stages()
                .insert(task.task_id.clone(), Stage::first(task.clone(), target));
        }
    }

    /// Moves `id` past the task when `u` says it completed with a resource to wait for.
    fn after_task(&self, id: &str, u: &TaskStateUpdate) {
        if u.error().is_none() && u.status == Some(TaskStatus::ProcessingCompleted) {
            let task = TaskCompleted::from_update(u.clone(), id.to_owned());
            self.start_after(&task);
        }
    }

    async fn fetch_stage(
        &self,
        id: &str,
        stage: Option<Stage>,
    ) -> Result<ReadyStatus, RedisCloudError> {
        match stage {
            None => {
                let u = self.client.get_task(id).await?;
                self.after_task(id, &u);
                Ok(ReadyStatus::Task(u))
            }
            Some(Stage::Database { task, database }) => {
                let status = database.fetch(&self.client).await?;
                match DatabaseRef::classify(status.clone()) {
                    Phase::Succeeded(active) => {
                        let next = Stage::Subscription {
                            task: task.clone(),
                            database: Some(active),
                            subscription: database.subscription(),
                        };
                        self.stages().insert(id.to_owned(), next);
                    }
                    Phase::Failed(_) => {
                        self.stages().remove(id);
                    }
                    Phase::Pending(_) | Phase::Running(_) => {}
                }
                Ok(ReadyStatus::Database {
                    task,
                    database: status,
                })
            }
            Some(Stage::Subscription {
                task,
                database,
                subscription,
            }) => {
                let s = subscription.fetch(&self.client).await?;
                if let Phase::Succeeded(_) | Phase::Failed(_) = SubscriptionRef::classify(s.clone())
                {
                    self.stages().remove(id);
                }
                Ok(ReadyStatus::Subscription {
                    task,
                    database,
                    subscription: s,
                })
            }
        }
    }
}

/// `what` before a resource's progress word: `database pending`.
fn about<P>(what: &str, mut p: Progress<P>) -> Progress<P> {
    p.status = format!("{what} {}", p.status);
    p
}

#[async_trait]
impl TaskSource for ReadySource {
    type Id = String;
    type Status = ReadyStatus;
    type Output = Ready;
    type Partial = ();
    type Failure = ReadyFailed;
    type Error = RedisCloudError;

    async fn fetch(&self, id: &String) -> Result<ReadyStatus, RedisCloudError> {
        let stage = self.stages().get(id).cloned();
        self.fetch_stage(id, stage).await
    }

    fn classify(&self, status: ReadyStatus) -> SourcePhase<Self> {
        match status {
            ReadyStatus::Task(u) => match self.tasks.classify(u) {
                Phase::Succeeded(task) => match ReadyTarget::of(&task) {
                    Some(_) => Phase::Running(Progress::new("processing-completed")),
                    None => Phase::Succeeded(Ready::task_only(task)),
                },
                Phase::Failed(f) => Phase::Failed(ReadyFailed::Task(f)),
                Phase::Pending(p) => Phase::Pending(p),
                Phase::Running(p) => Phase::Running(p),
            },
            ReadyStatus::Database { database, .. } => match DatabaseRef::classify(database) {
                Phase::Succeeded(_) => Phase::Running(Progress::new("database active")),
                Phase::Failed(f) => Phase::Failed(ReadyFailed::Database(f)),
                Phase::Pending(p) => Phase::Pending(about("database", p)),
                Phase::Running(p) => Phase::Running(about("database", p)),
            },
            ReadyStatus::Subscription {
                task,
                database,
                subscription,
            } => match SubscriptionRef::classify(subscription) {
                Phase::Succeeded(s) => Phase::Succeeded(Ready {
                    task,
                    database,
                    subscription: Some(s),
                }),
                Phase::Failed(f) => Phase::Failed(ReadyFailed::Subscription(f)),
                Phase::Pending(p) => Phase::Pending(about("subscription", p)),
                Phase::Running(p) => Phase::Running(about("subscription", p)),
            },
        }
    }

    fn error_class(&self, error: &RedisCloudError) -> ErrorClass {
        error.class(self.client.rate_limit_floor())
    }

    fn name(&self) -> &str {
        "redis-cloud-ready"
    }

    /// The task source's policy: exponential 1 s doubling to 30 s with equal jitter, a
    /// 30 minute deadline for the task and the resource together, 404s tolerated for
    /// the first 30 s.
    fn default_policy(&self) -> PollPolicy {
        policy(&self.client)
    }

    fn rate_limit(&self) -> Option<RateLimitHint> {
        self.client.rate_limit()
    }
}

#[async_trait]
impl BatchTaskSource for ReadySource {
    fn max_batch(&self) -> usize {
        self.tasks.max_batch()
    }

    /// Tasks not yet completed are read from one `GET /v1/tasks`, as
    /// [`RedisCloudSource`] does. Ids past their task read their resource, one request
    /// each (drawn from the client's budget beyond the one the scheduler granted), at
    /// most the client's batch fallback limit per call; the others are left unanswered
    /// (`None`) and polled again later.
    async fn fetch_batch(&self, ids: &[String]) -> Result<Vec<BatchEntry<Self>>, RedisCloudError> {
        let stages: Vec<Option<Stage>> = {
            let map = self.stages();
            ids.iter().map(|id| map.get(id).cloned()).collect()
        };
        let task_ids: Vec<String> = ids
            .iter()
            .zip(&stages)
            .filter(|(_, s)| s.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        let mut task_entries = if task_ids.is_empty() {
            Vec::new()
        } else {
            self.tasks.fetch_batch(&task_ids).await?
        }
        .into_iter();
        // The scheduler granted one request: the list when there are tasks to read,
        // else the first resource read. Every other read draws on the budget too.
        let mut granted = task_ids.is_empty();
        let mut reads = 0;
        let mut out = Vec::with_capacity(ids.len());
        for (id, stage) in ids.iter().zip(stages) {
            let entry = match stage {
                None => match task_entries.next().flatten() {
                    Some(Ok(u)) => {
                        self.after_task(id, &u);
                        Some(Ok(ReadyStatus::Task(u)))
                    }
                    Some(Err(e)) => Some(Err(e)),
                    None => None,
                },
                Some(stage) if reads < self.client.settings().batch_fallback => {
                    reads += 1;
                    let read = self.fetch_stage(id, Some(stage));
                    Some(if std::mem::take(&mut granted) {
                        read.await
                    } else {
                        taskpoll_http::spend(self.client.request_budget(), read).await
                    })
                }
                Some(_) => None,
            };
            out.push(entry);
        }
        Ok(out)
    }
}
