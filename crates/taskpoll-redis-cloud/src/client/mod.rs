//! [`RedisCloudClient`]: the HTTP calls (task status, task list, subscription) and the
//! start endpoints the demo uses; its sources, schedulers and waits are in [`waits`].

mod waits;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;
use taskpoll::{Budget, RateLimitHint, RequestBudget, SchedulerCell};
use taskpoll_http::exchange::{Answer, ExchangeError, RateLimitTracker, send};
use taskpoll_http::{BaseUrl, ConfigError, Secret, header_u64};

use crate::config::{RedisCloudClientBuilder, Settings};
use crate::decode;
use crate::error::{Operation, RedisCloudError};
use crate::models::{Database, DatabaseRef, Subscription, SubscriptionRef, TaskStateUpdate};
use crate::ready::ReadySource;
use crate::resource::{DatabaseSource, SubscriptionSource};
use crate::source::RedisCloudSource;

/// How far ahead a task-list request looks for waits to answer together.
const COALESCE_WINDOW: Duration = Duration::from_millis(100);

/// The rate-limit header Redis Cloud sends on every response (undocumented; the Go
/// client reads it).
const REMAINING: &str = "x-rate-limit-remaining";

/// Redis Cloud's fixed rate-limit window.
const WINDOW: Duration = Duration::from_secs(60);

/// A Redis Cloud API client: account key + user secret key, one connection pool.
/// Cheap to clone. `Debug` never shows the keys.
///
/// Every request sends `x-api-key`, `x-api-secret-key`, `Accept: application/json` and
/// `Content-Type: application/json` (on `GET`s too, as the Go client does).
#[derive(Clone)]
pub struct RedisCloudClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: taskpoll_http::HttpClient,
    base: BaseUrl,
    api_key: Secret,
    secret_key: Secret,
    key_header: HeaderValue,
    secret_header: HeaderValue,
    request_timeout: Duration,
    max_response_bytes: usize,
    settings: Settings,
    /// The last `X-Rate-Limit-Remaining`, and when the window resets.
    rate: RateLimitTracker,
    /// The limits of every wait made from the client.
    limits: Budget,
    /// The request budget: one per account key and limit in the process, shared by
    /// every wait of the client (tasks, subscriptions, databases, readiness).
    budget: Arc<dyn RequestBudget>,
    /// The scheduler of task waits.
    tasks: SchedulerCell<RedisCloudSource>,
    /// The scheduler of subscription waits.
    subscriptions: SchedulerCell<SubscriptionSource>,
    /// The scheduler of database waits.
    databases: SchedulerCell<DatabaseSource>,
    /// The scheduler of waits from a task to its resource's readiness.
    ready: SchedulerCell<ReadySource>,
}

fn sensitive(value: &Secret, name: &'static str) -> Result<HeaderValue, RedisCloudError> {
    let mut v = HeaderValue::from_str(value.expose())
        .map_err(|_| RedisCloudError::InvalidCredential { name })?;
    v.set_sensitive(true);
    Ok(v)
}

impl RedisCloudClient {
    /// A builder from the account key (`x-api-key`) and the user secret key
    /// (`x-api-secret-key`).
    pub fn builder(
        api_key: impl Into<Secret>,
        secret_key: impl Into<Secret>,
    ) -> RedisCloudClientBuilder {
        RedisCloudClientBuilder::new(api_key.into(), secret_key.into())
    }

    /// A client for the production API with default settings.
    pub fn new(
        api_key: impl Into<Secret>,
        secret_key: impl Into<Secret>,
    ) -> Result<Self, RedisCloudError> {
        RedisCloudClient::builder(api_key, secret_key).build()
    }

    pub(crate) fn from_builder(b: RedisCloudClientBuilder) -> Result<Self, RedisCloudError> {
        if b.api_key.is_empty() {
            return Err(ConfigError::MissingCredential {
                name: "the Redis Cloud account key (x-api-key)",
            }
            .into());
        }
        if b.secret_key.is_empty() {
            return Err(ConfigError::MissingCredential {
                name: "the Redis Cloud secret key (x-api-secret-key)",
            }
            .into());
        }
        let c = b.http.connect(&b.user_agent)?;
        let limits = b.http.budget.unwrap_or_else(|| {
            Budget::default()
                .per_minute(b.settings.requests_per_minute)
                .rate_limit_pause(b.settings.rate_limit_floor)
        });
        let budget = b.http.budget_for("redis-cloud", &b.api_key, &limits);
        Ok(RedisCloudClient {
            inner: Arc::new(Inner {
                http: c.client,
                base: c.base,
                key_header: sensitive(&b.api_key, "account key (x-api-key)")?,
                secret_header: sensitive(&b.secret_key, "secret key (x-api-secret-key)")?,
                api_key: b.api_key,
                secret_key: b.secret_key,
                request_timeout: c.request_timeout,
                max_response_bytes: c.max_response_bytes,
                settings: b.settings,
                rate: RateLimitTracker::new(),
                limits,
                budget,
                tasks: SchedulerCell::new(),
                subscriptions: SchedulerCell::new(),
                databases: SchedulerCell::new(),
                ready: SchedulerCell::new(),
            }),
        })
    }

