//! The behavior suite against the Stream adapter, over real HTTP on loopback, with the
//! Stream simulator as the server: tasks follow poll-counted scripts, faults are set
//! at exact request numbers, and the request log says what the server saw.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::{Value, json};
use taskpoll::{PollPolicy, Poller, WaitError};
use taskpoll_behavior::{Capabilities, Fault, Harness, Scenario, run};
use taskpoll_sim::faults::FaultPlan;
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_sim::stream::{StreamSim, StreamSimConfig, item_results};
use taskpoll_stream::{StreamClient, StreamFailure, StreamOutput, StreamSource};

const STATUS: &str = "GET /api/v2/tasks/{id}";

/// What the harness scripted a task to end with.
enum Expected {
    Result(Value),
    Error(Value),
}

struct StreamHarness {
    sim: StreamSim,
    client: StreamClient,
    refused: StreamClient,
    next: AtomicU32,
    expected: Mutex<HashMap<String, Expected>>,
}

impl StreamHarness {
    async fn start() -> Self {
        let sim = StreamSim::start(StreamSimConfig::default()).await.unwrap();
        let client = |key: &str, secret: &str| {
            StreamClient::builder(key, secret)
                .base_url(&sim.base_url())
                .request_timeout(Duration::from_secs(2))
                .build()
                .unwrap()
        };
        let good = client(sim.api_key(), sim.api_secret());
        let refused = client("not-the-stream-key", "not-the-stream-secret");
        StreamHarness {
            client: good,
            refused,
            sim,
            next: AtomicU32::new(1),
            expected: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl Harness for StreamHarness {
    type Source = StreamSource;

    fn capabilities(&self) -> Capabilities {
        // Stream has one status word per task (no partial results) and no batch
        // status endpoint; the simulator shows any scripted word, and its 429s say
        // when to come back in X-RateLimit-Reset (no Retry-After, as Stream's).
        Capabilities::basic().retry_after(true).unknown_status(true)
    }

    fn source(&self) -> StreamSource {
        self.client.source()
    }

    fn source_with_bad_credentials(&self) -> StreamSource {
        self.refused.source()
    }

    fn poller(&self) -> Poller<StreamSource> {
        self.client.poller()
    }

    fn poller_with_bad_credentials(&self) -> Poller<StreamSource> {
        self.refused.poller()
    }

    fn fast_policy(&self) -> PollPolicy {
        common::fast_policy()
    }

    async fn create(&self, scenario: Scenario) -> String {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let result = json!({
            "url": format!("https://stream-exports.example/exports/channels/1234/{n}.json"),
            "path": format!("exports/channels/1234/{n}.json"),
            "s3_bucket_name": "stream-chat-exports",
        });
        let error = json!({
            "type": "export_failed",
            "description": format!("export {n} failed: messaging:gone-{n} does not exist"),
            "stacktrace": format!("goroutine {n} [running]:\nmain.runTask(...)"),
            "version": "v6.112.0",
        });
        let (steps, expected) = match scenario {
            Scenario::Succeeds { polls } => (
                common::progress(polls, "pending", "running"),
                Expected::Result(result),
            ),
            Scenario::Fails { polls } => (
                common::progress(polls, "pending", "running"),
                Expected::Error(error),
            ),
            Scenario::RunsForever => (
                vec![ScriptStep::for_time("running", Duration::from_secs(3600))],
                Expected::Result(result),
            ),
            Scenario::UnknownStatusThenSucceeds { polls } => (
                vec![ScriptStep::for_polls("rebalancing", polls)],
                Expected::Result(result),
            ),
            other => panic!("Stream cannot script {other:?}"),
        };
        let outcome = match &expected {
            Expected::Result(result) => ScriptOutcome::Success {
                result: result.clone(),
            },
            Expected::Error(error) => ScriptOutcome::Failure {
                error: error.clone(),
            },
        };
        let id = self.sim.create_task(TaskScript { steps, outcome });
        self.expected.lock().unwrap().insert(id.clone(), expected);
        id
    }

    fn unknown_id(&self) -> String {
        "2f1c7c4e-0000-4000-8000-00000000dead".into()
    }

    async fn inject(&self, fault: Fault) {
        self.sim.set_faults(common::plan(fault));
    }

    async fn clear_faults(&self) {
        self.sim.set_faults(FaultPlan::default());
    }

    async fn requests_for(&self, id: &String) -> u64 {
        self.request_times_for(id).await.len() as u64
    }

    async fn request_times_for(&self, id: &String) -> Vec<Duration> {
        common::request_times(&self.sim.requests(), |t| t == id)
    }

    async fn status_requests(&self) -> Option<u64> {
        Some(self.sim.counts().endpoint(STATUS))
    }

    fn check_output(&self, id: &String, output: &StreamOutput) -> Result<(), String> {
        let expected = self.expected.lock().unwrap();
        let Some(Expected::Result(want)) = expected.get(id) else {
            return Err(format!("task {id} was not scripted to succeed"));
        };
        if output.task_id() != id || output.task.status != "completed" {
            return Err(format!(
                "task {id}: the output is of task {:?} with status {:?}",
                output.task_id(),
                output.task.status
            ));
        }
        if &output.result != want {
            return Err(format!(
                "task {id}: result {}, scripted {want}",
                output.result
            ));
        }
        Ok(())
    }

    fn check_failure(&self, id: &String, failure: &StreamFailure) -> Result<(), String> {
        let expected = self.expected.lock().unwrap();
        let Some(Expected::Error(want)) = expected.get(id) else {
            return Err(format!("task {id} was not scripted to fail"));
        };
        let Some(failure) = failure.as_task() else {
            return Err(format!("task {id}: not a task failure: {failure:?}"));
        };
        let got = json!({
            "type": failure.error_type,
            "description": failure.description,
            "stacktrace": failure.stack_trace,
            "version": failure.version,
        });
        if &failure.task_id != id || &got != want {
            return Err(format!(
                "task {id}: failure {failure:?}, scripted error {want}"
            ));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_on_the_stream_adapter() {
    let harness = StreamHarness::start().await;
    let started = Instant::now();
    let report = run(&harness).await;
    println!("Stream adapter, {:?}:\n{report}", started.elapsed());
    report.assert_all_passed();
    assert_eq!(report.passed(), 10);
    assert_eq!(report.skipped(), ["partial results in order"]);
    // Nothing the suite did came before a Retry-After the server had sent.
    assert_eq!(harness.sim.counts().retry_after_violations, 0);
    harness.sim.shutdown().await;
}

/// Stream's own case: a delete task Stream reports `completed` whose per-item `result`
/// has a failed channel ends as a task failure naming it, in a group with clean tasks,
/// whichever way the wait is made; the clean delete succeeds with its items typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_delete_with_a_failed_item_is_a_failure_in_a_group() {
    let harness = StreamHarness::start().await;
    let script = |result: Value| TaskScript {
        steps: common::progress(2, "pending", "running"),
        outcome: ScriptOutcome::Success { result },
    };
    let partial = harness.sim.create_task(script(item_results([
        ("messaging:general", None),
        ("messaging:frozen", Some("channel is frozen")),
        ("messaging:gone", Some("channel does not exist")),
    ])));
    let clean = harness
        .sim
        .create_task(script(item_results([("user-1", None), ("user-2", None)])));
    let policy = common::fast_policy();
    let poller = harness.poller().configure(|_| policy);
    let mut outcomes: Vec<_> = poller
        .wait_all([partial.clone(), clean.clone()])
        .outcomes()
        .collect()
        .await;
    outcomes.sort_by_key(|o| o.id != partial);
    match &outcomes[0].result {
        Err(WaitError::Failed { failure, .. }) => {
            assert_eq!(
                failure.failed_items(),
                [
                    ("messaging:frozen", "channel is frozen"),
                    ("messaging:gone", "channel does not exist")
                ]
            );
            assert_eq!(
                failure.to_string(),
                "items_failed: 2 of 3 items failed: messaging:frozen (channel is frozen), messaging:gone (channel does not exist)"
            );
            assert_eq!(failure.as_items().unwrap().items.len(), 3);
        }
        other => panic!("{other:?}"),
    }
    let done = outcomes[1].result.as_ref().unwrap();
    assert_eq!(done.items().unwrap().len(), 2);
    // A lone wait reads it the same way.
    let err = poller.wait(partial).await.unwrap_err();
    assert_eq!(err.kind(), taskpoll::ErrorKind::Failed);
    harness.sim.shutdown().await;
}
