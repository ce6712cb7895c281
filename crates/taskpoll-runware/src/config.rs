//! [`RunwareClientBuilder`]: the client's settings.

use std::time::Duration;

use reqwest::header::HeaderValue;
use taskpoll::{SchedulerCell, VisibilityGrace};
use taskpoll_http::{ConfigError, HttpSettings, Secret, env_credential};

use crate::client::{Inner, RunwareClient};
use crate::error::RunwareError;

/// Runware's REST endpoint: every request is a POST to it.
pub const DEFAULT_BASE_URL: &str = "https://api.runware.ai/v1";

/// The environment variable [`RunwareClientBuilder::from_env`] reads the API key from.
pub const API_KEY_VAR: &str = "RUNWARE_API_KEY";

/// The default per-request timeout (Runware's own raw-REST integration uses 30 s).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The default number of `getResponse` objects in one batched POST.
pub const DEFAULT_MAX_BATCH: usize = 50;

/// How long, by default, a task Runware does not know (`taskFailedOrNotFound`, or an
/// answer that says nothing about it) is asked for again after a wait starts: right
/// after a submission, a poll may come before Runware shows the task.
pub const DEFAULT_VISIBILITY_GRACE: Duration = Duration::from_secs(5);

/// The default number of tasks a batched answer left out that are polled again alone
/// in the same fetch.
pub const DEFAULT_BATCH_FALLBACK: usize = 10;

/// Builds a [`RunwareClient`].
///
/// ```
/// use std::time::Duration;
/// use taskpoll_runware::RunwareClient;
///
/// let client = RunwareClient::builder("rw-key")
///     .request_timeout(Duration::from_secs(10))
///     .max_batch(20)
///     .build()?;
/// assert_eq!(client.base_url(), "https://api.runware.ai/v1");
/// assert!(client.batches_polls());
///
/// // One getResponse per POST, as Runware's own SDKs poll.
/// let unbatched = RunwareClient::builder("rw-key").max_batch(1).build()?;
/// assert!(!unbatched.batches_polls());
/// assert!(!format!("{client:?}").contains("rw-key"));
/// # Ok::<(), taskpoll_runware::RunwareError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RunwareClientBuilder {
    api_key: Secret,
    http: HttpSettings,
    max_batch: usize,
    batch_fallback: usize,
    visibility_grace: VisibilityGrace,
    submit_retries: u32,
    submit_retry_delay: Duration,
}

impl RunwareClientBuilder {
    pub(crate) fn new(api_key: Secret) -> Self {
        RunwareClientBuilder {
            api_key,
            http: HttpSettings::new(DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT),
            max_batch: DEFAULT_MAX_BATCH,
            batch_fallback: DEFAULT_BATCH_FALLBACK,
            visibility_grace: VisibilityGrace::for_duration(DEFAULT_VISIBILITY_GRACE),
            submit_retries: 3,
            submit_retry_delay: Duration::from_secs(1),
        }
    }

    /// A builder with the key in `RUNWARE_API_KEY` (the variable the `taskpoll`
    /// command reads) and the defaults. A variable that is not set (or empty) is
    /// [`RunwareError::Config`] naming it.
    pub fn from_env() -> Result<Self, RunwareError> {
        Ok(RunwareClientBuilder::new(env_credential(API_KEY_VAR)?))
    }

    taskpoll_http::http_settings_methods!();

    /// The most `getResponse` objects one POST carries (default 50, at least 1).
    ///
    /// Several `getResponse` objects in one POST rely on Runware's documented array
    /// body (one or more task objects per request), but Runware does not document
    /// batching polls and none of its SDKs do it: they send one `getResponse` per
    /// POST. `max_batch(1)` does the same: batching off.
    pub fn max_batch(mut self, n: usize) -> Self {
        self.max_batch = n.max(1);
        self
    }

    /// How many tasks a batched answer said nothing about are polled again at once,
    /// each in a POST of its own, within the same fetch (default 10; 0: none). The
    /// others wait for the next round.
    pub fn batch_fallback_limit(mut self, n: usize) -> Self {
        self.batch_fallback = n;
        self
    }

    /// How long a task Runware does not know yet is asked for again after a wait
    /// starts (the first 5 s by default): right after a submission, a poll may come
    /// before Runware shows the task, and answer `taskFailedOrNotFound` (or nothing
    /// about it). Past the grace the wait ends with
    /// [`RunwareError::TaskNotFound`]. A task an earlier poll showed is never given
    /// a grace. [`VisibilityGrace::none`] ends the wait at the first such answer.
    pub fn visibility_grace(mut self, grace: VisibilityGrace) -> Self {
        self.visibility_grace = grace;
        self
    }

    /// How many times a submission is retried after a transient failure (default 3,
    /// like Runware's SDKs). The retry reuses the `taskUUID`, so a first attempt that
    /// was accepted answers `conflictTaskUUID`, which counts as accepted.
    pub fn submit_retries(mut self, retries: u32) -> Self {
        self.submit_retries = retries;
        self
    }

    /// The first delay between submission attempts (default 1 s, doubling each time,
    /// at most 30 s, and at least any `Retry-After`).
    pub fn submit_retry_delay(mut self, delay: Duration) -> Self {
        self.submit_retry_delay = delay;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<RunwareClient, RunwareError> {
        if self.api_key.expose().trim().is_empty() {
            return Err(ConfigError::MissingCredential { name: "api_key" }.into());
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.api_key.expose()))
            .map_err(|_| {
                RunwareError::InvalidRequest(
                    "the API key contains characters that cannot be sent in an HTTP header".into(),
                )
            })?;
        auth.set_sensitive(true);
        let agent = concat!("taskpoll-runware/", env!("CARGO_PKG_VERSION"));
        let c = self.http.connect(agent)?;
        let limits = self.http.budget.unwrap_or_default();
        let budget = self.http.budget_for("runware", &self.api_key, &limits);
        Ok(RunwareClient::from_inner(Inner {
            http: c.client,
            base: c.base,
            api_key: self.api_key,
            auth,
            max_response_bytes: c.max_response_bytes,
            max_batch: self.max_batch,
            batch_fallback: self.batch_fallback,
            visibility_grace: self.visibility_grace,
            submit_retries: self.submit_retries,
            submit_retry_delay: self.submit_retry_delay,
            limits,
            budget,
            scheduler: SchedulerCell::new(),
        }))
    }
}
