//! Durable waits: enqueue, read a wait's state, read an outcome.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use taskpoll::PhaseSummary;

use crate::error::FleetError;
use crate::keys::check_task_id;
use crate::outcome::FleetOutcome;
use crate::scripts::ENQUEUE;
use crate::store::Fleet;

/// How many waits one enqueue script carries.
const ENQUEUE_CHUNK: usize = 500;

/// A wait to enqueue: the task id, anything the worker needs to poll it, and its
/// deadline.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WaitRequest {
    /// The task id, as the vendor's start call returned it: what the wait and its
    /// outcome are found by.
    pub task_id: String,
    /// What else the worker's [`WaitCodec`](crate::WaitCodec) needs to poll it (for
    /// Runware, `{"results": 4}`); `null` when nothing.
    pub params: Value,
    /// The wait's deadline, counted from its start; `None`: the worker's policy's.
    pub timeout: Option<Duration>,
    /// When the wait started (Unix ms); `None`: now, on the Redis server's clock. Set
    /// it to enqueue again a wait that was lost, with its original deadline.
    pub started_unix_ms: Option<u64>,
}

impl WaitRequest {
    /// A wait on `task_id` with the worker's deadline.
    pub fn new(task_id: impl Into<String>) -> Self {
        WaitRequest {
            task_id: task_id.into(),
            params: Value::Null,
            timeout: None,
            started_unix_ms: None,
        }
    }

    /// Sets what else the worker needs to poll the task.
    pub fn params(mut self, params: Value) -> Self {
        self.params = params;
        self
    }

    /// Sets the deadline, counted from the wait's start.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets when the wait started (Unix ms).
    pub fn started_at(mut self, unix_ms: u64) -> Self {
        self.started_unix_ms = Some(unix_ms);
        self
    }
}

/// What [`Fleet::enqueue`] did with one wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Enqueued {
    /// A new wait: a worker will claim it.
    New,
    /// A wait on that task id was already there: this one joins it (its deadline and
    /// params stay those of the first).
    Joined,
    /// The task's outcome is stored already: read it.
    Finished,
}

/// A wait's progress as workers write it down: enough to resume it elsewhere with its
/// original deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Progress {
    pub(crate) started_unix_ms: u64,
    pub(crate) deadline_unix_ms: Option<u64>,
    pub(crate) next_poll_unix_ms: u64,
    pub(crate) polls: u32,
    pub(crate) delays_used: u32,
    pub(crate) consecutive_transient: u32,
    pub(crate) not_visible: u32,
    pub(crate) partials_reported: usize,
    pub(crate) last_phase: Option<PhaseSummary>,
}

/// A wait as stored in Redis.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoredWait {
    /// The task id.
    pub task_id: String,
    /// What else the worker needs to poll it.
    pub params: Value,
    /// When it started (Unix ms).
    pub enqueued_unix_ms: u64,
    /// Its deadline (Unix ms), when the enqueuer set one.
    pub deadline_unix_ms: Option<u64>,
    /// Polls made so far, by every worker that held it.
    pub polls: u32,
    /// The last status seen.
    pub last_status: Option<String>,
    /// When its next poll is due (Unix ms).
    pub next_poll_unix_ms: Option<u64>,
    /// The worker holding it, if any.
    pub owner: Option<String>,
    pub(crate) progress: Option<Progress>,
}

/// Where a task's wait stands, from [`Fleet::wait_state`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WaitState {
    /// Neither a wait nor an outcome: never enqueued, or its outcome expired, or Redis
    /// lost it.
    Unknown,
    /// Being waited on.
    Waiting(StoredWait),
    /// Finished.
    Finished(FleetOutcome),
}

fn num(v: Option<&String>) -> Option<u64> {
    v.and_then(|s| s.parse().ok())
}

impl StoredWait {
    pub(crate) fn from_hash(fields: &HashMap<String, String>) -> Result<Self, FleetError> {
        let corrupt = |reason: &str| FleetError::Corrupt {
            what: "wait",
            reason: reason.to_owned(),
        };
        let task_id = fields
            .get("task_id")
            .cloned()
            .ok_or_else(|| corrupt("no task_id"))?;
        let params = match fields.get("params") {
            Some(p) => serde_json::from_str(p).map_err(|e| corrupt(&e.to_string()))?,
            None => Value::Null,
        };
        let progress = match fields.get("progress") {
            Some(p) if !p.is_empty() => {
                Some(serde_json::from_str(p).map_err(|e| corrupt(&e.to_string()))?)
            }
            _ => None,
        };
        Ok(StoredWait {
            task_id,
            params,
            enqueued_unix_ms: num(fields.get("enqueued_ms"))
                .ok_or_else(|| corrupt("no enqueued_ms"))?,
            deadline_unix_ms: num(fields.get("deadline_ms")),
            polls: num(fields.get("polls"))
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            last_status: fields.get("status").filter(|s| !s.is_empty()).cloned(),
            next_poll_unix_ms: num(fields.get("next_ms")),
            owner: fields.get("owner").cloned(),
            progress,
        })
    }
}

