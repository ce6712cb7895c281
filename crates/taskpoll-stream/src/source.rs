//! [`StreamSource`]: Stream's task statuses as taskpoll phases.

use std::time::Duration;

use async_trait::async_trait;
use taskpoll::strategy::Fixed;
use taskpoll::{ErrorClass, Phase, PollPolicy, Progress, RateLimitHint, SourcePhase, TaskSource};

use crate::client::StreamClient;
use crate::error::StreamError;
use crate::models::TaskResponse;
use crate::outcome::{ItemsFailed, StreamFailure, StreamOutput, StreamTaskFailure};

/// The SDKs' poll interval: 1 s, fixed.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The SDKs' wait timeout: 60 s.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Stream's tasks as a [`TaskSource`]: one `GET /api/v2/tasks/{id}` per poll.
///
/// | `status` (any case) | Phase |
/// |---|---|
/// | `waiting`, `pending` | `Pending` |
/// | `running` | `Running` |
/// | `completed` | `Succeeded(StreamOutput { result, task })` |
/// | `completed` with a per-item `result` in which an item failed | `Failed(StreamFailure::Items)` |
/// | `failed`, `error` | `Failed(StreamFailure::Task)` |
/// | anything else | `Running`, marked unrecognized (logged, shown in watch updates) |
///
/// The status word is kept as Stream spelled it.
#[derive(Debug, Clone)]
pub struct StreamSource {
    client: StreamClient,
}

impl StreamSource {
    /// A source over `client`.
    pub fn new(client: StreamClient) -> Self {
        StreamSource { client }
    }

    /// The client.
    pub fn client(&self) -> &StreamClient {
        &self.client
    }
}

/// Reads one status response (see [`StreamSource`]).
pub(crate) fn classify(task: TaskResponse) -> SourcePhase<StreamSource> {
    let word = task.status.to_ascii_lowercase();
    match word.as_str() {
        "waiting" | "pending" => Phase::Pending(Progress::new(task.status)),
        "running" => Phase::Running(Progress::new(task.status)),
        // A delete reports each item in `result`; one that failed fails the wait.
        "completed" => match ItemsFailed::from_task(&task) {
            Some(failed) => Phase::Failed(StreamFailure::Items(failed)),
            None => Phase::Succeeded(StreamOutput {
                result: task.result.clone().unwrap_or_default(),
                task,
            }),
        },
        "failed" | "error" => Phase::Failed(StreamTaskFailure::from_task(&task).into()),
        _ => Phase::Running(Progress::new(task.status).unrecognized()),
    }
}

#[async_trait]
impl TaskSource for StreamSource {
    type Id = String;
    type Status = TaskResponse;
    type Output = StreamOutput;
    type Partial = ();
    type Failure = StreamFailure;
    type Error = StreamError;

    async fn fetch(&self, id: &String) -> Result<TaskResponse, StreamError> {
        self.client.get_task(id).await
    }

    fn classify(&self, status: TaskResponse) -> SourcePhase<Self> {
        classify(status)
    }

    fn error_class(&self, error: &StreamError) -> ErrorClass {
        error.class()
    }

    fn name(&self) -> &str {
        "stream"
    }

    /// Stream's SDKs' defaults: the first poll at once, then every 1 s (fixed, no
    /// jitter), a 60 s deadline. Transient errors are retried under the core's default
    /// retry policy (the SDKs stop at the first error).
    fn default_policy(&self) -> PollPolicy {
        PollPolicy::with_strategy(Fixed::new(DEFAULT_POLL_INTERVAL))
            .initial_delay(Duration::ZERO)
            .deadline(DEFAULT_WAIT_TIMEOUT)
    }

    fn rate_limit(&self) -> Option<RateLimitHint> {
        self.client.rate_limit_hint()
    }
}
