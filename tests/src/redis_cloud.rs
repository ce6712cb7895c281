//! The behavior suite against the Redis Cloud adapter, over real HTTP on loopback, with
//! the Redis Cloud simulator as the server: tasks follow poll-counted scripts, faults
//! are set at exact request numbers, many tasks are waited on with one `GET /v1/tasks`
//! per round, and the request log says what the server saw.

use crate::sims as common;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use taskpoll_redis_cloud::{RedisCloudClient, RedisCloudSource, TaskCompleted, TaskFailed};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::script::ScriptOutcome;
use taskpoll_testkit::behavior::{Capabilities, Harness, Scenario};

/// The status endpoints: one task, and the list batched waits read.
const STATUS: [&str; 2] = ["GET /v1/tasks/{taskId}", "GET /v1/tasks"];

/// The `commandType` the simulator gives scripted tasks.
const COMMAND: &str = "subscriptionCreateRequest";

/// The Redis Cloud adapter against the Redis Cloud simulator.
pub struct RedisCloudHarness {
    /// The simulator the harness scripts.
    pub sim: RedisCloudSim,
    client: RedisCloudClient,
    refused: RedisCloudClient,
    next: AtomicI64,
    expected: Mutex<HashMap<String, ScriptOutcome>>,
    /// The request log's last sequence number when each task was created.
    created_after: Mutex<HashMap<String, u64>>,
}

impl RedisCloudHarness {
    /// A harness on a simulator of its own.
    pub async fn start() -> Self {
        let sim = RedisCloudSim::start(RedisCloudSimConfig {
            // Each scenario is one task's own script: the account's one-task-at-a-time
            // queue would hold every task behind the one that never ends.
            serial_processing: false,
            // The scenarios count polls exactly, and the suite's fast policy has no
            // visibility grace: no 404 before a new task is known (on by default, as
            // in production; the adapter's own tests cover it).
            not_found_polls: 0,
            ..RedisCloudSimConfig::default()
        })
        .await
        .unwrap();
        let client = |key: &str, secret: &str| {
            RedisCloudClient::builder(key, secret)
                .base_url(&sim.base_url())
                .request_timeout(Duration::from_secs(2))
                .build()
                .unwrap()
        };
        let good = client(sim.api_key(), sim.secret_key());
        let refused = client("not-the-account-key", "not-the-secret-key");
        RedisCloudHarness {
            client: good,
            refused,
            sim,
            next: AtomicI64::new(77_001),
            expected: Mutex::new(HashMap::new()),
            created_after: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl Harness for RedisCloudHarness {
    type Source = RedisCloudSource;

    crate::sims::sim_harness_methods!(
        RedisCloudSource,
        RedisCloudClient::builder("size-cap-key", "size-cap-secret"),
        "/v1",
        |h: &Self| RedisCloudClient::builder(h.sim.api_key(), h.sim.secret_key())
    );

    fn running_answer(&self, id: &String) -> Option<Vec<u8>> {
        Some(
            json!({"taskId": id, "commandType": COMMAND, "status": "processing-in-progress"})
                .to_string()
                .into_bytes(),
        )
    }

    fn capabilities(&self) -> Capabilities {
        // One status word per task (no partial results); script steps show any word;
        // injected 429s carry Retry-After; `GET /v1/tasks` answers many tasks at once.
        Capabilities::basic()
            .retry_after(true)
            .unknown_status(true)
            .batch(true)
    }

    fn secrets(&self) -> Vec<String> {
        vec![
            self.sim.api_key().to_owned(),
            self.sim.secret_key().to_owned(),
        ]
    }

    async fn server_check(&self) -> Result<(), String> {
        crate::sims::no_early_retry(self.sim.counts().retry_after_violations)
    }

    async fn create(&self, scenario: Scenario) -> String {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let error = json!({
            "type": "SUBSCRIPTION_NOT_ACTIVE",
            "status": "403 FORBIDDEN",
            "description": format!("Subscription {n} is not in an active state"),
            "additionalInfo": format!("subscription-{n}-pending"),
        });
        let script = common::script(
            scenario,
            ("received", "processing-in-progress"),
            json!({"resourceId": n}),
            error,
        );
        let id = self.sim.create_task(script.clone());
        self.expected
            .lock()
            .unwrap()
            .insert(id.clone(), script.outcome);
        let last = self.sim.requests().last().map_or(0, |r| r.seq);
        self.created_after.lock().unwrap().insert(id.clone(), last);
        id
    }

    fn unknown_id(&self) -> String {
        "e4a1c6a2-0000-4000-8000-00000000dead".into()
    }

    /// Requests naming the task, and task-list requests made since it was created
    /// (`GET /v1/tasks` answers for every task of the account, and the client's
    /// scheduler polls through it; a refused one names no task).
    async fn request_times_for(&self, id: &String) -> Vec<Duration> {
        let since = self.created_after.lock().unwrap().get(id).copied();
        self.sim
            .requests()
            .iter()
            .filter(|r| {
                r.task_ids.contains(id)
                    || (r.endpoint == STATUS[1] && since.is_some_and(|s| r.seq > s))
            })
            .map(|r| Duration::from_millis(r.at_ms))
            .collect()
    }

    async fn status_requests(&self) -> Option<u64> {
        let counts = self.sim.counts();
        Some(STATUS.iter().map(|e| counts.endpoint(e)).sum())
    }

    fn check_output(&self, id: &String, output: &TaskCompleted) -> Result<(), String> {
        let expected = self.expected.lock().unwrap();
        let Some(ScriptOutcome::Success { result }) = expected.get(id) else {
            return Err(format!("task {id} was not scripted to succeed"));
        };
        let resource = &result["resourceId"];
        if &output.task_id != id
            || output.command_type.as_deref() != Some(COMMAND)
            || output.resource_id != resource.as_i64()
        {
            return Err(format!(
                "task {id}: output {output:?}, scripted resourceId {resource}"
            ));
        }
        Ok(())
    }

    fn check_failure(&self, id: &String, failure: &TaskFailed) -> Result<(), String> {
        let expected = self.expected.lock().unwrap();
        let Some(ScriptOutcome::Failure { error: want }) = expected.get(id) else {
            return Err(format!("task {id} was not scripted to fail"));
        };
        let got = json!({
            "type": failure.error_type,
            "status": failure.status,
            "description": failure.description,
            "additionalInfo": failure.additional_info,
        });
        if &failure.task_id != id
            || failure.command_type.as_deref() != Some(COMMAND)
            || failure.task_status != "processing-error"
            || &got != want
        {
            return Err(format!(
                "task {id}: failure {failure:?}, scripted error {want}"
            ));
        }
        Ok(())
    }
}