    /// The API base URL, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.inner.base.to_string()
    }

    /// Requests per minute the client's pollers spend (see
    /// [`RedisCloudClientBuilder::requests_per_minute`]).
    pub fn requests_per_minute(&self) -> u32 {
        self.inner.settings.requests_per_minute
    }

    /// The least wait after a 429 without `Retry-After`.
    pub fn rate_limit_floor(&self) -> Duration {
        self.inner.settings.rate_limit_floor
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// What the last response said was left of the key's rate limit: the remaining
    /// requests, and when the window resets: as a 429's `Retry-After` says, else the
    /// latest instant it can (one window after the answer: Redis Cloud does not say when
    /// its fixed window started).
    pub fn rate_limit(&self) -> Option<RateLimitHint> {
        self.inner.rate.hint()
    }

    async fn call(
        &self,
        operation: Operation,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, RedisCloudError> {
        let mut request = self
            .inner
            .http
            .request(method, url)
            .header("x-api-key", self.inner.key_header.clone())
            .header("x-api-secret-key", self.inner.secret_header.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json");
        if let Some(b) = body {
            request = request.body(b.to_string());
        }
        let answer = send(request, self.inner.max_response_bytes)
            .await
            .map_err(|e| match e {
                ExchangeError::Transport(t) => RedisCloudError::Transport {
                    operation,
                    source: Arc::new(t),
                },
                ExchangeError::TooLarge { cap, .. } => RedisCloudError::TooLarge { operation, cap },
            })?;
        if let Some(remaining) = header_u64(&answer.headers, REMAINING) {
            // Redis Cloud does not say when its fixed window started: the latest
            // instant it can reset is one window after the answer.
            self.inner.rate.record(&answer, (), remaining, Some(WINDOW));
        }
        tracing::debug!(
            operation = operation.as_str(),
            status = answer.code(),
            "redis-cloud response"
        );
        Ok(answer)
    }

    /// A `GET` of `url`.
    async fn get(&self, operation: Operation, url: Url) -> Result<Answer, RedisCloudError> {
        self.call(operation, Method::GET, url, None).await
    }

    /// `GET /v1/tasks/{taskId}`: one task's state. The id is sent as one
    /// percent-encoded path segment. A 404 is [`RedisCloudError::UnknownTask`].
    pub async fn get_task(&self, task_id: &str) -> Result<TaskStateUpdate, RedisCloudError> {
        let url = self.inner.base.join_id("tasks", task_id)?;
        let a = self.get(Operation::GetTask, url).await?;
        decode::task(task_id, a.code(), &a.headers, &a.body_or_note())
    }

    /// `GET /v1/tasks`: every recent task of the account (`{"tasks": [...]}`, `{}`,
    /// `null` and a bare array are all read).
    pub async fn list_tasks(&self) -> Result<Vec<TaskStateUpdate>, RedisCloudError> {
        let a = self
            .get(Operation::ListTasks, self.inner.base.join("tasks"))
            .await?;
        decode::task_list(a.code(), &a.headers, &a.body_or_note())
    }

    /// `GET /v1/tasks`, keeping only the tasks whose id `wanted` accepts (the others
    /// are read no further than their id: see [`decode::task_list_of`]).
    pub async fn list_tasks_of(
        &self,
        wanted: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Vec<TaskStateUpdate>, RedisCloudError> {
        let a = self
            .get(Operation::ListTasks, self.inner.base.join("tasks"))
            .await?;
        decode::task_list_of(a.code(), &a.headers, &a.body_or_note(), wanted)
    }

    /// `GET /v1/subscriptions/{subscriptionId}`. A 404 is
    /// [`RedisCloudError::UnknownSubscription`].
    pub async fn get_subscription(
        &self,
        subscription_id: i64,
    ) -> Result<Subscription, RedisCloudError> {
        self.subscription(&SubscriptionRef::pro(subscription_id))
            .await
    }

    /// `GET /v1/fixed/subscriptions/{subscriptionId}`: an Essentials subscription. A 404
    /// is [`RedisCloudError::UnknownSubscription`].
    pub async fn get_fixed_subscription(
        &self,
        subscription_id: i64,
    ) -> Result<Subscription, RedisCloudError> {
        self.subscription(&SubscriptionRef::essentials(subscription_id))
            .await
    }

    /// A subscription of either plan; without an `id` in the body, it takes the one
    /// asked for.
    pub(crate) async fn subscription(
        &self,
        subscription: &SubscriptionRef,
    ) -> Result<Subscription, RedisCloudError> {
        let url = self.inner.base.join(&subscription.path());
        let a = self.get(Operation::GetSubscription, url).await?;
        let body = a.body_or_note();
        let mut s = decode::subscription(subscription.id, a.code(), &a.headers, &body)?;
        if s.id.is_none() {
            s.id = Some(subscription.id);
        }
        Ok(s)
    }

    /// `GET /v1/subscriptions/{subscriptionId}/databases/{databaseId}`, or
    /// `GET /v1/fixed/subscriptions/{subscriptionId}/databases/{databaseId}` for an
    /// Essentials database. A 404 is [`RedisCloudError::UnknownDatabase`].
    pub async fn get_database(&self, database: &DatabaseRef) -> Result<Database, RedisCloudError> {
        self.database(database).await
    }

    pub(crate) async fn database(
        &self,
        database: &DatabaseRef,
    ) -> Result<Database, RedisCloudError> {
        let url = self.inner.base.join(&database.path());
        let a = self.get(Operation::GetDatabase, url).await?;
        decode::database(database, a.code(), &a.headers, &a.body_or_note())
    }

    /// Sends a start call (`method` to `path` below the base URL) and reads the task id
    /// of its reply (any 2xx, 204 with a body included).
    async fn start(
        &self,
        op: Operation,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<String, RedisCloudError> {
        let url = self.inner.base.join(path);
        let a = self.call(op, method, url, body).await?;
        let id = decode::start(op, a.code(), &a.headers, &a.body_or_note())?;
        tracing::debug!(operation = op.as_str(), task_id = %id, "task started");
        Ok(id)
    }

    /// `POST /v1/subscriptions` with `body` (Redis Cloud's subscription request);
    /// returns the task id.
    pub async fn create_subscription(&self, body: Value) -> Result<String, RedisCloudError> {
        let op = Operation::CreateSubscription;
        self.start(op, Method::POST, "subscriptions", Some(&body))
            .await
    }

    /// `POST /v1/subscriptions/{subscriptionId}/databases` with `body`; returns the
    /// task id. When it completes, `resource_id` is the database and
    /// `additional_resource_id` the subscription.
    pub async fn create_database(
        &self,
        subscription_id: i64,
        body: Value,
    ) -> Result<String, RedisCloudError> {
        let path = format!("subscriptions/{subscription_id}/databases");
        self.start(Operation::CreateDatabase, Method::POST, &path, Some(&body))
            .await
    }

    /// `POST /v1/fixed/subscriptions` with `body` (an Essentials subscription request:
    /// `name`, `planId`, ...); returns the task id (`fixedSubscriptionCreateRequest`).
    pub async fn create_fixed_subscription(&self, body: Value) -> Result<String, RedisCloudError> {
        let op = Operation::CreateFixedSubscription;
        self.start(op, Method::POST, "fixed/subscriptions", Some(&body))
            .await
    }

    /// `POST /v1/fixed/subscriptions/{subscriptionId}/databases` with `body`; returns
    /// the task id (`fixedDatabaseCreateRequest`). When it completes, `resource_id` is
    /// the database and `additional_resource_id` the subscription.
    pub async fn create_fixed_database(
        &self,
        subscription_id: i64,
        body: Value,
    ) -> Result<String, RedisCloudError> {
        let path = format!("fixed/subscriptions/{subscription_id}/databases");
        let op = Operation::CreateFixedDatabase;
        self.start(op, Method::POST, &path, Some(&body)).await
    }

    /// `DELETE /v1/subscriptions/{subscriptionId}` (its databases must be deleted
    /// first); returns the task id.
    pub async fn delete_subscription(
        &self,
        subscription_id: i64,
    ) -> Result<String, RedisCloudError> {
        let path = format!("subscriptions/{subscription_id}");
        self.start(Operation::DeleteSubscription, Method::DELETE, &path, None)
            .await
    }
}

impl fmt::Debug for RedisCloudClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCloudClient")
            .field("base_url", &self.inner.base)
            .field("api_key", &self.inner.api_key)
            .field("secret_key", &self.inner.secret_key)
            .field("request_timeout", &self.inner.request_timeout)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .field("settings", &self.inner.settings)
            .finish()
    }
}
