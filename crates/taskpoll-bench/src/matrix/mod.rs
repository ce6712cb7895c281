//! The fault matrix itself: many scripted tasks per vendor, waited on all at once
//! through each vendor's simulator while it injects seeded faults, every outcome
//! checked against its script.
//!
//! `taskpoll-bench fault-matrix` runs it at full size, and this crate's
//! `tests/fault_matrix.rs` runs a small version in CI: both check the same things the
//! same way.
//!
//! What each run does, per vendor:
//!
//! - starts the simulator with rate limits out of the way (every 429 is an injected
//!   one) and a seeded [`FaultPlan`]: 20 % 5xx, 5 % connection resets, 10 % 429 with
//!   `Retry-After: 1`, 2 % malformed 200 bodies, 3 % answers held back for longer than
//!   the client's per-request timeout;
//! - scripts every task so that its exact outcome is known in advance: successes with
//!   a result of their own, failures with vendor fields of their own (Runware: with
//!   the results that had finished);
//! - waits on two thirds of them with the many-tasks API (`wait_all`, batched through
//!   the client's scheduler for Redis Cloud and Runware) and on the rest with one
//!   `Poller::wait` each, concurrently (Redis Cloud: after the group, because its
//!   task list names every task and the simulator tracks `Retry-After` per task);
//! - checks every outcome, and reads back from the simulator how many requests it
//!   saw, which faults it injected, and whether any request came earlier than a
//!   `Retry-After` allowed.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::join_all;
use serde_json::{Value, json};
use taskpoll::strategy::Fixed;
use taskpoll::{Budget, Poller, TaskSource, WaitAll, WaitError, WaitResult};
use taskpoll_redis_cloud::{RedisCloudClient, RedisCloudSource, TaskCompleted, TaskFailed};
use taskpoll_runware::{RunwareClient, RunwareOutput, RunwareResult, RunwareSource, RunwareTaskId};
use taskpoll_sim::accounting::Counts;
use taskpoll_sim::faults::{Fault, FaultInjector, FaultPlan, FaultRates};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{StreamClient, StreamOutput, StreamSource, StreamTaskFailure};
use tokio::time::Instant;

/// An error that ends a run before its tasks could be checked (a simulator that does
/// not start, a client that does not build).
pub type RunError = Box<dyn std::error::Error + Send + Sync>;

/// The size and timing of a run.
#[derive(Debug, Clone, Copy)]
pub struct Matrix {
    /// Tasks per vendor.
    pub tasks: usize,
    /// Seed of the fault draws.
    pub seed: u64,
    /// The clients' per-request timeout.
    pub request_timeout: Duration,
    /// How long a slow answer is held back (longer than `request_timeout`).
    pub slow: Duration,
    /// The pollers' interval.
    pub interval: Duration,
    /// Each wait's deadline (long enough that no correct wait reaches it).
    pub deadline: Duration,
}

impl Matrix {
    /// `tasks` tasks per vendor with the standard timings: 300 ms request timeout,
    /// 1 s slow answers, polls every 20 ms, 10 minute deadlines.
    pub fn new(tasks: usize, seed: u64) -> Self {
        Matrix {
            tasks,
            seed,
            request_timeout: Duration::from_millis(300),
            slow: Duration::from_secs(1),
            interval: Duration::from_millis(20),
            deadline: Duration::from_secs(600),
        }
    }

    /// The fault plan every simulator gets.
    pub fn plan(&self) -> FaultPlan {
        let mut plan = FaultPlan::with_rates(
            self.seed,
            FaultRates {
                server_error: 0.20,
                reset: 0.05,
                rate_limited: 0.10,
                malformed: 0.02,
                slow: 0.03,
                ..FaultRates::default()
            },
        );
        plan.retry_after_secs = Some(1);
        plan.slow_millis = u64::try_from(self.slow.as_millis()).unwrap_or(u64::MAX);
        plan
    }

    fn policy_for<S: TaskSource>(&self, poller: Poller<S>) -> Poller<S> {
        poller.configure(|p| {
            p.initial_delay(Duration::ZERO)
                .interval(Fixed::new(self.interval))
                .deadline(self.deadline)
        })
    }

    /// Whether task `i` is waited on alone (`Poller::wait`) rather than in the group.
    fn alone(i: usize) -> bool {
        i % 3 == 2
    }
}

/// Faults injected during a run, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultTally {
    /// 500, 502, 503, 504.
    pub server_error: u64,
    /// Connections cut mid-answer.
    pub reset: u64,
    /// 429 with `Retry-After`.
    pub rate_limited: u64,
    /// 200 with a body that is not JSON.
    pub malformed: u64,
    /// Answers held back past the client's timeout.
    pub slow: u64,
    /// Of the slow ones, those answered anyway (the client had not given up yet).
    pub slow_answered: u64,
}

