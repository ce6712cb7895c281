//! [`RunwareSource`]: Runware's `getResponse` as a [`TaskSource`] and a
//! [`BatchTaskSource`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;
use taskpoll::strategy::Exponential;
use taskpoll::{
    BatchEntry, BatchTaskSource, ErrorClass, PollPolicy, SourcePhase, TaskSource, VisibilityGrace,
};

use crate::answer::{Answer, read_poll};
use crate::classify::{self, RunwarePhase};
use crate::client::RunwareClient;
use crate::config::DEFAULT_VISIBILITY_GRACE;
use crate::error::RunwareError;
use crate::task::{
    RunwareFailure, RunwareOutput, RunwareResult, RunwareStatus, RunwareTaskId, TaskKind,
};

/// How many tasks' result orders are remembered (the oldest is forgotten first).
const ORDER_MEMORY: usize = 4096;

/// The tasks a poll has shown and not yet ended, each with the order in which its
/// results were first seen, so that partial results stay in a stable order even when
/// a later result finishes before an earlier one. A task in it is known to exist: if
/// Runware later says it does not know it, the task is gone, not "not yet visible".
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

    /// Forgets a task; whether it was known.
    fn forget(&mut self, uuid: &str) -> bool {
        self.tasks.remove(&uuid.to_ascii_lowercase()).is_some()
    }
}

/// Runs `futures` together; their outputs, in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
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
///   cannot be told), and an answer that says nothing about a task polled alone is a
///   [`RunwareError::Unanswered`] one. Until a poll has shown the task, both are
///   "not yet visible": asked for again within the visibility grace (the client's
///   [`visibility_grace`](crate::RunwareClientBuilder::visibility_grace), 5 s by
///   default), then the end of the wait. Once a poll has shown it, they end the wait
///   at once.
/// - Defaults like Runware's SDKs: a first poll after 3 s for video, 1 s otherwise,
///   then 0.5 s growing ×1.5 to 10 s, and a 20 minute deadline.
#[derive(Debug, Clone)]
pub struct RunwareSource {
    client: RunwareClient,
    orders: Arc<Mutex<Orders>>,
    /// Where the next batch fetch starts picking tasks to poll alone, so that no task
    /// a server keeps leaving out waits behind the others round after round.
    fallback_cursor: Arc<AtomicUsize>,
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
            fallback_cursor: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The client.
    pub fn client(&self) -> &RunwareClient {
        &self.client
    }

    /// Runware's default poll settings: 0.5 s growing ×1.5 up to 10 s (no jitter,
    /// as the SDKs), a 20 minute deadline, the first poll delayed per task
    /// ([`initial_delay`](TaskSource::initial_delay)), and unknown tasks asked for
    /// again during the first 5 s of a wait
    /// ([`DEFAULT_VISIBILITY_GRACE`](crate::DEFAULT_VISIBILITY_GRACE)).
    pub fn runware_policy() -> PollPolicy {
        PollPolicy::with_strategy(Exponential::new(
            Duration::from_millis(500),
            1.5,
            Duration::from_secs(10),
        ))
        .deadline(Duration::from_secs(20 * 60))
        .visibility(VisibilityGrace::for_duration(DEFAULT_VISIBILITY_GRACE))
    }

