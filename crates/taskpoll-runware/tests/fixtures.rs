//! Every file of tests/fixtures/runware, parsed and classified as the client reads it
//! (insta snapshots): status bodies give a phase, start and error bodies give an
//! acceptance or an error, request bodies match what the client sends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{Value, json};
use taskpoll::{Phase, TaskSource};
use taskpoll_runware::answer::{parse_envelope, read_body, read_poll, read_submission};
use taskpoll_runware::{
    ImageInference, RunwareClient, RunwareError, RunwarePhase, RunwareTaskId, TaskKind,
    VideoInference,
};

const VIDEO: &str = "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70";
const IMAGE: &str = "3c7d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f";
const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";

fn source() -> taskpoll_runware::RunwareSource {
    RunwareClient::new("rw-fixture-key").unwrap().source()
}

fn phase_json(phase: RunwarePhase) -> Value {
    let kind = phase.kind().as_str();
    match phase {
        Phase::Pending(p) | Phase::Running(p) => json!({
            "phase": kind,
            "status": p.status,
            "percent": p.percent,
            "recognized": p.recognized,
            "partial_keys": p.partials.iter().map(|r| r.key()).collect::<Vec<_>>(),
            "partials": p.partials,
        }),
        Phase::Succeeded(o) => json!({
            "phase": "succeeded",
            "keys": o.results.iter().map(|r| r.key()).collect::<Vec<_>>(),
            "display": o.to_string(),
            "output": o,
        }),
        Phase::Failed(f) => json!({
            "phase": "failed",
            "display": f.to_string(),
            "failure": f,
        }),
    }
}

fn error_json(e: &RunwareError) -> Value {
    json!({
        "error": e.to_string(),
        "class": format!("{:?}", source().error_class(e)),
        "code": e.code(),
        "status": e.status(),
    })
}

/// A status body: parsed, then read for `id` and classified.
fn status(name: &str, http: u16, id: RunwareTaskId) -> Value {
    let bytes = common::fixture_bytes(name);
    let answer = read_body(http, None, &bytes).unwrap();
    let read = match read_poll(&answer, &id, true) {
        None => json!("not answered"),
        Some(Ok(status)) => {
            let phase = source().classify(status);
            phase_json(phase)
        }
        Some(Err(e)) => error_json(&e),
    };
    json!({
        "http": http,
        "task": {"uuid": id.uuid, "expected_results": id.expected_results},
        "envelope": answer.envelope,
        "read": read,
    })
}

