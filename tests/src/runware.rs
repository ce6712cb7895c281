//! The behavior suite against the Runware adapter, over real HTTP on loopback, with the
//! Runware simulator as the server: tasks follow `RunwareTaskSpec`s whose results
//! finish after counted polls, faults are set at exact request numbers, many tasks are
//! polled with several `getResponse` objects per POST, and the request log says what
//! the server saw.

use crate::sims as common;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use taskpoll_runware::{
    RunwareClient, RunwareFailure, RunwareOutput, RunwareResult, RunwareSource, RunwareTaskId,
};
use taskpoll_sim::runware::{MediaKind, RunwareSim, RunwareSimConfig, RunwareTaskSpec};
use taskpoll_testkit::behavior::{Capabilities, Harness, Scenario};

/// The status requests: POSTs of `getResponse` objects only.
const STATUS: &str = "POST /v1 getResponse";

/// What the harness scripted a task to end with.
enum Expected {
    /// All results, of this kind.
    Results(MediaKind),
    /// This error after `kept` results of this kind.
    Error {
        kind: MediaKind,
        kept: usize,
        code: String,
        message: String,
    },
}

/// The Runware adapter against the Runware simulator.
pub struct RunwareHarness {
    /// The simulator the harness scripts.
    pub sim: RunwareSim,
    client: RunwareClient,
    refused: RunwareClient,
    expected: Mutex<HashMap<String, Expected>>,
    /// The most tasks the clients poll in one POST, when set.
    max_batch: Option<usize>,
}

impl RunwareHarness {
    /// A harness on a simulator of its own.
    pub async fn start() -> Self {
        RunwareHarness::start_with(RunwareSimConfig::default(), None).await
    }

    /// A harness on a simulator with `config`, its clients polling at most
    /// `max_batch` tasks per POST (the client's default when `None`).
    pub async fn start_with(config: RunwareSimConfig, max_batch: Option<usize>) -> Self {
        let sim = RunwareSim::start(config).await.unwrap();
        let client = |key: &str| {
            let mut b = RunwareClient::builder(key)
                .base_url(&sim.base_url())
                .request_timeout(Duration::from_secs(2));
            if let Some(n) = max_batch {
                b = b.max_batch(n);
            }
            b.build().unwrap()
        };
        let good = client(sim.api_key());
        let refused = client("not-the-runware-key");
        RunwareHarness {
            client: good,
            refused,
            sim,
            expected: Mutex::new(HashMap::new()),
            max_batch,
        }
    }
}

/// The media UUID and URL of a result of `kind`, if it has both.
fn media(result: &RunwareResult, kind: MediaKind) -> Option<(&str, &str)> {
    let item = &result.item;
    match kind {
        MediaKind::Video => Some((item.video_uuid.as_deref()?, item.video_url.as_deref()?)),
        MediaKind::Image => Some((item.image_uuid.as_deref()?, item.image_url.as_deref()?)),
    }
}

/// Checks `results` are `want` distinct finished results of `kind`, with their cost.
fn check_results(
    id: &RunwareTaskId,
    results: &[RunwareResult],
    kind: MediaKind,
    want: usize,
) -> Result<(), String> {
    if results.len() != want {
        return Err(format!(
            "task {id}: {} results, expected {want}",
            results.len()
        ));
    }
    let mut seen = HashSet::new();
    for r in results {
        let (uuid, url) = media(r, kind)
            .ok_or_else(|| format!("task {id}: result {r:?} is not a {kind:?} result"))?;
        if !url.contains(uuid) || r.cost().is_none() || !seen.insert(uuid.to_owned()) {
            return Err(format!("task {id}: result {r:?}"));
        }
    }
    Ok(())
}

#[async_trait]
impl Harness for RunwareHarness {
    type Source = RunwareSource;

    crate::sims::sim_harness_methods!(
        RunwareSource,
        RunwareClient::builder("size-cap-key"),
        "/v1",
        |h: &Self| RunwareClient::builder(h.sim.api_key())
    );

    fn running_answer(&self, id: &RunwareTaskId) -> Option<Vec<u8>> {
        Some(json!({"data": [{"taskType": "imageInference", "taskUUID": id.uuid, "status": "processing"}]}).to_string().into_bytes())
    }