pub(crate) fn parse_outcome(text: &str) -> Result<FleetOutcome, FleetError> {
    serde_json::from_str(text).map_err(|e| FleetError::Corrupt {
        what: "outcome",
        reason: e.to_string(),
    })
}

impl Fleet {
    /// Enqueues waits on `vendor`'s tasks: each becomes a wait in Redis that a worker
    /// of that vendor claims and polls. A task id already waited on joins that wait;
    /// one whose outcome is stored is [`Enqueued::Finished`]. Returns, in order, what
    /// happened to each.
    pub async fn enqueue(
        &self,
        vendor: &str,
        waits: impl IntoIterator<Item = WaitRequest>,
    ) -> Result<Vec<Enqueued>, FleetError> {
        let keys = self.keys(vendor)?;
        let waits: Vec<WaitRequest> = waits.into_iter().collect();
        for w in &waits {
            check_task_id(&w.task_id)?;
        }
        let mut out = Vec::with_capacity(waits.len());
        for chunk in waits.chunks(ENQUEUE_CHUNK) {
            let mut inv = ENQUEUE.prepare_invoke();
            inv.arg(&keys.prefix);
            for w in chunk {
                let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
                let policy = serde_json::json!({
                    "timeout_ms": w.timeout.map(ms),
                    "deadline": if w.timeout.is_some() { "enqueuer" } else { "worker default" },
                });
                inv.arg(&w.task_id)
                    .arg(w.params.to_string())
                    .arg(w.timeout.map_or(-1, ms))
                    .arg(
                        w.started_unix_ms
                            .map_or(-1, |s| i64::try_from(s).unwrap_or(i64::MAX)),
                    )
                    .arg(policy.to_string());
            }
            let answers: Vec<String> = self.script("enqueuing waits", &inv).await?;
            if answers.len() != chunk.len() {
                return Err(FleetError::Corrupt {
                    what: "enqueue answer",
                    reason: format!("{} answers for {} waits", answers.len(), chunk.len()),
                });
            }
            out.extend(answers.iter().map(|a| match a.as_str() {
                "joined" => Enqueued::Joined,
                "finished" => Enqueued::Finished,
                _ => Enqueued::New,
            }));
        }
        Ok(out)
    }

    /// The stored outcome of `vendor`'s task, if it finished (and has not expired).
    pub async fn outcome(
        &self,
        vendor: &str,
        task_id: &str,
    ) -> Result<Option<FleetOutcome>, FleetError> {
        let keys = self.keys(vendor)?;
        let mut cmd = redis::cmd("GET");
        cmd.arg(keys.outcome(task_id));
        let text: Option<String> = self.query("reading an outcome", cmd).await?;
        text.as_deref().map(parse_outcome).transpose()
    }

    /// The stored outcomes of many tasks (`None` for those not finished), in order.
    pub async fn outcomes_of(
        &self,
        vendor: &str,
        task_ids: &[String],
    ) -> Result<Vec<Option<FleetOutcome>>, FleetError> {
        let keys = self.keys(vendor)?;
        let mut out = Vec::with_capacity(task_ids.len());
        for chunk in task_ids.chunks(1000) {
            let mut cmd = redis::cmd("MGET");
            for id in chunk {
                cmd.arg(keys.outcome(id));
            }
            let texts: Vec<Option<String>> = self.query("reading outcomes", cmd).await?;
            for t in texts {
                out.push(t.as_deref().map(parse_outcome).transpose()?);
            }
        }
        Ok(out)
    }

    /// Where `vendor`'s task stands: waiting (with its progress and holder), finished
    /// (with its outcome), or unknown.
    pub async fn wait_state(&self, vendor: &str, task_id: &str) -> Result<WaitState, FleetError> {
        if let Some(outcome) = self.outcome(vendor, task_id).await? {
            return Ok(WaitState::Finished(outcome));
        }
        let keys = self.keys(vendor)?;
        let mut cmd = redis::cmd("HGETALL");
        cmd.arg(keys.wait(task_id));
        let fields: HashMap<String, String> = self.query("reading a wait", cmd).await?;
        if fields.is_empty() {
            // It may have finished between the two reads.
            return Ok(match self.outcome(vendor, task_id).await? {
                Some(o) => WaitState::Finished(o),
                None => WaitState::Unknown,
            });
        }
        Ok(WaitState::Waiting(StoredWait::from_hash(&fields)?))
    }

    /// How many of `vendor`'s waits are waiting to be claimed, and how many workers
    /// hold a lease.
    pub async fn counts(&self, vendor: &str) -> Result<(u64, u64), FleetError> {
        let keys = self.keys(vendor)?;
        let mut due = redis::cmd("ZCARD");
        due.arg(keys.due());
        let mut workers = redis::cmd("ZCARD");
        workers.arg(keys.workers());
        Ok((
            self.query("counting waits", due).await?,
            self.query("counting workers", workers).await?,
        ))
    }
}