/// A submission's answer: parsed, then read as the answer to submitting `uuid`.
fn submission(name: &str, http: u16, uuid: &str, task_type: &str) -> Value {
    let bytes = common::fixture_bytes(name);
    let envelope = parse_envelope(&bytes).unwrap();
    let read =
        match read_body(http, None, &bytes).and_then(|a| read_submission(&a, uuid, task_type)) {
            Ok(()) => json!("accepted"),
            Err(e) => error_json(&e),
        };
    json!({"http": http, "envelope": envelope, "read": read})
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// What the client would send for a typed request, as one task object.
fn sent<T: serde::Serialize>(task_type: &str, request: &T, uuid: &str, n: u32) -> Value {
    let mut v = serde_json::to_value(request).unwrap();
    let o = v.as_object_mut().unwrap();
    o.insert("taskType".into(), json!(task_type));
    o.insert("taskUUID".into(), json!(uuid));
    o.insert("deliveryMethod".into(), json!("async"));
    o.insert("numberResults".into(), json!(n));
    v
}

#[test]
fn every_fixture_is_covered() {
    let names: Vec<String> = common::fixtures().into_iter().map(|(n, _)| n).collect();
    let covered = [
        "ack-empty.json",
        "ack.json",
        "error-conflict-task-uuid.json",
        "error-invalid-api-key.json",
        "error-submit-validation.json",
        "get-response-all-done.json",
        "get-response-all-processing.json",
        "get-response-failed.json",
        "get-response-image-success.json",
        "get-response-item-error.json",
        "get-response-partial.json",
        "get-response-processing-progress.json",
        "get-response-unknown-task.json",
        "request-auth-in-body.json",
        "request-get-response-batch.json",
        "request-get-response.json",
        "request-image-async.json",
        "request-video-async.json",
    ];
    assert_eq!(names, covered);
}

#[test]
fn status_fixtures() {
    let video = |n| RunwareTaskId::video(VIDEO, n);
    for (name, id) in [
        ("get-response-all-processing", video(2)),
        ("get-response-processing-progress", video(2)),
        ("get-response-partial", video(2)),
        ("get-response-all-done", video(2)),
        ("get-response-image-success", RunwareTaskId::image(IMAGE, 1)),
        ("get-response-failed", video(2)),
        ("get-response-item-error", video(1)),
    ] {
        insta::assert_json_snapshot!(name, status(&format!("{name}.json"), 200, id));
    }
}

#[test]
fn the_same_status_for_other_counts_and_tasks() {
    let video = |n| RunwareTaskId::video(VIDEO, n);
    // All done for 2 is still running for 3; a partial for 1 is done.
    let s = status("get-response-all-done.json", 200, video(3));
    assert_eq!(s["read"]["phase"], "running");
    assert_eq!(s["read"]["partials"].as_array().unwrap().len(), 2);
    let s = status("get-response-partial.json", 200, video(1));
    assert_eq!(s["read"]["phase"], "succeeded");
    // A failure under a 4xx reads the same as under 200.
    let s = status("get-response-failed.json", 400, video(2));
    assert_eq!(s["read"]["phase"], "failed");
    // Another task's answer says nothing about this one.
    let other = RunwareTaskId::video(IMAGE, 2);
    let answer = read_body(
        200,
        None,
        &common::fixture_bytes("get-response-all-done.json"),
    )
    .unwrap();
    assert!(read_poll(&answer, &other, false).is_none());
}

#[test]
fn start_and_error_fixtures() {
    insta::assert_json_snapshot!("ack", submission("ack.json", 200, VIDEO, "videoInference"));
    insta::assert_json_snapshot!(
        "ack-empty",
        submission("ack-empty.json", 200, VIDEO, "videoInference")
    );
    insta::assert_json_snapshot!(
        "error-conflict-task-uuid",
        submission(
            "error-conflict-task-uuid.json",
            400,
            VIDEO,
            "videoInference"
        )
    );
    insta::assert_json_snapshot!(
        "error-conflict-task-uuid-other-type",
        submission(
            "error-conflict-task-uuid.json",
            400,
            VIDEO,
            "imageInference"
        )
    );
    insta::assert_json_snapshot!(
        "error-invalid-api-key",
        submission("error-invalid-api-key.json", 401, VIDEO, "videoInference")
    );
    insta::assert_json_snapshot!(
        "error-submit-validation",
        submission("error-submit-validation.json", 400, VIDEO, "videoInference")
    );
    insta::assert_json_snapshot!(
        "get-response-unknown-task",
        status(
            "get-response-unknown-task.json",
            200,
            RunwareTaskId::video(UNKNOWN, 2)
        )
    );
    let as_404 = status(
        "get-response-unknown-task.json",
        404,
        RunwareTaskId::video(UNKNOWN, 2),
    );
    assert_eq!(as_404["read"]["class"], "NotYetVisible");
    assert_eq!(as_404["read"]["status"], 404);
}

#[test]
fn request_fixtures_match_what_the_client_sends() {
    let fixtures: std::collections::BTreeMap<String, Value> =
        common::fixtures().into_iter().collect();

    let video = &fixtures["request-video-async.json"][0];
    let ours = sent(
        "videoInference",
        &VideoInference::new(
            "klingai:5@3",
            "A red fox running through fresh snow at dawn, cinematic",
        )
        .number_results(2),
        VIDEO,
        2,
    );
    assert_eq!(&ours, video);

    let image = &fixtures["request-image-async.json"][0];
    let ours = sent(
        "imageInference",
        &ImageInference::new(
            "runware:100@1",
            "A lighthouse on a cliff at sunset, watercolor",
        )
        .size(1024, 1024),
        IMAGE,
        1,
    );
    assert_eq!(&ours, image);

    // getResponse objects carry exactly taskType and taskUUID; the authentication
    // element (which the client never sends: it uses the header) only taskType and apiKey.
    for name in [
        "request-get-response.json",
        "request-get-response-batch.json",
    ] {
        for task in fixtures[name].as_array().unwrap() {
            assert_eq!(keys(task), ["taskType", "taskUUID"]);
            assert_eq!(task["taskType"], "getResponse");
        }
    }
    let auth = &fixtures["request-auth-in-body.json"];
    assert_eq!(keys(&auth[0]), ["apiKey", "taskType"]);
    insta::assert_json_snapshot!(
        "requests",
        json!({
            "request-video-async": keys(video),
            "request-image-async": keys(image),
            "request-get-response": keys(&fixtures["request-get-response.json"][0]),
            "request-get-response-batch": fixtures["request-get-response-batch.json"].as_array().unwrap().len(),
            "request-auth-in-body": [keys(&auth[0]), keys(&auth[1])],
        })
    );
    let id = RunwareTaskId::new(VIDEO, 2)
        .with_kind(TaskKind::of_task_type(video["taskType"].as_str().unwrap()));
    assert_eq!(id.kind, TaskKind::Video);
}
