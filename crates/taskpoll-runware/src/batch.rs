//! Polling several Runware tasks in one `getResponse` POST: [`RunwareSource`] as a
//! [`BatchTaskSource`], and the memory of each task's results that keeps partial
//! results in a stable order.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use taskpoll::{BatchEntry, BatchTaskSource};

use crate::decode::read;
use crate::decode::{Answer, read_poll};
use crate::error::RunwareError;
use crate::source::RunwareSource;
use crate::task::RunwareTaskId;

/// How many tasks' result orders are remembered (the oldest is forgotten first).
const ORDER_MEMORY: usize = 4096;

/// The tasks a poll has shown and not yet ended, each with the order in which its
/// results were first seen, so that partial results stay in a stable order even when
/// a later result finishes before an earlier one. A task in it is known to exist: if
/// Runware later says it does not know it, the task is gone, not "not yet visible".
#[derive(Debug, Default)]
pub(crate) struct Orders {
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

impl RunwareSource {
    pub(crate) fn orders(&self) -> std::sync::MutexGuard<'_, Orders> {
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The part of `answer` about `id` (see [`read_poll`]), with the order in which
    /// the task's results were first seen. `single`: the POST polled only this task,
    /// so an answer saying nothing about it is [`RunwareError::Unanswered`]; in a
    /// batch it is `None`.
    pub(crate) fn entry(
        &self,
        answer: &Answer,
        id: &RunwareTaskId,
        single: bool,
    ) -> BatchEntry<Self> {
        let entry = match read_poll(answer, id, single) {
            Some(entry) => entry,
            None if single => Err(RunwareError::unanswered(&id.uuid, answer.status)),
            None => return None,
        };
        Some(match entry {
            Ok(mut status) => {
                let reading = read(&status.envelope, id);
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
        let alone: Vec<Result<Answer, RunwareError>> =
            futures_util::future::join_all(left_out.iter().map(|uuid| {
                // Beyond the POST the scheduler granted: each draws on the budget.
                taskpoll_http::spend(
                    self.client.request_budget(),
                    self.client.poll(std::slice::from_ref(uuid)),
                )
            }))
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