    fn capabilities(&self) -> Capabilities {
        // Tasks produce several results; getResponse answers many tasks in one POST
        // (unless the client sends one per POST); injected 429s carry Retry-After. The simulator's items are only
        // `processing`, `success` or an error: it cannot show an unknown status.
        Capabilities::basic()
            .partial_results(true)
            .batch(self.client.batches_polls())
            .retry_after(true)
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.sim.api_key().to_owned()]
    }

    async fn server_check(&self) -> Result<(), String> {
        crate::sims::no_early_retry(self.sim.counts().retry_after_violations)?;
        let most = self.sim.requests().iter().map(|r| r.task_ids.len()).max();
        match (self.max_batch, most) {
            (Some(limit), Some(most)) if most > limit => Err(format!(
                "a POST polled {most} tasks, over the client's max_batch of {limit}"
            )),
            _ => Ok(()),
        }
    }

    async fn create(&self, scenario: Scenario) -> RunwareTaskId {
        let (spec, expected) = match scenario {
            // Two videos, both done after `polls` polls.
            Scenario::Succeeds { polls } => (
                RunwareTaskSpec::new(MediaKind::Video, 2).finish_after_polls([polls, polls]),
                Expected::Results(MediaKind::Video),
            ),
            // Two images: the first done, the second failing, after `polls` polls.
            Scenario::Fails { polls } => {
                let code = "providerContentPolicyViolation".to_owned();
                let message = format!("The provider refused prompt {polls}.");
                (
                    RunwareTaskSpec::new(MediaKind::Image, 2)
                        .finish_after_polls([polls, polls])
                        .fail_after(1, &code, &message),
                    Expected::Error {
                        kind: MediaKind::Image,
                        kept: 1,
                        code,
                        message,
                    },
                )
            }
            Scenario::RunsForever => (
                RunwareTaskSpec::new(MediaKind::Image, 1)
                    .finish_after([Duration::from_secs(3600)])
                    .with_progress(),
                Expected::Results(MediaKind::Image),
            ),
            // Result `i` done after `i + 1` polls: the first poll shows none, each
            // later one shows one more.
            Scenario::PartialResults { results } => (
                RunwareTaskSpec::new(MediaKind::Video, results).finish_after_polls(1..=results),
                Expected::Results(MediaKind::Video),
            ),
            other => panic!("Runware cannot script {other:?}"),
        };
        let results = spec.results;
        let kind = spec.kind;
        let uuid = self.sim.create_task(spec);
        self.expected.lock().unwrap().insert(uuid.clone(), expected);
        match kind {
            MediaKind::Video => RunwareTaskId::video(uuid, results),
            MediaKind::Image => RunwareTaskId::image(uuid, results),
        }
    }

    fn unknown_id(&self) -> RunwareTaskId {
        RunwareTaskId::image("6d0f1b9e-0000-4000-8000-00000000dead", 1)
    }

    async fn request_times_for(&self, id: &RunwareTaskId) -> Vec<Duration> {
        common::request_times(&self.sim.requests(), |t| t.eq_ignore_ascii_case(&id.uuid))
    }

    async fn status_requests(&self) -> Option<u64> {
        Some(self.sim.counts().endpoint(STATUS))
    }

    fn check_output(&self, id: &RunwareTaskId, output: &RunwareOutput) -> Result<(), String> {
        let expected = self.expected.lock().unwrap();
        let Some(Expected::Results(kind)) = expected.get(&id.uuid) else {
            return Err(format!("task {id} was not scripted to succeed"));
        };
        if output.task_uuid != id.uuid {
            return Err(format!(
                "task {id}: the output is of task {}",
                output.task_uuid
            ));
        }
        check_results(id, &output.results, *kind, id.expected())
    }

    fn check_failure(&self, id: &RunwareTaskId, failure: &RunwareFailure) -> Result<(), String> {
        let expected = self.expected.lock().unwrap();
        let Some(Expected::Error {
            kind,
            kept,
            code,
            message,
        }) = expected.get(&id.uuid)
        else {
            return Err(format!("task {id} was not scripted to fail"));
        };
        if failure.task_uuid != id.uuid
            || &failure.code != code
            || &failure.message != message
            || failure.expected_results != id.expected_results
        {
            return Err(format!(
                "task {id}: failure {failure:?}, scripted {code}: {message}"
            ));
        }
        check_results(id, &failure.results, *kind, *kept)
    }
}
