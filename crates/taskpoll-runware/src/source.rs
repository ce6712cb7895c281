//! [`RunwareSource`]: Runware's `getResponse` as a [`TaskSource`] (its
//! [`BatchTaskSource`](taskpoll::BatchTaskSource) side is in `batch.rs`), how one
//! task's part of an answer reads as a phase, and what a wait ends with:
//! [`RunwareOutput`], [`RunwareFailure`], and the [`RunwareResult`]s of both.
//!
//! How one task's part of a `getResponse` answer reads (pure: no I/O, no clock; the
//! items are read in `decode.rs`, the phase here):
//!
//! - Items and errors for other `taskUUID`s are ignored (an item without one counts
//!   as the task's).
//! - Finished items are told apart by [`DataItem::result_key`] and counted once.
//! - Any error for the task (top-level, singular, legacy, or an item with
//!   `status: "error"`) fails it, keeping the results that had finished.
//! - All expected results finished: succeeded. Otherwise running (or pending while
//!   nothing has started), with the finished results as partials.

use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use taskpoll::strategy::Exponential;
use taskpoll::{ErrorClass, Phase, PollPolicy, Progress, SourcePhase, TaskSource, VisibilityGrace};

use crate::batch::Orders;
use crate::client::RunwareClient;
use crate::config::DEFAULT_VISIBILITY_GRACE;
use crate::decode::read;
use crate::error::RunwareError;
use crate::models::{DataItem, ErrorItem, Parameter, write_detail};
use crate::task::{RunwareStatus, RunwareTaskId, TaskKind};

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
    pub(crate) client: RunwareClient,
    pub(crate) orders: Arc<Mutex<Orders>>,
    /// Where the next batch fetch starts picking tasks to poll alone, so that no task
    /// a server keeps leaving out waits behind the others round after round.
    pub(crate) fallback_cursor: Arc<AtomicUsize>,
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
        // A lone poll always has an entry (`Unanswered` at worst).
        self.entry(&answer, id, true)
            .unwrap_or_else(|| Err(RunwareError::unanswered(&id.uuid, answer.status)))
    }

    fn classify(&self, status: RunwareStatus) -> SourcePhase<Self> {
        classify(status)
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
        terminal_results(phase)
    }
}

/// One finished result of a task: the `data` item as Runware sent it, and the key
/// that tells it apart from the task's other results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunwareResult {
    #[serde(skip)]
    key: String,
    /// The item (`videoUUID`/`videoURL`, `imageUUID`/`imageURL`, `seed`, `cost`, ...).
    #[serde(flatten)]
    pub item: DataItem,
}

impl RunwareResult {
    /// A result with its dedup key.
    pub fn new(key: String, item: DataItem) -> Self {
        RunwareResult { key, item }
    }

    /// The key that tells it apart (`resultIndex:1`, `videoUUID:…`, ...).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Its media UUID (`imageUUID`, `videoUUID`, `audioUUID` or `mediaUUID`).
    pub fn media_uuid(&self) -> Option<&str> {
        self.item.media_uuid()
    }

    /// Its URL (`videoURL`, `imageURL`, `audioURL` or `mediaURL`).
    pub fn url(&self) -> Option<&str> {
        self.item.url()
    }

    /// Its cost, when the task was submitted with `includeCost`.
    pub fn cost(&self) -> Option<f64> {
        self.item.cost
    }
}

impl fmt::Display for RunwareResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.media_uuid(), self.url()) {
            (Some(id), Some(url)) => write!(f, "{id} {url}"),
            (Some(id), None) => f.write_str(id),
            (None, Some(url)) => f.write_str(url),
            // A model upload's result is the model's AIR.
            (None, None) => match self.item.extra.get("air").and_then(|a| a.as_str()) {
                Some(air) => f.write_str(air),
                None => f.write_str(&self.key),
            },
        }
    }
}

/// "1 result", "2 results".
fn results(n: usize) -> String {
    if n == 1 {
        "1 result".to_owned()
    } else {
        format!("{n} results")
    }
}

fn total_cost(results: &[RunwareResult]) -> Option<f64> {
    results
        .iter()
        .filter_map(RunwareResult::cost)
        .reduce(|a, b| a + b)
}

