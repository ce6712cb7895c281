//! [`RedisCloudSource`]: Redis Cloud tasks as a [`TaskSource`] (one task per request)
//! and a [`BatchTaskSource`] (`GET /v1/tasks` shows every task of the account).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use taskpoll::strategy::{Exponential, Jitter};
use taskpoll::{
    BatchEntry, BatchTaskSource, ErrorClass, Phase, PollPolicy, Progress, RateLimitHint,
    SourcePhase, TaskSource,
};

use crate::client::RedisCloudClient;
use crate::error::RedisCloudError;
use crate::models::{TaskStateUpdate, TaskStatus};

/// What a task that reached `processing-completed` produced. Serialized with Redis
/// Cloud's field names.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskCompleted {
    /// The task id.
    pub task_id: String,
    /// `subscriptionCreateRequest`, `databaseCreateRequest`, ...
    pub command_type: Option<String>,
    /// The resource made or changed (subscription create: the subscription id;
    /// database create: the database id).
    pub resource_id: Option<i64>,
    /// Database tasks: the subscription id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_resource_id: Option<i64>,
    /// The payload of read-like tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    /// The `href` of the task's `resource` link (`links` or legacy `_links`), when it
    /// has one: `.../v1/fixed/subscriptions/111728/databases/51055029`. Not
    /// serialized.
    #[serde(skip)]
    pub resource_link: Option<String>,
}

impl TaskCompleted {
    /// What a `processing-completed` task produced (`task_id` when it names none).
    pub(crate) fn from_update(u: TaskStateUpdate, task_id: String) -> Self {
        let resource_link = u.link("resource").and_then(|l| l.href.clone());
        let r = u.response.unwrap_or_default();
        TaskCompleted {
            task_id,
            command_type: u.command_type,
            resource_id: r.resource_id,
            additional_resource_id: r.additional_resource_id,
            resource: r.resource,
            resource_link,
        }
    }
}

/// Why a task failed: `response.error` (`type`, `status`, `description`) and
/// `additionalInfo`. Serialized with Redis Cloud's field names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskFailed {
    /// The task id (quote it to Redis Cloud support).
    pub task_id: String,
    /// The task's `commandType`.
    pub command_type: Option<String>,
    /// The error code (`SUBSCRIPTION_NOT_ACTIVE`; the whole error when it came as a
    /// bare string).
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    /// The HTTP status as text (`403 FORBIDDEN`).
    pub status: Option<String>,
    /// What went wrong.
    pub description: Option<String>,
    /// The machine hint beside the error (`rcp-cannot-provision-without-plan`).
    pub additional_info: Option<String>,
    /// The task's status word when it failed (`processing-error`, or whatever status
    /// came with an error).
    pub task_status: String,
}

impl TaskFailed {
    fn from_update(u: &TaskStateUpdate, task_id: String) -> Self {
        let error = u.error();
        let task_status = u
            .status
            .as_ref()
            .map_or_else(|| "processing-error".to_owned(), |s| s.as_str().to_owned());
        let description = error.and_then(|e| e.description()).map(str::to_owned);
        TaskFailed {
            task_id,
            command_type: u.command_type.clone(),
            error_type: error.and_then(|e| e.error_type()).map(str::to_owned),
            status: error.and_then(|e| e.status()).map(str::to_owned),
            // Without an error, keep the task's own description.
            description: if error.is_none() {
                u.description.clone()
            } else {
                description
            },
            additional_info: u.response.as_ref().and_then(|r| r.additional_info.clone()),
            task_status,
        }
    }
}

impl fmt::Display for TaskFailed {
    /// `403 FORBIDDEN - SUBSCRIPTION_NOT_ACTIVE: Cannot preform ...`, as the Go client
    /// words it, with `additionalInfo` after.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.status, &self.error_type) {
            (Some(s), Some(t)) => write!(f, "{s} - {t}")?,
            (Some(s), None) => f.write_str(s)?,
            (None, Some(t)) => f.write_str(t)?,
            (None, None) => write!(f, "{} without error details", self.task_status)?,
        }
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        if let Some(i) = &self.additional_info {
            write!(f, " (additional info: {i})")?;
        }
        if self.task_status != "processing-error" {
            write!(f, " [task status {}]", self.task_status)?;
        }
        Ok(())
    }
}

/// Redis Cloud tasks as a [`TaskSource`] and a [`BatchTaskSource`].
///
/// | Wire | Phase |
/// |---|---|
/// | `response.error` present (any status) | `Failed(TaskFailed)` |
/// | `initialized`, `received` | `Pending` |
/// | `processing-in-progress` | `Running` |
/// | `processing-completed` | `Succeeded(TaskCompleted)` |
/// | `processing-error` | `Failed(TaskFailed)` |
/// | anything else, or no status | `Running`, unrecognized (logged; the deadline bounds it) |
#[derive(Debug, Clone)]
pub struct RedisCloudSource {
    client: RedisCloudClient,
    /// Ids the last task list left out: the next list that leaves them out again
    /// fetches them one by one. Shared by clones.
    missing: Arc<Mutex<HashSet<String>>>,
}

/// Most ids [`RedisCloudSource`] remembers as left out of the list; past it, it forgets
/// them all (each then waits one more round before its own GET).
const MISSING_CAP: usize = 100_000;

