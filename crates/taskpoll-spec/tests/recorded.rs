//! The shipped specs read their vendors' documented example answers
//! (`tests/recorded/`, from the docs' examples), and the Redis Cloud spec agrees with the
//! Redis Cloud adapter on every Redis Cloud fixture.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use taskpoll::{ErrorClass, Phase, PhaseKind, TaskSource};
use taskpoll_spec::{Spec, decode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn env(_: &str) -> Option<String> {
    Some("test-secret-value".into())
}

fn spec(file: &str) -> Spec {
    let path = root().join("specs").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    Spec::parse_with(&text, &path.display().to_string(), &root(), &env).unwrap()
}

fn recorded(file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/recorded")
            .join(file),
    )
    .unwrap()
}

fn read(
    spec: &Spec,
    file: &str,
) -> Phase<taskpoll_spec::SpecOutput, (), taskpoll_spec::SpecFailure> {
    let body = decode::answer(spec, 200, &HeaderMap::new(), &recorded(file)).unwrap();
    decode::classify(spec, body)
}

#[test]
fn openai_batches() {
    let s = spec("openai-batches.toml");
    match read(&s, "openai-batch-completed.json") {
        Phase::Succeeded(o) => {
            assert_eq!(o.status, "completed");
            assert_eq!(o.result["output_file_id"], "file-cvaTdG");
            assert_eq!(o.result["request_counts"]["failed"], 5);
        }
        other => panic!("{other:?}"),
    }
    match read(&s, "openai-batch-cancelling.json") {
        Phase::Running(p) => assert!(p.recognized && p.status == "cancelling"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        read(&s, "openai-batch-validating.json").kind(),
        PhaseKind::Pending
    );
    // A batch that expired or was cancelled did not run to completion.
    for word in ["failed", "expired", "cancelled"] {
        let body = json!({"status": word, "errors": {"object": "list", "data": [{"code": "c", "message": "m"}]}});
        match decode::classify(&s, body) {
            Phase::Failed(f) => assert_eq!(f.error["data"][0]["code"], "c"),
            other => panic!("{word}: {other:?}"),
        }
    }
}

#[test]
fn replicate_predictions() {
    let s = spec("replicate-predictions.toml");
    match read(&s, "replicate-prediction-succeeded.json") {
        Phase::Succeeded(o) => assert_eq!(o.result, json!("hello Alice")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        read(&s, "replicate-prediction-starting.json").kind(),
        PhaseKind::Pending
    );
    for word in ["failed", "canceled", "aborted"] {
        let body = json!({"status": word, "error": "CUDA out of memory"});
        match decode::classify(&s, body) {
            Phase::Failed(f) => assert_eq!(
                f.to_string(),
                format!("status {word:?}: CUDA out of memory")
            ),
            other => panic!("{word}: {other:?}"),
        }
    }
    // Replicate's documented 429 body is a rate-limit error, retried.
    let err = decode::answer(
        &s,
        429,
        &HeaderMap::new(),
        &recorded("replicate-rate-limited-429.json"),
    )
    .unwrap_err();
    assert!(
        matches!(err.class(), ErrorClass::RateLimited { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("Request was throttled"), "{err}");
}

#[test]
fn assemblyai_transcripts() {
    let s = spec("assemblyai-transcripts.toml");
    assert_eq!(
        read(&s, "assemblyai-transcript-queued.json").kind(),
        PhaseKind::Pending
    );
    match read(&s, "assemblyai-transcript-completed.json") {
        Phase::Succeeded(o) => {
            assert!(
                o.result
                    .as_str()
                    .unwrap()
                    .starts_with("You know Demons on TV")
            );
        }
        other => panic!("{other:?}"),
    }
    match read(&s, "assemblyai-transcript-error.json") {
        Phase::Failed(f) => assert!(f.summary().starts_with("Download error"), "{f}"),
        other => panic!("{other:?}"),
    }
}

/// Every `task-*.json` of the Redis Cloud fixtures, read by the adapter and by the spec:
/// the same phase kind.
#[test]
fn the_redis_cloud_spec_agrees_with_the_adapter_on_every_fixture() {
    let s = spec("redis-cloud.toml");
    let adapter = taskpoll_redis_cloud::RedisCloudClient::new("k", "s")
        .unwrap()
        .source();
    let dir = root().join("tests/fixtures/redis-cloud");
    let mut compared = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("task-") && name.ends_with(".json")) {
            continue;
        }
        let body = std::fs::read(&path).unwrap();
        let task =
            taskpoll_redis_cloud::decode::task("t-1", 200, &HeaderMap::new(), &body).unwrap();
        let theirs = adapter.classify(task).kind();
        let ours = decode::classify(
            &s,
            decode::answer(&s, 200, &HeaderMap::new(), &body).unwrap(),
        )
        .kind();
        assert_eq!(ours, theirs, "{name}");
        kinds.insert(ours.as_str());
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} fixtures");
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    // An error present under any status fails the task, as the adapter does.
    let odd: Value =
        json!({"taskId": "t", "status": "processing-in-progress", "response": {"error": "X"}});
    let task =
        taskpoll_redis_cloud::decode::task("t", 200, &HeaderMap::new(), odd.to_string().as_bytes())
            .unwrap();
    assert_eq!(adapter.classify(task).kind(), PhaseKind::Failed);
    assert_eq!(decode::classify(&s, odd).kind(), PhaseKind::Failed);
    // The 404 of a task created a moment ago is tolerated by both.
    let err = decode::answer(&s, 404, &HeaderMap::new(), b"").unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotYetVisible);
}
