//! Hostile input: Runware's answers are read by `answer::read_body` (the status, the
//! `Retry-After` delay and the raw body, exactly as the client reads them), split per
//! task by `answer::read_poll` (alone or in a batch), checked by
//! `answer::read_submission`, and classified by `RunwareSource::classify`. Whatever the
//! bytes (arbitrary bytes, arbitrary JSON, JSON shaped like Runware's envelope with
//! values of any type, bodies cut short), nothing panics and every step gives a typed
//! answer or a typed error of the right kind; a task is a success only with all its
//! results and no error, and its results are never counted twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;
use taskpoll::{ErrorClass, Phase, TaskSource};
use taskpoll_runware::answer::{Answer, read_body, read_poll, read_submission};
use taskpoll_runware::{RunwareClient, RunwareError, RunwareResult, RunwareTaskId};
use taskpoll_testkit::json::{Vocabulary, bytes_of, config, mostly_ok, status, weighted_object};

const A: &str = "6f1c2a3e-0b7d-4e0a-9a51-2f3c4d5e6f70";
const B: &str = "3c7d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f";
const UUIDS: &[&str] = &[
    A,
    B,
    "6F1C2A3E-0B7D-4E0A-9A51-2F3C4D5E6F70",
    "not-a-uuid",
    "",
];

const KEYS: &[&str] = &[
    "data",
    "errors",
    "error",
    "errorId",
    "errorMessage",
    "taskType",
    "taskUUID",
    "status",
    "progress",
    "resultIndex",
    "videoUUID",
    "videoURL",
    "imageUUID",
    "imageURL",
    "mediaUUID",
    "seed",
    "cost",
    "code",
    "message",
    "parameter",
];
const WORDS: &[&str] = &[
    "success",
    "SUCCESS",
    "processing",
    "pending",
    "queued",
    "error",
    "failed",
    "ready",
    "rendering",
    "",
];
const CODES: &[&str] = &[
    "taskFailedOrNotFound",
    "modelNotFound",
    "resultsExpired",
    "timeoutProvider",
    "rateLimitExceeded",
    "invalidTaskUUID",
    "taskCancelled",
    "conflictTaskUUID",
    "serviceUnavailable",
    "",
];

/// A status word, `success` and `processing` most often.
/// Runware's keys and words.
const RUNWARE: Vocabulary = Vocabulary::new(KEYS, WORDS).and(CODES);

fn word() -> BoxedStrategy<Value> {
    RUNWARE.mostly(
        prop_oneof![
            3 => select(&["success", "processing"][..]),
            1 => select(WORDS),
        ]
        .prop_map(Value::from),
    )
}

/// A `taskUUID`: one of two tasks (any letter case), an invalid one, or anything.
fn task_uuid() -> BoxedStrategy<Value> {
    RUNWARE.mostly(select(UUIDS).prop_map(Value::from))
}

fn error_item() -> BoxedStrategy<Value> {
    let parameter = RUNWARE.mostly(prop_oneof![
        ".{0,8}".prop_map(Value::from),
        vec(".{0,8}", 0..3).prop_map(Value::from),
    ]);
    let task_type =
        select(&["getResponse", "videoInference", "imageInference"][..]).prop_map(Value::from);
    weighted_object(vec![
        (
            "code",
            0.9,
            RUNWARE.mostly(select(CODES).prop_map(Value::from)),
        ),
        ("message", 0.9, RUNWARE.text()),
        ("parameter", 0.3, parameter),
        ("taskType", 0.7, RUNWARE.mostly(task_type)),
        ("taskUUID", 0.8, task_uuid()),
        ("documentation", 0.3, RUNWARE.text()),
        ("status", 0.3, word()),
        ("errorId", 0.05, RUNWARE.json()),
        ("errorMessage", 0.05, RUNWARE.text()),
    ])
}

/// A `data` item: a result, a placeholder still processing, or a failed generation,
/// its values usually of Runware's types.
fn data_item() -> BoxedStrategy<Value> {
    let media = || RUNWARE.mostly(select(&["m-1", "m-2", "m-3", "M-1"][..]).prop_map(Value::from));
    let url = || RUNWARE.mostly("https://im\\.runware\\.ai/[a-z0-9-]{0,6}".prop_map(Value::from));
    let number = any::<f64>().prop_filter_map("finite", |f| {
        serde_json::Number::from_f64(f).map(Value::Number)
    });
    let task_type = select(&["videoInference", "imageInference"][..]).prop_map(Value::from);
    weighted_object(vec![
        ("taskType", 0.8, RUNWARE.mostly(task_type)),
        ("taskUUID", 0.9, task_uuid()),
        ("status", 0.8, word()),
        (
            "progress",
            0.2,
            RUNWARE.mostly((-50i64..150).prop_map(Value::from)),
        ),
        (
            "resultIndex",
            0.3,
            RUNWARE.mostly((0u64..4).prop_map(Value::from)),
        ),
        ("videoUUID", 0.4, media()),
        ("videoURL", 0.4, url()),
        ("imageUUID", 0.3, media()),
        ("imageURL", 0.3, url()),
        ("mediaUUID", 0.1, media()),
        (
            "seed",
            0.5,
            RUNWARE.mostly(any::<u64>().prop_map(Value::from)),
        ),
        ("cost", 0.5, RUNWARE.mostly(number)),
        (
            "NSFWContent",
            0.3,
            RUNWARE.mostly(any::<bool>().prop_map(Value::from)),
        ),
        ("error", 0.03, RUNWARE.mostly(error_item())),
        ("text", 0.05, RUNWARE.text()),
    ])
}

