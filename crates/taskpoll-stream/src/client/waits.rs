//! The client's source, the scheduler it shares with every clone of the client, its
//! poller, and the waits made from them.

use std::sync::Arc;
use std::time::Duration;

use taskpoll::strategy::Fixed;
use taskpoll::{Poller, Scheduler};

use super::StreamClient;
use crate::StreamWaitError;
use crate::source::{DEFAULT_POLL_INTERVAL, StreamOutput, StreamSource};

impl StreamClient {
    /// The [`TaskSource`](taskpoll::TaskSource) over this client.
    pub fn source(&self) -> StreamSource {
        StreamSource::new(self.clone())
    }

    /// The scheduler every wait made from this client and its clones goes through: one
    /// request budget (and one pause after a 429) for all of them.
    pub fn scheduler(&self) -> Scheduler<StreamSource> {
        self.inner.scheduler.get_or_init(|| {
            Scheduler::builder(self.source())
                .budget(self.inner.limits)
                .request_budget(Arc::clone(&self.inner.budget))
                .build()
        })
    }

    /// A poller with Stream's SDK defaults (first poll at once, then every 1 s, for at
    /// most 60 s) on the client's [`scheduler`](StreamClient::scheduler). Change them
    /// with [`Poller::configure`].
    pub fn poller(&self) -> Poller<StreamSource> {
        self.scheduler().poller()
    }

    /// Waits for a task like Stream's SDKs' `wait_for_task`: polls at once and then every
    /// second for 60 s. Returns the task's `result` (and the whole response) once it is
    /// `completed`; a [`WaitError`](taskpoll::WaitError) of kind `failed` with Stream's
    /// error fields once it is `failed`; of kind `timed_out` (the task may still be
    /// running) after 60 s; of kind `fetch` when the status cannot be fetched.
    pub async fn wait_for_task(&self, id: &str) -> Result<StreamOutput, StreamWaitError> {
        self.poller().wait(id.to_owned()).await
    }

    /// [`wait_for_task`](StreamClient::wait_for_task) with another poll interval and
    /// timeout. A zero interval means the 1 s default (as in the Go and .NET SDKs); a
    /// zero timeout allows one poll.
    pub async fn wait_for_task_with(
        &self,
        id: &str,
        interval: Duration,
        timeout: Duration,
    ) -> Result<StreamOutput, StreamWaitError> {
        let interval = if interval.is_zero() {
            DEFAULT_POLL_INTERVAL
        } else {
            interval
        };
        self.poller()
            .configure(|p| p.interval(Fixed::new(interval)).deadline(timeout))
            .wait(id.to_owned())
            .await
    }
}
