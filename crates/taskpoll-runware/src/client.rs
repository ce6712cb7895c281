//! [`RunwareClient`]: the HTTP client, async submissions and `getResponse`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::{Map, Value, json};
use taskpoll::{
    Budget, Poller, RequestBudget, Scheduler, SchedulerCell, VisibilityGrace, WaitResult,
};
use taskpoll_http::exchange::{ExchangeError, send};
use taskpoll_http::{BaseUrl, Secret};

use crate::config::RunwareClientBuilder;
use crate::decode::{self, Answer};
use crate::error::RunwareError;
use crate::models::Envelope;
use crate::request::{self, AsyncTask, ImageInference, VideoInference};
use crate::source::RunwareSource;
use crate::task::{RunwareTaskId, TaskKind};

/// How far ahead a `getResponse` POST looks for waits to take along.
const COALESCE_WINDOW: Duration = Duration::from_millis(100);

pub(crate) struct Inner {
    pub(crate) http: taskpoll_http::HttpClient,
    pub(crate) base: BaseUrl,
    pub(crate) api_key: Secret,
    pub(crate) auth: HeaderValue,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_batch: usize,
    pub(crate) batch_fallback: usize,
    pub(crate) visibility_grace: VisibilityGrace,
    pub(crate) submit_retries: u32,
    pub(crate) submit_retry_delay: Duration,
    /// The limits of every wait made from the client.
    pub(crate) limits: Budget,
    /// The request budget, shared by every client on the same key and limit.
    pub(crate) budget: Arc<dyn RequestBudget>,
    /// The one scheduler every poller of the client and its clones shares.
    pub(crate) scheduler: SchedulerCell<RunwareSource>,
}

/// A Runware REST client: async submissions, `getResponse`, and a
/// [`TaskSource`](taskpoll::TaskSource) to wait on tasks with. Cheap to clone.
///
/// The API key is sent as `Authorization: Bearer <key>` and never shows in `Debug`,
/// `Display` or errors.
#[derive(Clone)]
pub struct RunwareClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for RunwareClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunwareClient")
            .field("base_url", &self.inner.base)
            .field("api_key", &self.inner.api_key)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .field("max_batch", &self.inner.max_batch)
            .field("batch_fallback", &self.inner.batch_fallback)
            .field("visibility_grace", &self.inner.visibility_grace)
            .finish()
    }
}

impl RunwareClient {
    /// A builder with `api_key` and the defaults.
    pub fn builder(api_key: impl Into<Secret>) -> RunwareClientBuilder {
        RunwareClientBuilder::new(api_key.into())
    }

    /// A client for the production endpoint with the defaults.
    pub fn new(api_key: impl Into<Secret>) -> Result<Self, RunwareError> {
        RunwareClient::builder(api_key).build()
    }

    /// A client for the production endpoint with the key in `RUNWARE_API_KEY`, the
    /// variable the `taskpoll` command reads. A variable that is not set is an error
    /// naming it. [`RunwareClientBuilder::from_env`] to change other settings.
    pub fn from_env() -> Result<Self, RunwareError> {
        RunwareClientBuilder::from_env()?.build()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        RunwareClient {
            inner: Arc::new(inner),
        }
    }

    /// The endpoint requests go to.
    pub fn base_url(&self) -> String {
        self.inner.base.to_string()
    }

    /// The most `getResponse` objects one POST carries.
    pub fn max_batch(&self) -> usize {
        self.inner.max_batch
    }

    /// Whether polls of several tasks share a POST (`max_batch` above 1).
    pub fn batches_polls(&self) -> bool {
        self.inner.max_batch > 1
    }

    /// How many tasks a batched answer left out are polled again alone in the same
    /// fetch.
    pub fn batch_fallback_limit(&self) -> usize {
        self.inner.batch_fallback
    }

    /// How long a task Runware does not know yet is asked for again after a wait
    /// starts (see [`RunwareClientBuilder::visibility_grace`]).
    pub fn visibility_grace(&self) -> VisibilityGrace {
        self.inner.visibility_grace
    }

    /// Submits a `videoInference` task with `deliveryMethod: "async"`.
    pub async fn submit_video(&self, task: VideoInference) -> Result<RunwareTaskId, RunwareError> {
        self.submit(task.async_task()?).await
    }

    /// Submits an `imageInference` task with `deliveryMethod: "async"`.
    pub async fn submit_image(&self, task: ImageInference) -> Result<RunwareTaskId, RunwareError> {
        self.submit(task.async_task()?).await
    }