/// A task that produced all its results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunwareOutput {
    /// The task.
    #[serde(rename = "taskUUID")]
    pub task_uuid: String,
    /// Its results, in the order they were first seen.
    pub results: Vec<RunwareResult>,
}

impl RunwareOutput {
    /// The sum of the results' `cost`, when any carries one.
    pub fn total_cost(&self) -> Option<f64> {
        total_cost(&self.results)
    }
}

impl fmt::Display for RunwareOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task {}: {}",
            self.task_uuid,
            results(self.results.len())
        )?;
        for r in &self.results {
            write!(f, "; {r}")?;
        }
        Ok(())
    }
}

/// A task Runware reported as failed. The results that had finished before the
/// failure are kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunwareFailure {
    /// The task.
    #[serde(rename = "taskUUID")]
    pub task_uuid: String,
    /// The first error's code (`timeoutProvider`, `providerContentPolicyViolation`, ...).
    pub code: String,
    /// The first error's message.
    pub message: String,
    /// The parameter involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<Parameter>,
    /// The documentation link, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    /// The results that had finished.
    pub results: Vec<RunwareResult>,
    /// How many results the task was to produce.
    #[serde(rename = "numberResults")]
    pub expected_results: u32,
    /// Every error reported for the task, as sent.
    pub errors: Vec<ErrorItem>,
}

impl RunwareFailure {
    /// The sum of the finished results' `cost`, when any carries one.
    pub fn total_cost(&self) -> Option<f64> {
        total_cost(&self.results)
    }
}

impl fmt::Display for RunwareFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        write_detail(f, &self.message, self.parameter.as_ref())?;
        write!(
            f,
            " ({} of {} had finished)",
            self.results.len(),
            results(self.expected_results.max(1) as usize)
        )
    }
}

/// The phase of a task: what [`RunwareSource`](crate::RunwareSource) classifies into.
pub type RunwarePhase = Phase<RunwareOutput, RunwareResult, RunwareFailure>;

/// Puts results first seen in earlier polls first, in the order they were seen.
fn in_seen_order(mut results: Vec<RunwareResult>, order: &[String]) -> Vec<RunwareResult> {
    if order.is_empty() {
        return results;
    }
    let rank = |r: &RunwareResult| {
        order
            .iter()
            .position(|k| k == r.key())
            .unwrap_or(usize::MAX)
    };
    // A stable sort keeps the answer's order among results not seen before.
    results.sort_by_key(rank);
    results
}

const PENDING_WORDS: [&str; 4] = ["pending", "queued", "scheduled", "waiting"];

/// Classifies a fetched status.
pub(crate) fn classify(status: RunwareStatus) -> RunwarePhase {
    let id = &status.id;
    let reading = read(&status.envelope, id);
    let results = in_seen_order(reading.results, &status.order);
    if let Some(first) = reading.errors.first() {
        return Phase::Failed(RunwareFailure {
            task_uuid: id.uuid.clone(),
            code: first.code(),
            message: first.message().to_owned(),
            parameter: first.parameter.clone(),
            documentation: first.documentation.clone(),
            results,
            expected_results: id.expected_results,
            errors: reading.errors,
        });
    }
    let expected = id.expected();
    if results.len() >= expected {
        return Phase::Succeeded(RunwareOutput {
            task_uuid: id.uuid.clone(),
            results,
        });
    }
    // The first word that is not plain `processing` says the most (an unknown word,
    // or a queueing word); otherwise `processing`.
    let (word, recognized) = reading
        .in_progress
        .iter()
        .find(|(w, known)| !known || !w.eq_ignore_ascii_case("processing"))
        .or(reading.in_progress.first())
        .cloned()
        // No unfinished item: `pending` while nothing has finished either.
        .unwrap_or_else(|| {
            let word = if results.is_empty() {
                "pending"
            } else {
                "processing"
            };
            (word.to_owned(), true)
        });
    let nothing_started = results.is_empty()
        && reading
            .in_progress
            .iter()
            .all(|(w, _)| PENDING_WORDS.iter().any(|p| p.eq_ignore_ascii_case(w)));
    let finished = results.len();
    let mut progress = Progress::new(word).with_partials(results);
    if !reading.progress.is_empty() {
        let total = expected.max(finished + reading.in_progress.len()) as f64;
        let sum: f64 = reading.progress.iter().sum::<f64>() + 100.0 * finished as f64;
        progress = progress.with_percent(sum / total);
    }
    if !recognized {
        progress = progress.unrecognized();
    }
    if nothing_started {
        Phase::Pending(progress)
    } else {
        Phase::Running(progress)
    }
}

