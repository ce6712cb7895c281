//! The declarative adapter (`taskpoll-spec`) with a spec this repository ships,
//! `specs/replicate-predictions.toml`, against the generic scripted simulator: each task
//! is a script of answers shaped like Replicate's predictions.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use taskpoll_sim::generic::{Answer, GenericSim, GenericSimConfig, GenericTask};
use taskpoll_spec::{Spec, SpecClient, SpecClientBuilder, SpecFailure, SpecOutput, SpecSource};
use taskpoll_testkit::behavior::{Capabilities, Harness, Scenario};

use crate::sims as common;

/// The spec, as shipped.
const SPEC: &str = include_str!("../../specs/replicate-predictions.toml");

/// The token the simulator accepts.
const TOKEN: &str = "r8_spec-token-DO-NOT-LOG-5d2a";

/// A client builder for the spec, its token variable set to `token`.
fn builder(token: &str) -> SpecClientBuilder {
    let token = token.to_owned();
    let env = move |name: &str| (name == "REPLICATE_API_TOKEN").then(|| token.clone());
    let spec = Spec::parse_with(SPEC, "replicate-predictions.toml", Path::new("."), &env).unwrap();
    SpecClient::builder(spec)
}

/// A prediction's answer with this status.
fn status(word: &str) -> Answer {
    Answer::json(200, json!({"id": "p", "status": word}))
}

/// The spec adapter against the generic simulator.
pub struct SpecHarness {
    /// The simulator the harness scripts.
    pub sim: GenericSim,
    client: SpecClient,
    refused: SpecClient,
    next: AtomicU32,
    /// What each task was scripted to end with: its output, or its error.
    expected: Mutex<HashMap<String, Result<Value, Value>>>,
}

impl SpecHarness {
    /// A harness on a simulator of its own.
    pub async fn start() -> Self {
        let config =
            GenericSimConfig::default().require_header("authorization", &format!("Bearer {TOKEN}"));
        let sim = GenericSim::start(config).await.unwrap();
        let client = |token: &str| {
            builder(token)
                .base_url(&sim.base_url())
                .request_timeout(Duration::from_secs(2))
                .build()
                .unwrap()
        };
        SpecHarness {
            client: client(TOKEN),
            refused: client("r8_not-the-token"),
            sim,
            next: AtomicU32::new(1),
            expected: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl Harness for SpecHarness {
    type Source = SpecSource;

    crate::sims::sim_harness_methods!(SpecSource, builder("size-cap-token"), "", |_: &Self| {
        builder(TOKEN)
    });

    fn capabilities(&self) -> Capabilities {
        // Any scripted word, 429s with Retry-After; one prediction per request.
        Capabilities::basic().retry_after(true).unknown_status(true)
    }

    fn running_answer(&self, id: &String) -> Option<Vec<u8>> {
        Some(
            json!({"id": id, "status": "processing"})
                .to_string()
                .into_bytes(),
        )
    }

    fn secrets(&self) -> Vec<String> {
        vec![TOKEN.to_owned()]
    }

    async fn server_check(&self) -> Result<(), String> {
        common::no_early_retry(self.sim.counts().retry_after_violations)
    }

    async fn create(&self, scenario: Scenario) -> String {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let output = json!([format!("https://replicate.delivery/{n}/out-0.png")]);
        let error = json!(format!("prediction {n} failed: CUDA out of memory"));
        let progress = |polls: u32| -> Vec<Answer> {
            (0..polls)
                .map(|i| {
                    status(if i == 0 && polls > 1 {
                        "starting"
                    } else {
                        "processing"
                    })
                })
                .collect()
        };
        let done = Answer::json(200, json!({"status": "succeeded", "output": output}));
        let (answers, expected) = match scenario {
            Scenario::Succeeds { polls } => (progress(polls), Ok(output)),
            Scenario::Fails { polls } => {
                let mut answers = progress(polls);
                answers.push(Answer::json(
                    200,
                    json!({"status": "failed", "error": error}),
                ));
                (answers, Err(error))
            }
            Scenario::RunsForever => (vec![status("processing")], Ok(output)),
            Scenario::UnknownStatusThenSucceeds { polls } => (
                (0..polls).map(|_| status("rebalancing")).collect(),
                Ok(output),
            ),
            other => panic!("a prediction cannot follow {other:?}"),
        };
        let mut answers = answers;
        if expected.is_ok() && !matches!(scenario, Scenario::RunsForever) {
            answers.push(done);
        }
        let id = self.sim.create_task(GenericTask::new(answers));
        self.expected.lock().unwrap().insert(id.clone(), expected);
        id
    }

    fn unknown_id(&self) -> String {
        "no-such-prediction".into()
    }

    async fn request_times_for(&self, id: &String) -> Vec<Duration> {
        common::request_times(&self.sim.requests(), |t| t == id)
    }

    fn check_output(&self, id: &String, output: &SpecOutput) -> Result<(), String> {
        match self.expected.lock().unwrap().get(id) {
            Some(Ok(want)) if &output.result == want && output.status == "succeeded" => Ok(()),
            other => Err(format!("task {id}: output {output:?}, scripted {other:?}")),
        }
    }

    fn check_failure(&self, id: &String, failure: &SpecFailure) -> Result<(), String> {
        match self.expected.lock().unwrap().get(id) {
            Some(Err(want)) if &failure.error == want && failure.status == "failed" => Ok(()),
            other => Err(format!(
                "task {id}: failure {failure:?}, scripted {other:?}"
            )),
        }
    }
}