    /// Submits any other task type with `deliveryMethod: "async"`, a fresh
    /// `taskUUID` and `numberResults`; `params` are its other parameters.
    ///
    /// Audio (`audioInference`: results with `audioUUID`/`audioURL`), upscale and
    /// background removal (`upscale`, `removeBackground`: `mediaUUID`/`mediaURL`, or
    /// `imageUUID`/`imageURL`), model uploads (`modelUpload`: done at `ready`), and
    /// any other type. `upscale`, `removeBackground` and `modelUpload` take no
    /// `numberResults`: it is not sent for them, and `number_results` must be 1.
    ///
    /// ```no_run
    /// # async fn run(client: taskpoll_runware::RunwareClient) -> Result<(), taskpoll_runware::RunwareError> {
    /// let mut params = serde_json::Map::new();
    /// params.insert("inputs".into(), serde_json::json!({"image": "https://example.com/photo.png"}));
    /// let id = client.submit_async("removeBackground", params, 1).await?;
    /// if let Ok(output) = client.poller().wait(id).await {
    ///     println!("{output}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn submit_async(
        &self,
        task_type: &str,
        params: Map<String, Value>,
        number_results: u32,
    ) -> Result<RunwareTaskId, RunwareError> {
        self.submit(request::async_task(
            task_type,
            params,
            number_results,
            None,
        )?)
        .await
    }

    /// Sends a submission, retrying transient failures with the same `taskUUID`. An
    /// answer of `conflictTaskUUID` for it (a task with this UUID exists: an earlier
    /// attempt went through) counts as accepted.
    async fn submit(&self, task: AsyncTask) -> Result<RunwareTaskId, RunwareError> {
        let body = [Value::Object(task.object.clone())];
        let mut attempt: u32 = 0;
        loop {
            let answer = self.post(&body).await;
            match answer.and_then(|a| decode::read_submission(&a, &task.uuid, &task.task_type)) {
                Ok(()) => {
                    return Ok(RunwareTaskId {
                        uuid: task.uuid,
                        expected_results: task.number_results,
                        kind: TaskKind::of_task_type(&task.task_type),
                    });
                }
                Err(e) if e.is_transient() && attempt < self.inner.submit_retries => {
                    let backoff = self
                        .inner
                        .submit_retry_delay
                        .saturating_mul(2u32.saturating_pow(attempt))
                        .min(Duration::from_secs(30));
                    let wait = backoff.max(
                        e.retry_after()
                            .unwrap_or_default()
                            .min(Duration::from_secs(60)),
                    );
                    tracing::info!(
                        task_uuid = task.uuid.as_str(),
                        attempt = attempt + 1,
                        delay_ms = wait.as_millis() as u64,
                        error = %e,
                        "submission failed; retrying with the same taskUUID"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One `getResponse` for task `uuid`: the envelope as Runware sent it (task
    /// failures and unknown-task answers are in its errors).
    pub async fn get_response(&self, uuid: &str) -> Result<Envelope, RunwareError> {
        self.get_responses(&[uuid]).await
    }

    /// Several `getResponse` objects in one POST; the answer holds the union of the
    /// tasks' items, told apart by `taskUUID`.
    pub async fn get_responses(&self, uuids: &[&str]) -> Result<Envelope, RunwareError> {
        Ok(self.poll(uuids).await?.envelope)
    }

    pub(crate) async fn poll(&self, uuids: &[&str]) -> Result<Answer, RunwareError> {
        if uuids.is_empty() {
            return Err(RunwareError::InvalidRequest("no task UUID to poll".into()));
        }
        let mut body = Vec::with_capacity(uuids.len());
        for uuid in uuids {
            if uuid::Uuid::parse_str(uuid).is_err() {
                return Err(RunwareError::InvalidRequest(format!(
                    "task id {uuid:?} is not a UUID: Runware's taskUUIDs are UUIDs"
                )));
            }
            body.push(json!({"taskType": "getResponse", "taskUUID": uuid}));
        }
        self.post(&body).await
    }

    /// A source to wait on this client's tasks with.
    pub fn source(&self) -> RunwareSource {
        RunwareSource::new(self.clone())
    }

    /// The scheduler every wait made from this client and its clones goes through:
    /// waits due together share one `getResponse` POST (up to
    /// [`max_batch`](RunwareClient::max_batch) tasks; each its own POST with
    /// `max_batch(1)`), and all draw from one budget.
    pub fn scheduler(&self) -> Scheduler<RunwareSource> {
        self.inner.scheduler.get_or_init(|| {
            Scheduler::builder(self.source())
                .budget(self.inner.limits)
                .request_budget(Arc::clone(&self.inner.budget))
                .batched(COALESCE_WINDOW, None)
                .build()
        })
    }

    /// The request budget every wait of this client (and every client on the same key
    /// and limit in the process) draws from.
    pub fn request_budget(&self) -> &dyn RequestBudget {
        &*self.inner.budget
    }

    /// A poller with Runware's defaults (see [`RunwareSource`]) on the client's
    /// [`scheduler`](RunwareClient::scheduler).
    pub fn poller(&self) -> Poller<RunwareSource> {
        self.scheduler().poller()
    }

    /// Waits for a task with Runware's defaults.
    pub async fn wait_for_task(&self, id: RunwareTaskId) -> WaitResult<RunwareSource> {
        self.poller().wait(id).await
    }

    /// POSTs a task array and reads the answer.
    async fn post(&self, tasks: &[Value]) -> Result<Answer, RunwareError> {
        let body = serde_json::to_vec(tasks).map_err(request::unserializable)?;
        let request = self
            .inner
            .http
            .post(self.inner.base.as_url().clone())
            .header(AUTHORIZATION, self.inner.auth.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let answer = send(request, self.inner.max_response_bytes)
            .await
            .map_err(|e| match e {
                ExchangeError::Transport(t) => RunwareError::Transport(t),
                ExchangeError::TooLarge { cap, .. } => RunwareError::TooLarge { cap },
            })?;
        let retry_after = answer.retry_after(SystemTime::now());
        // Nothing read from the answer (errors, failures, results) can carry the key.
        let answer = answer.redact(&[&self.inner.api_key]);
        decode::read_body(answer.code(), retry_after, &answer.body_or_note())
    }
}