impl RedisCloudSource {
    /// A source over `client`.
    pub fn new(client: RedisCloudClient) -> Self {
        RedisCloudSource {
            client,
            missing: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// The client.
    pub fn client(&self) -> &RedisCloudClient {
        &self.client
    }

    /// Requests per minute waits on this source should spend together (see
    /// [`RedisCloudClientBuilder::requests_per_minute`](crate::RedisCloudClientBuilder::requests_per_minute)).
    pub fn requests_per_minute(&self) -> u32 {
        self.client.requests_per_minute()
    }
}

/// Redis Cloud's default poll policy, from the client's settings.
pub(crate) fn policy(client: &RedisCloudClient) -> PollPolicy {
    let s = client.settings();
    PollPolicy::with_strategy(Jitter::equal(Exponential::new(
        Duration::from_secs(1),
        2.0,
        Duration::from_secs(30),
    )))
    .deadline(s.deadline)
    .visibility(s.visibility_grace)
}

#[async_trait]
impl TaskSource for RedisCloudSource {
    type Id = String;
    type Status = TaskStateUpdate;
    type Output = TaskCompleted;
    type Partial = ();
    type Failure = TaskFailed;
    type Error = RedisCloudError;

    async fn fetch(&self, id: &String) -> Result<TaskStateUpdate, RedisCloudError> {
        self.client.get_task(id).await
    }

    fn classify(&self, u: TaskStateUpdate) -> SourcePhase<Self> {
        let task_id = u.task_id.clone().unwrap_or_default();
        if u.error().is_some() {
            return Phase::Failed(TaskFailed::from_update(&u, task_id));
        }
        let progress = |word: &str| {
            let p = Progress::new(word);
            match u.progress {
                Some(percent) => p.with_percent(percent),
                None => p,
            }
        };
        match &u.status {
            Some(s @ (TaskStatus::Initialized | TaskStatus::Received)) => {
                Phase::Pending(progress(s.as_str()))
            }
            Some(s @ TaskStatus::ProcessingInProgress) => Phase::Running(progress(s.as_str())),
            Some(TaskStatus::ProcessingCompleted) => {
                Phase::Succeeded(TaskCompleted::from_update(u, task_id))
            }
            Some(TaskStatus::ProcessingError) => {
                Phase::Failed(TaskFailed::from_update(&u, task_id))
            }
            Some(TaskStatus::Unknown(word)) => Phase::Running(progress(word).unrecognized()),
            None => Phase::Running(progress("(no status)").unrecognized()),
        }
    }

    fn error_class(&self, error: &RedisCloudError) -> ErrorClass {
        error.class(self.client.rate_limit_floor())
    }

    fn name(&self) -> &str {
        "redis-cloud"
    }

    /// Exponential 1 s doubling to 30 s with equal jitter (the Go client's schedule),
    /// a 30 minute deadline, and 404s tolerated for the first 30 s of a wait (the
    /// client builder changes the last two).
    fn default_policy(&self) -> PollPolicy {
        policy(&self.client)
    }

    fn rate_limit(&self) -> Option<RateLimitHint> {
        self.client.rate_limit()
    }
}

#[async_trait]
impl BatchTaskSource for RedisCloudSource {
    fn max_batch(&self) -> usize {
        self.client.settings().max_batch
    }

    /// One `GET /v1/tasks` answers every id it lists. An id it leaves out for the
    /// first time is left unanswered (`None`): a task just created is not known yet,
    /// and its own GET would answer 404 too. An id left out again (older than the
    /// list's window, or still unknown) is fetched with `GET /v1/tasks/{taskId}`, at
    /// most the client's batch fallback limit per call, each such GET drawing on the
    /// client's budget as the list did; the rest are left unanswered and polled again
    /// later. An id missing from the list is never reported failed for that. A list
    /// too large to read (an account with very many recent tasks) is not the tasks'
    /// fault: each id is then fetched alone, within the same fallback limit.
    async fn fetch_batch(&self, ids: &[String]) -> Result<Vec<BatchEntry<Self>>, RedisCloudError> {
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let (listed, list_read) = match self.client.list_tasks_of(&|id| wanted.contains(id)).await {
            Ok(listed) => (listed, true),
            Err(RedisCloudError::TooLarge { cap, .. }) => {
                tracing::warn!(
                    cap,
                    "the task list is larger than max_response_bytes: polling tasks one by one"
                );
                (Vec::new(), false)
            }
            Err(e) => return Err(e),
        };
        let mut by_id: HashMap<String, TaskStateUpdate> = HashMap::with_capacity(listed.len());
        for task in listed {
            if let Some(id) = task.task_id.clone() {
                by_id.entry(id).or_insert(task);
            }
        }
        // Which ids go to their own GET: those the list left out before too.
        let due: Vec<bool> = {
            let mut missing = self.missing.lock().unwrap_or_else(|e| e.into_inner());
            if missing.len() > MISSING_CAP {
                missing.clear();
            }
            ids.iter()
                .map(|id| {
                    if by_id.contains_key(id) {
                        missing.remove(id);
                        false
                    } else {
                        !missing.insert(id.clone()) || !list_read
                    }
                })
                .collect()
        };
        let mut fallbacks = 0;
        let mut out = Vec::with_capacity(ids.len());
        for (id, due) in ids.iter().zip(due) {
            if let Some(task) = by_id.get(id) {
                out.push(Some(Ok(task.clone())));
            } else if due && fallbacks < self.client.settings().batch_fallback {
                fallbacks += 1;
                // Beyond the list the scheduler granted: each draws on the budget.
                let own = self.fetch(id);
                out.push(Some(
                    taskpoll_http::spend(self.client.request_budget(), own).await,
                ));
            } else {
                out.push(None);
            }
        }
        Ok(out)
    }
}