    fn orders(&self) -> std::sync::MutexGuard<'_, Orders> {
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The part of `answer` about `id` (see [`read_poll`]), with the order in which
    /// the task's results were first seen. `single`: the POST polled only this task,
    /// so an answer saying nothing about it is [`RunwareError::Unanswered`]; in a
    /// batch it is `None`.
    fn entry(&self, answer: &Answer, id: &RunwareTaskId, single: bool) -> BatchEntry<Self> {
        let entry = match read_poll(answer, id, single) {
            Some(entry) => entry,
            None if single => Err(RunwareError::Unanswered {
                task_uuid: id.uuid.clone(),
                status: answer.status,
                seen: false,
            }),
            None => return None,
        };
        Some(match entry {
            Ok(mut status) => {
                let reading = classify::read(&status.envelope, id);
                let done = reading.is_terminal(id);
                status.order = self.orders().update(
                    &id.uuid,
                    reading.results.iter().map(|r| r.key().to_owned()),
                    done,
                );
                Ok(status)
            }
            // A task an earlier poll showed is gone, not "not yet visible".
            Err(e) if e.is_unknown_task() => {
                let seen = self.orders().forget(&id.uuid);
                Err(e.seen(seen))
            }
            Err(e) => Err(e),
        })
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
        let answer = self.client.poll(&[id.uuid.as_str()]).await?;
        match self.entry(&answer, id, true) {
            Some(entry) => entry,
            // A lone poll always has an entry (`Unanswered` at worst).
            None => Err(RunwareError::Unanswered {
                task_uuid: id.uuid.clone(),
                status: answer.status,
                seen: false,
            }),
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

    /// [`runware_policy`](RunwareSource::runware_policy) with the client's
    /// visibility grace.
    fn default_policy(&self) -> PollPolicy {
        RunwareSource::runware_policy().visibility(self.client.visibility_grace())
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
    /// most [`max_batch`](BatchTaskSource::max_batch) when there are more; one POST
    /// per task with `max_batch(1)`). A failed POST fails every task in it.
    ///
    /// A task a batched answer says nothing about is polled again at once in a POST of
    /// its own (at most the client's
    /// [`batch_fallback_limit`](crate::RunwareClientBuilder::batch_fallback_limit)
    /// tasks per call, concurrently): its lone answer is its entry, so a task Runware
    /// does not show is read as unknown rather than skipped silently. Past the limit a
    /// task is left unanswered (`None`) and polled again in a later round; the tasks
    /// polled alone take turns from one call to the next.
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
        let mut answers = Vec::new();
        for (i, chunk) in uuids.chunks(self.max_batch().max(1)).enumerate() {
            // The scheduler granted the first POST; any other draws on the budget too.
            let answer = if i == 0 {
                self.client.poll(chunk).await?
            } else {
                taskpoll_http::spend(self.client.request_budget(), self.client.poll(chunk)).await?
            };
            answers.push((chunk, answer));
        }
        let mut entries: Vec<BatchEntry<Self>> = ids
            .iter()
            .map(|id| {
                answers
                    .iter()
                    .find(|(chunk, _)| chunk.iter().any(|u| u.eq_ignore_ascii_case(&id.uuid)))
                    .and_then(|(chunk, answer)| self.entry(answer, id, chunk.len() == 1))
            })
            .collect();

        // The tasks the batched answers left out, polled again alone.
        let mut left_out: Vec<&str> = Vec::new();
        for (id, entry) in ids.iter().zip(&entries) {
            if entry.is_none() && !left_out.iter().any(|u| u.eq_ignore_ascii_case(&id.uuid)) {
                left_out.push(&id.uuid);
            }
        }
        let limit = self.client.batch_fallback_limit();
        if left_out.is_empty() || limit == 0 {
            return Ok(entries);
        }
        if left_out.len() > limit {
            tracing::debug!(
                left_out = left_out.len(),
                limit,
                "a batched getResponse answer left tasks out; polling some alone, the rest later"
            );
            // Take turns: each call starts where the last one stopped.
            let start = self.fallback_cursor.fetch_add(limit, Ordering::Relaxed);
            let len = left_out.len();
            left_out.rotate_left(start % len);
            left_out.truncate(limit);
        } else {
            tracing::debug!(
                left_out = left_out.len(),
                "a batched getResponse answer left tasks out; polling them alone"
            );
        }
        let alone = join_all(
            left_out
                .iter()
                .map(|uuid| {
                    // Beyond the POST the scheduler granted: each draws on the budget.
                    taskpoll_http::spend(
                        self.client.request_budget(),
                        self.client.poll(std::slice::from_ref(uuid)),
                    )
                })
                .collect(),
        )
        .await;
        for (id, entry) in ids.iter().zip(entries.iter_mut()) {
            if entry.is_some() {
                continue;
            }
            let Some(i) = left_out
                .iter()
                .position(|u| u.eq_ignore_ascii_case(&id.uuid))
            else {
                continue;
            };
            *entry = match alone.get(i) {
                Some(Ok(answer)) => self.entry(answer, id, true),
                Some(Err(e)) => Some(Err(e.clone())),
                None => None,
            };
        }
        Ok(entries)
    }
}
