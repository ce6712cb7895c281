//! [`RedisCloudClientBuilder`]: credentials, base URL, HTTP limits and poll settings.

use std::fmt;
use std::time::Duration;

use taskpoll::VisibilityGrace;
use taskpoll_http::{HttpSettings, Secret, env_credential};

use crate::client::RedisCloudClient;
use crate::error::RedisCloudError;

/// Redis Cloud's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.redislabs.com/v1";

/// The environment variable [`RedisCloudClientBuilder::from_env`] reads the account key
/// (`x-api-key`) from.
pub const API_KEY_VAR: &str = "REDIS_CLOUD_API_KEY";

/// The environment variable [`RedisCloudClientBuilder::from_env`] reads the user secret
/// key (`x-api-secret-key`) from.
pub const API_SECRET_VAR: &str = "REDIS_CLOUD_API_SECRET";

/// Requests per minute the client's pollers spend by default: below the 400 per minute
/// and per key Redis Cloud allows, leaving room for other callers of the same key.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 300;

/// Settings the sources read (poll policy, batching, rate limiting).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    pub(crate) requests_per_minute: u32,
    pub(crate) rate_limit_floor: Duration,
    pub(crate) visibility_grace: VisibilityGrace,
    pub(crate) deadline: Duration,
    pub(crate) max_batch: usize,
    pub(crate) batch_fallback: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            rate_limit_floor: Duration::from_secs(30),
            visibility_grace: VisibilityGrace::for_duration(Duration::from_secs(30)),
            deadline: Duration::from_secs(30 * 60),
            max_batch: 10_000,
            batch_fallback: 10,
        }
    }
}

/// Builds a [`RedisCloudClient`].
///
/// ```
/// use std::time::Duration;
/// use taskpoll_redis_cloud::RedisCloudClient;
///
/// let client = RedisCloudClient::builder("account-key", "secret-key")
///     .request_timeout(Duration::from_secs(10))
///     .requests_per_minute(200)
///     .build()?;
/// assert_eq!(client.base_url(), "https://api.redislabs.com/v1");
/// assert!(!format!("{client:?}").contains("secret-key"));
/// # Ok::<(), taskpoll_redis_cloud::RedisCloudError>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until built"]
pub struct RedisCloudClientBuilder {
    pub(crate) api_key: Secret,
    pub(crate) secret_key: Secret,
    pub(crate) http: HttpSettings,
    /// The `User-Agent` sent unless `user_agent` sets another.
    pub(crate) user_agent: String,
    pub(crate) settings: Settings,
}

impl RedisCloudClientBuilder {
    pub(crate) fn new(api_key: Secret, secret_key: Secret) -> Self {
        RedisCloudClientBuilder {
            api_key,
            secret_key,
            // A 30 s request timeout, as the `redis-cloud` crate.
            http: HttpSettings::new(DEFAULT_BASE_URL, Duration::from_secs(30)),
            user_agent: format!("taskpoll-redis-cloud/{}", env!("CARGO_PKG_VERSION")),
            settings: Settings::default(),
        }
    }

    /// A builder with the keys in `REDIS_CLOUD_API_KEY` and `REDIS_CLOUD_API_SECRET`
    /// (the variables the `taskpoll` command reads) and the defaults. A variable that is
    /// not set (or empty) is [`RedisCloudError::Config`] naming it.
    pub fn from_env() -> Result<Self, RedisCloudError> {
        Ok(RedisCloudClientBuilder::new(
            env_credential(API_KEY_VAR)?,
            env_credential(API_SECRET_VAR)?,
        ))
    }

    taskpoll_http::http_settings_methods!();

    /// Requests per minute the client's pollers spend, all waits together (300 by
    /// default; Redis Cloud allows 400 per key). Used as the
    /// [`Budget`](taskpoll::Budget) of [`poller`](RedisCloudClient::poller)'s
    /// many-task waits; give every poller of one key a share of the 400.
    pub fn requests_per_minute(mut self, n: u32) -> Self {
        self.settings.requests_per_minute = n.max(1);
        self
    }

    /// The least wait after a 429 without `Retry-After` (30 s by default, as Redis
    /// Cloud support advises).
    pub fn rate_limit_floor(mut self, floor: Duration) -> Self {
        self.settings.rate_limit_floor = floor;
        self
    }

    /// How long a task id answering 404 is tolerated after the wait starts (the first
    /// 30 s by default; Redis Cloud's task service learns of new tasks after a delay).
    pub fn visibility_grace(mut self, grace: VisibilityGrace) -> Self {
        self.settings.visibility_grace = grace;
        self
    }

    /// The default deadline of each wait (30 minutes).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = deadline;
        self
    }

    /// Most task ids one batched fetch covers (10,000 by default). One
    /// `GET /v1/tasks` shows every task of the account whatever the number of ids it
    /// answers for, so waits due together should share one: a smaller cap only splits
    /// a round into several list requests (each fetching the whole list).
    pub fn max_batch(mut self, n: usize) -> Self {
        self.settings.max_batch = n.max(1);
        self
    }

    /// Most `GET /v1/tasks/{taskId}` requests one batched fetch adds for ids the list
    /// does not show (10 by default); the others are polled again in a later round.
    pub fn batch_fallback_limit(mut self, n: usize) -> Self {
        self.settings.batch_fallback = n;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<RedisCloudClient, RedisCloudError> {
        RedisCloudClient::from_builder(self)
    }
}

impl RedisCloudClient {
    /// A client for the production API with the keys in `REDIS_CLOUD_API_KEY` and
    /// `REDIS_CLOUD_API_SECRET`, the variables the `taskpoll` command reads. A variable
    /// that is not set is an error naming it. [`RedisCloudClientBuilder::from_env`] to
    /// change other settings.
    pub fn from_env() -> Result<Self, RedisCloudError> {
        RedisCloudClientBuilder::from_env()?.build()
    }
}

impl fmt::Debug for RedisCloudClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCloudClientBuilder")
            .field("api_key", &self.api_key)
            .field("secret_key", &self.secret_key)
            .field("http", &self.http)
            .field("settings", &self.settings)
            .finish()
    }
}