/// Runware's envelope: `data` and `errors` (and sometimes the singular `error` and the
/// legacy `errorId`/`errorMessage`), usually arrays of items.
fn envelope() -> BoxedStrategy<Value> {
    weighted_object(vec![
        (
            "data",
            0.9,
            RUNWARE.mostly(vec(data_item(), 0..6).prop_map(Value::from)),
        ),
        (
            "errors",
            0.15,
            RUNWARE.mostly(vec(error_item(), 0..3).prop_map(Value::from)),
        ),
        ("error", 0.03, RUNWARE.mostly(error_item())),
        ("errorId", 0.03, RUNWARE.json()),
        ("errorMessage", 0.03, RUNWARE.text()),
    ])
}

fn retry_after() -> impl Strategy<Value = Option<Duration>> {
    prop::option::of(any::<u64>().prop_map(Duration::from_secs))
}

fn task_id() -> impl Strategy<Value = RunwareTaskId> {
    (select(&[A, B][..]), any::<u32>(), 0..3u8).prop_map(|(uuid, n, kind)| {
        // Mostly a few results; sometimes 0 (read as 1) or a huge number.
        let n = if n % 4 == 0 { n } else { n % 5 };
        match kind {
            0 => RunwareTaskId::video(uuid, n),
            1 => RunwareTaskId::image(uuid, n),
            _ => RunwareTaskId::new(uuid, n),
        }
    })
}

fn check_error(e: &RunwareError) {
    taskpoll_testkit::json::show(e).unwrap();
    let _ = (e.code(), e.status(), e.retry_after());
    let class = e.class();
    match e {
        RunwareError::Decode { status, .. } => {
            assert!((200..300).contains(status), "{e:?}");
            assert_eq!(class, ErrorClass::TRANSIENT);
        }
        RunwareError::Api(api) => match api.status {
            429 => assert!(matches!(class, ErrorClass::RateLimited { .. })),
            408 | 500..=599 => assert!(matches!(class, ErrorClass::Transient { .. })),
            200..=299 => {}
            _ => assert_eq!(class, ErrorClass::Permanent, "{e:?}"),
        },
        RunwareError::TaskNotFound { .. } => assert_eq!(class, ErrorClass::NotYetVisible),
        other => panic!("unexpected error kind {other:?}"),
    }
}

/// Reads a response: what `read_body` accepts, and the error kinds it gives.
fn read(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Option<Answer> {
    match read_body(status, retry_after, body) {
        Ok(answer) => {
            let ok = (200..300).contains(&status)
                || ((400..500).contains(&status)
                    && ![401, 403, 408, 429].contains(&status)
                    && !answer.envelope.all_errors().is_empty());
            assert!(ok, "an answer from HTTP {status}: {answer:?}");
            assert_eq!(answer.status, status);
            Some(answer)
        }
        Err(e) => {
            check_error(&e);
            if let RunwareError::Api(api) = &e {
                assert_eq!(api.status, status);
                assert_eq!(api.retry_after, retry_after);
            }
            None
        }
    }
}

/// Splits an answer for `id` and classifies its part: a success has every expected
/// result and no error; results are distinct; a failure names the task.
fn poll_and_classify(answer: &Answer, id: &RunwareTaskId, single: bool) {
    let Some(entry) = read_poll(answer, id, single) else {
        return;
    };
    let status = match entry {
        Ok(status) => status,
        Err(e) => return check_error(&e),
    };
    assert_eq!(&status.id, id);
    let errors_for_task = !status.envelope.all_errors().is_empty();
    let source = RunwareClient::new("proptest-key").unwrap().source();
    let distinct = |results: &[RunwareResult]| {
        let keys: HashSet<&str> = results.iter().map(RunwareResult::key).collect();
        assert_eq!(keys.len(), results.len(), "a result counted twice");
    };
    match source.classify(status) {
        Phase::Succeeded(out) => {
            assert!(!errors_for_task, "a success despite errors");
            assert!(out.results.len() >= id.expected());
            assert_eq!(out.task_uuid, id.uuid);
            distinct(&out.results);
            let _ = (out.to_string(), out.total_cost());
        }
        Phase::Failed(f) => {
            assert_eq!(f.task_uuid, id.uuid);
            assert!(!f.errors.is_empty());
            distinct(&f.results);
            let _ = (f.to_string(), f.total_cost());
        }
        Phase::Pending(p) | Phase::Running(p) => {
            assert!(!errors_for_task, "still running despite errors");
            assert!(p.partials.len() < id.expected());
            assert!(p.percent.is_none_or(|x| (0.0..=100.0).contains(&x)));
            distinct(&p.partials);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_under_any_status(status in status(), ra in retry_after(), body in vec(any::<u8>(), 0..512), id in task_id()) {
        if let Some(answer) = read(status, ra, &body) {
            poll_and_classify(&answer, &id, true);
        }
    }

    #[test]
    fn arbitrary_json_under_any_status(status in status(), ra in retry_after(), body in bytes_of(RUNWARE.json()), id in task_id(), single in any::<bool>()) {
        if let Some(answer) = read(status, ra, &body) {
            poll_and_classify(&answer, &id, single);
        }
    }

    #[test]
    fn envelope_shaped_json(status in mostly_ok(), ra in retry_after(), body in bytes_of(envelope()), id in task_id(), single in any::<bool>()) {
        if let Some(answer) = read(status, ra, &body) {
            poll_and_classify(&answer, &id, single);
            // The same answer read for both tasks of a batch.
            let other = RunwareTaskId::new(if id.uuid == A { B } else { A }, id.expected_results);
            poll_and_classify(&answer, &other, false);
            match read_submission(&answer, &id.uuid, "videoInference") {
                Ok(()) => {}
                Err(e) => check_error(&e),
            }
        }
    }
}
