//! [`ScriptedSource`]: the scripts, the record of every fetch, and the source.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::step::{Step, resolve};
use super::{ScriptError, ScriptFailure, ScriptStatus};
use crate::phase::{Phase, Progress};
use crate::policy::PollPolicy;
use crate::source::{BatchEntry, BatchTaskSource, ErrorClass, RateLimitHint, TaskSource};

#[derive(Debug)]
struct Script {
    steps: Vec<Step>,
    step: usize,
    used: u32,
}

impl Script {
    fn next(&mut self) -> Option<Step> {
        let current = self.steps.get(self.step)?.clone();
        self.used += 1;
        if self.used >= current.polls && self.step + 1 < self.steps.len() {
            self.step += 1;
            self.used = 0;
        }
        Some(current)
    }
}

#[derive(Debug, Default)]
struct Inner {
    scripts: HashMap<String, Script>,
    polls: Vec<(String, Instant)>,
    batches: Vec<Vec<String>>,
    in_flight: usize,
    max_in_flight: usize,
    rate_limit: Option<RateLimitHint>,
    injected: std::collections::VecDeque<ScriptError>,
}

/// A [`TaskSource`] (and [`BatchTaskSource`]) that answers from scripts. See the
/// [module docs](self).
#[derive(Debug)]
pub struct ScriptedSource {
    inner: Mutex<Inner>,
    policy: PollPolicy,
    max_batch: usize,
}

impl Default for ScriptedSource {
    fn default() -> Self {
        ScriptedSource::new()
    }
}

impl ScriptedSource {
    /// An empty source with [`PollPolicy::default`] and batches of up to 100 ids.
    pub fn new() -> Self {
        ScriptedSource {
            inner: Mutex::new(Inner::default()),
            policy: PollPolicy::default(),
            max_batch: 100,
        }
    }

    /// Sets the policy pollers over this source start from.
    pub fn with_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the largest batch.
    pub fn with_max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets the script of task `id` (replacing any earlier one).
    pub fn script(&self, id: impl Into<String>, steps: impl IntoIterator<Item = Step>) {
        let script = Script {
            steps: steps.into_iter().collect(),
            step: 0,
            used: 0,
        };
        self.lock().scripts.insert(id.into(), script);
    }

    /// The instants at which task `id` was fetched.
    pub fn polls(&self, id: &str) -> Vec<Instant> {
        self.lock()
            .polls
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, at)| *at)
            .collect()
    }

    /// The fetch instants of task `id`, as offsets from `origin`.
    pub fn poll_offsets(&self, id: &str, origin: Instant) -> Vec<Duration> {
        self.polls(id)
            .into_iter()
            .map(|at| at.saturating_duration_since(origin))
            .collect()
    }

    /// Fetches of every task (a batch counts each of its ids).
    pub fn total_polls(&self) -> usize {
        self.lock().polls.len()
    }

    /// The next fetches (of any task) fail with these errors, in order, before scripts
    /// answer again (a fault injected in front of the whole service).
    pub fn fail_next(&self, errors: impl IntoIterator<Item = ScriptError>) {
        self.lock().injected = errors.into_iter().collect();
    }

    /// Forgets errors queued by [`fail_next`](ScriptedSource::fail_next).
    pub fn clear_injected(&self) {
        self.lock().injected.clear();
    }

    /// Sets the rate-limit hint the source reports (as if from response headers).
    pub fn set_rate_limit(&self, hint: Option<RateLimitHint>) {
        self.lock().rate_limit = hint;
    }

    /// The most fetches that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// The ids of each batched request, in order.
    pub fn batches(&self) -> Vec<Vec<String>> {
        self.lock().batches.clone()
    }

    fn answer(&self, id: &str, now: Instant) -> Result<Step, ScriptError> {
        let mut inner = self.lock();
        inner.polls.push((id.to_owned(), now));
        if let Some(e) = inner.injected.pop_front() {
            return Ok(Step::error(e));
        }
        inner
            .scripts
            .get_mut(id)
            .and_then(Script::next)
            .ok_or_else(|| ScriptError::UnknownTask(id.to_owned()))
    }
}

/// Counts a fetch in flight while alive.
struct Flight<'a>(&'a ScriptedSource);

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.in_flight = inner.in_flight.saturating_sub(1);
    }
}

impl ScriptedSource {
    fn enter(&self) -> Flight<'_> {
        let mut inner = self.lock();
        inner.in_flight += 1;
        inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
        drop(inner);
        Flight(self)
    }
}

#[async_trait]
impl TaskSource for ScriptedSource {
    type Id = String;
    type Status = ScriptStatus;
    type Output = String;
    type Partial = String;
    type Failure = ScriptFailure;
    type Error = ScriptError;

    async fn fetch(&self, id: &String) -> Result<ScriptStatus, ScriptError> {
        let step = self.answer(id, Instant::now())?;
        let _flight = self.enter();
        if !step.latency.is_zero() {
            tokio::time::sleep(step.latency).await;
        }
        resolve(step)
    }

    fn classify(&self, status: ScriptStatus) -> Phase<String, String, ScriptFailure> {
        match status {
            ScriptStatus::Pending(s) => Phase::Pending(Progress::new(s)),
            ScriptStatus::Running {
                status,
                percent,
                partials,
            } => {
                let mut p = Progress::new(status).with_partials(partials);
                if let Some(pct) = percent {
                    p = p.with_percent(pct);
                }
                Phase::Running(p)
            }
            ScriptStatus::Unrecognized(s) => Phase::Running(Progress::new(s).unrecognized()),
            ScriptStatus::Succeeded(o) => Phase::Succeeded(o),
            ScriptStatus::Failed(r) => Phase::Failed(ScriptFailure(r)),
        }
    }

    fn error_class(&self, error: &ScriptError) -> ErrorClass {
        match error {
            ScriptError::Transient { retry_after, .. } => ErrorClass::Transient {
                retry_after: *retry_after,
            },
            ScriptError::Permanent { .. } | ScriptError::UnknownTask(_) => ErrorClass::Permanent,
            ScriptError::RateLimited { retry_after } => ErrorClass::RateLimited {
                retry_after: *retry_after,
            },
            ScriptError::Unanswered => ErrorClass::TRANSIENT,
            ScriptError::NotFound => ErrorClass::NotYetVisible,
        }
    }

    fn name(&self) -> &str {
        "scripted"
    }

    fn rate_limit(&self) -> Option<RateLimitHint> {
        self.lock().rate_limit
    }

    fn default_policy(&self) -> PollPolicy {
        self.policy.clone()
    }
}

#[async_trait]
impl BatchTaskSource for ScriptedSource {
    fn max_batch(&self) -> usize {
        self.max_batch
    }

    async fn fetch_batch(&self, ids: &[String]) -> Result<Vec<BatchEntry<Self>>, ScriptError> {
        let now = Instant::now();
        self.lock().batches.push(ids.to_vec());
        let _flight = self.enter();
        let steps: Vec<_> = ids.iter().map(|id| self.answer(id, now)).collect();
        let latency = steps
            .iter()
            .filter_map(|s| s.as_ref().ok().map(|s| s.latency))
            .max()
            .unwrap_or_default();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        // An unanswered step is an id the batch answer says nothing about.
        Ok(steps
            .into_iter()
            .map(|s| match s.and_then(resolve) {
                Err(ScriptError::Unanswered) => None,
                other => Some(other),
            })
            .collect())
    }
}
