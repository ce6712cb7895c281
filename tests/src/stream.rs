//! The behavior suite against the Stream adapter, over real HTTP on loopback, with the
//! Stream simulator as the server: tasks follow poll-counted scripts, faults are set
//! at exact request numbers, and the request log says what the server saw.

use crate::sims as common;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use taskpoll_sim::script::ScriptOutcome;
use taskpoll_sim::stream::{StreamSim, StreamSimConfig};
use taskpoll_stream::{StreamClient, StreamFailure, StreamOutput, StreamSource};
use taskpoll_testkit::behavior::{Capabilities, Harness, Scenario};

const STATUS: &str = "GET /api/v2/tasks/{id}";

/// The Stream adapter against the Stream simulator.
pub struct StreamHarness {
    /// The simulator the harness scripts.
    pub sim: StreamSim,
    client: StreamClient,
    refused: StreamClient,
    next: AtomicU32,
    expected: Mutex<HashMap<String, ScriptOutcome>>,
}

impl StreamHarness {
    /// A harness on a simulator of its own.
    pub async fn start() -> Self {
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

    crate::sims::sim_harness_methods!(
        StreamSource,
        StreamClient::builder("size-cap-key", "size-cap-secret"),
        "",
        |h: &Self| StreamClient::builder(h.sim.api_key(), h.sim.api_secret())
    );

    fn running_answer(&self, id: &String) -> Option<Vec<u8>> {
        Some(
            json!({"task_id": id, "status": "running"})
                .to_string()
                .into_bytes(),
        )
    }

    fn capabilities(&self) -> Capabilities {
        // Stream has one status word per task (no partial results) and no batch
        // status endpoint; the simulator shows any scripted word, and its 429s say
        // when to come back in X-RateLimit-Reset (no Retry-After, as Stream's).
        Capabilities::basic().retry_after(true).unknown_status(true)
    }

    fn secrets(&self) -> Vec<String> {
        vec![
            self.sim.api_key().to_owned(),
            self.sim.api_secret().to_owned(),
        ]
    }

    async fn server_check(&self) -> Result<(), String> {
        crate::sims::no_early_retry(self.sim.counts().retry_after_violations)
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
        let script = common::script(scenario, ("pending", "running"), result, error);
        let id = self.sim.create_task(script.clone());
        self.expected
            .lock()
            .unwrap()
            .insert(id.clone(), script.outcome);
        id
    }

    fn unknown_id(&self) -> String {
        "2f1c7c4e-0000-4000-8000-00000000dead".into()
    }

    async fn request_times_for(&self, id: &String) -> Vec<Duration> {
        common::request_times(&self.sim.requests(), |t| t == id)
    }

    async fn status_requests(&self) -> Option<u64> {
        Some(self.sim.counts().endpoint(STATUS))
    }

    fn check_output(&self, id: &String, output: &StreamOutput) -> Result<(), String> {
        let expected = self.expected.lock().unwrap();
        let Some(ScriptOutcome::Success { result: want }) = expected.get(id) else {
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
        let Some(ScriptOutcome::Failure { error: want }) = expected.get(id) else {
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
