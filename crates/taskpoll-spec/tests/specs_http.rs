//! The shipped specs over HTTP: OpenAI, Replicate and AssemblyAI against the generic
//! simulator replaying their documented answers (`tests/recorded/`), Redis Cloud against
//! the Redis Cloud simulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use taskpoll::ErrorKind;
use taskpoll::strategy::Fixed;
use taskpoll_sim::generic::{Answer, GenericSim, GenericSimConfig, GenericTask};
use taskpoll_sim::redis_cloud::{RedisCloudSim, RedisCloudSimConfig};
use taskpoll_sim::script::{ScriptOutcome, ScriptStep, TaskScript};
use taskpoll_spec::{Spec, SpecClient};

const KEY: &str = "test-key-8d1e77";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn recorded(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/recorded")
        .join(file);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The shipped spec `file` against `base_url`, with `env` as the environment.
fn client(file: &str, base_url: &str, env: &dyn Fn(&str) -> Option<String>) -> SpecClient {
    let path = root().join("specs").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let spec = Spec::parse_with(&text, &path.display().to_string(), &root(), env).unwrap();
    SpecClient::builder(spec)
        .base_url(base_url)
        .build()
        .unwrap()
}

fn key(_: &str) -> Option<String> {
    Some(KEY.to_owned())
}

async fn sim(authorization: &str) -> GenericSim {
    GenericSim::start(GenericSimConfig::default().require_header("authorization", authorization))
        .await
        .unwrap()
}

/// The spec's poller, polling every 20 ms (the shipped specs back off to minutes).
async fn wait(c: &SpecClient, id: &str) -> taskpoll::WaitResult<taskpoll_spec::SpecSource> {
    c.poller()
        .configure(|p| {
            p.interval(Fixed::new(Duration::from_millis(20)))
                .deadline(Duration::from_secs(10))
        })
        .wait(id.to_owned())
        .await
}

#[tokio::test]
async fn openai_batches_over_http() {
    let sim = sim(&format!("Bearer {KEY}")).await;
    let mut in_progress = recorded("openai-batch-cancelling.json");
    in_progress["status"] = json!("in_progress");
    let id = sim.create_task(
        GenericTask::new([
            Answer::json(200, recorded("openai-batch-validating.json")),
            Answer::json(200, in_progress)
                .header("x-ratelimit-remaining-requests", "59")
                .header("x-ratelimit-reset-requests", "1s"),
            Answer::json(200, recorded("openai-batch-completed.json")),
        ])
        .with_id("batch_abc123"),
    );
    let c = client("openai-batches.toml", &sim.base_url(), &key);
    let out = wait(&c, &id).await.unwrap();
    assert_eq!(out.result["output_file_id"], "file-cvaTdG");
    let log = sim.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].target, "/v1/batches/batch_abc123");
    assert_eq!(log[0].method, "GET");
}

#[tokio::test]
async fn replicate_predictions_over_http() {
    let sim = sim(&format!("Bearer {KEY}")).await;
    let mut processing = recorded("replicate-prediction-starting.json");
    processing["status"] = json!("processing");
    let id = sim.create_task(
        GenericTask::new([
            Answer::json(200, recorded("replicate-prediction-starting.json")),
            Answer::json(429, recorded("replicate-rate-limited-429.json"))
                .header("Retry-After", "1"),
            Answer::json(200, processing),
            Answer::json(200, recorded("replicate-prediction-succeeded.json")),
        ])
        .with_id("gm3qorzdhgbfurvjtvhg6dckhu"),
    );
    let c = client("replicate-predictions.toml", &sim.base_url(), &key);
    let out = wait(&c, &id).await.unwrap();
    assert_eq!(out.result, json!("hello Alice"));
    assert_eq!(sim.counts().retry_after_violations, 0);
    assert_eq!(
        sim.requests()[0].target,
        "/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu"
    );
    // A failed prediction fails the wait with Replicate's error.
    let id = sim.create_task(GenericTask::new([Answer::json(
        200,
        json!({"id": "x", "status": "failed", "error": "NSFW content detected"}),
    )]));
    let err = wait(&c, &id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(err.to_string().contains("NSFW content detected"), "{err}");
}

#[tokio::test]
async fn assemblyai_transcripts_over_http() {
    // AssemblyAI takes the key as the whole Authorization header.
    let sim = sim(KEY).await;
    let mut processing = recorded("assemblyai-transcript-queued.json");
    processing["status"] = json!("processing");
    let id = sim.create_task(
        GenericTask::new([
            Answer::json(200, recorded("assemblyai-transcript-queued.json")),
            Answer::json(200, processing),
            Answer::json(200, recorded("assemblyai-transcript-completed.json")),
        ])
        .with_id("5551722-f677-48a6-9287-39c0aafd9ac1"),
    );
    let c = client("assemblyai-transcripts.toml", &sim.base_url(), &key);
    let out = wait(&c, &id).await.unwrap();
    assert!(out.result.as_str().unwrap().starts_with("You know"));
    assert_eq!(
        sim.requests()[0].target,
        "/v2/transcript/5551722-f677-48a6-9287-39c0aafd9ac1"
    );
    let id = sim.create_task(GenericTask::new([Answer::json(
        200,
        recorded("assemblyai-transcript-error.json"),
    )]));
    let err = wait(&c, &id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(err.to_string().contains("Download error"), "{err}");
}

#[tokio::test]
async fn the_redis_cloud_spec_against_the_redis_cloud_simulator() {
    let sim = RedisCloudSim::start(RedisCloudSimConfig {
        not_found_polls: 2,
        ..RedisCloudSimConfig::default()
    })
    .await
    .unwrap();
    let (api_key, secret) = (sim.api_key().to_owned(), sim.secret_key().to_owned());
    let env = move |name: &str| match name {
        "REDIS_CLOUD_API_KEY" => Some(api_key.clone()),
        "REDIS_CLOUD_API_SECRET" => Some(secret.clone()),
        _ => None,
    };
    let c = client("redis-cloud.toml", &sim.base_url(), &env);
    let id = sim.create_task(TaskScript {
        steps: vec![ScriptStep::for_polls("processing-in-progress", 2)],
        outcome: ScriptOutcome::Success {
            result: json!({"resourceId": 77899}),
        },
    });
    let out = wait(&c, &id).await.unwrap();
    assert_eq!(out.result["resourceId"], 77899);
    // Its first two polls answered 404: tolerated as not visible yet.
    assert_eq!(sim.counts().status(404), 2);
}