/// The results a terminal phase carries (reported as the last partials).
pub(crate) fn terminal_results(phase: &RunwarePhase) -> Vec<RunwareResult> {
    match phase {
        Phase::Succeeded(output) => output.results.clone(),
        Phase::Failed(failure) => failure.results.clone(),
        Phase::Pending(_) | Phase::Running(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Envelope;
    use serde_json::{Value, json};
    use taskpoll::PhaseKind;

    const T: &str = "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70";

    fn phase(n: u32, body: Value) -> RunwarePhase {
        let envelope = serde_json::from_value(body).unwrap();
        classify(RunwareStatus::new(RunwareTaskId::video(T, n), envelope))
    }

    fn ok(uuid: &str) -> Value {
        json!({"taskUUID": T, "status": "success", "videoUUID": uuid, "videoURL": format!("https://v/{uuid}.mp4")})
    }

    #[test]
    fn repeated_results_count_once() {
        let p = phase(
            2,
            json!({"data": [ok("a"), ok("a"), {"taskUUID": T, "status": "processing"}]}),
        );
        let Phase::Running(progress) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(progress.partials.len(), 1);
        assert!(matches!(
            phase(2, json!({"data": [ok("a"), ok("b")]})),
            Phase::Succeeded(_)
        ));
    }

    #[test]
    fn other_tasks_are_ignored() {
        let other = json!({"taskUUID": "00000000-0000-4000-8000-000000000000", "status": "success", "videoUUID": "z"});
        let err =
            json!({"taskUUID": "00000000-0000-4000-8000-000000000000", "code": "timeoutProvider"});
        let p = phase(2, json!({"data": [ok("a"), other], "errors": [err]}));
        let Phase::Running(progress) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(progress.partials.len(), 1);
    }

    #[test]
    fn an_error_fails_the_task_whatever_else_finished() {
        let p = phase(
            2,
            json!({"data": [ok("a"), ok("b")], "errors": [{"taskUUID": T, "code": "nsfwContentDetected"}]}),
        );
        let Phase::Failed(f) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(
            (f.code.as_str(), f.results.len()),
            ("nsfwContentDetected", 2)
        );
        // A request-level error (no taskUUID) counts for the task too.
        let p = phase(
            1,
            json!({"errors": [{"code": "insufficientCredits", "message": "Top up."}]}),
        );
        assert_eq!(p.kind(), PhaseKind::Failed);
        // `errors: []` is no error.
        assert_eq!(
            phase(1, json!({"data": [ok("a")], "errors": []})).kind(),
            PhaseKind::Succeeded
        );
    }

    #[test]
    fn words_and_progress() {
        let p = phase(2, json!({"data": []}));
        let Phase::Pending(progress) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(progress.status, "pending");
        let p = phase(
            2,
            json!({"data": [{"taskUUID": T, "status": "queued"}, {"taskUUID": T, "status": "queued"}]}),
        );
        assert_eq!(p.kind(), PhaseKind::Pending);
        let p = phase(
            2,
            json!({"data": [ok("a"), {"taskUUID": T, "status": "rendering", "progress": 50}]}),
        );
        let Phase::Running(progress) = p else {
            panic!("{:?}", p.kind())
        };
        assert_eq!(progress.status, "rendering");
        assert!(!progress.recognized);
        assert_eq!(progress.percent, Some(75.0));
    }

    #[test]
    fn earlier_results_keep_their_place() {
        let body = json!({"data": [ok("a"), ok("b"), {"taskUUID": T, "status": "processing"}]});
        let envelope: Envelope = serde_json::from_value(body).unwrap();
        let mut status = RunwareStatus::new(RunwareTaskId::video(T, 3), envelope);
        status.order = vec!["videoUUID:b".into()];
        let Phase::Running(progress) = classify(status) else {
            panic!()
        };
        let keys: Vec<&str> = progress.partials.iter().map(RunwareResult::key).collect();
        assert_eq!(keys, ["videoUUID:b", "videoUUID:a"]);
    }
}