impl FaultTally {
    /// Every fault injected.
    pub fn total(&self) -> u64 {
        self.server_error + self.reset + self.rate_limited + self.malformed + self.slow
    }
}

/// Which faults the simulator injected, recovered from its counts and the seeded plan.
///
/// A simulator draws a fault for every status request in arrival order, and the
/// draws are a pure function of the plan's seed and the request number, so replaying
/// the plan gives the kind of every draw. What the simulator's counts do not say is
/// how many draws there were: an answer held back past the client's timeout is
/// dropped with its connection and never recorded. Every draw without a fault is
/// recorded, though, and the last status request of a run is one (every wait ends
/// with a real answer). So the draws are those up to the `recorded - faults`-th
/// draw without a fault. The replay is then checked against what the counts do say:
/// the 5xx and 429 answers, and the faults recorded.
pub fn tally(
    plan: &FaultPlan,
    status_requests: u64,
    counts: &Counts,
) -> Result<FaultTally, String> {
    let clean = status_requests.saturating_sub(counts.faults);
    let injector = FaultInjector::default();
    injector.set(plan.clone());
    let mut t = FaultTally::default();
    let mut seen_clean = 0;
    // Each draw is a fault with probability 0.4: the bound is never reached unless the
    // counts are inconsistent.
    let limit = status_requests.saturating_mul(20).saturating_add(1_000);
    let mut draws = 0;
    while seen_clean < clean {
        draws += 1;
        if draws > limit {
            return Err(format!(
                "replaying the plan found {seen_clean} clean draws of {clean} in {limit} draws"
            ));
        }
        match injector.draw(true) {
            None => seen_clean += 1,
            Some(Fault::ServerError { .. }) => t.server_error += 1,
            Some(Fault::Reset) => t.reset += 1,
            Some(Fault::RateLimited { .. }) => t.rate_limited += 1,
            Some(Fault::Malformed) => t.malformed += 1,
            Some(Fault::Slow { .. }) => t.slow += 1,
            Some(other) => {
                return Err(format!("the plan drew a fault it does not have: {other:?}"));
            }
        }
    }
    let recorded_faults = t.server_error + t.reset + t.rate_limited + t.malformed;
    t.slow_answered = counts.faults.checked_sub(recorded_faults).ok_or_else(|| {
        format!(
            "the simulator recorded {} faults, fewer than the {recorded_faults} answered ones replayed",
            counts.faults
        )
    })?;
    let five_xx: u64 = counts
        .by_status
        .iter()
        .filter(|(s, _)| (500..600).contains(*s))
        .map(|(_, n)| n)
        .sum();
    if five_xx != t.server_error || counts.status(429) != t.rate_limited {
        return Err(format!(
            "replayed {} 5xx and {} 429, the simulator sent {five_xx} and {}",
            t.server_error,
            t.rate_limited,
            counts.status(429)
        ));
    }
    Ok(t)
}

/// What one vendor's run found.
#[derive(Debug, Clone)]
pub struct Report {
    /// `stream`, `redis-cloud`, `runware`.
    pub vendor: &'static str,
    /// Tasks waited on.
    pub tasks: usize,
    /// Of those, the ones whose outcome was exactly the scripted one.
    pub correct: usize,
    /// The first few wrong outcomes, described (empty when all were right), and any
    /// inconsistency found in the accounting.
    pub problems: Vec<String>,
    /// Every request that reached the simulator: those it answered and those held
    /// back until the client gave up.
    pub requests: u64,
    /// Faults injected, by kind.
    pub faults: FaultTally,
    /// Requests earlier than a `Retry-After` allowed, as the simulator counted them.
    pub retry_after_violations: u64,
    /// Wall-clock time of the waits.
    pub elapsed: Duration,
}

impl Report {
    fn new(vendor: &'static str, tasks: usize) -> Self {
        Report {
            vendor,
            tasks,
            correct: 0,
            problems: Vec::new(),
            requests: 0,
            faults: FaultTally::default(),
            retry_after_violations: 0,
            elapsed: Duration::ZERO,
        }
    }

    /// Whether every outcome was right, no `Retry-After` was violated and the
    /// accounting adds up.
    pub fn is_clean(&self) -> bool {
        self.correct == self.tasks && self.problems.is_empty() && self.retry_after_violations == 0
    }

    fn check(&mut self, task: &str, verdict: Result<(), String>) {
        match verdict {
            Ok(()) => self.correct += 1,
            Err(why) => self.problem(format!("task {task}: {why}")),
        }
    }

