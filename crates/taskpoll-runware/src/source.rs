//! [`RunwareSource`]: Runware's `getResponse` as a [`TaskSource`] and a
//! [`BatchTaskSource`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use taskpoll::strategy::Exponential;
use taskpoll::{BatchEntry, BatchTaskSource, ErrorClass, PollPolicy, SourcePhase, TaskSource};

use crate::answer::{Answer, read_poll};
use crate::classify::{self, RunwarePhase};
use crate::client::RunwareClient;
use crate::error::RunwareError;
use crate::models::Envelope;
use crate::task::{
    RunwareFailure, RunwareOutput, RunwareResult, RunwareStatus, RunwareTaskId, TaskKind,
};

/// How many tasks' result orders are remembered (the oldest is forgotten first).
const ORDER_MEMORY: usize = 4096;

/// The order in which each task's results were first seen, so that partial results
/// stay in a stable order even when a later result finishes before an earlier one.
#[derive(Debug, Default)]
struct Orders {
    tasks: HashMap<String, (u64, Vec<String>)>,
    next: u64,
}

impl Orders {
    /// Adds newly seen keys; returns the task's order. Forgets the task when `done`.
    fn update(
        &mut self,
        uuid: &str,
        keys: impl Iterator<Item = String>,
        done: bool,
    ) -> Vec<String> {
        let uuid = uuid.to_ascii_lowercase();
        self.next += 1;
        let seq = self.next;
        let entry = self
            .tasks
            .entry(uuid.clone())
            .or_insert_with(|| (seq, Vec::new()));
        entry.0 = seq;
        for key in keys {
            if !entry.1.contains(&key) {
                entry.1.push(key);
            }
        }
        let order = if done {
            self.tasks.remove(&uuid).map(|(_, o)| o).unwrap_or_default()
        } else {
            entry.1.clone()
        };
        if self.tasks.len() > ORDER_MEMORY
            && let Some(oldest) = self
                .tasks
                .iter()
                .min_by_key(|(_, (s, _))| *s)
                .map(|(k, _)| k.clone())
        {
            self.tasks.remove(&oldest);
        }
        order
    }
}

/// Waits on Runware tasks through `getResponse`.
///
/// - The task id ([`RunwareTaskId`]) carries the number of results expected.
/// - Each poll reads the task's items (see the crate docs for the rules): running
///   with the results finished so far as partials, in the order first seen;
///   succeeded once all expected results are in; failed on any error for the task,
///   keeping the finished results.
/// - A task Runware does not know (`taskFailedOrNotFound`, `*NotFound`, `*Expired`)
///   is a [`RunwareError::TaskNotFound`] fetch error (not a failure: whether it ran
///   cannot be told).
/// - Defaults like Runware's SDKs: a first poll after 3 s for video, 1 s otherwise,
///   then 0.5 s growing ×1.5 to 10 s, and a 20 minute deadline.
#[derive(Debug, Clone)]
pub struct RunwareSource {
    client: RunwareClient,
    orders: Arc<Mutex<Orders>>,
}

/// The first poll's delay for videos (they take longest to start).
pub const VIDEO_INITIAL_DELAY: Duration = Duration::from_secs(3);
/// The first poll's delay for images and other tasks.
pub const IMAGE_INITIAL_DELAY: Duration = Duration::from_secs(1);

impl RunwareSource {
    /// A source polling through `client`.
    pub fn new(client: RunwareClient) -> Self {
        RunwareSource {
            client,
            orders: Arc::new(Mutex::new(Orders::default())),
        }
    }

    /// The client.
    pub fn client(&self) -> &RunwareClient {
        &self.client
    }

    /// Runware's default poll settings: 0.5 s growing ×1.5 up to 10 s (no jitter,
    /// as the SDKs), a 20 minute deadline, the first poll delayed per task
    /// ([`initial_delay`](TaskSource::initial_delay)), no grace for unknown tasks.
    pub fn runware_policy() -> PollPolicy {
        PollPolicy::with_strategy(Exponential::new(
            Duration::from_millis(500),
            1.5,
            Duration::from_secs(10),
        ))
        .deadline(Duration::from_secs(20 * 60))
    }

    /// The part of `answer` about `id` (see [`read_poll`]), with the order in which
    /// the task's results were first seen.
    fn entry(&self, answer: &Answer, id: &RunwareTaskId, single: bool) -> BatchEntry<Self> {
        let entry = read_poll(answer, id, single)?;
        Some(entry.map(|mut status| {
            let reading = classify::read(&status.envelope, id);
            let done = reading.is_terminal(id);
            status.order = self
                .orders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .update(
                    &id.uuid,
                    reading.results.iter().map(|r| r.key().to_owned()),
                    done,
                );
            status
        }))
    }
}

#[async_trait]
impl TaskSource for RunwareSource {
    type Id = RunwareTaskId;
    type Status = RunwareStatus;
    type Output = RunwareOutput;
    type Partial = RunwareResult;
    type Failure = RunwareFailure;
    type Error = RunwareError;

    async fn fetch(&self, id: &RunwareTaskId) -> Result<RunwareStatus, RunwareError> {
        let mut entries = self.fetch_batch(std::slice::from_ref(id)).await?;
        match entries.pop().flatten() {
            Some(entry) => entry,
            // Not mentioned at all (`{"data": []}`): nothing has started yet.
            None => Ok(RunwareStatus::new(id.clone(), Envelope::default())),
        }
    }

    fn classify(&self, status: RunwareStatus) -> SourcePhase<Self> {
        classify::classify(status)
    }

    fn error_class(&self, error: &RunwareError) -> ErrorClass {
        error.class()
    }

    fn name(&self) -> &str {
        "runware"
    }

    fn default_policy(&self) -> PollPolicy {
        RunwareSource::runware_policy()
    }

    /// 3 s for video (as Runware's older SDK waited for video, 3D and training), 1 s
    /// for images and anything else (as the current SDKs wait before every first poll).
    fn initial_delay(&self, id: &RunwareTaskId) -> Duration {
        match id.kind {
            TaskKind::Video => VIDEO_INITIAL_DELAY,
            TaskKind::Image | TaskKind::Other => IMAGE_INITIAL_DELAY,
        }
    }

    fn terminal_partials(&self, phase: &RunwarePhase) -> Vec<RunwareResult> {
        classify::terminal_results(phase)
    }
}

#[async_trait]
impl BatchTaskSource for RunwareSource {
    fn max_batch(&self) -> usize {
        self.client.max_batch()
    }

    /// One POST with a `getResponse` object per distinct task (several POSTs of at
    /// most [`max_batch`](BatchTaskSource::max_batch) when there are more). A task the
    /// answer does not mention is `None` (polled again); a failed POST fails them all.
    async fn fetch_batch(
        &self,
        ids: &[RunwareTaskId],
    ) -> Result<Vec<BatchEntry<Self>>, RunwareError> {
        let mut uuids: Vec<&str> = Vec::new();
        for id in ids {
            if !uuids.iter().any(|u| u.eq_ignore_ascii_case(&id.uuid)) {
                uuids.push(&id.uuid);
            }
        }
        let single = uuids.len() == 1;
        let mut answers = Vec::new();
        for chunk in uuids.chunks(self.max_batch().max(1)) {
            let answer = self.client.poll(chunk).await?;
            answers.push((chunk, answer));
        }
        Ok(ids
            .iter()
            .map(|id| {
                answers
                    .iter()
                    .find(|(chunk, _)| chunk.iter().any(|u| u.eq_ignore_ascii_case(&id.uuid)))
                    .and_then(|(_, answer)| self.entry(answer, id, single))
            })
            .collect())
    }
}