    fn problem(&mut self, what: String) {
        // Keep the report readable when something is badly wrong.
        if self.problems.len() < 20 {
            self.problems.push(what);
        }
    }

    fn account(&mut self, plan: &FaultPlan, counts: &Counts, status_endpoints: &[&str]) {
        let status_requests: u64 = status_endpoints.iter().map(|e| counts.endpoint(e)).sum();
        self.retry_after_violations = counts.retry_after_violations;
        match tally(plan, status_requests, counts) {
            Ok(t) => {
                self.faults = t;
                self.requests = counts.total + (t.slow - t.slow_answered);
            }
            Err(e) => {
                self.requests = counts.total;
                self.problem(format!("fault accounting: {e}"));
            }
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.faults;
        write!(
            f,
            "{:<12} tasks {:>5}  correct {:>5}  requests {:>6}  faults {:>5} (5xx {}, reset {}, 429 {}, malformed {}, slow {})  retry_after_violations {}  time {:.1} s",
            self.vendor,
            self.tasks,
            self.correct,
            self.requests,
            t.total(),
            t.server_error,
            t.reset,
            t.rate_limited,
            t.malformed,
            t.slow,
            self.retry_after_violations,
            self.elapsed.as_secs_f64()
        )?;
        for p in &self.problems {
            write!(f, "\n    {p}")?;
        }
        Ok(())
    }
}

/// Describes a wait's result that is not the expected one.
fn unexpected<T: fmt::Debug, F: fmt::Debug + fmt::Display, E: std::error::Error>(
    result: &Result<T, WaitError<F, E>>,
) -> String {
    match result {
        Ok(out) => format!("completed with {out:?}"),
        Err(e) => format!("{} error: {e}", e.kind()),
    }
}

/// Task `i`'s statuses before it ends, in one of four shapes: none, one working poll,
/// a waiting poll then two working ones, or working for up to 120 ms.
fn steps(i: usize, waiting: &str, working: &str) -> Vec<ScriptStep> {
    match i % 4 {
        0 => Vec::new(),
        1 => vec![ScriptStep::for_polls(working, 1)],
        2 => vec![
            ScriptStep::for_polls(waiting, 1),
            ScriptStep::for_polls(working, 2),
        ],
        _ => vec![ScriptStep::for_time(
            working,
            Duration::from_millis(20 * (i % 7) as u64),
        )],
    }
}

/// Waits on every task, concurrently: those [`Matrix::alone`] picks one `Poller::wait`
/// each, the rest as one group; returns each id with its result.
async fn wait_split<S: TaskSource>(
    poller: &Poller<S>,
    ids: Vec<S::Id>,
) -> Vec<(S::Id, WaitResult<S>)> {
    let (alone, group): (Vec<_>, Vec<_>) = ids
        .into_iter()
        .enumerate()
        .partition(|(i, _)| Matrix::alone(*i));
    let group = group.into_iter().map(|(_, id)| id);
    let alone: Vec<S::Id> = alone.into_iter().map(|(_, id)| id).collect();
    let (mut results, single) = tokio::join!(
        collect_group(poller.wait_all(group)),
        wait_each(poller, &alone),
    );
    results.extend(single);
    results
}

/// Each outcome of a group, as its id and result.
async fn collect_group<S: TaskSource>(group: WaitAll<S>) -> Vec<(S::Id, WaitResult<S>)> {
    group.outcomes().map(|o| (o.id, o.result)).collect().await
}

/// One wait per id, all at once; each id with its result.
async fn wait_each<S: TaskSource>(
    poller: &Poller<S>,
    ids: &[S::Id],
) -> Vec<(S::Id, WaitResult<S>)> {
    join_all(
        ids.iter()
            .map(|id| async move { (id.clone(), poller.wait(id.clone()).await) }),
    )
    .await
}

/// Checks one result per scripted task (each exactly once).
fn check_all<T, R>(
    report: &mut Report,
    scripts: &BTreeMap<String, T>,
    results: Vec<(String, R)>,
    mut check: impl FnMut(&str, &T, &R) -> Result<(), String>,
) {
    let mut seen = HashSet::new();
    for (id, result) in results {
        if !seen.insert(id.clone()) {
            report.problem(format!("task {id}: reported twice"));
            continue;
        }
        match scripts.get(&id) {
            Some(script) => {
                let verdict = check(&id, script, &result);
                report.check(&id, verdict);
            }
            None => report.problem(format!("task {id}: not one of the tasks waited on")),
        }
    }
    for id in scripts.keys().filter(|id| !seen.contains(*id)) {
        report.problem(format!("task {id}: no outcome"));
    }
}

mod redis_cloud;
mod runware;
mod stream;

pub use redis_cloud::redis_cloud;
pub use runware::runware;
pub use stream::stream;
